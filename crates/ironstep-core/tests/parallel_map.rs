//! Parallel and inline Map: branch and iteration events, ordering, failure propagation and
//! sibling abort, concurrency, tolerated failures, Retry/Catch on the whole state.

mod harness;

use harness::{LAMBDA, World};
use ironstep_core::TimerKind;
use serde_json::json;

fn types_of(w: &World, ty: &str) -> usize {
    w.types().iter().filter(|t| *t == ty).count()
}

// ---- Parallel ------------------------------------------------------------------------------

#[test]
fn parallel_branches_all_enter_before_any_exits_and_results_keep_branch_order() {
    let w = World::start(
        r#"{"StartAt": "Par", "States": {"Par": {"Type": "Parallel", "End": true, "Branches": [
            {"StartAt": "B0", "States": {"B0": {"Type": "Pass", "Result": {"branch": 0}, "End": true}}},
            {"StartAt": "B1", "States": {"B1": {"Type": "Pass", "Result": {"branch": 1}, "Next": "B1b"},
                                         "B1b": {"Type": "Pass", "End": true}}},
            {"StartAt": "B2", "States": {"B2": {"Type": "Pass", "Result": {"branch": 2}, "End": true}}}]}}}"#,
        "{}",
    );
    assert_eq!(
        w.output(),
        json!([{"branch": 0}, {"branch": 1}, {"branch": 2}])
    );
    w.check_invariants();
    insta::assert_snapshot!(w.render());
}

#[test]
fn parallel_result_order_is_branch_order_not_completion_order() {
    let def = format!(
        r#"{{"StartAt": "Par", "States": {{"Par": {{"Type": "Parallel", "End": true, "Branches": [
            {{"StartAt": "A", "States": {{"A": {{"Type": "Task", "Resource": "{LAMBDA}", "End": true}}}}}},
            {{"StartAt": "B", "States": {{"B": {{"Type": "Task", "Resource": "{LAMBDA}", "End": true}}}}}}]}}}}}}"#
    );
    let mut w = World::start(&def, "{}");
    w.succeed("B", json!("b"));
    w.succeed("A", json!("a"));
    assert_eq!(w.output(), json!(["a", "b"]));
    // ParallelStateSucceeded follows the branch that finished last.
    let succeeded = w
        .history
        .iter()
        .find(|e| e.kind.type_name() == "ParallelStateSucceeded")
        .unwrap();
    let last_branch_event = w
        .history
        .iter()
        .rfind(|e| e.kind.type_name() == "TaskStateExited")
        .unwrap();
    assert_eq!(succeeded.previous_event_id, last_branch_event.id);
}

#[test]
fn parallel_branch_failure_aborts_running_siblings() {
    let def = format!(
        r#"{{"StartAt": "Par", "States": {{"Par": {{"Type": "Parallel", "End": true, "Branches": [
            {{"StartAt": "T", "States": {{"T": {{"Type": "Task", "Resource": "{LAMBDA}", "TimeoutSeconds": 30, "End": true}}}}}},
            {{"StartAt": "W", "States": {{"W": {{"Type": "Wait", "Seconds": 60, "End": true}}}}}},
            {{"StartAt": "F", "States": {{"F": {{"Type": "Task", "Resource": "{LAMBDA}", "End": true}}}}}}]}}}}}}"#
    );
    let mut w = World::start(&def, "{}");
    let t = w.task("T").task_id;
    w.fail("F", "BranchError", "from F");
    assert_eq!(
        w.failure(),
        (Some("BranchError".into()), Some("from F".into())),
        "the branch's own error propagates"
    );
    assert_eq!(w.cancelled_tasks, vec![t]);
    assert!(
        w.timers.is_empty(),
        "the Wait and timeout timers are cancelled"
    );
    let failed_id = w
        .history
        .iter()
        .find(|e| e.kind.type_name() == "TaskFailed")
        .unwrap()
        .id;
    for ty in [
        "TaskStateAborted",
        "WaitStateAborted",
        "ParallelStateFailed",
    ] {
        let e = w.history.iter().find(|e| e.kind.type_name() == ty).unwrap();
        assert_eq!(
            e.previous_event_id, failed_id,
            "{ty} points to the failing event"
        );
    }
    w.check_invariants();
    insta::assert_snapshot!(w.render());
}

#[test]
fn parallel_failure_caught_exits_the_state_to_the_catcher() {
    let w = World::start(
        r#"{"StartAt": "Par", "States": {"Par": {"Type": "Parallel", "Next": "Done",
            "Catch": [{"ErrorEquals": ["Boom"], "ResultPath": "$.err", "Next": "Caught"}],
            "Branches": [{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom", "Cause": "c"}}}]},
            "Done": {"Type": "Pass", "End": true},
            "Caught": {"Type": "Pass", "End": true}}}"#,
        r#"{"x": 1}"#,
    );
    assert_eq!(
        w.output(),
        json!({"x": 1, "err": {"Error": "Boom", "Cause": "c"}})
    );
    insta::assert_snapshot!(w.render());
}

#[test]
fn parallel_retry_restarts_every_branch() {
    let def = format!(
        r#"{{"StartAt": "Par", "States": {{"Par": {{"Type": "Parallel", "End": true,
            "Retry": [{{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2, "MaxAttempts": 1}}],
            "Parameters": {{"try.$": "$$.State.RetryCount"}},
            "Branches": [
              {{"StartAt": "Ok", "States": {{"Ok": {{"Type": "Pass", "End": true}}}}}},
              {{"StartAt": "T", "States": {{"T": {{"Type": "Task", "Resource": "{LAMBDA}", "End": true}}}}}}]}}}}}}"#
    );
    let mut w = World::start(&def, "{}");
    w.fail("T", "E", "c");
    assert_eq!(
        types_of(&w, "ParallelStateFailed"),
        0,
        "a retried Parallel records no failure"
    );
    w.fire_timer_of(TimerKind::Retry);
    assert_eq!(w.task("T").parameters, json!({"try": 1}));
    w.succeed("T", json!("t"));
    assert_eq!(w.output(), json!([{"try": 1}, "t"]));
    assert_eq!(types_of(&w, "ParallelStateStarted"), 2);
    assert_eq!(types_of(&w, "ParallelStateEntered"), 1);
    w.check_invariants();
    insta::assert_snapshot!(w.render());
}

#[test]
fn parallel_retry_exhausted_records_parallel_state_failed() {
    let w = World::start(
        r#"{"StartAt": "Par", "States": {"Par": {"Type": "Parallel", "End": true,
            "Retry": [{"ErrorEquals": ["Boom"], "MaxAttempts": 1}],
            "Branches": [{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom"}}}]}}}"#,
        "{}",
    );
    let mut w = w;
    w.run_timers();
    assert_eq!(w.error(), "Boom");
    assert_eq!(types_of(&w, "ParallelStateStarted"), 2);
    assert_eq!(types_of(&w, "ParallelStateFailed"), 1);
}

#[test]
fn nested_parallel_and_map_in_parallel() {
    let w = World::start(
        r#"{"StartAt": "Outer", "States": {"Outer": {"Type": "Parallel", "End": true, "Branches": [
            {"StartAt": "Inner", "States": {"Inner": {"Type": "Parallel", "End": true, "Branches": [
                {"StartAt": "X", "States": {"X": {"Type": "Pass", "Result": "x", "End": true}}}]}}},
            {"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items", "End": true,
                "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}}}}]}}}"#,
        r#"{"items": [1, 2]}"#,
    );
    assert_eq!(w.output(), json!([["x"], [1, 2]]));
    w.check_invariants();
}

// ---- Map -----------------------------------------------------------------------------------

#[test]
fn map_of_zero_items_succeeds_with_an_empty_array() {
    let w = World::start(
        r#"{"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
            "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}}}}"#,
        "[]",
    );
    assert_eq!(w.output(), json!([]));
    insta::assert_snapshot!(w.render());
}

#[test]
fn map_iterations_start_together_and_point_to_map_state_started() {
    let w = World::start(
        r#"{"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
            "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}}}}"#,
        r#"["a", "b", "c"]"#,
    );
    assert_eq!(w.output(), json!(["a", "b", "c"]));
    w.check_invariants();
    insta::assert_snapshot!(w.render());
}

#[test]
fn map_max_concurrency_one_runs_iterations_in_sequence() {
    let w = World::start(
        r#"{"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 1, "End": true,
            "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}}}}"#,
        r#"[1, 2]"#,
    );
    assert_eq!(w.output(), json!([1, 2]));
    // The next iteration starts from the last state event of the previous one.
    insta::assert_snapshot!(w.render());
}

fn map_with_tasks(concurrency: &str, items: &str) -> World {
    let def = format!(
        r#"{{"StartAt": "M", "States": {{"M": {{"Type": "Map", {concurrency} "End": true,
            "ItemProcessor": {{"StartAt": "T", "States": {{"T": {{"Type": "Task", "Resource": "{LAMBDA}", "End": true}}}}}}}}}}}}"#
    );
    World::start(&def, items)
}

#[test]
fn map_max_concurrency_limits_running_iterations() {
    let mut w = map_with_tasks(r#""MaxConcurrency": 2,"#, "[1, 2, 3, 4, 5]");
    let mut most = 0;
    // Answer the newest task first: a freed slot is refilled with the next item.
    while let Some(t) = w.tasks.last().cloned() {
        most = most.max(w.tasks.len());
        let v = t.parameters.as_i64().unwrap();
        w.input(ironstep_core::Input::TaskSucceeded {
            task_id: t.task_id,
            output: json!(v * 10),
        });
    }
    assert_eq!(most, 2);
    assert_eq!(w.scheduled.len(), 5);
    assert_eq!(
        w.output(),
        json!([10, 20, 30, 40, 50]),
        "results in item order"
    );
    w.check_invariants();
}

#[test]
fn map_max_concurrency_zero_is_unlimited() {
    let w = map_with_tasks(r#""MaxConcurrency": 0,"#, "[1, 2, 3, 4, 5]");
    assert_eq!(w.tasks.len(), 5);
}

#[test]
fn map_max_concurrency_path_reads_the_input() {
    let w = map_with_tasks(
        r#""ItemsPath": "$.v", "MaxConcurrencyPath": "$.mc","#,
        r#"{"v": [1, 2, 3], "mc": 1}"#,
    );
    assert_eq!(w.tasks.len(), 1);
    let w = map_with_tasks(
        r#""ItemsPath": "$.v", "MaxConcurrencyPath": "$.mc","#,
        r#"{"v": [1, 2, 3], "mc": 0}"#,
    );
    assert_eq!(w.tasks.len(), 3);
}

#[test]
fn map_max_concurrency_path_not_an_integer_is_states_runtime() {
    let w = map_with_tasks(
        r#""ItemsPath": "$.v", "MaxConcurrencyPath": "$.mc","#,
        r#"{"v": [1], "mc": "NoNumber"}"#,
    );
    assert_eq!(w.error(), "States.Runtime");
    assert_eq!(
        w.cause(),
        "An error occurred while executing the state 'M' (entered at the event id #2). The MaxConcurrencyPath field refers to value \"NoNumber\" which is not a valid integer: $.mc"
    );
    assert_eq!(
        w.types(),
        ["ExecutionStarted", "MapStateEntered", "ExecutionFailed"]
    );
}

#[test]
fn map_items_path_must_point_to_an_array() {
    for (items_path, input, detail) in [
        (
            "",
            r#"{"a": 1}"#,
            "Reference path \"$\" must point to array.",
        ),
        (
            r#""ItemsPath": "$.a","#,
            r#"{"a": "s"}"#,
            "Reference path \"$.a\" must point to array.",
        ),
        (
            r#""ItemsPath": "$.a","#,
            r#"{"a": {"k": 1}}"#,
            "Reference path \"$.a\" must point to array.",
        ),
        (
            r#""ItemsPath": "$.b","#,
            r#"{"a": 1}"#,
            "Invalid path '$.b' : No results for path: $['b']",
        ),
    ] {
        let w = map_with_tasks(items_path, input);
        assert_eq!(w.error(), "States.Runtime", "{input}");
        assert_eq!(
            w.cause(),
            format!(
                "An error occurred while executing the state 'M' (entered at the event id #2). {detail}"
            )
        );
    }
}

#[test]
fn map_iteration_failure_aborts_running_iterations() {
    let mut w = map_with_tasks("", "[0, 1, 2]");
    let others: Vec<u64> = w.tasks.iter().skip(1).map(|t| t.task_id).collect();
    let first = w.tasks[0].task_id;
    w.input(ironstep_core::Input::TaskFailed {
        task_id: first,
        error: Some("E".into()),
        cause: Some("c".into()),
    });
    assert_eq!(w.failure(), (Some("E".into()), Some("c".into())));
    assert_eq!(w.cancelled_tasks, others);
    let failing = w
        .history
        .iter()
        .find(|e| e.kind.type_name() == "TaskFailed")
        .unwrap()
        .id;
    for e in &w.history {
        let ty = e.kind.type_name();
        if [
            "MapIterationFailed",
            "TaskStateAborted",
            "MapIterationAborted",
            "MapStateFailed",
        ]
        .contains(&ty.as_str())
        {
            assert_eq!(e.previous_event_id, failing, "{ty}");
        }
    }
    w.check_invariants();
    insta::assert_snapshot!(w.render());
}

#[test]
fn map_tolerated_failure_count_lets_the_map_succeed() {
    let mut w = map_with_tasks(r#""ToleratedFailureCount": 1,"#, "[0, 1, 2]");
    w.drive(|t| {
        if t.parameters == json!(1) {
            Err(("E".into(), "c".into()))
        } else {
            Ok(t.parameters.clone())
        }
    });
    let out = w.output();
    assert_eq!((out[0].clone(), out[2].clone()), (json!(0), json!(2)));
    assert_eq!(types_of(&w, "MapIterationFailed"), 1);
    assert_eq!(types_of(&w, "MapStateSucceeded"), 1);
}

#[test]
fn map_exceeding_tolerated_failures_fails_with_exceed_tolerated_failure_threshold() {
    for tolerance in [
        r#""ToleratedFailureCount": 1,"#,
        r#""ToleratedFailurePercentage": 50,"#,
    ] {
        let mut w = map_with_tasks(
            &format!("{tolerance} \"MaxConcurrency\": 1,"),
            "[0, 1, 2, 3]",
        );
        w.drive(|t| {
            if t.parameters.as_i64().unwrap() < 3 {
                Err(("E".into(), "c".into()))
            } else {
                Ok(json!(1))
            }
        });
        assert_eq!(
            w.failure(),
            (
                Some("States.ExceedToleratedFailureThreshold".into()),
                Some("The specified tolerated failure threshold was exceeded".into())
            ),
            "{tolerance}"
        );
    }
}

#[test]
fn map_tolerated_failure_percentage_allows_up_to_the_share() {
    let mut w = map_with_tasks(r#""ToleratedFailurePercentage": 50,"#, "[0, 1, 2, 3]");
    w.drive(|t| {
        if t.parameters.as_i64().unwrap() < 2 {
            Err(("E".into(), "c".into()))
        } else {
            Ok(json!(1))
        }
    });
    assert_eq!(types_of(&w, "MapStateSucceeded"), 1, "{}", w.render());
}

#[test]
fn map_tolerance_path_values_are_validated() {
    let run = |field: &str, v: serde_json::Value| {
        let w = map_with_tasks(
            &format!(r#""ItemsPath": "$.items", "{field}": "$.t","#),
            &json!({"items": [1], "t": v}).to_string(),
        );
        w.cause()
    };
    let p = "An error occurred while executing the state 'M' (entered at the event id #2). ";
    assert_eq!(
        run("ToleratedFailureCountPath", json!(-1)),
        format!("{p}ToleratedFailureCount cannot be negative.")
    );
    assert_eq!(
        run("ToleratedFailureCountPath", json!("NoNumber")),
        format!(
            "{p}The ToleratedFailureCountPath field refers to value \"NoNumber\" which is not a valid integer: $.t"
        )
    );
    for bad in [json!(-1), json!(-1.1), json!(100.1)] {
        assert_eq!(
            run("ToleratedFailurePercentagePath", bad),
            format!("{p}ToleratedFailurePercentage must be between 0 and 100.")
        );
    }
    assert_eq!(
        run("ToleratedFailurePercentagePath", json!("NoNumber")),
        format!(
            "{p}The ToleratedFailurePercentagePath field refers to value \"NoNumber\" which is not a valid float: $.t"
        )
    );
}

#[test]
fn map_retry_restarts_the_whole_state_with_a_new_map_state_started() {
    let w = World::start(
        r#"{"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 1, "End": true,
            "Retry": [{"ErrorEquals": ["ItemError"], "MaxAttempts": 2}],
            "ItemProcessor": {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "ItemError", "Cause": "bad item"}}}}}}"#,
        "[1]",
    );
    let mut w = w;
    w.run_timers();
    assert_eq!(
        w.failure(),
        (Some("ItemError".into()), Some("bad item".into()))
    );
    assert_eq!(types_of(&w, "MapStateStarted"), 3);
    assert_eq!(types_of(&w, "MapStateFailed"), 1);
    w.check_invariants();
    insta::assert_snapshot!(w.render());
}

#[test]
fn map_catch_exits_the_map_to_the_catcher() {
    let w = World::start(
        r#"{"StartAt": "M", "States": {"M": {"Type": "Map", "Next": "Done",
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
            "ItemProcessor": {"StartAt": "F", "States": {"F": {"Type": "Fail"}}}},
            "Done": {"Type": "Pass", "End": true},
            "Caught": {"Type": "Pass", "End": true}}}"#,
        "[1]",
    );
    assert_eq!(w.output(), json!({"Error": null, "Cause": null}));
    let exited = w
        .history
        .iter()
        .find(|e| e.kind.type_name() == "MapStateExited")
        .unwrap();
    let failed = w
        .history
        .iter()
        .find(|e| e.kind.type_name() == "MapStateFailed")
        .unwrap();
    assert_eq!(exited.previous_event_id, failed.id);
}

#[test]
fn map_iteration_variables_and_inputs_are_isolated() {
    let w = World::start(
        r#"{"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
            "ItemProcessor": {"StartAt": "A", "States": {
                "A": {"Type": "Pass", "Assign": {"mine.$": "$"}, "Next": "B"},
                "B": {"Type": "Pass", "Parameters": {"v.$": "$mine"}, "End": true}}}}}}"#,
        r#"["x", "y", "z"]"#,
    );
    assert_eq!(w.output(), json!([{"v": "x"}, {"v": "y"}, {"v": "z"}]));
}

#[test]
fn stop_aborts_a_running_map_and_cancels_its_tasks() {
    let mut w = map_with_tasks("", "[1, 2]");
    let ids: Vec<u64> = w.tasks.iter().map(|t| t.task_id).collect();
    w.stop(None, None);
    assert_eq!(w.cancelled_tasks, ids);
    assert_eq!(w.types().last().unwrap(), "ExecutionAborted");
    assert!(!w.types().contains(&"MapStateAborted".to_string()));
}

#[test]
fn states_runtime_in_a_branch_is_not_caught_by_the_parallel_catcher() {
    let w = World::start(
        r#"{"StartAt": "Par", "States": {"Par": {"Type": "Parallel", "Next": "Done",
            "Retry": [{"ErrorEquals": ["States.ALL"]}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done"}],
            "Branches": [{"StartAt": "Bad", "States": {"Bad": {"Type": "Pass", "InputPath": "$.missing", "End": true}}}]},
            "Done": {"Type": "Pass", "End": true}}}"#,
        "{}",
    );
    assert_eq!(w.error(), "States.Runtime");
    assert!(w.started_timers.is_empty(), "not retried either");
    assert_eq!(types_of(&w, "ParallelStateFailed"), 1);
}
