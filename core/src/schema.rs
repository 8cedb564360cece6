//! Schemas: a topic's JSON Schema, checked at every publish, and the rule for
//! changing it.
//!
//! A topic created with [`TopicConfig::schema`](crate::TopicConfig::schema) checks
//! each value before anything is appended: a value that does not match fails its
//! publish with [`PublishError::Schema`](crate::PublishError::Schema) — handing the
//! value back — carrying a [`SchemaError`] that names the topic, where in the value
//! (a JSON pointer such as `/items/0/price`), the rule (the JSON Schema keyword) and
//! why. A batch stops at the first value that does not match: the values before it
//! were published, it and the rest are handed back (as for `Full`). Tombstones of
//! compacted topics (`None`) are not checked.
//!
//! Values are checked in the representation they have: `serde_json::Value` (and
//! `Option<Value>`) topics directly; any `T: Serialize` through
//! [`Bus::schema_topic`](crate::Bus::schema_topic), which checks the JSON the value
//! serializes to; the Python binding checks dicts and lists as they are, without a
//! copy. The validator is the [`jsonschema`](https://docs.rs/jsonschema) crate
//! (drafts 4 to 2020-12, the `$schema` keyword chooses; 2020-12 when absent);
//! `format` is an annotation, as the 2020-12 draft says, and `$ref`s resolve within
//! the document only (nothing is fetched). The core's `json-schema` feature (on by
//! default) brings it; without it, a binding supplies the validator
//! ([`SchemaCompiler`]).
//!
//! # Evolution
//!
//! A topic's schema may change — opening the topic again with another schema, or
//! [`Topic::set_schema`](crate::Topic::set_schema) — only by adding properties
//! that are not required (at any depth), no longer requiring a property, dropping
//! `additionalProperties: false`, and changing annotations (`title`,
//! `description`, `examples`, `default`, `$comment`, `deprecated`, `readOnly`,
//! `writeOnly`). Every other change — a new required property, a changed `type`, a
//! tighter or looser bound, a removed property, another `$schema` draft — is
//! refused with [`Error::ConfigError`](crate::Error::ConfigError) naming the place
//! and the keyword. A topic that had no schema accepts any first one (Kafka's
//! schema registry accepts any first version); opening a topic again without a
//! schema keeps the one it has. Records already on the topic are not checked
//! again. This is Confluent's `BACKWARD` rule for JSON Schema, kept
//! to what can be decided by reading the two documents.
//!
//! ```
//! use ringlet::{Bus, PublishError, TopicConfig};
//! use serde_json::json;
//!
//! let bus = Bus::new();
//! let schema = json!({
//!     "type": "object",
//!     "properties": {"id": {"type": "integer"}, "amount": {"type": "number", "minimum": 0}},
//!     "required": ["id", "amount"]
//! });
//! let orders = bus.topic::<serde_json::Value>("orders", TopicConfig::default().schema(schema.clone()))?;
//! orders.publish(json!({"id": 1, "amount": 250})).unwrap();
//! let Err(PublishError::Schema(value, e)) = orders.publish(json!({"id": 2, "amount": -5})) else { panic!() };
//! assert_eq!((e.path.as_str(), e.rule.as_str()), ("/amount", "minimum"));
//! assert_eq!(value, json!({"id": 2, "amount": -5}));          // handed back, nothing appended
//!
//! // Evolution: an optional field may be added; a new required one may not.
//! let mut v2 = schema.clone();
//! v2["properties"]["note"] = json!({"type": "string"});
//! orders.set_schema(v2.clone())?;
//! let mut v3 = v2.clone();
//! v3["required"] = json!(["id", "amount", "note"]);
//! assert!(orders.set_schema(v3).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::Arc;

use serde_json::Value;

use crate::error::shown;
pub use crate::error::SchemaError;

/// What a [`SchemaCheck`] found wrong with a value (the topic's name is added by the
/// topic).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// A JSON pointer into the value.
    pub path: String,
    /// The keyword broken.
    pub rule: String,
    /// What is wrong.
    pub message: String,
}

impl Violation {
    /// The violation on `topic`.
    pub fn on(self, topic: &str) -> SchemaError {
        SchemaError {
            topic: topic.to_string(),
            path: self.path,
            rule: self.rule,
            message: self.message,
        }
    }
}

/// A compiled schema that checks values of one representation.
pub trait SchemaCheck<T>: Send + Sync + 'static {
    /// `Ok` when `value` matches.
    ///
    /// # Errors
    ///
    /// The first violation found.
    fn check(&self, value: &T) -> Result<(), Violation>;
}

/// Compiles a schema document into a check for values of type `T` (a binding
/// supplies one for its own value type); `Err` says why the document is not a
/// schema.
pub type SchemaCompiler<T> =
    Arc<dyn Fn(&Value) -> Result<Arc<dyn SchemaCheck<T>>, String> + Send + Sync>;

/// The compiler the core brings for `T`, when it has one: `serde_json::Value` and
/// `Option<serde_json::Value>` (tombstones pass) with the `json-schema` feature.
pub(crate) fn builtin<T: 'static>() -> Option<SchemaCompiler<T>> {
    #[cfg(feature = "json-schema")]
    {
        use std::any::TypeId;
        if TypeId::of::<T>() == TypeId::of::<Value>() {
            return Some(Arc::new(|doc: &Value| {
                let v = validator(doc)?;
                Ok(Arc::new(Direct(v)) as Arc<dyn SchemaCheck<T>>)
            }));
        }
        if TypeId::of::<T>() == TypeId::of::<Option<Value>>() {
            return Some(Arc::new(|doc: &Value| {
                let v = validator(doc)?;
                Ok(Arc::new(Direct(v)) as Arc<dyn SchemaCheck<T>>)
            }));
        }
    }
    None
}

/// The compiler for any `T: Serialize`: it checks the JSON the value serializes to.
#[cfg(feature = "json-schema")]
pub(crate) fn serialized<T: serde::Serialize + 'static>() -> SchemaCompiler<T> {
    Arc::new(|doc: &Value| {
        let v = validator(doc)?;
        Ok(Arc::new(Serialized(v)) as Arc<dyn SchemaCheck<T>>)
    })
}

/// Compiles `doc` with the `jsonschema` crate for values held as `F` (its
/// `SerdeJson` for `serde_json::Value`; a binding passes its own representation):
/// local `$ref`s only, the draft its `$schema` names (2020-12 when absent).
///
/// # Errors
///
/// Why `doc` is not a schema.
#[cfg(feature = "json-schema")]
pub fn validator<F: jsonschema::json::Json>(
    doc: &Value,
) -> Result<jsonschema::Validator<F>, String> {
    jsonschema::options_for::<F>()
        .build(doc)
        .map_err(|e| format!("it is not a valid JSON Schema: {e}"))
}

/// The first error of `jsonschema`'s as a [`Violation`].
#[cfg(feature = "json-schema")]
pub fn violation(e: &jsonschema::ValidationError<'_>) -> Violation {
    Violation {
        path: e.instance_path().as_str().to_string(),
        rule: e.kind().keyword().to_string(),
        message: e.to_string(),
    }
}

#[cfg(feature = "json-schema")]
struct Direct(jsonschema::Validator<jsonschema::json::SerdeJson>);

#[cfg(feature = "json-schema")]
impl<T: 'static> SchemaCheck<T> for Direct {
    fn check(&self, value: &T) -> Result<(), Violation> {
        let any = value as &dyn std::any::Any;
        let json = match any.downcast_ref::<Value>() {
            Some(v) => v,
            None => match any.downcast_ref::<Option<Value>>() {
                Some(Some(v)) => v,
                // A tombstone, or (never: `builtin` picks the types) another type.
                _ => return Ok(()),
            },
        };
        self.0.validate(json).map_err(|e| violation(&e))
    }
}

#[cfg(feature = "json-schema")]
struct Serialized(jsonschema::Validator<jsonschema::json::SerdeJson>);

#[cfg(feature = "json-schema")]
impl<T: serde::Serialize + 'static> SchemaCheck<T> for Serialized {
    fn check(&self, value: &T) -> Result<(), Violation> {
        let json = serde_json::to_value(value).map_err(|e| Violation {
            path: String::new(),
            rule: "type".into(),
            message: format!("the value has no JSON form: {e}"),
        })?;
        self.0.validate(&json).map_err(|e| violation(&e))
    }
}

/// A topic's schema: the document and its compiled check, swapped whole when the
/// schema evolves.
pub(crate) struct Compiled<T> {
    pub(crate) doc: Value,
    pub(crate) check: Arc<dyn SchemaCheck<T>>,
}

/// The slot a topic keeps its schema in: read at every publish of a topic that has
/// one (an atomic flag first, so a topic without one pays a load).
pub(crate) struct SchemaSlot<T> {
    armed: std::sync::atomic::AtomicBool,
    current: parking_lot::RwLock<Option<Arc<Compiled<T>>>>,
    /// How this topic's values are checked; changes take turns on it.
    compiler: parking_lot::Mutex<Option<SchemaCompiler<T>>>,
}

impl<T> Default for SchemaSlot<T> {
    fn default() -> Self {
        SchemaSlot {
            armed: std::sync::atomic::AtomicBool::new(false),
            current: parking_lot::RwLock::new(None),
            compiler: parking_lot::Mutex::new(None),
        }
    }
}

impl<T: 'static> SchemaSlot<T> {
    /// The schema now, if any (cloned out: the check runs outside the lock).
    #[inline]
    pub(crate) fn get(&self) -> Option<Arc<Compiled<T>>> {
        if !self.armed.load(std::sync::atomic::Ordering::Acquire) {
            return None;
        }
        self.current.read().clone()
    }

    /// Keeps `compiler` for later changes (a topic made without a schema).
    pub(crate) fn remember(&self, compiler: Option<SchemaCompiler<T>>) {
        if compiler.is_some() {
            *self.compiler.lock() = compiler;
        }
    }

    /// The document now.
    pub(crate) fn doc(&self) -> Option<Value> {
        self.get().map(|c| c.doc.clone())
    }

    /// Makes `doc` the schema of topic `name` if the [evolution rule](self#evolution)
    /// allows it (any first schema is allowed); `compiler` is remembered for later
    /// changes when given, else the one remembered is used.
    pub(crate) fn evolve(
        &self,
        name: &str,
        doc: Value,
        compiler: Option<SchemaCompiler<T>>,
    ) -> Result<(), crate::Error> {
        let bad = |reason: String| crate::Error::ConfigError {
            name: name.to_string(),
            reason,
        };
        // The bus chose the compiler when it made or opened the topic.
        let mut held = self.compiler.lock();
        if let Some(c) = compiler {
            *held = Some(c);
        }
        let Some(compile) = held.clone() else {
            return Err(bad(format!(
                "values of type {} cannot be checked against a JSON schema: use \
                 serde_json::Value values, or open it with Bus::schema_topic (values that \
                 implement serde::Serialize)",
                crate::error::value_type::<T>()
            )));
        };
        if let Some(old) = self.get() {
            if old.doc == doc {
                return Ok(());
            }
            evolution(&old.doc, &doc)
                .map_err(|why| bad(format!("the new schema is not compatible: {why}")))?;
        }
        let check = compile(&doc).map_err(|why| bad(format!("the schema is refused: {why}")))?;
        let compiled = Arc::new(Compiled { doc, check });
        let old = self.current.write().replace(compiled);
        self.armed.store(true, std::sync::atomic::Ordering::Release);
        drop(held);
        drop(old);
        Ok(())
    }
}

/// Annotation keywords: they change no value's validity.
const ANNOTATIONS: &[&str] = &[
    "title",
    "description",
    "examples",
    "default",
    "$comment",
    "deprecated",
    "readOnly",
    "writeOnly",
];

/// Whether `new` may replace `old` (see the [module docs](self)): `Err` names
/// the first change refused.
///
/// # Errors
///
/// The change refused, in words.
///
/// # Examples
///
/// ```
/// use ringlet::schema::evolution;
/// use serde_json::json;
/// let v1 = json!({"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]});
/// let v2 = json!({"type": "object", "properties": {"id": {"type": "integer"}, "note": {"type": "string"}}, "required": ["id"]});
/// assert!(evolution(&v1, &v2).is_ok());
/// let err = evolution(&v2, &v1).unwrap_err();
/// assert!(err.contains("/properties/note"), "{err}");
/// ```
pub fn evolution(old: &Value, new: &Value) -> Result<(), String> {
    compare(old, new, "")
}

fn compare(old: &Value, new: &Value, at: &str) -> Result<(), String> {
    let place = |p: &str| {
        if p.is_empty() {
            "the schema's root".to_string()
        } else {
            format!("schema location {p}")
        }
    };
    let (o, n) = match (old, new) {
        (Value::Object(o), Value::Object(n)) => (o, n),
        // `true` and `{}` accept everything; `false` nothing.
        _ if old == new => return Ok(()),
        _ => {
            return Err(format!(
            "at {} the schema changed from {old} to {new}: only optional properties may be added",
            place(at)
        ))
        }
    };
    let mut keys: Vec<&String> = o.keys().chain(n.keys()).collect();
    // `type` first: a changed type explains more than what follows from it.
    keys.sort_by_key(|k| (k.as_str() != "type", k.as_str()));
    keys.dedup();
    for key in keys {
        if ANNOTATIONS.contains(&key.as_str()) {
            continue;
        }
        let here = format!("{at}/{}", escape(key));
        match (key.as_str(), o.get(key), n.get(key)) {
            ("properties", a, b) => {
                let empty = serde_json::Map::new();
                let a = a.and_then(Value::as_object).unwrap_or(&empty);
                let b = b.and_then(Value::as_object).unwrap_or(&empty);
                let required_new = required(n);
                for (name, sa) in a {
                    let p = format!("{here}/{}", escape(name));
                    match b.get(name) {
                        Some(sb) => compare(sa, sb, &p)?,
                        None => {
                            return Err(format!(
                            "property {} is removed ({}): only optional properties may be added",
                            shown(name),
                            place(&p)
                        ))
                        }
                    }
                }
                for name in b.keys().filter(|k| !a.contains_key(*k)) {
                    if required_new.contains(&name.as_str()) {
                        return Err(format!(
                            "property {} is added as required ({}): a new property must be optional",
                            shown(name),
                            place(&format!("{here}/{}", escape(name)))
                        ));
                    }
                }
            }
            ("required", _, _) => {
                let (a, b) = (required(o), required(n));
                if let Some(extra) = b.iter().find(|k| !a.contains(k)) {
                    return Err(format!(
                        "property {} becomes required ({}): a new property must be optional",
                        shown(extra),
                        place(&here)
                    ));
                }
            }
            ("additionalProperties", a, b) => match (a, b) {
                (Some(Value::Bool(false)), _) => {}
                (a, b) if a == b => {}
                (Some(a), Some(b)) if a.is_object() && b.is_object() => compare(a, b, &here)?,
                (a, b) => {
                    return Err(format!(
                        "`additionalProperties` changes from {} to {} ({}): records already on \
                         the topic may not match",
                        a.map_or("absent".to_string(), Value::to_string),
                        b.map_or("absent".to_string(), Value::to_string),
                        place(&here)
                    ))
                }
            },
            (
                "items" | "additionalItems" | "contains" | "not" | "propertyNames",
                Some(a),
                Some(b),
            ) => compare(a, b, &here)?,
            (_, a, b) if a == b => {}
            (k, a, b) => {
                return Err(format!(
                    "keyword `{k}` changes from {} to {} ({}): only optional properties may be \
                     added",
                    a.map_or("absent".to_string(), Value::to_string),
                    b.map_or("absent".to_string(), Value::to_string),
                    place(&here)
                ))
            }
        }
    }
    Ok(())
}

fn required(schema: &serde_json::Map<String, Value>) -> Vec<&str> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// A JSON pointer segment.
fn escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}
