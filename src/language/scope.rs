//! The one place that builds what a template sees. Validation, `plan`,
//! `docs` and `run` all go through [`Scope`], so `{{ playbook.path }}`,
//! `{{ cluster.context }}` and the rest mean the same everywhere.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use indexmap::IndexMap;
use serde_json::{Map, Value, json};

use super::template;

/// Values captured by steps that ran: globally (the first target cluster's
/// value) and per cluster (`captures.<cluster>.<name>`).
#[derive(Debug, Clone, Default)]
pub struct Captures {
    pub global: Map<String, Value>,
    pub per_cluster: HashMap<String, Map<String, Value>>,
}

impl Captures {
    /// Before a run: each captured name is a `<name>` placeholder, globally
    /// and on every cluster (what `plan` and `docs` show).
    #[must_use]
    pub fn placeholders<'a>(
        names: impl IntoIterator<Item = &'a String>,
        clusters: impl IntoIterator<Item = &'a String>,
    ) -> Self {
        let global: Map<String, Value> = names
            .into_iter()
            .map(|n| (n.clone(), Value::String(format!("<{n}>"))))
            .collect();
        let per_cluster = clusters
            .into_iter()
            .map(|c| (c.clone(), global.clone()))
            .collect();
        Captures {
            global,
            per_cluster,
        }
    }
}

/// The template scope of a playbook: its variables, the environment, the
/// clusters with their resolved contexts, and where the playbook is.
#[derive(Debug, Clone)]
pub struct Scope {
    base: Map<String, Value>,
}

impl Scope {
    /// `contexts`: each cluster's context template (or the `--context` value,
    /// which is used as given). Also returns the clusters whose context does
    /// not render, with why (an undefined `env.X` is an error, never text).
    #[must_use]
    pub fn new(
        vars: &IndexMap<String, Value>,
        contexts: &[(String, String, bool)],
        env: &BTreeMap<String, String>,
        playbook: &Path,
    ) -> (Self, Vec<(String, template::TemplateError)>) {
        let mut problems = Vec::new();
        let mut ctx = Map::new();
        for (k, v) in vars {
            ctx.insert(k.clone(), v.clone());
        }
        ctx.insert(
            "env".into(),
            Value::Object(
                env.iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect(),
            ),
        );
        let tenv = template::environment();
        let mut clusters = Map::new();
        for (name, context, literal) in contexts {
            let resolved = if *literal {
                context.clone()
            } else {
                match template::render(&tenv, context, &Value::Object(ctx.clone())) {
                    Ok(r) => r,
                    Err(e) => {
                        problems.push((name.clone(), e));
                        context.clone()
                    }
                }
            };
            clusters.insert(name.clone(), json!({ "name": name, "context": resolved }));
        }
        ctx.insert("clusters".into(), Value::Object(clusters));
        ctx.insert(
            "playbook".into(),
            json!({
                "path": playbook.to_string_lossy(),
                "dir": playbook.parent().map(|p| p.to_string_lossy().into_owned()),
            }),
        );
        ctx.insert("captures".into(), json!({}));
        (Scope { base: ctx }, problems)
    }

    /// This scope with the named environment variables as shell variable
    /// markers (the chapter page: a secret is a variable the reader exports).
    #[must_use]
    pub fn masked_env(&self, names: &std::collections::BTreeSet<String>) -> Self {
        let mut base = self.base.clone();
        if let Some(Value::Object(env)) = base.get_mut("env") {
            for n in names {
                if let Some(v) = env.get_mut(n) {
                    *v = Value::String(super::shell::var_marker(n));
                }
            }
        }
        Scope { base }
    }

    /// What every template sees before any step ran.
    #[must_use]
    pub fn base(&self) -> Value {
        Value::Object(self.base.clone())
    }

    /// The resolved kube context of a cluster.
    #[must_use]
    pub fn context_of(&self, cluster: &str) -> Option<&str> {
        self.base
            .get("clusters")?
            .get(cluster)?
            .get("context")?
            .as_str()
    }

    /// What a step's templates see on `cluster` (or without one): the base,
    /// the captures (the cluster's own win over the global ones), `cluster`,
    /// then the step's own vars.
    #[must_use]
    pub fn step(
        &self,
        vars: &BTreeMap<String, Value>,
        cluster: Option<&str>,
        captures: &Captures,
    ) -> Value {
        let mut ctx = self.base.clone();
        for (k, v) in &captures.global {
            ctx.insert(k.clone(), v.clone());
        }
        if let Some(c) = cluster {
            if let Some(m) = captures.per_cluster.get(c) {
                for (k, v) in m {
                    ctx.insert(k.clone(), v.clone());
                }
            }
            if let Some(cl) = self.base.get("clusters").and_then(|x| x.get(c)) {
                ctx.insert("cluster".into(), cl.clone());
            }
        }
        let per_cluster: Map<String, Value> = captures
            .per_cluster
            .iter()
            .map(|(k, v)| (k.clone(), Value::Object(v.clone())))
            .collect();
        ctx.insert("captures".into(), Value::Object(per_cluster));
        // Step vars are templates of everything above (not of each other);
        // one that does not render is left as written, and validation said why.
        let env = template::environment();
        let seen = Value::Object(ctx.clone());
        for (k, v) in vars {
            let value = template::render_value(&env, v, &seen).unwrap_or_else(|_| v.clone());
            ctx.insert(k.clone(), value);
        }
        Value::Object(ctx)
    }
}
