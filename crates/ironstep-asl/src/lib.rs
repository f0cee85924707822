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
        Err(e) => return (None, vec![json_error(text, &e)]),
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

/// `INVALID_JSON_DESCRIPTION` in the shape AWS's Jackson parser gives it: the message ends with
/// `\n at <location>`, and the location is `[Source: (String)"<text>"; line: L, column: C]`
/// (recorded). A bare word where a value should be gets Jackson's own wording, column just past
/// the word; other syntax errors keep serde_json's wording.
fn json_error(text: &str, e: &serde_json::Error) -> Diagnostic {
    let (message, column) = match unrecognized_token(text, e) {
        Some((token, end_column)) => (
            format!(
                "Unrecognized token '{token}': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
            ),
            end_column,
        ),
        None => {
            // serde_json appends " at line L column C"; the location carries that already.
            let msg = e.to_string();
            let msg = match msg.rfind(" at line ") {
                Some(i) => msg[..i].to_string(),
                None => msg,
            };
            (msg, e.column())
        }
    };
    let location = format!(
        "[Source: (String)\"{}\"; line: {}, column: {column}]",
        excerpt(text),
        e.line()
    );
    Diagnostic::new(
        Code::InvalidJsonDescription,
        format!("{message}\n at {location}"),
        Some(location),
    )
}

/// The word serde_json stopped in, if the error is a bare word where a value should be (`not a
/// definition`, `yes`, `nul`), with the 1-based column just after it (Jackson's column).
fn unrecognized_token(text: &str, e: &serde_json::Error) -> Option<(String, usize)> {
    // Only where a value was expected: elsewhere (`{a: 1}`, a key) Jackson words it otherwise.
    let msg = e.to_string();
    if !e.is_syntax() || !(msg.starts_with("expected value") || msg.starts_with("expected ident")) {
        return None;
    }
    let line = text.split('\n').nth(e.line().checked_sub(1)?)?;
    let chars: Vec<char> = line.chars().collect();
    // serde_json's column is 1-based and points at the offending character (or just past the
    // end of the input).
    let at = e.column().saturating_sub(1).min(chars.len());
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    let start = (0..at)
        .rev()
        .take_while(|i| word(chars[*i]))
        .last()
        .unwrap_or(at);
    let end = (start..chars.len())
        .find(|i| !word(chars[*i]))
        .unwrap_or(chars.len());
    let token: String = chars.get(start..end)?.iter().collect();
    let first = token.chars().next()?;
    // Numbers are serde's business (`01`, `1x`); only words starting with a letter count.
    (first.is_alphabetic() && !matches!(token.as_str(), "null" | "true" | "false"))
        .then_some((token, end + 1))
}

/// Jackson's excerpt of the source: the first 500 characters, then `[truncated N chars]`.
fn excerpt(text: &str) -> String {
    let total = text.chars().count();
    let mut s: String = text.chars().take(500).collect();
    if total > 500 {
        s.push_str(&format!("[truncated {} chars]", total - 500));
    }
    s.replace('"', "\\\"")
}
