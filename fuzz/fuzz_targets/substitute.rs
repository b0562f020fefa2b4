//! envsubst-style substitution on arbitrary text and values: never a panic,
//! and the output never passes the rendered-size limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scenario::language::{limits, substitute};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The first line is the value every name has (repeated to amplify), the
    // rest is the text; names starting with `U` have no value.
    let (value, text) = text.split_once('\n').unwrap_or(("", text));
    let times = value.len() % 7 * 1000 + 1;
    let value = value.repeat(times);
    let lookup = |n: &str| (!n.starts_with('U')).then(|| value.clone());
    let found = substitute::placeholders(text);
    for p in &found {
        assert!(text[p.offset..].starts_with("${"));
    }
    match substitute::substitute(text, lookup) {
        Ok(out) => {
            assert!(out.len() <= limits::MAX_RENDERED_BYTES);
            // Without placeholders, only `$${` escapes change the text.
            if found.is_empty() {
                assert_eq!(out, text.replace("$${", "${"));
            }
        }
        Err(e) => assert!(e.offset() <= text.len()),
    }
});
