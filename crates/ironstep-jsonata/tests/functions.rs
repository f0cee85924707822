//! AWS's JSONata functions, the injected time and randomness, `$eval`, and the regex functions.

mod common;

use common::{Counter, NOW, eval, ok, states, threw};
use ironstep_jsonata::{Env, Expression, Limits, NoVariables, Scope};
use serde_json::json;

#[test]
fn partition() {
    assert_eq!(ok("$partition([0], 1)"), json!([[0]]));
    assert_eq!(ok("$partition([0, 1, 2], 2)"), json!([[0, 1], [2]]));
    assert_eq!(ok("$partition([0, 1, 2], 5)"), json!([[0, 1, 2]]));
    assert_eq!(
        ok("$partition([1,2,3,4,5,6,7,8,9], 3)"),
        json!([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    );
    assert_eq!(ok("$partition([], 3)"), json!([]));
    assert!(threw("$partition([1], 0)").contains("positive integer"));
    assert!(threw("$partition([1], 1.5)").contains("integer"));
    assert!(threw("$partition([1], 'a')").starts_with("T0410"));
    assert_eq!(eval("$partition($nothing, 2)").unwrap(), None);
}

#[test]
fn range() {
    assert_eq!(ok("$range(0, 10, 3)"), json!([0, 3, 6, 9]));
    assert_eq!(ok("$range(0, 10, 2)"), json!([0, 2, 4, 6, 8, 10]));
    assert_eq!(ok("$range(1, 9, 2)"), json!([1, 3, 5, 7, 9]));
    // A sequence of one collapses to its item, as AWS shows.
    assert_eq!(ok("$range(1, 9, 9)"), json!(1));
    assert_eq!(ok("$range(5, 1, -2)"), json!([5, 3, 1]));
    assert_eq!(eval("$range(5, 1, 1)").unwrap(), None);
    assert!(threw("$range(0, 10, 0)").contains("zero"));
    assert!(threw("$range(0, 1e9, 1)").starts_with("D2014"));
    assert!(threw("$range('a', 1, 1)").starts_with("T0410"));
}

#[test]
fn hash() {
    assert_eq!(
        ok("$hash('hello', 'MD5')"),
        json!("5d41402abc4b2a76b9719d911017c592")
    );
    assert_eq!(
        ok("$hash('hello', 'SHA-1')"),
        json!("aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d")
    );
    assert_eq!(
        ok("$hash('hello', 'SHA-256')"),
        json!("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
    );
    assert_eq!(ok("$length($hash('hello', 'SHA-384'))"), json!(96));
    assert_eq!(ok("$length($hash('hello', 'SHA-512'))"), json!(128));
    assert!(threw("$hash('hello', 'SHA-3')").contains("not supported"));
    assert!(threw("$hash(1, 'MD5')").starts_with("T0410"));
}

#[test]
fn parse() {
    assert_eq!(ok("$parse('-0')"), json!(0));
    assert_eq!(ok("$parse('1')"), json!(1));
    assert_eq!(ok("$parse('true')"), json!(true));
    assert_eq!(
        ok("$parse($states.input.jsonStr)"),
        json!({"a": [1, 2], "b": null})
    );
    assert_eq!(
        ok(r#"$parse('{"Arg1": 1, "Arg2": []}')"#),
        json!({"Arg1": 1, "Arg2": []})
    );
    assert!(threw("$parse('{nope')").contains("not valid JSON"));
    assert!(threw("$parse(1)").starts_with("T0410"));
}

#[test]
fn eval_is_disabled() {
    assert_eq!(
        threw("$eval('1 + 2')"),
        "T1006: Attempted to invoke a non-function"
    );
}

#[test]
fn now_and_millis_use_the_injected_time() {
    assert_eq!(ok("$millis()"), json!(NOW));
    assert_eq!(ok("$now()"), json!("2024-11-22T10:30:00.000Z"));
    assert_eq!(ok("$now('[Y0001]-[M01]-[D01]')"), json!("2024-11-22"));
    assert_eq!(ok("$now('[H01]:[m01]', '+0200')"), json!("12:30"));
    assert_eq!(ok("$toMillis($now())"), json!(NOW));
    assert!(threw("$now(1)").starts_with("T0410"));
}

fn scope_eval(src: &str, seed: u64) -> serde_json::Value {
    let expr = Expression::compile(src).unwrap();
    let mut entropy = Counter(seed);
    let env = Env {
        now_millis: NOW,
        entropy: &mut entropy,
        limits: Limits::default(),
    };
    Scope::new(&states(), &NoVariables, env)
        .eval(&expr)
        .unwrap()
        .unwrap()
}

#[test]
fn random_is_deterministic_under_injected_entropy() {
    let a = scope_eval("[$random(), $random(), $uuid()]", 7);
    assert_eq!(a, scope_eval("[$random(), $random(), $uuid()]", 7));
    assert_ne!(a, scope_eval("[$random(), $random(), $uuid()]", 8));
    let x = a[0].as_f64().unwrap();
    assert!((0.0..1.0).contains(&x));
    assert_ne!(a[0], a[1]);
    let u = a[2].as_str().unwrap();
    assert_eq!(u.len(), 36);
    assert_eq!(&u[14..15], "4");
}

#[test]
fn seeded_random_is_reproducible() {
    assert_eq!(ok("$random(42)"), ok("$random(42)"));
    assert_ne!(ok("$random(42)"), ok("$random(43)"));
    let v = ok("$random(42)").as_f64().unwrap();
    assert!((0.0..1.0).contains(&v));
    assert!(threw("$random('x')").starts_with("T0410"));
}

#[test]
fn entropy_is_untouched_without_random() {
    struct Refuse;
    impl ironstep_jsonata::Entropy for Refuse {
        fn next_u64(&mut self) -> u64 {
            panic!("entropy must not be drawn")
        }
    }
    let expr = Expression::compile("$states.input.x").unwrap();
    let env = Env {
        now_millis: NOW,
        entropy: &mut Refuse,
        limits: Limits::default(),
    };
    assert_eq!(
        Scope::new(&states(), &NoVariables, env)
            .eval(&expr)
            .unwrap(),
        Some(json!(42))
    );
}

#[test]
fn regex_lookahead_and_backreferences() {
    assert_eq!(
        ok("$match('price: 100USD', /\\d+(?=USD)/).match"),
        json!("100")
    );
    assert_eq!(ok("$replace('aa bb cd', /(\\w)\\1/, 'X')"), json!("X X cd"));
    assert_eq!(ok("$contains('hello$world', /^hello\\$/)"), json!(true));
    assert_eq!(ok("$contains('hello$world', /^hello\\ /)"), json!(false));
    assert_eq!(ok("$split('a1b22c', /\\d+/)"), json!(["a", "b", "c"]));
    assert_eq!(ok("$split('a1b22c', /\\d+/, 2)"), json!(["a", "b"]));
}

#[test]
fn regex_functions_follow_jsonata_js() {
    assert_eq!(
        ok("$match('ab12cd345', /[0-9]+/)"),
        json!([
            {"match": "12", "index": 2, "groups": []},
            {"match": "345", "index": 6, "groups": []}
        ])
    );
    assert_eq!(
        ok("$match('😀ab', /(a)(x)?/)"),
        json!({"match": "a", "index": 2, "groups": ["a", null]})
    );
    assert_eq!(eval("$match('abc', /b/, 0)").unwrap(), None);
    assert_eq!(
        threw("$match('abc', /x*/)"),
        "D1004: Regular expression matches zero length string"
    );
    assert_eq!(
        ok("$replace('John Smith', /(\\w+)\\s(\\w+)/, '$2, $1')"),
        json!("Smith, John")
    );
    // Outputs checked against jsonata-js 2.0.6.
    assert_eq!(ok("$replace('abc', /b/, '$$ $0 $5')"), json!("a$ b c"));
    assert_eq!(ok("$replace('abc', /(b)/, '[$1$10$2]')"), json!("a[bb0]c"));
    assert_eq!(ok("$replace('a-b-c', '-', '+')"), json!("a+b+c"));
    assert_eq!(ok("$replace('a-b-c', '-', '+', 1)"), json!("a+b-c"));
    assert_eq!(
        ok("$replace('x1y22', /\\d+/, function($m){ '<' & $m.match & '>' })"),
        json!("x<1>y<22>")
    );
    assert_eq!(
        ok("$replace('ab', /b/, function($m){ $states.input.name })"),
        json!("aWorld")
    );
    assert_eq!(
        threw("$replace('ab', /b/, function($m){ 1 })"),
        "D3012: Attempted to replace a matched string with a non-string value"
    );
    assert_eq!(
        threw("$replace('a', '', 'b')"),
        "D3010: Second argument of replace function cannot be an empty string"
    );
    assert_eq!(ok("$split('a,b,c', ',')"), json!(["a", "b", "c"]));
    assert_eq!(ok("$split('abc', '')"), json!(["a", "b", "c"]));
    assert_eq!(ok("$split('a', ',')"), json!(["a"]));
    assert!(threw("$split('a', ',', -1)").starts_with("D3020"));
    assert_eq!(ok("$contains('Step Functions', /func/i)"), json!(true));
    assert_eq!(ok("$contains('Step Functions', 'Func')"), json!(true));
    assert!(threw("$contains(1, 'a')").starts_with("T0410"));
    assert_eq!(eval("$contains($nothing, 'a')").unwrap(), None);
    // The context as the first argument, as jsonata-js's `s-` signatures take it.
    assert_eq!(ok("$states.input.name.$contains('orl')"), json!(true));
    assert_eq!(
        ok("$states.input.name ~> $replace(/o/, '0')"),
        json!("W0rld")
    );
    assert_eq!(
        ok("$states.input.items.name.$match(/p/).index"),
        json!([1, 2, 0])
    );
}

#[test]
fn pathological_regex_fails_instead_of_hanging() {
    let started = std::time::Instant::now();
    let m = threw("$match($pad('', 40, 'a'), /(a|aa)+(?=b)\\1/)");
    assert!(m.contains("backtracking"), "{m}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}
