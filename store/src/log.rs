//! One partition's log: a directory of segment files.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::frame::{self, Frame, HEADER_LEN};
use crate::{StoreError, StoredRecord};

/// How a partition log is laid out and opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogOptions {
    /// A new segment is started once the active one holds this many bytes.
    pub segment_bytes: u64,
    /// Bytes between entries of the in-memory offset index.
    pub index_bytes: u64,
    /// Truncate at damage found before the tail instead of failing with `Corrupt`.
    pub repair: bool,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            segment_bytes: 64 << 20,
            index_bytes: 4096,
            repair: false,
        }
    }
}

/// What opening a log found and cut off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Each cut, in file order.
    pub truncations: Vec<Truncation>,
}

impl Recovery {
    /// Whether the log was opened as it was.
    pub fn is_clean(&self) -> bool {
        self.truncations.is_empty()
    }
}

/// Bytes cut off a segment at open (a torn tail, or damage cut with `repair`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truncation {
    /// The segment file.
    pub file: PathBuf,
    /// Where it was cut (its new length).
    pub position: u64,
    /// How many bytes were dropped (a whole segment deleted by `repair` counts
    /// its length).
    pub bytes: u64,
    /// What was found there.
    pub reason: String,
}

#[derive(Debug)]
struct Segment {
    base: u64,
    path: PathBuf,
    /// Bytes of good frames (and the header).
    len: u64,
    last: Option<u64>,
    /// `(first offset of a frame, its byte position)`, sparse, ascending.
    index: Vec<(u64, u64)>,
    /// Bytes of frames since the last index entry.
    since_index: u64,
}

impl Segment {
    fn note_frame(
        &mut self,
        first: Option<u64>,
        last: Option<u64>,
        pos: u64,
        len: u64,
        every: u64,
    ) {
        if let Some(first) = first {
            if self.index.is_empty() || self.since_index >= every {
                self.index.push((first, pos));
                self.since_index = 0;
            }
        }
        self.since_index += len;
        self.len = pos + len;
        if last.is_some() {
            self.last = last;
        }
    }
}

/// A partition's append-only log: checksummed frames of records in segment files
/// named by their first offset (see the crate docs for the format).
///
/// # Examples
///
/// ```
/// use ringlet_store::{LogOptions, PartitionLog, StoredRecord};
/// let dir = std::env::temp_dir().join(format!("ringlet-doc-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// let (mut log, recovery) = PartitionLog::open(&dir, &LogOptions::default())?;
/// assert!(recovery.is_clean());
/// log.append(&[StoredRecord::new(0, 1_700_000_000_000, b"hello".to_vec())], false)?;
/// drop(log);
/// let (log, _) = PartitionLog::open(&dir, &LogOptions::default())?;
/// assert_eq!(log.read_all(0)?[0].value, b"hello");
/// assert_eq!(log.next_offset(), 1);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), ringlet_store::StoreError>(())
/// ```
#[derive(Debug)]
pub struct PartitionLog {
    dir: PathBuf,
    opts: LogOptions,
    segments: Vec<Segment>,
    active: File,
    next: u64,
    poisoned: bool,
    /// Frames written since the active segment was last synced.
    unsynced: bool,
    /// A segment was created without syncing the directory entry.
    dir_unsynced: bool,
    buf: Vec<u8>,
    /// The segments' bytes as open read and checked them, per segment (up to
    /// [`KEEP_OPENED`] in all), for the first read (which takes them): a log
    /// is read whole once it is opened, and need not read its files twice.
    /// Dropped by the first change.
    opened: std::sync::Mutex<Option<Vec<Option<Vec<u8>>>>>,
    #[cfg(test)]
    fail_writes: Option<FailWrites>,
}

/// The most bytes of segments an open keeps for the first read.
const KEEP_OPENED: usize = 256 << 20;

/// A log's state to sync without holding the log ([`PartitionLog::sync_point`]).
#[derive(Debug)]
pub struct SyncPoint {
    file: File,
    path: PathBuf,
    dir: Option<PathBuf>,
    through: u64,
}

impl SyncPoint {
    /// `fdatasync` of the segment (and of the directory if a segment was created
    /// since the last sync); returns the offset every record before which is now
    /// on disk.
    ///
    /// # Errors
    ///
    /// `Io`: poison the log then, nothing is known of what reached the disk.
    pub fn sync(self) -> Result<u64, StoreError> {
        self.file
            .sync_data()
            .map_err(|e| StoreError::io("sync", &self.path, e))?;
        if let Some(d) = &self.dir {
            sync_dir(d)?;
        }
        Ok(self.through)
    }
}

/// Test hook: the n-th write writes `partial` bytes then fails.
#[cfg(test)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct FailWrites {
    pub(crate) after: usize,
    pub(crate) partial: usize,
    pub(crate) undo_fails: bool,
}

fn segment_name(base: u64) -> String {
    format!("{base:020}.log")
}

fn parse_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".log")?;
    (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

fn read_file(path: &Path) -> Result<Vec<u8>, StoreError> {
    fs::read(path).map_err(|e| StoreError::io("read", path, e))
}

fn truncate(path: &Path, len: u64) -> Result<(), StoreError> {
    let f = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| StoreError::io("open", path, e))?;
    f.set_len(len)
        .and_then(|()| f.sync_all())
        .map_err(|e| StoreError::io("truncate", path, e))
}

/// Whether good frames run from `bytes[at..]` to the end (at least one).
fn good_until_end(bytes: &[u8], mut at: usize) -> bool {
    let mut any = false;
    while at < bytes.len() {
        match frame::check(&bytes[at..]) {
            Frame::Good { len, .. } => {
                at += len;
                any = true;
            }
            Frame::Bad(_) => return false,
        }
    }
    any
}

impl PartitionLog {
    /// Opens the log in `dir` (created if missing), checking every frame: a torn
    /// tail (a frame the last write left short, a bad checksum with nothing good
    /// after it, garbage after the last frame) is cut off and reported in the
    /// [`Recovery`]; damage before the tail is `Corrupt`, or cut off there (with
    /// every later segment) when `opts.repair` is set.
    ///
    /// # Errors
    ///
    /// `Corrupt`, or `Io` when a file cannot be read or created.
    pub fn open(dir: impl AsRef<Path>, opts: &LogOptions) -> Result<(Self, Recovery), StoreError> {
        let dir = dir.as_ref().to_owned();
        fs::create_dir_all(&dir).map_err(|e| StoreError::io("create", &dir, e))?;
        let mut bases = Vec::new();
        for entry in fs::read_dir(&dir).map_err(|e| StoreError::io("list", &dir, e))? {
            let entry = entry.map_err(|e| StoreError::io("list", &dir, e))?;
            if let Some(base) = entry.file_name().to_str().and_then(parse_name) {
                bases.push(base);
            }
        }
        bases.sort_unstable();
        let mut recovery = Recovery::default();
        let mut segments: Vec<Segment> = Vec::new();
        let mut opened: Vec<Option<Vec<u8>>> = Vec::new();
        let mut kept = 0usize;
        let mut keep = |mut bytes: Vec<u8>, len: u64| {
            let len = usize::try_from(len).unwrap_or(usize::MAX).min(bytes.len());
            if kept + len > KEEP_OPENED {
                return None;
            }
            kept += len;
            bytes.truncate(len);
            Some(bytes)
        };
        let mut next = 0;
        let count = bases.len();
        for (i, &base) in bases.iter().enumerate() {
            let path = dir.join(segment_name(base));
            let last_segment = i + 1 == count;
            let bytes = read_file(&path)?;
            let mut seg = Segment {
                base,
                path: path.clone(),
                len: HEADER_LEN,
                last: None,
                index: Vec::new(),
                since_index: 0,
            };
            let corrupt = |position: u64, reason: String| StoreError::Corrupt {
                file: path.clone(),
                position,
                reason,
            };
            if base < next {
                return Err(corrupt(
                    0,
                    format!(
                        "named offset {base}, but the segment before ends at {}",
                        next.saturating_sub(1)
                    ),
                ));
            }
            // The header; a last segment shorter than one was being created.
            if let Err(why) = frame::check_header(&bytes) {
                if last_segment
                    && (bytes.len() as u64) < HEADER_LEN
                    && frame::MAGIC.starts_with(&bytes[..bytes.len().min(8)])
                {
                    write_header(&path, true)?;
                    recovery.truncations.push(Truncation {
                        file: path.clone(),
                        position: 0,
                        bytes: bytes.len() as u64,
                        reason: "a torn segment header, written again".into(),
                    });
                    next = next.max(base);
                    opened.push(None);
                    segments.push(seg);
                    continue;
                }
                // A newer format is never cut; a foreign header is damage.
                if !opts.repair || bytes.starts_with(frame::MAGIC) {
                    return Err(corrupt(0, why));
                }
            }
            let header_bad = frame::check_header(&bytes).is_err();
            let mut at = if header_bad { 0 } else { HEADER_LEN as usize };
            let mut expect = next.max(base);
            let mut bad = header_bad.then(|| "not a Ringlet segment (bad magic)".to_owned());
            while bad.is_none() && at < bytes.len() {
                match frame::check(&bytes[at..]) {
                    Frame::Good { len, first, last } => {
                        if let Some(f) = first {
                            if f < expect {
                                bad = Some(format!(
                                    "offset {f} after offset {}",
                                    expect.saturating_sub(1)
                                ));
                                break;
                            }
                        }
                        seg.note_frame(first, last, at as u64, len as u64, opts.index_bytes);
                        if let Some(l) = last {
                            expect = l + 1;
                        }
                        at += len;
                    }
                    Frame::Bad(why) => {
                        bad = Some(why.to_owned());
                        break;
                    }
                }
            }
            if let Some(why) = bad {
                let position = at as u64;
                // The tail: nothing good after it in the last segment.
                let declared_end = bytes
                    .get(at..at + 4)
                    .map(|b| at + 4 + u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
                let good_after = declared_end
                    .is_some_and(|end| end <= bytes.len() && good_until_end(&bytes, end));
                let tail = last_segment && !good_after && !header_bad;
                if !tail && !opts.repair {
                    return Err(corrupt(position, why));
                }
                if header_bad {
                    write_header(&path, true)?;
                    seg.len = HEADER_LEN;
                } else {
                    truncate(&path, position)?;
                    seg.len = position;
                }
                recovery.truncations.push(Truncation {
                    file: path.clone(),
                    position,
                    bytes: bytes.len() as u64 - position,
                    reason: if tail {
                        format!("a torn tail: {why}")
                    } else {
                        format!("repaired: {why}")
                    },
                });
                next = expect;
                opened.push(keep(bytes, seg.len));
                segments.push(seg);
                // Repair drops every later segment.
                for &later in &bases[i + 1..] {
                    let p = dir.join(segment_name(later));
                    let len = fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
                    fs::remove_file(&p).map_err(|e| StoreError::io("remove", &p, e))?;
                    recovery.truncations.push(Truncation {
                        file: p,
                        position: 0,
                        bytes: len,
                        reason: "repaired: a segment after the damage, removed".into(),
                    });
                }
                break;
            }
            next = expect;
            opened.push(keep(bytes, seg.len));
            segments.push(seg);
        }
        if segments.is_empty() {
            let path = dir.join(segment_name(0));
            write_header(&path, false)?;
            segments.push(Segment {
                base: 0,
                path,
                len: HEADER_LEN,
                last: None,
                index: Vec::new(),
                since_index: 0,
            });
            opened.push(None);
        }
        let active = open_append(&segments[segments.len() - 1].path)?;
        Ok((
            PartitionLog {
                dir,
                opts: opts.clone(),
                segments,
                active,
                next,
                poisoned: false,
                unsynced: false,
                dir_unsynced: false,
                buf: Vec::new(),
                opened: std::sync::Mutex::new(Some(opened)),
                #[cfg(test)]
                fail_writes: None,
            },
            recovery,
        ))
    }

    /// Drops the bytes open kept (the log changes).
    fn forget_opened(&mut self) {
        *self
            .opened
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }

    /// The options it was opened with.
    pub fn options(&self) -> &LogOptions {
        &self.opts
    }

    /// The directory of the segments.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The lowest offset the next append may use: one past the last record, or the
    /// first segment's base while the log is empty.
    pub fn next_offset(&self) -> u64 {
        self.next
    }

    /// The offset of the oldest record kept, or [`next_offset`](Self::next_offset)
    /// when there is none.
    pub fn first_offset(&self) -> u64 {
        self.segments
            .iter()
            .find_map(|s| s.index.first().map(|&(o, _)| o))
            .unwrap_or(self.next)
    }

    /// The segment files, oldest first.
    pub fn segment_files(&self) -> Vec<PathBuf> {
        self.segments.iter().map(|s| s.path.clone()).collect()
    }

    /// Appends `records` (offsets increasing, from [`next_offset`](Self::next_offset)
    /// on; gaps are allowed) as one frame with one write; with `sync`, returns
    /// after `fdatasync`. A failed write is undone (the file is cut back), so
    /// nothing of a failed append is ever read back.
    ///
    /// # Errors
    ///
    /// `OutOfOrder`; `Io` when the write (or sync, or a new segment) fails;
    /// `Poisoned` after a failed write that could not be undone.
    pub fn append(&mut self, records: &[StoredRecord], sync: bool) -> Result<(), StoreError> {
        self.forget_opened();
        let active_path = self.segments[self.segments.len() - 1].path.clone();
        if self.poisoned {
            return Err(StoreError::Poisoned { file: active_path });
        }
        let mut expected = self.next;
        for r in records {
            if r.offset < expected {
                return Err(StoreError::OutOfOrder {
                    offset: r.offset,
                    expected,
                });
            }
            expected = r.offset + 1;
        }
        let Some(first) = records.first() else {
            return Ok(());
        };
        let seg = &self.segments[self.segments.len() - 1];
        if seg.len >= self.opts.segment_bytes && seg.last.is_some() {
            self.roll(first.offset, sync)?;
        }
        self.buf.clear();
        frame::encode(records, &mut self.buf);
        let seg_len = self.segments[self.segments.len() - 1].len;
        if let Err(e) = self.write_frame() {
            let path = self.segments[self.segments.len() - 1].path.clone();
            if self.undo(seg_len).is_err() {
                self.poisoned = true;
            }
            return Err(StoreError::io("write", &path, e));
        }
        let len = self.buf.len() as u64;
        let every = self.opts.index_bytes;
        let last = records.last().map(|r| r.offset);
        let seg = self.segments.last_mut().expect("a log has a segment");
        seg.note_frame(Some(first.offset), last, seg_len, len, every);
        self.next = expected;
        if sync {
            let path = seg.path.clone();
            self.active
                .sync_data()
                .map_err(|e| StoreError::io("sync", &path, e))?;
        } else {
            self.unsynced = true;
        }
        Ok(())
    }

    /// What a group commit syncs outside the log's lock: a handle of the active
    /// segment, the directory when a segment was created unsynced, and the offset
    /// everything before which is on disk once both are synced (segments rolled
    /// away from were synced when they were). See [`SyncPoint::sync`].
    ///
    /// # Errors
    ///
    /// `Poisoned`; `Io` when the segment's handle cannot be cloned.
    pub fn sync_point(&mut self) -> Result<SyncPoint, StoreError> {
        let path = self.segments[self.segments.len() - 1].path.clone();
        if self.poisoned {
            return Err(StoreError::Poisoned { file: path });
        }
        let file = self
            .active
            .try_clone()
            .map_err(|e| StoreError::io("open", &path, e))?;
        let dir = std::mem::take(&mut self.dir_unsynced).then(|| self.dir.clone());
        self.unsynced = false;
        Ok(SyncPoint {
            file,
            path,
            dir,
            through: self.next,
        })
    }

    /// Refuses appends from now on ([`StoreError::Poisoned`]), as after a failed
    /// sync: what the disk holds is then unknown until the log is opened again.
    pub fn poison(&mut self) {
        self.poisoned = true;
    }

    fn write_frame(&mut self) -> std::io::Result<()> {
        #[cfg(test)]
        if let Some(f) = &mut self.fail_writes {
            if f.after == 0 {
                let n = f.partial.min(self.buf.len());
                self.active.write_all(&self.buf[..n])?;
                return Err(std::io::Error::other("injected write failure"));
            }
            f.after -= 1;
        }
        self.active.write_all(&self.buf)
    }

    fn undo(&mut self, len: u64) -> std::io::Result<()> {
        #[cfg(test)]
        if self.fail_writes.is_some_and(|f| f.undo_fails) {
            return Err(std::io::Error::other("injected truncate failure"));
        }
        self.active.set_len(len)
    }

    #[cfg(test)]
    pub(crate) fn fail_writes(&mut self, f: FailWrites) {
        self.fail_writes = Some(f);
    }

    fn roll(&mut self, base: u64, sync: bool) -> Result<(), StoreError> {
        if std::mem::take(&mut self.unsynced) {
            // A group commit syncs only the active segment: the one left behind
            // is synced now.
            let old = &self.segments[self.segments.len() - 1].path;
            self.active
                .sync_data()
                .map_err(|e| StoreError::io("sync", old, e))?;
        }
        let path = self.dir.join(segment_name(base));
        write_header(&path, sync)?;
        if sync {
            sync_dir(&self.dir)?;
        } else {
            self.dir_unsynced = true;
        }
        self.active = open_append(&path)?;
        self.segments.push(Segment {
            base,
            path,
            len: HEADER_LEN,
            last: None,
            index: Vec::new(),
            since_index: 0,
        });
        Ok(())
    }

    /// `fdatasync` of the active segment.
    ///
    /// # Errors
    ///
    /// `Io`.
    pub fn sync(&mut self) -> Result<(), StoreError> {
        let point = self.sync_point()?;
        point.sync().inspect_err(|_| self.poisoned = true)?;
        Ok(())
    }

    /// Calls `f` with each record from offset `from` on, in order, until it returns
    /// false.
    ///
    /// # Errors
    ///
    /// `Io` when a segment cannot be read, `Corrupt` when one changed on disk since
    /// it was opened.
    pub fn read(
        &self,
        from: u64,
        mut f: impl FnMut(StoredRecord) -> bool,
    ) -> Result<(), StoreError> {
        // The first read after open takes the bytes open checked.
        let mut opened = self
            .opened
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
            .unwrap_or_default();
        for (s, seg) in self.segments.iter().enumerate() {
            if seg.last.is_none_or(|l| l < from) {
                continue;
            }
            let i = seg.index.partition_point(|&(o, _)| o <= from);
            let pos = if i == 0 {
                HEADER_LEN
            } else {
                seg.index[i - 1].1
            };
            let kept = opened.get_mut(s).and_then(Option::take);
            let verified = kept.is_some();
            let (bytes, start) = match kept {
                Some(b) => (b, pos as usize),
                None => {
                    let mut file =
                        File::open(&seg.path).map_err(|e| StoreError::io("open", &seg.path, e))?;
                    let mut bytes = vec![0; (seg.len - pos) as usize];
                    file.seek(SeekFrom::Start(pos))
                        .and_then(|_| file.read_exact(&mut bytes))
                        .map_err(|e| StoreError::io("read", &seg.path, e))?;
                    (bytes, 0)
                }
            };
            let bytes = &bytes[start..];
            let mut at = 0;
            while at < bytes.len() {
                let Some((len, go_on)) = frame::read(&bytes[at..], verified, from, &mut f) else {
                    return Err(StoreError::Corrupt {
                        file: seg.path.clone(),
                        position: pos + at as u64,
                        reason: "the frame changed on disk since the log was opened".into(),
                    });
                };
                if !go_on {
                    return Ok(());
                }
                at += len;
            }
        }
        Ok(())
    }

    /// Every record from offset `from` on.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    pub fn read_all(&self, from: u64) -> Result<Vec<StoredRecord>, StoreError> {
        let mut out = Vec::new();
        self.read(from, |r| {
            out.push(r);
            true
        })?;
        Ok(out)
    }

    /// Deletes the segments (never the active one) whose records are all below
    /// `offset`: retention moved past them. Returns how many were deleted.
    ///
    /// # Errors
    ///
    /// `Io` when a file cannot be removed (those before it are gone).
    pub fn retain_from(&mut self, offset: u64) -> Result<usize, StoreError> {
        self.forget_opened();
        let mut gone = 0;
        while self.segments.len() > 1 {
            let next_base = self.segments[1].base;
            if next_base > offset {
                break;
            }
            let seg = &self.segments[0];
            fs::remove_file(&seg.path).map_err(|e| StoreError::io("remove", &seg.path, e))?;
            self.segments.remove(0);
            gone += 1;
        }
        Ok(gone)
    }
}

fn write_header(path: &Path, sync: bool) -> Result<(), StoreError> {
    let mut f = File::create(path).map_err(|e| StoreError::io("create", path, e))?;
    f.write_all(&frame::header())
        .and_then(|()| if sync { f.sync_all() } else { Ok(()) })
        .map_err(|e| StoreError::io("write", path, e))
}

fn open_append(path: &Path) -> Result<File, StoreError> {
    OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|e| StoreError::io("open", path, e))
}

/// `fsync` of a directory (its entries: a new or renamed file).
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::io("sync", dir, e))
}

/// `dir` with `.suffix` added (a rewrite's working names beside a log).
fn beside(dir: &Path, suffix: &str) -> PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(".");
    name.push(suffix);
    dir.with_file_name(name)
}

fn remove_dir(path: &Path) -> Result<(), StoreError> {
    match fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StoreError::io("remove", path, e)),
    }
}

fn rename(from: &Path, to: &Path) -> Result<(), StoreError> {
    fs::rename(from, to).map_err(|e| StoreError::io("rename", from, e))
}

/// Replaces the log in `dir` with one holding `records` (offsets increasing):
/// written and synced beside it as `<dir>.new`, renamed `<dir>.next` once
/// complete, then put in place. Returns the new log, opened with `opts`. A
/// crash at any point leaves the old log or the new one, as
/// [`settle_rewrite`] finds it at the next open.
///
/// # Errors
///
/// `Io`; the old log is then still in place (or the new one, complete).
pub(crate) fn rewrite(
    dir: &Path,
    records: &[StoredRecord],
    opts: &LogOptions,
) -> Result<PartitionLog, StoreError> {
    let new = beside(dir, "new");
    remove_dir(&new)?;
    {
        let (mut log, _) = PartitionLog::open(&new, opts)?;
        for chunk in records.chunks(1024) {
            log.append(chunk, false)?;
        }
        log.sync()?;
    }
    sync_dir(&new)?;
    rename(&new, &beside(dir, "next"))?;
    settle_rewrite(dir)?;
    Ok(PartitionLog::open(dir, opts)?.0)
}

/// Finishes or undoes a rewrite of the log in `dir` that a crash cut short: an
/// incomplete `<dir>.new` is removed; a complete `<dir>.next` replaces the log
/// (the old one moved to `<dir>.old` first, then removed).
///
/// # Errors
///
/// `Io`.
pub(crate) fn settle_rewrite(dir: &Path) -> Result<(), StoreError> {
    remove_dir(&beside(dir, "new"))?;
    let next = beside(dir, "next");
    let old = beside(dir, "old");
    if next.exists() {
        if dir.exists() {
            remove_dir(&old)?;
            rename(dir, &old)?;
        }
        rename(&next, dir)?;
        if let Some(parent) = dir.parent() {
            sync_dir(parent)?;
        }
    }
    remove_dir(&old)
}
