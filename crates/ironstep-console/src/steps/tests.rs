//! Histories produced by the real engine, in process (memory store, waits scaled to zero).

use std::sync::Arc;

use ironstep_runtime::machines::CreateStateMachine;
use ironstep_runtime::{Engine, EngineConfig, StartRequest, SystemClock};
use ironstep_store::MemoryStore;
use serde_json::{Value, json};

use super::*;

const ROLE: &str = "arn:aws:iam::123456789012:role/test";

async fn engine() -> Engine {
    let config = EngineConfig {
        wait_scale: 0.0,
        ..EngineConfig::default()
    };
    Engine::start(config, Arc::new(MemoryStore::new()), Arc::new(SystemClock))
        .await
        .expect("engine")
}

async fn machine(engine: &Engine, name: &str, def: &Value) -> String {
    engine
        .create_state_machine(CreateStateMachine {
            name: name.into(),
            definition: def.to_string(),
            role_arn: ROLE.into(),
            machine_type: None,
            logging_configuration: None,
            tracing_configuration: None,
            encryption_configuration: None,
            tags: Vec::new(),
            publish: false,
            version_description: None,
        })
        .await
        .expect("create")
        .arn
}

async fn start(engine: &Engine, sm: &str, input: Value) -> String {
    engine
        .start_execution(StartRequest {
            state_machine_arn: sm.into(),
            input: Some(input.to_string()),
            ..StartRequest::default()
        })
        .await
        .expect("start")
        .execution_arn
}

async fn history(engine: &Engine, arn: &str) -> Vec<Value> {
    engine
        .history(arn, None, false, 1000, true)
        .await
        .expect("history")
        .events
}

/// Run to the end and derive.
async fn run(def: &Value, input: Value) -> (Steps, String) {
    let engine = engine().await;
    let sm = machine(&engine, "m", def).await;
    let arn = start(&engine, &sm, input).await;
    let rec = engine.wait_for(&arn).await.expect("wait");
    let events = history(&engine, &arn).await;
    (derive(&events, Some(def), &rec.status), rec.status)
}

fn state<'s>(s: &'s Steps, name: &str) -> &'s StateSummary {
    s.states
        .iter()
        .find(|x| x.name == name)
        .unwrap_or_else(|| panic!("{name} was not visited"))
}

fn visits<'s>(s: &'s Steps, name: &str) -> Vec<&'s Visit> {
    s.visits.iter().filter(|v| v.name == name).collect()
}

fn parallel_and_map() -> Value {
    json!({"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "ResultPath": "$.p", "Next": "M", "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}},
            {"StartAt": "B", "States": {"B": {"Type": "Pass", "Next": "B2"},
                                        "B2": {"Type": "Pass", "End": true}}}
        ]},
        "M": {"Type": "Map", "ItemsPath": "$.items", "Next": "F", "ItemProcessor": {
            "ProcessorConfig": {"Mode": "INLINE"},
            "StartAt": "X", "States": {"X": {"Type": "Pass", "End": true}}}},
        "F": {"Type": "Fail", "Error": "Boom", "Cause": "it had to"}
    }})
}

#[tokio::test]
async fn parallel_branches_and_map_iterations_are_told_apart() {
    let (s, status) = run(&parallel_and_map(), json!({"items": [10, 20, 30]})).await;
    assert_eq!(status, "FAILED");
    assert_eq!(
        s.states.iter().map(|x| x.name.as_str()).collect::<Vec<_>>(),
        ["P", "A", "B", "B2", "M", "X", "F"]
    );
    for name in ["P", "A", "B", "B2", "M", "X"] {
        assert_eq!(state(&s, name).status, StepStatus::Succeeded, "{name}");
    }
    let f = visits(&s, "F")[0];
    assert_eq!(f.status, StepStatus::Failed);
    assert_eq!(f.error.as_deref(), Some("Boom"));
    assert_eq!(f.cause.as_deref(), Some("it had to"));

    let p = visits(&s, "P")[0];
    assert_eq!(
        p.branches
            .iter()
            .map(|b| (b.index, b.status))
            .collect::<Vec<_>>(),
        [(0, StepStatus::Succeeded), (1, StepStatus::Succeeded)]
    );
    let branch = |name: &str| visits(&s, name)[0].path.clone();
    assert_eq!(branch("A")[0].index, 0);
    assert_eq!(branch("B")[0].index, 1);
    assert_eq!(branch("B2")[0].index, 1);
    assert_eq!(branch("B2")[0].kind, SegKind::Branch);
    // ParallelStateExited points into a branch; it still closes P.
    assert!(p.exited_event.is_some());
    assert!(p.output.as_deref().unwrap().contains("\"p\":["));

    let xs = visits(&s, "X");
    assert_eq!(xs.len(), 3);
    let mut seen: Vec<(u64, String)> = xs
        .iter()
        .map(|v| (v.path[0].index, v.input.clone().unwrap()))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [(0, "10".to_string()), (1, "20".into()), (2, "30".into())]
    );
    assert_eq!(xs[0].path[0].state, "M");
    assert_eq!(xs[0].path[0].kind, SegKind::Iteration);
    let m = visits(&s, "M")[0];
    assert_eq!(m.iterations.len(), 3);
    assert!(
        m.iterations
            .iter()
            .all(|i| i.status == StepStatus::Succeeded)
    );
    assert_eq!(m.output.as_deref(), Some("[10,20,30]"));
    // Every event but the execution's own belongs to exactly one visit.
    let owned: usize = s.visits.iter().map(|v| v.events.len()).sum();
    assert_eq!(owned as u64, s.last_event_id - 2);
}

#[tokio::test]
async fn branches_are_found_without_the_definition() {
    let def = parallel_and_map();
    let engine = engine().await;
    let sm = machine(&engine, "m", &def).await;
    let arn = start(&engine, &sm, json!({"items": []})).await;
    let rec = engine.wait_for(&arn).await.unwrap();
    let events = history(&engine, &arn).await;
    let s = derive(&events, None, &rec.status);
    let a = &visits(&s, "A")[0].path[0];
    let b2 = &visits(&s, "B2")[0].path[0];
    assert_ne!(a.index, b2.index);
    assert_eq!(visits(&s, "B")[0].path[0].index, b2.index);
    assert!(visits(&s, "M")[0].iterations.is_empty());
}

#[tokio::test]
async fn retries_then_catch_shows_attempts_and_caught_error() {
    // No Lambda is configured in this engine: each try fails with Lambda.ServiceException.
    let def = json!({"StartAt": "Call", "States": {
        "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                 "Parameters": {"FunctionName": "f", "Payload": {"k.$": "$.k"}},
                 "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2, "IntervalSeconds": 1}],
                 "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Handle"}],
                 "Next": "Done"},
        "Handle": {"Type": "Pass", "End": true},
        "Done": {"Type": "Succeed"}
    }});
    let (s, status) = run(&def, json!({"k": 1})).await;
    assert_eq!(status, "SUCCEEDED");
    let call = visits(&s, "Call")[0];
    assert_eq!(call.status, StepStatus::Caught);
    assert_eq!(call.attempts.len(), 3);
    assert_eq!(call.retries(), 2);
    assert!(call.attempts.iter().all(|a| a.status == StepStatus::Failed));
    assert_eq!(call.error.as_deref(), Some("Lambda.ServiceException"));
    assert_eq!(call.resource_type.as_deref(), Some("lambda"));
    assert_eq!(call.resource.as_deref(), Some("invoke"));
    let params: Value = serde_json::from_str(call.parameters.as_deref().unwrap()).unwrap();
    assert_eq!(params["Payload"], json!({"k": 1}));
    assert_eq!(state(&s, "Handle").status, StepStatus::Succeeded);
    assert!(
        s.states.iter().all(|x| x.name != "Done"),
        "Done was not reached"
    );
}

#[tokio::test]
async fn a_waiting_task_is_in_progress_then_cancelled_by_a_stop() {
    let engine = engine().await;
    let activity = engine
        .create_activity("work", Vec::new())
        .await
        .unwrap()
        .arn;
    let def = json!({"StartAt": "Before", "States": {
        "Before": {"Type": "Pass", "Next": "Work"},
        "Work": {"Type": "Task", "Resource": activity, "End": true}
    }});
    let sm = machine(&engine, "m", &def).await;
    let arn = start(&engine, &sm, json!({"job": 7})).await;
    let events = history(&engine, &arn).await;
    let s = derive(&events, Some(&def), "RUNNING");
    let work = visits(&s, "Work")[0];
    assert_eq!(work.status, StepStatus::InProgress);
    assert_eq!(work.resource_type.as_deref(), Some("activity"));
    assert_eq!(work.resource.as_deref(), Some(activity.as_str()));
    assert_eq!(work.parameters.as_deref(), Some("{\"job\":7}"));
    assert!(work.ended_at.is_none());
    assert_eq!(state(&s, "Before").status, StepStatus::Succeeded);

    engine.stop_execution(&arn, None, None).await.unwrap();
    let rec = engine.describe_execution(&arn).await.unwrap();
    assert_eq!(rec.status, "ABORTED");
    let events = history(&engine, &arn).await;
    let s = derive(&events, Some(&def), &rec.status);
    let work = visits(&s, "Work")[0];
    assert_eq!(work.status, StepStatus::Cancelled);
    assert!(work.ended_at.is_some());
    // Summaries drop the data, keep the shape.
    let sum = s.clone().summary();
    assert!(
        sum.visits
            .iter()
            .all(|v| v.input.is_none() && v.parameters.is_none())
    );
    assert_eq!(sum.visits.len(), s.visits.len());
    assert_eq!(s.only_state("Work").visits.len(), 1);
}

#[tokio::test]
async fn loops_make_one_visit_per_pass() {
    let def = json!({"StartAt": "Init", "States": {
        "Init": {"Type": "Pass", "Result": {"n": 0}, "Next": "Inc"},
        "Inc": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)"}, "Next": "More?"},
        "More?": {"Type": "Choice", "Choices": [
            {"Variable": "$.n", "NumericLessThan": 3, "Next": "Inc"}], "Default": "End"},
        "End": {"Type": "Succeed"}
    }});
    let (s, status) = run(&def, json!({})).await;
    assert_eq!(status, "SUCCEEDED");
    let inc = visits(&s, "Inc");
    assert_eq!(inc.len(), 3);
    assert_eq!(
        inc.iter()
            .map(|v| v.output.clone().unwrap())
            .collect::<Vec<_>>(),
        ["{\"n\":1}", "{\"n\":2}", "{\"n\":3}"]
    );
    assert!(inc.iter().all(|v| v.path.is_empty()));
    assert_eq!(state(&s, "Inc").visits.len(), 3);
}

#[tokio::test]
async fn start_execution_tasks_link_their_children() {
    let engine = engine().await;
    let child_def =
        json!({"StartAt": "Hi", "States": {"Hi": {"Type": "Pass", "Result": "done", "End": true}}});
    let child = machine(&engine, "child", &child_def).await;
    let def = json!({"StartAt": "Fire", "States": {
        "Fire": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution",
                 "Parameters": {"StateMachineArn": child,
                                "Input": {"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"}},
                 "ResultPath": null, "Next": "Wait for it"},
        "Wait for it": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync",
                 "Parameters": {"StateMachineArn": child,
                                "Input": {"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"}},
                 "OutputPath": "$.Output", "End": true}
    }});
    let parent = machine(&engine, "parent", &def).await;
    let arn = start(&engine, &parent, json!({})).await;
    let rec = engine.wait_for(&arn).await.unwrap();
    assert_eq!(rec.status, "SUCCEEDED");
    let s = derive(&history(&engine, &arn).await, Some(&def), &rec.status);
    let fire = visits(&s, "Fire")[0];
    let sync = visits(&s, "Wait for it")[0];
    assert_eq!(fire.children.len(), 1);
    assert_eq!(sync.children.len(), 1);
    assert_ne!(fire.children, sync.children);
    assert_eq!(sync.resource.as_deref(), Some("startExecution.sync"));
    assert_eq!(sync.output.as_deref(), Some("\"\\\"done\\\"\""));
    for c in fire.children.iter().chain(&sync.children) {
        let child = engine.describe_execution(c).await.unwrap();
        assert_eq!(child.parent_arn.as_deref(), Some(arn.as_str()));
    }
}

#[test]
fn garbage_is_ignored() {
    let events = vec![
        json!(null),
        json!({"id": 1, "type": "PassStateExited", "previousEventId": 99}),
        json!({"id": 2, "type": "TaskSucceeded", "previousEventId": 1}),
        json!({"id": 3, "type": "MapIterationStarted", "previousEventId": 7,
               "mapIterationStartedEventDetails": {"name": "M", "index": 4}}),
        json!({"id": 4, "type": "PassStateEntered", "previousEventId": 3,
               "stateEnteredEventDetails": {"name": "A"}}),
    ];
    let s = derive(&events, Some(&json!({"States": 5})), "RUNNING");
    assert_eq!(s.visits.len(), 1);
    assert_eq!(s.visits[0].status, StepStatus::InProgress);
    assert_eq!(s.last_event_id, 4);
}

#[tokio::test]
async fn a_caught_map_failure_shows_the_inner_error() {
    let def = json!({"StartAt": "Each", "States": {
        "Each": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1, "Next": "Done",
                 "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Handled"}],
                 "ItemProcessor": {"StartAt": "Two?", "States": {
                     "Two?": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 2, "Next": "Boom"}], "Default": "Fine"},
                     "Fine": {"Type": "Pass", "End": true},
                     "Boom": {"Type": "Fail", "Error": "Two", "Cause": "two is not allowed"}}}},
        "Handled": {"Type": "Pass", "End": true},
        "Done": {"Type": "Succeed"}
    }});
    let (s, status) = run(&def, json!({"items": [1, 2, 3]})).await;
    assert_eq!(status, "SUCCEEDED");
    let each = visits(&s, "Each")[0];
    assert_eq!(each.status, StepStatus::Caught);
    assert_eq!(each.error.as_deref(), Some("Two"));
    assert_eq!(each.cause.as_deref(), Some("two is not allowed"));
    assert_eq!(
        each.iterations
            .iter()
            .map(|i| (i.index, i.status))
            .collect::<Vec<_>>(),
        [(0, StepStatus::Succeeded), (1, StepStatus::Failed)]
    );
    let boom = visits(&s, "Boom")[0];
    assert_eq!(boom.status, StepStatus::Failed);
    assert_eq!(boom.path[0].index, 1);
    assert_eq!(state(&s, "Fine").status, StepStatus::Succeeded);
    assert_eq!(state(&s, "Handled").status, StepStatus::Succeeded);
}
