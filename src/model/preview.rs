//! What `plan` and `docs` see of a step: its templates rendered with the
//! values known before the run.

use serde_json::Value;

use super::resource::Resource;
use crate::language::template;

/// What `plan` and `docs` need to show a step: templates rendered with the
/// values known before the run (captures are `<name>` placeholders).
pub struct PlanCx<'a> {
    pub env: &'a minijinja::Environment<'static>,
    pub ctx: Value,
}

impl PlanCx<'_> {
    /// Renders a templated string for display; leaves it as written when it
    /// cannot be rendered yet.
    #[must_use]
    pub fn render(&self, s: &str) -> String {
        template::render(self.env, s, &self.ctx).unwrap_or_else(|_| s.to_owned())
    }

    /// Renders every string inside a JSON value.
    #[must_use]
    pub fn render_json(&self, v: &Value) -> Value {
        map_strings(v, &mut |s| Ok::<_, ()>(self.render(s))).unwrap_or_else(|()| v.clone())
    }

    /// A resource selector with its templates rendered.
    #[must_use]
    pub fn resource(&self, r: &Resource) -> Resource {
        let mut rendered = r
            .map_templates(&mut |s| Ok::<_, ()>(self.render(s)))
            .unwrap_or_else(|()| r.clone());
        // A kubectl name (`svc`) is shown as what it resolves to when that is
        // well known; discovery decides at run time.
        if rendered.api_version.is_empty()
            && let Some((api_version, kind)) = super::resource::well_known(&rendered.kind)
        {
            rendered.api_version = api_version.to_owned();
            rendered.kind = kind.to_owned();
        }
        rendered
    }
}

/// Applies `f` to every string inside a JSON value.
///
/// # Errors
/// The first error `f` returns.
pub fn map_strings<E>(
    v: &Value,
    f: &mut impl FnMut(&str) -> Result<String, E>,
) -> Result<Value, E> {
    Ok(match v {
        Value::String(s) => Value::String(f(s)?),
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| map_strings(x, f))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| Ok((k.clone(), map_strings(x, f)?)))
                .collect::<Result<_, E>>()?,
        ),
        other => other.clone(),
    })
}
