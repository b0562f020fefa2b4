//! What `plan` and `docs` see of a step: its templates rendered with the
//! values known before the run.

use serde_json::Value;

use super::resource::Resource;
use crate::language::template;

/// What `plan` and `docs` need to show a step: templates rendered with the
/// values known before the run (captures are `<name>` placeholders).
pub struct PlanCx<'a> {
    pub env: &'a minijinja::Environment<'static>,
    /// The context (shared: `plan` and `docs` build one per cluster and
    /// step vars, not one per step).
    pub ctx: std::sync::Arc<Value>,
    /// `ctx` as the template engine's value, converted once.
    pub value: minijinja::Value,
    /// The playbook's directory seen from where commands on the chapter page
    /// run (the root): `""` or ending in `/`. Empty for `plan`.
    pub dir_prefix: String,
    /// The step's timeout (`kubectl wait --timeout` on the chapter page).
    pub timeout: std::time::Duration,
    /// With `docs --from-report`: the run's outcome of this step on this
    /// cluster. Commands whose output depends on what the run did (a probe's
    /// count of requests) follow it, so that the page shows what they print.
    pub observed: Option<&'a super::outcome::Outcome>,
    /// On the chapter page: the variables that stand for Secret values
    /// written in manifests (`docs` writes such a Secret with them).
    pub page_secrets: Option<&'a std::sync::Mutex<super::page_secrets::PageSecrets>>,
}

impl<'a> PlanCx<'a> {
    /// A context for `plan` (paths as written, relative to the playbook).
    #[must_use]
    pub fn new(env: &'a minijinja::Environment<'static>, ctx: Value) -> Self {
        let value = minijinja::Value::from_serialize(&ctx);
        Self::shared(env, (std::sync::Arc::new(ctx), value))
    }

    /// A context for `plan` from a shared one (see `Playbook::preview`).
    #[must_use]
    pub fn shared(
        env: &'a minijinja::Environment<'static>,
        (ctx, value): (std::sync::Arc<Value>, minijinja::Value),
    ) -> Self {
        PlanCx {
            env,
            ctx,
            value,
            dir_prefix: String::new(),
            timeout: std::time::Duration::from_secs(120),
            observed: None,
            page_secrets: None,
        }
    }

    /// A path relative to the playbook as the chapter page shows it: from the
    /// root, with `a/../` folded away.
    #[must_use]
    pub fn page_path(&self, rel: &str) -> String {
        let joined = format!("{}{rel}", self.dir_prefix);
        let mut parts: Vec<&str> = Vec::new();
        for p in joined.split('/') {
            match p {
                "" | "." => {}
                ".." if parts.last().is_some_and(|l| *l != "..") => {
                    parts.pop();
                }
                other => parts.push(other),
            }
        }
        if parts.is_empty() {
            ".".to_owned()
        } else {
            parts.join("/")
        }
    }

    /// A rendered manifest as the chapter page shows it: a Secret's literal
    /// values are variables (`model/page_secrets.rs`).
    #[must_use]
    pub fn page_manifest(&self, text: String) -> String {
        match self.page_secrets.map(std::sync::Mutex::lock) {
            Some(Ok(mut p)) => p.rewrite(&text),
            _ => text,
        }
    }

    /// Renders a templated string for display; leaves it as written when it
    /// cannot be rendered yet.
    #[must_use]
    pub fn render(&self, s: &str) -> String {
        template::render(self.env, s, &self.value).unwrap_or_else(|_| s.to_owned())
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
