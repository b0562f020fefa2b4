//! The bounds on what a template builds change no result: any template the
//! bounded engine renders, the engine alone renders to the same text, and any
//! template the bounded engine refuses for a reason other than a limit, the
//! engine alone refuses too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scenario::language::template;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let ctx = serde_json::json!({
        "s": "ab", "n": 3, "f": 1.5, "xs": [1, 2, 3], "names": ["x", "y"],
        "m": {"a": 1, "b": "two"}, "t": true,
    });
    let env = template::environment();
    // The names the bounds insert are reserved: the bounded engine refuses
    // them, the engine alone sees unknown names.
    if text.contains("__scenario_") {
        return;
    }
    let ours = template::render(&env, text, &ctx);
    if matches!(&ours, Err(e) if e.over_limit) {
        return;
    }
    // The engine alone, with the same settings and fuel (and no size bound:
    // only inputs the bounded engine accepted, or refused for another reason,
    // get here).
    let mut plain = minijinja::Environment::new();
    plain.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    plain.set_keep_trailing_newline(true);
    plain.set_fuel(Some(scenario::language::limits::TEMPLATE_FUEL));
    // The engine alone panics on some inputs (its `format` filter on a
    // multi-byte character after `%(`): the bounded engine turns a panic into
    // an error, so the engine alone is guarded the same way here.
    let theirs = template::guarded(|| {
        plain.render_str(text, &ctx).map_err(|e| template::TemplateError {
            message: e.to_string(),
            loc: None,
            over_limit: matches!(e.kind(), minijinja::ErrorKind::OutOfFuel),
        })
    });
    match (&ours, &theirs) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "different output for {text:?}"),
        (Err(_), Err(_)) => {}
        (Ok(_), Err(e)) => {
            // The bounded engine may render where the engine alone runs out
            // of fuel first (the bounds cost fuel too: never the other way).
            assert!(e.over_limit, "only the engine alone refused {text:?}: {e:?}");
        }
        (Err(e), Ok(_)) => panic!("only the bounded engine refused {text:?}: {e:?}"),
    }
});
