//! The template rewrite changes no result (every construct rendered both
//! ways), and refuses what would build too much before building it.

use minijinja::{Environment, UndefinedBehavior};
use serde_json::json;

use super::template::{environment, render};

fn plain() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    env
}

fn ctx() -> serde_json::Value {
    json!({
        "s": "ab", "n": 3, "f": 1.5, "xs": [1, 2, 3], "names": ["x", "y"],
        "m": {"a": 1, "b": "two"}, "t": true, "big": "x".repeat(1000),
        "nested": [{"name": "a", "children": [{"name": "b", "children": []}]}]
    })
}

/// Templates using every construct the rewrite touches, and its neighbours.
pub const SAME: &[&str] = &[
    "{{ s ~ s }}",
    "{{ s ~ s ~ s ~ n ~ f }}",
    "{{ (s ~ s) ~ s }}",
    "{{ s ~ (s ~ s) }}",
    "{{ ((s)) ~ ((s)) }}",
    "{{ s|upper ~ s|lower }}",
    "{{ (s ~ s)|upper ~ s }}",
    "{{ s ~ s|upper }}",
    "{{ (s ~ 'x')|replace('x', 'y') ~ ('p' ~ 'q')|upper }}",
    "{{ n + n }}{{ n * 2 }}{{ 2 * n }}{{ f * 2 }}{{ n + f }}",
    "{{ (n + 1 * 2) ~ 'x' }}",
    "{{ (2 * 3) * 'ab' }}",
    "{{ 'ab' * 3 ~ '-' * n }}",
    "{{ xs + xs }}{{ xs * 2 }}{{ (xs + [4]) * 2 }}",
    "{{ -n * 2 }}{{ - n + 1 }}{{ n - 1 + 2 }}{{ n ** 2 * 2 }}",
    "{{ n * n * n * n }}",
    "{{ 1 + 1 * n / 2 * 2 }}{{1666or-3-n-7/7+1*n/7*2}}{{ t and-n*2 }}{{ not-n+1 }}",
    "{{ s ~ n if t else s * 2 }}",
    "{{ (s ~ 'x') if (s ~ 'y') == 'aby' else 'no' }}",
    "{{ m.a + 1 }}{{ m['b'] ~ '!' }}{{ xs[0] * 5 }}{{ xs[1:] + xs[:1] }}",
    "{{ names|join(',' ~ ' ') }}{{ (names + ['z'])|join }}",
    "{{ dict(a=1 + 1, b='x' ~ 'y') }}",
    "{{ [s ~ s, n * 2] }}{{ {'k': s ~ s} }}",
    "{{ s is defined ~ 'x' }}",
    "{{ s ~ s is string }}",
    "{{ 'a' ~\n  'b' ~\n  'c' }}",
    "{{s~s}}{{n*n}}{{n+n}}",
    "{% set x = s ~ s %}{{ x * 2 }}",
    "{% set x %}{{ s ~ s }}-{{ n }}{% endset %}[{{ x }}]",
    "{% set x | upper %}{% for i in xs %}{{ i }}{{ s }},{% endfor %}{% endset %}{{ x }}",
    "{% filter upper %}{% for i in xs if i > 1 %}{{ loop.index }}:{{ i * 2 }} {% else %}none{% endfor %}{% endfilter %}",
    "{% macro m(a, b='d' ~ 'e') %}<{{ a ~ b }}>{% for c in a %}[{{ c }}]{% endfor %}{% endmacro %}{{ m(s) }}{{ m('x', 'y') ~ '!' }}",
    "{% macro w() %}({{ caller() }}){% endmacro %}{% call w() %}{% for i in range(3) %}{{ i + 1 }}{% endfor %}{% endcall %}",
    "{% set ns = namespace(out='') %}{% for i in range(5) %}{% set ns.out = ns.out ~ i %}{% endfor %}{{ ns.out }}",
    "{% set x %}{% for k, v in m|items %}{{ k }}={{ v }};{% endfor %}{% endset %}{{ x }}",
    "{% set x %}{% for i in xs|map('string') %}{{ i ~ '.' }}{% endfor %}{% endset %}{{ x }}",
    "{% set x %}{% for i in (xs) %}{{ i }}{% endfor %}{% endset %}{{ x }}",
    "{% set x %}{% for a in xs %}{% for b in names %}{{ a }}{{ b }} {% endfor %}{% endfor %}{% endset %}{{ x }}",
    "{% set x %}{% for n in nested recursive %}{{ n.name }}({{ loop(n.children) }}){% endfor %}{% endset %}{{ x }}",
    "{% set x -%}\n  {%- for i in xs -%}\n    {{ i }}\n  {%- endfor %}\n{%- endset %}[{{ x }}]",
    "{% set x %}{{ 'a' if t }}{{ n == 3 }}{{ not t }}{% endset %}{{ x }}",
    "{% with y = s ~ s %}{{ y }}{% endwith %}",
    "{% if s ~ s == 'abab' %}yes{% endif %}",
    "{{ big|length + 1 }} {{ (big ~ big)|length }}",
    "{{ '%s-%05d'|format(s, n) }}{{ 'a\nb'|indent(2) }}{{ 'a,b'|split(',') }}{{ s|list }}{{ xs|batch(2)|list }}",
    "{{ 'a<b>'|e }}{{ m|pprint }}{{ 'x y'|replace(' ', '') }}",
    "{{ 'tilde ~ plus + star * end' }} {# ~ + * end #}",
    "{% raw %}{{ a ~ b }}{% endraw %}{{ s ~ 'end' }}",
    "plain text with no tags ~ + *",
    "{{ 'build 20240101 %s on port 8080'|format('x') }}{{ ('%%' * 600)|format|length }}",
    "{{ '%-10s|%5.2f|%03d'|format('ab', 1.5, 7) }}",
    "{{ [1, 2, 3]|batch(200000)|list }}{{ [1, 2, 3]|batch(2, 0)|list }}",
    "{% macro m(x) %}<{{ x }}>{% endmacro %}{{ [m(1), m(2)]|join }}{% macro w() %}({{ caller() }}){% endmacro %}{% call w() %}{{ m(3) }}{% endcall %}",
    "{{ names|map('upper')|list }}{{ 'ab'|reverse }}{{ m|dictsort }}{{ ' a '|trim|title }}",
];

#[test]
fn the_rewrite_changes_no_result() {
    let env = environment();
    let plain = plain();
    for t in SAME {
        let ours = render(&env, t, &ctx()).map_err(|e| e.message);
        let theirs = plain.render_str(t, ctx()).map_err(|e| e.to_string());
        assert_eq!(
            ours.as_ref().ok(),
            theirs.as_ref().ok(),
            "{t}\nours: {ours:?}\ntheirs: {theirs:?}"
        );
        assert!(ours.is_ok(), "{t}: {ours:?}");
    }
}

/// Templates the engine refuses, refused the same way.
const SAME_ERROR: &[&str] = &[
    "{{ n + 1 * 2 ~ 'x' }}",
    "{{ s ~ nope }}",
    "{% set x %}{{ s, n }}{% endset %}{{ x }}",
    "{{ nope * 2 }}",
    "{{ s * 'x' }}",
    "{{ xs + 1 }}",
    "{{ m.nope ~ s }}",
    "{% set x %}{{ nope }}{% endset %}{{ x }}",
    "{% set x %}{% for i in nope %}{{ i }}{% endfor %}{% endset %}",
    "{% set x %}{% for i in 3 %}{{ i }}{% endfor %}{% endset %}",
];

#[test]
fn the_rewrite_changes_no_error() {
    let env = environment();
    let plain = plain();
    for t in SAME_ERROR {
        let ours = render(&env, t, &ctx()).map_err(|e| e.message);
        let theirs = plain.render_str(t, ctx()).map_err(|e| e.kind().to_string());
        let (Err(ours), Err(theirs)) = (&ours, &theirs) else {
            panic!("{t}: ours {ours:?}, theirs {theirs:?}");
        };
        assert!(
            ours.starts_with(theirs.as_str()),
            "{t}: ours {ours}, theirs {theirs}"
        );
    }
}

#[test]
fn conditions_keep_their_value() {
    let env = environment();
    let plain = plain();
    for e in [
        "s ~ s == 'abab'",
        "n * 2 == 6",
        "xs + xs == [1,2,3,1,2,3]",
        "(s ~ 'x')|length > 2",
        "n + 1 * 2 == 5",
    ] {
        let ours = super::template::eval_condition(&env, e, &ctx()).unwrap();
        let theirs = plain
            .compile_expression(e)
            .unwrap()
            .eval(ctx())
            .unwrap()
            .is_true();
        assert_eq!(ours, theirs, "{e}");
        assert!(ours, "{e}");
    }
}

/// Each builds far more than the limits, in few steps; each is refused
/// before the engine builds it.
pub const TOO_MUCH: &[(&str, &str)] = &[
    ("{% set s = 'x' * 99999999 %}{{ s ~ s ~ s }}", "`*`"),
    ("{{ 'x' * 5000000 }}", "`*`"),
    ("{% set s = 'x' * 3000000 %}{{ (s ~ s)|length }}", "`~`"),
    ("{% set s = 'x' * 3000000 %}{{ (s + s)|length }}", "`+`"),
    (
        "{% set s = 'x' * 4000000 %}{% set t = s ~ s ~ s %}{{ t|length }}",
        "`~`",
    ),
    ("{{ ((2 * 3000) * ('x' * 1000))|length }}", "`*`"),
    ("{{ (range(1000)|list * 1000)|length }}", "`*`"),
    ("{{ ([1] * 200000)|length }}", "`*`"),
    (
        "{{ (range(100000)|list + range(100000)|list)|length }}",
        "`+`",
    ),
    (
        "{% set ns = namespace(s='xx') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
        "`~`",
    ),
    (
        "{% set s = 'x' * 1000000 %}{% set x %}{% for i in range(100) %}{{ s }}{% endfor %}{% endset %}{{ x|length }}",
        "in all",
    ),
    (
        "{% set x %}{% for i in range(100000) %}{{ 'y' * 1000 }}{% endfor %}{% endset %}{{ x|length }}",
        "in all",
    ),
    (
        "{% set x %}{% for i in range(100000) %}0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789{% endfor %}{% endset %}{{ x|length }}",
        "a loop",
    ),
    (
        "{% macro m(n) %}{% if n %}{{ m(n - 1) }}{{ m(n - 1) }}{% else %}{{ 'z' * 1000 }}{% endif %}{% endmacro %}{{ m(30)|length }}",
        "in all",
    ),
    (
        "{{ (range(100000)|join('x' * 1000))|length }}",
        "filter `join`",
    ),
    (
        "{{ ('x' * 100000)|replace('', 'y' * 100) }}",
        "filter `replace`",
    ),
    ("{{ ('x\n' * 100000)|indent(1000) }}", "filter `indent`"),
    ("{{ '%99999999d'|format(1) }}", "filter `format`"),
    ("{{ '%.99999999f'|format(1.5) }}", "filter `format`"),
    ("{{ [1]|batch(999999999, 0)|list }}", "filter `batch`"),
    ("{{ [1]|slice(999999999)|list }}", "filter `slice`"),
    ("{{ ('a ' * 1000000)|split|length }}", "filter `split`"),
    ("{{ ('\n' * 1000000)|lines|length }}", "filter `lines`"),
    ("{{ (('x' * 1000000)|list)|length }}", "filter `list`"),
    ("{{ ('<' * 1000000)|e|length }}", "filter `escape`"),
    (
        "{% set s = 'x' * 4000000 %}{{ [s, s, s, s, s, s, s, s, s, s, s, s]|string|length }}",
        "copies its input",
    ),
    (
        "{% set s = 'x' * 3000000 %}{{ [s, s, s, s, s, s, s, s, s, s, s, s]|map('upper')|list|length }}",
        "in all",
    ),
    (
        "{% set s = 'x' * 4000000 %}{{ [s, s, s, s, s, s, s, s, s, s, s, s]|lines }}",
        "filter `lines`",
    ),
    (
        "{% macro b() %}{{ 'r' * 3000000 }}{% endmacro %}{% set l = [b(), b(), b(), b(), b(), b(), b(), b(), b(), b(), b(), b()] %}{{ l|length }}",
        "in all",
    ),
    (
        "{% set s = 'x' * 4000000 %}{% for i in range(3000) %}{% if s|upper|length > 0 %}{% endif %}{% endfor %}ok",
        "in all",
    ),
];

#[test]
fn what_would_build_too_much_is_refused_first() {
    let env = environment();
    for (t, what) in TOO_MUCH {
        let started = std::time::Instant::now();
        let err = render(&env, t, &ctx()).expect_err(t);
        assert!(err.message.contains(what), "{t}: {}", err.message);
        assert!(
            err.message.contains("docs/limits.md"),
            "{t}: {}",
            err.message
        );
        assert!(started.elapsed().as_secs() < 20, "{t}");
    }
}

/// A loop can nest a list in itself once per item; printing and dropping it
/// recurse once per level. The render neither crashes nor passes a limit.
#[test]
fn a_value_nested_as_deep_as_fuel_allows_does_not_crash() {
    let env = environment();
    for t in [
        "{% set ns = namespace(a=[1]) %}{% for i in range(100000) %}{% set ns.a = [ns.a] %}{% endfor %}x",
        "{% set ns = namespace(a=[1]) %}{% for i in range(30000) %}{% set ns.a = [ns.a] %}{% endfor %}{{ ns.a|length }}{{ (ns.a ~ '')|length > 0 }}",
    ] {
        let r = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn({
                let env = env.clone();
                let t = t.to_owned();
                move || {
                    render(&env, &t, &ctx())
                        .map(|s| s.len())
                        .map_err(|e| e.message)
                }
            })
            .unwrap()
            .join();
        assert!(r.is_ok(), "{t}: the render crashed");
    }
}

#[test]
fn debug_is_not_a_template_function() {
    let err = render(&environment(), "{{ debug() }}", &ctx()).unwrap_err();
    assert!(err.message.contains("debug"), "{err:?}");
}

#[test]
fn the_error_is_located_in_the_authors_text() {
    let env = environment();
    let t = "line one\n{% set s = 'x' * 3000000 %}\n{{ s ~ s }}";
    let err = render(&env, t, &ctx()).unwrap_err();
    let loc = err.loc.unwrap();
    assert_eq!(loc.line, 3, "{err:?}");
}

#[test]
fn conditions_are_bounded_too() {
    let env = environment();
    for e in [
        "('x' * 99999999)|length > 0",
        "(s ~ s) * 3000000 == ''",
        "(xs * 99999999)|length > 0",
    ] {
        let err = super::template::eval_condition(&env, e, &ctx()).unwrap_err();
        assert!(err.over_limit, "{e}: {err:?}");
        let err = super::template::eval_value(&env, e, &ctx()).unwrap_err();
        assert!(err.over_limit, "{e}: {err:?}");
    }
}

#[test]
fn the_inserted_names_are_reserved() {
    let env = environment();
    let known = ["s".to_owned()].into_iter().collect();
    for t in ["{{ __scenario_l ~ s }}", "x\n{{ __scenario_emit(s) }}"] {
        let err = super::template::check(&env, t, &known).unwrap_err();
        assert!(err.message.contains("reserved"), "{t}: {err:?}");
        assert!(render(&env, t, &ctx()).is_err(), "{t}");
    }
    let err =
        super::template::check_condition(&env, "__scenario_r('~', s, 0)", &known).unwrap_err();
    assert!(err.message.contains("reserved"), "{err:?}");
}
