//! `ironstep run`: one execution in process, with its progress on the terminal.

use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use ironstep_asl::{CompileOptions, StateMachineType};
use ironstep_runtime::machines::CreateStateMachine;
use ironstep_runtime::{Engine, StartRequest, SystemClock};
use ironstep_store::MemoryStore;
use serde_json::Value;

use crate::cli::RunArgs;
use crate::serve::engine_config;

pub fn main(args: RunArgs) -> anyhow::Result<ExitCode> {
    let definition = if args.definition.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        s
    } else {
        std::fs::read_to_string(&args.definition)
            .with_context(|| format!("reading {}", args.definition.display()))?
    };
    let input = match args.input.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?,
        None => args.input.clone(),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(run(args, definition, input))
}

async fn run(args: RunArgs, definition: String, input: String) -> anyhow::Result<ExitCode> {
    let config = engine_config(&args.engine)?;
    let engine = Engine::start(config, Arc::new(MemoryStore::new()), Arc::new(SystemClock))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let name = args
        .definition
        .file_stem()
        .and_then(|s| s.to_str())
        .map(|s| {
            s.chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect::<String>()
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "run".to_string());
    // Express executions keep no history in AWS; `run` always runs STANDARD semantics unless
    // asked, so that the history can be shown.
    let created = engine
        .create_state_machine(CreateStateMachine {
            name,
            definition: definition.clone(),
            role_arn: "arn:aws:iam::123456789012:role/ironstep-run".into(),
            machine_type: Some(if args.express { "EXPRESS" } else { "STANDARD" }.into()),
            ..Default::default()
        })
        .await;
    let created = match created {
        Ok(c) => c,
        Err(e) if e.code.as_str() == "InvalidDefinition" => {
            // The API's one-line message is hard to read for several problems: print each
            // diagnostic the way `ironstep validate` does.
            let opts = CompileOptions {
                machine_type: if args.express {
                    StateMachineType::Express
                } else {
                    StateMachineType::Standard
                },
            };
            let file = args.definition.display().to_string();
            let diagnostics = ironstep_asl::validate(&definition, &opts);
            for d in diagnostics.iter().filter(|d| d.is_error()) {
                eprintln!("{}", crate::validate::line(&file, d));
            }
            if !diagnostics.iter().any(|d| d.is_error()) {
                eprintln!("{}: {}", e.code.as_str(), e.message);
            }
            return Ok(ExitCode::from(1));
        }
        Err(e) => {
            eprintln!("{}: {}", e.code.as_str(), e.message);
            return Ok(ExitCode::from(1));
        }
    };
    if args.express {
        let r = engine
            .start_sync_execution(StartRequest {
                state_machine_arn: created.arn,
                input: Some(input),
                ..Default::default()
            })
            .await;
        return match r {
            Ok(s) => print_result(&s.record, args.quiet),
            Err(e) => {
                eprintln!("{}: {}", e.code.as_str(), e.message);
                Ok(ExitCode::from(1))
            }
        };
    }
    let started = match engine
        .start_execution(StartRequest {
            state_machine_arn: created.arn,
            input: Some(input),
            ..Default::default()
        })
        .await
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{}: {}", e.code.as_str(), e.message);
            return Ok(ExitCode::from(1));
        }
    };
    let arn = started.execution_arn;
    let tty = std::io::stderr().is_terminal();
    let mut seen = 0u64;
    let record = loop {
        let rec = engine
            .describe_execution(&arn)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if !args.quiet {
            let page = engine
                .history(&arn, Some(seen + 1), false, 1000, true)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let mut err = std::io::stderr().lock();
            for ev in &page.events {
                seen = ev.get("id").and_then(Value::as_u64).unwrap_or(seen);
                if let Some(line) = progress_line(ev, tty) {
                    writeln!(err, "{line}")?;
                }
            }
            if page.next.is_some() {
                continue;
            }
        }
        if rec.status != "RUNNING" {
            break rec;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    if args.history {
        let mut all = Vec::new();
        let mut from = None;
        loop {
            let p = engine
                .history(&arn, from, false, 1000, true)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            all.extend(p.events);
            match p.next {
                Some(n) => from = Some(n),
                None => break,
            }
        }
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"events": all}))?
        );
    }
    print_result(&record, args.quiet || args.history)
}

fn progress_line(ev: &Value, tty: bool) -> Option<String> {
    let t = ev.get("type")?.as_str()?;
    let (mark, color) = if t.ends_with("StateEntered") {
        ("→", "36")
    } else if t.ends_with("StateExited") {
        ("←", "32")
    } else if t.ends_with("Failed") || t.ends_with("TimedOut") || t.ends_with("Aborted") {
        ("✗", "31")
    } else {
        ("·", "2")
    };
    let details = ev
        .as_object()?
        .iter()
        .find(|(k, _)| k.ends_with("EventDetails"))
        .map(|(_, v)| v);
    let name = details
        .and_then(|d| d.get("name"))
        .and_then(Value::as_str)
        .map(|n| format!(" {n}"))
        .unwrap_or_default();
    let id = ev.get("id").and_then(Value::as_u64).unwrap_or(0);
    let text = format!("{id:>4} {mark} {t}{name}");
    Some(if tty {
        format!("\x1b[{color}m{text}\x1b[0m")
    } else {
        text
    })
}

fn print_result(rec: &ironstep_store::ExecutionRecord, quiet: bool) -> anyhow::Result<ExitCode> {
    match rec.status.as_str() {
        "SUCCEEDED" => {
            let out = rec.output.clone().unwrap_or_default();
            let pretty = serde_json::from_str::<Value>(&out)
                .ok()
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .unwrap_or(out);
            if !quiet {
                eprintln!("SUCCEEDED");
            }
            println!("{pretty}");
            Ok(ExitCode::SUCCESS)
        }
        status => {
            eprintln!(
                "{status}: {}{}",
                rec.error.as_deref().unwrap_or(""),
                rec.cause
                    .as_ref()
                    .map(|c| format!(": {c}"))
                    .unwrap_or_default()
            );
            if status == "RUNNING" {
                bail!("the execution did not finish");
            }
            Ok(ExitCode::from(1))
        }
    }
}
