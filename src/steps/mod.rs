//! The step kinds. Each kind is one file (or folder) implementing
//! [`StepKind`] and [`Action`]; the list below is the only place that names
//! them all. The action keys, the schema, the loader's dispatch, `plan`,
//! `docs` and the runner are all derived from it.

use crate::model::action::{Kind, StepKind, kind};

pub mod common;
pub mod kubectl;
pub mod manifests;

/// Declares the kind modules and the registry, from one list.
macro_rules! step_kinds {
    ($($module:ident :: $kind:ident),* $(,)?) => {
        $(pub mod $module;)*

        /// Every step kind, in the order they are documented.
        pub const KINDS: &[Kind] = &[$(kind::<$module::$kind>()),*];

        /// The action keys a step may have (exactly one per step).
        pub const ACTIONS: &[&str] = &[$(<$module::$kind as StepKind>::NAME),*];
    };
}

step_kinds! {
    apply::Apply,
    delete::Delete,
    patch::Patch,
    wait::Wait,
    probe::Probe,
    get::Get,
    sleep::Sleep,
    pause::Pause,
    exec::Exec,
}

/// The registry entry of an action key.
#[must_use]
pub fn find(name: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.name == name)
}
