//! kubectl at the end or start of a pipeline, and in `$(...)`: `kustomize build
//! | envsubst | kubectl apply -f -` and friends, `yq eval '.a = v' FILE |
//! kubectl apply -f -` (a patch), and `$(kubectl get ... -o jsonpath=...)` (a
//! capture).

use super::cx::{Cmd, Cx, Stdin};
use super::emit::{exec, push, step};
use super::kubectl::{K, path, yaml_files};
use super::words::{Val, Word};
use super::yaml_out::{Y, to_y};

/// `$(kubectl get ... -o jsonpath=...)` or `$(kubectl get -o json | jq -r .x)`:
/// a get step that captures the value; the capture's name.
pub fn capture(cx: &mut Cx<'_>, cmds: &[Cmd], text: &str) -> Option<Val> {
    let k = K::read(&cmds[0]);
    if k.verb() != "get" {
        return None;
    }
    let output = k
        .flag(&["-o", "--output"])
        .and_then(Word::concrete)
        .unwrap_or_default();
    let path = if let Some(j) = output.strip_prefix("jsonpath=") {
        let j = j.replace("[*]", "[0]");
        (j.matches('{').count() == 1 && !j.contains("range")).then_some(j)?
    } else if output == "json" && cmds.len() == 2 && cmds[1].program() == "jq" {
        jq_path(&cmds[1].args())?
    } else {
        return None;
    };
    let target = k.targets(1).into_iter().next()?;
    let cluster = cx.cluster(k.context.as_ref());
    // The same value read again (by another script) is the capture made before.
    let key = format!("{cluster}|{}|{path}", super::yaml_out::inline(&target));
    if let Some(c) = cx.captured.get(&key) {
        cx.report.understood(
            &cmds[0].at,
            text,
            &format!("the value captured before as `{c}`"),
        );
        return Some(Val::Capture(c.clone()));
    }
    let name = capture_name(cx, &k, &path);
    let body = Y::map(vec![
        ("show", Y::Bool(false)),
        ("resources", Y::List(vec![target])),
        ("capture", Y::map(vec![(name.as_str(), Y::s(path))])),
    ]);
    let mut s = step("get", body, &cmds[0]);
    s.name = format!("capture-{name}");
    s.clusters = vec![cluster];
    push(
        cx,
        s,
        text,
        "kubectl get in $(...): a get step that captures the value",
    );
    cx.captured.insert(key, name.clone());
    Some(Val::Capture(name))
}

/// A jq program that is a plain path (`.a.b[0]`), as a JSONPath.
#[must_use]
pub fn jq_path(args: &[String]) -> Option<String> {
    let prog = args.iter().find(|a| !a.starts_with('-'))?;
    let ok = prog.starts_with('.')
        && prog
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._[]-".contains(c));
    ok.then(|| {
        if prog == "." {
            "$".to_owned()
        } else {
            format!("${prog}")
        }
    })
}

fn capture_name(cx: &Cx<'_>, k: &K, path: &str) -> String {
    let obj = k.pos_text(2).or_else(|| k.pos_text(1)).unwrap_or_default();
    let last = path
        .trim_end_matches('}')
        .rsplit(['.', '{'])
        .next()
        .unwrap_or("value")
        .split('[')
        .next()
        .unwrap_or("value")
        .to_owned();
    let base: String = format!("{}_{last}", obj.rsplit('/').next().unwrap_or(&obj))
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let base = if base.starts_with(|c: char| c.is_ascii_digit() || c == '_') {
        format!("v{base}")
    } else {
        base
    };
    let mut name = base.clone();
    let mut n = 2;
    while cx.captured.values().any(|v| *v == name) {
        name = format!("{base}_{n}");
        n += 1;
    }
    name
}

/// `kustomize build D | envsubst | kubectl apply -f -` and friends.
pub fn from_pipe(cx: &mut Cx<'_>, cmds: &[Cmd], text: &str) -> bool {
    let last = &cmds[cmds.len() - 1];
    let k = K::read(last);
    let subst = cmds.iter().any(|c| c.program() == "envsubst");
    let first = &cmds[0];
    let fk = K::read(first);
    let source: Result<(&str, Word), String> = match first.program().as_str() {
        "kustomize" if first.args().first().map(String::as_str) == Some("build") => first
            .argv
            .get(2)
            .cloned()
            .map(|w| ("kustomize", w))
            .ok_or_else(|| "kustomize build without a directory".to_owned()),
        "kubectl" | "oc" if fk.verb() == "kustomize" => fk
            .pos
            .get(1)
            .cloned()
            .map(|w| ("kustomize", w))
            .ok_or_else(|| "kubectl kustomize without a directory".to_owned()),
        "cat" => first
            .argv
            .get(1)
            .cloned()
            .map(|w| ("manifests", w))
            .ok_or_else(|| "cat without a file".to_owned()),
        "envsubst" => match &first.stdin {
            Some(Stdin::File(w)) => Ok(("manifests", w.clone())),
            _ => Err("envsubst without a file".to_owned()),
        },
        "yq" => return yq_patch(cx, cmds, &k, text),
        p => Err(format!(
            "{p} | kubectl apply -f -: the manifests are made at run time"
        )),
    };
    let made = source.and_then(|(key, w)| {
        let (rel, real) = path(cx, &w)?;
        let files = if real.is_dir() {
            yaml_files(&real)
        } else {
            vec![real]
        };
        let value = if key == "manifests" {
            Y::Flow(Box::new(Y::List(vec![Y::s(rel)])))
        } else {
            Y::s(rel)
        };
        let mut body = vec![(key, value)];
        if subst {
            body.push(("substitute", Y::Bool(true)));
        }
        if let Some(ns) = &k.ns {
            body.push(("namespace", Y::s(ns.template())));
        }
        Ok((Y::map(body), files))
    });
    match made {
        Ok((body, files)) => {
            let verb = if k.verb() == "delete" {
                "delete"
            } else {
                "apply"
            };
            let mut s = step(verb, body, first);
            s.clusters = vec![cx.cluster(k.context.as_ref())];
            s.files = files;
            let why = if subst {
                "a manifest set piped through envsubst: `substitute: true`"
            } else {
                "manifests piped to kubectl"
            };
            if verb == "apply" {
                super::checks::flush_weights(cx, "the next change");
            }
            let idx = push(cx, s, text, why);
            if verb == "apply" {
                super::checks::applied(cx, idx);
            }
        }
        Err(why) => exec(cx, text, &first.at, &why),
    }
    true
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
        None => super::emit::exec(
            cx,
            text,
            &yq.at,
            "a yq program other than `.a.b = value` on one file",
        ),
    }
    true
}
