//! Limits: runaway expressions end with an error within their limit, never a hang or a crash,
//! including on a thread with an ordinary 2 MiB stack.

mod common;

use std::time::{Duration, Instant};

use common::{Counter, NOW, states};
use ironstep_jsonata::{Env, EvalErrorKind, Expression, Limits, NoVariables, Scope};

fn run(src: &str, limits: Limits) -> Result<Option<serde_json::Value>, String> {
    let expr = Expression::compile(src).map_err(|e| e.to_string())?;
    let mut entropy = Counter(0);
    let env = Env {
        now_millis: NOW,
        entropy: &mut entropy,
        limits,
    };
    Scope::new(&states(), &NoVariables, env)
        .eval(&expr)
        .map_err(|e| match e.kind {
            EvalErrorKind::Threw(m) => m,
            other => format!("{other:?}"),
        })
}

/// Runs `f` on a thread with a 2 MiB stack, the default for spawned threads.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("the evaluation thread must not crash")
}

fn short_timeout() -> Limits {
    Limits {
        timeout: Duration::from_millis(300),
        ..Limits::default()
    }
}

#[test]
fn infinite_loop_times_out() {
    let started = Instant::now();
    let out = on_small_stack(|| run("( $inf := function(){ $inf() }; $inf() )", short_timeout()));
    let message = out.unwrap_err();
    assert!(
        message.starts_with("D1012") || message.starts_with("U1001"),
        "{message}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn long_running_loop_times_out() {
    let started = Instant::now();
    let out = on_small_stack(|| {
        run(
            "$reduce([1..1000000], function($a, $v){ $a + $count([1..50]) }, 0)",
            short_timeout(),
        )
    });
    assert!(out.unwrap_err().starts_with("D1012"));
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn deep_recursion_is_stopped_by_the_depth_limit() {
    let out = on_small_stack(|| {
        run(
            "( $f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100000) )",
            Limits::default(),
        )
    });
    let message = out.unwrap_err();
    assert!(
        message.starts_with("D1011") || message.starts_with("U1001"),
        "{message}"
    );
}

#[test]
fn moderate_recursion_works() {
    let out = on_small_stack(|| {
        run(
            "( $f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(500) )",
            Limits::default(),
        )
    });
    assert_eq!(out.unwrap(), Some(serde_json::json!(500)));
}

#[test]
fn huge_sequences_are_refused() {
    let limits = Limits {
        max_sequence_length: 10_000,
        ..Limits::default()
    };
    let out = on_small_stack(move || run("$map([1..100000], function($x){ $x * 2 })", limits));
    assert!(out.is_err(), "{out:?}");
    let out = run("[1..100000000]", Limits::default());
    assert!(out.unwrap_err().starts_with("D2014"));
}

#[test]
fn deeply_nested_results_are_refused_not_crashing() {
    let out = on_small_stack(|| {
        run(
            "$reduce([1..100000], function($acc, $v){ {'a': $acc} }, {})",
            Limits::default(),
        )
    });
    assert!(out.unwrap_err().contains("nested"));
}

#[test]
fn deeply_nested_input_is_handled() {
    let out = on_small_stack(|| {
        let mut v = serde_json::json!(1);
        for _ in 0..500 {
            v = serde_json::json!({ "a": v });
        }
        let states = serde_json::json!({ "input": v });
        let expr = Expression::compile("$states.input.a.a.a.a").unwrap();
        let mut entropy = Counter(0);
        let env = Env {
            now_millis: NOW,
            entropy: &mut entropy,
            limits: Limits::default(),
        };
        let n = Scope::new(&states, &NoVariables, env)
            .eval(&expr)
            .map(|v| v.is_some());
        drop(states);
        n
    });
    assert_eq!(out, Ok(true));
}
