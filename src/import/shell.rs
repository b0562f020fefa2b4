//! Shell blocks and scripts, parsed by brush-parser and walked: lists,
//! `&&`/`||`, pipelines, loops (a probe in a loop of N sends N requests),
//! `if` (guards for missing arguments and platform branches are understood,
//! other conditions on live state become one `exec`), functions, scripts the
//! block calls (`bin/x.sh "$CLUSTER1"` binds `$1`), `source`d helpers.

use std::path::Path;

use brush_parser::ast::{
    self, Command, CommandPrefixOrSuffixItem, CompoundCommand, CompoundList, IoFileRedirectTarget,
    IoRedirect, SourceLocation,
};

use super::cx::{Cmd, Cx, Frame, ImportError, Stdin};
use super::steps::Next;
use super::words::{Val, Word};

/// Reads one shell block (or script) of the page.
pub fn read_block(cx: &mut Cx<'_>, text: &str, frame: Frame) -> Result<(), ImportError> {
    let (program, quirks) = super::parse::parse(cx, text, &frame)?;
    cx.frames.push(frame);
    for q in quirks {
        let (l, c) = super::apostrophe::line_col(text, q.at);
        let at = cx.at(l, c);
        cx.report.note(
            &at,
            &format!("apostrophe in \"${{{}{}...}}\"", q.name, q.op),
            "read as text (`’`); POSIX sh does so, bash 5 refuses this line (it looks for the closing quote)",
        );
    }
    let result = program
        .complete_commands
        .iter()
        .try_for_each(|list| compound_list(cx, list));
    cx.frames.pop();
    result
}

fn compound_list(cx: &mut Cx<'_>, list: &CompoundList) -> Result<(), ImportError> {
    for item in &list.0 {
        for (_, pipeline) in &item.0 {
            self::pipeline(cx, pipeline)?;
        }
    }
    Ok(())
}

fn loc_of(cx: &Cx<'_>, node: &impl SourceLocation) -> String {
    node.location()
        .map_or_else(|| cx.at(1, 1), |s| cx.at(s.start.line, s.start.column))
}

fn pipeline(cx: &mut Cx<'_>, p: &ast::Pipeline) -> Result<(), ImportError> {
    if p.seq.len() == 1 {
        return command(cx, &p.seq[0]);
    }
    let mut cmds = Vec::new();
    for c in &p.seq {
        match c {
            Command::Simple(sc) => cmds.push(simple(cx, sc)?),
            _ => {
                let at = loc_of(cx, p);
                super::emit::exec(
                    cx,
                    &p.to_string(),
                    &at,
                    "a pipeline through a compound command",
                );
                return Ok(());
            }
        }
    }
    super::steps::pipeline(cx, cmds);
    Ok(())
}

fn command(cx: &mut Cx<'_>, c: &Command) -> Result<(), ImportError> {
    match c {
        Command::Simple(sc) => {
            let cmd = simple(cx, sc)?;
            match super::steps::simple(cx, cmd)? {
                Next::Done => Ok(()),
                Next::Script {
                    real,
                    args,
                    sourced,
                    at,
                } => call_script(cx, &real, args, sourced, &at),
                Next::Function { name, args, at } => {
                    call_function(cx, &name, args, &at).map(|_| ())
                }
            }
        }
        Command::Compound(cc, _) => compound(cx, cc),
        Command::Function(f) => {
            let frame = cx.frames.last().cloned();
            if let Some(frame) = frame {
                cx.functions
                    .insert(f.fname.value.clone(), (f.body.clone(), frame));
            }
            let at = loc_of(cx, f);
            cx.report.understood(
                &at,
                &format!("{}()", f.fname.value),
                "a shell function: its body is read where it is called",
            );
            Ok(())
        }
        Command::ExtendedTest(..) => {
            let at = loc_of(cx, c);
            cx.report
                .understood(&at, &c.to_string(), "a test: decides what runs next");
            Ok(())
        }
    }
}

/// A simple command with its words expanded.
fn simple(cx: &mut Cx<'_>, sc: &ast::SimpleCommand) -> Result<Cmd, ImportError> {
    cx.commands += 1;
    let at = loc_of(cx, sc);
    if cx.commands > cx.limits.commands {
        return Err(ImportError::new(
            at,
            format!(
                "more than {} shell commands (page and scripts)",
                cx.limits.commands
            ),
        ));
    }
    let mut cmd = Cmd {
        text: sc.to_string(),
        at: at.clone(),
        ..Cmd::default()
    };
    let outer = std::mem::replace(&mut cx.here, at);
    let mut items: Vec<&CommandPrefixOrSuffixItem> = Vec::new();
    if let Some(p) = &sc.prefix {
        items.extend(p.0.iter());
    }
    let prefix_len = items.len();
    if let Some(w) = &sc.word_or_name {
        let word = cx.expand(&w.value);
        cmd.raw.push(w.value.clone());
        cmd.argv.push(word);
    }
    if let Some(s) = &sc.suffix {
        items.extend(s.0.iter());
    }
    for (i, item) in items.into_iter().enumerate() {
        match item {
            CommandPrefixOrSuffixItem::AssignmentWord(a, w) if i < prefix_len => {
                let value = match &a.value {
                    ast::AssignmentValue::Scalar(v) => cx.expand(&v.value),
                    ast::AssignmentValue::Array(_) => Word(vec![Val::Unknown("an array".into())]),
                };
                cmd.assigns
                    .push((a.name.to_string(), value, w.value.clone()));
            }
            CommandPrefixOrSuffixItem::AssignmentWord(_, w)
            | CommandPrefixOrSuffixItem::Word(w) => {
                cmd.raw.push(w.value.clone());
                let word = cx.expand(&w.value);
                cmd.argv.push(word);
            }
            CommandPrefixOrSuffixItem::IoRedirect(r) => redirect(cx, r, &mut cmd),
            CommandPrefixOrSuffixItem::ProcessSubstitution(..) => {
                cmd.unknown = Some("a process substitution".to_owned());
            }
        }
    }
    cx.here = outer;
    Ok(cmd)
}

fn redirect(cx: &mut Cx<'_>, r: &IoRedirect, cmd: &mut Cmd) {
    match r {
        IoRedirect::HereDocument(_, doc) => {
            cmd.stdin = Some(Stdin::Heredoc {
                text: doc.doc.value.clone(),
                expand: doc.requires_expansion,
            });
        }
        IoRedirect::HereString(_, w) => {
            let word = cx.expand(&w.value);
            cmd.stdin = Some(Stdin::Text(word));
        }
        IoRedirect::File(fd, kind, IoFileRedirectTarget::Filename(w)) => {
            let word = cx.expand(&w.value);
            match kind {
                ast::IoFileRedirectKind::Read => cmd.stdin = Some(Stdin::File(word)),
                _ if fd.is_none_or(|f| f == 1)
                    && word.concrete().as_deref() != Some("/dev/null") =>
                {
                    cmd.writes = Some(w.value.clone());
                }
                _ => {}
            }
        }
        _ => {}
    }
}

fn compound(cx: &mut Cx<'_>, cc: &CompoundCommand) -> Result<(), ImportError> {
    match cc {
        CompoundCommand::BraceGroup(b) => compound_list(cx, &b.list),
        CompoundCommand::Subshell(s) => {
            let saved = (cx.vars.clone(), cx.cwd.clone());
            let r = compound_list(cx, &s.list);
            (cx.vars, cx.cwd) = saved;
            r
        }
        CompoundCommand::ForClause(f) => for_loop(cx, f),
        CompoundCommand::IfClause(i) => if_clause(cx, i),
        CompoundCommand::WhileClause(w) | CompoundCommand::UntilClause(w) => {
            let at = cx.at(w.2.start.line, w.2.start.column);
            if has_probe(&w.1.list) {
                let saved = cx.repeat.replace((100, None));
                cx.report.understood(
                    &at,
                    "while/until loop",
                    "a loop until interrupted around a request: a probe of 100 requests",
                );
                let r = compound_list(cx, &w.1.list);
                cx.repeat = saved;
                r
            } else {
                super::emit::exec(
                    cx,
                    &cc.to_string(),
                    &at,
                    "a loop that waits on live state: no step kind reads its condition",
                );
                Ok(())
            }
        }
        CompoundCommand::CaseClause(c)
            if c.value.value.contains("uname") || c.value.value.contains("OSTYPE") =>
        {
            let at = cx.at(c.loc.start.line, c.loc.start.column);
            cx.report.understood(
                &at,
                &format!("case {}", c.value.value),
                "a platform branch: the first branch is read, the others do the same elsewhere",
            );
            match c.cases.first().and_then(|i| i.cmd.as_ref()) {
                Some(list) => compound_list(cx, list),
                None => Ok(()),
            }
        }
        other => {
            let at = loc_of(cx, other);
            super::emit::exec(
                cx,
                &other.to_string(),
                &at,
                "a compound command that depends on live state",
            );
            Ok(())
        }
    }
}

/// Whether a list calls curl, http, https or wget (then a loop around it is a probe's count).
fn has_probe(list: &CompoundList) -> bool {
    list.to_string()
        .split(|c: char| c.is_whitespace() || c == ';' || c == '(' || c == '|' || c == '&')
        .any(|w| matches!(w, "curl" | "http" | "https" | "wget"))
}

fn for_loop(cx: &mut Cx<'_>, f: &ast::ForClauseCommand) -> Result<(), ImportError> {
    let at = cx.at(f.loc.start.line, f.loc.start.column);
    let values: Vec<String> = f
        .values
        .as_ref()
        .map(|v| v.iter().map(|w| w.value.clone()).collect())
        .unwrap_or_default();
    let mut count: u64 = 0;
    let mut literal = Vec::new();
    for v in &values {
        if let Some(n) = range_count(v).or_else(|| seq_count(v)) {
            count = count.saturating_add(n);
            literal.clear();
            literal.push(None);
        } else {
            count += 1;
            literal.push(cx.expand(v).concrete());
        }
    }
    if has_probe(&f.body.list) {
        let n = count.clamp(1, u64::from(crate::language::limits::MAX_REQUESTS));
        cx.report.understood(
            &at,
            &format!("for {} in ...", f.variable_name),
            &format!("a loop of {n} around a request: the probe sends {n} requests"),
        );
        let saved = cx.repeat.replace((n, None));
        let r = compound_list(cx, &f.body.list);
        cx.repeat = saved;
        return r;
    }
    if literal.iter().all(Option::is_some) && !literal.is_empty() && literal.len() <= 32 {
        cx.report.understood(
            &at,
            &format!("for {} in ...", f.variable_name),
            "a loop over a list of values: its body is read once per value",
        );
        for v in literal.into_iter().flatten() {
            cx.vars.insert(f.variable_name.clone(), Val::Lit(v));
            compound_list(cx, &f.body.list)?;
        }
        return Ok(());
    }
    let text = format!(
        "for {} in {}; do {}; done",
        f.variable_name,
        values.join(" "),
        f.body.list
    );
    super::emit::exec(cx, &text, &at, "a loop over values known only at run time");
    Ok(())
}

/// `{1..10}`: the number of values.
fn range_count(word: &str) -> Option<u64> {
    let inner = word.strip_prefix('{')?.strip_suffix('}')?;
    let (a, b) = inner.split_once("..")?;
    let (a, b): (i64, i64) = (a.parse().ok()?, b.parse().ok()?);
    Some(a.abs_diff(b) + 1)
}

/// `$(seq 10)`, `$(seq 1 10)`: the number of values.
fn seq_count(word: &str) -> Option<u64> {
    let inner = word.strip_prefix("$(")?.strip_suffix(')')?;
    let nums: Vec<i64> = inner
        .split_whitespace()
        .skip(1)
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    (inner.split_whitespace().next() == Some("seq")).then_some(())?;
    match nums.as_slice() {
        [n] => Some(u64::try_from(*n).ok()?),
        [a, b] => Some(a.abs_diff(*b) + 1),
        _ => None,
    }
}

fn if_clause(cx: &mut Cx<'_>, i: &ast::IfClauseCommand) -> Result<(), ImportError> {
    let at = cx.at(i.loc.start.line, i.loc.start.column);
    let cond = i.condition.to_string();
    if cond.contains("uname") || cond.contains("OSTYPE") {
        cx.report.understood(
            &at,
            &format!("if {}", cond.trim()),
            "a platform branch: the first branch is read, the others do the same elsewhere",
        );
        return compound_list(cx, &i.then);
    }
    let then = i.then.to_string();
    let only_messages = then
        .split([';', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .all(|s| {
            ["echo", "printf", "exit", "return", ">&2"]
                .iter()
                .any(|p| s.starts_with(p))
        });
    if only_messages && i.elses.is_none() {
        cx.report.understood(&at, &format!("if {}", cond.trim()), "a guard (a missing argument or setting): it stops the script with a message; the call site gives what it checks");
        return Ok(());
    }
    let is_test = cond.trim_start().starts_with("[") || cond.trim_start().starts_with("test");
    let only_defaults = then
        .split([';', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .all(|s| {
            s.starts_with("export ") || s.split_once('=').is_some_and(|(k, _)| !k.contains(' '))
        });
    if is_test && only_defaults && i.elses.is_none() && cond.contains("-z") {
        cx.report.understood(
            &at,
            &format!("if {}", cond.trim()),
            "a default for a variable the reader did not set",
        );
        return compound_list(cx, &i.then);
    }
    let text = format!("if {cond}; then {then}; fi");
    super::emit::exec(
        cx,
        &text,
        &at,
        "if/else on live state: no step kind decides between branches",
    );
    Ok(())
}

/// `$(...)`: a value known now (`dirname`, `pwd`, `cd X && pwd`), a capture of
/// a `kubectl get`, or unknown.
pub fn substitution(cx: &mut Cx<'_>, text: &str) -> Val {
    let Some(frame) = cx.frames.last().cloned() else {
        return Val::Unknown(format!("$({text})"));
    };
    let Ok((program, _)) = super::parse::parse(cx, text, &frame) else {
        return Val::Unknown(format!("$({text})"));
    };
    let lists: Vec<&ast::AndOrList> = program
        .complete_commands
        .iter()
        .flat_map(|c| c.0.iter().map(|i| &i.0))
        .collect();
    let [list] = lists.as_slice() else {
        return Val::Unknown(format!("$({text})"));
    };
    let mut value = Val::Unknown(format!("$({text})"));
    let saved = cx.cwd.clone();
    for (_, p) in list.iter() {
        let cmds: Vec<&ast::SimpleCommand> = p
            .seq
            .iter()
            .filter_map(|c| match c {
                Command::Simple(s) => Some(s),
                _ => None,
            })
            .collect();
        if cmds.len() != p.seq.len() {
            break;
        }
        let mut parsed = Vec::new();
        let here = cx.here.clone();
        for sc in cmds {
            match simple(cx, sc) {
                Ok(c) => parsed.push(Cmd {
                    at: here.clone(),
                    ..c
                }),
                Err(_) => return Val::Unknown(format!("$({text})")),
            }
        }
        value = super::steps::value_of(cx, parsed, text);
    }
    cx.cwd = saved;
    value
}

/// Calls a script (or sources it): reads it with `$1`... bound.
pub fn call_script(
    cx: &mut Cx<'_>,
    real: &Path,
    args: Vec<Val>,
    sourced: bool,
    at: &str,
) -> Result<(), ImportError> {
    let shown = real
        .strip_prefix(&cx.root)
        .map_or_else(|_| real.display().to_string(), |p| p.display().to_string());
    if cx.frames.iter().any(|f| f.path.as_deref() == Some(real)) {
        let n = cx.frames.iter().filter(|f| f.path.is_some()).count();
        return Err(ImportError::new(
            at,
            format!("script loop: `{shown}` calls itself (through {n} scripts)"),
        ));
    }
    if cx.frames.len() > cx.limits.call_depth {
        return Err(ImportError::new(
            at,
            format!(
                "scripts call each other deeper than {}",
                cx.limits.call_depth
            ),
        ));
    }
    let text = super::page::read_text(real, &shown, cx.limits.page_bytes)?;
    let stem = real
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .filter(|_| !sourced)
        .or_else(|| cx.frames.last().and_then(|f| f.stem.clone()));
    let frame = Frame {
        file: shown,
        path: Some(real.to_path_buf()),
        line0: 0,
        col0: 0,
        args,
        stem,
    };
    if sourced {
        return read_block(cx, &text, frame);
    }
    let saved = (cx.vars.clone(), cx.cwd.clone(), cx.functions.clone());
    let r = read_block(cx, &text, frame);
    (cx.vars, cx.cwd, cx.functions) = saved;
    r
}

/// Calls a shell function defined earlier.
pub fn call_function(
    cx: &mut Cx<'_>,
    name: &str,
    args: Vec<Val>,
    at: &str,
) -> Result<bool, ImportError> {
    let Some((body, frame)) = cx.functions.get(name).cloned() else {
        return Ok(false);
    };
    if cx.frames.len() > cx.limits.call_depth {
        return Err(ImportError::new(
            at,
            format!(
                "functions call each other deeper than {}",
                cx.limits.call_depth
            ),
        ));
    }
    cx.frames.push(Frame { args, ..frame });
    let r = compound(cx, &body.0);
    cx.frames.pop();
    r.map(|()| true)
}

/// The words of a command that are plain text (for a step's argv).
#[must_use]
pub fn words(cmd: &Cmd) -> Vec<String> {
    cmd.argv.iter().map(Word::template).collect()
}
