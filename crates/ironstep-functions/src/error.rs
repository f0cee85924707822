//! Errors: [`LambdaApiError`] is what a Lambda API caller sees (code, message, HTTP status, as AWS
//! writes them); [`OpenError`] is what can go wrong when opening the registry.

use std::fmt;

/// An error of the Lambda API, carrying Lambda's error code, message and HTTP status.
///
/// The REST router renders it as Lambda does: header `x-amzn-ErrorType: <code>` and body
/// `{"Type":"User","message":"..."}`; the Step Functions integration maps it to `Lambda.<code>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct LambdaApiError {
    /// Lambda's error code, e.g. `ResourceNotFoundException`.
    pub code: &'static str,
    /// The message, worded as Lambda words it.
    pub message: String,
    /// The HTTP status Lambda answers with.
    pub http_status: u16,
    /// For `TooManyRequestsException`: the throttling reason Lambda puts in `Reason`.
    pub reason: Option<&'static str>,
}

impl LambdaApiError {
    fn new(code: &'static str, http_status: u16, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            http_status,
            reason: None,
        }
    }

    /// 404 `ResourceNotFoundException`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new("ResourceNotFoundException", 404, message)
    }

    /// `Function not found: <arn>`, Lambda's wording for a missing function.
    pub fn function_not_found(arn: &str) -> Self {
        Self::not_found(format!("Function not found: {arn}"))
    }

    /// 409 `ResourceConflictException`.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new("ResourceConflictException", 409, message)
    }

    /// 400 `InvalidParameterValueException`.
    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new("InvalidParameterValueException", 400, message)
    }

    /// 400 `ValidationException` (constraint violations of the API model, as Lambda reports them:
    /// `1 validation error detected: Value '...' at '...' failed to satisfy constraint: ...`).
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new("ValidationException", 400, message)
    }

    /// A single-constraint [`LambdaApiError::validation`] error in Lambda's wording.
    pub fn validation_one(value: &str, field: &str, constraint: &str) -> Self {
        Self::validation(format!(
            "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {constraint}"
        ))
    }

    /// 400 `InvalidRequestContentException`.
    pub fn invalid_request_content(message: impl Into<String>) -> Self {
        Self::new("InvalidRequestContentException", 400, message)
    }

    /// 413 `RequestTooLargeException`.
    pub fn request_too_large(message: impl Into<String>) -> Self {
        Self::new("RequestTooLargeException", 413, message)
    }

    /// 429 `TooManyRequestsException` with a throttling reason.
    pub fn too_many_requests(reason: &'static str) -> Self {
        Self {
            reason: Some(reason),
            ..Self::new("TooManyRequestsException", 429, "Rate Exceeded.")
        }
    }

    /// 412 `PreconditionFailedException` (stale `RevisionId`).
    pub fn precondition_failed() -> Self {
        Self::new(
            "PreconditionFailedException",
            412,
            "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
        )
    }

    /// 500 `ServiceException`: something failed on our side (disk, process spawn).
    pub fn service(message: impl fmt::Display) -> Self {
        Self::new("ServiceException", 500, message.to_string())
    }

    /// Whether the fault is the caller's (`Type: User`) rather than the service's.
    pub fn is_user_fault(&self) -> bool {
        self.http_status < 500
    }
}

/// Why [`crate::Functions::open`] failed.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The data or runtime directory could not be created or read.
    #[error("cannot use directory {path}: {source}")]
    Io {
        /// The directory or file involved.
        path: std::path::PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A stored function configuration could not be parsed.
    #[error("corrupt function configuration {path}: {source}")]
    Corrupt {
        /// The file that failed to parse.
        path: std::path::PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
}
