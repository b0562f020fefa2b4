//! `kubectl` command lines as typed steps: apply/create, delete, get (and
//! captures in `$(...)`), wait and rollout status, patch/label/annotate/scale,
//! `--context`/`-n`/`-A`. Other verbs become `exec` with the reason.

use std::path::{Path, PathBuf};

use super::expand::{Val, Word};
use super::steps::{Cmd, Stdin, exec, push, step};
use super::yaml_out::Y;
use super::{Cx, ImportError};

const VALUE_FLAGS: &[&str] = &[
    "-n",
    "--namespace",
    "--context",
    "--kubeconfig",
    "-f",
    "--filename",
    "-k",
    "--kustomize",
    "-l",
    "--selector",
    "-o",
    "--output",
    "-p",
    "--patch",
    "--type",
    "--for",
    "--timeout",
    "--field-manager",
    "--replicas",
    "-c",
    "--container",
    "--cluster",
    "--user",
    "-s",
    "--server",
];

const CLUSTER_SCOPED: &[&str] = &[
    "ns",
    "namespace",
    "namespaces",
    "no",
    "node",
    "nodes",
    "crd",
    "crds",
    "customresourcedefinition",
    "customresourcedefinitions",
    "clusterrole",
    "clusterroles",
    "clusterrolebinding",
    "clusterrolebindings",
    "pv",
    "persistentvolume",
    "persistentvolumes",
    "sc",
    "storageclass",
    "storageclasses",
];

/// A kubectl command line, read.
#[derive(Debug, Default)]
struct K {
    context: Option<Word>,
    ns: Option<Word>,
    all_ns: bool,
    pos: Vec<Word>,
    flags: Vec<(String, Word)>,
    bools: Vec<String>,
}

impl K {
    fn read(cmd: &Cmd) -> K {
        let mut k = K::default();
        let mut args = cmd.argv.iter().skip(1);
        while let Some(w) = args.next() {
            let text = w.concrete().unwrap_or_else(|| w.template());
            let (flag, inline) = match text.split_once('=') {
                Some((f, _)) if f.starts_with('-') => (f.to_owned(), Some(strip(w, f))),
                _ => (text.clone(), None),
            };
            if !flag.starts_with('-') || flag == "-" {
                k.pos.push(w.clone());
                continue;
            }
            let value = if VALUE_FLAGS.contains(&flag.as_str()) {
                inline.or_else(|| args.next().cloned())
            } else {
                inline
            };
            match (flag.as_str(), value) {
                ("--context", Some(v)) => k.context = Some(v),
                ("-n" | "--namespace", Some(v)) => k.ns = Some(v),
                ("-A" | "--all-namespaces", _) => k.all_ns = true,
                (f, Some(v)) => k.flags.push((f.to_owned(), v)),
                (f, None) => k.bools.push(f.to_owned()),
            }
        }
        k
    }

    fn flag(&self, names: &[&str]) -> Option<&Word> {
        self.flags
            .iter()
            .find(|(f, _)| names.contains(&f.as_str()))
            .map(|(_, v)| v)
    }

    fn all(&self, names: &[&str]) -> Vec<&Word> {
        self.flags
            .iter()
            .filter(|(f, _)| names.contains(&f.as_str()))
            .map(|(_, v)| v)
            .collect()
    }

    fn has(&self, name: &str) -> bool {
        self.bools
            .iter()
            .any(|b| b == name || b.starts_with(&format!("{name}=")))
    }

    fn verb(&self) -> String {
        self.pos
            .first()
            .and_then(Word::concrete)
            .unwrap_or_default()
    }

    fn pos_text(&self, i: usize) -> Option<String> {
        self.pos
            .get(i)
            .map(|w| w.concrete().unwrap_or_else(|| w.template()))
    }

    /// A resource selector of `kind` (and `name`), in this command's namespace.
    fn resource(&self, kind: &str, name: Option<&str>) -> Vec<(&'static str, Y)> {
        let mut r = vec![("kind", Y::s(kind))];
        let kind_only = kind.split('/').next().unwrap_or(kind).to_ascii_lowercase();
        if let Some(ns) = &self.ns
            && !self.all_ns
            && !CLUSTER_SCOPED.contains(&kind_only.as_str())
        {
            r.push(("namespace", Y::s(ns.template())));
        }
        if let Some(n) = name {
            r.push(("name", Y::s(n)));
        }
        if let Some(l) = self.flag(&["-l", "--selector"]) {
            r.push(("labels", Y::s(l.template())));
        }
        r
    }

    /// The objects named after the verb: `TYPE NAME...`, `TYPE/NAME...`, `TYPE1,TYPE2`.
    fn targets(&self, from: usize) -> Vec<Y> {
        let Some(first) = self.pos_text(from) else {
            return Vec::new();
        };
        if first.contains('/') {
            return (from..self.pos.len())
                .filter_map(|i| self.pos_text(i))
                .map(|t| Y::Flow(Box::new(Y::Map(to_pairs(self.resource(&t, None))))))
                .collect();
        }
        let names: Vec<String> = (from + 1..self.pos.len())
            .filter_map(|i| self.pos_text(i))
            .collect();
        let mut out = Vec::new();
        for kind in first.split(',') {
            if names.is_empty() {
                out.push(Y::Flow(Box::new(Y::Map(to_pairs(
                    self.resource(kind, None),
                )))));
            }
            for n in &names {
                out.push(Y::Flow(Box::new(Y::Map(to_pairs(
                    self.resource(kind, Some(n)),
                )))));
            }
        }
        out
    }
}

fn to_pairs(v: Vec<(&str, Y)>) -> Vec<(String, Y)> {
    v.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// `--flag=value` written as one word: the value part.
fn strip(w: &Word, flag: &str) -> Word {
    let mut parts = w.0.clone();
    if let Some(Val::Lit(first)) = parts.first_mut()
        && let Some(rest) = first.strip_prefix(&format!("{flag}="))
    {
        *first = rest.to_owned();
    }
    Word(
        parts
            .into_iter()
            .filter(|p| *p != Val::Lit(String::new()))
            .collect(),
    )
}

/// Whether the command applies what it reads on stdin (`-f -`).
#[must_use]
pub fn reads_stdin(cmd: &Cmd) -> bool {
    let k = K::read(cmd);
    matches!(k.verb().as_str(), "apply" | "create" | "delete")
        && k.all(&["-f", "--filename"])
            .iter()
            .any(|w| w.concrete().as_deref() == Some("-"))
}

/// Maps one kubectl command (with the pipeline's later commands, if any).
pub fn map(cx: &mut Cx<'_>, cmd: &Cmd, rest: Option<&[Cmd]>) -> Result<(), ImportError> {
    let k = K::read(cmd);
    let verb = k.verb();
    let cluster = cx.cluster(k.context.as_ref());
    let made = match verb.as_str() {
        "apply" | "create" if !k.all(&["-f", "--filename", "-k", "--kustomize"]).is_empty() => {
            apply(cx, &k, cmd, None)
        }
        "create" if matches!(k.pos_text(1).as_deref(), Some("namespace" | "ns")) => {
            let name = k.pos_text(2).unwrap_or_default();
            let inline = format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n");
            Ok((
                Y::map(vec![("inline", Y::s(inline))]),
                "apply",
                "kubectl create namespace: apply of a Namespace".to_owned(),
                Vec::new(),
            ))
        }
        "delete" => delete(cx, &k, cmd),
        "get" => get(&k, rest),
        "wait" => wait(&k, cmd),
        "rollout" if k.pos_text(1).as_deref() == Some("status") => rollout(&k, cmd),
        "patch" | "label" | "annotate" | "scale" => patch(&k, &verb),
        "config" if k.pos_text(1).as_deref() == Some("use-context") => {
            cx.current = k.pos.get(2).and_then(|w| w.single().cloned());
            cx.report.understood(
                &cmd.at,
                &cmd.text,
                "selects the cluster of the kubectl commands after it",
            );
            return Ok(());
        }
        _ => Err(format!("kubectl {verb}: no step kind does what it does")),
    };
    match made {
        Ok((body, action, why, files)) => {
            let mut s = step(action, body, cmd);
            s.name = hint(&k, &verb);
            s.clusters = vec![cluster];
            s.files = files;
            if let Some(t) = k
                .flag(&["--timeout"])
                .and_then(Word::concrete)
                .filter(|t| t.ends_with('s') || t.ends_with('m'))
            {
                s.timeout = Some(t);
            }
            if action == "apply" {
                super::checks::flush_weights(cx, "the next change");
            }
            let idx = push(cx, s, &cmd.text, &why);
            if action == "apply" {
                super::checks::applied(cx, idx);
            }
        }
        Err(why) => exec(cx, &cmd.text, &cmd.at, &why),
    }
    Ok(())
}

/// A name for the step: the verb and what it acts on (`get-vs-gw`, `apply-green`).
fn hint(k: &K, verb: &str) -> String {
    let file = k
        .all(&["-f", "--filename", "-k", "--kustomize"])
        .last()
        .and_then(|w| w.concrete())
        .filter(|f| f != "-")
        .map(|f| {
            let p = Path::new(f.trim_end_matches('/'));
            p.file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_default()
        });
    let what = file
        .or_else(|| k.pos_text(if verb == "rollout" { 2 } else { 1 }))
        .unwrap_or_default();
    format!("{verb}-{what}")
}

type Made = Result<(Y, &'static str, String, Vec<PathBuf>), String>;

/// A path of the chapter: relative to the playbook, and where it really is.
fn path(cx: &Cx<'_>, w: &Word) -> Result<(String, PathBuf), String> {
    let p = w
        .concrete()
        .ok_or_else(|| w.unknown().unwrap_or_default())?;
    if p.starts_with("http://") || p.starts_with("https://") {
        return Err("a manifest from a URL: steps read files under the root".to_owned());
    }
    let real = std::fs::canonicalize(cx.cwd.join(&p))
        .map_err(|_| format!("`{p}` is not under the root"))?;
    if !real.starts_with(&cx.root) {
        return Err(format!("`{p}` is outside the root: give a wider --root"));
    }
    Ok((relative(&cx.out_dir, &real), real))
}

/// `to` relative to the directory `from` (both absolute).
#[must_use]
pub fn relative(from: &Path, to: &Path) -> String {
    let a: Vec<_> = from.components().collect();
    let b: Vec<_> = to.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = vec!["..".to_owned(); a.len() - common];
    parts.extend(
        b[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().to_string()),
    );
    if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    }
}

/// The YAML files of a directory (not its subdirectories), sorted.
fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"));
    v.sort();
    v.truncate(200);
    v
}

fn apply(cx: &Cx<'_>, k: &K, cmd: &Cmd, pipe: Option<(Y, bool)>) -> Made {
    let mut body = Vec::new();
    let mut files = Vec::new();
    let mut why = vec!["kubectl apply".to_owned()];
    if let Some(d) = k.flag(&["-k", "--kustomize"]) {
        let (rel, real) = path(cx, d)?;
        files.extend(yaml_files(&real));
        body.push(("kustomize", Y::s(rel)));
    }
    let mut manifests = Vec::new();
    for f in k.all(&["-f", "--filename"]) {
        if f.concrete().as_deref() == Some("-") {
            match (&pipe, &cmd.stdin) {
                (Some((y, subst)), _) => {
                    body.push(if matches!(y, Y::Str(_)) && !subst {
                        ("kustomize", y.clone())
                    } else {
                        ("kustomize", y.clone())
                    });
                }
                (None, Some(Stdin::Heredoc { text, expand })) => {
                    body.push(("inline", Y::s(super::expand::escape(text))));
                    if *expand && text.contains('$') {
                        body.push(("substitute", Y::Bool(true)));
                        why.push("an unquoted heredoc: ${VAR} substituted".to_owned());
                    }
                }
                (None, Some(Stdin::File(w))) => manifests.push(path(cx, w)?),
                _ => return Err("kubectl apply -f - with input the import cannot read".to_owned()),
            }
            continue;
        }
        let (rel, real) = path(cx, f)?;
        if real.is_dir() {
            if real.join("kustomization.yaml").exists() {
                why.push(
                    "a directory with a kustomization: applied as kubectl does, file by file"
                        .to_owned(),
                );
            }
            files.extend(yaml_files(&real));
            manifests.push((format!("{rel}/*.yaml"), real));
        } else {
            files.push(real.clone());
            manifests.push((rel, real));
        }
    }
    if !manifests.is_empty() {
        body.push((
            "manifests",
            Y::Flow(Box::new(Y::List(
                manifests.into_iter().map(|(r, _)| Y::s(r)).collect(),
            ))),
        ));
    }
    if let Some(ns) = &k.ns {
        body.push(("namespace", Y::s(ns.template())));
    }
    if k.has("--force-conflicts") {
        body.push(("force", Y::Bool(true)));
    }
    if let Some(m) = k.flag(&["--field-manager"]).and_then(Word::concrete) {
        body.push(("fieldManager", Y::s(m)));
    }
    if k.has("--server-side") {
        why.push("--server-side (every apply of scenario is)".to_owned());
    }
    if k.has("--dry-run") {
        return Err("kubectl apply --dry-run: shows, changes nothing".to_owned());
    }
    Ok((Y::map(body), "apply", why.join("; "), files))
}

fn delete(cx: &Cx<'_>, k: &K, cmd: &Cmd) -> Made {
    let has_files = !k.all(&["-f", "--filename", "-k", "--kustomize"]).is_empty();
    let (mut body, files) = if has_files {
        let (y, _, _, files) = apply(cx, k, cmd, None)?;
        let Y::Map(pairs) = y else {
            return Err("delete".into());
        };
        (
            pairs
                .into_iter()
                .filter(|(k, _)| k != "force" && k != "fieldManager")
                .collect::<Vec<_>>(),
            files,
        )
    } else {
        let targets = k.targets(1);
        if targets.is_empty() {
            return Err("kubectl delete without objects".to_owned());
        }
        (vec![("resources".to_owned(), Y::List(targets))], Vec::new())
    };
    if k.has("--wait=false") {
        body.push(("wait".to_owned(), Y::Bool(false)));
    }
    let _ = files;
    Ok((
        Y::Map(body),
        "delete",
        "kubectl delete: waits until the objects are gone".to_owned(),
        Vec::new(),
    ))
}

fn get(k: &K, rest: Option<&[Cmd]>) -> Made {
    let targets = k.targets(1);
    if targets.is_empty() {
        return Err("kubectl get without a kind".to_owned());
    }
    let mut why = "kubectl get: shows the objects as a table".to_owned();
    if let Some(rest) = rest.filter(|r| !r.is_empty()) {
        why.push_str(&format!(
            "; `| {}` filters what the reader sees",
            rest[0].program()
        ));
    }
    Ok((
        Y::map(vec![("resources", Y::List(targets))]),
        "get",
        why,
        Vec::new(),
    ))
}

fn wait(k: &K, _cmd: &Cmd) -> Made {
    let target = k
        .targets(1)
        .into_iter()
        .next()
        .ok_or("kubectl wait without an object")?;
    let Y::Flow(inner) = target else {
        return Err("kubectl wait".into());
    };
    let mut body = vec![("resource", Y::Flow(inner))];
    let cond = k
        .flag(&["--for"])
        .and_then(Word::concrete)
        .unwrap_or_default();
    if let Some(c) = cond.strip_prefix("condition=") {
        let (t, status) = c.split_once('=').map_or((c, "True"), |(t, s)| {
            (
                t,
                if s.eq_ignore_ascii_case("false") {
                    "False"
                } else {
                    "True"
                },
            )
        });
        body.push((
            "condition",
            Y::flow(vec![("type", Y::s(t)), ("status", Y::s(status))]),
        ));
    } else if cond == "delete" {
        body.push(("for", Y::s("deleted")));
    } else if let Some(j) = cond.strip_prefix("jsonpath=") {
        let (path, value) = match j.rsplit_once('=') {
            Some((p, v)) if p.ends_with('}') => (p, Some(v)),
            _ => (j, None),
        };
        let check = match value {
            Some(v) => Y::flow(vec![("path", Y::s(path)), ("equals", Y::s(v))]),
            None => Y::flow(vec![("path", Y::s(path)), ("exists", Y::Bool(true))]),
        };
        body.push(("jsonpath", Y::List(vec![check])));
    } else if !cond.is_empty() {
        return Err(format!(
            "kubectl wait --for={cond}: not a condition the import reads"
        ));
    }
    Ok((
        Y::map(body),
        "wait",
        "kubectl wait: watches until the condition holds".to_owned(),
        Vec::new(),
    ))
}

fn rollout(k: &K, _cmd: &Cmd) -> Made {
    let target = k
        .targets(2)
        .into_iter()
        .next()
        .ok_or("kubectl rollout status without an object")?;
    let body = vec![
        ("resource", target),
        (
            "condition",
            Y::flow(vec![("type", Y::s("Available")), ("status", Y::s("True"))]),
        ),
    ];
    Ok((
        Y::map(body),
        "wait",
        "kubectl rollout status: waits for the Available condition".to_owned(),
        Vec::new(),
    ))
}

fn patch(k: &K, verb: &str) -> Made {
    let (kind, name, from) = match k.pos_text(1) {
        Some(t) if t.contains('/') => {
            let (a, b) = t.split_once('/').unwrap_or_default();
            (a.to_owned(), b.to_owned(), 2)
        }
        Some(t) => (
            t,
            k.pos_text(2)
                .ok_or(format!("kubectl {verb} without a name"))?,
            3,
        ),
        None => return Err(format!("kubectl {verb} without an object")),
    };
    if k.flag(&["-l", "--selector"]).is_some() || k.has("--all") {
        return Err(format!(
            "kubectl {verb} of several objects: a patch step changes one"
        ));
    }
    let mut body = vec![(
        "resource",
        Y::Flow(Box::new(Y::Map(to_pairs(k.resource(&kind, Some(&name)))))),
    )];
    match verb {
        "patch" => {
            let p = k
                .flag(&["-p", "--patch"])
                .and_then(Word::concrete)
                .ok_or("kubectl patch without a literal -p")?;
            let v: serde_json::Value = serde_json::from_str(&p)
                .or_else(|_| serde_saphyr::from_str(&p))
                .map_err(|e| format!("the patch is not JSON or YAML: {e}"))?;
            let ty = k
                .flag(&["--type"])
                .and_then(Word::concrete)
                .unwrap_or_else(|| "strategic".to_owned());
            if ty == "json" {
                body.push(("type", Y::s("json")));
            }
            body.push(("body", super::checks::to_y(&v)));
        }
        "scale" => {
            let n = k
                .flag(&["--replicas"])
                .and_then(Word::concrete)
                .and_then(|r| r.parse::<i64>().ok())
                .ok_or("kubectl scale without a literal --replicas")?;
            body.push((
                "body",
                Y::map(vec![("spec", Y::map(vec![("replicas", Y::Int(n))]))]),
            ));
        }
        _ => {
            let key = if verb == "label" {
                "labels"
            } else {
                "annotations"
            };
            let mut pairs = Vec::new();
            for i in from..k.pos.len() {
                let t = k.pos_text(i).unwrap_or_default();
                if let Some((a, b)) = t.split_once('=') {
                    pairs.push((a.to_owned(), Y::s(b)));
                } else if let Some(a) = t.strip_suffix('-') {
                    pairs.push((a.to_owned(), Y::s("null")));
                }
            }
            if pairs.iter().any(|(_, v)| *v == Y::s("null")) {
                return Err(format!(
                    "kubectl {verb} KEY-: removing is a patch the import does not write"
                ));
            }
            body.push((
                "body",
                Y::map(vec![("metadata", Y::map(vec![(key, Y::Map(pairs))]))]),
            ));
        }
    }
    Ok((
        Y::map(body),
        "patch",
        format!("kubectl {verb}: a merge patch of one object"),
        Vec::new(),
    ))
}

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
        "yq" => return super::checks::yq_patch(cx, cmds, &k, text),
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
