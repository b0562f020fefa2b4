//! Executing a validated playbook: steps in order, fan-out per cluster,
//! retries, `when`, `finally`, captures. Builds the result tree first;
//! the terminal output and (later) reports are formatters of it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value};
use tokio::time::Instant;

use crate::cluster::{ClusterError, Clusters, Conn, KubeconfigSource};
use crate::load::LoadOptions;
use crate::model::{Playbook, Step, exit};
use crate::steps::Action;
use crate::template;

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

/// Ctrl-C / SIGTERM: the first cancels the current step and skips the rest
/// (`finally` still runs); the second skips `finally` too.
#[derive(Debug, Clone)]
pub struct Interrupt(pub tokio::sync::watch::Receiver<u8>);

impl Interrupt {
    /// An interrupt that never fires.
    #[must_use]
    pub fn never() -> Self {
        let (tx, rx) = tokio::sync::watch::channel(0);
        std::mem::forget(tx);
        Interrupt(rx)
    }

    #[must_use]
    pub fn count(&self) -> u8 {
        *self.0.borrow()
    }

    /// Resolves once at least `n` signals have arrived.
    pub async fn reached(&self, n: u8) {
        let mut rx = self.0.clone();
        let _ = rx.wait_for(|c| *c >= n).await;
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
}

/// The verdict of a step, a cluster's part of it, or a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Passed,
    Skipped,
    /// An assertion did not hold (the system under test is wrong).
    Failed,
    /// The step could not make its check (cluster, network, I/O).
    Errored,
}

impl Status {
    /// Failed or errored: the step did not pass.
    #[must_use]
    pub fn is_failure(self) -> bool {
        matches!(self, Status::Failed | Status::Errored)
    }

    #[must_use]
    pub fn word(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Skipped => "skipped",
            Status::Failed => "FAILED",
            Status::Errored => "ERROR",
        }
    }
}

/// What one action did on one cluster (or without a cluster).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Outcome {
    pub cluster: Option<String>,
    pub status: Status,
    /// One line: what happened.
    pub message: String,
    /// The diagnosis or the output worth showing (tables, diffs, last state).
    pub details: Vec<String>,
    #[serde(serialize_with = "secs")]
    #[schemars(with = "f64")]
    pub duration: Duration,
    /// Values captured for later steps.
    pub captures: Map<String, Value>,
    /// Step-specific data for reports (e.g. a probe's observations).
    pub data: Option<Value>,
}

impl Outcome {
    /// The outcome's message, prefixed by its cluster (`cluster1: applied 2 objects`).
    #[must_use]
    pub fn headline(&self) -> String {
        match &self.cluster {
            Some(c) => format!("{c}: {}", self.message),
            None => self.message.clone(),
        }
    }
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// What an action returns: success with a message, or a failure/error.
#[derive(Debug, Clone, Default)]
pub struct Done {
    pub message: String,
    pub details: Vec<String>,
    pub captures: Map<String, Value>,
    pub data: Option<Value>,
}

impl Done {
    #[must_use]
    pub fn msg(message: impl Into<String>) -> Self {
        Done {
            message: message.into(),
            ..Done::default()
        }
    }
}

/// Why an action did not pass.
#[derive(Debug, Clone)]
pub enum StepError {
    /// An expectation did not hold; with the diagnosis.
    Failed {
        message: String,
        details: Vec<String>,
        data: Option<Value>,
    },
    /// The check could not be made.
    Errored(String),
}

impl StepError {
    #[must_use]
    pub fn failed(message: impl Into<String>, details: Vec<String>) -> Self {
        StepError::Failed {
            message: message.into(),
            details,
            data: None,
        }
    }
}

impl From<ClusterError> for StepError {
    fn from(e: ClusterError) -> Self {
        StepError::Errored(e.to_string())
    }
}

/// The result of one step.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct StepResult {
    pub name: String,
    pub kind: &'static str,
    pub status: Status,
    #[serde(serialize_with = "secs")]
    #[schemars(with = "f64")]
    pub duration: Duration,
    pub attempts: u32,
    pub outcomes: Vec<Outcome>,
    pub finally: bool,
}

/// The result of one playbook.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PlaybookResult {
    pub name: String,
    pub path: String,
    pub status: Status,
    /// Stopped by SIGINT/SIGTERM.
    pub interrupted: bool,
    #[serde(serialize_with = "secs")]
    #[schemars(with = "f64")]
    pub duration: Duration,
    pub steps: Vec<StepResult>,
}

impl PlaybookResult {
    /// The documented exit code for this result.
    #[must_use]
    pub fn exit_code(&self) -> i32 {
        if self.interrupted {
            return exit::INTERRUPTED;
        }
        match self.status {
            Status::Passed | Status::Skipped => exit::OK,
            Status::Failed => exit::ASSERTION_FAILED,
            Status::Errored => exit::STEP_ERROR,
        }
    }
}

/// Everything an action needs while it runs.
pub struct StepCx<'a> {
    pub conn: Option<Arc<Conn>>,
    pub ctx: Value,
    pub env: &'a minijinja::Environment<'static>,
    pub deadline: Instant,
    pub opts: &'a RunOptions,
    pub dir: &'a std::path::Path,
}

impl StepCx<'_> {
    /// Renders a templated string.
    ///
    /// # Errors
    /// An undefined variable or template error (a step error).
    pub fn render(&self, s: &str) -> Result<String, StepError> {
        template::render(self.env, s, &self.ctx)
            .map_err(|e| StepError::Errored(format!("template `{s}`: {}", e.message)))
    }

    /// Renders every string in a JSON value.
    ///
    /// # Errors
    /// As [`StepCx::render`].
    pub fn render_json(&self, v: &Value) -> Result<Value, StepError> {
        Ok(match v {
            Value::String(s) => Value::String(self.render(s)?),
            Value::Array(a) => Value::Array(
                a.iter()
                    .map(|x| self.render_json(x))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, x)| Ok((k.clone(), self.render_json(x)?)))
                    .collect::<Result<_, StepError>>()?,
            ),
            other => other.clone(),
        })
    }

    /// A check with the templates in its expected values rendered.
    ///
    /// # Errors
    /// As [`StepCx::render`].
    pub fn render_check(
        &self,
        c: &crate::assert::Check,
    ) -> Result<crate::assert::Check, StepError> {
        c.map_expected(|v| self.render_json(v))
    }

    /// The cluster connection (cluster steps always have one).
    ///
    /// # Errors
    /// Never for cluster steps.
    pub fn conn(&self) -> Result<&Arc<Conn>, StepError> {
        self.conn
            .as_ref()
            .ok_or_else(|| StepError::Errored("this step needs a cluster".into()))
    }

    /// Time left before the step's deadline.
    #[must_use]
    pub fn left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }
}

/// Receives progress as the run goes (the terminal printer implements it).
pub trait Observer: Send + Sync {
    fn step_started(&self, playbook: &str, index: usize, total: usize, step: &Step);
    fn step_finished(&self, playbook: &str, result: &StepResult);
}

/// `--output json`: one JSON object per line and event, for tools.
pub struct JsonLines;

impl JsonLines {
    fn emit(v: &serde_json::Value) {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{v}");
    }

    /// The event closing a playbook.
    pub fn playbook_finished(r: &PlaybookResult) {
        Self::emit(&serde_json::json!({
            "event": "playbook_finished", "playbook": r.name, "path": r.path,
            "status": r.status, "exitCode": r.exit_code(), "durationSeconds": r.duration.as_secs_f64(),
        }));
    }
}

impl Observer for JsonLines {
    fn step_started(&self, playbook: &str, index: usize, total: usize, step: &Step) {
        Self::emit(&serde_json::json!({
            "event": "step_started", "playbook": playbook, "step": step.name, "kind": step.action.kind(),
            "index": index, "total": total, "clusters": step.options.clusters,
        }));
    }

    fn step_finished(&self, playbook: &str, result: &StepResult) {
        Self::emit(
            &serde_json::json!({ "event": "step_finished", "playbook": playbook, "result": result }),
        );
    }
}

/// The heading line of a step.
#[must_use]
pub fn step_heading(index: usize, total: usize, step: &Step) -> String {
    let on = if step.options.clusters.is_empty() {
        String::new()
    } else {
        format!(" on {}", step.options.clusters.join(", "))
    };
    format!(
        "[{index}/{total}] {} ({}{on})",
        step.name,
        step.action.kind()
    )
}

/// The lines printed when a step ends: per-cluster outcomes, details, verdict.
#[must_use]
pub fn step_report(r: &StepResult, color: bool) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for o in &r.outcomes {
        let _ = writeln!(out, "  {}", o.headline());
        for d in &o.details {
            for line in d.lines() {
                let _ = writeln!(out, "    {line}");
            }
        }
    }
    let attempts = if r.attempts > 1 {
        format!(" after {} attempts", r.attempts)
    } else {
        String::new()
    };
    let word = r.status.word();
    let word = if color {
        let code = match r.status {
            Status::Passed => "32",
            Status::Skipped => "33",
            Status::Failed => "1;31",
            Status::Errored => "1;35",
        };
        format!("\x1b[{code}m{word}\x1b[0m")
    } else {
        word.to_owned()
    };
    let _ = writeln!(
        out,
        "  {word} in {:.2}s{attempts}",
        r.duration.as_secs_f64()
    );
    out
}

/// Line-oriented output for CI logs and pipes.
pub struct Plain {
    pub quiet: bool,
}

impl Observer for Plain {
    fn step_started(&self, _playbook: &str, index: usize, total: usize, step: &Step) {
        if !self.quiet {
            println!("{}", step_heading(index, total, step));
        }
    }

    fn step_finished(&self, _playbook: &str, r: &StepResult) {
        if !self.quiet || r.status.is_failure() {
            print!("{}", step_report(r, false));
        }
    }
}

/// Target of the tracing spans that carry the terminal's progress spinners.
pub const PROGRESS_TARGET: &str = "scenario::progress";

/// Terminal output: a live spinner per running step (with elapsed time and
/// its clusters), then the step's lines, in color unless disabled.
pub struct Tty {
    pub color: bool,
    /// Running steps: their spinner (a span) and heading.
    spans: std::sync::Mutex<HashMap<(String, String), (tracing::Span, String)>>,
}

impl Tty {
    #[must_use]
    pub fn new(color: bool) -> Self {
        Tty {
            color,
            spans: std::sync::Mutex::new(HashMap::new()),
        }
    }
}

impl Observer for Tty {
    fn step_started(&self, playbook: &str, index: usize, total: usize, step: &Step) {
        use tracing_indicatif::span_ext::IndicatifSpanExt as _;
        let heading = step_heading(index, total, step);
        let span = tracing::info_span!(target: PROGRESS_TARGET, "step");
        span.pb_set_message(&heading);
        span.pb_start();
        if let Ok(mut m) = self.spans.lock() {
            m.insert((playbook.to_owned(), step.name.clone()), (span, heading));
        }
    }

    fn step_finished(&self, playbook: &str, r: &StepResult) {
        let heading = self
            .spans
            .lock()
            .ok()
            .and_then(|mut m| m.remove(&(playbook.to_owned(), r.name.clone())))
            .map_or_else(|| format!("{} ({})", r.name, r.kind), |(_span, h)| h);
        let text = step_report(r, self.color);
        tracing_indicatif::suspend_tracing_indicatif(|| {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            let _ = write!(out, "{heading}\n{text}");
            let _ = out.flush();
        });
    }
}

/// Runs a validated playbook to the end (`finally` always runs).
pub async fn run_playbook(
    pb: &Playbook,
    load: &LoadOptions,
    opts: &RunOptions,
    observer: &dyn Observer,
) -> PlaybookResult {
    run_playbook_until(pb, load, opts, observer, &Interrupt::never()).await
}

/// [`run_playbook`], stopped early by `interrupt`.
pub async fn run_playbook_until(
    pb: &Playbook,
    load: &LoadOptions,
    opts: &RunOptions,
    observer: &dyn Observer,
    interrupt: &Interrupt,
) -> PlaybookResult {
    let started = Instant::now();
    let env = template::environment();
    let base = crate::load::static_context(&pb.vars, &pb.clusters, load, &pb.dir.join("playbook"));
    let mut contexts = HashMap::new();
    for (name, _) in &pb.clusters {
        let ctx = base["clusters"][name]["context"]
            .as_str()
            .unwrap_or(name)
            .to_owned();
        contexts.insert(name.clone(), ctx);
    }
    let clusters = Clusters::new(
        KubeconfigSource {
            path: opts.kubeconfig.clone(),
        },
        contexts,
    );
    let mut state = RunState {
        global: Map::new(),
        per_cluster: HashMap::new(),
    };
    let total = pb.steps.len() + pb.finally.len();
    let mut results = Vec::new();
    let mut stop = false;
    for (i, step) in pb.steps.iter().enumerate() {
        if interrupt.count() > 0 {
            results.push(skipped(step, "interrupted", false));
            continue;
        }
        if stop {
            results.push(skipped(step, "an earlier step failed", false));
            continue;
        }
        if let Some(why) = opts.selection.excluded(&pb.steps, i) {
            results.push(skipped(step, &why, false));
            continue;
        }
        observer.step_started(&pb.name, i + 1, total, step);
        let r = tokio::select! {
            r = run_step(pb, step, &env, &base, &clusters, &mut state, opts, false) => r,
            () = interrupt.reached(1) => interrupted(step, false),
        };
        observer.step_finished(&pb.name, &r);
        if r.status.is_failure() && !step.options.continue_on_error {
            stop = true;
        }
        results.push(r);
    }
    for (i, step) in pb.finally.iter().enumerate() {
        if interrupt.count() > 1 {
            results.push(skipped(step, "interrupted twice: finally skipped", true));
            continue;
        }
        observer.step_started(&pb.name, pb.steps.len() + i + 1, total, step);
        let r = tokio::select! {
            r = run_step(pb, step, &env, &base, &clusters, &mut state, opts, true) => r,
            () = interrupt.reached(2) => interrupted(step, true),
        };
        observer.step_finished(&pb.name, &r);
        results.push(r);
    }
    // Steps marked continueOnError are reported but do not decide the verdict.
    let tolerated = |name: &str| {
        pb.steps
            .iter()
            .chain(&pb.finally)
            .any(|s| s.name == name && s.options.continue_on_error)
    };
    let status = results
        .iter()
        .filter(|r| r.status != Status::Skipped && !tolerated(&r.name))
        .map(|r| r.status)
        .max()
        .unwrap_or(Status::Passed);
    PlaybookResult {
        name: pb.name.clone(),
        path: pb.source.name.clone(),
        status,
        interrupted: interrupt.count() > 0,
        duration: started.elapsed(),
        steps: results,
    }
}

struct RunState {
    global: Map<String, Value>,
    per_cluster: HashMap<String, Map<String, Value>>,
}

fn skipped(step: &Step, why: &str, finally: bool) -> StepResult {
    StepResult {
        name: step.name.clone(),
        kind: step.action.kind(),
        status: Status::Skipped,
        duration: Duration::ZERO,
        attempts: 0,
        outcomes: vec![Outcome {
            cluster: None,
            status: Status::Skipped,
            message: format!("skipped: {why}"),
            details: Vec::new(),
            duration: Duration::ZERO,
            captures: Map::new(),
            data: None,
        }],
        finally,
    }
}

fn interrupted(step: &Step, finally: bool) -> StepResult {
    let mut r = skipped(step, "", finally);
    r.status = Status::Errored;
    r.outcomes[0].status = Status::Errored;
    r.outcomes[0].message = "interrupted (SIGINT/SIGTERM); in-flight requests abandoned".to_owned();
    r
}

fn context_for(base: &Value, step: &Step, state: &RunState, cluster: Option<&str>) -> Value {
    let mut ctx = base.clone();
    if let Some(obj) = ctx.as_object_mut() {
        for (k, v) in &state.global {
            obj.insert(k.clone(), v.clone());
        }
        if let Some(c) = cluster {
            if let Some(m) = state.per_cluster.get(c) {
                for (k, v) in m {
                    obj.insert(k.clone(), v.clone());
                }
            }
            if let Some(cl) = base.get("clusters").and_then(|x| x.get(c)) {
                obj.insert("cluster".into(), cl.clone());
            }
        }
        let caps: Map<String, Value> = state
            .per_cluster
            .iter()
            .map(|(k, v)| (k.clone(), Value::Object(v.clone())))
            .collect();
        obj.insert("captures".into(), Value::Object(caps));
        for (k, v) in &step.vars {
            obj.insert(k.clone(), v.clone());
        }
    }
    ctx
}

#[allow(clippy::too_many_arguments)]
async fn run_step(
    pb: &Playbook,
    step: &Step,
    env: &minijinja::Environment<'static>,
    base: &Value,
    clusters: &Clusters,
    state: &mut RunState,
    opts: &RunOptions,
    finally: bool,
) -> StepResult {
    let started = Instant::now();
    if let Some((expr, _)) = &step.options.when {
        let ctx = context_for(base, step, state, None);
        match template::eval_condition(env, expr, &ctx) {
            Ok(true) => {}
            Ok(false) => return skipped(step, &format!("`when: {expr}` is false"), finally),
            Err(e) => {
                let mut r = skipped(step, "", finally);
                r.status = Status::Errored;
                r.outcomes[0].status = Status::Errored;
                r.outcomes[0].message = format!("cannot evaluate `when: {expr}`: {}", e.message);
                return r;
            }
        }
    }
    let policy = &step.options.retry;
    let mut attempt = 0;
    let mut delay = policy.delay;
    let outcomes = loop {
        attempt += 1;
        let outcomes = attempt_step(pb, step, env, base, clusters, state, opts).await;
        let ok = outcomes.iter().all(|o| o.status == Status::Passed);
        if ok || attempt >= policy.attempts {
            break outcomes;
        }
        tokio::time::sleep(delay).await;
        if policy.backoff {
            delay *= 2;
        }
    };
    // Captures: per cluster, and globally (one cluster's value; the first target's when several).
    let mut first = true;
    for o in &outcomes {
        if o.status != Status::Passed {
            continue;
        }
        if let Some(c) = &o.cluster {
            let m = state.per_cluster.entry(c.clone()).or_default();
            for (k, v) in &o.captures {
                m.insert(k.clone(), v.clone());
            }
        }
        if first {
            for (k, v) in &o.captures {
                state.global.insert(k.clone(), v.clone());
            }
            first = false;
        }
    }
    let status = outcomes
        .iter()
        .map(|o| o.status)
        .max()
        .unwrap_or(Status::Passed);
    StepResult {
        name: step.name.clone(),
        kind: step.action.kind(),
        status,
        duration: started.elapsed(),
        attempts: attempt,
        outcomes,
        finally,
    }
}

async fn attempt_step(
    pb: &Playbook,
    step: &Step,
    env: &minijinja::Environment<'static>,
    base: &Value,
    clusters: &Clusters,
    state: &RunState,
    opts: &RunOptions,
) -> Vec<Outcome> {
    let deadline = Instant::now() + step.options.timeout;
    if !step.action.needs_cluster() {
        let cx = StepCx {
            conn: None,
            ctx: context_for(base, step, state, None),
            env,
            deadline,
            opts,
            dir: &pb.dir,
        };
        return vec![timed(None, step, &cx).await];
    }
    let futs = step.options.clusters.iter().map(|c| {
        let ctx = context_for(base, step, state, Some(c));
        async move {
            let started = Instant::now();
            // One spinner per cluster of a fanned-out step, on terminals.
            let spinner = tracing::info_span!(target: PROGRESS_TARGET, "cluster");
            if step.options.clusters.len() > 1 {
                use tracing_indicatif::span_ext::IndicatifSpanExt as _;
                spinner.pb_set_message(&format!("  {c}: {}", step.action.kind()));
                spinner.pb_start();
            }
            let conn = match clusters.get(c).await {
                Ok(conn) => conn,
                Err(e) => return errored(Some(c.clone()), e.to_string(), started.elapsed()),
            };
            let cx = StepCx {
                conn: Some(conn),
                ctx,
                env,
                deadline,
                opts,
                dir: &pb.dir,
            };
            timed(Some(c.clone()), step, &cx).await
        }
    });
    futures::future::join_all(futs).await
}

fn errored(cluster: Option<String>, message: String, duration: Duration) -> Outcome {
    Outcome {
        cluster,
        status: Status::Errored,
        message,
        details: Vec::new(),
        duration,
        captures: Map::new(),
        data: None,
    }
}

async fn timed(cluster: Option<String>, step: &Step, cx: &StepCx<'_>) -> Outcome {
    let started = Instant::now();
    // The action bounds its own waits by the deadline; this guard makes sure
    // nothing runs past it.
    let guard = cx.left() + Duration::from_millis(500);
    let r = match tokio::time::timeout(guard, dispatch(&step.action, cx)).await {
        Ok(r) => r,
        Err(_) => Err(StepError::Errored(format!(
            "timed out after {}",
            humantime::format_duration(step.options.timeout)
        ))),
    };
    let duration = started.elapsed();
    match r {
        Ok(done) => Outcome {
            cluster,
            status: Status::Passed,
            message: done.message,
            details: done.details,
            duration,
            captures: done.captures,
            data: done.data,
        },
        Err(StepError::Failed {
            message,
            details,
            data,
        }) => Outcome {
            cluster,
            status: Status::Failed,
            message,
            details,
            duration,
            captures: Map::new(),
            data,
        },
        Err(StepError::Errored(message)) => errored(cluster, message, duration),
    }
}

/// The one `match` over step kinds.
async fn dispatch(action: &Action, cx: &StepCx<'_>) -> Result<Done, StepError> {
    match action {
        Action::Apply(a) => a.run(cx).await,
        Action::Delete(d) => d.run(cx).await,
        Action::Wait(w) => w.run(cx).await,
        Action::Get(g) => g.run(cx).await,
        Action::Probe(p) => p.run(cx).await,
        Action::Sleep(d) => crate::steps::sleep::run(*d, cx).await,
        Action::Pause(p) => p.run(cx).await,
        Action::Exec(e) => e.run(cx).await,
    }
}

/// One line per step and a total, for the end of a run.
#[must_use]
pub fn summary(r: &PlaybookResult) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let width = r
        .steps
        .iter()
        .map(|s| s.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let _ = writeln!(
        out,
        "\n{:<width$}  {:<8}  {:<7}  {:>8}  CLUSTERS",
        "STEP", "KIND", "RESULT", "TIME"
    );
    for s in &r.steps {
        let clusters: Vec<&str> = s
            .outcomes
            .iter()
            .filter_map(|o| o.cluster.as_deref())
            .collect();
        let _ = writeln!(
            out,
            "{:<width$}  {:<8}  {:<7}  {:>7.2}s  {}",
            s.name,
            s.kind,
            s.status.word(),
            s.duration.as_secs_f64(),
            if clusters.is_empty() {
                "-".to_owned()
            } else {
                clusters.join(",")
            }
        );
    }
    // The diagnosis of each failure, once more, where a reader looks first.
    let failed: Vec<&StepResult> = r.steps.iter().filter(|s| s.status.is_failure()).collect();
    if !failed.is_empty() {
        let _ = writeln!(out, "\nfailures:");
        for s in failed {
            for o in s.outcomes.iter().filter(|o| o.status.is_failure()) {
                let who = o
                    .cluster
                    .as_ref()
                    .map(|c| format!(" on {c}"))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  {} ({}{who}) {}: {}",
                    s.name,
                    s.kind,
                    o.status.word(),
                    o.message
                );
                for d in &o.details {
                    for line in d.lines().take(20) {
                        let _ = writeln!(out, "    {line}");
                    }
                }
            }
        }
    }
    let count = |st: Status| r.steps.iter().filter(|s| s.status == st).count();
    let _ = writeln!(
        out,
        "\n{}: {} — {} passed, {} failed, {} errored, {} skipped in {:.2}s",
        r.name,
        r.status.word(),
        count(Status::Passed),
        count(Status::Failed),
        count(Status::Errored),
        count(Status::Skipped),
        r.duration.as_secs_f64()
    );
    out
}
