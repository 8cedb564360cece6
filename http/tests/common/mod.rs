//! A server on an ephemeral loopback port, and a real HTTP client for it.

#![allow(dead_code)]

use ringlet::Bus;
use ringlet_http::HttpConfig;
use serde_json::Value;

pub struct Server {
    pub url: String,
    pub client: reqwest::Client,
    _task: tokio::task::JoinHandle<()>,
}

pub async fn serve(bus: Bus, config: HttpConfig) -> Server {
    let app = ringlet_http::router(bus, config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Server {
        url,
        client: reqwest::Client::new(),
        _task: task,
    }
}

impl Server {
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// POSTs JSON; the status and the body (as JSON, `Null` when empty).
    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .client
            .post(self.at(path))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        answer(r).await
    }

    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> (u16, Value) {
        let r = self
            .client
            .post(self.at(path))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        answer(r).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        answer(self.client.get(self.at(path)).send().await.unwrap()).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        answer(self.client.delete(self.at(path)).send().await.unwrap()).await
    }
}

pub async fn answer(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    let body = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

/// The JSON objects of a streamed (newline-separated) answer.
pub fn lines(v: &Value) -> Vec<Value> {
    match v {
        Value::String(s) => s
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect(),
        other => vec![other.clone()],
    }
}
