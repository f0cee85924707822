use std::sync::Arc;
use std::time::Duration;

use ironstep_runtime::machines::CreateStateMachine;
use ironstep_runtime::{Engine, EngineConfig, StartRequest, SystemClock};
use ironstep_store::MemoryStore;

const DIST: &str = r#"{"StartAt": "M", "States": {"M": {
    "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1,
    "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                      "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "Next": "P"},
                                                 "P": {"Type": "Pass", "End": true}}},
    "End": true}}}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_map_run_on_a_running_execution_lets_it_finish() {
    let engine = Engine::start(
        EngineConfig::default(),
        Arc::new(MemoryStore::new()),
        Arc::new(SystemClock),
    )
    .await
    .unwrap();
    let sm = engine
        .create_state_machine(CreateStateMachine {
            name: "dm".into(),
            definition: DIST.into(),
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let e = engine
        .start_execution(StartRequest {
            state_machine_arn: sm.arn,
            input: Some(r#"{"items": [1, 2]}"#.into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let runs = engine.list_map_runs(&e.execution_arn).await.unwrap();
    assert_eq!(runs.len(), 1);
    engine
        .update_map_run(&runs[0].map_run_arn, Some(2), None, None)
        .await
        .unwrap();
    engine
        .update_map_run(&runs[0].map_run_arn, None, Some(1), None)
        .await
        .unwrap();
    let rec = tokio::time::timeout(Duration::from_secs(10), engine.wait_for(&e.execution_arn))
        .await
        .expect("the execution finished")
        .unwrap();
    assert_eq!(rec.status, "SUCCEEDED");
    let run = engine.describe_map_run(&runs[0].map_run_arn).await.unwrap();
    assert_eq!(run.status, "SUCCEEDED");
    assert_eq!(run.progress.succeeded, 2);
    assert_eq!(run.progress.tolerated_failure_count, Some(1));
}
