//! The sink against the real engine, its files read back with the parquet
//! crate's reader (pyarrow, pandas and DuckDB read them in the Python tests).

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type, TimestampMillisecondType};
use arrow_array::{Array, RecordBatch};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use ringlet::{Bus, Key, Message, Topic, TopicConfig};
use ringlet_lake::{Format, LakeConfig, LakeError, Sink};
use serde_json::{json, Value};

/// 2026-12-04T14:00:00Z.
const T0: i64 = 1_796_392_800_000;

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn relative(root: &Path, files: &[PathBuf]) -> Vec<String> {
    files
        .iter()
        .map(|f| f.strip_prefix(root).unwrap().to_string_lossy().into_owned())
        .collect()
}

fn read(path: &Path) -> RecordBatch {
    let r = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap())
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<RecordBatch> = r.map(Result::unwrap).collect();
    arrow_select_concat(&batches)
}

fn arrow_select_concat(batches: &[RecordBatch]) -> RecordBatch {
    assert_eq!(batches.len(), 1, "one batch per file here");
    batches[0].clone()
}

fn json_topic(bus: &Bus, name: &str, partitions: u32) -> Topic<Value> {
    bus.topic::<Value>(name, TopicConfig::default().partitions(partitions))
        .unwrap()
}

fn at(ts: i64, key: &str, v: Value) -> Message<Value> {
    Message::new(v)
        .key(key)
        .timestamp(ts)
        .header("source", "web")
}

#[test]
fn parquet_files_hold_every_record_with_its_columns() {
    let lake = tempfile::tempdir().unwrap();
    let bus = Bus::new();
    let t = json_topic(&bus, "orders", 1);
    for i in 0..5 {
        t.publish_message(at(T0 + i, &format!("c{i}"), json!({"id": i, "total": 1.5})))
            .unwrap();
    }
    let mut sink = Sink::new(&t, lake.path(), LakeConfig::default()).unwrap();
    assert_eq!(sink.run_until_idle().unwrap(), 5);
    assert_eq!(
        files(lake.path()),
        Vec::<PathBuf>::new(),
        "nothing before the file completes"
    );
    assert_eq!(sink.stats().pending, 5);
    assert_eq!(sink.flush().unwrap(), 1);
    let f = files(lake.path());
    assert_eq!(
        relative(lake.path(), &f),
        ["topic=orders/date=2026-12-04/hour=14/orders+0+00000000000000000000+00000000000000000004.parquet"]
    );
    let b = read(&f[0]);
    let schema = b.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(
        names,
        [
            "partition",
            "offset",
            "timestamp",
            "key",
            "headers",
            "value"
        ]
    );
    assert_eq!(b.num_rows(), 5);
    assert_eq!(b.column(0).as_primitive::<Int32Type>().value(4), 0);
    assert_eq!(b.column(1).as_primitive::<Int64Type>().value(4), 4);
    assert_eq!(
        b.column(2)
            .as_primitive::<TimestampMillisecondType>()
            .value(3),
        T0 + 3
    );
    assert_eq!(b.column(3).as_string::<i32>().value(2), "c2");
    let headers = b.column(4).as_list::<i32>().value(0);
    let h = headers.as_struct();
    assert_eq!(h.column(0).as_string::<i32>().value(0), "source");
    assert_eq!(h.column(1).as_binary::<i32>().value(0), b"web");
    let v: Value = serde_json::from_str(b.column(5).as_string::<i32>().value(1)).unwrap();
    assert_eq!(v, json!({"id": 1, "total": 1.5}));
    // Committed after the file: the group has no lag.
    assert_eq!(t.group("lake").unwrap().committed(), [Some(5)]);
    let stats = sink.close().unwrap();
    assert_eq!((stats.records, stats.files, stats.pending), (5, 1, 0));
}

#[test]
fn a_schema_flattens_values_into_typed_columns() {
    let lake = tempfile::tempdir().unwrap();
    let bus = Bus::new();
    let schema = json!({
        "type": "object",
        "properties": {
            "page": {"type": "string"},
            "ms": {"type": "integer"},
            "score": {"type": ["number", "null"]},
            "ok": {"type": "boolean"},
            "tags": {"type": "array"},
            "offset": {"type": "integer"}
        },
        "required": ["page"]
    });
    let t = bus
        .topic::<Value>("clicks", TopicConfig::default().schema(schema))
        .unwrap();
    t.publish(json!({"page": "/", "ms": 3, "score": 0.5, "ok": true, "tags": ["a"], "offset": 9, "more": 1}))
        .unwrap();
    t.publish(json!({"page": "/b", "ms": 4.0})).unwrap();
    let mut sink = Sink::new(&t, lake.path(), LakeConfig::default()).unwrap();
    sink.run_until_idle().unwrap();
    sink.flush().unwrap();
    let b = read(&files(lake.path())[0]);
    let fields: Vec<(String, String)> = b
        .schema()
        .fields()
        .iter()
        .skip(5)
        .map(|f| (f.name().clone(), f.data_type().to_string()))
        .collect();
    let want = [
        ("page", "Utf8"),
        ("ms", "Int64"),
        ("score", "Float64"),
        ("ok", "Boolean"),
        ("tags", "Utf8"),
        ("value.offset", "Int64"),
        ("value_extra", "Utf8"),
    ];
    let got: Vec<(&str, &str)> = fields
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let mut want_sorted = want.to_vec();
    want_sorted.sort();
    let mut got_sorted = got.clone();
    got_sorted.sort();
    assert_eq!(got_sorted, want_sorted);
    let col = |n: &str| b.column_by_name(n).unwrap().clone();
    assert_eq!(col("page").as_string::<i32>().value(1), "/b");
    assert_eq!(col("ms").as_primitive::<Int64Type>().value(1), 4);
    assert!(col("score").is_null(1));
    assert_eq!(col("score").as_primitive::<Float64Type>().value(0), 0.5);
    assert!(col("ok").as_boolean().value(0));
    assert_eq!(col("tags").as_string::<i32>().value(0), r#"["a"]"#);
    assert_eq!(col("value.offset").as_primitive::<Int64Type>().value(0), 9);
    assert_eq!(
        col("value_extra").as_string::<i32>().value(0),
        r#"{"more":1}"#
    );
    assert!(col("value_extra").is_null(1));
}

#[test]
fn files_roll_by_count_and_by_hour_and_are_named_by_their_offsets() {
    let lake = tempfile::tempdir().unwrap();
    let bus = Bus::new();
    let t = json_topic(&bus, "web.clicks", 2);
    // Partition 0: 7 records in hour 14, then 2 in hour 15; partition 1: 1.
    for i in 0..7 {
        t.publish_message(at(T0 + i, "k", json!(i)).partition(0))
            .unwrap();
    }
    for i in 0..2 {
        t.publish_message(at(T0 + 3_600_000 + i, "k", json!(i)).partition(0))
            .unwrap();
    }
    t.publish_message(at(T0, "k", json!("p1")).partition(1))
        .unwrap();
    let mut sink = Sink::new(&t, lake.path(), LakeConfig::default().max_records(3)).unwrap();
    sink.run_until_idle().unwrap();
    sink.flush().unwrap();
    let names = relative(lake.path(), &files(lake.path()));
    let short: Vec<String> = names
        .iter()
        .map(|n| {
            n.replace("topic=web.clicks/date=2026-12-04/", "")
                .replace("00000000000000000", "")
        })
        .collect();
    assert_eq!(
        short,
        [
            "hour=14/web.clicks+0+000+002.parquet",
            "hour=14/web.clicks+0+003+005.parquet",
            "hour=14/web.clicks+0+006+006.parquet",
            "hour=14/web.clicks+1+000+000.parquet",
            "hour=15/web.clicks+0+007+008.parquet",
        ]
    );
    assert_eq!(sink.stats().files, 5);
    assert_eq!(t.group("lake").unwrap().committed(), [Some(9), Some(1)]);
}

#[test]
fn a_restart_resumes_after_the_last_complete_file_without_duplicates() {
    let lake = tempfile::tempdir().unwrap();
    let bus = Bus::new();
    let t = json_topic(&bus, "orders", 1);
    for i in 0..10 {
        t.publish_message(at(T0 + i, "k", json!(i))).unwrap();
    }
    // The first sink completes files of 0..=3 and 4..=7, reads 8 and 9 into an
    // open file, and is dropped (as a crash would lose it).
    let mut first = Sink::new(&t, lake.path(), LakeConfig::default().max_records(4)).unwrap();
    first.run_until_idle().unwrap();
    assert_eq!(first.stats().files, 2);
    drop(first);
    // A crash can also come after a rename and before its commit: a sink of a
    // group that committed nothing (as that crash leaves it) finds the files.
    // A half-written temporary file is removed.
    let hour = lake.path().join("topic=orders/date=2026-12-04/hour=14");
    std::fs::write(
        hour.join(".orders+0+00000000000000000008+00000000000000000009.parquet.tmp"),
        b"PAR1 torn",
    )
    .unwrap();
    let mut again = Sink::new(&t, lake.path(), LakeConfig::default().group("lake-again")).unwrap();
    assert_eq!(again.run_until_idle().unwrap(), 10);
    assert_eq!(again.stats().already, 8);
    again.flush().unwrap();
    let names = relative(lake.path(), &files(lake.path()));
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(names.iter().all(|n| !n.contains(".tmp")));
    let mut offsets: Vec<i64> = files(lake.path())
        .iter()
        .flat_map(|f| {
            let b = read(f);
            let o = b.column(1).as_primitive::<Int64Type>().clone();
            o.values().to_vec()
        })
        .collect();
    offsets.sort_unstable();
    assert_eq!(offsets, (0..10).collect::<Vec<_>>());
    assert_eq!(t.group("lake-again").unwrap().committed(), [Some(10)]);
}

#[test]
fn json_lines_files() {
    let lake = tempfile::tempdir().unwrap();
    let bus = Bus::new();
    let t = json_topic(&bus, "orders", 1);
    t.publish_message(at(T0, "c1", json!({"id": 1}))).unwrap();
    t.publish_message(Message::new(json!(null)).timestamp(T0))
        .unwrap();
    let mut sink = Sink::new(
        &t,
        lake.path(),
        LakeConfig::default().format(Format::JsonLines),
    )
    .unwrap();
    sink.run_until_idle().unwrap();
    sink.flush().unwrap();
    let f = files(lake.path());
    assert!(f[0]
        .to_string_lossy()
        .ends_with("orders+0+00000000000000000000+00000000000000000001.jsonl"));
    let text = std::fs::read_to_string(&f[0]).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines[0],
        json!({"partition": 0, "offset": 0, "timestamp": T0, "key": "c1", "headers": [["source", "d2Vi"]], "value": {"id": 1}})
    );
    assert_eq!(lines[1]["key"], Value::Null);
    assert_eq!(lines[1]["value"], Value::Null);
}

#[test]
fn keys_that_are_not_text_are_refused_or_written_as_bytes() {
    let lake = tempfile::tempdir().unwrap();
    let bus = Bus::new();
    let t = json_topic(&bus, "bin", 1);
    t.publish_message(Message::new(json!(1)).key(Key::from(vec![0xff, 0x00])))
        .unwrap();
    let mut sink = Sink::new(&t, lake.path(), LakeConfig::default()).unwrap();
    sink.run_until_idle().unwrap();
    let e = sink.flush().unwrap_err();
    assert!(matches!(e, LakeError::Value { offset: 0, .. }), "{e}");
    assert!(e.to_string().contains("key_as_text(false)"), "{e}");
    assert!(files(lake.path()).is_empty());
    drop(sink);
    let mut sink = Sink::new(&t, lake.path(), LakeConfig::default().key_as_text(false)).unwrap();
    sink.run_until_idle().unwrap();
    sink.flush().unwrap();
    let b = read(&files(lake.path())[0]);
    assert_eq!(b.column(3).as_binary::<i32>().value(0), [0xff, 0x00]);
}

#[test]
fn a_lake_written_from_another_topic_is_refused() {
    let lake = tempfile::tempdir().unwrap();
    let bus = Bus::new();
    let t = json_topic(&bus, "orders", 1);
    for i in 0..3 {
        t.publish(json!(i)).unwrap();
    }
    let mut sink = Sink::new(&t, lake.path(), LakeConfig::default()).unwrap();
    sink.run_until_idle().unwrap();
    sink.close().unwrap();
    // A new process's in-memory topic starts again at offset 0.
    let fresh = Bus::new();
    let t = json_topic(&fresh, "orders", 1);
    t.publish(json!("new")).unwrap();
    let e = Sink::new(&t, lake.path(), LakeConfig::default()).unwrap_err();
    assert!(matches!(e, LakeError::Config(_)));
    assert!(e.to_string().contains("durable"), "{e}");
    let e = Sink::new(&t, lake.path(), LakeConfig::default().max_records(0)).unwrap_err();
    assert!(e.to_string().contains("max_records"), "{e}");
}

#[test]
fn a_schema_change_completes_the_open_file_and_a_wrong_field_type_stops_the_sink() {
    let lake = tempfile::tempdir().unwrap();
    let bus = Bus::new();
    let v1 = json!({"type": "object", "properties": {"id": {"type": "integer"}}});
    let t = bus
        .topic::<Value>("orders", TopicConfig::default().schema(v1))
        .unwrap();
    t.publish(json!({"id": 1})).unwrap();
    let mut sink = Sink::new(&t, lake.path(), LakeConfig::default()).unwrap();
    sink.run_until_idle().unwrap();
    let v2 = json!({"type": "object", "properties": {"id": {"type": "integer"}, "note": {"type": "string"}}});
    t.set_schema(v2).unwrap();
    t.publish(json!({"id": 2, "note": "x"})).unwrap();
    sink.run_until_idle().unwrap();
    sink.flush().unwrap();
    let f = files(lake.path());
    assert_eq!(f.len(), 2);
    assert_eq!(read(&f[0]).schema().fields().len(), 7); // id, value_extra
    assert!(read(&f[1]).column_by_name("note").is_some());
    // Records published before a schema was set may not match it: the sink
    // stops at the first that does not fit its column, naming it.
    let loose = bus.topic::<Value>("loose", TopicConfig::default()).unwrap();
    loose.publish(json!({"id": 1})).unwrap();
    loose.publish(json!({"id": 1.5})).unwrap();
    loose
        .set_schema(json!({"type": "object", "properties": {"id": {"type": "integer"}}}))
        .unwrap();
    let mut sink = Sink::new(&loose, lake.path(), LakeConfig::default()).unwrap();
    sink.run_until_idle().unwrap();
    let e = sink.flush().unwrap_err();
    assert!(matches!(e, LakeError::Value { partition: 0, .. }), "{e}");
    assert!(
        e.to_string()
            .contains(r#"field "id" is 1.5, not an integer"#),
        "{e}"
    );
    assert!(!lake.path().join("topic=loose").exists());
}
