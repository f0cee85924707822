//! `ironstep validate`: AWS's diagnostics for definition files, one line each, the way linters
//! print them (`file:location: severity CODE message`), or as JSON lines with `--json`.
//!
//! Exit status: 0 when every file is valid (warnings allowed), 1 when a definition has an
//! error, 2 when a file could not be read (the other files are still checked).

use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;

use ironstep_asl::{Code, CompileOptions, Diagnostic, StateMachineType};
use serde_json::json;

use crate::cli::ValidateArgs;

pub fn main(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let opts = CompileOptions {
        machine_type: if args.express {
            StateMachineType::Express
        } else {
            StateMachineType::Standard
        },
    };
    let (mut invalid, mut unreadable) = (0usize, 0usize);
    let (mut errors, mut warnings) = (0usize, 0usize);
    let mut out = std::io::stdout().lock();
    for file in &args.files {
        let name = file.display().to_string();
        let text = match read(file) {
            Ok(t) => t,
            Err(e) => {
                unreadable += 1;
                if args.json {
                    writeln!(out, "{}", json!({"file": name, "error": e.to_string()}))?;
                } else {
                    eprintln!("{name}: error: cannot read the file: {e}");
                }
                continue;
            }
        };
        let diagnostics = ironstep_asl::validate(&text, &opts);
        let file_errors = diagnostics.iter().filter(|d| d.is_error()).count();
        errors += file_errors;
        warnings += diagnostics.len() - file_errors;
        invalid += usize::from(file_errors > 0);
        if args.json {
            let list: Vec<serde_json::Value> = diagnostics.iter().map(diagnostic_json).collect();
            let result = if file_errors > 0 { "FAIL" } else { "OK" };
            writeln!(
                out,
                "{}",
                json!({"file": name, "result": result, "diagnostics": list})
            )?;
            continue;
        }
        if diagnostics.is_empty() {
            writeln!(out, "{name}: OK")?;
        }
        for d in &diagnostics {
            writeln!(out, "{}", line(&name, d))?;
        }
    }
    if !args.json && args.files.len() > 1 {
        eprintln!(
            "{} files checked: {invalid} invalid, {unreadable} unreadable ({errors} errors, {warnings} warnings)",
            args.files.len()
        );
    }
    Ok(if unreadable > 0 {
        ExitCode::from(2)
    } else if invalid > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `-` reads standard input.
fn read(file: &Path) -> std::io::Result<String> {
    if file.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        Ok(s)
    } else {
        std::fs::read_to_string(file)
    }
}

/// One diagnostic as ValidateStateMachineDefinition returns it (no `location` key when absent).
pub fn diagnostic_json(d: &Diagnostic) -> serde_json::Value {
    let mut v =
        json!({"severity": d.severity.as_str(), "code": d.code.as_str(), "message": d.message});
    if let Some(l) = &d.location {
        v["location"] = json!(l);
    }
    v
}

/// `file:location: severity CODE message` on one line. A JSON syntax error is located by line
/// and column (`file:1:4:`) instead of Jackson's `[Source: ...]` excerpt, which already is in
/// the file itself.
pub fn line(file: &str, d: &Diagnostic) -> String {
    let severity = if d.is_error() { "error" } else { "warning" };
    let mut message = d.message.as_str();
    let location = match (&d.location, d.code) {
        (Some(l), Code::InvalidJsonDescription) => {
            // The message repeats the location after a newline; keep the first line.
            message = message.split('\n').next().unwrap_or(message);
            line_column(l).map(|(line, col)| format!("{line}:{col}"))
        }
        (Some(l), _) => Some(l.clone()),
        (None, _) => None,
    };
    let message = message.replace(['\n', '\r'], " ");
    match location {
        Some(l) => format!("{file}:{l}: {severity} {} {message}", d.code.as_str()),
        None => format!("{file}: {severity} {} {message}", d.code.as_str()),
    }
}

/// `line: L, column: C` from a parser location.
fn line_column(location: &str) -> Option<(usize, usize)> {
    let rest = &location[location.rfind("; line: ")? + "; line: ".len()..];
    let (line, rest) = rest.split_once(", column: ")?;
    let column = rest.strip_suffix(']')?;
    Some((line.parse().ok()?, column.parse().ok()?))
}
