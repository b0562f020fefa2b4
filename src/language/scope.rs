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
    /// `base` as the template engine's value, converted once.
    base_value: minijinja::Value,
    /// Vars whose value is a template (over captures, vars, env): computed
    /// for each step from what is known then (see [`Scope::step`]).
    computed: Vec<(String, Value)>,
}

/// Before a run, a captured name reads as its `<name>` placeholder. This
/// object answers every name that way, without a list: a template that
/// names something unknown was refused before it is rendered, so only
/// captured names reach it. Building a preview costs nothing per capture.
#[derive(Debug)]
struct AnyPlaceholder;

/// The engine's global functions (`range`, `dict`, ...): a placeholder
/// must not hide them.
static GLOBALS: std::sync::LazyLock<std::collections::HashSet<String>> =
    std::sync::LazyLock::new(|| {
        template::environment()
            .globals()
            .map(|(name, _)| name.to_owned())
            .collect()
    });

impl minijinja::value::Object for AnyPlaceholder {
    fn get_value(self: &std::sync::Arc<Self>, key: &minijinja::Value) -> Option<minijinja::Value> {
        key.as_str()
            .filter(|k| !GLOBALS.contains(*k))
            .map(|k| minijinja::Value::from(format!("<{k}>")))
    }
}

/// `captures.<cluster>.<name>` before a run: placeholders on every cluster.
#[derive(Debug)]
struct PlaceholdersPerCluster(Vec<String>);

impl minijinja::value::Object for PlaceholdersPerCluster {
    fn get_value(self: &std::sync::Arc<Self>, key: &minijinja::Value) -> Option<minijinja::Value> {
        let k = key.as_str()?;
        self.0
            .iter()
            .any(|c| c == k)
            .then(|| minijinja::Value::from_object(AnyPlaceholder))
    }
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
                // Never empty: a bare file name (`d.yaml`) is in `.`, so that
                // `{{ playbook.dir }}/bin/x.sh` stays relative, not `/bin/x.sh`.
                "dir": playbook.parent().map(|p| match p.to_string_lossy() {
                    d if d.is_empty() => ".".to_owned(),
                    d => d.into_owned(),
                }),
            }),
        );
        ctx.insert("captures".into(), json!({}));
        let base_value = minijinja::Value::from_serialize(&ctx);
        (
            Scope {
                base: ctx,
                base_value,
                computed: Vec::new(),
            },
            problems,
        )
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
        let base_value = minijinja::Value::from_serialize(&base);
        Scope {
            base,
            base_value,
            computed: self.computed.clone(),
        }
    }

    /// Sets the vars whose value is a template, as written: each step sees
    /// them rendered with the values known then (captures so far). They see
    /// the other vars as written, not each other's values.
    pub fn set_computed(&mut self, computed: Vec<(String, Value)>) {
        self.computed = computed;
    }

    /// Renders the computed vars into `layer`, from `seen`; one that does
    /// not render (a capture it reads is missing) is left undefined.
    fn computed_into(
        &self,
        seen: &minijinja::Value,
        layer: &mut BTreeMap<String, minijinja::Value>,
    ) {
        let env = template::environment();
        for (k, v) in &self.computed {
            let value = template::render_value(&env, v, seen)
                .map_or(minijinja::Value::UNDEFINED, |x| {
                    minijinja::Value::from_serialize(&x)
                });
            layer.insert(k.clone(), value);
        }
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

    /// What a step's templates see before the run, as [`Scope::step`] with
    /// every captured name a `<name>` placeholder, as the template engine's
    /// value. Its cost does not grow with the captures: it layers the base,
    /// the step's values and the placeholders instead of copying them.
    #[must_use]
    pub fn preview_value(
        &self,
        vars: &BTreeMap<String, Value>,
        cluster: Option<&str>,
        clusters: &[String],
    ) -> minijinja::Value {
        use minijinja::value::merge_maps;
        let mut layer = BTreeMap::new();
        if let Some(cl) = cluster.and_then(|c| self.base.get("clusters")?.get(c)) {
            layer.insert("cluster".to_owned(), minijinja::Value::from_serialize(cl));
        }
        layer.insert(
            "captures".to_owned(),
            minijinja::Value::from_object(PlaceholdersPerCluster(clusters.to_vec())),
        );
        let mut seen = merge_maps([
            minijinja::Value::from_object(AnyPlaceholder),
            self.base_value.clone(),
            minijinja::Value::from(layer.clone()),
        ]);
        if !self.computed.is_empty() {
            let mut computed = BTreeMap::new();
            self.computed_into(&seen, &mut computed);
            seen = merge_maps([seen, minijinja::Value::from(computed)]);
        }
        if vars.is_empty() {
            return seen;
        }
        // Step vars are templates of everything above (not of each other).
        let env = template::environment();
        let rendered: BTreeMap<String, minijinja::Value> = vars
            .iter()
            .map(|(k, v)| {
                let value = template::render_value(&env, v, &seen).unwrap_or_else(|_| v.clone());
                (k.clone(), minijinja::Value::from_serialize(&value))
            })
            .collect();
        merge_maps([seen, minijinja::Value::from(rendered)])
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
        if !self.computed.is_empty() {
            let mut computed = BTreeMap::new();
            self.computed_into(&minijinja::Value::from_serialize(&ctx), &mut computed);
            for (k, v) in computed {
                match serde_json::to_value(&v) {
                    Ok(json) if !v.is_undefined() => {
                        ctx.insert(k, json);
                    }
                    _ => {
                        ctx.remove(&k);
                    }
                }
            }
        }
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
