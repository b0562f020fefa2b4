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
pub mod docs;
pub mod lab;
pub mod load;
pub mod model;
pub mod options;
pub mod plan;
pub mod probe;
pub mod report;
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
    let progress = progress_mode(&cli);
    let color = color(&cli);
    match cli.command {
        Command::Validate { playbooks, inputs } => validate(&playbooks, &inputs, cli.quiet),
        Command::Plan { playbook, inputs } => plan(&playbook, &inputs),
        Command::Run {
            playbooks,
            inputs,
            dry_run,
            allow_exec,
            control,
        } => run_cmd(
            &playbooks, &inputs, dry_run, allow_exec, &control, cli.quiet, progress, color,
        ),
        Command::Docs {
            playbook,
            output,
            from_report,
            inputs,
        } => docs_cmd(
            &playbook,
            output.as_deref(),
            from_report.as_deref(),
            &inputs,
        ),
        Command::Init { name, dir } => init_cmd(&name, &dir),
        Command::Schema { report } => {
            print!(
                "{}",
                if report {
                    report::schema()
                } else {
                    schema::playbook_schema()
                }
            );
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

/// Whether `run` shows live progress: text output to a terminal, not quiet.
fn progress_mode(cli: &Cli) -> bool {
    use std::io::IsTerminal as _;
    matches!(&cli.command, Command::Run { control, .. } if control.output == "text")
        && !cli.quiet
        && std::io::stdout().is_terminal()
        && std::io::stderr().is_terminal()
}

/// Colors: on a terminal, unless `--no-color` or `NO_COLOR`.
fn color(cli: &Cli) -> bool {
    use std::io::IsTerminal as _;
    !cli.no_color
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::stdout().is_terminal()
}

fn init_tracing(cli: &Cli) {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
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
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level))
        .add_directive(
            format!("{}=off", run::PROGRESS_TARGET)
                .parse()
                .unwrap_or_default(),
        );
    let ansi = !cli.no_color && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    if progress_mode(cli) {
        // Logs go through the progress layer so that they never tear the spinners.
        let style = indicatif::ProgressStyle::with_template("{spinner} {msg} {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner());
        let progress = tracing_indicatif::IndicatifLayer::new().with_progress_style(style);
        let writer = progress.get_stderr_writer();
        let only_progress =
            tracing_subscriber::filter::filter_fn(|m| m.target() == run::PROGRESS_TARGET);
        let _ = tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(writer)
                    .with_ansi(ansi)
                    .without_time()
                    .with_filter(filter),
            )
            .with(progress.with_filter(only_progress))
            .try_init();
    } else {
        let _ = tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(ansi)
                    .without_time()
                    .with_filter(filter),
            )
            .try_init();
    }
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

/// Loads a playbook; on failure prints its diagnostics and gives the exit code.
fn load_or_report(
    path: &std::path::Path,
    opts: &load::LoadOptions,
) -> Result<model::Playbook, i32> {
    load::load(path, opts).map_err(|diags| {
        let _ = std::io::stderr().write_all(diag::render_all(&diags).as_bytes());
        exit::INVALID
    })
}

fn plan(path: &std::path::Path, inputs: &Inputs) -> i32 {
    let opts = load_options(inputs);
    let pb = match load_or_report(path, &opts) {
        Ok(pb) => pb,
        Err(code) => return code,
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

/// Playbook files from the arguments: files as given, directories expanded to
/// their `*.yaml`/`*.yml` files (not recursive), sorted.
fn expand(paths: &[std::path::PathBuf]) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut files: Vec<_> = std::fs::read_dir(p)
                .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
                .unwrap_or_default();
            files.retain(|f| {
                f.is_file() && f.extension().is_some_and(|x| x == "yaml" || x == "yml")
            });
            files.sort();
            out.extend(files);
        } else {
            out.push(p.clone());
        }
    }
    out
}

#[allow(
    clippy::too_many_lines,
    clippy::too_many_arguments,
    clippy::fn_params_excessive_bools
)]
fn run_cmd(
    paths: &[std::path::PathBuf],
    inputs: &Inputs,
    dry_run: bool,
    allow_exec: bool,
    control: &cli::RunControl,
    quiet: bool,
    progress: bool,
    color: bool,
) -> i32 {
    use std::io::IsTerminal as _;
    let opts = load_options(inputs);
    let mut files = expand(paths);
    if let Some((i, n)) = control.shard {
        files = report::shard(files, i, n);
        if !quiet {
            println!(
                "shard {i}/{n}: {} playbook{}",
                files.len(),
                if files.len() == 1 { "" } else { "s" }
            );
        }
    }
    // Everything is loaded and validated before the first request.
    let mut books = Vec::new();
    let mut diags = Vec::new();
    for p in &files {
        match load::load(p, &opts) {
            Ok(pb) => books.push(pb),
            Err(d) => diags.extend(d),
        }
    }
    for (format, _) in &control.reports {
        if format != "junit" && format != "json" {
            diags.push(
                diag::Diagnostic::file(
                    "<command line>",
                    format!("--report {format}=...: unknown report format"),
                )
                .with_expected("junit=PATH or json=PATH"),
            );
        }
    }
    if diags.is_empty() {
        let named: Vec<&String> = control
            .from
            .iter()
            .chain(&control.until)
            .chain(&control.only)
            .collect();
        for n in named {
            if !books.iter().any(|pb| pb.steps.iter().any(|s| &s.name == n)) {
                let all: Vec<&str> = books
                    .iter()
                    .flat_map(|pb| pb.steps.iter().map(|s| s.name.as_str()))
                    .collect();
                let mut d =
                    diag::Diagnostic::file("<command line>", format!("no step named `{n}`"));
                if let Some(h) = diag::did_you_mean(n, all.iter().copied()) {
                    d.help = Some(format!("did you mean `{h}`?"));
                }
                diags.push(d);
            }
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
        selection: run::Selection {
            from: control.from.clone(),
            until: control.until.clone(),
            only: control.only.clone(),
            tags: control.tags.clone(),
            skip_tags: control.skip_tags.clone(),
        },
    };
    let json_lines = control.output == "json";
    let plain = run::Plain { quiet };
    let tty = run::Tty::new(color);
    let observer: &dyn run::Observer = if json_lines {
        &run::JsonLines
    } else if progress {
        &tty
    } else {
        &plain
    };
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
        let (tx, rx) = tokio::sync::watch::channel(0u8);
        tokio::spawn(async move {
            let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) else { return };
            loop {
                tokio::select! {
                    r = tokio::signal::ctrl_c() => if r.is_err() { return },
                    _ = term.recv() => {}
                }
                let n = *tx.borrow() + 1;
                eprintln!("\n{}", if n == 1 { "interrupted: stopping the current step, running `finally` (again to skip it)" } else { "interrupted again: skipping `finally`" });
                let _ = tx.send(n);
            }
        });
        let interrupt = run::Interrupt(rx);
        // Up to --jobs playbooks at once; --fail-fast starts no new one after a failure.
        let failed = std::sync::atomic::AtomicBool::new(false);
        let runs: Vec<_> = books
            .iter()
            .map(|pb| {
                let (interrupt, failed, ropts, opts) = (&interrupt, &failed, &ropts, &opts);
                async move {
                    if interrupt.count() > 0 || (control.fail_fast && failed.load(std::sync::atomic::Ordering::SeqCst)) {
                        return None;
                    }
                    let r = run::run_playbook_until(pb, opts, ropts, observer, interrupt).await;
                    if r.status != run::Status::Passed {
                        failed.store(true, std::sync::atomic::Ordering::SeqCst);
                    }
                    if json_lines {
                        run::JsonLines::playbook_finished(&r);
                    }
                    Some(r)
                }
            })
            .collect();
        let results: Vec<Option<run::PlaybookResult>> =
            futures::stream::StreamExt::collect(futures::stream::StreamExt::buffered(futures::stream::iter(runs), usize::from(control.jobs))).await;
        results.into_iter().flatten().collect::<Vec<_>>()
    });
    let mut code = exit::OK;
    for r in &results {
        if !json_lines {
            print!("{}", run::summary(r));
        }
        code = code.max(r.exit_code());
    }
    if results.iter().any(|r| r.interrupted) {
        code = exit::INTERRUPTED;
    }
    for (format, path) in &control.reports {
        let text = if format == "junit" {
            report::junit(&results)
        } else {
            report::json(&results, code)
        };
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("error: cannot write the {format} report {path}: {e}");
            code = code.max(exit::STEP_ERROR);
        }
    }
    code
}

fn docs_cmd(
    path: &std::path::Path,
    output: Option<&std::path::Path>,
    from_report: Option<&std::path::Path>,
    inputs: &Inputs,
) -> i32 {
    let opts = load_options(inputs);
    let pb = match load_or_report(path, &opts) {
        Ok(pb) => pb,
        Err(code) => return code,
    };
    let observed = match from_report {
        Some(r) => match std::fs::read_to_string(r)
            .map_err(|e| e.to_string())
            .and_then(|t| docs::observed_from_report(&t, &pb.name))
        {
            Ok(o) => Some(o),
            Err(e) => {
                eprintln!("error: --from-report {}: {e}", r.display());
                return exit::INVALID;
            }
        },
        None => None,
    };
    let ctx = load::static_context(&pb.vars, &pb.clusters, &opts, path);
    let md = match docs::render(&pb, &ctx, observed.as_ref()) {
        Ok(md) => md,
        Err(d) => {
            let _ = std::io::stderr().write_all(diag::render_all(&[d]).as_bytes());
            return exit::INVALID;
        }
    };
    match output {
        Some(o) => match std::fs::write(o, md) {
            Ok(()) => exit::OK,
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", o.display());
                exit::STEP_ERROR
            }
        },
        None => {
            print!("{md}");
            exit::OK
        }
    }
}

fn init_cmd(name: &str, dir: &std::path::Path) -> i32 {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        eprintln!("error: invalid chapter name `{name}`: use letters, digits and `-`");
        return exit::INVALID;
    }
    let book = dir.join(format!("{name}.yaml"));
    let manifests = dir.join(name);
    if book.exists() || manifests.exists() {
        eprintln!(
            "error: {} or {} already exists",
            book.display(),
            manifests.display()
        );
        return exit::INVALID;
    }
    // The schema line points at the project's schemas/ when there is one above.
    let mut schema = format!("https://scenario.dev/{}", schema::SCHEMA_PATH);
    if let Ok(abs) = std::fs::canonicalize(dir) {
        let mut up = String::new();
        for anc in abs.ancestors() {
            if anc.join(schema::SCHEMA_PATH).is_file() {
                schema = format!("{up}{}", schema::SCHEMA_PATH);
                break;
            }
            up.push_str("../");
        }
    }
    let playbook = format!(
        "# yaml-language-server: $schema={schema}\nname: {name}\ntitle: {name}\nsummary: What this chapter shows\nauthors: [you]\noutcomes:\n  - Applied a ConfigMap and checked it\n\nclusters:\n  cluster1:\n    context: \"{{{{ env.CLUSTER1 | default('cluster1') }}}}\"\n\nvars:\n  namespace: {name}\n\nsteps:\n  - name: apply\n    title: Apply\n    doc: Create the namespace and a ConfigMap.\n    clusters: cluster1\n    apply:\n      manifests: [{name}/*.yaml]\n\n  - name: check\n    doc: The ConfigMap is there with the expected data.\n    clusters: cluster1\n    wait:\n      resource: {{ apiVersion: v1, kind: ConfigMap, namespace: \"{{{{ namespace }}}}\", name: settings }}\n      jsonpath:\n        - {{ path: $.data.greeting, equals: hello }}\n\nfinally:\n  - name: clean-up\n    clusters: cluster1\n    delete:\n      resources: [{{ apiVersion: v1, kind: Namespace, name: \"{{{{ namespace }}}}\" }}]\n"
    );
    let files = [
        (book.clone(), playbook),
        (manifests.join("00-namespace.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ namespace }}\n".to_owned()),
        (manifests.join("10-configmap.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: {{ namespace }}\ndata:\n  greeting: hello\n".to_owned()),
        (
            manifests.join("README.md"),
            format!("# {name}\n\n- Check: `scenario validate {name}.yaml`\n- Preview: `scenario plan {name}.yaml`\n- Run: `scenario run {name}.yaml` (contexts from `$CLUSTER1`, or `--context cluster1=...`)\n- Render the page: `scenario docs {name}.yaml -o {name}.md`\n"),
        ),
    ];
    for (path, text) in files {
        if let Some(parent) = path.parent()
            && let Err(e) = std::fs::create_dir_all(parent)
        {
            eprintln!("error: cannot create {}: {e}", parent.display());
            return exit::STEP_ERROR;
        }
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return exit::STEP_ERROR;
        }
        println!("created {}", path.display());
    }
    exit::OK
}
