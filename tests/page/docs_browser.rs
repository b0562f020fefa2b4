//! The chapter page as a reader gets it: the example mkdocs-material site
//! (as committed, with the page rendered now) built with `mkdocs build
//! --strict`, opened in headless Chromium (Debian's `chromium`, networking
//! off). The DOM has no template left, no placeholder that the browser took
//! for a tag, and no path of the machine that rendered it.

use crate::support::python;
use crate::support::site;

/// Elements a rendered mkdocs-material page is made of; anything else in the
/// DOM is text that the browser parsed as a tag (`<ingress_ip>`).
const ELEMENTS: &[&str] = &[
    "a", "article", "body", "br", "button", "code", "details", "div", "em", "footer", "form", "h1",
    "h2", "h3", "h4", "h5", "head", "header", "hr", "html", "img", "input", "label", "li", "link",
    "main", "mark", "meta", "nav", "ol", "p", "path", "pre", "script", "span", "strong", "summary",
    "svg", "table", "tbody", "td", "th", "thead", "title", "tr", "ul", "del", "ins",
];

#[test]
fn the_built_chapter_page_has_no_template_no_swallowed_placeholder_and_no_local_path() {
    let Some(browser) = site::chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "make test installs chromium"
        );
        eprintln!("chromium not installed (make test installs it): skipping");
        return;
    };
    python::ensure("material, mkdocs", &["mkdocs-material"]);
    let tmp = tempfile::tempdir().unwrap();
    let page = site::built_chapter_page(tmp.path());
    let dom = site::dump_dom(browser, &page);
    assert!(
        dom.contains("Blue,Green and Canary"),
        "the page rendered: {dom}"
    );
    assert!(!dom.contains("{{"), "a template left on the page");
    assert!(
        !dom.contains(env!("CARGO_MANIFEST_DIR")),
        "a local path on the page"
    );
    assert!(!dom.contains("://:"), "an address the browser swallowed");
    // The reader's commands (the text, without the highlighter's spans), with
    // the captured address as a shell variable.
    let text = regex::Regex::new(r"<[^>]*>").unwrap().replace_all(&dom, "");
    assert!(
        text.contains("\"url = \\\"http://${INGRESS_IP_CLUSTER1}:80/api\\\"\"")
            && text.contains("curl -s --max-time 5 -w"),
        "the probe's curl: {text}"
    );
    let tag = regex::Regex::new(r"<([a-zA-Z][a-zA-Z0-9_:-]*)").unwrap();
    let unknown: std::collections::BTreeSet<&str> = tag
        .captures_iter(&dom)
        .filter_map(|c| c.get(1))
        .map(|m| m.as_str())
        .filter(|t| !ELEMENTS.contains(&t.to_ascii_lowercase().as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "text the browser took for tags: {unknown:?}"
    );
}
