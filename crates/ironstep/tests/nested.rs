//! Workflows within workflows: the founding sample and the `states:startExecution`
//! integration's patterns, task tokens and activities, through boto3 against `ironstep serve`.

mod common;

use common::{py, py_env, serve};

/// The founding sample's parent and child (as shipped in `samples/`), with the child's Lambda
/// callback replaced by a Pass state; an external boto3 worker plays the callback by finding the
/// token in the child's input. (tests/deploy.rs runs the sample with its real function.)
const SEED_SETUP: &str = r#"
child = json.load(open(os.environ["SEED"] + "/child.asl.json"))
child["States"]["Callback"] = {"Type": "Pass", "Next": "Second long-running job"}
c = sfn.create_state_machine(name="child", definition=json.dumps(child), roleArn=ROLE)["stateMachineArn"]
parent = open(os.environ["SEED"] + "/parent.asl.json").read().replace("${NestingPatternAnotherStateMachineArn}", c)
p = sfn.create_state_machine(name="parent", definition=parent, roleArn=ROLE)["stateMachineArn"]
"#;

fn seed_dir() -> String {
    format!(
        "{}/../../samples/start-workflow-within-workflow/statemachines",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn seed_parent_succeeds_with_a_boto3_callback_worker() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let s = common::serve_in(&tmp.path().join("data"), &["--wait-scale", "0.1"]);
    let out = py_env(
        &s,
        &[("SEED", seed_dir())],
        &format!(
            r#"{SEED_SETUP}
e = sfn.start_execution(stateMachineArn=p, input="{{}}")["executionArn"]
answered = set()
deadline = time.time() + 60
while time.time() < deadline:
    for x in sfn.list_executions(stateMachineArn=c)["executions"]:
        inp = json.loads(sfn.describe_execution(executionArn=x["executionArn"])["input"])
        if inp.get("NeedCallback") and x["executionArn"] not in answered:
            sfn.send_task_success(taskToken=inp["TaskToken"], output=json.dumps("Callback right after the first long-running job is completed"))
            answered.add(x["executionArn"])
    if sfn.describe_execution(executionArn=e)["status"] != "RUNNING":
        break
    time.sleep(0.05)
d = wait(e)
assert d["status"] == "SUCCEEDED", d
assert json.loads(d["output"]) == ["\"The whole execution is completed including both long-running jobs\"", "Callback right after the first long-running job is completed"], d["output"]
children = sfn.list_executions(stateMachineArn=c)["executions"]
assert len(children) == 3, children
for x in children:
    w = wait(x["executionArn"])
    assert w["status"] == "SUCCEEDED", w
    assert json.loads(w["input"])["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"] == e
types = [h["type"] for h in history(e)]
assert types.count("TaskSubmitted") == 2 and types[-1] == "ExecutionSucceeded", types
print(e)
"#
        ),
    );
    let parent = out.trim().to_string();
    // The parent link is stored: `ironstep executions --parent` lists the three children, also
    // after a restart.
    let children = |s: &common::Server| {
        let out = std::process::Command::new(common::bin())
            .args([
                "executions",
                "--json",
                "--endpoint",
                &s.endpoint(),
                "--parent",
                &parent,
            ])
            .output()
            .expect("ironstep executions");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        v.as_array().expect("array").clone()
    };
    let listed = children(&s);
    assert_eq!(listed.len(), 3, "{listed:?}");
    for c in &listed {
        assert_eq!(c["parentArn"], parent.as_str());
        assert_eq!(c["status"], "SUCCEEDED");
    }
    // The restart must find the same store: on PostgreSQL, hold the test database across it.
    let (dir, port, _db) = (s.data_dir.clone(), s.port, s.db.clone());
    drop(s);
    let s = common::serve_on(&dir, port, &[]);
    let _keep = tmp;
    assert_eq!(children(&s).len(), 3);
    let table = std::process::Command::new(common::bin())
        .args([
            "executions",
            "--endpoint",
            &s.endpoint(),
            "--parent",
            &parent,
        ])
        .output()
        .expect("ironstep executions");
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(table.starts_with("STATUS"), "{table}");
    assert_eq!(
        table.lines().filter(|l| l.starts_with("SUCCEEDED")).count(),
        3,
        "{table}"
    );
}

#[test]
fn sync_patterns_report_child_results_and_failures_as_aws() {
    let s = serve(&[]);
    let out = py(
        &s,
        r#"
ok = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"done": True}, "End": True}}}
bad = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "ChildError", "Cause": "child cause"}}}
okc = sfn.create_state_machine(name="ok", definition=json.dumps(ok), roleArn=ROLE)["stateMachineArn"]
badc = sfn.create_state_machine(name="bad", definition=json.dumps(bad), roleArn=ROLE)["stateMachineArn"]
def parent(name, resource, child, extra=None):
    st = {"Type": "Task", "Resource": resource, "Parameters": {"StateMachineArn": child, "Input": {"k": 1}}, "End": True}
    st.update(extra or {})
    d = {"StartAt": "T", "States": {"T": st}}
    return sfn.create_state_machine(name=name, definition=json.dumps(d), roleArn=ROLE)["stateMachineArn"]
# .sync: Output is a JSON string
d = wait(sfn.start_execution(stateMachineArn=parent("p1", "arn:aws:states:::states:startExecution.sync", okc))["executionArn"])
o = json.loads(d["output"])
assert d["status"] == "SUCCEEDED" and o["Output"] == '{"done":true}' and o["Input"] == '{"k":1}' and o["Status"] == "SUCCEEDED", o
# .sync:2: Output is JSON
d = wait(sfn.start_execution(stateMachineArn=parent("p2", "arn:aws:states:::states:startExecution.sync:2", okc))["executionArn"])
o = json.loads(d["output"])
assert o["Output"] == {"done": True} and o["Input"] == {"k": 1}, o
# request/response: the StartExecution answer with SDK metadata
d = wait(sfn.start_execution(stateMachineArn=parent("p3", "arn:aws:states:::states:startExecution", okc))["executionArn"])
o = json.loads(d["output"])
assert set(o) == {"ExecutionArn", "StartDate", "SdkHttpMetadata", "SdkResponseMetadata"}, o
# a failing child fails the .sync parent with States.TaskFailed and the child's description
d = wait(sfn.start_execution(stateMachineArn=parent("p4", "arn:aws:states:::states:startExecution.sync", badc))["executionArn"])
assert d["status"] == "FAILED" and d["error"] == "States.TaskFailed", d
c = json.loads(d["cause"])
assert c["Status"] == "FAILED" and c["Error"] == "ChildError" and c["Cause"] == "child cause", c
# an API error surfaces as StepFunctions.<Code>Exception
d = wait(sfn.start_execution(stateMachineArn=parent("p5", "arn:aws:states:::states:startExecution", okc + "-missing"))["executionArn"])
assert d["error"] == "StepFunctions.StateMachineDoesNotExistException", d
assert d["cause"].startswith("State Machine Does Not Exist: '") and "(Service: AWSStepFunctions; Status Code: 400; Error Code: StateMachineDoesNotExist;" in d["cause"], d["cause"]
print("ok")
"#,
    );
    assert_eq!(out.trim(), "ok");
}

#[test]
fn stopping_a_parent_or_failing_a_sibling_stops_sync_children() {
    let s = serve(&[]);
    let out = py(
        &s,
        r#"
slow = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}}
child = sfn.create_state_machine(name="slow", definition=json.dumps(slow), roleArn=ROLE)["stateMachineArn"]
task = {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync", "Parameters": {"StateMachineArn": child}, "End": True}
p1 = sfn.create_state_machine(name="p1", definition=json.dumps({"StartAt": "T", "States": {"T": task}}), roleArn=ROLE)["stateMachineArn"]
e = sfn.start_execution(stateMachineArn=p1)["executionArn"]
def one_child(status="RUNNING"):
    for _ in range(200):
        xs = [x for x in sfn.list_executions(stateMachineArn=child)["executions"] if x["status"] == status]
        if xs: return xs
        time.sleep(0.05)
    raise AssertionError("no child " + status)
kid = one_child()[0]["executionArn"]
sfn.stop_execution(executionArn=e)
assert wait(e)["status"] == "ABORTED"
assert wait(kid)["status"] == "ABORTED", "the .sync child was not stopped"
# a failing sibling branch aborts the other branch and stops its child
par = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
  {"StartAt": "T", "States": {"T": task}},
  {"StartAt": "Later", "States": {"Later": {"Type": "Wait", "Seconds": 1, "Next": "Boom"}, "Boom": {"Type": "Fail", "Error": "Boom"}}}]}}}
p2 = sfn.create_state_machine(name="p2", definition=json.dumps(par), roleArn=ROLE)["stateMachineArn"]
e2 = sfn.start_execution(stateMachineArn=p2)["executionArn"]
d = wait(e2)
assert d["status"] == "FAILED" and d["error"] == "Boom", d
types = [h["type"] for h in history(e2)]
assert "TaskStateAborted" in types and "ParallelStateFailed" in types, types
kids = [x for x in sfn.list_executions(stateMachineArn=child)["executions"] if x["executionArn"] != kid]
assert len(kids) == 1 and wait(kids[0]["executionArn"])["status"] == "ABORTED", kids
print("ok")
"#,
    );
    assert_eq!(out.trim(), "ok");
}

#[test]
fn task_tokens_time_out_and_reject_misuse() {
    let s = serve(&[]);
    let out = py(
        &s,
        r#"
act = sfn.create_activity(name="work")["activityArn"]
d = {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": act, "HeartbeatSeconds": 1, "TimeoutSeconds": 30, "End": True}}}
sm = sfn.create_state_machine(name="hb", definition=json.dumps(d), roleArn=ROLE)["stateMachineArn"]
# no heartbeat: the task times out with States.Timeout
e = sfn.start_execution(stateMachineArn=sm)["executionArn"]
t = sfn.get_activity_task(activityArn=act, workerName="w1")
assert t["taskToken"] and json.loads(t["input"]) == {}, t
d = wait(e, 30)
assert d["status"] == "FAILED" and d["error"] == "States.Timeout", d
types = [h["type"] for h in history(e)]
assert types[-2:] == ["ActivityTimedOut", "ExecutionFailed"], types
started = [h for h in history(e) if h["type"] == "ActivityStarted"][0]
assert started["activityStartedEventDetails"] == {"workerName": "w1"}, started
code, msg = err(sfn.send_task_success, taskToken=t["taskToken"], output="{}")
assert code == "TaskTimedOut", code
# heartbeats keep it alive; success closes it; the token cannot be reused
e = sfn.start_execution(stateMachineArn=sm)["executionArn"]
t = sfn.get_activity_task(activityArn=act)
for _ in range(3):
    time.sleep(0.5)
    sfn.send_task_heartbeat(taskToken=t["taskToken"])
code, _ = err(sfn.send_task_success, taskToken=t["taskToken"], output="{not json")
assert code == "InvalidOutput", code
sfn.send_task_success(taskToken=t["taskToken"], output='"fine"')
d = wait(e)
assert d["status"] == "SUCCEEDED" and d["output"] == '"fine"', d
code, _ = err(sfn.send_task_success, taskToken=t["taskToken"], output="{}")
assert code == "TaskTimedOut", code
code, _ = err(sfn.send_task_heartbeat, taskToken="garbage")
assert code == "InvalidToken", code
# SendTaskFailure without error or cause
e = sfn.start_execution(stateMachineArn=sm)["executionArn"]
t = sfn.get_activity_task(activityArn=act)
sfn.send_task_failure(taskToken=t["taskToken"])
d = wait(e)
assert d["status"] == "FAILED" and "error" not in d, d
print("ok")
"#,
    );
    assert_eq!(out.trim(), "ok");
}

#[test]
fn an_activity_pool_hands_each_task_to_exactly_one_worker() {
    let s = serve(&[]);
    let out = py(
        &s,
        r#"
import threading
N = 1000
act = sfn.create_activity(name="pool")["activityArn"]
d = {"StartAt": "M", "States": {"M": {"Type": "Map", "End": True, "ItemsPath": "$.items",
     "ItemProcessor": {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": act, "End": True}}}}}}
sm = sfn.create_state_machine(name="pool", definition=json.dumps(d), roleArn=ROLE)["stateMachineArn"]
e = sfn.start_execution(stateMachineArn=sm, input=json.dumps({"items": list(range(N))}))["executionArn"]
seen = {}
lock = threading.Lock()
def worker(name):
    c = boto3.client("stepfunctions", config=Config(retries={"max_attempts": 0}, read_timeout=70), **KW)
    while True:
        t = c.get_activity_task(activityArn=act, workerName=name)
        if not t.get("taskToken"):
            return
        item = json.loads(t["input"])
        with lock:
            seen.setdefault(item, []).append(name)
        c.send_task_success(taskToken=t["taskToken"], output=json.dumps(item * 2))
        with lock:
            if len(seen) == N:
                return
threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
for t in threads: t.start()
d = wait(e, 240)
assert d["status"] == "SUCCEEDED", d
assert json.loads(d["output"]) == [i * 2 for i in range(N)]
assert len(seen) == N and all(len(v) == 1 for v in seen.values()), [k for k, v in seen.items() if len(v) != 1][:5]
workers = {v[0] for v in seen.values()}
assert len(workers) == 4, workers
print("ok")
import os; os._exit(0)
"#,
    );
    assert_eq!(out.trim(), "ok");
}
