//! JSONata mode and workflow variables: Arguments/Output/Assign, `$states.*`, evaluation
//! order of Assign, variable scoping across Parallel and Map, Assign in Choice rules and Catch,
//! and the QueryEvaluationError texts and EvaluationFailed events.

mod harness;

use harness::{LAMBDA, World};
use serde_json::json;

fn jsonata(states: &str, start: &str) -> String {
    format!(r#"{{"QueryLanguage": "JSONata", "StartAt": "{start}", "States": {{{states}}}}}"#)
}

// ---- Output, Arguments, $states ------------------------------------------------------------

#[test]
fn output_replaces_the_state_output_and_defaults_to_the_input() {
    let w = World::start(
        &jsonata(
            r#""A": {"Type": "Pass", "Next": "B"},
               "B": {"Type": "Pass", "Output": {"sum": "{% $states.input.a + $states.input.b %}", "lit": "x", "arr": ["{% $states.input.a %}", 2]}, "End": true}"#,
            "A",
        ),
        r#"{"a": 1, "b": 2}"#,
    );
    assert_eq!(w.output(), json!({"sum": 3, "lit": "x", "arr": [1, 2]}));
    assert_eq!(w.exited_output("A"), json!({"a": 1, "b": 2}));
}

#[test]
fn output_may_be_any_json_value() {
    for (expr, expect) in [
        (r#""{% 1.5 %}""#, json!(1.5)),
        (r#""{% true %}""#, json!(true)),
        (r#""literal""#, json!("literal")),
        (r#"[]"#, json!([])),
        (r#""{% [1, 'a', null] %}""#, json!([1, "a", null])),
    ] {
        let w = World::start(
            &jsonata(
                &format!(r#""P": {{"Type": "Pass", "Output": {expr}, "End": true}}"#),
                "P",
            ),
            "{}",
        );
        assert_eq!(w.output(), expect, "{expr}");
    }
}

#[test]
fn task_arguments_are_the_parameters_and_output_sees_states_result() {
    let def = jsonata(
        &format!(
            r#""T": {{"Type": "Task", "Resource": "{LAMBDA}",
                "Arguments": {{"FunctionName": "f", "Payload": {{"v": "{{% $states.input.v * 2 %}}"}}}},
                "Output": {{"got": "{{% $states.result.Payload %}}", "in": "{{% $states.input %}}"}}, "End": true}}"#
        ),
        "T",
    );
    let mut w = World::start(&def, r#"{"v": 21}"#);
    assert_eq!(
        w.task("T").parameters,
        json!({"FunctionName": "f", "Payload": {"v": 42}})
    );
    w.succeed("T", json!({"Payload": "ok"}));
    assert_eq!(w.output(), json!({"got": "ok", "in": {"v": 21}}));
}

#[test]
fn task_without_output_outputs_its_result() {
    let def = jsonata(
        &format!(r#""T": {{"Type": "Task", "Resource": "{LAMBDA}", "End": true}}"#),
        "T",
    );
    let mut w = World::start(&def, r#"{"v": 1}"#);
    assert_eq!(
        w.task("T").parameters,
        json!({"v": 1}),
        "no Arguments: the input"
    );
    w.succeed("T", json!([1]));
    assert_eq!(w.output(), json!([1]));
}

#[test]
fn states_context_exposes_the_context_object() {
    let w = World::start(
        &jsonata(
            r#""P": {"Type": "Pass", "Output": {
                "id": "{% $states.context.Execution.Id %}",
                "state": "{% $states.context.State.Name %}",
                "input": "{% $states.context.Execution.Input %}"}, "End": true}"#,
            "P",
        ),
        r#"{"k": 1}"#,
    );
    assert_eq!(
        w.output(),
        json!({"id": "arn:aws:states:us-east-1:123456789012:execution:sm:run", "state": "P", "input": {"k": 1}})
    );
}

#[test]
fn task_token_is_available_to_callback_arguments() {
    let def = jsonata(
        &format!(
            r#""T": {{"Type": "Task", "Resource": "{}",
                "Arguments": {{"token": "{{% $states.context.Task.Token %}}"}}, "End": true}}"#,
            harness::CALLBACK
        ),
        "T",
    );
    let w = World::start(&def, "{}");
    let t = w.task("T");
    assert_eq!(t.parameters["token"], t.token.unwrap().as_str());
}

#[test]
fn jsonata_timeout_seconds_is_evaluated() {
    let def = jsonata(
        &format!(
            r#""T": {{"Type": "Task", "Resource": "{LAMBDA}", "TimeoutSeconds": "{{% $states.input.t %}}",
                "HeartbeatSeconds": "{{% $states.input.h %}}", "End": true}}"#
        ),
        "T",
    );
    let w = World::start(&def, r#"{"t": 30, "h": 10}"#);
    let d = w.details("TaskScheduled");
    assert_eq!(
        (
            d["timeoutInSeconds"].clone(),
            d["heartbeatInSeconds"].clone()
        ),
        (json!(30), json!(10))
    );
}

// ---- Assign --------------------------------------------------------------------------------

#[test]
fn assign_sees_variables_as_of_state_entry_so_swaps_work() {
    let w = World::start(
        &jsonata(
            r#""Init": {"Type": "Pass", "Assign": {"x": 1, "y": 2}, "Next": "Swap"},
               "Swap": {"Type": "Pass", "Assign": {"x": "{% $y %}", "y": "{% $x %}"},
                        "Output": {"x": "{% $x %}", "y": "{% $y %}"}, "Next": "Read"},
               "Read": {"Type": "Pass", "Output": {"x": "{% $x %}", "y": "{% $y %}"}, "End": true}"#,
            "Init",
        ),
        "{}",
    );
    assert_eq!(
        w.exited_output("Swap"),
        json!({"x": 1, "y": 2}),
        "Output sees the old values"
    );
    assert_eq!(w.output(), json!({"x": 2, "y": 1}));
}

#[test]
fn assigned_variables_are_recorded_on_state_exited_as_json_texts_sorted_by_name() {
    let w = World::start(
        &jsonata(
            r#""P": {"Type": "Pass", "Assign": {"zeta": "{% $states.input %}", "alpha": "s", "mid": [1]}, "End": true}"#,
            "P",
        ),
        r#"{"a": 1}"#,
    );
    assert_eq!(
        w.details("PassStateExited")["assignedVariables"],
        json!({"alpha": "\"s\"", "mid": "[1]", "zeta": "{\"a\":1}"})
    );
    assert_eq!(
        w.details("PassStateExited")["assignedVariablesDetails"],
        json!({"truncated": false})
    );
}

#[test]
fn task_assign_sees_the_result() {
    let def = jsonata(
        &format!(
            r#""T": {{"Type": "Task", "Resource": "{LAMBDA}", "Assign": {{"r": "{{% $states.result.v %}}", "i": "{{% $states.input.k %}}"}}, "Next": "P"}},
               "P": {{"Type": "Pass", "Output": {{"r": "{{% $r %}}", "i": "{{% $i %}}"}}, "End": true}}"#
        ),
        "T",
    );
    let mut w = World::start(&def, r#"{"k": "in"}"#);
    w.succeed("T", json!({"v": "out"}));
    assert_eq!(w.output(), json!({"r": "out", "i": "in"}));
}

#[test]
fn wait_assign_takes_effect_when_the_wait_is_left() {
    let mut w = World::start(
        &jsonata(
            r#""W": {"Type": "Wait", "Seconds": 1, "Assign": {"foo": "oof"}, "Next": "P"},
               "P": {"Type": "Pass", "Output": "{% $foo %}", "End": true}"#,
            "W",
        ),
        "{}",
    );
    w.run_timers();
    assert_eq!(w.output(), json!("oof"));
    assert_eq!(
        w.details("WaitStateExited")["assignedVariables"],
        json!({"foo": "\"oof\""})
    );
}

#[test]
fn jsonpath_assign_reads_the_pass_result_and_variables_via_dollar_names() {
    let w = World::start(
        r#"{"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Result": {"q": "question"}, "Assign": {"question.$": "$.q", "answer": 42}, "Next": "B"},
            "B": {"Type": "Pass", "InputPath": "$answer", "ResultPath": "$.x", "OutputPath": "$answer",
                  "Assign": {"answer": "changed"}, "Next": "C"},
            "C": {"Type": "Pass", "Parameters": {"a.$": "$answer", "q.$": "$question", "prev.$": "$"}, "End": true}}}"#,
        "{}",
    );
    assert_eq!(
        w.exited_output("B"),
        json!(42),
        "paths see the value as of entry"
    );
    assert_eq!(
        w.output(),
        json!({"a": "changed", "q": "question", "prev": 42})
    );
}

#[test]
fn jsonpath_reference_to_an_unassigned_variable_is_states_runtime() {
    let w = World::start(
        r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"v.$": "$nope"}, "End": true}}}"#,
        r#"{"a": 1}"#,
    );
    assert_eq!(w.error(), "States.Runtime");
}

// ---- Choice --------------------------------------------------------------------------------

#[test]
fn choice_uses_the_matched_rules_assign_and_output_else_the_state_level_ones() {
    let def = jsonata(
        r#""C": {"Type": "Choice", "Choices": [{"Condition": "{% $states.input.ok %}", "Next": "Yes",
                  "Assign": {"how": "rule"}, "Output": {"from": "rule"}}],
                "Default": "No", "Assign": {"how": "default"}, "Output": {"from": "state"}},
           "Yes": {"Type": "Pass", "Output": {"how": "{% $how %}", "in": "{% $states.input %}"}, "End": true},
           "No": {"Type": "Pass", "Output": {"how": "{% $how %}", "in": "{% $states.input %}"}, "End": true}"#,
        "C",
    );
    let w = World::start(&def, r#"{"ok": true}"#);
    assert_eq!(w.output(), json!({"how": "rule", "in": {"from": "rule"}}));
    let w = World::start(&def, r#"{"ok": false}"#);
    assert_eq!(
        w.output(),
        json!({"how": "default", "in": {"from": "state"}})
    );
}

#[test]
fn choice_condition_must_be_boolean() {
    let def = jsonata(
        r#""C": {"Type": "Choice", "Choices": [{"Condition": "{% $states.input.v %}", "Next": "P"}], "Default": "P"},
           "P": {"Type": "Pass", "End": true}"#,
        "C",
    );
    let w = World::start(&def, r#"{"v": "yes"}"#);
    assert_eq!(w.error(), "States.QueryEvaluationError");
    assert!(w.cause().contains("Expected 'boolean'"), "{}", w.cause());
    assert_eq!(
        w.details("EvaluationFailed")["location"],
        "Choices[0].Condition"
    );
}

#[test]
fn choice_with_no_match_and_no_default_is_no_choice_matched() {
    let def = jsonata(
        r#""C": {"Type": "Choice", "Choices": [{"Condition": "{% false %}", "Next": "P"}]},
           "P": {"Type": "Pass", "End": true}"#,
        "C",
    );
    let w = World::start(&def, "{}");
    assert_eq!(w.error(), "States.NoChoiceMatched");
}

// ---- Catch ---------------------------------------------------------------------------------

#[test]
fn catch_output_and_assign_see_the_error_output_and_replace_the_state_assign() {
    let def = jsonata(
        &format!(
            r#""T": {{"Type": "Task", "Resource": "{LAMBDA}", "Next": "Ok",
                "Assign": {{"from": "state"}},
                "Catch": [{{"ErrorEquals": ["States.ALL"], "Next": "Caught",
                  "Assign": {{"err": "{{% $states.errorOutput %}}", "in": "{{% $states.input %}}"}},
                  "Output": {{"e": "{{% $states.errorOutput.Error %}}"}}}}]}},
               "Ok": {{"Type": "Pass", "End": true}},
               "Caught": {{"Type": "Pass", "Output": {{"err": "{{% $err %}}", "in": "{{% $in %}}", "out": "{{% $states.input %}}",
                   "from": "{{% $exists($from) ? $from : 'unset' %}}"}}, "End": true}}"#
        ),
        "T",
    );
    let mut w = World::start(&def, r#"{"k": 1}"#);
    w.fail("T", "Oops", "bad");
    assert_eq!(
        w.output(),
        json!({"err": {"Error": "Oops", "Cause": "bad"}, "in": {"k": 1}, "out": {"e": "Oops"}, "from": "unset"})
    );
}

#[test]
fn catch_without_output_passes_the_error_output() {
    let def = jsonata(
        &format!(
            r#""T": {{"Type": "Task", "Resource": "{LAMBDA}", "End": true,
                "Catch": [{{"ErrorEquals": ["States.ALL"], "Next": "Caught"}}]}},
               "Caught": {{"Type": "Pass", "End": true}}"#
        ),
        "T",
    );
    let mut w = World::start(&def, "{}");
    w.fail("T", "Oops", "bad");
    assert_eq!(w.output(), json!({"Error": "Oops", "Cause": "bad"}));
}

#[test]
fn parallel_catch_may_assign_outer_variables() {
    let def = jsonata(
        r#""Par": {"Type": "Parallel", "Next": "Done",
              "Branches": [{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "C"}}}],
              "Catch": [{"ErrorEquals": ["States.ALL"], "Assign": {"errorVar": "{% $states.errorOutput %}"}, "Next": "Fallback"}]},
           "Done": {"Type": "Pass", "End": true},
           "Fallback": {"Type": "Pass", "Output": {"error": "{% $errorVar %}"}, "End": true}"#,
        "Par",
    );
    let w = World::start(&def, "{}");
    assert_eq!(w.output(), json!({"error": {"Error": "E", "Cause": "C"}}));
}

// ---- scoping -------------------------------------------------------------------------------

#[test]
fn branches_read_outer_variables_and_inner_variables_do_not_leak() {
    let w = World::start(
        &jsonata(
            r#""Init": {"Type": "Pass", "Assign": {"x": 42}, "Next": "Par"},
               "Par": {"Type": "Parallel", "Next": "After", "Branches": [
                 {"StartAt": "B1", "States": {"B1": {"Type": "Pass", "Assign": {"inner": 1}, "Next": "B1b"},
                                              "B1b": {"Type": "Pass", "Output": {"x": "{% $x %}", "inner": "{% $inner %}"}, "End": true}}},
                 {"StartAt": "B2", "States": {"B2": {"Type": "Pass", "Output": {"x": "{% $x %}", "sibling": "{% $exists($inner) %}"}, "End": true}}}]},
               "After": {"Type": "Pass", "Output": {"branches": "{% $states.input %}", "inner": "{% $exists($inner) %}", "x": "{% $x %}"}, "End": true}"#,
            "Init",
        ),
        "{}",
    );
    assert_eq!(
        w.output(),
        json!({"branches": [{"x": 42, "inner": 1}, {"x": 42, "sibling": false}], "inner": false, "x": 42})
    );
}

#[test]
fn map_iterations_read_outer_variables_and_keep_their_own() {
    let w = World::start(
        &jsonata(
            r#""Init": {"Type": "Pass", "Assign": {"bias": 10}, "Next": "M"},
               "M": {"Type": "Map", "Items": "{% $states.input.items %}", "End": true,
                 "ItemSelector": {"v": "{% $states.context.Map.Item.Value %}", "i": "{% $states.context.Map.Item.Index %}"},
                 "ItemProcessor": {"StartAt": "A", "States": {
                   "A": {"Type": "Pass", "Assign": {"mine": "{% $states.input.v + $bias %}"}, "Next": "B"},
                   "B": {"Type": "Pass", "Output": {"i": "{% $states.input.i %}", "mine": "{% $mine %}"}, "End": true}}}}"#,
            "Init",
        ),
        r#"{"items": [1, 2, 3]}"#,
    );
    assert_eq!(
        w.output(),
        json!([{"i": 0, "mine": 11}, {"i": 1, "mine": 12}, {"i": 2, "mine": 13}])
    );
}

#[test]
fn jsonpath_map_items_path_may_read_a_variable() {
    let w = World::start(
        r#"{"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Assign": {"x": 42, "items": [1, 2, 3]}, "Next": "M"},
            "M": {"Type": "Map", "ItemsPath": "$items", "MaxConcurrency": 1, "Next": "B",
                  "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "Assign": {"innerX.$": "$x"}, "End": true}}}},
            "B": {"Type": "Pass", "Assign": {"final.$": "$x"}, "End": true}}}"#,
        "{}",
    );
    assert_eq!(w.output(), json!([1, 2, 3]));
    assert_eq!(
        w.events_of("PassStateExited")[1]["stateExitedEventDetails"]["assignedVariables"],
        json!({"innerX": "42"})
    );
}

// ---- errors --------------------------------------------------------------------------------

#[test]
fn undefined_output_field_is_query_evaluation_error_with_evaluation_failed() {
    let w = World::start(
        &jsonata(
            r#""P": {"Type": "Pass", "Output": {"result": "{% $doesNotExist %}"}, "End": true}"#,
            "P",
        ),
        "{}",
    );
    let cause = "An error occurred while executing the state 'P' (entered at the event id #2). The JSONata expression '$doesNotExist' specified for the field 'Output/result' returned nothing (undefined).";
    assert_eq!(
        w.failure(),
        (
            Some("States.QueryEvaluationError".into()),
            Some(cause.into())
        )
    );
    assert_eq!(
        w.details("EvaluationFailed"),
        json!({"error": "States.QueryEvaluationError", "cause": cause, "location": "Output/result", "state": "P"})
    );
    insta::assert_snapshot!(w.render());
}

#[test]
fn undefined_whole_output_and_assign_name_their_fields() {
    let w = World::start(
        &jsonata(
            r#""P": {"Type": "Pass", "Output": "{% $doesNotExist %}", "End": true}"#,
            "P",
        ),
        "{}",
    );
    assert!(
        w.cause()
            .ends_with("specified for the field 'Output' returned nothing (undefined)."),
        "{}",
        w.cause()
    );
    let w = World::start(
        &jsonata(
            r#""P": {"Type": "Pass", "Assign": {"result": "{% $doesNotExist %}"}, "End": true}"#,
            "P",
        ),
        "{}",
    );
    assert!(
        w.cause()
            .ends_with("specified for the field 'Assign/result' returned nothing (undefined)."),
        "{}",
        w.cause()
    );
}

#[test]
fn evaluation_failed_in_a_later_state_points_where_its_entered_event_points() {
    let w = World::start(
        &jsonata(
            r#""A": {"Type": "Pass", "Next": "B"},
               "B": {"Type": "Pass", "Output": "{% $nope %}", "End": true}"#,
            "A",
        ),
        "{}",
    );
    let ev = w
        .history
        .iter()
        .find(|e| e.kind.type_name() == "EvaluationFailed")
        .unwrap();
    let entered = &w.history[3];
    assert_eq!(entered.kind.type_name(), "PassStateEntered");
    assert_eq!(ev.previous_event_id, entered.previous_event_id);
    assert!(w.cause().contains("(entered at the event id #4)"));
}

#[test]
fn query_evaluation_error_in_a_task_is_catchable() {
    let def = jsonata(
        &format!(
            r#""T": {{"Type": "Task", "Resource": "{LAMBDA}", "Output": "{{% $states.result.missing %}}", "End": true,
                "Catch": [{{"ErrorEquals": ["States.QueryEvaluationError"], "Next": "Caught"}}]}},
               "Caught": {{"Type": "Pass", "Output": "{{% $states.input.Error %}}", "End": true}}"#
        ),
        "T",
    );
    let mut w = World::start(&def, "{}");
    w.succeed("T", json!({}));
    assert_eq!(w.output(), json!("States.QueryEvaluationError"));
}

#[test]
fn map_items_must_evaluate_to_an_array() {
    for (expr, shown, ty) in [
        ("'string'", "\"string\"", "string"),
        ("1", "1", "number"),
        ("true", "true", "boolean"),
        ("null", "null", "null"),
        ("{'foo': 'bar'}", "{\"foo\":\"bar\"}", "object"),
    ] {
        let def = jsonata(
            &format!(
                r#""M": {{"Type": "Map", "Items": "{{% {expr} %}}", "End": true,
                    "ItemProcessor": {{"StartAt": "P", "States": {{"P": {{"Type": "Pass", "End": true}}}}}}}}"#
            ),
            "M",
        );
        let w = World::start(&def, "{}");
        assert_eq!(
            w.cause(),
            format!(
                "An error occurred while executing the state 'M' (entered at the event id #2). The JSONata expression '{expr}' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was '{ty}' for value: {shown}"
            )
        );
        assert_eq!(
            w.types(),
            [
                "ExecutionStarted",
                "MapStateEntered",
                "EvaluationFailed",
                "MapStateFailed",
                "ExecutionFailed"
            ]
        );
    }
}

#[test]
fn map_without_items_iterates_its_input_which_must_be_an_array() {
    let def = jsonata(
        r#""M": {"Type": "Map", "End": true,
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}"#,
        "M",
    );
    assert_eq!(World::start(&def, "[1, 2]").output(), json!([1, 2]));
    let w = World::start(&def, r#""string""#);
    assert_eq!(w.error(), "States.QueryEvaluationError");
    assert!(
        w.cause()
            .ends_with("Map state input must be an array but was: \"string\""),
        "{}",
        w.cause()
    );
}

#[test]
fn wait_seconds_and_timestamp_expressions() {
    let def = jsonata(
        r#""W": {"Type": "Wait", "Seconds": "{% $states.input.s %}", "End": true}"#,
        "W",
    );
    let w = World::start(&def, r#"{"s": 4}"#);
    assert_eq!(w.started_timers[0].1, harness::T0 + 4000);
    let def = jsonata(
        r#""W": {"Type": "Wait", "Timestamp": "{% $states.input.t %}", "End": true}"#,
        "W",
    );
    let w = World::start(&def, r#"{"t": "2016-12-05T21:29:29"}"#);
    assert_eq!(w.error(), "States.QueryEvaluationError");
    assert_eq!(
        w.cause(),
        "An error occurred while executing the state 'W' (entered at the event id #2). The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: 2016-12-05T21:29:29"
    );
    // In a Wait state EvaluationFailed points to the WaitStateEntered itself.
    let ev = w
        .history
        .iter()
        .find(|e| e.kind.type_name() == "EvaluationFailed")
        .unwrap();
    assert_eq!(ev.previous_event_id, 2);
}

#[test]
fn fail_error_and_cause_may_be_expressions() {
    let def = jsonata(
        r#""F": {"Type": "Fail", "Error": "{% $states.input.e %}", "Cause": "{% 'because ' & $states.input.c %}"}"#,
        "F",
    );
    let w = World::start(&def, r#"{"e": "Exception", "c": "x"}"#);
    assert_eq!(
        w.failure(),
        (Some("Exception".into()), Some("because x".into()))
    );
}

#[test]
fn a_jsonata_state_in_a_jsonpath_machine_and_back() {
    let w = World::start(
        r#"{"StartAt": "A", "States": {
            "A": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": {"v": "{% $states.input.n + 1 %}"}, "Next": "B"},
            "B": {"Type": "Pass", "Parameters": {"w.$": "$.v"}, "End": true}}}"#,
        r#"{"n": 1}"#,
    );
    assert_eq!(w.output(), json!({"w": 2}));
}

// ---- variable quotas -------------------------------------------------------------------------

/// AWS caps one variable at 256 KiB and one `Assign` at 256 KiB in all.
#[test]
fn a_variable_over_256_kib_fails_with_data_limit_exceeded() {
    // The state's input and output stay small; only the variable is big.
    let w = World::start(
        &jsonata(
            r#""A": {"Type": "Pass", "Assign": {"big": "{% $join($map([1..300], function($i) { $states.input.s })) %}"}, "Next": "B"},
               "B": {"Type": "Pass", "End": true}"#,
            "A",
        ),
        &json!({ "s": "x".repeat(1000) }).to_string(),
    );
    let (error, cause) = w.failure();
    assert_eq!(error.as_deref(), Some("States.DataLimitExceeded"));
    assert!(
        cause
            .as_deref()
            .is_some_and(|c| c.starts_with("The state/task 'A' assigned the variable 'big'")),
        "{cause:?}"
    );
}

#[test]
fn one_assign_over_256_kib_in_all_fails_even_when_each_variable_fits() {
    let half = "y".repeat(140_000);
    let w = World::start(
        &jsonata(
            r#""A": {"Type": "Pass", "Assign": {"a": "{% $states.input.s %}", "b": "{% $states.input.s %}"}, "End": true}"#,
            "A",
        ),
        &json!({ "s": half }).to_string(),
    );
    let (error, cause) = w.failure();
    assert_eq!(error.as_deref(), Some("States.DataLimitExceeded"));
    assert!(cause.unwrap_or_default().contains("for one Assign"));
}

#[test]
fn variables_within_the_quotas_are_kept() {
    let w = World::start(
        &jsonata(
            r#""A": {"Type": "Pass", "Assign": {"a": "{% $states.input.s %}"}, "Next": "B"},
               "B": {"Type": "Pass", "Output": "{% $length($a) %}", "End": true}"#,
            "A",
        ),
        &json!({ "s": "z".repeat(200_000) }).to_string(),
    );
    assert_eq!(w.output(), json!(200_000));
}
