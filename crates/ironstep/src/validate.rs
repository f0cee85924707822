//! `ironstep validate`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use ironstep_asl::{CompileOptions, StateMachineType};

use crate::cli::ValidateArgs;

pub fn main(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let opts = CompileOptions {
        machine_type: if args.express {
            StateMachineType::Express
        } else {
            StateMachineType::Standard
        },
    };
    let mut failed = false;
    let mut out = std::io::stdout().lock();
    for file in &args.files {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let diagnostics = ironstep_asl::validate(&text, &opts);
        failed |= diagnostics.iter().any(|d| d.is_error());
        if args.json {
            let list: Vec<serde_json::Value> = diagnostics
                .iter()
                .map(|d| {
                    serde_json::json!({
                        "severity": d.severity.as_str(), "code": d.code.as_str(),
                        "message": d.message, "location": d.location,
                    })
                })
                .collect();
            let result = if diagnostics.iter().any(|d| d.is_error()) {
                "FAIL"
            } else {
                "OK"
            };
            writeln!(
                out,
                "{}",
                serde_json::json!({"file": file.display().to_string(), "result": result, "diagnostics": list})
            )?;
            continue;
        }
        if diagnostics.is_empty() {
            writeln!(out, "{}: OK", file.display())?;
        }
        for d in &diagnostics {
            let sev = if d.is_error() { "error" } else { "warning" };
            writeln!(
                out,
                "{}: {sev}[{}]: {}{}",
                file.display(),
                d.code.as_str(),
                d.message,
                d.location
                    .as_ref()
                    .map(|l| format!(" (at {l})"))
                    .unwrap_or_default()
            )?;
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
