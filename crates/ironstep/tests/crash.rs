//! Crash recovery: Standard executions survive `kill -9` of the engine.
//!
//! A reference server runs the workload uninterrupted; a second server runs the same workload
//! while it is killed with SIGKILL at random moments and restarted on the same data directory.
//! Every execution must end with the reference's status and output, and with the same sequence
//! of history event types, ids contiguous from 1, nothing lost and nothing written twice.
//!
//! CI runs a short version; `IRONSTEP_CRASH_EXECUTIONS=1000 IRONSTEP_CRASH_KILLS=5 cargo test
//! -p ironstep --test crash -- --nocapture` runs the full one.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{py_env, serve, serve_in};

/// Pass chains, a Wait, a failing task retried with back-off then caught, a Parallel and a Map.
const DEFINITION: &str = r#"{
  "StartAt": "Prepare",
  "States": {
    "Prepare": {"Type": "Pass", "Parameters": {"i.$": "$.i", "wait.$": "$.wait", "tag.$": "States.Format('item-{}', $.i)"}, "Next": "Sleep"},
    "Sleep": {"Type": "Wait", "SecondsPath": "$.wait", "Next": "Flaky"},
    "Flaky": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sfn:describeExecution",
      "Parameters": {"ExecutionArn": "not-an-arn"},
      "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "BackoffRate": 1.5, "MaxAttempts": 2}],
      "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught", "Next": "Fan"}],
      "End": true},
    "Fan": {"Type": "Parallel", "ResultPath": "$.branches", "Next": "Each", "Branches": [
      {"StartAt": "B1", "States": {"B1": {"Type": "Pass", "Parameters": {"b.$": "$.i"}, "Next": "B1Wait"}, "B1Wait": {"Type": "Wait", "Seconds": 1, "End": true}}},
      {"StartAt": "B2", "States": {"B2": {"Type": "Pass", "Result": "two", "End": true}}}]},
    "Each": {"Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.mapped", "MaxConcurrency": 2,
      "ItemProcessor": {"StartAt": "Double", "States": {"Double": {"Type": "Pass", "Parameters": {"v.$": "States.MathAdd($, $)"}, "End": true}}},
      "Next": "Done"},
    "Done": {"Type": "Succeed", "OutputPath": "$.mapped"}
  }
}"#;

const WORKLOAD: &str = r#"
import threading
N = int(os.environ["N"])
sm = None
while sm is None:
    try:
        try:
            sm = sfn.create_state_machine(name="crash", definition=os.environ["DEF"], roleArn=ROLE)["stateMachineArn"]
        except botocore.exceptions.ClientError as e:
            if e.response["Error"]["Code"] != "StateMachineAlreadyExists": raise
            sm = "arn:aws:states:us-east-1:123456789012:stateMachine:crash"
    except (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectionClosedError, botocore.exceptions.ReadTimeoutError):
        time.sleep(0.1)
def start(i):
    inp = json.dumps({"i": i, "wait": i % 3, "items": list(range(i % 5))})
    while True:
        try:
            sfn.start_execution(stateMachineArn=sm, name=f"e{i}", input=inp)
            return
        except botocore.exceptions.ClientError as e:
            if e.response["Error"]["Code"] == "ExecutionAlreadyExists": return
            raise
        except Exception:
            time.sleep(0.1)
for i in range(N):
    start(i)
print("started", N)
"#;

const COLLECT: &str = r#"
N = int(os.environ["N"])
out = {}
for i in range(N):
    arn = f"arn:aws:states:us-east-1:123456789012:execution:crash:e{i}"
    out[i] = settled(arn, 300)
print(json.dumps(out))
"#;

fn executions() -> usize {
    std::env::var("IRONSTEP_CRASH_EXECUTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(120)
}

fn kills() -> usize {
    std::env::var("IRONSTEP_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
}

fn env(n: usize) -> Vec<(&'static str, String)> {
    vec![("N", n.to_string()), ("DEF", DEFINITION.to_string())]
}

#[test]
fn standard_executions_survive_sigkill() {
    let n = executions();
    // The reference: the same workload, uninterrupted.
    let reference = {
        let s = serve(&[]);
        py_env(&s, &env(n), WORKLOAD);
        py_env(&s, &env(n), COLLECT)
    };
    let reference: serde_json::Value =
        serde_json::from_str(reference.trim()).expect("reference json");

    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("data");
    let mut server = serve_in(&dir, &[]);
    let port = server.port;
    // Start the workload in the background: it retries through the outages.
    let mut starter = common::py_spawn(&server, &env(n), WORKLOAD);
    // Kill at pseudo-random moments (deterministic seed so failures reproduce).
    let mut pauses = common::KillPauses::new(0x9e37_79b9_7f4a_7c15);
    for k in 0..kills() {
        let pause = pauses.next(300, 1500);
        std::thread::sleep(pause);
        server.child.kill().expect("SIGKILL"); // SIGKILL on Unix
        let _ = server.child.wait();
        eprintln!("kill {} after {:?}", k + 1, pause);
        server = common::serve_on(&dir, port, &[]);
    }
    let deadline = Instant::now() + Duration::from_secs(600);
    let status = loop {
        if let Some(st) = starter.try_wait().expect("starter") {
            break st;
        }
        assert!(Instant::now() < deadline, "the workload did not finish");
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = starter.wait_with_output().expect("starter output");
    assert!(
        status.success(),
        "starter failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = py_env(&server, &env(n), COLLECT);
    let after: serde_json::Value = serde_json::from_str(after.trim()).expect("json");
    for i in 0..n {
        let k = i.to_string();
        assert_eq!(
            after[&k], reference[&k],
            "execution e{i} differs from the uninterrupted run"
        );
    }
    let log = std::fs::read_to_string(&server.log).unwrap_or_default();
    assert!(
        log.contains("recovered from the store"),
        "no recovery line in the log:\n{log}"
    );
    eprintln!(
        "{n} executions, {} kills: all equal to the reference",
        kills()
    );
}

/// SIGTERM: the server stops accepting, finishes its commit and exits 0 with a log line; a
/// restart on the same data directory logs what it recovered and finishes the waiting
/// execution.
#[test]
fn sigterm_shuts_down_cleanly_and_a_restart_resumes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("data");
    let mut server = serve_in(&dir, &[]);
    let port = server.port;
    py_env(
        &server,
        &[],
        r#"
d = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 2, "Next": "P"}, "P": {"Type": "Pass", "Result": "after restart", "End": True}}}
sm = sfn.create_state_machine(name="term", definition=json.dumps(d), roleArn=ROLE)["stateMachineArn"]
sfn.start_execution(stateMachineArn=sm, name="waiting")
"#,
    );
    let pid = server.child.id().to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill -TERM");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(s) = server.child.try_wait().expect("try_wait") {
            break s;
        }
        assert!(Instant::now() < deadline, "ironstep serve ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "exit status {exit:?}");
    let log = std::fs::read_to_string(&server.log).unwrap_or_default();
    assert!(log.contains("shutting down"), "{log}");

    server = common::serve_on(&dir, port, &[]);
    let log = std::fs::read_to_string(&server.log).unwrap_or_default();
    assert!(
        log.contains("recovered from the store running=1 timers=1"),
        "{log}"
    );
    let out = py_env(
        &server,
        &[],
        r#"
d = wait("arn:aws:states:us-east-1:123456789012:execution:term:waiting")
print(d["status"], json.loads(d["output"]))
"#,
    );
    assert_eq!(out.trim(), "SUCCEEDED after restart");
}

/// Parents waiting on `.sync` children and on callbacks survive `kill -9`: every parent
/// finishes with the uninterrupted result, each parent task started exactly one child (the
/// child's name is derived from the parent task), and every child is linked to its parent.
const NESTED_WORKLOAD: &str = r#"
N = int(os.environ["N"])
def create(name, d):
    while True:
        try:
            return sfn.create_state_machine(name=name, definition=json.dumps(d), roleArn=ROLE)["stateMachineArn"]
        except botocore.exceptions.ClientError as e:
            if e.response["Error"]["Code"] == "StateMachineAlreadyExists":
                return f"arn:aws:states:us-east-1:123456789012:stateMachine:{name}"
            raise
        except Exception:
            time.sleep(0.1)
child = create("child", {"StartAt": "W", "States": {
    "W": {"Type": "Wait", "Seconds": 1, "Next": "P"},
    "P": {"Type": "Pass", "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)"}, "End": True}}})
caller = create("caller", {"StartAt": "W", "States": {
    "W": {"Type": "Wait", "Seconds": 1, "Next": "Report"},
    "Report": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sfn:sendTaskSuccess",
               "Parameters": {"TaskToken.$": "$.token", "Output.$": "States.JsonToString($.n)"}, "End": True}}})
parent = create("parent", {"StartAt": "Both", "States": {"Both": {"Type": "Parallel", "End": True, "Branches": [
    {"StartAt": "Sync", "States": {"Sync": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
        "Parameters": {"StateMachineArn": child, "Input": {"n.$": "$.n", "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"}},
        "OutputPath": "$.Output.doubled", "End": True}}},
    {"StartAt": "Callback", "States": {"Callback": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.waitForTaskToken",
        "Parameters": {"StateMachineArn": caller, "Input": {"n.$": "$.n", "token.$": "$$.Task.Token", "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"}},
        "End": True}}}]}}})
for i in range(N):
    while True:
        try:
            sfn.start_execution(stateMachineArn=parent, name=f"p{i}", input=json.dumps({"n": i}))
            break
        except botocore.exceptions.ClientError as e:
            if e.response["Error"]["Code"] == "ExecutionAlreadyExists": break
            raise
        except Exception:
            time.sleep(0.1)
print("started")
"#;

const NESTED_COLLECT: &str = r#"
N = int(os.environ["N"])
for i in range(N):
    d = wait(f"arn:aws:states:us-east-1:123456789012:execution:parent:p{i}", 300)
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"]) == [2 * i, i], (i, d["output"])
def all_executions(sm):
    out, token = [], None
    while True:
        kw = {"stateMachineArn": sm, "maxResults": 1000}
        if token: kw["nextToken"] = token
        r = sfn.list_executions(**kw)
        out += r["executions"]
        token = r.get("nextToken")
        if not token: return out
for name in ("child", "caller"):
    runs = all_executions(f"arn:aws:states:us-east-1:123456789012:stateMachine:{name}")
    assert len(runs) == N, (name, len(runs))
    parents = set()
    for r in runs:
        d = sfn.describe_execution(executionArn=r["executionArn"])
        assert d["status"] == "SUCCEEDED", d
        parents.add(json.loads(d["input"])["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"])
    assert len(parents) == N, (name, len(parents))
print("ok")
"#;

#[test]
fn nested_parents_and_callbacks_survive_sigkill() {
    let n = executions() / 4;
    let env = vec![("N", n.to_string())];
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("data");
    let mut server = serve_in(&dir, &[]);
    let port = server.port;
    let mut starter = common::py_spawn(&server, &env, NESTED_WORKLOAD);
    let mut pauses = common::KillPauses::new(0x2545_f491_4f6c_dd1d);
    for k in 0..kills() {
        let pause = pauses.next(200, 1300);
        std::thread::sleep(pause);
        server.child.kill().expect("SIGKILL");
        let _ = server.child.wait();
        eprintln!("kill {} after {:?}", k + 1, pause);
        server = common::serve_on(&dir, port, &[]);
    }
    let deadline = Instant::now() + Duration::from_secs(600);
    let status = loop {
        if let Some(st) = starter.try_wait().expect("starter") {
            break st;
        }
        assert!(Instant::now() < deadline, "the workload did not finish");
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = starter.wait_with_output().expect("starter output");
    assert!(
        status.success(),
        "starter failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = py_env(&server, &env, NESTED_COLLECT);
    assert_eq!(out.trim(), "ok");
    eprintln!(
        "{n} nested parents, {} kills: all finished, one child per task",
        kills()
    );
}

/// A second `ironstep serve` on a data directory in use, and a corrupt database file: a clear
/// error naming the problem and a non-zero exit, never a damaged database.
#[test]
fn a_busy_or_corrupt_data_directory_is_refused_with_a_clear_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("data");
    let first = serve_in(&dir, &[]);
    let second = Command::new(common::bin())
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{}", common::free_port()),
        ])
        .arg("--data-dir")
        .arg(&dir)
        .output()
        .expect("second serve");
    assert_eq!(second.status.code(), Some(2));
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("is in use by another ironstep"), "{err}");
    // The first server is unharmed.
    assert_eq!(
        py_env(
            &first,
            &[],
            "print(len(sfn.list_state_machines()['stateMachines']))"
        )
        .trim(),
        "0"
    );
    // Stop it cleanly (the database is checkpointed), then damage the file's header.
    let pid = first.child.id().to_string();
    Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    let mut first = first;
    let _ = first.child.wait();
    let db = dir.join("ironstep.db");
    let mut bytes = std::fs::read(&db).expect("database file");
    bytes[..16].copy_from_slice(b"not a database!!");
    std::fs::write(&db, &bytes).expect("write");
    let corrupt = Command::new(common::bin())
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{}", common::free_port()),
        ])
        .arg("--data-dir")
        .arg(&dir)
        .output()
        .expect("serve on corrupt data");
    assert_eq!(corrupt.status.code(), Some(2));
    let err = String::from_utf8_lossy(&corrupt.stderr);
    assert!(err.contains("is not a usable ironstep database"), "{err}");
    // Nothing was written over the damaged file.
    assert_eq!(std::fs::read(&db).expect("database file"), bytes);
}
