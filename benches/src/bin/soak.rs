//! `make soak`: a long run that counts every message and samples memory.
//!
//! One retained topic (4 partitions, `on_full = Block`) read by a consumer group
//! whose members commit, leave, and crash (stop calling until the session timeout
//! removes them, then vanish without committing), and by a share group whose
//! members ack, nack, and hold deliveries past the visibility timeout; one queue
//! with producers and consumers that ack, nack, nack with a delay, reject, and
//! hold past the timeout; dead letters drained from their queues.
//!
//! At the end every record was processed by the group (at least once) and the
//! group committed every partition to its end; every record and every queue
//! message was acked exactly once or dead-lettered exactly once; and the process's
//! resident memory after warm-up stayed within 10 % (plus 16 MB) of where it was
//! when the warm-up ended.
//!
//! `soak [--messages N] [--seconds S]` (defaults 10,000,000 and 600): the run
//! stops producing at N messages or S seconds, whichever comes first.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use ringlet::{
    Bus, GroupConfig, Message, OnFull, QueueConfig, RecvTimeoutError, ShareGroupConfig, Start,
    TopicConfig,
};

const PARTITIONS: u32 = 4;
const SESSION: Duration = Duration::from_millis(200);
const VISIBILITY: Duration = Duration::from_millis(100);

/// One bit per message.
struct Bits(Vec<AtomicU64>);

impl Bits {
    fn new(n: u64) -> Self {
        let bits = Bits((0..n.div_ceil(64)).map(|_| AtomicU64::new(0)).collect());
        // Touched now (the allocation may come zeroed and unmapped), so the
        // memory samples see it from the start instead of as growth.
        for w in &bits.0 {
            w.store(0, Ordering::Relaxed);
        }
        bits
    }
    /// Sets bit `i`; whether it was set before.
    fn set(&self, i: u64) -> bool {
        let bit = 1 << (i % 64);
        self.0[(i / 64) as usize].fetch_or(bit, Ordering::Relaxed) & bit != 0
    }
    fn get(&self, i: u64) -> bool {
        self.0[(i / 64) as usize].load(Ordering::Relaxed) & (1 << (i % 64)) != 0
    }
}

/// xorshift: each thread's own draws.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn one_in(&mut self, n: u64) -> bool {
        self.next().is_multiple_of(n)
    }
}

fn rss_mb() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0.0);
    pages * 4096.0 / (1 << 20) as f64
}

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| {
            v.replace('_', "")
                .parse()
                .unwrap_or_else(|_| panic!("{name} takes a number, not {v:?}"))
        })
        .unwrap_or(default)
}

struct Counts {
    group_seen: Bits,
    group_again: AtomicU64,
    crashes: AtomicU64,
    lagged: AtomicU64,
    acked: Bits,
    dead: Bits,
    twice: AtomicU64,
    nacks: AtomicU64,
    held: AtomicU64,
}

impl Counts {
    fn new(n: u64) -> Self {
        Counts {
            group_seen: Bits::new(n),
            group_again: AtomicU64::new(0),
            crashes: AtomicU64::new(0),
            lagged: AtomicU64::new(0),
            acked: Bits::new(n),
            dead: Bits::new(n),
            twice: AtomicU64::new(0),
            nacks: AtomicU64::new(0),
            held: AtomicU64::new(0),
        }
    }
    /// Each message ends acked once or dead-lettered once.
    fn missing(&self, n: u64) -> u64 {
        (0..n)
            .filter(|&i| self.acked.get(i) == self.dead.get(i))
            .count() as u64
    }
}

fn main() {
    let messages = arg("--messages", 10_000_000);
    let seconds = arg("--seconds", 600);
    let topic_n = messages * 6 / 10;
    let queue_n = messages - topic_n;
    let start = Instant::now();
    let stop_producing = start + Duration::from_secs(seconds);
    let bus = Bus::new();
    let orders = bus
        .topic::<u64>(
            "orders",
            TopicConfig::default()
                .partitions(PARTITIONS)
                .capacity(1 << 15)
                .on_full(OnFull::Block),
        )
        .unwrap();
    bus.queue::<u64>("share-dead", QueueConfig::default().capacity(1 << 16))
        .unwrap();
    bus.queue::<u64>("jobs-dead", QueueConfig::default().capacity(1 << 16))
        .unwrap();
    let jobs = bus
        .queue::<u64>(
            "jobs",
            QueueConfig::default()
                .capacity(4096)
                .visibility_timeout(VISIBILITY)
                .max_deliveries(5)
                .dead_letter("jobs-dead"),
        )
        .unwrap();
    let group = orders
        .group_with(
            "billing",
            GroupConfig::default()
                .start(Start::Earliest)
                .session_timeout(SESSION),
        )
        .unwrap();
    let share = orders
        .share_group_with(
            "shipping",
            ShareGroupConfig::default()
                .start(Start::Earliest)
                .visibility_timeout(VISIBILITY)
                .max_deliveries(5)
                .dead_letter("share-dead"),
        )
        .unwrap();
    let topic_counts = Arc::new(Counts::new(topic_n));
    let queue_counts = Arc::new(Counts::new(queue_n));
    let published = Arc::new(AtomicU64::new(0));
    let sent = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();

    // The consumer group: one member that stays (so the group always gates
    // the topic), two that commit, leave, and crash.
    let joined = Arc::new(std::sync::Barrier::new(3 + 2 + 1));
    for w in 0..3u64 {
        let (g, c, done, joined) = (
            group.clone(),
            topic_counts.clone(),
            done.clone(),
            joined.clone(),
        );
        threads.push(thread::spawn(move || {
            let mut rng = Rng(0x9E37_79B9 + w);
            let mut first = Some(joined);
            while !done.load(Ordering::Acquire) {
                let mut m = g.join().unwrap();
                if let Some(b) = first.take() {
                    b.wait();
                }
                let stint = if w == 0 {
                    u64::MAX
                } else {
                    1_000 + rng.next() % 200_000
                };
                let mut read = 0;
                while read < stint && !done.load(Ordering::Acquire) {
                    match m.recv_timeout(Duration::from_millis(20)) {
                        Ok(r) => {
                            if c.group_seen.set(r.value) {
                                c.group_again.fetch_add(1, Ordering::Relaxed);
                            }
                            read += 1;
                            if read % 256 == 0 {
                                let _ = m.commit();
                            }
                        }
                        Err(RecvTimeoutError::Lagged { skipped, .. }) => {
                            c.lagged.fetch_add(skipped, Ordering::Relaxed);
                        }
                        Err(_) => {
                            let _ = m.commit();
                        }
                    }
                }
                if rng.one_in(3) {
                    // A crash: no call until the session timeout removed it, then
                    // gone without a commit.
                    c.crashes.fetch_add(1, Ordering::Relaxed);
                    thread::sleep(SESSION * 2);
                    drop(m);
                } else {
                    let _ = m.commit();
                    m.leave();
                }
            }
        }));
    }
    // The share group and the queue: consumers that settle every way there is.
    for w in 0..2u64 {
        let (sg, c, done, joined) = (
            share.clone(),
            topic_counts.clone(),
            done.clone(),
            joined.clone(),
        );
        threads.push(thread::spawn(move || {
            let mut rng = Rng(0xA5A5_0000 + w);
            let m = sg.join().unwrap();
            joined.wait();
            while !done.load(Ordering::Acquire) {
                let Ok(d) = m.receive_timeout(Duration::from_millis(20)) else {
                    continue;
                };
                let v = *d.value();
                if rng.one_in(20) {
                    c.nacks.fetch_add(1, Ordering::Relaxed);
                    let _ = d.nack();
                } else if rng.one_in(50_000) {
                    c.held.fetch_add(1, Ordering::Relaxed);
                    thread::sleep(VISIBILITY + Duration::from_millis(20));
                    let _ = d.ack(); // expired: it comes again
                } else if d.ack().is_ok() && c.acked.set(v) {
                    c.twice.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for w in 0..3u64 {
        let (q, c, done) = (jobs.clone(), queue_counts.clone(), done.clone());
        threads.push(thread::spawn(move || {
            let mut rng = Rng(0x5EED_0000 + w);
            while !done.load(Ordering::Acquire) {
                let Ok(d) = q.receive_timeout(Duration::from_millis(20)) else {
                    continue;
                };
                let v = *d.value();
                match rng.next() % 100 {
                    0..=2 => {
                        c.nacks.fetch_add(1, Ordering::Relaxed);
                        let _ = d.nack();
                    }
                    3 => {
                        c.nacks.fetch_add(1, Ordering::Relaxed);
                        let _ = d.nack_after(Duration::from_millis(5));
                    }
                    4 if rng.one_in(10) => {
                        let _ = d.reject();
                    }
                    5 if rng.one_in(5_000) => {
                        c.held.fetch_add(1, Ordering::Relaxed);
                        thread::sleep(VISIBILITY + Duration::from_millis(20));
                        let _ = d.ack();
                    }
                    _ => {
                        if d.ack().is_ok() && c.acked.set(v) {
                            c.twice.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }
        }));
    }
    joined.wait();
    // Producers, once every consumer has joined (a group gates a `Block`
    // topic only while it has members): one for the topic, two for the queue.
    let mut producer_threads = Vec::new();
    {
        let (t, published) = (orders.clone(), published.clone());
        producer_threads.push(thread::spawn(move || {
            for i in 0..topic_n {
                if i % 4096 == 0 && Instant::now() >= stop_producing {
                    break;
                }
                t.publish_message(Message::new(i).partition((i % u64::from(PARTITIONS)) as u32))
                    .unwrap();
                published.fetch_add(1, Ordering::Release);
            }
        }));
    }
    for w in 0..2u64 {
        let (q, sent) = (jobs.clone(), sent.clone());
        producer_threads.push(thread::spawn(move || {
            let mut i = w;
            while i < queue_n {
                if i % 4096 < 2 && Instant::now() >= stop_producing {
                    break;
                }
                q.send(i).unwrap();
                sent.fetch_add(1, Ordering::Release);
                i += 2;
            }
        }));
    }

    // Dead letters.
    for (name, c) in [
        ("share-dead", topic_counts.clone()),
        ("jobs-dead", queue_counts.clone()),
    ] {
        let (q, done) = (bus.get_queue::<u64>(name).unwrap(), done.clone());
        threads.push(thread::spawn(move || {
            while !done.load(Ordering::Acquire) {
                if let Ok(d) = q.receive_timeout(Duration::from_millis(20)) {
                    if c.dead.set(*d.value()) {
                        c.twice.fetch_add(1, Ordering::Relaxed);
                    }
                    d.ack().unwrap();
                }
            }
        }));
    }

    // Memory, every quarter second, until everything is accounted for.
    let mut samples: Vec<(f64, f64)> = Vec::new();
    let deadline = stop_producing + Duration::from_secs(arg("--drain", 120));
    let accounted = |published: u64, sent: u64| {
        let ends = orders.end_offsets();
        let committed: Vec<u64> = group
            .committed()
            .into_iter()
            .map(|c| c.unwrap_or(0))
            .collect();
        let f = jobs.figures();
        let s = share.snapshot().figures;
        let drained = ["share-dead", "jobs-dead"].iter().all(|n| {
            let f = bus.get_queue::<u64>(n).unwrap().figures();
            f.ready + f.in_flight == 0
        });
        committed == ends
            && drained
            && s.acked + s.dead_lettered == published
            && f.acked + f.dead_lettered == sent
    };
    loop {
        thread::sleep(Duration::from_millis(250));
        samples.push((start.elapsed().as_secs_f64(), rss_mb()));
        let finished = producer_threads.iter().all(|t| t.is_finished());
        if finished
            && accounted(
                published.load(Ordering::Acquire),
                sent.load(Ordering::Acquire),
            )
        {
            break;
        }
        if Instant::now() >= deadline {
            eprintln!(
                "soak: not everything was accounted for 120 s after producing stopped: \
                 committed {:?} of {:?}; share group {:?} of {} records; queue {:?} of {} messages",
                group.committed(),
                orders.end_offsets(),
                share.snapshot(),
                published.load(Ordering::Acquire),
                jobs.figures(),
                sent.load(Ordering::Acquire)
            );
            let probe = share.join().unwrap().try_receive();
            eprintln!(
                "soak: a new share member receives {:?}",
                probe.map(|d| (d.partition(), d.offset()))
            );
            std::process::exit(1);
        }
        let p = published.load(Ordering::Relaxed) + sent.load(Ordering::Relaxed);
        if samples.len().is_multiple_of(40) {
            eprintln!(
                "soak: {:>5.0} s  {p:>10} messages  RSS {:.0} MB",
                start.elapsed().as_secs_f64(),
                rss_mb()
            );
        }
    }
    done.store(true, Ordering::Release);
    for t in producer_threads.into_iter().chain(threads) {
        t.join().unwrap();
    }
    let elapsed = start.elapsed().as_secs_f64();
    let (published, sent) = (
        published.load(Ordering::Acquire),
        sent.load(Ordering::Acquire),
    );

    // Every message accounted for.
    let tc = &topic_counts;
    let qc = &queue_counts;
    let group_missing = (0..published).filter(|&i| !tc.group_seen.get(i)).count();
    let share_missing = tc.missing(published);
    let queue_missing = qc.missing(sent);
    println!(
        "soak: {} messages in {elapsed:.0} s ({:.2} M/s)",
        published + sent,
        (published + sent) as f64 / elapsed / 1e6
    );
    println!(
        "  topic: {published} records; group: {} read again after crashes and rebalances, {} crashes, {} skipped by lag, {group_missing} never read",
        tc.group_again.load(Ordering::Relaxed),
        tc.crashes.load(Ordering::Relaxed),
        tc.lagged.load(Ordering::Relaxed)
    );
    println!(
        "  share group: {} nacks, {} held past the timeout, {} dead-lettered, {share_missing} not settled once, {} settled twice",
        tc.nacks.load(Ordering::Relaxed),
        tc.held.load(Ordering::Relaxed),
        share.snapshot().figures.dead_lettered,
        tc.twice.load(Ordering::Relaxed)
    );
    println!(
        "  queue: {sent} messages; {} nacks, {} held past the timeout, {} dead-lettered, {queue_missing} not settled once, {} settled twice",
        qc.nacks.load(Ordering::Relaxed),
        qc.held.load(Ordering::Relaxed),
        jobs.figures().dead_lettered,
        qc.twice.load(Ordering::Relaxed)
    );

    // Memory flat after warm-up (the first fifth of the run).
    let warm = samples
        .iter()
        .find(|(t, _)| *t >= elapsed / 5.0)
        .map_or(0.0, |s| s.1);
    let peak = samples
        .iter()
        .filter(|(t, _)| *t >= elapsed / 5.0)
        .map(|s| s.1)
        .fold(0.0, f64::max);
    let last = samples.last().map_or(0.0, |s| s.1);
    println!("  RSS: {warm:.0} MB after warm-up, {peak:.0} MB at most afterwards, {last:.0} MB at the end");
    let flat = peak <= warm * 1.1 + 16.0;
    let lost = share.snapshot().lost;
    println!(
        "  records lost to retention: group {}, share group {lost}",
        tc.lagged.load(Ordering::Relaxed)
    );
    let ok = group_missing == 0
        && lost == 0
        && tc.lagged.load(Ordering::Relaxed) == 0
        && share_missing == 0
        && queue_missing == 0
        && tc.twice.load(Ordering::Relaxed) == 0
        && qc.twice.load(Ordering::Relaxed) == 0
        && flat;
    if !ok {
        eprintln!(
            "soak: FAILED{}",
            if flat {
                ""
            } else {
                " (memory grew after warm-up)"
            }
        );
        std::process::exit(1);
    }
    println!("soak: every message accounted for; memory flat after warm-up");
}
