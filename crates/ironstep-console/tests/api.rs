//! The console's JSON endpoints through a real HTTP server (axum on an ephemeral port), with
//! the Step Functions API and the Lambda API merged in as `ironstep serve` does.

use std::sync::Arc;
use std::time::Duration;

use ironstep_functions::{Functions, FunctionsConfig};
use ironstep_runtime::machines::CreateStateMachine;
use ironstep_runtime::{Engine, EngineConfig, StartRequest, SystemClock};
use ironstep_store::MemoryStore;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const ROLE: &str = "arn:aws:iam::123456789012:role/test";

struct Server {
    addr: std::net::SocketAddr,
    engine: Engine,
}

async fn server() -> Server {
    let config = EngineConfig {
        wait_scale: 0.0,
        ..EngineConfig::default()
    };
    let engine = Engine::start(config, Arc::new(MemoryStore::new()), Arc::new(SystemClock))
        .await
        .unwrap();
    let functions = Functions::open(FunctionsConfig::new()).await.unwrap();
    let app = ironstep_api::router(engine.clone())
        .merge(functions.router())
        .merge(ironstep_console::router(engine.clone(), functions));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Server { addr, engine }
}

struct Reply {
    status: u16,
    headers: String,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

/// A plain HTTP/1.1 exchange (`Connection: close`), enough for these tests.
async fn request(
    s: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let mut tcp = TcpStream::connect(s.addr).await.unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\ncontent-length: {}\r\n",
        s.addr,
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tcp.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = head.to_lowercase();
    let body = if headers.contains("transfer-encoding: chunked") {
        dechunk(body)
    } else {
        body.to_string()
    };
    Reply {
        status,
        headers,
        body,
    }
}

async fn get(s: &Server, path: &str) -> Reply {
    request(s, "GET", path, &[], "").await
}

async fn sfn(s: &Server, action: &str, body: Value) -> Reply {
    let target = format!("AWSStepFunctions.{action}");
    request(
        s,
        "POST",
        "/",
        &[
            ("x-amz-target", &target),
            ("content-type", "application/x-amz-json-1.0"),
        ],
        &body.to_string(),
    )
    .await
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn machine(s: &Server, name: &str, def: Value) -> String {
    s.engine
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
        .unwrap()
        .arn
}

async fn run(s: &Server, sm: &str, name: &str, input: Value) -> String {
    let arn = s
        .engine
        .start_execution(StartRequest {
            state_machine_arn: sm.into(),
            name: Some(name.into()),
            input: Some(input.to_string()),
            ..StartRequest::default()
        })
        .await
        .unwrap()
        .execution_arn;
    s.engine.wait_for(&arn).await.unwrap();
    arn
}

fn pass() -> Value {
    json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}})
}

fn names(v: &Value) -> Vec<String> {
    v["executions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn console_is_served_next_to_the_aws_api() {
    let s = server().await;
    let index = get(&s, "/").await;
    assert_eq!(index.status, 200);
    assert!(index.headers.contains("content-type: text/html"));
    assert!(
        index
            .body
            .contains(r#"<script type="module" src="/console/app.js">"#)
    );
    // Every file the page refers to is embedded.
    for part in index.body.split("/console/").skip(1) {
        let file = part.split('"').next().unwrap();
        let r = get(&s, &format!("/console/{file}")).await;
        assert_eq!(r.status, 200, "{file}");
        assert!(!r.body.is_empty());
    }
    let js = get(&s, "/console/app.js").await;
    assert!(js.headers.contains("content-type: text/javascript"));
    assert_eq!(get(&s, "/console/nope.js").await.status, 404);
    // POST / is still the Step Functions API.
    let r = sfn(&s, "ListStateMachines", json!({})).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"stateMachines": []}));
    let info = get(&s, "/ironstep/api/info").await.json();
    assert_eq!(info["account"], "123456789012");
}

#[tokio::test]
async fn executions_across_machines_filtered_searched_and_paginated() {
    let s = server().await;
    let a = machine(&s, "alpha", pass()).await;
    let b = machine(
        &s,
        "beta",
        json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}}),
    )
    .await;
    run(&s, &a, "a-one", json!({})).await;
    run(&s, &b, "b-one", json!({})).await;
    run(&s, &a, "a-two", json!({})).await;
    run(&s, &b, "B-Two", json!({})).await;

    let all = get(&s, "/ironstep/api/executions").await.json();
    assert_eq!(
        names(&all),
        ["B-Two", "a-two", "b-one", "a-one"],
        "newest first"
    );
    assert_eq!(all["executions"][0]["stateMachineName"], "beta");
    assert_eq!(all["executions"][0]["status"], "FAILED");
    assert!(all.get("nextToken").is_none());

    let failed = get(&s, "/ironstep/api/executions?status=FAILED")
        .await
        .json();
    assert_eq!(names(&failed), ["B-Two", "b-one"]);
    let two = get(&s, "/ironstep/api/executions?name=TWO").await.json();
    assert_eq!(
        names(&two),
        ["B-Two", "a-two"],
        "case-insensitive substring"
    );
    let of_a = get(
        &s,
        &format!("/ironstep/api/executions?stateMachineArn={}", enc(&a)),
    )
    .await;
    assert_eq!(names(&of_a.json()), ["a-two", "a-one"]);

    // Pages of two, then the rest; a search keeps its filter across pages.
    let p1 = get(&s, "/ironstep/api/executions?maxResults=2")
        .await
        .json();
    assert_eq!(names(&p1), ["B-Two", "a-two"]);
    let token = p1["nextToken"].as_str().unwrap();
    let p2 = get(
        &s,
        &format!(
            "/ironstep/api/executions?maxResults=2&nextToken={}",
            enc(token)
        ),
    )
    .await
    .json();
    assert_eq!(names(&p2), ["b-one", "a-one"]);
    assert!(p2.get("nextToken").is_none());
    let q1 = get(&s, "/ironstep/api/executions?maxResults=1&name=one")
        .await
        .json();
    assert_eq!(names(&q1), ["b-one"]);
    let q2 = get(
        &s,
        &format!(
            "/ironstep/api/executions?maxResults=1&name=one&nextToken={}",
            enc(q1["nextToken"].as_str().unwrap())
        ),
    )
    .await
    .json();
    assert_eq!(names(&q2), ["a-one"]);

    // Errors in AWS's shape.
    let bad = get(&s, "/ironstep/api/executions?status=DONE").await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["__type"], "ValidationException");
    let bad = get(&s, "/ironstep/api/executions?nextToken=garbage").await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["__type"], "InvalidToken");
    let missing = "arn:aws:states:us-east-1:123456789012:stateMachine:nope";
    let bad = get(
        &s,
        &format!("/ironstep/api/executions?stateMachineArn={}", enc(missing)),
    )
    .await;
    assert_eq!(bad.json()["__type"], "StateMachineDoesNotExist");

    let counts = get(&s, "/ironstep/api/execution-counts").await.json();
    assert_eq!(counts["counts"][&a], json!({"SUCCEEDED": 2}));
    assert_eq!(counts["counts"][&b], json!({"FAILED": 2}));
}

#[tokio::test]
async fn children_graph_and_steps_of_a_nested_execution() {
    let s = server().await;
    let child = machine(&s, "child", pass()).await;
    let branches: Vec<Value> = (0..2)
        .map(|i| {
            json!({"StartAt": format!("Start {i}"), "States": {format!("Start {i}"): {
                "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync",
                "Parameters": {"StateMachineArn": child,
                               "Input": {"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"}},
                "End": true}}})
        })
        .collect();
    let parent_def = json!({"StartAt": "Go", "States": {
        "Go": {"Type": "Parallel", "End": true, "Branches": branches}
    }});
    let parent = machine(&s, "parent", parent_def).await;
    let arn = run(&s, &parent, "p", json!({"x": 1})).await;

    let kids = get(
        &s,
        &format!("/ironstep/api/executions?parentArn={}", enc(&arn)),
    )
    .await
    .json();
    assert_eq!(kids["executions"].as_array().unwrap().len(), 2);
    assert!(
        kids["executions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["parentArn"] == json!(arn) && e["stateMachineName"] == "child")
    );

    let g = get(
        &s,
        &format!("/ironstep/api/graph?executionArn={}", enc(&arn)),
    )
    .await
    .json();
    let ids: Vec<&str> = g["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["Go", "__start", "__end", "Start 0", "Start 1"]);
    assert_eq!(g["groups"].as_array().unwrap().len(), 2);
    assert_eq!(g["nodes"][3]["resource"], "states:startExecution.sync");
    let g2 = get(
        &s,
        &format!("/ironstep/api/graph?stateMachineArn={}", enc(&parent)),
    )
    .await
    .json();
    assert_eq!(g2["nodes"], g["nodes"]);

    let sum = get(
        &s,
        &format!("/ironstep/api/steps?executionArn={}", enc(&arn)),
    )
    .await
    .json();
    assert_eq!(sum["executionStatus"], "SUCCEEDED");
    let states: Vec<(&str, &str)> = sum["steps"]["states"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["status"].as_str().unwrap()))
        .collect();
    assert_eq!(states.len(), 3);
    assert!(states.iter().all(|(_, st)| *st == "succeeded"));
    assert!(
        sum["steps"]["visits"][1].get("input").is_none(),
        "summaries carry no data"
    );

    let one = get(
        &s,
        &format!(
            "/ironstep/api/steps?executionArn={}&state={}",
            enc(&arn),
            enc("Start 1")
        ),
    )
    .await
    .json();
    let v = &one["steps"]["visits"][0];
    assert_eq!(v["name"], "Start 1");
    assert_eq!(v["path"][0]["kind"], "branch");
    assert_eq!(v["path"][0]["index"], 1);
    assert_eq!(v["children"].as_array().unwrap().len(), 1);
    assert!(v["input"].as_str().unwrap().contains("\"x\":1"));
    let output: Value = serde_json::from_str(v["output"].as_str().unwrap()).unwrap();
    assert_eq!(output["Status"], "SUCCEEDED");

    // Errors.
    let r = get(&s, "/ironstep/api/graph").await;
    assert_eq!(
        (r.status, r.json()["__type"].clone()),
        (400, json!("ValidationException"))
    );
    let nope = "arn:aws:states:us-east-1:123456789012:execution:parent:nope";
    let r = get(
        &s,
        &format!("/ironstep/api/steps?executionArn={}", enc(nope)),
    )
    .await;
    assert_eq!(r.json()["__type"], "ExecutionDoesNotExist");
    let r = get(&s, "/ironstep/api/steps?executionArn=bad").await;
    assert_eq!(r.json()["__type"], "InvalidArn");
}

#[tokio::test]
async fn activities_show_pending_tasks_and_the_stream_follows_an_execution() {
    let s = server().await;
    let activity = s
        .engine
        .create_activity("approve", Vec::new())
        .await
        .unwrap()
        .arn;
    let sm = machine(
        &s,
        "waits",
        json!({"StartAt": "Ask", "States": {"Ask": {"Type": "Task", "Resource": activity, "End": true}}}),
    )
    .await;
    let arn = s
        .engine
        .start_execution(StartRequest {
            state_machine_arn: sm,
            input: Some("{\"q\":1}".into()),
            ..StartRequest::default()
        })
        .await
        .unwrap()
        .execution_arn;
    let acts = get(&s, "/ironstep/api/activities").await.json();
    assert_eq!(acts["activities"][0]["name"], "approve");
    assert_eq!(acts["activities"][0]["pendingTasks"], 1);

    // Open the stream, then let a worker finish the task.
    let mut tcp = TcpStream::connect(s.addr).await.unwrap();
    let req = format!(
        "GET /ironstep/api/stream?executionArn={} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
        enc(&arn)
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 65536];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !seen.contains("\"status\":\"RUNNING\"") {
        let n = tokio::time::timeout_at(deadline, tcp.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "stream closed early: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(
        seen.to_lowercase()
            .contains("content-type: text/event-stream")
    );
    assert!(seen.contains("event: update"));
    assert!(seen.contains("ActivityScheduled"));
    let (token, _) = s
        .engine
        .get_activity_task(&activity, Some("w".into()), Duration::from_secs(1))
        .await
        .unwrap()
        .unwrap();
    s.engine
        .send_task_success(&token, "{\"ok\":true}")
        .await
        .unwrap();
    while !seen.contains("event: end") {
        let n = tokio::time::timeout_at(deadline, tcp.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        if n == 0 {
            break;
        }
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(seen.contains("ActivitySucceeded"));
    assert!(seen.contains("\"status\":\"SUCCEEDED\""));
    assert!(seen.contains("event: end"), "{seen}");
    let acts = get(&s, "/ironstep/api/activities").await.json();
    assert_eq!(acts["activities"][0]["pendingTasks"], 0);

    let r = get(&s, "/ironstep/api/functions/nope/invocations").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["__type"], "ResourceNotFoundException");
    let r = get(&s, "/ironstep/api/stream").await;
    assert_eq!(r.status, 400);
}
