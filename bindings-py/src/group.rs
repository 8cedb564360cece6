//! Consumer groups (`Group`, `Member`) and share groups (`ShareGroup`,
//! `ShareMember`).

use std::sync::Arc;
use std::task::Context;

use parking_lot::Mutex;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use ringlet::options::{GroupOptions, ShareGroupOptions};
use ringlet::{AssignmentChange, ChangeQueue, GroupConfig};

use crate::aio::{awaitable, awaitable_or_stop, Ready};
use crate::convert::{self, Value};
use crate::errors::{closed, err, none_if_closed, stop_async};
use crate::queue::{
    deliveries, receive_many_with, receive_with, to_delivery, DeliveryPy, FutureOp,
};
use crate::reader::{self, locked, NextRecord, PollRecord, Reader};
use crate::records::{ReadRecord, RecordPy};

pub(crate) fn open_group(
    topic: &ringlet::Topic<Value>,
    name: &str,
    start: Option<&Bound<'_, PyAny>>,
    auto_commit: Option<bool>,
    session_timeout: Option<&Bound<'_, PyAny>>,
) -> PyResult<GroupPy> {
    let options = group_options(start, auto_commit, session_timeout)?;
    let g = topic.open_group(name, &options).map_err(err)?;
    Ok(GroupPy {
        g,
        topic: topic.clone(),
    })
}

/// A group's keyword options.
pub(crate) fn group_options(
    start: Option<&Bound<'_, PyAny>>,
    auto_commit: Option<bool>,
    session_timeout: Option<&Bound<'_, PyAny>>,
) -> PyResult<GroupOptions> {
    Ok(GroupOptions {
        start: group_start(start)?,
        auto_commit,
        session_timeout: convert::opt_duration(session_timeout, "session_timeout")?,
    })
}

pub(crate) fn open_share_group(
    topic: &ringlet::Topic<Value>,
    name: &str,
    start: Option<&Bound<'_, PyAny>>,
    visibility_timeout: Option<&Bound<'_, PyAny>>,
    max_deliveries: Option<&Bound<'_, PyAny>>,
    max_in_flight: Option<&Bound<'_, PyAny>>,
    dead_letter: Option<&str>,
) -> PyResult<ShareGroupPy> {
    let options = ShareGroupOptions {
        start: group_start(start)?,
        visibility_timeout: convert::opt_duration(visibility_timeout, "visibility_timeout")?,
        max_deliveries: convert::opt_count(max_deliveries, "max_deliveries")?,
        max_in_flight: convert::opt_count(max_in_flight, "max_in_flight")?,
        dead_letter: dead_letter.map(str::to_owned),
    };
    let g = topic.open_share_group(name, &options).map_err(err)?;
    Ok(ShareGroupPy {
        g,
        topic: topic.name().to_owned(),
    })
}

fn group_start(start: Option<&Bound<'_, PyAny>>) -> PyResult<Option<ringlet::Start>> {
    start
        .filter(|s| !s.is_none())
        .map(convert::group_start)
        .transpose()
}

fn partitions_arg(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u32>> {
    let it = obj
        .try_iter()
        .map_err(|_| PyTypeError::new_err("partitions must be an iterable of ints"))?;
    it.map(|p| convert::count::<u32>(&p?, "partition"))
        .collect()
}

fn start_name(s: &ringlet::Start) -> String {
    s.name().map_or_else(|| format!("{s:?}"), str::to_owned)
}

/// A consumer group: each partition is owned by one member at a time.
#[pyclass(frozen, module = "ringlet", name = "Group")]
pub struct GroupPy {
    g: ringlet::Group<Value>,
    topic: ringlet::Topic<Value>,
}

#[pymethods]
impl GroupPy {
    /// The group's name.
    #[getter]
    fn name(&self) -> String {
        self.g.name().to_owned()
    }

    /// The topic's name.
    #[getter]
    fn topic(&self) -> String {
        self.topic.name().to_owned()
    }

    /// The configuration as a dict.
    #[getter]
    fn config(&self, py: Python<'_>) -> PyResult<Py<PyDict>> {
        let c: &GroupConfig = self.g.config();
        let d = PyDict::new(py);
        d.set_item("start", start_name(&c.start))?;
        d.set_item("auto_commit", c.auto_commit)?;
        d.set_item("session_timeout", c.session_timeout.as_secs_f64())?;
        Ok(d.unbind())
    }

    /// Joins the group: a new member. `on_assign(partitions)` and
    /// `on_revoke(partitions)` are called on the member's thread, in one of its
    /// calls, when its assignment changed.
    #[pyo3(signature = (*, on_assign = None, on_revoke = None))]
    fn join(
        &self,
        py: Python<'_>,
        on_assign: Option<Py<PyAny>>,
        on_revoke: Option<Py<PyAny>>,
    ) -> PyResult<MemberPy> {
        for (f, what) in [(&on_assign, "on_assign"), (&on_revoke, "on_revoke")] {
            if let Some(f) = f {
                if !f.bind(py).is_callable() {
                    return Err(PyTypeError::new_err(format!("{what} must be callable")));
                }
            }
        }
        let mut m = py.detach(|| self.g.join()).map_err(err)?;
        let changes = m.queue_changes();
        Ok(MemberPy {
            id: m.id(),
            state: Mutex::new(m),
            changes,
            on_assign,
            on_revoke,
            topic: self.topic.name().to_owned(),
            group: self.g.name().to_owned(),
        })
    }

    /// Per partition, the committed offset (the next to read) or `None`.
    fn committed(&self) -> Vec<Option<u64>> {
        self.g.committed()
    }

    /// Per partition, records not yet committed.
    fn lag(&self) -> Vec<u64> {
        self.g.lag()
    }

    /// The members as `(id, [partitions])`.
    fn members(&self) -> Vec<(u64, Vec<u32>)> {
        self.g.members()
    }

    /// The group's entry of the topic's snapshot.
    fn snapshot(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        convert::to_plain(py, &self.g.snapshot())
    }

    fn __len__(&self) -> usize {
        self.g.members().len()
    }

    fn __repr__(&self) -> String {
        format!(
            "Group({:?}, topic={:?}, members={}, lag={})",
            self.g.name(),
            self.topic.name(),
            self.g.members().len(),
            self.g.lag().iter().sum::<u64>()
        )
    }

    fn _repr_html_(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let t = convert::to_plain(py, &self.topic.snapshot())?;
        let g = self.snapshot(py)?;
        crate::display(py, "group_html", (t, g))
    }
}

type CoreMember = ringlet::Member<Value>;

/// A member of a consumer group: reads the partitions it owns.
#[pyclass(frozen, module = "ringlet", name = "Member")]
pub struct MemberPy {
    state: Mutex<CoreMember>,
    changes: ChangeQueue,
    on_assign: Option<Py<PyAny>>,
    on_revoke: Option<Py<PyAny>>,
    id: u64,
    topic: String,
    group: String,
}

impl MemberPy {
    /// Crashes the member (`bus.faults().crash`).
    pub(crate) fn crash(&self, py: Python<'_>, f: &ringlet::faults::Faults) -> bool {
        locked(py, &self.state, |m| f.crash(m))
    }

    /// Calls the rebalance listeners for the changes seen so far (no lock held):
    /// every one, raising the first exception (`ringlet::ChangeQueue`).
    fn fire(&self, py: Python<'_>) -> PyResult<()> {
        self.changes.dispatch(|change| {
            let (f, partitions) = match change {
                AssignmentChange::Assigned(p) => (&self.on_assign, p),
                AssignmentChange::Revoked(p) => (&self.on_revoke, p),
            };
            match f {
                Some(f) => f.call1(py, (PyList::new(py, partitions)?,)).map(drop),
                None => Ok(()),
            }
        })
    }

    /// Catches up with the group (running listeners) before a read.
    fn prepare(&self, py: Python<'_>) -> PyResult<()> {
        locked(py, &self.state, |m| {
            m.assignment();
        });
        self.fire(py)
    }

    /// Listeners for changes seen during a read; if one raises, the records read
    /// are put back (read again) and the exception propagates.
    fn after_read(&self, py: Python<'_>, got: &[ReadRecord]) -> PyResult<()> {
        if self.changes.is_empty() {
            return Ok(());
        }
        self.fire(py).inspect_err(|_| {
            locked(py, &self.state, |m| {
                m.put_back(got.iter().map(|r| (r.partition, r.offset)))
            });
        })
    }

    fn with<R: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut ringlet::Member<Value>) -> Result<R, ringlet::Error> + Send,
    ) -> PyResult<R> {
        let r = locked(py, &self.state, |m| {
            if m.has_left() {
                return Err(ringlet::Error::Closed);
            }
            f(m)
        })
        .map_err(err);
        self.fire(py)?;
        r
    }

    /// `await next()` (`iterate: false`) or a step of `async for`.
    fn next_op(
        slf: &Py<Self>,
        py: Python<'_>,
        iterate: bool,
    ) -> NextRecord<impl FnMut(Python<'_>, &std::task::Waker) -> PollRecord + Send> {
        let me = slf.clone_ref(py);
        let again = slf.clone_ref(py);
        NextRecord {
            poll: move |py: Python<'_>, waker: &std::task::Waker| {
                let m = me.get();
                m.prepare(py)?;
                Ok(locked(py, &m.state, |s| {
                    let cx = &mut Context::from_waker(waker);
                    if iterate {
                        Reader::poll_next_item(s, cx)
                    } else {
                        Reader::poll_recv(s, cx).map(|r| r.map(Some))
                    }
                }))
            },
            cancel: Box::new(move |py| locked(py, &again.get().state, |s| s.cancel_poll())),
        }
    }
}

#[pymethods]
impl MemberPy {
    /// The member's id (unique in its group).
    #[getter]
    fn id(&self) -> u64 {
        self.id
    }

    /// The next record of an owned partition, waiting up to `timeout` seconds
    /// (`None`: as long as it takes; Ctrl-C interrupts). `None` on timeout.
    #[pyo3(signature = (timeout = None))]
    fn poll(
        &self,
        py: Python<'_>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<RecordPy>> {
        let timeout = convert::opt_duration(timeout, "timeout")?;
        self.prepare(py)?;
        let r = reader::read_one(py, &self.state, timeout)?;
        self.after_read(py, r.as_slice())?;
        r.map(|r| RecordPy::new(py, r)).transpose()
    }

    /// Up to `max` records, waiting up to `timeout` seconds for the first.
    #[pyo3(signature = (max = None, timeout = None))]
    fn poll_many(
        &self,
        py: Python<'_>,
        max: Option<&Bound<'_, PyAny>>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyList>> {
        let max = convert::opt_count::<usize>(max, "max")?.unwrap_or(1024);
        let timeout = convert::opt_duration(timeout, "timeout")?;
        self.prepare(py)?;
        let v = reader::read_many(py, &self.state, max, timeout)?;
        self.after_read(py, &v)?;
        RecordPy::list(py, v)
    }

    /// Waits for the next record (asyncio).
    fn next(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        slf.get().prepare(py)?;
        awaitable(py, Self::next_op(&slf.clone().unbind(), py, false))
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<RecordPy>> {
        self.prepare(py)?;
        let r = reader::iter_next(py, &self.state)?;
        self.after_read(py, r.as_slice())?;
        r.map(|r| RecordPy::new(py, r)).transpose()
    }

    fn __aiter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __anext__(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let me = slf.get();
        me.prepare(py)?;
        match locked(py, &me.state, Reader::try_next) {
            Ok(Some(r)) => {
                me.after_read(py, std::slice::from_ref(&r))?;
                let rec = Py::new(py, RecordPy::new(py, r)?)?.into_any();
                return Ready::wrap(py, rec);
            }
            Ok(None) => return Err(stop_async()),
            Err(_) => {}
        }
        awaitable_or_stop(py, Self::next_op(&slf.clone().unbind(), py, true))
    }

    /// Commits everything returned so far (or the given `{partition: offset}`;
    /// an offset is the next one to read). `NotOwner` if a partition was revoked
    /// before its records were committed.
    #[pyo3(signature = (offsets = None))]
    fn commit(&self, py: Python<'_>, offsets: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
        match offsets {
            None => self.with(py, |m| m.commit()),
            Some(d) => {
                let mut v = Vec::with_capacity(d.len());
                for (p, o) in d.iter() {
                    v.push((
                        convert::count::<u32>(&p, "partition")?,
                        convert::count::<u64>(&o, "offset")?,
                    ));
                }
                self.with(py, move |m| m.commit_offsets(&v))
            }
        }
    }

    /// Moves the read position of an owned partition.
    fn seek(
        &self,
        py: Python<'_>,
        partition: &Bound<'_, PyAny>,
        offset: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let p = convert::count::<u32>(partition, "partition")?;
        let o = convert::count::<u64>(offset, "offset")?;
        self.with(py, move |m| m.seek(p, o))
    }

    /// The partitions this member owns now.
    fn assignment(&self, py: Python<'_>) -> PyResult<Vec<u32>> {
        self.with(py, |m| Ok(m.assignment()))
    }

    /// `(partition, next offset)` of each owned partition.
    fn positions(&self, py: Python<'_>) -> PyResult<Vec<(u32, u64)>> {
        self.with(py, |m| Ok(m.positions()))
    }

    /// Takes exactly these partitions (manual assignment).
    fn assign(&self, py: Python<'_>, partitions: &Bound<'_, PyAny>) -> PyResult<()> {
        let ps = partitions_arg(partitions)?;
        self.with(py, move |m| m.assign(&ps))
    }

    /// Stops reading these owned partitions until `resume`.
    fn pause(&self, py: Python<'_>, partitions: &Bound<'_, PyAny>) -> PyResult<()> {
        let ps = partitions_arg(partitions)?;
        self.with(py, move |m| m.pause(&ps))
    }

    /// Reads these partitions again.
    fn resume(&self, py: Python<'_>, partitions: &Bound<'_, PyAny>) -> PyResult<()> {
        let ps = partitions_arg(partitions)?;
        self.with(py, move |m| m.resume(&ps))
    }

    /// The paused partitions.
    fn paused(&self, py: Python<'_>) -> PyResult<Vec<u32>> {
        self.with(py, |m| Ok(m.paused()))
    }

    /// Per partition of the topic, the offset the next record will get.
    fn end_offsets(&self, py: Python<'_>) -> PyResult<Vec<u64>> {
        self.with(py, |m| Ok(m.end_offsets()))
    }

    /// Per partition, the first retained offset at or after `timestamp`.
    fn offsets_for_times(
        &self,
        py: Python<'_>,
        timestamp: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<Option<u64>>> {
        let ms = convert::timestamp_ms(timestamp, "timestamp")?;
        self.with(py, move |m| Ok(m.offsets_for_times(ms)))
    }

    /// Gaps skipped so far.
    #[getter]
    fn skipped(&self, py: Python<'_>) -> u64 {
        locked(py, &self.state, |m| m.skipped())
    }

    /// Whether the member left.
    #[getter]
    fn closed(&self, py: Python<'_>) -> bool {
        locked(py, &self.state, |m| m.has_left())
    }

    /// Leaves the group (auto-committing first if the group auto-commits); its
    /// partitions go to the other members. Reads then raise `Closed`.
    fn leave(&self, py: Python<'_>) {
        locked(py, &self.state, |m| m.leave());
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(
        &self,
        py: Python<'_>,
        _t: Option<&Bound<'_, PyAny>>,
        _v: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> bool {
        self.leave(py);
        false
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let a = locked(py, &self.state, |m| (!m.has_left()).then(|| m.assignment()));
        match a {
            Some(a) => format!(
                "Member(id={}, group={:?}, topic={:?}, assignment={a:?})",
                self.id, self.group, self.topic
            ),
            None => format!(
                "Member(id={}, group={:?}, topic={:?}, left)",
                self.id, self.group, self.topic
            ),
        }
    }
}

/// A share group: each record goes to one member at a time, with the queue's
/// acks, redelivery and dead letters.
#[pyclass(frozen, module = "ringlet", name = "ShareGroup")]
pub struct ShareGroupPy {
    g: ringlet::ShareGroup<Value>,
    topic: String,
}

#[pymethods]
impl ShareGroupPy {
    /// The group's name.
    #[getter]
    fn name(&self) -> String {
        self.g.name().to_owned()
    }

    /// The topic's name.
    #[getter]
    fn topic(&self) -> String {
        self.topic.clone()
    }

    /// The configuration as a dict.
    #[getter]
    fn config(&self, py: Python<'_>) -> PyResult<Py<PyDict>> {
        let c = self.g.config();
        let d = PyDict::new(py);
        d.set_item("start", start_name(&c.start))?;
        d.set_item("visibility_timeout", c.visibility_timeout.as_secs_f64())?;
        d.set_item("max_deliveries", c.max_deliveries)?;
        d.set_item("max_in_flight", c.max_in_flight)?;
        d.set_item("dead_letter", c.dead_letter.clone())?;
        Ok(d.unbind())
    }

    /// Joins the group: a new member.
    fn join(&self, py: Python<'_>) -> PyResult<ShareMemberPy> {
        let m = py.detach(|| self.g.join()).map_err(err)?;
        Ok(ShareMemberPy {
            id: m.id(),
            m: Mutex::new(Some(Arc::new(m))),
            group: self.g.name().to_owned(),
            topic: self.topic.clone(),
        })
    }

    /// The group's figures, members and partitions as a dict.
    fn snapshot(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let s = py.detach(|| self.g.snapshot());
        convert::to_plain(py, &s)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let s = py.detach(|| self.g.snapshot());
        format!(
            "ShareGroup({:?}, topic={:?}, members={}, in_flight={}, ready={})",
            self.g.name(),
            self.topic,
            s.members,
            s.figures.in_flight,
            s.figures.ready
        )
    }

    fn _repr_html_(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let s = self.snapshot(py)?;
        crate::display(py, "share_group_html", s)
    }
}

/// A member of a share group: receives deliveries to ack, nack or reject.
#[pyclass(frozen, module = "ringlet", name = "ShareMember")]
pub struct ShareMemberPy {
    m: Mutex<Option<Arc<ringlet::ShareMember<Value>>>>,
    id: u64,
    group: String,
    topic: String,
}

impl ShareMemberPy {
    /// Crashes the member (`bus.faults().crash`); one that left is not running.
    pub(crate) fn crash(&self, py: Python<'_>, f: &ringlet::faults::Faults) -> bool {
        match self.m.lock().clone() {
            Some(m) => py.detach(|| f.crash(&*m)),
            None => false,
        }
    }

    fn member(&self) -> PyResult<Arc<ringlet::ShareMember<Value>>> {
        self.m
            .lock()
            .clone()
            .ok_or_else(|| closed("the share group member"))
    }

    fn receive_op(m: &ringlet::ShareMember<Value>) -> impl crate::aio::PendingOp + 'static {
        FutureOp::new(m.receive_async(), to_delivery)
    }
}

#[pymethods]
impl ShareMemberPy {
    /// The member's id (unique in its group).
    #[getter]
    fn id(&self) -> u64 {
        self.id
    }

    /// The next delivery, waiting up to `timeout` seconds. `None` on timeout;
    /// `Closed` once the topic is closed and everything was delivered.
    #[pyo3(signature = (timeout = None))]
    fn receive(
        &self,
        py: Python<'_>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<DeliveryPy>> {
        let timeout = convert::opt_duration(timeout, "timeout")?;
        let m = self.member()?;
        Ok(
            receive_with(py, timeout, || m.try_receive(), |d| m.receive_timeout(d))?
                .map(|d| DeliveryPy::new(py, d)),
        )
    }

    /// Up to `max` deliveries, waiting up to `timeout` seconds for the first.
    #[pyo3(signature = (max = None, timeout = None))]
    fn receive_many(
        &self,
        py: Python<'_>,
        max: Option<&Bound<'_, PyAny>>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyList>> {
        let max = convert::opt_count::<usize>(max, "max")?.unwrap_or(200);
        let timeout = convert::opt_duration(timeout, "timeout")?;
        let m = self.member()?;
        let v = receive_many_with(
            py,
            max,
            timeout,
            |n| m.try_receive_batch(n),
            |n, d| m.receive_batch_timeout(n, d),
        )?;
        deliveries(py, v)
    }

    /// Waits for the next delivery (asyncio).
    fn receive_async(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let m = self.member()?;
        awaitable(py, Self::receive_op(&m))
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<DeliveryPy>> {
        none_if_closed(py, self.receive(py, None))
    }

    fn __aiter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __anext__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let Ok(m) = self.member() else {
            return Err(stop_async());
        };
        match m.try_receive() {
            Ok(d) => Ready::wrap(py, Py::new(py, DeliveryPy::new(py, d))?.into_any()),
            Err(ringlet::TryReceiveError::Closed) => Err(stop_async()),
            Err(ringlet::TryReceiveError::Empty) => awaitable_or_stop(py, Self::receive_op(&m)),
            Err(e) => Err(crate::errors::err(e)),
        }
    }

    /// Whether the member left.
    #[getter]
    fn closed(&self) -> bool {
        self.m.lock().is_none()
    }

    /// Leaves the group; its unsettled deliveries stay valid.
    fn leave(&self, py: Python<'_>) {
        let m = self.m.lock().take();
        if let Some(m) = m {
            py.detach(move || drop(m));
        }
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(
        &self,
        py: Python<'_>,
        _t: Option<&Bound<'_, PyAny>>,
        _v: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> bool {
        self.leave(py);
        false
    }

    fn __repr__(&self) -> String {
        format!(
            "ShareMember(id={}, group={:?}, topic={:?}{})",
            self.id,
            self.group,
            self.topic,
            if self.closed() { ", left" } else { "" }
        )
    }
}
