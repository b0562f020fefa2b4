//! Every limit in one place (documented in docs/limits.md). Validation refuses
//! values past them with a located error; rendering enforces the template
//! limits while it runs.

use std::time::Duration;

/// Largest playbook, vars file or manifest file (bytes).
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;
/// Longest duration anywhere (a step timeout, a sleep, a retry delay).
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);
/// Most attempts of a step's retry policy.
pub const MAX_ATTEMPTS: u32 = 100;
/// Most requests of one probe.
pub const MAX_REQUESTS: u32 = 1_000_000;
/// Most requests of one probe in flight at once.
pub const MAX_CONCURRENCY: u32 = 256;
/// Template fuel: minijinja's count of executed instructions per render.
pub const TEMPLATE_FUEL: u64 = 1_000_000;
/// Largest output of one template render (bytes), enforced as it renders.
pub const MAX_RENDERED_BYTES: usize = 4 * 1024 * 1024;
/// Largest value one template operation builds (bytes of text; a list or
/// map counts as its text): no template needs a value longer than the longest
/// text it may render.
pub const MAX_TEMPLATE_VALUE_BYTES: usize = MAX_RENDERED_BYTES;
/// Most bytes one render builds in all: every value its operators and filters
/// make and every output captured by a block, counted before each is built.
pub const MAX_TEMPLATE_WORK_BYTES: usize = 32 * 1024 * 1024;
/// The stack a template with a loop renders on (reserved, used as deep as the
/// values it nests: fuel allows about 200,000 levels).
pub const TEMPLATE_STACK_BYTES: usize = 512 * 1024 * 1024;
/// Most items of a list a template builds (the engine's own `range` limit).
pub const MAX_TEMPLATE_ITEMS: usize = 100_000;
/// Most shards of a run (`--shard I/N`, `--shard-count`): a Kubernetes Indexed
/// Job has at most 100,000 completions.
pub const MAX_SHARDS: usize = 100_000;
/// Deepest YAML nesting.
pub const MAX_YAML_DEPTH: usize = 64;
/// Most YAML aliases (and anchors) in one file.
pub const MAX_YAML_ALIASES: usize = 1_000;
/// Most YAML nodes in one file.
pub const MAX_YAML_NODES: usize = 250_000;
/// Most YAML documents (objects) in one manifest.
pub const MAX_DOCUMENTS: usize = 1000;
/// Largest compiled regular expression (bytes, the regex crate's size limit).
pub const MAX_REGEX_BYTES: usize = 1024 * 1024;
/// A probe answer's body by default (`maxBody`): a longer body is an error for that answer.
pub const DEFAULT_MAX_BODY: u64 = 1024 * 1024;
/// The largest `maxBody` a probe may set.
pub const MAX_BODY: u64 = 64 * 1024 * 1024;
/// The most output an `exec` command may write per stream (bytes); past it the command is stopped.
pub const MAX_EXEC_OUTPUT: usize = 4 * 1024 * 1024;
/// Highest probe request rate (requests per second).
pub const MAX_RATE: f64 = 100_000.0;
/// Lowest probe request rate (requests per second): one request a day. A
/// slower rate would pace requests further apart than any timeout allows.
pub const MIN_RATE: f64 = 1.0 / 86_400.0;
/// Most operators (`or`, `~`, `+`, `|`, `.`, `[`, `(`, ...) in one template tag
/// or one `when:` expression: the template engine parses and compiles
/// expressions recursively, so a longer chain could overflow the stack.
pub const MAX_EXPRESSION_OPERATORS: usize = 200;
/// Longest `when:` expression (bytes).
pub const MAX_CONDITION_BYTES: usize = 4096;
/// Largest report read by `docs --from-report` (bytes).
pub const MAX_REPORT_BYTES: usize = 16 * 1024 * 1024;
/// Most JSON reports one `scenario report merge` or `report history` reads
/// (a shard each: as many as an Indexed Job has completions).
pub const MAX_MERGED_REPORTS: usize = MAX_SHARDS;
/// Most bytes of reports one `report merge` or `report history` reads in all
/// (each report also stays under [`MAX_REPORT_BYTES`]).
pub const MAX_MERGED_BYTES: u64 = 1024 * 1024 * 1024;
/// Most reports (nights) one `scenario report history` reads.
pub const MAX_HISTORY_NIGHTS: usize = 1000;
/// Longest value quoted in a message (characters); longer ones are cut.
pub const MAX_QUOTED_CHARS: usize = 120;

/// Longest line of outside text shown or reported (characters): a server's
/// answer, a cluster's message, a command's output; longer ones are cut.
pub const MAX_LINE_CHARS: usize = 1000;

/// `scenario import`: includes within includes.
pub const MAX_IMPORT_INCLUDE_DEPTH: usize = 16;
/// `scenario import`: scripts calling scripts (and shell functions calling functions).
pub const MAX_IMPORT_CALL_DEPTH: usize = 16;
/// `scenario import`: shell commands read in all (the page and its scripts).
pub const MAX_IMPORT_COMMANDS: usize = 20_000;
/// `scenario import`: the largest shell block or script (bytes).
pub const MAX_IMPORT_BLOCK_BYTES: usize = 256 * 1024;
/// `scenario import`: brackets and braces nested in one shell block (the shell
/// parser recurses per level).
pub const MAX_IMPORT_NESTING: usize = 64;

/// `text`, cut to [`MAX_QUOTED_CHARS`] characters with a note of the rest.
#[must_use]
pub fn excerpt(text: &str) -> String {
    let n = text.chars().count();
    if n <= MAX_QUOTED_CHARS {
        return text.to_owned();
    }
    let head: String = text.chars().take(MAX_QUOTED_CHARS).collect();
    format!("{head}… ({n} characters)")
}
