//! Where files go and how they get there: the Hive-style folders, file names
//! that carry their offset range, the scan that finds what a lake already holds,
//! and the write that makes a file appear whole or not at all.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::LakeError;

/// The folder of one hour of a topic: `topic=<name>/date=YYYY-MM-DD/hour=HH`.
pub(crate) fn hour_dir(topic_dir: &Path, hour: i64) -> PathBuf {
    let (y, m, d) = civil_from_days(hour.div_euclid(24));
    topic_dir
        .join(format!("date={y:04}-{m:02}-{d:02}"))
        .join(format!("hour={:02}", hour.rem_euclid(24)))
}

/// `<topic>+<partition>+<first offset>+<last offset>.<ext>`, offsets in 20 digits
/// so names sort by offset.
pub(crate) fn file_name(topic: &str, partition: u32, first: u64, last: u64, ext: &str) -> String {
    format!("{topic}+{partition}+{first:020}+{last:020}.{ext}")
}

/// The partition and offset range a file's name gives, if it is one of this
/// topic's files.
fn parse_name(topic: &str, name: &str) -> Option<(u32, u64, u64)> {
    let rest = name.strip_prefix(topic)?.strip_prefix('+')?;
    let (stem, ext) = rest.rsplit_once('.')?;
    if !matches!(ext, "parquet" | "jsonl") {
        return None;
    }
    let mut parts = stem.split('+');
    let p = parts.next()?.parse().ok()?;
    let first: u64 = parts.next()?.parse().ok()?;
    let last: u64 = parts.next()?.parse().ok()?;
    (parts.next().is_none() && first <= last).then_some((p, first, last))
}

/// What a topic's folder holds: per partition the offset after the last one in
/// a complete file. Files a crash left half-written (hidden `.….tmp` names) are
/// removed.
pub(crate) fn scan(topic: &str, topic_dir: &Path) -> Result<BTreeMap<u32, u64>, LakeError> {
    let mut done = BTreeMap::new();
    if !topic_dir.exists() {
        return Ok(done);
    }
    let mut stack = vec![topic_dir.to_owned()];
    while let Some(dir) = stack.pop() {
        let entries = fs::read_dir(&dir).map_err(|e| LakeError::io("read the folder", &dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| LakeError::io("read the folder", &dir, e))?;
            let path = entry.path();
            let kind = entry
                .file_type()
                .map_err(|e| LakeError::io("inspect", &path, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if kind.is_dir() {
                stack.push(path);
            } else if name.starts_with('.') && name.ends_with(".tmp") {
                fs::remove_file(&path)
                    .map_err(|e| LakeError::io("remove the torn file", &path, e))?;
            } else if let Some((p, _, last)) = parse_name(topic, &name) {
                let next = done.entry(p).or_insert(0);
                *next = (*next).max(last + 1);
            }
        }
    }
    Ok(done)
}

/// Writes a file whole: into a hidden temporary name beside it (which readers
/// skip), synced, renamed into place, and the folder synced, so after a crash
/// the file is either complete or absent.
pub(crate) fn write_whole(
    dir: &Path,
    name: &str,
    write: impl FnOnce(&mut File) -> Result<(), LakeError>,
) -> Result<u64, LakeError> {
    let created = !dir.exists();
    fs::create_dir_all(dir).map_err(|e| LakeError::io("create the folder", dir, e))?;
    if created {
        // The new folders' names are in their parents once these are synced.
        for parent in dir.ancestors().skip(1).take(3) {
            sync_dir(parent)?;
        }
    }
    let tmp = dir.join(format!(".{name}.tmp"));
    let done = dir.join(name);
    let mut file = File::create(&tmp).map_err(|e| LakeError::io("create", &tmp, e))?;
    write(&mut file)?;
    file.flush().map_err(|e| LakeError::io("write", &tmp, e))?;
    file.sync_all()
        .map_err(|e| LakeError::io("sync", &tmp, e))?;
    let bytes = file
        .metadata()
        .map_err(|e| LakeError::io("inspect", &tmp, e))?
        .len();
    drop(file);
    fs::rename(&tmp, &done).map_err(|e| LakeError::io("rename into place", &done, e))?;
    sync_dir(dir)?;
    Ok(bytes)
}

fn sync_dir(dir: &Path) -> Result<(), LakeError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| LakeError::io("sync the folder", dir, e))
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_of_hours() {
        let dir = Path::new("t");
        assert_eq!(hour_dir(dir, 0), Path::new("t/date=1970-01-01/hour=00"));
        // 2026-12-04T14:00Z
        assert_eq!(
            hour_dir(dir, 1_796_392_800 / 3600),
            Path::new("t/date=2026-12-04/hour=14")
        );
        assert_eq!(hour_dir(dir, -1), Path::new("t/date=1969-12-31/hour=23"));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn names_round_trip_and_foreign_files_are_not_ours() {
        let n = file_name("a.b", 3, 10, 19, "parquet");
        assert_eq!(n, "a.b+3+00000000000000000010+00000000000000000019.parquet");
        assert_eq!(parse_name("a.b", &n), Some((3, 10, 19)));
        assert_eq!(parse_name("a", &n), None);
        assert_eq!(parse_name("a.b", "a.b+3+1+2.csv"), None);
        assert_eq!(parse_name("a.b", "a.b+3+5+2.jsonl"), None);
        assert_eq!(parse_name("a.b", "a.b+x+1+2.jsonl"), None);
    }
}
