//! Typed raw structs deserialized from the located [`Node`] tree: errors carry
//! the location of the innermost node at fault.

use serde::Deserialize;
use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};

use super::yaml::{Node, SPANNED, Value, YamlError};

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
