//! Fault injection: make a test or a lesson meet the failures production
//! meets — a consumer that dies without saying goodbye, acks that come too
//! late, a producer whose writes fail, a partition that stops delivering —
//! on the real engine, deterministically with a [`crate::ManualClock`].
//!
//! [`Bus::faults`] gives a [`Faults`] handle. What it does:
//!
//! * [`Faults::crash`] a consumer-group [`Member`], a [`ShareMember`] or a
//!   queue [`Delivery`]: the consumer stops without leaving or settling.
//!   * A group member's partitions stay assigned to it until its
//!     `session_timeout` passes on the bus clock; then the group removes it
//!     (journal `leave` with reason `session_timeout`) and the others resume
//!     from the committed offsets. Nothing is committed for it, also in an
//!     auto-commit group. Its own calls end as after `leave` (`Closed`).
//!   * A share member leaves the group (journal `leave`, reason `crash`; share
//!     groups keep no sessions), and every delivery it holds is abandoned:
//!     dropping one does not nack it, settling one fails with `Expired`, and
//!     each record comes back when its visibility timeout passes (Kafka's
//!     acquisition lock timeout), with the attempt counted.
//!   * A queue delivery is abandoned the same way: its message comes back at
//!     the visibility timeout, the attempt counted (so `max_deliveries` and the
//!     dead letter see crashes).
//! * [`Faults::delay_acks`] of a queue, or of every share group of a topic:
//!   each ack, nack, `nack_after` and reject (and the nack of a delivery
//!   dropped unsettled) returns `Ok` at once and reaches the queue `delay`
//!   later on the bus clock. One that arrives after its delivery's visibility
//!   timeout changes nothing — the message was already taken back and is
//!   delivered again (a duplicate, as at-least-once allows) — and counts in
//!   [`FaultFigures::late_acks`] (journal `fault`, reason `late_ack`).
//! * [`Faults::fail_publishes`] of a topic and [`Faults::fail_sends`] of a
//!   queue: each of the next `n` calls (a batch is one call) fails with the
//!   chosen [`InjectedError`] and appends nothing: `Full` (the calls that wait
//!   with a timeout report `Timeout`; a queue's blocking `send`, which never
//!   reports `Full`, gets an `Io` error saying so), `Closed`, or `Io` (the
//!   `Storage` error a refusing disk gives). Event-store appends count as
//!   publishes of their topic. Records a share group copies from its topic and
//!   dead letters the engine forwards are not sends.
//! * [`Faults::pause_partition`]: no reader (subscription, group member,
//!   share group, bridge) gets records of that partition until
//!   [`Faults::resume_partition`]; publishing goes on, so readers' lag grows.
//!   Blocking reads wait, and resume wakes them.
//! * [`Faults::clear`] disarms every delay, failure and pause of the bus
//!   (paused partitions resume). A crash cannot be undone: join again.
//!
//! Faults are armed by name on what exists (`NotFound` otherwise) and stay
//! with that topic or queue, whatever handle is used; a topic or queue created
//! again under the name starts without them. Each arming is journaled (kind
//! `fault`). Unarmed, each check on the hot paths is one relaxed atomic load.
//!
//! ```
//! use std::time::Duration;
//! use ringlet::{Bus, GroupConfig, ManualClock, QueueConfig, Start};
//! use ringlet::faults::InjectedError;
//!
//! let clock = ManualClock::new();
//! let bus = Bus::builder().clock(clock.clone()).build();
//! let faults = bus.faults();
//!
//! // A member that crashes keeps its partitions until the session timeout.
//! let orders = bus.topic::<u32>("orders", Default::default())?;
//! let billing = orders.group_with("billing", GroupConfig::default()
//!     .start(Start::Earliest).session_timeout(Duration::from_secs(10)))?;
//! let mut a = billing.join()?;
//! assert_eq!(a.assignment(), vec![0]);
//! let mut b = billing.join()?;
//! assert_eq!(b.assignment(), Vec::<u32>::new());
//! faults.crash(&mut a);
//! clock.advance(Duration::from_secs(6));
//! assert_eq!(b.assignment(), Vec::<u32>::new()); // not yet
//! clock.advance(Duration::from_secs(4));
//! assert_eq!(b.assignment(), vec![0]);            // the session timeout found it
//!
//! // Acks that arrive after the visibility timeout: the job is delivered again.
//! let jobs = bus.queue::<&str>("jobs", QueueConfig::default().visibility_timeout(Duration::from_secs(5)))?;
//! faults.delay_acks("jobs", Duration::from_secs(8))?;
//! jobs.send("resize")?;
//! jobs.receive()?.ack()?;                          // Ok: the ack is on its way
//! clock.advance(Duration::from_secs(8));
//! assert_eq!(jobs.try_receive()?.attempt(), 2);
//! assert_eq!(faults.figures().late_acks, 1);
//!
//! // The next publish fails as if the disk refused it; nothing is appended.
//! faults.fail_publishes("orders", 1, InjectedError::Io)?;
//! assert!(orders.publish(1).is_err());
//! assert_eq!(orders.end_offsets(), vec![0]);
//! orders.publish(2).unwrap();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::bus::Bus;
use crate::clock::duration_ms;
use crate::fault_point::SharedPoint;
use crate::journal::{Event, EventKind};
use crate::{Delivery, Error, Member, ShareMember};

pub use crate::fault_point::InjectedError;

/// A bus's fault injection (see the [module docs](self)). Cheap to clone.
#[derive(Clone)]
pub struct Faults {
    bus: Bus,
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Faults")
            .field("active", &self.active())
            .finish()
    }
}

/// What the faults of a bus did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultFigures {
    /// Publishes and sends that an injected failure refused.
    pub failed: u64,
    /// Settles that were delayed.
    pub delayed_acks: u64,
    /// Delayed settles that arrived after the visibility timeout (changing
    /// nothing).
    pub late_acks: u64,
    /// Members, share members and deliveries crashed.
    pub crashed: u64,
}

/// One armed fault, as [`Faults::active`] lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveFault {
    /// The topic or queue.
    pub name: String,
    /// `fail_publishes`, `fail_sends`, `delay_acks` or `pause`.
    pub fault: String,
    /// Failures left (`fail_*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining: Option<u64>,
    /// The error they report (`fail_*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<InjectedError>,
    /// The delay (`delay_acks`, ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<i64>,
    /// The paused partition (`pause`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<u32>,
}

/// What [`Faults::crash`] takes: a group member, a share member, a delivery.
pub trait Crash: sealed::Sealed {
    /// Crashes it; whether it was still running. Returns what the journal says.
    #[doc(hidden)]
    fn crash_now(self) -> Option<Event>;
}

mod sealed {
    pub trait Sealed {}
    impl<T> Sealed for &mut crate::Member<T> {}
    impl<T> Sealed for &mut crate::ShareMember<T> {}
    impl<T> Sealed for &crate::ShareMember<T> {}
    impl<T> Sealed for crate::Delivery<T> {}
}

fn crash_event(topic: &str, group: &str, member: u64) -> Event {
    Event {
        reason: Some("crash".into()),
        detail: Some("crashed by bus.faults(): it stopped without leaving".into()),
        ..Event::group(EventKind::Fault, topic, group, member)
    }
}

impl<T: Clone + Send + Sync + 'static> Crash for &mut Member<T> {
    fn crash_now(self) -> Option<Event> {
        let id = self.id();
        let (topic, group) = self.names();
        let ev = crash_event(topic, group, id);
        self.crash().then_some(ev)
    }
}

impl<T: Clone + Send + Sync + 'static> Crash for &ShareMember<T> {
    fn crash_now(self) -> Option<Event> {
        let id = self.id();
        let (topic, group) = self.names();
        let ev = crash_event(topic, group, id);
        self.crash().then_some(ev)
    }
}

impl<T: Clone + Send + Sync + 'static> Crash for &mut ShareMember<T> {
    fn crash_now(self) -> Option<Event> {
        (&*self).crash_now()
    }
}

impl<T> Crash for Delivery<T> {
    fn crash_now(self) -> Option<Event> {
        let ev = Event {
            queue: Some(self.queue_name().to_string()),
            partition: self.partition(),
            offset: self.offset(),
            attempt: Some(self.attempt()),
            reason: Some("crash".into()),
            detail: Some(
                "its consumer crashed holding it: it comes back when the visibility timeout passes"
                    .into(),
            ),
            ..Event::new(EventKind::Fault)
        };
        self.abandon();
        Some(ev)
    }
}

/// Crashes counted on the bus (the rest is counted per topic and queue).
#[derive(Default)]
struct Crashes(AtomicU64);

impl Bus {
    /// This bus's fault injection (see [`crate::faults`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let bus = ringlet::Bus::new();
    /// assert!(bus.faults().active().is_empty());
    /// ```
    pub fn faults(&self) -> Faults {
        Faults { bus: self.clone() }
    }
}

impl Faults {
    fn journal(&self, ev: Event) {
        if let Some(j) = self.bus.journal_handle() {
            j.emit(ev);
        }
    }

    fn armed(&self, name: &str, topic: bool, reason: &str, detail: String) {
        self.journal(Event {
            topic: topic.then(|| name.to_string()),
            queue: (!topic).then(|| name.to_string()),
            reason: Some(reason.into()),
            detail: Some(detail),
            ..Event::new(EventKind::Fault)
        });
    }

    /// The point of `name`, which must be a topic (`want_topic`) or a queue.
    fn point(
        &self,
        name: &str,
        want: Option<bool>,
        call: &str,
    ) -> Result<(bool, u32, SharedPoint), Error> {
        let (is_topic, partitions, point) = self.bus.fault_point(name)?;
        if let Some(want_topic) = want {
            if want_topic != is_topic {
                let (asked, found, other) = if want_topic {
                    ("topic", "queue", "fail_sends")
                } else {
                    ("queue", "topic", "fail_publishes")
                };
                return Err(Error::TypeMismatch {
                    name: name.into(),
                    expected: format!("a {asked} for {call}: use {other} for a {found}"),
                    found: format!("a {found}"),
                });
            }
        }
        Ok((is_topic, partitions, point))
    }

    /// Crashes a consumer: a group [`Member`] (`&mut`), a [`ShareMember`]
    /// (`&` or `&mut`) or a [`Delivery`] (by value). See the [module
    /// docs](self) for what each does. Returns whether it was still running
    /// (crashing a member that left, or crashed, does nothing).
    pub fn crash(&self, target: impl Crash) -> bool {
        let Some(ev) = target.crash_now() else {
            return false;
        };
        self.bus
            .inner
            .extensions
            .get_or_default::<Crashes>()
            .0
            .fetch_add(1, Ordering::Relaxed);
        self.journal(ev);
        true
    }

    /// Delays the settles of deliveries from the queue `name` — or, when `name`
    /// is a topic, from every share group of it — by `delay` on the bus clock.
    /// `Duration::ZERO` ends the delay (settles already on their way still
    /// arrive late).
    ///
    /// # Errors
    ///
    /// `InvalidName`, `NotFound`.
    pub fn delay_acks(&self, name: &str, delay: Duration) -> Result<(), Error> {
        let (topic, _, point) = self.point(name, None, "delay_acks")?;
        let ms = if delay.is_zero() {
            0
        } else {
            duration_ms(delay).max(1)
        };
        point.delay_settles(ms);
        self.armed(
            name,
            topic,
            "delay_acks",
            format!("settles arrive {ms} ms late"),
        );
        Ok(())
    }

    /// Fails the next `n` publishes (calls; a batch is one) of the topic
    /// `name` with `error`; nothing is appended. `n = 0` disarms.
    ///
    /// # Errors
    ///
    /// `InvalidName`, `NotFound`, `TypeMismatch` (a queue: use
    /// [`Faults::fail_sends`]).
    pub fn fail_publishes(&self, name: &str, n: u64, error: InjectedError) -> Result<(), Error> {
        let (_, _, point) = self.point(name, Some(true), "fail_publishes")?;
        point.fail(n, error);
        self.armed(
            name,
            true,
            "fail_publishes",
            format!("the next {n} publishes fail: {error}"),
        );
        Ok(())
    }

    /// Fails the next `n` sends (calls; a batch is one) of the queue `name`
    /// with `error`; nothing is sent. `n = 0` disarms.
    ///
    /// # Errors
    ///
    /// `InvalidName`, `NotFound`, `TypeMismatch` (a topic: use
    /// [`Faults::fail_publishes`]).
    pub fn fail_sends(&self, name: &str, n: u64, error: InjectedError) -> Result<(), Error> {
        let (_, _, point) = self.point(name, Some(false), "fail_sends")?;
        point.fail(n, error);
        self.armed(
            name,
            false,
            "fail_sends",
            format!("the next {n} sends fail: {error}"),
        );
        Ok(())
    }

    /// Pauses the delivery of partition `partition` of the topic `name` to
    /// every reader; publishing goes on.
    ///
    /// # Errors
    ///
    /// `InvalidName`, `NotFound`, `TypeMismatch` (a queue), `OutOfRange`.
    pub fn pause_partition(&self, name: &str, partition: u32) -> Result<(), Error> {
        self.set_paused(name, partition, true)
    }

    /// Resumes a partition [`Faults::pause_partition`] paused, waking its
    /// readers. Resuming one that is not paused does nothing.
    ///
    /// # Errors
    ///
    /// As [`Faults::pause_partition`].
    pub fn resume_partition(&self, name: &str, partition: u32) -> Result<(), Error> {
        self.set_paused(name, partition, false)
    }

    fn set_paused(&self, name: &str, partition: u32, paused: bool) -> Result<(), Error> {
        let call = if paused {
            "pause_partition"
        } else {
            "resume_partition"
        };
        let (_, n, point) = self.point(name, Some(true), call)?;
        crate::topic::check_partition(partition, n)?;
        if point.pause(partition, paused) {
            let reason = if paused { "pause" } else { "resume" };
            self.journal(Event {
                topic: Some(name.into()),
                partition: Some(partition),
                reason: Some(reason.into()),
                ..Event::new(EventKind::Fault)
            });
        }
        Ok(())
    }

    /// Disarms every delay, failure and pause of the bus; paused partitions
    /// resume. Crashes stay.
    pub fn clear(&self) {
        for (name, topic, point) in self.bus.fault_points() {
            let (fail, delay, paused) = point.armed();
            if fail.is_none() && delay == 0 && paused.is_empty() {
                continue;
            }
            point.clear();
            self.armed(&name, topic, "clear", "every fault disarmed".into());
        }
    }

    /// The faults armed now, by name.
    pub fn active(&self) -> Vec<ActiveFault> {
        let mut out = Vec::new();
        for (name, topic, point) in self.bus.fault_points() {
            let (fail, delay, paused) = point.armed();
            let base = ActiveFault {
                name: name.to_string(),
                fault: String::new(),
                remaining: None,
                error: None,
                delay_ms: None,
                partition: None,
            };
            if let Some((n, e)) = fail {
                let fault = if topic {
                    "fail_publishes"
                } else {
                    "fail_sends"
                };
                out.push(ActiveFault {
                    fault: fault.into(),
                    remaining: Some(n),
                    error: Some(e),
                    ..base.clone()
                });
            }
            if delay > 0 {
                out.push(ActiveFault {
                    fault: "delay_acks".into(),
                    delay_ms: Some(delay),
                    ..base.clone()
                });
            }
            for p in paused {
                out.push(ActiveFault {
                    fault: "pause".into(),
                    partition: Some(p),
                    ..base.clone()
                });
            }
        }
        out
    }

    /// What the faults did so far.
    pub fn figures(&self) -> FaultFigures {
        let mut f = FaultFigures {
            crashed: self
                .bus
                .inner
                .extensions
                .get::<Crashes>()
                .map_or(0, |c| c.0.load(Ordering::Relaxed)),
            ..FaultFigures::default()
        };
        for (_, _, point) in self.bus.fault_points() {
            f.failed += point.failed.load(Ordering::Relaxed);
            f.delayed_acks += point.delayed.load(Ordering::Relaxed);
            f.late_acks += point.late.load(Ordering::Relaxed);
        }
        f
    }
}
