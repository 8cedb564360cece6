//! Encoding and decoding of segment headers and frames (the layout is in the
//! crate docs).

use ringlet::Key;

use crate::StoredRecord;

/// The first bytes of every segment file.
pub(crate) const MAGIC: &[u8; 8] = b"RINGLSEG";
/// The format version after the magic.
pub(crate) const VERSION: u32 = 1;
/// Magic and version.
pub(crate) const HEADER_LEN: u64 = 12;
/// A frame's length and checksum.
pub(crate) const FRAME_HEAD: usize = 8;
/// The largest frame body accepted (a bigger length is damage, not data).
pub(crate) const MAX_BODY: u32 = 1 << 30;

const KEY_NONE: u8 = 0;
const KEY_TEXT: u8 = 1;
const KEY_BYTES: u8 = 2;

/// The segment header.
pub(crate) fn header() -> [u8; HEADER_LEN as usize] {
    let mut h = [0; HEADER_LEN as usize];
    h[..8].copy_from_slice(MAGIC);
    h[8..].copy_from_slice(&VERSION.to_le_bytes());
    h
}

/// What is wrong with a segment header, if anything.
pub(crate) fn check_header(bytes: &[u8]) -> Result<(), String> {
    if bytes.len() < HEADER_LEN as usize {
        return Err(format!(
            "{} bytes, shorter than a segment header",
            bytes.len()
        ));
    }
    if &bytes[..8] != MAGIC {
        return Err("not a Ringlet segment (bad magic)".into());
    }
    let v = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    if v != VERSION {
        return Err(format!(
            "segment format version {v}; this build reads version {VERSION}"
        ));
    }
    Ok(())
}

/// Appends one frame holding `records` to `out`.
pub(crate) fn encode(records: &[StoredRecord], out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0; FRAME_HEAD]);
    put_u32(out, records.len() as u32);
    for r in records {
        out.extend_from_slice(&r.offset.to_le_bytes());
        out.extend_from_slice(&r.timestamp.to_le_bytes());
        match &r.key {
            None => out.push(KEY_NONE),
            Some(k) => {
                out.push(if k.is_text() { KEY_TEXT } else { KEY_BYTES });
                put_bytes(out, k.as_bytes());
            }
        }
        put_u32(out, r.headers.len() as u32);
        for (name, value) in r.headers.iter() {
            put_bytes(out, name.as_bytes());
            put_bytes(out, value);
        }
        put_bytes(out, &r.value);
    }
    let body = &out[start + FRAME_HEAD..];
    let len = body.len() as u32 + 4;
    let crc = crc32c::crc32c(body);
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

fn put_u32(out: &mut Vec<u8>, n: u32) {
    out.extend_from_slice(&n.to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_u32(out, b.len() as u32);
    out.extend_from_slice(b);
}

/// What reading a frame at a position found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Frame {
    /// A whole frame whose checksum matches and whose records parse: its length in
    /// bytes, its first and last offsets (`None` for an empty frame).
    Good {
        len: usize,
        first: Option<u64>,
        last: Option<u64>,
    },
    /// Not a good frame here (the reason): the bytes end inside it, its length is
    /// impossible, its checksum does not match, or its records do not parse.
    Bad(&'static str),
}

/// Checks the frame at the start of `bytes` without copying its records.
pub(crate) fn check(bytes: &[u8]) -> Frame {
    let body = match body(bytes) {
        Ok(b) => b,
        Err(why) => return Frame::Bad(why),
    };
    let mut first = None;
    let mut last: Option<u64> = None;
    let ok = walk(body, |offset, _| {
        if last.is_some_and(|l| offset <= l) {
            return false;
        }
        first.get_or_insert(offset);
        last = Some(offset);
        true
    });
    if ok {
        Frame::Good {
            len: FRAME_HEAD + body.len(),
            first,
            last,
        }
    } else {
        Frame::Bad("its checksum matches but its records do not parse")
    }
}

/// The records of the frame at the start of `bytes`, and its length; its
/// checksum is checked unless the bytes were checked already (`verified`: read
/// once at open and kept).
///
/// `f` takes each record from offset `from` on (and says whether to go on);
/// returns the frame's length and whether `f` wanted more, or `None` when the
/// frame does not parse (records before the fault were handed over).
pub(crate) fn read(
    bytes: &[u8],
    verified: bool,
    from: u64,
    f: &mut dyn FnMut(StoredRecord) -> bool,
) -> Option<(usize, bool)> {
    let body = if verified {
        framed(bytes).ok()?.1
    } else {
        body(bytes).ok()?
    };
    let mut go_on = true;
    let parsed = walk(body, |offset, r| {
        if offset >= from {
            go_on = f(r.build());
        }
        go_on
    });
    (parsed || !go_on).then_some((FRAME_HEAD + body.len(), go_on))
}

/// A frame's body, once its length and checksum are right.
fn body(bytes: &[u8]) -> Result<&[u8], &'static str> {
    let (crc, body) = framed(bytes)?;
    if crc32c::crc32c(body) != crc {
        return Err("checksum mismatch");
    }
    Ok(body)
}

/// A frame's checksum and body, once its length is right.
fn framed(bytes: &[u8]) -> Result<(u32, &[u8]), &'static str> {
    if bytes.len() < FRAME_HEAD {
        return Err("the bytes end inside a frame head");
    }
    let len = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    if !(8..=MAX_BODY).contains(&len) {
        return Err("impossible frame length");
    }
    let end = 4 + len as usize;
    if end > bytes.len() {
        return Err("the bytes end inside the frame");
    }
    let crc = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
    Ok((crc, &bytes[FRAME_HEAD..end]))
}

/// Walks a body's records: `f(offset, record)` for each (`record.build()`
/// makes it a [`StoredRecord`] if wanted); false from `f` stops (a failure).
/// True if every record parsed and `f` accepted each.
#[inline]
fn walk(body: &[u8], mut f: impl FnMut(u64, &Parsed<'_>) -> bool) -> bool {
    let mut r = Reader(body);
    let Some(n) = r.u32() else { return false };
    for _ in 0..n {
        let Some(rec) = parse_one(&mut r) else {
            return false;
        };
        if !f(rec.offset, &rec) {
            return false;
        }
    }
    r.0.is_empty()
}

/// A record's fields, borrowed from the body.
struct Parsed<'a> {
    offset: u64,
    timestamp: i64,
    key: Option<(bool, &'a [u8])>,
    headers: Vec<(&'a str, &'a [u8])>,
    value: &'a [u8],
}

impl Parsed<'_> {
    #[inline]
    fn build(&self) -> StoredRecord {
        StoredRecord {
            offset: self.offset,
            timestamp: self.timestamp,
            key: self
                .key
                .map(|(text, k)| match (text, std::str::from_utf8(k)) {
                    (true, Ok(s)) => Key::from(s),
                    _ => Key::from(k),
                }),
            headers: self.headers.iter().map(|(n, v)| (*n, v.to_vec())).collect(),
            value: self.value.to_vec(),
        }
    }
}

#[inline]
fn parse_one<'a>(r: &mut Reader<'a>) -> Option<Parsed<'a>> {
    let offset = r.u64()?;
    let timestamp = r.u64()? as i64;
    let key = match r.u8()? {
        KEY_NONE => None,
        KEY_TEXT => {
            let k = r.bytes()?;
            std::str::from_utf8(k).ok()?;
            Some((true, k))
        }
        KEY_BYTES => Some((false, r.bytes()?)),
        _ => return None,
    };
    let n = r.u32()?;
    let mut headers = Vec::with_capacity((n as usize).min(r.0.len() / 8));
    for _ in 0..n {
        let name = std::str::from_utf8(r.bytes()?).ok()?;
        headers.push((name, r.bytes()?));
    }
    let value = r.bytes()?;
    Some(Parsed {
        offset,
        timestamp,
        key,
        headers,
        value,
    })
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    #[inline]
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    #[inline]
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    #[inline]
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    #[inline]
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    #[inline]
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
}
