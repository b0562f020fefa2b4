//! `scenario docs` and `plan` on any playbook that loads: rendering the
//! chapter page and the plan never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let opts = scenario::load::LoadOptions::default();
    let path = std::path::Path::new("fuzz/corpus-dir/fuzz.yaml");
    if let Ok(pb) = scenario::load::load_text(path, text.to_owned(), &opts) {
        let _ = scenario::commands::chapter::render(&pb, None);
        let _ = scenario::commands::plan::render(&pb);
    }
});
