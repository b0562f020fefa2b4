//! The shell parser (brush-parser) on one block or script, bounded before it
//! runs (size, bracket nesting), its errors located in the page or script;
//! an apostrophe POSIX sh reads as text in a `"${X:?message}"` is read so
//! (`apostrophe.rs`).

use brush_parser::ast;

use super::cx::{Cx, Frame, ImportError};

/// The block's syntax tree, and the apostrophes of `?` messages read as text.
pub fn parse(
    cx: &Cx<'_>,
    text: &str,
    frame: &Frame,
) -> Result<(ast::Program, Vec<super::apostrophe::Found>), ImportError> {
    let start = format!("{}:{}:1", frame.file, frame.line0 + 1);
    if text.len() > cx.limits.block_bytes {
        return Err(ImportError::new(
            start,
            format!(
                "a shell block or script of {} bytes; at most {}",
                text.len(),
                cx.limits.block_bytes
            ),
        ));
    }
    // The parser recurses per nesting level: bound it before parsing.
    let mut depth = 0usize;
    let mut line = 1;
    for c in text.chars() {
        match c {
            '(' | '{' | '[' => depth += 1,
            ')' | '}' | ']' => depth = depth.saturating_sub(1),
            '\n' => line += 1,
            _ => {}
        }
        if depth > cx.limits.nesting {
            return Err(ImportError::new(
                format!("{}:{}:1", frame.file, frame.line0 + line),
                format!("brackets nest deeper than {} levels", cx.limits.nesting),
            ));
        }
    }
    let at = |l: usize, c: usize| {
        format!(
            "{}:{}:{}",
            frame.file,
            frame.line0 + l,
            c + if l == 1 { frame.col0 } else { 0 }
        )
    };
    let first = parse_text(text);
    if first.is_err() {
        let found = super::apostrophe::find(text);
        if let Some(f) = found.iter().find(|f| !f.is_message()) {
            let (l, c) = super::apostrophe::line_col(text, f.at);
            return Err(ImportError::new(
                at(l, c),
                format!(
                    "an apostrophe in the word of `${{{}{}...}}` inside double quotes: POSIX sh reads it as text, bash 5 looks for the closing quote and refuses the line; write the word without an apostrophe, or set the value outside the double quotes",
                    f.name, f.op
                ),
            ));
        }
        if !found.is_empty()
            && let Ok(p) = parse_text(&super::apostrophe::rewrite(text, &found))
        {
            return Ok((p, found));
        }
    }
    first.map(|p| (p, Vec::new())).map_err(|e| {
        let (l, c) = match &e {
            brush_parser::ParseError::ParsingNear(p) => (p.line, p.column),
            brush_parser::ParseError::Tokenizing {
                position: Some(p), ..
            } => (p.line, p.column),
            _ => (text.lines().count().max(1), 1),
        };
        ImportError::new(at(l, c), format!("not shell that bash reads: {e}"))
    })
}

fn parse_text(text: &str) -> Result<ast::Program, brush_parser::ParseError> {
    let mut parser = brush_parser::Parser::new(
        std::io::BufReader::new(text.as_bytes()),
        &brush_parser::ParserOptions::default(),
    );
    parser.parse_program()
}
