//! Every definition AWS accepted in the recorded conformance corpus must compile here too.
//!
//! The corpus lives outside the repository, so this test is ignored by default:
//! `IRONSTEP_CONFORMANCE_DIR=/path/to/conformance/dev cargo test -p ironstep-asl --test
//! recorded_definitions -- --ignored`.

use std::path::{Path, PathBuf};

use ironstep_asl::{CompileOptions, StateMachineType};
use serde_json::Value;

fn case_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            case_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
}

fn definitions(case: &Value) -> Vec<(String, StateMachineType)> {
    let mut out = Vec::new();
    let mut push = |sm: &Value| {
        let ty = match sm.get("type").and_then(Value::as_str) {
            Some("EXPRESS") => StateMachineType::Express,
            _ => StateMachineType::Standard,
        };
        let text = match sm.get("definition_raw").and_then(Value::as_str) {
            Some(raw) => raw.to_string(),
            None => sm
                .get("definition")
                .map(Value::to_string)
                .unwrap_or_default(),
        };
        out.push((resolve(&text), ty));
    };
    if let Some(sm) = case.get("state_machine") {
        push(sm);
    }
    for sm in case
        .get("auxiliary_state_machines")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        push(sm);
    }
    out
}

/// The corpus writes ARNs of resources the runner creates as `${KIND:name}` tokens.
fn resolve(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let Some(end) = rest[i..].find('}') else {
            break;
        };
        let token = &rest[i + 2..i + end];
        let (kind, arg) = token.split_once(':').unwrap_or((token, ""));
        out.push_str(&match kind {
            "LAMBDA_ARN" => format!("arn:aws:lambda:us-east-1:123456789012:function:{arg}"),
            "SM_ARN" => format!("arn:aws:states:us-east-1:123456789012:stateMachine:sm{arg}"),
            "ROLE_ARN" => "arn:aws:iam::123456789012:role/r".to_string(),
            "ACCOUNT_ID" => "123456789012".to_string(),
            "REGION" => "us-east-1".to_string(),
            "NOW" => "2030-01-01T00:00:00Z".to_string(),
            _ => rest[i..i + end + 1].to_string(),
        });
        rest = &rest[i + end + 1..];
    }
    out.push_str(rest);
    out
}

#[test]
#[ignore = "needs IRONSTEP_CONFORMANCE_DIR"]
fn every_recorded_definition_compiles() {
    let dir = std::env::var_os("IRONSTEP_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .expect("set IRONSTEP_CONFORMANCE_DIR to the conformance cases folder");
    let mut files = Vec::new();
    case_files(&dir, &mut files);
    files.sort();
    assert!(!files.is_empty(), "no cases under {}", dir.display());
    let mut failures = Vec::new();
    let mut count = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).expect("readable case");
        let case: Value = serde_json::from_str(&text).expect("case is JSON");
        for (def, machine_type) in definitions(&case) {
            count += 1;
            let opts = CompileOptions { machine_type };
            let errors: Vec<String> = ironstep_asl::validate(&def, &opts)
                .into_iter()
                .filter(|d| d.is_error())
                .map(|d| d.to_string())
                .collect();
            if !errors.is_empty() {
                failures.push(format!("{}: {}", f.display(), errors.join("; ")));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} recorded definitions rejected:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
