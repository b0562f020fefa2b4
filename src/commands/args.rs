//! The command line as data (clap): every command, its flags and inputs.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// `scenario --version`: the release and the commit it was built from.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("SCENARIO_COMMIT"),
    ")"
);

const AFTER_HELP: &str = "\
Examples:
  scenario validate playbooks/traffic-management.yaml
  scenario plan playbooks/traffic-management.yaml --context cluster1=kind-east
  scenario plan playbooks/traffic-management.yaml --var restore=true
  scenario lab up --clusters mgmt,cluster1,cluster2
  scenario import docs/traffic.md --root . -o playbooks/traffic.yaml
  scenario schema > schemas/playbook.schema.json

Exit codes:
  0    passed
  1    an assertion failed
  2    invalid input or usage (nothing was run)
  3    a step errored (cluster, network, I/O)
  130  interrupted";

/// Declarative scenarios: tutorial chapters as playbooks run against Kubernetes clusters.
#[derive(Debug, Parser)]
#[command(name = "scenario", version = VERSION, about, after_help = AFTER_HELP)]
pub struct Cli {
    /// More log output (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// No colors (also with NO_COLOR set).
    #[arg(long, global = true)]
    pub no_color: bool,
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process: the size of the `run` variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load and validate playbooks; print every problem found (exit 0 or 2).
    Validate {
        /// Playbook files or directories (their *.yaml and *.yml files).
        #[arg(required = true)]
        playbooks: Vec<PathBuf>,
        #[command(flatten)]
        inputs: Inputs,
    },
    /// Print each step, its target clusters and rendered objects, without contacting any cluster.
    Plan {
        /// Playbook files or directories.
        #[arg(required = true)]
        playbooks: Vec<PathBuf>,
        /// Write to this file instead of stdout.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        #[command(flatten)]
        inputs: Inputs,
    },
    /// Run playbooks against their clusters (all are validated before anything runs).
    Run {
        /// Playbook files or directories.
        #[arg(required = true)]
        playbooks: Vec<PathBuf>,
        #[command(flatten)]
        inputs: Inputs,
        /// Server-side dry run: apply and delete change nothing; print what would change.
        #[arg(long)]
        dry_run: bool,
        /// Allow `exec` steps (local commands).
        #[arg(long)]
        allow_exec: bool,
        #[command(flatten)]
        control: RunControl,
    },
    /// Render a playbook as a tutorial chapter (Markdown, mkdocs-material style), or a tutorial as a site.
    Docs {
        /// Playbook file, or a tutorial file (then `-o DIR` is the site's directory).
        playbook: PathBuf,
        /// Write to this file instead of stdout (a tutorial: the site's directory, required).
        #[arg(short, long, value_name = "FILE|DIR")]
        output: Option<PathBuf>,
        /// Fill "output of a real run" blocks from a JSON report (`run --report json=...`).
        #[arg(long, value_name = "FILE")]
        from_report: Option<PathBuf>,
        #[command(flatten)]
        inputs: Inputs,
    },
    /// Print the least-privilege RBAC (Roles, ClusterRoles, bindings) the playbooks' steps need.
    Rbac {
        /// Playbook or tutorial files, or directories.
        #[arg(required = true)]
        playbooks: Vec<PathBuf>,
        /// Only this cluster's objects (a cluster name of the playbooks).
        #[arg(long, value_name = "NAME")]
        cluster: Option<String>,
        /// The service account to bind the roles to.
        #[arg(
            long,
            value_name = "NAMESPACE/NAME",
            default_value = "scenario/scenario"
        )]
        service_account: String,
        /// Name of the roles and bindings.
        #[arg(long, value_name = "NAME", default_value = "scenario")]
        name: String,
        /// Write to this file instead of stdout.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        #[command(flatten)]
        inputs: Inputs,
    },
    /// Read a tutorial chapter (Markdown and the scripts it calls) into a playbook; runs nothing.
    Import {
        /// The chapter's Markdown page, or a site's `mkdocs.yml` (every page of its
        /// nav into a chapter next to `-o`, which then names the tutorial file).
        page: PathBuf,
        /// Where includes, scripts and manifests may come from (default: the page's directory).
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
        /// A variable of the chapter's environment: `--env CLUSTER1=kind-east` (repeatable).
        #[arg(long = "env", value_name = "NAME=VALUE", value_parser = parse_pair)]
        env: Vec<(String, String)>,
        /// An `.envrc`-style file of `export NAME=VALUE` lines (repeatable; `--env` wins).
        #[arg(long = "env-file", value_name = "FILE")]
        env_file: Vec<PathBuf>,
        /// Write the playbook to this file instead of stdout (paths in it are relative to it);
        /// for a site, the tutorial file (required).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Also write the import report as JSON to this file.
        #[arg(long, value_name = "FILE")]
        report: Option<PathBuf>,
    },
    /// Scaffold a new chapter: a playbook, a manifests folder, a README snippet.
    Init {
        /// Chapter name (letters, digits, `-`).
        name: String,
        /// Directory to create it in (default: the current one).
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
    /// Print the playbook JSON Schema (or, with --report, the JSON report's).
    Schema {
        /// The schema of `--report json=...` instead.
        #[arg(long)]
        report: bool,
        /// Write to this file instead of stdout.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Print shell completions.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Join the JSON reports of a run's shards, or draw many nights' history.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Local Kubernetes control planes on loopback (for tests, CI and demos).
    #[command(subcommand)]
    Lab(LabCommand),
}

/// Values given to a playbook on the command line.
#[derive(Debug, Clone, Args, Default)]
pub struct Inputs {
    /// Set a variable: `--var name=value` (repeatable; wins over --vars-file and defaults).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_pair)]
    pub vars: Vec<(String, String)>,
    /// Read variables from a YAML mapping (repeatable).
    #[arg(long = "vars-file", value_name = "FILE")]
    pub vars_files: Vec<PathBuf>,
    /// Map a cluster to a kubeconfig context: `--context cluster1=kind-east` (repeatable),
    /// or `--context kind-east` when the playbook has one cluster.
    #[arg(long = "context", value_name = "[CLUSTER=]CONTEXT", value_parser = parse_context)]
    pub contexts: Vec<(String, String)>,
    /// Where manifests and kustomize directories may come from (default: the playbook's
    /// `root:`, else its directory).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
}

/// Which playbooks and steps run, and what is written about them.
#[derive(Debug, Clone, Args, Default)]
pub struct RunControl {
    /// Write a report: `junit=PATH`, `json=PATH` or `html=PATH` (repeatable).
    #[arg(long = "report", value_name = "FORMAT=PATH", value_parser = parse_pair)]
    pub reports: Vec<(String, String)>,
    /// Start at this step (earlier steps are skipped).
    #[arg(long, value_name = "STEP")]
    pub from: Option<String>,
    /// Stop after this step.
    #[arg(long, value_name = "STEP")]
    pub until: Option<String>,
    /// Run only these steps (repeatable).
    #[arg(long, value_name = "STEP")]
    pub only: Vec<String>,
    /// Run only steps with one of these tags.
    #[arg(long, value_delimiter = ',', value_name = "TAG,...")]
    pub tags: Vec<String>,
    /// Skip steps with one of these tags.
    #[arg(long, value_delimiter = ',', value_name = "TAG,...")]
    pub skip_tags: Vec<String>,
    /// Stop after the first playbook that does not pass.
    #[arg(long)]
    pub fail_fast: bool,
    /// Run up to N playbooks at once.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: u16,
    /// `text` (default) or `json`: JSON Lines events on stdout, for tools.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    pub format: String,
    /// Old name of `--format` (`-o`/`--output` names a file in every other command).
    #[arg(long = "output", hide = true, value_parser = ["text", "json"])]
    pub output_format: Option<String>,
    /// Time the pre-flight may take per cluster to connect and resolve kinds,
    /// transient errors retried inside it (default 20s, at most 24h).
    #[arg(long, value_name = "DURATION", value_parser = parse_budget)]
    pub preflight_timeout: Option<std::time::Duration>,
    /// Run shard I of N (playbooks in path order, round robin): `--shard 2/3`.
    #[arg(long, value_name = "I/N", value_parser = super::shard::parse_shard)]
    pub shard: Option<(usize, usize)>,
    /// In a Kubernetes Indexed Job: the number of shards, the shard being the
    /// pod's JOB_COMPLETION_INDEX (0-based). `--shard` wins over both.
    #[arg(long, value_name = "N", env = "SCENARIO_SHARD_COUNT", value_parser = super::shard::parse_count)]
    pub shard_count: Option<usize>,
    /// Of the playbooks given, run only those that failed or errored in this
    /// JSON report of an earlier run (`--report json=FILE`).
    #[arg(long, value_name = "REPORT")]
    pub rerun_failed: Option<std::path::PathBuf>,
    /// Also write a JSON and a JUnit report into DIR, under names no other
    /// shard or run uses (`shard-I-of-N-...`), for `scenario report merge`.
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<std::path::PathBuf>,
    /// With a shard: assign playbooks to shards by their durations in this
    /// JSON report of an earlier run (longest first to the least loaded
    /// shard) instead of round robin.
    #[arg(long, value_name = "REPORT")]
    pub balance: Option<std::path::PathBuf>,
    /// A tutorial: run the chapters after one that does not pass (by default the run stops there).
    #[arg(long)]
    pub keep_going: bool,
    /// A tutorial: run only this chapter (by its playbook `name`).
    #[arg(long, value_name = "NAME", conflicts_with = "from_chapter")]
    pub chapter: Option<String>,
    /// A tutorial: start at this chapter (earlier ones do not run).
    #[arg(long, value_name = "NAME")]
    pub from_chapter: Option<String>,
}

impl RunControl {
    /// `--format`, or its old name `--output`.
    #[must_use]
    pub fn format(&self) -> &str {
        self.output_format.as_deref().unwrap_or(&self.format)
    }
}

/// A duration more than 0 and at most the limit of every duration (24h).
fn parse_budget(s: &str) -> Result<std::time::Duration, String> {
    match crate::language::options::parse_duration(s)? {
        d if d.is_zero() => Err("the pre-flight needs more than 0s".to_owned()),
        d => Ok(d),
    }
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Join the JSON reports of a run's shards into one (JSON, and JUnit and HTML).
    Merge {
        /// JSON report files, or directories holding them (`run --report-dir DIR`).
        #[arg(required = true)]
        reports: Vec<PathBuf>,
        /// The merged JSON report.
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        /// Also write the merged JUnit XML report.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// Also write the merged HTML report.
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        /// The number of shards there must be (else the count the reports record).
        #[arg(long, value_name = "N", value_parser = super::shard::parse_count)]
        expect_shards: Option<usize>,
    },
    /// Per playbook and step over many nights' JSON reports: results, durations,
    /// split answers, and flaky steps.
    History {
        /// JSON report files (one a night), or directories holding them.
        #[arg(required = true)]
        reports: Vec<PathBuf>,
        /// The page (or JSON) to write.
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        /// `html` (default): a self-contained page; `json`: the same data for tools.
        #[arg(long, default_value = "html", value_parser = ["html", "json"])]
        format: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum LabCommand {
    /// Install packages and build the control-plane binaries (cached; ~10 min the first time).
    Install,
    /// Start etcd and one API server + controller manager per cluster; write a kubeconfig.
    Up {
        /// Cluster names.
        #[arg(long, value_delimiter = ',', default_value = "mgmt,cluster1,cluster2")]
        clusters: Vec<String>,
        /// State directory (default: $XDG_STATE_HOME/scenario/lab).
        #[arg(long, env = "SCENARIO_LAB_DIR")]
        dir: Option<PathBuf>,
    },
    /// Stop exactly the processes `up` started and remove the state.
    Down {
        #[arg(long, env = "SCENARIO_LAB_DIR")]
        dir: Option<PathBuf>,
    },
    /// Show whether the lab runs, its components and kubeconfig.
    Status {
        #[arg(long, env = "SCENARIO_LAB_DIR")]
        dir: Option<PathBuf>,
    },
    /// Install the test CRDs of the chapter (Gloo Mesh on the first cluster, Istio on the others).
    Crds {
        #[arg(long, env = "SCENARIO_LAB_DIR")]
        dir: Option<PathBuf>,
    },
}

/// `CLUSTER=CONTEXT`, or `CONTEXT` alone (the cluster name is then empty:
/// the playbook's only cluster).
fn parse_context(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some(_) => parse_pair(s),
        None if !s.trim().is_empty() => Ok((String::new(), s.trim().to_owned())),
        None => Err("expected CLUSTER=CONTEXT or CONTEXT".to_owned()),
    }
}

fn parse_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(format!("expected NAME=VALUE, found `{s}`")),
    }
}
