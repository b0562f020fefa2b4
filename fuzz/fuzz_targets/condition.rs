//! `when:` conditions on arbitrary text: the bounded pre-pass, checking and
//! evaluating never panic, overflow the stack or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scenario::language::{expr_bound, template};

fuzz_target!(|data: &[u8]| {
    let Ok(expr) = std::str::from_utf8(data) else {
        return;
    };
    let env = template::environment();
    let known = ["mode", "items", "n", "env", "captures"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let bounded = expr_bound::check_expression(expr).is_ok();
    let checked = template::check_condition(&env, expr, &known);
    // Whatever the pre-pass refuses, checking refuses too.
    assert!(bounded || checked.is_err());
    let ctx = serde_json::json!({
        "mode": "fast", "items": [1, 2, 3], "n": 7,
        "env": {"HOME": "/root"}, "captures": {},
    });
    let _ = template::eval_condition(&env, expr, &ctx);
    // The same text as a template tag.
    let _ = template::check(&env, &format!("{{{{ {expr} }}}}"), &known);
});
