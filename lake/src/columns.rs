//! The columns of a file: the record's own (`partition`, `offset`, `timestamp`,
//! `key`, `headers`) and the value's, flattened into one column per property
//! when the topic's JSON Schema says the value is an object, else one `value`
//! column of JSON text.

use std::sync::Arc;

use arrow_array::builder::{
    BinaryBuilder, BooleanBuilder, Float64Builder, Int64Builder, StringBuilder,
};
use arrow_array::{
    ArrayRef, BinaryArray, Int32Array, Int64Array, ListArray, RecordBatch, StringArray,
    StructArray, TimestampMillisecondArray,
};
use arrow_buffer::{OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Fields, Schema, TimeUnit};
use ringlet::{Headers, Key};
use serde_json::Value as J;

use crate::LakeError;

/// A record as the sink keeps it until its file is written.
pub(crate) struct Row {
    pub(crate) partition: u32,
    pub(crate) offset: u64,
    pub(crate) timestamp: i64,
    pub(crate) key: Option<Key>,
    pub(crate) headers: Headers,
    pub(crate) value: J,
}

/// What a flattened property holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Integer,
    Number,
    Boolean,
    /// Anything else (objects, arrays, several types): JSON text.
    Json,
}

/// The record's own columns; a property of the same name is `value.<name>`.
const RECORD_COLUMNS: [&str; 5] = ["partition", "offset", "timestamp", "key", "headers"];
/// Properties the schema does not name, as a JSON object (when it allows them).
const EXTRA: &str = "value_extra";

/// The value's columns for one schema (or none).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    /// `None`: the whole value in one JSON column.
    properties: Option<Vec<(String, String, Kind)>>,
    /// An extra-properties column.
    extra: bool,
}

impl Plan {
    /// The plan a topic's schema gives.
    pub(crate) fn of(schema: Option<&J>) -> Plan {
        let whole = Plan {
            properties: None,
            extra: false,
        };
        let Some(schema) = schema else { return whole };
        let is_object = match schema.get("type") {
            Some(J::String(t)) => t == "object",
            _ => false,
        };
        let Some(J::Object(props)) = schema.get("properties") else {
            return whole;
        };
        if !is_object || props.is_empty() {
            return whole;
        }
        let mut properties = Vec::new();
        for (name, prop) in props {
            let column = if RECORD_COLUMNS.contains(&name.as_str()) || name == EXTRA {
                format!("value.{name}")
            } else {
                name.clone()
            };
            properties.push((column, name.clone(), kind(prop)));
        }
        let extra = schema.get("additionalProperties") != Some(&J::Bool(false));
        Plan {
            properties: Some(properties),
            extra,
        }
    }

    /// The Arrow schema of files written with this plan.
    pub(crate) fn schema(&self, key_as_text: bool) -> Arc<Schema> {
        let mut fields = vec![
            Field::new("partition", DataType::Int32, false),
            Field::new("offset", DataType::Int64, false),
            Field::new(
                "timestamp",
                DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                false,
            ),
            Field::new(
                "key",
                if key_as_text {
                    DataType::Utf8
                } else {
                    DataType::Binary
                },
                true,
            ),
            Field::new("headers", headers_type(), false),
        ];
        match &self.properties {
            None => fields.push(Field::new("value", DataType::Utf8, true)),
            Some(props) => {
                for (column, _, kind) in props {
                    let t = match kind {
                        Kind::Text | Kind::Json => DataType::Utf8,
                        Kind::Integer => DataType::Int64,
                        Kind::Number => DataType::Float64,
                        Kind::Boolean => DataType::Boolean,
                    };
                    fields.push(Field::new(column, t, true));
                }
                if self.extra {
                    fields.push(Field::new(EXTRA, DataType::Utf8, true));
                }
            }
        }
        Arc::new(Schema::new(fields))
    }

    /// The rows as an Arrow batch.
    pub(crate) fn batch(
        &self,
        topic: &str,
        rows: &[Row],
        key_as_text: bool,
    ) -> Result<RecordBatch, LakeError> {
        let n = rows.len();
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(Int32Array::from_iter_values(
                rows.iter()
                    .map(|r| i32::try_from(r.partition).unwrap_or(i32::MAX)),
            )),
            Arc::new(Int64Array::from_iter_values(
                rows.iter()
                    .map(|r| i64::try_from(r.offset).unwrap_or(i64::MAX)),
            )),
            Arc::new(
                TimestampMillisecondArray::from_iter_values(rows.iter().map(|r| r.timestamp))
                    .with_timezone("UTC"),
            ),
            keys(topic, rows, key_as_text)?,
            headers(rows),
        ];
        match &self.properties {
            None => {
                let mut b = StringBuilder::with_capacity(n, n * 64);
                for r in rows {
                    match &r.value {
                        J::Null => b.append_null(),
                        v => b.append_value(v.to_string()),
                    }
                }
                columns.push(Arc::new(b.finish()));
            }
            Some(props) => {
                for (_, name, kind) in props {
                    columns.push(property(topic, rows, name, *kind)?);
                }
                if self.extra {
                    let mut b = StringBuilder::new();
                    for r in rows {
                        let extra: serde_json::Map<String, J> = match &r.value {
                            J::Object(o) => o
                                .iter()
                                .filter(|(k, _)| !props.iter().any(|(_, p, _)| p == *k))
                                .map(|(k, v)| (k.clone(), v.clone()))
                                .collect(),
                            _ => serde_json::Map::new(),
                        };
                        if extra.is_empty() {
                            b.append_null();
                        } else {
                            b.append_value(J::Object(extra).to_string());
                        }
                    }
                    columns.push(Arc::new(b.finish()));
                }
            }
        }
        RecordBatch::try_new(self.schema(key_as_text), columns)
            .map_err(|e| LakeError::Format(format!("building the columns of {topic}: {e}")))
    }
}

fn kind(prop: &J) -> Kind {
    let one = |t: &str| match t {
        "string" => Kind::Text,
        "integer" => Kind::Integer,
        "number" => Kind::Number,
        "boolean" => Kind::Boolean,
        _ => Kind::Json,
    };
    match prop.get("type") {
        Some(J::String(t)) => one(t),
        Some(J::Array(ts)) => {
            let named: Vec<&str> = ts
                .iter()
                .filter_map(J::as_str)
                .filter(|t| *t != "null")
                .collect();
            match named.as_slice() {
                [t] => one(t),
                _ => Kind::Json,
            }
        }
        _ => Kind::Json,
    }
}

fn headers_type() -> DataType {
    DataType::List(Arc::new(Field::new(
        "item",
        DataType::Struct(header_fields()),
        false,
    )))
}

fn header_fields() -> Fields {
    Fields::from(vec![
        Field::new("name", DataType::Utf8, false),
        Field::new("value", DataType::Binary, false),
    ])
}

fn keys(topic: &str, rows: &[Row], as_text: bool) -> Result<ArrayRef, LakeError> {
    if !as_text {
        let mut b = BinaryBuilder::new();
        for r in rows {
            b.append_option(r.key.as_ref().map(Key::as_bytes));
        }
        return Ok(Arc::new(b.finish()));
    }
    let mut b = StringBuilder::new();
    for r in rows {
        match &r.key {
            None => b.append_null(),
            Some(k) => match std::str::from_utf8(k.as_bytes()) {
                Ok(s) => b.append_value(s),
                Err(_) => {
                    return Err(LakeError::Value {
                        topic: topic.into(),
                        partition: r.partition,
                        offset: r.offset,
                        reason: "its key is not UTF-8 text: export keys as bytes with \
                                 LakeConfig::key_as_text(false)"
                            .into(),
                    })
                }
            },
        }
    }
    Ok(Arc::new(b.finish()))
}

fn headers(rows: &[Row]) -> ArrayRef {
    let mut names = StringBuilder::new();
    let mut values = BinaryBuilder::new();
    let mut offsets = Vec::with_capacity(rows.len() + 1);
    offsets.push(0i32);
    let mut count = 0i32;
    for r in rows {
        for (n, v) in r.headers.iter() {
            names.append_value(n);
            values.append_value(v);
            count += 1;
        }
        offsets.push(count);
    }
    let names: StringArray = names.finish();
    let values: BinaryArray = values.finish();
    let items = StructArray::new(
        header_fields(),
        vec![Arc::new(names) as ArrayRef, Arc::new(values) as ArrayRef],
        None,
    );
    let field = Arc::new(Field::new("item", DataType::Struct(header_fields()), false));
    let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
    Arc::new(ListArray::new(field, offsets, Arc::new(items), None))
}

fn property(topic: &str, rows: &[Row], name: &str, kind: Kind) -> Result<ArrayRef, LakeError> {
    let wrong = |r: &Row, v: &J, what: &str| LakeError::Value {
        topic: topic.into(),
        partition: r.partition,
        offset: r.offset,
        reason: format!(
            "its field {name:?} is {v}, not {what} as the topic's schema says: \
             correct the schema's type for {name:?}, or export the value as JSON text \
             by giving the property no type"
        ),
    };
    fn field<'r>(r: &'r Row, name: &str) -> Option<&'r J> {
        match &r.value {
            J::Object(o) => o.get(name).filter(|v| !v.is_null()),
            _ => None,
        }
    }
    Ok(match kind {
        Kind::Text => {
            let mut b = StringBuilder::new();
            for r in rows {
                match field(r, name) {
                    None => b.append_null(),
                    Some(J::String(s)) => b.append_value(s),
                    Some(v) => return Err(wrong(r, v, "a string")),
                }
            }
            Arc::new(b.finish())
        }
        Kind::Json => {
            let mut b = StringBuilder::new();
            for r in rows {
                b.append_option(field(r, name).map(J::to_string));
            }
            Arc::new(b.finish())
        }
        Kind::Integer => {
            let mut b = Int64Builder::new();
            for r in rows {
                match field(r, name) {
                    None => b.append_null(),
                    Some(v) => match integer(v) {
                        Some(i) => b.append_value(i),
                        None => return Err(wrong(r, v, "an integer (64-bit)")),
                    },
                }
            }
            Arc::new(b.finish())
        }
        Kind::Number => {
            let mut b = Float64Builder::new();
            for r in rows {
                match field(r, name) {
                    None => b.append_null(),
                    Some(v) => match v.as_f64() {
                        Some(x) => b.append_value(x),
                        None => return Err(wrong(r, v, "a number")),
                    },
                }
            }
            Arc::new(b.finish())
        }
        Kind::Boolean => {
            let mut b = BooleanBuilder::new();
            for r in rows {
                match field(r, name) {
                    None => b.append_null(),
                    Some(J::Bool(x)) => b.append_value(*x),
                    Some(v) => return Err(wrong(r, v, "a boolean")),
                }
            }
            Arc::new(b.finish())
        }
    })
}

/// A JSON integer as `i64` (`3.0` is an integer to JSON Schema).
fn integer(v: &J) -> Option<i64> {
    if let Some(i) = v.as_i64() {
        return Some(i);
    }
    let x = v.as_f64()?;
    #[allow(clippy::cast_possible_truncation)]
    (x.fract() == 0.0 && x.abs() < 9.0e18).then_some(x as i64)
}

/// A record as one line of JSON Lines: the record's fields, headers as
/// `[name, base64]` pairs, the value as JSON.
pub(crate) fn json_line(r: &Row, out: &mut Vec<u8>) {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = r
        .key
        .as_ref()
        .map(|k| match std::str::from_utf8(k.as_bytes()) {
            Ok(s) => J::String(s.into()),
            Err(_) => serde_json::json!({ "base64": b64.encode(k.as_bytes()) }),
        });
    let headers: Vec<J> = r
        .headers
        .iter()
        .map(|(n, v)| serde_json::json!([n, b64.encode(v)]))
        .collect();
    let line = serde_json::json!({
        "partition": r.partition,
        "offset": r.offset,
        "timestamp": r.timestamp,
        "key": key,
        "headers": headers,
        "value": r.value,
    });
    // Writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, &line);
    out.push(b'\n');
}

/// About how many bytes a value takes, for rolling files by size.
pub(crate) fn size_of(v: &J) -> usize {
    match v {
        J::Null | J::Bool(_) => 4,
        J::Number(_) => 8,
        J::String(s) => s.len() + 2,
        J::Array(a) => 2 + a.iter().map(size_of).sum::<usize>(),
        J::Object(o) => {
            2 + o
                .iter()
                .map(|(k, v)| k.len() + 3 + size_of(v))
                .sum::<usize>()
        }
    }
}
