//! Execution-level behaviour: the state machine's TimeoutSeconds, StopExecution, the payload
//! and history limits, redrive, and snapshot/restore equivalence.

mod harness;

use harness::{LAMBDA, Setup, T0, World};
use ironstep_core::{
    HISTORY_LIMIT, Input, Options, Outcome, PAYLOAD_LIMIT, TaskRequest, TimerKind,
};
use serde_json::{Value, json};

// ---- TimeoutSeconds ------------------------------------------------------------------------

#[test]
fn execution_timeout_seconds_times_out_with_states_timeout() {
    let mut w = World::start(
        r#"{"TimeoutSeconds": 10, "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 100, "End": true}}}"#,
        "{}",
    );
    assert!(
        w.started_timers
            .contains(&(1, T0 + 10_000, TimerKind::ExecutionTimeout))
    );
    w.fire_next_timer();
    assert_eq!(
        w.outcome(),
        Some(&Outcome::TimedOut {
            error: Some("States.Timeout".into()),
            cause: None
        })
    );
    assert!(w.timers.is_empty(), "the Wait timer is cancelled");
    insta::assert_snapshot!(w.render());
}

#[test]
fn execution_timeout_cancels_running_tasks() {
    let mut w = World::start(
        &format!(
            r#"{{"TimeoutSeconds": 5, "StartAt": "T", "States": {{"T": {{"Type": "Task", "Resource": "{LAMBDA}", "TimeoutSeconds": 60, "End": true}}}}}}"#
        ),
        "{}",
    );
    let id = w.task("T").task_id;
    w.fire_timer_of(TimerKind::ExecutionTimeout);
    assert_eq!(w.cancelled_tasks, vec![id]);
    assert!(w.timers.is_empty());
    assert_eq!(w.types().last().unwrap(), "ExecutionTimedOut");
}

#[test]
fn execution_timer_is_cancelled_when_the_execution_ends_first() {
    let w = World::start(
        r#"{"TimeoutSeconds": 10, "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#,
        "{}",
    );
    assert_eq!(w.output(), json!({}));
    assert!(w.timers.is_empty());
    assert_eq!(w.cancelled_timers, vec![1]);
}

// ---- StopExecution -------------------------------------------------------------------------

#[test]
fn stop_while_waiting_cancels_the_wait_timer_and_records_only_execution_aborted() {
    let mut w = World::start(
        r#"{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 100, "End": true}}}"#,
        "{}",
    );
    w.advance(1000);
    w.stop(Some("E"), None);
    assert!(w.timers.is_empty());
    insta::assert_snapshot!(w.render());
    // The timer firing later is stale.
    w.input(Input::TimerFired { timer_id: 1 });
    assert_eq!(w.stale_steps, 1);
}

#[test]
fn stop_inside_parallel_with_pending_work_cancels_everything() {
    let mut w = World::start(
        &format!(
            r#"{{"StartAt": "Par", "States": {{"Par": {{"Type": "Parallel", "End": true, "Branches": [
                {{"StartAt": "W", "States": {{"W": {{"Type": "Wait", "Seconds": 5, "End": true}}}}}},
                {{"StartAt": "T", "States": {{"T": {{"Type": "Task", "Resource": "{LAMBDA}", "HeartbeatSeconds": 9, "End": true}}}}}}]}}}}}}"#
        ),
        "{}",
    );
    let id = w.task("T").task_id;
    w.stop(None, None);
    assert!(w.timers.is_empty());
    assert_eq!(w.cancelled_tasks, vec![id]);
    assert!(matches!(w.outcome(), Some(Outcome::Aborted { .. })));
}

// ---- payload limit -------------------------------------------------------------------------

fn big(n: usize) -> String {
    "x".repeat(n)
}

#[test]
fn state_output_over_the_payload_limit_is_data_limit_exceeded_naming_the_state() {
    let input = json!({ "s": big(PAYLOAD_LIMIT / 2) }).to_string();
    let w = World::start(
        r#"{"StartAt": "Double", "States": {"Double": {"Type": "Pass",
            "Parameters": {"a.$": "$.s", "b.$": "$.s"}, "End": true}}}"#,
        &input,
    );
    assert_eq!(
        w.failure(),
        (
            Some("States.DataLimitExceeded".into()),
            Some("The state/task 'Double' returned a result with a size exceeding the maximum number of bytes service limit.".into())
        )
    );
    assert_eq!(
        w.types(),
        ["ExecutionStarted", "PassStateEntered", "ExecutionFailed"]
    );
}

#[test]
fn output_of_exactly_the_payload_limit_is_allowed() {
    // {"a":"xxx…"} is 8 bytes of framing.
    let input = json!({ "s": big(PAYLOAD_LIMIT - 8) }).to_string();
    let w = World::start(
        r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"a.$": "$.s"}, "End": true}}}"#,
        &input,
    );
    let out = w.output();
    assert_eq!(out.to_string().len(), PAYLOAD_LIMIT);
}

#[test]
fn task_input_over_the_payload_limit_is_data_limit_exceeded_before_scheduling() {
    let input = json!({ "s": big(PAYLOAD_LIMIT / 2) }).to_string();
    let w = World::start(
        &format!(
            r#"{{"StartAt": "T", "States": {{"T": {{"Type": "Task", "Resource": "{LAMBDA}",
                "Parameters": {{"a.$": "$.s", "b.$": "$.s"}}, "End": true}}}}}}"#
        ),
        &input,
    );
    assert_eq!(w.error(), "States.DataLimitExceeded");
    assert_eq!(
        w.cause(),
        "The state/task 'T' returned a result with a size exceeding the maximum number of bytes service limit."
    );
    assert!(w.scheduled.is_empty());
}

#[test]
fn oversized_sdk_integration_result_names_the_sdk_service() {
    let mut w = World::start(
        r#"{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
            "Parameters": {"Bucket": "b", "Key": "k"}, "End": true}}}"#,
        "{}",
    );
    w.succeed("T", json!({ "Body": big(PAYLOAD_LIMIT) }));
    assert_eq!(
        w.cause(),
        "The state/task 'aws-sdk:s3' returned a result with a size exceeding the maximum number of bytes service limit."
    );
}

// ---- history limit -------------------------------------------------------------------------

#[test]
fn history_limit_fails_the_execution_with_event_25000() {
    let w = World::start(
        r#"{"StartAt": "Loop", "States": {"Loop": {"Type": "Pass", "Next": "C"},
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.stop", "IsPresent": true, "Next": "End"}], "Default": "Loop"},
            "End": {"Type": "Succeed"}}}"#,
        "{}",
    );
    assert_eq!(
        w.failure(),
        (
            Some("States.Runtime".into()),
            Some("The execution reached the maximum number of history events (25000).".into())
        )
    );
    assert_eq!(w.history.len() as u64, HISTORY_LIMIT);
    let last = w.history.last().unwrap();
    assert_eq!(last.id, HISTORY_LIMIT);
    assert_eq!(last.kind.type_name(), "ExecutionFailed");
    assert_eq!(last.previous_event_id, HISTORY_LIMIT - 1);
    w.check_invariants();
}

#[test]
fn history_limit_hit_across_steps_cancels_pending_work() {
    // Each loop turn waits: the limit is reached in a later call, with a timer pending.
    let mut w = World::start(
        r#"{"StartAt": "P", "States": {
            "P": {"Type": "Pass", "Next": "Par"},
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.stop", "IsPresent": true, "Next": "End"}], "Default": "P"},
            "End": {"Type": "Succeed"},
            "Par": {"Type": "Parallel", "Next": "C", "ResultPath": null, "Branches": [
                {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": true}}},
                {"StartAt": "W2", "States": {"W2": {"Type": "Wait", "Seconds": 2, "End": true}}}]}}}"#,
        "{}",
    );
    w.run_timers();
    assert_eq!(w.error(), "States.Runtime");
    assert_eq!(w.history.len() as u64, HISTORY_LIMIT);
    assert!(
        w.timers.is_empty(),
        "pending timers are cancelled: {:?}",
        w.timers
    );
    w.check_invariants();
}

// ---- redrive -------------------------------------------------------------------------------

const REDRIVE: &str = r#"{"StartAt": "First", "States": {
    "First": {"Type": "Pass", "Assign": {"seen": "yes"}, "Result": {"n": 1}, "Next": "T"},
    "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
          "Parameters": {"n.$": "$.n", "redrives.$": "$$.Execution.RedriveCount", "seen.$": "$seen"}, "End": true}}}"#;

#[test]
fn redrive_reenters_the_failed_state_with_its_input_and_variables() {
    let mut w = World::start(REDRIVE, "{}");
    assert_eq!(
        w.task("T").parameters,
        json!({"n": 1, "redrives": 0, "seen": "yes"})
    );
    assert!(
        !w.exec.redrivable(),
        "a running execution cannot be redriven"
    );
    w.fail("T", "E", "c");
    assert!(w.exec.redrivable());
    w.advance(60_000);
    assert!(w.redrive());
    assert_eq!(w.exec.status(), ironstep_core::Status::Running);
    assert_eq!(
        w.task("T").parameters,
        json!({"n": 1, "redrives": 1, "seen": "yes"})
    );
    w.succeed("T", json!("ok"));
    assert_eq!(w.output(), json!("ok"));
    assert!(
        !w.exec.redrivable(),
        "a succeeded execution cannot be redriven"
    );
    assert!(!w.redrive());
    w.check_invariants();
    insta::assert_snapshot!(w.render());
}

#[test]
fn redrive_of_an_aborted_execution_resumes_the_waiting_state() {
    let mut w = World::start(
        r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"a": 1}, "Next": "W"},
            "W": {"Type": "Wait", "Seconds": 5, "Next": "Q"}, "Q": {"Type": "Pass", "End": true}}}"#,
        "{}",
    );
    w.stop(None, None);
    assert!(w.exec.redrivable());
    assert!(w.redrive());
    let entered: Vec<String> = w
        .events_of("WaitStateEntered")
        .iter()
        .map(|e| {
            e["stateEnteredEventDetails"]["input"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(entered, ["{\"a\":1}", "{\"a\":1}"]);
    w.run_timers();
    assert_eq!(w.output(), json!({"a": 1}));
}

#[test]
fn redrive_of_a_timed_out_execution_is_allowed() {
    let mut w = World::start(
        r#"{"TimeoutSeconds": 1, "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 5, "End": true}}}"#,
        "{}",
    );
    w.fire_next_timer();
    assert!(matches!(w.outcome(), Some(Outcome::TimedOut { .. })));
    assert!(w.redrive());
    assert_eq!(w.details("ExecutionRedriven"), json!({"redriveCount": 1}));
}

#[test]
fn redrive_of_a_fail_state_fails_again() {
    let mut w = World::start(
        r#"{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}}"#,
        "{}",
    );
    assert!(w.redrive());
    assert_eq!(w.error(), "E");
    assert_eq!(
        w.types(),
        [
            "ExecutionStarted",
            "FailStateEntered",
            "ExecutionFailed",
            "ExecutionRedriven",
            "FailStateEntered",
            "ExecutionFailed"
        ]
    );
}

// ---- Express (no history) ------------------------------------------------------------------

#[test]
fn without_history_the_outcome_is_the_same_and_no_event_is_recorded() {
    let def = format!(
        r#"{{"StartAt": "T", "States": {{"T": {{"Type": "Task", "Resource": "{LAMBDA}",
            "Retry": [{{"ErrorEquals": ["States.ALL"]}}], "Next": "M"}},
            "M": {{"Type": "Map", "End": true, "ItemsPath": "$.items",
                  "ItemProcessor": {{"StartAt": "I", "States": {{"I": {{"Type": "Pass", "End": true}}}}}}}}}}}}"#
    );
    let answer = |t: &TaskRequest| {
        if t.attempt == 0 {
            Err(("E".to_string(), "c".to_string()))
        } else {
            Ok(json!({"items": [1, 2]}))
        }
    };
    let mut quiet = World::start_with(
        &def,
        "{}",
        Setup {
            options: Options {
                record_history: false,
            },
            ..Default::default()
        },
    );
    quiet.drive(answer);
    let mut loud = World::start(&def, "{}");
    loud.drive(answer);
    assert!(quiet.history.is_empty());
    assert_eq!(quiet.output(), loud.output());
    assert_eq!(quiet.output(), json!([1, 2]));
}

// ---- snapshot round trip -------------------------------------------------------------------

/// A machine that exercises every kind of waiting: tasks with retries, timeouts and
/// heartbeats, Wait timers, Parallel and Map frames, Choice and variables.
fn busy_machine() -> String {
    format!(
        r#"{{"StartAt": "Init", "States": {{
        "Init": {{"Type": "Pass", "Assign": {{"count": 0}}, "Next": "Par"}},
        "Par": {{"Type": "Parallel", "Next": "Decide", "ResultSelector": {{"a.$": "$[0]", "b.$": "$[1]"}},
          "Retry": [{{"ErrorEquals": ["Branch"], "MaxAttempts": 1}}],
          "Branches": [
            {{"StartAt": "Call", "States": {{"Call": {{"Type": "Task", "Resource": "{LAMBDA}", "TimeoutSeconds": 30,
                "Retry": [{{"ErrorEquals": ["Flaky"], "IntervalSeconds": 2, "MaxAttempts": 3, "JitterStrategy": "FULL"}}], "End": true}}}}}},
            {{"StartAt": "Nap", "States": {{"Nap": {{"Type": "Wait", "Seconds": 3, "Next": "Each"}},
              "Each": {{"Type": "Map", "MaxConcurrency": 2, "ItemsPath": "$.items", "End": true,
                "ItemSelector": {{"i.$": "$$.Map.Item.Index"}},
                "ItemProcessor": {{"StartAt": "Work", "States": {{"Work": {{"Type": "Task", "Resource": "{LAMBDA}",
                    "HeartbeatSeconds": 50, "TimeoutSeconds": 100,
                    "Catch": [{{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Fixed"}}], "End": true}},
                  "Fixed": {{"Type": "Pass", "End": true}}}}}}}}}}}}]}},
        "Decide": {{"Type": "Choice", "Choices": [{{"Variable": "$.a.ok", "BooleanEquals": true, "Next": "Done"}}], "Default": "Wait2"}},
        "Wait2": {{"Type": "Wait", "Seconds": 1, "Next": "Done"}},
        "Done": {{"Type": "Succeed"}}}}}}"#
    )
}

/// Scripted task answers: deterministic in the task's inputs and attempt.
fn script(t: &TaskRequest) -> Result<Value, (String, String)> {
    match &*t.state_name {
        "Call" if t.attempt < 2 => Err(("Flaky".into(), format!("attempt {}", t.attempt))),
        "Call" => Ok(json!({"ok": t.attempt.is_multiple_of(2)})),
        "Work" if t.parameters["i"] == json!(1) => Err(("Bad".into(), "item 1".into())),
        _ => Ok(t.parameters.clone()),
    }
}

fn run_busy(roundtrip: bool, seed: u64) -> World {
    let mut w = World::start_with(
        &busy_machine(),
        r#"{"items": [1, 2, 3, 4]}"#,
        Setup {
            seed,
            roundtrip,
            ..Default::default()
        },
    );
    w.drive(script);
    w
}

#[test]
fn snapshot_restore_at_every_step_does_not_change_the_history() {
    for seed in [1, 2, 3] {
        let plain = run_busy(false, seed);
        let restored = run_busy(true, seed);
        assert!(plain.outcome().is_some(), "{}", plain.render());
        assert_eq!(plain.history, restored.history, "seed {seed}");
        assert_eq!(plain.outcome(), restored.outcome());
        assert_eq!(plain.started_timers, restored.started_timers);
        assert_eq!(plain.cancelled_tasks, restored.cancelled_tasks);
        plain.check_invariants();
    }
}

#[test]
fn busy_machine_history() {
    let w = run_busy(true, 1);
    assert_eq!(
        w.output(),
        json!({"a": {"ok": true}, "b": [{"i": 0}, {"i": 1, "err": {"Error": "Bad", "Cause": "item 1"}}, {"i": 2}, {"i": 3}]})
    );
    insta::assert_snapshot!(w.render());
}

#[test]
fn restoring_a_snapshot_taken_mid_run_and_replaying_the_same_inputs_gives_the_same_history() {
    // Record the inputs of an uninterrupted run, then for every prefix: run the prefix,
    // serialize, deserialize into a fresh world, replay the rest, and compare.
    let reference = run_busy(false, 5);
    let mut inputs: Vec<(i64, Input)> = Vec::new();
    {
        let mut w = World::start_with(
            &busy_machine(),
            r#"{"items": [1, 2, 3, 4]}"#,
            Setup {
                seed: 5,
                roundtrip: false,
                ..Default::default()
            },
        );
        while w.outcome().is_none() {
            let input = if let Some(t) = w.tasks.first().cloned() {
                match script(&t) {
                    Ok(output) => Input::TaskSucceeded {
                        task_id: t.task_id,
                        output,
                    },
                    Err((e, c)) => Input::TaskFailed {
                        task_id: t.task_id,
                        error: Some(e),
                        cause: Some(c),
                    },
                }
            } else {
                let Some(((due, id), _)) = w.timers.pop_first() else {
                    break;
                };
                w.now = w.now.max(due);
                Input::TimerFired { timer_id: id }
            };
            inputs.push((w.now, input.clone()));
            w.input(input);
        }
        assert_eq!(w.history, reference.history);
    }
    for cut in 0..=inputs.len() {
        let def = harness::compile(&busy_machine());
        let mut entropy = ironstep_core::SeededEntropy(5);
        let (mut exec, step) = ironstep_core::Execution::start(
            &def,
            harness::info(r#"{"items": [1, 2, 3, 4]}"#),
            Options::default(),
            T0,
            &mut entropy,
        );
        let mut history = step.events;
        for (now, input) in &inputs[..cut] {
            history.extend(exec.handle(&def, *now, input.clone(), &mut entropy).events);
        }
        let bytes = serde_json::to_vec(&exec).unwrap();
        let mut exec: ironstep_core::Execution = serde_json::from_slice(&bytes).unwrap();
        for (now, input) in &inputs[cut..] {
            history.extend(exec.handle(&def, *now, input.clone(), &mut entropy).events);
        }
        assert_eq!(history, reference.history, "cut after {cut} inputs");
        assert_eq!(exec.outcome(), reference.outcome());
    }
}

// RedriveExecution API reference: "For workflows that include an Inline Map or Parallel state,
// RedriveExecution reschedules and redrives only the iterations and branches that failed or
// aborted."

#[test]
fn redrive_of_a_parallel_reruns_only_the_failed_and_aborted_branches() {
    let def = format!(
        r#"{{"StartAt": "Par", "States": {{"Par": {{"Type": "Parallel", "End": true, "Branches": [
            {{"StartAt": "A", "States": {{"A": {{"Type": "Task", "Resource": "{LAMBDA}", "End": true}}}}}},
            {{"StartAt": "B", "States": {{"B": {{"Type": "Task", "Resource": "{LAMBDA}", "End": true}}}}}},
            {{"StartAt": "C", "States": {{"C": {{"Type": "Task", "Resource": "{LAMBDA}", "End": true}}}}}}]}}}}}}"#
    );
    let mut w = World::start(&def, "{}");
    w.succeed("A", json!("a"));
    w.fail("B", "Boom", "b failed");
    assert_eq!(w.error(), "Boom");
    assert!(w.redrive());
    assert!(
        w.tasks.iter().all(|t| &*t.state_name != "A"),
        "the succeeded branch is not run again: {:?}",
        w.tasks
    );
    w.succeed("B", json!("b"));
    w.succeed("C", json!("c"));
    assert_eq!(w.output(), json!(["a", "b", "c"]));
    assert_eq!(
        w.types().iter().filter(|t| *t == "TaskScheduled").count(),
        5,
        "A once, B and C twice"
    );
    w.check_invariants();
}

#[test]
fn redrive_of_a_map_reruns_only_the_iterations_that_did_not_succeed() {
    let def = format!(
        r#"{{"StartAt": "M", "States": {{"M": {{"Type": "Map", "End": true, "MaxConcurrency": 1,
            "ItemProcessor": {{"StartAt": "T", "States": {{"T": {{"Type": "Task", "Resource": "{LAMBDA}",
                "Parameters": {{"item.$": "$"}}, "End": true}}}}}}}}}}}}"#
    );
    let mut w = World::start(&def, "[1, 2, 3]");
    w.succeed("T", json!("r1"));
    w.fail("T", "Boom", "second item failed");
    assert_eq!(w.error(), "Boom");
    assert!(w.redrive());
    assert_eq!(w.task("T").parameters, json!({"item": 2}), "item 1 is kept");
    w.succeed("T", json!("r2"));
    assert_eq!(w.task("T").parameters, json!({"item": 3}));
    w.succeed("T", json!("r3"));
    assert_eq!(w.output(), json!(["r1", "r2", "r3"]));
    w.check_invariants();
}

#[test]
fn a_redriven_parallel_that_fails_again_retries_all_branches() {
    // The kept results serve the first attempt after the redrive only; a Retry re-runs the
    // whole state as it always does.
    let def = format!(
        r#"{{"StartAt": "Par", "States": {{"Par": {{"Type": "Parallel", "End": true,
            "Retry": [{{"ErrorEquals": ["Again"], "IntervalSeconds": 1, "MaxAttempts": 1}}], "Branches": [
            {{"StartAt": "A", "States": {{"A": {{"Type": "Task", "Resource": "{LAMBDA}", "End": true}}}}}},
            {{"StartAt": "B", "States": {{"B": {{"Type": "Task", "Resource": "{LAMBDA}", "End": true}}}}}}]}}}}}}"#
    );
    let mut w = World::start(&def, "{}");
    w.succeed("A", json!("a"));
    w.fail("B", "Boom", "x");
    assert!(w.redrive());
    w.fail("B", "Again", "y");
    w.run_timers();
    w.succeed("A", json!("a2"));
    w.succeed("B", json!("b2"));
    assert_eq!(w.output(), json!(["a2", "b2"]));
}
