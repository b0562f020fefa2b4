//! `patch`: change some fields of an existing object, as `kubectl patch`
//! does, without taking ownership of the rest. A JSON merge patch (RFC 7386)
//! or JSON Patch operations (RFC 6902); the values before and after can be
//! captured, so that a `finally` step can put the old value back.

use std::collections::{BTreeMap, BTreeSet};

use futures::future::BoxFuture;
use kube::api::PatchParams;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use crate::model::access::{Access, verbs};
use crate::cluster::{self, FIELD_MANAGER};
use crate::language::diag::{Diagnostic, did_you_mean};
use crate::language::from_node::from_node;
use crate::language::yaml::{Node, Spanned, Value as Yaml};
use crate::model::action::{Action, Docs, KindRef, DocsCommand, Done, PlanCx, StepCx, StepError, StepKind, Outcome, ReaderCx};
use crate::model::check::Compiled;
use crate::model::step_data::{Patched, StepData};
use crate::model::resource::{NameMatch, RawResource, Resource};
use crate::model::validator::Validator;

/// Change fields of one existing object (as `kubectl patch`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", rename = "Patch")]
pub struct RawPatch {
    /// The object to change: `apiVersion`, `kind`, `name` (and `namespace`).
    pub resource: Spanned<RawResource>,
    /// `merge` (RFC 7386 JSON merge patch, the default) or `json` (RFC 6902 operations).
    #[serde(rename = "type")]
    pub type_: Option<PatchType>,
    /// The patch: a mapping for `merge`, a list of operations for `json`. Strings
    /// are templates; a string that is only `{{ name }}` keeps the value's type.
    pub body: PatchBody,
    /// Values read before the patch: variable name -> JSONPath (nothing there: null).
    #[serde(default)]
    pub capture_before: BTreeMap<String, Spanned<String>>,
    /// Values read from the patched object: variable name -> JSONPath (nothing there: null).
    #[serde(default)]
    pub capture_after: BTreeMap<String, Spanned<String>>,
}

/// The two patch formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PatchType {
    Merge,
    Json,
}

/// A patch body as written (checked against its type at validation).
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct PatchBody(pub Node);

impl JsonSchema for PatchBody {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "PatchBody".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let ops = generator.subschema_for::<Vec<RawOperation>>();
        schemars::json_schema!({
            "description": "A mapping (merge) or a list of RFC 6902 operations (json).",
            "anyOf": [{ "type": "object" }, ops]
        })
    }
}

/// One RFC 6902 operation.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename = "JsonPatchOperation")]
pub struct RawOperation {
    /// `add`, `remove`, `replace`, `move`, `copy` or `test`.
    pub op: Operation,
    /// A JSON Pointer (RFC 6901), e.g. `/data/mode` or `/spec/hosts/0`.
    pub path: Spanned<String>,
    /// The source pointer of `move` and `copy`.
    pub from: Option<Spanned<String>>,
    /// The value of `add`, `replace` and `test` (`null` is a value).
    pub value: Option<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    Add,
    Remove,
    Replace,
    Move,
    Copy,
    Test,
}

/// A validated patch.
#[derive(Debug, Clone)]
pub struct Patch {
    pub resource: Resource,
    pub type_: PatchType,
    pub body: Value,
    pub before: Vec<(String, String)>,
    pub after: Vec<(String, String)>,
}

/// Why a JSON Pointer is not one, if it is not.
fn pointer_problem(p: &str) -> Option<String> {
    if p.is_empty() {
        return None;
    }
    if !p.starts_with('/') {
        return Some(format!("JSON Pointer `{p}` must start with `/`"));
    }
    let bytes = p.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'~' && !matches!(bytes.get(i + 1), Some(b'0' | b'1')) {
            return Some(format!(
                "JSON Pointer `{p}`: `~` must be followed by 0 (for `~`) or 1 (for `/`)"
            ));
        }
    }
    None
}

/// Checks every string of the body as a template, at its own location.
fn check_templates(v: &mut Validator, node: &Node, vars: &BTreeSet<String>) {
    match &node.value {
        Yaml::Str(s) => {
            v.template(
                &Spanned {
                    value: s.clone(),
                    loc: node.loc,
                },
                vars,
            );
        }
        Yaml::Seq(items) => items.iter().for_each(|i| check_templates(v, i, vars)),
        Yaml::Map(entries) => {
            for (k, x) in entries {
                if let Yaml::Str(key) = &k.value
                    && (key.contains("{{") || key.contains("{%"))
                {
                    v.error(k.loc, format!("`{key}`: keys of a patch body are not templates"))
                        .expected("a literal key; put templates in values");
                }
                check_templates(v, x, vars);
            }
        }
        _ => {}
    }
}

fn check_pointer(v: &mut Validator, p: &Spanned<String>, vars: &BTreeSet<String>) {
    // A template is checked once rendered, when its inputs are known before
    // the run (vars, env); one that needs a capture is checked when it runs.
    let text = if p.value.contains("{{") || p.value.contains("{%") {
        match v.known_value(p, vars) {
            Some(rendered) => rendered,
            None => return,
        }
    } else {
        p.value.clone()
    };
    if let Some(problem) = pointer_problem(&text) {
        v.error(p.loc, problem)
            .expected("a JSON Pointer such as `/data/mode` or `/spec/hosts/0` (RFC 6901)");
    }
}

/// `has_value`: the operation's mapping has a `value` key (`value: null` is a value).
fn check_operation(
    v: &mut Validator,
    op: &Spanned<RawOperation>,
    has_value: bool,
    vars: &BTreeSet<String>,
) {
    let o = &op.value;
    check_pointer(v, &o.path, vars);
    let name = format!("{:?}", o.op).to_lowercase();
    match (o.op, &o.from) {
        (Operation::Move | Operation::Copy, Some(from)) => check_pointer(v, from, vars),
        (Operation::Move | Operation::Copy, None) => {
            v.error(op.loc, format!("`{name}` needs `from`"))
                .expected("`from: /path/to/source` (a JSON Pointer)");
        }
        (_, Some(from)) => {
            v.error(from.loc, format!("`from` has no meaning for `{name}`"))
                .expected("`from` only with `move` or `copy`");
        }
        (_, None) => {}
    }
    let needs_value = matches!(o.op, Operation::Add | Operation::Replace | Operation::Test);
    match (has_value, needs_value) {
        (false, true) => {
            v.error(op.loc, format!("`{name}` needs `value`"))
                .expected("`value: ...` (the new value, or the one to test for)");
        }
        (true, false) => {
            v.error(op.loc, format!("`value` has no meaning for `{name}`"))
                .expected("`value` only with `add`, `replace` or `test`");
        }
        _ => {}
    }
}

fn validate(v: &mut Validator, raw: &Spanned<RawPatch>, vars: &BTreeSet<String>) -> Option<Patch> {
    let r = &raw.value;
    let before = v.diags.len();
    let resource = crate::model::resource::resource(v, &r.resource, vars);
    if let Some(res) = &resource
        && (!matches!(res.name, NameMatch::Exact(_)) || res.labels.is_some())
    {
        v.error(r.resource.loc, "`patch` changes one object: its resource needs `name`")
            .expected("`name: <object name>` (no `namePrefix`, `nameRegex` or `labels`)");
    }
    let type_ = r.type_.unwrap_or(PatchType::Merge);
    let node = &r.body.0;
    match (type_, &node.value) {
        (PatchType::Merge, Yaml::Map(_)) => {}
        (PatchType::Merge, other) => {
            v.error(
                node.loc,
                format!("a merge patch is a mapping, found {}", other.kind()),
            )
            .expected("the fields to change, e.g. `{ data: { mode: fast } }` (or `type: json` for a list of operations)");
        }
        (PatchType::Json, Yaml::Seq(items)) => match from_node::<Vec<Spanned<RawOperation>>>(node) {
            Ok(ops) => {
                for (op, item) in ops.iter().zip(items) {
                    check_operation(v, op, item.get("value").is_some(), vars);
                }
            }
            Err(e) => {
                let mut d = Diagnostic::from_yaml(&v.src, &e);
                if let Some(unknown) = &e.unknown
                    && d.help.is_none()
                {
                    let ops = ["add", "remove", "replace", "move", "copy", "test"];
                    d.help = did_you_mean(unknown, ops).map(|s| format!("did you mean `{s}`?"));
                }
                v.diags.push(d);
            }
        },
        (PatchType::Json, other) => {
            v.error(
                node.loc,
                format!("a JSON patch is a list of operations, found {}", other.kind()),
            )
            .expected("`- { op: replace, path: /data/mode, value: fast }` (RFC 6902)");
        }
    }
    check_templates(v, node, vars);
    for (name, path) in &r.capture_after {
        if r.capture_before.contains_key(name) {
            v.error(path.loc, format!("`{name}` is captured both before and after"))
                .expected("two different variable names");
        }
    }
    let captured_before = v.captures(&r.capture_before);
    let captured_after = v.captures(&r.capture_after);
    if v.diags.len() > before {
        return None;
    }
    Some(Patch {
        resource: resource?,
        type_,
        body: node.to_json(),
        before: captured_before,
        after: captured_after,
    })
}

fn to_json(obj: &kube::api::DynamicObject, label: &str) -> Result<Value, StepError> {
    serde_json::to_value(obj).map_err(|e| StepError::Errored(format!("{label}: {e}")))
}

/// Values at JSONPaths; a path with no value gives null (which a merge patch
/// restores by removing the field).
fn capture_or_null(
    obj: &Value,
    specs: &[(String, String)],
) -> Result<serde_json::Map<String, Value>, StepError> {
    specs
        .iter()
        .map(|(var, path)| {
            let q = Compiled::new(path).map_err(StepError::Errored)?;
            Ok((var.clone(), q.capture(obj).unwrap_or(Value::Null)))
        })
        .collect()
}

impl Patch {
    fn type_name(&self) -> &'static str {
        match self.type_ {
            PatchType::Merge => "merge",
            PatchType::Json => "json",
        }
    }

    async fn execute(&self, cx: &StepCx<'_>) -> Result<Done, StepError> {
        let conn = cx.conn()?.clone();
        let r = cx.resource(&self.resource)?;
        let NameMatch::Exact(name) = &r.name else {
            return Err(StepError::Errored("`patch` needs an object name".into()));
        };
        let kind = conn.kind(&r.api_version, &r.kind, cx.deadline).await?;
        let ns = kind
            .namespaced
            .then(|| r.namespace.clone().unwrap_or_else(|| conn.default_namespace.clone()));
        let label = super::common::describe(&r.kind, ns.as_deref(), name);
        let api = conn.api(&kind, ns.as_deref());
        let Some(live) = cluster::retry(cx.deadline, &conn.name, || api.get_opt(name)).await?
        else {
            return Err(StepError::Errored(format!(
                "{label} not found on cluster {}: `patch` changes an existing object",
                conn.name
            )));
        };
        let live = to_json(&live, &label)?;
        let mut captures = capture_or_null(&live, &self.before)?;
        // A string that is one `{{ x }}` keeps x's type (a captured number goes back as one).
        let body = crate::language::template::render_value(cx.env, &self.body, &cx.ctx)
            .map_err(|e| StepError::Errored(e.message))?;
        let pp = PatchParams {
            field_manager: Some(FIELD_MANAGER.to_owned()),
            dry_run: cx.dry_run,
            ..PatchParams::default()
        };
        let at = |e: cluster::ClusterError| StepError::Errored(format!("{label}: {e}"));
        let patched = match self.type_ {
            PatchType::Merge => {
                let p = kube::api::Patch::Merge(&body);
                cluster::retry(cx.deadline, &conn.name, || api.patch(name, &pp, &p))
                    .await
                    .map_err(at)?
            }
            PatchType::Json => {
                // Sent once: operations such as `add /-` are not idempotent.
                let ops: json_patch::Patch = serde_json::from_value(body.clone())
                    .map_err(|e| StepError::Errored(format!("{label}: JSON patch: {e}")))?;
                let p = kube::api::Patch::<()>::Json(ops);
                api.patch(name, &pp, &p)
                    .await
                    .map_err(|e| at(cluster::classify(&conn.name, &e)))?
            }
        };
        let patched = to_json(&patched, &label)?;
        // Lenient on both sides: once the object is patched the step has passed,
        // and its "before" values must reach a `finally` restore.
        captures.extend(capture_or_null(&patched, &self.after)?);
        let mut details = vec![format!("{} patch {body}", self.type_name())];
        details.extend(captures.iter().map(|(k, v)| format!("captured {k} = {v}")));
        let message = if cx.dry_run {
            details.push(super::common::diff(&label, Some(&live), &patched));
            format!("would patch {label} (server-side dry run)")
        } else {
            format!("patched {label}")
        };
        Ok(Done {
            message,
            details,
            captures,
            // What `kubectl patch` prints: the page shows it (`reader_view`).
            data: Some(StepData::Patched(Patched {
                kind: r.kind.clone(),
                name: name.clone(),
                changed: live != patched,
            })),
        })
    }
}

/// Quotes a word for a POSIX shell.
impl StepKind for Patch {
    const NAME: &'static str = "patch";
    const SUMMARY: &'static str =
        "Change fields of an existing object (merge or JSON patch), as `kubectl patch` does.";
    const NEEDS_CLUSTER: bool = true;
    const DRY_RUN: crate::model::action::DryRun = crate::model::action::DryRun::ServerSide;
    type Raw = RawPatch;

    fn validate(v: &mut Validator, raw: &Spanned<RawPatch>, vars: &BTreeSet<String>) -> Option<Self> {
        validate(v, raw, vars)
    }
}

impl Action for Patch {
    fn captures(&self) -> Vec<String> {
        self.before
            .iter()
            .chain(&self.after)
            .map(|(v, _)| v.clone())
            .collect()
    }

    fn plan(&self, pc: &PlanCx<'_>) -> Result<Vec<String>, Diagnostic> {
        let mut lines = vec![
            format!("{} patch {}", self.type_name(), pc.resource(&self.resource)),
            format!("  {}", pc.render_json(&self.body)),
        ];
        for (when, specs) in [("before", &self.before), ("after", &self.after)] {
            for (v, p) in specs {
                lines.push(format!("  capture {v} = {p} ({when})"));
            }
        }
        Ok(lines)
    }

    fn docs(&self, pc: &PlanCx<'_>, clusters: &[String]) -> Result<Docs, Diagnostic> {
        use super::kubectl::{capture_command, context_flag, kind_ref, ns_flag};
        use crate::language::shell::{var_name, word};
        let r = pc.resource(&self.resource);
        let name = match &r.name {
            NameMatch::Exact(n) => format!(" {}", word(n)),
            _ => String::new(),
        };
        let body = word(&pc.render_json(&self.body).to_string());
        let mut commands = Vec::new();
        for c in clusters {
            // `captureBefore` reads the old value first, so that a later
            // restore refers to a variable that is set (`bash -u`).
            let capture = |(v, path): &(String, String)| {
                DocsCommand::on(c, capture_command(c, &r, &var_name(v, Some(c)), path))
            };
            commands.extend(self.before.iter().map(capture));
            commands.push(DocsCommand::on(
                c,
                format!(
                    "kubectl {}{} patch {}{name} --type {} -p {body}",
                    context_flag(c),
                    ns_flag(r.namespace.as_deref()),
                    kind_ref(&r),
                    self.type_name()
                ),
            ));
            commands.extend(self.after.iter().map(capture));
        }
        Ok(Docs {
            commands,
            ..Docs::default()
        })
    }

    /// What `kubectl patch` prints: `configmap/settings patched`, with
    /// `(no change)` when the object was already so.
    fn reader_view(&self, o: &Outcome, cx: &mut ReaderCx) -> Vec<String> {
        let Some(StepData::Patched(p)) = &o.data else {
            return Vec::new();
        };
        let same = if p.changed { "" } else { " (no change)" };
        vec![format!("{}/{} patched{same}", cx.type_name(&p.kind), p.name)]
    }

    fn kinds(&self, pc: &PlanCx<'_>) -> Vec<KindRef> {
        KindRef::of(&pc.resource(&self.resource))
    }

    fn access(&self, pc: &PlanCx<'_>) -> Vec<Access> {
        vec![Access::of(&pc.resource(&self.resource), verbs::PATCH)]
    }

    fn run<'a>(&'a self, cx: &'a StepCx<'a>) -> BoxFuture<'a, Result<Done, StepError>> {
        Box::pin(self.execute(cx))
    }
}

#[cfg(test)]
mod tests {
    use crate::steps::patch::pointer_problem;

    #[test]
    fn pointers() {
        assert_eq!(pointer_problem(""), None);
        assert_eq!(pointer_problem("/data/mode"), None);
        assert_eq!(pointer_problem("/a~1b/c~0d"), None);
        assert!(pointer_problem("data/mode").is_some());
        assert!(pointer_problem("/a~2").is_some());
        assert!(pointer_problem("/a~").is_some());
    }
}
