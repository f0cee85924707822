//! Pass, Succeed, Fail and Wait.

mod harness;

use harness::{T0, World};
use ironstep_core::TimerKind;
use serde_json::json;

fn wait(field: &str, input: &str) -> World {
    World::start(
        &format!(
            r#"{{"StartAt": "W", "States": {{"W": {{"Type": "Wait", {field}, "Next": "P"}},
                "P": {{"Type": "Pass", "End": true}}}}}}"#
        ),
        input,
    )
}

const PREFIX_W: &str =
    "An error occurred while executing the state 'W' (entered at the event id #2). ";

// ---- Pass ----------------------------------------------------------------------------------

#[test]
fn pass_without_fields_outputs_its_input() {
    let w = World::start(
        r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#,
        r#"{"a": [1, {"b": null}]}"#,
    );
    assert_eq!(w.output(), json!({"a": [1, {"b": null}]}));
}

#[test]
fn pass_history_chains_entered_exited_and_execution_events() {
    let w = World::start(
        r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Result": 1, "End": true}}}"#,
        r#"{"in": 0}"#,
    );
    insta::assert_snapshot!(w.render());
}

#[test]
fn first_state_entered_echoes_the_raw_input_text() {
    // AWS echoes the execution input verbatim (spacing kept) in the first StateEntered.
    let raw = "{ \"a\" :  1 }";
    let w = World::start(
        r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#,
        raw,
    );
    assert_eq!(w.details("ExecutionStarted")["input"], raw);
    assert_eq!(w.details("PassStateEntered")["input"], raw);
    assert_eq!(w.details("PassStateExited")["output"], "{\"a\":1}");
}

// ---- Succeed -------------------------------------------------------------------------------

#[test]
fn succeed_records_entered_and_exited_then_execution_succeeded() {
    let w = World::start(
        r#"{"StartAt": "S", "States": {"S": {"Type": "Succeed", "OutputPath": "$.x"}}}"#,
        r#"{"x": 5}"#,
    );
    assert_eq!(w.output(), json!(5));
    assert_eq!(
        w.types(),
        [
            "ExecutionStarted",
            "SucceedStateEntered",
            "SucceedStateExited",
            "ExecutionSucceeded"
        ]
    );
}

#[test]
fn succeed_inside_a_branch_ends_only_the_branch() {
    let w = World::start(
        r#"{"StartAt": "Par", "States": {"Par": {"Type": "Parallel", "Next": "After",
            "Branches": [{"StartAt": "S", "States": {"S": {"Type": "Succeed"}}}]},
            "After": {"Type": "Pass", "Result": "after", "End": true}}}"#,
        "{}",
    );
    assert_eq!(w.output(), json!("after"));
}

// ---- Fail ----------------------------------------------------------------------------------

#[test]
fn fail_with_error_and_cause_fails_the_execution_right_after_entering() {
    let w = World::start(
        r#"{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "SomeFailure", "Cause": "because"}}}"#,
        "{}",
    );
    assert_eq!(
        w.failure(),
        (Some("SomeFailure".into()), Some("because".into()))
    );
    assert_eq!(
        w.types(),
        ["ExecutionStarted", "FailStateEntered", "ExecutionFailed"]
    );
    assert_eq!(w.history[2].previous_event_id, 2);
    assert_eq!(
        w.details("ExecutionFailed"),
        json!({"error": "SomeFailure", "cause": "because"})
    );
}

#[test]
fn fail_without_error_or_cause_records_empty_details() {
    let w = World::start(
        r#"{"StartAt": "F", "States": {"F": {"Type": "Fail"}}}"#,
        "{}",
    );
    assert_eq!(w.failure(), (None, None));
    assert_eq!(w.details("ExecutionFailed"), json!({}));
}

#[test]
fn fail_error_path_and_cause_path_read_the_input() {
    let w = World::start(
        r#"{"StartAt": "F", "States": {"F": {"Type": "Fail", "ErrorPath": "$.e", "CausePath": "$.c"}}}"#,
        r#"{"e": "error string", "c": "cause string"}"#,
    );
    assert_eq!(
        w.failure(),
        (Some("error string".into()), Some("cause string".into()))
    );
}

#[test]
fn fail_cause_path_may_be_an_intrinsic() {
    let w = World::start(
        r#"{"StartAt": "F", "States": {"F": {"Type": "Fail", "ErrorPath": "$.e",
            "CausePath": "States.Format('Failed with {} ({})', $.e, $.n)"}}}"#,
        r#"{"e": "Boom", "n": 3}"#,
    );
    assert_eq!(
        w.failure(),
        (Some("Boom".into()), Some("Failed with Boom (3)".into()))
    );
}

#[test]
fn fail_error_path_not_found_is_states_runtime() {
    let w = World::start(
        r#"{"StartAt": "F", "States": {"F": {"Type": "Fail", "ErrorPath": "$.nope", "Cause": "c"}}}"#,
        r#"{"a": 1}"#,
    );
    assert_eq!(w.error(), "States.Runtime");
    assert_eq!(
        w.cause(),
        "An error occurred while executing the state 'F' (entered at the event id #2). The JSONPath '$.nope' specified for the field 'ErrorPath' could not be found in the input '{\"a\":1}'"
    );
}

#[test]
fn fail_inside_a_parallel_branch_fails_the_execution_with_its_error() {
    let w = World::start(
        r#"{"StartAt": "Par", "States": {"Par": {"Type": "Parallel", "End": true,
            "Branches": [{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "FailureType"}}}]}}}"#,
        "{}",
    );
    assert_eq!(w.failure(), (Some("FailureType".into()), None));
}

// ---- Wait ----------------------------------------------------------------------------------

#[test]
fn wait_seconds_sets_a_wait_timer_and_exits_when_it_fires() {
    let mut w = wait(r#""Seconds": 10"#, r#"{"x": 1}"#);
    assert_eq!(w.types(), ["ExecutionStarted", "WaitStateEntered"]);
    assert_eq!(w.started_timers, vec![(1, T0 + 10_000, TimerKind::Wait)]);
    assert!(w.outcome().is_none());
    w.run_timers();
    assert_eq!(w.output(), json!({"x": 1}));
    insta::assert_snapshot!(w.render());
}

#[test]
fn wait_seconds_zero_still_waits_for_its_timer() {
    let mut w = wait(r#""Seconds": 0"#, "{}");
    assert_eq!(w.started_timers, vec![(1, T0, TimerKind::Wait)]);
    assert!(w.outcome().is_none());
    w.run_timers();
    assert_eq!(w.output(), json!({}));
}

#[test]
fn wait_timestamp_waits_until_the_instant() {
    let w = wait(r#""Timestamp": "2023-11-14T22:14:20Z""#, "{}");
    assert_eq!(w.started_timers[0].1, T0 + 60_000);
}

#[test]
fn wait_timestamp_in_the_past_continues_at_once() {
    let mut w = wait(r#""Timestamp": "2016-03-14T01:59:00Z""#, "{}");
    assert_eq!(w.started_timers[0].1, T0);
    w.run_timers();
    assert_eq!(w.output(), json!({}));
}

#[test]
fn wait_seconds_path_reads_a_non_negative_integer() {
    let w = wait(r#""SecondsPath": "$.s""#, r#"{"s": 3}"#);
    assert_eq!(w.started_timers[0].1, T0 + 3_000);
}

#[test]
fn wait_seconds_path_errors_have_aws_texts() {
    let cases = [
        (
            r#"{"s": -1}"#,
            "The SecondsPath parameter references a negative value: $.s == -1",
        ),
        (
            r#"{"s": 1.5}"#,
            "The SecondsPath parameter cannot be parsed as a long value: $.s == 1.5",
        ),
        (
            r#"{"s": -1.5}"#,
            "The SecondsPath parameter cannot be parsed as a long value: $.s == -1.5",
        ),
        (
            r#"{"s": "3"}"#,
            "The SecondsPath parameter cannot be parsed as a long value: $.s == \"3\"",
        ),
        (
            "{}",
            "The SecondsPath parameter does not reference an input value: $.s",
        ),
    ];
    for (input, detail) in cases {
        let w = wait(r#""SecondsPath": "$.s""#, input);
        assert_eq!(w.error(), "States.Runtime", "{input}");
        assert_eq!(w.cause(), format!("{PREFIX_W}{detail}"), "{input}");
        assert!(w.started_timers.is_empty());
        assert_eq!(
            w.types(),
            ["ExecutionStarted", "WaitStateEntered", "ExecutionFailed"]
        );
    }
}

#[test]
fn wait_timestamp_path_accepts_rfc3339_with_fractions_and_offsets() {
    for (ts, due) in [
        ("2023-11-14T22:13:30Z", T0 + 10_000),
        ("2023-11-14T22:13:30.000000Z", T0 + 10_000),
        ("2023-11-14T22:13:30.50Z", T0 + 10_500),
        ("2023-11-14T22:13:30.123456789Z", T0 + 10_123),
        ("2023-11-14T23:13:30+01:00", T0 + 10_000),
    ] {
        let w = wait(r#""TimestampPath": "$.t""#, &json!({"t": ts}).to_string());
        assert!(w.outcome().is_none(), "{ts}: {:?}", w.outcome());
        assert_eq!(w.started_timers[0].1, due, "{ts}");
    }
}

#[test]
fn wait_timestamp_path_rejects_non_iso_timestamps() {
    for ts in [
        "2016-12-05 21:29:29Z",
        "2016-12-05T21:29:29",
        "2016-12-05T21:29:29.000000",
        "05-12-2016T21:29:29Z",
        "2016-12-05T25:29:29Z",
    ] {
        let w = wait(r#""TimestampPath": "$.t""#, &json!({"t": ts}).to_string());
        assert_eq!(w.error(), "States.Runtime", "{ts}");
        assert_eq!(
            w.cause(),
            format!(
                "{PREFIX_W}The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: $.t == {ts}"
            )
        );
    }
}

#[test]
fn wait_timestamp_path_missing_is_states_runtime() {
    let w = wait(r#""TimestampPath": "$.t""#, "{}");
    assert_eq!(w.error(), "States.Runtime");
    assert_eq!(
        w.cause(),
        format!("{PREFIX_W}The TimestampPath parameter does not reference an input value: $.t")
    );
}

#[test]
fn wait_applies_input_path_and_output_path() {
    let mut w = wait(
        r#""Seconds": 1, "InputPath": "$.a", "OutputPath": "$.b""#,
        r#"{"a": {"b": 7}}"#,
    );
    w.run_timers();
    assert_eq!(w.output(), json!(7));
}

#[test]
fn a_stale_timer_firing_changes_nothing() {
    let mut w = wait(r#""Seconds": 5"#, "{}");
    let before = w.history.len();
    w.input(ironstep_core::Input::TimerFired { timer_id: 999 });
    assert_eq!(w.history.len(), before);
    assert_eq!(w.stale_steps, 1);
    w.run_timers();
    assert_eq!(w.output(), json!({}));
    // After the close every input is stale.
    w.input(ironstep_core::Input::TimerFired { timer_id: 1 });
    assert_eq!(w.stale_steps, 2);
}
