//! What a probe extracts from each answer (`extract:`): a JSONPath on the
//! JSON body, a header, the status or the body text, optionally through a
//! regex; read, checked, and typed for the checks that compare with it.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::language::yaml::Spanned;
use crate::model::validator::Validator;

/// Where an extracted value comes from.
#[derive(Debug, Clone, JsonSchema)]
#[serde(untagged)]
pub enum RawExtract {
    /// A JSONPath on the JSON body.
    Path(String),
    /// A JSONPath, a header, the status or the body text, optionally through a regex.
    Spec(RawExtractSpec),
}

impl<'de> Deserialize<'de> for RawExtract {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawExtract;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSONPath or a mapping with `jsonpath`, `header`, `status` or `body`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawExtract, E> {
                Ok(RawExtract::Path(v.to_owned()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<RawExtract, A::Error> {
                RawExtractSpec::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(RawExtract::Spec)
            }
        }
        d.deserialize_any(V)
    }
}

/// An extraction with its source spelled out.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", rename = "ExtractSpec")]
pub struct RawExtractSpec {
    /// RFC 9535 JSONPath on the JSON body.
    pub jsonpath: Option<String>,
    /// A response header (case-insensitive).
    pub header: Option<String>,
    /// The HTTP status code.
    #[serde(default)]
    pub status: bool,
    /// The body text.
    #[serde(default)]
    pub body: bool,
    /// A regular expression applied to the value's text: the first group (or the whole match).
    pub regex: Option<String>,
}

/// Where a validated extraction reads from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtractFrom {
    JsonPath(String),
    Header(String),
    Status,
    Body,
}

/// A validated extraction.
#[derive(Debug, Clone)]
pub struct Extract {
    pub from: ExtractFrom,
    pub regex: Option<String>,
}

impl Extract {
    /// The type of the values it gives, where the source fixes it.
    #[must_use]
    pub fn value_type(&self) -> crate::model::check::ValueType {
        use crate::model::check::ValueType;
        match (&self.from, &self.regex) {
            (_, Some(_)) | (ExtractFrom::Header(_) | ExtractFrom::Body, None) => ValueType::Text,
            (ExtractFrom::Status, None) => ValueType::Number,
            (ExtractFrom::JsonPath(_), None) => ValueType::Unknown,
        }
    }
}

fn validate_extract(cx: &mut Validator, e: &Spanned<RawExtract>) -> Option<Extract> {
    match &e.value {
        RawExtract::Path(p) => {
            let s = Spanned {
                value: p.clone(),
                loc: e.loc,
            };
            cx.jsonpath(&s)?;
            Some(Extract {
                from: ExtractFrom::JsonPath(p.clone()),
                regex: None,
            })
        }
        RawExtract::Spec(spec) => {
            let mut from = Vec::new();
            if let Some(p) = &spec.jsonpath {
                cx.jsonpath(&Spanned {
                    value: p.clone(),
                    loc: e.loc,
                })?;
                from.push(ExtractFrom::JsonPath(p.clone()));
            }
            if let Some(h) = &spec.header {
                from.push(ExtractFrom::Header(h.to_ascii_lowercase()));
            }
            if spec.status {
                from.push(ExtractFrom::Status);
            }
            if spec.body {
                from.push(ExtractFrom::Body);
            }
            if from.len() != 1 {
                cx.error(e.loc, "an extraction reads from exactly one source")
                    .expected(
                        "one of `jsonpath: <path>`, `header: <name>`, `status: true`, `body: true`",
                    );
                return None;
            }
            if let Some(re) = &spec.regex
                && !cx.regex(re, e.loc)
            {
                return None;
            }
            Some(Extract {
                from: from.remove(0),
                regex: spec.regex.clone(),
            })
        }
    }
}

/// The extractions, their names, and the type each gives (a status is a number).
#[allow(clippy::type_complexity)]
pub(super) fn extractions(
    cx: &mut Validator,
    raw: &IndexMap<String, Spanned<RawExtract>>,
) -> (Vec<(String, Extract)>, Vec<String>, Vec<(String, crate::model::check::ValueType)>) {
    let mut extract = Vec::new();
    for (name, e) in raw {
        if let Some(x) = validate_extract(cx, e) {
            extract.push((name.clone(), x));
        }
    }
    let names: Vec<String> = raw.keys().cloned().collect();
    // Checks compare with the type each extraction gives (a status is a number).
    let typed: Vec<(String, crate::model::check::ValueType)> = names
        .iter()
        .map(|n| {
            let ty = extract
                .iter()
                .find(|(x, _)| x == n)
                .map_or(crate::model::check::ValueType::Unknown, |(_, e)| e.value_type());
            (n.clone(), ty)
        })
        .collect();
    (extract, names, typed)
}

