//! The order service on 127.0.0.1 (`PORT`, default 3000): see
//! [`ringlet_examples::order_service`]. Ctrl-C stops it cleanly.

use ringlet_examples::order_service::{serve, Config, Service};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let service = Service::start(Config::default())?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("order service on http://{}", listener.local_addr()?);
    println!("  curl -X POST localhost:{port}/orders -H 'content-type: application/json' \\");
    println!("       -d '{{\"customer\":\"ada\",\"lines\":[{{\"sku\":\"tea\",\"qty\":2,\"price_cents\":350}}]}}'");
    serve(listener, service, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
