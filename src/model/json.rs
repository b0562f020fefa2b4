//! JSON values as checks see them: compiled JSONPath queries, equality where
//! numbers compare by value, and partial-object matches.

/// A compiled JSONPath query (parsed once, run many times).
#[derive(Debug, Clone)]
pub struct Compiled(jsonpath_rust::parser::model::JpQuery);

impl Compiled {
    /// # Errors
    /// The path does not parse (validation has already checked it).
    pub fn new(path: &str) -> Result<Self, String> {
        let path = crate::language::jsonpath::to_rfc9535(path)?;
        jsonpath_rust::parser::parse_json_path(&path)
            .map(Compiled)
            .map_err(|e| e.to_string())
    }

    /// Every value the query matches, in document order.
    fn all(&self, doc: &serde_json::Value) -> Vec<serde_json::Value> {
        jsonpath_rust::query::js_path_process(&self.0, doc)
            .map(|v| v.into_iter().map(|r| r.val().clone()).collect())
            .unwrap_or_default()
    }

    /// The value to capture: `None` when nothing matches, the value when one
    /// does, and, as kubectl prints them, the values separated by spaces when
    /// several do (`{.status.loadBalancer.ingress[0].*}` gives `10.0.0.1`).
    #[must_use]
    pub fn capture(&self, doc: &serde_json::Value) -> Option<serde_json::Value> {
        let found = self.all(doc);
        match found.len() {
            0 => None,
            1 => found.into_iter().next(),
            _ => Some(serde_json::Value::String(
                found
                    .iter()
                    .map(|v| match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
            )),
        }
    }

    /// What `contains` looks through: the value at the path when one matches
    /// (a list, or not: the check says so), else every value the path
    /// selects, a selected list giving its elements. `None` when nothing
    /// matches.
    #[must_use]
    pub fn elements(&self, doc: &serde_json::Value) -> Option<serde_json::Value> {
        let found = self.all(doc);
        match found.len() {
            0 => None,
            1 => found.into_iter().next(),
            _ => Some(serde_json::Value::Array(
                found
                    .into_iter()
                    .flat_map(|v| match v {
                        serde_json::Value::Array(items) => items,
                        other => vec![other],
                    })
                    .collect(),
            )),
        }
    }

    /// The value at the path: `None` when nothing matches, the value when one
    /// does, an array when several do.
    #[must_use]
    pub fn select(&self, doc: &serde_json::Value) -> Option<serde_json::Value> {
        let found = self.all(doc);
        match found.len() {
            0 => None,
            1 => found.into_iter().next(),
            _ => Some(serde_json::Value::Array(found)),
        }
    }
}

/// Equality where numbers compare by value (`1` == `1.0`).
#[must_use]
pub fn json_eq(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as V;
    match (a, b) {
        (V::Number(x), V::Number(y)) => x.as_f64() == y.as_f64(),
        (V::Array(x), V::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (V::Object(x), V::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Partial-object match: every key of `expected` must be in `actual` with a
/// matching value; lists match element by element and must have the same
/// length (as chainsaw's assertions do). Returns the mismatches, by path.
#[must_use]
pub fn subset_mismatches(expected: &serde_json::Value, actual: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    subset(expected, Some(actual), "", &mut out);
    out
}

fn subset(
    expected: &serde_json::Value,
    actual: Option<&serde_json::Value>,
    path: &str,
    out: &mut Vec<String>,
) {
    use serde_json::Value as V;
    let here = if path.is_empty() { "(root)" } else { path };
    match (expected, actual) {
        (_, None) => out.push(format!(
            "{here}: expected {}, but it is missing",
            short(expected)
        )),
        (V::Object(e), Some(V::Object(a))) => {
            for (k, ev) in e {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                subset(ev, a.get(k), &p, out);
            }
        }
        (V::Array(e), Some(V::Array(a))) => {
            if e.len() == a.len() {
                for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                    subset(ev, Some(av), &format!("{path}[{i}]"), out);
                }
            } else {
                out.push(format!(
                    "{here}: expected {} items {}, found {} items {}",
                    e.len(),
                    short(expected),
                    a.len(),
                    short(&V::Array(a.clone()))
                ));
            }
        }
        (e, Some(a)) => {
            if !json_eq(e, a) {
                out.push(format!("{here}: expected {}, found {}", short(e), short(a)));
            }
        }
    }
}

fn short(v: &serde_json::Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 120 {
        format!("{}…", s.chars().take(120).collect::<String>())
    } else {
        s
    }
}
