//! Task lifecycle through the simulated world: scheduled/started/succeeded/failed events,
//! Retry, Catch, timeouts, heartbeats, task tokens, and cancellation on stop.

mod harness;

use harness::{CALLBACK, LAMBDA, T0, World};
use ironstep_core::{Input, Outcome, TimerKind};
use serde_json::{Value, json};

const LEGACY_LAMBDA: &str = "arn:aws:lambda:us-east-1:123456789012:function:f";
const ACTIVITY: &str = "arn:aws:states:us-east-1:123456789012:activity:act";

/// A one-Task machine (`T`) with extra fields, a `Done` and a `Caught` Pass state.
fn machine(resource: &str, fields: &str) -> String {
    // Unreachable states are rejected, so the catch targets exist only when referenced.
    let mut extra = String::new();
    if fields.contains("\"Caught\"") {
        extra.push_str(r#", "Caught": {"Type": "Pass", "End": true}"#);
    }
    if fields.contains("\"Other\"") {
        extra.push_str(r#", "Other": {"Type": "Pass", "Result": "other", "End": true}"#);
    }
    format!(
        r#"{{"StartAt": "T", "States": {{
            "T": {{"Type": "Task", "Resource": "{resource}", {fields} "Next": "Done"}},
            "Done": {{"Type": "Pass", "End": true}}{extra}}}}}"#
    )
}

fn retry_delays(w: &World) -> Vec<i64> {
    // Due time minus the time the retry timer was started (= the failure time).
    let mut out = Vec::new();
    let mut failures = w
        .history
        .iter()
        .filter(|e| e.kind.type_name().ends_with("Failed") && !e.kind.is_terminal())
        .map(|e| e.timestamp);
    for (_, due, kind) in &w.started_timers {
        if *kind == TimerKind::Retry {
            out.push(due - failures.next().expect("a failure before each retry"));
        }
    }
    out
}

// ---- lifecycle -----------------------------------------------------------------------------

#[test]
fn service_task_records_scheduled_started_succeeded_exited() {
    let mut w = World::start(
        &machine(
            LAMBDA,
            r#""Parameters": {"FunctionName": "f", "Payload.$": "$"},"#,
        ),
        r#"{"a": 1}"#,
    );
    assert_eq!(w.tasks.len(), 1);
    let t = w.task("T");
    assert_eq!(t.resource, LAMBDA);
    assert_eq!(
        t.parameters,
        json!({"FunctionName": "f", "Payload": {"a": 1}})
    );
    assert_eq!(t.task_id, 3, "the task id is the TaskScheduled event id");
    assert_eq!(t.attempt, 0);
    assert!(t.token.is_none());
    w.advance(1500);
    w.succeed("T", json!({"Payload": "ok"}));
    assert_eq!(w.output(), json!({"Payload": "ok"}));
    insta::assert_snapshot!(w.render());
}

#[test]
fn legacy_lambda_resource_records_lambda_function_events() {
    let mut w = World::start(&machine(LEGACY_LAMBDA, ""), r#"{"a": 1}"#);
    w.succeed("T", json!("HelloWorld!"));
    assert_eq!(w.output(), json!("HelloWorld!"));
    insta::assert_snapshot!(w.render());
}

#[test]
fn activity_task_records_activity_events_with_worker_name() {
    let mut w = World::start(
        &machine(ACTIVITY, r#""TimeoutSeconds": 60,"#),
        r#"{"a": 1}"#,
    );
    let t = w.task("T");
    assert!(t.token.is_some(), "activities hand out a token");
    w.input(Input::TaskStarted {
        task_id: t.task_id,
        worker_name: Some("worker-1".into()),
    });
    w.succeed("T", json!({"done": true}));
    assert_eq!(w.output(), json!({"done": true}));
    insta::assert_snapshot!(w.render());
}

#[test]
fn uncaught_task_failure_fails_the_execution_with_the_task_error() {
    let mut w = World::start(&machine(LAMBDA, ""), "{}");
    w.fail("T", "Lambda.Unknown", "it broke");
    assert_eq!(
        w.failure(),
        (Some("Lambda.Unknown".into()), Some("it broke".into()))
    );
    assert_eq!(
        w.types(),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskFailed",
            "ExecutionFailed"
        ]
    );
    assert_eq!(w.history[5].previous_event_id, 5);
    assert_eq!(
        w.details("TaskFailed"),
        json!({"resourceType": "lambda", "resource": "invoke", "error": "Lambda.Unknown", "cause": "it broke"})
    );
}

#[test]
fn a_result_for_a_task_no_longer_awaited_is_stale() {
    let mut w = World::start(
        &machine(LAMBDA, r#""Retry": [{"ErrorEquals": ["States.ALL"]}],"#),
        "{}",
    );
    let first = w.task("T").task_id;
    w.fail("T", "E", "c");
    // While the retry back-off runs, and after the retry started, the old id is dead.
    w.input(Input::TaskSucceeded {
        task_id: first,
        output: json!(1),
    });
    w.fire_next_timer();
    let second = w.task("T").task_id;
    assert_ne!(first, second);
    let events = w.history.len();
    w.input(Input::TaskSucceeded {
        task_id: first,
        output: json!(1),
    });
    assert_eq!(w.history.len(), events);
    w.succeed("T", json!(2));
    assert_eq!(w.output(), json!(2));
}

// ---- Retry ---------------------------------------------------------------------------------

#[test]
fn retry_defaults_are_one_second_three_attempts_backoff_two() {
    let mut w = World::start(
        &machine(LAMBDA, r#""Retry": [{"ErrorEquals": ["States.ALL"]}],"#),
        "{}",
    );
    w.drive(|_| Err(("E".into(), "c".into())));
    assert_eq!(w.error(), "E");
    assert_eq!(w.scheduled.len(), 4, "one attempt and three retries");
    assert_eq!(retry_delays(&w), [1000, 2000, 4000]);
    assert_eq!(
        w.scheduled.iter().map(|t| t.attempt).collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
}

#[test]
fn retry_reschedules_without_reentering_the_state() {
    let mut w = World::start(
        &machine(
            LAMBDA,
            r#""Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 3, "MaxAttempts": 2, "BackoffRate": 1.5}],"#,
        ),
        "{}",
    );
    w.drive(|t| {
        if t.attempt < 2 {
            Err(("E".into(), "c".into()))
        } else {
            Ok(json!("third time lucky"))
        }
    });
    assert_eq!(w.output(), json!("third time lucky"));
    assert_eq!(retry_delays(&w), [3000, 4500]);
    insta::assert_snapshot!(w.render());
}

#[test]
fn retry_max_delay_caps_backoff() {
    let mut w = World::start(
        &machine(
            LAMBDA,
            r#""Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2, "MaxAttempts": 5, "BackoffRate": 3, "MaxDelaySeconds": 10}],"#,
        ),
        "{}",
    );
    w.drive(|_| Err(("E".into(), "c".into())));
    assert_eq!(retry_delays(&w), [2000, 6000, 10_000, 10_000, 10_000]);
}

#[test]
fn retry_max_attempts_zero_never_retries_and_hands_over_to_catch() {
    let mut w = World::start(
        &machine(
            LAMBDA,
            r#""Retry": [{"ErrorEquals": ["E"], "MaxAttempts": 0}, {"ErrorEquals": ["States.ALL"], "MaxAttempts": 5}],
               "Catch": [{"ErrorEquals": ["E"], "Next": "Caught"}],"#,
        ),
        "{}",
    );
    w.fail("T", "E", "c");
    assert!(w.started_timers.is_empty());
    assert_eq!(w.output(), json!({"Error": "E", "Cause": "c"}));
}

#[test]
fn retry_first_matching_retrier_decides_and_an_exhausted_one_does_not_fall_through() {
    let mut w = World::start(
        &machine(
            LAMBDA,
            r#""Retry": [{"ErrorEquals": ["E"], "MaxAttempts": 1}, {"ErrorEquals": ["States.ALL"], "MaxAttempts": 5}],"#,
        ),
        "{}",
    );
    w.drive(|_| Err(("E".into(), "c".into())));
    assert_eq!(w.error(), "E");
    assert_eq!(
        w.scheduled.len(),
        2,
        "the States.ALL retrier is never used for E"
    );
}

#[test]
fn retry_error_equals_lists_are_matched_in_retrier_order() {
    let mut w = World::start(
        &machine(
            LAMBDA,
            r#""Retry": [{"ErrorEquals": ["A", "B"], "IntervalSeconds": 7, "MaxAttempts": 1},
                         {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 1}],"#,
        ),
        "{}",
    );
    w.fail("T", "B", "c");
    assert_eq!(retry_delays(&w), [7000]);
    w.fire_next_timer();
    w.fail("T", "Z", "c");
    assert_eq!(retry_delays(&w), [7000, 1000]);
}

#[test]
fn retry_counters_are_kept_per_retrier() {
    let mut w = World::start(
        &machine(
            LAMBDA,
            r#""Retry": [{"ErrorEquals": ["A"], "MaxAttempts": 1, "IntervalSeconds": 1, "BackoffRate": 10},
                         {"ErrorEquals": ["B"], "MaxAttempts": 2, "IntervalSeconds": 1, "BackoffRate": 10}],"#,
        ),
        "{}",
    );
    let mut errors = ["A", "B", "B", "A"].into_iter();
    w.drive(|_| Err((errors.next().unwrap_or("none").into(), "c".into())));
    // A retried once, B twice (its second delay backs off on B's own count), then A is spent.
    assert_eq!(w.error(), "A");
    assert_eq!(w.scheduled.len(), 4);
    assert_eq!(retry_delays(&w), [1000, 1000, 10_000]);
    let retry_counts: Vec<u32> = w.scheduled.iter().map(|t| t.attempt).collect();
    assert_eq!(retry_counts, [0, 1, 2, 3], "RetryCount counts every retry");
}

#[test]
fn retry_jitter_full_is_bounded_by_the_computed_delay_and_follows_the_entropy() {
    let def = machine(
        LAMBDA,
        r#""Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 8, "MaxAttempts": 3, "BackoffRate": 2, "JitterStrategy": "FULL"}],"#,
    );
    let run = |seed: u64| {
        let mut w = World::start_with(
            &def,
            "{}",
            harness::Setup {
                seed,
                ..Default::default()
            },
        );
        w.drive(|_| Err(("E".into(), "c".into())));
        retry_delays(&w)
    };
    let a = run(1);
    assert_eq!(a.len(), 3);
    for (d, cap) in a.iter().zip([8000, 16_000, 32_000]) {
        assert!((0..=cap).contains(d), "{d} not within [0, {cap}]");
    }
    assert_eq!(run(1), a, "same entropy, same delays");
    let others: Vec<Vec<i64>> = (2..6).map(run).collect();
    assert!(
        others.iter().any(|o| *o != a),
        "the delay depends on the entropy"
    );
    // The draw is uniform in [0, 1): with a constant source the delay is that fraction.
    struct Half;
    impl ironstep_core::Entropy for Half {
        fn next_u64(&mut self) -> u64 {
            1 << 63
        }
    }
    let def = harness::compile(&def);
    let (mut exec, step) = ironstep_core::Execution::start(
        &def,
        harness::info("{}"),
        Default::default(),
        T0,
        &mut Half,
    );
    let task_id = step
        .commands
        .iter()
        .find_map(|c| match c {
            ironstep_core::Command::ScheduleTask(t) => Some(t.task_id),
            _ => None,
        })
        .unwrap();
    let step = exec.handle(
        &def,
        T0,
        Input::TaskFailed {
            task_id,
            error: Some("E".into()),
            cause: None,
        },
        &mut Half,
    );
    let due = step.commands.iter().find_map(|c| match c {
        ironstep_core::Command::StartTimer { due, .. } => Some(*due),
        _ => None,
    });
    assert_eq!(due, Some(T0 + 4000));
}

#[test]
fn retry_states_all_matches_a_failure_without_an_error_name() {
    let mut w = World::start(
        &machine(
            LAMBDA,
            r#""Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 1}],"#,
        ),
        "{}",
    );
    w.input(Input::TaskFailed {
        task_id: w.task("T").task_id,
        error: None,
        cause: None,
    });
    assert_eq!(
        w.started_timers.len(),
        1,
        "an error without a name is retried by States.ALL"
    );
}

#[test]
fn states_task_failed_matches_any_error_except_timeout() {
    let def = machine(
        LAMBDA,
        r#""TimeoutSeconds": 5, "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "Caught"}, {"ErrorEquals": ["States.ALL"], "Next": "Other"}],"#,
    );
    let mut w = World::start(&def, "{}");
    w.fail("T", "Custom.Error", "c");
    assert_eq!(w.output(), json!({"Error": "Custom.Error", "Cause": "c"}));
    let mut w = World::start(&def, "{}");
    w.fire_timer_of(TimerKind::TaskTimeout);
    assert_eq!(w.output(), json!("other"));
}

// ---- Catch ---------------------------------------------------------------------------------

#[test]
fn catch_uses_the_first_matching_catcher() {
    let def = machine(
        LAMBDA,
        r#""Catch": [{"ErrorEquals": ["A"], "Next": "Caught"}, {"ErrorEquals": ["B", "C"], "Next": "Other"}, {"ErrorEquals": ["States.ALL"], "Next": "Caught"}],"#,
    );
    let mut w = World::start(&def, "{}");
    w.fail("T", "C", "x");
    assert_eq!(w.output(), json!("other"));
    let mut w = World::start(&def, "{}");
    w.fail("T", "A", "x");
    assert_eq!(w.output(), json!({"Error": "A", "Cause": "x"}));
}

#[test]
fn catch_result_path_puts_the_error_object_into_the_raw_input() {
    let mut w = World::start(
        &machine(
            LAMBDA,
            r#""InputPath": "$.sub", "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}],"#,
        ),
        r#"{"sub": {"x": 1}, "keep": true}"#,
    );
    w.fail("T", "E", "why");
    assert_eq!(
        w.output(),
        json!({"sub": {"x": 1}, "keep": true, "error": {"Error": "E", "Cause": "why"}})
    );
    assert_eq!(
        w.types(),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskFailed",
            "TaskStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
    assert_eq!(
        w.history[5].previous_event_id, 5,
        "TaskStateExited follows TaskFailed"
    );
}

#[test]
fn catch_result_path_null_keeps_the_input() {
    let mut w = World::start(
        &machine(
            LAMBDA,
            r#""Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": null, "Next": "Caught"}],"#,
        ),
        r#"{"keep": 1}"#,
    );
    w.fail("T", "E", "why");
    assert_eq!(w.output(), json!({"keep": 1}));
}

#[test]
fn catch_runs_only_after_retries_are_exhausted() {
    let mut w = World::start(
        &machine(
            LAMBDA,
            r#""Retry": [{"ErrorEquals": ["E"], "MaxAttempts": 2}],
               "Catch": [{"ErrorEquals": ["E"], "Next": "Caught"}],"#,
        ),
        "{}",
    );
    w.drive(|_| Err(("E".into(), "c".into())));
    assert_eq!(w.scheduled.len(), 3);
    assert_eq!(w.output(), json!({"Error": "E", "Cause": "c"}));
}

#[test]
fn failure_without_error_or_cause_reaches_the_catcher_as_nulls() {
    let mut w = World::start(
        &machine(
            CALLBACK,
            r#""Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],"#,
        ),
        "{}",
    );
    let task_id = w.task("T").task_id;
    w.input(Input::TaskFailed {
        task_id,
        error: None,
        cause: None,
    });
    assert_eq!(w.output(), json!({"Error": null, "Cause": null}));
    assert_eq!(
        w.details("TaskFailed"),
        json!({"resourceType": "sqs", "resource": "sendMessage.waitForTaskToken"})
    );
}

// ---- timeouts and heartbeats ---------------------------------------------------------------

#[test]
fn timeout_seconds_times_the_task_out_with_states_timeout() {
    let mut w = World::start(&machine(LAMBDA, r#""TimeoutSeconds": 5,"#), "{}");
    assert_eq!(w.details("TaskScheduled")["timeoutInSeconds"], 5);
    assert_eq!(w.task("T").timeout_seconds, Some(5));
    assert!(
        w.started_timers
            .contains(&(1, T0 + 5000, TimerKind::TaskTimeout))
    );
    let task_id = w.task("T").task_id;
    w.fire_timer_of(TimerKind::TaskTimeout);
    assert_eq!(w.failure(), (Some("States.Timeout".into()), None));
    assert_eq!(
        w.cancelled_tasks,
        vec![task_id],
        "the timed-out task is cancelled"
    );
    insta::assert_snapshot!(w.render());
}

#[test]
fn timeout_caught_gives_an_empty_cause() {
    let mut w = World::start(
        &machine(
            LAMBDA,
            r#""TimeoutSeconds": 5, "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Caught"}],"#,
        ),
        "{}",
    );
    w.fire_timer_of(TimerKind::TaskTimeout);
    assert_eq!(w.output(), json!({"Error": "States.Timeout", "Cause": ""}));
}

#[test]
fn a_task_result_cancels_its_timeout_and_heartbeat_timers() {
    let mut w = World::start(
        &machine(CALLBACK, r#""TimeoutSeconds": 50, "HeartbeatSeconds": 10,"#),
        "{}",
    );
    assert_eq!(w.timers.len(), 2);
    w.succeed("T", json!(1));
    assert!(w.timers.is_empty());
    assert_eq!(w.output(), json!(1));
}

#[test]
fn timeout_seconds_path_reads_the_effective_input() {
    let mut w = World::start(
        &machine(
            LAMBDA,
            r#""InputPath": "$.in", "TimeoutSecondsPath": "$.t","#,
        ),
        r#"{"in": {"t": 7}}"#,
    );
    assert_eq!(w.details("TaskScheduled")["timeoutInSeconds"], 7);
    assert!(
        w.started_timers
            .contains(&(1, T0 + 7000, TimerKind::TaskTimeout))
    );
    w.fire_timer_of(TimerKind::TaskTimeout);
    assert_eq!(w.error(), "States.Timeout");
}

#[test]
fn timeout_seconds_path_to_a_non_positive_value_is_states_runtime() {
    for input in [r#"{"t": 0}"#, r#"{"t": "5"}"#, r#"{"t": 1.5}"#] {
        let w = World::start(&machine(LAMBDA, r#""TimeoutSecondsPath": "$.t","#), input);
        assert_eq!(w.error(), "States.Runtime", "{input}");
        assert!(w.scheduled.is_empty());
    }
}

#[test]
fn heartbeat_resets_on_each_heartbeat_and_expires_as_states_timeout() {
    let mut w = World::start(
        &machine(
            CALLBACK,
            r#""HeartbeatSeconds": 10, "TimeoutSeconds": 100,"#,
        ),
        "{}",
    );
    assert_eq!(w.details("TaskScheduled")["heartbeatInSeconds"], 10);
    let task_id = w.task("T").task_id;
    w.advance(8000);
    let before = w.history.len();
    w.input(Input::Heartbeat { task_id });
    assert_eq!(before, w.history.len(), "heartbeats record no event");
    let hb: Vec<i64> = w
        .timers
        .iter()
        .filter(|(_, k)| **k == TimerKind::Heartbeat)
        .map(|((due, _), _)| *due)
        .collect();
    assert_eq!(hb, [T0 + 18_000], "the heartbeat clock restarts");
    w.fire_next_timer();
    assert_eq!(w.now, T0 + 18_000);
    assert_eq!(w.failure(), (Some("States.Timeout".into()), None));
    assert_eq!(w.types().last().unwrap(), "ExecutionFailed");
    assert!(w.types().contains(&"TaskTimedOut".to_string()));
}

#[test]
fn heartbeat_expiry_is_matched_by_states_heartbeat_timeout() {
    let mut w = World::start(
        &machine(
            CALLBACK,
            r#""HeartbeatSeconds": 10, "Catch": [{"ErrorEquals": ["States.HeartbeatTimeout"], "Next": "Caught"}],"#,
        ),
        "{}",
    );
    w.fire_timer_of(TimerKind::Heartbeat);
    assert_eq!(w.output(), json!({"Error": "States.Timeout", "Cause": ""}));
}

#[test]
fn task_timeout_is_not_matched_by_states_heartbeat_timeout() {
    let mut w = World::start(
        &machine(
            CALLBACK,
            r#""TimeoutSeconds": 10, "Catch": [{"ErrorEquals": ["States.HeartbeatTimeout"], "Next": "Caught"}],"#,
        ),
        "{}",
    );
    w.fire_timer_of(TimerKind::TaskTimeout);
    assert_eq!(w.error(), "States.Timeout");
}

// ---- task tokens ---------------------------------------------------------------------------

#[test]
fn wait_for_task_token_records_submitted_then_the_callback_result() {
    let mut w = World::start(
        &machine(
            CALLBACK,
            r#""Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}},"#,
        ),
        "{}",
    );
    let t = w.task("T");
    let token = t.token.clone().unwrap();
    assert_eq!(t.parameters["MessageBody"]["token"], token.as_str());
    assert_eq!(
        ironstep_core::token::decode(&token),
        Some((w.exec.info().execution_arn.clone(), t.task_id))
    );
    w.input(Input::TaskSubmitted {
        task_id: t.task_id,
        output: json!({"MessageId": "m"}),
    });
    // A second submission report (a re-dispatch) is not recorded twice.
    w.input(Input::TaskSubmitted {
        task_id: t.task_id,
        output: json!({"MessageId": "m"}),
    });
    w.succeed("T", json!("done"));
    assert_eq!(w.output(), json!("done"));
    assert!(w.exec.open_tokens().is_empty());
    let rendered = w.render().replace(&token, "<token>");
    insta::assert_snapshot!(rendered);
}

#[test]
fn a_retried_callback_task_gets_a_fresh_token() {
    let mut w = World::start(
        &machine(CALLBACK, r#""Retry": [{"ErrorEquals": ["States.ALL"]}],"#),
        "{}",
    );
    let first = w.task("T").token.unwrap();
    w.fail("T", "E", "c");
    assert!(
        w.exec.open_tokens().is_empty(),
        "no token is open during the back-off"
    );
    w.fire_next_timer();
    let second = w.task("T").token.unwrap();
    assert_ne!(first, second);
    assert_eq!(w.exec.open_tokens().len(), 1);
}

// ---- data limit ----------------------------------------------------------------------------

#[test]
fn oversized_service_result_is_data_limit_exceeded_naming_the_service_and_catchable() {
    let mut w = World::start(
        &machine(
            LAMBDA,
            r#""Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],"#,
        ),
        "{}",
    );
    let big = "x".repeat(ironstep_core::PAYLOAD_LIMIT);
    w.succeed("T", json!({ "Payload": big }));
    let cause = "The state/task 'lambda' returned a result with a size exceeding the maximum number of bytes service limit.";
    assert_eq!(
        w.output(),
        json!({"Error": "States.DataLimitExceeded", "Cause": cause})
    );
    assert_eq!(
        w.details("TaskFailed"),
        json!({"resourceType": "lambda", "resource": "invoke", "error": "States.DataLimitExceeded", "cause": cause})
    );
}

#[test]
fn oversized_legacy_lambda_result_names_the_function_arn() {
    let mut w = World::start(
        &machine(
            LEGACY_LAMBDA,
            r#""Catch": [{"ErrorEquals": ["States.DataLimitExceeded"], "Next": "Caught"}],"#,
        ),
        "{}",
    );
    // Multi-byte characters count by their UTF-8 size.
    let big = "é".repeat(ironstep_core::PAYLOAD_LIMIT / 2);
    w.succeed("T", Value::String(big));
    assert_eq!(
        w.output()["Cause"],
        format!(
            "The state/task '{LEGACY_LAMBDA}' returned a result with a size exceeding the maximum number of bytes service limit."
        )
    );
    assert_eq!(w.types()[4], "LambdaFunctionFailed");
}

// ---- stop ----------------------------------------------------------------------------------

#[test]
fn stop_while_a_task_runs_aborts_and_cancels_the_task_and_its_timers() {
    let mut w = World::start(
        &machine(CALLBACK, r#""TimeoutSeconds": 50, "HeartbeatSeconds": 10,"#),
        "{}",
    );
    let task_id = w.task("T").task_id;
    w.stop(Some("Stopped"), Some("by hand"));
    assert_eq!(
        w.outcome(),
        Some(&Outcome::Aborted {
            error: Some("Stopped".into()),
            cause: Some("by hand".into())
        })
    );
    assert_eq!(w.cancelled_tasks, vec![task_id]);
    assert!(
        w.timers.is_empty(),
        "every timer is cancelled: {:?}",
        w.timers
    );
    let last = w.history.last().unwrap();
    assert_eq!(last.kind.type_name(), "ExecutionAborted");
    assert_eq!(last.previous_event_id, 0);
    assert_eq!(
        w.details("ExecutionAborted"),
        json!({"error": "Stopped", "cause": "by hand"})
    );
    // The late answer changes nothing.
    w.input(Input::TaskSucceeded {
        task_id,
        output: json!(1),
    });
    assert_eq!(w.types().last().unwrap(), "ExecutionAborted");
}

#[test]
fn stop_without_error_or_cause_records_empty_details() {
    let mut w = World::start(&machine(LAMBDA, ""), "{}");
    w.stop(None, None);
    assert_eq!(w.details("ExecutionAborted"), json!({}));
    assert!(!w.types().contains(&"TaskStateAborted".to_string()));
}

#[test]
fn task_events_carry_the_virtual_time_of_their_input() {
    let mut w = World::start(&machine(LAMBDA, ""), "{}");
    w.advance(2500);
    w.succeed("T", json!(1));
    let ts: Vec<i64> = w.history.iter().map(|e| e.timestamp - T0).collect();
    assert_eq!(ts, [0, 0, 0, 0, 2500, 2500, 2500, 2500, 2500]);
}

#[test]
fn credentials_role_is_recorded_on_task_scheduled() {
    let w = World::start(
        &machine(LAMBDA, r#""Credentials": {"RoleArn.$": "$.role"},"#),
        r#"{"role": "arn:aws:iam::111111111111:role/other"}"#,
    );
    assert_eq!(
        w.details("TaskScheduled")["taskCredentials"],
        json!({"roleArn": "arn:aws:iam::111111111111:role/other"})
    );
}

#[test]
fn a_heartbeat_for_a_task_without_heartbeat_seconds_changes_nothing() {
    let mut w = World::start(&machine(CALLBACK, ""), "{}");
    let task_id = w.task("T").task_id;
    w.input(Input::Heartbeat { task_id });
    assert!(w.timers.is_empty());
    assert_eq!(w.history.len(), 4);
    w.succeed("T", json!(1));
    assert_eq!(w.output(), json!(1));
}
