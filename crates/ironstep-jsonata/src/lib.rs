//! ironstep-jsonata: ASL's JSONata query language (`"QueryLanguage": "JSONata"`) behind our own types.
//!
//! What it is for: compiling the `{% expr %}` strings of a state machine definition once, at
//! definition-creation time ([`Expression`], [`Template`]), and evaluating them while a state runs
//! ([`Scope`]) with `$states` and the workflow variables bound, AWS's extra functions (`$partition`,
//! `$range`, `$hash`, `$random`, `$uuid`, `$parse`), AWS's error texts ([`EvalError::cause`]) and
//! resource limits that always apply.
//!
//! Key design decisions:
//! - **The engine never leaks.** The JSONata engine is the `jsonata-core` crate, but no type of it
//!   appears in this crate's public API, so that it can be swapped (the fallback measured in
//!   `dependencies.md` is `async_jsonata_rust`). Values cross the boundary as `serde_json::Value`.
//! - **Parse once, convert `$states` once.** `jsonata-core`'s parsed AST is plain data (`Send + Sync`,
//!   checked by a compile-time assertion in `expression.rs`), so an [`Expression`] holds it directly
//!   and evaluation never re-parses. Its runtime values are `Rc`-based (`!Send`), so they live only
//!   inside a [`Scope`], which belongs to one thread and one state: `$states` is converted into the
//!   engine's value type once per scope, and a variable only when an expression references it.
//! - **Deterministic.** `$now()`/`$millis()` read the time given to the scope, and `$random()`/
//!   `$uuid()` draw from an injected [`Entropy`]; no result depends on a clock or the OS RNG. (A
//!   single background watchdog thread reads the clock to enforce evaluation timeouts.)
//! - **ECMAScript regular expressions.** `$match`, `$replace`, `$contains` and `$split` are replaced
//!   by host functions that run JavaScript-syntax patterns (lookaround, backreferences) on
//!   `fancy-regex`, whose backtracking limit keeps a pathological pattern from hanging a worker.
//!
//! Must not depend on: the ASL model, the interpreter, the store, tokio or any I/O. Its only
//! in-house dependency is `ironstep-query`, for the [`Entropy`] trait.
#![warn(missing_docs)]

mod analysis;
mod convert;
mod error;
mod expression;
mod functions;
mod js_regex;
mod rng;
mod scope;
mod template;
mod watchdog;

pub use error::{
    CompileError, Diagnostic, DiagnosticCode, EvalError, EvalErrorKind, FieldPath, PathSegment,
    TemplateCompileError, TemplateEvalError,
};
pub use expression::{Expression, StatesField};
pub use ironstep_query::Entropy;
pub use scope::{Env, Limits, NoVariables, Scope, Variables};
pub use template::{Template, parse_expression_string};

/// The JSON type name AWS prints in "Expected 'array', but was 'string'" causes.
pub fn json_type_name(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}
