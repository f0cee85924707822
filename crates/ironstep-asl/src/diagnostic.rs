//! Validation diagnostics as data, rendered three ways: the `ValidateStateMachineDefinition`
//! JSON, the message of an `InvalidDefinition` error, and the terminal output of `ironstep validate`.

use std::fmt;

/// How bad a diagnostic is. AWS only rejects a definition for errors; warnings are advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The definition is rejected.
    Error,
    /// The definition is accepted; something looks unintended.
    Warning,
}

impl Severity {
    /// AWS's spelling (`ERROR` / `WARNING`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "ERROR",
            Severity::Warning => "WARNING",
        }
    }
}

/// The diagnostic codes AWS documents for `ValidateStateMachineDefinition`, plus the JSONata ones
/// it has been observed to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // the names are AWS's codes
pub enum Code {
    InvalidJsonDescription,
    MissingDescription,
    SchemaValidationFailed,
    InvalidResource,
    MissingEndState,
    DuplicateStateName,
    InvalidStateName,
    DuplicateLabelName,
    InvalidLabelName,
    MissingTransitionTarget,
    TooDeeplyNested,
    InvalidJsonataExpression,
    UnsupportedJsonataExpression,
    NoDollar,
    NoPath,
    PassResultIsStatic,
}

impl Code {
    /// AWS's spelling of the code.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::InvalidJsonDescription => "INVALID_JSON_DESCRIPTION",
            Code::MissingDescription => "MISSING_DESCRIPTION",
            Code::SchemaValidationFailed => "SCHEMA_VALIDATION_FAILED",
            Code::InvalidResource => "INVALID_RESOURCE",
            Code::MissingEndState => "MISSING_END_STATE",
            Code::DuplicateStateName => "DUPLICATE_STATE_NAME",
            Code::InvalidStateName => "INVALID_STATE_NAME",
            Code::DuplicateLabelName => "DUPLICATE_LABEL_NAME",
            Code::InvalidLabelName => "INVALID_LABEL_NAME",
            Code::MissingTransitionTarget => "MISSING_TRANSITION_TARGET",
            Code::TooDeeplyNested => "TOO_DEEPLY_NESTED",
            Code::InvalidJsonataExpression => "INVALID_JSONATA_EXPRESSION",
            Code::UnsupportedJsonataExpression => "UNSUPPORTED_JSONATA_EXPRESSION",
            Code::NoDollar => "NO_DOLLAR",
            Code::NoPath => "NO_PATH",
            Code::PassResultIsStatic => "PASS_RESULT_IS_STATIC",
        }
    }

    /// The severity AWS gives this code.
    pub fn severity(self) -> Severity {
        match self {
            Code::NoDollar | Code::NoPath | Code::PassResultIsStatic => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

/// One problem found in a definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// AWS's code.
    pub code: Code,
    /// Error or warning.
    pub severity: Severity,
    /// One terse sentence.
    pub message: String,
    /// The narrowest location, a JSON pointer except that array elements of the ASL structure are
    /// written as AWS writes them (`/States/C/Choices[0]/Next`, `/States/T/Catch[1]/Next`); or a
    /// parser position (`[Source: ...]`); or none.
    pub location: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with the code's own severity.
    pub fn new(code: Code, message: impl Into<String>, location: Option<String>) -> Self {
        Diagnostic {
            code,
            severity: code.severity(),
            message: message.into(),
            location,
        }
    }

    /// `SCHEMA_VALIDATION_FAILED` at a location.
    pub fn schema(message: impl Into<String>, location: impl Into<String>) -> Self {
        Self::new(Code::SchemaValidationFailed, message, Some(location.into()))
    }

    /// Whether this diagnostic rejects the definition.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    /// AWS's form inside an `InvalidDefinition` message: `CODE: message at location`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} at {}",
            self.code.as_str(),
            self.message,
            self.location.as_deref().unwrap_or("null")
        )
    }
}

/// The message of an `InvalidDefinition` API error for these diagnostics (errors only), e.g.
/// `Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: These fields are required: [States] at /'`.
pub fn invalid_definition_message(diagnostics: &[Diagnostic]) -> String {
    let parts: Vec<String> = diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.to_string())
        .collect();
    format!("Invalid State Machine Definition: '{}'", parts.join(", "))
}

/// JSON pointer escaping (`~` → `~0`, `/` → `~1`) for a key inside a location.
pub fn pointer_escape(key: &str) -> String {
    if key.contains(['~', '/']) {
        key.replace('~', "~0").replace('/', "~1")
    } else {
        key.to_string()
    }
}
