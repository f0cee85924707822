//! Errors raised while running states, and the texts AWS gives them.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// An error raised by a state (or by a task, a branch, an iteration), on its way to Retry,
/// Catch, or the end of the execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateError {
    /// The error name (`States.Runtime`, `Lambda.Unknown`, a custom name, or none).
    pub error: Option<String>,
    /// The cause text.
    pub cause: Option<String>,
    /// Set for heartbeat expiry, which AWS records as `States.Timeout` but which
    /// `States.HeartbeatTimeout` also matches.
    pub heartbeat: bool,
}

impl StateError {
    /// An error with a name and a cause.
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        StateError {
            error: Some(error.into()),
            cause: Some(cause.into()),
            heartbeat: false,
        }
    }

    /// The name used to match `ErrorEquals` (an absent name matches only `States.ALL`).
    pub fn name(&self) -> &str {
        self.error.as_deref().unwrap_or("")
    }

    /// The error output a Catch hands on: `{"Error": ..., "Cause": ...}`. AWS writes an absent
    /// cause as `""` when the error has a name, and both as `null` when neither was given
    /// (SendTaskFailure with no arguments).
    pub fn error_output(&self) -> Value {
        let mut m = Map::new();
        match (&self.error, &self.cause) {
            (None, None) => {
                m.insert("Error".into(), Value::Null);
                m.insert("Cause".into(), Value::Null);
            }
            (e, c) => {
                m.insert(
                    "Error".into(),
                    e.clone().map(Value::String).unwrap_or(Value::Null),
                );
                m.insert("Cause".into(), Value::String(c.clone().unwrap_or_default()));
            }
        }
        Value::Object(m)
    }
}

/// A failure found while evaluating a field of a state, before the state prefix is added.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The error name.
    pub error: &'static str,
    /// The text after `An error occurred while executing the state ...`.
    pub detail: String,
    /// For JSONata failures: the field location (`Output/result`) for `EvaluationFailed`.
    pub location: Option<String>,
}

impl Failure {
    /// `States.Runtime` with a detail.
    pub fn runtime(detail: impl Into<String>) -> Self {
        Failure {
            error: "States.Runtime",
            detail: detail.into(),
            location: None,
        }
    }

    /// `States.QueryEvaluationError` with a detail and a field location.
    pub fn query(detail: impl Into<String>, location: Option<String>) -> Self {
        Failure {
            error: "States.QueryEvaluationError",
            detail: detail.into(),
            location,
        }
    }

    /// A failure with another error name.
    pub fn named(error: &'static str, detail: impl Into<String>) -> Self {
        Failure {
            error,
            detail: detail.into(),
            location: None,
        }
    }
}

/// AWS's prefix for runtime errors of a state.
pub fn state_prefix(state: &str, entered_event_id: u64) -> String {
    format!(
        "An error occurred while executing the state '{state}' (entered at the event id #{entered_event_id}). "
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn error_output_follows_aws() {
        assert_eq!(
            StateError::new("E", "C").error_output(),
            json!({"Error": "E", "Cause": "C"})
        );
        let e = StateError {
            error: Some("States.Timeout".into()),
            cause: None,
            heartbeat: false,
        };
        assert_eq!(
            e.error_output(),
            json!({"Error": "States.Timeout", "Cause": ""})
        );
        let e = StateError {
            error: None,
            cause: None,
            heartbeat: false,
        };
        assert_eq!(e.error_output(), json!({"Error": null, "Cause": null}));
    }
}
