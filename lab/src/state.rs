//! The lab's state file (`lab.json`) and its error type.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A lab error: what failed, and what to look at.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("{0}")]
    Msg(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> LabError {
    let what = what.into();
    move |source| LabError::Io { what, source }
}

/// One process the lab started.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Component {
    pub name: String,
    pub pid: u32,
    pub log: PathBuf,
    pub port: u16,
}

/// One simulated cluster.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabCluster {
    pub name: String,
    pub server: String,
    pub apiserver: Component,
    pub controller_manager: Option<Component>,
    pub audit_log: PathBuf,
}

/// What `up` wrote to `lab.json`: enough to find, use and stop the lab.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabState {
    pub dir: PathBuf,
    pub kubeconfig: PathBuf,
    pub ca_pem: String,
    pub admin_token: String,
    /// A token of a user with no RBAC rights (for permission tests).
    pub restricted_token: String,
    pub etcd: Component,
    pub clusters: Vec<LabCluster>,
}

impl LabState {
    /// Reads the state of a lab directory.
    ///
    /// # Errors
    /// No lab there, or an unreadable state file.
    pub fn load(dir: &Path) -> Result<LabState, LabError> {
        let path = dir.join("lab.json");
        let text = fs::read_to_string(&path).map_err(|_| {
            LabError::Msg(format!(
                "no lab in {} (run `scenario lab up`)",
                dir.display()
            ))
        })?;
        serde_json::from_str(&text).map_err(|e| LabError::Msg(format!("{}: {e}", path.display())))
    }

    #[must_use]
    pub fn cluster(&self, name: &str) -> Option<&LabCluster> {
        self.clusters.iter().find(|c| c.name == name)
    }

    pub(crate) fn components(&self) -> Vec<&Component> {
        let mut v: Vec<&Component> = Vec::new();
        for c in &self.clusters {
            v.extend(c.controller_manager.iter());
        }
        v.extend(self.clusters.iter().map(|c| &c.apiserver));
        v.push(&self.etcd);
        v
    }
}
