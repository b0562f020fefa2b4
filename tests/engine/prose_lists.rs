//! Prose lists of step kinds and commands, checked against the registry
//! (`steps::KINDS`) and the command line (clap): a kind or a command added
//! in code and missing from a list a newcomer reads fails here.

use clap::CommandFactory as _;
use scenario::steps::KINDS;

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The first cell of each row of the first table after `heading`.
fn first_cells(doc: &str, heading: &str) -> Vec<String> {
    let after = doc
        .split(heading)
        .nth(1)
        .unwrap_or_else(|| panic!("no {heading:?}"));
    after
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .filter_map(|l| l.split('|').nth(1))
        .map(|c| c.trim().to_owned())
        .collect()
}

#[test]
fn every_kind_is_in_the_readme_intro_and_linked_to_its_page() {
    let readme = read("README.md");
    let intro = readme.split("\n## ").next().unwrap();
    for k in KINDS {
        assert!(
            intro.contains(&format!("**{}**", k.name)) || intro.contains(&format!("`{}`", k.name)),
            "README's introduction does not name `{}`",
            k.name
        );
        let link = format!("[{}](docs/steps/{}.md)", k.name, k.name);
        assert!(readme.contains(&link), "README lacks {link}");
        assert!(
            std::path::Path::new(&format!(
                "{}/docs/steps/{}.md",
                env!("CARGO_MANIFEST_DIR"),
                k.name
            ))
            .is_file(),
            "docs/steps/{}.md is missing",
            k.name
        );
    }
}

#[test]
fn the_playbook_reference_has_one_row_per_kind() {
    let mut rows = first_cells(&read("docs/playbook.md"), "Actions (one page each");
    let mut want: Vec<String> = KINDS.iter().map(|k| format!("`{}`", k.name)).collect();
    rows.sort();
    want.sort();
    assert_eq!(rows, want, "docs/playbook.md's action table");
}

#[test]
fn the_chapter_page_doc_says_what_each_kind_becomes() {
    let rows = first_cells(
        &read("docs/chapter-page.md"),
        "## What each step kind prints",
    );
    let named: Vec<&str> = rows
        .iter()
        .flat_map(|r| r.split(", "))
        .map(|c| c.trim_matches('`'))
        .collect();
    for k in KINDS {
        assert!(
            named.contains(&k.name),
            "docs/chapter-page.md's table lacks `{}`: {named:?}",
            k.name
        );
    }
    for n in &named {
        assert!(
            KINDS.iter().any(|k| k.name == *n),
            "docs/chapter-page.md names an unknown kind `{n}`"
        );
    }
}

#[test]
fn every_command_is_in_the_readme_table() {
    let readme = read("README.md");
    let rows = first_cells(&readme, "## Commands");
    let cli = scenario::commands::args::Cli::command();
    for sub in cli.get_subcommands() {
        let name = sub.get_name();
        if name == "help" {
            continue;
        }
        assert!(
            rows.iter()
                .any(|r| r.starts_with(&format!("`scenario {name}"))),
            "README's command table lacks `scenario {name}`: {rows:?}"
        );
    }
    for r in rows.iter().filter(|r| r.starts_with("`scenario ")) {
        let name = r
            .trim_start_matches("`scenario ")
            .split([' ', '`'])
            .next()
            .unwrap();
        assert!(
            cli.get_subcommands().any(|s| s.get_name() == name),
            "README's command table names an unknown command `{name}`"
        );
    }
}
