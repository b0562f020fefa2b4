//! The loader and validator on arbitrary text: never a panic, a hang or
//! unbounded memory; either a playbook or diagnostics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let opts = scenario::load::LoadOptions::default();
    let path = std::path::Path::new("fuzz/corpus-dir/fuzz.yaml");
    if let Err(diags) = scenario::load::load_text(path, text.to_owned(), &opts) {
        let _ = scenario::language::diag::render_all(&diags);
    }
});
