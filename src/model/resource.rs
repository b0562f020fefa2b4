//! Resource selectors: which Kubernetes objects a step reads, waits for or deletes.

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::Deserialize;

use super::validator::Validator;
use crate::language::yaml::{Loc, Spanned};

/// Selects Kubernetes objects of one kind. String fields are templates.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", rename = "Resource")]
pub struct RawResource {
    /// `group/version` or `v1`, e.g. `networking.istio.io/v1alpha3`. Without it,
    /// `kind` is a name as kubectl takes it, resolved by discovery at run time.
    pub api_version: Option<Spanned<String>>,
    /// Kind, e.g. `Gateway`; without `apiVersion`, any name kubectl takes: `gw`,
    /// `gateways`, `gateways.networking.istio.io`, or `deploy/web` (kind and name).
    pub kind: Spanned<String>,
    /// Namespace (omit for cluster-scoped kinds or all namespaces).
    pub namespace: Option<Spanned<String>>,
    /// Exact name.
    pub name: Option<Spanned<String>>,
    /// Name prefix (e.g. `bgc-virtualgateway-` for generated names).
    pub name_prefix: Option<Spanned<String>>,
    /// Regular expression the whole name must match.
    pub name_regex: Option<Spanned<String>>,
    /// Label selector, e.g. `istio=ingressgateway,app!=test`.
    pub labels: Option<Spanned<String>>,
}

/// How an object's name is matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameMatch {
    Any,
    Exact(String),
    Prefix(String),
    Regex(String),
}

/// A validated resource selector (strings may still hold templates).
#[derive(Debug, Clone)]
pub struct Resource {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: NameMatch,
    pub labels: Option<String>,
    pub loc: Loc,
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.api_version.is_empty() {
            write!(f, "{}", self.kind)?;
        } else {
            write!(f, "{} {}", self.api_version, self.kind)?;
        }
        match &self.name {
            NameMatch::Any => {}
            NameMatch::Exact(n) => write!(f, " {n}")?,
            NameMatch::Prefix(p) => write!(f, " {p}*")?,
            NameMatch::Regex(r) => write!(f, " /{r}/")?,
        }
        if let Some(ns) = &self.namespace {
            write!(f, " in {ns}")?;
        }
        if let Some(l) = &self.labels {
            write!(f, " with labels {l}")?;
        }
        Ok(())
    }
}

/// Why a label value or name part is not valid, if it is not: at most 63
/// characters of `[A-Za-z0-9._-]`, starting and ending with a letter or digit.
fn label_part_problem(part: &str, what: &str) -> Option<String> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if part.len() > 63 {
        return Some(format!("{what} `{part}` is longer than 63 characters"));
    }
    if !part.chars().all(ok_char)
        || !part.starts_with(|c: char| c.is_ascii_alphanumeric())
        || !part.ends_with(|c: char| c.is_ascii_alphanumeric())
    {
        return Some(format!(
            "{what} `{part}` must be letters, digits, `-`, `_` or `.`, starting and ending with a letter or digit"
        ));
    }
    None
}

fn label_key_problem(key: &str) -> Option<String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(p) = prefix
        && (p.is_empty()
            || p.len() > 253
            || !p.split('.').all(|l| {
                !l.is_empty()
                    && l.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            }))
    {
        return Some(format!("key prefix `{p}` must be a DNS subdomain"));
    }
    if name.is_empty() {
        return Some(format!("key `{key}` has no name"));
    }
    label_part_problem(name, "key")
}

/// Why a Kubernetes label selector does not parse, if it does not
/// (`a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`).
#[must_use]
pub fn selector_problem(sel: &str) -> Option<String> {
    // Split on commas outside parentheses.
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in sel.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&sel[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        if !(0..=1).contains(&depth) {
            return Some("unbalanced parentheses".to_owned());
        }
    }
    if depth != 0 {
        return Some("unbalanced parentheses".to_owned());
    }
    parts.push(&sel[start..]);
    for req in parts {
        let req = req.trim();
        if req.is_empty() {
            return Some("an empty requirement".to_owned());
        }
        let problem = if let Some(key) = req.strip_prefix('!') {
            label_key_problem(key.trim())
        } else if let Some((key, rest)) =
            req.split_once(" notin ").or_else(|| req.split_once(" in "))
        {
            let rest = rest.trim();
            match rest.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
                Some(values) => label_key_problem(key.trim()).or_else(|| {
                    values.split(',').map(str::trim).find_map(|v| {
                        (!v.is_empty())
                            .then(|| label_part_problem(v, "value"))
                            .flatten()
                    })
                }),
                None => Some(format!(
                    "`{req}`: the values of `in`/`notin` go in parentheses"
                )),
            }
        } else if let Some((key, value)) = req
            .split_once("!=")
            .or_else(|| req.split_once("=="))
            .or_else(|| req.split_once('='))
        {
            let value = value.trim();
            label_key_problem(key.trim()).or_else(|| {
                (!value.is_empty())
                    .then(|| label_part_problem(value, "value"))
                    .flatten()
            })
        } else {
            label_key_problem(req)
        };
        if problem.is_some() {
            return problem;
        }
    }
    None
}

/// The kinds behind kubectl's well-known names (short names, singulars,
/// plurals) of built-in and Istio kinds, for showing what a name will resolve
/// to before the run. Discovery resolves every name at run time.
const WELL_KNOWN: &[(&[&str], &str, &str)] = &[
    (&["po", "pod", "pods"], "v1", "Pod"),
    (&["svc", "service", "services"], "v1", "Service"),
    (&["cm", "configmap", "configmaps"], "v1", "ConfigMap"),
    (&["ns", "namespace", "namespaces"], "v1", "Namespace"),
    (&["secret", "secrets"], "v1", "Secret"),
    (
        &["sa", "serviceaccount", "serviceaccounts"],
        "v1",
        "ServiceAccount",
    ),
    (
        &["deploy", "deployment", "deployments"],
        "apps/v1",
        "Deployment",
    ),
    (
        &["sts", "statefulset", "statefulsets"],
        "apps/v1",
        "StatefulSet",
    ),
    (&["ds", "daemonset", "daemonsets"], "apps/v1", "DaemonSet"),
    (
        &["rs", "replicaset", "replicasets"],
        "apps/v1",
        "ReplicaSet",
    ),
    (&["job", "jobs"], "batch/v1", "Job"),
    (
        &["ing", "ingress", "ingresses"],
        "networking.k8s.io/v1",
        "Ingress",
    ),
    (
        &[
            "crd",
            "crds",
            "customresourcedefinition",
            "customresourcedefinitions",
        ],
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
    ),
    (
        &[
            "vs",
            "virtualservice",
            "virtualservices",
            "virtualservices.networking.istio.io",
        ],
        "networking.istio.io/v1alpha3",
        "VirtualService",
    ),
    (
        &["gw", "gateway", "gateways", "gateways.networking.istio.io"],
        "networking.istio.io/v1alpha3",
        "Gateway",
    ),
    (
        &[
            "dr",
            "destinationrule",
            "destinationrules",
            "destinationrules.networking.istio.io",
        ],
        "networking.istio.io/v1alpha3",
        "DestinationRule",
    ),
    (
        &[
            "se",
            "serviceentry",
            "serviceentries",
            "serviceentries.networking.istio.io",
        ],
        "networking.istio.io/v1alpha3",
        "ServiceEntry",
    ),
];

/// The `(apiVersion, kind)` a kubectl name stands for, when well known.
#[must_use]
pub fn well_known(name: &str) -> Option<(&'static str, &'static str)> {
    let lower = name.to_lowercase();
    WELL_KNOWN
        .iter()
        .find(|(names, _, kind)| names.contains(&lower.as_str()) || kind.to_lowercase() == lower)
        .map(|(_, av, kind)| (*av, *kind))
}

/// Validates a resource selector.
pub fn resource(
    cx: &mut Validator,
    r: &Spanned<RawResource>,
    extra: &BTreeSet<String>,
) -> Option<Resource> {
    let before = cx.diags.len();
    let v = &r.value;
    if let Some(av) = &v.api_version
        && (av.value.trim().is_empty() || av.value.matches('/').count() > 1)
    {
        cx.error(av.loc, format!("invalid apiVersion `{}`", av.value))
            .expected("`group/version` (e.g. `networking.istio.io/v1alpha3`) or `v1`");
    }
    // `deploy/web`: kubectl's TYPE/NAME.
    let (kind_text, slash_name) = match v.kind.value.split_once('/') {
        Some((k, n)) if v.api_version.is_none() => (k.to_owned(), Some(n.to_owned())),
        _ => (v.kind.value.clone(), None),
    };
    let kind_ok = if v.api_version.is_some() {
        kind_text.chars().next().is_some_and(char::is_uppercase)
            && kind_text.chars().all(char::is_alphanumeric)
    } else {
        !kind_text.is_empty()
            && kind_text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
    };
    if !kind_ok {
        cx.error(v.kind.loc, format!("invalid kind `{}`", crate::language::limits::excerpt(&v.kind.value)))
            .expected("a kind in CamelCase with `apiVersion` (`Gateway`), or without it a name kubectl takes (`gw`, `gateways.networking.istio.io`, `deploy/web`)");
    }
    if slash_name.is_some()
        && (v.name.is_some() || v.name_prefix.is_some() || v.name_regex.is_some())
    {
        cx.error(v.kind.loc, "`kind: TYPE/NAME` already names the object")
            .expected("either `kind: deploy/web` or `kind: deploy` with `name: web`");
    }
    let names: Vec<&Spanned<String>> = [&v.name, &v.name_prefix, &v.name_regex]
        .into_iter()
        .flatten()
        .collect();
    if names.len() > 1 {
        cx.error(
            names[1].loc,
            "use only one of `name`, `namePrefix`, `nameRegex`",
        );
    }
    for s in [&v.namespace, &v.name, &v.name_prefix]
        .into_iter()
        .flatten()
    {
        cx.known_value(s, extra);
    }
    if let Some(l) = &v.labels
        && let Some(text) = cx.known_value(l, extra)
        && let Some(problem) = selector_problem(&text)
    {
        cx.error(l.loc, format!("invalid label selector `{}`: {problem}", crate::language::limits::excerpt(&text)))
            .expected("requirements separated by commas: `app=web`, `tier!=db`, `env in (a,b)`, `!legacy`, `track`");
    }
    if let Some(re) = &v.name_regex {
        cx.regex(&re.value, re.loc);
    }
    if cx.diags.len() > before {
        return None;
    }
    let name = if let Some(n) = &slash_name {
        NameMatch::Exact(n.clone())
    } else if let Some(n) = &v.name {
        NameMatch::Exact(n.value.clone())
    } else if let Some(p) = &v.name_prefix {
        NameMatch::Prefix(p.value.clone())
    } else if let Some(re) = &v.name_regex {
        NameMatch::Regex(re.value.clone())
    } else {
        NameMatch::Any
    };
    Some(Resource {
        api_version: v
            .api_version
            .as_ref()
            .map(|a| a.value.clone())
            .unwrap_or_default(),
        kind: kind_text,
        namespace: v.namespace.as_ref().map(|s| s.value.clone()),
        name,
        labels: v.labels.as_ref().map(|s| s.value.clone()),
        loc: r.loc,
    })
}

impl NameMatch {
    #[must_use]
    pub fn matches(&self, name: &str) -> bool {
        match self {
            NameMatch::Any => true,
            NameMatch::Exact(n) => n == name,
            NameMatch::Prefix(p) => name.starts_with(p.as_str()),
            NameMatch::Regex(r) => crate::language::options::compile_regex(&format!("^(?:{r})$"))
                .is_ok_and(|re| re.is_match(name)),
        }
    }
}

impl Resource {
    /// The same selector with `f` applied to its templated strings (a name
    /// regex is not a template).
    ///
    /// # Errors
    /// The first error `f` returns.
    pub fn map_templates<E>(
        &self,
        f: &mut impl FnMut(&str) -> Result<String, E>,
    ) -> Result<Resource, E> {
        let name = match &self.name {
            NameMatch::Any => NameMatch::Any,
            NameMatch::Exact(n) => NameMatch::Exact(f(n)?),
            NameMatch::Prefix(n) => NameMatch::Prefix(f(n)?),
            NameMatch::Regex(n) => NameMatch::Regex(n.clone()),
        };
        Ok(Resource {
            api_version: f(&self.api_version)?,
            kind: f(&self.kind)?,
            namespace: self.namespace.as_deref().map(&mut *f).transpose()?,
            name,
            labels: self.labels.as_deref().map(&mut *f).transpose()?,
            loc: self.loc,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::model::resource::selector_problem;

    #[test]
    fn label_selectors() {
        for ok in [
            "app=web",
            "app==web,tier!=db",
            "env in (prod, qa),!legacy,track",
            "istio=ingressgateway",
            "example.com/team=blue",
            "app=",
        ] {
            assert_eq!(selector_problem(ok), None, "{ok}");
        }
        for bad in [
            "app=we b",
            "app in prod",
            "=web",
            "a,,b",
            "env in (a",
            "-app=x",
            "Example.com/x=y",
        ] {
            assert!(selector_problem(bad).is_some(), "{bad}");
        }
    }
}

/// A kind a step names: one it reads or writes, or one its CRD defines.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum KindRef {
    Uses { api_version: String, kind: String },
    Defines { group: String, kind: String },
}

impl KindRef {
    /// The kind a resource selector names, unless a template of it is not known yet.
    #[must_use]
    pub fn of(r: &Resource) -> Vec<KindRef> {
        if [&r.api_version, &r.kind]
            .iter()
            .any(|s| s.contains('<') || s.contains("{{"))
        {
            return Vec::new();
        }
        vec![KindRef::Uses {
            api_version: r.api_version.clone(),
            kind: r.kind.clone(),
        }]
    }
}

/// kubectl's name of a type from an apiVersion and kind: the singular (the
/// kind in lower case, which the API server reports for every resource) with
/// its group, `gateway.networking.istio.io`.
#[must_use]
pub fn type_name(api_version: &str, kind: &str) -> String {
    let group = api_version.split_once('/').map(|(g, _)| g).unwrap_or("");
    let singular = kind.to_lowercase();
    if group.is_empty() {
        singular
    } else {
        format!("{singular}.{group}")
    }
}
