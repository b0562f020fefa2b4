//! What each command becomes: the shell's own commands are understood (no
//! step), `kubectl` and HTTP clients become typed steps, scripts and functions
//! are read where they are called, anything else is an `exec` with a reason.

use std::path::PathBuf;

use super::cx::{Cmd, Cx, ImportError, Step};
use super::emit::{exec, push, push_exec, step};
use super::words::{Val, Word};
use super::yaml_out::Y;

const UNDERSTOOD: &[(&str, &str)] = &[
    ("echo", "prints a message for the reader"),
    ("printf", "prints a message for the reader"),
    ("set", "sets shell options"),
    ("shopt", "sets shell options"),
    ("true", "does nothing"),
    (":", "does nothing"),
    ("clear", "clears the reader's terminal"),
    ("read", "waits for the reader"),
    ("trap", "sets a shell trap"),
    ("[", "a test: decides what runs next"),
    ("test", "a test: decides what runs next"),
    ("exit", "ends the script"),
    ("return", "ends the function"),
    ("unset", "unsets a variable"),
    ("alias", "defines an alias"),
    ("wait", "waits for background commands"),
    ("shift", "shifts the arguments"),
    ("popd", "returns to the directory before"),
    ("command", "checks that a program is installed"),
    ("which", "checks that a program is installed"),
    ("type", "checks that a program is installed"),
];

const EXEC_WHY: &[(&str, &str)] = &[
    (
        "helm",
        "helm installs charts: no step kind renders or installs a chart",
    ),
    (
        "istioctl",
        "istioctl: a mesh's own CLI, no step kind does what it does",
    ),
    (
        "glooctl",
        "glooctl: a mesh's own CLI, no step kind does what it does",
    ),
    (
        "meshctl",
        "meshctl: a mesh's own CLI, no step kind does what it does",
    ),
    ("gcloud", "a cloud CLI: no step kind calls a cloud's API"),
    ("aws", "a cloud CLI: no step kind calls a cloud's API"),
    ("az", "a cloud CLI: no step kind calls a cloud's API"),
    ("eksctl", "a cloud CLI: no step kind calls a cloud's API"),
    (
        "kind",
        "creates local clusters: outside what a playbook runs on",
    ),
    (
        "k3d",
        "creates local clusters: outside what a playbook runs on",
    ),
    (
        "minikube",
        "creates local clusters: outside what a playbook runs on",
    ),
    (
        "docker",
        "a container runtime command: no step kind runs containers",
    ),
    ("git", "git: fetching sources is outside a playbook"),
    ("multipass", "manages virtual machines: no step kind does"),
];

/// What the shell reader does after a command: nothing more, or read a
/// script or function with these arguments (the reader owns the walk).
#[derive(Debug)]
pub enum Next {
    Done,
    Script {
        real: PathBuf,
        args: Vec<Val>,
        sourced: bool,
        at: String,
    },
    Function {
        name: String,
        args: Vec<Val>,
        at: String,
    },
}

/// Maps one simple command.
pub fn simple(cx: &mut Cx<'_>, cmd: Cmd) -> Result<Next, ImportError> {
    if cmd.argv.is_empty() {
        for (name, value, raw) in &cmd.assigns {
            assign(cx, name, value.clone(), raw, &cmd.at);
        }
        return Ok(Next::Done);
    }
    let program = cmd.program();
    if let Some((_, why)) = UNDERSTOOD.iter().find(|(p, _)| *p == program) {
        cx.report.understood(&cmd.at, &cmd.text, why);
        return Ok(Next::Done);
    }
    match program.as_str() {
        "export" | "declare" | "typeset" | "local" | "readonly" => {
            for (raw, word) in cmd.raw.iter().zip(&cmd.argv).skip(1) {
                if let Some((name, _)) = raw.split_once('=') {
                    let value = word.after_key(name);
                    assign(cx, name, value, raw, &cmd.at);
                } else if !raw.starts_with('-') {
                    cx.report
                        .understood(&cmd.at, &cmd.text, "exports a variable set before");
                }
            }
            Ok(Next::Done)
        }
        "cd" | "pushd" => {
            let dir = cmd.argv.get(1).and_then(Word::concrete);
            match dir.map(|d| cx.cwd.join(d)).and_then(|p| std::fs::canonicalize(p).ok()) {
                Some(p) if p.starts_with(&cx.root) => {
                    cx.cwd = p;
                    cx.report.understood(&cmd.at, &cmd.text, "changes the directory the next commands' paths are relative to");
                }
                _ => cx.report.understood(&cmd.at, &cmd.text, "changes to a directory outside the root or unknown: paths stay relative to the root"),
            }
            Ok(Next::Done)
        }
        "source" | "." => script(cx, &cmd, 1, true),
        "sleep" => {
            sleep(cx, &cmd);
            Ok(Next::Done)
        }
        "kubectl" | "oc" => super::kubectl::map(cx, &cmd, None).map(|()| Next::Done),
        "curl" | "http" | "https" | "wget" | "open" | "xdg-open" => {
            super::http::map(cx, &cmd, None);
            Ok(Next::Done)
        }
        "bash" | "sh" | "zsh" if cmd.argv.len() > 1 && !cmd.raw[1].starts_with('-') => {
            script(cx, &cmd, 1, false)
        }
        _ => {
            let args: Vec<Val> = cmd.argv.iter().skip(1).map(as_val).collect();
            if cx.functions.contains_key(&program) {
                return Ok(Next::Function {
                    name: program,
                    args,
                    at: cmd.at.clone(),
                });
            }
            if cmd.raw[0].contains('/') || program.ends_with(".sh") {
                return script(cx, &cmd, 0, false);
            }
            let why = EXEC_WHY.iter().find(|(p, _)| *p == program).map_or_else(
                || format!("{program}: no step kind does what it does"),
                |(_, w)| (*w).to_owned(),
            );
            exec(cx, &cmd.text, &cmd.at, &why);
            Ok(Next::Done)
        }
    }
}

/// One value of a word, for a variable or an argument.
#[must_use]
pub fn as_val(w: &Word) -> Val {
    if let Some(v) = w.single() {
        return v.clone();
    }
    match w.concrete() {
        Some(s) => Val::Lit(s),
        None if w.0.is_empty() => Val::Lit(String::new()),
        None => Val::Template(w.template()),
    }
}

fn assign(cx: &mut Cx<'_>, name: &str, value: Word, raw: &str, at: &str) {
    if let Some(Val::Unknown(why)) = value.single()
        && let Some(inner) = why.strip_prefix("$(").and_then(|s| s.strip_suffix(')'))
    {
        let capture = name.to_ascii_lowercase();
        let body = Y::map(vec![
            (
                "command",
                Y::List(vec![
                    Y::s("bash"),
                    Y::s("-c"),
                    Y::s(super::words::escape(inner)),
                ]),
            ),
            ("captureStdout", Y::s(capture.clone())),
        ]);
        let why =
            format!("`{name}=$(...)`: the command's output is captured; no step kind reads it");
        push_exec(cx, body, raw, at, &why);
        cx.vars.insert(name.to_owned(), Val::Capture(capture));
        return;
    }
    let val = match (value.single(), value.concrete()) {
        (Some(v @ (Val::Env { .. } | Val::Capture(_))), _) => v.clone(),
        (_, Some(s)) => Val::env(name, Some(s)),
        _ => as_val(&value),
    };
    cx.report
        .understood(at, raw, &format!("sets {name} for the commands after it"));
    cx.vars.insert(name.to_owned(), val);
}

/// Reads the script named by argument `i` of `cmd`.
fn script(cx: &mut Cx<'_>, cmd: &Cmd, i: usize, sourced: bool) -> Result<Next, ImportError> {
    let path = cmd.argv.get(i).and_then(Word::concrete);
    let real = path
        .as_ref()
        .and_then(|p| std::fs::canonicalize(cx.cwd.join(p)).ok());
    match real {
        Some(real) if real.starts_with(&cx.root) && real.is_file() => {
            let args = cmd.argv.iter().skip(i + 1).map(as_val).collect();
            let what = if sourced {
                "sources a helper: its variables and functions are read"
            } else {
                "calls a script: its commands are read, with $1... bound from here"
            };
            cx.report.understood(&cmd.at, &cmd.text, what);
            Ok(Next::Script {
                real,
                args,
                sourced,
                at: cmd.at.clone(),
            })
        }
        Some(_) => {
            exec(
                cx,
                &cmd.text,
                &cmd.at,
                "a script outside the root: give a wider --root to read it",
            );
            Ok(Next::Done)
        }
        None => {
            exec(
                cx,
                &cmd.text,
                &cmd.at,
                "a script not found under the root (or its path is known only at run time)",
            );
            Ok(Next::Done)
        }
    }
}

fn sleep(cx: &mut Cx<'_>, cmd: &Cmd) {
    let secs: Option<f64> = cmd
        .argv
        .get(1)
        .and_then(Word::concrete)
        .and_then(|s| s.trim_end_matches('s').parse().ok());
    let Some(secs) = secs.filter(|s| s.is_finite() && *s >= 0.0 && *s <= 86_400.0) else {
        exec(
            cx,
            &cmd.text,
            &cmd.at,
            "a sleep of a duration known only at run time",
        );
        return;
    };
    if cx.repeat.is_some()
        && let Some(Step {
            action: "probe",
            body: Y::Map(pairs),
            ..
        }) = cx.steps.last_mut()
    {
        let per_min = (60.0 / secs.max(0.001)).round().max(1.0);
        pairs.push(("rate".to_owned(), Y::s(format!("{per_min}/m"))));
        cx.report.understood(
            &cmd.at,
            &cmd.text,
            "the pause between requests in a loop: the probe's rate",
        );
        return;
    }
    let ms = (secs * 1000.0).round() as u64;
    let d = if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    };
    push(
        cx,
        step("sleep", Y::s(d), cmd),
        &cmd.text,
        "sleep N: a sleep step",
    );
}

/// The value of `$(...)`, as known now.
pub fn value_of(cx: &mut Cx<'_>, cmds: Vec<Cmd>, text: &str) -> Val {
    let unknown = || Val::Unknown(format!("$({text})"));
    let Some(first) = cmds.first() else {
        return unknown();
    };
    let arg = |i: usize| first.argv.get(i).and_then(Word::concrete);
    match (first.program().as_str(), cmds.len()) {
        ("pwd", 1) => Val::Lit(cx.cwd.display().to_string()),
        ("dirname", 1) => arg(1).map_or_else(unknown, |p| {
            Val::Lit(
                std::path::Path::new(&p)
                    .parent()
                    .map_or(".".to_owned(), |d| d.display().to_string()),
            )
        }),
        ("basename", 1) => arg(1).map_or_else(unknown, |p| {
            Val::Lit(p.rsplit('/').next().unwrap_or("").to_owned())
        }),
        ("cd", 1) => {
            if let Some(p) = arg(1).and_then(|d| std::fs::canonicalize(cx.cwd.join(d)).ok()) {
                cx.cwd = p;
            }
            unknown()
        }
        ("echo", 1) => {
            let w = Word(
                first
                    .argv
                    .iter()
                    .skip(1)
                    .flat_map(|w| w.0.clone())
                    .collect(),
            );
            as_val(&w)
        }
        ("kubectl" | "oc", _) => {
            super::kubectl_pipe::capture(cx, &cmds, text).unwrap_or_else(unknown)
        }
        _ => unknown(),
    }
}

/// Maps a pipeline: the patterns tutorials write (`kustomize build | envsubst |
/// kubectl apply -f -`, `curl | jq`), else its first typed command, else one exec.
pub fn pipeline(cx: &mut Cx<'_>, cmds: Vec<Cmd>) {
    let programs: Vec<String> = cmds.iter().map(Cmd::program).collect();
    let text = cmds
        .iter()
        .map(|c| c.text.as_str())
        .collect::<Vec<_>>()
        .join(" | ");
    let last = cmds.last().cloned().unwrap_or_default();
    if matches!(programs.last().map(String::as_str), Some("kubectl" | "oc"))
        && super::kubectl::reads_stdin(&last)
        && super::kubectl_pipe::from_pipe(cx, &cmds, &text)
    {
        return;
    }
    match programs.first().map(String::as_str) {
        Some("kubectl" | "oc") if super::kubectl::map(cx, &cmds[0], Some(&cmds[1..])).is_ok() => {
            return;
        }
        Some("curl" | "http" | "https" | "wget") => {
            super::http::map(cx, &cmds[0], Some(&cmds[1..]));
            return;
        }
        _ => {}
    }
    let at = cmds.first().map(|c| c.at.clone()).unwrap_or_default();
    exec(cx, &text, &at, "a pipeline of programs no step kind runs");
}
