//! The Step Functions API through a real client (boto3) against a real `ironstep serve`.

mod common;

use common::{py, serve};

#[test]
fn state_machine_lifecycle_is_idempotent_and_versioned() {
    let s = serve(&[]);
    let out = py(
        &s,
        r#"
d = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
a = sfn.create_state_machine(name="m", definition=d, roleArn=ROLE)
b = sfn.create_state_machine(name="m", definition=d, roleArn=ROLE)
assert a["stateMachineArn"] == b["stateMachineArn"] == "arn:aws:states:us-east-1:123456789012:stateMachine:m"
assert a["creationDate"] == b["creationDate"]
d2 = json.dumps({"StartAt": "Q", "States": {"Q": {"Type": "Pass", "End": True}}})
code, msg = err(sfn.create_state_machine, name="m", definition=d2, roleArn=ROLE)
assert code == "StateMachineAlreadyExists", code
assert msg == "State Machine Already Exists: 'arn:aws:states:us-east-1:123456789012:stateMachine:m'", msg
desc = sfn.describe_state_machine(stateMachineArn=a["stateMachineArn"])
assert desc["definition"] == d and desc["type"] == "STANDARD" and desc["status"] == "ACTIVE"
u = sfn.update_state_machine(stateMachineArn=a["stateMachineArn"], definition=d2, publish=True, versionDescription="v1")
assert u["revisionId"] != desc["revisionId"]
assert u["stateMachineVersionArn"].endswith(":m:1"), u
v = sfn.describe_state_machine(stateMachineArn=u["stateMachineVersionArn"])
assert v["definition"] == d2 and v["description"] == "v1"
code, _ = err(sfn.update_state_machine, stateMachineArn=a["stateMachineArn"])
assert code == "MissingRequiredParameter", code
names = [m["name"] for m in sfn.list_state_machines()["stateMachines"]]
assert names == ["m"], names
sfn.delete_state_machine(stateMachineArn=a["stateMachineArn"])
code, msg = err(sfn.describe_state_machine, stateMachineArn=a["stateMachineArn"])
assert code == "StateMachineDoesNotExist", code
print("ok")
"#,
    );
    assert_eq!(out.trim(), "ok");
}

#[test]
fn invalid_definitions_name_the_field_like_aws() {
    let s = serve(&[]);
    let out = py(
        &s,
        r#"
code, msg = err(sfn.create_state_machine, name="bad", definition=json.dumps({"States": {}}), roleArn=ROLE)
assert code == "InvalidDefinition", code
assert msg == "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: These fields are required: [StartAt] at /'", msg
d = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nope"}}}
code, msg = err(sfn.create_state_machine, name="bad", definition=json.dumps(d), roleArn=ROLE)
assert "MISSING_TRANSITION_TARGET: Missing 'Next' target: Nope at /States/A/Next" in msg, msg
r = sfn.validate_state_machine_definition(definition=json.dumps(d))
assert r["result"] == "FAIL"
assert {"severity": "ERROR", "code": "MISSING_TRANSITION_TARGET", "message": "Missing 'Next' target: Nope", "location": "/States/A/Next"} in r["diagnostics"], r
r = sfn.validate_state_machine_definition(definition="not a definition")
assert r["result"] == "FAIL" and r["diagnostics"][0]["code"] == "INVALID_JSON_DESCRIPTION", r
d = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync", "End": True}}}
code, msg = err(sfn.create_state_machine, name="ex", definition=json.dumps(d), roleArn=ROLE, type="EXPRESS")
assert "Express state machine does not support '.sync' service integration  at /States/T/Resource" in msg, msg
print("ok")
"#,
    );
    assert_eq!(out.trim(), "ok");
}

#[test]
fn executions_record_history_as_aws_and_paginate() {
    let s = serve(&[]);
    let out = py(
        &s,
        r#"
d = {"StartAt": "A", "States": {
  "A": {"Type": "Pass", "Parameters": {"x.$": "$.v", "ctx.$": "$$.Execution.Name"}, "ResultPath": "$.r", "Next": "B"},
  "B": {"Type": "Pass", "OutputPath": "$.r", "End": True}}}
sm = sfn.create_state_machine(name="h", definition=json.dumps(d), roleArn=ROLE)["stateMachineArn"]
e = sfn.start_execution(stateMachineArn=sm, name="run-1", input='{"v": 7}')["executionArn"]
assert e == "arn:aws:states:us-east-1:123456789012:execution:h:run-1", e
d = wait(e)
assert d["status"] == "SUCCEEDED" and json.loads(d["output"]) == {"x": 7, "ctx": "run-1"}, d
h = history(e)
types = [x["type"] for x in h]
assert types == ["ExecutionStarted", "PassStateEntered", "PassStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"], types
assert [x["id"] for x in h] == [1, 2, 3, 4, 5, 6]
assert [x["previousEventId"] for x in h] == [0, 0, 2, 3, 4, 5]
assert h[0]["executionStartedEventDetails"]["input"] == '{"v": 7}'
assert h[2]["stateExitedEventDetails"]["output"] == '{"v":7,"r":{"x":7,"ctx":"run-1"}}'
# pages of 2, forwards and backwards
ids, token = [], None
while True:
    kw = dict(executionArn=e, maxResults=2)
    if token: kw["nextToken"] = token
    r = sfn.get_execution_history(**kw)
    ids += [x["id"] for x in r["events"]]
    token = r.get("nextToken")
    if not token: break
assert ids == [1, 2, 3, 4, 5, 6], ids
r = sfn.get_execution_history(executionArn=e, reverseOrder=True, maxResults=3)
assert [x["id"] for x in r["events"]] == [6, 5, 4]
r = sfn.get_execution_history(executionArn=e, reverseOrder=True, maxResults=3, nextToken=r["nextToken"])
assert [x["id"] for x in r["events"]] == [3, 2, 1]
r = sfn.get_execution_history(executionArn=e, includeExecutionData=False)
assert "input" not in r["events"][0]["executionStartedEventDetails"]
code, _ = err(sfn.get_execution_history, executionArn=e, nextToken="garbage")
assert code == "InvalidToken", code
ex = sfn.list_executions(stateMachineArn=sm)["executions"]
assert [x["name"] for x in ex] == ["run-1"] and ex[0]["status"] == "SUCCEEDED"
print("ok")
"#,
    );
    assert_eq!(out.trim(), "ok");
}

#[test]
fn start_execution_is_idempotent_while_running_only() {
    let s = serve(&[]);
    let out = py(
        &s,
        r#"
d = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 100, "End": True}}}
sm = sfn.create_state_machine(name="w", definition=json.dumps(d), roleArn=ROLE)["stateMachineArn"]
a = sfn.start_execution(stateMachineArn=sm, name="once", input="{}")
b = sfn.start_execution(stateMachineArn=sm, name="once", input="{}")
assert a["executionArn"] == b["executionArn"] and a["startDate"] == b["startDate"]
code, msg = err(sfn.start_execution, stateMachineArn=sm, name="once", input='{"other": 1}')
assert code == "ExecutionAlreadyExists", code
assert msg == "Execution Already Exists: '" + a["executionArn"] + "'", msg
stop = sfn.stop_execution(executionArn=a["executionArn"], error="E", cause="C")
d = sfn.describe_execution(executionArn=a["executionArn"])
assert d["status"] == "ABORTED" and d["error"] == "E" and d["cause"] == "C", d
assert history(a["executionArn"])[-1]["type"] == "ExecutionAborted"
code, _ = err(sfn.start_execution, stateMachineArn=sm, name="once", input="{}")
assert code == "ExecutionAlreadyExists", code
code, msg = err(sfn.start_execution, stateMachineArn=sm, name="bad name")
assert code == "InvalidName" and msg == "Invalid Name: 'bad name'", (code, msg)
code, msg = err(sfn.start_execution, stateMachineArn=sm, input="{'a': 1}")
assert code == "InvalidExecutionInput" and msg.startswith("Invalid State Machine Execution Input: '"), (code, msg)
code, _ = err(sfn.start_execution, stateMachineArn="arn:aws:states:us-east-1:123456789012:stateMachine:nope")
assert code == "StateMachineDoesNotExist", code
code, _ = err(sfn.start_execution, stateMachineArn="not-an-arn")
assert code == "InvalidArn", code
print("ok")
"#,
    );
    assert_eq!(out.trim(), "ok");
}

#[test]
fn express_state_machines_run_synchronously() {
    let s = serve(&[]);
    let out = py(
        &s,
        r#"
d = {"StartAt": "C", "States": {
  "C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 0, "Next": "Yes"}], "Default": "No"},
  "Yes": {"Type": "Pass", "Result": "positive", "End": True},
  "No": {"Type": "Fail", "Error": "NotPositive", "Cause": "n <= 0"}}}
sm = sfn.create_state_machine(name="x", definition=json.dumps(d), roleArn=ROLE, type="EXPRESS")["stateMachineArn"]
r = sfn.start_sync_execution(stateMachineArn=sm, input='{"n": 2}')
assert r["status"] == "SUCCEEDED" and r["output"] == '"positive"', r
assert ":express:x:" in r["executionArn"], r["executionArn"]
r = sfn.start_sync_execution(stateMachineArn=sm, input='{"n": 0}')
assert r["status"] == "FAILED" and r["error"] == "NotPositive" and r["cause"] == "n <= 0", r
code, msg = err(sfn.describe_execution, executionArn=r["executionArn"])
assert code == "InvalidArn" and msg == "Invalid Arn: 'Resource type not valid in this context: express'", (code, msg)
code, _ = err(sfn.list_executions, stateMachineArn=sm)
assert code == "StateMachineTypeNotSupported", code
std = sfn.create_state_machine(name="s", definition=json.dumps(d), roleArn=ROLE)["stateMachineArn"]
code, _ = err(sfn.start_sync_execution, stateMachineArn=std)
assert code == "StateMachineTypeNotSupported", code
print("ok")
"#,
    );
    assert_eq!(out.trim(), "ok");
}

#[test]
fn unsupported_task_resources_fail_with_a_clear_error() {
    let s = serve(&[]);
    let out = py(
        &s,
        r#"
d = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": True}}}
sm = sfn.create_state_machine(name="u", definition=json.dumps(d), roleArn=ROLE)["stateMachineArn"]
d = wait(sfn.start_execution(stateMachineArn=sm)["executionArn"])
assert d["status"] == "FAILED" and d["error"] == "States.Runtime", d
assert "arn:aws:states:::sqs:sendMessage" in d["cause"] and "not supported" in d["cause"], d["cause"]
print("ok")
"#,
    );
    assert_eq!(out.trim(), "ok");
}

#[test]
fn malformed_requests_get_aws_errors() {
    let s = serve(&[]);
    let out = py(
        &s,
        r#"
import urllib.request
def call(target, body):
    req = urllib.request.Request(ENDPOINT, data=body, method="POST", headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": target})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())
st, b = call("AWSStepFunctions.ListStateMachines", b"{not json")
assert st == 400 and b["__type"] == "SerializationException", (st, b)
st, b = call("AWSStepFunctions.Nope", b"{}")
assert st == 400 and b["__type"] == "UnknownOperationException", (st, b)
st, b = call("AWSStepFunctions.CreateStateMachine", b"{}")
assert st == 400 and b["__type"] == "ValidationException" and b["message"].startswith("3 validation errors detected: Value null at 'name'"), (st, b)
st, b = call("AWSStepFunctions.CreateStateMachine", json.dumps({"name": 5}).encode())
assert st == 400 and b["__type"] == "SerializationException", (st, b)
st, b = call("AWSStepFunctions.ListStateMachines", b"[]")
assert st == 400 and b["__type"] == "SerializationException", (st, b)
st, b = call("AWSStepFunctions.ListStateMachines", b"{" + b" " * (5 * 1024 * 1024) + b"}")
assert st == 413 and b["__type"] == "ValidationException", (st, b)
st, b = call("AWSStepFunctions.ListStateMachines", b"")
assert st == 200 and b == {"stateMachines": []}, (st, b)
print("ok")
"#,
    );
    assert_eq!(out.trim(), "ok");
}

/// The aws CLI (from the test virtualenv) as a client: JSON output, and AWS's error text on
/// stderr with a non-zero exit status.
#[test]
fn aws_cli_drives_the_api() {
    let s = serve(&[]);
    let aws = std::path::Path::new(&common::python()).with_file_name("aws");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(&aws)
            .args([
                "--endpoint-url",
                &s.endpoint(),
                "--region",
                "us-east-1",
                "--output",
                "json",
            ])
            .arg("stepfunctions")
            .args(args)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", aws.display()));
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let definition =
        r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"cli":true},"End":true}}}"#;
    let (code, out, err) = run(&[
        "create-state-machine",
        "--name",
        "cli",
        "--definition",
        definition,
        "--role-arn",
        "arn:aws:iam::123456789012:role/test",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let created: serde_json::Value = serde_json::from_str(&out).expect("JSON output");
    let sm = created["stateMachineArn"]
        .as_str()
        .expect("arn")
        .to_string();
    let (code, out, err) = run(&[
        "start-execution",
        "--state-machine-arn",
        &sm,
        "--name",
        "e1",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let exec: serde_json::Value = serde_json::from_str(&out).expect("JSON output");
    let arn = exec["executionArn"].as_str().expect("arn").to_string();
    let mut status = String::new();
    for _ in 0..100 {
        let (_, out, _) = run(&["describe-execution", "--execution-arn", &arn]);
        let d: serde_json::Value = serde_json::from_str(&out).expect("JSON output");
        status = d["status"].as_str().unwrap_or_default().to_string();
        if status != "RUNNING" {
            assert_eq!(d["output"], r#"{"cli":true}"#);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(status, "SUCCEEDED");
    let (code, _, err) = run(&[
        "describe-state-machine",
        "--state-machine-arn",
        "arn:aws:states:us-east-1:123456789012:stateMachine:missing",
    ]);
    // aws CLI v1 exits 255 on a service error.
    assert_eq!(code, Some(255), "{err}");
    assert!(
        err.contains("(StateMachineDoesNotExist) when calling the DescribeStateMachine operation: State Machine Does Not Exist: 'arn:aws:states:us-east-1:123456789012:stateMachine:missing'"),
        "{err}"
    );
}

/// `--wait-scale 0`: a one-hour Wait and a 30 s retry interval take no time, the execution's
/// `ExecutionStarted` event says the run was scaled, and timeouts are not scaled.
#[test]
fn wait_scale_shortens_waits_and_marks_the_history() {
    let s = serve(&["--wait-scale", "0"]);
    let out = py(
        &s,
        r#"
d = {"StartAt": "W", "States": {
  "W": {"Type": "Wait", "Seconds": 3600, "Next": "T"},
  "T": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sfn:describeExecution", "Parameters": {"ExecutionArn": "nope"},
        "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 30, "MaxAttempts": 2}],
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done"}], "End": True},
  "Done": {"Type": "Succeed"}}}
sm = sfn.create_state_machine(name="scaled", definition=json.dumps(d), roleArn=ROLE)["stateMachineArn"]
t0 = time.time()
e = sfn.start_execution(stateMachineArn=sm)["executionArn"]
r = wait(e, 20)
assert r["status"] == "SUCCEEDED", r
assert time.time() - t0 < 15
h = history(e)
assert [x["type"] for x in h].count("TaskFailed") == 3
# The mark is a member SDKs drop (botocore keeps only modelled members): read the raw JSON.
import urllib.request
req = urllib.request.Request(ENDPOINT, data=json.dumps({"executionArn": e}).encode(), method="POST",
    headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AWSStepFunctions.GetExecutionHistory"})
raw = json.loads(urllib.request.urlopen(req).read())["events"]
assert raw[0]["executionStartedEventDetails"]["ironstepWaitScale"] == 0, raw[0]
assert "ironstepWaitScale" not in h[0]["executionStartedEventDetails"]
# Timeouts keep their real length: a 1 s task timeout still fires after about a second.
act = sfn.create_activity(name="slow")["activityArn"]
d2 = {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": act, "TimeoutSeconds": 1, "End": True}}}
sm2 = sfn.create_state_machine(name="timeout", definition=json.dumps(d2), roleArn=ROLE)["stateMachineArn"]
t0 = time.time()
r = wait(sfn.start_execution(stateMachineArn=sm2)["executionArn"], 20)
assert r["status"] == "FAILED" and r["error"] == "States.Timeout", r
assert time.time() - t0 >= 0.9, time.time() - t0
print("ok")
"#,
    );
    assert_eq!(out.trim(), "ok");
}

/// A JSONata expression that loops ends with `States.QueryEvaluationError` at the evaluation
/// limit, and while such expressions run, other executions are still served.
#[test]
fn looping_jsonata_fails_at_its_limit_without_stalling_other_executions() {
    let s = serve(&[]);
    let out = py(
        &s,
        r#"
slow = {"QueryLanguage": "JSONata", "StartAt": "Loop", "States": {"Loop": {"Type": "Pass",
  "Output": "{% ($f := function($n){ $f($n + 1) }; $f(0)) %}", "End": True}}}
fast = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "fast", "End": True}}}
slow_sm = sfn.create_state_machine(name="slow", definition=json.dumps(slow), roleArn=ROLE)["stateMachineArn"]
fast_sm = sfn.create_state_machine(name="fast", definition=json.dumps(fast), roleArn=ROLE, type="EXPRESS")["stateMachineArn"]
import threading
slow_runs = []
def start_slow():
    # StartExecution runs the first step before it answers: here, the whole loop.
    slow_runs.append(sfn.start_execution(stateMachineArn=slow_sm)["executionArn"])
threads = [threading.Thread(target=start_slow) for _ in range(4)]
T0 = time.time()
for t in threads: t.start()
time.sleep(0.3)
r = sfn.start_sync_execution(stateMachineArn=fast_sm)
assert r["status"] == "SUCCEEDED" and r["output"] == '"fast"', r
# The fast execution was served while the loops were still evaluating.
assert all(t.is_alive() for t in threads), "the fast call waited for the loops"
for t in threads: t.join()
for a in slow_runs:
    d = wait(a, 30)
    assert d["status"] == "FAILED" and d["error"] == "States.QueryEvaluationError", d
    assert "Evaluation timeout" in d["cause"], d["cause"]
print("ok")
"#,
    );
    assert_eq!(out.trim(), "ok");
}

/// RedriveExecution (API reference): a redriven Parallel re-runs only the branches that failed
/// or were aborted; the activity of the branch that succeeded is not handed out again.
#[test]
fn redrive_reruns_only_the_failed_parallel_branch() {
    let s = serve(&[]);
    let out = py(
        &s,
        r#"
act = sfn.create_activity(name="work")["activityArn"]
d = {"StartAt": "Par", "States": {"Par": {"Type": "Parallel", "End": True, "Branches": [
    {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": act, "End": True}}},
    {"StartAt": "Later", "States": {
        "Later": {"Type": "Wait", "Seconds": 1, "Next": "Check"},
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$$.Execution.RedriveCount", "NumericEquals": 0, "Next": "F"}], "Default": "Ok"},
        "F": {"Type": "Fail", "Error": "FirstTime", "Cause": "fails before a redrive"},
        "Ok": {"Type": "Pass", "Result": "b", "End": True}}}]}}}
sm = sfn.create_state_machine(name="par", definition=json.dumps(d), roleArn=ROLE)["stateMachineArn"]
e = sfn.start_execution(stateMachineArn=sm, input="{}")["executionArn"]
t = sfn.get_activity_task(activityArn=act, workerName="w")
sfn.send_task_success(taskToken=t["taskToken"], output=json.dumps("a"))
d1 = wait(e)
assert d1["status"] == "FAILED" and d1["error"] == "FirstTime", d1
sfn.redrive_execution(executionArn=e)
d2 = wait(e)
assert d2["status"] == "SUCCEEDED", d2
assert json.loads(d2["output"]) == ["a", "b"], d2["output"]
assert d2["redriveCount"] == 1, d2
types = [h["type"] for h in history(e)]
assert types.count("ActivityScheduled") == 1, types
assert "ExecutionRedriven" in types, types
print("ok")
"#,
    );
    assert_eq!(out.trim(), "ok");
}
