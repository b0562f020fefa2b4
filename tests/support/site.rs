//! The real consumers of what `scenario` writes for people, for tests:
//! mkdocs-material (PyPI, installed by `make test-tools`) building the example
//! site with the chapter page, and headless Chromium (Debian) with networking
//! off.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Chromium binary, if installed.
pub fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser"].into_iter().find(|b| {
        Command::new(b)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// The DOM of a local file as headless Chromium builds it (nothing fetched).
pub fn dump_dom(browser: &str, file: &Path) -> String {
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--proxy-server=127.0.0.1:9",
            "--proxy-bypass-list=<-loopback>",
            "--dump-dom",
        ])
        .arg(format!("file://{}", file.display()))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `mkdocs build --strict` of a site (mkdocs-material must be installed).
pub fn mkdocs_build(config: &Path, out: &Path) {
    let built = Command::new("python3")
        .args(["-m", "mkdocs", "build", "--strict", "-f"])
        .arg(config)
        .arg("-d")
        .arg(out)
        .env("NO_MKDOCS_2_WARNING", "1")
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "mkdocs build --strict: {}",
        String::from_utf8_lossy(&built.stderr)
    );
}

/// The example site copied under `dir`, with the traffic-management page
/// rendered by `scenario docs` now, built; returns the built page.
pub fn built_chapter_page(dir: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let site = dir.join("site");
    let cp = Command::new("cp")
        .arg("-r")
        .arg(root.join("examples/mkdocs-site"))
        .arg(&site)
        .status()
        .unwrap();
    assert!(cp.success());
    let out = Command::new(env!("CARGO_BIN_EXE_scenario"))
        .current_dir(root)
        .args(["docs", "playbooks/traffic-management.yaml", "-o"])
        .arg(site.join("docs/traffic-management.md"))
        .env_remove("CLUSTER1")
        .env_remove("CLUSTER2")
        .env_remove("MGMT")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    mkdocs_build(&site.join("mkdocs.yml"), &dir.join("html"));
    dir.join("html/traffic-management/index.html")
}

/// `mkdocs build --strict` of a site written by `scenario docs TUTORIAL -o
/// DIR`, run from its directory (where the pages' include is found).
pub fn mkdocs_build_site(site: &Path, out: &Path) -> std::process::Output {
    Command::new("python3")
        .args(["-m", "mkdocs", "build", "--strict", "-d"])
        .arg(out)
        .current_dir(site)
        .env("NO_MKDOCS_2_WARNING", "1")
        .output()
        .unwrap()
}

/// `zensical build --strict` of a site, from its directory (it writes `site/`).
pub fn zensical_build_site(site: &Path) -> std::process::Output {
    Command::new("python3")
        .args(["-m", "zensical", "build", "--strict"])
        .current_dir(site)
        .output()
        .unwrap()
}
