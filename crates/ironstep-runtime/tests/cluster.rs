//! Cluster mode: several engines (nodes) on one PostgreSQL database share the work. Each test
//! creates its own database (`IRONSTEP_TEST_POSTGRES` names the server) and fails when the
//! server cannot be reached.

use std::sync::Arc;
use std::time::Duration;

use ironstep_runtime::machines::CreateStateMachine;
use ironstep_runtime::{Engine, EngineConfig, ErrorCode, StartRequest, SystemClock};
use ironstep_store::cluster::ClusterTiming;
use ironstep_store_postgres::testing::TestDatabase;
use ironstep_store_postgres::{PgOptions, PgStore};
use serde_json::Value;

const ROLE: &str = "arn:aws:iam::123456789012:role/r";

fn timing() -> ClusterTiming {
    ClusterTiming {
        lease: Duration::from_millis(1500),
        renew: Duration::from_millis(300),
        poll: Duration::from_millis(100),
    }
}

async fn node(db: &TestDatabase, name: &str) -> Engine {
    let store = PgStore::connect(
        &db.url,
        PgOptions {
            pool_size: 4,
            writers: 1,
            node_id: Some(name.into()),
            timing: timing(),
            ..PgOptions::default()
        },
    )
    .await
    .expect("connect");
    let config = EngineConfig {
        wait_scale: 1.0,
        node_address: format!("test:{name}"),
        ..EngineConfig::default()
    };
    Engine::start(config, Arc::new(store), Arc::new(SystemClock))
        .await
        .expect("engine")
}

async fn machine(engine: &Engine, name: &str, def: &str) -> String {
    engine
        .create_state_machine(CreateStateMachine {
            name: name.into(),
            definition: def.into(),
            role_arn: ROLE.into(),
            ..Default::default()
        })
        .await
        .expect("create machine")
        .arn
}

async fn start(engine: &Engine, sm: &str, name: &str, input: &str) -> String {
    engine
        .start_execution(StartRequest {
            state_machine_arn: sm.into(),
            name: Some(name.into()),
            input: Some(input.into()),
            ..Default::default()
        })
        .await
        .expect("start")
        .execution_arn
}

async fn finished(engine: &Engine, arn: &str) -> ironstep_store::ExecutionRecord {
    tokio::time::timeout(Duration::from_secs(30), engine.wait_for(arn))
        .await
        .expect("the execution did not finish in time")
        .expect("wait_for")
}

async fn event_types(engine: &Engine, arn: &str) -> Vec<String> {
    let page = engine.history(arn, None, false, 1000, true).await.unwrap();
    let ids: Vec<u64> = page
        .events
        .iter()
        .map(|e| e["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, (1..=ids.len() as u64).collect::<Vec<_>>(), "ids");
    page.events
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

fn activity_machine(activity: &str) -> String {
    serde_json::json!({
        "StartAt": "Work",
        "States": {"Work": {"Type": "Task", "Resource": activity, "End": true}}
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_activity_scheduled_on_one_node_is_worked_and_answered_through_another() {
    let db = TestDatabase::create().await;
    let a = node(&db, "a").await;
    let b = node(&db, "b").await;
    let act = a.create_activity("work", vec![]).await.unwrap().arn;
    let sm = machine(&a, "act", &activity_machine(&act)).await;
    let arn = start(&a, &sm, "e1", r#"{"x": 1}"#).await;
    // B's worker gets the task A scheduled, exactly once.
    let (token, input) = b
        .get_activity_task(&act, Some("worker-b".into()), Duration::from_secs(10))
        .await
        .unwrap()
        .expect("a task");
    assert_eq!(input, r#"{"x":1}"#);
    assert!(
        a.get_activity_task(&act, None, Duration::from_millis(300))
            .await
            .unwrap()
            .is_none(),
        "the task was handed out twice"
    );
    // B answers; A holds the execution, so the answer goes through A's inbox.
    b.send_task_success(&token, r#"{"done": true}"#)
        .await
        .unwrap();
    let rec = finished(&b, &arn).await;
    assert_eq!(rec.status, "SUCCEEDED");
    assert_eq!(rec.output.as_deref(), Some(r#"{"done":true}"#));
    // The token resolved once.
    let again = b.send_task_success(&token, "{}").await.unwrap_err();
    assert_eq!(again.code, ErrorCode::TaskTimedOut);
    let again = a.send_task_failure(&token, None, None).await.unwrap_err();
    assert_eq!(again.code, ErrorCode::TaskTimedOut);
    assert_eq!(
        event_types(&a, &arn).await,
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "ActivityScheduled",
            "ActivityStarted",
            "ActivitySucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activity_tasks_from_every_node_go_to_one_worker_each() {
    let db = TestDatabase::create().await;
    let a = node(&db, "a").await;
    let b = node(&db, "b").await;
    let act = a.create_activity("many", vec![]).await.unwrap().arn;
    let sm = machine(&a, "many", &activity_machine(&act)).await;
    let n = 24;
    for i in 0..n {
        let e = if i % 2 == 0 { &a } else { &b };
        start(e, &sm, &format!("e{i}"), &format!("{{\"i\": {i}}}")).await;
    }
    let worker = |e: Engine, act: String| async move {
        let mut got = Vec::new();
        while let Some((token, input)) = e
            .get_activity_task(&act, None, Duration::from_millis(800))
            .await
            .unwrap()
        {
            let v: Value = serde_json::from_str(&input).unwrap();
            e.send_task_success(&token, &input).await.unwrap();
            got.push(v["i"].as_u64().unwrap());
        }
        got
    };
    let (x, y, z) = tokio::join!(
        tokio::spawn(worker(a.clone(), act.clone())),
        tokio::spawn(worker(b.clone(), act.clone())),
        tokio::spawn(worker(b.clone(), act.clone())),
    );
    let mut all: Vec<u64> = x
        .unwrap()
        .into_iter()
        .chain(y.unwrap())
        .chain(z.unwrap())
        .collect();
    all.sort_unstable();
    assert_eq!(
        all,
        (0..n).collect::<Vec<_>>(),
        "every task to exactly one worker"
    );
    for i in 0..n {
        let arn = format!("arn:aws:states:us-east-1:123456789012:execution:many:e{i}");
        let rec = finished(&a, &arn).await;
        assert_eq!(rec.status, "SUCCEEDED", "{arn}");
        assert_eq!(rec.output, Some(format!("{{\"i\":{i}}}")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_and_redrive_work_from_the_node_that_does_not_hold_the_execution() {
    let db = TestDatabase::create().await;
    let a = node(&db, "a").await;
    let b = node(&db, "b").await;
    let act = a.create_activity("stop", vec![]).await.unwrap().arn;
    let sm = machine(&a, "stop", &activity_machine(&act)).await;
    let arn = start(&a, &sm, "s1", "{}").await;
    // A holds it (its activity task runs); B stops it.
    b.stop_execution(&arn, Some("Halt".into()), Some("by b".into()))
        .await
        .unwrap();
    let rec = a.describe_execution(&arn).await.unwrap();
    assert_eq!(rec.status, "ABORTED");
    assert_eq!(rec.error.as_deref(), Some("Halt"));
    // Redrive from B, then the task is worked from A.
    b.redrive_execution(&arn).await.unwrap();
    let (token, _) = a
        .get_activity_task(&act, None, Duration::from_secs(10))
        .await
        .unwrap()
        .expect("the redriven task");
    a.send_task_success(&token, "\"ok\"").await.unwrap();
    let rec = finished(&b, &arn).await;
    assert_eq!(rec.status, "SUCCEEDED");
    assert_eq!(rec.redrive_count, 1);
    let types = event_types(&b, &arn).await;
    assert_eq!(
        types.iter().filter(|t| *t == "ExecutionRedriven").count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_child_on_another_node_completes_its_parent() {
    let db = TestDatabase::create().await;
    let a = node(&db, "a").await;
    let b = node(&db, "b").await;
    let act = a.create_activity("child-work", vec![]).await.unwrap().arn;
    let child = machine(&a, "child", &activity_machine(&act)).await;
    let parent = serde_json::json!({
        "StartAt": "Run",
        "States": {"Run": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
            "Parameters": {"StateMachineArn": child, "Input": {"v": 7}},
            "OutputPath": "$.Output", "End": true}}
    })
    .to_string();
    let parent = machine(&a, "parent", &parent).await;
    let arn = start(&a, &parent, "p1", "{}").await;
    // The child's activity is worked and answered on B.
    let (token, input) = b
        .get_activity_task(&act, None, Duration::from_secs(10))
        .await
        .unwrap()
        .expect("the child's task");
    assert_eq!(input, r#"{"v":7}"#);
    b.send_task_success(&token, r#"{"from":"b"}"#)
        .await
        .unwrap();
    let rec = finished(&b, &arn).await;
    assert_eq!(rec.status, "SUCCEEDED");
    assert_eq!(rec.output.as_deref(), Some(r#"{"from":"b"}"#));
    let children = a
        .list_executions(&ironstep_store::ExecutionFilter {
            state_machine_arn: Some(child),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(children.len(), 1, "one child started");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_work_of_a_dead_node_is_taken_over() {
    let db = TestDatabase::create().await;
    let b = node(&db, "b").await;
    let act = b.create_activity("orphan", vec![]).await.unwrap().arn;
    let waits = serde_json::json!({
        "StartAt": "Nap",
        "States": {"Nap": {"Type": "Wait", "Seconds": 1, "Next": "Done"},
                   "Done": {"Type": "Pass", "Result": "woke", "End": true}}
    })
    .to_string();
    let sleeper = machine(&b, "sleeper", &waits).await;
    let worker = machine(&b, "worker", &activity_machine(&act)).await;
    let (s, w) = {
        let a = node(&db, "a").await;
        let s = start(&a, &sleeper, "s", "{}").await;
        let w = start(&a, &worker, "w", "{}").await;
        // "Kill" A: it stops renewing (dropped without leaving).
        drop(a);
        (s, w)
    };
    // B fires A's timer after A's claim on it expired, and adopts the execution A ran.
    let rec = finished(&b, &s).await;
    assert_eq!(rec.status, "SUCCEEDED");
    assert_eq!(rec.output.as_deref(), Some("\"woke\""));
    let (token, _) = b
        .get_activity_task(&act, None, Duration::from_secs(15))
        .await
        .unwrap()
        .expect("the orphaned task is offered again");
    b.send_task_success(&token, "1").await.unwrap();
    let rec = finished(&b, &w).await;
    assert_eq!(rec.status, "SUCCEEDED");
    let nodes = b.store().cluster().unwrap().nodes().await.unwrap();
    let a = nodes.iter().find(|n| n.id == "a").unwrap();
    assert_eq!(a.status, "dead", "{nodes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_leaves_hands_its_work_over_at_once() {
    let db = TestDatabase::create().await;
    let a = node(&db, "a").await;
    let b = node(&db, "b").await;
    let act = a.create_activity("handover", vec![]).await.unwrap().arn;
    let sm = machine(&a, "handover", &activity_machine(&act)).await;
    let arn = start(&a, &sm, "h", "{}").await;
    a.shutdown().await;
    let started = std::time::Instant::now();
    let (token, _) = b
        .get_activity_task(&act, None, Duration::from_secs(10))
        .await
        .unwrap()
        .expect("task");
    b.send_task_success(&token, "2").await.unwrap();
    assert_eq!(finished(&b, &arn).await.status, "SUCCEEDED");
    assert!(
        started.elapsed() < timing().lease,
        "took {:?}: the lease was not handed back",
        started.elapsed()
    );
}
