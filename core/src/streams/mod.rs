//! Stream processing: Kafka Streams' ideas over Ringlet topics, in process.
//!
//! `topic.stream()` starts a [`Stream`] at the topic's earliest offsets (as Kafka
//! Streams does) and adds it to a [`Topology`]: by default the bus's own
//! ([`Bus::topology`]), or a named one ([`Bus::topology_named`], Kafka's
//! `application.id`). Operators build a graph of processors:
//!
//! * stateless: [`Stream::filter`], [`Stream::map`] (the callback gets the record and
//!   returns the new value; the key is kept), [`Stream::flat_map`], [`Stream::key_by`],
//!   [`Stream::branch`], [`Stream::merge`], [`Stream::peek`], [`Stream::to`],
//!   [`Stream::for_each`];
//! * stateful: [`Stream::group_by_key`] then `count`, `reduce` or `aggregate` into a
//!   queryable [`Table`], optionally [`windowed`](GroupedStream::window) by event
//!   time ([`Windows::tumbling`], [`Windows::hopping`], [`Windows::session`], each
//!   with a `grace` period for late records) into a [`WindowedTable`];
//! * [`Stream::join`] / [`Stream::left_join`] of a stream with a table.
//!
//! Every callback has a `try_` form returning `Result<_, BoxError>` (what the
//! Python and JavaScript bindings use).
//!
//! # Execution
//!
//! Nothing runs by itself: [`Topology::step`] processes what is pending (up to a
//! batch per source), [`Topology::run_until_idle`] repeats until nothing is left —
//! deterministic under a [`ManualClock`](crate::ManualClock), and available
//! everywhere, the browser included — and [`Topology::spawn`] (native only) runs the
//! topology on its own thread, sleeping while there is nothing to read, until
//! [`StreamThread::stop`]. [`Bus::run_until_idle`] and [`Bus::step`] drive every
//! topology of the bus.
//!
//! # Guarantees
//!
//! Each source reads through a consumer group named after the topology (records
//! are read once per topology, and several topologies with one name share the
//! partitions, as Kafka Streams instances do). A record is processed whole before
//! its effects take place: the records it sends to topics ([`Stream::to`]) and its
//! table updates (state and changelog) are staged while the record runs through
//! the graph and applied when it has gone all the way through; then its offset is
//! committed when the step ends. So table state, changelogs and committed offsets
//! agree, and a topology rebuilt with the same name (after [`Topology::close`])
//! restores its tables from their compacted changelogs and resumes from the
//! committed offsets: at-least-once for outputs, and each record counted once in
//! the tables. Across a restart the same holds for tables whose changelogs are
//! durable ([`Topology::durable_changelogs`]) over durable source topics, even
//! when the crash cut a step between its changelog writes and its offset
//! commit: a durable topology writes each step (its changelog records and the
//! offsets it read to) to its step log, `<topology>-steps`, before either, and
//! the rebuilt topology finishes a cut step before it restores its tables (see
//! `streams::steps` in the sources for the log). Outputs to topics stay
//! at-least-once: a step cut before its step record is processed again.
//!
//! # When a callback fails
//!
//! A callback that returns an error or panics (native builds; panics abort on
//! `wasm32`) fails its record: nothing that record staged is applied, and
//! [`StreamError`] names the processor, the record (topic, partition, offset, key)
//! and the cause. Side effects the callbacks made themselves (`peek`, `for_each`)
//! have happened. Then, by [`OnError`]:
//!
//! * `Stop` (default): the step returns the error, records before it are
//!   committed, and the failed record is read again by the next step (or by the
//!   next instance of the topology) — the pipeline does not skip it.
//! * `Skip`: the record is skipped (committed), the error is kept in
//!   [`Topology::errors`], and processing goes on.
//!
//! An output that cannot be written (a `Full` or closed topic, a full table) fails
//! the record the same way; outputs of that record published before it may be
//! published again when it is retried (at-least-once).

#![allow(clippy::result_large_err, clippy::type_complexity)]

mod describe;
mod error;
mod runtime;
mod staging;
mod steps;
mod table;
mod window;
mod windowed;

use std::fmt;
use std::sync::Arc;

use crate::bus::Bus;
use crate::record::{Key, Message, Record};
use crate::{Error, Topic};

pub use describe::{Description, NodeDescription};
pub use table::{GroupedStream, Table, DEFAULT_TABLE_CAPACITY};
pub use window::{Window, Windowed, Windows, MAX_WINDOWS_PER_RECORD};
pub use windowed::{WindowedGrouped, WindowedTable};

pub(crate) use error::Failure;
pub use error::{BoxError, Cause, Interrupt, OnError, StreamError};
#[cfg(not(target_family = "wasm"))]
pub use runtime::StreamThread;
pub use runtime::Topology;
pub(crate) use runtime::{NodeInfo, NodeKind};
pub(crate) use staging::{Downstream, Staged, Staging};

/// A stream of records in a [`Topology`]: what the operators are called on.
pub struct Stream<T> {
    pub(crate) topo: Topology,
    pub(crate) node: usize,
    pub(crate) out: Downstream<T>,
}

impl<T> Clone for Stream<T> {
    fn clone(&self) -> Self {
        Stream {
            topo: self.topo.clone(),
            node: self.node,
            out: self.out.clone(),
        }
    }
}

impl<T> fmt::Debug for Stream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stream")
            .field("topology", &self.topo.inner.name)
            .field("node", &self.topo.node_name(self.node))
            .finish()
    }
}

/// A record with another value, the rest kept.
fn with_value<T, U>(rec: &Record<T>, value: U) -> Record<U> {
    Record {
        partition: rec.partition,
        offset: rec.offset,
        timestamp: rec.timestamp,
        key: rec.key.clone(),
        headers: rec.headers.clone(),
        value,
    }
}

impl<T: 'static> Stream<T> {
    /// A new node, fed with every record of `from`, as a stream.
    pub(crate) fn forwarded(
        topo: &Topology,
        from: &Downstream<T>,
        prefix: &str,
        op: &'static str,
        parents: Vec<usize>,
    ) -> Self {
        let node = topo.add_node(prefix, NodeKind::Processor, op, parents);
        let out = Downstream::new();
        from.forward(&out);
        Stream {
            topo: topo.clone(),
            node,
            out,
        }
    }
}

impl<T: Clone + Send + Sync + 'static> Stream<T> {
    /// The topology this stream belongs to.
    pub fn topology(&self) -> &Topology {
        &self.topo
    }

    /// Names the processor that produces this stream (for `describe` and errors).
    #[must_use]
    pub fn named(self, name: &str) -> Self {
        self.topo
            .with_node(self.node, |n| n.name = name.to_string());
        self
    }

    /// A new node fed by this one; `f` gets each record and the new node's output.
    fn derive<U: Send + Sync + 'static>(
        &self,
        prefix: &str,
        op: &'static str,
        mut f: impl FnMut(&mut Staging, usize, &Record<T>, &Downstream<U>) -> Result<(), Failure>
            + Send
            + 'static,
    ) -> Stream<U> {
        let node = self
            .topo
            .add_node(prefix, NodeKind::Processor, op, vec![self.node]);
        let out = Downstream::new();
        let down = out.clone();
        self.out
            .add(Box::new(move |ctx, rec| f(ctx, node, rec, &down)));
        Stream {
            topo: self.topo.clone(),
            node,
            out,
        }
    }

    /// Keeps the records for which `pred` is true.
    #[must_use]
    pub fn filter(&self, mut pred: impl FnMut(&Record<T>) -> bool + Send + 'static) -> Stream<T> {
        self.try_filter(move |r| Ok(pred(r)))
    }

    /// [`Stream::filter`] with a fallible predicate.
    #[must_use]
    pub fn try_filter(
        &self,
        mut pred: impl FnMut(&Record<T>) -> Result<bool, BoxError> + Send + 'static,
    ) -> Stream<T> {
        self.derive("KSTREAM-FILTER", "filter", move |ctx, node, rec, out| {
            if ctx.call(node, || pred(rec))? {
                out.emit(ctx, rec)?;
            }
            Ok(())
        })
    }

    /// A new value for each record (key, timestamp and headers kept).
    #[must_use]
    pub fn map<U: Clone + Send + Sync + 'static>(
        &self,
        mut f: impl FnMut(&Record<T>) -> U + Send + 'static,
    ) -> Stream<U> {
        self.try_map(move |r| Ok(f(r)))
    }

    /// [`Stream::map`] with a fallible callback.
    #[must_use]
    pub fn try_map<U: Clone + Send + Sync + 'static>(
        &self,
        mut f: impl FnMut(&Record<T>) -> Result<U, BoxError> + Send + 'static,
    ) -> Stream<U> {
        self.derive("KSTREAM-MAPVALUES", "map", move |ctx, node, rec, out| {
            let v = ctx.call(node, || f(rec))?;
            out.emit(ctx, &with_value(rec, v))
        })
    }

    /// Zero or more values for each record, each a record with the same key.
    #[must_use]
    pub fn flat_map<U: Clone + Send + Sync + 'static, I: IntoIterator<Item = U>>(
        &self,
        mut f: impl FnMut(&Record<T>) -> I + Send + 'static,
    ) -> Stream<U> {
        self.try_flat_map(move |r| Ok(f(r).into_iter().collect()))
    }

    /// [`Stream::flat_map`] with a fallible callback.
    #[must_use]
    pub fn try_flat_map<U: Clone + Send + Sync + 'static>(
        &self,
        mut f: impl FnMut(&Record<T>) -> Result<Vec<U>, BoxError> + Send + 'static,
    ) -> Stream<U> {
        self.derive(
            "KSTREAM-FLATMAPVALUES",
            "flat_map",
            move |ctx, node, rec, out| {
                for v in ctx.call(node, || f(rec))? {
                    out.emit(ctx, &with_value(rec, v))?;
                }
                Ok(())
            },
        )
    }

    /// A new key for each record (Kafka's `selectKey`).
    #[must_use]
    pub fn key_by<K: Into<Key>>(
        &self,
        mut f: impl FnMut(&Record<T>) -> K + Send + 'static,
    ) -> Stream<T> {
        self.try_key_by(move |r| Ok(Some(f(r).into())))
    }

    /// [`Stream::key_by`] with a fallible callback; `None` removes the key.
    #[must_use]
    pub fn try_key_by(
        &self,
        mut f: impl FnMut(&Record<T>) -> Result<Option<Key>, BoxError> + Send + 'static,
    ) -> Stream<T> {
        self.derive(
            "KSTREAM-KEY-SELECT",
            "key_by",
            move |ctx, node, rec, out| {
                let key = ctx.call(node, || f(rec))?;
                let mut r = rec.clone();
                r.key = key;
                out.emit(ctx, &r)
            },
        )
    }

    /// Splits the stream: each record goes to the first branch whose predicate is
    /// true (records matching none are dropped), as Kafka's `branch`.
    #[must_use]
    pub fn branch(&self, preds: Vec<Box<dyn FnMut(&Record<T>) -> bool + Send>>) -> Vec<Stream<T>> {
        self.try_branch(
            preds
                .into_iter()
                .map(|mut p| {
                    Box::new(move |r: &Record<T>| Ok(p(r)))
                        as Box<dyn FnMut(&Record<T>) -> Result<bool, BoxError> + Send>
                })
                .collect(),
        )
    }

    /// [`Stream::branch`] with fallible predicates.
    #[must_use]
    pub fn try_branch(
        &self,
        mut preds: Vec<Box<dyn FnMut(&Record<T>) -> Result<bool, BoxError> + Send>>,
    ) -> Vec<Stream<T>> {
        let node = self.topo.add_node(
            "KSTREAM-BRANCH",
            NodeKind::Processor,
            "branch",
            vec![self.node],
        );
        let outs: Vec<(usize, Downstream<T>)> = (0..preds.len())
            .map(|_| {
                let child = self.topo.add_node(
                    "KSTREAM-BRANCHCHILD",
                    NodeKind::Processor,
                    "branch",
                    vec![node],
                );
                (child, Downstream::new())
            })
            .collect();
        let downs: Vec<Downstream<T>> = outs.iter().map(|(_, o)| o.clone()).collect();
        self.out.add(Box::new(move |ctx, rec| {
            for (pred, out) in preds.iter_mut().zip(&downs) {
                if ctx.call(node, || pred(rec))? {
                    return out.emit(ctx, rec);
                }
            }
            Ok(())
        }));
        outs.into_iter()
            .map(|(node, out)| Stream {
                topo: self.topo.clone(),
                node,
                out,
            })
            .collect()
    }

    /// One stream of the records of both (in the order they are processed).
    ///
    /// # Errors
    ///
    /// `ConfigError` when `other` belongs to another topology.
    pub fn merge(&self, other: &Stream<T>) -> Result<Stream<T>, Error> {
        if !Arc::ptr_eq(&self.topo.inner, &other.topo.inner) {
            return Err(Error::ConfigError {
                name: self.topo.inner.name.clone(),
                reason: "merge needs two streams of the same topology".into(),
            });
        }
        let node = self.topo.add_node(
            "KSTREAM-MERGE",
            NodeKind::Processor,
            "merge",
            vec![self.node, other.node],
        );
        let out = Downstream::new();
        for s in [self, other] {
            s.out.forward(&out);
        }
        Ok(Stream {
            topo: self.topo.clone(),
            node,
            out,
        })
    }

    /// Calls `f` on each record and passes it on.
    #[must_use]
    pub fn peek(&self, mut f: impl FnMut(&Record<T>) + Send + 'static) -> Stream<T> {
        self.try_peek(move |r| {
            f(r);
            Ok(())
        })
    }

    /// [`Stream::peek`] with a fallible callback.
    #[must_use]
    pub fn try_peek(
        &self,
        mut f: impl FnMut(&Record<T>) -> Result<(), BoxError> + Send + 'static,
    ) -> Stream<T> {
        self.derive("KSTREAM-PEEK", "peek", move |ctx, node, rec, out| {
            ctx.call(node, || f(rec))?;
            out.emit(ctx, rec)
        })
    }

    /// Calls `f` on each record (a terminal processor).
    pub fn for_each(&self, mut f: impl FnMut(&Record<T>) + Send + 'static) {
        self.try_for_each(move |r| {
            f(r);
            Ok(())
        });
    }

    /// [`Stream::for_each`] with a fallible callback.
    pub fn try_for_each(
        &self,
        mut f: impl FnMut(&Record<T>) -> Result<(), BoxError> + Send + 'static,
    ) {
        let node = self.topo.add_node(
            "KSTREAM-FOREACH",
            NodeKind::Processor,
            "for_each",
            vec![self.node],
        );
        self.out
            .add(Box::new(move |ctx, rec| ctx.call(node, || f(rec))));
    }

    /// Publishes each record to `topic` (key, headers and timestamp kept; the
    /// partition follows the key, or round-robin), when the record has gone through
    /// the whole graph. The topic should not wait for room (`Block`): a full topic
    /// fails the record (see the [module docs](self)).
    ///
    /// # Errors
    ///
    /// `ConfigError` when `topic` is read by this stream, or feeds (through this
    /// topology) a topic it reads: the topology would process its own output for
    /// ever.
    pub fn to(&self, topic: &Topic<T>) -> Result<(), Error> {
        if let Some(through) = self.topo.loop_through(self.node, topic.name()) {
            return Err(Error::ConfigError {
                name: self.topo.name().to_string(),
                reason: if through == topic.name() {
                    format!("this stream reads {through:?}: writing its records back to it would loop for ever")
                } else {
                    format!(
                        "writing to {:?} feeds {through:?}, which this stream reads: the records would loop for ever",
                        topic.name()
                    )
                },
            });
        }
        let node = self
            .topo
            .add_node("KSTREAM-SINK", NodeKind::Sink, "to", vec![self.node]);
        self.topo
            .with_node(node, |n| n.topics.push(topic.name().to_string()));
        let topic = topic.clone();
        self.out.add(Box::new(move |ctx, rec| {
            let topic = topic.clone();
            let mut msg = Message::new(rec.value.clone())
                .headers(rec.headers.clone())
                .timestamp(rec.timestamp);
            msg.key = rec.key.clone();
            ctx.outputs.push((
                node,
                Box::new(move || {
                    topic
                        .try_publish_message(msg)
                        .map(|_| ())
                        .map_err(|e| Cause::Output {
                            target: topic.name().to_string(),
                            reason: e.to_string(),
                        })
                }),
            ));
            Ok(())
        }));
        Ok(())
    }

    /// Publishes each record to the topic `f` names for it (Kafka Streams'
    /// `to(TopicNameExtractor)`): routing decided by the application, record by
    /// record, where an enterprise service bus would route in the middleware.
    /// Key, headers and timestamp are kept, as with [`Stream::to`], and the
    /// publish takes place when the record has gone through the whole graph.
    ///
    /// `routes` says which topics may be written: [`Routes::existing`] only
    /// topics that exist, [`Routes::create`] also new ones, made on first use
    /// from its template config (and the bus's naming rule). A record routed
    /// where it may not go fails (see the [module docs](self)) with a
    /// [`Cause::Output`] naming the topic and why: no such topic, a name that is
    /// not valid or that the naming rule refuses, a topic of that name holding
    /// another value type (or a queue), or a topic this stream reads (it would
    /// loop). An existing topic is written as it is, whatever the template.
    /// A failing `f` fails its record the same way. A topic created for a
    /// record stays when that record fails.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::streams::Routes;
    /// use ringlet::{Bus, Start, TopicConfig};
    /// let bus = Bus::new();
    /// let orders = bus.topic::<(String, u32)>("orders", TopicConfig::default())?;
    /// orders.stream()?.route(|r| format!("orders.{}", r.value.0), Routes::create(TopicConfig::default()));
    /// orders.publish(("eu".into(), 1)).unwrap();
    /// orders.publish(("us".into(), 2)).unwrap();
    /// bus.run_until_idle().unwrap();
    /// let mut eu = bus.get_topic::<(String, u32)>("orders.eu")?.subscribe(Start::Earliest)?;
    /// assert_eq!(eu.try_recv().unwrap().value.1, 1);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn route(&self, mut f: impl FnMut(&Record<T>) -> String + Send + 'static, routes: Routes) {
        self.try_route(move |r| Ok(f(r)), routes);
    }

    /// [`Stream::route`] with a fallible route function.
    pub fn try_route(
        &self,
        mut f: impl FnMut(&Record<T>) -> Result<String, BoxError> + Send + 'static,
        routes: Routes,
    ) {
        let node = self
            .topo
            .add_node("KSTREAM-ROUTE", NodeKind::Sink, "route", vec![self.node]);
        // Weak: the graph holds this processor.
        let topo = Arc::downgrade(&self.topo.inner);
        let mut known: std::collections::HashMap<String, Topic<T>> = Default::default();
        self.out.add(Box::new(move |ctx, rec| {
            let name = ctx.call(node, || f(rec))?;
            let topic = match known.get(&name) {
                Some(t) => t.clone(),
                None => {
                    let fail = |reason: String| Cause::Output {
                        target: name.clone(),
                        reason,
                    };
                    let topo = Topology {
                        inner: topo.upgrade().ok_or_else(|| ctx.fail(node, fail("the topology is gone".into())))?,
                    };
                    let opened = topo
                        .bus()
                        .map_err(|e| e.to_string())
                        .and_then(|bus| routes.open::<T>(&bus, &name))
                        .map_err(|e| ctx.fail(node, fail(e)))?;
                    if let Some(through) = topo.loop_through(node, &name) {
                        let why = if through == name {
                            "this stream reads it: routing its records back to it would loop for ever".to_string()
                        } else {
                            format!("it feeds {through:?}, which this stream reads: the records would loop for ever")
                        };
                        return Err(ctx.fail(node, fail(why)));
                    }
                    topo.with_node(node, |n| n.topics.push(name.clone()));
                    known.insert(name.clone(), opened.clone());
                    opened
                }
            };
            let mut msg = Message::new(rec.value.clone())
                .headers(rec.headers.clone())
                .timestamp(rec.timestamp);
            msg.key = rec.key.clone();
            ctx.outputs.push((
                node,
                Box::new(move || {
                    topic
                        .try_publish_message(msg)
                        .map(|_| ())
                        .map_err(|e| Cause::Output {
                            target: topic.name().to_string(),
                            reason: e.to_string(),
                        })
                }),
            ));
            Ok(())
        }));
    }

    /// Groups the records by their key, for an aggregation. Records without a key
    /// are dropped by the aggregations (as in Kafka).
    #[must_use]
    pub fn group_by_key(&self) -> GroupedStream<T> {
        GroupedStream::new(self.clone())
    }

    /// Joins each record with `table`'s value for its key (an inner join: records
    /// whose key the table lacks are dropped).
    #[must_use]
    pub fn join<V: Clone + Send + Sync + 'static, U: Clone + Send + Sync + 'static>(
        &self,
        table: &Table<V>,
        mut f: impl FnMut(&Record<T>, &V) -> U + Send + 'static,
    ) -> Stream<U> {
        self.try_join(table, move |r, v| Ok(v.map(|v| f(r, v))))
    }

    /// Joins each record with `table`'s value for its key, if any (a left join).
    #[must_use]
    pub fn left_join<V: Clone + Send + Sync + 'static, U: Clone + Send + Sync + 'static>(
        &self,
        table: &Table<V>,
        mut f: impl FnMut(&Record<T>, Option<&V>) -> U + Send + 'static,
    ) -> Stream<U> {
        self.try_join(table, move |r, v| Ok(Some(f(r, v))))
    }

    /// The general stream–table join: `f` gets the table's value (if any) and
    /// returns the joined value, or `None` to drop the record.
    #[must_use]
    pub fn try_join<V: Clone + Send + Sync + 'static, U: Clone + Send + Sync + 'static>(
        &self,
        table: &Table<V>,
        mut f: impl FnMut(&Record<T>, Option<&V>) -> Result<Option<U>, BoxError> + Send + 'static,
    ) -> Stream<U> {
        let t = table.inner.clone();
        let s = self.derive("KSTREAM-JOIN", "join", move |ctx, node, rec, out| {
            let v = rec.key.as_ref().and_then(|k| t.lookup(k.as_bytes()));
            if let Some(u) = ctx.call(node, || f(rec, v.as_ref()))? {
                out.emit(ctx, &with_value(rec, u))?;
            }
            Ok(())
        });
        let store = table.name().to_string();
        self.topo.with_node(s.node, |n| n.stores.push(store));
        s
    }
}

impl<T: Clone + Send + Sync + 'static> Topic<T> {
    /// A stream of this topic in the bus's default topology ([`Bus::topology`]),
    /// from the earliest offsets. See [`streams`](crate::streams).
    ///
    /// # Errors
    ///
    /// `Closed` when the bus is gone; the consumer group's errors.
    pub fn stream(&self) -> Result<Stream<T>, Error> {
        Bus::owning(self)?.topology().stream(self)
    }
}

/// Which topics [`Stream::route`] may write to.
#[derive(Debug, Clone, Default)]
pub struct Routes {
    template: Option<crate::TopicConfig>,
}

impl Routes {
    /// Only topics that exist: a record routed to a missing one fails.
    pub fn existing() -> Self {
        Routes { template: None }
    }

    /// Existing topics, and new ones created on first use with `template`.
    pub fn create(template: crate::TopicConfig) -> Self {
        Routes {
            template: Some(template),
        }
    }

    /// The template new topics are made with, if any.
    pub fn template(&self) -> Option<&crate::TopicConfig> {
        self.template.as_ref()
    }

    /// The topic `name`, opened (or made from the template).
    fn open<T: Clone + Send + Sync + 'static>(
        &self,
        bus: &Bus,
        name: &str,
    ) -> Result<Topic<T>, String> {
        match (bus.get_topic::<T>(name), &self.template) {
            (Err(Error::NotFound { .. }), Some(template)) => {
                bus.topic::<T>(name, template.clone()).map_err(|e| e.to_string())
            }
            (Err(Error::NotFound { .. }), None) => Err(
                "there is no such topic, and these routes create none: create it first, or route with Routes::create(config)"
                    .into(),
            ),
            (other, _) => other.map_err(|e| e.to_string()),
        }
    }
}
