//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong between reading a template and the last API call.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The template text is not YAML or JSON.
    #[error("{file}: {message}")]
    Syntax {
        /// The template file.
        file: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// The template is well-formed but wrong at a place named by `path`
    /// (`Resources.MyFn.Properties.CodeUri`).
    #[error("{path}: {message}")]
    Template {
        /// Where in the template, dotted.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A file the template names could not be read.
    #[error("{context}: reading {}: {source}", path.display())]
    Io {
        /// Where in the template the file is named (or the template itself).
        context: String,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Nothing answers at the endpoint.
    #[error(
        "no ironstep server answers at {endpoint} ({reason}); start one with `ironstep serve` (or pass --endpoint)"
    )]
    Unreachable {
        /// The endpoint tried.
        endpoint: String,
        /// The connection error.
        reason: String,
    },
    /// The endpoint is not a plain `http://host:port` URL.
    #[error("invalid endpoint '{endpoint}': {reason}")]
    Endpoint {
        /// What was given.
        endpoint: String,
        /// Why it is refused.
        reason: String,
    },
    /// An API call answered with an error.
    #[error("{context}: {operation} failed: {code}: {message}")]
    Api {
        /// The resource being applied (`Resources.Parent`) or the step of the run.
        context: String,
        /// The API operation (`CreateStateMachine`, `CreateFunction`, ...).
        operation: String,
        /// AWS's error code.
        code: String,
        /// AWS's error message.
        message: String,
    },
    /// The server answered something that is not the API's shape.
    #[error("{0}")]
    Protocol(String),
}

impl DeployError {
    /// A template error at `path`.
    pub fn at(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Template {
            path: path.into(),
            message: message.into(),
        }
    }

    /// The AWS error code of an [`DeployError::Api`] error.
    pub fn api_code(&self) -> Option<&str> {
        match self {
            Self::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// Shorthand.
pub type Result<T, E = DeployError> = std::result::Result<T, E>;
