//! `kubectl` command lines as typed steps: apply/create, delete, get (and
//! captures in `$(...)`), wait and rollout status, patch/label/annotate/scale,
//! `--context`/`-n`/`-A`. Other verbs become `exec` with the reason.

use std::path::{Path, PathBuf};

use super::cx::{Cmd, Cx, ImportError, Stdin, relative};
use super::emit::{exec, push, step};
use super::words::Word;
use super::yaml_out::Y;

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
pub struct K {
    pub context: Option<Word>,
    pub ns: Option<Word>,
    pub all_ns: bool,
    pub pos: Vec<Word>,
    pub flags: Vec<(String, Word)>,
    pub bools: Vec<String>,
}

impl K {
    pub fn read(cmd: &Cmd) -> K {
        let mut k = K::default();
        let mut args = cmd.argv.iter().skip(1);
        while let Some(w) = args.next() {
            let text = w.concrete().unwrap_or_else(|| w.template());
            let (flag, inline) = match text.split_once('=') {
                Some((f, _)) if f.starts_with('-') => (f.to_owned(), Some(w.after_key(f))),
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

    pub fn flag(&self, names: &[&str]) -> Option<&Word> {
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

    pub fn verb(&self) -> String {
        self.pos
            .first()
            .and_then(Word::concrete)
            .unwrap_or_default()
    }

    pub fn pos_text(&self, i: usize) -> Option<String> {
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
    pub fn targets(&self, from: usize) -> Vec<Y> {
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
            apply(cx, &k, cmd)
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
pub fn path(cx: &Cx<'_>, w: &Word) -> Result<(String, PathBuf), String> {
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

/// The YAML files of a directory (not its subdirectories), sorted.
pub fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"));
    v.sort();
    v.truncate(200);
    v
}

fn apply(cx: &Cx<'_>, k: &K, cmd: &Cmd) -> Made {
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
            match &cmd.stdin {
                Some(Stdin::Heredoc { text, expand }) => {
                    body.push(("inline", Y::s(super::words::escape(text))));
                    if *expand && text.contains('$') {
                        body.push(("substitute", Y::Bool(true)));
                        why.push("an unquoted heredoc: ${VAR} substituted".to_owned());
                    }
                }
                Some(Stdin::File(w)) => manifests.push(path(cx, w)?),
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
        let (y, _, _, files) = apply(cx, k, cmd)?;
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
            body.push(("body", super::yaml_out::to_y(&v)));
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
