//! Choice rules (JSONPath): every comparison operator and its `...Path` variant, the type
//! tests, StringMatches, And/Or/Not, Default and States.NoChoiceMatched.

mod harness;

use harness::World;
use serde_json::{Value, json};

/// Run a Choice whose single rule is `rule` (without `Next`) over `input`; true when the rule
/// matched.
fn matches(rule: Value, input: Value) -> bool {
    let mut rule = rule;
    rule["Next"] = json!("Yes");
    let def = json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [rule], "Default": "No"},
        "Yes": {"Type": "Pass", "Result": true, "End": true},
        "No": {"Type": "Pass", "Result": false, "End": true}}});
    let w = World::start(&def.to_string(), &input.to_string());
    match w.output() {
        Value::Bool(b) => b,
        other => panic!("{other}"),
    }
}

/// `Variable: $.v` with operator `op` and operand `x`, over `{"v": v}`.
fn cmp(op: &str, v: Value, x: Value) -> bool {
    matches(json!({"Variable": "$.v", op: x}), json!({"v": v}))
}

/// The `...Path` form: operand read from `$.x`.
fn cmp_path(op: &str, v: Value, x: Value) -> bool {
    matches(
        json!({"Variable": "$.v", format!("{op}Path"): "$.x"}),
        json!({"v": v, "x": x}),
    )
}

/// Both forms must agree.
fn both(op: &str, v: Value, x: Value) -> bool {
    let a = cmp(op, v.clone(), x.clone());
    let b = cmp_path(op, v.clone(), x.clone());
    assert_eq!(a, b, "{op} literal and path forms disagree on {v} vs {x}");
    a
}

#[test]
fn string_comparisons_follow_java_compare_to() {
    assert!(both("StringEquals", json!("Hello"), json!("Hello")));
    assert!(!both("StringEquals", json!("\t\n"), json!("\t\r\n")));
    assert!(!both("StringEquals", json!(" "), json!("     ")));
    assert!(both("StringLessThan", json!("A"), json!("AB")));
    assert!(!both("StringLessThan", json!(""), json!("")));
    assert!(!both("StringLessThan", json!("AB"), json!("A")));
    assert!(
        both("StringLessThan", json!("B"), json!("a")),
        "uppercase sorts first"
    );
    assert!(both("StringGreaterThan", json!("b"), json!("a")));
    assert!(!both("StringGreaterThan", json!("A"), json!("A ")));
    assert!(!both("StringGreaterThan", json!("AB"), json!("ABC")));
    assert!(both("StringLessThanEquals", json!("A"), json!("AB")));
    assert!(both("StringLessThanEquals", json!("A"), json!("A")));
    assert!(!both("StringLessThanEquals", json!("AB"), json!("A")));
    assert!(both("StringGreaterThanEquals", json!(""), json!("")));
    assert!(both("StringGreaterThanEquals", json!("AB"), json!("A")));
    assert!(!both("StringGreaterThanEquals", json!("A"), json!("AB")));
    // UTF-16 code-unit order: U+FF21 is above the surrogate pair of U+1F600.
    assert!(both(
        "StringGreaterThan",
        json!("\u{FF21}"),
        json!("\u{1F600}")
    ));
}

#[test]
fn string_operators_are_false_on_non_strings() {
    for v in [
        json!(0),
        json!(0.0),
        json!(false),
        json!({}),
        json!({"A": 0}),
        json!(null),
        json!([]),
    ] {
        assert!(!both("StringEquals", v.clone(), json!("HelloWorld")), "{v}");
        assert!(!both("StringLessThan", v.clone(), json!("zzz")), "{v}");
    }
}

#[test]
fn numeric_comparisons_are_ieee_doubles_and_false_on_non_numbers() {
    assert!(both("NumericEquals", json!(1), json!(1)));
    assert!(both("NumericEquals", json!(0), json!(0.0)));
    assert!(both("NumericEquals", json!(2.22), json!(2.22)));
    assert!(!both("NumericEquals", json!(1.1), json!(1)));
    assert!(!both("NumericEquals", json!(0), json!(1)));
    for v in [
        json!(null),
        json!(""),
        json!(" "),
        json!([]),
        json!([""]),
        json!({}),
        json!(false),
        json!(true),
        json!("1"),
    ] {
        assert!(!both("NumericEquals", v.clone(), json!(1)), "{v}");
        assert!(!both("NumericEquals", v.clone(), json!(0)), "{v}");
    }
    assert!(both("NumericLessThan", json!(0), json!(1)));
    assert!(!both("NumericLessThan", json!(1), json!(1)));
    assert!(both("NumericGreaterThan", json!(1.5), json!(1)));
    assert!(!both("NumericGreaterThan", json!(0.0), json!(0)));
    assert!(both("NumericLessThanEquals", json!(1), json!(1.0)));
    assert!(!both("NumericLessThanEquals", json!(2), json!(1)));
    assert!(both("NumericGreaterThanEquals", json!(1), json!(1)));
    assert!(!both("NumericGreaterThanEquals", json!(-1), json!(0)));
}

#[test]
fn boolean_equals_only_matches_booleans() {
    assert!(both("BooleanEquals", json!(true), json!(true)));
    assert!(both("BooleanEquals", json!(false), json!(false)));
    assert!(!both("BooleanEquals", json!(false), json!(true)));
    for v in [
        json!(""),
        json!("true"),
        json!(1),
        json!(0.0),
        json!(null),
        json!([]),
        json!({}),
    ] {
        assert!(!both("BooleanEquals", v.clone(), json!(true)), "{v}");
        assert!(!both("BooleanEquals", v.clone(), json!(false)), "{v}");
    }
}

#[test]
fn timestamp_comparisons_parse_rfc3339_and_are_false_on_bad_timestamps() {
    let a = json!("2012-10-09T19:00:55Z");
    let b = json!("2012-10-09T19:00:56Z");
    assert!(both("TimestampEquals", a.clone(), a.clone()));
    assert!(!both("TimestampEquals", a.clone(), b.clone()));
    assert!(both("TimestampLessThan", a.clone(), b.clone()));
    assert!(!both("TimestampLessThan", a.clone(), a.clone()));
    assert!(both("TimestampGreaterThan", b.clone(), a.clone()));
    assert!(!both("TimestampGreaterThan", a.clone(), b.clone()));
    assert!(both("TimestampLessThanEquals", a.clone(), a.clone()));
    assert!(!both("TimestampLessThanEquals", b.clone(), a.clone()));
    assert!(both("TimestampGreaterThanEquals", b.clone(), a.clone()));
    assert!(!both("TimestampGreaterThanEquals", a.clone(), b.clone()));
    // The same instant written with an offset.
    assert!(both(
        "TimestampEquals",
        json!("2012-10-09T20:00:55+01:00"),
        a.clone()
    ));
    for v in [
        json!("2023-02-24 12:15:56.832957"),
        json!(""),
        json!(0),
        json!(1.1),
        json!({}),
        json!([""]),
    ] {
        assert!(!cmp("TimestampEquals", v.clone(), a.clone()), "{v}");
        assert!(!cmp("TimestampLessThan", v.clone(), a.clone()), "{v}");
    }
}

#[test]
fn type_tests_compare_the_type_with_the_flag() {
    let samples = [
        json!(null),
        json!(""),
        json!("HelloWorld"),
        json!("2012-10-09T19:00:55Z"),
        json!("2012-10-09T19:00:55"),
        json!(0),
        json!(0.0),
        json!(1.1),
        json!(true),
        json!(false),
        json!([]),
        json!({}),
    ];
    for v in samples {
        let is_ts = v.as_str().is_some_and(|s| s.ends_with('Z'));
        for (op, expect) in [
            ("IsNull", v.is_null()),
            ("IsNumeric", v.is_number()),
            ("IsString", v.is_string()),
            ("IsBoolean", v.is_boolean()),
            ("IsTimestamp", is_ts),
            ("IsPresent", true),
        ] {
            assert_eq!(cmp(op, v.clone(), json!(true)), expect, "{op}: true on {v}");
            assert_eq!(
                cmp(op, v.clone(), json!(false)),
                !expect,
                "{op}: false on {v}"
            );
        }
    }
}

#[test]
fn is_present_on_a_missing_field_is_false_and_does_not_fail() {
    assert!(!matches(
        json!({"Variable": "$.nope", "IsPresent": true}),
        json!({})
    ));
    assert!(matches(
        json!({"Variable": "$.nope", "IsPresent": false}),
        json!({})
    ));
    assert!(matches(
        json!({"Variable": "$.a.b", "IsPresent": false}),
        json!({"a": 1})
    ));
}

#[test]
fn string_matches_wildcards_and_escapes() {
    let m = |v: &str, p: &str| cmp("StringMatches", json!(v), json!(p));
    assert!(m("log-1-2.txt", "log-*-*.txt"));
    assert!(m("a.log", "*.log"));
    assert!(m(".log", "*.log"), "star matches the empty string");
    assert!(!m("a.log.txt", "*.log"), "whole string must match");
    assert!(m("", "*"));
    assert!(!m("x", ""));
    assert!(m("a*b", "a\\*b"), "escaped star is literal");
    assert!(!m("aXb", "a\\*b"));
    assert!(m("a\\b", "a\\\\b"), "escaped backslash is literal");
    assert!(m("fooXbarYYbaz", "foo*bar*baz"));
    assert!(!m("fooXbaz", "foo*bar*baz"));
    assert!(
        !cmp("StringMatches", json!(5), json!("*")),
        "non-string is false"
    );
}

#[test]
fn and_or_not_compose_and_short_circuit() {
    let input = json!({"a": 1, "s": "x"});
    let t = json!({"Variable": "$.a", "NumericEquals": 1});
    let f = json!({"Variable": "$.s", "StringEquals": "y"});
    let missing = json!({"Variable": "$.missing", "NumericEquals": 1});
    assert!(matches(json!({"And": [t, t]}), input.clone()));
    assert!(!matches(json!({"And": [t, f]}), input.clone()));
    assert!(matches(json!({"Or": [f, t]}), input.clone()));
    assert!(!matches(json!({"Or": [f, f]}), input.clone()));
    assert!(matches(json!({"Not": f}), input.clone()));
    assert!(!matches(json!({"Not": t}), input.clone()));
    assert!(matches(
        json!({"And": [{"Not": f}, {"Or": [f, {"And": [t]}]}]}),
        input.clone()
    ));
    // Evaluation stops at the first deciding operand: the missing path is never read.
    assert!(!matches(json!({"And": [f, missing]}), input.clone()));
    assert!(matches(json!({"Or": [t, missing]}), input.clone()));
}

#[test]
fn rules_are_tried_in_order_and_the_first_match_wins() {
    let def = r#"{"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [
            {"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"},
            {"Variable": "$.n", "NumericGreaterThan": 0, "Next": "Small"},
            {"Variable": "$.n", "NumericGreaterThan": 5, "Next": "Never"}],
          "Default": "Other"},
        "Big": {"Type": "Pass", "Result": "big", "End": true},
        "Small": {"Type": "Pass", "Result": "small", "End": true},
        "Never": {"Type": "Pass", "Result": "never", "End": true},
        "Other": {"Type": "Pass", "Result": "other", "End": true}}}"#;
    assert_eq!(World::start(def, r#"{"n": 11}"#).output(), json!("big"));
    assert_eq!(World::start(def, r#"{"n": 7}"#).output(), json!("small"));
    assert_eq!(World::start(def, r#"{"n": -1}"#).output(), json!("other"));
}

#[test]
fn choice_output_is_its_input_and_history_has_entered_and_exited() {
    let def = r#"{"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "P"}]},
        "P": {"Type": "Pass", "End": true}}}"#;
    let w = World::start(def, r#"{"n": 1}"#);
    assert_eq!(w.output(), json!({"n": 1}));
    assert_eq!(
        w.types(),
        [
            "ExecutionStarted",
            "ChoiceStateEntered",
            "ChoiceStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
}

#[test]
fn no_match_and_no_default_is_states_no_choice_matched() {
    let def = r#"{"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "P"}]},
        "P": {"Type": "Pass", "End": true}}}"#;
    let w = World::start(def, r#"{"n": 2}"#);
    assert_eq!(w.error(), "States.NoChoiceMatched");
    assert_eq!(
        w.cause(),
        "An error occurred while executing the state 'C' (entered at the event id #2). No Matches!"
    );
    assert_eq!(
        w.types(),
        ["ExecutionStarted", "ChoiceStateEntered", "ExecutionFailed"]
    );
    assert_eq!(w.history[2].previous_event_id, 2);
}

#[test]
fn a_missing_variable_is_states_runtime() {
    let def = r#"{"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.nope", "StringEquals": "x", "Next": "P"}], "Default": "P"},
        "P": {"Type": "Pass", "End": true}}}"#;
    let w = World::start(def, "{}");
    assert_eq!(w.error(), "States.Runtime");
    assert_eq!(
        w.cause(),
        "An error occurred while executing the state 'C' (entered at the event id #2). Invalid path '$.nope' : No results for path: $['nope']"
    );
}

#[test]
fn a_missing_operand_path_is_states_runtime() {
    let w = World::start(
        &json!({"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.v", "NumericEqualsPath": "$.x", "Next": "P"}], "Default": "P"},
            "P": {"Type": "Pass", "End": true}}})
        .to_string(),
        r#"{"v": 1}"#,
    );
    assert_eq!(w.error(), "States.Runtime");
    assert!(
        w.cause()
            .ends_with("Invalid path '$.x' : No results for path: $['x']"),
        "{}",
        w.cause()
    );
}

#[test]
fn variable_may_read_the_context_object() {
    assert!(matches(
        json!({"Variable": "$$.Execution.Input.n", "NumericLessThanEquals": 0}),
        json!({"n": 0})
    ));
    assert!(matches(
        json!({"Variable": "$$.State.Name", "StringEquals": "C"}),
        json!({})
    ));
}

#[test]
fn choice_input_path_filters_what_rules_see() {
    let def = r#"{"StartAt": "C", "States": {
        "C": {"Type": "Choice", "InputPath": "$.inner",
              "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "P"}]},
        "P": {"Type": "Pass", "End": true}}}"#;
    let w = World::start(def, r#"{"inner": {"n": 1}, "n": 2}"#);
    assert_eq!(w.output(), json!({"n": 1}));
}
