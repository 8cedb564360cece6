//! `ringlet-http`: a bus of its own, served over HTTP.
//!
//! ```text
//! ringlet-http [--listen 127.0.0.1:8082] [--data-dir DIR] [--token-file FILE]
//!              [--cors-origin ORIGIN]... [--cluster-id ID] [--max-wait-ms MS]
//!              [--max-connections N]
//! ```
//!
//! `--max-wait-ms` caps how long a consumer fetch or a queue receive waits
//! for a first record (default 30,000); `--max-connections` bounds the
//! connections open at once (default 16,384; more wait in the backlog).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use ringlet::Bus;
use ringlet_http::HttpConfig;

const USAGE: &str = "usage: ringlet-http [--listen 127.0.0.1:8082] [--data-dir DIR] [--token-file FILE] [--cors-origin ORIGIN]... [--cluster-id ID] [--max-wait-ms MS] [--max-connections N]";

struct Args {
    listen: SocketAddr,
    data_dir: Option<PathBuf>,
    token_file: Option<PathBuf>,
    cors: Vec<String>,
    cluster_id: Option<String>,
    max_wait_ms: Option<u64>,
    max_connections: Option<usize>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        listen: SocketAddr::from(([127, 0, 0, 1], 8082)),
        data_dir: None,
        token_file: None,
        cors: Vec::new(),
        cluster_id: None,
        max_wait_ms: None,
        max_connections: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (a.clone(), None),
        };
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.to_owned());
        }
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--listen" => {
                let v = value()?;
                args.listen = v.parse().map_err(|_| {
                    format!("--listen {v:?}: expected HOST:PORT, e.g. 127.0.0.1:8082")
                })?;
            }
            "--data-dir" => args.data_dir = Some(value()?.into()),
            "--token-file" => args.token_file = Some(value()?.into()),
            "--cors-origin" => args.cors.push(value()?),
            "--cluster-id" => args.cluster_id = Some(value()?),
            "--max-connections" => {
                let v = value()?;
                args.max_connections = Some(
                    v.parse()
                        .map_err(|_| format!("--max-connections {v:?}: expected a count"))?,
                );
            }
            "--max-wait-ms" => {
                let v = value()?;
                args.max_wait_ms = Some(
                    v.parse()
                        .map_err(|_| format!("--max-wait-ms {v:?}: expected milliseconds"))?,
                );
            }
            _ => return Err(format!("unknown argument {a:?}\n{USAGE}")),
        }
    }
    Ok(args)
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let mut config = HttpConfig::default();
    if let Some(id) = &args.cluster_id {
        config = config.cluster_id(id);
    }
    if let Some(ms) = args.max_wait_ms {
        config = config.max_wait(std::time::Duration::from_millis(ms));
    }
    for o in &args.cors {
        config = config.cors_origin(o);
    }
    if let Some(f) = &args.token_file {
        match std::fs::read_to_string(f) {
            Ok(t) if !t.trim().is_empty() => config = config.token(t.trim()),
            Ok(_) => {
                eprintln!("ringlet-http: the token file {} is empty", f.display());
                return ExitCode::from(2);
            }
            Err(e) => {
                eprintln!(
                    "ringlet-http: cannot read the token file {}: {e}",
                    f.display()
                );
                return ExitCode::from(2);
            }
        }
    }
    let bus = match &args.data_dir {
        None => Bus::new(),
        Some(dir) => match ringlet_store::Dir::open(dir) {
            Ok(store) => {
                config = config.durable(dir);
                Bus::builder().storage(store).build()
            }
            Err(e) => {
                eprintln!(
                    "ringlet-http: cannot open the data directory {}: {e}",
                    dir.display()
                );
                return ExitCode::from(1);
            }
        },
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ringlet-http: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        let app = ringlet_http::try_router(bus.clone(), config).map_err(|e| e.to_string())?;
        let listener = ringlet_http::bind(args.listen)
            .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        println!("ringlet-http: serving on http://{addr} (cluster id in /v3/clusters)");
        let limits = ringlet_http::ServeLimits {
            max_connections: args
                .max_connections
                .unwrap_or(ringlet_http::ServeLimits::default().max_connections),
            ..Default::default()
        };
        ringlet_http::serve(listener, app, shutdown(), limits)
            .await
            .map_err(|e| e.to_string())
    });
    let closed = bus.close();
    match (result, closed) {
        (Ok(()), Ok(())) => ExitCode::SUCCESS,
        (Err(e), _) => {
            eprintln!("ringlet-http: {e}");
            ExitCode::from(1)
        }
        (_, Err(e)) => {
            eprintln!("ringlet-http: closing the data directory: {e}");
            ExitCode::from(1)
        }
    }
}
