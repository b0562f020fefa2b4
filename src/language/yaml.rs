//! YAML loading with source locations.
//!
//! The document is parsed once by serde-saphyr (with an input budget) into a
//! [`Node`] tree where every node keeps its line and column. The typed raw
//! structs are then deserialized *from that tree*, section by section and step
//! by step, so that one bad step does not hide the errors of the next one and
//! every error carries the location of the node at fault.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

/// Largest playbook or manifest file we accept (bytes).
pub use super::limits::MAX_FILE_BYTES;

/// A 1-based line/column position in a source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Loc {
    pub line: u32,
    pub col: u32,
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// A YAML node with its location.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub loc: Loc,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Value {
    /// Human name of the node's type, for error messages.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::UInt(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

impl Node {
    /// Looks up a key of a mapping node.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| matches!(&k.value, Value::Str(s) if s == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// Converts the node to JSON (for manifests and free-form values).
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::UInt(u) => serde_json::Value::from(*u),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            Value::Str(s) => serde_json::Value::String(s.clone()),
            Value::Seq(items) => {
                serde_json::Value::Array(items.iter().map(Node::to_json).collect())
            }
            Value::Map(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (scalar_key(k), v.to_json()))
                    .collect(),
            ),
        }
    }
}

impl Node {
    /// A node holding a JSON value, every part located at `loc` (for values
    /// that an expression produced in place of what the YAML said).
    #[must_use]
    pub fn from_json(v: &serde_json::Value, loc: Loc) -> Node {
        let value = match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => n
                .as_i64()
                .map(Value::Int)
                .or_else(|| n.as_u64().map(Value::UInt))
                .unwrap_or_else(|| Value::Float(n.as_f64().unwrap_or(0.0))),
            serde_json::Value::String(s) => Value::Str(s.clone()),
            serde_json::Value::Array(a) => {
                Value::Seq(a.iter().map(|x| Node::from_json(x, loc)).collect())
            }
            serde_json::Value::Object(o) => Value::Map(
                o.iter()
                    .map(|(k, x)| {
                        (
                            Node {
                                value: Value::Str(k.clone()),
                                loc,
                            },
                            Node::from_json(x, loc),
                        )
                    })
                    .collect(),
            ),
        };
        Node { value, loc }
    }
}

fn scalar_key(node: &Node) -> String {
    match &node.value {
        Value::Str(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_owned(),
        Value::Seq(_) | Value::Map(_) => "<complex key>".to_owned(),
    }
}

// ---------------------------------------------------------------------------
// Parsing: serde-saphyr -> Node
// ---------------------------------------------------------------------------

/// An error found while parsing or deserializing YAML.
#[derive(Clone, Debug, PartialEq)]
pub struct YamlError {
    pub message: String,
    pub loc: Option<Loc>,
    /// Valid names, when the error is an unknown field or variant.
    pub expected: Vec<&'static str>,
    /// The unknown name, when the error is an unknown field or variant.
    pub unknown: Option<String>,
    /// The kind of struct being read (e.g. "Step"), when known.
    pub context: Option<&'static str>,
}

impl YamlError {
    pub(crate) fn msg(message: impl Into<String>) -> Self {
        YamlError {
            message: message.into(),
            loc: None,
            expected: Vec::new(),
            unknown: None,
            context: None,
        }
    }

    pub(crate) fn at(mut self, loc: Loc) -> Self {
        if self.loc.is_none() {
            self.loc = Some(loc);
        }
        self
    }
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for YamlError {}

impl de::Error for YamlError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        YamlError::msg(msg.to_string())
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        let mut e = YamlError::msg(format!("unknown field `{field}`"));
        e.expected = expected.to_vec();
        e.unknown = Some(field.to_owned());
        e
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        let mut e = YamlError::msg(format!("unknown value `{variant}`"));
        e.expected = expected.to_vec();
        e.unknown = Some(variant.to_owned());
        e
    }

    fn missing_field(field: &'static str) -> Self {
        YamlError::msg(format!("missing field `{field}`"))
    }

    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        YamlError::msg(format!(
            "expected {}, found {}",
            expected_text(exp),
            describe(&unexp)
        ))
    }

    fn invalid_value(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        YamlError::msg(format!(
            "invalid value {}: expected {exp}",
            describe(&unexp)
        ))
    }
}

/// serde names primitive types ("u32"); say what a person would write.
fn expected_text(exp: &dyn de::Expected) -> String {
    let e = exp.to_string();
    match e.as_str() {
        "u8" | "u16" | "u32" | "u64" | "usize" => format!("a whole number ≥ 0 ({e})"),
        "i8" | "i16" | "i32" | "i64" | "isize" => format!("a whole number ({e})"),
        "f32" | "f64" => "a number".to_owned(),
        "a boolean" => "a boolean (true or false)".to_owned(),
        _ => e,
    }
}

fn describe(u: &de::Unexpected<'_>) -> String {
    match u {
        de::Unexpected::Bool(b) => format!("boolean `{b}`"),
        de::Unexpected::Unsigned(n) => format!("integer `{n}`"),
        de::Unexpected::Signed(n) => format!("integer `{n}`"),
        de::Unexpected::Float(n) => format!("number `{n}`"),
        de::Unexpected::Str(s) => format!("string \"{s}\""),
        de::Unexpected::Unit => "null".to_owned(),
        de::Unexpected::Seq => "a list".to_owned(),
        de::Unexpected::Map => "a mapping".to_owned(),
        other => other.to_string(),
    }
}

/// Input limits: anything beyond is refused with an error, never processed.
fn options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = super::limits::MAX_YAML_DEPTH;
    budget.max_events = 1_000_000;
    budget.max_aliases = super::limits::MAX_YAML_ALIASES;
    budget.max_anchors = super::limits::MAX_YAML_ALIASES;
    budget.max_nodes = super::limits::MAX_YAML_NODES;
    budget.max_total_scalar_bytes = MAX_FILE_BYTES;
    budget.max_documents = 1;
    let mut opts = serde_saphyr::Options::default();
    opts.budget = Some(budget);
    opts.alias_limits.max_total_replayed_events = 100_000;
    opts
}

/// Parses a single YAML document into a located tree.
///
/// # Errors
/// Syntax errors, budget breaches, duplicate keys and invalid UTF-8 are
/// returned with their location.
pub fn parse(text: &str) -> Result<Node, YamlError> {
    if text.len() > MAX_FILE_BYTES {
        return Err(YamlError::msg(format!(
            "file is too large ({} bytes; the limit is {} bytes)",
            text.len(),
            MAX_FILE_BYTES
        )));
    }
    if text.trim().is_empty()
        || text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Err(YamlError::msg("the file is empty: expected a YAML mapping"));
    }
    serde_saphyr::from_str_with_options::<SNode>(text, options())
        .map(|n| n.0)
        .map_err(from_saphyr)
}

/// Parses a multi-document YAML stream (manifests) into located trees; empty
/// documents are skipped.
///
/// # Errors
/// As [`parse`].
pub fn parse_multi(text: &str) -> Result<Vec<Node>, YamlError> {
    if text.len() > MAX_FILE_BYTES {
        return Err(YamlError::msg(format!(
            "file is too large ({} bytes; the limit is {} bytes)",
            text.len(),
            MAX_FILE_BYTES
        )));
    }
    let mut opts = options();
    if let Some(b) = opts.budget.as_mut() {
        b.max_documents = super::limits::MAX_DOCUMENTS;
    }
    let docs: Vec<Option<SNode>> = serde_saphyr::from_str_multiple_with_options(text, opts)
        .map_err(|e| {
            let mut y = from_saphyr(e);
            if y.message == SECOND_DOCUMENT {
                y.message = format!(
                    "a manifest holds at most {} YAML documents (see docs/limits.md); one more starts here",
                    super::limits::MAX_DOCUMENTS
                );
            }
            y
        })?;
    Ok(docs
        .into_iter()
        .flatten()
        .map(|n| n.0)
        .filter(|n| n.value != Value::Null)
        .collect())
}

fn from_saphyr(e: serde_saphyr::Error) -> YamlError {
    let loc = e.location().map(|l| Loc {
        line: u32::try_from(l.line()).unwrap_or(u32::MAX),
        col: u32::try_from(l.column()).unwrap_or(u32::MAX),
    });
    let mut message = e.without_snippet().to_string();
    // serde-saphyr appends " at line N, column M"; we print the location ourselves.
    if let Some(idx) = message.rfind(" at line ") {
        message.truncate(idx);
    }
    if let Some(rest) = message.strip_prefix("error: ") {
        message = rest.to_owned();
    }
    let message = humane(&message);
    YamlError {
        message,
        loc: loc.filter(|l| l.line > 0),
        expected: Vec::new(),
        unknown: None,
        context: None,
    }
}

/// A node as read by serde-saphyr (its own `Spanned` carries the location).
struct SNode(Node);

/// The document budget's message for a playbook (a manifest says its own).
const SECOND_DOCUMENT: &str = "a playbook is a single YAML document, but a second one starts here";

/// Rewrites the parser's budget messages for people.
fn humane(message: &str) -> String {
    let m = message
        .replace(", set DuplicateKeyPolicy in Options if acceptable", "")
        .replace("duplicate mapping key: ", "duplicate key: ");
    if m.contains("Depth {") || m.contains("recursion limit") || m.contains("FlowNesting") {
        "the document nests too deeply (the limit is 64 levels)".to_owned()
    } else if m.contains("Documents {") {
        SECOND_DOCUMENT.to_owned()
    } else if m.contains("alias replay")
        || m.contains("Aliases {")
        || m.contains("AliasAnchorRatio")
    {
        "too many alias expansions: the document expands aliases beyond the limit (an alias bomb?)"
            .to_owned()
    } else if m.contains("Anchors {") {
        "too many anchors (the limit is 1000)".to_owned()
    } else if m.contains("Nodes {") || m.contains("Events {") {
        "the document has too many nodes (the limit is 250000)".to_owned()
    } else if m.contains("ScalarBytes") {
        "the document's text is too large".to_owned()
    } else {
        m
    }
}

impl<'de> Deserialize<'de> for SNode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = serde_saphyr::Spanned::<SValue>::deserialize(d)?;
        Ok(SNode(Node {
            value: s.value.0,
            loc: Loc {
                line: u32::try_from(s.referenced.line()).unwrap_or(u32::MAX),
                col: u32::try_from(s.referenced.column()).unwrap_or(u32::MAX),
            },
        }))
    }
}

impl From<SNode> for Node {
    fn from(n: SNode) -> Node {
        n.0
    }
}

struct SValue(Value);

impl<'de> Deserialize<'de> for SValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor::<SNode>(std::marker::PhantomData))
            .map(SValue)
    }
}

/// Deserializing a `Node` from any deserializer (e.g. from another node).
impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Spanned::<Value>::deserialize(d)?;
        Ok(Node {
            value: s.value,
            loc: s.loc,
        })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor::<Node>(std::marker::PhantomData))
    }
}

/// Builds a [`Value`]; `N` is the child node type (serde-saphyr's or ours).
struct ValueVisitor<N>(std::marker::PhantomData<N>);

impl<'de, N: Deserialize<'de> + Into<Node>> Visitor<'de> for ValueVisitor<N> {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Value, D2::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::UInt(v), Value::Int))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        i64::try_from(v)
            .map(Value::Int)
            .map_err(|_| E::custom("integer out of range"))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        u64::try_from(v)
            .map(|u| i64::try_from(u).map_or(Value::UInt(u), Value::Int))
            .map_err(|_| E::custom("integer out of range"))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        String::from_utf8(v.to_vec())
            .map(Value::Str)
            .map_err(|_| E::custom("binary data is not supported"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(n) = seq.next_element::<N>()? {
            items.push(n.into());
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries: Vec<(Node, Node)> = Vec::new();
        while let Some((k, v)) = map.next_entry::<N, N>()? {
            let (k, v): (Node, Node) = (k.into(), v.into());
            if let Some((first, _)) = entries.iter().find(|(k2, _)| k2.value == k.value) {
                return Err(de::Error::custom(format!(
                    "duplicate key `{}` (first defined at line {}, column {})",
                    scalar_key(&k),
                    first.loc.line,
                    first.loc.col
                )));
            }
            entries.push((k, v));
        }
        Ok(Value::Map(entries))
    }
}

// ---------------------------------------------------------------------------
// Spanned<T>: a value with the location of its node
// ---------------------------------------------------------------------------

pub(crate) const SPANNED: &str = "$scenario::Spanned";
pub(crate) const SPANNED_FIELDS: &[&str] = &["$line", "$col", "$value"];

/// A deserialized value together with the location of the node it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub loc: Loc,
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: Serialize> Serialize for Spanned<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

impl<T: schemars::JsonSchema> schemars::JsonSchema for Spanned<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> std::borrow::Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
    fn inline_schema() -> bool {
        T::inline_schema()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SV<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for SV<T> {
            type Value = Spanned<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a located value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Spanned<T>, A::Error> {
                let mut line = 0u32;
                let mut col = 0u32;
                let mut value = None;
                while let Some(key) = map.next_key::<&str>()? {
                    match key {
                        "$line" => line = map.next_value()?,
                        "$col" => col = map.next_value()?,
                        _ => value = Some(map.next_value()?),
                    }
                }
                let value = value.ok_or_else(|| de::Error::custom("missing value"))?;
                Ok(Spanned {
                    value,
                    loc: Loc { line, col },
                })
            }
        }
        d.deserialize_struct(SPANNED, SPANNED_FIELDS, SV(std::marker::PhantomData))
    }
}
