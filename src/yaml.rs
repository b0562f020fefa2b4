//! YAML loading with source locations.
//!
//! The document is parsed once by serde-saphyr (with an input budget) into a
//! [`Node`] tree where every node keeps its line and column. The typed raw
//! structs are then deserialized *from that tree*, section by section and step
//! by step, so that one bad step does not hide the errors of the next one and
//! every error carries the location of the node at fault.

use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};
use serde::{Deserialize, Serialize};

/// Largest playbook or manifest file we accept (bytes).
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;

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
    fn msg(message: impl Into<String>) -> Self {
        YamlError {
            message: message.into(),
            loc: None,
            expected: Vec::new(),
            unknown: None,
            context: None,
        }
    }

    fn at(mut self, loc: Loc) -> Self {
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
    budget.max_depth = 64;
    budget.max_events = 1_000_000;
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_nodes = 250_000;
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
        b.max_documents = 10_000;
    }
    let docs: Vec<Option<SNode>> =
        serde_saphyr::from_str_multiple_with_options(text, opts).map_err(from_saphyr)?;
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

/// Rewrites the parser's budget messages for people.
fn humane(message: &str) -> String {
    let m = message
        .replace(", set DuplicateKeyPolicy in Options if acceptable", "")
        .replace("duplicate mapping key: ", "duplicate key: ");
    if m.contains("Depth {") || m.contains("recursion limit") || m.contains("FlowNesting") {
        "the document nests too deeply (the limit is 64 levels)".to_owned()
    } else if m.contains("Documents {") {
        "a playbook is a single YAML document, but a second one starts here".to_owned()
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

const SPANNED: &str = "$scenario::Spanned";
const SPANNED_FIELDS: &[&str] = &["$line", "$col", "$value"];

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

// ---------------------------------------------------------------------------
// Deserializing typed structs from the tree
// ---------------------------------------------------------------------------

/// Deserializes a typed value from a node; errors carry the location of the
/// innermost node at fault.
///
/// # Errors
/// Type mismatches, unknown fields, missing fields.
pub fn from_node<'a, T: Deserialize<'a>>(node: &'a Node) -> Result<T, YamlError> {
    T::deserialize(NodeDe {
        node,
        context: None,
    })
    .map_err(|e| e.at(node.loc))
}

#[derive(Clone, Copy)]
struct NodeDe<'a> {
    node: &'a Node,
    context: Option<&'static str>,
}

impl<'a> NodeDe<'a> {
    fn err(self, exp: &str) -> YamlError {
        YamlError::msg(format!("expected {exp}, found {}", found(self.node))).at(self.node.loc)
    }
}

fn found(node: &Node) -> String {
    match &node.value {
        Value::Str(s) => format!("string \"{}\"", truncate(s, 40)),
        Value::Int(i) => format!("integer `{i}`"),
        Value::UInt(u) => format!("integer `{u}`"),
        Value::Float(f) => format!("number `{f}`"),
        Value::Bool(b) => format!("boolean `{b}`"),
        other => other.kind().to_owned(),
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(n).collect();
        t.push('…');
        t
    }
}

macro_rules! forward_any {
    ($($m:ident)*) => {
        $(fn $m<V: Visitor<'a>>(self, v: V) -> Result<V::Value, YamlError> { self.deserialize_any(v) })*
    };
}

impl<'a> Deserializer<'a> for NodeDe<'a> {
    type Error = YamlError;

    fn deserialize_any<V: Visitor<'a>>(self, v: V) -> Result<V::Value, YamlError> {
        let loc = self.node.loc;
        let r = match &self.node.value {
            Value::Null => v.visit_unit(),
            Value::Bool(b) => v.visit_bool(*b),
            Value::Int(i) => v.visit_i64(*i),
            Value::UInt(u) => v.visit_u64(*u),
            Value::Float(f) => v.visit_f64(*f),
            Value::Str(s) => v.visit_borrowed_str(s),
            Value::Seq(items) => v.visit_seq(SeqDe {
                iter: items.iter(),
                count: 0,
            }),
            Value::Map(entries) => v.visit_map(MapDe {
                iter: entries.iter(),
                value: None,
                context: self.context,
            }),
        };
        r.map_err(|e| e.at(loc))
    }

    fn deserialize_bool<V: Visitor<'a>>(self, v: V) -> Result<V::Value, YamlError> {
        match self.node.value {
            Value::Bool(b) => v.visit_bool(b).map_err(|e: YamlError| e.at(self.node.loc)),
            _ => Err(self.err("a boolean (true or false)")),
        }
    }

    fn deserialize_str<V: Visitor<'a>>(self, v: V) -> Result<V::Value, YamlError> {
        match &self.node.value {
            Value::Str(s) => v
                .visit_borrowed_str(s)
                .map_err(|e: YamlError| e.at(self.node.loc)),
            _ => Err(self.err("a string")),
        }
    }

    fn deserialize_string<V: Visitor<'a>>(self, v: V) -> Result<V::Value, YamlError> {
        self.deserialize_str(v)
    }

    fn deserialize_option<V: Visitor<'a>>(self, v: V) -> Result<V::Value, YamlError> {
        match self.node.value {
            Value::Null => v.visit_none(),
            _ => v.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'a>>(self, v: V) -> Result<V::Value, YamlError> {
        match self.node.value {
            Value::Null => v.visit_unit(),
            _ => Err(self.err("null")),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, YamlError> {
        self.deserialize_unit(v)
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, YamlError> {
        v.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'a>>(self, v: V) -> Result<V::Value, YamlError> {
        match &self.node.value {
            Value::Seq(_) => self.deserialize_any(v),
            _ => Err(self.err("a list")),
        }
    }

    fn deserialize_tuple<V: Visitor<'a>>(self, _len: usize, v: V) -> Result<V::Value, YamlError> {
        self.deserialize_seq(v)
    }

    fn deserialize_tuple_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _len: usize,
        v: V,
    ) -> Result<V::Value, YamlError> {
        self.deserialize_seq(v)
    }

    fn deserialize_map<V: Visitor<'a>>(self, v: V) -> Result<V::Value, YamlError> {
        match &self.node.value {
            Value::Map(_) => self.deserialize_any(v),
            _ => Err(self.err("a mapping")),
        }
    }

    fn deserialize_struct<V: Visitor<'a>>(
        self,
        name: &'static str,
        _fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, YamlError> {
        if name == SPANNED {
            return v.visit_map(SpannedDe {
                node: self.node,
                state: 0,
            });
        }
        match &self.node.value {
            Value::Map(entries) => v
                .visit_map(MapDe {
                    iter: entries.iter(),
                    value: None,
                    context: Some(name),
                })
                .map_err(|e| e.at(self.node.loc)),
            _ => Err(self.err("a mapping")),
        }
    }

    fn deserialize_enum<V: Visitor<'a>>(
        self,
        name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, YamlError> {
        match &self.node.value {
            Value::Str(_) => v
                .visit_enum(EnumDe {
                    tag: self.node,
                    value: None,
                    context: Some(name),
                })
                .map_err(|e| e.at(self.node.loc)),
            Value::Map(entries) if entries.len() == 1 => {
                let (k, val) = &entries[0];
                v.visit_enum(EnumDe {
                    tag: k,
                    value: Some(val),
                    context: Some(name),
                })
                .map_err(|e| e.at(self.node.loc))
            }
            Value::Map(entries) if entries.is_empty() => Err(self.err("one of the variants")),
            Value::Map(entries) => Err(YamlError::msg(format!(
                "expected exactly one key, found {}",
                entries.len()
            ))
            .at(entries[1].0.loc)),
            _ => Err(self.err("a string or a single-key mapping")),
        }
    }

    fn deserialize_identifier<V: Visitor<'a>>(self, v: V) -> Result<V::Value, YamlError> {
        match &self.node.value {
            Value::Str(s) => v
                .visit_borrowed_str(s)
                .map_err(|e: YamlError| e.at(self.node.loc)),
            _ => Err(self.err("a field name")),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'a>>(self, v: V) -> Result<V::Value, YamlError> {
        v.visit_unit()
    }

    forward_any! {
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
        deserialize_f32 deserialize_f64 deserialize_char deserialize_bytes deserialize_byte_buf
    }
}

struct SeqDe<'a> {
    iter: std::slice::Iter<'a, Node>,
    count: usize,
}

impl<'a> SeqAccess<'a> for SeqDe<'a> {
    type Error = YamlError;
    fn next_element_seed<T: DeserializeSeed<'a>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, YamlError> {
        match self.iter.next() {
            Some(node) => {
                self.count += 1;
                seed.deserialize(NodeDe {
                    node,
                    context: None,
                })
                .map(Some)
                .map_err(|e| e.at(node.loc))
            }
            None => Ok(None),
        }
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

struct MapDe<'a> {
    iter: std::slice::Iter<'a, (Node, Node)>,
    value: Option<&'a Node>,
    context: Option<&'static str>,
}

impl<'a> MapAccess<'a> for MapDe<'a> {
    type Error = YamlError;
    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, YamlError> {
        match self.iter.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(NodeDe {
                    node: k,
                    context: None,
                })
                .map(Some)
                .map_err(|mut e| {
                    if e.context.is_none() {
                        e.context = self.context;
                    }
                    e.at(k.loc)
                })
            }
            None => Ok(None),
        }
    }
    fn next_value_seed<V: DeserializeSeed<'a>>(&mut self, seed: V) -> Result<V::Value, YamlError> {
        let node = self
            .value
            .take()
            .ok_or_else(|| YamlError::msg("value requested before key"))?;
        seed.deserialize(NodeDe {
            node,
            context: None,
        })
        .map_err(|e| e.at(node.loc))
    }
}

struct SpannedDe<'a> {
    node: &'a Node,
    state: u8,
}

impl<'a> MapAccess<'a> for SpannedDe<'a> {
    type Error = YamlError;
    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, YamlError> {
        let key = match self.state {
            0 => "$line",
            1 => "$col",
            2 => "$value",
            _ => return Ok(None),
        };
        seed.deserialize(de::value::BorrowedStrDeserializer::new(key))
            .map(Some)
    }
    fn next_value_seed<V: DeserializeSeed<'a>>(&mut self, seed: V) -> Result<V::Value, YamlError> {
        let state = self.state;
        self.state += 1;
        match state {
            0 => seed.deserialize(self.node.loc.line.into_deserializer()),
            1 => seed.deserialize(self.node.loc.col.into_deserializer()),
            _ => seed.deserialize(NodeDe {
                node: self.node,
                context: None,
            }),
        }
    }
}

struct EnumDe<'a> {
    tag: &'a Node,
    value: Option<&'a Node>,
    context: Option<&'static str>,
}

impl<'a> EnumAccess<'a> for EnumDe<'a> {
    type Error = YamlError;
    type Variant = VariantDe<'a>;
    fn variant_seed<V: DeserializeSeed<'a>>(
        self,
        seed: V,
    ) -> Result<(V::Value, VariantDe<'a>), YamlError> {
        let tag = self.tag;
        let ctx = self.context;
        let v = seed
            .deserialize(NodeDe {
                node: tag,
                context: None,
            })
            .map_err(|mut e| {
                if e.context.is_none() {
                    e.context = ctx;
                }
                e.at(tag.loc)
            })?;
        Ok((
            v,
            VariantDe {
                value: self.value,
                tag,
            },
        ))
    }
}

struct VariantDe<'a> {
    value: Option<&'a Node>,
    tag: &'a Node,
}

impl<'a> VariantAccess<'a> for VariantDe<'a> {
    type Error = YamlError;
    fn unit_variant(self) -> Result<(), YamlError> {
        match self.value {
            None => Ok(()),
            Some(n) if n.value == Value::Null => Ok(()),
            Some(n) => Err(YamlError::msg("this variant takes no value").at(n.loc)),
        }
    }
    fn newtype_variant_seed<T: DeserializeSeed<'a>>(self, seed: T) -> Result<T::Value, YamlError> {
        let node = self
            .value
            .ok_or_else(|| YamlError::msg("this variant needs a value").at(self.tag.loc))?;
        seed.deserialize(NodeDe {
            node,
            context: None,
        })
        .map_err(|e| e.at(node.loc))
    }
    fn tuple_variant<V: Visitor<'a>>(self, _len: usize, v: V) -> Result<V::Value, YamlError> {
        let node = self
            .value
            .ok_or_else(|| YamlError::msg("this variant needs a value").at(self.tag.loc))?;
        NodeDe {
            node,
            context: None,
        }
        .deserialize_seq(v)
    }
    fn struct_variant<V: Visitor<'a>>(
        self,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, YamlError> {
        let node = self
            .value
            .ok_or_else(|| YamlError::msg("this variant needs a value").at(self.tag.loc))?;
        NodeDe {
            node,
            context: None,
        }
        .deserialize_struct("variant", fields, v)
    }
}
