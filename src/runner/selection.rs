//! Which steps run, and how: `--from/--until/--only/--tags/--skip-tags`,
//! dry run, exec permission, kubeconfig.

use std::path::PathBuf;

use crate::model::step::Step;

/// Which steps run (`--from`, `--until`, `--only`, `--tags`, `--skip-tags`).
/// `finally` steps always run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub from: Option<String>,
    pub until: Option<String>,
    pub only: Vec<String>,
    pub tags: Vec<String>,
    pub skip_tags: Vec<String>,
}

impl Selection {
    /// Why step `i` of `steps` is not selected, if it is not.
    #[must_use]
    pub fn excluded(&self, steps: &[Step], i: usize) -> Option<String> {
        let pos = |name: &str| steps.iter().position(|s| s.name == name);
        let step = &steps[i];
        if let Some(f) = self.from.as_deref().and_then(pos)
            && i < f
        {
            return Some(format!("before --from {}", steps[f].name));
        }
        if let Some(u) = self.until.as_deref().and_then(pos)
            && i > u
        {
            return Some(format!("after --until {}", steps[u].name));
        }
        if !self.only.is_empty() && !self.only.contains(&step.name) {
            return Some("not in --only".to_owned());
        }
        if !self.tags.is_empty() && !step.options.tags.iter().any(|t| self.tags.contains(t)) {
            return Some(format!("no tag of --tags {}", self.tags.join(",")));
        }
        if let Some(t) = step
            .options
            .tags
            .iter()
            .find(|t| self.skip_tags.contains(t))
        {
            return Some(format!("tag `{t}` is in --skip-tags"));
        }
        None
    }
}

/// How a run behaves.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Server-side dry run for every apply/delete; print what would change.
    pub dry_run: bool,
    /// Allow `exec` steps.
    pub allow_exec: bool,
    pub kubeconfig: Option<PathBuf>,
    /// Stdin is a terminal (enables `pause`).
    pub interactive: bool,
    pub selection: Selection,
    /// The pre-flight's budget per cluster (`--preflight-timeout`; `None`:
    /// the default, 20s).
    pub preflight_timeout: Option<std::time::Duration>,
}
