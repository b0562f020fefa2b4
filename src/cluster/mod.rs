//! Talking to clusters: one connection per logical cluster (kubeconfig
//! context), kinds resolved by discovery (cached), transient errors retried
//! with backoff inside a deadline, and API errors turned into messages a user
//! can act on.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::discovery::Scope;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// User-Agent of every request scenario makes to an API server.
pub const USER_AGENT: &str = concat!("scenario/", env!("CARGO_PKG_VERSION"));

/// Field manager used for server-side apply.
pub const FIELD_MANAGER: &str = "scenario";

/// One resolved kind.
#[derive(Debug, Clone)]
pub struct Kind {
    pub resource: ApiResource,
    pub namespaced: bool,
}

/// A connection to one cluster.
pub struct Conn {
    pub name: String,
    pub context: String,
    pub client: kube::Client,
    pub server: String,
    /// Namespace of the context (kubectl's default), else `default`.
    pub default_namespace: String,
    kinds: Mutex<HashMap<(String, String), Kind>>,
}

/// The innermost cause of a kubeconfig error (kube's own text repeats the
/// path, quoted twice).
fn cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut inner = e;
    while let Some(s) = inner.source() {
        inner = s;
    }
    inner.to_string()
}

/// Where kubeconfig comes from: `--kubeconfig`, else `KUBECONFIG`, else `~/.kube/config`.
#[derive(Debug, Clone, Default)]
pub struct KubeconfigSource {
    pub path: Option<PathBuf>,
}

/// The context name of the pod's own service account (in-cluster mode).
pub const IN_CLUSTER: &str = "in-cluster";

/// Where a pod finds its service account (`SCENARIO_SERVICE_ACCOUNT_DIR`
/// moves it, for tests).
const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// The pod's service account as a kubeconfig of one context, `in-cluster`:
/// the API server from `KUBERNETES_SERVICE_HOST`/`_PORT`, the CA and the
/// token file (re-read as the kubelet rotates it), the pod's namespace.
/// `None` outside a pod.
fn in_cluster() -> Option<Kubeconfig> {
    let host = std::env::var("KUBERNETES_SERVICE_HOST").ok()?;
    let port = std::env::var("KUBERNETES_SERVICE_PORT").ok()?;
    if host.is_empty() || port.parse::<u16>().is_err() {
        return None;
    }
    let dir = std::env::var_os("SCENARIO_SERVICE_ACCOUNT_DIR")
        .map_or_else(|| PathBuf::from(SERVICE_ACCOUNT_DIR), PathBuf::from);
    let token = dir.join("token");
    let ca = dir.join("ca.crt");
    if !token.is_file() || !ca.is_file() {
        return None;
    }
    let namespace = std::fs::read_to_string(dir.join("namespace"))
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty() && s.len() <= 63)
        .unwrap_or_else(|| "default".to_owned());
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host
    };
    // JSON strings are YAML scalars: paths and names stay one value.
    let q = |s: &str| serde_json::Value::String(s.to_owned()).to_string();
    let yaml = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: {IN_CLUSTER}\n  cluster:\n    server: {}\n    certificate-authority: {}\nusers:\n- name: {IN_CLUSTER}\n  user:\n    tokenFile: {}\ncontexts:\n- name: {IN_CLUSTER}\n  context:\n    cluster: {IN_CLUSTER}\n    user: {IN_CLUSTER}\n    namespace: {}\n",
        q(&format!("https://{host}:{port}")),
        q(&ca.to_string_lossy()),
        q(&token.to_string_lossy()),
        q(&namespace)
    );
    Kubeconfig::from_yaml(&yaml).ok()
}

/// Whether a kubeconfig file is there to read: `KUBECONFIG` or `~/.kube/config`.
fn kubeconfig_file_exists() -> bool {
    std::env::var_os("KUBECONFIG").is_some_and(|v| !v.is_empty())
        || std::env::var_os("HOME").is_some_and(|h| PathBuf::from(h).join(".kube/config").is_file())
}

impl KubeconfigSource {
    /// The kubeconfig, with the pod's service account as the context
    /// `in-cluster` when scenario runs in a pod (a file's own context of that
    /// name wins). Without any kubeconfig file, in a pod, the service account
    /// is the only context (`true`), as kubectl does.
    fn read(&self) -> Result<(Kubeconfig, bool), ClusterError> {
        let pod = in_cluster();
        if self.path.is_none()
            && !kubeconfig_file_exists()
            && let Some(kc) = pod
        {
            return Ok((kc, true));
        }
        let mut kc = self.read_file()?;
        if let Some(pod) = pod
            && !kc.contexts.iter().any(|c| c.name == IN_CLUSTER)
        {
            kc.clusters.extend(pod.clusters);
            kc.auth_infos.extend(pod.auth_infos);
            kc.contexts.extend(pod.contexts);
        }
        Ok((kc, false))
    }

    fn read_file(&self) -> Result<Kubeconfig, ClusterError> {
        match &self.path {
            Some(p) => Kubeconfig::read_from(p).map_err(|e| {
                ClusterError::Config(format!(
                    "cannot read kubeconfig {}: {}",
                    p.display(),
                    cause(&e)
                ))
            }),
            None => Kubeconfig::read().map_err(|e| {
                ClusterError::Config(format!(
                    "cannot read kubeconfig (KUBECONFIG or ~/.kube/config): {}",
                    cause(&e)
                ))
            }),
        }
    }
}

/// Connections, made on first use and shared by the steps of a run.
pub struct Clusters {
    source: KubeconfigSource,
    /// logical name -> context
    contexts: HashMap<String, String>,
    conns: Mutex<HashMap<String, Arc<Conn>>>,
}

impl Clusters {
    #[must_use]
    pub fn new(source: KubeconfigSource, contexts: HashMap<String, String>) -> Self {
        Clusters {
            source,
            contexts,
            conns: Mutex::new(HashMap::new()),
        }
    }

    /// The connection for a logical cluster.
    ///
    /// # Errors
    /// Unknown context, unreadable kubeconfig.
    pub async fn get(&self, name: &str) -> Result<Arc<Conn>, ClusterError> {
        let mut conns = self.conns.lock().await;
        if let Some(c) = conns.get(name) {
            return Ok(c.clone());
        }
        let context = self
            .contexts
            .get(name)
            .cloned()
            .ok_or_else(|| ClusterError::Config(format!("cluster `{name}` has no context")))?;
        let (kc, only_pod) = self.source.read()?;
        // No kubeconfig, in a pod: a playbook of one cluster runs on the pod's
        // own cluster whatever its context says (as kubectl does); several
        // clusters must name theirs (`--context NAME=in-cluster`).
        let context = if only_pod && self.contexts.len() == 1 && context != IN_CLUSTER {
            tracing::info!(cluster = %name, "no kubeconfig: using the pod's service account");
            IN_CLUSTER.to_owned()
        } else {
            context
        };
        if !kc.contexts.iter().any(|c| c.name == context) {
            let names: Vec<&str> = kc.contexts.iter().map(|c| c.name.as_str()).collect();
            let hint = crate::language::diag::did_you_mean(&context, names.iter().copied())
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            return Err(ClusterError::Config(format!(
                "cluster `{name}`: context `{context}` is not in the kubeconfig (contexts: {}){hint}; set it with --context {name}=CONTEXT",
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                }
            )));
        }
        let opts = KubeConfigOptions {
            context: Some(context.clone()),
            ..KubeConfigOptions::default()
        };
        let mut config = kube::Config::from_custom_kubeconfig(kc, &opts)
            .await
            .map_err(|e| {
                ClusterError::Config(format!("cluster `{name}` (context {context}): {e}"))
            })?;
        config.connect_timeout = Some(Duration::from_secs(5));
        // One retry mechanism: `retry` below, bounded by the step's deadline.
        // The client's own retry layer (429/503/504, up to 15 times) would
        // retry inside one of our attempts, unseen and unbounded by it.
        config.default_retry = false;
        // Named in the API servers' audit logs: "which requests did this run make".
        config.headers.push((
            http::header::USER_AGENT,
            http::HeaderValue::from_static(USER_AGENT),
        ));
        config.read_timeout = Some(Duration::from_secs(30));
        let server = config.cluster_url.to_string();
        let default_namespace = config.default_namespace.clone();
        let client = kube::Client::try_from(config).map_err(|e| {
            ClusterError::Config(format!("cluster `{name}` (context {context}): {e}"))
        })?;
        let conn = Arc::new(Conn {
            name: name.to_owned(),
            context,
            client,
            server,
            default_namespace,
            kinds: Mutex::new(HashMap::new()),
        });
        conns.insert(name.to_owned(), conn.clone());
        Ok(conn)
    }
}

impl Conn {
    /// Resolves `apiVersion` + `kind` by discovery (cached). When the kind is
    /// missing but a CRD for it exists and is not yet Established, waits for it.
    ///
    /// # Errors
    /// Unknown kind (with a suggestion), unreachable cluster, deadline passed.
    pub async fn kind(
        &self,
        api_version: &str,
        kind: &str,
        deadline: Instant,
    ) -> Result<Kind, ClusterError> {
        let key = (api_version.to_owned(), kind.to_owned());
        if let Some(k) = self.kinds.lock().await.get(&key) {
            return Ok(k.clone());
        }
        if api_version.is_empty() {
            let k = self.kind_by_name(kind, deadline).await?;
            self.kinds.lock().await.insert(key, k.clone());
            return Ok(k);
        }
        let (group, version) = match api_version.split_once('/') {
            Some((g, v)) => (g.to_owned(), v.to_owned()),
            None => (String::new(), api_version.to_owned()),
        };
        let gvk = GroupVersionKind::gvk(&group, &version, kind);
        loop {
            let found = retry(deadline, &self.name, || {
                kube::discovery::pinned_kind(&self.client, &gvk)
            })
            .await;
            match found {
                Ok((ar, caps)) => {
                    let k = Kind {
                        resource: ar,
                        namespaced: matches!(caps.scope, Scope::Namespaced),
                    };
                    self.kinds.lock().await.insert(key, k.clone());
                    return Ok(k);
                }
                Err(ClusterError::UnknownKind(_) | ClusterError::Api(_)) => {
                    if self.crd_pending(&group, kind, deadline).await? {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                    return Err(self.unknown_kind(api_version, kind, deadline).await);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Resolves a name as kubectl takes it (`vs`, `virtualservice`,
    /// `virtualservices`, `VirtualService`, `virtualservices.networking.istio.io`)
    /// by discovery: the core group first, then every group's preferred version.
    async fn kind_by_name(&self, name: &str, deadline: Instant) -> Result<Kind, ClusterError> {
        let (wanted, group_filter) = match name.split_once('.') {
            Some((n, g)) => (n.to_lowercase(), Some(g.to_owned())),
            None => (name.to_lowercase(), None),
        };
        let mut lists = Vec::new();
        if group_filter.is_none() {
            let core = retry(deadline, &self.name, || {
                self.client.list_core_api_resources("v1")
            })
            .await?;
            lists.push((String::new(), core));
        }
        let groups = retry(deadline, &self.name, || self.client.list_api_groups()).await?;
        for g in &groups.groups {
            if group_filter.as_ref().is_some_and(|f| f != &g.name) {
                continue;
            }
            let Some(v) = g.preferred_version.as_ref().or_else(|| g.versions.first()) else {
                continue;
            };
            let gv = v.group_version.clone();
            if let Ok(l) = retry(deadline, &self.name, || {
                self.client.list_api_group_resources(&gv)
            })
            .await
            {
                lists.push((gv, l));
            }
        }
        let mut known = Vec::new();
        for (gv, list) in &lists {
            for r in list.resources.iter().filter(|r| !r.name.contains('/')) {
                let matches = r.name == wanted
                    || r.singular_name == wanted
                    || r.kind.to_lowercase() == wanted
                    || r.short_names.iter().flatten().any(|s| *s == wanted);
                if matches {
                    let api_version = if gv.is_empty() {
                        "v1".to_owned()
                    } else {
                        gv.clone()
                    };
                    let (group, version) = match api_version.split_once('/') {
                        Some((g, v)) => (g.to_owned(), v.to_owned()),
                        None => (String::new(), api_version.clone()),
                    };
                    let gvk = GroupVersionKind::gvk(&group, &version, &r.kind);
                    return Ok(Kind {
                        resource: ApiResource::from_gvk_with_plural(&gvk, &r.name),
                        namespaced: r.namespaced,
                    });
                }
                known.push(r.name.clone());
                known.extend(r.short_names.iter().flatten().cloned());
            }
        }
        let hint = crate::language::diag::did_you_mean(&wanted, known.iter().map(String::as_str))
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        Err(ClusterError::UnknownKind(format!(
            "no resource type `{name}` on this cluster{hint}"
        )))
    }

    /// True when a CRD defines this group/kind but is not Established yet.
    async fn crd_pending(
        &self,
        group: &str,
        kind: &str,
        deadline: Instant,
    ) -> Result<bool, ClusterError> {
        use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
        if group.is_empty() || Instant::now() >= deadline {
            return Ok(false);
        }
        let api: Api<CustomResourceDefinition> = Api::all(self.client.clone());
        let lp = kube::api::ListParams::default();
        let list = retry(deadline, &self.name, || api.list(&lp)).await?;
        Ok(list.items.iter().any(|crd| {
            crd.spec.group == group
                && crd.spec.names.kind == kind
                && !crd
                    .status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|cs| {
                        cs.iter()
                            .any(|c| c.type_ == "Established" && c.status == "True")
                    })
        }))
    }

    async fn unknown_kind(&self, api_version: &str, kind: &str, deadline: Instant) -> ClusterError {
        let list = if api_version.contains('/') {
            retry(deadline, &self.name, || {
                self.client.list_api_group_resources(api_version)
            })
            .await
        } else {
            retry(deadline, &self.name, || {
                self.client.list_core_api_resources(api_version)
            })
            .await
        };
        match list {
            Ok(l) => {
                let kinds: Vec<String> = l
                    .resources
                    .iter()
                    .filter(|r| !r.name.contains('/'))
                    .map(|r| r.kind.clone())
                    .collect();
                let hint =
                    crate::language::diag::did_you_mean(kind, kinds.iter().map(String::as_str))
                        .map(|s| format!("; did you mean `{s}`?"))
                        .unwrap_or_default();
                ClusterError::UnknownKind(format!("no kind `{kind}` in {api_version}{hint}"))
            }
            Err(_) => ClusterError::UnknownKind(format!(
                "the cluster does not serve {api_version} (is its CRD installed?)"
            )),
        }
    }

    /// An `Api` for a kind, namespaced when the kind is.
    #[must_use]
    pub fn api(&self, kind: &Kind, namespace: Option<&str>) -> Api<DynamicObject> {
        match (kind.namespaced, namespace) {
            (true, Some(ns)) => Api::namespaced_with(self.client.clone(), ns, &kind.resource),
            _ => Api::all_with(self.client.clone(), &kind.resource),
        }
    }
}

mod error;
mod retry;
pub use error::{ClusterError, classify, transient};
pub use retry::{ATTEMPT_TIMEOUT, RetryBackoff, retry};
