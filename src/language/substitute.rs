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

/// Why a substitution failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubstError {
    /// A placeholder without a value or a default.
    Missing(Placeholder),
    /// The output would pass [`MAX_RENDERED_BYTES`](super::limits::MAX_RENDERED_BYTES);
    /// the offset is the placeholder that would have passed it.
    TooLarge { offset: usize },
}

impl SubstError {
    /// Byte offset in the text of the placeholder at fault.
    #[must_use]
    pub fn offset(&self) -> usize {
        match self {
            SubstError::Missing(p) => p.offset,
            SubstError::TooLarge { offset } => *offset,
        }
    }

    /// What went wrong, in a sentence.
    #[must_use]
    pub fn message(&self) -> String {
        match self {
            SubstError::Missing(p) => format!("`${{{}}}` has no value", p.name),
            SubstError::TooLarge { .. } => format!(
                "substituting `${{...}}` placeholders makes the text larger than the limit of {} MiB (see docs/limits.md)",
                super::limits::MAX_RENDERED_BYTES / (1024 * 1024)
            ),
        }
    }
}

/// The text with its placeholders replaced and `$${` written as `${`. The
/// output is bounded: it never grows past
/// [`MAX_RENDERED_BYTES`](super::limits::MAX_RENDERED_BYTES), whatever the
/// values (a short text with many placeholders of a long value amplifies).
///
/// # Errors
/// The first placeholder without a value or a default, or an output over the limit.
pub fn substitute(
    text: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<String, SubstError> {
    let max = super::limits::MAX_RENDERED_BYTES;
    let mut out = String::with_capacity(text.len().min(max));
    let push = |out: &mut String, piece: &str, offset: usize| {
        if out.len() + piece.len() > max {
            return Err(SubstError::TooLarge { offset });
        }
        out.push_str(piece);
        Ok(())
    };
    let mut last = 0;
    for p in placeholders(text) {
        let value = match (lookup(&p.name), &p.default) {
            (Some(v), _) => v,
            (None, Some(d)) => d.clone(),
            (None, None) => return Err(SubstError::Missing(p)),
        };
        push(&mut out, &unescape(&text[last..p.offset]), p.offset)?;
        push(&mut out, &value, p.offset)?;
        last = text[p.offset..]
            .find('}')
            .map_or(text.len(), |e| p.offset + e + 1);
    }
    push(&mut out, &unescape(&text[last..]), last)?;
    Ok(out)
}

/// Literal text between placeholders, with `$${` written as `${` (a value
/// that holds `$${` is left as it is).
fn unescape(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains("$${") {
        std::borrow::Cow::Owned(text.replace("$${", "${"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
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
    use crate::language::limits::MAX_RENDERED_BYTES;
    use crate::language::substitute::{SubstError, placeholders, substitute};

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
        let Err(SubstError::Missing(missing)) = substitute("a: ${NOPE}", look) else {
            panic!("a placeholder without a value is an error");
        };
        assert_eq!((missing.name.as_str(), missing.offset), ("NOPE", 3));
        // A value that holds `$${` is the value, not an escape.
        let dollar = |_: &str| Some("$${X}".to_owned());
        assert_eq!(
            substitute("v: ${A}, $${B}", dollar).unwrap(),
            "v: $${X}, ${B}"
        );
        assert_eq!(placeholders("$${A} ${B} ${1x} ${C:=d}").len(), 2);
    }

    /// A short text whose placeholders amplify a long value stops at the
    /// limit before it allocates more (the output never holds more than the limit).
    #[test]
    fn amplifying_substitution_stops_at_the_limit() {
        let big = "x".repeat(1024 * 1024);
        let look = |_: &str| Some(big.clone());
        let text = "${A}".repeat(5000);
        let err = substitute(&text, look).unwrap_err();
        // The fifth megabyte is refused: four fit in the limit.
        assert_eq!(err, SubstError::TooLarge { offset: 4 * 4 });
        assert!(err.message().contains("4 MiB"));
        let fits = substitute(&"${A}".repeat(4), look).unwrap();
        assert_eq!(fits.len(), MAX_RENDERED_BYTES);
    }
}
