//! The order service on 127.0.0.1 (`PORT`, default 3000; 0 picks a free port):
//! see [`ringlet_examples::order_service`]. Ctrl-C stops it cleanly.
//!
//! `--data-dir DIR` keeps the orders and the fulfilment queue in `DIR` (they
//! survive a restart, even `kill -9`); `--workers N` sets the fulfilment
//! workers (default 4; 0 leaves the jobs queued). `--kafka HOST:PORT` sends
//! the jobs to the `fulfilment-worker` process through Kafka instead (and takes
//! its shipments back); `--kafka-prefix P` prefixes the Kafka topics' names.

use ringlet_examples::order_service::{serve, Config, Service};

fn usage(why: &str) -> ! {
    eprintln!("order-service: {why}\nusage: order-service [--data-dir DIR] [--workers N] [--kafka HOST:PORT [--kafka-prefix P]]");
    std::process::exit(2)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let port: u16 = match std::env::var("PORT") {
        Ok(p) => p
            .parse()
            .unwrap_or_else(|_| usage(&format!("PORT must be a port number, not {p:?}"))),
        Err(_) => 3000,
    };
    let mut config = Config::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--data-dir" => {
                let dir = args
                    .next()
                    .unwrap_or_else(|| usage("--data-dir needs a directory"));
                config.data_dir = Some(dir.into());
            }
            "--workers" => {
                config.workers = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| usage("--workers needs a number"));
            }
            "--kafka" => {
                config.kafka = Some(
                    args.next()
                        .unwrap_or_else(|| usage("--kafka needs HOST:PORT")),
                );
            }
            "--kafka-prefix" => {
                config.kafka_prefix = args
                    .next()
                    .unwrap_or_else(|| usage("--kafka-prefix needs a prefix"));
            }
            other => usage(&format!("unknown argument {other:?}")),
        }
    }
    let service = Service::start(config)?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    println!("order service on http://{addr}");
    println!("  curl -X POST {addr}/orders -H 'content-type: application/json' \\");
    println!("       -d '{{\"customer\":\"ada\",\"lines\":[{{\"sku\":\"tea\",\"qty\":2,\"price_cents\":350}}]}}'");
    serve(listener, service, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
