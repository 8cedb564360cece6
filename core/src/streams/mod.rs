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
//! the tables.
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
mod table;
mod window;

use std::any::Any;
use std::collections::HashSet;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::Mutex;

use crate::bus::{Bus, BusInner};
use crate::record::{Key, Message, Record};
use crate::{Error, GroupConfig, Member, Start, Topic, TryRecvError};

pub use describe::{Description, NodeDescription};
pub use table::{GroupedStream, Table, WindowedGrouped, WindowedTable, DEFAULT_TABLE_CAPACITY};
pub use window::{Window, Windowed, Windows};

/// The error a `try_` callback returns.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Records a source reads per step, at most.
const STEP_BATCH: usize = 256;

/// Why a record failed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Cause {
    /// A callback returned this error.
    Callback(Arc<dyn std::error::Error + Send + Sync + 'static>),
    /// A callback panicked with this message.
    Panic(String),
    /// An output could not be written: `target` is the topic or table.
    Output {
        /// The topic or table.
        target: String,
        /// Why (`full`, `closed`, …).
        reason: String,
    },
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Callback(e) => write!(f, "{e}"),
            Cause::Panic(m) => write!(f, "panicked: {m}"),
            Cause::Output { target, reason } => write!(f, "cannot write to {target:?}: {reason}"),
        }
    }
}

/// A record that failed in a topology: where, on which record, and why.
#[derive(Debug, Clone)]
pub struct StreamError {
    /// The topology's name.
    pub topology: String,
    /// The processor whose callback (or output) failed.
    pub node: String,
    /// The source topic of the record.
    pub topic: String,
    /// The record's partition in the source topic.
    pub partition: u32,
    /// The record's offset in the source topic.
    pub offset: u64,
    /// The record's key, as read from the source.
    pub key: Option<Key>,
    /// Why it failed.
    pub cause: Cause,
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} failed on record {}[{}]@{}",
            self.node, self.topic, self.partition, self.offset
        )?;
        if let Some(k) = &self.key {
            write!(f, " (key {k:?})")?;
        }
        write!(f, ": {}", self.cause)
    }
}

impl std::error::Error for StreamError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.cause {
            Cause::Callback(e) => Some(&**e as &(dyn std::error::Error + 'static)),
            _ => None,
        }
    }
}

/// What a topology does with a record whose processing failed. See the
/// [module docs](self).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OnError {
    /// Stop at the record; it is read again by the next step.
    #[default]
    Stop,
    /// Skip the record, keep the error in [`Topology::errors`], go on.
    Skip,
}

/// A failure inside the graph: the node and the cause.
pub(crate) struct Failure {
    node: usize,
    cause: Cause,
}

/// Something applied when a record has gone through the whole graph (a table).
pub(crate) trait Staged: Send + Sync {
    /// Applies what was staged.
    fn commit(&self) -> Result<(), Cause>;
    /// Forgets what was staged.
    fn abort(&self);
}

type Output = Box<dyn FnOnce() -> Result<(), Cause> + Send>;

/// The record being processed: what it staged.
pub(crate) struct Ctx {
    node: usize,
    staged: Vec<Arc<dyn Staged>>,
    outputs: Vec<(usize, Output)>,
}

impl Ctx {
    fn new() -> Self {
        Ctx {
            node: 0,
            staged: Vec::new(),
            outputs: Vec::new(),
        }
    }

    /// Calls `f` as node `node`, turning its error into a failure of that node.
    #[inline]
    pub(crate) fn call<R>(
        &mut self,
        node: usize,
        f: impl FnOnce() -> Result<R, BoxError>,
    ) -> Result<R, Failure> {
        self.node = node;
        f().map_err(|e| Failure {
            node,
            cause: Cause::Callback(Arc::from(e)),
        })
    }

    pub(crate) fn fail(&self, node: usize, cause: Cause) -> Failure {
        Failure { node, cause }
    }

    /// Stages a table: it is committed or aborted with the record.
    pub(crate) fn stage(&mut self, s: Arc<dyn Staged>) {
        if !self.staged.iter().any(|x| Arc::ptr_eq(x, &s)) {
            self.staged.push(s);
        }
    }

    fn finish(&mut self) -> Result<(), Failure> {
        let outputs = std::mem::take(&mut self.outputs);
        for (node, out) in outputs {
            if let Err(cause) = out() {
                self.abort();
                return Err(Failure { node, cause });
            }
        }
        let staged = std::mem::take(&mut self.staged);
        let mut first = None;
        for s in staged {
            if first.is_none() {
                if let Err(cause) = s.commit() {
                    first = Some(Failure {
                        node: self.node,
                        cause,
                    });
                }
            } else {
                s.abort();
            }
        }
        first.map_or(Ok(()), Err)
    }

    fn abort(&mut self) {
        self.outputs.clear();
        for s in self.staged.drain(..) {
            s.abort();
        }
    }
}

type Op<T> = Box<dyn FnMut(&mut Ctx, &Record<T>) -> Result<(), Failure> + Send>;

/// The processors fed by one node.
pub(crate) struct Out<T>(Arc<OutInner<T>>);

pub(crate) struct OutInner<T> {
    ops: Mutex<Vec<Op<T>>>,
    /// Processors added while `ops` was in use (by a callback of this node's
    /// downstream, or another thread): they join before the next record.
    late: Mutex<Vec<Op<T>>>,
    has_late: AtomicBool,
}

impl<T> Clone for Out<T> {
    fn clone(&self) -> Self {
        Out(self.0.clone())
    }
}

impl<T> Out<T> {
    fn new() -> Self {
        Out(Arc::new(OutInner {
            ops: Mutex::new(Vec::new()),
            late: Mutex::new(Vec::new()),
            has_late: AtomicBool::new(false),
        }))
    }

    pub(crate) fn add(&self, op: Op<T>) {
        match self.0.ops.try_lock() {
            Some(mut ops) => ops.push(op),
            None => {
                self.0.late.lock().push(op);
                self.0.has_late.store(true, Ordering::Release);
            }
        }
    }

    /// Makes `down` fed with every record of this node.
    pub(crate) fn forward(&self, down: &Out<T>)
    where
        T: 'static,
    {
        let down = down.clone();
        self.add(Box::new(move |ctx, rec| down.emit(ctx, rec)));
    }

    /// Hands `rec` to every processor fed by this node.
    #[inline]
    pub(crate) fn emit(&self, ctx: &mut Ctx, rec: &Record<T>) -> Result<(), Failure> {
        let mut ops = self.0.ops.lock();
        // A plain load first: the swap (a locked instruction) only when some are late.
        if self.0.has_late.load(Ordering::Acquire) && self.0.has_late.swap(false, Ordering::AcqRel)
        {
            ops.append(&mut self.0.late.lock());
        }
        for op in ops.iter_mut() {
            op(ctx, rec)?;
        }
        Ok(())
    }
}

/// What kind of node a processor is, for [`Topology::describe`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Source,
    Processor,
    Sink,
}

#[derive(Debug, Clone)]
pub(crate) struct NodeInfo {
    pub(crate) name: String,
    pub(crate) kind: Kind,
    pub(crate) op: &'static str,
    pub(crate) topics: Vec<String>,
    pub(crate) stores: Vec<String>,
    pub(crate) detail: Option<String>,
    pub(crate) parents: Vec<usize>,
}

/// One source of a topology: a topic read through the topology's consumer group.
trait Pump: Send {
    /// Processes up to `max` records; returns how many were read.
    fn pump(
        &mut self,
        max: usize,
        on_error: OnError,
        errors: &mut Vec<StreamError>,
        closed: &AtomicBool,
        topology: &str,
        names: &dyn Fn(usize) -> String,
    ) -> Result<usize, StreamError>;
    #[cfg(not(target_family = "wasm"))]
    fn register(&self, id: u64, waker: &std::task::Waker);
    #[cfg(not(target_family = "wasm"))]
    fn unregister(&self, id: u64);
}

struct Source<T> {
    topic: Topic<T>,
    member: Member<T>,
    out: Out<T>,
    node: usize,
    done: Vec<(u32, u64)>,
}

fn panic_message(p: &(dyn Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "a non-string panic payload".into()
    }
}

impl<T: Clone + Send + Sync + 'static> Source<T> {
    fn process(&mut self, ctx: &mut Ctx, rec: &Record<T>) -> Result<(), Failure> {
        ctx.node = self.node;
        let out = &self.out;
        let r = catch_unwind(AssertUnwindSafe(|| out.emit(ctx, rec)));
        let r = match r {
            Ok(r) => r,
            Err(p) => Err(Failure {
                node: ctx.node,
                cause: Cause::Panic(panic_message(&*p)),
            }),
        };
        match r {
            Ok(()) => ctx.finish(),
            Err(f) => {
                ctx.abort();
                Err(f)
            }
        }
    }

    fn mark_done(&mut self, partition: u32, next: u64) {
        match self.done.iter_mut().find(|(p, _)| *p == partition) {
            Some((_, o)) => *o = next,
            None => self.done.push((partition, next)),
        }
    }
}

impl<T: Clone + Send + Sync + 'static> Pump for Source<T> {
    fn pump(
        &mut self,
        max: usize,
        on_error: OnError,
        errors: &mut Vec<StreamError>,
        closed: &AtomicBool,
        topology: &str,
        names: &dyn Fn(usize) -> String,
    ) -> Result<usize, StreamError> {
        let mut ctx = Ctx::new();
        let mut n = 0;
        let result = loop {
            if n == max || closed.load(Ordering::Acquire) {
                break Ok(n);
            }
            let rec = match self.member.try_recv() {
                Ok(rec) => rec,
                Err(TryRecvError::Lagged { .. }) => continue,
                Err(TryRecvError::Empty | TryRecvError::Closed) => break Ok(n),
            };
            n += 1;
            let (partition, offset) = (rec.partition, rec.offset);
            match self.process(&mut ctx, &rec) {
                Ok(()) => self.mark_done(partition, offset + 1),
                Err(f) => {
                    let e = StreamError {
                        topology: topology.to_string(),
                        node: names(f.node),
                        topic: self.topic.name().to_string(),
                        partition,
                        offset,
                        key: rec.key.clone(),
                        cause: f.cause,
                    };
                    match on_error {
                        OnError::Stop => {
                            // Read it again next time: the pipeline does not skip it.
                            let _ = self.member.seek(partition, offset);
                            break Err(e);
                        }
                        OnError::Skip => {
                            self.mark_done(partition, offset + 1);
                            errors.push(e);
                        }
                    }
                }
            }
        };
        if !self.done.is_empty() {
            // NotOwner: the partition moved to another instance, which reads the
            // uncommitted records again (at-least-once).
            let _ = self.member.commit_offsets(&self.done);
            self.done.clear();
        }
        result
    }

    #[cfg(not(target_family = "wasm"))]
    fn register(&self, id: u64, waker: &std::task::Waker) {
        self.topic.inner.data.register(id, waker);
    }

    #[cfg(not(target_family = "wasm"))]
    fn unregister(&self, id: u64) {
        self.topic.inner.data.unregister(id);
    }
}

struct Runner {
    sources: Vec<Box<dyn Pump>>,
}

pub(crate) struct TopoInner {
    name: String,
    bus: Weak<BusInner>,
    graph: Mutex<Vec<NodeInfo>>,
    runner: Mutex<Runner>,
    /// Errors of skipped records (not under `runner`: a callback may read them).
    errors: Mutex<Vec<StreamError>>,
    on_error: Mutex<OnError>,
    closed: AtomicBool,
    /// Source node per topic name (one source per topic).
    sources: Mutex<Vec<(String, Box<dyn Any + Send>)>>,
}

/// A graph of stream processors and the tables they keep, run by
/// [`step`](Topology::step), [`run_until_idle`](Topology::run_until_idle) or
/// [`spawn`](Topology::spawn). Cheap to clone. See the [module docs](self).
///
/// # Examples
///
/// ```
/// use ringlet::{Bus, Message, TopicConfig};
/// let bus = Bus::new();
/// let clicks = bus.topic::<String>("clicks", TopicConfig::default())?;
/// let pages = clicks.stream()?.filter(|r| !r.value.is_empty()).group_by_key().count()?;
/// for (user, page) in [("ada", "/"), ("bob", "/a"), ("ada", "/b")] {
///     clicks.publish_message(Message::new(page.to_string()).key(user)).unwrap();
/// }
/// bus.run_until_idle()?;
/// assert_eq!((pages.get("ada"), pages.get("bob")), (Some(2), Some(1)));
/// println!("{}", bus.topology().describe());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Topology {
    pub(crate) inner: Arc<TopoInner>,
}

impl fmt::Debug for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Topology")
            .field("name", &self.inner.name)
            .field("nodes", &self.inner.graph.lock().len())
            .finish()
    }
}

thread_local! {
    /// Topologies this thread is stepping (a callback stepping its own topology
    /// again does nothing).
    static RUNNING: std::cell::RefCell<HashSet<usize>> = std::cell::RefCell::new(HashSet::new());
}

impl Topology {
    pub(crate) fn new(bus: &Bus, name: &str) -> Result<Self, Error> {
        crate::name::validate(name, false)?;
        Ok(Topology {
            inner: Arc::new(TopoInner {
                name: name.to_string(),
                bus: Arc::downgrade(&bus.inner),
                graph: Mutex::new(Vec::new()),
                runner: Mutex::new(Runner {
                    sources: Vec::new(),
                }),
                errors: Mutex::new(Vec::new()),
                on_error: Mutex::new(OnError::Stop),
                closed: AtomicBool::new(false),
                sources: Mutex::new(Vec::new()),
            }),
        })
    }

    /// Whether [`Topology::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::Acquire)
    }

    /// The topology's name (its consumer groups' name, Kafka's `application.id`).
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The bus the topology belongs to.
    ///
    /// # Errors
    ///
    /// `Closed` when the bus is gone.
    pub fn bus(&self) -> Result<Bus, Error> {
        self.inner
            .bus
            .upgrade()
            .map(|inner| Bus { inner })
            .ok_or(Error::Closed)
    }

    /// Whether this thread is inside [`Topology::step`] of this topology (in one
    /// of its callbacks).
    fn in_step(&self) -> bool {
        RUNNING.with(|r| r.borrow().contains(&self.id()))
    }

    /// This topology's identity in `RUNNING`.
    fn id(&self) -> usize {
        Arc::as_ptr(&self.inner) as usize
    }

    pub(crate) fn add_node(
        &self,
        prefix: &str,
        kind: Kind,
        op: &'static str,
        parents: Vec<usize>,
    ) -> usize {
        let mut g = self.inner.graph.lock();
        let id = g.len();
        g.push(NodeInfo {
            name: format!("{prefix}-{id:010}"),
            kind,
            op,
            topics: Vec::new(),
            stores: Vec::new(),
            detail: None,
            parents,
        });
        id
    }

    pub(crate) fn with_node(&self, id: usize, f: impl FnOnce(&mut NodeInfo)) {
        if let Some(n) = self.inner.graph.lock().get_mut(id) {
            f(n);
        }
    }

    fn node_name(&self, id: usize) -> String {
        self.inner
            .graph
            .lock()
            .get(id)
            .map_or_else(|| format!("node {id}"), |n| n.name.clone())
    }

    /// A stream of `topic` in this topology, from the earliest offsets (or the
    /// group's committed offsets, when a topology of this name ran before). One
    /// source per topic: streaming a topic twice gives the same source.
    ///
    /// # Errors
    ///
    /// `Closed` once the topology is closed; `ConfigError` from inside one of the
    /// topology's own callbacks (a running topology gains no sources); the
    /// consumer group's errors.
    pub fn stream<T: Clone + Send + Sync + 'static>(
        &self,
        topic: &Topic<T>,
    ) -> Result<Stream<T>, Error> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        if self.in_step() {
            return Err(Error::ConfigError {
                name: self.inner.name.clone(),
                reason: "a topology cannot gain a source from inside its own callbacks".into(),
            });
        }
        let mut sources = self.inner.sources.lock();
        if let Some((_, s)) = sources.iter().find(|(n, _)| n == topic.name()) {
            return match s.downcast_ref::<(usize, Out<T>)>() {
                Some((node, out)) => Ok(Stream {
                    topo: self.clone(),
                    node: *node,
                    out: out.clone(),
                }),
                None => Err(Error::TypeMismatch {
                    name: topic.name().to_string(),
                    expected: std::any::type_name::<T>().to_string(),
                    found: "another value type".into(),
                }),
            };
        }
        let group = topic.group_with(
            &self.inner.name,
            GroupConfig::default()
                .start(Start::Earliest)
                .session_timeout(Duration::from_secs(100 * 365 * 24 * 3600)),
        )?;
        let member = group.join()?;
        let node = self.add_node("KSTREAM-SOURCE", Kind::Source, "source", Vec::new());
        self.with_node(node, |n| n.topics.push(topic.name().to_string()));
        let out = Out::new();
        sources.push((topic.name().to_string(), Box::new((node, out.clone()))));
        self.inner.runner.lock().sources.push(Box::new(Source {
            topic: topic.clone(),
            member,
            out: out.clone(),
            node,
            done: Vec::new(),
        }));
        Ok(Stream {
            topo: self.clone(),
            node,
            out,
        })
    }

    /// Sets what happens when a record fails (default [`OnError::Stop`]).
    pub fn on_error(&self, policy: OnError) {
        *self.inner.on_error.lock() = policy;
    }

    /// Errors of records skipped under [`OnError::Skip`], oldest first (the last
    /// 100).
    pub fn errors(&self) -> Vec<StreamError> {
        self.inner.errors.lock().clone()
    }

    /// Processes what is pending: up to a batch of records from each source, in
    /// the order the sources were added. Returns how many records were read.
    /// Called from inside one of its own callbacks, it does nothing (returns 0).
    ///
    /// # Errors
    ///
    /// The first failed record under [`OnError::Stop`] (records before it are
    /// processed and committed; it is read again by the next step).
    pub fn step(&self) -> Result<usize, StreamError> {
        let id = self.id();
        if RUNNING.with(|r| !r.borrow_mut().insert(id)) {
            return Ok(0);
        }
        struct Done(usize);
        impl Drop for Done {
            fn drop(&mut self) {
                RUNNING.with(|r| r.borrow_mut().remove(&self.0));
            }
        }
        let _done = Done(id);
        let on_error = *self.inner.on_error.lock();
        let mut runner = self.inner.runner.lock();
        let names = |id: usize| self.node_name(id);
        let mut n = 0;
        let mut skipped = Vec::new();
        let mut result = Ok(());
        for s in runner.sources.iter_mut() {
            if self.is_closed() {
                break;
            }
            match s.pump(
                STEP_BATCH,
                on_error,
                &mut skipped,
                &self.inner.closed,
                &self.inner.name,
                &names,
            ) {
                Ok(k) => n += k,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        if self.is_closed() {
            // Closed by one of its own callbacks: the sources leave now.
            runner.sources.clear();
        }
        drop(runner);
        if !skipped.is_empty() {
            let mut errors = self.inner.errors.lock();
            errors.extend(skipped);
            if errors.len() > 100 {
                let extra = errors.len() - 100;
                errors.drain(..extra);
            }
        }
        result.map(|()| n)
    }

    /// Steps until a step reads nothing. Returns how many records were read.
    ///
    /// A topology that writes to a topic it reads keeps going as long as it
    /// produces.
    ///
    /// # Errors
    ///
    /// As [`Topology::step`].
    pub fn run_until_idle(&self) -> Result<usize, StreamError> {
        let mut total = 0;
        loop {
            let n = self.step()?;
            if n == 0 {
                return Ok(total);
            }
            total += n;
        }
    }

    /// Describes the graph: sources, processors, sinks, stores, by sub-topology.
    /// `Display` gives Kafka's text form; see [`Description::to_mermaid`] and
    /// [`Description::to_svg`] for pictures.
    pub fn describe(&self) -> Description {
        Description::new(&self.inner.name, &self.inner.graph.lock())
    }

    /// Closes the topology: its sources leave their consumer groups (committed
    /// offsets stay, so a topology built again with this name resumes there) and
    /// steps do nothing. Tables keep their state and changelogs.
    ///
    /// Called from inside one of its own callbacks, the record being processed
    /// completes (its updates and offset are committed) and the sources leave
    /// when the step ends.
    pub fn close(&self) {
        self.inner.closed.store(true, Ordering::Release);
        if !self.in_step() {
            self.inner.runner.lock().sources.clear();
        }
        self.inner.sources.lock().clear();
        if let Some(bus) = self.inner.bus.upgrade() {
            let me = Arc::as_ptr(&self.inner);
            let slots = bus.extensions.get_or_default::<Topologies>();
            // The handle is dropped after the lock is released.
            let _default = {
                let mut d = slots.default.lock();
                if d.as_ref().is_some_and(|t| Arc::as_ptr(&t.inner) == me) {
                    d.take()
                } else {
                    None
                }
            };
        }
    }

    /// Runs the topology on a thread of its own until [`StreamThread::stop`]:
    /// steps while there is something to read, and sleeps (woken by a publish to a
    /// source topic) while there is not. Native builds only.
    ///
    /// # Errors
    ///
    /// The thread could not be started.
    #[cfg(not(target_family = "wasm"))]
    pub fn spawn(&self) -> std::io::Result<StreamThread> {
        let stop = Arc::new(AtomicBool::new(false));
        let topo = self.clone();
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name(format!("ringlet-streams-{}", self.inner.name))
            .spawn(move || topo.run_thread(&flag))?;
        Ok(StreamThread {
            stop,
            handle: Some(handle),
        })
    }

    #[cfg(not(target_family = "wasm"))]
    fn run_thread(&self, stop: &AtomicBool) -> Result<(), StreamError> {
        let id = crate::clock::waiter_id();
        let waker = crate::wait::thread_waker();
        loop {
            if stop.load(Ordering::SeqCst) {
                return Ok(());
            }
            if self.step()? > 0 {
                continue;
            }
            {
                let runner = self.inner.runner.lock();
                for s in &runner.sources {
                    s.register(id, &waker);
                }
            }
            // Registered before looking again: a publish from now on wakes us.
            let n = self.step();
            if matches!(n, Ok(0)) && !stop.load(Ordering::SeqCst) {
                std::thread::park();
            }
            {
                let runner = self.inner.runner.lock();
                for s in &runner.sources {
                    s.unregister(id);
                }
            }
            n?;
        }
    }
}

/// A topology running on its own thread ([`Topology::spawn`]). Dropping it stops
/// the thread and waits for it.
#[cfg(not(target_family = "wasm"))]
#[derive(Debug)]
pub struct StreamThread {
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<Result<(), StreamError>>>,
}

#[cfg(not(target_family = "wasm"))]
impl StreamThread {
    /// Stops the thread after the record it is processing (what it processed is
    /// committed) and waits for it.
    ///
    /// # Errors
    ///
    /// The error that stopped the thread earlier, under [`OnError::Stop`].
    pub fn stop(mut self) -> Result<(), StreamError> {
        self.halt()
    }

    /// Whether the thread has ended (stopped by an error).
    pub fn is_finished(&self) -> bool {
        self.handle.as_ref().is_none_or(|h| h.is_finished())
    }

    fn halt(&mut self) -> Result<(), StreamError> {
        self.stop.store(true, Ordering::SeqCst);
        let Some(h) = self.handle.take() else {
            return Ok(());
        };
        h.thread().unpark();
        match h.join() {
            Ok(r) => r,
            Err(p) => std::panic::resume_unwind(p),
        }
    }
}

#[cfg(not(target_family = "wasm"))]
impl Drop for StreamThread {
    fn drop(&mut self) {
        let _ = self.halt();
    }
}

/// A stream of records in a [`Topology`]: what the operators are called on.
pub struct Stream<T> {
    pub(crate) topo: Topology,
    pub(crate) node: usize,
    pub(crate) out: Out<T>,
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
        from: &Out<T>,
        prefix: &str,
        op: &'static str,
        parents: Vec<usize>,
    ) -> Self {
        let node = topo.add_node(prefix, Kind::Processor, op, parents);
        let out = Out::new();
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
        mut f: impl FnMut(&mut Ctx, usize, &Record<T>, &Out<U>) -> Result<(), Failure> + Send + 'static,
    ) -> Stream<U> {
        let node = self
            .topo
            .add_node(prefix, Kind::Processor, op, vec![self.node]);
        let out = Out::new();
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
        let node = self
            .topo
            .add_node("KSTREAM-BRANCH", Kind::Processor, "branch", vec![self.node]);
        let outs: Vec<(usize, Out<T>)> = (0..preds.len())
            .map(|_| {
                let child = self.topo.add_node(
                    "KSTREAM-BRANCHCHILD",
                    Kind::Processor,
                    "branch",
                    vec![node],
                );
                (child, Out::new())
            })
            .collect();
        let downs: Vec<Out<T>> = outs.iter().map(|(_, o)| o.clone()).collect();
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
            Kind::Processor,
            "merge",
            vec![self.node, other.node],
        );
        let out = Out::new();
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
            Kind::Processor,
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
    pub fn to(&self, topic: &Topic<T>) {
        let node = self
            .topo
            .add_node("KSTREAM-SINK", Kind::Sink, "to", vec![self.node]);
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

/// The topologies of a bus, kept in its extensions.
#[derive(Default)]
pub(crate) struct Topologies {
    /// The default topology ([`Bus::topology`]).
    default: Mutex<Option<Topology>>,
    /// Every topology made on the bus, for [`Bus::run_until_idle`].
    all: Mutex<Vec<Weak<TopoInner>>>,
}

impl Bus {
    /// The bus's default stream-processing topology (named `streams`), which
    /// [`Topic::stream`] adds to. It lives as long as the bus (or until closed).
    ///
    /// # Examples
    ///
    /// ```
    /// let bus = ringlet::Bus::new();
    /// assert_eq!(bus.topology().name(), "streams");
    /// ```
    pub fn topology(&self) -> Topology {
        let slots = self.inner.extensions.get_or_default::<Topologies>();
        let mut d = slots.default.lock();
        if let Some(t) = &*d {
            return t.clone();
        }
        let t = self
            .topology_named("streams")
            .expect("\"streams\" is a valid name");
        *d = Some(t.clone());
        t
    }

    /// The live topology named `name` (Kafka's `application.id`: its consumer
    /// groups and changelog topics are named after it), made if there is none.
    /// The bus keeps it only while a handle, stream or table refers to it.
    ///
    /// # Errors
    ///
    /// `InvalidName`.
    pub fn topology_named(&self, name: &str) -> Result<Topology, Error> {
        let slots = self.inner.extensions.get_or_default::<Topologies>();
        let mut all = slots.all.lock();
        all.retain(|w| w.strong_count() > 0);
        for w in all.iter() {
            if let Some(inner) = w.upgrade() {
                let t = Topology { inner };
                if t.name() == name && !t.is_closed() {
                    return Ok(t);
                }
            }
        }
        let t = Topology::new(self, name)?;
        all.push(Arc::downgrade(&t.inner));
        Ok(t)
    }

    fn live_topologies(&self) -> Vec<Topology> {
        let slots = self.inner.extensions.get_or_default::<Topologies>();
        let all = slots.all.lock();
        all.iter()
            .filter_map(Weak::upgrade)
            .map(|inner| Topology { inner })
            .filter(|t| !t.is_closed())
            .collect()
    }

    /// Steps every topology of the bus once ([`Topology::step`]), in the order they
    /// were made. Returns how many records were read.
    ///
    /// # Errors
    ///
    /// The first [`StreamError`] (the topologies after it are not stepped).
    #[allow(clippy::result_large_err)]
    pub fn step(&self) -> Result<usize, StreamError> {
        let mut n = 0;
        for t in self.live_topologies() {
            n += t.step()?;
        }
        Ok(n)
    }

    /// Steps every topology until none reads anything: processes everything
    /// pending, including what the topologies write to topics they read.
    /// Deterministic under a [`ManualClock`](crate::ManualClock).
    ///
    /// # Errors
    ///
    /// As [`Bus::step`].
    #[allow(clippy::result_large_err)]
    pub fn run_until_idle(&self) -> Result<usize, StreamError> {
        let mut total = 0;
        loop {
            let n = self.step()?;
            if n == 0 {
                return Ok(total);
            }
            total += n;
        }
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
