//! The page as CommonMark (pulldown-cmark, with source offsets): headings,
//! prose kept as written, fenced code blocks, and a task list of outcomes.

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

use super::cx::ImportError;
use super::page::Page;

/// A fenced code block.
#[derive(Debug, Clone)]
pub struct Code {
    pub lang: String,
    pub text: String,
    /// The block as written (fences included), for prose.
    pub raw: String,
    /// The 0-based line of the page text where its content starts.
    pub line: usize,
}

/// One top-level piece of the page.
#[derive(Debug, Clone)]
pub enum Item {
    Heading(u8, String),
    Prose(String),
    Code(Code),
    Outcomes(Vec<String>),
}

/// The languages whose blocks are commands.
#[must_use]
pub fn is_shell(lang: &str) -> bool {
    matches!(
        lang,
        "bash" | "sh" | "shell" | "zsh" | "console" | "shell-session" | "shellsession" | "terminal"
    )
}

/// The languages whose blocks, after a command, are its expected output.
#[must_use]
pub fn is_output(lang: &str) -> bool {
    matches!(
        lang,
        "text" | "txt" | "plain" | "plaintext" | "output" | "json" | "yaml" | "yml" | "" | "none"
    )
}

impl Code {
    /// Whether lines start with a `$ ` prompt (console style).
    #[must_use]
    pub fn has_prompts(&self) -> bool {
        self.text.lines().any(|l| l.trim_start().starts_with("$ "))
    }

    /// The commands of the block: (shell text, output shown after it, first
    /// line within the block, columns of a stripped prompt).
    #[must_use]
    pub fn commands(&self) -> Vec<(String, Option<String>, usize, usize)> {
        if !self.has_prompts() {
            return vec![(self.text.clone(), None, 0, 0)];
        }
        let mut out: Vec<(String, Option<String>, usize, usize)> = Vec::new();
        let mut continued = false;
        let mut heredoc: Option<String> = None;
        for (i, line) in self.text.lines().enumerate() {
            let t = line.trim_start();
            if let Some(tag) = &heredoc {
                if let Some(last) = out.last_mut() {
                    last.0.push_str(line);
                    last.0.push('\n');
                }
                if t.trim_end() == tag {
                    heredoc = None;
                }
                continue;
            }
            if let Some(cmd) = t.strip_prefix("$ ") {
                out.push((format!("{cmd}\n"), None, i, line.len() - t.len() + 2));
                continued = cmd.trim_end().ends_with('\\');
                heredoc = heredoc_tag(cmd);
            } else if let Some(last) = out.last_mut() {
                if continued {
                    last.0.push_str(line);
                    last.0.push('\n');
                    continued = line.trim_end().ends_with('\\');
                } else {
                    let o = last.1.get_or_insert_with(String::new);
                    o.push_str(line);
                    o.push('\n');
                }
            }
        }
        out
    }
}

/// The end tag of a here-document a command line opens (`<<EOF`, `<<-'END'`).
fn heredoc_tag(cmd: &str) -> Option<String> {
    let at = cmd.find("<<")?;
    let rest = cmd[at + 2..].trim_start_matches('-').trim_start();
    if rest.starts_with('<') {
        return None;
    }
    let tag: String = rest
        .trim_start_matches(['\'', '"'])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!tag.is_empty()).then_some(tag)
}

/// The page's items in order.
pub fn items(page: &Page) -> Result<Vec<Item>, ImportError> {
    let text = &page.text;
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TASKLISTS);
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    let starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let mut items = Vec::new();
    let mut depth = 0usize;
    let mut start = 0usize;
    let mut heading: Option<(u8, String)> = None;
    let mut code: Option<Code> = None;
    let mut tasks: Option<Vec<String>> = None;
    let mut task_item = String::new();
    for (event, range) in Parser::new_ext(text, opts).into_offset_iter() {
        match event {
            Event::Start(tag) => {
                if depth == 0 {
                    start = range.start;
                    match &tag {
                        Tag::Heading { level, .. } => heading = Some((*level as u8, String::new())),
                        Tag::CodeBlock(CodeBlockKind::Fenced(info)) => {
                            let lang = info
                                .split(|c: char| c.is_whitespace() || c == '{' || c == ',')
                                .next()
                                .unwrap_or("")
                                .trim_start_matches('.')
                                .to_ascii_lowercase();
                            code = Some(Code {
                                lang,
                                text: String::new(),
                                raw: String::new(),
                                line: line_of(&starts, range.start) + 1,
                            });
                        }
                        Tag::List(_) => tasks = Some(Vec::new()),
                        _ => {}
                    }
                }
                if matches!(tag, Tag::Item) {
                    task_item.clear();
                }
                depth += 1;
            }
            Event::End(end) => {
                depth = depth.saturating_sub(1);
                if matches!(end, TagEnd::Item)
                    && let Some(t) = tasks.as_mut()
                {
                    t.push(task_item.trim().to_owned());
                }
                if depth == 0 {
                    let raw = text[start..range.end].trim_end().to_owned();
                    items.push(close(end, raw, &mut heading, &mut code, &mut tasks));
                }
            }
            Event::TaskListMarker(_) => {}
            Event::Text(t) | Event::Code(t) => {
                if let Some(h) = heading.as_mut() {
                    h.1.push_str(&t);
                } else if let Some(c) = code.as_mut() {
                    c.text.push_str(&t);
                } else {
                    task_item.push_str(&t);
                }
            }
            Event::SoftBreak | Event::HardBreak => task_item.push(' '),
            _ if depth == 0 => items.push(Item::Prose(text[range].trim_end().to_owned())),
            _ => {}
        }
    }
    mark_outcomes(&mut items);
    Ok(items)
}

fn close(
    end: TagEnd,
    raw: String,
    heading: &mut Option<(u8, String)>,
    code: &mut Option<Code>,
    tasks: &mut Option<Vec<String>>,
) -> Item {
    match end {
        TagEnd::Heading(_) => {
            let (l, t) = heading.take().unwrap_or((2, String::new()));
            Item::Heading(l, t.trim().to_owned())
        }
        TagEnd::CodeBlock => match code.take() {
            Some(mut c) => {
                c.raw = raw;
                Item::Code(c)
            }
            None => Item::Prose(raw),
        },
        TagEnd::List(_) => {
            let t = tasks.take().unwrap_or_default();
            if !t.is_empty()
                && raw.lines().all(|l| {
                    let l = l
                        .trim_start()
                        .trim_start_matches(['-', '*', '+'])
                        .trim_start();
                    l.starts_with("[x]")
                        || l.starts_with("[X]")
                        || l.starts_with("[ ]")
                        || l.is_empty()
                })
            {
                Item::Outcomes(t)
            } else {
                Item::Prose(raw)
            }
        }
        _ => Item::Prose(raw),
    }
}

/// Only a task list before the first heading gives outcomes; later ones stay prose.
fn mark_outcomes(items: &mut [Item]) {
    let mut seen_heading = false;
    for item in items.iter_mut() {
        match item {
            Item::Heading(..) => seen_heading = true,
            Item::Outcomes(list) if seen_heading => {
                let prose = list
                    .iter()
                    .map(|l| format!("- [x] {l}"))
                    .collect::<Vec<_>>()
                    .join("\n");
                *item = Item::Prose(prose);
            }
            _ => {}
        }
    }
}

/// The 0-based line of a byte offset, from the offsets where lines start.
fn line_of(starts: &[usize], offset: usize) -> usize {
    starts.partition_point(|&s| s <= offset).saturating_sub(1)
}
