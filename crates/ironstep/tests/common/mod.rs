//! Shared helpers for the binary's integration tests: start a real `ironstep serve` on a free
//! port, and drive it with real clients (boto3 through Python, the aws CLI).
//!
//! The store is the test run's choice: SQLite under a fresh data directory by default, or,
//! with `IRONSTEP_TEST_STORE=postgres`, a fresh PostgreSQL database per server (on the server
//! `IRONSTEP_TEST_POSTGRES` names), so the same tests check both backends.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use ironstep_store_postgres::testing::TestDatabase;

/// A running `ironstep serve`, killed on drop.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub data_dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    pub log: PathBuf,
    /// The PostgreSQL database it runs on (kept while any server of this data directory runs).
    pub db: Option<Arc<TestDatabase>>,
}

/// Whether this test run puts servers on PostgreSQL (`IRONSTEP_TEST_STORE=postgres`).
pub fn on_postgres() -> bool {
    std::env::var("IRONSTEP_TEST_STORE").is_ok_and(|v| v == "postgres")
}

/// The database of a data directory: a restart on the same directory finds the same one.
fn database_for(data_dir: &Path) -> Arc<TestDatabase> {
    static DBS: Mutex<Option<HashMap<PathBuf, Weak<TestDatabase>>>> = Mutex::new(None);
    let mut dbs = DBS.lock().unwrap_or_else(|p| p.into_inner());
    let map = dbs.get_or_insert_with(HashMap::new);
    if let Some(db) = map.get(data_dir).and_then(Weak::upgrade) {
        return db;
    }
    let db = Arc::new(TestDatabase::create_blocking());
    map.insert(data_dir.to_path_buf(), Arc::downgrade(&db));
    db
}

impl Server {
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Python code every test script starts with: boto3 clients and small helpers.
pub const PRELUDE: &str = r#"
import boto3, botocore, json, os, time, io, zipfile, sys
from botocore.config import Config
ENDPOINT = os.environ["ENDPOINT"]
KW = dict(endpoint_url=ENDPOINT, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
sfn = boto3.client("stepfunctions", config=Config(inject_host_prefix=False, retries={"max_attempts": 0}), **KW)
lam = boto3.client("lambda", config=Config(retries={"max_attempts": 0}), **KW)
ROLE = "arn:aws:iam::123456789012:role/test"
def wait(arn, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        d = sfn.describe_execution(executionArn=arn)
        if d["status"] != "RUNNING":
            return d
        time.sleep(0.05)
    raise AssertionError("still running: " + arn)
def history(arn):
    out, token = [], None
    while True:
        kw = {"executionArn": arn, "maxResults": 1000}
        if token: kw["nextToken"] = token
        r = sfn.get_execution_history(**kw)
        out += r["events"]
        token = r.get("nextToken")
        if not token: return out
def settled(arn, timeout=300):
    # Wait for the execution to close, check its history ids are contiguous, and return what
    # must equal an uninterrupted run.
    d = wait(arn, timeout)
    h = history(arn)
    ids = [e["id"] for e in h]
    assert ids == list(range(1, len(h) + 1)), (arn, ids)
    return {"status": d["status"], "output": d.get("output"), "types": [e["type"] for e in h]}
def err(fn, **kw):
    try:
        fn(**kw)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"].get("Message", "")
    raise AssertionError("expected an error")
"#;

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The ironstep binary built for these tests.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_ironstep")
}

/// Start `ironstep serve` with extra arguments on a fresh data directory.
pub fn serve(extra: &[&str]) -> Server {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("data");
    let mut s = serve_in(&dir, extra);
    s._tmp = Some(tmp);
    s
}

/// Start `ironstep serve` on a given data directory (reused across restarts).
pub fn serve_in(data_dir: &Path, extra: &[&str]) -> Server {
    serve_on(data_dir, free_port(), extra)
}

/// Start `ironstep serve` on a given data directory and port (a restart after a crash).
pub fn serve_on(data_dir: &Path, port: u16, extra: &[&str]) -> Server {
    let log = data_dir.with_extension(format!("log-{port}"));
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .expect("log file");
    let db = (on_postgres() && !extra.contains(&"--store")).then(|| database_for(data_dir));
    let mut cmd = Command::new(bin());
    cmd.arg("serve")
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(extra);
    if let Some(db) = &db {
        cmd.arg("--store").arg(&db.url);
    }
    let child = cmd
        .stdout(Stdio::null())
        .stderr(log_file)
        .spawn()
        .expect("start ironstep serve");
    let server = Server {
        child,
        port,
        data_dir: data_dir.to_path_buf(),
        _tmp: None,
        log,
        db,
    };
    wait_healthy(&server);
    server
}

fn wait_healthy(s: &Server) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", s.port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "ironstep serve did not start; log:\n{}",
        std::fs::read_to_string(&s.log).unwrap_or_default()
    );
}

/// The Python that has boto3: `IRONSTEP_TEST_PYTHON`, the repository's `.venv`, or `python3`.
pub fn python() -> String {
    if let Ok(p) = std::env::var("IRONSTEP_TEST_PYTHON") {
        return p;
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    if venv.exists() {
        return venv.display().to_string();
    }
    "python3".into()
}

/// Run a Python script (boto3 available, `ENDPOINT` set to the server) and return stdout.
/// Panics with the script's stderr if it fails.
pub fn py(server: &Server, script: &str) -> String {
    py_env(server, &[], script)
}

/// [`py`] with extra environment variables for the script.
pub fn py_env(server: &Server, env: &[(&str, String)], script: &str) -> String {
    let out = py_output_env(server, env, script);
    if !out.status.success() {
        panic!(
            "python failed:\n--- stdout\n{}\n--- stderr\n{}\n--- server log\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&server.log).unwrap_or_default()
        );
    }
    String::from_utf8_lossy(&out.stdout).to_string()
}

pub fn py_output(server: &Server, script: &str) -> Output {
    py_output_env(server, &[], script)
}

fn py_output_env(server: &Server, env: &[(&str, String)], script: &str) -> Output {
    py_spawn(server, env, script)
        .wait_with_output()
        .expect("python output")
}

/// Start a Python script (the [`PRELUDE`] first, `ENDPOINT` set to the server) in the
/// background, with stdout and stderr piped: a workload that runs while the test kills servers.
pub fn py_spawn(server: &Server, env: &[(&str, String)], script: &str) -> Child {
    let mut child = Command::new(python())
        .arg("-")
        .env("ENDPOINT", server.endpoint())
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{PRELUDE}\n{script}").as_bytes())
        .expect("write script");
    child
}

/// Pseudo-random pauses between kills, from a fixed seed so that a failure reproduces.
pub struct KillPauses(u64);

impl KillPauses {
    pub fn new(seed: u64) -> Self {
        KillPauses(seed)
    }

    /// The next pause: `base_ms` plus up to `spread_ms`.
    pub fn next(&mut self, base_ms: u64, spread_ms: u64) -> Duration {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        Duration::from_millis(base_ms + (self.0 >> 33) % spread_ms)
    }
}
