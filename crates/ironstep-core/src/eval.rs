//! The interpreter's bridge to the query languages: JSONPath (paths, templates, intrinsics via
//! `ironstep-query`) and JSONata (via `ironstep-jsonata`), with AWS's failure texts.

use std::borrow::Cow;
use std::cell::OnceCell;

use ironstep_asl::model::{NumberField, PathField, WaitDuration};
use ironstep_asl::timestamp;
use ironstep_jsonata as jsonata;
use ironstep_query::Entropy;
use ironstep_query::env::{ContextObject, Env as QueryEnv, Variables};
use ironstep_query::path::{Path, Root, Selection};
use ironstep_query::template::{Expr, Template};
use serde_json::{Map, Value};

use crate::context::{self, ExecutionInfo, StateContext};
use crate::error::Failure;
use crate::event::Millis;
use crate::interp::{OwnedStateContext, VarLookup};
use crate::json;

/// The context object, built on first use.
pub(crate) struct LazyContext<'a> {
    info: &'a ExecutionInfo,
    state: StateContext<'a>,
    cell: OnceCell<Value>,
    /// Single-member documents (`{"Map": ...}`), in [`context::MEMBERS`] order.
    members: [OnceCell<Value>; context::MEMBERS.len()],
}

impl<'a> LazyContext<'a> {
    pub(crate) fn new(info: &'a ExecutionInfo, state: StateContext<'a>) -> Self {
        LazyContext {
            info,
            state,
            cell: OnceCell::new(),
            members: Default::default(),
        }
    }
}

impl ContextObject for LazyContext<'_> {
    fn context_object(&self) -> &Value {
        self.cell
            .get_or_init(|| context::build(self.info, &self.state))
    }

    fn context_member(&self, name: &str) -> &Value {
        if let Some(whole) = self.cell.get() {
            return whole;
        }
        match context::MEMBERS.iter().position(|m| *m == name) {
            Some(i) => self.members[i].get_or_init(|| {
                let mut doc = Map::new();
                if let Some(v) = context::member(self.info, &self.state, name) {
                    doc.insert(name.to_string(), v);
                }
                Value::Object(doc)
            }),
            // Not a member AWS has: the whole object, so that errors read the same.
            None => self.context_object(),
        }
    }
}

impl Variables for VarLookup<'_> {
    fn variable(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

impl jsonata::Variables for VarLookup<'_> {
    fn get(&self, name: &str) -> Option<&Value> {
        VarLookup::get(self, name)
    }
}

/// What JSONPath evaluation reads: the document `$` designates, `$$`, and variables.
pub(crate) struct Env<'a> {
    input: &'a Value,
    ctx: &'a LazyContext<'a>,
    vars: &'a VarLookup<'a>,
}

impl<'a> Env<'a> {
    pub(crate) fn new(input: &'a Value, ctx: &'a LazyContext<'a>, vars: &'a VarLookup<'a>) -> Self {
        Env { input, ctx, vars }
    }

    fn query<'b>(&'b self, entropy: &'b mut dyn Entropy) -> QueryEnv<'b> {
        QueryEnv::new(self.input, entropy)
            .with_context(self.ctx)
            .with_variables(self.vars)
    }

    fn root_of(&self, p: &Path) -> Option<&'a Value> {
        match (p.root(), p.first_name()) {
            (Root::Input, _) => Some(self.input),
            (Root::Context, Some(name)) => Some(self.ctx.context_member(name)),
            (Root::Context, None) => Some(self.ctx.context_object()),
            (Root::Variable(name), _) => self.vars.get(name),
        }
    }
}

/// Select with a full path (InputPath/OutputPath): a definite path yields its node, an
/// indefinite one the array of matches.
pub(crate) fn select(p: &Path, env: &Env<'_>) -> Result<Value, Failure> {
    let Some(doc) = env.root_of(p) else {
        return Err(undefined_variable(p));
    };
    match p.select(doc) {
        Ok(s) => Ok(s.into_value()),
        Err(nf) => Err(Failure::runtime(nf.invalid_path_message(p.as_str()))),
    }
}

fn undefined_variable(p: &Path) -> Failure {
    Failure::runtime(format!(
        "Invalid path '{}': The variable '{}' was never assigned a value",
        p.as_str(),
        p.variable().unwrap_or_default()
    ))
}

/// `InputPath`.
/// Borrowed when the path is `$` (the default): most states do not copy their input.
pub(crate) fn input_path<'a>(
    field: &PathField,
    raw: &'a Value,
    env: &Env<'_>,
) -> Result<Cow<'a, Value>, Failure> {
    match field {
        PathField::Default => Ok(Cow::Borrowed(raw)),
        PathField::Null => Ok(Cow::Owned(Value::Object(Map::new()))),
        PathField::Path(p) => select(p, env).map(Cow::Owned),
    }
}

/// The value an [`input_path`] result owns, if it owns one (so the caller can take the raw
/// input back instead of copying it).
pub(crate) fn owned(v: Cow<'_, Value>) -> Option<Value> {
    match v {
        Cow::Owned(v) => Some(v),
        Cow::Borrowed(_) => None,
    }
}

/// `OutputPath` over `value` (which `env`'s `$` also designates).
/// Takes the value by value: the default `$` passes it through without a copy. `select_in`
/// runs a path with `$` bound to the value (and the state's context and variables).
pub(crate) fn output_path(
    field: &PathField,
    value: Value,
    select_in: impl FnOnce(&Path, &Value) -> Result<Value, Failure>,
) -> Result<Value, Failure> {
    match field {
        PathField::Default => Ok(value),
        PathField::Null => Ok(Value::Object(Map::new())),
        PathField::Path(p) => select_in(p, &value),
    }
}

/// `ResultPath`: put `result` into the raw state input.
pub(crate) fn result_path(
    field: &PathField,
    raw_input: Value,
    result: Value,
) -> Result<Value, Failure> {
    match field {
        PathField::Default => Ok(result),
        PathField::Null => Ok(raw_input),
        PathField::Path(p) => p
            .assign(raw_input, result)
            .map_err(|e| Failure::named(e.error_name(), e.to_string())),
    }
}

/// A payload template.
pub(crate) fn template(
    t: &Template,
    env: &Env<'_>,
    entropy: &mut dyn Entropy,
) -> Result<Value, Failure> {
    let mut q = env.query(entropy);
    t.eval(&mut q)
        .map_err(|e| Failure::named(e.error_name(), e.cause()))
}

/// A reference path (Choice `Variable`, `...Path` operands): the node or nothing.
pub(crate) fn reference<'a>(p: &Path, env: &Env<'a>) -> Option<&'a Value> {
    let doc = env.root_of(p)?;
    match p.select(doc) {
        Ok(Selection::One(v)) => Some(v),
        _ => None,
    }
}

/// Fail `ErrorPath`/`CausePath`: must yield a string.
pub(crate) fn fail_expr_string(
    e: &Expr,
    field: &str,
    env: &Env<'_>,
    entropy: &mut dyn Entropy,
) -> Result<String, Failure> {
    let mut q = env.query(entropy);
    let v = e
        .eval(&mut q, field)
        .map_err(|e| Failure::named(e.error_name(), e.cause()))?;
    match v {
        Value::String(s) => Ok(s),
        other => Err(Failure::runtime(format!(
            "The value for the field '{field}' must be a STRING, but was {}",
            json::compact(&other)
        ))),
    }
}

/// The due time of a JSONPath Wait state.
pub(crate) fn wait_due(d: &WaitDuration, env: &Env<'_>, now: Millis) -> Result<Millis, Failure> {
    match d {
        WaitDuration::Seconds(s) => Ok(now.saturating_add((*s as i64).saturating_mul(1000))),
        WaitDuration::Timestamp(t) => match timestamp::parse(t) {
            Some(ts) => Ok(ts.timestamp_millis()),
            None => Err(Failure::runtime(format!(
                "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {t}"
            ))),
        },
        WaitDuration::SecondsPath(p) => {
            let Some(v) = reference(p, env) else {
                return Err(Failure::runtime(format!(
                    "The SecondsPath parameter does not reference an input value: {}",
                    p.as_str()
                )));
            };
            let shown = json::compact(v);
            let secs = match v {
                Value::Number(n) if n.is_i64() || n.is_u64() => n.as_i64().unwrap_or(i64::MAX),
                _ => {
                    return Err(Failure::runtime(format!(
                        "The SecondsPath parameter cannot be parsed as a long value: {} == {shown}",
                        p.as_str()
                    )));
                }
            };
            if secs < 0 {
                return Err(Failure::runtime(format!(
                    "The SecondsPath parameter references a negative value: {} == {shown}",
                    p.as_str()
                )));
            }
            Ok(now.saturating_add(secs.saturating_mul(1000)))
        }
        WaitDuration::TimestampPath(p) => {
            let Some(v) = reference(p, env) else {
                return Err(Failure::runtime(format!(
                    "The TimestampPath parameter does not reference an input value: {}",
                    p.as_str()
                )));
            };
            match v.as_str().and_then(timestamp::parse) {
                Some(ts) => Ok(ts.timestamp_millis()),
                None => Err(Failure::runtime(format!(
                    "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {} == {}",
                    p.as_str(),
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| json::compact(v))
                ))),
            }
        }
        WaitDuration::SecondsExpr(_) | WaitDuration::TimestampExpr(_) => Ok(now),
    }
}

/// `TimeoutSeconds`/`HeartbeatSeconds` (literal or `...Path`) in whole seconds.
pub(crate) fn number_seconds(
    f: Option<&NumberField>,
    path_name: &str,
    env: &Env<'_>,
) -> Result<Option<u64>, Failure> {
    match f {
        None => Ok(None),
        Some(NumberField::Literal(v)) => Ok(Some(*v as u64)),
        Some(NumberField::Path(p)) => match reference(p, env) {
            Some(Value::Number(n)) if n.as_u64().is_some_and(|x| x > 0) => Ok(n.as_u64()),
            Some(v) => Err(Failure::runtime(format!(
                "The {path_name} field refers to value \"{}\" which is not a valid positive integer: {}",
                json::compact(v),
                p.as_str()
            ))),
            None => Err(Failure::runtime(format!(
                "Invalid path '{}' : No results for path: {}",
                p.as_str(),
                p.normalized()
            ))),
        },
        Some(NumberField::Jsonata(_)) => Ok(None),
    }
}

/// A Map number field (`MaxConcurrency`, `ToleratedFailure...`) given literally or by path.
pub(crate) fn number_value(
    f: Option<&NumberField>,
    path_name: &str,
    env: &Env<'_>,
) -> Result<Option<f64>, Failure> {
    match f {
        None => Ok(None),
        Some(NumberField::Literal(v)) => Ok(Some(*v)),
        Some(NumberField::Path(p)) => {
            let integer = path_name != "ToleratedFailurePercentagePath";
            let shown = |v: &Value| match v {
                Value::String(s) => s.clone(),
                other => json::compact(other),
            };
            let invalid = |v: &Value| {
                Failure::runtime(format!(
                    "The {path_name} field refers to value \"{}\" which is not a valid {}: {}",
                    shown(v),
                    if integer { "integer" } else { "float" },
                    p.as_str()
                ))
            };
            match reference(p, env) {
                // AWS also accepts numbers written as strings (recorded with variables).
                Some(v @ (Value::Number(_) | Value::String(_))) => {
                    let x = match v {
                        Value::Number(n) => n.as_f64(),
                        Value::String(s) => s.trim().parse::<f64>().ok(),
                        _ => None,
                    };
                    match x {
                        Some(x) if !integer || x.fract() == 0.0 => Ok(Some(x)),
                        _ => Err(invalid(v)),
                    }
                }
                Some(other) => Err(invalid(other)),
                None => Err(Failure::runtime(format!(
                    "Invalid path '{}' : No results for path: {}",
                    p.as_str(),
                    p.normalized()
                ))),
            }
        }
        Some(NumberField::Jsonata(_)) => Ok(None),
    }
}

/// The items of a JSONPath Map (`ItemsPath`, default `$`): must be an array.
pub(crate) fn map_items(p: Option<&Path>, env: &Env<'_>) -> Result<Vec<Value>, Failure> {
    let (v, shown) = match p {
        None => (Some(env.input), "$".to_string()),
        Some(p) => (reference(p, env), p.as_str().to_string()),
    };
    match v {
        Some(Value::Array(a)) => Ok(a.clone()),
        Some(_) => Err(Failure::runtime(format!(
            "Reference path \"{shown}\" must point to array."
        ))),
        None => match p {
            Some(p) => Err(Failure::runtime(format!(
                "Invalid path '{}' : No results for path: {}",
                p.as_str(),
                p.normalized()
            ))),
            None => Err(Failure::runtime(
                "Reference path \"$\" must point to array.",
            )),
        },
    }
}

// ---- JSONata ------------------------------------------------------------------------------------

/// The `$states` object of a state: its input and its context object.
pub(crate) fn states_object(
    info: &ExecutionInfo,
    def: &ironstep_asl::Definition,
    input: &Value,
    sc: &OwnedStateContext,
) -> Value {
    let mut states = Map::new();
    states.insert("input".into(), input.clone());
    states.insert("context".into(), context::build(info, &sc.view(def)));
    Value::Object(states)
}

/// One JSONata scope for one state: `$states` converted once.
pub(crate) struct JsonataEnv<'a> {
    scope: jsonata::Scope<'a>,
}

impl<'a> JsonataEnv<'a> {
    pub(crate) fn new(
        states: &'a Value,
        now: Millis,
        entropy: &'a mut dyn Entropy,
        vars: &'a VarLookup<'a>,
    ) -> Self {
        let scope = jsonata::Scope::new(
            states,
            vars,
            jsonata::Env {
                now_millis: now,
                entropy,
                limits: jsonata::Limits::default(),
            },
        );
        JsonataEnv { scope }
    }

    pub(crate) fn set_result(&mut self, v: &Value) {
        self.scope.set_result(v);
    }

    pub(crate) fn set_error_output(&mut self, v: &Value) {
        self.scope.set_error_output(v);
    }

    /// Evaluate a template for `field` (`Output`, `Arguments`, `Assign`, ...).
    pub(crate) fn template(
        &mut self,
        t: &jsonata::Template,
        field: &str,
    ) -> Result<Value, Failure> {
        self.scope
            .eval_template(t)
            .map_err(|e| Failure::query(e.cause(field), Some(e.location(field))))
    }

    fn expr(&mut self, e: &jsonata::Expression, field: &str) -> Result<Value, Failure> {
        match self.scope.eval(e) {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(Failure::query(
                jsonata::EvalError {
                    expression: e.source().to_string(),
                    kind: jsonata::EvalErrorKind::Undefined,
                }
                .cause(field),
                Some(field.to_string()),
            )),
            Err(err) => Err(Failure::query(err.cause(field), Some(field.to_string()))),
        }
    }

    fn unexpected(
        e: &jsonata::Expression,
        field: &str,
        expected: &'static str,
        v: Value,
    ) -> Failure {
        Failure::query(
            jsonata::EvalError::unexpected_type(e.source(), expected, v).cause(field),
            Some(field.to_string()),
        )
    }

    /// A Choice `Condition`: must be a boolean.
    pub(crate) fn condition(
        &mut self,
        e: &jsonata::Expression,
        field: &str,
    ) -> Result<bool, Failure> {
        match self.expr(e, field)? {
            Value::Bool(b) => Ok(b),
            other => Err(Self::unexpected(e, field, "boolean", other)),
        }
    }

    /// A Fail `Error`/`Cause`: must be a string.
    pub(crate) fn string(
        &mut self,
        e: &jsonata::Expression,
        field: &str,
    ) -> Result<String, Failure> {
        match self.expr(e, field)? {
            Value::String(s) => Ok(s),
            other => Err(Self::unexpected(e, field, "string", other)),
        }
    }

    /// `TimeoutSeconds`/`HeartbeatSeconds` given as JSONata.
    pub(crate) fn seconds(
        &mut self,
        f: Option<&NumberField>,
        field: &str,
    ) -> Result<Option<u64>, Failure> {
        match f {
            None => Ok(None),
            Some(NumberField::Literal(v)) => Ok(Some(*v as u64)),
            Some(NumberField::Jsonata(e)) => match self.expr(e, field)? {
                Value::Number(n) if n.as_u64().is_some_and(|x| x > 0) => Ok(n.as_u64()),
                other => Err(Self::unexpected(e, field, "integer", other)),
            },
            Some(NumberField::Path(_)) => Ok(None),
        }
    }

    /// A Map number field given as JSONata.
    pub(crate) fn number(
        &mut self,
        f: Option<&NumberField>,
        field: &str,
    ) -> Result<Option<f64>, Failure> {
        match f {
            None => Ok(None),
            Some(NumberField::Literal(v)) => Ok(Some(*v)),
            Some(NumberField::Jsonata(e)) => match self.expr(e, field)? {
                Value::Number(n) => Ok(n.as_f64()),
                other => Err(Self::unexpected(e, field, "number", other)),
            },
            Some(NumberField::Path(_)) => Ok(None),
        }
    }

    /// JSONata Map `Items`: an array, or an object whose entries become items.
    pub(crate) fn map_items(
        &mut self,
        t: &jsonata::Template,
    ) -> Result<(Vec<Value>, Option<Vec<String>>), Failure> {
        let v = self.template(t, "Items")?;
        match v {
            Value::Array(a) => Ok((a, None)),
            // Objects are refused too (recorded: "Expected 'array', but was 'object'").
            other => {
                let src = t
                    .as_expression()
                    .map(|e| e.source().to_string())
                    .unwrap_or_default();
                Err(Failure::query(
                    jsonata::EvalError::unexpected_type(&src, "array", other).cause("Items"),
                    Some("Items".into()),
                ))
            }
        }
    }

    /// The due time of a JSONata Wait state.
    pub(crate) fn wait_due(&mut self, d: &WaitDuration, now: Millis) -> Result<Millis, Failure> {
        match d {
            WaitDuration::SecondsExpr(e) => match self.expr(e, "Seconds")? {
                Value::Number(n) if n.as_i64().is_some_and(|x| x >= 0) => {
                    Ok(now.saturating_add(n.as_i64().unwrap_or(0).saturating_mul(1000)))
                }
                other => Err(Self::unexpected(e, "Seconds", "integer", other)),
            },
            WaitDuration::TimestampExpr(e) => match self.expr(e, "Timestamp")? {
                Value::String(s) => match timestamp::parse(&s) {
                    Some(ts) => Ok(ts.timestamp_millis()),
                    None => Err(Failure::query(
                        format!(
                            "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {s}"
                        ),
                        Some("Timestamp".into()),
                    )),
                },
                other => Err(Self::unexpected(e, "Timestamp", "string", other)),
            },
            WaitDuration::Seconds(s) => Ok(now.saturating_add((*s as i64).saturating_mul(1000))),
            WaitDuration::Timestamp(t) => match timestamp::parse(t) {
                Some(ts) => Ok(ts.timestamp_millis()),
                None => Err(Failure::query(
                    format!(
                        "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {t}"
                    ),
                    Some("Timestamp".into()),
                )),
            },
            WaitDuration::SecondsPath(_) | WaitDuration::TimestampPath(_) => Ok(now),
        }
    }
}
