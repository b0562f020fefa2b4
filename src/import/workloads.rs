//! What each version of an application answers with, read from its workload
//! manifests. A routing object names a destination by its subset or version
//! (`canary`), while the application's answers carry a value of its own
//! (`color: yellow`): the split check must count the value the answers
//! carry. The manifests the chapter applies are read first, then the
//! Kubernetes manifests under the root (bounded: the application is usually
//! deployed by an earlier chapter of the same repository). Nothing is run.
//!
//! A destination is matched to the workloads (Deployment, StatefulSet,
//! DaemonSet, ReplicaSet, Job, CronJob, Pod, Argo Rollout) whose pod labels
//! hold its subset's labels (a Gloo `subset: {version: canary}`, an Istio
//! subset's labels from its DestinationRule, else `version: <subset>`, or a
//! Gateway API backend's Service selector), in its namespace when both say
//! one. The environment variable that carries the answer field is learned
//! from the page: the answer shown for one version (`color: blue`) names the
//! variable whose value is `blue` in that version's workload; failing that, a
//! variable named after the field (`COLOR`, `BLUE_GREEN_CANARY_COLOR`).

use std::path::{Path, PathBuf};

use serde_json::Value;

/// At most this many directory entries are looked at under the root.
const MAX_ENTRIES: usize = 4000;
/// At most this many YAML files are read, each at most this big, this deep.
const MAX_FILES: usize = 400;
const MAX_BYTES: u64 = 1024 * 1024;
const MAX_DEPTH: usize = 8;
/// At most this many documents are kept.
const MAX_DOCS: usize = 4000;

/// The Kubernetes objects read: (file shown relative to the root, object).
#[derive(Default)]
pub struct Catalog {
    docs: Vec<(String, Value)>,
}

/// One workload: its pod labels, namespace and environment.
struct Workload<'a> {
    file: &'a str,
    kind: &'a str,
    name: &'a str,
    namespace: Option<&'a str>,
    labels: &'a serde_json::Map<String, Value>,
    /// (variable, value) of every container, values from ConfigMaps resolved.
    env: Vec<(String, Option<String>)>,
}

/// What a destination is: the labels its pods carry, its service, its namespace.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Dest {
    pub labels: Vec<(String, String)>,
    pub service: Option<String>,
    pub namespace: Option<String>,
}

impl Catalog {
    /// Reads the files the chapter applied, then the YAML files under `root`.
    #[must_use]
    pub fn read(root: &Path, applied: &[PathBuf]) -> Catalog {
        let mut files: Vec<PathBuf> = applied.to_vec();
        let mut seen = 0usize;
        walk(root, 0, &mut seen, &mut files);
        let mut cat = Catalog::default();
        let mut done: Vec<PathBuf> = Vec::new();
        for f in files {
            if done.contains(&f) || done.len() >= MAX_FILES || cat.docs.len() >= MAX_DOCS {
                continue;
            }
            done.push(f.clone());
            let small =
                std::fs::symlink_metadata(&f).is_ok_and(|m| m.is_file() && m.len() <= MAX_BYTES);
            let Some(text) = small.then(|| std::fs::read_to_string(&f).ok()).flatten() else {
                continue;
            };
            let shown = f
                .strip_prefix(root)
                .map_or_else(|_| f.display().to_string(), |p| p.display().to_string());
            for doc in text.split("\n---") {
                if cat.docs.len() >= MAX_DOCS {
                    break;
                }
                if let Ok(v) = serde_saphyr::from_str::<Value>(doc)
                    && v.get("kind").is_some_and(Value::is_string)
                {
                    cat.docs.push((shown.clone(), v));
                }
            }
        }
        cat
    }

    /// What a routing destination (`{kubeService: {...}, weight}`, `{destination:
    /// {host, subset}, weight}`, `{name, weight}`) selects.
    #[must_use]
    pub fn dest(&self, d: &Value) -> Dest {
        let mut out = Dest::default();
        let svc = d
            .get("kubeService")
            .or_else(|| d.get("destination"))
            .unwrap_or(d);
        let name = svc
            .get("name")
            .or_else(|| svc.get("host"))
            .and_then(Value::as_str)
            .map(|h| h.split('.').next().unwrap_or(h).to_owned());
        out.namespace = svc
            .get("namespace")
            .and_then(Value::as_str)
            .map(str::to_owned);
        match svc.get("subset") {
            Some(Value::Object(m)) => {
                for (k, v) in m {
                    if let Some(v) = v.as_str() {
                        out.labels.push((k.clone(), v.to_owned()));
                    }
                }
            }
            Some(Value::String(subset)) => {
                out.labels = self
                    .subset_labels(name.as_deref(), subset)
                    .unwrap_or_else(|| vec![("version".to_owned(), subset.clone())]);
            }
            _ => {}
        }
        if let Some(n) = &name
            && let Some(sel) = self.service_selector(n, out.namespace.as_deref())
        {
            for (k, v) in sel {
                if !out.labels.iter().any(|(a, _)| *a == k) {
                    out.labels.push((k, v));
                }
            }
        }
        out.service = name;
        out
    }

    /// The labels of an Istio subset, from a DestinationRule of that host.
    fn subset_labels(&self, host: Option<&str>, subset: &str) -> Option<Vec<(String, String)>> {
        self.docs.iter().find_map(|(_, v)| {
            if v["kind"] != "DestinationRule" {
                return None;
            }
            let h = v.pointer("/spec/host").and_then(Value::as_str)?;
            if host.is_some_and(|x| h.split('.').next() != Some(x)) {
                return None;
            }
            let s = v
                .pointer("/spec/subsets")?
                .as_array()?
                .iter()
                .find(|s| s["name"] == subset)?;
            Some(strings(s.get("labels")?))
        })
    }

    fn service_selector(&self, name: &str, ns: Option<&str>) -> Option<Vec<(String, String)>> {
        self.docs.iter().find_map(|(_, v)| {
            let same_ns = match (ns, v.pointer("/metadata/namespace").and_then(Value::as_str)) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            };
            (v["kind"] == "Service"
                && v.pointer("/metadata/name") == Some(&Value::from(name))
                && same_ns)
                .then(|| v.pointer("/spec/selector").map(strings))
                .flatten()
        })
    }

    /// The workloads a destination selects (by pod labels, then namespace).
    fn workloads(&self, dest: &Dest) -> Vec<Workload<'_>> {
        if dest.labels.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        for (file, v) in &self.docs {
            let Some(w) = self.workload(file, v) else {
                continue;
            };
            let holds = dest
                .labels
                .iter()
                .all(|(k, val)| w.labels.get(k).and_then(Value::as_str) == Some(val.as_str()));
            let app = ["app", "app.kubernetes.io/name"]
                .iter()
                .find_map(|k| w.labels.get(*k).and_then(Value::as_str));
            let same_app = match (&dest.service, app) {
                (Some(s), Some(a)) => s == a || dest.labels.iter().any(|(k, _)| k == "app"),
                _ => true,
            };
            let same_ns = match (&dest.namespace, w.namespace) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            };
            if holds && same_app && same_ns {
                out.push(w);
            }
        }
        out
    }

    fn workload<'a>(&'a self, file: &'a str, v: &'a Value) -> Option<Workload<'a>> {
        let kind = v["kind"].as_str()?;
        let template = match kind {
            "Pod" => v,
            "CronJob" => v.pointer("/spec/jobTemplate/spec/template")?,
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" | "Rollout" => {
                v.pointer("/spec/template")?
            }
            _ => return None,
        };
        let labels = template
            .pointer("/metadata/labels")
            .or_else(|| v.pointer("/metadata/labels"))?
            .as_object()?;
        let namespace = v.pointer("/metadata/namespace").and_then(Value::as_str);
        let mut env = Vec::new();
        for c in template
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .take(64)
        {
            for from in c
                .get("envFrom")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(cm) = from.pointer("/configMapRef/name").and_then(Value::as_str) {
                    for (k, val) in self.config_map(cm, namespace).into_iter().flatten() {
                        env.push((k.clone(), val.as_str().map(str::to_owned)));
                    }
                }
            }
            for e in c
                .get("env")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .take(256)
            {
                let Some(name) = e.get("name").and_then(Value::as_str) else {
                    continue;
                };
                let value = match e.get("value") {
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(Value::Number(n)) => Some(n.to_string()),
                    Some(Value::Bool(b)) => Some(b.to_string()),
                    _ => e.pointer("/valueFrom/configMapKeyRef").and_then(|r| {
                        let cm = self.config_map(r.get("name")?.as_str()?, namespace)?;
                        cm.get(r.get("key")?.as_str()?)?.as_str().map(str::to_owned)
                    }),
                };
                env.push((name.to_owned(), value));
            }
        }
        Some(Workload {
            file,
            kind,
            name: v
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("?"),
            namespace,
            labels,
            env,
        })
    }

    fn config_map(&self, name: &str, ns: Option<&str>) -> Option<&serde_json::Map<String, Value>> {
        self.docs.iter().find_map(|(_, v)| {
            let same_ns = match (ns, v.pointer("/metadata/namespace").and_then(Value::as_str)) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            };
            (v["kind"] == "ConfigMap"
                && v.pointer("/metadata/name") == Some(&Value::from(name))
                && same_ns)
                .then(|| v.get("data").and_then(Value::as_object))
                .flatten()
        })
    }

    /// The variable that carries answer field `field`: the one whose value
    /// in the workloads of the destinations is a value the page showed for
    /// the field (`values`), else the one named after the field (not after a
    /// longer field of the same answer, `others`).
    #[must_use]
    pub fn variable(
        &self,
        field: &str,
        values: &[String],
        dests: &[Dest],
        others: &[String],
    ) -> Option<String> {
        let named = |n: &str| {
            named_after(n, field)
                && !others
                    .iter()
                    .any(|o| o.len() > field.len() && named_after(n, o))
        };
        let mut learned = self.carrying(values, dests);
        if learned.len() > 1 {
            learned.retain(|n| named(n));
        }
        if let [one] = learned.as_slice() {
            return Some(one.clone());
        }
        let mut names: Vec<String> = dests
            .iter()
            .flat_map(|d| self.workloads(d))
            .flat_map(|w| w.env.into_iter().map(|(n, _)| n))
            .filter(|n| named(n))
            .collect();
        names.sort();
        names.dedup();
        (names.len() == 1).then(|| names.remove(0))
    }

    /// Names of the variables whose value, in a workload of `dests`, is one of `values`.
    #[must_use]
    pub fn carrying(&self, values: &[String], dests: &[Dest]) -> Vec<String> {
        let mut names: Vec<String> = dests
            .iter()
            .flat_map(|d| self.workloads(d))
            .flat_map(|w| w.env.into_iter())
            .filter(|(_, v)| v.as_ref().is_some_and(|v| values.contains(v)))
            .map(|(n, _)| n)
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// The value variable `var` has in the workloads `dest` selects, and where
    /// it was read; or why it is not known.
    pub fn value(&self, dest: &Dest, var: &str) -> Result<(String, String), String> {
        let ws = self.workloads(dest);
        if ws.is_empty() {
            let labels: Vec<String> = dest
                .labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            return Err(format!(
                "no workload manifest with the labels {} was found",
                if labels.is_empty() {
                    "(none)".to_owned()
                } else {
                    labels.join(",")
                }
            ));
        }
        let mut found: Vec<(String, String)> = Vec::new();
        for w in &ws {
            if let Some((_, Some(v))) = w.env.iter().find(|(n, _)| n == var) {
                let from = format!("{var} of {} {} ({})", w.kind, w.name, w.file);
                if !found.iter().any(|(x, _)| x == v) {
                    found.push((v.clone(), from));
                }
            }
        }
        match found.as_slice() {
            [one] if plain_value(&one.0) => Ok(one.clone()),
            [] => Err(format!(
                "its workload {} {} ({}) does not set {var}",
                ws[0].kind, ws[0].name, ws[0].file
            )),
            [_] => Err(format!(
                "{var} is empty, a placeholder, a template, control characters or over 200 bytes"
            )),
            many => Err(format!(
                "its workloads set {var} to different values ({})",
                many.iter()
                    .map(|(v, _)| v.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
}

/// A value a check may compare with as written: not empty, no `$` placeholder,
/// no template markers, no control characters, at most 200 bytes.
fn plain_value(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 200
        && !v.contains('$')
        && !["{{", "{%", "{#"].iter().any(|m| v.contains(m))
        && !v.chars().any(char::is_control)
}

/// `COLOR`, `APP_COLOR`, `color` for field `color`; `TEXT_COLOR` for `textColor`.
fn named_after(var: &str, field: &str) -> bool {
    let mut snake = String::new();
    for c in field.chars() {
        if c.is_ascii_uppercase() && !snake.is_empty() {
            snake.push('_');
        }
        snake.push(c.to_ascii_uppercase());
    }
    let var = var.to_ascii_uppercase().replace('-', "_");
    !snake.is_empty() && (var == snake || var.ends_with(&format!("_{snake}")))
}

fn strings(v: &Value) -> Vec<(String, String)> {
    v.as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// YAML files under `dir` (not hidden, no symlinks), bounded.
fn walk(dir: &Path, depth: usize, seen: &mut usize, out: &mut Vec<PathBuf>) {
    if depth > MAX_DEPTH || out.len() >= MAX_FILES {
        return;
    }
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = Vec::new();
    for e in rd.filter_map(Result::ok) {
        *seen += 1;
        if *seen > MAX_ENTRIES {
            break;
        }
        entries.push(e.path());
    }
    entries.sort();
    for p in entries {
        let hidden = p
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.') || n == "node_modules");
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if hidden || meta.file_type().is_symlink() {
            continue;
        }
        if meta.is_dir() {
            walk(&p, depth + 1, seen, out);
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") && out.len() < MAX_FILES
        {
            out.push(p);
        }
    }
}
