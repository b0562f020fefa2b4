//! Reading one step: its options (shared by every kind), then exactly one
//! action key, handed to that kind's own validation through the registry.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::language::diag::{Diagnostic, did_you_mean};
use crate::language::from_node::from_node;
use crate::language::limits;
use crate::language::options::RawRetry;
use crate::language::raw::RawStepOptions;
use crate::language::source::Source;
use crate::language::template;
use crate::language::yaml::{Loc, Node, Spanned, Value, YamlError};
use crate::model::action::Kind;
use crate::model::step::{RetryPolicy, Step, StepOptions};
use crate::model::validator::Validator;
use crate::steps::{ACTIONS, find};

/// The action keys of a step: the kind, where the key is, and its value.
pub type ActionKeys = Vec<(&'static Kind, Loc, Node)>;

/// Defaults from the playbook's `defaults:`.
pub struct Defaults {
    pub timeout: Duration,
    pub retry: RetryPolicy,
    pub clusters: Vec<String>,
}

/// Validates a retry policy.
pub fn retry_policy(v: &mut Validator, r: &Spanned<RawRetry>) -> Option<RetryPolicy> {
    if r.value.attempts == 0 || r.value.attempts > limits::MAX_ATTEMPTS {
        v.error(
            r.loc,
            format!("`retry.attempts` is {}, out of range", r.value.attempts),
        )
        .expected(format!(
            "the total number of attempts, 1 (no retry) to {}",
            limits::MAX_ATTEMPTS
        ));
        return None;
    }
    let delay = match &r.value.delay {
        Some(d) => v.duration(d)?,
        None => Duration::from_secs(1),
    };
    Some(RetryPolicy {
        attempts: r.value.attempts,
        delay,
        backoff: r.value.backoff,
    })
}

/// The step's options node (every key but the action keys) and its action
/// keys with their values.
fn split_step(node: &Node) -> (Node, Vec<(&'static Kind, Loc, &Node)>) {
    let mut actions = Vec::new();
    let mut rest = Vec::new();
    if let Value::Map(entries) = &node.value {
        for (k, val) in entries {
            match &k.value {
                Value::Str(s) if find(s).is_some() => {
                    if let Some(kind) = find(s) {
                        actions.push((kind, k.loc, val));
                    }
                }
                _ => rest.push((k.clone(), val.clone())),
            }
        }
    }
    let options = match &node.value {
        Value::Map(_) => Node {
            value: Value::Map(rest),
            loc: node.loc,
        },
        _ => node.clone(),
    };
    (options, actions)
}

/// A step's unknown key: most likely a misspelt action.
fn unknown_key(src: &Source, e: &YamlError, unknown: &str) -> Diagnostic {
    let options: Vec<&str> = e
        .expected
        .iter()
        .copied()
        .filter(|f| !f.starts_with('$'))
        .collect();
    let suggestion = did_you_mean(unknown, ACTIONS.iter().chain(&options).copied());
    let is_action = suggestion.is_some_and(|s| ACTIONS.contains(&s));
    let message = if is_action || suggestion.is_none() {
        format!("unknown action `{unknown}`")
    } else {
        format!("unknown field `{unknown}` in step")
    };
    let mut d = Diagnostic::new(src, e.loc, message).with_expected(format!(
        "one action of: {}; or a step option: {}",
        ACTIONS.join(", "),
        options.join(", ")
    ));
    d.help = suggestion.map(|s| format!("did you mean `{s}`?"));
    d
}

/// Step-local vars may not hide the names every template has (`env`, `cluster`, ...).
fn reserved_vars(v: &mut Validator, options: &Node) {
    let Some(Node {
        value: Value::Map(entries),
        ..
    }) = options.get("vars")
    else {
        return;
    };
    for (k, _) in entries {
        if let Value::Str(name) = &k.value
            && template::BUILTINS.contains(&name.as_str())
        {
            v.error(k.loc, format!("`{name}` is a reserved variable name"))
                .expected(format!(
                    "a name other than {}",
                    template::BUILTINS.join(", ")
                ));
        }
    }
}

/// Step vars are templates of the playbook's vars, env and captures.
fn check_step_vars(
    v: &mut Validator,
    vars: &std::collections::BTreeMap<String, serde_json::Value>,
    loc: Loc,
) {
    for value in vars.values() {
        v.template_json(value, loc, &BTreeSet::new());
    }
}

/// A field written as one expression (`weights: "{{ split }}"`) whose value is
/// known before the run and is a mapping or a list stands for that value, so
/// that the same weights need not be written twice.
fn expand_expressions(v: &Validator, node: &Node) -> Node {
    match &node.value {
        Value::Str(s) => {
            let Some(expr) = template::whole_expression(s) else {
                return node.clone();
            };
            if v.uses_captures(s) {
                return node.clone();
            }
            match template::eval_value(&v.env, expr, &v.preview_value()) {
                Ok(value @ (serde_json::Value::Object(_) | serde_json::Value::Array(_))) => {
                    Node::from_json(&value, node.loc)
                }
                _ => node.clone(),
            }
        }
        Value::Seq(items) => Node {
            value: Value::Seq(items.iter().map(|i| expand_expressions(v, i)).collect()),
            loc: node.loc,
        },
        Value::Map(entries) => Node {
            value: Value::Map(
                entries
                    .iter()
                    .map(|(k, x)| (k.clone(), expand_expressions(v, x)))
                    .collect(),
            ),
            loc: node.loc,
        },
        _ => node.clone(),
    }
}

/// Reads the options of a step; records problems.
pub fn read_options(v: &mut Validator, node: &Node) -> Option<(RawStepOptions, ActionKeys)> {
    let (options, actions) = split_step(node);
    reserved_vars(v, &options);
    let actions: ActionKeys = actions
        .into_iter()
        .map(|(k, l, n)| (k, l, n.clone()))
        .collect();
    match from_node::<RawStepOptions>(&options) {
        Ok(raw) => Some((raw, actions)),
        Err(e) => {
            let d = match (e.unknown.clone(), e.context) {
                (Some(unknown), Some("Step")) => unknown_key(&v.src, &e, &unknown),
                _ => Diagnostic::from_yaml(&v.src, &e),
            };
            v.diags.push(d);
            None
        }
    }
}

/// Validates one step: its name, its options (with the playbook's
/// defaults), its `when`, then its one action and what that action needs.
pub fn validate(
    v: &mut Validator,
    raw: RawStepOptions,
    actions: &[(&'static Kind, Loc, Node)],
    defaults: &Defaults,
) -> Option<Step> {
    let before = v.diags.len();
    v.needed.borrow_mut().clear();
    check_name(v, &raw.name);
    let extra: BTreeSet<String> = raw.vars.keys().cloned().collect();
    let options = read_step_options(v, &raw, defaults, &extra);
    let guarded = guarded(v, options.when.as_ref());
    let (kind, node) = single_action(v, &raw, actions)?;
    check_step_vars(v, &raw.vars, raw.name.loc);
    let node = expand_expressions(v, node);
    let action = (kind.parse)(v, &node, &extra)?;
    if kind.needs_cluster && options.clusters.is_empty() {
        v.error(
            raw.name.loc,
            format!(
                "step `{}` ({}) has no target cluster",
                raw.name.value, kind.name
            ),
        )
        .expected("`clusters: <name>` or `clusters: [a, b]` on the step, or `defaults.clusters`");
    }
    if v.diags.len() > before {
        return None;
    }
    let level = match &raw.level {
        Some(l) if !(2..=4).contains(&l.value) => {
            v.error(l.loc, format!("heading level {} is out of range", l.value))
                .expected("2, 3 or 4");
            return None;
        }
        Some(l) => l.value,
        None => 2,
    };
    Some(Step {
        name: raw.name.value,
        loc: raw.name.loc,
        level,
        section: raw.section,
        per_cluster: raw.per_cluster,
        title: raw.title,
        doc: raw.doc,
        options,
        kind,
        action,
        vars: raw.vars,
        needs: v.needed.take().difference(&guarded).cloned().collect(),
    })
}

/// A step name is used on the command line and in reports.
fn check_name(v: &mut Validator, name: &Spanned<String>) {
    let ok = !name.value.trim().is_empty()
        && name
            .value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if !ok {
        v.error(name.loc, format!("invalid step name `{}`", name.value))
            .expected("letters, digits, `-`, `_` or `.` (the name is used on the command line and in reports)");
    }
}

/// The step's options, the playbook's defaults filling what it does not
/// set; the validator learns the step's clusters, timeout and vars.
fn read_step_options(
    v: &mut Validator,
    raw: &RawStepOptions,
    defaults: &Defaults,
    extra: &BTreeSet<String>,
) -> StepOptions {
    let timeout = match &raw.timeout {
        Some(t) => v.timeout(t).unwrap_or(defaults.timeout),
        None => defaults.timeout,
    };
    let retry = match &raw.retry {
        Some(r) => retry_policy(v, r).unwrap_or_default(),
        None => defaults.retry.clone(),
    };
    let clusters = match &raw.clusters {
        Some(c) => v.cluster_refs(c),
        None => defaults.clusters.clone(),
    };
    v.step_clusters.clone_from(&clusters);
    v.step_timeout = timeout;
    v.step_vars.clone_from(&raw.vars);
    let when = raw.when.as_ref().and_then(|w| read_when(v, w, extra));
    StepOptions {
        clusters,
        timeout,
        retry,
        continue_on_error: raw.continue_on_error,
        when,
        tags: raw.tags.clone(),
    }
}

/// `when:`: a condition over known names, evaluated once with what is
/// known now so that an unknown test or filter is found before the run.
fn read_when(
    v: &mut Validator,
    w: &Spanned<String>,
    extra: &BTreeSet<String>,
) -> Option<(String, Loc)> {
    let names = v.names(extra);
    let checked = template::check_condition(&v.env, &w.value, &names).and_then(|()| {
        match template::eval_condition(&v.env, &w.value, &v.preview_value()) {
            Err(e)
                if ["unknown test", "unknown filter", "unknown function"]
                    .iter()
                    .any(|k| e.message.contains(k)) =>
            {
                Err(e)
            }
            _ => Ok(()),
        }
    });
    match checked {
        Ok(()) => {
            v.note_needed(&w.value, true);
            Some((w.value.clone(), w.loc))
        }
        Err(e) => {
            v.error(w.loc, e.message)
                .expected("a minijinja expression such as `restore` or `mode == 'full'`");
            None
        }
    }
}

/// Captures `when` tests (`x is defined`) but does not need: the step
/// guards itself against their absence.
fn guarded(v: &Validator, when: Option<&(String, Loc)>) -> BTreeSet<String> {
    when.and_then(|(w, _)| template::variables(&v.env, &format!("{{% if {w} %}}{{% endif %}}")))
        .into_iter()
        .flatten()
        .filter(|n| !v.needed.borrow().contains(n))
        .collect()
}

/// The step's one action (none, or two, is an error at the step).
fn single_action<'n>(
    v: &mut Validator,
    raw: &RawStepOptions,
    actions: &'n [(&'static Kind, Loc, Node)],
) -> Option<(&'static Kind, &'n Node)> {
    match actions {
        [] => {
            v.error(
                raw.name.loc,
                format!("step `{}` has no action", raw.name.value),
            )
            .expected(format!("exactly one of: {}", ACTIONS.join(", ")));
            None
        }
        [(kind, _, node)] => Some((*kind, node)),
        [(first, _, _), (second, loc, _), ..] => {
            v.error(
                *loc,
                format!(
                    "step `{}` has more than one action (`{}` and `{}`)",
                    raw.name.value, first.name, second.name
                ),
            )
            .expected("exactly one action per step; split it into two steps");
            None
        }
    }
}
