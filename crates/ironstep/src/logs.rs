//! `ironstep logs FUNCTION`: a local function's recent invocations and what each printed
//! (stdout and stderr, kept per invocation by the server), oldest first, like CloudWatch Logs'
//! view of a Lambda function. `--follow` keeps printing new invocations as they happen.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use ironstep_deploy::Client;
use serde_json::Value;

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The function's name (or ARN).
    pub function: String,
    /// The ironstep server.
    #[arg(long, env = "IRONSTEP_ENDPOINT", default_value = crate::deploy::DEFAULT_ENDPOINT)]
    pub endpoint: String,
    /// Only the last N invocations.
    #[arg(long)]
    pub tail: Option<usize>,
    /// Keep printing new invocations until interrupted.
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// Print the invocations as JSON lines.
    #[arg(long)]
    pub json: bool,
}

pub fn main(args: LogsArgs) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(run(&args))
}

async fn run(args: &LogsArgs) -> anyhow::Result<ExitCode> {
    let client = Client::new(&args.endpoint)?;
    if !client.is_listening().await {
        bail!(
            "no ironstep server answers at {} (start one with `ironstep serve`, or pass --endpoint)",
            args.endpoint
        );
    }
    let name = args
        .function
        .rsplit(":function:")
        .next()
        .unwrap_or(&args.function)
        .split(':')
        .next()
        .unwrap_or_default()
        .to_string();
    let path = format!("/ironstep/api/functions/{}/invocations", encode(&name));
    let mut seen: HashSet<String> = HashSet::new();
    let mut first = true;
    loop {
        let page = match client.get(&path).await? {
            Ok(v) => v,
            Err(e) => bail!("{}: {}", e.code, e.message),
        };
        // Newest first on the wire; print oldest first.
        let mut items: Vec<Value> = page
            .get("invocations")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        items.reverse();
        if first && let Some(n) = args.tail {
            let skip = items.len().saturating_sub(n);
            for i in &items[..skip] {
                seen.insert(request_id(i));
            }
        }
        let mut out = String::new();
        for i in &items {
            if !seen.insert(request_id(i)) {
                continue;
            }
            if args.json {
                let _ = writeln!(out, "{i}");
            } else {
                render(&mut out, i);
            }
        }
        if first && items.is_empty() && !args.follow {
            out.push_str("no invocations yet\n");
        }
        std::io::stdout().write_all(out.as_bytes())?;
        std::io::stdout().flush()?;
        first = false;
        if !args.follow {
            return Ok(ExitCode::SUCCESS);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn request_id(i: &Value) -> String {
    i.get("requestId")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// `START`/`END`/`REPORT` lines around the captured output, as Lambda writes them.
fn render(out: &mut String, i: &Value) {
    let s = |k: &str| i.get(k).and_then(Value::as_str).unwrap_or("");
    let id = s("requestId");
    let _ = writeln!(out, "START RequestId: {id}");
    let log = s("log");
    out.push_str(log);
    if !log.is_empty() && !log.ends_with('\n') {
        out.push('\n');
    }
    let _ = writeln!(out, "END RequestId: {id}");
    let duration = i.get("durationMs").and_then(Value::as_f64).unwrap_or(0.0);
    let status = s("status");
    let error = match i.get("errorType").and_then(Value::as_str) {
        Some(e) => format!("\tError: {e}"),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "REPORT RequestId: {id}\tDuration: {duration:.2} ms\tStatus: {status}{error}"
    );
}

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => out.push(b as char),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}
