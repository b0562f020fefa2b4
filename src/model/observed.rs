//! What the chapter page carries from step to step when it shows a run as
//! its reader would see it. Each step kind turns its outcomes (read back from
//! a JSON report, `model/outcome.rs`) into that view
//! (`Action::reader_view`): it knows what its commands print.

use std::collections::{BTreeSet, HashMap};

use super::outcome::Outcome;

/// What the page knows while it shows a run, step after step.
#[derive(Debug, Default)]
pub struct ReaderCx {
    /// Names of the objects the run made so far (marked `{== ==}` in later output).
    pub made: BTreeSet<String>,
    /// Each kind's apiVersion, from the playbook (kubectl names a type with its group).
    pub api_versions: HashMap<String, String>,
}

impl ReaderCx {
    /// kubectl's name of the type of `kind` (`gateway.networking.istio.io`).
    #[must_use]
    pub fn type_name(&self, kind: &str) -> String {
        let av = self.api_versions.get(kind).map_or("", String::as_str);
        super::resource::type_name(av, kind)
    }

    /// A table row, marked when it names an object the run made.
    #[must_use]
    pub fn mark(&self, row: &str) -> String {
        let hit = row
            .split_whitespace()
            .take(2)
            .any(|w| self.made.contains(w.rsplit('/').next().unwrap_or(w)));
        if hit {
            format!("{{=={}==}}", row.trim_end())
        } else {
            row.to_owned()
        }
    }
}

/// The kind and name of an object line of apply and delete outcomes
/// (`Kind ns/name` or `Kind name`), and whether it was marked ` (absent)`.
#[must_use]
pub fn object_line(d: &str) -> Option<(&str, &str, bool)> {
    let (d, absent) = match d.strip_suffix(" (absent)") {
        Some(x) => (x, true),
        None => (d, false),
    };
    let (kind, rest) = d.split_once(' ')?;
    Some((kind, rest.rsplit('/').next().unwrap_or(rest), absent))
}

/// The outcome's detail lines as they are: the view of kinds whose commands
/// print what the step reports (exec, patch, sleep, pause).
#[must_use]
pub fn detail_lines(o: &Outcome) -> Vec<String> {
    o.details
        .iter()
        .flat_map(|d| d.lines().map(str::to_owned))
        .collect()
}
