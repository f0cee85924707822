//! Failover: three `ironstep serve` nodes share one PostgreSQL database; one is killed with
//! SIGKILL, later another, then both are restarted, while Standard executions run.
//!
//! The workload mixes Wait states, a failing task retried with back-off then caught, Parallel,
//! Map, a nested `.sync:2` child and a callback (a `.waitForTaskToken` child that answers its
//! parent with SendTaskSuccess). Executions are started on all three nodes. Afterwards every
//! execution must end as in an uninterrupted run on a single node (status, output, the same
//! sequence of history event types with ids contiguous from 1), and every parent must have
//! exactly one child and one callback child.
//!
//! CI runs a short version (needs PostgreSQL: `IRONSTEP_TEST_POSTGRES`, failing when it is
//! unreachable). The full one: `IRONSTEP_FAILOVER_EXECUTIONS=2000 cargo test -p ironstep
//! --test failover -- --nocapture`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Server, free_port, py_env, serve, serve_on};
use ironstep_store_postgres::testing::TestDatabase;

const CHILD: &str = r#"{
  "StartAt": "Think",
  "States": {
    "Think": {"Type": "Wait", "Seconds": 1, "Next": "Answer"},
    "Answer": {"Type": "Pass", "Parameters": {"doubled.$": "States.MathAdd($.v, $.v)"}, "End": true}
  }
}"#;

const RESPONDER: &str = r#"{
  "StartAt": "Reply",
  "States": {
    "Reply": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sfn:sendTaskSuccess",
      "Parameters": {"TaskToken.$": "$.token", "Output": {"called.$": "$.v"}}, "End": true}
  }
}"#;

const PARENT: &str = r#"{
  "StartAt": "Prepare",
  "States": {
    "Prepare": {"Type": "Pass", "Parameters": {"i.$": "$.i", "wait.$": "$.wait", "items.$": "$.items"}, "Next": "Sleep"},
    "Sleep": {"Type": "Wait", "SecondsPath": "$.wait", "Next": "Flaky"},
    "Flaky": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sfn:describeExecution",
      "Parameters": {"ExecutionArn": "not-an-arn"},
      "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "BackoffRate": 1.5, "MaxAttempts": 2}],
      "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": null, "Next": "Fan"}],
      "End": true},
    "Fan": {"Type": "Parallel", "ResultPath": "$.branches", "Next": "Each", "Branches": [
      {"StartAt": "B1", "States": {"B1": {"Type": "Pass", "Parameters": {"b.$": "$.i"}, "Next": "B1Wait"}, "B1Wait": {"Type": "Wait", "Seconds": 1, "End": true}}},
      {"StartAt": "B2", "States": {"B2": {"Type": "Pass", "Result": "two", "End": true}}}]},
    "Each": {"Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.mapped", "MaxConcurrency": 2,
      "ItemProcessor": {"StartAt": "Double", "States": {"Double": {"Type": "Pass", "Parameters": {"v.$": "States.MathAdd($, $)"}, "End": true}}},
      "Next": "Child"},
    "Child": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
      "Parameters": {"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:fo-child", "Input": {"v.$": "$.i"}},
      "ResultSelector": {"out.$": "$.Output"}, "ResultPath": "$.child", "Next": "Callback"},
    "Callback": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.waitForTaskToken",
      "Parameters": {"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:fo-responder",
        "Input": {"token.$": "$$.Task.Token", "v.$": "$.i"}},
      "ResultPath": "$.callback", "Next": "Done"},
    "Done": {"Type": "Succeed"}
  }
}"#;

/// Creates the machines and starts N executions, spreading them over the endpoints and moving
/// on to the next endpoint when one is down.
const WORKLOAD: &str = r#"
import threading
N = int(os.environ["N"])
ENDPOINTS = os.environ["ENDPOINTS"].split(",")
def client(ep):
    return boto3.client("stepfunctions", endpoint_url=ep, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t",
                        config=Config(inject_host_prefix=False, retries={"max_attempts": 0}, connect_timeout=2, read_timeout=30))
clients = [client(e) for e in ENDPOINTS]
def call(k, fn, **kw):
    deadline = time.time() + 120
    while True:
        c = clients[k % len(clients)]
        try:
            return getattr(c, fn)(**kw)
        except botocore.exceptions.ClientError as e:
            code = e.response["Error"]["Code"]
            if code in ("StateMachineAlreadyExists", "ExecutionAlreadyExists"):
                return None
            if code != "ServiceFailure" or time.time() > deadline:
                raise
        except (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectionClosedError,
                botocore.exceptions.ReadTimeoutError, botocore.exceptions.ConnectTimeoutError):
            if time.time() > deadline:
                raise
        k += 1
        time.sleep(0.05)
for name, d in (("fo-child", os.environ["CHILD"]), ("fo-responder", os.environ["RESPONDER"]), ("fo-parent", os.environ["PARENT"])):
    call(0, "create_state_machine", name=name, definition=d, roleArn=ROLE)
sm = "arn:aws:states:us-east-1:123456789012:stateMachine:fo-parent"
def start(i):
    inp = json.dumps({"i": i, "wait": i % 3, "items": list(range(i % 4))})
    call(i, "start_execution", stateMachineArn=sm, name=f"e{i}", input=inp)
threads = []
for t in range(4):
    th = threading.Thread(target=lambda t=t: [start(i) for i in range(t, N, 4)])
    th.start(); threads.append(th)
for th in threads: th.join()
print("started", N)
"#;

const COLLECT: &str = r#"
N = int(os.environ["N"])
out = {}
for i in range(N):
    arn = f"arn:aws:states:us-east-1:123456789012:execution:fo-parent:e{i}"
    out[i] = settled(arn, 600)
# Children: exactly one per parent for each child machine, each started once.
def all_executions(sm):
    got, token = [], None
    while True:
        kw = {"stateMachineArn": sm, "maxResults": 1000}
        if token: kw["nextToken"] = token
        r = sfn.list_executions(**kw)
        got += r["executions"]
        token = r.get("nextToken")
        if not token: return got
for m in ("fo-child", "fo-responder"):
    ex = all_executions("arn:aws:states:us-east-1:123456789012:stateMachine:" + m)
    assert len(ex) == N, (m, len(ex))
    for e in ex:
        assert e["status"] == "SUCCEEDED", e
        h = history(e["executionArn"])
        assert [x["id"] for x in h] == list(range(1, len(h) + 1)), e
        assert sum(1 for x in h if x["type"] == "ExecutionStarted") == 1, e
print(json.dumps(out))
"#;

fn executions() -> usize {
    std::env::var("IRONSTEP_FAILOVER_EXECUTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60)
}

fn env(n: usize, endpoints: &str) -> Vec<(&'static str, String)> {
    vec![
        ("N", n.to_string()),
        ("ENDPOINTS", endpoints.to_string()),
        ("CHILD", CHILD.to_string()),
        ("RESPONDER", RESPONDER.to_string()),
        ("PARENT", PARENT.to_string()),
    ]
}

/// Fail over in 3 s in this test (10 s by default), so that it stays short.
const FAILOVER: &str = "3";

fn node(dir: &Path, port: u16, url: &str) -> Server {
    serve_on(dir, port, &["--store", url, "--failover-seconds", FAILOVER])
}

fn sigkill(s: &mut Server) {
    s.child.kill().expect("SIGKILL"); // SIGKILL on Unix
    let _ = s.child.wait();
}

#[test]
fn executions_survive_killing_nodes_of_a_cluster() {
    let n = executions();
    // The reference: the same workload on one uninterrupted node.
    let reference = {
        let s = serve(&[]);
        let ep = s.endpoint();
        py_env(&s, &env(n, &ep), WORKLOAD);
        py_env(&s, &env(n, &ep), COLLECT)
    };
    let reference: serde_json::Value =
        serde_json::from_str(reference.trim()).expect("reference json");

    let db = TestDatabase::create_blocking();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dirs: Vec<PathBuf> = (0..3)
        .map(|i| tmp.path().join(format!("node{i}")))
        .collect();
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let mut nodes: Vec<Server> = (0..3).map(|i| node(&dirs[i], ports[i], &db.url)).collect();
    let endpoints = ports
        .iter()
        .map(|p| format!("http://127.0.0.1:{p}"))
        .collect::<Vec<_>>()
        .join(",");
    let mut starter = common::py_spawn(&nodes[0], &env(n, &endpoints), WORKLOAD);
    let began = Instant::now();
    // Kill node 1 while executions run, later node 2; then bring both back.
    std::thread::sleep(Duration::from_millis(2500));
    sigkill(&mut nodes[1]);
    eprintln!("killed node 1 after {:?}", began.elapsed());
    std::thread::sleep(Duration::from_millis(3000));
    sigkill(&mut nodes[2]);
    eprintln!("killed node 2 after {:?}", began.elapsed());
    std::thread::sleep(Duration::from_millis(3000));
    nodes[1] = node(&dirs[1], ports[1], &db.url);
    nodes[2] = node(&dirs[2], ports[2], &db.url);
    eprintln!("restarted nodes 1 and 2 after {:?}", began.elapsed());

    let deadline = Instant::now() + Duration::from_secs(900);
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
    // Collect through a node that was never killed.
    let after = py_env(&nodes[0], &env(n, &endpoints), COLLECT);
    let after: serde_json::Value = serde_json::from_str(after.trim()).expect("json");
    for i in 0..n {
        let k = i.to_string();
        assert_eq!(
            after[&k], reference[&k],
            "execution e{i} differs from the uninterrupted run"
        );
    }
    let logs: String = nodes
        .iter()
        .map(|s| std::fs::read_to_string(&s.log).unwrap_or_default())
        .collect();
    let adopted = logs.matches("adopting an execution").count();
    let timer_takeovers = logs.matches("taking over due timers").count();
    assert!(
        adopted + timer_takeovers > 0,
        "no work was taken over from the killed nodes: the test did not test failover"
    );
    let listing = Command::new(common::bin())
        .args(["nodes", "--store", &db.url])
        .output()
        .expect("ironstep nodes");
    let listing = String::from_utf8_lossy(&listing.stdout);
    assert_eq!(listing.matches(" live ").count(), 3, "{listing}");
    assert_eq!(listing.matches(" dead ").count(), 2, "{listing}");
    eprintln!(
        "{n} executions on 3 nodes, 2 killed and restarted: all equal to the reference \
         ({adopted} executions adopted, {timer_takeovers} timer takeovers) in {:?}\n{listing}",
        began.elapsed()
    );
    drop(nodes);
}
