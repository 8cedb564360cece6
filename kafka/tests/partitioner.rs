//! The partitioner claim: for every key, Ringlet's partitioner picks the
//! partition Kafka's Java producer picks (its BuiltInPartitioner, run here from
//! Kafka's own jars), so keyed records keep their partition when they cross.

mod common;

#[test]
fn ringlet_puts_every_key_where_kafkas_java_producer_does() {
    // 1,000 keys: text (the UTF-8 bytes a StringSerializer makes, some not
    // ASCII) and arbitrary bytes, of every length up to 40.
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut keys: Vec<Vec<u8>> = Vec::new();
    for i in 0..1000 {
        let len = (next() % 41) as usize;
        if i % 2 == 0 {
            let text: String = (0..len)
                .map(|_| {
                    ['a', 'Z', '7', '-', 'é', 'ß', '日', ' ', '_', 'q'][(next() % 10) as usize]
                })
                .collect();
            keys.push(text.into_bytes());
        } else {
            keys.push((0..len).map(|_| next() as u8).collect());
        }
    }
    let counts = [1u32, 2, 3, 7, 12, 50, 1000];
    let mut input = String::new();
    let mut ours = Vec::new();
    for key in &keys {
        for &n in &counts {
            let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
            input.push_str(&format!("{hex} {n}\n"));
            ours.push(ringlet::partition_for_key(key, n));
        }
    }
    let program = common::root().join("kafka/tests/java/Partitioner.java");
    let theirs: Vec<u32> = common::java(&[program.to_str().unwrap()], &input)
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(theirs.len(), ours.len());
    let differ: Vec<_> = ours
        .iter()
        .zip(&theirs)
        .enumerate()
        .filter(|(_, (a, b))| a != b)
        .collect();
    assert!(
        differ.is_empty(),
        "{} of {} differ, first: {:?}",
        differ.len(),
        ours.len(),
        differ.first()
    );
}
