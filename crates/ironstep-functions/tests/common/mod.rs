//! Test harness: the Lambda router on an ephemeral port (plus a fake Step Functions endpoint that
//! records what SDKs inside functions send), and helpers to drive it with boto3 and the aws CLI.
#![allow(dead_code)] // Each test file uses a different part of the harness.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::post;
use ironstep_functions::{Functions, FunctionsConfig};

/// A request the fake endpoint received.
#[derive(Debug, Clone)]
pub struct FakeCall {
    pub target: String,
    pub authorization: String,
    pub body: serde_json::Value,
}

pub struct Server {
    pub url: String,
    pub functions: Functions,
    pub calls: Arc<Mutex<Vec<FakeCall>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.functions.shutdown();
        self.task.abort();
    }
}

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Whether `program --version` runs.
pub fn has(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The Node SDK folder, installing it with `npm ci` when missing. `None` (with a loud message)
/// when node or npm is absent.
pub fn node_sdk() -> Option<PathBuf> {
    static SDK: OnceLock<Option<PathBuf>> = OnceLock::new();
    SDK.get_or_init(|| {
        if !has("node") {
            eprintln!("SKIPPED: node is not installed; Node.js function tests do not run");
            return None;
        }
        let dir = manifest_dir().join("runtimes/node");
        let modules = dir.join("node_modules");
        if !modules.join("@aws-sdk/client-sfn").is_dir() {
            let out = Command::new("npm")
                .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
                .current_dir(&dir)
                .output();
            match out {
                Ok(o) if o.status.success() => {}
                Ok(o) => panic!("npm ci failed: {}", String::from_utf8_lossy(&o.stderr)),
                Err(e) => {
                    eprintln!(
                        "SKIPPED: npm is not available ({e}); Node.js function tests do not run"
                    );
                    return None;
                }
            }
        }
        Some(modules)
    })
    .clone()
}

pub fn config() -> FunctionsConfig {
    let mut c = FunctionsConfig::new();
    c.node_sdk_dir = node_sdk();
    c
}

/// Opens `Functions` with `config`, serves its router and a fake Step Functions endpoint.
pub async fn start(mut config: FunctionsConfig) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    config.endpoint_url = Some(url.clone());
    let functions = Functions::open(config).await.expect("open");
    let calls: Arc<Mutex<Vec<FakeCall>>> = Arc::default();
    let recorded = calls.clone();
    let fake = axum::Router::new().route(
        "/",
        post(move |headers: HeaderMap, body: Bytes| {
            let recorded = recorded.clone();
            async move {
                let get = |n: &str| {
                    headers
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned()
                };
                recorded.lock().expect("lock").push(FakeCall {
                    target: get("x-amz-target"),
                    authorization: get("authorization"),
                    body: serde_json::from_slice(&body).unwrap_or_default(),
                });
                ([("content-type", "application/x-amz-json-1.0")], "{}")
            }
        }),
    );
    let app = functions.router().merge(fake);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Server {
        url,
        functions,
        calls,
        task,
    }
}

/// Python prelude for boto3 scripts: a Lambda client on `ENDPOINT` with no retries and no
/// client-side validation (so server-side validation is what gets tested), and a zip helper.
const PRELUDE: &str = r#"
import base64, io, json, os, sys, time, zipfile
import boto3, botocore
from botocore.config import Config
lam = boto3.client("lambda", endpoint_url=os.environ["ENDPOINT"], region_name="us-east-1",
                   aws_access_key_id="AKIDTEST", aws_secret_access_key="secret",
                   config=Config(retries={"max_attempts": 1}, parameter_validation=False, read_timeout=60))
def zip_of(files):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o755 if name == "bootstrap" else 0o644) << 16
            z.writestr(info, text)
    return buf.getvalue()
def create(name, runtime, handler, files, **kw):
    return lam.create_function(FunctionName=name, Runtime=runtime, Role="arn:aws:iam::123456789012:role/r",
                               Handler=handler, Code={"ZipFile": zip_of(files)}, **kw)
def invoke(name, payload=None, **kw):
    args = dict(FunctionName=name, **kw)
    if payload is not None:
        args["Payload"] = json.dumps(payload).encode()
    r = lam.invoke(**args)
    r["Body"] = r["Payload"].read()
    return r
def error_code(fn):
    try:
        fn()
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"]["Message"], type(e).__name__, e.response["ResponseMetadata"]["HTTPStatusCode"]
    raise AssertionError("no error")
"#;

/// Runs a boto3 script (after the prelude) against `url`; panics with its output on failure.
pub async fn boto3(url: &str, script: &str) -> String {
    let code = format!("{PRELUDE}\n{script}");
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        let out = Command::new("python3")
            .arg("-c")
            .arg(&code)
            .env("ENDPOINT", &url)
            .output()
            .expect("python3");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "boto3 script failed\n--- stdout\n{stdout}\n--- stderr\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    })
    .await
    .expect("join")
}

/// Runs the aws CLI against `url`; returns (success, stdout, stderr).
pub async fn aws_cli(url: &str, args: &[&str]) -> (bool, String, String) {
    let mut full: Vec<String> = vec![
        "--endpoint-url".into(),
        url.into(),
        "--region".into(),
        "us-east-1".into(),
    ];
    full.extend(args.iter().map(|s| s.to_string()));
    tokio::task::spawn_blocking(move || {
        let out = Command::new("aws")
            .args(&full)
            .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
            .env("AWS_SECRET_ACCESS_KEY", "secret")
            .env("AWS_MAX_ATTEMPTS", "1")
            .output()
            .expect("aws");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .expect("join")
}

/// Writes `files` into a fresh directory (for hot-reload functions).
pub fn write_dir(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&p, text).expect("write");
    }
}
