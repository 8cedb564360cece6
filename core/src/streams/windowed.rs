//! Windowed aggregations: a grouped stream cut into tumbling, hopping or session
//! windows, and the windowed table it keeps (with grace, retention and late records).

use super::steps::Changelog;
use super::table::{changelog, store_name, GroupedStream};
use super::window::{Window, WindowKind, Windowed, Windows};
use super::{with_value, BoxError, Cause, Downstream, NodeKind, Staged, Staging, Stream, Topology};
use crate::record::{Key, Message, Record};
use crate::{Error, Topic};
use parking_lot::{Mutex, RwLock};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

/// A grouped stream with windows, ready to aggregate ([`GroupedStream::window`]).
pub struct WindowedGrouped<T> {
    pub(super) grouped: GroupedStream<T>,
    pub(super) windows: Windows,
}

impl<T> fmt::Debug for WindowedGrouped<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WindowedGrouped")
            .field("windows", &self.windows)
            .finish_non_exhaustive()
    }
}

type Merge<A> = Box<dyn FnMut(&A, &A) -> Result<A, BoxError> + Send>;

impl<T: Clone + Send + Sync + 'static> WindowedGrouped<T> {
    /// Counts records per key and window.
    ///
    /// # Errors
    ///
    /// As [`GroupedStream::count`].
    pub fn count(self) -> Result<WindowedTable<u64>, Error> {
        self.windowed_node(
            "count",
            |prev, _| Ok(prev.map_or(1, |n| n + 1)),
            Some(Box::new(|a: &u64, b: &u64| Ok(a + b))),
        )
    }

    /// Reduces the values per key and window (sessions merge with `f` too).
    ///
    /// # Errors
    ///
    /// As [`GroupedStream::count`].
    pub fn reduce(
        self,
        mut f: impl FnMut(&T, &T) -> T + Send + 'static,
    ) -> Result<WindowedTable<T>, Error> {
        self.try_reduce(move |a, b| Ok(f(a, b)))
    }

    /// [`WindowedGrouped::reduce`] with a fallible callback.
    ///
    /// # Errors
    ///
    /// As [`GroupedStream::count`].
    pub fn try_reduce(
        self,
        f: impl FnMut(&T, &T) -> Result<T, BoxError> + Send + 'static,
    ) -> Result<WindowedTable<T>, Error> {
        let f = Arc::new(Mutex::new(f));
        let g = f.clone();
        self.windowed_node(
            "reduce",
            move |prev, rec| match prev {
                None => Ok(rec.value.clone()),
                Some(a) => (f.lock())(a, &rec.value),
            },
            Some(Box::new(move |a: &T, b: &T| (g.lock())(a, b))),
        )
    }

    /// Folds the records per key and window: `init()`, then `f(&aggregate,
    /// record)`. Session windows need a way to merge two sessions' aggregates:
    /// use [`WindowedGrouped::aggregate_merging`].
    ///
    /// # Errors
    ///
    /// As [`GroupedStream::count`]; `ConfigError` on session windows.
    pub fn aggregate<A: Clone + Send + Sync + 'static>(
        self,
        mut init: impl FnMut() -> A + Send + 'static,
        mut f: impl FnMut(&A, &Record<T>) -> A + Send + 'static,
    ) -> Result<WindowedTable<A>, Error> {
        self.try_aggregate(move || Ok(init()), move |a, r| Ok(f(a, r)), None)
    }

    /// [`WindowedGrouped::aggregate`] with a `merge` of two sessions' aggregates
    /// (required for session windows, unused by time windows).
    ///
    /// # Errors
    ///
    /// As [`GroupedStream::count`].
    pub fn aggregate_merging<A: Clone + Send + Sync + 'static>(
        self,
        mut init: impl FnMut() -> A + Send + 'static,
        mut f: impl FnMut(&A, &Record<T>) -> A + Send + 'static,
        mut merge: impl FnMut(&A, &A) -> A + Send + 'static,
    ) -> Result<WindowedTable<A>, Error> {
        self.try_aggregate(
            move || Ok(init()),
            move |a, r| Ok(f(a, r)),
            Some(Box::new(move |a: &A, b: &A| Ok(merge(a, b)))),
        )
    }

    /// The fallible windowed aggregation; `merge` is required for sessions.
    ///
    /// # Errors
    ///
    /// As [`GroupedStream::count`]; `ConfigError` for sessions without `merge`.
    pub fn try_aggregate<A: Clone + Send + Sync + 'static>(
        self,
        mut init: impl FnMut() -> Result<A, BoxError> + Send + 'static,
        mut f: impl FnMut(&A, &Record<T>) -> Result<A, BoxError> + Send + 'static,
        merge: Option<Merge<A>>,
    ) -> Result<WindowedTable<A>, Error> {
        if self.windows.is_session() && merge.is_none() {
            return Err(Error::ConfigError {
                name: self.grouped.stream.topo.name().to_string(),
                reason: "a session-windowed aggregate needs a merge of two sessions".into(),
            });
        }
        self.windowed_node(
            "aggregate",
            move |prev, rec| match prev {
                Some(a) => f(a, rec),
                None => f(&init()?, rec),
            },
            merge,
        )
    }

    fn windowed_node<A: Clone + Send + Sync + 'static>(
        self,
        op: &'static str,
        mut step: impl FnMut(Option<&A>, &Record<T>) -> Result<A, BoxError> + Send + 'static,
        mut merge: Option<Merge<A>>,
    ) -> Result<WindowedTable<A>, Error> {
        let WindowedGrouped { grouped, windows } = self;
        windows.validate(grouped.stream.topo.name())?;
        let GroupedStream {
            stream,
            store,
            capacity,
        } = grouped;
        let topo = stream.topo.clone();
        let store = store_name(&topo, store, capacity)?;
        let table = WindowedInner::<A>::open(&topo, &store, capacity, windows)?;
        let prefix = match windows.kind {
            WindowKind::Session { .. } => "KSTREAM-SESSION-AGGREGATE",
            WindowKind::Time { .. } => "KSTREAM-WINDOW-AGGREGATE",
        };
        let node = topo.add_node(prefix, NodeKind::Processor, op, vec![stream.node]);
        topo.with_node(node, |n| {
            n.stores.push(store.clone());
            n.detail = Some(windows.describe());
        });
        let out = Downstream::new();
        let (t, down) = (table.clone(), out.clone());
        stream.out.add(Box::new(move |ctx, rec| {
            let Some(key) = &rec.key else {
                return Ok(());
            };
            let updates = match windows.kind {
                WindowKind::Time { .. } => t.time_windows(ctx, node, key, rec, &mut step)?,
                WindowKind::Session { gap } => {
                    let merge = merge.as_mut().expect("checked: sessions have a merge");
                    t.session(ctx, node, key, rec, gap, &mut step, merge)?
                }
            };
            ctx.stage(t.clone());
            for (window, value) in updates {
                down.emit(ctx, &with_value(rec, Windowed { window, value }))?;
            }
            Ok(())
        }));
        Ok(WindowedTable {
            inner: table,
            topo,
            node,
            out,
        })
    }
}

type WindowKey = (Vec<u8>, i64);

struct WindowState<V> {
    windows: BTreeMap<WindowKey, (Key, Window, V)>,
    /// (end, key bytes, start) of every window, for retention.
    by_end: BTreeSet<(i64, Vec<u8>, i64)>,
}

impl<V> WindowState<V> {
    fn insert(&mut self, k: WindowKey, v: (Key, Window, V)) {
        if let Some((_, w, _)) = self.windows.get(&k) {
            self.by_end.remove(&(w.end, k.0.clone(), k.1));
        }
        self.by_end.insert((v.1.end, k.0.clone(), k.1));
        self.windows.insert(k, v);
    }

    fn remove(&mut self, k: &WindowKey) {
        if let Some((_, w, _)) = self.windows.remove(k) {
            self.by_end.remove(&(w.end, k.0.clone(), k.1));
        }
    }
}

struct PendingWindow<V> {
    /// Changes in order: `None` deletes.
    changes: Vec<(WindowKey, Option<(Key, Window, V)>, i64)>,
    stream_time: Option<i64>,
    dropped: u64,
}

pub(crate) struct WindowedInner<V> {
    name: String,
    windows: Windows,
    state: RwLock<WindowState<V>>,
    pending: Mutex<PendingWindow<V>>,
    stream_time: AtomicI64,
    dropped_late: AtomicU64,
    changelog: Changelog<Windowed<V>>,
    capacity: usize,
}

/// The changelog key of a window: a text flag, the start, the key's bytes.
fn encode(key: &Key, start: i64) -> Key {
    let mut b = Vec::with_capacity(9 + key.as_bytes().len());
    b.push(u8::from(key.is_text()));
    b.extend_from_slice(&start.to_be_bytes());
    b.extend_from_slice(key.as_bytes());
    Key::from(b)
}

fn decode(k: &Key) -> Option<(Key, i64)> {
    let b = k.as_bytes();
    let start = i64::from_be_bytes(b.get(1..9)?.try_into().ok()?);
    let rest = b.get(9..)?.to_vec();
    let key = match b.first()? {
        1 => Key::from(String::from_utf8(rest).ok()?),
        _ => Key::from(rest),
    };
    Some((key, start))
}

impl<V: Clone + Send + Sync + 'static> WindowedInner<V> {
    fn open(
        topo: &Topology,
        store: &str,
        capacity: usize,
        windows: Windows,
    ) -> Result<Arc<Self>, Error> {
        let changelog = changelog::<Windowed<V>>(topo, store, capacity)?;
        let mut state = WindowState {
            windows: BTreeMap::new(),
            by_end: BTreeSet::new(),
        };
        let mut stream_time = i64::MIN;
        for rec in changelog.topic.retained()? {
            let Some((key, start)) = rec.key.as_ref().and_then(decode) else {
                continue;
            };
            stream_time = stream_time.max(rec.timestamp);
            let k = (key.as_bytes().to_vec(), start);
            match rec.value {
                Some(w) => state.insert(k, (key, w.window, w.value)),
                None => state.remove(&k),
            }
        }
        Ok(Arc::new(WindowedInner {
            name: store.to_string(),
            windows,
            state: RwLock::new(state),
            pending: Mutex::new(PendingWindow {
                changes: Vec::new(),
                stream_time: None,
                dropped: 0,
            }),
            stream_time: AtomicI64::new(stream_time),
            dropped_late: AtomicU64::new(0),
            changelog,
            capacity,
        }))
    }

    /// Stream time including the record being processed.
    fn observe(&self, pending: &mut PendingWindow<V>, ts: i64) -> i64 {
        let st = pending
            .stream_time
            .unwrap_or_else(|| self.stream_time.load(Ordering::Acquire))
            .max(ts);
        pending.stream_time = Some(st);
        st
    }

    fn current(&self, pending: &PendingWindow<V>, k: &WindowKey) -> Option<(Key, Window, V)> {
        if let Some((_, v, _)) = pending.changes.iter().rev().find(|c| &c.0 == k) {
            return v.clone();
        }
        self.state.read().windows.get(k).cloned()
    }

    fn stage(
        &self,
        pending: &mut PendingWindow<V>,
        k: WindowKey,
        v: Option<(Key, Window, V)>,
        ts: i64,
    ) -> Result<(), Cause> {
        if v.is_some() && self.current(pending, &k).is_none() {
            let state = self.state.read();
            let mut live: i64 = state.windows.len() as i64;
            let mut seen: Vec<&WindowKey> = Vec::new();
            for (ck, cv, _) in pending.changes.iter().rev() {
                if seen.contains(&ck) {
                    continue;
                }
                seen.push(ck);
                match (state.windows.contains_key(ck), cv.is_some()) {
                    (false, true) => live += 1,
                    (true, false) => live -= 1,
                    _ => {}
                }
            }
            if live >= self.capacity as i64 {
                return Err(Cause::Output {
                    target: self.name.clone(),
                    reason: format!("the table is full ({} windows)", self.capacity),
                });
            }
        }
        pending.changes.push((k, v, ts));
        Ok(())
    }

    fn time_windows<T>(
        &self,
        ctx: &mut Staging,
        node: usize,
        key: &Key,
        rec: &Record<T>,
        step: &mut dyn FnMut(Option<&V>, &Record<T>) -> Result<V, BoxError>,
    ) -> Result<Vec<(Window, V)>, super::Failure> {
        let mut pending = self.pending.lock();
        let st = self.observe(&mut pending, rec.timestamp);
        let mut updates = Vec::new();
        for w in self.windows.windows_for(rec.timestamp) {
            if w.end.saturating_add(self.windows.grace_ms) <= st {
                pending.dropped += 1;
                continue;
            }
            let k = (key.as_bytes().to_vec(), w.start);
            let prev = self.current(&pending, &k).map(|(_, _, v)| v);
            let new = ctx.call(node, || step(prev.as_ref(), rec))?;
            self.stage(
                &mut pending,
                k,
                Some((key.clone(), w, new.clone())),
                rec.timestamp,
            )
            .map_err(|c| ctx.fail(node, c))?;
            updates.push((w, new));
        }
        Ok(updates)
    }

    #[allow(clippy::too_many_arguments)]
    fn session<T>(
        &self,
        ctx: &mut Staging,
        node: usize,
        key: &Key,
        rec: &Record<T>,
        gap: i64,
        step: &mut dyn FnMut(Option<&V>, &Record<T>) -> Result<V, BoxError>,
        merge: &mut Merge<V>,
    ) -> Result<Vec<(Window, V)>, super::Failure> {
        let mut pending = self.pending.lock();
        let st = self.observe(&mut pending, rec.timestamp);
        let ts = rec.timestamp;
        let kb = key.as_bytes().to_vec();
        // This key's sessions, with what this record staged.
        let mut sessions: BTreeMap<i64, (Window, V)> = self
            .state
            .read()
            .windows
            .range((kb.clone(), i64::MIN)..=(kb.clone(), i64::MAX))
            .map(|((_, s), (_, w, v))| (*s, (*w, v.clone())))
            .collect();
        for ((ck, s), v, _) in &pending.changes {
            if *ck == kb {
                match v {
                    Some((_, w, v)) => sessions.insert(*s, (*w, v.clone())),
                    None => sessions.remove(s),
                };
            }
        }
        let near: Vec<(i64, Window, V)> = sessions
            .into_iter()
            .filter(|(_, (w, _))| {
                w.start.saturating_sub(gap) <= ts && ts <= w.end.saturating_add(gap)
            })
            .map(|(s, (w, v))| (s, w, v))
            .collect();
        let mut window = Window { start: ts, end: ts };
        for (_, w, _) in &near {
            window.start = window.start.min(w.start);
            window.end = window.end.max(w.end);
        }
        if window.end.saturating_add(self.windows.grace_ms) < st {
            pending.dropped += 1;
            return Ok(Vec::new());
        }
        let mut acc: Option<V> = None;
        for (_, _, v) in &near {
            acc = Some(match acc {
                None => v.clone(),
                Some(a) => ctx.call(node, || merge(&a, v))?,
            });
        }
        let new = ctx.call(node, || step(acc.as_ref(), rec))?;
        for (s, _, _) in &near {
            self.stage(&mut pending, (kb.clone(), *s), None, ts)
                .map_err(|c| ctx.fail(node, c))?;
        }
        self.stage(
            &mut pending,
            (kb, window.start),
            Some((key.clone(), window, new.clone())),
            ts,
        )
        .map_err(|c| ctx.fail(node, c))?;
        Ok(vec![(window, new)])
    }

    fn log(&self, key: &Key, start: i64, v: Option<Windowed<V>>, ts: i64) -> Result<(), Cause> {
        let msg = Message::new(v).key(encode(key, start)).timestamp(ts);
        self.changelog.log(msg)
    }
}

impl<V: Clone + Send + Sync + 'static> Staged for WindowedInner<V> {
    fn commit(&self) -> Result<(), Cause> {
        let PendingWindow {
            changes,
            stream_time,
            dropped,
        } = std::mem::replace(
            &mut *self.pending.lock(),
            PendingWindow {
                changes: Vec::new(),
                stream_time: None,
                dropped: 0,
            },
        );
        let mut state = self.state.write();
        for ((kb, start), v, ts) in changes {
            let k = (kb, start);
            match v {
                Some((key, window, value)) => {
                    self.log(
                        &key,
                        start,
                        Some(Windowed {
                            window,
                            value: value.clone(),
                        }),
                        ts,
                    )?;
                    state.insert(k, (key, window, value));
                }
                None => {
                    if let Some((key, _, _)) = state.windows.get(&k) {
                        let key = key.clone();
                        self.log(&key, start, None, ts)?;
                        state.remove(&k);
                    }
                }
            }
        }
        self.dropped_late.fetch_add(dropped, Ordering::Relaxed);
        if let Some(st) = stream_time {
            self.stream_time.fetch_max(st, Ordering::AcqRel);
            // Retention: forget windows closed for longer than `retention`.
            let keep = self
                .windows
                .grace_ms
                .saturating_add(self.windows.retention_ms);
            while let Some((end, kb, start)) = state.by_end.first().cloned() {
                if end.saturating_add(keep) > st {
                    break;
                }
                let k = (kb, start);
                if let Some((key, _, _)) = state.windows.get(&k) {
                    let key = key.clone();
                    self.log(&key, start, None, st)?;
                }
                state.remove(&k);
            }
        }
        Ok(())
    }

    fn abort(&self) {
        let mut p = self.pending.lock();
        p.changes.clear();
        p.stream_time = None;
        p.dropped = 0;
    }
}

/// A table of windowed aggregates: per key and window, queryable while the
/// topology updates it, backed by a compacted changelog. Cheap to clone.
pub struct WindowedTable<V> {
    inner: Arc<WindowedInner<V>>,
    topo: Topology,
    node: usize,
    out: Downstream<Windowed<V>>,
}

impl<V> Clone for WindowedTable<V> {
    fn clone(&self) -> Self {
        WindowedTable {
            inner: self.inner.clone(),
            topo: self.topo.clone(),
            node: self.node,
            out: self.out.clone(),
        }
    }
}

impl<V> fmt::Debug for WindowedTable<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WindowedTable")
            .field("name", &self.inner.name)
            .finish_non_exhaustive()
    }
}

impl<V: Clone + Send + Sync + 'static> WindowedTable<V> {
    /// The table's (store's) name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The aggregate for `key` in the window starting at `start` (ms).
    pub fn get(&self, key: impl Into<Key>, start: i64) -> Option<V> {
        let key = key.into();
        self.inner
            .state
            .read()
            .windows
            .get(&(key.as_bytes().to_vec(), start))
            .map(|(_, _, v)| v.clone())
    }

    /// `key`'s windows and aggregates, oldest first.
    pub fn fetch(&self, key: impl Into<Key>) -> Vec<(Window, V)> {
        let kb = key.into().as_bytes().to_vec();
        self.inner
            .state
            .read()
            .windows
            .range((kb.clone(), i64::MIN)..=(kb, i64::MAX))
            .map(|(_, (_, w, v))| (*w, v.clone()))
            .collect()
    }

    /// Every key, window and aggregate, by key bytes then window start.
    pub fn entries(&self) -> Vec<(Key, Window, V)> {
        self.inner.state.read().windows.values().cloned().collect()
    }

    /// Number of (key, window) entries.
    pub fn len(&self) -> usize {
        self.inner.state.read().windows.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// (Record, window) pairs dropped because they came after the window closed.
    pub fn dropped_late(&self) -> u64 {
        self.inner.dropped_late.load(Ordering::Relaxed)
    }

    /// The largest record timestamp the aggregation has seen, if any.
    pub fn stream_time(&self) -> Option<i64> {
        let t = self.inner.stream_time.load(Ordering::Acquire);
        (t != i64::MIN).then_some(t)
    }

    /// The windows as given.
    pub fn windows(&self) -> Windows {
        self.inner.windows
    }

    /// The compacted topic the table's updates are written to (keys encode the
    /// window start).
    pub fn changelog(&self) -> &Topic<Option<Windowed<V>>> {
        &self.inner.changelog.topic
    }

    /// The stream of updates: each new aggregate with its window.
    pub fn to_stream(&self) -> Stream<Windowed<V>> {
        Stream::forwarded(
            &self.topo,
            &self.out,
            "KTABLE-TOSTREAM",
            "to_stream",
            vec![self.node],
        )
    }
}
