//! The validator: walks the raw playbook, records every problem with its
//! location, and knows which names a template may use at each point.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use minijinja::Environment;

use crate::language::diag::Diagnostic;
use crate::language::limits;
use crate::language::scope::{Captures, Scope};
use crate::language::source::Source;
use crate::language::template;
use crate::language::yaml::{Loc, Spanned};

/// Validation context: the source, the diagnostics found so far, the names a
/// template may use.
pub struct Validator {
    pub src: Source,
    pub dir: PathBuf,
    /// Files and kustomize directories must be under this directory (canonical):
    /// the playbook's directory unless `root:` or `--root` widen it.
    pub root: PathBuf,
    pub diags: Vec<Diagnostic>,
    /// Problems that do not stop the run (`validate` and `plan` show them).
    pub warnings: Vec<Diagnostic>,
    pub env: Environment<'static>,
    /// Variables every template may use: vars, builtins.
    pub known: BTreeSet<String>,
    /// Variables captured by steps validated so far.
    pub captured: BTreeSet<String>,
    pub cluster_names: Vec<String>,
    /// What templates see before the run (manifests are pre-rendered with it).
    pub scope: Scope,
    /// Target clusters of the step being validated (manifests are pre-rendered for each).
    pub step_clusters: Vec<String>,
    /// Timeout of the step being validated (a kind may check its own durations against it).
    pub step_timeout: Duration,
    /// `defaults.rate`: the request rate of probes that set none.
    pub default_rate: Option<f64>,
    /// Step-local vars of the step being validated (templates are previewed with them).
    pub step_vars: BTreeMap<String, serde_json::Value>,
    /// Captures the step being validated cannot do without: a template of
    /// it fails when the value is missing (no `default`, no `is defined`).
    /// `run` refuses a step selection that leaves out their only producers.
    pub needed: std::cell::RefCell<BTreeSet<String>>,
    /// Secrets found while validating: secret header values, the data of
    /// rendered Secret objects (`language/secrets.rs`).
    pub secrets: crate::language::secrets::Secrets,
    /// Environment variables the templates and substitutions refer to.
    pub env_refs: BTreeSet<String>,
    /// The last preview context, built once for all the templates of a step
    /// (building it is linear in the captures so far: once per field would
    /// make validation quadratic in the steps).
    pub preview: std::cell::RefCell<Option<Preview>>,
    /// [`Validator::names`] without `extra`, and the sizes it was built at.
    pub names_cache: std::cell::RefCell<Option<NamesCache>>,
    /// The manifest files read so far, with their digests (the report
    /// records them: `language/digest.rs`).
    pub files_read: Vec<crate::language::digest::FileDigest>,
    /// Vars whose value is a template -> the captured names it reads
    /// (`captures` when it reads the `captures` map itself).
    pub computed: BTreeMap<String, BTreeSet<String>>,
}

/// The sizes of `known` and `captured` the names were built at, and the names.
pub type NamesCache = ((usize, usize), std::rc::Rc<BTreeSet<String>>);

/// A preview context and what it was built from.
pub struct Preview {
    key: (Option<String>, BTreeMap<String, serde_json::Value>),
    value: minijinja::Value,
}

impl Validator {
    /// Records an error located in the playbook.
    pub fn error(&mut self, loc: Loc, message: impl Into<String>) -> &mut Diagnostic {
        let d = Diagnostic::new(&self.src, Some(loc), message);
        self.diags.push(d);
        let last = self.diags.len() - 1;
        &mut self.diags[last]
    }

    /// A problem that does not stop the run (`validate` and `plan` show it).
    pub fn warn(&mut self, loc: Loc, message: impl Into<String>) -> &mut Diagnostic {
        let mut d = Diagnostic::new(&self.src, Some(loc), message);
        d.warning = true;
        self.warnings.push(d);
        let last = self.warnings.len() - 1;
        &mut self.warnings[last]
    }

    /// The location of character `offset` (0-based) inside a one-line scalar;
    /// the scalar's own location when it spans lines.
    #[must_use]
    pub fn loc_in(&self, s: &Spanned<String>, offset: usize) -> Loc {
        let Some(line) = self.src.line(s.loc.line) else {
            return s.loc;
        };
        let start = usize::try_from(s.loc.col).unwrap_or(1).saturating_sub(1);
        let rest: String = line.chars().skip(start).collect();
        let quoted = rest.starts_with('"') || rest.starts_with('\'');
        let body: String = rest.chars().skip(usize::from(quoted)).collect();
        if s.value.contains('\n') || !body.starts_with(s.value.as_str()) {
            return s.loc;
        }
        let col = start + usize::from(quoted) + offset + 1;
        Loc {
            line: s.loc.line,
            col: u32::try_from(col).unwrap_or(s.loc.col),
        }
    }

    /// All names a template in the current step may use.
    /// Shared and kept between calls: `known` and `captured` only grow, and
    /// `add_captured` extends the set as they do, instead of a copy for
    /// every template (which made validation quadratic in the steps).
    #[must_use]
    pub fn names(&self, extra: &BTreeSet<String>) -> std::rc::Rc<BTreeSet<String>> {
        let key = (self.known.len(), self.captured.len());
        let mut cache = self.names_cache.borrow_mut();
        let (cached_key, names) = cache.get_or_insert_with(|| ((0, 0), std::rc::Rc::default()));
        if *cached_key != key {
            // Built again only when `known` grew or a capture bypassed
            // `add_captured` (which keeps the set up to date).
            *names = std::rc::Rc::new(self.known.iter().chain(&self.captured).cloned().collect());
            *cached_key = key;
        }
        if extra.is_empty() {
            return names.clone();
        }
        let mut with_extra = (**names).clone();
        with_extra.extend(extra.iter().cloned());
        std::rc::Rc::new(with_extra)
    }

    /// Records the captures `text` cannot render without (see [`Self::needed`]):
    /// each captured name it uses is taken out of the preview scope in turn,
    /// and a render that then fails on an undefined value needs it.
    /// `condition`: `text` is a `when` expression, not a template.
    pub fn note_needed(&self, text: &str, condition: bool) {
        if self.captured.is_empty() || !(condition || text.contains("{{") || text.contains("{%")) {
            return;
        }
        // Cheap first: a word of the text that is a captured name (no compile otherwise).
        let mentions = text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .any(|w| self.captured.contains(w) || self.computed.contains_key(w));
        if !mentions {
            return;
        }
        let as_template;
        let template_text = if condition {
            as_template = format!("{{% if {text} %}}{{% endif %}}");
            as_template.as_str()
        } else {
            text
        };
        let Some(vars) = template::variables(&self.env, template_text) else {
            return;
        };
        // Only a fallback (`default`) or a test (`is defined`) lets a template
        // render without a value (undefined values are errors): without one,
        // every captured name it uses is needed, and no render is tried.
        let may_fall_back = text.contains("default") || text.contains("defined");
        // A computed var it reads needs what that var is computed from.
        if !may_fall_back {
            let inputs = vars
                .iter()
                .filter_map(|v| self.computed.get(v))
                .flatten()
                .filter(|i| self.captured.contains(*i));
            self.needed.borrow_mut().extend(inputs.cloned());
        }
        for name in vars.iter().filter(|n| self.captured.contains(*n)) {
            if self.needed.borrow().contains(name) {
                continue;
            }
            if !may_fall_back {
                self.needed.borrow_mut().insert(name.clone());
                continue;
            }
            let mut ctx = self.preview_context();
            if let Some(m) = ctx.as_object_mut() {
                m.remove(name);
            }
            let failed = if condition {
                template::eval_condition(&self.env, text, &ctx).err()
            } else {
                template::render(&self.env, text, &ctx).err()
            };
            if failed.is_some_and(|e| e.message.contains("undefined")) {
                self.needed.borrow_mut().insert(name.clone());
            }
        }
    }

    /// Checks a templated string from the playbook.
    pub fn template(&mut self, s: &Spanned<String>, extra: &BTreeSet<String>) -> bool {
        self.note_needed(&s.value, false);
        let names = self.names(extra);
        match template::check(&self.env, &s.value, &names) {
            Ok(()) => self.computed_inputs(s, extra),
            Err(e) => {
                let loc = match e.loc {
                    Some(l) if l.line == 1 => {
                        self.loc_in(s, usize::try_from(l.col).unwrap_or(1).saturating_sub(1))
                    }
                    _ => s.loc,
                };
                self.error(loc, e.message)
                    .expected("a minijinja template using known variables");
                false
            }
        }
    }

    /// A template that reads a computed var needs the captures that var
    /// reads, each captured by an earlier step (else a located error naming it).
    fn computed_inputs(&mut self, s: &Spanned<String>, extra: &BTreeSet<String>) -> bool {
        let used = if self.computed.is_empty() {
            None
        } else {
            template::variables(&self.env, &s.value)
        };
        let mut missing: Vec<(String, String)> = used
            .iter()
            .flatten()
            .filter(|v| !extra.contains(*v))
            .filter_map(|v| {
                let first = self
                    .computed
                    .get(v)?
                    .iter()
                    .find(|i| *i != "captures" && !self.captured.contains(*i))?;
                Some((v.clone(), first.clone()))
            })
            .collect();
        missing.sort();
        for (var, first) in &missing {
            self.error(s.loc, format!("`{var}` is computed from `{first}`, which no earlier step captures"))
                .expected(format!("a step that captures `{first}` before this one (vars computed from captures are known once their captures are)"));
        }
        missing.is_empty()
    }

    /// Whether a template uses a value that only a run captures.
    #[must_use]
    pub fn uses_captures(&self, text: &str) -> bool {
        self.note_needed(text, false);
        template::variables(&self.env, text).is_some_and(|vars| {
            vars.iter().any(|n| {
                n == "captures"
                    || self.captured.contains(n)
                    || self.computed.get(n).is_some_and(|i| !i.is_empty())
            })
        })
    }

    /// What a step's templates see before the run: captured values are
    /// `<name>` placeholders, `cluster` is the step's first target.
    #[must_use]
    pub fn preview_context(&self) -> serde_json::Value {
        let placeholders = Captures::placeholders(&self.captured, &self.cluster_names);
        self.scope.step(
            &self.step_vars,
            self.step_clusters.first().map(String::as_str),
            &placeholders,
        )
    }

    /// [`Self::preview_context`] as the template engine's value, built once
    /// per step and without copying the captures (see `Scope::preview_value`):
    /// validation stays linear in the steps.
    #[must_use]
    pub fn preview_value(&self) -> minijinja::Value {
        let key = (self.step_clusters.first().cloned(), self.step_vars.clone());
        let mut cache = self.preview.borrow_mut();
        if let Some(p) = cache.as_ref()
            && p.key == key
        {
            return p.value.clone();
        }
        let value = self.scope.preview_value(
            &self.step_vars,
            self.step_clusters.first().map(String::as_str),
            &self.cluster_names,
        );
        *cache = Some(Preview {
            key,
            value: value.clone(),
        });
        value
    }

    /// Checks a templated field and renders it with what is known before the
    /// run. Returns the rendered text when it depends on no capture (so the
    /// caller can check the value itself), `None` otherwise or on an error.
    /// Unknown filters, tests and functions are errors even where captures
    /// are used; any other render error only where they are not.
    pub fn known_value(&mut self, s: &Spanned<String>, extra: &BTreeSet<String>) -> Option<String> {
        if !self.template(s, extra) {
            return None;
        }
        let has_template = s.value.contains("{{") || s.value.contains("{%");
        if !has_template {
            return Some(s.value.clone());
        }
        let captures = self.uses_captures(&s.value);
        let ctx = self.preview_value();
        match template::render(&self.env, &s.value, &ctx) {
            Ok(text) => (!captures).then_some(text),
            Err(e) => {
                let missing_name = ["unknown filter", "unknown test", "unknown function"]
                    .iter()
                    .any(|k| e.message.contains(k));
                if missing_name || !captures {
                    self.error(
                        s.loc,
                        format!(
                            "`{}` does not render: {}",
                            limits::excerpt(&s.value),
                            e.message
                        ),
                    )
                    .expected("a template that renders with the playbook's values");
                }
                None
            }
        }
    }

    /// Checks every string inside a JSON value (an expected value, a `match`
    /// object) as a template, at the value's location.
    pub fn template_json(&mut self, value: &serde_json::Value, loc: Loc, extra: &BTreeSet<String>) {
        match value {
            serde_json::Value::String(s) => {
                let s = Spanned {
                    value: s.clone(),
                    loc: self.text_at_or_after(loc, s),
                };
                self.known_value(&s, extra);
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| self.template_json(x, loc, extra)),
            serde_json::Value::Object(o) => {
                o.values().for_each(|x| self.template_json(x, loc, extra))
            }
            _ => {}
        }
    }

    /// Where `text` is written in the source, at or after `from` (a string
    /// inside a mapping that keeps one location for all its values); `from`
    /// when it is not written as is (escapes, folding).
    fn text_at_or_after(&self, from: Loc, text: &str) -> Loc {
        if text.is_empty() || text.contains('\n') {
            return from;
        }
        // A few lines on: the rest of the mapping the location stands for.
        let first = from.line.max(1);
        (first..first.saturating_add(200))
            .map_while(|n| self.src.line(n).map(|l| (n, l)))
            .find_map(|(n, line)| {
                let start = if n == first {
                    from.col.saturating_sub(1) as usize
                } else {
                    0
                };
                let col = line
                    .char_indices()
                    .skip(start)
                    .find(|(b, _)| line[*b..].starts_with(text))
                    .map(|(b, _)| line[..b].chars().count())?;
                Some(Loc {
                    line: n,
                    col: u32::try_from(col + 1).unwrap_or(u32::MAX),
                })
            })
            .unwrap_or(from)
    }

    /// Checks that cluster names exist.
    pub fn cluster_refs(
        &mut self,
        names: &Spanned<crate::language::options::OneOrMany>,
    ) -> Vec<String> {
        let mut list = Vec::new();
        // Cluster names may come from variables (`clusters: "{{ ingress_cluster }}"`),
        // resolved here, before anything runs.
        for n in names.value.to_vec() {
            if !n.contains("{{") {
                list.push(n);
                continue;
            }
            let s = Spanned {
                value: n.clone(),
                loc: names.loc,
            };
            if !self.template(&s, &BTreeSet::new()) {
                continue;
            }
            match template::render(&self.env, &n, &self.scope.base()) {
                // A list variable (`"{{ workload_clusters }}"`) renders as a JSON list.
                Ok(r) if r.trim_start().starts_with('[') => {
                    match serde_json::from_str::<Vec<String>>(r.trim()) {
                        Ok(v) => list.extend(v),
                        Err(_) => {
                            self.error(
                                names.loc,
                                format!(
                                    "`{n}` renders to `{}`, not a list of cluster names",
                                    r.trim()
                                ),
                            );
                        }
                    }
                }
                Ok(r) => list.push(r.trim().to_owned()),
                Err(e) => {
                    self.error(
                        names.loc,
                        format!("cannot resolve cluster name `{n}`: {}", e.message),
                    )
                    .expected(
                        "a template using playbook variables or env (captures are not known yet)",
                    );
                }
            }
        }
        for n in &list {
            if !self.cluster_names.contains(n) {
                let known = self.cluster_names.clone();
                let help = crate::language::diag::did_you_mean(n, known.iter().map(String::as_str));
                let d = self
                    .error(names.loc, format!("unknown cluster `{n}`"))
                    .expected(if known.is_empty() {
                        "a cluster declared under `clusters:` (none is declared)".to_owned()
                    } else {
                        format!("a cluster declared under `clusters:`: {}", known.join(", "))
                    });
                if let Some(h) = help {
                    d.help = Some(format!("did you mean `{h}`?"));
                }
            }
        }
        list
    }

    /// Named captures: variable name -> JSONPath. Adds them to the known names.
    pub fn captures(&mut self, raw: &BTreeMap<String, Spanned<String>>) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (var, path) in raw {
            if !is_identifier(var) {
                self.error(
                    path.loc,
                    format!("capture name `{}` is not an identifier", limits::excerpt(var)),
                )
                .expected("letters, digits and `_`, not starting with a digit (templates use it as `{{ name }}`)");
                continue;
            }
            if crate::language::template::BUILTINS.contains(&var.as_str())
                || self.known.contains(var)
            {
                self.error(
                    path.loc,
                    format!("capture `{var}` would hide an existing variable"),
                )
                .expected("a new variable name");
                continue;
            }
            if self.jsonpath(path).is_some() {
                out.push((var.clone(), path.value.clone()));
            }
        }
        for (v, _) in &out {
            self.add_captured(v);
        }
        out
    }

    /// Records a name a step captures (and adds it to the shared names).
    pub fn add_captured(&mut self, name: &str) {
        if !self.captured.insert(name.to_owned()) {
            return;
        }
        if let Some(((_, captured), names)) = self.names_cache.get_mut().as_mut() {
            std::rc::Rc::make_mut(names).insert(name.to_owned());
            *captured += 1;
        }
    }
}

/// A name templates can use as `{{ name }}`.
#[must_use]
pub fn is_identifier(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}
