//! `scenario init`: scaffold a chapter that validates at once.

use super::schema::SCHEMA_PATH;

/// The schema copy `init` writes next to a chapter outside a clone.
const LOCAL_SCHEMA: &str = "playbook.schema.json";
use crate::model::exit;

pub fn init(name: &str, dir: &std::path::Path) -> i32 {
    // The name is also the namespace: a DNS label (and, quoted, a YAML string).
    let label = name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if name.is_empty() || !label {
        crate::errln!(
            "error: invalid chapter name `{}`: use lowercase letters, digits and `-` (at most 63; it also names the namespace)",
            crate::language::limits::excerpt(&crate::language::untrusted::clean_text(name))
        );
        return exit::INVALID;
    }
    let book = dir.join(format!("{name}.yaml"));
    let manifests = dir.join(name);
    // `symlink_metadata`: a dangling symlink is there too (writing through it
    // would create a file wherever it points).
    if book.symlink_metadata().is_ok() || manifests.symlink_metadata().is_ok() {
        crate::errln!(
            "error: {} or {} already exists",
            book.display(),
            manifests.display()
        );
        return exit::INVALID;
    }
    // The schema line points at a file the editor can read: the project's
    // schemas/ when the chapter is inside a clone, else a copy written next to it.
    let mut schema = None;
    if let Ok(abs) = std::fs::canonicalize(dir) {
        let mut up = String::new();
        for anc in abs.ancestors() {
            if anc.join(SCHEMA_PATH).is_file() {
                schema = Some(format!("{up}{SCHEMA_PATH}"));
                break;
            }
            up.push_str("../");
        }
    }
    let local_copy = schema.is_none().then(|| dir.join(LOCAL_SCHEMA));
    let schema = schema.unwrap_or_else(|| LOCAL_SCHEMA.to_owned());
    let playbook = format!(
        "# yaml-language-server: $schema={schema}\nname: \"{name}\"\ntitle: \"{name}\"\nsummary: What this chapter shows\nauthors: [you]\noutcomes:\n  - Applied a ConfigMap and checked it\nnext: What the reader does after this chapter (the page's closing paragraph).\n\nclusters:\n  cluster1:\n    context: \"{{{{ env.CLUSTER1 | default('cluster1') }}}}\"\n\nvars:\n  namespace: \"{name}\"\n\nsteps:\n  - name: apply\n    title: Apply\n    doc: Create the namespace and a ConfigMap.\n    clusters: cluster1\n    apply:\n      manifests: [\"{name}/*.yaml\"]\n\n  - name: check\n    doc: The ConfigMap is there with the expected data.\n    clusters: cluster1\n    wait:\n      resource: {{ apiVersion: v1, kind: ConfigMap, namespace: \"{{{{ namespace }}}}\", name: settings }}\n      jsonpath:\n        - {{ path: $.data.greeting, equals: hello }}\n\nfinally:\n  - name: clean-up\n    clusters: cluster1\n    delete:\n      resources: [{{ apiVersion: v1, kind: Namespace, name: \"{{{{ namespace }}}}\" }}]\n"
    );
    let mut files = vec![
        (book.clone(), playbook),
        (manifests.join("00-namespace.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: \"{{ namespace }}\"\n".to_owned()),
        (manifests.join("10-configmap.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: \"{{ namespace }}\"\ndata:\n  greeting: hello\n".to_owned()),
        (
            manifests.join("README.md"),
            format!("# {name}\n\n- Check: `scenario validate {name}.yaml`\n- Preview: `scenario plan {name}.yaml`\n- Run: `scenario run {name}.yaml` (contexts from `$CLUSTER1`, or `--context cluster1=...`)\n- Render the page: `scenario docs {name}.yaml -o {name}.md`\n"),
        ),
    ];
    // The schema copy is shared by the chapters of a folder: refreshed in
    // place, but never written through a link.
    if let Some(copy) = local_copy {
        if copy
            .symlink_metadata()
            .is_ok_and(|m| m.file_type().is_symlink())
        {
            crate::errln!(
                "error: {} is a symbolic link; not writing through it",
                copy.display()
            );
            return exit::INVALID;
        }
        let _ = std::fs::remove_file(&copy);
        files.push((copy, super::schema::playbook_schema()));
    }
    for (path, text) in files {
        if let Some(parent) = path.parent()
            && let Err(e) = std::fs::create_dir_all(parent)
        {
            crate::errln!("error: cannot create {}: {e}", parent.display());
            return exit::STEP_ERROR;
        }
        // A new file only: never through a link, never over a file.
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()));
        if let Err(e) = written {
            crate::errln!("error: cannot write {}: {e}", path.display());
            return exit::STEP_ERROR;
        }
        crate::outln!("created {}", path.display());
    }
    exit::OK
}
