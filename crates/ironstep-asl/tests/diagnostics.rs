//! What the validator reports, state type by state type and field by field, as snapshots of the
//! `ValidateStateMachineDefinition` diagnostic lists (`tests/snapshots/`). Each test groups the
//! cases of one topic; each case is a small definition that breaks one rule, or a valid one that
//! must stay valid (its list is `[]`).
//!
//! The messages AWS has been recorded or measured to give are pinned exactly by
//! `tests/aws_messages.rs`; the snapshots here guard the rest against unnoticed change.

use ironstep_asl::{CompileOptions, StateMachineType, validate};
use serde_json::{Map, Value, json};

/// The diagnostics of one definition, in the API's JSON shape.
fn diagnostics(def: &Value, machine_type: StateMachineType) -> Value {
    let text = def.to_string();
    let list = validate(&text, &CompileOptions { machine_type });
    // Whatever validate says, compile must agree on success.
    let ok = !list.iter().any(|d| d.is_error());
    assert_eq!(
        ok,
        ironstep_asl::compile(&text, &CompileOptions { machine_type }).is_ok(),
        "{text}"
    );
    Value::Array(
        list.iter()
            .map(|d| {
                let mut m = Map::new();
                m.insert("severity".into(), json!(d.severity.as_str()));
                m.insert("code".into(), json!(d.code.as_str()));
                m.insert("message".into(), json!(d.message));
                if let Some(l) = &d.location {
                    m.insert("location".into(), json!(l));
                }
                Value::Object(m)
            })
            .collect(),
    )
}

/// A topic: named cases and their diagnostic lists, in order.
struct Cases(Map<String, Value>);

impl Cases {
    fn new() -> Self {
        Cases(Map::new())
    }

    fn def(&mut self, name: &str, def: Value) -> &mut Self {
        self.typed(name, def, StateMachineType::Standard)
    }

    fn typed(&mut self, name: &str, def: Value, ty: StateMachineType) -> &mut Self {
        assert!(
            self.0
                .insert(name.to_string(), diagnostics(&def, ty))
                .is_none(),
            "duplicate case {name}"
        );
        self
    }

    /// One state `S` (JSONPath) that is the whole machine; states it names as `Next`/`Default`
    /// targets can be added with [`Cases::with`].
    fn state(&mut self, name: &str, state: Value) -> &mut Self {
        self.def(name, json!({"StartAt": "S", "States": {"S": state}}))
    }

    /// One JSONata state `S`.
    fn jsonata(&mut self, name: &str, state: Value) -> &mut Self {
        self.def(
            name,
            json!({"QueryLanguage": "JSONata", "StartAt": "S", "States": {"S": state}}),
        )
    }

    /// JSONata state `S` that may go to a Succeed `N`.
    fn jsonata_then(&mut self, name: &str, state: Value) -> &mut Self {
        self.def(
            name,
            json!({"QueryLanguage": "JSONata", "StartAt": "S", "States": {"S": state, "N": {"Type": "Succeed"}}}),
        )
    }

    /// State `S` followed by a Succeed `N`.
    fn then(&mut self, name: &str, state: Value) -> &mut Self {
        self.def(
            name,
            json!({"StartAt": "S", "States": {"S": state, "N": {"Type": "Succeed"}}}),
        )
    }

    fn value(&self) -> Value {
        Value::Object(self.0.clone())
    }
}

macro_rules! snapshot {
    ($name:literal, $cases:expr) => {
        insta::with_settings!({prepend_module_to_snapshot => false, omit_expression => true}, {
            insta::assert_json_snapshot!($name, $cases.value());
        })
    };
}

#[test]
fn top_level() {
    let mut c = Cases::new();
    c.def("valid minimal", json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}))
        .def("not an object", json!([1]))
        .def("empty object", json!({}))
        .def("no StartAt", json!({"States": {"P": {"Type": "Pass", "End": true}}}))
        .def("no States", json!({"StartAt": "P"}))
        .def("States empty", json!({"StartAt": "P", "States": {}}))
        .def("States not an object", json!({"StartAt": "P", "States": []}))
        .def("StartAt not a string", json!({"StartAt": 1, "States": {"P": {"Type": "Pass", "End": true}}}))
        .def("StartAt names no state", json!({"StartAt": "Q", "States": {"P": {"Type": "Pass", "End": true}}}))
        .def("Version 1.0", json!({"Version": "1.0", "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}))
        .def("Version 2.0", json!({"Version": "2.0", "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}))
        .def("Comment not a string", json!({"Comment": 5, "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}))
        .def("TimeoutSeconds 0", json!({"TimeoutSeconds": 0, "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}))
        .def("TimeoutSeconds string", json!({"TimeoutSeconds": "5", "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}))
        .def("TimeoutSeconds 3.0 is an integer", json!({"TimeoutSeconds": 3.0, "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}))
        .def("unknown top-level field", json!({"Foo": 1, "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}))
        .def("QueryLanguage unknown value", json!({"QueryLanguage": "jsonata", "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}))
        .def("QueryLanguage not a string", json!({"QueryLanguage": 1, "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}));
    snapshot!("top_level", c);
}

#[test]
fn states_and_names() {
    let mut c = Cases::new();
    c.state("state not an object", json!([]))
        .state("no Type", json!({"End": true}))
        .state("Type not a string", json!({"Type": 1, "End": true}))
        .state("unknown Type", json!({"Type": "Lambda", "End": true}))
        .state("unknown field", json!({"Type": "Pass", "End": true, "Foo": 1}))
        .def("name of 81 characters", json!({"StartAt": "x".repeat(81), "States": {"x".repeat(81): {"Type": "Pass", "End": true}}}))
        .def("name of 80 characters", json!({"StartAt": "x".repeat(80), "States": {"x".repeat(80): {"Type": "Pass", "End": true}}}))
        .def("empty name", json!({"StartAt": "", "States": {"": {"Type": "Pass", "End": true}}}))
        .def("name with a control character", json!({"StartAt": "a\u{1}", "States": {"a\u{1}": {"Type": "Pass", "End": true}}}))
        .def("name with a slash is escaped in locations", json!({"StartAt": "a/b", "States": {"a/b": {"Type": "Pass", "Foo": 1, "End": true}}}))
        .def("duplicate name across a Parallel branch", json!({"StartAt": "P", "States": {
            "P": {"Type": "Parallel", "End": true, "Branches": [{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}]}}}))
        .def("duplicate name across a Map processor", json!({"StartAt": "M", "States": {
            "M": {"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "X", "States": {"X": {"Type": "Pass", "End": true}}}},
            "X": {"Type": "Pass", "End": true}}}));
    snapshot!("states_and_names", c);
}

#[test]
fn transitions_and_graph() {
    let mut c = Cases::new();
    c.state("neither Next nor End", json!({"Type": "Pass"}))
        .state("End false and no Next", json!({"Type": "Pass", "End": false}))
        .then("Next and End", json!({"Type": "Pass", "Next": "N", "End": true}))
        .then("Next and End false is fine", json!({"Type": "Pass", "Next": "N", "End": false}))
        .state("Next not a string", json!({"Type": "Pass", "Next": 1}))
        .state("End not a boolean", json!({"Type": "Pass", "End": "yes"}))
        .state("Next names no state", json!({"Type": "Pass", "Next": "Nope"}))
        .def("loop without terminal state", json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}}}))
        .def("loop with an unreachable terminal state", json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}, "C": {"Type": "Pass", "End": true}}}))
        .def("two unreachable states", json!({"StartAt": "A", "States": {
            "A": {"Type": "Succeed"}, "B": {"Type": "Pass", "Next": "C"}, "C": {"Type": "Succeed"}}}))
        .def("reachable only through Catch", json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
                  "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "F"}]},
            "F": {"Type": "Fail"}}}))
        .def("reachable only through Choice Default", json!({"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.a", "IsPresent": true, "Next": "A"}], "Default": "D"},
            "A": {"Type": "Succeed"}, "D": {"Type": "Succeed"}}}))
        .def("Next into a Parallel branch", json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Next": "Inner"},
            "P": {"Type": "Parallel", "End": true, "Branches": [{"StartAt": "Inner", "States": {"Inner": {"Type": "Pass", "End": true}}}]}}}))
        .def("Next out of a Map processor", json!({"StartAt": "M", "States": {
            "M": {"Type": "Map", "Next": "After", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "Next": "After"}}}},
            "After": {"Type": "Succeed"}}}))
        .def("unreachable state inside a branch", json!({"StartAt": "P", "States": {
            "P": {"Type": "Parallel", "End": true, "Branches": [
                {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}, "B": {"Type": "Pass", "End": true}}}]}}}))
        .def("branch without terminal state", json!({"StartAt": "P", "States": {
            "P": {"Type": "Parallel", "End": true, "Branches": [
                {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "A"}}}]}}}))
        .def("branch StartAt names no state", json!({"StartAt": "P", "States": {
            "P": {"Type": "Parallel", "End": true, "Branches": [
                {"StartAt": "Z", "States": {"A": {"Type": "Pass", "End": true}}}]}}}));
    snapshot!("transitions_and_graph", c);
}

#[test]
fn pass_state() {
    let mut c = Cases::new();
    c.state(
        "all JSONPath fields",
        json!({"Type": "Pass", "Comment": "c", "InputPath": "$.a", "Parameters": {"x.$": "$.b"},
            "ResultPath": "$.r", "OutputPath": "$.r", "Assign": {"v.$": "$.a"}, "End": true}),
    )
    .state(
        "Result literal",
        json!({"Type": "Pass", "Result": {"a": [1, 2]}, "End": true}),
    )
    .state(
        "Result with .$ keys is static",
        json!({"Type": "Pass", "Result": {"a.$": "$.x"}, "End": true}),
    )
    .state(
        "Result with nested .$ keys",
        json!({"Type": "Pass", "Result": [{"a": {"b.$": "$.x"}}], "End": true}),
    )
    .state(
        "Parameters not an object",
        json!({"Type": "Pass", "Parameters": "x", "End": true}),
    )
    .state(
        "Parameters .$ value not a string",
        json!({"Type": "Pass", "Parameters": {"x.$": 1}, "End": true}),
    )
    .state(
        "Parameters .$ value not a path",
        json!({"Type": "Pass", "Parameters": {"x.$": "hello"}, "End": true}),
    )
    .state(
        "Parameters looks like a path without .$",
        json!({"Type": "Pass", "Parameters": {"x": "$.a"}, "End": true}),
    )
    .state(
        "Parameters nested bad path",
        json!({"Type": "Pass", "Parameters": {"o": {"l": [{"x.$": "$["}]}}, "End": true}),
    )
    .state(
        "Parameters context path",
        json!({"Type": "Pass", "Parameters": {"id.$": "$$.Execution.Id"}, "End": true}),
    )
    .state(
        "Parameters variable",
        json!({"Type": "Pass", "Parameters": {"v.$": "$v.a"}, "End": true}),
    )
    .state(
        "InputPath invalid",
        json!({"Type": "Pass", "InputPath": "a.b", "End": true}),
    )
    .state(
        "InputPath not a string",
        json!({"Type": "Pass", "InputPath": 1, "End": true}),
    )
    .state(
        "InputPath null",
        json!({"Type": "Pass", "InputPath": null, "End": true}),
    )
    .state(
        "InputPath filter is allowed",
        json!({"Type": "Pass", "InputPath": "$.a[?(@.b > 1)]", "End": true}),
    )
    .state(
        "ResultPath filter is not a reference path",
        json!({"Type": "Pass", "ResultPath": "$.a[?(@.b > 1)]", "End": true}),
    )
    .state(
        "ResultPath wildcard is not a reference path",
        json!({"Type": "Pass", "ResultPath": "$.a[*]", "End": true}),
    )
    .state(
        "ResultPath null",
        json!({"Type": "Pass", "ResultPath": null, "End": true}),
    )
    .state(
        "ResultPath context is not allowed",
        json!({"Type": "Pass", "ResultPath": "$$.Execution", "End": true}),
    )
    .state(
        "OutputPath invalid",
        json!({"Type": "Pass", "OutputPath": "$..", "End": true}),
    )
    .state(
        "JSONata fields on a JSONPath Pass",
        json!({"Type": "Pass", "Output": {}, "Arguments": {}, "End": true}),
    )
    .state(
        "Retry is not supported",
        json!({"Type": "Pass", "Retry": [], "End": true}),
    )
    .state(
        "Catch is not supported",
        json!({"Type": "Pass", "Catch": [], "End": true}),
    )
    .state(
        "TimeoutSeconds is not supported",
        json!({"Type": "Pass", "TimeoutSeconds": 1, "End": true}),
    )
    .state(
        "Resource is not supported",
        json!({"Type": "Pass", "Resource": "arn:aws:states:::lambda:invoke", "End": true}),
    );
    snapshot!("pass_state", c);
}

#[test]
fn intrinsic_functions() {
    let mut c = Cases::new();
    for (name, expr) in [
        ("Format", "States.Format('a{}b', $.x)"),
        (
            "nested calls",
            "States.Array(States.MathAdd(1, 2), States.UUID())",
        ),
        (
            "escaped quote and braces",
            "States.Format('it\\'s \\{\\} {}', $.x)",
        ),
        ("unknown function", "States.Nope($.x)"),
        ("lowercase namespace", "states.Array(1)"),
        ("unclosed call", "States.Array(1, 2"),
        ("trailing comma", "States.Array(1,)"),
        ("unterminated string", "States.Format('abc)"),
        ("bad path argument", "States.JsonToString($[)"),
        ("text after the call", "States.UUID() x"),
        (
            "too deeply nested",
            &format!("{}1{}", "States.Array(".repeat(12), ")".repeat(12)),
        ),
    ] {
        c.state(
            name,
            json!({"Type": "Pass", "Parameters": {"v.$": expr}, "End": true}),
        );
    }
    c.state("in ResultSelector", json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "ResultSelector": {"v.$": "States.Nope()"}, "End": true}))
        .state("in Fail ErrorPath", json!({"Type": "Fail", "ErrorPath": "States.Format('{}', $.e)", "CausePath": "States.Nope()"}));
    snapshot!("intrinsic_functions", c);
}

fn task(extra: Value) -> Value {
    let mut t = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true});
    if let (Value::Object(t), Value::Object(extra)) = (&mut t, extra) {
        for (k, v) in extra {
            if v.is_null() && k.starts_with('-') {
                t.remove(&k[1..]);
            } else {
                t.insert(k, v);
            }
        }
    }
    t
}

#[test]
fn task_state() {
    let mut c = Cases::new();
    c.state("no Resource", task(json!({"-Resource": null})))
        .state("Resource not a string", task(json!({"Resource": 1})))
        .state("Resource not an ARN", task(json!({"Resource": "lambda"})))
        .state(
            "Resource with a region",
            task(json!({"Resource": "arn:aws:states:us-east-1::lambda:invoke"})),
        )
        .state(
            "Resource service without API",
            task(json!({"Resource": "arn:aws:states:::lambda:"})),
        )
        .state(
            "SDK integration",
            task(json!({"Resource": "arn:aws:states:::aws-sdk:s3:listBuckets"})),
        )
        .state(
            "activity",
            task(json!({"Resource": "arn:aws:states:us-east-1:123456789012:activity:a"})),
        )
        .state(
            "Lambda function ARN",
            task(json!({"Resource": "arn:aws:lambda:us-east-1:123456789012:function:f"})),
        )
        .state("TimeoutSeconds 0", task(json!({"TimeoutSeconds": 0})))
        .state(
            "TimeoutSeconds negative",
            task(json!({"TimeoutSeconds": -5})),
        )
        .state(
            "TimeoutSeconds fractional",
            task(json!({"TimeoutSeconds": 1.5})),
        )
        .state(
            "TimeoutSeconds maximum",
            task(json!({"TimeoutSeconds": 99_999_999})),
        )
        .state(
            "TimeoutSeconds over the maximum",
            task(json!({"TimeoutSeconds": 100_000_000})),
        )
        .state(
            "TimeoutSeconds and TimeoutSecondsPath",
            task(json!({"TimeoutSeconds": 5, "TimeoutSecondsPath": "$.t"})),
        )
        .state(
            "TimeoutSecondsPath invalid",
            task(json!({"TimeoutSecondsPath": "t"})),
        )
        .state(
            "TimeoutSecondsPath not a string",
            task(json!({"TimeoutSecondsPath": 5})),
        )
        .state(
            "HeartbeatSeconds equal to TimeoutSeconds",
            task(json!({"TimeoutSeconds": 5, "HeartbeatSeconds": 5})),
        )
        .state(
            "HeartbeatSeconds above TimeoutSeconds",
            task(json!({"TimeoutSeconds": 5, "HeartbeatSeconds": 10})),
        )
        .state(
            "HeartbeatSeconds below TimeoutSeconds",
            task(json!({"TimeoutSeconds": 10, "HeartbeatSeconds": 5})),
        )
        .state(
            "HeartbeatSeconds alone",
            task(json!({"HeartbeatSeconds": 5})),
        )
        .state("HeartbeatSeconds 0", task(json!({"HeartbeatSeconds": 0})))
        .state(
            "HeartbeatSecondsPath with TimeoutSeconds",
            task(json!({"TimeoutSeconds": 5, "HeartbeatSecondsPath": "$.h"})),
        )
        .state(
            "HeartbeatSeconds and HeartbeatSecondsPath",
            task(json!({"HeartbeatSeconds": 5, "HeartbeatSecondsPath": "$.h"})),
        )
        .state(
            "Credentials",
            task(json!({"Credentials": {"RoleArn.$": "$.role"}})),
        )
        .state(
            "Credentials not an object",
            task(json!({"Credentials": "arn:aws:iam::1:role/r"})),
        )
        .state(
            "Credentials bad path",
            task(json!({"Credentials": {"RoleArn.$": "role"}})),
        )
        .state(
            "ResultSelector",
            task(json!({"ResultSelector": {"p.$": "$.Payload", "n": 1}})),
        )
        .state(
            "ResultSelector bad path",
            task(json!({"ResultSelector": {"p.$": "Payload"}})),
        )
        .state("Parameters array", task(json!({"Parameters": [1]})))
        .state(
            "Arguments on a JSONPath task",
            task(json!({"Arguments": {}})),
        )
        .state("Choices is not supported", task(json!({"Choices": []})));
    snapshot!("task_state", c);
}

#[test]
fn retry_and_catch() {
    let mut c = Cases::new();
    let r = |retrier: Value| task(json!({"Retry": [retrier]}));
    c.state("full retrier", r(json!({"ErrorEquals": ["States.Timeout", "Custom"], "IntervalSeconds": 3, "MaxAttempts": 0,
            "BackoffRate": 1.0, "MaxDelaySeconds": 31_622_400, "JitterStrategy": "FULL", "Comment": "c"})))
        .state("Retry not an array", task(json!({"Retry": {}})))
        .state("retrier not an object", task(json!({"Retry": [1]})))
        .state("no ErrorEquals", r(json!({"MaxAttempts": 1})))
        .state("ErrorEquals empty", r(json!({"ErrorEquals": []})))
        .state("ErrorEquals not strings", r(json!({"ErrorEquals": [1]})))
        .state("ErrorEquals not an array", r(json!({"ErrorEquals": "States.ALL"})))
        .state("States.ALL with others", r(json!({"ErrorEquals": ["States.ALL", "X"]})))
        .state("States.ALL not last", task(json!({"Retry": [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}]})))
        .state("IntervalSeconds 0", r(json!({"ErrorEquals": ["X"], "IntervalSeconds": 0})))
        .state("IntervalSeconds over the maximum", r(json!({"ErrorEquals": ["X"], "IntervalSeconds": 100_000_000})))
        .state("MaxAttempts negative", r(json!({"ErrorEquals": ["X"], "MaxAttempts": -1})))
        .state("MaxAttempts string", r(json!({"ErrorEquals": ["X"], "MaxAttempts": "3"})))
        .state("BackoffRate below 1", r(json!({"ErrorEquals": ["X"], "BackoffRate": 0.5})))
        .state("MaxDelaySeconds 0", r(json!({"ErrorEquals": ["X"], "MaxDelaySeconds": 0})))
        .state("MaxDelaySeconds over the maximum", r(json!({"ErrorEquals": ["X"], "MaxDelaySeconds": 31_622_401})))
        .state("JitterStrategy unknown", r(json!({"ErrorEquals": ["X"], "JitterStrategy": "SOME"})))
        .state("unknown retrier field", r(json!({"ErrorEquals": ["X"], "Next": "S"})));
    let k = |catcher: Value| json!({"StartAt": "S", "States": {"S": task(json!({"Catch": [catcher]})), "H": {"Type": "Succeed"}}});
    c.def("full catcher", k(json!({"ErrorEquals": ["States.ALL"], "Next": "H", "ResultPath": "$.e", "Assign": {"x.$": "$.Error"}, "Comment": "c"})))
        .state("Catch not an array", task(json!({"Catch": "H"})))
        .state("catcher not an object", task(json!({"Catch": [null]})))
        .def("catcher without Next", k(json!({"ErrorEquals": ["X"]})))
        .def("catcher Next not a string", k(json!({"ErrorEquals": ["X"], "Next": 1})))
        .def("catcher Next names no state", k(json!({"ErrorEquals": ["X"], "Next": "Nope"})))
        .def("catcher ResultPath null", k(json!({"ErrorEquals": ["X"], "Next": "H", "ResultPath": null})))
        .def("catcher ResultPath invalid", k(json!({"ErrorEquals": ["X"], "Next": "H", "ResultPath": "$.a[*]"})))
        .def("catcher Output on JSONPath", k(json!({"ErrorEquals": ["X"], "Next": "H", "Output": {}})))
        .def("catcher unknown field", k(json!({"ErrorEquals": ["X"], "Next": "H", "Retry": []})))
        .def("States.ALL not in the last catcher", json!({"StartAt": "S", "States": {"S": task(json!({"Catch": [
            {"ErrorEquals": ["States.ALL"], "Next": "H"}, {"ErrorEquals": ["X"], "Next": "H"}]})), "H": {"Type": "Succeed"}}}));
    snapshot!("retry_and_catch", c);
}

fn choice(rule: Value) -> Value {
    json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [rule], "Default": "D"},
        "A": {"Type": "Succeed"}, "D": {"Type": "Succeed"}}})
}

#[test]
fn choice_operators() {
    let mut c = Cases::new();
    let string_ops = [
        "StringEquals",
        "StringLessThan",
        "StringGreaterThan",
        "StringLessThanEquals",
        "StringGreaterThanEquals",
    ];
    let numeric_ops = [
        "NumericEquals",
        "NumericLessThan",
        "NumericGreaterThan",
        "NumericLessThanEquals",
        "NumericGreaterThanEquals",
    ];
    let timestamp_ops = [
        "TimestampEquals",
        "TimestampLessThan",
        "TimestampGreaterThan",
        "TimestampLessThanEquals",
        "TimestampGreaterThanEquals",
    ];
    for op in string_ops {
        c.def(
            &format!("{op} string"),
            choice(json!({"Variable": "$.v", op: "a", "Next": "A"})),
        )
        .def(
            &format!("{op} number"),
            choice(json!({"Variable": "$.v", op: 1, "Next": "A"})),
        )
        .def(
            &format!("{op}Path"),
            choice(json!({"Variable": "$.v", format!("{op}Path"): "$.w", "Next": "A"})),
        );
    }
    for op in numeric_ops {
        c.def(
            &format!("{op} number"),
            choice(json!({"Variable": "$.v", op: 1.5, "Next": "A"})),
        )
        .def(
            &format!("{op} string"),
            choice(json!({"Variable": "$.v", op: "1", "Next": "A"})),
        )
        .def(
            &format!("{op}Path bad path"),
            choice(json!({"Variable": "$.v", format!("{op}Path"): "w", "Next": "A"})),
        );
    }
    for op in timestamp_ops {
        c.def(
            &format!("{op} timestamp"),
            choice(json!({"Variable": "$.v", op: "2016-03-14T01:59:00Z", "Next": "A"})),
        )
        .def(
            &format!("{op} boolean"),
            choice(json!({"Variable": "$.v", op: true, "Next": "A"})),
        )
        .def(
            &format!("{op}Path not a string"),
            choice(json!({"Variable": "$.v", format!("{op}Path"): 1, "Next": "A"})),
        );
    }
    c.def(
        "TimestampEquals not a timestamp",
        choice(json!({"Variable": "$.v", "TimestampEquals": "yesterday", "Next": "A"})),
    )
    .def(
        "StringMatches",
        choice(json!({"Variable": "$.v", "StringMatches": "log-*.txt", "Next": "A"})),
    )
    .def(
        "StringMatches number",
        choice(json!({"Variable": "$.v", "StringMatches": 1, "Next": "A"})),
    )
    .def(
        "StringMatchesPath does not exist",
        choice(json!({"Variable": "$.v", "StringMatchesPath": "$.w", "Next": "A"})),
    )
    .def(
        "BooleanEquals",
        choice(json!({"Variable": "$.v", "BooleanEquals": false, "Next": "A"})),
    )
    .def(
        "BooleanEquals string",
        choice(json!({"Variable": "$.v", "BooleanEquals": "true", "Next": "A"})),
    )
    .def(
        "BooleanEqualsPath",
        choice(json!({"Variable": "$.v", "BooleanEqualsPath": "$.w", "Next": "A"})),
    );
    for op in [
        "IsNull",
        "IsPresent",
        "IsNumeric",
        "IsString",
        "IsBoolean",
        "IsTimestamp",
    ] {
        c.def(
            op,
            choice(json!({"Variable": "$.v", op: true, "Next": "A"})),
        )
        .def(
            &format!("{op} not a boolean"),
            choice(json!({"Variable": "$.v", op: "true", "Next": "A"})),
        );
    }
    snapshot!("choice_operators", c);
}

#[test]
fn choice_rules() {
    let mut c = Cases::new();
    c.def("no Choices", json!({"StartAt": "C", "States": {"C": {"Type": "Choice", "Default": "D"}, "D": {"Type": "Succeed"}}}))
        .def("Choices empty", json!({"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [], "Default": "D"}, "D": {"Type": "Succeed"}}}))
        .def("Choices not an array", json!({"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": {}, "Default": "D"}, "D": {"Type": "Succeed"}}}))
        .def("rule not an object", choice(json!("x")))
        .def("rule without Next", choice(json!({"Variable": "$.v", "IsPresent": true})))
        .def("rule Next names no state", choice(json!({"Variable": "$.v", "IsPresent": true, "Next": "Nope"})))
        .def("rule without operator", choice(json!({"Variable": "$.v", "Next": "A"})))
        .def("rule with two operators", choice(json!({"Variable": "$.v", "IsPresent": true, "IsNull": false, "Next": "A"})))
        .def("rule without Variable", choice(json!({"StringEquals": "a", "Next": "A"})))
        .def("Variable not a path", choice(json!({"Variable": "v", "IsPresent": true, "Next": "A"})))
        .def("Variable not a reference path", choice(json!({"Variable": "$.a[*]", "IsPresent": true, "Next": "A"})))
        .def("Variable context path", choice(json!({"Variable": "$$.Execution.Input.a", "IsPresent": true, "Next": "A"})))
        .def("Variable variable", choice(json!({"Variable": "$x.a", "IsPresent": true, "Next": "A"})))
        .def("unknown operator", choice(json!({"Variable": "$.v", "StringContains": "a", "Next": "A"})))
        .def("And", choice(json!({"And": [{"Variable": "$.a", "IsPresent": true}, {"Variable": "$.b", "NumericEquals": 1}], "Next": "A"})))
        .def("Or nested in Not nested in And", choice(json!({"And": [{"Not": {"Or": [{"Variable": "$.a", "IsNull": true}, {"Variable": "$.a", "IsString": true}]}}], "Next": "A"})))
        .def("And empty", choice(json!({"And": [], "Next": "A"})))
        .def("Or not an array", choice(json!({"Or": {"Variable": "$.a", "IsPresent": true}, "Next": "A"})))
        .def("Not not an object", choice(json!({"Not": [{"Variable": "$.a", "IsPresent": true}], "Next": "A"})))
        .def("Next inside And", choice(json!({"And": [{"Variable": "$.a", "IsPresent": true, "Next": "A"}], "Next": "A"})))
        .def("Next inside Not", choice(json!({"Not": {"Variable": "$.a", "IsPresent": true, "Next": "A"}, "Next": "A"})))
        .def("bad rule deep inside Or", choice(json!({"Or": [{"Variable": "$.a", "IsPresent": true}, {"And": [{"Variable": "$.b", "NumericEquals": "x"}]}], "Next": "A"})))
        .def("unknown field in a nested rule", choice(json!({"Not": {"Variable": "$.a", "IsPresent": true, "Foo": 1}, "Next": "A"})))
        .def("rule Assign", choice(json!({"Variable": "$.a", "IsPresent": true, "Next": "A", "Assign": {"x.$": "$.a"}})))
        .def("rule Output on JSONPath", choice(json!({"Variable": "$.a", "IsPresent": true, "Next": "A", "Output": {}})))
        .def("rule Condition on JSONPath", choice(json!({"Condition": "{% true %}", "Next": "A"})))
        .def("Default names no state", json!({"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.v", "IsPresent": true, "Next": "A"}], "Default": "Nope"}, "A": {"Type": "Succeed"}}}))
        .def("Default not a string", json!({"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.v", "IsPresent": true, "Next": "A"}], "Default": 1}, "A": {"Type": "Succeed"}}}))
        .def("Choice with Next and End", json!({"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.v", "IsPresent": true, "Next": "A"}], "Next": "A", "End": true}, "A": {"Type": "Succeed"}}}))
        .def("Choice with ResultPath", json!({"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.v", "IsPresent": true, "Next": "A"}], "ResultPath": "$.x"}, "A": {"Type": "Succeed"}}}))
        .def("Choice with Parameters", json!({"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.v", "IsPresent": true, "Next": "A"}], "Parameters": {}}, "A": {"Type": "Succeed"}}}));
    snapshot!("choice_rules", c);
}

#[test]
fn wait_state() {
    let mut c = Cases::new();
    c.state(
        "Seconds",
        json!({"Type": "Wait", "Seconds": 0, "End": true}),
    )
    .state(
        "Seconds negative",
        json!({"Type": "Wait", "Seconds": -1, "End": true}),
    )
    .state(
        "Seconds fractional",
        json!({"Type": "Wait", "Seconds": 1.5, "End": true}),
    )
    .state(
        "Seconds string",
        json!({"Type": "Wait", "Seconds": "10", "End": true}),
    )
    .state(
        "Seconds over the maximum",
        json!({"Type": "Wait", "Seconds": 100_000_000, "End": true}),
    )
    .state(
        "Timestamp",
        json!({"Type": "Wait", "Timestamp": "2016-03-14T01:59:00Z", "End": true}),
    )
    .state(
        "Timestamp with offset and fraction",
        json!({"Type": "Wait", "Timestamp": "2016-03-14T01:59:00.123+02:00", "End": true}),
    )
    .state(
        "Timestamp without offset",
        json!({"Type": "Wait", "Timestamp": "2016-03-14T01:59:00", "End": true}),
    )
    .state(
        "Timestamp lowercase t",
        json!({"Type": "Wait", "Timestamp": "2016-03-14t01:59:00Z", "End": true}),
    )
    .state(
        "Timestamp not a string",
        json!({"Type": "Wait", "Timestamp": 1_457_920_740, "End": true}),
    )
    .state(
        "SecondsPath",
        json!({"Type": "Wait", "SecondsPath": "$.s", "End": true}),
    )
    .state(
        "SecondsPath invalid",
        json!({"Type": "Wait", "SecondsPath": "s", "End": true}),
    )
    .state(
        "TimestampPath context",
        json!({"Type": "Wait", "TimestampPath": "$$.Execution.StartTime", "End": true}),
    )
    .state(
        "TimestampPath not a reference path",
        json!({"Type": "Wait", "TimestampPath": "$..t", "End": true}),
    )
    .state("no duration", json!({"Type": "Wait", "End": true}))
    .state(
        "two durations",
        json!({"Type": "Wait", "Seconds": 1, "SecondsPath": "$.s", "End": true}),
    )
    .state(
        "ResultPath is not supported",
        json!({"Type": "Wait", "Seconds": 1, "ResultPath": null, "End": true}),
    )
    .state(
        "Parameters is not supported",
        json!({"Type": "Wait", "Seconds": 1, "Parameters": {}, "End": true}),
    )
    .state(
        "Assign",
        json!({"Type": "Wait", "Seconds": 1, "Assign": {"a": 1}, "End": true}),
    );
    snapshot!("wait_state", c);
}

#[test]
fn succeed_and_fail() {
    let mut c = Cases::new();
    c.state(
        "Succeed with paths",
        json!({"Type": "Succeed", "InputPath": "$.a", "OutputPath": "$.b"}),
    )
    .state("Succeed with Next", json!({"Type": "Succeed", "Next": "S"}))
    .state("Succeed with End", json!({"Type": "Succeed", "End": true}))
    .state(
        "Succeed with ResultPath",
        json!({"Type": "Succeed", "ResultPath": "$.x"}),
    )
    .state(
        "Succeed with Assign",
        json!({"Type": "Succeed", "Assign": {"a": 1}}),
    )
    .state("Fail", json!({"Type": "Fail", "Error": "E", "Cause": "C"}))
    .state("Fail without fields", json!({"Type": "Fail"}))
    .state(
        "Fail Error not a string",
        json!({"Type": "Fail", "Error": 1}),
    )
    .state(
        "Fail Cause not a string",
        json!({"Type": "Fail", "Cause": {}}),
    )
    .state(
        "Fail Error and ErrorPath",
        json!({"Type": "Fail", "Error": "E", "ErrorPath": "$.e"}),
    )
    .state(
        "Fail Cause and CausePath",
        json!({"Type": "Fail", "Cause": "C", "CausePath": "$.c"}),
    )
    .state(
        "Fail ErrorPath context",
        json!({"Type": "Fail", "ErrorPath": "$$.State.Name"}),
    )
    .state(
        "Fail ErrorPath not a string",
        json!({"Type": "Fail", "ErrorPath": 1}),
    )
    .state(
        "Fail ErrorPath invalid",
        json!({"Type": "Fail", "ErrorPath": "e"}),
    )
    .state(
        "Fail CausePath intrinsic",
        json!({"Type": "Fail", "CausePath": "States.Format('x {}', $.c)"}),
    )
    .state("Fail with End", json!({"Type": "Fail", "End": true}))
    .state(
        "Fail with InputPath",
        json!({"Type": "Fail", "InputPath": "$"}),
    )
    .state(
        "Fail with Output on JSONPath",
        json!({"Type": "Fail", "Output": {}}),
    );
    snapshot!("succeed_and_fail", c);
}

fn branch(state: Value) -> Value {
    json!({"StartAt": "B", "States": {"B": state}})
}

#[test]
fn parallel_state() {
    let mut c = Cases::new();
    let par = |extra: Value| {
        let mut p = json!({"Type": "Parallel", "End": true, "Branches": [branch(json!({"Type": "Pass", "End": true}))]});
        if let (Value::Object(p), Value::Object(extra)) = (&mut p, extra) {
            p.extend(extra);
        }
        p
    };
    c.state("valid", par(json!({"Parameters": {"a.$": "$"}, "ResultSelector": {"r.$": "$[0]"}, "ResultPath": "$.p",
            "Retry": [{"ErrorEquals": ["States.ALL"]}], "Assign": {"x": 1}})))
        .state("no Branches", json!({"Type": "Parallel", "End": true}))
        .state("Branches empty next to Retry and Catch", par(json!({"Branches": [],
            "Retry": [{"ErrorEquals": ["States.ALL"]}], "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "S"}]})))
        .state("Branches empty", par(json!({"Branches": []})))
        .state("Branches not an array", par(json!({"Branches": {}})))
        .state("branch not an object", par(json!({"Branches": [1]})))
        .state("branch without StartAt", par(json!({"Branches": [{"States": {"B": {"Type": "Pass", "End": true}}}]})))
        .state("branch without States", par(json!({"Branches": [{"StartAt": "B"}]})))
        .state("branch with unknown field", par(json!({"Branches": [{"StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}, "Foo": 1}]})))
        .state("branch with QueryLanguage", par(json!({"Branches": [{"QueryLanguage": "JSONata", "StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}}]})))
        .state("error in the second branch", par(json!({"Branches": [branch(json!({"Type": "Pass", "End": true})),
            {"StartAt": "C", "States": {"C": {"Type": "Pass", "Next": "Nope"}}}]})))
        .state("TimeoutSeconds is not supported", par(json!({"TimeoutSeconds": 5})))
        .state("HeartbeatSeconds is not supported", par(json!({"HeartbeatSeconds": 5})))
        .state("Arguments on JSONPath", par(json!({"Arguments": {}})))
        .state("catcher to a missing state", par(json!({"Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Nope"}]})));
    snapshot!("parallel_state", c);
}

fn map(extra: Value) -> Value {
    let mut m = json!({"Type": "Map", "End": true, "ItemProcessor": branch(json!({"Type": "Pass", "End": true}))});
    if let (Value::Object(m), Value::Object(extra)) = (&mut m, extra) {
        for (k, v) in extra {
            if v.is_null() && k.starts_with('-') {
                m.remove(&k[1..]);
            } else {
                m.insert(k, v);
            }
        }
    }
    m
}

fn distributed(extra: Value) -> Value {
    let mut m = map(extra);
    m["ItemProcessor"]["ProcessorConfig"] =
        json!({"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"});
    m
}

#[test]
fn map_state() {
    let mut c = Cases::new();
    c.state("inline", map(json!({"ItemsPath": "$.items", "ItemSelector": {"v.$": "$$.Map.Item.Value"}, "ResultSelector": {"n.$": "States.ArrayLength($)"},
            "ResultPath": "$.out", "MaxConcurrency": 0, "Retry": [{"ErrorEquals": ["States.ALL"]}]})))
        .state("legacy Iterator and Parameters", map(json!({"-ItemProcessor": null, "Iterator": branch(json!({"Type": "Pass", "End": true})),
            "Parameters": {"v.$": "$$.Map.Item.Value"}})))
        .state("no ItemProcessor", map(json!({"-ItemProcessor": null})))
        .state("ItemProcessor and Iterator", map(json!({"Iterator": branch(json!({"Type": "Pass", "End": true}))})))
        .state("ItemProcessor not an object", map(json!({"ItemProcessor": []})))
        .state("ItemProcessor with QueryLanguage", map(json!({"ItemProcessor": {"QueryLanguage": "JSONata", "StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}}})))
        .state("Iterator with QueryLanguage", map(json!({"-ItemProcessor": null, "Iterator": {"QueryLanguage": "JSONPath", "StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}}})))
        .state("ItemProcessor unknown field", map(json!({"ItemProcessor": {"Foo": 1, "StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}}})))
        .state("ProcessorConfig not an object", map(json!({"ItemProcessor": {"ProcessorConfig": 1, "StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}}})))
        .state("Mode unknown", map(json!({"ItemProcessor": {"ProcessorConfig": {"Mode": "SERIAL"}, "StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}}})))
        .state("ExecutionType with INLINE", map(json!({"ItemProcessor": {"ProcessorConfig": {"ExecutionType": "EXPRESS"}, "StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}}})))
        .state("ProcessorConfig unknown field", map(json!({"ItemProcessor": {"ProcessorConfig": {"Foo": 1}, "StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}}})))
        .state("ItemsPath invalid", map(json!({"ItemsPath": "items"})))
        .state("ItemsPath not a reference path", map(json!({"ItemsPath": "$.items[*]"})))
        .state("ItemsPath variable", map(json!({"ItemsPath": "$list"})))
        .state("bad ItemsPath next to Retry and ItemSelector", map(json!({"ItemsPath": "items",
            "Retry": [{"ErrorEquals": ["States.ALL"]}], "ItemSelector": {"a": 1}, "MaxConcurrency": 1})))
        .state("ItemSelector and Parameters", map(json!({"ItemSelector": {}, "Parameters": {}})))
        .state("ItemSelector bad path", map(json!({"ItemSelector": {"v.$": "value"}})))
        .state("Items on JSONPath", map(json!({"Items": [1, 2]})))
        .state("MaxConcurrency negative", map(json!({"MaxConcurrency": -1})))
        .state("MaxConcurrency fractional", map(json!({"MaxConcurrency": 1.5})))
        .state("MaxConcurrency huge", map(json!({"MaxConcurrency": 9_223_372_036_854_775_807i64})))
        .state("MaxConcurrency and MaxConcurrencyPath", map(json!({"MaxConcurrency": 2, "MaxConcurrencyPath": "$.m"})))
        .state("MaxConcurrencyPath not a reference path", map(json!({"MaxConcurrencyPath": "$.limits[*]"})))
        .state("ToleratedFailurePercentage 100", distributed(json!({"ToleratedFailurePercentage": 100})))
        .state("ToleratedFailurePercentage over 100", distributed(json!({"ToleratedFailurePercentage": 100.5})))
        .state("ToleratedFailurePercentage negative", distributed(json!({"ToleratedFailurePercentage": -1})))
        .state("ToleratedFailureCount negative", distributed(json!({"ToleratedFailureCount": -1})))
        .state("ToleratedFailureCount and Path", distributed(json!({"ToleratedFailureCount": 1, "ToleratedFailureCountPath": "$.n"})))
        .state("ToleratedFailurePercentagePath invalid", distributed(json!({"ToleratedFailurePercentagePath": "p"})))
        .state("Label", distributed(json!({"Label": "my-label_1"})))
        .state("Label empty", distributed(json!({"Label": ""})))
        .state("Label of 41 characters", distributed(json!({"Label": "l".repeat(41)})))
        .state("Label with a space", distributed(json!({"Label": "a b"})))
        .state("Label with a forbidden character", distributed(json!({"Label": "a:b"})))
        .state("Label not a string", distributed(json!({"Label": 1})))
        .state("distributed with reader, batcher and writer", distributed(json!({
            "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON"}, "Parameters": {"Bucket": "b", "Key": "k"}},
            "ItemBatcher": {"MaxItemsPerBatch": 10}, "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "b", "Prefix": "p"}}})))
        .state("ItemBatcher with paths and BatchInput", distributed(json!({"ItemBatcher": {
            "MaxItemsPerBatchPath": "$.n", "MaxInputBytesPerBatchPath": "$.b", "BatchInput": {"k.$": "$.k"}}})))
        .state("ItemBatcher not an object", distributed(json!({"ItemBatcher": 10})))
        .state("ItemBatcher MaxItemsPerBatch zero", distributed(json!({"ItemBatcher": {"MaxItemsPerBatch": 0}})))
        .state("ItemBatcher MaxItemsPerBatch and Path", distributed(json!({"ItemBatcher": {"MaxItemsPerBatch": 2, "MaxItemsPerBatchPath": "$.n"}})))
        .state("ItemBatcher bad BatchInput path", distributed(json!({"ItemBatcher": {"BatchInput": {"k.$": "k"}}})))
        .state("ItemBatcher unknown field", distributed(json!({"ItemBatcher": {"MaxItems": 2}})))
        .state("ItemBatcher in INLINE mode", map(json!({"ItemBatcher": {"MaxItemsPerBatch": 10}})))
        .state("ResultWriter in INLINE mode", map(json!({"ResultWriter": {"Resource": "arn:aws:states:::s3:putObject"}})))
        .state("ItemReader in INLINE mode", map(json!({"ItemReader": {"Resource": "arn:aws:states:::s3:getObject"}})))
        .state("TimeoutSeconds is not supported", map(json!({"TimeoutSeconds": 5})))
        .state("error inside the processor", map(json!({"ItemProcessor": branch(json!({"Type": "Task", "Resource": "x", "End": true}))})))
        .state("processor state not reachable", map(json!({"ItemProcessor": {"StartAt": "B", "States": {
            "B": {"Type": "Pass", "End": true}, "U": {"Type": "Pass", "End": true}}}})));
    snapshot!("map_state", c);
}

#[test]
fn variables() {
    let mut c = Cases::new();
    let assign = |a: Value| json!({"Type": "Pass", "Assign": a, "End": true});
    c.state(
        "valid names",
        assign(json!({"a": 1, "_b2": "x", "ünï": true, "p.$": "$.x", "q.$": "States.Array($.x)"})),
    )
    .state("Assign not an object", assign(json!([1])))
    .state("name starting with a digit", assign(json!({"1a": 1})))
    .state("name with a dot path", assign(json!({"a.b": 1})))
    .state("name with brackets", assign(json!({"a[0]": 1})))
    .state("reserved name states", assign(json!({"states": 1})))
    .state("name of 81 characters", assign(json!({"a".repeat(81): 1})))
    .state("bad path value", assign(json!({"x.$": "x"})))
    .jsonata(
        "JSONata Assign",
        assign(json!({"a": "{% $states.input %}", "b": [1, "{% 2 %}"]})),
    )
    .jsonata(
        "JSONata Assign bad expression",
        assign(json!({"a": "{% ( %}"})),
    );
    snapshot!("variables", c);
}

#[test]
fn jsonata() {
    let mut c = Cases::new();
    c.jsonata("Pass Output", json!({"Type": "Pass", "Output": {"a": "{% $states.input.a %}"}, "End": true}))
        .jsonata("JSONPath fields on a JSONata state", json!({"Type": "Pass", "InputPath": "$.a", "Parameters": {}, "ResultPath": "$.r",
            "OutputPath": "$", "Result": 1, "End": true}))
        .jsonata("Task JSONPath-only fields", task(json!({"ResultSelector": {}, "TimeoutSecondsPath": "$.t", "HeartbeatSecondsPath": "$.h"})))
        .jsonata("Task Arguments and expressions", task(json!({"Arguments": {"FunctionName": "f", "Payload": "{% $states.input %}"},
            "TimeoutSeconds": "{% 10 %}", "HeartbeatSeconds": "{% 5 %}", "Output": "{% $states.result %}"})))
        .jsonata("Task TimeoutSeconds not an expression", task(json!({"TimeoutSeconds": "10"})))
        .jsonata("Task Resource is not an expression", task(json!({"Resource": "{% 'arn:aws:states:::lambda:invoke' %}"})))
        .jsonata("syntax error", json!({"Type": "Pass", "Output": "{% 1 + %}", "End": true}))
        .jsonata("unterminated string", json!({"Type": "Pass", "Output": "{% \"abc %}", "End": true}))
        .jsonata("top-level reference", json!({"Type": "Pass", "Output": {"v": "{% phone %}"}, "End": true}))
        .jsonata("$$ reference", json!({"Type": "Pass", "Output": "{% $$ %}", "End": true}))
        .jsonata("errorOutput outside a catcher", json!({"Type": "Pass", "Output": "{% $states.errorOutput %}", "End": true}))
        .jsonata("errorOutput deep in Arguments", task(json!({"Arguments": {"a": [0, {"e": "{% $states.errorOutput.Cause %}"}]}})))
        .jsonata_then("errorOutput in a Choice Condition", json!({"Type": "Choice", "Choices": [{"Condition": "{% $states.errorOutput.Error = 'x' %}", "Next": "N"}], "Default": "N"}))
        .jsonata("errorOutput in the state Assign of a task with Catch", task(json!({"Assign": {"e": "{% $states.errorOutput %}"},
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "S"}]})))
        .jsonata("expression with spaces outside the delimiters is a literal", json!({"Type": "Pass", "Output": " {% 1 + %}", "End": true}))
        .jsonata("empty expression", json!({"Type": "Pass", "Output": "{%%}", "End": true}))
        .jsonata("deep expression location", json!({"Type": "Pass", "Output": {"a": [1, {"b": "{% ) %}"}]}, "End": true}))
        .jsonata_then("Choice Condition", json!({"Type": "Choice", "Choices": [{"Condition": "{% $states.input.a > 1 %}", "Next": "N"}], "Default": "N"}))
        .jsonata_then("Choice without Condition", json!({"Type": "Choice", "Choices": [{"Next": "N"}], "Default": "N"}))
        .jsonata_then("Choice Condition not an expression", json!({"Type": "Choice", "Choices": [{"Condition": "true", "Next": "N"}]}))
        .jsonata_then("Choice Condition number", json!({"Type": "Choice", "Choices": [{"Condition": 1, "Next": "N"}]}))
        .jsonata_then("Choice Variable on JSONata", json!({"Type": "Choice", "Choices": [{"Variable": "$.a", "IsPresent": true, "Condition": "{% true %}", "Next": "N"}]}))
        .jsonata("Wait Seconds expression", json!({"Type": "Wait", "Seconds": "{% 1 %}", "End": true}))
        .jsonata("Wait Seconds string literal", json!({"Type": "Wait", "Seconds": "1", "End": true}))
        .jsonata("Wait Timestamp expression", json!({"Type": "Wait", "Timestamp": "{% $now() %}", "End": true}))
        .jsonata("Wait SecondsPath", json!({"Type": "Wait", "SecondsPath": "$.s", "End": true}))
        .jsonata("Fail expressions", json!({"Type": "Fail", "Error": "{% 'E' %}", "Cause": "{% $string(1) %}"}))
        .jsonata("Fail ErrorPath", json!({"Type": "Fail", "ErrorPath": "$.e"}))
        .jsonata("Map Items", map(json!({"Items": "{% $states.input.list %}", "ItemSelector": {"v": "{% $states.context.Map.Item.Value %}"}, "MaxConcurrency": "{% 2 %}"})))
        .jsonata("Map Items literal array", map(json!({"Items": [1, 2]})))
        .jsonata("Map Items number", map(json!({"Items": 1, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "S"}]})))
        .jsonata("Map Items bad expression", map(json!({"Items": "{% [ %}", "MaxConcurrency": 1})))
        .jsonata("Map ItemsPath", map(json!({"ItemsPath": "$.a"})))
        .jsonata("Map MaxConcurrencyPath", map(json!({"MaxConcurrencyPath": "$.m"})))
        .jsonata("Parallel Arguments", json!({"Type": "Parallel", "Arguments": {"x": "{% 1 %}"}, "End": true, "Branches": [branch(json!({"Type": "Pass", "End": true}))]}))
        .jsonata("catcher Output and Assign", json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
            "Catch": [{"ErrorEquals": ["States.ALL"], "Output": "{% $states.errorOutput %}", "Assign": {"e": "{% $states.errorOutput.Error %}"}, "Next": "S"}]}))
        .jsonata("catcher ResultPath", json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.e", "Next": "S"}]}))
        .def("JSONata state in a JSONPath machine", json!({"StartAt": "S", "States": {"S": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% 1 %}", "End": true}}}))
        .def("JSONPath state in a JSONata machine", json!({"QueryLanguage": "JSONata", "StartAt": "S", "States": {
            "S": {"Type": "Pass", "QueryLanguage": "JSONPath", "Parameters": {}, "Output": {}, "End": true}}}))
        .def("state QueryLanguage unknown value", json!({"StartAt": "S", "States": {"S": {"Type": "Pass", "QueryLanguage": "JSONATA", "Output": "{% 1 %}", "End": true}}}))
        .def("processor states inherit the machine's language, not the Map's", json!({"StartAt": "M", "States": {
            "M": {"Type": "Map", "QueryLanguage": "JSONata", "End": true, "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "Output": {}, "End": true}}}}}}))
        .def("branch states inherit the machine's language", json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
            "P": {"Type": "Parallel", "End": true, "Branches": [branch(json!({"Type": "Pass", "InputPath": "$", "End": true}))]}}}));
    snapshot!("jsonata", c);
}

#[test]
fn express_restrictions() {
    let mut c = Cases::new();
    for resource in [
        "arn:aws:states:::lambda:invoke",
        "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "arn:aws:states:::states:startExecution",
        "arn:aws:states:::states:startExecution.sync",
        "arn:aws:states:::states:startExecution.sync:2",
        "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "arn:aws:states:::aws-sdk:sfn:startExecution",
        "arn:aws:states:us-east-1:123456789012:activity:a",
        "arn:aws:lambda:us-east-1:123456789012:function:f",
    ] {
        let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": resource, "End": true}}});
        c.typed(
            &format!("EXPRESS {resource}"),
            def.clone(),
            StateMachineType::Express,
        )
        .typed(
            &format!("STANDARD {resource}"),
            def,
            StateMachineType::Standard,
        );
    }
    c.typed("EXPRESS .sync inside a Map", json!({"StartAt": "M", "States": {"M": map(json!({"ItemProcessor": branch(
            json!({"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync", "End": true}))}))}}), StateMachineType::Express);
    snapshot!("express_restrictions", c);
}

#[test]
fn warnings() {
    let mut c = Cases::new();
    c.state(
        "NO_DOLLAR in Parameters",
        json!({"Type": "Pass", "Parameters": {"a": "$.x", "b": {"c": "$.y"}}, "End": true}),
    )
    .state(
        "NO_DOLLAR in ResultSelector",
        task(json!({"ResultSelector": {"a": "$.Payload"}})),
    )
    .state(
        "no NO_DOLLAR for a plain dollar string",
        json!({"Type": "Pass", "Parameters": {"a": "$5", "b": "$"}, "End": true}),
    )
    .state(
        "PASS_RESULT_IS_STATIC",
        json!({"Type": "Pass", "Result": {"a.$": "$.x"}, "End": true}),
    )
    .state(
        "warnings next to an error",
        json!({"Type": "Pass", "Parameters": {"a": "$.x"}, "Result": {"b.$": "$"}, "Next": "Nope"}),
    );
    snapshot!("warnings", c);
}
