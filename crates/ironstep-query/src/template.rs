//! Payload templates: `Parameters`, `ResultSelector`, `ItemSelector`, legacy Map
//! `Parameters`, Task `Credentials`, and JSONPath `Assign`.
//!
//! A template is a JSON value in which an object key ending in `.$` holds a path (`$...`), a
//! context path (`$$...`), a variable path (`$name...`) or an intrinsic call
//! (`States.X(...)`); the key loses its `.$` in the output. Every other value is copied as
//! is, even strings that look like paths. Compilation folds each subtree without `.$` keys
//! into one constant, so a template without any is a single clone at run time.

use std::fmt;

use serde_json::{Map, Value};

use crate::env::Env;
use crate::intrinsic::{Intrinsic, IntrinsicError};
use crate::json;
use crate::path::{Path, Root};

/// A compiled payload template.
#[derive(Clone)]
pub struct Template {
    root: Node,
    uses_context: bool,
    variables: Box<[Box<str>]>,
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Template")
            .field("root", &self.root)
            .field("uses_context", &self.uses_context)
            .field("variables", &self.variables)
            .finish()
    }
}

#[derive(Debug, Clone)]
enum Node {
    /// A subtree without `.$` keys.
    Const(Value),
    /// An object with at least one dynamic value. Evaluation clones `skeleton` (every
    /// output key in order, constant values filled in, `null` where a dynamic value goes)
    /// and fills the slots. Cloning an `IndexMap` copies its hash table instead of hashing
    /// every key again: 480 → 355 ns for the 4-reference template in `benches/eval.rs`
    /// (release build, shared 2-core machine, 2026).
    Object {
        skeleton: Map<String, Value>,
        /// Positions in `skeleton` to fill, in increasing order, with their values.
        slots: Box<[(usize, Node)]>,
    },
    Array(Box<[Node]>),
    Dynamic(Box<Dynamic>),
}

#[derive(Debug, Clone)]
struct Dynamic {
    /// The template key, with its `.$`, as AWS names it in messages.
    field: Box<str>,
    /// JSON pointer of the key inside the template.
    location: Box<str>,
    expr: Expr,
}

/// A single path or intrinsic call: the value of a `.$` key, or of a field such as a Fail
/// state's `ErrorPath`/`CausePath`.
#[derive(Debug, Clone)]
pub enum Expr {
    /// `$...`, `$$...` or `$name...`
    Path(Path),
    /// `States.X(...)`
    Intrinsic(Intrinsic),
}

/// A template (or expression) that cannot be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    location: String,
    field: String,
    message: String,
    detail: Option<String>,
}

impl TemplateError {
    /// JSON pointer of the offending key inside the template (`/a/b.$`), for building
    /// `/States/<name>/Parameters/a/b.$`.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The offending key (`b.$`).
    pub fn field(&self) -> &str {
        &self.field
    }

    /// AWS's message, e.g. `The value for the field 'b.$' must be a valid JSONPath or a
    /// valid intrinsic function call` (AWS appends ` at /States/<name>/Parameters`).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The underlying path or intrinsic syntax error, if any.
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }
}

/// A template failed at run time. AWS reports every such failure as `States.Runtime`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.cause())]
pub struct TemplateEvalError(Box<EvalFailure>);

/// Boxed so that `Result<Value, TemplateEvalError>` stays small on the success path.
#[derive(Debug, Clone, PartialEq, Eq)]
struct EvalFailure {
    field: String,
    location: String,
    kind: TemplateEvalErrorKind,
}

/// Why a template failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateEvalErrorKind {
    /// A path matched nothing.
    PathNotFound {
        /// The path as written.
        path: String,
        /// The document the path was evaluated against, as compact JSON.
        input: String,
    },
    /// A `$name` path names a variable that has no value.
    UndefinedVariable {
        /// The path as written.
        path: String,
        /// The variable name.
        name: String,
        /// The state input, as compact JSON.
        input: String,
    },
    /// An intrinsic function failed.
    Intrinsic(IntrinsicError),
}

impl TemplateEvalError {
    /// The template key (`value.$`), or the field name given to [`Expr::eval`].
    pub fn field(&self) -> &str {
        &self.0.field
    }

    /// JSON pointer of the key inside the template (empty for [`Expr::eval`]).
    pub fn location(&self) -> &str {
        &self.0.location
    }

    /// What went wrong.
    pub fn kind(&self) -> &TemplateEvalErrorKind {
        &self.0.kind
    }

    /// The ASL error name AWS reports.
    pub fn error_name(&self) -> &'static str {
        "States.Runtime"
    }

    /// AWS's cause text (without the `An error occurred while executing the state ...`
    /// prefix the interpreter adds), e.g. `The JSONPath '$.x' specified for the field
    /// 'value.$' could not be found in the input '{"a":1}'`.
    pub fn cause(&self) -> String {
        match &self.0.kind {
            TemplateEvalErrorKind::PathNotFound { path, input }
            | TemplateEvalErrorKind::UndefinedVariable { path, input, .. } => format!(
                "The JSONPath '{path}' specified for the field '{}' could not be found in the input '{input}'",
                self.0.field
            ),
            TemplateEvalErrorKind::Intrinsic(e) => e.to_string(),
        }
    }
}

impl Expr {
    /// Parses a path (`$...`) or an intrinsic call (`States.X(...)`). `field` names the
    /// field for the error message (`ErrorPath`, `x.$`).
    pub fn parse(text: &str, field: &str) -> Result<Expr, TemplateError> {
        Expr::parse_at(text, field, "")
    }

    fn parse_at(text: &str, field: &str, location: &str) -> Result<Expr, TemplateError> {
        let error = |detail: String| TemplateError {
            location: location.to_owned(),
            field: field.to_owned(),
            message: format!(
                "The value for the field '{field}' must be a valid JSONPath or a valid intrinsic function call"
            ),
            detail: Some(detail),
        };
        let trimmed = text.trim_start();
        if trimmed.starts_with('$') {
            Path::parse(text)
                .map(Expr::Path)
                .map_err(|e| error(e.to_string()))
        } else if Intrinsic::looks_like_call(text) {
            Intrinsic::parse(text)
                .map(Expr::Intrinsic)
                .map_err(|e| error(e.to_string()))
        } else {
            Err(error(format!(
                "'{text}' is neither a path starting with '$' nor an intrinsic function call"
            )))
        }
    }

    /// `true` if the expression reads the context object.
    pub fn uses_context(&self) -> bool {
        match self {
            Expr::Path(path) => *path.root() == Root::Context,
            Expr::Intrinsic(call) => call.uses_context(),
        }
    }

    /// The variables the expression reads.
    pub fn variables(&self) -> Vec<&str> {
        match self {
            Expr::Path(path) => path.variable().into_iter().collect(),
            Expr::Intrinsic(call) => call.variables().iter().map(|v| &**v).collect(),
        }
    }

    /// Evaluates the expression; `field` names it in the error (`ErrorPath`).
    pub fn eval(&self, env: &mut Env<'_>, field: &str) -> Result<Value, TemplateEvalError> {
        self.eval_at(env, field, "")
    }

    #[inline]
    fn eval_at(
        &self,
        env: &mut Env<'_>,
        field: &str,
        location: &str,
    ) -> Result<Value, TemplateEvalError> {
        let fail = |kind| {
            TemplateEvalError(Box::new(EvalFailure {
                field: field.to_owned(),
                location: location.to_owned(),
                kind,
            }))
        };
        match self {
            Expr::Path(path) => {
                let Some(doc) = env.root_of(path) else {
                    return Err(fail(TemplateEvalErrorKind::UndefinedVariable {
                        path: path.as_str().to_owned(),
                        name: path.variable().unwrap_or_default().to_owned(),
                        input: json::to_compact(env.input()),
                    }));
                };
                path.select(doc).map(|s| s.into_value()).map_err(|_| {
                    // AWS quotes the whole document (all of `$$`, not the member looked in).
                    let whole = env.root(path.root()).unwrap_or(doc);
                    fail(TemplateEvalErrorKind::PathNotFound {
                        path: path.as_str().to_owned(),
                        input: json::to_compact(whole),
                    })
                })
            }
            Expr::Intrinsic(call) => call
                .eval(env)
                .map_err(|e| fail(TemplateEvalErrorKind::Intrinsic(e))),
        }
    }
}

impl Template {
    /// Compiles a template. Errors name the offending key and its location.
    pub fn compile(template: &Value) -> Result<Template, TemplateError> {
        let mut uses_context = false;
        let mut variables: Vec<Box<str>> = Vec::new();
        let root = compile_node(template, &mut String::new(), &mut |expr: &Expr| {
            uses_context |= expr.uses_context();
            for name in expr.variables() {
                if !variables.iter().any(|v| &**v == name) {
                    variables.push(name.into());
                }
            }
        })?;
        variables.sort();
        Ok(Template {
            root,
            uses_context,
            variables: variables.into_boxed_slice(),
        })
    }

    /// `true` if the template has no `.$` key: evaluating it just clones it.
    pub fn is_constant(&self) -> bool {
        matches!(self.root, Node::Const(_))
    }

    /// `true` if some path in the template reads the context object (`$$`), so the caller
    /// must supply it.
    pub fn uses_context(&self) -> bool {
        self.uses_context
    }

    /// The variables the template reads, sorted, without duplicates.
    pub fn variables(&self) -> &[Box<str>] {
        &self.variables
    }

    /// Builds the payload.
    pub fn eval(&self, env: &mut Env<'_>) -> Result<Value, TemplateEvalError> {
        eval_node(&self.root, env)
    }
}

fn compile_node(
    value: &Value,
    location: &mut String,
    seen: &mut dyn FnMut(&Expr),
) -> Result<Node, TemplateError> {
    match value {
        Value::Object(map) => {
            let mut entries = Vec::with_capacity(map.len());
            let mut all_constant = true;
            for (key, item) in map {
                let mark = location.len();
                location.push('/');
                push_pointer_token(location, key);
                let node = if let Some(out_key) = key.strip_suffix(".$") {
                    let Value::String(text) = item else {
                        return Err(TemplateError {
                            location: location.clone(),
                            field: key.clone(),
                            message: format!(
                                "The value for the field '{key}' must be a valid JSONPath or a valid intrinsic function call"
                            ),
                            detail: Some(format!(
                                "the value of a '.$' field must be a string, not {}",
                                type_name(item)
                            )),
                        });
                    };
                    let expr = Expr::parse_at(text, key, location)?;
                    seen(&expr);
                    entries.push((
                        out_key.to_owned(),
                        Node::Dynamic(Box::new(Dynamic {
                            field: key.as_str().into(),
                            location: location.as_str().into(),
                            expr,
                        })),
                    ));
                    all_constant = false;
                    location.truncate(mark);
                    continue;
                } else {
                    compile_node(item, location, seen)?
                };
                location.truncate(mark);
                all_constant &= matches!(node, Node::Const(_));
                entries.push((key.clone(), node));
            }
            if all_constant {
                Ok(Node::Const(value.clone()))
            } else {
                Ok(object_node(entries))
            }
        }
        Value::Array(items) => {
            let mut nodes = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let mark = location.len();
                location.push('/');
                location.push_str(&i.to_string());
                nodes.push(compile_node(item, location, seen)?);
                location.truncate(mark);
            }
            if nodes.iter().all(|n| matches!(n, Node::Const(_))) {
                Ok(Node::Const(value.clone()))
            } else {
                Ok(Node::Array(nodes.into_boxed_slice()))
            }
        }
        other => Ok(Node::Const(other.clone())),
    }
}

/// Lays out an object node. When two template keys produce the same output key
/// (`"a"` and `"a.$"`), the later one wins and the key keeps its first position, as with
/// successive inserts.
fn object_node(entries: Vec<(String, Node)>) -> Node {
    let mut skeleton = Map::with_capacity(entries.len());
    let mut slots: Vec<(usize, Node)> = Vec::new();
    for (key, node) in entries {
        let position = skeleton
            .keys()
            .position(|k| *k == key)
            .unwrap_or(skeleton.len());
        slots.retain(|(at, _)| *at != position);
        match node {
            Node::Const(value) => {
                skeleton.insert(key, value);
            }
            dynamic => {
                skeleton.insert(key, Value::Null);
                slots.push((position, dynamic));
            }
        }
    }
    slots.sort_by_key(|(at, _)| *at);
    Node::Object {
        skeleton,
        slots: slots.into_boxed_slice(),
    }
}

fn eval_node(node: &Node, env: &mut Env<'_>) -> Result<Value, TemplateEvalError> {
    match node {
        Node::Const(value) => Ok(value.clone()),
        Node::Object { skeleton, slots } => {
            let mut map = skeleton.clone();
            let mut slots = slots.iter().peekable();
            for (i, value) in map.values_mut().enumerate() {
                match slots.peek() {
                    Some((at, child)) if *at == i => {
                        *value = eval_node(child, env)?;
                        slots.next();
                    }
                    Some(_) => {}
                    None => break,
                }
            }
            Ok(Value::Object(map))
        }
        Node::Array(items) => items
            .iter()
            .map(|child| eval_node(child, env))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Node::Dynamic(dynamic) => dynamic.expr.eval_at(env, &dynamic.field, &dynamic.location),
    }
}

/// Appends a JSON-pointer token (`~` → `~0`, `/` → `~1`).
fn push_pointer_token(out: &mut String, token: &str) {
    for c in token.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests;
