//! The command line: parse, set up logging and colors, dispatch to a command,
//! return its exit code. `main.rs` only calls [`run`].

use std::ffi::OsString;

use clap::Parser;

use crate::commands;
use crate::commands::args::{Cli, Command};
use crate::model::exit;
use crate::output::progress::PROGRESS_TARGET;
use crate::runtime::install_crypto_provider;

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
    {
        use std::io::IsTerminal as _;
        crate::stdio::set_stderr_color(color_on(&cli, std::io::stderr().is_terminal()));
    }
    match cli.command {
        Command::Validate { playbooks, inputs } => {
            commands::validate::validate(&playbooks, &inputs, cli.quiet)
        }
        Command::Rbac {
            playbooks,
            cluster,
            service_account,
            name,
            output,
            inputs,
        } => commands::rbac::rbac(
            &playbooks,
            cluster.as_deref(),
            (&service_account, &name),
            output.as_deref(),
            &inputs,
        ),
        Command::Plan {
            playbooks,
            output,
            inputs,
        } => commands::plan::plan(&playbooks, output.as_deref(), &inputs),
        Command::Run {
            playbooks,
            inputs,
            dry_run,
            allow_exec,
            control,
        } => commands::run::run(
            &commands::run::Request {
                paths: &playbooks,
                inputs: &inputs,
                control: &control,
                dry_run,
                allow_exec,
            },
            commands::run::Display {
                quiet: cli.quiet,
                progress,
                color,
            },
        ),
        Command::Docs {
            playbook,
            output,
            from_report,
            inputs,
        } => commands::docs::docs(
            &playbook,
            output.as_deref(),
            from_report.as_deref(),
            &inputs,
        ),
        Command::Import {
            page,
            root,
            env,
            env_file,
            output,
            report,
        } => commands::import::import(&commands::import::Args {
            page: &page,
            root: root.as_deref(),
            env: &env,
            env_files: &env_file,
            output: output.as_deref(),
            report: report.as_deref(),
            quiet: cli.quiet,
        }),
        Command::Init { name, dir } => commands::init::init(&name, &dir),
        Command::Schema { report, output } => commands::schema::schema(report, output.as_deref()),
        Command::Completions { shell } => commands::completions::completions(shell),
        Command::Report(cmd) => commands::report::report(&cmd, cli.quiet),
        Command::Lab(cmd) => commands::lab::lab(cmd),
    }
}

/// Whether `run` shows live progress: text output to a terminal, not quiet.
fn progress_mode(cli: &Cli) -> bool {
    use std::io::IsTerminal as _;
    matches!(&cli.command, Command::Run { control, .. } if control.format() == "text")
        && !cli.quiet
        && std::io::stdout().is_terminal()
        && std::io::stderr().is_terminal()
}

/// Colors on a stream: on a terminal, or forced by `FORCE_COLOR` or
/// `CLICOLOR_FORCE` (set and not `0`); never with `--no-color` or `NO_COLOR`.
fn color_on(cli: &Cli, terminal: bool) -> bool {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0");
    !cli.no_color
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && (terminal || set("FORCE_COLOR") || set("CLICOLOR_FORCE"))
}

fn color(cli: &Cli) -> bool {
    use std::io::IsTerminal as _;
    color_on(cli, std::io::stdout().is_terminal())
}

/// Where the client library logs each failed HTTP request.
const KUBE_REQUEST_LOG: &str = "kube_client::client::builder";

fn directive(text: &str) -> tracing_subscriber::filter::Directive {
    text.parse().unwrap_or_default()
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
        .unwrap_or_else(|_| {
            let mut f = tracing_subscriber::EnvFilter::new(level);
            if cli.verbose < 2 {
                // The client library logs an ERROR for every failed request,
                // retried or not; scenario's own retry lines (`-v`) and its
                // final error say the same once, so these are shown at -vv only.
                f = f.add_directive(directive(&format!("{KUBE_REQUEST_LOG}=off")));
            }
            f
        })
        .add_directive(directive(&format!("{PROGRESS_TARGET}=off")));
    // Colours only where stderr is a terminal (or forced), like every other output.
    let ansi = {
        use std::io::IsTerminal as _;
        color_on(cli, std::io::stderr().is_terminal())
    };
    if progress_mode(cli) {
        // Logs go through the progress layer so that they never tear the spinners.
        let style = indicatif::ProgressStyle::with_template("{spinner} {msg} {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner());
        let progress = tracing_indicatif::IndicatifLayer::new().with_progress_style(style);
        let writer = progress.get_stderr_writer();
        let only_progress =
            tracing_subscriber::filter::filter_fn(|m| m.target() == PROGRESS_TARGET);
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
