//! `ironstep validate` and `ironstep run` through the real binary: exit codes, what goes to
//! standard output (data) and standard error (progress and problems), and the one-line
//! diagnostics `file:location: severity CODE message`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn ironstep(args: &[&str], stdin: Option<&str>, dir: &Path) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ironstep"))
        .args(args)
        .current_dir(dir)
        .env_remove("IRONSTEP_STORE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the ironstep binary starts");
    let mut pipe = child.stdin.take().expect("stdin is piped");
    if let Some(text) = stdin {
        pipe.write_all(text.as_bytes())
            .expect("stdin accepts the text");
    }
    drop(pipe);
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().expect("ironstep finishes");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// A temporary folder with the given files.
fn files(list: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    for (name, text) in list {
        std::fs::write(dir.path().join(name), text).expect("the file is written");
    }
    dir
}

fn path(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

const VALID: &str =
    r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"ok": true}, "End": true}}}"#;
const DANGLING: &str = r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nope"}}}"#;
const WARNING_ONLY: &str = r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"a": "$.x"}, "End": true}}}"#;
const CALLBACK: &str = r#"{"StartAt": "T", "States": {"T": {"Type": "Task",
    "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
    "Parameters": {"QueueUrl": "q", "MessageBody": {"t.$": "$$.Task.Token"}}, "End": true}}}"#;

// ---- validate ------------------------------------------------------------------------------

#[test]
fn validate_a_valid_file_says_ok_and_exits_0() {
    let dir = files(&[("ok.json", VALID)]);
    let r = ironstep(&["validate", "ok.json"], None, dir.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "ok.json: OK\n");
    assert_eq!(r.stderr, "");
}

#[test]
fn validate_prints_one_line_per_diagnostic_with_file_location_severity_and_code() {
    let dir = files(&[("bad.json", DANGLING)]);
    let r = ironstep(&["validate", "bad.json"], None, dir.path());
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stdout,
        "bad.json:/States/A/Next: error MISSING_TRANSITION_TARGET Missing 'Next' target: Nope\n\
         bad.json: error MISSING_END_STATE Workflow has no terminal state\n"
    );
}

#[test]
fn validate_names_the_state_and_field_of_nested_problems() {
    let def = r#"{"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": "1", "Next": "Done"}], "Default": "Done"},
        "Done": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
                 "Retry": [{"ErrorEquals": ["States.ALL"], "BackoffRate": 0.5}]}}}"#;
    let dir = files(&[("nested.json", def)]);
    let r = ironstep(&["validate", "nested.json"], None, dir.path());
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stdout,
        "nested.json:/States/C/Choices[0]/NumericEquals: error SCHEMA_VALIDATION_FAILED The value for the field 'NumericEquals' must be a number\n\
         nested.json:/States/Done/Retry[0]/BackoffRate: error SCHEMA_VALIDATION_FAILED The value for the field 'BackoffRate' must be a number greater than or equal to 1.0\n"
    );
}

#[test]
fn validate_warnings_do_not_fail() {
    let dir = files(&[("warn.json", WARNING_ONLY)]);
    let r = ironstep(&["validate", "warn.json"], None, dir.path());
    assert_eq!(r.code, 0);
    assert_eq!(
        r.stdout,
        "warn.json:/States/P/Parameters/a: warning NO_DOLLAR The value of the field 'a' looks like a JSONPath, but the field name does not end with '.$'\n"
    );
}

#[test]
fn validate_a_file_that_is_not_json_is_located_by_line_and_column() {
    let dir = files(&[
        ("notes.txt", "not a definition"),
        (
            "broken.json",
            "{\n  \"StartAt\": \"A\",\n  \"States\": {\n}",
        ),
    ]);
    let r = ironstep(&["validate", "notes.txt"], None, dir.path());
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stdout,
        "notes.txt:1:4: error INVALID_JSON_DESCRIPTION Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')\n"
    );
    let r = ironstep(&["validate", "broken.json"], None, dir.path());
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .starts_with("broken.json:4:1: error INVALID_JSON_DESCRIPTION "),
        "{}",
        r.stdout
    );
    assert_eq!(r.stdout.lines().count(), 1, "one line: {}", r.stdout);
}

#[test]
fn validate_several_files_reports_each_and_sums_up_on_stderr() {
    let dir = files(&[
        ("a.json", VALID),
        ("b.json", DANGLING),
        ("c.json", WARNING_ONLY),
    ]);
    let r = ironstep(
        &["validate", "a.json", "b.json", "c.json"],
        None,
        dir.path(),
    );
    assert_eq!(r.code, 1);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", r.stdout);
    assert_eq!(lines[0], "a.json: OK");
    assert!(lines[1].starts_with("b.json:/States/A/Next: error "));
    assert!(lines[2].starts_with("b.json: error MISSING_END_STATE"));
    assert!(lines[3].starts_with("c.json:/States/P/Parameters/a: warning NO_DOLLAR"));
    assert_eq!(
        r.stderr,
        "3 files checked: 1 invalid, 0 unreadable (2 errors, 1 warnings)\n"
    );
}

#[test]
fn validate_a_missing_file_is_reported_and_the_others_still_checked() {
    let dir = files(&[("a.json", VALID), ("b.json", DANGLING)]);
    let r = ironstep(
        &["validate", "missing.json", "a.json", "b.json"],
        None,
        dir.path(),
    );
    assert_eq!(r.code, 2, "unreadable files win over invalid ones");
    assert!(
        r.stderr
            .starts_with("missing.json: error: cannot read the file: "),
        "{}",
        r.stderr
    );
    assert!(r.stdout.contains("a.json: OK\n"));
    assert!(r.stdout.contains("b.json:/States/A/Next: error"));
    let r = ironstep(&["validate", "missing.json"], None, dir.path());
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout, "");
}

#[test]
fn validate_json_prints_the_api_shape_one_file_per_line() {
    let dir = files(&[("a.json", VALID), ("b.json", DANGLING)]);
    let r = ironstep(
        &["validate", "--json", "a.json", "b.json", "nope.json"],
        None,
        dir.path(),
    );
    assert_eq!(r.code, 2);
    let docs: Vec<Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(
        docs[0],
        json!({"file": "a.json", "result": "OK", "diagnostics": []})
    );
    assert_eq!(
        docs[1],
        json!({"file": "b.json", "result": "FAIL", "diagnostics": [
            {"severity": "ERROR", "code": "MISSING_TRANSITION_TARGET", "message": "Missing 'Next' target: Nope", "location": "/States/A/Next"},
            {"severity": "ERROR", "code": "MISSING_END_STATE", "message": "Workflow has no terminal state"}]})
    );
    assert_eq!(docs[2]["file"], "nope.json");
    assert!(docs[2]["error"].is_string());
    assert_eq!(r.stderr, "", "JSON mode writes no summary");
}

#[test]
fn validate_express_rejects_callbacks_that_standard_accepts() {
    let dir = files(&[("cb.json", CALLBACK)]);
    let r = ironstep(&["validate", "cb.json"], None, dir.path());
    assert_eq!((r.code, r.stdout.as_str()), (0, "cb.json: OK\n"));
    let r = ironstep(&["validate", "--express", "cb.json"], None, dir.path());
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stdout,
        "cb.json:/States/T/Resource: error SCHEMA_VALIDATION_FAILED Express state machine does not support '.waitForTaskToken' service integration \n"
    );
}

#[test]
fn validate_reads_standard_input_as_dash() {
    let dir = files(&[]);
    let r = ironstep(&["validate", "-"], Some(DANGLING), dir.path());
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.starts_with("-:/States/A/Next: error"),
        "{}",
        r.stdout
    );
}

#[test]
fn validate_without_files_is_a_usage_error() {
    let dir = files(&[]);
    let r = ironstep(&["validate"], None, dir.path());
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("Usage"), "{}", r.stderr);
}

// ---- run -----------------------------------------------------------------------------------

const GREET: &str = r#"{"StartAt": "Greet", "States": {
    "Greet": {"Type": "Pass", "Parameters": {"greeting.$": "States.Format('Hello, {}!', $.name)"}, "Next": "Done"},
    "Done": {"Type": "Succeed"}}}"#;

#[test]
fn run_prints_the_output_on_stdout_and_progress_on_stderr() {
    let dir = files(&[("greet.json", GREET)]);
    let r = ironstep(
        &["run", "greet.json", "--input", r#"{"name": "Ada"}"#],
        None,
        dir.path(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out: Value = serde_json::from_str(&r.stdout).expect("stdout is the output JSON");
    assert_eq!(out, json!({"greeting": "Hello, Ada!"}));
    for event in [
        "ExecutionStarted",
        "PassStateEntered Greet",
        "SucceedStateExited Done",
        "SUCCEEDED",
    ] {
        assert!(
            r.stderr.contains(event),
            "{event} missing from:\n{}",
            r.stderr
        );
    }
    assert!(
        !r.stderr.contains('\u{1b}'),
        "no colours when stderr is not a terminal"
    );
}

#[test]
fn run_reads_the_input_from_a_file_with_at() {
    let dir = files(&[("greet.json", GREET), ("in.json", r#"{"name": "Grace"}"#)]);
    let r = ironstep(
        &["run", "greet.json", "-q", "--input", "@in.json"],
        None,
        dir.path(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        serde_json::from_str::<Value>(&r.stdout).expect("JSON"),
        json!({"greeting": "Hello, Grace!"})
    );
    assert_eq!(r.stderr, "", "quiet prints nothing but the output");
    let r = ironstep(
        &["run", "greet.json", "--input", "@missing.json"],
        None,
        dir.path(),
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("missing.json"), "{}", r.stderr);
}

#[test]
fn run_reads_the_definition_from_standard_input() {
    let dir = files(&[]);
    let r = ironstep(
        &["run", "-", "-q", "--input", r#"{"name": "Lin"}"#],
        Some(GREET),
        dir.path(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("Hello, Lin!"));
}

#[test]
fn run_history_prints_get_execution_history_json_first() {
    let dir = files(&[("greet.json", GREET)]);
    let r = ironstep(
        &[
            "run",
            "greet.json",
            "--history",
            "--input",
            r#"{"name": "Bo"}"#,
        ],
        None,
        dir.path(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut docs = serde_json::Deserializer::from_str(&r.stdout).into_iter::<Value>();
    let history = docs.next().expect("a history").expect("JSON");
    let types: Vec<&str> = history["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["type"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "SucceedStateEntered",
            "SucceedStateExited",
            "ExecutionSucceeded"
        ]
    );
    let ids: Vec<u64> = history["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["id"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(ids, [1, 2, 3, 4, 5, 6]);
    let output = docs.next().expect("then the output").expect("JSON");
    assert_eq!(output, json!({"greeting": "Hello, Bo!"}));
}

#[test]
fn run_express_runs_synchronously_and_rejects_callbacks() {
    let dir = files(&[("greet.json", GREET), ("cb.json", CALLBACK)]);
    let r = ironstep(
        &[
            "run",
            "greet.json",
            "--express",
            "--input",
            r#"{"name": "Ex"}"#,
        ],
        None,
        dir.path(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("Hello, Ex!"));
    let r = ironstep(&["run", "cb.json", "--express"], None, dir.path());
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "");
    assert_eq!(
        r.stderr,
        "cb.json:/States/T/Resource: error SCHEMA_VALIDATION_FAILED Express state machine does not support '.waitForTaskToken' service integration \n"
    );
}

#[test]
fn run_a_failing_execution_prints_error_and_cause_and_exits_1() {
    let def = r#"{"StartAt": "Check", "States": {
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$.ok", "BooleanEquals": true, "Next": "Fine"}], "Default": "Boom"},
        "Fine": {"Type": "Succeed"},
        "Boom": {"Type": "Fail", "Error": "Custom.Error", "Cause": "it went wrong"}}}"#;
    let dir = files(&[("fail.json", def)]);
    let r = ironstep(
        &["run", "fail.json", "--input", r#"{"ok": false}"#],
        None,
        dir.path(),
    );
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr.ends_with("FAILED: Custom.Error: it went wrong\n"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("FailStateEntered Boom"), "{}", r.stderr);
    let r = ironstep(
        &["run", "fail.json", "-q", "--input", r#"{"ok": true}"#],
        None,
        dir.path(),
    );
    assert_eq!(r.code, 0);
}

#[test]
fn run_a_runtime_error_fails_with_states_runtime() {
    let def = r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "InputPath": "$.missing", "End": true}}}"#;
    let dir = files(&[("rt.json", def)]);
    let r = ironstep(&["run", "rt.json", "-q"], None, dir.path());
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.starts_with("FAILED: States.Runtime: "),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("$.missing"), "{}", r.stderr);
}

#[test]
fn run_a_definition_error_prints_each_diagnostic_and_starts_nothing() {
    let def = r#"{"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "Nope"},
        "B": {"Type": "Wait", "Seconds": -1, "End": true}}}"#;
    let dir = files(&[("bad.json", def)]);
    let r = ironstep(&["run", "bad.json"], None, dir.path());
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "");
    assert_eq!(
        r.stderr,
        "bad.json:/States/A/Next: error MISSING_TRANSITION_TARGET Missing 'Next' target: Nope\n\
         bad.json:/States/B/Seconds: error SCHEMA_VALIDATION_FAILED The value for the field 'Seconds' must be a non-negative integer\n\
         bad.json:/States/B: error MISSING_TRANSITION_TARGET State \"B\" is not reachable.\n"
    );
    let dir = files(&[("text.json", "States: {}")]);
    let r = ironstep(&["run", "text.json"], None, dir.path());
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.starts_with(
            "text.json:1:7: error INVALID_JSON_DESCRIPTION Unrecognized token 'States'"
        ),
        "{}",
        r.stderr
    );
}

#[test]
fn run_with_input_that_is_not_json_is_refused() {
    let dir = files(&[("greet.json", GREET)]);
    let r = ironstep(
        &["run", "greet.json", "--input", "{name: 1}"],
        None,
        dir.path(),
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.starts_with("InvalidExecutionInput: "),
        "{}",
        r.stderr
    );
}

#[test]
fn run_a_missing_definition_file_exits_2() {
    let dir = files(&[]);
    let r = ironstep(&["run", "nope.json"], None, dir.path());
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("reading nope.json"), "{}", r.stderr);
    assert!(!path(&dir, "nope.json").exists());
}
