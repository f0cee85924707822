//! Against a running `ironstep serve`, over HTTP/1.1 keep-alive connections (one per client):
//! StartSyncExecution round trips for Express workloads, and StartExecution acknowledgements
//! (each one a durable commit) for Standard ones.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{Context, bail};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

use crate::report::Row;
use crate::workload::Workload;

/// One keep-alive connection speaking AWS JSON 1.0.
pub struct Client {
    addr: String,
    sender: SendRequest<Full<Bytes>>,
}

impl Client {
    pub async fn connect(endpoint: &str) -> anyhow::Result<Client> {
        let addr = endpoint
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let stream = tokio::net::TcpStream::connect(&addr)
            .await
            .with_context(|| format!("connecting to {addr} (is `ironstep serve` running?)"))?;
        stream.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(conn);
        Ok(Client { addr, sender })
    }

    /// A REST-JSON call (the Lambda API).
    pub async fn rest(&mut self, method: &str, path: &str, body: Value) -> anyhow::Result<Value> {
        let req = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", &self.addr)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.to_string())))?;
        self.sender.ready().await?;
        let res = self.sender.send_request(req).await?;
        let status = res.status();
        let bytes = res.into_body().collect().await?.to_bytes();
        let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("{method} {path}: HTTP {status}: {v}");
        }
        Ok(v)
    }

    /// Call an action; `Err` carries the AWS error type and message.
    pub async fn call(&mut self, action: &str, body: Value) -> anyhow::Result<Value> {
        let req = hyper::Request::post("/")
            .header("host", &self.addr)
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", format!("AWSStepFunctions.{action}"))
            .body(Full::new(Bytes::from(body.to_string())))?;
        self.sender.ready().await?;
        let res = self.sender.send_request(req).await?;
        let status = res.status();
        let bytes = res.into_body().collect().await?.to_bytes();
        let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("{action}: HTTP {status}: {v}");
        }
        Ok(v)
    }
}

async fn create(
    c: &mut Client,
    all: &[Workload],
    w: &Workload,
    machine_type: &str,
    arns: &mut BTreeMap<String, String>,
    tag: &str,
) -> anyhow::Result<String> {
    for child in w.meta.children.values() {
        if !arns.contains_key(child) {
            let cw = all
                .iter()
                .find(|x| &x.name == child)
                .with_context(|| format!("child workload {child}"))?;
            let arn = Box::pin(create(c, all, cw, "STANDARD", arns, tag)).await?;
            arns.insert(child.clone(), arn);
        }
    }
    let r = c
        .call(
            "CreateStateMachine",
            json!({
                "name": format!("{}-{}-{tag}", w.name, machine_type.to_lowercase()),
                "definition": w.definition,
                "roleArn": "arn:aws:iam::123456789012:role/bench",
                "type": machine_type,
            }),
        )
        .await?;
    r["stateMachineArn"]
        .as_str()
        .map(str::to_string)
        .context("no stateMachineArn")
}

/// `executions` calls from `clients` connections. Express: StartSyncExecution, timed to the
/// answer. Standard: StartExecution, timed to the durable acknowledgement.
pub async fn run(
    endpoint: &str,
    all: &[Workload],
    w: &Workload,
    express: bool,
    executions: usize,
    clients: usize,
) -> anyhow::Result<Row> {
    let tag = format!(
        "{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0)
    );
    let machine_type = if express { "EXPRESS" } else { "STANDARD" };
    let mut c = Client::connect(endpoint).await?;
    let mut arns = BTreeMap::new();
    let arn = create(&mut c, all, w, machine_type, &mut arns, &tag).await?;
    let input = w.input_with_children(&arns)?;
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients.max(1) {
        let mut c = Client::connect(endpoint).await?;
        let (arn, input, next, w) = (arn.clone(), input.clone(), next.clone(), w.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= executions as u64 {
                    return Ok::<_, anyhow::Error>(latencies);
                }
                let t0 = Instant::now();
                let body =
                    json!({"stateMachineArn": arn, "input": input, "name": format!("run-{i}")});
                if express {
                    let r = c.call("StartSyncExecution", body).await?;
                    if r["status"] != "SUCCEEDED" {
                        bail!("{}: {r}", w.name);
                    }
                    if i == 0 {
                        let out = serde_json::from_str(r["output"].as_str().unwrap_or("null"))?;
                        w.check(&out)?;
                    }
                } else {
                    c.call("StartExecution", body).await?;
                }
                latencies.push(t0.elapsed());
            }
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.context("client task")??);
    }
    let elapsed = started.elapsed();
    Ok(Row {
        workload: w.name.clone(),
        mode: format!(
            "http {}, {} clients",
            if express {
                "StartSyncExecution"
            } else {
                "StartExecution ack"
            },
            clients
        ),
        executions: executions as u64,
        transitions: executions as u64 * w.meta.transitions_per_execution,
        events: 0,
        elapsed,
        latencies,
        note: if express {
            String::new()
        } else {
            "acknowledged (committed) starts; executions finish in the background".into()
        },
    })
}

/// Start `count` sleeping Standard executions on a server and report its resident memory.
pub async fn sleepers(
    endpoint: &str,
    pid: u32,
    count: usize,
    clients: usize,
) -> anyhow::Result<String> {
    let rss_before = crate::rss_kib(pid).context("reading the server's /proc/PID/status")?;
    let mut c = Client::connect(endpoint).await?;
    let name = format!(
        "sleeper-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0)
    );
    let arn = c
        .call(
            "CreateStateMachine",
            json!({"name": name, "roleArn": "arn:aws:iam::123456789012:role/bench",
                   "definition": r#"{"StartAt":"Sleep","States":{"Sleep":{"Type":"Wait","Seconds":31536000,"End":true}}}"#}),
        )
        .await?["stateMachineArn"]
        .as_str()
        .context("arn")?
        .to_string();
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients.max(1) {
        let mut c = Client::connect(endpoint).await?;
        let (arn, next) = (arn.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count as u64 {
                    return Ok::<_, anyhow::Error>(());
                }
                c.call(
                    "StartExecution",
                    json!({"stateMachineArn": arn, "input": format!(r#"{{"n":{i}}}"#)}),
                )
                .await?;
            }
        }));
    }
    for t in tasks {
        t.await.context("client task")??;
    }
    let secs = started.elapsed().as_secs_f64();
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let rss = crate::rss_kib(pid).context("reading the server's /proc/PID/status")?;
    Ok(format!(
        "{count} sleeping executions started over HTTP in {secs:.1} s ({:.0}/s); server RSS {:.1} MiB (before {:.1} MiB)",
        count as f64 / secs,
        rss as f64 / 1024.0,
        rss_before as f64 / 1024.0
    ))
}

/// Warm `lambda:invoke` overhead: a no-op function per runtime (Node.js, Python) called from a
/// Task state `calls` times through StartSyncExecution, one at a time; the Pass-only baseline
/// is subtracted to isolate the invocation.
pub async fn lambda(endpoint: &str, calls: usize) -> anyhow::Result<Vec<Row>> {
    let mut c = Client::connect(endpoint).await?;
    let dir = tempfile::tempdir()?;
    std::fs::write(
        dir.path().join("index.js"),
        "exports.handler = async (event) => event;\n",
    )?;
    std::fs::write(
        dir.path().join("handler.py"),
        "def handler(event, context):\n    return event\n",
    )?;
    let tag = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let mut rows = Vec::new();
    let baseline = c
        .call(
            "CreateStateMachine",
            json!({"name": format!("bench-baseline-{tag}"), "type": "EXPRESS",
                   "roleArn": "arn:aws:iam::123456789012:role/bench",
                   "definition": r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#}),
        )
        .await?["stateMachineArn"]
        .as_str()
        .context("arn")?
        .to_string();
    rows.push(time_sync(&mut c, &baseline, calls, "no-op Pass (baseline)").await?);
    for (runtime, handler) in [
        ("nodejs20.x", "index.handler"),
        ("python3.11", "handler.handler"),
    ] {
        let name = format!("bench-noop-{}-{tag}", runtime.replace('.', "-"));
        c.rest(
            "POST",
            "/2015-03-31/functions",
            json!({"FunctionName": name, "Runtime": runtime, "Handler": handler,
                   "Role": "arn:aws:iam::123456789012:role/bench", "Timeout": 10,
                   "Code": {"S3Bucket": "hot-reload", "S3Key": dir.path().display().to_string()}}),
        )
        .await?;
        let definition = json!({"StartAt": "Invoke", "States": {"Invoke": {"Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": name, "Payload.$": "$"}, "End": true}}});
        let sm = c
            .call(
                "CreateStateMachine",
                json!({"name": format!("bench-{name}"), "type": "EXPRESS",
                       "roleArn": "arn:aws:iam::123456789012:role/bench",
                       "definition": definition.to_string()}),
            )
            .await?["stateMachineArn"]
            .as_str()
            .context("arn")?
            .to_string();
        // Warm the worker (the first call starts the process).
        time_sync(&mut c, &sm, 20, "warm-up").await?;
        rows.push(time_sync(&mut c, &sm, calls, &format!("lambda:invoke {runtime}")).await?);
    }
    Ok(rows)
}

async fn time_sync(c: &mut Client, arn: &str, calls: usize, what: &str) -> anyhow::Result<Row> {
    let mut latencies = Vec::with_capacity(calls);
    let started = Instant::now();
    for i in 0..calls {
        let t0 = Instant::now();
        let r = c
            .call(
                "StartSyncExecution",
                json!({"stateMachineArn": arn, "input": format!(r#"{{"i":{i}}}"#)}),
            )
            .await?;
        if r["status"] != "SUCCEEDED" {
            bail!("{what}: {r}");
        }
        latencies.push(t0.elapsed());
    }
    Ok(Row {
        workload: what.to_string(),
        mode: "http StartSyncExecution, 1 client".into(),
        executions: calls as u64,
        transitions: calls as u64,
        events: 0,
        elapsed: started.elapsed(),
        latencies,
        note: String::new(),
    })
}
