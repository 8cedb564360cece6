//! Data products: what a topic's JSON Schema costs at publish. A 10-field object
//! (`serde_json::Value`) is published to a topic without a schema and to one
//! with a schema naming each field's type and requiring all ten; the difference
//! is the check. The validator alone (`jsonschema::Validator::validate` on the
//! same value) is measured beside it.
//!
//! `make bench` runs this, then `ratios` prints the cost per publish (goal ≤ 2 µs).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ringlet::{Bus, Start, TopicConfig};
use serde_json::{json, Value};

const N: u64 = 20_000;

fn schema() -> Value {
    let mut props = serde_json::Map::new();
    for i in 0..10 {
        let kind = match i % 3 {
            0 => "integer",
            1 => "string",
            _ => "number",
        };
        props.insert(format!("f{i}"), json!({ "type": kind }));
    }
    let required: Vec<String> = (0..10).map(|i| format!("f{i}")).collect();
    json!({"type": "object", "properties": props, "required": required})
}

fn value(i: u64) -> Value {
    let mut m = serde_json::Map::new();
    for f in 0..10 {
        let v = match f % 3 {
            0 => json!(i),
            1 => json!("a short string"),
            _ => json!(i as f64 / 3.0),
        };
        m.insert(format!("f{f}"), v);
    }
    Value::Object(m)
}

fn products(c: &mut Criterion) {
    let mut g = c.benchmark_group("products");
    g.throughput(Throughput::Elements(N));
    let values: Vec<Value> = (0..N).map(value).collect();
    for (name, schema) in [("publish_plain", None), ("publish_schema", Some(schema()))] {
        g.bench_function(name, |b| {
            let bus = Bus::new();
            let mut config = TopicConfig::default().capacity(4096);
            if let Some(s) = &schema {
                config = config.schema(s.clone());
            }
            let t = bus.topic::<Value>("t", config).unwrap();
            let mut sub = t.subscribe(Start::Latest).unwrap();
            b.iter(|| {
                for v in &values {
                    t.publish(v.clone()).unwrap();
                    sub.try_recv().unwrap();
                }
            })
        });
    }
    g.bench_function("validator_alone", |b| {
        let v = jsonschema::validator_for(&schema()).unwrap();
        b.iter(|| {
            for x in &values {
                assert!(v.validate(x).is_ok());
            }
        })
    });
    g.finish();
}

criterion_group!(benches, products);
criterion_main!(benches);
