//! Evaluation through `Scope`: `$states`, variables, templates, AWS error texts, numbers.

mod common;

use std::collections::HashMap;

use common::{Counter, NOW, eval, eval_vars, ok, states, threw};
use ironstep_jsonata::{
    Env, EvalError, EvalErrorKind, Expression, Limits, NoVariables, Scope, Template, Variables,
};
use serde_json::{Value, json};

#[test]
fn reads_states_input_and_context() {
    assert_eq!(ok("$states.input.x"), json!(42));
    assert_eq!(ok("$states.context.Execution.Name"), json!("exec1"));
    assert_eq!(ok("$sum($states.input.items.price)"), json!(45));
    assert_eq!(
        ok("'Hello ' & $states.input.name & '!'"),
        json!("Hello World!")
    );
}

#[test]
fn integral_numbers_come_back_as_integers() {
    assert_eq!(ok("1+1").to_string(), "2");
    assert_eq!(ok("10/4").to_string(), "2.5");
    assert_eq!(ok("$sum([0.1, 0.2])").to_string(), "0.30000000000000004");
    assert_eq!(ok("[1, 2.0, -0]").to_string(), "[1,2,0]");
}

#[test]
fn undefined_is_none() {
    assert_eq!(eval("$doesNotExist").unwrap(), None);
    assert_eq!(eval("$states.input.missing").unwrap(), None);
}

#[test]
fn errors_carry_jsonata_codes() {
    assert_eq!(threw("$foo()"), "T1006: Attempted to invoke a non-function");
    assert!(
        threw("'a' + 1").starts_with("T2001"),
        "{}",
        threw("'a' + 1")
    );
    assert_eq!(threw("$error('boom')"), "D3137: boom");
}

#[test]
fn aws_cause_texts() {
    let undefined = EvalError {
        expression: "$doesNotExist".into(),
        kind: EvalErrorKind::Undefined,
    };
    assert_eq!(
        undefined.cause("Output/result"),
        "The JSONata expression '$doesNotExist' specified for the field 'Output/result' returned nothing (undefined)."
    );
    let e = eval("$foo()").unwrap_err();
    assert_eq!(
        e.cause("Output"),
        "The JSONata expression '$foo()' specified for the field 'Output' threw an error during evaluation. T1006: Attempted to invoke a non-function"
    );
    for (src, cause) in [
        (
            "'string'",
            r#"Expected 'array', but was 'string' for value: "string""#,
        ),
        (
            "{'foo': 'bar'}",
            r#"Expected 'array', but was 'object' for value: {"foo":"bar"}"#,
        ),
        (
            "true",
            "Expected 'array', but was 'boolean' for value: true",
        ),
        ("null", "Expected 'array', but was 'null' for value: null"),
        ("1", "Expected 'array', but was 'number' for value: 1"),
    ] {
        let v = ok(src);
        let e = EvalError::unexpected_type(src, "array", v);
        assert_eq!(
            e.cause("Items"),
            format!(
                "The JSONata expression '{src}' specified for the field 'Items' returned an unexpected result type. {cause}"
            )
        );
    }
}

#[test]
fn variables_are_bound_by_name() {
    let mut vars = HashMap::new();
    vars.insert("var_constant_1".to_owned(), json!(1));
    vars.insert("greeting".to_owned(), json!("hi"));
    assert_eq!(
        eval_vars("$sum($states.input.arr) + $var_constant_1", &vars).unwrap(),
        Some(json!(16))
    );
    assert_eq!(
        eval_vars("$greeting & '!'", &vars).unwrap(),
        Some(json!("hi!"))
    );
    assert_eq!(eval_vars("$nope", &vars).unwrap(), None);
}

/// Counts lookups, to show variables are converted on first use only.
struct Counting(std::cell::Cell<usize>, serde_json::Map<String, Value>);

impl Variables for Counting {
    fn get(&self, name: &str) -> Option<&Value> {
        self.0.set(self.0.get() + 1);
        self.1.get(name)
    }
}

#[test]
fn variables_are_looked_up_lazily_once_per_scope() {
    let mut map = serde_json::Map::new();
    map.insert("a".into(), json!(1));
    map.insert("unused".into(), json!(2));
    let vars = Counting(Default::default(), map);
    let mut entropy = Counter(0);
    let env = Env {
        now_millis: NOW,
        entropy: &mut entropy,
        limits: Limits::default(),
    };
    let st = states();
    let mut scope = Scope::new(&st, &vars, env);
    let e = Expression::compile("$a + 1").unwrap();
    for _ in 0..3 {
        assert_eq!(scope.eval(&e).unwrap(), Some(json!(2)));
    }
    assert_eq!(vars.0.get(), 1);
    let none = Expression::compile("$states.input.x").unwrap();
    scope.eval(&none).unwrap();
    assert_eq!(vars.0.get(), 1);
}

#[test]
fn local_bindings_do_not_leak_between_evaluations() {
    let mut entropy = Counter(0);
    let env = Env {
        now_millis: NOW,
        entropy: &mut entropy,
        limits: Limits::default(),
    };
    let st = states();
    let mut scope = Scope::new(&st, &NoVariables, env);
    let bind = Expression::compile("$variable := 1").unwrap();
    assert_eq!(scope.eval(&bind).unwrap(), Some(json!(1)));
    let read = Expression::compile("$variable").unwrap();
    assert_eq!(scope.eval(&read).unwrap(), None);
}

#[test]
fn result_and_error_output_can_be_set() {
    let mut entropy = Counter(0);
    let env = Env {
        now_millis: NOW,
        entropy: &mut entropy,
        limits: Limits::default(),
    };
    let st = states();
    let mut scope = Scope::new(&st, &NoVariables, env);
    let e = Expression::compile("$states.result.ja_expr").unwrap();
    assert_eq!(scope.eval(&e).unwrap(), None);
    scope.set_result(&json!({"ja_expr": 7}));
    assert_eq!(scope.eval(&e).unwrap(), Some(json!(7)));
    scope.set_error_output(&json!({"Error": "E", "Cause": "c"}));
    let e = Expression::compile("$states.errorOutput.Error & $states.input.name").unwrap();
    assert_eq!(scope.eval(&e).unwrap(), Some(json!("EWorld")));
}

fn eval_template(t: &Value) -> Result<Value, ironstep_jsonata::TemplateEvalError> {
    let template = Template::compile(t).unwrap();
    let mut entropy = Counter(0);
    let env = Env {
        now_millis: NOW,
        entropy: &mut entropy,
        limits: Limits::default(),
    };
    let mut vars = HashMap::new();
    vars.insert("var_input_value".to_owned(), json!("string literal"));
    Scope::new(&states(), &vars, env).eval_template(&template)
}

#[test]
fn templates_mix_literals_and_expressions() {
    let out = eval_template(&json!({
        "constant_not_jsonata": " {% states.input %} ",
        "constant_varpath": "$states.input",
        "constant_jp": "$.x",
        "lst": [null, 0, 0.1, true, "{% $states.input.x %}", {"key": "{% true %}"}],
        "ja_var_access": "{% $var_input_value %}",
        "ja_expr": "{% $sum($states.input.arr) %}"
    }))
    .unwrap();
    assert_eq!(
        out,
        json!({
            "constant_not_jsonata": " {% states.input %} ",
            "constant_varpath": "$states.input",
            "constant_jp": "$.x",
            "lst": [null, 0, 0.1, true, 42, {"key": true}],
            "ja_var_access": "string literal",
            "ja_expr": 15
        })
    );
    assert_eq!(
        eval_template(&json!("{% $states.input.x %}")).unwrap(),
        json!(42)
    );
    assert_eq!(
        eval_template(&json!("string literal")).unwrap(),
        json!("string literal")
    );
}

#[test]
fn undefined_in_a_template_is_an_error_with_its_location() {
    let e = eval_template(&json!({"result": "{% $doesNotExist %}"})).unwrap_err();
    assert_eq!(e.location("Output"), "Output/result");
    assert_eq!(
        e.cause("Output"),
        "The JSONata expression '$doesNotExist' specified for the field 'Output/result' returned nothing (undefined)."
    );
    let e = eval_template(&json!("{% $doesNotExist %}")).unwrap_err();
    assert_eq!(
        e.cause("Assign"),
        "The JSONata expression '$doesNotExist' specified for the field 'Assign' returned nothing (undefined)."
    );
    let e = eval_template(&json!({"a": [1, "{%  $nope  %}"]})).unwrap_err();
    assert_eq!(e.location("Arguments"), "Arguments/a[1]");
    assert_eq!(e.error.expression, "$nope");
}

#[test]
fn scope_and_expressions_work_across_threads() {
    // Compiled once, shared by reference with other threads, evaluated there.
    let exprs: Vec<Expression> = ["$states.input.x * 2", "$uppercase($states.input.name)"]
        .iter()
        .map(|s| Expression::compile(s).unwrap())
        .collect();
    let exprs = std::sync::Arc::new(exprs);
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let exprs = exprs.clone();
            std::thread::spawn(move || {
                let mut entropy = Counter(0);
                let env = Env {
                    now_millis: NOW,
                    entropy: &mut entropy,
                    limits: Limits::default(),
                };
                let st = states();
                let mut scope = Scope::new(&st, &NoVariables, env);
                exprs
                    .iter()
                    .map(|e| scope.eval(e).unwrap().unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), vec![json!(84), json!("WORLD")]);
    }
}

#[test]
fn states_fields_are_converted_on_demand_and_keep_their_order() {
    let st = json!({"input": {"a": 1}, "context": {"c": 2}});
    let mut entropy = Counter(0);
    let env = Env {
        now_millis: NOW,
        entropy: &mut entropy,
        limits: Limits::default(),
    };
    let mut scope = Scope::new(&st, &NoVariables, env);
    let ctx = Expression::compile("$states.context.c").unwrap();
    assert_eq!(scope.eval(&ctx).unwrap(), Some(json!(2)));
    scope.set_result(&json!("r"));
    let whole = Expression::compile("$states").unwrap();
    let v = scope.eval(&whole).unwrap().unwrap();
    assert_eq!(
        v.to_string(),
        r#"{"input":{"a":1},"context":{"c":2},"result":"r"}"#
    );
}

#[test]
fn a_scope_recovers_after_a_timeout() {
    let mut entropy = Counter(0);
    let env = Env {
        now_millis: NOW,
        entropy: &mut entropy,
        limits: Limits {
            timeout: std::time::Duration::from_millis(100),
            ..Limits::default()
        },
    };
    let st = states();
    let mut scope = Scope::new(&st, &NoVariables, env);
    let forever = Expression::compile("( $f := function(){ $f() }; $f() )").unwrap();
    let e = scope.eval(&forever).unwrap_err();
    assert!(
        matches!(&e.kind, EvalErrorKind::Threw(m) if m.starts_with("D1012")),
        "{e:?}"
    );
    let quick = Expression::compile("$states.input.x").unwrap();
    assert_eq!(scope.eval(&quick).unwrap(), Some(json!(42)));
}
