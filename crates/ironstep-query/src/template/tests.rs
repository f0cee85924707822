use super::*;
use crate::Entropy;
use crate::env::LazyContext;
use serde_json::json;

struct Fixed(u64);

impl Entropy for Fixed {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        self.0
    }
}

fn compile(template: Value) -> Template {
    match Template::compile(&template) {
        Ok(t) => t,
        Err(e) => panic!("{template}: {e}"),
    }
}

fn eval(template: &Template, input: &Value) -> Result<Value, TemplateEvalError> {
    let mut entropy = Fixed(1);
    let mut env = Env::new(input, &mut entropy);
    template.eval(&mut env)
}

#[test]
fn paths_are_evaluated_and_keys_stripped() {
    let t = compile(json!({
        "item.$": "$.items[0]",
        "static": "$.not.a.path",
        "nested": {"whole.$": "$", "n": 1},
        "list": [1, {"x.$": "$.items[1].item_key"}],
        "many.$": "$.items[*].item_key"
    }));
    let input = json!({"items": [{"item_key": 0}, {"item_key": 1}]});
    assert_eq!(
        eval(&t, &input),
        Ok(json!({
            "item": {"item_key": 0},
            "static": "$.not.a.path",
            "nested": {"whole": input.clone(), "n": 1},
            "list": [1, {"x": 1}],
            "many": [0, 1]
        }))
    );
    assert!(!t.is_constant());
    assert!(!t.uses_context());
    assert!(t.variables().is_empty());
}

#[test]
fn output_keeps_template_key_order() {
    let t = compile(json!({"b.$": "$.b", "a": 1, "c.$": "$.c"}));
    let out = eval(&t, &json!({"b": 2, "c": 3})).unwrap_or_default();
    assert_eq!(
        serde_json::to_string(&out).unwrap_or_default(),
        r#"{"b":2,"a":1,"c":3}"#
    );
}

#[test]
fn constant_templates_fold() {
    let t = compile(
        json!({"static-input-0": 0, "static-input-1": [1], "s": "$.x", "o": {"k": [true]}}),
    );
    assert!(t.is_constant());
    assert_eq!(
        eval(&t, &json!({})),
        Ok(json!({"static-input-0": 0, "static-input-1": [1], "s": "$.x", "o": {"k": [true]}}))
    );
    assert!(compile(json!("scalar")).is_constant());
    assert!(compile(json!([1, 2])).is_constant());
    assert!(compile(json!(null)).is_constant());
    assert_eq!(eval(&compile(json!(7)), &json!({})), Ok(json!(7)));
}

#[test]
fn intrinsics_in_templates() {
    let t = compile(json!({
        "FunctionResult.$": "States.Format('Hello {}, welcome to {}!', $.name, $.place)",
        "id.$": "States.UUID()"
    }));
    let out = eval(&t, &json!({"name": "John", "place": "LocalStack"})).unwrap_or_default();
    assert_eq!(
        out["FunctionResult"],
        json!("Hello John, welcome to LocalStack!")
    );
    assert_eq!(out["id"].as_str().map(str::len), Some(36));
}

#[test]
fn context_and_variables() {
    let t = compile(json!({
        "id.$": "$$.Execution.Id",
        "v.$": "$answer",
        "w.$": "$obj.k[1]",
        "f.$": "States.Format('{}', $other)",
        "again.$": "$answer"
    }));
    assert!(t.uses_context());
    let names: Vec<&str> = t.variables().iter().map(|v| &**v).collect();
    assert_eq!(names, vec!["answer", "obj", "other"]);
    let input = json!({});
    let built = std::cell::Cell::new(0);
    let context = LazyContext::new(|| {
        built.set(built.get() + 1);
        json!({"Execution": {"Id": "arn:exec"}})
    });
    let mut vars = Map::new();
    vars.insert("answer".into(), json!(42));
    vars.insert("obj".into(), json!({"k": ["a", "b"]}));
    vars.insert("other".into(), json!("o"));
    let mut entropy = Fixed(0);
    let mut env = Env::new(&input, &mut entropy)
        .with_context(&context)
        .with_variables(&vars);
    assert_eq!(
        t.eval(&mut env),
        Ok(json!({"id": "arn:exec", "v": 42, "w": "b", "f": "o", "again": 42}))
    );
    assert_eq!(built.get(), 1, "the context object is built once");
}

#[test]
fn lazy_context_is_not_built_when_unused() {
    let t = compile(json!({"a.$": "$.a"}));
    assert!(!t.uses_context());
    let context = LazyContext::new(|| json!({"never": true}));
    let input = json!({"a": 1});
    let mut entropy = Fixed(0);
    let mut env = Env::new(&input, &mut entropy).with_context(&context);
    assert_eq!(t.eval(&mut env), Ok(json!({"a": 1})));
    assert!(!context.is_built());
    assert!(format!("{context:?}").contains("None"));
}

#[test]
fn missing_path_cause_matches_aws() {
    // Recorded: "... The JSONPath '$.no_such_jsonpath' specified for the field 'value.$'
    // could not be found in the input '<json>'".
    let t = compile(json!({"value.$": "$.no_such_jsonpath"}));
    let err = eval(&t, &json!({"int-literal": 0})).unwrap_err();
    assert_eq!(
        err.cause(),
        r#"The JSONPath '$.no_such_jsonpath' specified for the field 'value.$' could not be found in the input '{"int-literal":0}'"#
    );
    assert_eq!(err.to_string(), err.cause());
    assert_eq!(err.error_name(), "States.Runtime");
    assert_eq!(err.field(), "value.$");
    assert_eq!(err.location(), "/value.$");
    assert!(matches!(
        err.kind(),
        TemplateEvalErrorKind::PathNotFound { .. }
    ));
    // Nested keys report their own name and a pointer.
    let t = compile(json!({"outer": {"in/ner.$": "$.x"}}));
    let err = eval(&t, &json!({})).unwrap_err();
    assert_eq!(err.field(), "in/ner.$");
    assert_eq!(err.location(), "/outer/in~1ner.$");
    let t = compile(json!({"l": [0, {"x.$": "$.x"}]}));
    assert_eq!(eval(&t, &json!({})).unwrap_err().location(), "/l/1/x.$");
}

#[test]
fn context_and_variable_failures() {
    let t = compile(json!({"c.$": "$$.Nope"}));
    let input = json!({"i": 1});
    let context = json!({"Execution": {}});
    let mut entropy = Fixed(0);
    let mut env = Env::new(&input, &mut entropy).with_context(&context);
    let err = t.eval(&mut env).unwrap_err();
    assert_eq!(
        err.cause(),
        r#"The JSONPath '$$.Nope' specified for the field 'c.$' could not be found in the input '{"Execution":{}}'"#
    );
    let t = compile(json!({"v.$": "$undefinedVar"}));
    let err = eval(&t, &input).unwrap_err();
    assert_eq!(
        err.kind(),
        &TemplateEvalErrorKind::UndefinedVariable {
            path: "$undefinedVar".into(),
            name: "undefinedVar".into(),
            input: r#"{"i":1}"#.into()
        }
    );
    assert_eq!(
        err.cause(),
        r#"The JSONPath '$undefinedVar' specified for the field 'v.$' could not be found in the input '{"i":1}'"#
    );
}

#[test]
fn intrinsic_failures_keep_their_cause() {
    let t = compile(json!({"r.$": "States.MathAdd($.a, 1)"}));
    let err = eval(&t, &json!({"a": "x"})).unwrap_err();
    assert_eq!(
        err.cause(),
        "There was an error while evaluating the intrinsic function: States.MathAdd($.a, 1). Invalid arguments in States.MathAdd"
    );
    assert_eq!(err.error_name(), "States.Runtime");
    assert!(matches!(err.kind(), TemplateEvalErrorKind::Intrinsic(_)));
}

#[test]
fn compile_errors_name_the_field() {
    for (template, location, field) in [
        (json!({"x.$": "not a path"}), "/x.$", "x.$"),
        (json!({"x.$": "$.a b"}), "/x.$", "x.$"),
        (json!({"x.$": "States.Nope()"}), "/x.$", "x.$"),
        (json!({"x.$": "States.Array("}), "/x.$", "x.$"),
        (json!({"a": {"b": [{"y.$": 1}]}}), "/a/b/0/y.$", "y.$"),
        (json!({"z.$": {"k": 1}}), "/z.$", "z.$"),
        (json!({"z.$": null}), "/z.$", "z.$"),
        (json!({"z.$": ""}), "/z.$", "z.$"),
    ] {
        let err = Template::compile(&template).unwrap_err();
        assert_eq!(err.location(), location, "{template}");
        assert_eq!(err.field(), field, "{template}");
        assert_eq!(
            err.message(),
            format!(
                "The value for the field '{field}' must be a valid JSONPath or a valid intrinsic function call"
            )
        );
        assert_eq!(err.to_string(), err.message());
        assert!(err.detail().is_some());
    }
}

#[test]
fn expr_for_single_fields() {
    // Recorded: Fail state ErrorPath with a missing path.
    let expr = Expr::parse("$.ErrorX", "ErrorPath").unwrap_or_else(|e| panic!("{e}"));
    let input = json!({"Error": "error-value"});
    let mut entropy = Fixed(0);
    let mut env = Env::new(&input, &mut entropy);
    let err = expr.eval(&mut env, "ErrorPath").unwrap_err();
    assert_eq!(
        err.cause(),
        r#"The JSONPath '$.ErrorX' specified for the field 'ErrorPath' could not be found in the input '{"Error":"error-value"}'"#
    );
    assert_eq!(err.location(), "");
    let expr =
        Expr::parse("States.Format('{}', $.Error)", "CausePath").unwrap_or_else(|e| panic!("{e}"));
    assert!(!expr.uses_context());
    assert_eq!(expr.eval(&mut env, "CausePath"), Ok(json!("error-value")));
    let expr = Expr::parse("$$.State.Name", "x").unwrap_or_else(|e| panic!("{e}"));
    assert!(expr.uses_context());
    let expr = Expr::parse("$errorVar", "ErrorPath").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(expr.variables(), vec!["errorVar"]);
    let err = Expr::parse("nope", "CausePath").unwrap_err();
    assert_eq!(err.field(), "CausePath");
    assert_eq!(err.location(), "");
}

#[test]
fn debug_output_is_readable() {
    let t = compile(json!({"a.$": "$.a"}));
    let text = format!("{t:?}");
    assert!(text.contains("Path(\"$.a\")"), "{text}");
}

#[test]
fn colliding_output_keys_follow_insert_semantics() {
    // The later key wins, the key keeps its first position.
    let t = compile(json!({"a": 1, "b": 2, "a.$": "$.x"}));
    let out = eval(&t, &json!({"x": "dyn"})).unwrap_or_default();
    assert_eq!(
        serde_json::to_string(&out).unwrap_or_default(),
        r#"{"a":"dyn","b":2}"#
    );
    let t = compile(json!({"a.$": "$.x", "b.$": "$.x", "a": 1}));
    let out = eval(&t, &json!({"x": "dyn"})).unwrap_or_default();
    assert_eq!(
        serde_json::to_string(&out).unwrap_or_default(),
        r#"{"a":1,"b":"dyn"}"#
    );
}
