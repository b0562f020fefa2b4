//! Shell words as the importer understands them: each part is a literal, the
//! value of a variable of the chapter's environment, a value captured by an
//! earlier step, or unknown. Words are parsed by brush-parser's word parser;
//! `$(...)` is read by the shell reader (a `kubectl get` in it becomes a capture).

use brush_parser::word::{Parameter, ParameterExpr, SpecialParameter, WordPiece};

use super::Cx;

/// One part of an expanded word.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Lit(String),
    /// The value of an environment variable (`--env`, an `export`, or unset).
    Env {
        var: String,
        value: Option<String>,
    },
    /// A value captured by an earlier step (a template variable).
    Capture(String),
    /// Something the import cannot know before a run (said why).
    Unknown(String),
    /// Several parts already written as a template (`http://{{ ip }}/api`).
    Template(String),
}

impl Val {
    #[must_use]
    pub fn env(var: &str, value: Option<String>) -> Val {
        Val::Env {
            var: var.to_owned(),
            value,
        }
    }
}

/// An expanded word.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Word(pub Vec<Val>);

impl Word {
    #[must_use]
    pub fn lit(s: &str) -> Word {
        Word(vec![Val::Lit(s.to_owned())])
    }

    /// The text, when every part is known now.
    #[must_use]
    pub fn concrete(&self) -> Option<String> {
        let mut out = String::new();
        for v in &self.0 {
            match v {
                Val::Lit(s) => out.push_str(s),
                Val::Env { value: Some(s), .. } => out.push_str(s),
                _ => return None,
            }
        }
        Some(out)
    }

    /// The text as a playbook template: variables of the environment as
    /// `env.NAME` with the chapter's value as default, captures by name.
    #[must_use]
    pub fn template(&self) -> String {
        let mut out = String::new();
        for v in &self.0 {
            match v {
                Val::Lit(s) => out.push_str(&escape(s)),
                // An unset variable's default is its name as a host name:
                // a URL that validates and says what to set.
                Val::Env { var, value } => out.push_str(&format!(
                    "{{{{ env.{var} | default('{}') }}}}",
                    value
                        .clone()
                        .unwrap_or_else(|| var.to_ascii_lowercase().replace('_', "-"))
                        .replace(['\'', '\\'], "")
                )),
                Val::Capture(c) => out.push_str(&format!("{{{{ {c} }}}}")),
                Val::Template(t) => out.push_str(t),
                Val::Unknown(_) => out.push_str("{{ '' }}"),
            }
        }
        out
    }

    /// The one part of a word made of one variable.
    #[must_use]
    pub fn single(&self) -> Option<&Val> {
        match self.0.as_slice() {
            [v] => Some(v),
            _ => None,
        }
    }

    /// Why the word is not known now, if it is not.
    #[must_use]
    pub fn unknown(&self) -> Option<String> {
        self.0.iter().find_map(|v| match v {
            Val::Unknown(why) => Some(why.clone()),
            Val::Env { var, value: None } => Some(format!(
                "${var} is not set by the chapter (give it with --env {var}=VALUE)"
            )),
            _ => None,
        })
    }

    fn push(&mut self, v: Val) {
        if let (Some(Val::Lit(a)), Val::Lit(b)) = (self.0.last_mut(), &v) {
            a.push_str(b);
            return;
        }
        if v != Val::Lit(String::new()) {
            self.0.push(v);
        }
    }
}

/// Literal text in a template: `{{`, `{%`, `{#` kept as text.
#[must_use]
pub fn escape(s: &str) -> String {
    if s.contains("{{") || s.contains("{%") || s.contains("{#") {
        format!("{{% raw %}}{s}{{% endraw %}}")
    } else {
        s.to_owned()
    }
}

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
                let v = super::shell::substitution(self, text);
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
