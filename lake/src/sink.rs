//! The sink: reads as a group member, keeps one open file per partition, and
//! completes files by the configured rules.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use ringlet::{GroupConfig, Member, Record, RecvTimeoutError, Topic, TryRecvError};
use serde_json::Value as J;

use crate::columns::{self, Plan, Row};
use crate::{files, Format, LakeConfig, LakeError};

/// Turns a topic's value into JSON for the lake.
type Convert<T> = Box<dyn FnMut(&T) -> Result<J, String> + Send>;

/// What a sink has done.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SinkStats {
    /// Records in complete files written by this sink.
    pub records: u64,
    /// Complete files written.
    pub files: u64,
    /// Bytes of complete files written.
    pub bytes: u64,
    /// Records read but not yet in a complete file.
    pub pending: u64,
    /// Offsets passed over because the topic evicted them before they were read.
    pub skipped: u64,
    /// Records read again after a restart that a complete file already held
    /// (not written twice).
    pub already: u64,
}

/// The open file of one partition.
struct Open {
    hour: i64,
    rows: Vec<Row>,
    bytes: usize,
    since: Instant,
}

/// Follows a topic and writes it to a lake folder (crate docs).
pub struct Sink<T: Clone + Send + Sync + 'static> {
    topic: Topic<T>,
    name: String,
    member: Member<T>,
    topic_dir: PathBuf,
    config: LakeConfig,
    convert: Convert<T>,
    schema: Option<J>,
    plan: Plan,
    open: BTreeMap<u32, Open>,
    /// Per partition, the offset after the last one in a complete file.
    done: BTreeMap<u32, u64>,
    /// Per partition, the offset committed for the group.
    committed: BTreeMap<u32, u64>,
    stats: SinkStats,
    closed: bool,
}

impl<T: Clone + Send + Sync + serde::Serialize + 'static> Sink<T> {
    /// A sink of `topic` into the folder `root` (created if missing), its values
    /// written as `serde_json` writes them.
    ///
    /// # Errors
    ///
    /// As [`Sink::with_values`].
    pub fn new(
        topic: &Topic<T>,
        root: impl AsRef<Path>,
        config: LakeConfig,
    ) -> Result<Self, LakeError> {
        Self::with_values(
            topic,
            root,
            config,
            Box::new(|v: &T| serde_json::to_value(v).map_err(|e| e.to_string())),
        )
    }
}

impl<T: Clone + Send + Sync + 'static> Sink<T> {
    /// A sink whose values become JSON through `convert` (an `Err` names what
    /// cannot be converted and stops the sink with [`LakeError::Value`]).
    ///
    /// # Errors
    ///
    /// `Config` for a configuration out of range, or a lake folder that holds
    /// more of a partition than the topic does (a lake written from another
    /// topic of the same name: an in-memory topic is not the one a lake was
    /// written from after a restart); `Io` when the folder cannot be read;
    /// `Bus` when the group cannot be joined.
    pub fn with_values(
        topic: &Topic<T>,
        root: impl AsRef<Path>,
        config: LakeConfig,
        convert: Convert<T>,
    ) -> Result<Self, LakeError> {
        config.validate()?;
        let name = topic.name().to_owned();
        let topic_dir = root.as_ref().join(format!("topic={name}"));
        let done = files::scan(&name, &topic_dir)?;
        let ends = topic.end_offsets();
        for (&p, &next) in &done {
            let end = ends.get(p as usize).copied().unwrap_or(0);
            if next > end {
                return Err(LakeError::Config(format!(
                    "the lake folder {} holds {name} partition {p} up to offset {} but the topic \
                     ends at offset {end}: it was written from another topic of this name (an \
                     in-memory topic starts again at offset 0 in a new process). Export a durable \
                     topic, or write to another folder",
                    topic_dir.display(),
                    next - 1
                )));
            }
        }
        let group = topic.group_with(
            &config.group,
            GroupConfig::default()
                .start(config.start.clone())
                .session_timeout(Duration::MAX),
        )?;
        let committed = group
            .committed()
            .into_iter()
            .enumerate()
            .filter_map(|(p, c)| Some((u32::try_from(p).ok()?, c?)))
            .collect();
        let member = group.join()?;
        let schema = topic.schema();
        Ok(Sink {
            topic: topic.clone(),
            plan: Plan::of(schema.as_ref()),
            schema,
            name,
            member,
            topic_dir,
            config,
            convert,
            open: BTreeMap::new(),
            done,
            committed,
            stats: SinkStats::default(),
            closed: false,
        })
    }

    /// Reads what is ready (up to [`LakeConfig::batch`] records) without
    /// waiting, and completes the files that are due. Returns the records read.
    ///
    /// # Errors
    ///
    /// `Value` for a record that cannot be written (the sink should be dropped:
    /// a new one resumes after the last complete file); `Io`, `Format` when a
    /// file cannot be written; `Bus` when a commit fails.
    pub fn step(&mut self) -> Result<usize, LakeError> {
        self.poll(None)
    }

    /// As [`Sink::step`], waiting up to `wait` for the first record.
    ///
    /// # Errors
    ///
    /// As [`Sink::step`].
    pub fn step_timeout(&mut self, wait: Duration) -> Result<usize, LakeError> {
        self.poll(Some(wait))
    }

    /// Steps until nothing is ready. Returns the records read.
    ///
    /// # Errors
    ///
    /// As [`Sink::step`].
    pub fn run_until_idle(&mut self) -> Result<usize, LakeError> {
        let mut n = 0;
        loop {
            let got = self.step()?;
            if got == 0 {
                return Ok(n);
            }
            n += got;
        }
    }

    /// Steps until `stop` is set (checked at least every 100 ms) or the topic
    /// is closed or deleted, then flushes.
    ///
    /// # Errors
    ///
    /// As [`Sink::step`] and [`Sink::flush`].
    pub fn run(&mut self, stop: &AtomicBool) -> Result<(), LakeError> {
        while !stop.load(Ordering::Acquire) && !self.closed {
            self.step_timeout(Duration::from_millis(100))?;
        }
        self.flush().map(|_| ())
    }

    /// Completes every open file and commits. Returns the files written.
    ///
    /// # Errors
    ///
    /// As [`Sink::step`].
    pub fn flush(&mut self) -> Result<usize, LakeError> {
        let open: Vec<u32> = self.open.keys().copied().collect();
        for p in &open {
            self.roll(*p)?;
        }
        // Partitions a restart found complete in the lake but not committed.
        let owned = self.member.assignment();
        let behind: Vec<(u32, u64)> = self
            .done
            .iter()
            .filter(|(p, next)| owned.contains(p) && self.committed.get(p).is_none_or(|c| c < next))
            .map(|(&p, &next)| (p, next))
            .collect();
        if !behind.is_empty() {
            self.member.commit_offsets(&behind)?;
            self.committed.extend(behind);
        }
        Ok(open.len())
    }

    /// Flushes and leaves the group.
    ///
    /// # Errors
    ///
    /// As [`Sink::flush`].
    pub fn close(mut self) -> Result<SinkStats, LakeError> {
        self.flush()?;
        self.member.leave();
        Ok(self.stats)
    }

    /// What it has done so far.
    pub fn stats(&self) -> SinkStats {
        self.stats
    }

    /// The folder of this topic's files (`<root>/topic=<name>`).
    pub fn folder(&self) -> &Path {
        &self.topic_dir
    }

    /// Whether the topic was closed or deleted (everything it held was read).
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    fn poll(&mut self, wait: Option<Duration>) -> Result<usize, LakeError> {
        self.follow_schema()?;
        let records = self.read(wait);
        let n = records.len();
        for r in records {
            self.take(r)?;
        }
        let now = Instant::now();
        let aged: Vec<u32> = self
            .open
            .iter()
            .filter(|(_, o)| now.duration_since(o.since) >= self.config.max_age)
            .map(|(&p, _)| p)
            .collect();
        for p in aged {
            self.roll(p)?;
        }
        Ok(n)
    }

    fn read(&mut self, wait: Option<Duration>) -> Vec<Record<T>> {
        let max = self.config.batch;
        // A gap is reported once, then reading goes on after it.
        for _ in 0..64 {
            let r = match wait {
                None => self.member.try_recv_batch(max).map_err(|e| match e {
                    TryRecvError::Empty => None,
                    TryRecvError::Lagged { skipped, .. } => Some(skipped),
                    TryRecvError::Closed => Some(u64::MAX),
                }),
                Some(d) => self.member.recv_batch_timeout(max, d).map_err(|e| match e {
                    RecvTimeoutError::Timeout => None,
                    RecvTimeoutError::Lagged { skipped, .. } => Some(skipped),
                    RecvTimeoutError::Closed => Some(u64::MAX),
                }),
            };
            match r {
                Ok(v) => return v,
                Err(None) => return Vec::new(),
                Err(Some(u64::MAX)) => {
                    self.closed = true;
                    return Vec::new();
                }
                Err(Some(skipped)) => self.stats.skipped += skipped,
            }
        }
        Vec::new()
    }

    /// A changed schema completes the open files, which keep their columns.
    fn follow_schema(&mut self) -> Result<(), LakeError> {
        let schema = self.topic.schema();
        if schema != self.schema {
            let open: Vec<u32> = self.open.keys().copied().collect();
            for p in open {
                self.roll(p)?;
            }
            self.plan = Plan::of(schema.as_ref());
            self.schema = schema;
        }
        Ok(())
    }

    fn take(&mut self, r: Record<T>) -> Result<(), LakeError> {
        let p = r.partition;
        if self.done.get(&p).is_some_and(|&next| r.offset < next) {
            self.stats.already += 1;
            return Ok(());
        }
        let value = (self.convert)(&r.value).map_err(|reason| LakeError::Value {
            topic: self.name.clone(),
            partition: p,
            offset: r.offset,
            reason,
        })?;
        let hour = r.timestamp.div_euclid(3_600_000);
        if self.open.get(&p).is_some_and(|o| o.hour != hour) {
            self.roll(p)?;
        }
        let bytes = columns::size_of(&value);
        let open = self.open.entry(p).or_insert_with(|| Open {
            hour,
            rows: Vec::new(),
            bytes: 0,
            since: Instant::now(),
        });
        open.rows.push(Row {
            partition: p,
            offset: r.offset,
            timestamp: r.timestamp,
            key: r.key,
            headers: r.headers,
            value,
        });
        open.bytes += bytes;
        self.stats.pending += 1;
        if open.rows.len() >= self.config.max_records || open.bytes >= self.config.max_bytes {
            self.roll(p)?;
        }
        Ok(())
    }

    /// Writes partition `p`'s open file whole, then commits after it.
    fn roll(&mut self, p: u32) -> Result<(), LakeError> {
        let Some(open) = self.open.remove(&p) else {
            return Ok(());
        };
        let (Some(first), Some(last)) = (open.rows.first(), open.rows.last()) else {
            return Ok(());
        };
        let (first, last) = (first.offset, last.offset);
        let ext = self.config.format.ext();
        let dir = files::hour_dir(&self.topic_dir, open.hour);
        let name = files::file_name(&self.name, p, first, last, ext);
        let bytes = match self.config.format {
            Format::Parquet => {
                let batch = self
                    .plan
                    .batch(&self.name, &open.rows, self.config.key_as_text)?;
                files::write_whole(&dir, &name, |f| write_parquet(f, &batch, &self.name))?
            }
            Format::JsonLines => {
                let mut buf = Vec::with_capacity(open.bytes + open.rows.len() * 96);
                for r in &open.rows {
                    columns::json_line(r, &mut buf);
                }
                files::write_whole(&dir, &name, |f| {
                    f.write_all(&buf)
                        .map_err(|e| LakeError::io("write", &dir.join(&name), e))
                })?
            }
        };
        let n = open.rows.len() as u64;
        self.stats.files += 1;
        self.stats.records += n;
        self.stats.pending -= n;
        self.stats.bytes += bytes;
        self.done.insert(p, last + 1);
        self.member.commit_offsets(&[(p, last + 1)])?;
        self.committed.insert(p, last + 1);
        Ok(())
    }
}

fn write_parquet(
    f: &mut File,
    batch: &arrow_array::RecordBatch,
    topic: &str,
) -> Result<(), LakeError> {
    let failed = |e: parquet::errors::ParquetError| {
        LakeError::Format(format!("writing a Parquet file of {topic}: {e}"))
    };
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by(concat!("ringlet-lake ", env!("CARGO_PKG_VERSION")).into())
        .build();
    let mut w = ArrowWriter::try_new(f, batch.schema(), Some(props)).map_err(failed)?;
    w.write(batch).map_err(failed)?;
    w.close().map_err(failed)?;
    Ok(())
}

impl<T: Clone + Send + Sync + 'static> std::fmt::Debug for Sink<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sink")
            .field("topic", &self.name)
            .field("folder", &self.topic_dir)
            .field("format", &self.config.format)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}
