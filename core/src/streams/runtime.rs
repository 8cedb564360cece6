//! The topology and its runner: sources read through the topology's consumer
//! group, steps, the stream thread, and the topologies of a bus.

use super::steps::Steps;
use super::{Cause, Description, Downstream, Failure, OnError, Staging, Stream, StreamError};
use crate::bus::{Bus, BusInner};
use crate::record::Record;
use crate::{Error, GroupConfig, Member, Start, Topic, TryRecvError};
use parking_lot::Mutex;
use std::any::Any;
use std::collections::HashSet;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// Records a source reads per step, at most.
const STEP_BATCH: usize = 256;

/// What kind of node a processor is, for [`Topology::describe`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NodeKind {
    Source,
    Processor,
    Sink,
}

#[derive(Debug, Clone)]
pub(crate) struct NodeInfo {
    pub(crate) name: String,
    pub(crate) kind: NodeKind,
    pub(crate) op: &'static str,
    pub(crate) topics: Vec<String>,
    pub(crate) stores: Vec<String>,
    pub(crate) detail: Option<String>,
    pub(crate) parents: Vec<usize>,
}

/// One source of a topology: a topic read through the topology's consumer group.
trait AnySource: Send {
    /// Processes up to `max` records; returns how many were read.
    fn run_batch(
        &mut self,
        max: usize,
        on_error: OnError,
        errors: &mut Vec<StreamError>,
        closed: &AtomicBool,
        topology: &str,
        names: &dyn Fn(usize) -> String,
    ) -> Result<usize, StreamError>;
    /// Starts after what the step read back from the step log read, if that
    /// step was this source's.
    fn resume(&mut self);
    #[cfg(not(target_family = "wasm"))]
    fn register(&self, id: u64, waker: &std::task::Waker);
    #[cfg(not(target_family = "wasm"))]
    fn unregister(&self, id: u64);
}

struct Source<T> {
    pub(super) topic: Topic<T>,
    /// The consumer group's name.
    pub(super) group: String,
    pub(super) member: Member<T>,
    /// The topology's step log.
    pub(super) steps: Arc<Steps>,
    pub(super) out: Downstream<T>,
    pub(super) node: usize,
    pub(super) done: Vec<(u32, u64)>,
    /// Set once the source has read a record: a stream asked for later gets a
    /// source of its own, which starts at the topic's earliest.
    pub(super) read: Arc<AtomicBool>,
}

/// A source in the topology's registry: its node, what it feeds, and whether it
/// has read anything yet.
struct SourceEntry<T> {
    node: usize,
    out: Downstream<T>,
    read: Arc<AtomicBool>,
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
    pub(super) fn process(&mut self, ctx: &mut Staging, rec: &Record<T>) -> Result<(), Failure> {
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

    pub(super) fn mark_done(&mut self, partition: u32, next: u64) {
        match self.done.iter_mut().find(|(p, _)| *p == partition) {
            Some((_, o)) => *o = next,
            None => self.done.push((partition, next)),
        }
    }
}

impl<T: Clone + Send + Sync + 'static> AnySource for Source<T> {
    fn run_batch(
        &mut self,
        max: usize,
        on_error: OnError,
        errors: &mut Vec<StreamError>,
        closed: &AtomicBool,
        topology: &str,
        names: &dyn Fn(usize) -> String,
    ) -> Result<usize, StreamError> {
        let mut ctx = Staging::new();
        let mut n = 0;
        let result = loop {
            if n == max || closed.load(Ordering::Acquire) {
                break Ok(n);
            }
            let rec = match self.member.try_recv() {
                Ok(rec) => {
                    if !self.read.load(Ordering::Relaxed) {
                        self.read.store(true, Ordering::Relaxed);
                    }
                    rec
                }
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
                        _ if matches!(e.cause, Cause::Interrupted(_)) => {
                            let _ = self.member.seek(partition, offset);
                            break Err(e);
                        }
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
            // A durable topology logs the step (its changelog writes and these
            // offsets) before it commits.
            if let Err(cause) = self
                .steps
                .finish(&self.group, self.topic.name(), &self.done)
            {
                // Not committed: the tables have these records, and the next
                // step logs their writes again with its offsets (kept in
                // `done` until then).
                let (partition, next) = self.done[self.done.len() - 1];
                return Err(StreamError {
                    topology: topology.to_string(),
                    node: names(self.node),
                    topic: self.topic.name().to_string(),
                    partition,
                    offset: next - 1,
                    key: None,
                    cause,
                });
            }
            // NotOwner: the partition moved to another instance, which reads the
            // uncommitted records again (at-least-once).
            let _ = self.member.commit_offsets(&self.done);
            self.done.clear();
        }
        result
    }

    fn resume(&mut self) {
        if let Some(offsets) = self.steps.redo_offsets(&self.group, self.topic.name()) {
            // NotOwner: another instance has the partition and reads on from
            // the committed offsets (at-least-once).
            let _ = self.member.commit_offsets(&offsets);
            for (p, o) in offsets {
                let _ = self.member.seek(p, o);
            }
        }
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
    pub(super) sources: Vec<Box<dyn AnySource>>,
}

pub(crate) struct TopoInner {
    pub(super) name: String,
    pub(super) bus: Weak<BusInner>,
    pub(super) graph: Mutex<Vec<NodeInfo>>,
    runner: Mutex<Runner>,
    /// Errors of skipped records (not under `runner`: a callback may read them).
    pub(super) errors: Mutex<Vec<StreamError>>,
    pub(super) on_error: Mutex<OnError>,
    pub(super) closed: AtomicBool,
    /// Source node per topic name (one source per topic).
    pub(super) sources: Mutex<Vec<(String, Box<dyn Any + Send>)>>,
    /// The codecs of durable changelogs, by the changelog's value type: an
    /// `Arc<dyn Codec<Option<X>>>` for changelog values `X`.
    pub(super) changelog_codecs: Mutex<Vec<(std::any::TypeId, Arc<dyn Any + Send + Sync>)>>,
    /// The step log of a topology with durable changelogs.
    pub(super) steps: Arc<Steps>,
}

/// A graph of stream processors and the tables they keep, run by
/// [`step`](Topology::step), [`run_until_idle`](Topology::run_until_idle) or
/// [`spawn`](Topology::spawn). Cheap to clone. See the [module docs](crate::streams).
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
                changelog_codecs: Mutex::new(Vec::new()),
                steps: Arc::new(Steps::default()),
            }),
        })
    }

    /// Keeps the changelogs of this topology's tables of values `V` (and of
    /// windowed aggregates of `V`) on the bus's storage, encoded with
    /// [`Postcard`](crate::storage::Postcard): durable compacted topics. A
    /// topology rebuilt after a restart then restores those tables from them
    /// and resumes its sources from their committed offsets (on durable
    /// topics), as it does within a process: each record counted once in the
    /// tables, whatever write a crash cut (a step is logged as one record of
    /// the `<topology>-steps` topic before its changelog writes and offset
    /// commit, and a rebuilt topology finishes a step the crash cut; see the
    /// [module docs](crate::streams)). Call it before the tables are made.
    ///
    /// # Errors
    ///
    /// `Closed` once the bus is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::Bus;
    /// let bus = Bus::new(); // no storage: its tables' changelogs could not be made durable
    /// let topo = bus.topology_named("counts")?;
    /// topo.durable_changelogs::<u64>()?;
    /// let clicks = bus.topic::<String>("clicks", Default::default())?;
    /// assert!(topo.stream(&clicks)?.group_by_key().count().is_err());
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn durable_changelogs<V>(&self) -> Result<(), Error>
    where
        V: serde::Serialize + serde::de::DeserializeOwned + Clone + Send + Sync + 'static,
    {
        self.register_changelogs::<V>(
            Arc::new(crate::storage::Postcard),
            Arc::new(crate::storage::Postcard),
        )
    }

    /// [`Topology::durable_changelogs`] with values encoded by `codec` (a
    /// window's start and end are stored before its value).
    ///
    /// # Errors
    ///
    /// As [`Topology::durable_changelogs`].
    pub fn durable_changelogs_with<V: Clone + Send + Sync + 'static>(
        &self,
        codec: Arc<dyn crate::storage::Codec<V>>,
    ) -> Result<(), Error> {
        use super::window::WindowedCodec;
        use crate::storage::OptionCodec;
        self.register_changelogs::<V>(
            Arc::new(OptionCodec(codec.clone())),
            Arc::new(OptionCodec(Arc::new(WindowedCodec(codec)))),
        )
    }

    /// Keeps the codecs of changelogs of values `V` and of windowed `V`.
    fn register_changelogs<V: Clone + Send + Sync + 'static>(
        &self,
        plain: Arc<dyn crate::storage::Codec<Option<V>>>,
        windowed: Arc<dyn crate::storage::Codec<Option<super::Windowed<V>>>>,
    ) -> Result<(), Error> {
        self.bus()?;
        let mut codecs = self.inner.changelog_codecs.lock();
        codecs.push((std::any::TypeId::of::<V>(), Arc::new(plain)));
        codecs.push((
            std::any::TypeId::of::<super::Windowed<V>>(),
            Arc::new(windowed),
        ));
        Ok(())
    }

    /// The topology's step log, opened on `bus` (its durable changelogs are
    /// written with it).
    pub(super) fn steps(&self, bus: &Bus) -> Result<Arc<Steps>, Error> {
        if self.inner.steps.open(bus, &self.inner.name)? {
            // Opened now: sources made before start after the step read back
            // (a running topology's have read on already).
            if let Some(mut runner) = self.inner.runner.try_lock() {
                for s in &mut runner.sources {
                    s.resume();
                }
            }
        }
        Ok(self.inner.steps.clone())
    }

    /// The codec of durable changelogs of values `X`, if one was given.
    pub(super) fn changelog_codec<X: 'static>(
        &self,
    ) -> Option<Arc<dyn crate::storage::Codec<Option<X>>>> {
        let codecs = self.inner.changelog_codecs.lock();
        codecs
            .iter()
            .rev()
            .find(|(t, _)| *t == std::any::TypeId::of::<X>())
            .and_then(|(_, c)| {
                c.downcast_ref::<Arc<dyn crate::storage::Codec<Option<X>>>>()
                    .cloned()
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
    pub(super) fn in_step(&self) -> bool {
        RUNNING.with(|r| r.borrow().contains(&self.id()))
    }

    /// This topology's identity in `RUNNING`.
    pub(super) fn id(&self) -> usize {
        Arc::as_ptr(&self.inner) as usize
    }

    pub(crate) fn add_node(
        &self,
        prefix: &str,
        kind: NodeKind,
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

    /// Whether writing to `target` from node `from` would feed a topic this
    /// topology reads back into itself: `target` is a source topic upstream of
    /// `from`, or leads (through this topology's sinks) to one. Returns the topic
    /// it loops through.
    pub(super) fn loop_through(&self, from: usize, target: &str) -> Option<String> {
        let g = self.inner.graph.lock();
        // The source topics upstream of a node.
        let sources_of = |n: usize| {
            let (mut seen, mut stack, mut topics) = (vec![false; g.len()], vec![n], Vec::new());
            while let Some(i) = stack.pop() {
                if std::mem::replace(&mut seen[i], true) {
                    continue;
                }
                if g[i].kind == NodeKind::Source {
                    topics.extend(g[i].topics.iter().cloned());
                }
                stack.extend(g[i].parents.iter().copied());
            }
            topics
        };
        // Topic → topic edges: each sink's topic is fed by its upstream sources.
        let mut edges: Vec<(String, String)> = Vec::new();
        for i in (0..g.len()).filter(|&i| g[i].kind == NodeKind::Sink) {
            for s in sources_of(i) {
                for k in &g[i].topics {
                    edges.push((s.clone(), k.clone()));
                }
            }
        }
        let ours = sources_of(from);
        // Every topic `target` feeds, `target` included.
        let (mut reached, mut stack) = (Vec::new(), vec![target.to_string()]);
        while let Some(t) = stack.pop() {
            if reached.contains(&t) {
                continue;
            }
            stack.extend(
                edges
                    .iter()
                    .filter(|(s, _)| *s == t)
                    .map(|(_, k)| k.clone()),
            );
            reached.push(t);
        }
        ours.into_iter().find(|s| reached.contains(s))
    }

    pub(super) fn node_name(&self, id: usize) -> String {
        self.inner
            .graph
            .lock()
            .get(id)
            .map_or_else(|| format!("node {id}"), |n| n.name.clone())
    }

    /// A stream of `topic` in this topology, from the earliest offsets (or the
    /// group's committed offsets, when a topology of this name ran before).
    ///
    /// Streaming a topic again gives the same source while that source has read
    /// nothing. Once it has read records (a stream added to a running topology,
    /// as a later notebook cell does), the new stream gets a source of its own,
    /// with its own consumer group (`<topology>-source-<node>`), that starts at
    /// the topic's earliest offsets (or where that group committed): every
    /// stream of a topic sees its records from the start, and each once.
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
        // The topic's latest source: shared while it has read nothing, so every
        // stream of a topic sees it from its earliest record.
        let mut group_name = self.inner.name.clone();
        if let Some((_, s)) = sources.iter().rev().find(|(n, _)| n == topic.name()) {
            let Some(s) = s.downcast_ref::<SourceEntry<T>>() else {
                return Err(Error::TypeMismatch {
                    name: topic.name().to_string(),
                    expected: crate::error::value_type::<T>(),
                    found: "another value type".into(),
                });
            };
            if !s.read.load(Ordering::Relaxed) {
                return Ok(Stream {
                    topo: self.clone(),
                    node: s.node,
                    out: s.out.clone(),
                });
            }
            // It has read records already (a later notebook cell): a new source
            // with a consumer group of its own starts at the topic's earliest.
            group_name = format!(
                "{}-source-{}",
                self.inner.name,
                self.inner.graph.lock().len()
            );
        }
        let group = topic.group_with(
            &group_name,
            GroupConfig::default()
                .start(Start::Earliest)
                // The topology's own members never time out: no session deadline
                // is armed on the bus timer (a JS page or Node script would
                // otherwise hold a timer for it).
                .session_timeout(Duration::MAX),
        )?;
        let member = group.join()?;
        let node = self.add_node("KSTREAM-SOURCE", NodeKind::Source, "source", Vec::new());
        self.with_node(node, |n| n.topics.push(topic.name().to_string()));
        let out = Downstream::new();
        let read = Arc::new(AtomicBool::new(false));
        let entry = SourceEntry {
            node,
            out: out.clone(),
            read: read.clone(),
        };
        sources.push((topic.name().to_string(), Box::new(entry)));
        let mut source = Source {
            topic: topic.clone(),
            group: group_name,
            member,
            steps: self.inner.steps.clone(),
            out: out.clone(),
            node,
            done: Vec::new(),
            read,
        };
        // After a step cut by a crash, the source starts after what it read.
        source.resume();
        self.inner.runner.lock().sources.push(Box::new(source));
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
            match s.run_batch(
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
        self.run_until_idle_while(|| true)
    }

    /// As [`Topology::run_until_idle`], asking `go_on` before each step: it
    /// returns how many records were read when `go_on` says no. A host checks for
    /// Ctrl-C there (Python's signal check), so a topology that keeps producing
    /// work can be stopped between steps.
    ///
    /// # Errors
    ///
    /// As [`Topology::step`].
    pub fn run_until_idle_while(&self, go_on: impl FnMut() -> bool) -> Result<usize, StreamError> {
        steps_while(|| self.step(), go_on)
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
    pub(super) fn run_thread(&self, stop: &AtomicBool) -> Result<(), StreamError> {
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
    pub(super) stop: Arc<AtomicBool>,
    pub(super) handle: Option<std::thread::JoinHandle<Result<(), StreamError>>>,
}

#[cfg(not(target_family = "wasm"))]
impl StreamThread {
    /// Stops the thread after the record it is processing (what it processed is
    /// committed) and waits for it.
    ///
    /// Called from a callback — on the stream thread itself, or in a step of any
    /// topology on another thread — it asks the thread to stop and returns without
    /// waiting: waiting there would wait for itself (or for a thread that may wait
    /// for the step it is in). The thread then ends after its current step, and
    /// an error it ends with is not reported.
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

    pub(super) fn halt(&mut self) -> Result<(), StreamError> {
        self.stop.store(true, Ordering::SeqCst);
        let Some(h) = self.handle.take() else {
            return Ok(());
        };
        h.thread().unpark();
        let inside_a_step = RUNNING.with(|r| !r.borrow().is_empty());
        if inside_a_step || h.thread().id() == std::thread::current().id() {
            // It ends after its current step (documented on `stop`).
            return Ok(());
        }
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

/// Runs `step` while `go_on` says so and a step reads something; returns how many
/// records were read.
fn steps_while(
    mut step: impl FnMut() -> Result<usize, StreamError>,
    mut go_on: impl FnMut() -> bool,
) -> Result<usize, StreamError> {
    let mut total = 0;
    while go_on() {
        let n = step()?;
        if n == 0 {
            break;
        }
        total += n;
    }
    Ok(total)
}

/// The topologies of a bus, kept in its extensions.
#[derive(Default)]
pub(crate) struct Topologies {
    /// The default topology ([`Bus::topology`]).
    pub(super) default: Mutex<Option<Topology>>,
    /// Every topology made on the bus, for [`Bus::run_until_idle`].
    pub(super) all: Mutex<Vec<Weak<TopoInner>>>,
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

    pub(crate) fn live_topologies(&self) -> Vec<Topology> {
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
        self.run_until_idle_while(|| true)
    }

    /// As [`Bus::run_until_idle`], asking `go_on` before each step: it
    /// returns how many records were read when `go_on` says no. A host checks for
    /// Ctrl-C there (Python's signal check), so a topology that keeps producing
    /// work can be stopped between steps.
    ///
    /// # Errors
    ///
    /// As [`Bus::step`].
    #[allow(clippy::result_large_err)]
    pub fn run_until_idle_while(&self, go_on: impl FnMut() -> bool) -> Result<usize, StreamError> {
        steps_while(|| self.step(), go_on)
    }
}
