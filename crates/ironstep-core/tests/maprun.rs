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

// ---- ItemBatcher, ItemReader, ResultWriter --------------------------------------------------
// AWS applies ItemReader, ItemsPath, ItemSelector, ItemBatcher, ResultWriter in that order
// (Step Functions developer guide, "Map state input and output fields"); each child of a
// batched Distributed Map gets `{"BatchInput": ..., "Items": [...]}`.

fn batched(batcher: &str, processor: &str) -> String {
    format!(
        r#"{{"StartAt": "M", "States": {{"M": {{
    "Type": "Map", "ItemsPath": "$.items",
    "ItemSelector": {{"v.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index"}},
    "ItemBatcher": {batcher},
    "ItemProcessor": {{"ProcessorConfig": {{"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}},
                      "StartAt": "P", "States": {{"P": {processor}}}}},
    "End": true}}}}}}"#
    )
}

#[test]
fn item_batcher_groups_selected_items_with_the_batch_input() {
    let def = batched(
        r#"{"MaxItemsPerBatch": 2, "BatchInput": {"tag.$": "$.tag", "fixed": 1}}"#,
        r#"{"Type": "Pass", "End": true}"#,
    );
    let w = World::start(&def, r#"{"items": ["a", "b", "c"], "tag": "t"}"#);
    assert_eq!(
        w.output(),
        json!([
            {"BatchInput": {"tag": "t", "fixed": 1}, "Items": [{"v": "a", "i": 0}, {"v": "b", "i": 1}]},
            {"BatchInput": {"tag": "t", "fixed": 1}, "Items": [{"v": "c", "i": 2}]}
        ])
    );
    w.check_invariants();
}

#[test]
fn item_batcher_limits_come_from_paths_and_bytes() {
    let def = batched(
        r#"{"MaxItemsPerBatchPath": "$.n", "MaxInputBytesPerBatch": 40}"#,
        r#"{"Type": "Pass", "Parameters": {"n.$": "States.ArrayLength($.Items)"}, "End": true}"#,
    );
    // Without BatchInput a child sees only Items; `{"Items":[{"v":1,"i":0},{"v":2,"i":1}]}` is
    // 39 bytes, so the byte limit closes batches of two before the item limit of three.
    let w = World::start(&def, r#"{"items": [1, 2, 3, 4, 5], "n": 3}"#);
    assert_eq!(w.output(), json!([{"n": 2}, {"n": 2}, {"n": 1}]));
    let w = World::start(&def, r#"{"items": [1, 2, 3], "n": 0}"#);
    assert_eq!(w.error(), "States.Runtime");
    assert!(
        w.cause().contains("MaxItemsPerBatch") && w.cause().contains("positive integer"),
        "{}",
        w.cause()
    );
}

#[test]
fn item_batcher_in_jsonata_evaluates_its_fields() {
    let def = r#"{"QueryLanguage": "JSONata", "StartAt": "M", "States": {"M": {
        "Type": "Map", "Items": "{% $states.input.items %}",
        "ItemBatcher": {"MaxItemsPerBatch": "{% $states.input.n %}",
                        "BatchInput": {"k": "{% $states.input.tag %}"}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
            "StartAt": "P", "States": {"P": {"Type": "Pass",
                "Output": "{% $states.input.BatchInput.k & $count($states.input.Items) %}", "End": true}}},
        "End": true}}}"#;
    let w = World::start(def, r#"{"items": [1, 2, 3, 4, 5], "n": 2, "tag": "x"}"#);
    assert_eq!(w.output(), json!(["x2", "x2", "x1"]));
}

#[test]
fn item_reader_and_result_writer_fail_clearly_without_s3() {
    let reader = r#"{"StartAt": "M", "States": {"M": {"Type": "Map",
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                       "ReaderConfig": {"InputType": "JSON"}, "Parameters": {"Bucket": "b", "Key": "k"}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                          "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
        "End": true}}}"#;
    let w = World::start(reader, "{}");
    assert_eq!(w.error(), "States.ItemReaderFailed");
    assert!(
        w.cause().contains("arn:aws:states:::s3:getObject"),
        "{}",
        w.cause()
    );
    let writer = r#"{"StartAt": "M", "States": {"M": {"Type": "Map",
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "b", "Prefix": "p"}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                          "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
        "End": true}}}"#;
    let w = World::start(writer, "[1]");
    assert_eq!(w.error(), "States.ResultWriterFailed");
    assert!(w.cause().contains("s3:putObject"), "{}", w.cause());
}
