//! Expanding a shell word (brush-parser's word parser): quotes removed,
//! variables looked up in the chapter's environment, `$1` from the call site,
//! `$(...)` read by the shell reader through `Cx::substitution`.

use brush_parser::word::{Parameter, ParameterExpr, SpecialParameter, WordPiece};

use super::cx::Cx;
use super::words::{Val, Word};

fn options() -> brush_parser::ParserOptions {
    brush_parser::ParserOptions::default()
}

impl Cx<'_> {
    /// Expands one word of the shell text (quotes removed, variables looked up).
    pub fn expand(&mut self, raw: &str) -> Word {
        let mut w = Word::default();
        match brush_parser::word::parse(raw, &options()) {
            Ok(pieces) => {
                for p in pieces {
                    self.piece(&p.piece, &mut w);
                }
            }
            Err(_) => w.push(Val::Lit(raw.to_owned())),
        }
        w
    }

    fn piece(&mut self, piece: &WordPiece, w: &mut Word) {
        match piece {
            WordPiece::Text(s) | WordPiece::SingleQuotedText(s) | WordPiece::AnsiCQuotedText(s) => {
                w.push(Val::Lit(s.clone()));
            }
            WordPiece::EscapeSequence(s) => {
                w.push(Val::Lit(s.trim_start_matches('\\').to_owned()));
            }
            WordPiece::DoubleQuotedSequence(inner)
            | WordPiece::GettextDoubleQuotedSequence(inner) => {
                for p in inner {
                    self.piece(&p.piece, w);
                }
            }
            WordPiece::TildeExpansion(_) => w.push(Val::Lit("~".to_owned())),
            WordPiece::ParameterExpansion(expr) => {
                let v = self.parameter(expr);
                w.push(v);
            }
            WordPiece::CommandSubstitution(text)
            | WordPiece::BackquotedCommandSubstitution(text) => {
                let v = (self.substitution)(self, text);
                w.push(v);
            }
            WordPiece::ArithmeticExpression(e) => {
                w.push(Val::Unknown(format!("arithmetic $(({e}))")));
            }
        }
    }

    fn parameter(&mut self, expr: &ParameterExpr) -> Val {
        match expr {
            ParameterExpr::Parameter { parameter, .. }
            | ParameterExpr::IndicateErrorIfNullOrUnset { parameter, .. } => self.lookup(parameter),
            ParameterExpr::UseDefaultValues {
                parameter,
                default_value,
                ..
            }
            | ParameterExpr::AssignDefaultValues {
                parameter,
                default_value,
                ..
            } => match self.lookup(parameter) {
                Val::Env { var, value: None } => {
                    let d = self.expand(default_value.as_deref().unwrap_or(""));
                    match d.concrete() {
                        Some(s) => Val::env(&var, Some(s)),
                        None => d.single().cloned().unwrap_or(Val::Env { var, value: None }),
                    }
                }
                Val::Unknown(_) => {
                    let d = self.expand(default_value.as_deref().unwrap_or(""));
                    d.single().cloned().unwrap_or(Val::Lit(String::new()))
                }
                v => v,
            },
            other => Val::Unknown(
                format!("the expansion {other:?}")
                    .chars()
                    .take(80)
                    .collect(),
            ),
        }
    }

    fn lookup(&self, p: &Parameter) -> Val {
        let frame = self.frames.last();
        match p {
            Parameter::Named(n) => self
                .vars
                .get(n)
                .cloned()
                .unwrap_or_else(|| Val::env(n, None)),
            Parameter::Positional(0) | Parameter::Special(SpecialParameter::ShellName) => frame
                .and_then(|f| f.path.as_ref())
                .map_or(Val::Unknown("$0".into()), |p| {
                    Val::Lit(p.display().to_string())
                }),
            Parameter::Positional(k) => frame
                .and_then(|f| f.args.get(*k as usize - 1).cloned())
                .unwrap_or_else(|| Val::Unknown(format!("${k} is not given at the call site"))),
            Parameter::NamedWithIndex { name, .. } if name == "BASH_SOURCE" => frame
                .and_then(|f| f.path.as_ref())
                .map_or(Val::Unknown("BASH_SOURCE".into()), |p| {
                    Val::Lit(p.display().to_string())
                }),
            Parameter::Special(SpecialParameter::PositionalParameterCount) => {
                Val::Lit(frame.map_or(0, |f| f.args.len()).to_string())
            }
            other => Val::Unknown(format!("{other}")),
        }
    }
}
