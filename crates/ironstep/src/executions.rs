//! `ironstep executions`: list executions of a running server across state machines, filtered
//! by parent (the `.sync`/callback children a parent started), state machine, status or name.
//! The Step Functions API cannot do this (ListExecutions needs one state machine and knows no
//! parents), so it reads the console's `/ironstep/api/executions`.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use ironstep_deploy::Client;
use serde_json::Value;

#[derive(Debug, Args)]
pub struct ExecutionsArgs {
    /// The ironstep server.
    #[arg(long, env = "IRONSTEP_ENDPOINT", default_value = crate::deploy::DEFAULT_ENDPOINT)]
    pub endpoint: String,
    /// Only the children this execution started (through `states:startExecution`).
    #[arg(long, value_name = "EXECUTION_ARN")]
    pub parent: Option<String>,
    /// Only executions of this state machine.
    #[arg(long, value_name = "STATE_MACHINE_ARN")]
    pub state_machine: Option<String>,
    /// Only executions with this status.
    #[arg(long, value_parser = ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"])]
    pub status: Option<String>,
    /// Only executions whose name contains this text (case-insensitive).
    #[arg(long)]
    pub name: Option<String>,
    /// At most this many (newest first).
    #[arg(long, default_value_t = 100)]
    pub max: usize,
    /// Print the executions as JSON (one array) instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn main(args: ExecutionsArgs) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let items = rt.block_on(fetch(&args))?;
    let mut out = String::new();
    if args.json {
        out = serde_json::to_string_pretty(&items)?;
        out.push('\n');
    } else if items.is_empty() {
        out.push_str("no executions\n");
    } else {
        let _ = writeln!(
            out,
            "{:<10} {:<24} {:<28} EXECUTION ARN",
            "STATUS", "STARTED", "STATE MACHINE"
        );
        for e in &items {
            let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("-");
            let started = e
                .get("startDate")
                .and_then(Value::as_f64)
                .map(iso)
                .unwrap_or_else(|| "-".into());
            let _ = writeln!(
                out,
                "{:<10} {:<24} {:<28} {}",
                s("status"),
                started,
                s("stateMachineName"),
                s("executionArn")
            );
            if args.parent.is_none()
                && let Some(p) = e.get("parentArn").and_then(Value::as_str)
            {
                let _ = writeln!(out, "{:<10} {:<24} {:<28}   started by {p}", "", "", "");
            }
        }
    }
    use std::io::Write;
    std::io::stdout().write_all(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

async fn fetch(args: &ExecutionsArgs) -> anyhow::Result<Vec<Value>> {
    let client = Client::new(&args.endpoint)?;
    if !client.is_listening().await {
        bail!(
            "no ironstep server answers at {} (start one with `ironstep serve`, or pass --endpoint)",
            args.endpoint
        );
    }
    let mut items = Vec::new();
    let mut token: Option<String> = None;
    while items.len() < args.max {
        let mut query = vec![format!("maxResults={}", (args.max - items.len()).min(1000))];
        for (k, v) in [
            ("parentArn", &args.parent),
            ("stateMachineArn", &args.state_machine),
            ("status", &args.status),
            ("name", &args.name),
            ("nextToken", &token),
        ] {
            if let Some(v) = v {
                query.push(format!("{k}={}", encode(v)));
            }
        }
        let path = format!("/ironstep/api/executions?{}", query.join("&"));
        let page = match client.get(&path).await? {
            Ok(v) => v,
            Err(e) => bail!("{}: {}", e.code, e.message),
        };
        if let Some(list) = page.get("executions").and_then(Value::as_array) {
            items.extend(list.iter().cloned());
        }
        token = page
            .get("nextToken")
            .and_then(Value::as_str)
            .map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    items.truncate(args.max);
    Ok(items)
}

/// Percent-encoding for a query value (ARNs hold `:`; names may hold anything).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' => {
                out.push(b as char)
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// Epoch seconds (the console's `startDate`) as `YYYY-MM-DD HH:MM:SS` UTC.
fn iso(secs: f64) -> String {
    let t = secs as i64;
    let (days, rem) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    // Civil-from-days (Howard Hinnant's algorithm), proleptic Gregorian.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_print_in_utc() {
        assert_eq!(iso(0.0), "1970-01-01 00:00:00");
        assert_eq!(iso(1_764_151_200.5), "2025-11-26 10:00:00");
        assert_eq!(iso(951_782_400.0), "2000-02-29 00:00:00");
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(
            encode("arn:aws:states:us-east-1:1:execution:a b&c"),
            "arn:aws:states:us-east-1:1:execution:a%20b%26c"
        );
    }
}
