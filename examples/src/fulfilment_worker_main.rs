//! The order service's fulfilment workers in a process of their own: jobs come
//! from the Kafka topic `<prefix>fulfilment`, shipments go to
//! `<prefix>shipments` (start `order-service --kafka HOST:PORT` for the other
//! side). The workers run the same loop as inside the service
//! ([`ringlet_examples::order_service::fulfil`]); only the bridge lines are
//! new. Ctrl-C stops it: the workers finish their job, the bridge drains and
//! commits.
//!
//! usage: fulfilment-worker --kafka HOST:PORT [--kafka-prefix P] [--workers N]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ringlet::Bus;
use ringlet_examples::order_service::{fulfil, jobs_config, shipments_config, Job, Shipment};
use ringlet_kafka::{Bridge, FromKafka, KafkaConfig, ToKafka};

fn usage(why: &str) -> ! {
    eprintln!("fulfilment-worker: {why}\nusage: fulfilment-worker --kafka HOST:PORT [--kafka-prefix P] [--workers N]");
    std::process::exit(2)
}

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let (mut kafka, mut prefix, mut workers) = (None, String::new(), 2u32);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--kafka" => {
                kafka = Some(
                    args.next()
                        .unwrap_or_else(|| usage("--kafka needs HOST:PORT")),
                )
            }
            "--kafka-prefix" => {
                prefix = args
                    .next()
                    .unwrap_or_else(|| usage("--kafka-prefix needs a prefix"))
            }
            "--workers" => {
                workers = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| usage("--workers needs a number"))
            }
            other => usage(&format!("unknown argument {other:?}")),
        }
    }
    let kafka = kafka.unwrap_or_else(|| usage("--kafka is required"));
    let bus = Bus::new();
    bus.queue::<Job>(
        "fulfilment-dlq",
        ringlet::QueueConfig::default().capacity(1 << 16),
    )?;
    let jobs = bus.queue::<Job>("fulfilment", jobs_config())?;
    let shipments = bus.queue::<Shipment>("shipments", shipments_config())?;
    let bridge = Bridge::new(
        &bus,
        KafkaConfig::new(&kafka).client_id("fulfilment-worker"),
    )?;
    bridge.queue_from_kafka::<Job>(
        "fulfilment",
        FromKafka::default()
            .kafka_topic(format!("{prefix}fulfilment"))
            .group(format!("{prefix}fulfilment-workers"))
            .create_topic(3),
    )?;
    bridge.queue_to_kafka::<Shipment>(
        "shipments",
        ToKafka::default()
            .kafka_topic(format!("{prefix}shipments"))
            .partitions(3),
    )?;
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..workers)
        .map(|w| {
            let (jobs, shipments, stop) = (jobs.clone(), shipments.clone(), stop.clone());
            std::thread::spawn(move || {
                fulfil(&jobs, &shipments, w, Duration::from_millis(5), &stop)
            })
        })
        .collect();
    println!("fulfilment worker: {workers} workers on kafka:{prefix}fulfilment -> kafka:{prefix}shipments");
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let _ = tokio::signal::ctrl_c().await;
        });
    stop.store(true, Ordering::Release);
    for t in threads {
        let _ = t.join();
    }
    bridge.close()?;
    Ok(())
}
