//! `pause`: stop for the reader in interactive runs ("open the browser
//! now"); skipped when not on a terminal (CI).

use schemars::JsonSchema;
use serde::Deserialize;

use std::collections::BTreeSet;

use futures::future::BoxFuture;

use crate::model::access::Access;
use crate::language::diag::Diagnostic;
use crate::language::yaml::Spanned;
use crate::model::action::{Action, Docs, KindRef, Done, PlanCx, StepCx, StepError, StepKind, Outcome, ReaderCx};
use crate::model::validator::Validator;

/// Stop until the reader presses Enter (interactive runs only).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", rename = "Pause")]
pub struct RawPause {
    /// What to tell the reader.
    pub message: Spanned<String>,
}

#[derive(Debug, Clone)]
pub struct Pause {
    pub message: String,
}

fn validate(cx: &mut Validator, raw: &Spanned<RawPause>, vars: &BTreeSet<String>) -> Option<Pause> {
    cx.template(&raw.value.message, vars)
        .then(|| Pause {
            message: raw.value.message.value.clone(),
        })
}

impl Pause {
    /// Shows the message and waits for Enter on a terminal; skipped otherwise.
    ///
    /// # Errors
    /// Template errors.
    async fn execute(&self, cx: &StepCx<'_>) -> Result<Done, StepError> {
        let msg = cx.render(&self.message)?;
        if !cx.interactive {
            return Ok(Done::msg(format!(
                "not interactive, not pausing: {msg}"
            )));
        }
        crate::outln!("{msg}\n(press Enter to continue)");
        let mut line = String::new();
        let mut stdin = tokio::io::BufReader::new(tokio::io::stdin());
        let _ = tokio::time::timeout(
            cx.left(),
            tokio::io::AsyncBufReadExt::read_line(&mut stdin, &mut line),
        )
        .await;
        Ok(Done::msg("continued"))
    }
}

impl StepKind for Pause {
    const NAME: &'static str = "pause";
    const SUMMARY: &'static str = "Stop for the reader (interactive runs only; skipped in CI).";
    const NEEDS_CLUSTER: bool = false;
    const DRY_RUN: crate::model::action::DryRun = crate::model::action::DryRun::NotRun;
    type Raw = RawPause;

    fn validate(v: &mut Validator, raw: &Spanned<RawPause>, vars: &BTreeSet<String>) -> Option<Self> {
        validate(v, raw, vars)
    }
}

impl Action for Pause {
    fn captures(&self) -> Vec<String> {
        Vec::new()
    }

    fn plan(&self, _pc: &PlanCx<'_>) -> Result<Vec<String>, Diagnostic> {
        Ok(vec![format!(
            "pause: {}",
            self.message.lines().next().unwrap_or("")
        )])
    }

    fn docs(&self, pc: &PlanCx<'_>, _clusters: &[String]) -> Result<Docs, Diagnostic> {
        Ok(Docs {
            tip: Some(pc.render(&self.message)),
            ..Docs::default()
        })
    }

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
        Box::pin(self.execute(cx))
    }
}
