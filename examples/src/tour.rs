//! A terminal walk-through of Ringlet's topics and queues, on the real engine.
//!
//! `make tour` (or `cargo run -p ringlet-examples --bin tour`). A manual clock makes
//! every timestamp, and so the whole output, the same on every run.

use std::time::Duration;

use ringlet::journal::{Event, JOURNAL_TOPIC};
use ringlet::{
    partition_for_key, Bus, GroupConfig, ManualClock, Message, OnFull, PublishError, QueueConfig,
    RecvError, ShareGroupConfig, Start, TopicConfig,
};

fn chapter(n: u32, title: &str, text: &str) {
    println!("\n\x1b[1m{n}. {title}\x1b[0m");
    for line in text.lines() {
        println!("   \x1b[2m{line}\x1b[0m");
    }
}

/// Chapter 13's crashing process: publishes to a durable topic, commits as a
/// group, then aborts (no destructor runs, nothing is flushed or closed).
fn crash_child(dir: &str) -> Result<(), Box<dyn std::error::Error>> {
    let bus = Bus::builder()
        .storage(ringlet_store::Dir::open(dir)?)
        .build();
    let orders = bus.durable_topic::<String>("orders", TopicConfig::default())?;
    for item in ["tea", "scone", "cake"] {
        let r = orders.publish(format!("ordered {item}"))?;
        println!(
            "   [crashing process] publish \"ordered {item}\" -> offset {}",
            r.offset
        );
    }
    let mut billing = orders.group("billing")?.join()?;
    billing.commit_offsets(&[(0, 1)])?;
    println!("   [crashing process] group billing committed offset 1, then the process aborts");
    std::process::abort();
}

/// Chapter 13: a durable topic and its group's commits outlive a crashed process.
fn durability() -> Result<(), Box<dyn std::error::Error>> {
    chapter(
        13,
        "Surviving a crash",
        "A durable topic writes each record to its log before publish returns.\nA process that dies without closing anything loses nothing it confirmed.",
    );
    let dir = std::env::temp_dir().join(format!("ringlet-tour-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = std::process::Command::new(std::env::current_exe()?)
        .env("RINGLET_TOUR_CRASH", &dir)
        .output()?;
    print!("{}", String::from_utf8_lossy(&out.stdout));
    println!(
        "   the process ended by signal: {}",
        !out.status.success() && out.status.code().is_none()
    );
    {
        let bus = Bus::builder()
            .storage(ringlet_store::Dir::open(&dir)?)
            .build();
        let orders = bus.durable_topic::<String>("orders", TopicConfig::default())?;
        let mut replay = orders.subscribe(Start::Earliest)?;
        while let Ok(r) = replay.try_recv() {
            println!("   after the restart: offset {} {:?}", r.offset, r.value);
        }
        let mut billing = orders.group("billing")?.join()?;
        let resumed: Vec<String> =
            std::iter::from_fn(|| billing.try_recv().ok().map(|r| r.value)).collect();
        println!("   group billing resumes from its committed offset: {resumed:?}");
        println!(
            "   the next publish continues the offsets: {}",
            orders.publish("ordered pie".into())?.offset
        );
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if let Ok(dir) = std::env::var("RINGLET_TOUR_CRASH") {
        return crash_child(&dir);
    }
    println!("\x1b[1mRinglet tour\x1b[0m — Kafka's ideas, in one process, on a lock-free core.");
    let clock = ManualClock::starting_at(1_700_000_000_000);
    let bus = Bus::builder().clock(clock.clone()).journal(10_000).build();

    chapter(1, "An event stream", "A topic is an append-only log. Producers publish events; each gets an offset.\nReading never removes anything.");
    let orders = bus.topic::<String>("orders", TopicConfig::default())?;
    let mut billing = orders.subscribe(Start::Earliest)?;
    for item in ["coffee", "bagel", "juice"] {
        clock.advance(Duration::from_millis(250));
        let r = orders.publish(format!("ordered {item}"))?;
        println!(
            "   publish {:<17} -> partition {} offset {}",
            format!("\"ordered {item}\""),
            r.partition,
            r.offset
        );
    }
    for _ in 0..3 {
        let rec = billing.recv()?;
        println!(
            "   billing reads offset {} @ {} ms: {}",
            rec.offset, rec.timestamp, rec.value
        );
    }

    chapter(
        2,
        "Replay",
        "Records are retained, so a new reader can start from the beginning — or anywhere.",
    );
    let mut analytics = orders.subscribe(Start::Earliest)?;
    let all: Vec<String> = analytics
        .try_recv_batch(10)?
        .into_iter()
        .map(|r| r.value)
        .collect();
    println!("   a new subscription from Earliest replays: {all:?}");
    let mut from_one = orders.subscribe(Start::Offset(1))?;
    println!(
        "   one from offset 1 starts at: {:?}",
        from_one.recv()?.value
    );
    let mut live = orders.subscribe(Start::Latest)?;
    println!(
        "   one from Latest sees only what comes next: {:?}",
        live.try_recv().ok().map(|r| r.value)
    );

    chapter(3, "Keys choose partitions", "A topic splits into partitions; order holds within each.\nA key always lands on the same partition — Kafka's murmur2 partitioner, same numbers as Kafka.");
    let payments = bus.topic::<u32>("payments", TopicConfig::default().partitions(3))?;
    for (customer, amount) in [
        ("alice", 30),
        ("bob", 12),
        ("alice", 7),
        ("carol", 99),
        ("bob", 5),
    ] {
        let r = payments.publish_message(Message::new(amount).key(customer))?;
        println!(
            "   key {customer:<6} -> partition {} (murmur2 says {}) offset {}",
            r.partition,
            partition_for_key(customer.as_bytes(), 3),
            r.offset
        );
    }
    println!("   end offsets per partition: {:?}", payments.end_offsets());

    chapter(4, "Lag on a small ring", "Retention is bounded: the oldest records are evicted.\nA reader that falls behind is told exactly how many it missed, then continues.");
    let ticks = bus.topic::<u32>("ticks", TopicConfig::default().capacity(4))?;
    let mut slow = ticks.subscribe(Start::Earliest)?;
    ticks.publish_batch(0..10)?;
    println!(
        "   published 10 ticks into a ring of 4; the ring now holds offsets {}..{}",
        ticks.earliest_offsets()[0],
        ticks.end_offsets()[0]
    );
    match slow.recv() {
        Err(RecvError::Lagged { partition, skipped }) => {
            println!("   slow reader: Lagged {{ partition: {partition}, skipped: {skipped} }}")
        }
        other => println!("   unexpected: {other:?}"),
    }
    let rest: Vec<u32> = slow
        .try_recv_batch(10)?
        .into_iter()
        .map(|r| r.value)
        .collect();
    println!("   then it reads what is retained: {rest:?}");

    chapter(5, "Block vs overwrite", "Overwrite (the default) never makes producers wait.\nBlock keeps every record for live readers: a full topic waits (or try_publish says Full).");
    let jobs = bus.topic::<u32>(
        "audit",
        TopicConfig::default().capacity(3).on_full(OnFull::Block),
    )?;
    let mut auditor = jobs.subscribe(Start::Earliest)?;
    for i in 0..3 {
        jobs.publish(i)?;
    }
    match jobs.try_publish(3) {
        Err(PublishError::Full(v)) => {
            println!("   block topic full: try_publish({v}) -> Full, the value handed back")
        }
        other => println!("   unexpected: {other:?}"),
    }
    println!("   the auditor reads {}", auditor.recv()?.value);
    println!(
        "   now there is room: try_publish(3) -> offset {}",
        jobs.try_publish(3)?.offset
    );
    let lossy = bus.topic::<u32>("lossy", TopicConfig::default().capacity(3))?;
    let _idle = lossy.subscribe(Start::Earliest)?;
    lossy.publish_batch(0..100)?;
    println!(
        "   overwrite topic with an idle reader: 100 published, oldest retained offset {}",
        lossy.earliest_offsets()[0]
    );

    chapter(
        6,
        "Time",
        "With a manual clock, time moves only when you say so: max_age expiry is exact.",
    );
    let sessions = bus.topic::<&str>(
        "sessions",
        TopicConfig::default().max_age(Duration::from_secs(30)),
    )?;
    sessions.publish("login alice")?;
    clock.advance(Duration::from_secs(20));
    sessions.publish("login bob")?;
    clock.advance(Duration::from_secs(15));
    let mut s = sessions.subscribe(Start::Earliest)?;
    println!(
        "   35 s later, alice's login (older than 30 s) has expired: earliest reads {:?}",
        s.recv()?.value
    );

    chapter(
        7,
        "Close",
        "Closing a topic stops producers; readers drain what is retained, then see Closed.",
    );
    orders.publish("ordered tea".into())?;
    orders.close();
    let last: Vec<String> = billing.iter().map(|r| r.value).collect();
    println!("   billing drains {last:?}, then: {:?}", billing.recv());
    println!(
        "   publish after close: {:?}",
        orders.publish("late".into()).map_err(|e| e.to_string())
    );

    chapter(
        8,
        "A queue: competing consumers",
        "A queue hands each message to one consumer at a time; it is removed only when acked.\nA topic broadcasts; a queue shares the work.",
    );
    let config = QueueConfig::default()
        .visibility_timeout(Duration::from_secs(30))
        .max_deliveries(3)
        .dead_letter("jobs.dlq");
    let jobs = bus.queue::<String>("jobs", config.clone());
    // The dead letter must exist first: the bus refuses a dangling one.
    println!(
        "   a queue whose dead letter does not exist yet: {}",
        jobs.map(|_| ()).map_err(|e| e.to_string()).unwrap_err()
    );
    let dlq = bus.queue::<String>("jobs.dlq", QueueConfig::default())?;
    let jobs = bus.queue::<String>("jobs", config)?;
    for photo in ["cat.jpg", "dog.jpg", "owl.jpg", "fox.jpg"] {
        jobs.send(format!("resize {photo}"))?;
    }
    let workers = ["worker-a", "worker-b"];
    for round in 0..2 {
        for w in workers {
            let d = jobs.receive()?;
            println!("   {w} takes {:?} (attempt {})", d.value(), d.attempt());
            if round == 0 || w == "worker-a" {
                d.ack()?;
            } else {
                // worker-b crashes holding its delivery: nothing is acked.
                std::mem::forget(d);
                println!("   worker-b crashes before acking");
            }
        }
    }

    chapter(
        9,
        "Redelivery, poison messages, delays",
        "An unacked delivery comes back after the visibility timeout; a message that keeps failing\nis dead-lettered with headers saying why. A delayed message waits on the bus clock.",
    );
    clock.advance(Duration::from_secs(30));
    let again = jobs.receive()?;
    println!(
        "   30 s later worker-a gets {:?} again (attempt {})",
        again.value(),
        again.attempt()
    );
    again.ack()?;
    jobs.send("resize corrupt.gif".into())?;
    for _ in 0..3 {
        let d = jobs.receive()?;
        println!("   {:?} fails on attempt {}", d.value(), d.attempt());
        d.nack()?;
    }
    let dead = dlq.receive()?;
    let header =
        |n: &str| String::from_utf8_lossy(dead.headers().get(n).unwrap_or_default()).into_owned();
    println!(
        "   dead letter: {:?} reason={} attempts={} source={}",
        dead.value(),
        header("ringlet.dead_letter.reason"),
        header("ringlet.dead_letter.attempts"),
        header("ringlet.dead_letter.source")
    );
    dead.ack()?;
    jobs.send_delayed("send reminder email".to_string(), Duration::from_secs(60))?;
    println!(
        "   a delayed job: ready now = {}, delayed = {}",
        jobs.len(),
        jobs.figures().delayed
    );
    clock.advance(Duration::from_secs(60));
    let reminder = jobs.receive()?;
    println!("   60 s later: {:?}", reminder.value());
    reminder.ack()?;
    println!("   figures: {:?}", jobs.figures());

    chapter(
        10,
        "Consumer groups",
        "A group shares a topic's partitions among its members: each partition has one owner.\nWhen a member leaves, its partitions move, and the new owner resumes from the committed offset.",
    );
    let invoices = bus.topic::<String>("invoices", TopicConfig::default().partitions(4))?;
    let group = invoices.group_with("ledger", GroupConfig::default().start(Start::Earliest))?;
    let mut ann = group.join()?;
    let mut bob = group.join()?;
    println!(
        "   ann owns {:?}, bob owns {:?}",
        ann.assignment(),
        bob.assignment()
    );
    for i in 0..8 {
        invoices.publish_message(Message::new(format!("invoice {i}")).partition(i % 4))?;
    }
    let mut read = 0;
    while let Ok(r) = bob.try_recv() {
        read += 1;
        if read == 2 {
            bob.commit()?; // commits the two records read so far
            println!(
                "   bob read 2 records and committed: committed offsets {:?}",
                group.committed()
            );
        }
        let _ = r;
    }
    println!("   bob read {read} records in all, but committed only the first two");
    bob.leave();
    println!("   bob leaves: ann now owns {:?}", ann.assignment());
    let mut again = vec![];
    while let Ok(r) = ann.try_recv() {
        if r.partition >= 2 {
            again.push(format!("p{}@{}", r.partition, r.offset));
        }
    }
    ann.commit()?;
    println!("   ann reads bob's uncommitted records again (at-least-once): {again:?}");
    println!(
        "   committed offsets now {:?}, lag {:?}",
        group.committed(),
        group.lag()
    );

    chapter(
        11,
        "Share groups",
        "A share group reads a retained topic like a queue: each record goes to one member at a time,\nacked or redelivered, while the topic stays readable by everyone else.",
    );
    let tasks = bus.topic::<String>("tasks", TopicConfig::default().partitions(2))?;
    let crew =
        tasks.share_group_with("crew", ShareGroupConfig::default().start(Start::Earliest))?;
    let (kim, lee) = (crew.join()?, crew.join()?);
    for t in ["paint fence", "mow lawn", "fix tap"] {
        tasks.publish(t.to_string())?;
    }
    let k = kim.try_receive()?;
    let l = lee.try_receive()?;
    println!(
        "   kim gets {:?} (partition {:?}, offset {:?}); lee gets {:?}",
        k.value(),
        k.partition(),
        k.offset(),
        l.value()
    );
    k.ack()?;
    l.nack()?; // lee gives it back
    let k2 = kim.try_receive()?;
    println!(
        "   lee nacks: kim gets {:?} (attempt {})",
        k2.value(),
        k2.attempt()
    );
    k2.ack()?;
    let last = lee.try_receive()?;
    println!("   lee gets {:?}", last.value());
    last.ack()?;
    let mut audit = tasks.subscribe(Start::Earliest)?;
    println!(
        "   the topic still holds all {} tasks for any other reader",
        std::iter::from_fn(|| audit.try_recv().ok()).count()
    );

    chapter(
        12,
        "Seeing inside",
        "bus.snapshot() describes everything; the journal records every transition as an event.",
    );
    let snap = bus.snapshot();
    for t in &snap.topics {
        let ends: Vec<u64> = t.partitions.iter().map(|p| p.latest).collect();
        println!(
            "   topic {:<10} end offsets {:?}, {} group(s), {} share group(s)",
            t.name,
            ends,
            t.groups.len(),
            t.share_groups.len()
        );
    }
    for q in &snap.queues {
        println!(
            "   queue {:<10} acked {} dead-lettered {}",
            q.name, q.figures.acked, q.figures.dead_lettered
        );
    }
    let mut journal = bus
        .get_topic::<Event>(JOURNAL_TOPIC)?
        .subscribe(Start::Earliest)?;
    let events: Vec<Event> =
        std::iter::from_fn(|| journal.try_recv().ok().map(|r| r.value)).collect();
    println!(
        "   the journal holds {} events; the last rebalance:",
        events.len()
    );
    if let Some(e) = events
        .iter()
        .rev()
        .find(|e| e.kind == ringlet::journal::EventKind::Rebalance)
    {
        println!("   {}", serde_json::to_string(e)?);
    }

    durability()?;

    println!("\nTopics and queues on this bus: {:?}", bus.names());
    println!(
        "Next: `make test` runs every check; `make bench` measures Ringlet against its peers."
    );
    Ok(())
}
