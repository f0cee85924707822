//! JSONPath data flow: InputPath → Parameters → (result) → ResultSelector → ResultPath →
//! OutputPath on every state type that has them, `null` paths, the context object, and the
//! errors AWS raises when a path or an intrinsic fails.

mod harness;

use harness::{LAMBDA, T0, World};
use serde_json::{Value, json};

fn pass(fields: &str, input: &str) -> World {
    let def = format!(
        r#"{{"StartAt": "P", "States": {{"P": {{"Type": "Pass", {fields} "End": true}}}}}}"#
    );
    World::start(&def, input)
}

fn task(fields: &str, input: &str, result: Value) -> World {
    let def = format!(
        r#"{{"StartAt": "T", "States": {{"T": {{"Type": "Task", "Resource": "{LAMBDA}", {fields} "End": true}}}}}}"#
    );
    let mut w = World::start(&def, input);
    if w.outcome().is_none() {
        w.succeed("T", result);
    }
    w
}

const PREFIX_P: &str =
    "An error occurred while executing the state 'P' (entered at the event id #2). ";

// ---- InputPath / OutputPath ----------------------------------------------------------------

#[test]
fn input_path_selects_the_effective_input() {
    let w = pass(r#""InputPath": "$.a","#, r#"{"a": {"b": 1}, "c": 2}"#);
    assert_eq!(w.output(), json!({"b": 1}));
}

#[test]
fn input_path_null_makes_the_effective_input_an_empty_object() {
    let w = pass(
        r#""InputPath": null, "Parameters": {"from.$": "$"},"#,
        r#"{"a": 1}"#,
    );
    assert_eq!(w.output(), json!({"from": {}}));
}

#[test]
fn output_path_null_makes_the_output_an_empty_object() {
    let w = pass(r#""OutputPath": null,"#, r#"{"a": 1}"#);
    assert_eq!(w.output(), json!({}));
}

#[test]
fn output_path_selects_from_the_result_merged_into_the_input() {
    let w = pass(
        r#""Result": {"x": 1}, "ResultPath": "$.r", "OutputPath": "$.r.x","#,
        r#"{"a": 1}"#,
    );
    assert_eq!(w.output(), json!(1));
}

#[test]
fn input_path_that_finds_nothing_is_states_runtime_naming_the_normalized_path() {
    let w = pass(r#""InputPath": "$.missing","#, r#"{"a": 1}"#);
    assert_eq!(w.error(), "States.Runtime");
    assert_eq!(
        w.cause(),
        format!("{PREFIX_P}Invalid path '$.missing' : No results for path: $['missing']")
    );
    assert_eq!(
        w.types(),
        ["ExecutionStarted", "PassStateEntered", "ExecutionFailed"]
    );
}

#[test]
fn output_path_through_a_missing_parent_reports_the_missing_property() {
    let w = pass(r#""OutputPath": "$.no.such.path","#, r#"{"a": 1}"#);
    assert_eq!(w.error(), "States.Runtime");
    assert_eq!(
        w.cause(),
        format!("{PREFIX_P}Invalid path '$.no.such.path' : Missing property in path $['no']")
    );
}

#[test]
fn input_path_may_select_the_context_object() {
    let w = pass(r#""InputPath": "$$.Execution.Input","#, r#"{"v": 0}"#);
    assert_eq!(w.output(), json!({"v": 0}));
    let w = pass(r#""InputPath": "$$","#, r#"{"v": 0}"#);
    let out = w.output();
    assert_eq!(out["State"]["Name"], "P");
    assert_eq!(out["Execution"]["Input"], json!({"v": 0}));
    assert!(out.get("Task").is_none() && out.get("Map").is_none());
}

#[test]
fn indefinite_input_path_yields_an_array_of_matches() {
    let w = pass(
        r#""InputPath": "$.items[*].v","#,
        r#"{"items": [{"v": 1}, {"v": 2}, {"w": 3}]}"#,
    );
    assert_eq!(w.output(), json!([1, 2]));
}

// ---- Parameters ----------------------------------------------------------------------------

#[test]
fn parameters_evaluate_dollar_keys_recursively_and_strip_the_suffix() {
    let w = pass(
        r#""Parameters": {"lit": "$.not-a-path", "x.$": "$.a", "nested": {"y.$": "$.b[1]", "arr": [{"z.$": "$.a"}]}},"#,
        r#"{"a": "A", "b": [10, 20]}"#,
    );
    assert_eq!(
        w.output(),
        json!({"lit": "$.not-a-path", "x": "A", "nested": {"y": 20, "arr": [{"z": "A"}]}})
    );
}

#[test]
fn parameters_see_the_input_after_input_path() {
    let w = pass(
        r#""InputPath": "$.inner", "Parameters": {"v.$": "$.v"},"#,
        r#"{"inner": {"v": 5}, "v": 0}"#,
    );
    assert_eq!(w.output(), json!({"v": 5}));
}

#[test]
fn parameters_missing_path_is_states_runtime_quoting_field_and_input() {
    let w = pass(r#""Parameters": {"value.$": "$.no"},"#, r#"{"a": 1}"#);
    assert_eq!(w.error(), "States.Runtime");
    assert_eq!(
        w.cause(),
        format!(
            "{PREFIX_P}The JSONPath '$.no' specified for the field 'value.$' could not be found in the input '{{\"a\":1}}'"
        )
    );
}

#[test]
fn parameters_indefinite_path_yields_an_array_even_when_empty() {
    let w = pass(
        r#""Parameters": {"all.$": "$.items[*].v", "none.$": "$.items[5:]"},"#,
        r#"{"items": [{"v": 1}, {"v": 2}]}"#,
    );
    assert_eq!(w.output(), json!({"all": [1, 2], "none": []}));
}

// ---- Result and ResultPath -----------------------------------------------------------------

#[test]
fn pass_result_is_a_literal_and_replaces_the_input_by_default() {
    let w = pass(r#""Result": {"x.$": "$.a", "y": "$.b"},"#, r#"{"a": 1}"#);
    assert_eq!(w.output(), json!({"x.$": "$.a", "y": "$.b"}));
}

#[test]
fn result_path_merges_into_raw_input_not_effective_input() {
    let w = pass(
        r#""InputPath": "$.sub", "Parameters": {"got.$": "$.v"}, "ResultPath": "$.r","#,
        r#"{"sub": {"v": 1}, "other": true}"#,
    );
    assert_eq!(
        w.output(),
        json!({"sub": {"v": 1}, "other": true, "r": {"got": 1}})
    );
}

#[test]
fn result_path_null_discards_the_result_and_keeps_the_raw_input() {
    let w = pass(
        r#""InputPath": "$.sub", "Result": "ignored", "ResultPath": null,"#,
        r#"{"sub": 1, "keep": 2}"#,
    );
    assert_eq!(w.output(), json!({"sub": 1, "keep": 2}));
}

#[test]
fn result_path_creates_missing_intermediate_objects() {
    let w = pass(r#""Result": 7, "ResultPath": "$.a.b.c","#, r#"{"x": 1}"#);
    assert_eq!(w.output(), json!({"x": 1, "a": {"b": {"c": 7}}}));
}

#[test]
fn result_path_overwrites_an_existing_field_and_keeps_its_siblings() {
    let w = pass(
        r#""Result": {"new": true}, "ResultPath": "$.a.b","#,
        r#"{"a": {"b": {"old": true}, "c": 1}}"#,
    );
    assert_eq!(w.output(), json!({"a": {"b": {"new": true}, "c": 1}}));
}

#[test]
fn result_path_dollar_replaces_even_a_non_object_input() {
    let w = pass(r#""Result": {"r": 1}, "ResultPath": "$","#, r#""text""#);
    assert_eq!(w.output(), json!({"r": 1}));
}

#[test]
fn result_path_into_a_non_object_input_fails_with_result_path_match_failure() {
    // AWS documents States.ResultPathMatchFailure for a ResultPath that cannot be applied.
    let w = pass(
        r#""Result": 1, "ResultPath": "$.a.b","#,
        r#"{"a": "scalar"}"#,
    );
    assert_eq!(w.error(), "States.ResultPathMatchFailure");
    assert!(w.cause().starts_with(PREFIX_P), "{}", w.cause());
}

// ---- Task: ResultSelector and the whole chain ----------------------------------------------

#[test]
fn task_data_flow_applies_input_path_parameters_selector_result_path_output_path_in_order() {
    let w = task(
        r#""InputPath": "$.in", "Parameters": {"arg.$": "$.v"},
           "ResultSelector": {"picked.$": "$.Payload.x"}, "ResultPath": "$.res",
           "OutputPath": "$.res","#,
        r#"{"in": {"v": 3}, "keep": 1}"#,
        json!({"Payload": {"x": 42, "y": 0}, "StatusCode": 200}),
    );
    assert_eq!(w.scheduled[0].parameters, json!({"arg": 3}));
    assert_eq!(w.output(), json!({"picked": 42}));
}

#[test]
fn task_result_path_merges_the_selected_result_into_the_raw_input() {
    let w = task(
        r#""InputPath": "$.in", "ResultSelector": {"p.$": "$.Payload"}, "ResultPath": "$.out","#,
        r#"{"in": {"v": 3}, "keep": 1}"#,
        json!({"Payload": "done"}),
    );
    assert_eq!(
        w.output(),
        json!({"in": {"v": 3}, "keep": 1, "out": {"p": "done"}})
    );
}

#[test]
fn task_without_parameters_sends_the_effective_input() {
    let w = task(r#""InputPath": "$.in","#, r#"{"in": [1, 2]}"#, json!(null));
    assert_eq!(w.scheduled[0].parameters, json!([1, 2]));
    assert_eq!(w.output(), json!(null));
}

#[test]
fn result_selector_missing_path_is_states_runtime_after_task_succeeded() {
    let w = task(
        r#""ResultSelector": {"p.$": "$.nope"},"#,
        "{}",
        json!({"Payload": 1}),
    );
    assert_eq!(w.error(), "States.Runtime");
    assert_eq!(
        w.cause(),
        "An error occurred while executing the state 'T' (entered at the event id #2). The JSONPath '$.nope' specified for the field 'p.$' could not be found in the input '{\"Payload\":1}'"
    );
    assert_eq!(
        w.types(),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "ExecutionFailed"
        ]
    );
}

#[test]
fn output_path_failure_after_a_task_is_not_caught_even_by_naming_states_runtime() {
    let def = format!(
        r#"{{"StartAt": "T", "States": {{
            "T": {{"Type": "Task", "Resource": "{LAMBDA}", "OutputPath": "$.no.such",
                  "Catch": [{{"ErrorEquals": ["States.Runtime"], "Next": "C"}},
                            {{"ErrorEquals": ["States.ALL"], "Next": "C"}}], "End": true}},
            "C": {{"Type": "Pass", "End": true}}}}}}"#
    );
    let mut w = World::start(&def, "{}");
    w.succeed("T", json!({}));
    assert_eq!(w.error(), "States.Runtime");
    assert!(
        w.cause()
            .ends_with("Invalid path '$.no.such' : Missing property in path $['no']")
    );
}

// ---- Parallel and Map data flow ------------------------------------------------------------

#[test]
fn parallel_parameters_feed_every_branch_and_result_selector_sees_the_branch_array() {
    let w = World::start(
        r#"{"StartAt": "Par", "States": {"Par": {"Type": "Parallel",
            "InputPath": "$.in", "Parameters": {"v.$": "$.v"},
            "ResultSelector": {"first.$": "$[0]", "n.$": "States.ArrayLength($)"},
            "ResultPath": "$.out", "OutputPath": "$.out",
            "Branches": [
              {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}},
              {"StartAt": "B", "States": {"B": {"Type": "Pass", "Parameters": {"b.$": "$.v"}, "End": true}}}
            ], "End": true}}}"#,
        r#"{"in": {"v": 9}}"#,
    );
    assert_eq!(w.output(), json!({"first": {"v": 9}, "n": 2}));
}

#[test]
fn map_result_path_merges_the_results_array_into_the_raw_input() {
    let w = World::start(
        r#"{"StartAt": "M", "States": {"M": {"Type": "Map", "InputPath": "$.in",
            "ItemsPath": "$.items", "ItemSelector": {"i.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value", "k.$": "$.k"},
            "ResultSelector": {"all.$": "$"}, "ResultPath": "$.out",
            "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}},
            "End": true}}}"#,
        r#"{"in": {"items": ["a", "b"], "k": 1}, "keep": true}"#,
    );
    assert_eq!(
        w.output(),
        json!({"in": {"items": ["a", "b"], "k": 1}, "keep": true,
               "out": {"all": [{"i": 0, "v": "a", "k": 1}, {"i": 1, "v": "b", "k": 1}]}})
    );
}

#[test]
fn choice_and_wait_and_succeed_apply_input_path_then_output_path() {
    let w = World::start(
        r#"{"StartAt": "C", "States": {
            "C": {"Type": "Choice", "InputPath": "$.a", "OutputPath": "$.b",
                  "Choices": [{"Variable": "$.b.n", "NumericEquals": 1, "Next": "W"}]},
            "W": {"Type": "Wait", "Seconds": 0, "InputPath": "$.n2", "OutputPath": "$.n3", "Next": "S"},
            "S": {"Type": "Succeed", "InputPath": "$.x", "OutputPath": "$.y"}}}"#,
        r#"{"a": {"b": {"n": 1, "n2": {"n3": {"x": {"y": "end"}}}}}}"#,
    );
    let mut w = w;
    w.run_timers();
    assert_eq!(w.output(), json!("end"));
}

// ---- Context object ------------------------------------------------------------------------

#[test]
fn context_object_execution_and_state_machine_members() {
    let w = pass(
        r#""Parameters": {"id.$": "$$.Execution.Id", "name.$": "$$.Execution.Name",
            "input.$": "$$.Execution.Input", "start.$": "$$.Execution.StartTime",
            "role.$": "$$.Execution.RoleArn", "redrives.$": "$$.Execution.RedriveCount",
            "sm.$": "$$.StateMachine.Id", "smName.$": "$$.StateMachine.Name",
            "state.$": "$$.State.Name", "entered.$": "$$.State.EnteredTime"},"#,
        r#"{"x": 1}"#,
    );
    assert_eq!(
        w.output(),
        json!({
            "id": "arn:aws:states:us-east-1:123456789012:execution:sm:run",
            "name": "run",
            "input": {"x": 1},
            "start": "2023-11-14T22:13:20.000Z",
            "role": "arn:aws:iam::123456789012:role/r",
            "redrives": 0,
            "sm": "arn:aws:states:us-east-1:123456789012:stateMachine:sm",
            "smName": "sm",
            "state": "P",
            "entered": "2023-11-14T22:13:20.000Z"
        })
    );
}

#[test]
fn context_execution_input_is_the_original_input_in_every_state() {
    let w = World::start(
        r#"{"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Result": {"changed": true}, "Next": "B"},
            "B": {"Type": "Pass", "Parameters": {"orig.$": "$$.Execution.Input", "now.$": "$"}, "End": true}}}"#,
        r#"{"x": 1}"#,
    );
    assert_eq!(
        w.output(),
        json!({"orig": {"x": 1}, "now": {"changed": true}})
    );
}

#[test]
fn context_state_entered_time_is_when_the_state_was_entered() {
    let mut w = World::start(
        r#"{"StartAt": "W", "States": {
            "W": {"Type": "Wait", "Seconds": 90, "Next": "P"},
            "P": {"Type": "Pass", "Parameters": {"t.$": "$$.State.EnteredTime", "s.$": "$$.Execution.StartTime"}, "End": true}}}"#,
        "{}",
    );
    w.run_timers();
    assert_eq!(
        w.output(),
        json!({"t": "2023-11-14T22:14:50.000Z", "s": "2023-11-14T22:13:20.000Z"})
    );
}

#[test]
fn context_state_retry_count_is_absent_on_pass() {
    let w = pass(r#""Parameters": {"s.$": "$$.State"},"#, "{}");
    let s = &w.output()["s"];
    assert!(s.get("RetryCount").is_none(), "{s}");
    assert_eq!(s["Name"], "P");
}

#[test]
fn context_state_retry_count_counts_task_retries() {
    let def = format!(
        r#"{{"StartAt": "T", "States": {{"T": {{"Type": "Task", "Resource": "{LAMBDA}",
            "Parameters": {{"n.$": "$$.State.RetryCount"}},
            "ResultSelector": {{"n.$": "$$.State.RetryCount"}},
            "Retry": [{{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 3}}],
            "End": true}}}}}}"#
    );
    let mut w = World::start(&def, "{}");
    assert_eq!(w.task("T").parameters, json!({"n": 0}));
    w.fail("T", "E", "c");
    w.fire_next_timer();
    assert_eq!(w.task("T").parameters, json!({"n": 1}));
    w.fail("T", "E", "c");
    w.fire_next_timer();
    assert_eq!(w.task("T").parameters, json!({"n": 2}));
    assert_eq!(w.task("T").attempt, 2);
    w.succeed("T", json!({}));
    assert_eq!(w.output(), json!({"n": 2}));
}

#[test]
fn context_task_token_is_present_only_for_callback_tasks() {
    let def = format!(
        r#"{{"StartAt": "T", "States": {{"T": {{"Type": "Task", "Resource": "{}",
            "Parameters": {{"token.$": "$$.Task.Token"}}, "End": true}}}}}}"#,
        harness::CALLBACK
    );
    let w = World::start(&def, "{}");
    let t = w.task("T");
    let token = t.token.clone().expect("callback tasks carry a token");
    assert_eq!(t.parameters, json!({"token": token}));
    assert_eq!(w.exec.open_tokens(), vec![(t.task_id, token)]);

    let w = task(
        r#""Parameters": {"token.$": "$$.Task.Token"},"#,
        "{}",
        json!(1),
    );
    assert_eq!(w.error(), "States.Runtime");
    assert!(w.cause().contains("'$$.Task.Token'"), "{}", w.cause());
}

#[test]
fn context_map_item_is_visible_in_item_selector_only() {
    let w = World::start(
        r#"{"StartAt": "M", "States": {"M": {"Type": "Map",
            "ItemSelector": {"index.$": "$$.Map.Item.Index", "value.$": "$$.Map.Item.Value"},
            "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass",
                "Parameters": {"ctx.$": "$$", "in.$": "$"}, "End": true}}},
            "End": true}}}"#,
        r#"[{"a": 1}, "b"]"#,
    );
    let out = w.output();
    assert_eq!(out[0]["in"], json!({"index": 0, "value": {"a": 1}}));
    assert_eq!(out[1]["in"], json!({"index": 1, "value": "b"}));
    assert!(out[0]["ctx"].get("Map").is_none(), "{}", out[0]["ctx"]);
    assert_eq!(out[0]["ctx"]["State"]["Name"], "I");
}

#[test]
fn legacy_map_parameters_act_as_item_selector() {
    let w = World::start(
        r#"{"StartAt": "M", "States": {"M": {"Type": "Map",
            "Parameters": {"i.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value", "all.$": "$.n"},
            "ItemsPath": "$.items",
            "Iterator": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}},
            "End": true}}}"#,
        r#"{"items": [5, 6], "n": 0}"#,
    );
    assert_eq!(
        w.output(),
        json!([{"i": 0, "v": 5, "all": 0}, {"i": 1, "v": 6, "all": 0}])
    );
}

// ---- Intrinsics ----------------------------------------------------------------------------

#[test]
fn intrinsic_functions_evaluate_in_parameters() {
    let w = pass(
        r#""Parameters": {"f.$": "States.Format('{} is {}', $.n, $.v)", "a.$": "States.Array($.v, 1)",
            "len.$": "States.ArrayLength($.arr)", "s.$": "States.JsonToString($.o)"},"#,
        r#"{"n": "x", "v": 2, "arr": [1, 2, 3], "o": {"k": [1]}}"#,
    );
    assert_eq!(
        w.output(),
        json!({"f": "x is 2", "a": [2, 1], "len": 3, "s": "{\"k\":[1]}"})
    );
}

#[test]
fn intrinsic_failure_is_states_runtime_with_the_call_in_the_cause() {
    let w = pass(
        r#""Parameters": {"v.$": "States.ArrayGetItem($.arr, 5)"},"#,
        r#"{"arr": [1]}"#,
    );
    assert_eq!(w.error(), "States.Runtime");
    let cause = w.cause();
    assert!(
        cause.starts_with(&format!(
            "{PREFIX_P}There was an error while evaluating the intrinsic function: States.ArrayGetItem($.arr, 5)."
        )),
        "{cause}"
    );
}

#[test]
fn intrinsic_path_argument_not_found_names_the_path_and_input() {
    let w = pass(
        r#""Parameters": {"v.$": "States.Array($.nope)"},"#,
        r#"{"a": 1}"#,
    );
    assert_eq!(w.error(), "States.Runtime");
    assert_eq!(
        w.cause(),
        format!(
            "{PREFIX_P}There was an error while evaluating the intrinsic function: States.Array($.nope). The JsonPath argument for the field '$.nope' could not be found in the input '{{\"a\":1}}'"
        )
    );
}

#[test]
fn intrinsic_failure_in_task_parameters_is_not_caught_by_states_all() {
    let def = format!(
        r#"{{"StartAt": "T", "States": {{
            "T": {{"Type": "Task", "Resource": "{LAMBDA}",
                  "Parameters": {{"v.$": "States.MathAdd($.a, 1)"}},
                  "Retry": [{{"ErrorEquals": ["States.ALL"]}}],
                  "Catch": [{{"ErrorEquals": ["States.ALL"], "Next": "C"}}], "End": true}},
            "C": {{"Type": "Pass", "End": true}}}}}}"#
    );
    let w = World::start(&def, r#"{"a": "not a number"}"#);
    assert_eq!(w.error(), "States.Runtime");
    assert!(w.scheduled.is_empty(), "no task is scheduled");
    assert_eq!(
        w.types(),
        ["ExecutionStarted", "TaskStateEntered", "ExecutionFailed"]
    );
}

#[test]
fn every_event_timestamp_is_virtual_time() {
    let w = pass("", "{}");
    assert!(w.history.iter().all(|e| e.timestamp == T0));
}
