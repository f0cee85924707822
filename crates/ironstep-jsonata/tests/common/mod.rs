//! Helpers shared by the integration tests.
#![allow(dead_code)]

use ironstep_jsonata::{Entropy, Env, EvalError, Expression, Limits, Scope, Variables};
use serde_json::{Value, json};

/// A scripted entropy source: 1, 2, 3, ... scrambled.
pub struct Counter(pub u64);

impl Entropy for Counter {
    fn next_u64(&mut self) -> u64 {
        self.0 += 1;
        self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
}

/// 2024-11-22T10:30:00.000Z
pub const NOW: i64 = 1_732_271_400_000;

pub fn states() -> Value {
    json!({
        "input": {
            "x": 42, "name": "World", "age": 20, "status": "active",
            "arr": [1, 2, 3, 4, 5],
            "items": [
                {"name": "apple", "price": 12, "cat": "fruit"},
                {"name": "pear", "price": 8, "cat": "fruit"},
                {"name": "kale", "price": 25, "cat": "veg"}
            ],
            "obj": {"k1": "v1", "k2": "v2"},
            "ts": "2024-11-22T10:30:00.000Z",
            "jsonStr": "{\"a\": [1, 2], \"b\": null}"
        },
        "context": {
            "Execution": {"Id": "arn:aws:states:us-east-1:123456789012:execution:sm:exec1", "Name": "exec1"},
            "State": {"Name": "S", "EnteredTime": "2024-11-22T10:30:00.000Z"}
        }
    })
}

pub fn eval_vars(src: &str, vars: &dyn Variables) -> Result<Option<Value>, EvalError> {
    let expr = Expression::compile(src).unwrap_or_else(|e| panic!("{src}: {e}"));
    let mut entropy = Counter(0);
    let env = Env {
        now_millis: NOW,
        entropy: &mut entropy,
        limits: Limits::default(),
    };
    Scope::new(&states(), vars, env).eval(&expr)
}

pub fn eval(src: &str) -> Result<Option<Value>, EvalError> {
    eval_vars(src, &ironstep_jsonata::NoVariables)
}

pub fn ok(src: &str) -> Value {
    match eval(src) {
        Ok(Some(v)) => v,
        other => panic!("{src}: {other:?}"),
    }
}

pub fn threw(src: &str) -> String {
    match eval(src) {
        Err(EvalError {
            kind: ironstep_jsonata::EvalErrorKind::Threw(m),
            ..
        }) => m,
        other => panic!("{src}: expected an error, got {other:?}"),
    }
}
