//! Loom models of the queue engine (run with `--cfg loom`).
use super::*;
use crate::clock::ManualClock;
use loom::thread;

fn queue(capacity: usize, clock: &ManualClock) -> Arc<QueueInner<usize>> {
    let timer = Arc::new(BusTimer::new(clock.clone().into()));
    let config = QueueConfig::default().capacity(capacity);
    Arc::new(QueueInner::new(
        "q".into(),
        config,
        timer,
        None,
        None,
        Hooks::default(),
        Storage::try_new("q", capacity).unwrap(),
    ))
}

/// Send vs receive vs ack on a full queue of one slot: the second send gets in
/// only after the ack frees the slot; both messages are delivered once, in
/// order, and the queue ends empty.
#[test]
fn send_receive_ack_on_full_queue() {
    loom::model(|| {
        let clock = ManualClock::new();
        let q = queue(1, &clock);
        q.try_send(Message::new(1), None).unwrap();
        let p = q.clone();
        let producer = thread::spawn(move || {
            let mut msg = Message::new(2);
            loop {
                match p.try_send(msg, None) {
                    Ok(()) => return,
                    Err((SendRefused::Full, m)) => msg = m,
                    Err(e) => panic!("{:?}", e.0),
                }
                thread::yield_now();
            }
        });
        let c = q.clone();
        let consumer = thread::spawn(move || {
            let mut got = vec![];
            while got.len() < 2 {
                let mut out = vec![];
                if c.try_take(1, |t| out.push(t)).is_ok() {
                    for t in out {
                        got.push(t.value);
                        c.settle(t.index, t.gen, t.deadline, Settle::Ack).unwrap();
                    }
                } else {
                    thread::yield_now();
                }
            }
            got
        });
        producer.join().unwrap();
        assert_eq!(consumer.join().unwrap(), vec![1, 2]);
        let f = q.figures();
        assert_eq!((f.sent, f.acked, f.ready, f.in_flight), (2, 2, 0, 0));
    });
}

/// The visibility timeout racing a late ack: either the ack wins (the message
/// is gone) or the expiry wins (the ack fails with `Expired`, the message is
/// delivered again with attempt 2); never both, never neither.
#[test]
fn expiry_vs_late_ack() {
    loom::model(|| {
        let clock = ManualClock::new();
        let q = queue(1, &clock);
        q.try_send(Message::new(7), None).unwrap();
        let mut out = vec![];
        q.try_take(1, |t| out.push(t)).unwrap();
        let t = out.pop().unwrap();
        let c = q.clone();
        let acker = thread::spawn(move || c.settle(t.index, t.gen, t.deadline, Settle::Ack));
        clock.advance(std::time::Duration::from_secs(30));
        q.maintain(clock.now_ms());
        let acked = acker.join().unwrap();
        let mut again = vec![];
        let redelivered = q.try_take(1, |t| again.push(t)).is_ok();
        match acked {
            Ok(()) => assert!(!redelivered, "an acked message is gone"),
            Err(SettleError::Expired) => {
                assert!(redelivered);
                assert_eq!((again[0].value, again[0].attempt), (7, 2));
            }
            Err(e) => panic!("a single ack cannot fail with {e:?}"),
        }
        let f = q.figures();
        assert_eq!(f.acked + f.in_flight, 1);
    });
}
