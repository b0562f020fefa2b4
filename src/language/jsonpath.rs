//! JSONPath dialects. Queries are RFC 9535 (`$.status.loadBalancer.ingress[0].ip`);
//! kubectl's template form, which every tutorial uses
//! (`{.status.loadBalancer.ingress[0].*}`), is accepted too and converted:
//!
//! - one `{...}` around the whole query (kubectl's `-o jsonpath=`), its root `.` or `$`;
//! - fields, indexes, slices, `*` and `..` as they are;
//! - filters `[?(@.name=="x")]` become RFC 9535's `[?@.name=="x"]`.
//!
//! Not converted (an error that says so): text around or between several `{}`
//! blocks, `range`/`end`, and kubectl's quoting of keys with dots (`['a.b']` is
//! RFC 9535 already and works).

use std::borrow::Cow;

/// The RFC 9535 form of a query written in either dialect.
///
/// # Errors
/// kubectl template features with no RFC 9535 equivalent, named.
pub fn to_rfc9535(query: &str) -> Result<Cow<'_, str>, String> {
    let q = query.trim();
    if !q.starts_with('{') {
        return Ok(Cow::Borrowed(query));
    }
    let Some(inner) = q.strip_prefix('{').and_then(|r| r.strip_suffix('}')) else {
        return Err("a kubectl JSONPath is one `{...}` block".to_owned());
    };
    if inner.contains('{') || inner.contains('}') {
        return Err(
            "several `{...}` blocks, or text between them, are kubectl output templates; write one query per capture or check".to_owned(),
        );
    }
    let inner = inner.trim();
    if inner.starts_with("range") || inner == "end" {
        return Err(
            "`range`/`end` has no RFC 9535 equivalent; select the list itself (`$.items[*].x`)"
                .to_owned(),
        );
    }
    let body = inner.strip_prefix('$').unwrap_or(inner).to_owned();
    if !body.is_empty() && !body.starts_with('.') && !body.starts_with('[') {
        return Err(format!("`{inner}` does not start at the root (`.` or `$`)"));
    }
    // kubectl filters `[?(@.x=="y")]` -> RFC 9535 `[?@.x=="y"]`.
    let mut out = String::from("$");
    let mut rest = body.as_str();
    while let Some(at) = rest.find("[?(") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 3..];
        let Some(end) = after.find(")]") else {
            return Err("a filter `[?(...)]` is not closed".to_owned());
        };
        out.push_str("[?");
        out.push_str(&after[..end]);
        out.push(']');
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use crate::language::jsonpath::to_rfc9535;

    #[test]
    fn kubectl_queries_become_rfc9535() {
        for (kubectl, rfc) in [
            (
                "{.status.loadBalancer.ingress[0].*}",
                "$.status.loadBalancer.ingress[0].*",
            ),
            ("{.spec.ports[0].port}", "$.spec.ports[0].port"),
            ("{$.metadata.name}", "$.metadata.name"),
            ("{.items[*].metadata.name}", "$.items[*].metadata.name"),
            (
                "{.status.conditions[?(@.type==\"Ready\")].status}",
                "$.status.conditions[?@.type==\"Ready\"].status",
            ),
            ("{..name}", "$..name"),
        ] {
            assert_eq!(to_rfc9535(kubectl).unwrap(), rfc, "{kubectl}");
        }
        assert_eq!(to_rfc9535("$.a.b").unwrap(), "$.a.b");
    }

    #[test]
    fn kubectl_templates_without_an_equivalent_are_named() {
        for bad in ["{.a}{.b}", "{range .items[*]}", "{.a", "{status}"] {
            assert!(to_rfc9535(bad).is_err(), "{bad}");
        }
    }
}
