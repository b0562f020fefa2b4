//! `scenario`: a declarative scenario engine. A playbook (YAML) of ordered
//! steps — delete, apply, wait, probe, get — runs against one or more
//! Kubernetes clusters.
//!
//! Flow: parse ([`yaml`]) -> validate ([`load`], every node keeps its source
//! location) -> plan or execute. [`run`] is the whole CLI and returns the exit
//! code; `main.rs` only calls it.

// Diagnostics are returned by value: they are rare and never on a hot path.
#![allow(clippy::result_large_err)]

pub mod assert;
pub mod cli;
pub mod cluster;
pub mod diag;
pub mod lab;
pub mod load;
pub mod model;
pub mod options;
pub mod plan;
pub mod probe;
pub mod run;
pub mod schema;
pub mod stats;
pub mod steps;
pub mod template;
pub mod yaml;

use std::ffi::OsString;
use std::io::Write as _;

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Command, Inputs};
use crate::model::exit;

/// Installs the process-wide TLS provider (ring) once. kube uses rustls with
/// ring; reqwest is built without a provider of its own, so both share this one.
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Runs a future to completion from synchronous code, on a runtime of its
/// own (on a separate thread when called from inside a runtime).
///
/// # Panics
/// Only if a Tokio runtime cannot be built (out of threads or memory).
pub fn block_on<F>(f: F) -> F::Output
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    let run = move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("build a Tokio runtime")
            .block_on(f)
    };
    if tokio::runtime::Handle::try_current().is_ok() {
        std::thread::scope(|s| s.spawn(run).join().expect("runtime thread"))
    } else {
        run()
    }
}

/// Runs the CLI with the given arguments; returns the process exit code.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    exit::OK
                }
                _ => exit::INVALID,
            };
        }
    };
    init_tracing(&cli);
    install_crypto_provider();
    match cli.command {
        Command::Validate { playbooks, inputs } => validate(&playbooks, &inputs, cli.quiet),
        Command::Plan { playbook, inputs } => plan(&playbook, &inputs),
        Command::Run {
            playbooks,
            inputs,
            dry_run,
            allow_exec,
        } => run_cmd(&playbooks, &inputs, dry_run, allow_exec, cli.quiet),
        Command::Schema => {
            print!("{}", schema::playbook_schema());
            exit::OK
        }
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "scenario", &mut std::io::stdout());
            exit::OK
        }
        Command::Lab(cmd) => lab::cli(cmd),
    }
}

fn init_tracing(cli: &Cli) {
    let level = if cli.quiet {
        "error"
    } else {
        match cli.verbose {
            0 => "warn",
            1 => "info",
            2 => "debug",
            _ => "trace",
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SCENARIO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(!cli.no_color && std::env::var_os("NO_COLOR").is_none())
        .without_time()
        .try_init();
}

/// Turns CLI inputs into load options (with the process environment).
#[must_use]
pub fn load_options(inputs: &Inputs) -> load::LoadOptions {
    load::LoadOptions {
        vars: inputs.vars.clone(),
        vars_files: inputs.vars_files.clone(),
        contexts: inputs.contexts.clone(),
        env: std::env::vars().collect(),
    }
}

fn validate(playbooks: &[std::path::PathBuf], inputs: &Inputs, quiet: bool) -> i32 {
    let opts = load_options(inputs);
    let mut code = exit::OK;
    for p in playbooks {
        match load::load(p, &opts) {
            Ok(pb) => {
                if !quiet {
                    println!(
                        "ok: {} ({} step{}, {} finally)",
                        pb.source.name,
                        pb.steps.len(),
                        if pb.steps.len() == 1 { "" } else { "s" },
                        pb.finally.len()
                    );
                }
            }
            Err(diags) => {
                let _ = std::io::stderr().write_all(diag::render_all(&diags).as_bytes());
                code = exit::INVALID;
            }
        }
    }
    code
}

fn plan(path: &std::path::Path, inputs: &Inputs) -> i32 {
    let opts = load_options(inputs);
    let pb = match load::load(path, &opts) {
        Ok(pb) => pb,
        Err(diags) => {
            let _ = std::io::stderr().write_all(diag::render_all(&diags).as_bytes());
            return exit::INVALID;
        }
    };
    let ctx = load::static_context(&pb.vars, &pb.clusters, &opts, path);
    match plan::render(&pb, &ctx) {
        Ok(text) => {
            print!("{text}");
            exit::OK
        }
        Err(d) => {
            let _ = std::io::stderr().write_all(diag::render_all(&[d]).as_bytes());
            exit::INVALID
        }
    }
}

fn run_cmd(
    paths: &[std::path::PathBuf],
    inputs: &Inputs,
    dry_run: bool,
    allow_exec: bool,
    quiet: bool,
) -> i32 {
    use std::io::IsTerminal as _;
    let opts = load_options(inputs);
    // Everything is loaded and validated before the first request.
    let mut books = Vec::new();
    let mut diags = Vec::new();
    for p in paths {
        match load::load(p, &opts) {
            Ok(pb) => books.push(pb),
            Err(d) => diags.extend(d),
        }
    }
    if diags.is_empty() && !allow_exec {
        for pb in &books {
            if let Some(s) = pb
                .steps
                .iter()
                .chain(&pb.finally)
                .find(|s| matches!(s.action, steps::Action::Exec(_)))
            {
                diags.push(
                    diag::Diagnostic::new(
                        &pb.source,
                        Some(s.loc),
                        format!("step `{}` runs a local command", s.name),
                    )
                    .with_expected("--allow-exec on the command line to allow `exec` steps"),
                );
            }
        }
    }
    if !diags.is_empty() {
        let _ = std::io::stderr().write_all(diag::render_all(&diags).as_bytes());
        return exit::INVALID;
    }
    let ropts = run::RunOptions {
        dry_run,
        allow_exec,
        kubeconfig: inputs.kubeconfig.clone(),
        interactive: std::io::stdin().is_terminal(),
    };
    let observer = run::Plain { quiet };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return exit::STEP_ERROR;
        }
    };
    let results = rt.block_on(async {
        let mut results = Vec::new();
        for pb in &books {
            results.push(run::run_playbook(pb, &opts, &ropts, &observer).await);
        }
        results
    });
    let mut code = exit::OK;
    for r in &results {
        print!("{}", run::summary(r));
        code = code.max(r.exit_code());
    }
    code
}
