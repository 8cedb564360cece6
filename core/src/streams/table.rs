//! Aggregations into queryable tables, plain and windowed, kept consistent with
//! their compacted changelog topics.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

use super::steps::Changelog;
use super::window::Windows;
use super::windowed::WindowedGrouped;
use super::{with_value, BoxError, Cause, Downstream, NodeKind, Staged, Stream, Topology};
use crate::record::{Key, Message, Record};
use crate::{Error, OnFull, Topic, TopicConfig};

/// Default number of keys a table holds (its changelog's capacity).
pub const DEFAULT_TABLE_CAPACITY: usize = 65_536;

/// A stream grouped by key, ready to aggregate ([`Stream::group_by_key`]).
pub struct GroupedStream<T> {
    pub(super) stream: Stream<T>,
    pub(super) store: Option<String>,
    pub(super) capacity: usize,
}

impl<T> fmt::Debug for GroupedStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupedStream")
            .field("store", &self.store)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

/// Checks a new table's capacity and names its store (by default after the node
/// about to be added).
pub(super) fn store_name(
    topo: &Topology,
    given: Option<String>,
    capacity: usize,
) -> Result<String, Error> {
    if capacity == 0 || capacity > crate::MAX_CAPACITY {
        return Err(Error::ConfigError {
            name: topo.name().to_string(),
            reason: format!("a table's capacity must be 1 to {}", crate::MAX_CAPACITY),
        });
    }
    let node = topo.inner.graph.lock().len();
    let name = given.unwrap_or_else(|| format!("KSTREAM-AGGREGATE-STATE-STORE-{node:010}"));
    let taken = topo
        .inner
        .graph
        .lock()
        .iter()
        .any(|n| n.kind == NodeKind::Processor && n.op != "join" && n.stores.contains(&name));
    if taken {
        return Err(Error::ConfigError {
            name: name.clone(),
            reason: "a store of that name exists in this topology".into(),
        });
    }
    crate::name::validate(&name, false)?;
    Ok(name)
}

pub(super) fn changelog<V: Clone + Send + Sync + 'static>(
    topo: &Topology,
    store: &str,
    capacity: usize,
) -> Result<Changelog<V>, Error> {
    let name = format!("{}-{store}-changelog", topo.name());
    let config = TopicConfig::default()
        .capacity(capacity)
        .on_full(OnFull::Keep);
    let bus = topo.bus()?;
    bus.internal_name(&name);
    match topo.changelog_codec::<V>() {
        // Durable: a durable compacted topic whose `None`s are tombstones,
        // written with the topology's step log.
        Some(codec) => {
            let steps = topo.steps(&bus)?;
            let topic = bus.durable_topic_shared(
                &name,
                config.compacted(true),
                codec.clone(),
                Some(Option::is_none),
            )?;
            Changelog::durable(topic, steps, codec)
        }
        None => Ok(Changelog::memory(bus.compacted_topic::<V>(&name, config)?)),
    }
}

impl<T: Clone + Send + Sync + 'static> GroupedStream<T> {
    pub(crate) fn new(stream: Stream<T>) -> Self {
        GroupedStream {
            stream,
            store: None,
            capacity: DEFAULT_TABLE_CAPACITY,
        }
    }

    /// Names the table (its store; the changelog topic is
    /// `<topology>-<store>-changelog`). By default named after its processor.
    #[must_use]
    pub fn store(mut self, name: &str) -> Self {
        self.store = Some(name.to_string());
        self
    }

    /// The most keys (or key × window pairs) the table holds (default 65 536): a
    /// record that would add one more fails (see the module docs).
    #[must_use]
    pub fn capacity(mut self, n: usize) -> Self {
        self.capacity = n;
        self
    }

    /// Windows the aggregation by event time.
    #[must_use]
    pub fn window(self, windows: Windows) -> WindowedGrouped<T> {
        WindowedGrouped {
            grouped: self,
            windows,
        }
    }

    /// Counts records per key.
    ///
    /// # Errors
    ///
    /// `ConfigError` for a store name used twice in the topology or a bad capacity;
    /// the changelog topic's registry errors.
    pub fn count(self) -> Result<Table<u64>, Error> {
        self.aggregate_node("count", move |prev, _| Ok(prev.map_or(1, |n| n + 1)))
    }

    /// Combines the values per key with `f(aggregate, value)`, starting from the
    /// first value.
    ///
    /// # Errors
    ///
    /// As [`GroupedStream::count`].
    pub fn reduce(
        self,
        mut f: impl FnMut(&T, &T) -> T + Send + 'static,
    ) -> Result<Table<T>, Error> {
        self.try_reduce(move |a, b| Ok(f(a, b)))
    }

    /// [`GroupedStream::reduce`] with a fallible callback.
    ///
    /// # Errors
    ///
    /// As [`GroupedStream::count`].
    pub fn try_reduce(
        self,
        mut f: impl FnMut(&T, &T) -> Result<T, BoxError> + Send + 'static,
    ) -> Result<Table<T>, Error> {
        self.aggregate_node("reduce", move |prev, rec| match prev {
            None => Ok(rec.value.clone()),
            Some(a) => f(a, &rec.value),
        })
    }

    /// Folds the records per key into an aggregate: `init()` for a new key, then
    /// `f(&aggregate, record)`.
    ///
    /// # Errors
    ///
    /// As [`GroupedStream::count`].
    pub fn aggregate<A: Clone + Send + Sync + 'static>(
        self,
        mut init: impl FnMut() -> A + Send + 'static,
        mut f: impl FnMut(&A, &Record<T>) -> A + Send + 'static,
    ) -> Result<Table<A>, Error> {
        self.try_aggregate(move || Ok(init()), move |a, r| Ok(f(a, r)))
    }

    /// [`GroupedStream::aggregate`] with fallible callbacks.
    ///
    /// # Errors
    ///
    /// As [`GroupedStream::count`].
    pub fn try_aggregate<A: Clone + Send + Sync + 'static>(
        self,
        mut init: impl FnMut() -> Result<A, BoxError> + Send + 'static,
        mut f: impl FnMut(&A, &Record<T>) -> Result<A, BoxError> + Send + 'static,
    ) -> Result<Table<A>, Error> {
        self.aggregate_node("aggregate", move |prev, rec| match prev {
            Some(a) => f(a, rec),
            None => f(&init()?, rec),
        })
    }

    fn aggregate_node<A: Clone + Send + Sync + 'static>(
        self,
        op: &'static str,
        mut step: impl FnMut(Option<&A>, &Record<T>) -> Result<A, BoxError> + Send + 'static,
    ) -> Result<Table<A>, Error> {
        let GroupedStream {
            stream,
            store,
            capacity,
        } = self;
        let topo = stream.topo.clone();
        let store = store_name(&topo, store, capacity)?;
        let table = TableInner::<A>::open(&topo, &store, capacity)?;
        let prefix = if op == "reduce" {
            "KSTREAM-REDUCE"
        } else {
            "KSTREAM-AGGREGATE"
        };
        let node = topo.add_node(prefix, NodeKind::Processor, op, vec![stream.node]);
        topo.with_node(node, |n| n.stores.push(store.clone()));
        let out = Downstream::new();
        let (t, down) = (table.clone(), out.clone());
        stream.out.add(Box::new(move |ctx, rec| {
            let Some(key) = &rec.key else {
                return Ok(());
            };
            let prev = t.lookup(key.as_bytes());
            let new = ctx.call(node, || step(prev.as_ref(), rec))?;
            t.put(key, new.clone(), rec.timestamp)
                .map_err(|c| ctx.fail(node, c))?;
            ctx.stage(t.clone());
            down.emit(ctx, &with_value(rec, new))
        }));
        Ok(Table {
            inner: table,
            topo,
            node,
            out,
        })
    }
}

pub(crate) struct TableInner<V> {
    name: String,
    state: RwLock<HashMap<Vec<u8>, (Key, V)>>,
    /// Staged by the record being processed: key bytes, key, value, timestamp.
    pending: Mutex<Vec<(Vec<u8>, Key, V, i64)>>,
    changelog: Changelog<V>,
    capacity: usize,
}

impl<V: Clone + Send + Sync + 'static> TableInner<V> {
    fn open(topo: &Topology, store: &str, capacity: usize) -> Result<Arc<Self>, Error> {
        let changelog = changelog::<V>(topo, store, capacity)?;
        let mut state = HashMap::new();
        for rec in changelog.topic.retained()? {
            let Some(key) = rec.key else { continue };
            match rec.value {
                Some(v) => {
                    state.insert(key.as_bytes().to_vec(), (key, v));
                }
                None => {
                    state.remove(key.as_bytes());
                }
            }
        }
        Ok(Arc::new(TableInner {
            name: store.to_string(),
            state: RwLock::new(state),
            pending: Mutex::new(Vec::new()),
            changelog,
            capacity,
        }))
    }

    /// The value for `key`, with what the current record staged.
    pub(crate) fn lookup(&self, key: &[u8]) -> Option<V> {
        if let Some((_, _, v, _)) = self.pending.lock().iter().rev().find(|p| p.0 == key) {
            return Some(v.clone());
        }
        self.state.read().get(key).map(|(_, v)| v.clone())
    }

    fn put(&self, key: &Key, v: V, ts: i64) -> Result<(), Cause> {
        let kb = key.as_bytes();
        let mut pending = self.pending.lock();
        if let Some(p) = pending.iter_mut().find(|p| p.0 == kb) {
            p.2 = v;
            p.3 = ts;
            return Ok(());
        }
        let state = self.state.read();
        if !state.contains_key(kb) {
            let new = pending.iter().filter(|p| !state.contains_key(&p.0)).count();
            if state.len() + new >= self.capacity {
                return Err(Cause::Output {
                    target: self.name.clone(),
                    reason: format!("the table is full ({} keys)", self.capacity),
                });
            }
        }
        pending.push((kb.to_vec(), key.clone(), v, ts));
        Ok(())
    }
}

impl<V: Clone + Send + Sync + 'static> Staged for TableInner<V> {
    fn commit(&self) -> Result<(), Cause> {
        let pending = std::mem::take(&mut *self.pending.lock());
        let mut state = self.state.write();
        for (kb, key, v, ts) in pending {
            let msg = Message::new(Some(v.clone())).key(key.clone()).timestamp(ts);
            self.changelog.log(msg)?;
            state.insert(kb, (key, v));
        }
        Ok(())
    }

    fn abort(&self) {
        self.pending.lock().clear();
    }
}

/// A table kept by an aggregation: the latest aggregate per key, queryable while
/// the topology updates it (queries see whole records' updates only), backed by a
/// compacted changelog topic it is restored from. Cheap to clone.
pub struct Table<V> {
    pub(crate) inner: Arc<TableInner<V>>,
    topo: Topology,
    node: usize,
    out: Downstream<V>,
}

impl<V> Clone for Table<V> {
    fn clone(&self) -> Self {
        Table {
            inner: self.inner.clone(),
            topo: self.topo.clone(),
            node: self.node,
            out: self.out.clone(),
        }
    }
}

impl<V> fmt::Debug for Table<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Table")
            .field("name", &self.inner.name)
            .finish_non_exhaustive()
    }
}

impl<V: Clone + Send + Sync + 'static> Table<V> {
    /// The table's (store's) name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The value for `key` (a key as given: text and bytes with the same bytes are
    /// the same key).
    pub fn get(&self, key: impl Into<Key>) -> Option<V> {
        let key = key.into();
        self.inner
            .state
            .read()
            .get(key.as_bytes())
            .map(|(_, v)| v.clone())
    }

    /// Every key and value, ordered by key bytes.
    pub fn entries(&self) -> Vec<(Key, V)> {
        let mut all: Vec<(Key, V)> = self.inner.state.read().values().cloned().collect();
        all.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        all
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.inner.state.read().len()
    }

    /// Whether the table has no key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The compacted topic the table's updates are written to.
    pub fn changelog(&self) -> &Topic<Option<V>> {
        &self.inner.changelog.topic
    }

    /// The stream of the table's updates: each new aggregate, with the key and
    /// timestamp of the record that made it (Kafka's `toStream`).
    pub fn to_stream(&self) -> Stream<V> {
        Stream::forwarded(
            &self.topo,
            &self.out,
            "KTABLE-TOSTREAM",
            "to_stream",
            vec![self.node],
        )
    }
}
