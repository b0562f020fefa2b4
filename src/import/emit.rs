//! Adding a step to the playbook being built: naming it, giving it the pending
//! headings and prose, merging it with the step before when that one does the
//! same on other clusters; and the `exec` step for what no kind expresses.

use super::cx::{Cmd, Cx, Step};
use super::words::Val;
use super::yaml_out::{Y, get};

/// A step of `action` made by `cmd`, to be named and pushed.
#[must_use]
pub fn step(action: &'static str, body: Y, cmd: &Cmd) -> Step {
    Step {
        name: action.to_owned(),
        section: None,
        title: None,
        level: None,
        doc: None,
        clusters: Vec::new(),
        timeout: None,
        note: None,
        action,
        body,
        at: cmd.at.clone(),
        files: Vec::new(),
        weights: None,
        vars: Vec::new(),
    }
}

/// An exec step for `text` (run by bash, as the reader would), with why.
pub fn exec(cx: &mut Cx<'_>, text: &str, at: &str, why: &str) {
    let mut body = vec![(
        "command",
        Y::List(vec![
            Y::s("bash"),
            Y::s("-c"),
            Y::s(super::words::escape(text.trim())),
        ]),
    )];
    let mut env = Vec::new();
    let mut names: Vec<(&String, &Val)> = cx.vars.iter().collect();
    names.sort_by(|a, b| a.0.cmp(b.0));
    for (name, val) in names {
        if let Val::Capture(c) = val
            && (text.contains(&format!("${name}")) || text.contains(&format!("${{{name}}}")))
        {
            env.push((name.clone(), Y::s(format!("{{{{ {c} }}}}"))));
        }
    }
    if !env.is_empty() {
        body.push(("env", Y::Map(env)));
    }
    push_exec(cx, Y::map(body), text, at, why);
}

pub fn push_exec(cx: &mut Cx<'_>, body: Y, text: &str, at: &str, why: &str) {
    let mut s = step(
        "exec",
        body,
        &Cmd {
            at: at.to_owned(),
            ..Cmd::default()
        },
    );
    s.note = Some(format!("exec: {why}"));
    cx.report.exec(at, text, why);
    push(cx, s, text, why);
}

/// Adds a step: takes the pending headings and prose, names it, and merges it
/// into the step before when that one does the same on other clusters.
pub fn push(cx: &mut Cx<'_>, mut s: Step, text: &str, why: &str) -> usize {
    substituted_vars(cx, &mut s);
    let pending = std::mem::take(&mut cx.pending);
    let mut doc = Vec::new();
    let heads: Vec<usize> = (0..pending.items.len())
        .filter(|i| pending.items[*i].0 > 0)
        .collect();
    let title = heads.last().copied();
    let section = match heads.as_slice() {
        [.., a, b] if pending.items[*a].0 <= 2 && pending.items[*b].0 > 2 => Some(*a),
        _ => None,
    };
    for (i, (level, h)) in pending.items.iter().enumerate() {
        if Some(i) == title {
            s.title = Some(h.clone());
            s.level = Some((*level).clamp(2, 4));
        } else if Some(i) == section {
            s.section = Some(h.clone());
        } else if *level == 0 {
            doc.push(h.clone());
        } else {
            doc.push(format!(
                "{} {h}",
                "#".repeat(usize::from((*level).clamp(2, 6)))
            ));
        }
    }
    if !doc.is_empty() {
        s.doc = Some(doc.join("\n\n"));
    }
    if let Some(prev) = cx.steps.last_mut()
        && s.doc.is_none()
        && s.title.is_none()
        && prev.action == s.action
        && prev.body == s.body
        && prev.vars == s.vars
        && prev.timeout == s.timeout
        && s.clusters.iter().all(|c| !prev.clusters.contains(c))
        && !s.clusters.is_empty()
    {
        prev.clusters.extend(s.clusters.iter().cloned());
        let (name, action) = (prev.name.clone(), prev.action);
        let idx = cx.steps.len() - 1;
        cx.report.step(
            &s.at,
            text,
            &name,
            action,
            &format!("{why} (the same as the step before, on another cluster: merged)"),
        );
        return idx;
    }
    // A name given with `=` is kept; else the script's, the title's, the kind's.
    let base = match s.name.strip_prefix('=') {
        Some(fixed) => fixed.to_owned(),
        None => cx
            .frames
            .last()
            .and_then(|f| f.stem.clone())
            .or_else(|| s.title.clone())
            .unwrap_or_else(|| s.name.clone()),
    };
    s.name = cx.name(&base);
    if s.action != "exec" {
        cx.report.step(&s.at, text, &s.name, s.action, why);
    } else {
        cx.report.name_last(&s.name);
    }
    cx.steps.push(s);
    let idx = cx.steps.len() - 1;
    cx.last.push(idx);
    idx
}

/// The `${NAME}` placeholders (without a default) of a step with
/// `substitute: true` that the chapter's environment gives become step vars,
/// as `envsubst` would have read them from the reader's shell: a value the
/// chapter sets is the default of `env.NAME`, a captured value its capture.
fn substituted_vars(cx: &mut Cx<'_>, s: &mut Step) {
    if get(&s.body, "substitute") != Some(&Y::Bool(true)) {
        return;
    }
    let mut texts: Vec<String> = Vec::new();
    if let Some(Y::Str(inline)) = get(&s.body, "inline") {
        texts.push(inline.clone());
    }
    for f in &s.files {
        let small = std::fs::metadata(f)
            .is_ok_and(|m| m.len() <= crate::language::limits::MAX_FILE_BYTES as u64);
        if let Some(t) = small.then(|| std::fs::read_to_string(f).ok()).flatten() {
            texts.push(t);
        }
    }
    let mut names: Vec<String> = Vec::new();
    for t in &texts {
        for name in placeholders(t) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names.sort();
    for name in names {
        let Some(val) = cx.vars.get(&name) else {
            continue;
        };
        let value = match val {
            Val::Env { .. } | Val::Capture(_) | Val::Template(_) => {
                super::words::Word(vec![val.clone()]).template()
            }
            Val::Lit(l) => super::words::escape(l),
            Val::Unknown(_) => continue,
        };
        s.vars.push((name, Y::s(value)));
    }
    if !s.vars.is_empty() {
        let listed: Vec<&str> = s.vars.iter().map(|(n, _)| n.as_str()).collect();
        cx.report.note(
            &s.at,
            "substitute: true",
            &format!(
                "the manifests read {} from the chapter's environment: step vars",
                listed.join(", ")
            ),
        );
    }
}

/// Names of `${NAME}` (no default, not `$${NAME}`) in `text`, at most 256.
fn placeholders(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i + 2 < b.len() && out.len() < 256 {
        if b[i] == b'$' && b[i + 1] == b'$' {
            i += 2;
            continue;
        }
        if b[i] == b'$' && b[i + 1] == b'{' {
            let start = i + 2;
            let mut j = start;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            if j > start && j < b.len() && b[j] == b'}' && !b[start].is_ascii_digit() {
                out.push(text[start..j].to_owned());
            }
            i = j;
            continue;
        }
        i += 1;
    }
    out
}
