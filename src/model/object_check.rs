//! A check judged on a whole object (`wait`): the value its path selects
//! (for `contains`, the elements it looks through) and, for `equalsPath`,
//! the other field of the same object it compares with.

use super::check::{Check, Predicate, evaluate};
use super::json::{Compiled, json_eq};

/// A check ready for objects: its path compiled, and the path of
/// `equalsPath` when it has one.
#[derive(Debug, Clone)]
pub struct ObjectCheck {
    pub check: Check,
    pub path: Compiled,
    pub other: Option<Compiled>,
}

impl ObjectCheck {
    /// # Errors
    /// A path that does not compile (validation has already checked them).
    pub fn new(check: Check) -> Result<Self, String> {
        let path = match &check.query {
            super::check::Query::JsonPath(p) | super::check::Query::Value(p) => Compiled::new(p)?,
        };
        let other = match &check.predicate {
            Predicate::EqualsPath(p) => Some(Compiled::new(p)?),
            _ => None,
        };
        Ok(ObjectCheck { check, path, other })
    }

    /// What the check found on `doc` (`None`: nothing at its path) and
    /// whether it holds, or why the values cannot be compared.
    pub fn judge(
        &self,
        doc: &serde_json::Value,
    ) -> (Option<serde_json::Value>, Result<bool, String>) {
        let c = &self.check;
        match (&c.predicate, &self.other) {
            (Predicate::Contains(_), _) => {
                let found = self.path.elements(doc);
                let verdict = evaluate(c, found.as_ref());
                (found, verdict)
            }
            (Predicate::EqualsPath(p), Some(other)) => {
                let found = self.path.select(doc);
                let Some(a) = &found else {
                    return (found, Ok(false));
                };
                let verdict = match other.select(doc) {
                    None => Err(format!("{p} selects nothing to compare with")),
                    Some(b)
                        if !a.is_null()
                            && !b.is_null()
                            && std::mem::discriminant(a) != std::mem::discriminant(&b) =>
                    {
                        Err(format!(
                            "{p} is {} ({}), {}: they never compare equal",
                            crate::language::limits::excerpt(&b.to_string()),
                            super::check::type_name(&b),
                            super::check::type_name(a)
                        ))
                    }
                    Some(b) if json_eq(a, &b) => Ok(true),
                    Some(b) => Err(format!(
                        "{p} is {}",
                        crate::language::limits::excerpt(&b.to_string())
                    )),
                };
                (found, verdict)
            }
            _ => {
                let found = self.path.select(doc);
                let verdict = evaluate(c, found.as_ref());
                (found, verdict)
            }
        }
    }
}
