//! Routing weights: when the chapter applies an object with weighted
//! destinations (Istio VirtualService, Gloo TrafficPolicy, Gateway API
//! HTTPRoute), the next probe gets a split check (or a probe like the page's
//! last call is proposed after the change). Each is marked
//! `# proposed by scenario import`.

use super::cx::{Cmd, Cx, ProbeModel, Weights};
use super::emit::{push, step};
use super::yaml_out::{Y, get, set};

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
            if let Some((pairs, dests)) = weights_of(&v) {
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
                    dests,
                    from: format!("{kind} {name} ({shown})"),
                });
                return;
            }
        }
    }
}

/// Weights by destination key, and each destination as written.
type Split = (Vec<(String, i64)>, Vec<serde_json::Value>);

/// A version, and the value it answers with and where that was read (or why it is not known).
type Answer = (String, Result<(String, String), String>);

/// The weights of the first list of `{..., weight}` destinations in `v`, by
/// the destination's subset (version) or name, scaled to sum to 100.
fn weights_of(v: &serde_json::Value) -> Option<Split> {
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
            let (pairs, dests) = pairs
                .into_iter()
                .zip(items.iter().cloned())
                .filter(|(p, _)| p.1 > 0)
                .unzip();
            Some((pairs, dests))
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
///
/// A probe of one request (a single call whose answer the page shows) keeps
/// the weights for a later probe of several requests (the page's loop) before
/// the next change; it gets them only if none comes.
pub fn probed(cx: &mut Cx<'_>, idx: usize, _url: &str) {
    if cx.weights.is_none() {
        return;
    }
    let requests = match get(&cx.steps[idx].body, "requests") {
        Some(Y::Int(n)) => *n,
        _ => 1,
    };
    if requests == 1 {
        cx.single.get_or_insert(idx);
        return;
    }
    cx.single = None;
    cx.steps[idx].weights = cx.weights.take();
}

/// Weights applied with no probe after them: a probe like the last one shown
/// on the page, before `next`; its check is written by [`finish`].
pub fn flush_weights(cx: &mut Cx<'_>, next: &str) {
    let Some(w) = cx.weights.take() else { return };
    if let Some(idx) = cx.single.take() {
        cx.steps[idx].weights = Some(w);
        return;
    }
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
/// name the versions the weights route to, and each version is counted by
/// the value its workload answers with (see `workloads`).
pub fn finish(cx: &mut Cx<'_>) {
    let mut keys: Vec<String> = Vec::new();
    let mut dests: Vec<(serde_json::Value, String)> = Vec::new();
    for s in &cx.steps {
        for w in s.weights.iter() {
            for ((k, _), d) in w.pairs.iter().zip(&w.dests) {
                if !keys.contains(k) {
                    keys.push(k.clone());
                    dests.push((d.clone(), w.from.clone()));
                }
            }
        }
    }
    if keys.is_empty() {
        return;
    }
    let model = cx.probe_model.clone();
    let applied: Vec<std::path::PathBuf> = cx
        .steps
        .iter()
        .filter(|s| s.action == "apply")
        .flat_map(|s| s.files.iter().cloned())
        .collect();
    let catalog = super::workloads::Catalog::read(&cx.root, &applied);
    let selected: Vec<super::workloads::Dest> =
        dests.iter().map(|(d, _)| catalog.dest(d)).collect();
    let fields = model.as_ref().map(|m| m.fields.clone()).unwrap_or_default();
    // The field whose value names a version, else one whose value a version's workload carries.
    let field = split_field(model.as_ref(), &keys).or_else(|| {
        fields
            .iter()
            .find(|(_, v)| {
                v.as_str()
                    .is_some_and(|s| !catalog.carrying(&[s.to_owned()], &selected).is_empty())
            })
            .map(|(f, _)| f.clone())
    });
    let answers = field
        .as_ref()
        .map(|f| answers(cx, &catalog, f, &fields, &keys, &selected, &dests))
        .unwrap_or_default();
    for i in 0..cx.steps.len() {
        let Some(w) = cx.steps[i].weights.clone() else {
            continue;
        };
        let (mut body, mut note) = weight_check(
            cx.steps[i].body.clone(),
            &w,
            &fields,
            field.as_deref(),
            &keys,
            &answers,
        );
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

/// The answer field whose value on the page names one of the versions.
fn split_field(model: Option<&ProbeModel>, keys: &[String]) -> Option<String> {
    model?
        .fields
        .iter()
        .find(|(_, v)| v.as_str().is_some_and(|s| keys.iter().any(|k| k == s)))
        .map(|(f, _)| f.clone())
}

/// What each version answers with in `field`: the value and where it was
/// read, or why it is not known. Each is a note of the report.
fn answers(
    cx: &mut Cx<'_>,
    catalog: &super::workloads::Catalog,
    field: &str,
    fields: &[(String, serde_json::Value)],
    keys: &[String],
    selected: &[super::workloads::Dest],
    dests: &[(serde_json::Value, String)],
) -> Vec<Answer> {
    let values: Vec<String> = fields
        .iter()
        .filter(|(f, _)| f == field)
        .filter_map(|(_, v)| v.as_str().map(str::to_owned))
        .collect();
    let others: Vec<String> = fields.iter().map(|(f, _)| f.clone()).collect();
    let var = catalog.variable(field, &values, selected, &others);
    let mut out = Vec::new();
    for ((k, dest), (_, from)) in keys.iter().zip(selected).zip(dests) {
        let got = match &var {
            Some(var) => catalog.value(dest, var),
            None => Err(format!(
                "no environment variable of the workload manifests under the root is known to carry `{field}`"
            )),
        };
        let why = match &got {
            Ok((v, from)) => format!("answers `{field}: {v}`: {from}"),
            Err(why) => format!("what it answers as `{field}` is not known: {why}"),
        };
        cx.report.note(from, &format!("version {k}"), &why);
        out.push((k.clone(), got));
    }
    out
}

/// Each version counted by the value it answers with (merged when two
/// answer alike); the versions counted by another value, said with where it
/// was read; the versions neither seen on the page nor known.
fn counted(
    w: &Weights,
    answers: &[Answer],
    seen: &[&str],
) -> (Vec<(String, i64)>, Vec<String>, Vec<String>) {
    let mut pairs: Vec<(String, i64)> = Vec::new();
    let mut mapped: Vec<String> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    for (k, weight) in &w.pairs {
        let known = answers
            .iter()
            .find(|(a, _)| a == k)
            .and_then(|(_, r)| r.as_ref().ok());
        let v = match known {
            Some((v, from)) => {
                if v != k {
                    mapped.push(format!("{k} answers `{v}` ({from})"));
                }
                v.clone()
            }
            None => {
                if !seen.contains(&k.as_str()) {
                    unknown.push(k.clone());
                }
                k.clone()
            }
        };
        match pairs.iter_mut().find(|(x, _)| *x == v) {
            Some(p) => p.1 += weight,
            None => pairs.push((v, *weight)),
        }
    }
    (pairs, mapped, unknown)
}

/// The answer field that names the version, and the check of the weights.
fn weight_check(
    mut body: Y,
    w: &Weights,
    fields: &[(String, serde_json::Value)],
    field: Option<&str>,
    all: &[String],
    answers: &[Answer],
) -> (Y, String) {
    let field = field.map(str::to_owned);
    let seen: Vec<&str> = match &field {
        Some(f) => fields
            .iter()
            .filter(|(k, _)| k == f)
            .filter_map(|(_, v)| v.as_str())
            .collect(),
        None => Vec::new(),
    };
    let value = field.clone().unwrap_or_else(|| "version".to_owned());
    let (pairs, mapped, unknown) = counted(w, answers, &seen);
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
    if !mapped.is_empty() {
        why.push_str(&format!("; {}", mapped.join("; ")));
    }
    if !unknown.is_empty() {
        why.push_str(&format!("; VERIFY: {} never seen as `{value}` in an answer on the page and no workload manifest says what {} answer: check the value and change the key", unknown.join(", "), if unknown.len() == 1 { "it would" } else { "they would" }));
    }
    let check = if let [(only, _)] = pairs.as_slice() {
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
            pairs.iter().map(|(k, v)| (k.clone(), Y::Int(*v))).collect(),
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
