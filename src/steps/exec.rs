//! `exec`: run a local command. Explicit opt-in: a playbook with `exec`
//! steps only runs with `--allow-exec`.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::Deserialize;

use crate::load::Cx;
use crate::yaml::Spanned;

/// Run a local command (needs `--allow-exec`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", rename = "Exec")]
pub struct RawExec {
    /// Program and arguments (each a template); no shell is involved.
    pub command: Spanned<Vec<String>>,
    /// Extra environment variables (values are templates).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Exit code that counts as success (default 0).
    #[serde(default)]
    pub expect_exit: i32,
    /// Capture trimmed stdout into this variable.
    pub capture_stdout: Option<Spanned<String>>,
}

#[derive(Debug, Clone)]
pub struct Exec {
    pub command: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub expect_exit: i32,
    pub capture_stdout: Option<String>,
}

pub fn validate(cx: &mut Cx, raw: &Spanned<RawExec>, extra: &BTreeSet<String>) -> Option<Exec> {
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
        if cx.known.contains(&c.value) {
            cx.error(
                c.loc,
                format!("capture `{}` would hide an existing variable", c.value),
            );
        }
        cx.captured.insert(c.value.clone());
        c.value.clone()
    });
    (cx.diags.len() == before).then(|| Exec {
        command: r.command.value.clone(),
        env: r.env.clone(),
        expect_exit: r.expect_exit,
        capture_stdout,
    })
}

impl Exec {
    #[must_use]
    pub fn plan(&self) -> Vec<String> {
        vec![format!(
            "exec {} (needs --allow-exec)",
            self.command.join(" ")
        )]
    }
}

impl Exec {
    /// Runs the command (no shell), bounded by the step's deadline.
    ///
    /// # Errors
    /// Failed: unexpected exit code. Errored: the command cannot start, or
    /// `--allow-exec` was not given.
    pub async fn run(
        &self,
        cx: &crate::run::StepCx<'_>,
    ) -> Result<crate::run::Done, crate::run::StepError> {
        use crate::run::{Done, StepError};
        if !cx.opts.allow_exec {
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
        let out = match tokio::time::timeout(cx.left(), cmd.output()).await {
            Ok(Ok(o)) => o,
            Ok(Err(e)) => return Err(StepError::Errored(format!("cannot run `{}`: {e}", argv[0]))),
            Err(_) => {
                return Err(StepError::Errored(format!(
                    "`{}` did not finish before the step timed out",
                    argv.join(" ")
                )));
            }
        };
        let code = out.status.code().unwrap_or(-1);
        let stdout = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        if code != self.expect_exit {
            let mut details = Vec::new();
            if !stdout.is_empty() {
                details.push(format!("stdout: {stdout}"));
            }
            if !stderr.is_empty() {
                details.push(format!("stderr: {stderr}"));
            }
            return Err(StepError::failed(
                format!(
                    "`{}` exited with {code}, expected {}",
                    argv.join(" "),
                    self.expect_exit
                ),
                details,
            ));
        }
        let mut done = Done::msg(format!("`{}` exited with {code}", argv.join(" ")));
        if let Some(var) = &self.capture_stdout {
            done.captures
                .insert(var.clone(), serde_json::Value::String(stdout.clone()));
            done.details.push(format!("captured {var} = {stdout:?}"));
        }
        Ok(done)
    }
}
