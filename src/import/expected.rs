//! Checks proposed from the expected output a page shows after a command: the
//! objects a `kubectl get` lists become existence waits, the fields of an HTTP
//! answer become `each` checks. Each is marked `# proposed by scenario import`.

use super::cx::{Cmd, Cx, ProbeModel};
use super::emit::{push, step};
use super::yaml_out::{Y, get, set};

/// A block of expected output after the last command.
pub fn expected_output(cx: &mut Cx<'_>, text: &str, at: &str) {
    let Some(&idx) = cx.last.last() else {
        cx.report.note(
            at,
            "output block",
            "output with no command before it: kept for the reader, no check",
        );
        return;
    };
    match cx.steps[idx].action {
        "get" => objects(cx, idx, text, at),
        "probe" => answer(cx, idx, text, at),
        _ => cx.report.note(
            at,
            "output block",
            "the output of a command whose step checks its own result: no check proposed",
        ),
    }
}

/// A `kubectl get` table: each object listed (only the highlighted `{== ==}`
/// rows when there are some) becomes an existence wait.
fn objects(cx: &mut Cx<'_>, idx: usize, text: &str, at: &str) {
    let shown = cx.steps[idx].clone();
    let kinds: Vec<String> = match get_list(&shown.body) {
        Some(list) => list
            .iter()
            .filter_map(|r| match r {
                Y::Flow(m) => get(m, "kind").and_then(|k| {
                    if let Y::Str(s) = k {
                        Some(s.clone())
                    } else {
                        None
                    }
                }),
                _ => None,
            })
            .collect(),
        None => Vec::new(),
    };
    let marked = text.contains("{==");
    let mut header: Vec<String> = Vec::new();
    let mut made = 0;
    for line in text.lines() {
        let highlighted = line.contains("{==");
        let clean = line.replace("{==", "").replace("==}", "");
        let cols: Vec<&str> = clean.split_whitespace().collect();
        if cols.is_empty() {
            header.clear();
            continue;
        }
        if cols.contains(&"NAME") {
            header = cols.iter().map(|c| (*c).to_owned()).collect();
            continue;
        }
        let Some(ni) = header.iter().position(|h| h == "NAME") else {
            continue;
        };
        if (marked && !highlighted) || made >= 20 {
            continue;
        }
        let ns = header
            .iter()
            .position(|h| h == "NAMESPACE")
            .and_then(|i| cols.get(i))
            .map(|s| (*s).to_owned());
        let Some(full) = cols.get(ni) else { continue };
        let (kind, name) = match full.split_once('/') {
            Some((t, n)) => (plural(t), n.to_owned()),
            None => (
                kinds.first().cloned().unwrap_or_default(),
                (*full).to_owned(),
            ),
        };
        if kind.is_empty() || kind.contains(',') {
            continue;
        }
        let mut res = vec![("kind", Y::s(kind.clone()))];
        let ns = ns.or_else(|| namespace_of(&shown.body));
        if let Some(ns) = ns {
            res.push(("namespace", Y::s(ns)));
        }
        let prefix = generated_prefix(&name);
        let why = match &prefix {
            Some(p) => {
                res.push(("namePrefix", Y::s(p.clone())));
                format!(
                    "the page lists {kind} {name} after `kubectl get`; its name ends with a generated suffix: namePrefix {p}"
                )
            }
            None => {
                res.push(("name", Y::s(name.clone())));
                format!("the page lists {kind} {name} after `kubectl get`")
            }
        };
        let mut s = step(
            "wait",
            Y::map(vec![("resource", Y::flow(res))]),
            &Cmd {
                at: at.to_owned(),
                ..Cmd::default()
            },
        );
        s.name = format!(
            "wait-{}",
            prefix.as_deref().unwrap_or(&name).trim_end_matches('-')
        );
        s.clusters = shown.clusters.clone();
        s.note = Some(format!("{}: {why}", super::yaml_out::PROPOSED));
        let pending = std::mem::take(&mut cx.pending);
        let i = push(cx, s, "", "an object the expected output lists");
        cx.pending = pending;
        let name = cx.steps[i].name.clone();
        cx.report.proposed(at, &why, &name);
        made += 1;
    }
}

fn get_list(body: &Y) -> Option<&Vec<Y>> {
    match get(body, "resources") {
        Some(Y::List(l)) => Some(l),
        _ => None,
    }
}

fn namespace_of(body: &Y) -> Option<String> {
    get_list(body)?.iter().find_map(|r| match r {
        Y::Flow(m) => match get(m, "namespace") {
            Some(Y::Str(s)) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    })
}

/// `virtualservice.networking.istio.io` -> `virtualservices.networking.istio.io`.
fn plural(t: &str) -> String {
    let (head, group) = t.split_once('.').map_or((t, None), |(h, g)| (h, Some(g)));
    let p = if head.ends_with('s') || head.ends_with("ss") {
        format!("{head}es")
    } else if let Some(stem) = head
        .strip_suffix('y')
        .filter(|s| !s.ends_with(['a', 'e', 'i', 'o', 'u']))
    {
        format!("{stem}ies")
    } else {
        format!("{head}s")
    };
    match group {
        Some(g) => format!("{p}.{g}"),
        None => p,
    }
}

/// `bgc-virtualgateway-17072781039916753854` -> `bgc-virtualgateway-`;
/// `web-6c7f9b8d4-x2x5z` -> `web-`; `None` for a name without a generated suffix.
#[must_use]
pub fn generated_prefix(name: &str) -> Option<String> {
    let parts: Vec<&str> = name.split('-').collect();
    let generated = |s: &str| {
        let digits = s.chars().filter(char::is_ascii_digit).count();
        (s.len() >= 4 && digits == s.len())
            || ((s.len() == 5 || (8..=10).contains(&s.len()))
                && digits > 0
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
    };
    let keep = parts.iter().rposition(|p| !generated(p))? + 1;
    (keep < parts.len()).then(|| format!("{}-", parts[..keep].join("-")))
}

/// An HTTP answer shown after a call: its JSON fields become `each` checks.
fn answer(cx: &mut Cx<'_>, idx: usize, text: &str, at: &str) {
    let split: Vec<String> = match (&cx.weights, cx.single) {
        (Some(w), Some(single)) if single == idx => w.pairs.iter().map(|p| p.0.clone()).collect(),
        _ => Vec::new(),
    };
    let mut body = cx.steps[idx].body.clone();
    let url = match get(&body, "url") {
        Some(Y::Str(u)) => u.clone(),
        _ => String::new(),
    };
    let mut checks = Vec::new();
    let mut extract = match get(&body, "extract") {
        Some(Y::Map(p)) => p.clone(),
        _ => Vec::new(),
    };
    let mut fields = Vec::new();
    if let Ok(serde_json::Value::Object(obj)) =
        serde_json::from_str::<serde_json::Value>(text.trim())
    {
        for (k, v) in obj.iter().take(16) {
            if !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                || k.is_empty()
                || v.is_object()
                || v.is_array()
            {
                continue;
            }
            fields.push((k.clone(), v.clone()));
            extract.push((k.clone(), Y::s(format!("$.{k}"))));
            checks.push(field_check(k, v, &split));
        }
    } else if let (Some(line), [(name, _)]) = (
        text.lines().map(str::trim).find(|l| !l.is_empty()),
        extract.as_slice(),
    ) {
        // `curl ... | jq -r .status` then `ok`: the value the filter printed.
        checks.push(Y::flow(vec![
            ("value", Y::s(name.clone())),
            ("equals", Y::s(super::words::escape(line.trim_matches('"')))),
        ]));
    } else if let Some(line) = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .filter(|l| l.len() <= 200 && !l.starts_with('<'))
    {
        extract.push(("body".to_owned(), Y::flow(vec![("body", Y::Bool(true))])));
        checks.push(Y::flow(vec![
            ("value", Y::s("body")),
            ("matches", Y::s(regex::escape(line))),
        ]));
        let lower = line.to_ascii_lowercase();
        if lower.contains("denied") || lower.contains("forbidden") {
            set(&mut body, "expectStatus", Y::Int(403));
        } else if lower.contains("unauthorized") {
            set(&mut body, "expectStatus", Y::Int(401));
        }
    }
    if checks.is_empty() {
        cx.report.note(
            at,
            "output block",
            "an answer the import reads no field of: no check proposed",
        );
        return;
    }
    let status = match &mut body {
        Y::Map(p) => p
            .iter()
            .position(|(k, _)| k == "expectStatus")
            .map(|i| p.remove(i).1),
        _ => None,
    };
    set(&mut body, "extract", Y::Map(extract));
    let mut expect = vec![("each", Y::List(checks))];
    if let Some(s) = status {
        expect.insert(0, ("status", Y::Flow(Box::new(Y::List(vec![s])))));
    }
    let why = "the answer the page shows after this call";
    set(&mut body, "expect", Y::proposed(why, Y::map(expect)));
    cx.steps[idx].body = body;
    let name = cx.steps[idx].name.clone();
    cx.report.proposed(at, why, &name);
    let mut model = cx.probe_model.take().unwrap_or(ProbeModel {
        url: url.clone(),
        body: Y::Map(Vec::new()),
        fields: Vec::new(),
    });
    if !fields.is_empty() {
        model.url = url;
        model.fields.extend(fields);
    }
    cx.probe_model = Some(model);
}

/// The check of one scalar field of an answer the page shows.
fn field_check(k: &str, v: &serde_json::Value, split: &[String]) -> Y {
    let k = k.to_owned();
    match v {
        serde_json::Value::String(_) if k.to_ascii_lowercase().contains("agent") => {
            Y::flow(vec![("value", Y::s(k.clone())), ("exists", Y::Bool(true))])
        }
        // One answer of a split the chapter just set: any of its versions.
        serde_json::Value::String(s) if split.contains(s) => Y::flow(vec![
            ("value", Y::s(k.clone())),
            (
                "oneOf",
                Y::Flow(Box::new(Y::List(
                    split
                        .iter()
                        .map(|v| Y::s(super::words::escape(v)))
                        .collect(),
                ))),
            ),
        ]),
        serde_json::Value::String(s) => match generated_prefix(s) {
            Some(p) => Y::flow(vec![
                ("value", Y::s(k.clone())),
                ("matches", Y::s(format!("^{}", regex::escape(&p)))),
            ]),
            None => Y::flow(vec![
                ("value", Y::s(k.clone())),
                ("equals", Y::s(super::words::escape(s))),
            ]),
        },
        serde_json::Value::Bool(b) => {
            Y::flow(vec![("value", Y::s(k.clone())), ("equals", Y::Bool(*b))])
        }
        _ => Y::flow(vec![("value", Y::s(k.clone())), ("exists", Y::Bool(true))]),
    }
}
