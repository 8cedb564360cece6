//! Kafka's default partitioner hash: MurmurHash2 (32-bit) with Kafka's seed.
//!
//! `org.apache.kafka.common.utils.Utils.murmur2`, ported so that a key lands on the
//! same partition number here as in Kafka: `(murmur2(key) & 0x7fffffff) % partitions`.

/// Kafka's `murmur2` of `data`, as a signed 32-bit value (Java's `int`).
///
/// # Examples
///
/// ```
/// // Kafka's own test vectors.
/// assert_eq!(ringlet::murmur2(b"21"), -973932308);
/// assert_eq!(ringlet::murmur2(b"foobar"), -790332482);
/// assert_eq!(ringlet::murmur2(b"abc"), 479470107);
/// ```
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let len = data.len();
    let mut h: u32 = SEED ^ (len as u32);
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let rest = chunks.remainder();
    if rest.len() >= 3 {
        h ^= u32::from(rest[2]) << 16;
    }
    if rest.len() >= 2 {
        h ^= u32::from(rest[1]) << 8;
    }
    if !rest.is_empty() {
        h ^= u32::from(rest[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// The partition Kafka's default partitioner picks for `key` among `partitions`.
///
/// # Examples
///
/// ```
/// assert_eq!(ringlet::partition_for_key(b"abc", 1), 0);
/// assert!(ringlet::partition_for_key(b"customer-42", 3) < 3);
/// ```
pub fn partition_for_key(key: &[u8], partitions: u32) -> u32 {
    (murmur2(key) as u32 & 0x7fff_ffff) % partitions.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafka_vectors() {
        // From Kafka's UtilsTest.testMurmur2.
        let cases: [(&[u8], i32); 6] = [
            (b"21", -973932308),
            (b"foobar", -790332482),
            (b"a-little-bit-long-string", -985981536),
            (b"a-little-bit-longer-string", -1486304829),
            (
                b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58897971,
            ),
            (b"abc", 479470107),
        ];
        for (k, want) in cases {
            assert_eq!(murmur2(k), want, "{:?}", String::from_utf8_lossy(k));
        }
    }
}
