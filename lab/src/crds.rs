//! The test CRDs of the chapter, written for the lab: Gloo Mesh kinds on the
//! management cluster, Istio kinds on the workload clusters.

use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::wait::{await_condition, conditions};

use crate::state::{LabError, LabState};

/// Gloo Mesh CRDs (VirtualGateway, VirtualHost, RouteTable, TrafficPolicy, VirtualMesh, AccessPolicy).
pub const GLOO_MESH: &str = include_str!("crds/gloo-mesh.yaml");
/// Istio CRDs (Gateway, VirtualService, WorkloadEntry).
pub const ISTIO: &str = include_str!("crds/istio.yaml");

/// The management cluster: the one named `mgmt`, else the first.
#[must_use]
pub fn management_cluster(state: &LabState) -> Option<&str> {
    state
        .clusters
        .iter()
        .find(|c| c.name == "mgmt")
        .or_else(|| state.clusters.first())
        .map(|c| c.name.as_str())
}

/// A client for one lab cluster (admin), through the lab's kubeconfig.
///
/// # Errors
/// Unreadable kubeconfig, unknown context.
pub async fn client(state: &LabState, cluster: &str) -> Result<kube::Client, LabError> {
    client_as(state, cluster).await
}

/// A client for a context of the lab's kubeconfig (`cluster` or `restricted@cluster`).
///
/// # Errors
/// Unreadable kubeconfig, unknown context.
pub async fn client_as(state: &LabState, context: &str) -> Result<kube::Client, LabError> {
    crate::runtime::install_crypto_provider();
    let kc = Kubeconfig::read_from(&state.kubeconfig)
        .map_err(|e| LabError::Msg(format!("kubeconfig: {e}")))?;
    let opts = KubeConfigOptions {
        context: Some(context.to_owned()),
        ..KubeConfigOptions::default()
    };
    let config = kube::Config::from_custom_kubeconfig(kc, &opts)
        .await
        .map_err(|e| LabError::Msg(format!("context {context}: {e}")))?;
    kube::Client::try_from(config).map_err(|e| LabError::Msg(format!("context {context}: {e}")))
}

/// Parses one of the embedded CRD files.
///
/// # Errors
/// Never for the embedded files (a test checks them).
pub fn parse(text: &str) -> Result<Vec<CustomResourceDefinition>, LabError> {
    let docs: Vec<serde_json::Value> =
        serde_saphyr::from_multiple(text).map_err(|e| LabError::Msg(format!("CRD YAML: {e}")))?;
    docs.into_iter()
        .map(|d| serde_json::from_value(d).map_err(|e| LabError::Msg(format!("CRD: {e}"))))
        .collect()
}

/// Applies the CRDs to every cluster and waits until they are Established.
///
/// # Errors
/// API errors, a CRD not established within 30 s.
pub async fn install(state: &LabState) -> Result<Vec<String>, LabError> {
    let mgmt = management_cluster(state).unwrap_or_default().to_owned();
    let mut lines = Vec::new();
    for c in &state.clusters {
        let (label, text) = if c.name == mgmt {
            ("Gloo Mesh", GLOO_MESH)
        } else {
            ("Istio", ISTIO)
        };
        let client = client(state, &c.name).await?;
        let api: Api<CustomResourceDefinition> = Api::all(client);
        let crds = parse(text)?;
        let pp = PatchParams::apply("scenario-lab").force();
        for crd in &crds {
            let name = crd.metadata.name.clone().unwrap_or_default();
            api.patch(&name, &pp, &Patch::Apply(crd))
                .await
                .map_err(|e| LabError::Msg(format!("{}: applying CRD {name}: {e}", c.name)))?;
        }
        for crd in &crds {
            let name = crd.metadata.name.clone().unwrap_or_default();
            tokio::time::timeout(
                Duration::from_secs(30),
                await_condition(api.clone(), &name, conditions::is_crd_established()),
            )
            .await
            .map_err(|_| {
                LabError::Msg(format!("{}: CRD {name} not established within 30s", c.name))
            })?
            .map_err(|e| LabError::Msg(format!("{}: waiting for CRD {name}: {e}", c.name)))?;
        }
        lines.push(format!(
            "{}: {} {label} CRDs established",
            c.name,
            crds.len()
        ));
    }
    Ok(lines)
}

/// [`install`] on a runtime of its own, for the CLI.
///
/// # Errors
/// As [`install`].
pub fn install_blocking(state: &LabState) -> Result<Vec<String>, LabError> {
    crate::runtime::block_on(install(state))
}
