//! Where the control-plane binaries come from: envtest assets, the cache, PATH, or a build.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::state::{LabError, io};

/// The install script, embedded so that `scenario lab install` works from any directory.
pub const INSTALL_SCRIPT: &str = include_str!("install.sh");

/// Default state directory: `$XDG_STATE_HOME/scenario/lab` (or `~/.local/state/...`).
#[must_use]
pub fn default_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("scenario/lab");
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    home.join(".local/state/scenario/lab")
}

/// Cache of built binaries: `$SCENARIO_LAB_CACHE`, else `$XDG_CACHE_HOME/scenario/lab`.
#[must_use]
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("SCENARIO_LAB_CACHE").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("scenario/lab");
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    home.join(".cache/scenario/lab")
}

/// Paths of the control-plane binaries.
#[derive(Debug, Clone)]
pub struct Binaries {
    pub etcd: PathBuf,
    pub apiserver: PathBuf,
    /// Absent with envtest assets: namespaces then never finish deleting.
    pub controller_manager: Option<PathBuf>,
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|f| f.is_file())
    })
}

/// Finds the binaries: `$KUBEBUILDER_ASSETS`, then the cache, then `PATH`.
#[must_use]
pub fn find_binaries() -> Option<Binaries> {
    let in_dir = |d: &Path| -> Option<Binaries> {
        let etcd = d.join("etcd");
        let api = d.join("kube-apiserver");
        (etcd.is_file() && api.is_file()).then(|| Binaries {
            etcd,
            apiserver: api,
            controller_manager: Some(d.join("kube-controller-manager")).filter(|p| p.is_file()),
        })
    };
    if let Some(d) = std::env::var_os("KUBEBUILDER_ASSETS").filter(|d| !d.is_empty())
        && let Some(b) = in_dir(Path::new(&d))
    {
        return Some(b.with_kcm_fallback());
    }
    let cached = cache_dir().join("bin");
    if cached.join("kube-apiserver").is_file() {
        let etcd = Some(cached.join("etcd"))
            .filter(|p| p.is_file())
            .or_else(|| on_path("etcd"))?;
        return Some(Binaries {
            etcd,
            apiserver: cached.join("kube-apiserver"),
            controller_manager: Some(cached.join("kube-controller-manager"))
                .filter(|p| p.is_file()),
        });
    }
    Some(Binaries {
        etcd: on_path("etcd")?,
        apiserver: on_path("kube-apiserver")?,
        controller_manager: on_path("kube-controller-manager"),
    })
}

impl Binaries {
    fn with_kcm_fallback(mut self) -> Self {
        if self.controller_manager.is_none() {
            self.controller_manager = Some(cache_dir().join("bin/kube-controller-manager"))
                .filter(|p| p.is_file())
                .or_else(|| on_path("kube-controller-manager"));
        }
        self
    }
}

/// Runs the embedded install script (apt packages, source build, cache).
///
/// # Errors
/// The script failed (its own message says which step).
pub fn install() -> Result<Binaries, LabError> {
    eprintln!(
        "lab: control-plane binaries not found; installing and building them (about 4 minutes on 2 cores the first time, cached in {})",
        cache_dir().display()
    );
    let status = Command::new("bash")
        .arg("-c")
        .arg(INSTALL_SCRIPT)
        .arg("scenario-lab-install")
        .env("SCENARIO_LAB_CACHE", cache_dir())
        .stdout(Stdio::null())
        .status()
        .map_err(io("cannot run bash for the lab install script"))?;
    if !status.success() {
        return Err(LabError::Msg(format!(
            "the lab install script failed ({status}); see the messages above"
        )));
    }
    find_binaries().ok_or_else(|| {
        LabError::Msg("the install script finished but the binaries are still missing".into())
    })
}
