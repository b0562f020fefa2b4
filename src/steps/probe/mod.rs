//! `probe`: send N HTTP requests, extract values, assert on each answer, and
//! check that answers split as the weights say. `spec` reads and checks the
//! step (`split_spec` its split check, `requests` a count a template computes,
//! `defaults` every default of the probe);
//! `judge::run` renders the requests, `sampler` sends them and observes each
//! answer, `http` makes one request and reads its answer (bodies capped by
//! `maxBody`), `tally` counts,
//! and `judge` decides on the requests asked for. `split` turns answers into
//! categories, `stats` holds the sequential split test and `converge` its
//! attempts under `eventually`.

pub mod converge;
pub mod defaults;
pub mod expectations;
pub mod extract;
pub mod http;
pub mod judge;
pub mod page;
pub mod plan;
pub mod requests;
pub mod sampler;
pub mod spec;
pub mod split;
pub mod split_spec;
pub mod stats;
pub mod tally;

use std::collections::BTreeSet;

use futures::future::BoxFuture;

pub use self::spec::Probe;
use self::spec::RawProbe;
use crate::model::access::Access;
use crate::language::diag::Diagnostic;
use crate::language::yaml::Spanned;
use crate::model::action::{Action, Docs, KindRef, DocsCommand, Done, PlanCx, StepCx, StepError, StepKind, Outcome, ReaderCx};
use crate::model::validator::Validator;

impl StepKind for Probe {
    const NAME: &'static str = "probe";
    const SUMMARY: &'static str = "Send HTTP requests and assert on the answers.";
    const NEEDS_CLUSTER: bool = false;
    const DRY_RUN: crate::model::action::DryRun = crate::model::action::DryRun::NotRun;
    type Raw = RawProbe;

    fn validate(v: &mut Validator, raw: &Spanned<RawProbe>, vars: &BTreeSet<String>) -> Option<Self> {
        spec::validate(v, raw, vars)
    }
}

impl Action for Probe {
    fn captures(&self) -> Vec<String> {
        Vec::new()
    }

    fn plan(&self, pc: &PlanCx<'_>) -> Result<Vec<String>, Diagnostic> {
        Ok(self.plan_lines(pc))
    }

    fn docs(&self, pc: &PlanCx<'_>, _clusters: &[String]) -> Result<Docs, Diagnostic> {
        Ok(Docs {
            commands: vec![DocsCommand::local(self.curl_loop(pc))],
            ..Docs::default()
        })
    }

    fn reader_view(&self, o: &Outcome, _cx: &mut ReaderCx) -> Vec<String> {
        o.data
            .as_ref()
            .and_then(crate::model::step_data::StepData::probe)
            .map(|d| page::reader_view(self, d))
            .unwrap_or_default()
    }

    fn kinds(&self, _pc: &PlanCx<'_>) -> Vec<KindRef> {
        Vec::new()
    }

    fn access(&self, _pc: &PlanCx<'_>) -> Vec<Access> {
        Vec::new()
    }

    fn run<'a>(&'a self, cx: &'a StepCx<'a>) -> BoxFuture<'a, Result<Done, StepError>> {
        Box::pin(judge::run(self, cx))
    }
}
