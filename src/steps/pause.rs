//! `pause`: stop for the reader in interactive runs ("open the browser
//! now"); skipped when not on a terminal (CI).

use schemars::JsonSchema;
use serde::Deserialize;

use crate::load::Cx;
use crate::yaml::Spanned;

/// Stop until the reader presses Enter (interactive runs only).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", rename = "Pause")]
pub struct RawPause {
    /// What to tell the reader.
    pub message: Spanned<String>,
}

#[derive(Debug, Clone)]
pub struct Pause {
    pub message: String,
}

pub fn validate(cx: &mut Cx, raw: &Spanned<RawPause>) -> Option<Pause> {
    cx.template(&raw.value.message, &std::collections::BTreeSet::new())
        .then(|| Pause {
            message: raw.value.message.value.clone(),
        })
}

impl Pause {
    #[must_use]
    pub fn plan(&self) -> Vec<String> {
        vec![format!(
            "pause: {}",
            self.message.lines().next().unwrap_or("")
        )]
    }
}

impl Pause {
    /// Shows the message and waits for Enter on a terminal; skipped otherwise.
    ///
    /// # Errors
    /// Template errors.
    pub async fn run(
        &self,
        cx: &crate::run::StepCx<'_>,
    ) -> Result<crate::run::Done, crate::run::StepError> {
        let msg = cx.render(&self.message)?;
        if !cx.opts.interactive {
            return Ok(crate::run::Done::msg(format!(
                "not interactive, not pausing: {msg}"
            )));
        }
        println!("{msg}\n(press Enter to continue)");
        let mut line = String::new();
        let mut stdin = tokio::io::BufReader::new(tokio::io::stdin());
        let _ = tokio::time::timeout(
            cx.left(),
            tokio::io::AsyncBufReadExt::read_line(&mut stdin, &mut line),
        )
        .await;
        Ok(crate::run::Done::msg("continued"))
    }
}
