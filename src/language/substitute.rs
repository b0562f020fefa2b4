//! envsubst-style substitution, opt-in per `apply`/`delete` (`substitute: true`),
//! as tutorials do with `kustomize build | envsubst | kubectl apply` and Flux
//! does with `postBuild.substitute`: `${NAME}` and `${NAME:=default}`; `$${`
//! writes a literal `${`. Names are looked up in the step's template scope
//! (vars, step vars, captures), then in the environment.

/// One `${...}` placeholder: its name, byte offset, and whether it has a default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    pub name: String,
    pub offset: usize,
    pub default: Option<String>,
}

/// The placeholders of a text, in order (escaped `$${` ones are not).
#[must_use]
pub fn placeholders(text: &str) -> Vec<Placeholder> {
    let mut out = Vec::new();
    let mut i = 0;
    let b = text.as_bytes();
    while let Some(at) = text[i..].find("${").map(|p| p + i) {
        if at > 0 && b[at - 1] == b'$' {
            i = at + 2;
            continue;
        }
        let Some(end) = text[at..].find('}').map(|p| p + at) else {
            break;
        };
        let inner = &text[at + 2..end];
        let (name, default) = match inner.split_once(":=") {
            Some((n, d)) => (n, Some(d.to_owned())),
            None => (inner, None),
        };
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if valid {
            out.push(Placeholder {
                name: name.to_owned(),
                offset: at,
                default,
            });
        }
        i = end + 1;
    }
    out
}

/// The text with its placeholders replaced.
///
/// # Errors
/// The first placeholder without a value or a default.
pub fn substitute(
    text: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<String, Placeholder> {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for p in placeholders(text) {
        let value = match (lookup(&p.name), &p.default) {
            (Some(v), _) => v,
            (None, Some(d)) => d.clone(),
            (None, None) => return Err(p),
        };
        out.push_str(&text[last..p.offset]);
        out.push_str(&value);
        last = text[p.offset..]
            .find('}')
            .map_or(text.len(), |e| p.offset + e + 1);
    }
    out.push_str(&text[last..]);
    Ok(out.replace("$${", "${"))
}

/// The value of `name` in a template scope: a variable or capture, else `env`.
#[must_use]
pub fn lookup(ctx: &serde_json::Value, name: &str) -> Option<String> {
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    ctx.get(name)
        .map(text)
        .or_else(|| ctx.get("env").and_then(|e| e.get(name)).map(text))
}

#[cfg(test)]
mod tests {
    use crate::language::substitute::{placeholders, substitute};

    #[test]
    fn envsubst_forms() {
        let look = |n: &str| (n == "CLUSTER").then(|| "cluster1".to_owned());
        assert_eq!(
            substitute(
                "trustDomain: ${CLUSTER}, ns: ${NS:=istio-system}, cost: $${PRICE}",
                look
            )
            .unwrap(),
            "trustDomain: cluster1, ns: istio-system, cost: ${PRICE}"
        );
        let missing = substitute("a: ${NOPE}", look).unwrap_err();
        assert_eq!((missing.name.as_str(), missing.offset), ("NOPE", 3));
        assert_eq!(placeholders("$${A} ${B} ${1x} ${C:=d}").len(), 2);
    }
}
