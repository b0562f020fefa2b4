//! `exec`: run a local command. Explicit opt-in: a playbook with `exec`
//! steps only runs with `--allow-exec`.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::Deserialize;

use futures::future::BoxFuture;

use crate::model::access::Access;
use crate::language::diag::Diagnostic;
use crate::language::yaml::Spanned;
use crate::model::action::{Action, Docs, KindRef, DocsCommand, Done, PlanCx, StepCx, StepError, StepKind, Outcome, ReaderCx};
use crate::model::step_data::{ExecOutput, StepData};
use crate::model::validator::Validator;

/// Run a local command (needs `--allow-exec`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", rename = "Exec")]
pub struct RawExec {
    /// Program and arguments (each a template); no shell is involved.
    pub command: Spanned<Vec<String>>,
    /// Extra environment variables (values are templates).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Exit code that counts as success, 0 to 255 (default 0).
    #[schemars(range(min = 0, max = 255))]
    pub expect_exit: Option<Spanned<i32>>,
    /// Capture trimmed stdout into this variable.
    pub capture_stdout: Option<Spanned<String>>,
    /// What the command's output must say (instead of piping it through `grep -q`).
    pub expect: Option<Spanned<RawExpect>>,
    /// Run the command again until its exit code and output checks hold, as
    /// long as the step's timeout allows: `{every: 1s}` (the pause between runs).
    pub eventually: Option<Spanned<RawEventually>>,
}

/// `eventually` of an exec step.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", rename = "ExecEventually")]
pub struct RawEventually {
    /// The pause between two runs (default 1s; more than 0, less than the step's timeout).
    pub every: Option<Spanned<crate::language::options::DurationText>>,
}

/// Expectations on a command's result.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", rename = "ExecExpect")]
pub struct RawExpect {
    /// Exit code that counts as success, 0 to 255 (same as `expectExit`).
    #[schemars(range(min = 0, max = 255))]
    pub exit_code: Option<Spanned<i32>>,
    /// A check on the trimmed standard output.
    pub stdout: Option<Spanned<RawText>>,
    /// A check on the trimmed standard error.
    pub stderr: Option<Spanned<RawText>>,
}

/// A check on text: every condition given must hold (templates allowed).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", rename = "TextCheck")]
pub struct RawText {
    /// The whole text equals this.
    pub equals: Option<Spanned<String>>,
    /// The text contains this.
    pub contains: Option<Spanned<String>>,
    /// The text matches this regular expression (anywhere, unless anchored).
    pub matches: Option<Spanned<String>>,
}

/// One validated text condition, with where it is written.
#[derive(Debug, Clone)]
pub struct TextCheck {
    pub stream: &'static str,
    pub how: &'static str,
    pub value: String,
    pub loc: crate::language::yaml::Loc,
}

#[derive(Debug, Clone)]
pub struct Exec {
    pub command: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub expect_exit: i32,
    pub capture_stdout: Option<String>,
    pub output_checks: Vec<TextCheck>,
    /// `eventually`: the pause between runs until the checks hold.
    pub eventually: Option<std::time::Duration>,
}

/// Validates the text checks of one stream.
fn text_checks(
    cx: &mut Validator,
    stream: &'static str,
    raw: &RawText,
    extra: &BTreeSet<String>,
) -> Vec<TextCheck> {
    let mut out = Vec::new();
    for (how, v) in [
        ("equals", &raw.equals),
        ("contains", &raw.contains),
        ("matches", &raw.matches),
    ] {
        let Some(v) = v else { continue };
        if !cx.template(v, extra) {
            continue;
        }
        if how == "matches" && !v.value.contains("{{") && !cx.regex(&v.value, v.loc) {
            continue;
        }
        out.push(TextCheck {
            stream,
            how,
            value: v.value.clone(),
            loc: v.loc,
        });
    }
    out
}

fn validate(cx: &mut Validator, raw: &Spanned<RawExec>, extra: &BTreeSet<String>) -> Option<Exec> {
    let r = &raw.value;
    let before = cx.diags.len();
    if r.command.value.is_empty() || r.command.value[0].trim().is_empty() {
        cx.error(r.command.loc, "`command` is empty")
            .expected("a program and its arguments, e.g. [kubectl, version]");
    }
    for arg in r.command.value.iter().chain(r.env.values()) {
        let s = Spanned {
            value: arg.clone(),
            loc: r.command.loc,
        };
        cx.template(&s, extra);
    }
    let capture_stdout = r.capture_stdout.as_ref().map(|c| {
        if !crate::model::validator::is_identifier(&c.value) {
            cx.error(
                c.loc,
                format!(
                    "capture name `{}` is not an identifier",
                    crate::language::limits::excerpt(&c.value)
                ),
            );
        } else if cx.known.contains(&c.value) {
            cx.error(
                c.loc,
                format!("capture `{}` would hide an existing variable", c.value),
            );
        }
        cx.add_captured(&c.value);
        c.value.clone()
    });
    let mut output_checks = Vec::new();
    let mut exit_code = r.expect_exit.clone();
    if let Some(e) = &r.expect {
        if let Some(c) = &e.value.exit_code {
            if r.expect_exit.is_some() {
                cx.error(c.loc, "the exit code is given twice (`expectExit` and `expect.exitCode`)")
                    .expected("one of them");
            }
            exit_code = Some(c.clone());
        }
        for (stream, t) in [("stdout", &e.value.stdout), ("stderr", &e.value.stderr)] {
            if let Some(t) = t {
                let checks = text_checks(cx, stream, &t.value, extra);
                if checks.is_empty() && t.value.equals.is_none() && t.value.contains.is_none() && t.value.matches.is_none() {
                    cx.error(t.loc, format!("`{stream}` has no condition"))
                        .expected("`equals`, `contains` or `matches`");
                }
                output_checks.extend(checks);
            }
        }
    }
    let expect_exit = match &exit_code {
        Some(code) if !(0..=255).contains(&code.value) => {
            cx.error(code.loc, format!("exit code {} is out of range", code.value))
                .expected("0 to 255 (what a process can exit with)");
            0
        }
        Some(code) => code.value,
        None => 0,
    };
    let eventually = r.eventually.as_ref().and_then(|e| eventually(cx, e));
    (cx.diags.len() == before).then(|| Exec {
        command: r.command.value.clone(),
        env: r.env.clone(),
        expect_exit,
        capture_stdout,
        output_checks,
        eventually,
    })
}

/// `eventually.every`: more than zero and less than the step's timeout.
fn eventually(cx: &mut Validator, e: &Spanned<RawEventually>) -> Option<std::time::Duration> {
    let Some(every) = &e.value.every else {
        return Some(std::time::Duration::from_secs(1).min(cx.step_timeout / 2));
    };
    let d = cx.duration(every)?;
    let timeout = humantime::format_duration(cx.step_timeout).to_string();
    if d.is_zero() || d >= cx.step_timeout {
        cx.error(
            every.loc,
            format!(
                "`eventually.every` is {}: {}",
                humantime::format_duration(d),
                if d.is_zero() {
                    "the command would run again at once, without a pause".to_owned()
                } else {
                    format!(
                        "the command would not run a second time within the step's timeout ({timeout})"
                    )
                }
            ),
        )
        .expected(format!(
            "a pause between two runs of the command, more than zero and shorter than the step's timeout ({timeout}), e.g. `1s`"
        ));
        return None;
    }
    Some(d)
}

impl Exec {
    /// The command line with its templates rendered for display.
    fn shown(&self, pc: &PlanCx<'_>) -> String {
        self.command
            .iter()
            .map(|a| pc.render(a))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Runs a command and reads its output as it comes, up to
/// [`MAX_EXEC_OUTPUT`](crate::language::limits::MAX_EXEC_OUTPUT) bytes per
/// stream: `None` (and the command killed) past it.
async fn bounded_output(
    mut cmd: tokio::process::Command,
) -> std::io::Result<Option<(std::process::ExitStatus, Vec<u8>, Vec<u8>)>> {
    use tokio::io::AsyncReadExt as _;
    let limit = crate::language::limits::MAX_EXEC_OUTPUT as u64;
    let mut child = cmd.spawn()?;
    let read = |pipe: Option<Box<dyn tokio::io::AsyncRead + Unpin + Send>>| async move {
        let mut buf = Vec::new();
        if let Some(p) = pipe {
            p.take(limit + 1).read_to_end(&mut buf).await?;
        }
        std::io::Result::Ok(buf)
    };
    let stdout = child.stdout.take().map(|p| Box::new(p) as Box<dyn tokio::io::AsyncRead + Unpin + Send>);
    let stderr = child.stderr.take().map(|p| Box::new(p) as Box<dyn tokio::io::AsyncRead + Unpin + Send>);
    let (out, err) = tokio::try_join!(read(stdout), read(stderr))?;
    if out.len() as u64 > limit || err.len() as u64 > limit {
        let _ = child.kill().await;
        return Ok(None);
    }
    let status = child.wait().await?;
    Ok(Some((status, out, err)))
}

impl Exec {
    /// Runs the command (no shell), bounded by the step's deadline.
    ///
    /// # Errors
    /// Failed: unexpected exit code. Errored: the command cannot start, or
    /// `--allow-exec` was not given.
    async fn execute(&self, cx: &StepCx<'_>) -> Result<Done, StepError> {
        if !cx.allow_exec {
            return Err(StepError::Errored("exec steps need --allow-exec".into()));
        }
        let argv: Vec<String> = self
            .command
            .iter()
            .map(|a| cx.render(a))
            .collect::<Result<_, _>>()?;
        let mut cmd = tokio::process::Command::new(&argv[0]);
        cmd.args(&argv[1..]).current_dir(cx.dir).kill_on_drop(true);
        for (k, v) in &self.env {
            cmd.env(k, cx.render(v)?);
        }
        cmd.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .stdin(std::process::Stdio::null());
        let out = match tokio::time::timeout(cx.left(), bounded_output(cmd)).await {
            Ok(Ok(o)) => o,
            Ok(Err(e)) => return Err(StepError::Errored(format!("cannot run `{}`: {e}", argv[0]))),
            Err(_) => {
                return Err(StepError::Errored(format!(
                    "`{}` did not finish before the step timed out",
                    argv.join(" ")
                )));
            }
        };
        let Some((status, stdout, stderr)) = out else {
            return Err(StepError::Errored(format!(
                "`{}` wrote more than {} MiB of output; it was stopped",
                argv.join(" "),
                crate::language::limits::MAX_EXEC_OUTPUT / (1024 * 1024)
            )));
        };
        let code = status.code().unwrap_or(-1);
        let stdout = String::from_utf8_lossy(&stdout).trim().to_owned();
        let stderr = String::from_utf8_lossy(&stderr).trim().to_owned();
        if code != self.expect_exit {
            let mut details = Vec::new();
            if !stdout.is_empty() {
                details.push(format!("stdout: {stdout}"));
            }
            if !stderr.is_empty() {
                details.push(format!("stderr: {stderr}"));
            }
            return Err(StepError::Failed {
                message: format!(
                    "`{}` exited with {code}, expected {}",
                    argv.join(" "),
                    self.expect_exit
                ),
                details,
                // What the command printed, for the page.
                data: Some(StepData::Exec(ExecOutput { stdout, stderr })),
                checks: Vec::new(),
            });
        }
        let failed = self.failed_output_checks(cx, &stdout, &stderr)?;
        if !failed.is_empty() {
            let message = format!(
                "`{}` exited with {code}, but its output does not match: {}",
                argv.join(" "),
                failed.iter().map(|c| c.check.clone()).collect::<Vec<_>>().join("; ")
            );
            return Err(StepError::failed(message, Vec::new()).with_checks(failed));
        }
        let mut done = Done::msg(format!("`{}` exited with {code}", argv.join(" ")));
        // What the command printed, for the page's "Output of a real run".
        done.data = Some(StepData::Exec(ExecOutput {
            stdout: stdout.clone(),
            stderr,
        }));
        if let Some(var) = &self.capture_stdout {
            done.captures
                .insert(var.clone(), serde_json::Value::String(stdout.clone()));
            done.details.push(format!("captured {var} = {stdout:?}"));
        }
        Ok(done)
    }
}

impl Exec {
    /// The output checks that do not hold, located in the playbook.
    fn failed_output_checks(
        &self,
        cx: &StepCx<'_>,
        stdout: &str,
        stderr: &str,
    ) -> Result<Vec<crate::model::check::CheckResult>, StepError> {
        use crate::model::check::{CheckResult, Location};
        let mut failed = Vec::new();
        for c in &self.output_checks {
            let expected = cx.render(&c.value)?;
            let text = if c.stream == "stdout" { stdout } else { stderr };
            let holds = match c.how {
                "equals" => text == expected,
                "contains" => text.contains(&expected),
                _ => crate::language::options::compile_regex(&expected)
                    .map_err(|e| StepError::Errored(format!("regex `{expected}`: {e}")))?
                    .is_match(text),
            };
            if !holds {
                failed.push(CheckResult {
                    check: format!("{} {} {expected:?}", c.stream, c.how),
                    passed: false,
                    actual: Some(serde_json::Value::String(
                        crate::language::limits::excerpt(text),
                    )),
                    expected: format!("{} {expected:?}", c.how),
                    location: Location {
                        file: cx.file.to_owned(),
                        line: c.loc.line,
                        column: c.loc.col,
                    },
                });
            }
        }
        Ok(failed)
    }
}

impl StepKind for Exec {
    const NAME: &'static str = "exec";
    const SUMMARY: &'static str = "Run a local command (needs `--allow-exec`).";
    const NEEDS_CLUSTER: bool = false;
    const DRY_RUN: crate::model::action::DryRun = crate::model::action::DryRun::NotRun;
    const NEEDS_ALLOW_EXEC: bool = true;
    type Raw = RawExec;

    fn validate(v: &mut Validator, raw: &Spanned<RawExec>, vars: &BTreeSet<String>) -> Option<Self> {
        validate(v, raw, vars)
    }
}

impl Action for Exec {
    fn captures(&self) -> Vec<String> {
        self.capture_stdout.iter().cloned().collect()
    }

    fn plan(&self, pc: &PlanCx<'_>) -> Result<Vec<String>, Diagnostic> {
        let mut lines = vec![format!("exec {} (needs --allow-exec)", self.shown(pc))];
        if self.expect_exit != 0 {
            lines.push(format!("  expect exit code {}", self.expect_exit));
        }
        for c in &self.output_checks {
            lines.push(format!("  expect {} {} {:?}", c.stream, c.how, pc.render(&c.value)));
        }
        if let Some(every) = self.eventually {
            lines.push(format!(
                "  again every {} until it holds (within the step's timeout)",
                humantime::format_duration(every)
            ));
        }
        Ok(lines)
    }

    fn docs(&self, pc: &PlanCx<'_>, _clusters: &[String]) -> Result<Docs, Diagnostic> {
        // Each argument one shell word; run where the step runs (the playbook's directory).
        let argv: Vec<String> = self
            .command
            .iter()
            .map(|a| crate::language::shell::word(&pc.render(a)))
            .collect();
        let env: Vec<String> = self
            .env
            .iter()
            .map(|(k, v)| format!("{k}={}", crate::language::shell::word(&pc.render(v))))
            .collect();
        let command = env.into_iter().chain(argv).collect::<Vec<_>>().join(" ");
        let dir = pc.page_path(".");
        let mut line = if dir == "." {
            command
        } else {
            format!("(cd {} && {command})", crate::language::shell::word(&dir))
        };
        // The exit code the step expects is success for the reader's shell too.
        if self.expect_exit != 0 {
            line = format!("{line} || [ $? -eq {} ]", self.expect_exit);
        }
        // A captured output is a shell variable for later commands.
        if let Some(v) = &self.capture_stdout {
            line = format!("{}=$({line})", crate::language::shell::var_name(v, None));
        }
        Ok(Docs {
            commands: vec![DocsCommand::local(line)],
            ..Docs::default()
        })
    }

    /// What the command printed (stderr after stdout, as a terminal shows
    /// them), passed or failed.
    fn reader_view(&self, o: &Outcome, _cx: &mut ReaderCx) -> Vec<String> {
        let Some(StepData::Exec(out)) = &o.data else {
            return Vec::new();
        };
        [&out.stdout, &out.stderr]
            .into_iter()
            .flat_map(|s| s.lines().map(str::to_owned))
            .collect()
    }

    fn kinds(&self, _pc: &PlanCx<'_>) -> Vec<KindRef> {
        Vec::new()
    }

    fn access(&self, _pc: &PlanCx<'_>) -> Vec<Access> {
        vec![Access::Unknown(
            "what the commands of `exec` steps ask of a cluster (they run with the same credentials)"
                .to_owned(),
        )]
    }

    fn run<'a>(&'a self, cx: &'a StepCx<'a>) -> BoxFuture<'a, Result<Done, StepError>> {
        Box::pin(self.until_it_holds(cx))
    }
}

impl Exec {
    /// Runs the command; under `eventually`, again after each failed check
    /// (a wrong exit code or output) while the step's time allows. The last
    /// run's failure is the step's, saying how many runs there were; a run
    /// that the step's timeout cuts short does not turn that failure into an
    /// error (the checks did not hold: that is what the step found).
    async fn until_it_holds(&self, cx: &StepCx<'_>) -> Result<Done, StepError> {
        let Some(every) = self.eventually else {
            return self.execute(cx).await;
        };
        let started = tokio::time::Instant::now();
        let mut runs = 0u64;
        let mut last_failure: Option<StepError> = None;
        loop {
            runs += 1;
            match self.execute(cx).await {
                Ok(mut done) => {
                    if runs > 1 {
                        done.details.insert(0, format!("held on run {runs}"));
                    }
                    return Ok(done);
                }
                Err(failed @ StepError::Failed { .. }) if cx.left() > every => {
                    last_failure = Some(failed);
                    tokio::time::sleep(every).await;
                }
                Err(failed @ StepError::Failed { .. }) => {
                    return Err(did_not_hold(failed, runs, None, started, every));
                }
                Err(e) => {
                    return Err(match last_failure.take() {
                        Some(failed) if cx.left().is_zero() => {
                            did_not_hold(failed, runs - 1, Some(runs), started, every)
                        }
                        _ => e,
                    });
                }
            }
        }
    }
}

/// The failure of the last completed run, saying how many runs did not hold
/// (and which run the step's timeout cut, if one was).
fn did_not_hold(
    failed: StepError,
    runs: u64,
    cut: Option<u64>,
    started: tokio::time::Instant,
    every: std::time::Duration,
) -> StepError {
    let StepError::Failed {
        message,
        mut details,
        data,
        checks,
    } = failed
    else {
        return failed;
    };
    let cut = cut
        .map(|n| format!("; run {n} was cut short by the step's timeout"))
        .unwrap_or_default();
    details.insert(
        0,
        format!(
            "did not hold in {runs} run{} over {:.1}s (eventually, every {}){cut}",
            if runs == 1 { "" } else { "s" },
            started.elapsed().as_secs_f64(),
            humantime::format_duration(every)
        ),
    );
    StepError::Failed {
        message,
        details,
        data,
        checks,
    }
}
