//! Values as they cross HTTP ([`Payload`]) and how a topic's or queue's value
//! type turns into them and back ([`Format`]).

use std::borrow::Cow;

use base64::Engine as _;
use serde::{de::DeserializeOwned, Serialize};

/// Base64 as REST Proxy writes it (standard alphabet, padded).
pub(crate) const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A value in one of REST Proxy's embedded formats: what a produce request
/// carries (`{"type": "JSON" | "STRING" | "BINARY", "data": …}`) and what a
/// consumer is handed.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// A JSON document.
    Json(serde_json::Value),
    /// Text.
    String(String),
    /// Bytes (base64 in JSON bodies).
    Binary(Vec<u8>),
}

/// The value type of topics and queues created over HTTP: a [`Payload`], or
/// `None` for a record without a value (Kafka's null value; a tombstone in a
/// compacted topic).
pub type HttpValue = Option<Payload>;

impl Payload {
    /// REST Proxy's name of the format: `JSON`, `STRING` or `BINARY`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Payload::Json(_) => "JSON",
            Payload::String(_) => "STRING",
            Payload::Binary(_) => "BINARY",
        }
    }

    /// The bytes Kafka would hold: a JSON document serialized, text as UTF-8.
    pub fn to_bytes(&self) -> Cow<'_, [u8]> {
        match self {
            Payload::Json(v) => Cow::Owned(serde_json::to_vec(v).unwrap_or_default()),
            Payload::String(s) => Cow::Borrowed(s.as_bytes()),
            Payload::Binary(b) => Cow::Borrowed(b),
        }
    }

    /// How many bytes [`Payload::to_bytes`] gives.
    pub fn size(&self) -> usize {
        match self {
            Payload::Json(v) => {
                let mut n = Count(0);
                let _ = serde_json::to_writer(&mut n, v);
                n.0
            }
            Payload::String(s) => s.len(),
            Payload::Binary(b) => b.len(),
        }
    }

    /// The value as a JSON-format consumer sees it: a JSON document as
    /// itself, text as a JSON string, bytes as the JSON document they hold or,
    /// when they hold none, as a base64 string.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Payload::Json(v) => v.clone(),
            Payload::String(s) => serde_json::Value::String(s.clone()),
            Payload::Binary(b) => serde_json::from_slice(b)
                .unwrap_or_else(|_| serde_json::Value::String(B64.encode(b))),
        }
    }

    /// The value as a binary-format consumer sees it: base64 of its bytes.
    pub fn to_base64(&self) -> String {
        B64.encode(self.to_bytes())
    }

    /// `{"type": …, "data": …}`, the v3 shape (BINARY data in base64).
    pub fn to_typed(&self) -> serde_json::Value {
        let data = match self {
            Payload::Json(v) => v.clone(),
            Payload::String(s) => serde_json::Value::String(s.clone()),
            Payload::Binary(b) => serde_json::Value::String(B64.encode(b)),
        };
        serde_json::json!({ "type": self.type_name(), "data": data })
    }
}

/// A writer that only counts.
struct Count(usize);

impl std::io::Write for Count {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// How values of type `T` become [`Payload`]s and back. [`Native`] serves
/// [`HttpValue`] (the type of everything created over HTTP), [`Json`] any
/// serde type; a binding implements it for its own value type.
///
/// Called outside the bus's locks, on the server's threads.
pub trait Format<T>: Send + Sync + 'static {
    /// The value for what a request carried (`None`: the request had no value).
    ///
    /// # Errors
    ///
    /// Why it is not a value of this type, in the client's words.
    fn decode(&self, value: HttpValue) -> Result<T, String>;

    /// What a consumer is handed for `value`.
    ///
    /// # Errors
    ///
    /// Why the value cannot be shown over HTTP.
    fn encode(&self, value: &T) -> Result<HttpValue, String>;

    /// [`Format::encode`] of a value the caller owns (a record read from a
    /// topic): a format that keeps values as they are moves it instead of
    /// copying it.
    ///
    /// # Errors
    ///
    /// As [`Format::encode`].
    fn encode_owned(&self, value: T) -> Result<HttpValue, String> {
        self.encode(&value)
    }
}

/// A payload as a JSON-format consumer sees it ([`Payload::to_json`]),
/// written without copying the document.
pub(crate) struct JsonView<'a>(pub &'a Payload);

impl serde::Serialize for JsonView<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Payload::Json(v) => v.serialize(s),
            Payload::String(t) => s.serialize_str(t),
            Payload::Binary(_) => self.0.to_json().serialize(s),
        }
    }
}

/// The format of [`HttpValue`]: values kept as they came.
#[derive(Debug, Clone, Copy, Default)]
pub struct Native;

impl Format<HttpValue> for Native {
    fn decode(&self, value: HttpValue) -> Result<HttpValue, String> {
        Ok(value)
    }

    fn encode(&self, value: &HttpValue) -> Result<HttpValue, String> {
        Ok(value.clone())
    }

    fn encode_owned(&self, value: HttpValue) -> Result<HttpValue, String> {
        Ok(value)
    }
}

/// Values of a serde type, as JSON: a request's JSON document, or text or
/// bytes holding one (text is first tried as a JSON string, so a `String`
/// topic takes `STRING` values as they are).
#[derive(Debug, Clone, Copy, Default)]
pub struct Json;

impl<T: Serialize + DeserializeOwned + 'static> Format<T> for Json {
    fn decode(&self, value: HttpValue) -> Result<T, String> {
        let what = std::any::type_name::<T>();
        let bad = |e: serde_json::Error| format!("the value is not a {what}: {e}");
        match value {
            None => serde_json::from_value(serde_json::Value::Null)
                .map_err(|_| format!("a value is required: this topic holds {what} values")),
            Some(Payload::Json(v)) => serde_json::from_value(v).map_err(bad),
            Some(Payload::String(s)) => {
                serde_json::from_value(serde_json::Value::String(s.clone()))
                    .or_else(|_| serde_json::from_str(&s))
                    .map_err(bad)
            }
            Some(Payload::Binary(b)) => serde_json::from_slice(&b).map_err(bad),
        }
    }

    fn encode(&self, value: &T) -> Result<HttpValue, String> {
        match serde_json::to_value(value) {
            Ok(serde_json::Value::Null) => Ok(None),
            Ok(v) => Ok(Some(Payload::Json(v))),
            Err(e) => Err(format!("the value cannot be written as JSON: {e}")),
        }
    }
}

/// How topics and queues created over HTTP are made: their value type and
/// where they are stored. [`Native`] (the default) makes them of
/// [`HttpValue`]; a binding makes them of its own value type (whose
/// [`Format`] it registers with [`HttpConfig::values`](crate::HttpConfig::values)).
pub trait Create: Send + Sync + 'static {
    /// Creates the topic `name` (`durable`: on the bus's storage; a compacted
    /// config makes values without content tombstones).
    ///
    /// # Errors
    ///
    /// The core's, as `Bus::topic` gives them.
    fn topic(
        &self,
        bus: &ringlet::Bus,
        name: &str,
        config: ringlet::TopicConfig,
        durable: bool,
    ) -> Result<(), ringlet::Error>;

    /// Creates the queue `name` (`durable`: on the bus's storage).
    ///
    /// # Errors
    ///
    /// The core's, as `Bus::queue` gives them.
    fn queue(
        &self,
        bus: &ringlet::Bus,
        name: &str,
        config: ringlet::QueueConfig,
        durable: bool,
    ) -> Result<(), ringlet::Error>;
}

impl Create for Native {
    fn topic(
        &self,
        bus: &ringlet::Bus,
        name: &str,
        config: ringlet::TopicConfig,
        durable: bool,
    ) -> Result<(), ringlet::Error> {
        match (durable, config.compacted) {
            (false, false) => bus.topic::<HttpValue>(name, config).map(drop),
            (false, true) => bus
                .topic_with_tombstones::<HttpValue>(name, config, Option::is_none)
                .map(drop),
            (true, false) => bus
                .durable_topic_with::<HttpValue>(name, config, PayloadCodec)
                .map(drop),
            (true, true) => bus
                .durable_topic_with_tombstones::<HttpValue>(
                    name,
                    config,
                    PayloadCodec,
                    Option::is_none,
                )
                .map(drop),
        }
    }

    fn queue(
        &self,
        bus: &ringlet::Bus,
        name: &str,
        config: ringlet::QueueConfig,
        durable: bool,
    ) -> Result<(), ringlet::Error> {
        if durable {
            bus.durable_queue_with::<HttpValue>(name, config, PayloadCodec)
                .map(drop)
        } else {
            bus.queue::<HttpValue>(name, config).map(drop)
        }
    }
}

/// The storage codec of [`HttpValue`] (durable topics and queues created by
/// the `ringlet-http` binary with `--data-dir`): one tag byte (0 no value,
/// 1 JSON, 2 text, 3 bytes), then the bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct PayloadCodec;

impl ringlet::storage::Codec<HttpValue> for PayloadCodec {
    fn name(&self) -> &str {
        "ringlet-http"
    }

    fn value_type(&self) -> String {
        "ringlet_http::HttpValue".to_owned()
    }

    fn encode(&self, value: &HttpValue) -> Result<Vec<u8>, String> {
        let (tag, bytes) = match value {
            None => return Ok(vec![0]),
            Some(p @ Payload::Json(_)) => (1, p.to_bytes()),
            Some(p @ Payload::String(_)) => (2, p.to_bytes()),
            Some(p @ Payload::Binary(_)) => (3, p.to_bytes()),
        };
        let mut out = Vec::with_capacity(1 + bytes.len());
        out.push(tag);
        out.extend_from_slice(&bytes);
        Ok(out)
    }

    fn decode(&self, bytes: &[u8]) -> Result<HttpValue, String> {
        match bytes.split_first() {
            Some((0, [])) => Ok(None),
            Some((1, b)) => serde_json::from_slice(b)
                .map(|v| Some(Payload::Json(v)))
                .map_err(|e| format!("stored JSON value: {e}")),
            Some((2, b)) => String::from_utf8(b.to_vec())
                .map(|s| Some(Payload::String(s)))
                .map_err(|e| format!("stored text value: {e}")),
            Some((3, b)) => Ok(Some(Payload::Binary(b.to_vec()))),
            _ => Err("not a value stored by ringlet-http".to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringlet::storage::Codec;

    #[test]
    fn codec_round_trips() {
        for v in [
            None,
            Some(Payload::Json(serde_json::json!({"a": [1, 2]}))),
            Some(Payload::String("héllo".into())),
            Some(Payload::Binary(vec![0, 255, 3])),
        ] {
            assert_eq!(
                PayloadCodec.decode(&PayloadCodec.encode(&v).unwrap()),
                Ok(v)
            );
        }
        assert!(PayloadCodec.decode(&[9]).is_err());
        assert!(PayloadCodec.decode(&[]).is_err());
    }

    #[test]
    fn json_format_takes_every_shape() {
        let f = Json;
        let from = |p| Format::<u32>::decode(&f, Some(p));
        assert_eq!(from(Payload::Json(serde_json::json!(7))), Ok(7));
        assert_eq!(from(Payload::String("7".into())), Ok(7));
        assert_eq!(from(Payload::Binary(b"7".to_vec())), Ok(7));
        assert!(from(Payload::String("x".into()))
            .unwrap_err()
            .contains("not a u32"));
        assert!(Format::<u32>::decode(&f, None)
            .unwrap_err()
            .contains("required"));
        assert_eq!(Format::<Option<u32>>::decode(&f, None), Ok(None));
        let s: String = Format::<String>::decode(&f, Some(Payload::String("x".into()))).unwrap();
        assert_eq!(s, "x");
    }

    #[test]
    fn json_consumers_see_bytes_as_json_or_base64() {
        assert_eq!(
            Payload::Binary(b"[1]".to_vec()).to_json(),
            serde_json::json!([1])
        );
        assert_eq!(
            Payload::Binary(vec![0xff]).to_json(),
            serde_json::json!("/w==")
        );
        assert_eq!(Payload::String("a".into()).to_base64(), "YQ==");
    }
}
