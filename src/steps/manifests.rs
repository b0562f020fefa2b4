//! A step's manifest sources (`manifests:`, `inline:`, `kustomize:`,
//! `namespace:`) validated together, for `apply` and `delete`. A kustomize
//! directory is built here (through `tools::kustomize`), so that a broken
//! one is found before the run.

use std::collections::BTreeSet;

use crate::language::source::{Source, display_path};
use crate::language::yaml::Spanned;
use crate::model::manifest::{ManifestFile, Manifests, check_placeholders};
use crate::model::validator::Validator;

/// Validates manifest sources.
#[allow(clippy::too_many_arguments)]
pub fn manifests(
    cx: &mut Validator,
    files: &[Spanned<String>],
    inline: Option<&Spanned<String>>,
    kustomize: Option<&Spanned<String>>,
    namespace: Option<&Spanned<String>>,
    substitute: bool,
    extra: &BTreeSet<String>,
) -> Manifests {
    let files = cx.manifests(files, extra, substitute);
    let inline = inline.and_then(|s| {
        if !cx.template(s, extra) {
            return None;
        }
        let src = Source::new(
            format!("{} (inline manifest at line {})", cx.src.name, s.loc.line),
            s.value.as_str(),
        );
        let m = ManifestFile {
            rel: format!("inline manifest (line {})", s.loc.line),
            path: cx.src.name.clone().into(),
            source: src,
            uses_captures: cx.uses_captures(&s.value),
            substitute: false,
        };
        let mut m = m;
        if check_placeholders(cx, &mut m, substitute, extra) && !m.uses_captures {
            cx.prerender(&m);
        }
        Some(m)
    });
    let kustomize = kustomize.and_then(|k| {
        let rendered = cx.known_path(k, extra)?;
        let dir = cx.dir.join(&rendered);
        if !dir.join("kustomization.yaml").is_file() && !dir.join("kustomization.yml").is_file() {
            cx.error(k.loc, format!("`{rendered}` is not a kustomize directory"))
                .expected("a directory (relative to the playbook) holding kustomization.yaml");
        } else if !cx.under_root(&dir) {
            let root = display_path(&cx.root);
            cx.error(
                k.loc,
                format!("kustomize directory `{rendered}` is outside the root {root}"),
            )
            .expected(
                "a directory under the root; widen it with `root:` in the playbook or `--root DIR`",
            );
        } else if let Err(problem) = crate::tools::kustomize::build(&dir) {
            cx.error(
                k.loc,
                format!("`kubectl kustomize {rendered}` fails: {problem}"),
            )
            .expected("a kustomize directory that builds");
        }
        Some(rendered)
    });
    if let Some(ns) = namespace {
        cx.template(ns, extra);
    }
    Manifests {
        files,
        inline,
        kustomize_dir: kustomize.as_ref().map(|k| cx.dir.join(k)),
        kustomize,
        namespace: namespace.map(|n| n.value.clone()),
        substitute,
    }
}
