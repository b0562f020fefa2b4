//! Sizes in bytes as playbooks write them (`maxBody: 512KiB`).

use schemars::JsonSchema;
use serde::Deserialize;

use super::limits;

/// A size in bytes: a number, or text with a unit (`B`, `KiB`, `MiB`, `kB`, `MB`).
#[derive(Debug, Clone, JsonSchema)]
#[serde(untagged)]
pub enum ByteSize {
    Bytes(u64),
    Text(String),
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = ByteSize;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a size such as `512KiB` or `4MiB`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ByteSize, E> {
                Ok(ByteSize::Text(v.to_owned()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ByteSize, E> {
                Ok(ByteSize::Bytes(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<ByteSize, E> {
                Ok(ByteSize::Text(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<ByteSize, E> {
                Ok(ByteSize::Text(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// Bytes of a size, or why it is not one.
///
/// # Errors
/// Not a whole number, an unknown unit, or too large for 64 bits.
pub fn parse_size(s: &ByteSize) -> Result<u64, String> {
    let text = match s {
        ByteSize::Bytes(n) => return Ok(*n),
        ByteSize::Text(t) => t.trim(),
    };
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (n, unit) = text.split_at(digits);
    if unit.starts_with('.') {
        return Err(format!(
            "`{}` is not a whole number (write it in a smaller unit, e.g. 1536KiB for 1.5MiB)",
            limits::excerpt(text)
        ));
    }
    let n: u64 = n
        .parse()
        .map_err(|_| format!("`{}` is not a size", limits::excerpt(text)))?;
    let scale: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1024,
        "MiB" => 1024 * 1024,
        "kB" | "KB" => 1000,
        "MB" => 1_000_000,
        other => return Err(format!("unknown unit `{}`", limits::excerpt(other))),
    };
    n.checked_mul(scale)
        .ok_or_else(|| format!("`{}` is too large", limits::excerpt(text)))
}
