//! `sleep`: wait a fixed time. Prefer `wait` on a condition; `sleep` exists
//! for the rare system that gives no observable signal.

use std::collections::BTreeSet;
use std::time::Duration;

use futures::future::BoxFuture;

use crate::model::access::Access;
use crate::language::diag::Diagnostic;
use crate::language::options::DurationText;
use crate::language::yaml::Spanned;
use crate::model::action::{Action, Docs, KindRef, DocsCommand, Done, PlanCx, StepCx, StepError, StepKind, Outcome, ReaderCx};
use crate::model::validator::Validator;

/// A fixed wait.
#[derive(Debug, Clone)]
pub struct Sleep(pub Duration);

impl StepKind for Sleep {
    const NAME: &'static str = "sleep";
    const SUMMARY: &'static str = "Wait a fixed time (e.g. `5s`); prefer `wait` on a condition.";
    const NEEDS_CLUSTER: bool = false;
    const DRY_RUN: crate::model::action::DryRun = crate::model::action::DryRun::NotRun;
    type Raw = DurationText;

    fn validate(v: &mut Validator, raw: &Spanned<DurationText>, _vars: &BTreeSet<String>) -> Option<Self> {
        let d = v.duration(raw)?;
        if d > v.step_timeout {
            v.error(
                raw.loc,
                format!(
                    "`sleep: {}` is longer than the step's timeout ({})",
                    raw.value.0,
                    humantime::format_duration(v.step_timeout)
                ),
            )
            .expected("a shorter sleep, or a `timeout:` on the step longer than the sleep");
            return None;
        }
        Some(Sleep(d))
    }
}

impl Action for Sleep {
    fn captures(&self) -> Vec<String> {
        Vec::new()
    }

    fn plan(&self, _pc: &PlanCx<'_>) -> Result<Vec<String>, Diagnostic> {
        Ok(vec![format!("sleep {}", humantime::format_duration(self.0))])
    }

    fn docs(&self, _pc: &PlanCx<'_>, _clusters: &[String]) -> Result<Docs, Diagnostic> {
        Ok(Docs {
            commands: vec![DocsCommand::local(format!("sleep {}", self.0.as_secs().max(1)))],
            ..Docs::default()
        })
    }

    /// Sleeps, never past the step's deadline.
    fn reader_view(&self, o: &Outcome, _cx: &mut ReaderCx) -> Vec<String> {
        crate::model::observed::detail_lines(o)
    }

    fn kinds(&self, _pc: &PlanCx<'_>) -> Vec<KindRef> {
        Vec::new()
    }

    fn access(&self, _pc: &PlanCx<'_>) -> Vec<Access> {
        Vec::new()
    }

    fn run<'a>(&'a self, cx: &'a StepCx<'a>) -> BoxFuture<'a, Result<Done, StepError>> {
        Box::pin(async move {
            tokio::time::sleep(self.0.min(cx.left())).await;
            Ok(Done::msg(format!(
                "slept {}",
                humantime::format_duration(self.0)
            )))
        })
    }
}
