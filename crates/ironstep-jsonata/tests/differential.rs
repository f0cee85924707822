//! Differential test against jsonata-js, the reference implementation AWS follows.
//!
//! `tests/differential/corpus.json` holds ASL-style expressions and the bindings they run with;
//! `tests/differential/oracle.js` evaluates them with the npm package `jsonata` (pinned by
//! `package-lock.json`); this test evaluates them with ironstep-jsonata and compares. Numbers are
//! compared as f64, object keys without order, errors as "both error". A case marked `gap` is a
//! known, documented disagreement: the test fails if a gap case starts agreeing (so the list
//! stays true) or if any other case disagrees.
//!
//! Needs `node` and `npm`; runs `npm ci` itself when `node_modules` is missing, and is skipped
//! (with a loud message) only when node or npm is absent.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::Counter;
use ironstep_jsonata::{Env, EvalErrorKind, Expression, Limits, Scope};
use serde_json::Value;

#[derive(Debug, PartialEq)]
enum Outcome {
    Value(Value),
    Undefined,
    Error(String),
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/differential")
}

fn available(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn oracle(corpus: &Path) -> Option<Vec<(String, Outcome)>> {
    if !available("node") || !available("npm") {
        eprintln!(
            "\n\n!!!!!!!! SKIPPING the jsonata-js differential test: node and/or npm are not \
             installed !!!!!!!!\n\n"
        );
        return None;
    }
    let dir = dir();
    if !dir.join("node_modules/jsonata").exists() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .expect("run npm ci");
        assert!(status.success(), "npm ci failed in {}", dir.display());
    }
    let out = Command::new("node")
        .arg(dir.join("oracle.js"))
        .arg(corpus)
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).expect("oracle output");
    Some(
        results
            .into_iter()
            .map(|r| {
                let name = r["name"].as_str().unwrap_or_default().to_owned();
                let outcome = if let Some(e) = r.get("error") {
                    Outcome::Error(e.as_str().unwrap_or_default().to_owned())
                } else if r.get("undefined").is_some() {
                    Outcome::Undefined
                } else {
                    Outcome::Value(r["value"].clone())
                };
                (name, outcome)
            })
            .collect(),
    )
}

fn ours(corpus: &Value, src: &str) -> Outcome {
    let expr = match Expression::compile(src) {
        Ok(e) => e,
        Err(e) => return Outcome::Error(e.to_string()),
    };
    let mut entropy = Counter(1);
    let env = Env {
        now_millis: corpus["now"].as_i64().unwrap_or_default(),
        entropy: &mut entropy,
        limits: Limits::default(),
    };
    let variables = corpus["variables"].as_object().cloned().unwrap_or_default();
    match Scope::new(&corpus["states"], &variables, env).eval(&expr) {
        Ok(Some(v)) => Outcome::Value(v),
        Ok(None) => Outcome::Undefined,
        Err(e) => Outcome::Error(match e.kind {
            EvalErrorKind::Threw(m) => m,
            other => format!("{other:?}"),
        }),
    }
}

fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        // Exact: the dev-dependency turns on serde_json's `float_roundtrip`, without which
        // 0.19999999999999998 would read back as 0.2.
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_json(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

fn is_uuid(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 36
            && s.chars().enumerate().all(|(i, c)| match i {
                8 | 13 | 18 | 23 => c == '-',
                14 => c == '4',
                _ => c.is_ascii_hexdigit(),
            })
    })
}

fn agrees(check: &str, theirs: &Outcome, ours: &Outcome) -> bool {
    match (check, theirs, ours) {
        (_, Outcome::Error(_), Outcome::Error(_)) => true,
        (_, Outcome::Undefined, Outcome::Undefined) => true,
        ("number", Outcome::Value(a), Outcome::Value(b)) => a.is_number() && b.is_number(),
        ("uuid", Outcome::Value(a), Outcome::Value(b)) => is_uuid(a) && is_uuid(b),
        (_, Outcome::Value(a), Outcome::Value(b)) => same_json(a, b),
        _ => false,
    }
}

#[test]
fn agrees_with_jsonata_js() {
    let corpus_path = dir().join("corpus.json");
    let corpus: Value =
        serde_json::from_str(&std::fs::read_to_string(&corpus_path).expect("read corpus"))
            .expect("parse corpus");
    let Some(expected) = oracle(&corpus_path) else {
        return;
    };
    let cases = corpus["cases"].as_array().expect("cases");
    assert_eq!(expected.len(), cases.len());
    assert!(
        cases.len() >= 200,
        "the corpus must keep at least 200 cases"
    );

    let mut agreed = 0;
    let mut unexpected = Vec::new();
    let mut gaps = Vec::new();
    let mut message_differences = Vec::new();
    for (case, (name, theirs)) in cases.iter().zip(&expected) {
        assert_eq!(case["name"].as_str(), Some(name.as_str()));
        let src = case["expr"].as_str().expect("expr");
        let check = case["check"].as_str().unwrap_or("exact");
        let mine = ours(&corpus, src);
        let ok = agrees(check, theirs, &mine);
        if let (Outcome::Error(a), Outcome::Error(b)) = (theirs, &mine)
            && a != b
        {
            message_differences.push(format!("  {name}: jsonata-js {a:?} / ours {b:?}"));
        }
        match (ok, case.get("gap")) {
            (true, None) => agreed += 1,
            (true, Some(_)) => unexpected.push(format!(
                "  {name}: marked as a known gap but now agrees; remove its `gap`"
            )),
            (false, Some(why)) => gaps.push(format!("  {name}: {}", why.as_str().unwrap_or(""))),
            (false, None) => unexpected.push(format!(
                "  {name}: `{src}`\n      jsonata-js: {theirs:?}\n      ours:       {mine:?}"
            )),
        }
    }
    println!(
        "jsonata-js differential: {agreed}/{} agree, {} known gaps, {} unexpected",
        cases.len(),
        gaps.len(),
        unexpected.len()
    );
    println!("known gaps:\n{}", gaps.join("\n"));
    println!(
        "error messages that differ (both sides error, so the cases agree):\n{}",
        message_differences.join("\n")
    );
    assert!(
        unexpected.is_empty(),
        "disagreements with jsonata-js:\n{}",
        unexpected.join("\n")
    );
}
