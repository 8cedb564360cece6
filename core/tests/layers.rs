//! The core's modules import one way: each may name only modules of its own or a
//! lower layer (the README's "How the core works" draws these layers). Paths through
//! the crate root's re-exports count as the module that defines them.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

/// Lowest first; a module may use its own layer and the ones before it.
const LAYERS: &[&[&str]] = &[
    &[
        "error",
        "clock",
        "record",
        "sync",
        "murmur2",
        "name",
        "wait",
        "extensions",
        "dead_letter",
        "journal",
        "link",
        "storage",
        "fault_point",
        "schema",
    ],
    &["topic", "queue"],
    &["group"],
    &["snapshot"],
    &["bus", "options"],
    &["faults", "pattern"],
    &["streams"],
    &["eventstore"],
    &["catalog"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// Root re-exports (`pub use topic::{Topic, …};`): name → defining module.
fn reexports(lib: &str) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for stmt in lib.split(';') {
        let Some(rest) = stmt.trim().strip_prefix("pub use ") else {
            continue;
        };
        let Some((module, names)) = rest.split_once("::") else {
            continue;
        };
        for name in names.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
            if !name.is_empty() {
                map.insert(name.to_string(), module.to_string());
            }
        }
    }
    map
}

/// The code of a file before its tests, without comments.
fn code(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap();
    let text = match text
        .find("#[cfg(test)]")
        .or_else(|| text.find("#[cfg(all(test"))
    {
        Some(i) => &text[..i],
        None => &text[..],
    };
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Every name used right after `crate::`, including those in `crate::{a, b::c}`.
fn crate_paths(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                names.push(item.trim().split("::").next().unwrap_or("").to_string());
            }
        } else {
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            names.push(rest[..end].to_string());
        }
    }
    names
}

#[test]
fn every_core_module_imports_only_its_own_or_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let roots = reexports(&fs::read_to_string(src.join("lib.rs")).unwrap());
    let mut all = Vec::new();
    files(&src, &mut all);
    let mut wrong = Vec::new();
    for path in all {
        let rel = path.strip_prefix(&src).unwrap();
        let module = rel
            .iter()
            .next()
            .unwrap()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if module == "lib" {
            continue;
        }
        let own = layer_of(&module)
            .unwrap_or_else(|| panic!("{module} is in no layer: add it to LAYERS"));
        for name in crate_paths(&code(&path)) {
            let target = if layer_of(&name).is_some() {
                Some(name.clone())
            } else {
                roots.get(&name).cloned()
            };
            if let Some(t) = target.filter(|t| *t != module) {
                let theirs = layer_of(&t).unwrap_or_else(|| panic!("{t} is in no layer"));
                if theirs > own {
                    wrong.push(format!(
                        "{} uses crate::{name} ({t}, a higher layer)",
                        rel.display()
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}
