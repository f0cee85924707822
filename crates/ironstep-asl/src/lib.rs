//! ironstep-asl: the Amazon States Language definition model, its parser and its validator.
//!
//! A definition is compiled once, when a state machine is created or updated: states become
//! indices, paths, payload templates, intrinsic functions and JSONata expressions are parsed
//! (through `ironstep-query` and `ironstep-jsonata`), and every problem is reported as a
//! [`Diagnostic`] carrying AWS's code and the narrowest JSON-pointer location. The interpreter works
//! only on the compiled [`Definition`].
//!
//! This crate is pure: no I/O, no clock, no async runtime.
#![warn(missing_docs)]

pub mod diagnostic;
mod graph;
pub mod model;
mod parse;
pub mod resource;
pub mod timestamp;

pub use diagnostic::{Code, Diagnostic, Severity, invalid_definition_message};
pub use model::*;
pub use resource::{Pattern, Resource};

/// The state machine type, which changes what a definition may contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StateMachineType {
    /// Standard workflows (the default).
    #[default]
    Standard,
    /// Express workflows: no `.sync`, `.waitForTaskToken` or activities.
    Express,
}

/// What to compile for.
#[derive(Debug, Clone, Default)]
pub struct CompileOptions {
    /// Standard or Express.
    pub machine_type: StateMachineType,
}

/// Compile a definition text. On failure, every diagnostic (errors and warnings) is returned.
pub fn compile(text: &str, opts: &CompileOptions) -> Result<Definition, Vec<Diagnostic>> {
    let (def, diagnostics) = analyse(text, opts);
    match def {
        Some(def) if !diagnostics.iter().any(Diagnostic::is_error) => Ok(def),
        _ => Err(diagnostics),
    }
}

/// Every diagnostic for a definition text, warnings included, in AWS's order (errors first).
pub fn validate(text: &str, opts: &CompileOptions) -> Vec<Diagnostic> {
    let (_, mut diagnostics) = analyse(text, opts);
    diagnostics.sort_by_key(|d| d.severity);
    diagnostics
}

fn analyse(text: &str, opts: &CompileOptions) -> (Option<Definition>, Vec<Diagnostic>) {
    if text.trim().is_empty() {
        return (
            None,
            vec![Diagnostic::new(
                Code::SchemaValidationFailed,
                "Definition must be a valid JSON object",
                None,
            )],
        );
    }
    let root: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return (
                None,
                vec![Diagnostic::new(
                    Code::InvalidJsonDescription,
                    json_error_message(&e),
                    Some(format!(
                        "[Source: (String)\"{}\"; line: {}, column: {}]",
                        excerpt(text),
                        e.line(),
                        e.column()
                    )),
                )],
            );
        }
    };
    let (def, mut diagnostics) = parse::Parser::new(opts).definition(&root);
    graph::check(&root, &mut diagnostics);
    dedup(&mut diagnostics);
    (def, diagnostics)
}

fn dedup(diagnostics: &mut Vec<Diagnostic>) {
    let mut seen = std::collections::HashSet::new();
    diagnostics.retain(|d| seen.insert((d.code, d.message.clone(), d.location.clone())));
}

fn json_error_message(e: &serde_json::Error) -> String {
    // serde_json appends " at line L column C"; the location carries that already.
    let msg = e.to_string();
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg,
    }
}

fn excerpt(text: &str) -> String {
    let mut s: String = text.chars().take(500).collect();
    if text.chars().count() > 500 {
        s.push_str("[truncated]");
    }
    s.replace('"', "\\\"")
}
