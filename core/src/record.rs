//! Records, keys, headers, messages and receipts.

use std::fmt;
use std::sync::Arc;

/// A record key: bytes, remembering whether they were given as text.
///
/// Partitioning hashes the bytes (UTF-8 for text keys), so a text key and the same
/// bytes given as a byte key land on the same partition. Bindings use
/// [`Key::is_text`] to hand a text key back as a string. Cloning is cheap (a
/// reference count).
///
/// # Examples
///
/// ```
/// use ringlet::Key;
/// let k = Key::from("customer-42");
/// assert!(k.is_text());
/// assert_eq!(k.as_str(), Some("customer-42"));
/// let b = Key::from(vec![0xff, 0x00]);
/// assert!(!b.is_text());
/// assert_eq!(b.as_bytes(), &[0xff, 0x00]);
/// assert_eq!(Key::from("a").as_bytes(), Key::from(b"a".to_vec()).as_bytes());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Key(Arc<KeyData>);

#[derive(PartialEq, Eq, Hash)]
enum KeyData {
    Text(Box<str>),
    Bytes(Box<[u8]>),
}

impl Key {
    /// The key's bytes (UTF-8 for a text key).
    pub fn as_bytes(&self) -> &[u8] {
        match &*self.0 {
            KeyData::Text(s) => s.as_bytes(),
            KeyData::Bytes(b) => b,
        }
    }

    /// The key as text, if it was given as text.
    pub fn as_str(&self) -> Option<&str> {
        match &*self.0 {
            KeyData::Text(s) => Some(s),
            KeyData::Bytes(_) => None,
        }
    }

    /// Whether the key was given as text.
    pub fn is_text(&self) -> bool {
        matches!(&*self.0, KeyData::Text(_))
    }
}

impl From<&str> for Key {
    fn from(s: &str) -> Self {
        Key(Arc::new(KeyData::Text(s.into())))
    }
}

impl From<String> for Key {
    fn from(s: String) -> Self {
        Key(Arc::new(KeyData::Text(s.into_boxed_str())))
    }
}

impl From<&[u8]> for Key {
    fn from(b: &[u8]) -> Self {
        Key(Arc::new(KeyData::Bytes(b.into())))
    }
}

impl From<Vec<u8>> for Key {
    fn from(b: Vec<u8>) -> Self {
        Key(Arc::new(KeyData::Bytes(b.into_boxed_slice())))
    }
}

impl<const N: usize> From<&[u8; N]> for Key {
    fn from(b: &[u8; N]) -> Self {
        Key::from(&b[..])
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.0 {
            KeyData::Text(s) => fmt::Debug::fmt(s, f),
            KeyData::Bytes(b) => write!(f, "b{:?}", String::from_utf8_lossy(b)),
        }
    }
}

/// Ordered record headers: name → bytes pairs, names may repeat (as in Kafka).
///
/// Empty headers allocate nothing; cloning is cheap (a reference count).
///
/// # Examples
///
/// ```
/// use ringlet::Headers;
/// let h = Headers::new().with("source", "web").with("trace", vec![1u8, 2]);
/// assert_eq!(h.get("source"), Some(&b"web"[..]));
/// assert_eq!(h.len(), 2);
/// assert_eq!(h.iter().map(|(n, _)| n).collect::<Vec<_>>(), ["source", "trace"]);
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Headers(Option<Arc<Vec<Header>>>);

/// One header: a name and its bytes.
type Header = (Box<str>, Box<[u8]>);

impl Headers {
    /// No headers.
    pub const fn new() -> Self {
        Headers(None)
    }

    /// Appends a header.
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) {
        let v = Arc::make_mut(self.0.get_or_insert_with(Default::default));
        v.push((
            name.into().into_boxed_str(),
            value.into().into_boxed_slice(),
        ));
    }

    /// Appends a header, builder style.
    #[must_use]
    pub fn with(mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        self.push(name, value);
        self
    }

    /// The value of the last header with this name.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.iter().rev().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// The headers in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&str, &[u8])> + '_ {
        self.0
            .iter()
            .flat_map(|v| v.iter())
            .map(|(n, v)| (&**n, &**v))
    }

    /// How many headers there are.
    pub fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |v| v.len())
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|(n, v)| (n, String::from_utf8_lossy(v))))
            .finish()
    }
}

impl<N: Into<String>, V: Into<Vec<u8>>> FromIterator<(N, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Self {
        let mut h = Headers::new();
        for (n, v) in iter {
            h.push(n, v);
        }
        h
    }
}

/// Where a published record landed.
///
/// # Examples
///
/// ```
/// use ringlet::{Bus, TopicConfig};
/// let bus = Bus::new();
/// let t = bus.topic::<u32>("t", TopicConfig::default())?;
/// let r = t.publish(7).unwrap();
/// assert_eq!((r.partition, r.offset), (0, 0));
/// # Ok::<(), ringlet::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Receipt {
    /// The partition.
    pub partition: u32,
    /// The record's offset in that partition.
    pub offset: u64,
}

/// A record read from a topic.
///
/// # Examples
///
/// ```
/// use ringlet::{Bus, Message, Start, TopicConfig};
/// let bus = Bus::new();
/// let t = bus.topic::<&str>("t", TopicConfig::default())?;
/// t.publish_message(Message::new("hi").key("k").header("h", "v").timestamp(5)).unwrap();
/// let rec = t.subscribe(Start::Earliest)?.try_recv().unwrap();
/// assert_eq!((rec.offset, rec.timestamp, rec.value), (0, 5, "hi"));
/// assert_eq!(rec.key.unwrap().as_str(), Some("k"));
/// assert_eq!(rec.headers.get("h"), Some(&b"v"[..]));
/// # Ok::<(), ringlet::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Record<T> {
    /// The partition it was read from.
    pub partition: u32,
    /// Its offset in that partition.
    pub offset: u64,
    /// Milliseconds since the Unix epoch (bus clock, unless the producer set it).
    pub timestamp: i64,
    /// The key, if it had one.
    pub key: Option<Key>,
    /// Its headers.
    pub headers: Headers,
    /// The value (a clone of what was published).
    pub value: T,
}

/// A value with the optional parts of a record: key, headers, partition, timestamp.
///
/// # Examples
///
/// ```
/// use ringlet::Message;
/// let m = Message::new(3).key("customer-42").header("source", "web").partition(1).timestamp(1_700_000_000_000);
/// assert_eq!(m.value, 3);
/// assert_eq!(m.partition, Some(1));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Message<T> {
    /// The value.
    pub value: T,
    /// The key; keyed records go to `murmur2(key)` partitions.
    pub key: Option<Key>,
    /// Headers.
    pub headers: Headers,
    /// An explicit partition (overrides the key's).
    pub partition: Option<u32>,
    /// An explicit timestamp in ms (otherwise the bus clock's).
    pub timestamp: Option<i64>,
}

impl<T> Message<T> {
    /// A message with just a value.
    pub fn new(value: T) -> Self {
        Message {
            value,
            key: None,
            headers: Headers::new(),
            partition: None,
            timestamp: None,
        }
    }

    /// Sets the key.
    #[must_use]
    pub fn key(mut self, key: impl Into<Key>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Appends a header.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push(name, value);
        self
    }

    /// Replaces the headers.
    #[must_use]
    pub fn headers(mut self, headers: Headers) -> Self {
        self.headers = headers;
        self
    }

    /// Names the partition.
    #[must_use]
    pub fn partition(mut self, partition: u32) -> Self {
        self.partition = Some(partition);
        self
    }

    /// Sets the timestamp (ms since the Unix epoch).
    #[must_use]
    pub fn timestamp(mut self, ms: i64) -> Self {
        self.timestamp = Some(ms);
        self
    }
}

impl<T> From<T> for Message<T> {
    fn from(value: T) -> Self {
        Message::new(value)
    }
}

/// The most records one topic (over all its partitions) or one queue may hold in
/// WebAssembly, where memory is at most 4 GiB and their storage is allocated
/// when they are made: bigger ones are a `ConfigError` naming this limit, made
/// at once instead of blocking the page (or trapping) while allocating.
pub const MAX_WASM_RECORDS: u64 = 1 << 22;

/// `ConfigError` reason when `records` passes [`MAX_WASM_RECORDS`] on wasm32.
pub(crate) fn wasm_records_limit(what: &str, records: u64) -> Option<String> {
    (cfg!(target_family = "wasm") && records > MAX_WASM_RECORDS).then(|| {
        format!(
            "{what} is {records}, more than the {MAX_WASM_RECORDS} records a topic or queue \
             can hold in WebAssembly (its storage is allocated up front): use a smaller one"
        )
    })
}
