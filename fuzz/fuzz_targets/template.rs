//! Template checking and rendering on arbitrary templates, with fuel and the
//! rendered-size limit: never a panic, a hang or unbounded memory.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scenario::language::template;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let env = template::environment();
    let known = ["env", "cluster", "clusters", "captures", "playbook", "mode", "items"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    if template::check(&env, text, &known).is_ok() {
        let ctx = serde_json::json!({
            "env": {"HOME": "/root"}, "cluster": {"name": "c1", "context": "c1"},
            "clusters": {"c1": {"name": "c1", "context": "c1"}}, "captures": {},
            "playbook": {"path": "p.yaml", "dir": "."}, "mode": "fast", "items": [1, 2, 3],
        });
        let _ = template::render(&env, text, &ctx);
        let _ = template::eval_condition(&env, text, &ctx);
    }
});
