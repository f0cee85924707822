//! Error types: creation-time diagnostics and evaluation failures, with AWS's texts.

use std::fmt;

use serde_json::Value;

/// AWS's validation code for a JSONata problem found when a definition is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiagnosticCode {
    /// The expression does not parse (`INVALID_JSONATA_EXPRESSION`).
    InvalidJsonataExpression,
    /// The expression parses but uses something ASL forbids, such as a bare field name at the
    /// top level (`UNSUPPORTED_JSONATA_EXPRESSION`).
    UnsupportedJsonataExpression,
}

impl DiagnosticCode {
    /// The code as AWS spells it in `ValidateStateMachineDefinition` and `InvalidDefinition`.
    pub fn as_str(self) -> &'static str {
        match self {
            DiagnosticCode::InvalidJsonataExpression => "INVALID_JSONATA_EXPRESSION",
            DiagnosticCode::UnsupportedJsonataExpression => "UNSUPPORTED_JSONATA_EXPRESSION",
        }
    }
}

/// One creation-time problem: AWS reports each one as its own diagnostic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// AWS's code.
    pub code: DiagnosticCode,
    /// AWS's message, e.g. `Reference to 'phone' at the top level is not supported.`
    pub message: String,
}

/// Why an expression was refused at creation time: at least one [`Diagnostic`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render_diagnostics(.diagnostics))]
pub struct CompileError {
    /// Every problem found, in source order (AWS lists each top-level reference separately).
    pub diagnostics: Vec<Diagnostic>,
}

fn render_diagnostics(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| format!("{}: {}", d.code.as_str(), d.message))
        .collect::<Vec<_>>()
        .join("; ")
}

impl CompileError {
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        CompileError {
            diagnostics: vec![Diagnostic {
                code: DiagnosticCode::InvalidJsonataExpression,
                message: message.into(),
            }],
        }
    }
}

/// One step of the path from a field to an expression inside its JSON template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSegment {
    /// An object member.
    Key(String),
    /// An array element.
    Index(usize),
}

/// Where an expression sits inside its field's template (empty when the field itself is the
/// expression). AWS joins it to the field name: `Output/result`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldPath(pub Vec<PathSegment>);

impl FieldPath {
    /// The location AWS prints, starting from `field`: `Output`, `Output/result`,
    /// `Arguments/items[0]`.
    pub fn location(&self, field: &str) -> String {
        let mut out = String::from(field);
        for segment in &self.0 {
            match segment {
                PathSegment::Key(key) => {
                    out.push('/');
                    out.push_str(key);
                }
                PathSegment::Index(i) => {
                    out.push('[');
                    out.push_str(&i.to_string());
                    out.push(']');
                }
            }
        }
        out
    }
}

/// Errors found while compiling a template: every expression that did not compile, with its
/// place in the template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} JSONata expression(s) in the template do not compile", .errors.len())]
pub struct TemplateCompileError {
    /// Each failing expression's path and error.
    pub errors: Vec<(FieldPath, CompileError)>,
}

/// What went wrong when an expression was evaluated. All of them are
/// `States.QueryEvaluationError` in ASL.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EvalErrorKind {
    /// The expression evaluated to JSONata `undefined` where a JSON value was required.
    Undefined,
    /// The engine raised an error; the message is jsonata-js's `CODE: text` form when there is a
    /// code, e.g. `T1006: Attempted to invoke a non-function`.
    Threw(String),
    /// The caller needed another JSON type (see [`EvalError::unexpected_type`]).
    UnexpectedType {
        /// The type the field needs, as AWS names it (`array`, `number`, ...).
        expected: &'static str,
        /// The value the expression returned.
        value: Value,
    },
}

/// An evaluation failure of one expression, with what AWS needs to print its cause.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", self.cause("<field>"))]
pub struct EvalError {
    /// The expression's source, as written between `{%` and `%}` (trimmed).
    pub expression: String,
    /// What failed.
    pub kind: EvalErrorKind,
}

impl EvalError {
    /// The expression returned a value of the wrong JSON type for the field (the caller knows
    /// which type the field takes; `Items` wants an array, `Seconds` a number, ...).
    pub fn unexpected_type(expression: &str, expected: &'static str, value: Value) -> Self {
        EvalError {
            expression: expression.to_owned(),
            kind: EvalErrorKind::UnexpectedType { expected, value },
        }
    }

    /// AWS's cause text, without the interpreter's `An error occurred while executing the state
    /// '<s>' (entered at the event id #<n>). ` prefix, e.g.
    /// `The JSONata expression '$x' specified for the field 'Output/result' returned nothing (undefined).`
    pub fn cause(&self, location: &str) -> String {
        let head = format!(
            "The JSONata expression '{}' specified for the field '{}'",
            self.expression, location
        );
        match &self.kind {
            EvalErrorKind::Undefined => format!("{head} returned nothing (undefined)."),
            EvalErrorKind::Threw(message) => {
                format!("{head} threw an error during evaluation. {message}")
            }
            EvalErrorKind::UnexpectedType { expected, value } => format!(
                "{head} returned an unexpected result type. Expected '{expected}', but was '{}' for value: {}",
                crate::json_type_name(value),
                value
            ),
        }
    }
}

/// A failure inside a template: the expression's error and where it sits in the template.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", self.error.cause(&self.path.location("<field>")))]
pub struct TemplateEvalError {
    /// Where the failing expression sits, relative to the field.
    pub path: FieldPath,
    /// The failure (boxed: it is the large, rare case of a template evaluation).
    pub error: Box<EvalError>,
}

impl TemplateEvalError {
    /// AWS's `location` for the `EvaluationFailed` event, e.g. `Output/result`.
    pub fn location(&self, field: &str) -> String {
        self.path.location(field)
    }

    /// AWS's cause text (without the state prefix); see [`EvalError::cause`].
    pub fn cause(&self, field: &str) -> String {
        self.error.cause(&self.location(field))
    }
}

impl fmt::Display for DiagnosticCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
