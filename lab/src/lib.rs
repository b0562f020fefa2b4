//! The local lab: real Kubernetes control planes on loopback.
//!
//! One etcd, and per cluster one kube-apiserver (its own etcd prefix and port)
//! plus one kube-controller-manager (namespace and garbage-collector
//! controllers). TLS with a generated CA, token auth, RBAC, an audit log per
//! API server, and a kubeconfig with one context per cluster. There is no
//! kubelet and no scheduler: Pods never run.
//!
//! This crate knows nothing of playbooks: `scenario lab` calls into it, and so
//! do the tests, the benchmarks and the mesh emulator.

pub mod binaries;
pub mod crds;
pub mod down;
pub mod pki;
pub mod process;
pub mod runtime;
pub mod state;
pub mod status;
pub mod up;

pub use binaries::{Binaries, INSTALL_SCRIPT, cache_dir, default_dir, find_binaries, install};
pub use down::{down, stop};
pub use process::{alive, log_tail, port_open};
pub use runtime::{block_on, install_crypto_provider};
pub use state::{Component, LabCluster, LabError, LabState};
pub use status::status_text;
pub use up::up;
