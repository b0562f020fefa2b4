//! Programs scenario runs on the user's machine, other than a step's own
//! `exec` command: today `kubectl kustomize`. The model never spawns a
//! process; validation, the page and the run ask this layer.

pub mod kustomize;
