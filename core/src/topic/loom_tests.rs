//! Loom models of the topic layer: block-mode gating and waking waiting readers.

use super::*;
use crate::sync::Ordering;
use crate::{Clock, ManualClock, RecvError, TryRecvError};
use loom::sync::atomic::{AtomicBool, AtomicUsize};
use loom::thread;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

type V = Arc<AtomicUsize>;

fn val(n: usize) -> V {
    Arc::new(AtomicUsize::new(n))
}

fn topic(on_full: OnFull, capacity: usize) -> Topic<V> {
    let timer = Arc::new(BusTimer::new(Clock::Manual(ManualClock::new())));
    let config = TopicConfig::default().capacity(capacity).on_full(on_full);
    Topic::create("t".into(), config, timer, None, None).unwrap()
}

struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Block-mode gating: a producer racing a reader on a full one-record topic never
/// evicts a record the reader has not read; the reader sees everything in order.
#[test]
fn block_gating_is_lossless() {
    loom::model(|| {
        let t = topic(OnFull::Block, 1);
        let mut sub = t.subscribe(Start::Earliest).unwrap();
        t.try_publish(val(1)).unwrap();
        let p = t.clone();
        let h = thread::spawn(move || {
            for _ in 0..2 {
                if p.try_publish(val(2)).is_ok() {
                    return 1;
                }
                thread::yield_now();
            }
            0
        });
        let mut got = vec![];
        for _ in 0..2 {
            match sub.try_recv() {
                Ok(r) => got.push(r.value.load(Ordering::Relaxed)),
                Err(TryRecvError::Empty) => thread::yield_now(),
                Err(e) => panic!("{e:?}"),
            }
        }
        let sent = h.join().unwrap();
        while let Ok(r) = sub.try_recv() {
            got.push(r.value.load(Ordering::Relaxed));
        }
        assert_eq!(got, (1..=1 + sent).collect::<Vec<_>>());
    });
}

fn waiting_reader_is_woken(act: fn(&Topic<V>)) {
    loom::model(move || {
        let t = topic(OnFull::Overwrite, 1);
        let mut sub = t.subscribe(Start::Latest).unwrap();
        let p = t.clone();
        let h = thread::spawn(move || act(&p));
        let flag = Arc::new(Flag(AtomicBool::new(false)));
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        // The future stays alive across the race: dropping it cancels its wake-up.
        let mut fut = sub.recv_async();
        let first = std::pin::Pin::new(&mut fut).poll(&mut cx);
        h.join().unwrap();
        if first.is_pending() {
            // No lost wake-up: whoever made progress woke us.
            assert!(flag.0.load(Ordering::SeqCst));
            assert!(std::pin::Pin::new(&mut fut).poll(&mut cx).is_ready());
        }
    });
}

/// A publish racing a reader that is about to wait wakes it (or it sees the record).
#[test]
fn publish_wakes_waiting_reader() {
    waiting_reader_is_woken(|t| {
        t.publish(val(7)).unwrap();
    });
}

/// A close racing a reader that is about to wait wakes it (or it sees `Closed`).
#[test]
fn close_wakes_waiting_reader() {
    waiting_reader_is_woken(|t| t.close());
    loom::model(|| {
        let t = topic(OnFull::Overwrite, 1);
        let mut sub = t.subscribe(Start::Latest).unwrap();
        t.close();
        assert!(matches!(sub.try_recv(), Err(TryRecvError::Closed)));
        assert_eq!(
            futures_executor_free_poll(&mut sub),
            Some(Err(RecvError::Closed))
        );
    });
}

fn futures_executor_free_poll(sub: &mut Subscription<V>) -> Option<Result<(), RecvError>> {
    let waker = Waker::from(Arc::new(Flag(AtomicBool::new(false))));
    let mut cx = Context::from_waker(&waker);
    let mut fut = sub.recv_async();
    match std::pin::Pin::new(&mut fut).poll(&mut cx) {
        Poll::Ready(r) => Some(r.map(|_| ())),
        Poll::Pending => None,
    }
}
