//! Unit tests of checks: predicates, typed comparisons, compiled paths, partial matches.

use super::*;
use serde_json::json;

#[test]
fn subset_matches_nested_maps_and_lists() {
    let actual = json!({"spec": {"gateways": ["istio-system/bgc-1"], "hosts": ["*"], "extra": 1}});
    assert!(subset_mismatches(&json!({"spec": {"hosts": ["*"]}}), &actual).is_empty());
    assert_eq!(
        subset_mismatches(
            &json!({"spec": {"gateways": ["istio-system/bgc-2"]}}),
            &actual
        ),
        vec![
            "spec.gateways[0]: expected \"istio-system/bgc-2\", found \"istio-system/bgc-1\""
                .to_owned()
        ]
    );
    assert_eq!(
        subset_mismatches(&json!({"spec": {"hosts": ["*", "a"]}}), &actual),
        vec!["spec.hosts: expected 2 items [\"*\",\"a\"], found 1 items [\"*\"]".to_owned()]
    );
    assert_eq!(
        subset_mismatches(&json!({"status": {"ready": true}}), &actual),
        vec!["status: expected {\"ready\":true}, but it is missing".to_owned()]
    );
}

fn check(predicate: Predicate, templated: bool) -> Check {
    Check {
        query: Query::JsonPath("$.x".into()),
        predicate,
        fraction: 1.0,
        when: None,
        templated,
        loc: Loc::default(),
    }
}

fn holds_p(p: Predicate, actual: Option<&serde_json::Value>) -> bool {
    holds(&check(p, false), actual)
}

#[test]
fn predicates() {
    assert!(holds_p(Predicate::Equals(json!(1)), Some(&json!(1.0))));
    assert!(!holds_p(Predicate::Equals(json!("1")), Some(&json!(1))));
    assert!(holds_p(
        Predicate::Matches(Pattern::new("^vm-")),
        Some(&json!("vm-10.0.0.1"))
    ));
    assert!(!holds_p(
        Predicate::Matches(Pattern::new("^vm-")),
        Some(&json!(3))
    ));
    assert!(holds_p(
        Predicate::OneOf(vec![json!("a"), json!("b")]),
        Some(&json!("b"))
    ));
    assert!(holds_p(Predicate::Exists(false), None));
    assert!(!holds_p(Predicate::Equals(json!(null)), None));
}

#[test]
fn values_of_different_types_never_compare_and_say_why() {
    let c = check(Predicate::Equals(json!("200")), false);
    assert_eq!(
        evaluate(&c, Some(&json!(200))),
        Err("200 is a number, \"200\" is a string: they never compare equal".to_owned())
    );
    let c = check(Predicate::OneOf(vec![json!(1), json!(2)]), false);
    assert!(evaluate(&c, Some(&json!("1"))).is_err());
    let c = check(Predicate::Matches(Pattern::new("^2")), false);
    assert!(evaluate(&c, Some(&json!(200))).is_err());
    // null is a value a field may have, not a type error.
    let c = check(Predicate::Equals(json!("a")), false);
    assert_eq!(evaluate(&c, Some(&json!(null))), Ok(false));
}

#[test]
fn a_rendered_template_compares_as_the_type_found() {
    let c = check(Predicate::Equals(json!("2")), true);
    assert_eq!(evaluate(&c, Some(&json!(2))), Ok(true));
    assert_eq!(evaluate(&c, Some(&json!(3))), Ok(false));
    assert_eq!(evaluate(&c, Some(&json!("2"))), Ok(true));
    let c = check(Predicate::Equals(json!("true")), true);
    assert_eq!(evaluate(&c, Some(&json!(true))), Ok(true));
    let c = check(Predicate::Equals(json!("x2")), true);
    assert_eq!(evaluate(&c, Some(&json!(2))), Ok(false));
}

#[test]
fn a_pattern_compiles_once_for_every_copy() {
    let p = Pattern::new("^a+$");
    let copy = p.clone();
    assert!(p.regex().is_some());
    assert!(std::ptr::eq(p.regex().unwrap(), copy.regex().unwrap()));
}

#[test]
fn compiled_paths_select_one_or_many() {
    let doc =
        json!({"status": {"loadBalancer": {"ingress": [{"ip": "127.0.0.9"}]}}, "items": [1, 2]});
    assert_eq!(
        Compiled::new("$.status.loadBalancer.ingress[0].ip")
            .unwrap()
            .select(&doc),
        Some(json!("127.0.0.9"))
    );
    assert_eq!(
        Compiled::new("$.items[*]").unwrap().select(&doc),
        Some(json!([1, 2]))
    );
    assert_eq!(Compiled::new("$.nope").unwrap().select(&doc), None);
}

/// A route's status as Gateway API writes it: conditions per parent.
fn route() -> serde_json::Value {
    json!({
        "metadata": {"generation": 3},
        "status": {
            "observedGeneration": 2,
            "parents": [
                {"parentRef": {"name": "a"}, "conditions": [{"type": "ResolvedRefs", "status": "True"}]},
                {"parentRef": {"name": "b"}, "conditions": [
                    {"type": "Accepted", "status": "True", "reason": "Accepted"},
                    {"type": "Programmed", "status": "False"}
                ]}
            ]
        }
    })
}

fn object_check(path: &str, predicate: Predicate) -> crate::model::object_check::ObjectCheck {
    let mut c = check(predicate, false);
    c.query = Query::JsonPath(path.into());
    crate::model::object_check::ObjectCheck::new(c).unwrap()
}

#[test]
fn contains_finds_an_element_of_the_lists_a_path_selects() {
    let accepted = Predicate::Contains(json!({"type": "Accepted", "status": "True"}));
    // The lists of every parent, or their elements, or one list: the same elements.
    for path in [
        "$.status.parents[*].conditions",
        "$.status.parents[*].conditions[*]",
        "$.status.parents[1].conditions",
    ] {
        let (found, verdict) = object_check(path, accepted.clone()).judge(&route());
        assert_eq!(verdict, Ok(true), "{path}: {found:?}");
    }
    // Only the first parent's conditions: not there.
    let (_, verdict) =
        object_check("$.status.parents[0].conditions", accepted.clone()).judge(&route());
    assert_eq!(verdict, Ok(false));
    // Every key must match in one element (not spread over two).
    let mixed = Predicate::Contains(json!({"type": "Programmed", "status": "True"}));
    let (_, verdict) = object_check("$.status.parents[*].conditions", mixed).judge(&route());
    assert_eq!(verdict, Ok(false));
    // Scalars: an element equal to it.
    let (_, verdict) = object_check(
        "$.status.parents[*].parentRef.name",
        Predicate::Contains(json!("b")),
    )
    .judge(&route());
    assert_eq!(verdict, Ok(true));
    // Not a list, nothing there: located reasons, never a pass.
    let (_, verdict) = object_check("$.metadata.generation", accepted.clone()).judge(&route());
    assert_eq!(
        verdict,
        Err("3 is a number: `contains` looks for an element of a list".to_owned())
    );
    let (found, verdict) = object_check("$.status.missing", accepted).judge(&route());
    assert_eq!((found, verdict), (None, Ok(false)));
}

#[test]
fn equals_path_compares_two_fields_of_one_object() {
    let same = Predicate::EqualsPath("$.status.observedGeneration".into());
    let (found, verdict) = object_check("$.metadata.generation", same.clone()).judge(&route());
    assert_eq!(found, Some(json!(3)));
    assert_eq!(verdict, Err("$.status.observedGeneration is 2".to_owned()));
    let mut caught_up = route();
    caught_up["status"]["observedGeneration"] = json!(3.0);
    let (_, verdict) = object_check("$.metadata.generation", same.clone()).judge(&caught_up);
    assert_eq!(verdict, Ok(true));
    // The other field missing, or of another type: never equal, said why.
    caught_up["status"]["observedGeneration"] = json!("3");
    let (_, verdict) = object_check("$.metadata.generation", same.clone()).judge(&caught_up);
    assert_eq!(
        verdict,
        Err(
            "$.status.observedGeneration is \"3\" (a string), a number: they never compare equal"
                .to_owned()
        )
    );
    caught_up["status"] = json!({});
    let (_, verdict) = object_check("$.metadata.generation", same).judge(&caught_up);
    assert_eq!(
        verdict,
        Err("$.status.observedGeneration selects nothing to compare with".to_owned())
    );
}
