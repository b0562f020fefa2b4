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
