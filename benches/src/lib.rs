//! Helpers for Ringlet's benchmark report: reading criterion's estimates back.

use std::path::Path;

/// Mean time per iteration in nanoseconds for `group/bench`, from criterion's
/// `target/criterion/<group>/<bench>/new/estimates.json`.
pub fn mean_ns(criterion_dir: &Path, group: &str, bench: &str) -> Option<f64> {
    let path = criterion_dir
        .join(group)
        .join(bench)
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["mean"]["point_estimate"].as_f64()
}
