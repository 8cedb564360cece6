//! An HTTP/1.1 client of the order service, for its tests.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde_json::Value;

/// An HTTP client of the service at an address.
pub struct Client(pub SocketAddr);

impl Client {
    /// One HTTP/1.1 request; returns the status and the JSON body (or a string).
    pub fn call(&self, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
        let mut s = TcpStream::connect(self.0).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let body = body.unwrap_or("");
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).unwrap();
        let status: u16 = resp[9..12].parse().unwrap();
        let text = &resp[resp.find("\r\n\r\n").unwrap() + 4..];
        let v = serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()));
        (status, v)
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        self.call("GET", path, None)
    }

    pub fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.call("POST", path, Some(&body.to_string()))
    }

    /// Polls `GET path` until `ok` holds (the read models are eventually
    /// consistent).
    pub fn until(&self, path: &str, ok: impl Fn(u16, &Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (st, v) = self.get(path);
            if ok(st, &v) {
                return v;
            }
            assert!(Instant::now() < deadline, "{path}: still {st} {v}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
