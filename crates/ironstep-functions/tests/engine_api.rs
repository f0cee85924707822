//! The engine-side Rust API: concurrency bounds, warm reuse, persistence across restarts, hot
//! reload, logs, shutdown, idle reaping and `provided` runtimes (including awslambdaric).

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ironstep_functions::{
    ConfigurationUpdate, FunctionCode, FunctionDefinition, Functions, FunctionsConfig,
    InvocationStatus, InvokeRequest, InvokeResponse, LambdaApiError, LogType,
};

const SLEEPER: &str = r#"
import json, os, time
def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return {"pid": os.getpid(), "version": open(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "version.txt")).read()}
"#;

fn sleeper_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    common::write_dir(dir.path(), &[("app.py", SLEEPER), ("version.txt", "v1")]);
    dir
}

fn python_def(name: &str, dir: &Path) -> FunctionDefinition {
    let mut def = FunctionDefinition::new(
        name,
        "python3.12",
        "app.handler",
        FunctionCode::Directory(dir.to_path_buf()),
    );
    def.timeout = Some(10);
    def
}

async fn call(f: &Functions, name: &str, payload: &str) -> Result<InvokeResponse, LambdaApiError> {
    f.invoke(InvokeRequest {
        function: name.into(),
        payload: Bytes::from(payload.to_owned()),
        ..Default::default()
    })
    .await
}

fn json(r: &InvokeResponse) -> serde_json::Value {
    serde_json::from_slice(&r.payload).unwrap_or(serde_json::Value::Null)
}

fn pid_of(r: &InvokeResponse) -> u64 {
    json(r)["pid"].as_u64().unwrap_or(0)
}

fn alive(pid: u64) -> bool {
    // A zombie is not alive: it has exited and only waits to be reaped.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.split_whitespace().nth(2) != Some("Z"))
        .unwrap_or(false)
}

async fn wait_dead(pid: u64) -> bool {
    for _ in 0..50 {
        if !alive(pid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_is_bounded_excess_queues_then_throttles() {
    let dir = sleeper_dir();
    let mut config = FunctionsConfig::new();
    config.default_concurrency = 1;
    config.max_queued = 0;
    let f = Functions::open(config).await.expect("open");
    f.create_function(python_def("s", dir.path()))
        .await
        .expect("create");
    call(&f, "s", "{}").await.expect("warm up");

    // Concurrency 1, no queue: the second concurrent call is throttled at once.
    let (a, b) = tokio::join!(call(&f, "s", r#"{"sleep": 1}"#), async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        call(&f, "s", "{}").await
    });
    assert!(a.is_ok());
    let e = b.expect_err("throttled");
    assert_eq!(
        (e.code, e.http_status, e.reason),
        (
            "TooManyRequestsException",
            429,
            Some("ReservedFunctionConcurrentInvocationLimitExceeded")
        )
    );

    // Reserved concurrency 2: two run side by side in two workers.
    f.put_function_concurrency("s", 2).await.expect("put");
    let t = Instant::now();
    let (a, b) = tokio::join!(
        call(&f, "s", r#"{"sleep": 1}"#),
        call(&f, "s", r#"{"sleep": 1}"#)
    );
    let (a, b) = (a.expect("a"), b.expect("b"));
    assert!(
        t.elapsed() < Duration::from_millis(1900),
        "ran in parallel: {:?}",
        t.elapsed()
    );
    assert_ne!(pid_of(&a), pid_of(&b));
    f.shutdown();

    // With a queue, excess invocations wait for a free slot instead of failing.
    let mut config = FunctionsConfig::new();
    config.default_concurrency = 1;
    config.max_queued = 5;
    let f = Functions::open(config).await.expect("open");
    f.create_function(python_def("q", dir.path()))
        .await
        .expect("create");
    call(&f, "q", "{}").await.expect("warm up");
    let t = Instant::now();
    let results = futures_join3(&f).await;
    assert!(results.iter().all(Result::is_ok));
    assert!(
        t.elapsed() >= Duration::from_millis(1500),
        "serialised: {:?}",
        t.elapsed()
    );
    let pids: std::collections::HashSet<u64> = results.iter().flatten().map(pid_of).collect();
    assert_eq!(pids.len(), 1, "one worker served all three");
    f.shutdown();
}

async fn futures_join3(f: &Functions) -> Vec<Result<InvokeResponse, LambdaApiError>> {
    let (a, b, c) = tokio::join!(
        call(f, "q", r#"{"sleep": 0.6}"#),
        call(f, "q", r#"{"sleep": 0.6}"#),
        call(f, "q", r#"{"sleep": 0.6}"#)
    );
    vec![a, b, c]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warm_workers_are_reused_and_retired_on_change() {
    let dir = sleeper_dir();
    let f = Functions::open(FunctionsConfig::new()).await.expect("open");
    f.create_function(python_def("w", dir.path()))
        .await
        .expect("create");
    let first = pid_of(&call(&f, "w", "{}").await.expect("invoke"));
    for _ in 0..3 {
        assert_eq!(pid_of(&call(&f, "w", "{}").await.expect("invoke")), first);
    }
    assert_eq!(f.idle_worker_pids("w").expect("pids"), vec![first as u32]);

    // Hot-reload code is re-read at the next cold start; a configuration change forces one.
    std::fs::write(dir.path().join("version.txt"), "v2").expect("write");
    let update = ConfigurationUpdate {
        description: Some("changed".into()),
        ..Default::default()
    };
    f.update_function_configuration("w", update)
        .await
        .expect("update");
    assert!(wait_dead(first).await, "the stale worker was stopped");
    let r = call(&f, "w", "{}").await.expect("invoke");
    assert_ne!(pid_of(&r), first);
    assert_eq!(json(&r)["version"], "v2");

    // An edit of the directory alone also retires warm workers (checked at most once a second).
    let second = pid_of(&r);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        pid_of(&call(&f, "w", "{}").await.expect("invoke")),
        second,
        "unchanged: warm"
    );
    std::fs::write(dir.path().join("version.txt"), "v3!").expect("write");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = call(&f, "w", "{}").await.expect("invoke");
    assert_eq!(json(&r)["version"], "v3!");
    assert_ne!(pid_of(&r), second);

    // Idle reaping: a short idle timeout stops warm workers.
    f.shutdown();
    let mut config = FunctionsConfig::new();
    config.idle_timeout = Duration::from_millis(300);
    let f = Functions::open(config).await.expect("open");
    f.create_function(python_def("idle", dir.path()))
        .await
        .expect("create");
    let pid = pid_of(&call(&f, "idle", "{}").await.expect("invoke"));
    assert!(alive(pid));
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(f.idle_worker_pids("idle").expect("pids").is_empty());
    assert!(wait_dead(pid).await, "reaped worker process is gone");

    // Shutdown stops workers and refuses new invocations.
    let pid = pid_of(&call(&f, "idle", "{}").await.expect("invoke"));
    f.shutdown();
    assert!(wait_dead(pid).await);
    assert_eq!(
        call(&f, "idle", "{}")
            .await
            .expect_err("after shutdown")
            .code,
        "ServiceException"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn functions_survive_a_restart() {
    let data = tempfile::tempdir().expect("tmp");
    let zip = {
        use std::io::Write as _;
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        w.start_file("app.py", opts).expect("start");
        w.write_all(b"import os\ndef handler(event, context):\n    return {'sum': event['a'] + event['b'], 'var': os.environ['MY_VAR']}\n").expect("write");
        w.finish().expect("finish").into_inner()
    };
    {
        let f = Functions::open(FunctionsConfig::persistent(data.path()))
            .await
            .expect("open");
        let mut def =
            FunctionDefinition::new("adder", "python3.12", "app.handler", FunctionCode::Zip(zip));
        def.environment.insert("MY_VAR".into(), "kept".into());
        def.memory_size = Some(512);
        f.create_function(def).await.expect("create");
        f.create_function(FunctionDefinition::new(
            "gone",
            "python3.12",
            "app.handler",
            FunctionCode::Directory(data.path().to_path_buf()),
        ))
        .await
        .expect("create");
        f.delete_function("gone", None).await.expect("delete");
        f.put_function_concurrency("adder", 3)
            .await
            .expect("concurrency");
        assert_eq!(
            json(&call(&f, "adder", r#"{"a":1,"b":2}"#).await.expect("invoke"))["sum"],
            3
        );
        f.shutdown();
    }
    // A leftover of an interrupted update is cleaned up at open.
    let stale = data.path().join("functions/adder/code-interrupted");
    std::fs::create_dir_all(&stale).expect("mkdir");
    let f = Functions::open(FunctionsConfig::persistent(data.path()))
        .await
        .expect("reopen");
    assert!(!stale.exists());
    let (list, next) = f.list_functions(None, None).expect("list");
    assert_eq!(
        list.iter()
            .map(|c| c.function_name.as_str())
            .collect::<Vec<_>>(),
        ["adder"]
    );
    assert!(next.is_none());
    assert_eq!(list[0].memory_size, 512);
    assert_eq!(f.get_function_concurrency("adder").expect("get"), Some(3));
    let r = call(&f, "adder", r#"{"a":40,"b":2}"#)
        .await
        .expect("invoke");
    assert_eq!(json(&r), serde_json::json!({"sum": 42, "var": "kept"}));
    f.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invocations_are_logged_per_function() {
    let dir = tempfile::tempdir().expect("tmp");
    common::write_dir(
        dir.path(),
        &[(
            "app.py",
            "import time\ndef handler(event, context):\n    print('line for', event['n'])\n    if event.get('fail'): raise KeyError('k')\n    time.sleep(event.get('sleep', 0))\n    return event['n']\n",
        )],
    );
    let mut config = FunctionsConfig::new();
    config.log_records_per_function = 3;
    let f = Functions::open(config).await.expect("open");
    let mut def = python_def("logged", dir.path());
    def.timeout = Some(1);
    f.create_function(def).await.expect("create");
    for payload in [
        r#"{"n":1}"#,
        r#"{"n":2}"#,
        r#"{"n":3,"fail":true}"#,
        r#"{"n":4,"sleep":3}"#,
    ] {
        call(&f, "logged", payload).await.expect("invoke");
    }
    let tail = f
        .invoke(InvokeRequest {
            function: "logged".into(),
            payload: Bytes::from_static(br#"{"n":5}"#),
            log_type: LogType::Tail,
            ..Default::default()
        })
        .await
        .expect("invoke");
    let records = f.recent_invocations("logged").expect("records");
    assert_eq!(records.len(), 3, "bounded to the last 3");
    let statuses: Vec<InvocationStatus> = records.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [
            InvocationStatus::Error,
            InvocationStatus::Timeout,
            InvocationStatus::Success
        ]
    );
    assert_eq!(records[0].error_type.as_deref(), Some("KeyError"));
    assert!(records[1].duration >= Duration::from_secs(1));
    let last = &records[2];
    assert_eq!(last.request_id, tail.request_id);
    assert!(last.log.contains("line for 5"));
    assert!(last.log.contains(&format!(
        "START RequestId: {} Version: $LATEST",
        last.request_id
    )));
    assert!(
        last.log
            .contains(&format!("END RequestId: {}", last.request_id))
    );
    assert!(
        last.log.contains("Init Duration"),
        "cold start after the timeout killed the worker"
    );
    use base64::Engine as _;
    let tail_text = base64::engine::general_purpose::STANDARD
        .decode(tail.log_result.expect("tail"))
        .expect("b64");
    assert_eq!(String::from_utf8_lossy(&tail_text), last.log);
    f.shutdown();
}

/// A `provided` function whose `bootstrap` is a script implementing the Runtime API itself,
/// reporting the headers it received.
const SCRIPT_BOOTSTRAP: &str = r#"#!/usr/bin/env python3
import json, os, urllib.request
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
while True:
    with urllib.request.urlopen(api + "/invocation/next") as r:
        headers = {k.lower(): v for k, v in r.headers.items()}
        event = json.loads(r.read())
    rid = headers["lambda-runtime-aws-request-id"]
    if event.get("fail"):
        body = json.dumps({"errorMessage": "custom failure", "errorType": "MyError"}).encode()
        req = urllib.request.Request(api + f"/invocation/{rid}/error", data=body, method="POST",
                                     headers={"Lambda-Runtime-Function-Error-Type": "MyError"})
    else:
        out = {"headers": headers, "exec_env": os.environ.get("AWS_EXECUTION_ENV"), "handler": os.environ.get("_HANDLER")}
        req = urllib.request.Request(api + f"/invocation/{rid}/response", data=json.dumps(out).encode(), method="POST")
    urllib.request.urlopen(req).read()
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provided_runtime_runs_the_functions_own_bootstrap() {
    let dir = tempfile::tempdir().expect("tmp");
    common::write_dir(dir.path(), &[("bootstrap", SCRIPT_BOOTSTRAP)]);
    set_executable(&dir.path().join("bootstrap"));
    let f = Functions::open(FunctionsConfig::new()).await.expect("open");
    let mut def = FunctionDefinition::new(
        "custom",
        "provided.al2023",
        "ignored",
        FunctionCode::Directory(dir.path().to_path_buf()),
    );
    def.handler = None;
    f.create_function(def).await.expect("create");
    let r = f
        .invoke(InvokeRequest {
            function: "custom:$LATEST".into(),
            payload: Bytes::from_static(b"{}"),
            client_context: Some("eyJjdXN0b20iOnsiYSI6MX19".into()), // {"custom":{"a":1}}
            ..Default::default()
        })
        .await
        .expect("invoke");
    assert!(
        r.function_error.is_none(),
        "{:?}",
        String::from_utf8_lossy(&r.payload)
    );
    let out = json(&r);
    let h = &out["headers"];
    assert_eq!(h["lambda-runtime-aws-request-id"], r.request_id.as_str());
    assert_eq!(
        h["lambda-runtime-invoked-function-arn"],
        "arn:aws:lambda:us-east-1:123456789012:function:custom:$LATEST"
    );
    assert!(
        h["lambda-runtime-trace-id"]
            .as_str()
            .is_some_and(|t| t.starts_with("Root=1-"))
    );
    assert_eq!(h["lambda-runtime-client-context"], r#"{"custom":{"a":1}}"#);
    assert_eq!(
        h["lambda-runtime-cognito-identity"], "",
        "present but empty"
    );
    let deadline: u128 = h["lambda-runtime-deadline-ms"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("deadline");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("now")
        .as_millis();
    assert!(
        deadline > now && deadline <= now + 3000,
        "3 s default timeout"
    );
    assert!(
        out["exec_env"].is_null(),
        "no AWS_EXECUTION_ENV for OS-only runtimes"
    );

    let r = call(&f, "custom", r#"{"fail":true}"#)
        .await
        .expect("invoke");
    assert_eq!(r.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(
        json(&r),
        serde_json::json!({"errorMessage": "custom failure", "errorType": "MyError"})
    );

    // No bootstrap: Lambda's Runtime.InvalidEntrypoint.
    let empty = tempfile::tempdir().expect("tmp");
    let mut def = FunctionDefinition::new(
        "nobootstrap",
        "provided.al2",
        "x",
        FunctionCode::Directory(empty.path().to_path_buf()),
    );
    def.handler = None;
    f.create_function(def).await.expect("create");
    let r = call(&f, "nobootstrap", "{}").await.expect("invoke");
    let err = json(&r);
    assert_eq!(err["errorType"], "Runtime.InvalidEntrypoint");
    assert!(
        err["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("Couldn't find valid bootstrap(s)")),
        "{err}"
    );
    f.shutdown();
}

fn set_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// `awslambdaric` (AWS's Python runtime interface client) runs unmodified as a `provided.al2023`
/// bootstrap. Needs PyPI to build a virtualenv; skipped loudly otherwise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awslambdaric_runs_unmodified() {
    let venv = tempfile::tempdir().expect("tmp");
    let venv_path = venv.path().to_path_buf();
    let ready = tokio::task::spawn_blocking(move || {
        let ok =
            |c: &mut std::process::Command| c.output().map(|o| o.status.success()).unwrap_or(false);
        ok(std::process::Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv_path))
            && ok(std::process::Command::new(venv_path.join("bin/pip")).args([
                "install",
                "--quiet",
                "awslambdaric",
            ]))
    })
    .await
    .expect("join");
    if !ready {
        eprintln!(
            "SKIPPED: could not pip install awslambdaric into a virtualenv (no PyPI access?)"
        );
        return;
    }
    let code = tempfile::tempdir().expect("tmp");
    let python = venv.path().join("bin/python");
    common::write_dir(
        code.path(),
        &[
            (
                "bootstrap",
                &format!(
                    "#!/bin/sh\ncd \"$LAMBDA_TASK_ROOT\"\nexec {} -m awslambdaric \"$_HANDLER\"\n",
                    python.display()
                ),
            ),
            (
                "app.py",
                "def handler(event, context):\n    if event.get('fail'):\n        raise RuntimeError('ric failure')\n    return {'echo': event, 'rid': context.aws_request_id}\n",
            ),
        ],
    );
    set_executable(&code.path().join("bootstrap"));
    let f = Functions::open(FunctionsConfig::new()).await.expect("open");
    f.create_function(FunctionDefinition::new(
        "ric",
        "provided.al2023",
        "app.handler",
        FunctionCode::Directory(code.path().to_path_buf()),
    ))
    .await
    .expect("create");
    for _ in 0..2 {
        let r = call(&f, "ric", r#"{"x":1}"#).await.expect("invoke");
        assert!(
            r.function_error.is_none(),
            "{}",
            String::from_utf8_lossy(&r.payload)
        );
        assert_eq!(
            json(&r),
            serde_json::json!({"echo": {"x": 1}, "rid": r.request_id})
        );
    }
    let r = call(&f, "ric", r#"{"fail":true}"#).await.expect("invoke");
    let err = json(&r);
    assert_eq!(r.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(
        (err["errorType"].as_str(), err["errorMessage"].as_str()),
        (Some("RuntimeError"), Some("ric failure"))
    );
    assert_eq!(err["requestId"], r.request_id.as_str());
    f.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_started_by_a_function_die_with_its_worker() {
    let dir = tempfile::tempdir().expect("tmp");
    common::write_dir(
        dir.path(),
        &[(
            "app.py",
            "import os, subprocess, time\nchildren = []\ndef handler(event, context):\n    if event.get('exit'):\n        os._exit(3)\n    if event.get('hang'):\n        time.sleep(30)\n    p = subprocess.Popen(['sleep', '60'])\n    children.append(p)\n    return {'child': p.pid}\n",
        )],
    );
    let f = Functions::open(FunctionsConfig::new()).await.expect("open");
    let mut def = python_def("parent", dir.path());
    def.timeout = Some(1);
    f.create_function(def).await.expect("create");

    // A crash: the runtime exits, its child is killed with the process group.
    let child = json(&call(&f, "parent", "{}").await.expect("invoke"))["child"]
        .as_u64()
        .expect("pid");
    assert!(alive(child));
    let r = call(&f, "parent", r#"{"exit":true}"#)
        .await
        .expect("invoke");
    assert!(
        json(&r)["errorMessage"]
            .as_str()
            .is_some_and(|m| m.ends_with("Runtime exited with error: exit status 3"))
    );
    assert!(wait_dead(child).await, "child of a crashed worker is gone");

    // A timeout: the worker is killed, and its child with it.
    let child = json(&call(&f, "parent", "{}").await.expect("invoke"))["child"]
        .as_u64()
        .expect("pid");
    let r = call(&f, "parent", r#"{"hang":true}"#)
        .await
        .expect("invoke");
    assert!(
        json(&r)["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("Task timed out after 1."))
    );
    assert!(
        wait_dead(child).await,
        "child of a timed-out worker is gone"
    );
    f.shutdown();
}

/// A Rust function built with AWS's `lambda_runtime` crate (tests/fixtures/rust-function) runs
/// unmodified as a `provided.al2023` bootstrap. Building the fixture takes about a minute the
/// first time (its target directory is kept in the system temp dir across runs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_lambda_runtime_function_runs_unmodified() {
    let fixture = common::manifest_dir().join("tests/fixtures/rust-function");
    let target = std::env::temp_dir().join("ironstep-lambda-runtime-fixture");
    let build_target = target.clone();
    let built = tokio::task::spawn_blocking(move || {
        std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build", "--locked", "--quiet"])
            .current_dir(&fixture)
            .env("CARGO_TARGET_DIR", &build_target)
            .output()
    })
    .await
    .expect("join")
    .expect("cargo");
    assert!(
        built.status.success(),
        "fixture build failed: {}",
        String::from_utf8_lossy(&built.stderr)
    );
    let code = tempfile::tempdir().expect("tmp");
    std::fs::copy(
        target.join("debug/bootstrap"),
        code.path().join("bootstrap"),
    )
    .expect("copy");
    let f = Functions::open(FunctionsConfig::new()).await.expect("open");
    let mut def = FunctionDefinition::new(
        "rust",
        "provided.al2023",
        "bootstrap",
        FunctionCode::Directory(code.path().to_path_buf()),
    );
    def.memory_size = Some(256);
    f.create_function(def).await.expect("create");
    for client_context in [None, Some("eyJjdXN0b20iOnsiYSI6IjEifX0=".to_owned())] {
        let r = f
            .invoke(InvokeRequest {
                function: "rust".into(),
                payload: Bytes::from_static(br#"{"x":1}"#),
                client_context,
                ..Default::default()
            })
            .await
            .expect("invoke");
        assert!(
            r.function_error.is_none(),
            "{}",
            String::from_utf8_lossy(&r.payload)
        );
        assert_eq!(
            json(&r),
            serde_json::json!({"echo": {"x": 1}, "rid": r.request_id, "arn": "arn:aws:lambda:us-east-1:123456789012:function:rust"})
        );
    }
    let r = call(&f, "rust", r#"{"fail":true}"#).await.expect("invoke");
    assert_eq!(r.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(json(&r)["errorMessage"], "boom from rust");
    f.shutdown();
}
