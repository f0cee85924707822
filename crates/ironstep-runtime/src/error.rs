//! Errors the runtime reports to API callers, with AWS's codes.

use ironstep_store::StoreError;

/// AWS Step Functions error codes (the `__type` of API errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // the names are AWS's
pub enum ErrorCode {
    ActivityDoesNotExist,
    ActivityAlreadyExists,
    ActivityWorkerLimitExceeded,
    ConflictException,
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    ExecutionLimitExceeded,
    ExecutionNotRedrivable,
    InvalidArn,
    InvalidDefinition,
    InvalidExecutionInput,
    InvalidName,
    InvalidOutput,
    InvalidToken,
    InvalidLoggingConfiguration,
    InvalidTracingConfiguration,
    MissingRequiredParameter,
    ResourceNotFound,
    ServiceQuotaExceededException,
    StateMachineAlreadyExists,
    StateMachineDeleting,
    StateMachineDoesNotExist,
    StateMachineTypeNotSupported,
    TaskDoesNotExist,
    TaskTimedOut,
    TooManyTags,
    ValidationException,
    /// Not an AWS code: the engine itself failed (storage, shutdown).
    ServiceFailure,
}

impl ErrorCode {
    /// AWS's spelling.
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            ActivityDoesNotExist => "ActivityDoesNotExist",
            ActivityAlreadyExists => "ActivityAlreadyExists",
            ActivityWorkerLimitExceeded => "ActivityWorkerLimitExceeded",
            ConflictException => "ConflictException",
            ExecutionAlreadyExists => "ExecutionAlreadyExists",
            ExecutionDoesNotExist => "ExecutionDoesNotExist",
            ExecutionLimitExceeded => "ExecutionLimitExceeded",
            ExecutionNotRedrivable => "ExecutionNotRedrivable",
            InvalidArn => "InvalidArn",
            InvalidDefinition => "InvalidDefinition",
            InvalidExecutionInput => "InvalidExecutionInput",
            InvalidName => "InvalidName",
            InvalidOutput => "InvalidOutput",
            InvalidToken => "InvalidToken",
            InvalidLoggingConfiguration => "InvalidLoggingConfiguration",
            InvalidTracingConfiguration => "InvalidTracingConfiguration",
            MissingRequiredParameter => "MissingRequiredParameter",
            ResourceNotFound => "ResourceNotFound",
            ServiceQuotaExceededException => "ServiceQuotaExceededException",
            StateMachineAlreadyExists => "StateMachineAlreadyExists",
            StateMachineDeleting => "StateMachineDeleting",
            StateMachineDoesNotExist => "StateMachineDoesNotExist",
            StateMachineTypeNotSupported => "StateMachineTypeNotSupported",
            TaskDoesNotExist => "TaskDoesNotExist",
            TaskTimedOut => "TaskTimedOut",
            TooManyTags => "TooManyTags",
            ValidationException => "ValidationException",
            ServiceFailure => "ServiceFailure",
        }
    }

    /// The HTTP status AWS uses (400 unless documented otherwise).
    pub fn http_status(self) -> u16 {
        match self {
            // The model's documentation says 409, but recorded AWS answers are 400.
            ErrorCode::ServiceQuotaExceededException => 402,
            ErrorCode::ServiceFailure => 500,
            _ => 400,
        }
    }
}

/// An error for an API caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", code.as_str())]
pub struct ServiceError {
    /// AWS's code.
    pub code: ErrorCode,
    /// AWS-style message.
    pub message: String,
}

impl ServiceError {
    /// An error with a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ServiceError {
            code,
            message: message.into(),
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        ServiceError::new(ErrorCode::ServiceFailure, e.to_string())
    }
}

/// `Result` with a [`ServiceError`].
pub type ServiceResult<T> = Result<T, ServiceError>;
