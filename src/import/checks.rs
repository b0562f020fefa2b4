//! Checks proposed from what the page claims: the objects a `kubectl get`'s
//! expected output lists (existence waits), the fields of an HTTP answer shown
//! after a call (`each` checks), and the weights of a routing object the
//! chapter applied (a split check on the next probe). Every one is marked
//! `# proposed by scenario import` and counted in the report.

use super::steps::{Cmd, push, step};
use super::yaml_out::Y;
use super::{Cx, ProbeModel, Weights};

/// A JSON value as YAML.
#[must_use]
pub fn to_y(v: &serde_json::Value) -> Y {
    match v {
        serde_json::Value::Null => Y::s("null"),
        serde_json::Value::Bool(b) => Y::Bool(*b),
        serde_json::Value::Number(n) => n.as_i64().map_or_else(|| Y::s(n.to_string()), Y::Int),
        serde_json::Value::String(s) => Y::s(super::expand::escape(s)),
        serde_json::Value::Array(a) => Y::List(a.iter().map(to_y).collect()),
        serde_json::Value::Object(o) => {
            Y::Map(o.iter().map(|(k, v)| (k.clone(), to_y(v))).collect())
        }
    }
}

fn set(body: &mut Y, key: &str, value: Y) {
    if let Y::Map(pairs) = body {
        if let Some(p) = pairs.iter_mut().find(|(k, _)| k == key) {
            p.1 = value;
        } else {
            pairs.push((key.to_owned(), value));
        }
    }
}

fn get<'a>(body: &'a Y, key: &str) -> Option<&'a Y> {
    match body {
        Y::Map(pairs) => pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v),
        _ => None,
    }
}

/// After an apply: the weights of its routing objects are kept for the next probe.
pub fn applied(cx: &mut Cx<'_>, idx: usize) {
    let mut sources: Vec<(std::path::PathBuf, String)> = Vec::new();
    if let Some(Y::Str(inline)) = get(&cx.steps[idx].body, "inline") {
        sources.push((
            std::path::PathBuf::from(format!("the inline manifest of {}", cx.steps[idx].at)),
            inline.clone(),
        ));
    }
    for f in cx.steps[idx].files.clone() {
        let Ok(meta) = std::fs::metadata(&f) else {
            continue;
        };
        if meta.len() > crate::language::limits::MAX_FILE_BYTES as u64 {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        sources.push((f, text));
    }
    for (f, text) in sources {
        for doc in text.split("\n---") {
            let Ok(v) = serde_saphyr::from_str::<serde_json::Value>(doc) else {
                continue;
            };
            if let Some(pairs) = weights_of(&v) {
                let kind = v.get("kind").and_then(|k| k.as_str()).unwrap_or("object");
                let name = v
                    .pointer("/metadata/name")
                    .and_then(|k| k.as_str())
                    .unwrap_or("");
                let shown = f
                    .strip_prefix(&cx.root)
                    .map_or_else(|_| f.display().to_string(), |p| p.display().to_string());
                cx.weights = Some(Weights {
                    pairs,
                    from: format!("{kind} {name} ({shown})"),
                });
                return;
            }
        }
    }
}

/// The weights of the first list of `{..., weight}` destinations in `v`, by
/// the destination's subset (version) or name, scaled to sum to 100.
fn weights_of(v: &serde_json::Value) -> Option<Vec<(String, i64)>> {
    match v {
        serde_json::Value::Array(items)
            if !items.is_empty() && items.iter().all(|i| i.get("weight").is_some()) =>
        {
            let mut pairs = Vec::new();
            for i in items {
                let w = i.get("weight")?.as_i64()?;
                pairs.push((destination_key(i)?, w));
            }
            let sum: i64 = pairs.iter().map(|p| p.1).sum();
            if sum <= 0 {
                return None;
            }
            if sum != 100 {
                for p in &mut pairs {
                    p.1 = p.1 * 100 / sum;
                }
                let fix = 100 - pairs.iter().map(|p| p.1).sum::<i64>();
                pairs[0].1 += fix;
            }
            pairs.retain(|p| p.1 > 0);
            Some(pairs)
        }
        serde_json::Value::Array(items) => items.iter().find_map(weights_of),
        serde_json::Value::Object(o) => o.values().find_map(weights_of),
        _ => None,
    }
}

fn destination_key(v: &serde_json::Value) -> Option<String> {
    fn find<'a>(v: &'a serde_json::Value, key: &str) -> Option<&'a serde_json::Value> {
        match v {
            serde_json::Value::Object(o) => {
                o.get(key).or_else(|| o.values().find_map(|x| find(x, key)))
            }
            _ => None,
        }
    }
    let subset = find(v, "subset");
    subset
        .and_then(|s| {
            s.as_str()
                .map(str::to_owned)
                .or_else(|| s.get("version").and_then(|x| x.as_str()).map(str::to_owned))
        })
        .or_else(|| find(v, "name").and_then(|n| n.as_str()).map(str::to_owned))
        .or_else(|| find(v, "host").and_then(|n| n.as_str()).map(str::to_owned))
}

/// After a probe: the weights applied before it become its check.
pub fn probed(cx: &mut Cx<'_>, idx: usize, _url: &str) {
    if let Some(w) = cx.weights.take() {
        cx.steps[idx].weights = Some(w);
    }
}

/// Weights applied with no probe after them: a probe like the last one shown
/// on the page, before `next`; its check is written by [`finish`].
pub fn flush_weights(cx: &mut Cx<'_>, next: &str) {
    let Some(w) = cx.weights.take() else { return };
    let Some(model) = cx.probe_model.clone() else {
        cx.report.note("", &w.from, "routing weights with no call of the service on the page before them: no split check proposed");
        return;
    };
    let from = cx.steps.last().map(|s| s.at.clone()).unwrap_or_default();
    let after = cx
        .steps
        .iter()
        .rev()
        .find(|s| s.action == "apply")
        .map_or_else(|| "routing".to_owned(), |s| s.name.clone());
    let mut s = step(
        "probe",
        Y::map(vec![("url", Y::s(model.url.clone()))]),
        &Cmd {
            at: from,
            ..Cmd::default()
        },
    );
    s.name = format!("={after}-answers");
    s.note = Some(format!(
        "{}: the page does not call the service after this change (before {next}); a probe like the one it made before",
        super::yaml_out::PROPOSED
    ));
    s.weights = Some(w);
    let pending = std::mem::take(&mut cx.pending);
    push(cx, s, "", "a probe proposed after a routing change");
    cx.pending = pending;
}

/// Writes the split checks of the probes after routing changes, once every
/// answer field the page shows is known: the field is the one whose values
/// name the versions the weights route to.
pub fn finish(cx: &mut Cx<'_>) {
    let mut keys: Vec<String> = Vec::new();
    for s in &cx.steps {
        for (k, _) in s.weights.iter().flat_map(|w| w.pairs.iter()) {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
    }
    let model = cx.probe_model.clone();
    for i in 0..cx.steps.len() {
        let Some(w) = cx.steps[i].weights.clone() else {
            continue;
        };
        let (mut body, mut note) =
            weight_check(cx.steps[i].body.clone(), &w, model.as_ref(), &keys);
        set(
            &mut body,
            "requests",
            Y::Int(if w.pairs.len() == 1 { 200 } else { 2000 }),
        );
        if let Y::Map(pairs) = &mut body
            && let Some(at) = pairs.iter().position(|(k, _)| k == "rate")
        {
            pairs.remove(at);
            note.push_str(
                "; the pause of the page's loop is dropped: a split needs hundreds of answers",
            );
        }
        cx.steps[i].body = body;
        let (at, name) = (cx.steps[i].at.clone(), cx.steps[i].name.clone());
        cx.report.proposed(&at, &note, &name);
    }
}

/// The answer field that names the version, and whether each weight key was seen in it.
fn weight_check(
    mut body: Y,
    w: &Weights,
    model: Option<&ProbeModel>,
    all: &[String],
) -> (Y, String) {
    let keys: Vec<&str> = w.pairs.iter().map(|p| p.0.as_str()).collect();
    let fields = model.map(|m| m.fields.as_slice()).unwrap_or_default();
    let field = fields
        .iter()
        .find(|(_, v)| v.as_str().is_some_and(|s| all.iter().any(|k| k == s)))
        .map(|(f, _)| f.clone());
    let (value, unseen) = match &field {
        Some(f) => {
            let seen: Vec<&str> = fields
                .iter()
                .filter(|(k, _)| k == f)
                .filter_map(|(_, v)| v.as_str())
                .collect();
            (
                f.clone(),
                keys.iter()
                    .filter(|k| !seen.contains(k))
                    .map(|k| (*k).to_owned())
                    .collect::<Vec<_>>(),
            )
        }
        None => (
            "version".to_owned(),
            keys.iter().map(|k| (*k).to_owned()).collect(),
        ),
    };
    let extract = match &field {
        Some(f) => Y::s(format!("$.{f}")),
        None => Y::flow(vec![
            ("body", Y::Bool(true)),
            (
                "regex",
                Y::s(format!(
                    "({})",
                    all.iter()
                        .map(|k| regex::escape(k))
                        .collect::<Vec<_>>()
                        .join("|")
                )),
            ),
        ]),
    };
    let mut ex = match get(&body, "extract") {
        Some(Y::Map(p)) => p.clone(),
        _ => Vec::new(),
    };
    if !ex.iter().any(|(k, _)| *k == value) {
        ex.push((value.clone(), extract));
    }
    set(&mut body, "extract", Y::Map(ex));
    let mut why = format!("weights of {}", w.from);
    if !unseen.is_empty() {
        why.push_str(&format!("; {} never seen as `{value}` in an answer on the page: check the value those versions answer with", unseen.join(", ")));
    }
    let check = if let [(only, _)] = w.pairs.as_slice() {
        set(
            &mut body,
            "eventually",
            Y::flow(vec![("window", Y::Int(50))]),
        );
        Y::map(vec![(
            "each",
            Y::List(vec![Y::flow(vec![
                ("value", Y::s(value.clone())),
                ("equals", Y::s(only.clone())),
            ])]),
        )])
    } else {
        set(&mut body, "eventually", Y::Map(Vec::new()));
        let weights = Y::Flow(Box::new(Y::Map(
            w.pairs
                .iter()
                .map(|(k, v)| (k.clone(), Y::Int(*v)))
                .collect(),
        )));
        Y::map(vec![(
            "distribution",
            Y::map(vec![
                ("value", Y::s(value)),
                ("weights", weights),
                ("tolerance", Y::Int(10)),
            ]),
        )])
    };
    // Checks the page's answer proposed on other fields stay; one on the split's value goes.
    let mut merged = match get(&body, "expect") {
        Some(Y::Noted(_, inner)) => match inner.as_ref() {
            Y::Map(p) => p.clone(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    for (k, v) in &mut merged {
        if k == "each"
            && let Y::List(items) = v
        {
            items.retain(|c| !matches!(c, Y::Flow(m) if get(m, "value") == Some(&Y::s(field.clone().unwrap_or_default()))));
        }
    }
    merged.retain(|(k, v)| !(k == "each" && *v == Y::List(Vec::new())));
    if let Y::Map(p) = check {
        merged.extend(p);
    }
    set(&mut body, "expect", Y::proposed(&why, Y::Map(merged)));
    (body, why)
}

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
        let i = push(cx, s, &clean, "an object the expected output lists");
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
            let check = match v {
                serde_json::Value::String(s) if k.to_ascii_lowercase().contains("agent") => {
                    Y::flow(vec![("value", Y::s(k.clone())), ("exists", Y::Bool(true))])
                }
                serde_json::Value::String(s) => match generated_prefix(s) {
                    Some(p) => Y::flow(vec![
                        ("value", Y::s(k.clone())),
                        ("matches", Y::s(format!("^{}", regex::escape(&p)))),
                    ]),
                    None => Y::flow(vec![
                        ("value", Y::s(k.clone())),
                        ("equals", Y::s(super::expand::escape(s))),
                    ]),
                },
                serde_json::Value::Bool(b) => {
                    Y::flow(vec![("value", Y::s(k.clone())), ("equals", Y::Bool(*b))])
                }
                _ => Y::flow(vec![("value", Y::s(k.clone())), ("exists", Y::Bool(true))]),
            };
            checks.push(check);
        }
    } else if let (Some(line), [(name, _)]) = (
        text.lines().map(str::trim).find(|l| !l.is_empty()),
        extract.as_slice(),
    ) {
        // `curl ... | jq -r .status` then `ok`: the value the filter printed.
        checks.push(Y::flow(vec![
            ("value", Y::s(name.clone())),
            (
                "equals",
                Y::s(super::expand::escape(line.trim_matches('"'))),
            ),
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

/// `yq eval '.a.b = "v"' FILE | kubectl apply -f -`: a merge patch of FILE's object.
pub fn yq_patch(cx: &mut Cx<'_>, cmds: &[Cmd], k_last: &impl std::fmt::Debug, text: &str) -> bool {
    let _ = k_last;
    let yq = &cmds[0];
    let args: Vec<String> = yq
        .args()
        .into_iter()
        .filter(|a| !a.starts_with('-') && a != "eval" && a != "e")
        .collect();
    let made = (|| -> Option<(Y, Vec<String>)> {
        let [expr, file] = args.as_slice() else {
            return None;
        };
        let (path, value) = expr.split_once('=')?;
        let path = path.trim();
        let value = value.trim();
        let keys: Vec<&str> = path.strip_prefix('.')?.split('.').collect();
        if keys.iter().any(|k| {
            k.is_empty()
                || !k
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        }) {
            return None;
        }
        let v: serde_json::Value = serde_json::from_str(value)
            .ok()
            .or_else(|| serde_saphyr::from_str(value).ok())?;
        let real = std::fs::canonicalize(cx.cwd.join(file))
            .ok()
            .filter(|r| r.starts_with(&cx.root))?;
        let doc: serde_json::Value = serde_saphyr::from_str(
            &std::fs::read_to_string(&real)
                .ok()?
                .chars()
                .take(1 << 20)
                .collect::<String>(),
        )
        .ok()?;
        let mut body = to_y(&v);
        for k in keys.iter().rev() {
            body = Y::map(vec![(k, body)]);
        }
        let s = |p: &str| doc.pointer(p).and_then(|x| x.as_str()).map(str::to_owned);
        let mut res = vec![
            ("apiVersion", Y::s(s("/apiVersion")?)),
            ("kind", Y::s(s("/kind")?)),
        ];
        if let Some(ns) = s("/metadata/namespace") {
            res.push(("namespace", Y::s(ns)));
        }
        res.push(("name", Y::s(s("/metadata/name")?)));
        Some((
            Y::map(vec![("resource", Y::flow(res)), ("body", body)]),
            Vec::new(),
        ))
    })();
    match made {
        Some((body, _)) => {
            let mut s = step("patch", body, yq);
            s.name = format!(
                "set-{}",
                args.get(1)
                    .map_or("object", |f| f.rsplit('/').next().unwrap_or(f))
                    .trim_end_matches(".yaml")
            );
            let last = &cmds[cmds.len() - 1];
            let ctx = last
                .argv
                .iter()
                .position(|w| w.concrete().is_some_and(|t| t.starts_with("--context")))
                .and_then(|i| {
                    let w = &last.argv[i];
                    if w.concrete().is_some_and(|t| t.contains('=')) {
                        None
                    } else {
                        last.argv.get(i + 1).cloned()
                    }
                });
            s.clusters = vec![cx.cluster(ctx.as_ref())];
            push(
                cx,
                s,
                text,
                "yq sets one field of a file's object, applied: a merge patch of that object",
            );
        }
        None => super::steps::exec(
            cx,
            text,
            &yq.at,
            "a yq program other than `.a.b = value` on one file",
        ),
    }
    true
}
