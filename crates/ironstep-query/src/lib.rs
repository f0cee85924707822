//! ironstep-query: the JSONPath query language of ASL, pure and I/O-free.
//!
//! Everything a JSONPath state needs to read and build data: paths with Jayway's semantics
//! ([`path`]), intrinsic functions ([`intrinsic`]), payload templates such as `Parameters`
//! ([`template`]), and the environment they read from ([`mod@env`]). The ASL compiler uses it
//! to check definitions (parse errors become `InvalidDefinition` diagnostics); the
//! interpreter uses it to evaluate at run time.
//!
//! Key decision: **compile once, evaluate many times.** Paths, calls and templates are
//! parsed into small trees; evaluation walks them over `serde_json::Value`s, borrowing
//! wherever it can. A definite path of a few `.name`/`[i]` steps evaluates without
//! allocating. Error values carry what AWS prints, so the interpreter can report AWS's exact
//! cause texts.
//!
//! This crate must not depend on any other ironstep crate, on tokio, on a clock or on an
//! RNG: randomness (`States.UUID`, `States.MathRandom`) comes in through [`Entropy`]. All
//! compiled types are `Send + Sync` so definitions can be shared across threads.

#![warn(missing_docs)]

pub mod env;
pub mod intrinsic;
pub mod json;
pub mod path;
pub mod template;

pub use env::{ContextObject, Env, LazyContext, NoVariables, Variables};
pub use intrinsic::{Function, Intrinsic, IntrinsicError, IntrinsicParseError};
pub use path::{AssignError, NotFound, Path, PathError, Root, Selection};
pub use template::{Expr, Template, TemplateError, TemplateEvalError, TemplateEvalErrorKind};

/// Randomness injected from outside, so that evaluation stays deterministic under test and
/// replay. `States.UUID`, `States.MathRandom`, and JSONata's `$uuid`/`$random` draw from it.
pub trait Entropy {
    /// The next 64 random bits.
    fn next_u64(&mut self) -> u64;
}

#[cfg(test)]
mod fuzzish;

#[cfg(test)]
mod send_sync {
    use super::*;

    fn assert_send_sync<T: Send + Sync + std::fmt::Debug>() {}

    #[test]
    fn compiled_types_are_send_sync_and_debug() {
        assert_send_sync::<Path>();
        assert_send_sync::<Intrinsic>();
        assert_send_sync::<Template>();
        assert_send_sync::<Expr>();
        assert_send_sync::<PathError>();
        assert_send_sync::<IntrinsicParseError>();
        assert_send_sync::<TemplateError>();
        assert_send_sync::<TemplateEvalError>();
        assert_send_sync::<NotFound>();
        assert_send_sync::<AssignError>();
    }
}
