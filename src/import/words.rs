//! Shell words as the importer understands them: each part is a literal, the
//! value of a variable of the chapter's environment, a value captured by an
//! earlier step, or unknown; and how a word is written in a playbook template.

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
    /// `KEY=value` written as one word (`--flag=value`, `NAME=value`): the
    /// value part, as a word of its own.
    #[must_use]
    pub fn after_key(&self, key: &str) -> Word {
        let mut parts = self.0.clone();
        if let Some(Val::Lit(first)) = parts.first_mut()
            && let Some(rest) = first.strip_prefix(&format!("{key}="))
        {
            *first = rest.to_owned();
        }
        Word(
            parts
                .into_iter()
                .filter(|p| *p != Val::Lit(String::new()))
                .collect(),
        )
    }

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

    pub fn push(&mut self, v: Val) {
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
