mod harness;

use harness::World;
use ironstep_core::Input;
use serde_json::json;

const DIST: &str = r#"{"StartAt": "M", "States": {"M": {
    "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1,
    "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                      "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "Next": "P"},
                                                 "P": {"Type": "Pass", "End": true}}},
    "End": true}}}"#;

#[test]
fn update_map_run_raises_concurrency_of_a_running_map_run() {
    let mut w = World::start(DIST, r#"{"items": [1, 2, 3]}"#);
    let runs = w.exec.map_runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].running, 1);
    let arn = runs[0].map_run_arn.clone();
    w.input(Input::UpdateMapRun {
        map_run_arn: arn.clone(),
        max_concurrency: Some(3),
        tolerated_failure_count: None,
        tolerated_failure_percentage: None,
    });
    assert_eq!(
        w.exec.map_runs()[0].running,
        3,
        "more iterations start at once"
    );
    w.input(Input::UpdateMapRun {
        map_run_arn: arn,
        max_concurrency: None,
        tolerated_failure_count: Some(1),
        tolerated_failure_percentage: None,
    });
    assert_eq!(w.exec.map_runs()[0].tolerated_failure_count, Some(1));
    // Fire the later timers first: completions in any order must finish the Map Run.
    let ids: Vec<u64> = w.timers.keys().map(|(_, id)| *id).collect();
    w.timers.clear();
    for id in ids.into_iter().rev() {
        w.input(Input::TimerFired { timer_id: id });
    }
    assert_eq!(w.output(), json!([1, 2, 3]));
    assert_eq!(
        w.types(),
        [
            "ExecutionStarted",
            "MapStateEntered",
            "MapStateStarted",
            "MapRunStarted",
            "MapRunSucceeded",
            "MapStateSucceeded",
            "MapStateExited",
            "ExecutionSucceeded"
        ]
    );
}
