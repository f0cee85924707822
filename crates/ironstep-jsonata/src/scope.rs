//! Evaluation of compiled expressions for one state.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use ironstep_query::Entropy;
use jsonata_core::evaluator::{Context, Evaluator, EvaluatorOptions};
use jsonata_core::value::JValue;
use serde_json::Value;

use crate::convert::{self, FromJValueError};
use crate::error::{EvalError, EvalErrorKind, TemplateEvalError};
use crate::expression::Expression;
use crate::functions::{self, HostState};
use crate::rng::Xoshiro256;
use crate::template::{Node, Template};
use crate::watchdog::Slot;

/// Resource limits applied to every evaluation. They are always on: an expression comes from a
/// user's definition and must not be able to hang or crash a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time one expression may run. 2 s: AWS documents no figure; real ASL
    /// expressions take microseconds, so this only ever stops runaway loops.
    pub timeout: Duration,
    /// Evaluation depth (jsonata-core counts about three levels per non-tail recursive call).
    /// 3,000 allows recursion about 1,000 calls deep; deeper levels run on heap-allocated stack
    /// segments inside jsonata-core, so a thread's normal 2 MiB stack is never at risk.
    pub max_depth: usize,
    /// Longest sequence an expression may build (`$map`, `$range`, paths, ...). jsonata-js caps
    /// the range operator at 1e6 (D2014); the same cap applies here to everything else.
    pub max_sequence_length: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(2),
            max_depth: 3_000,
            max_sequence_length: 1_000_000,
        }
    }
}

/// Workflow variables, looked up by name (without the `$`).
pub trait Variables {
    /// The variable's current value, or `None` if it was never assigned.
    fn get(&self, name: &str) -> Option<&Value>;
}

/// No workflow variables at all.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoVariables;

impl Variables for NoVariables {
    fn get(&self, _: &str) -> Option<&Value> {
        None
    }
}

impl Variables for serde_json::Map<String, Value> {
    fn get(&self, name: &str) -> Option<&Value> {
        serde_json::Map::get(self, name)
    }
}

impl<S: std::hash::BuildHasher> Variables for HashMap<String, Value, S> {
    fn get(&self, name: &str) -> Option<&Value> {
        HashMap::get(self, name)
    }
}

impl Variables for BTreeMap<String, Value> {
    fn get(&self, name: &str) -> Option<&Value> {
        BTreeMap::get(self, name)
    }
}

/// What a scope takes from outside: the state's evaluation time, randomness, and limits.
pub struct Env<'a> {
    /// "Now" for `$now()` and `$millis()`, in milliseconds since the Unix epoch.
    pub now_millis: i64,
    /// Where `$random()` and `$uuid()` get their randomness (256 bits are drawn once per scope,
    /// and only if an expression uses them).
    pub entropy: &'a mut dyn Entropy,
    /// Limits for every evaluation in the scope.
    pub limits: Limits,
}

/// The evaluation scope of one state: `$states` converted once (each of its fields when an
/// expression first reads it), workflow variables converted on first use, and the injected time
/// and randomness.
///
/// A scope is `!Send`: it holds the engine's `Rc`-based values. Create it on the thread that
/// runs the state, evaluate the state's expressions (`Arguments`, `Output`, `Assign`, ...), then
/// drop it.
pub struct Scope<'a> {
    /// The `$states` object as given.
    source: &'a Value,
    /// Its engine form, holding the fields converted so far.
    states: JValue,
    /// Fields of `states` already converted or set (a set field is never re-read from `source`).
    converted_fields: Vec<String>,
    all_fields_converted: bool,
    variables: &'a dyn Variables,
    /// Variables converted so far (`None`: looked up and absent).
    converted: Vec<(String, Option<JValue>)>,
    host: Rc<HostState>,
    entropy: &'a mut dyn Entropy,
    seeded: bool,
    slot: Arc<Slot>,
    timeout: Duration,
}

impl<'a> Scope<'a> {
    /// A scope over the `$states` object (`{"input": ..., "context": ...}`, later also `result`
    /// or `errorOutput`) and the workflow variables as of state entry.
    pub fn new(states: &'a Value, variables: &'a dyn Variables, env: Env<'a>) -> Scope<'a> {
        let source = states;
        // Fields are converted when an expression first reads them; a `$states` that is not an
        // object (never the case in ASL) is converted whole.
        let (states, all_fields_converted) = match source {
            Value::Object(_) => (JValue::Object(Rc::default()), false),
            other => (convert::to_jvalue(other), true),
        };
        // The timeout is enforced through the cancel token (see `watchdog`), not `timeout_ms`.
        let options = EvaluatorOptions {
            timeout_ms: None,
            max_stack_depth: Some(env.limits.max_depth),
            max_sequence_length: Some(env.limits.max_sequence_length),
            cancel: None,
        };
        Scope {
            host: Rc::new(HostState {
                now_millis: env.now_millis,
                rng: RefCell::new(None),
                states: RefCell::new(states.clone()),
                options: RefCell::new(options),
                max_sequence_length: env.limits.max_sequence_length,
            }),
            slot: Slot::register(),
            timeout: env.limits.timeout,
            source,
            states,
            converted_fields: Vec::new(),
            all_fields_converted,
            variables,
            converted: Vec::new(),
            entropy: env.entropy,
            seeded: false,
        }
    }

    /// Sets `$states.result` (for `Output` and `Assign` after a task, Parallel or Map succeeds).
    pub fn set_result(&mut self, result: &Value) {
        self.set_states_field("result", result);
    }

    /// Sets `$states.errorOutput` (for a Catch's `Output` and `Assign`).
    pub fn set_error_output(&mut self, error_output: &Value) {
        self.set_states_field("errorOutput", error_output);
    }

    fn set_states_field(&mut self, field: &str, value: &Value) {
        self.insert_field(field, convert::to_jvalue(value));
        if !self.converted_fields.iter().any(|f| f == field) {
            self.converted_fields.push(field.to_owned());
        }
    }

    fn insert_field(&mut self, field: &str, value: JValue) {
        match &mut self.states {
            JValue::Object(map) => {
                // Copies only the top-level map (its members are shared `Rc`s) when it is shared.
                Rc::make_mut(map).insert(field.to_owned(), value);
            }
            other => {
                let mut map = jsonata_core::value::JMap::default();
                map.insert(field.to_owned(), value);
                *other = JValue::Object(Rc::new(map));
            }
        }
        *self.host.states.borrow_mut() = self.states.clone();
    }

    /// Converts the `$states` fields `expr` reads that are not converted yet.
    fn convert_fields_for(&mut self, expr: &Expression) {
        if self.all_fields_converted {
            return;
        }
        let Value::Object(source) = self.source else {
            return;
        };
        match expr.states_fields() {
            Some(fields) => {
                for field in fields {
                    if self.converted_fields.iter().any(|f| f == field) {
                        continue;
                    }
                    if let Some(v) = source.get(field) {
                        self.insert_field(field, convert::to_jvalue(v));
                    }
                    self.converted_fields.push(field.clone());
                }
            }
            None => {
                // Rebuilt in the source's key order, so `$states` reads as it was given; fields
                // already converted or set are kept.
                let current = match &self.states {
                    JValue::Object(map) => map.clone(),
                    _ => Rc::default(),
                };
                let mut map = jsonata_core::value::JMap::default();
                for (field, v) in source {
                    let value = match current.get(field) {
                        Some(existing) => existing.clone(),
                        None => convert::to_jvalue(v),
                    };
                    map.insert(field.clone(), value);
                }
                for (field, v) in current.iter() {
                    if !map.contains_key(field) {
                        map.insert(field.clone(), v.clone());
                    }
                }
                self.states = JValue::Object(Rc::new(map));
                *self.host.states.borrow_mut() = self.states.clone();
                self.all_fields_converted = true;
            }
        }
    }

    /// Evaluates `expr`. `Ok(None)` is JSONata's `undefined`; what that means is up to the field
    /// (for a template member it is an error: see [`Scope::eval_template`]).
    pub fn eval(&mut self, expr: &Expression) -> Result<Option<Value>, EvalError> {
        let threw = |message: String| EvalError {
            expression: expr.source().to_owned(),
            kind: EvalErrorKind::Threw(message),
        };
        if expr.uses_randomness() && !self.seeded {
            let words = [(); 4].map(|_| self.entropy.next_u64());
            *self.host.rng.borrow_mut() = Some(Xoshiro256::from_words(words));
            self.seeded = true;
        }

        self.convert_fields_for(expr);
        let mut context = Context::new();
        context.bind("states".to_owned(), self.states.clone());
        for name in expr.variables() {
            if let Some(value) = self.variable(name) {
                context.bind(name.clone(), value);
            }
        }
        let options = {
            let mut options = self.host.options.borrow_mut();
            options.cancel = Some(self.slot.start(self.timeout));
            options.clone()
        };
        let mut evaluator = Evaluator::with_options(context, options);
        let result = functions::register(&mut evaluator, expr.host_functions(), &self.host)
            .and_then(|()| evaluator.evaluate(expr.ast(), &JValue::Undefined));
        self.slot.finish();
        let result = result.map_err(|e| {
            threw(match e.code() {
                // Only the watchdog cancels, when the timeout has passed.
                Some("U1003") => format!(
                    "D1012: Evaluation timeout after {} milliseconds. Check for infinite loop",
                    self.timeout.as_millis()
                ),
                _ => js_message(e.message()),
            })
        })?;
        convert::from_jvalue(&result).map_err(|FromJValueError::TooDeep| {
            threw(format!(
                "The result is nested more than {} levels deep",
                convert::MAX_RESULT_DEPTH
            ))
        })
    }

    fn variable(&mut self, name: &str) -> Option<JValue> {
        if let Some((_, v)) = self.converted.iter().find(|(n, _)| n == name) {
            return v.clone();
        }
        let value = self.variables.get(name).map(convert::to_jvalue);
        self.converted.push((name.to_owned(), value.clone()));
        value
    }

    /// Evaluates a template into JSON. An expression that returns `undefined` is an error, at
    /// any depth (AWS: `... specified for the field 'Output/result' returned nothing (undefined).`,
    /// and the same for the whole field).
    pub fn eval_template(&mut self, template: &Template) -> Result<Value, TemplateEvalError> {
        self.eval_node(template.root())
    }

    fn eval_node(&mut self, node: &Node) -> Result<Value, TemplateEvalError> {
        match node {
            Node::Literal(v) => Ok(v.clone()),
            Node::Expr(e) => {
                let (expr, path) = &**e;
                match self.eval(expr) {
                    Ok(Some(v)) => Ok(v),
                    Ok(None) => Err(TemplateEvalError {
                        path: path.clone(),
                        error: Box::new(EvalError {
                            expression: expr.source().to_owned(),
                            kind: EvalErrorKind::Undefined,
                        }),
                    }),
                    Err(error) => Err(TemplateEvalError {
                        path: path.clone(),
                        error: Box::new(error),
                    }),
                }
            }
            Node::Object(members) => {
                let mut out = serde_json::Map::with_capacity(members.len());
                for (k, n) in members {
                    out.insert(k.clone(), self.eval_node(n)?);
                }
                Ok(Value::Object(out))
            }
            Node::Array(items) => items
                .iter()
                .map(|n| self.eval_node(n))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
        }
    }
}

/// jsonata-js's fixed messages for codes where jsonata-core words the message differently (AWS
/// prints jsonata-js's: `T1006: Attempted to invoke a non-function`, where jsonata-core appends
/// the function name). Only messages without placeholders are listed; the others are kept as
/// jsonata-core words them.
const FIXED_MESSAGES: &[(&str, &str)] = &[
    ("D1004", "Regular expression matches zero length string"),
    ("T1006", "Attempted to invoke a non-function"),
    ("T1008", "Attempted to partially apply a non-function"),
    (
        "T2003",
        "The left side of the range operator (..) must evaluate to an integer",
    ),
    (
        "T2004",
        "The right side of the range operator (..) must evaluate to an integer",
    ),
    (
        "T2006",
        "The right side of the function application operator ~> must be a function",
    ),
    (
        "T2008",
        "The expressions within an order-by clause must evaluate to numeric or string values",
    ),
    (
        "D3001",
        "Attempting to invoke string function on Infinity or NaN",
    ),
    (
        "D3010",
        "Second argument of replace function cannot be an empty string",
    ),
    (
        "D3011",
        "Fourth argument of replace function must evaluate to a positive number",
    ),
    (
        "D3012",
        "Attempted to replace a matched string with a non-string value",
    ),
    (
        "D3020",
        "Third argument of split function must evaluate to a positive number",
    ),
    (
        "D3040",
        "Third argument of match function must evaluate to a positive number",
    ),
    (
        "D3050",
        "The second argument of reduce function must be a function with at least two arguments",
    ),
    (
        "D3138",
        "The $single() function expected exactly 1 matching result.  Instead it matched more.",
    ),
    (
        "D3139",
        "The $single() function expected exactly 1 matching result.  Instead it matched 0.",
    ),
];

fn js_message(message: &str) -> String {
    let Some(code) = jsonata_core::evaluator::error_code_prefix(message) else {
        return message.to_owned();
    };
    if let Some((_, fixed)) = FIXED_MESSAGES.iter().find(|(c, _)| *c == code) {
        return format!("{code}: {fixed}");
    }
    // "The left side of the + operator must evaluate to a number": jsonata-js quotes the
    // operator (`"+"`), the most common evaluation error in ASL arithmetic.
    if matches!(code, "T2001" | "T2002") {
        for side in ["left", "right"] {
            let head = format!("{code}: The {side} side of the ");
            if let Some(rest) = message.strip_prefix(&head)
                && let Some((op, tail)) = rest.split_once(' ')
                && !op.starts_with('"')
            {
                return format!("{head}\"{op}\" {tail}");
            }
        }
    }
    message.to_owned()
}
