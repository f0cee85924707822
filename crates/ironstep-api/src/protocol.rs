//! AWS JSON 1.0: request field extraction with the model's constraints, AWS-shaped errors,
//! timestamps and pagination tokens.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ironstep_runtime::{ErrorCode, ServiceError};
use serde_json::{Map, Value, json};

/// An API error, rendered as AWS does: HTTP status, `x-amzn-ErrorType` and a JSON body with
/// `__type` and `message`.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The code (`InvalidArn`, `ValidationException`, ...).
    pub code: String,
    /// The message.
    pub message: String,
    /// HTTP status.
    pub status: u16,
}

impl ApiError {
    /// An error with AWS's status for the code.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        let status = match code {
            "ServiceQuotaExceededException" => 402,
            "ServiceFailure" | "InternalFailure" => 500,
            "RequestEntityTooLarge" => 413,
            _ => 400,
        };
        ApiError {
            code: code.to_string(),
            message: message.into(),
            status,
        }
    }

    /// `ValidationException`.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new("ValidationException", message)
    }

    /// `SerializationException`.
    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new("SerializationException", message)
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        let mut a = ApiError::new(e.code.as_str(), e.message);
        a.status = e.code.http_status();
        if e.code == ErrorCode::ServiceFailure {
            tracing::error!("service failure: {}", a.message);
        }
        a
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"__type": self.code, "message": self.message}).to_string();
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        (
            status,
            [
                ("content-type", "application/x-amz-json-1.0"),
                ("x-amzn-errortype", self.code.as_str()),
            ],
            body,
        )
            .into_response()
    }
}

/// A timestamp as the JSON protocol writes it: epoch seconds with milliseconds.
pub fn ts(ms: i64) -> Value {
    json!(ms as f64 / 1000.0)
}

/// Reads the members of one request, collecting constraint violations the way AWS reports them
/// (`N validation errors detected: ...`). A member of the wrong JSON type is a
/// `SerializationException`, as AWS's deserializer answers.
pub struct Fields<'a> {
    body: &'a Map<String, Value>,
    violations: Vec<String>,
}

fn shown(v: &str) -> String {
    let mut s: String = v.chars().take(100).collect();
    if v.chars().count() > 100 {
        s.push_str("...");
    }
    s
}

impl<'a> Fields<'a> {
    /// Wrap a request body.
    pub fn new(body: &'a Map<String, Value>) -> Self {
        Fields {
            body,
            violations: Vec::new(),
        }
    }

    fn get(&self, name: &str) -> Option<&'a Value> {
        match self.body.get(name) {
            None | Some(Value::Null) => None,
            Some(v) => Some(v),
        }
    }

    fn type_error(name: &str, want: &str, got: &Value) -> ApiError {
        let kind = match got {
            Value::Object(_) => "Start of structure or map found",
            Value::Array(_) => "Start of list found",
            Value::String(_) => "STRING_VALUE",
            Value::Number(_) => "NUMBER_VALUE",
            Value::Bool(_) => "BOOLEAN_VALUE",
            Value::Null => "null",
        };
        ApiError::serialization(format!(
            "{kind} where not expected for member '{name}' (expected {want})"
        ))
    }

    /// A string member with length bounds (in characters, as the model counts).
    pub fn string(
        &mut self,
        name: &str,
        min: usize,
        max: usize,
        required: bool,
    ) -> Result<Option<String>, ApiError> {
        match self.get(name) {
            None => {
                if required {
                    self.violations.push(format!(
                        "Value null at '{name}' failed to satisfy constraint: Member must not be null"
                    ));
                }
                Ok(None)
            }
            Some(Value::String(s)) => {
                let n = s.chars().count();
                if n < min {
                    self.violations.push(format!(
                        "Value '{}' at '{name}' failed to satisfy constraint: Member must have length greater than or equal to {min}",
                        shown(s)
                    ));
                } else if n > max {
                    self.violations.push(format!(
                        "Value '{}' at '{name}' failed to satisfy constraint: Member must have length less than or equal to {max}",
                        shown(s)
                    ));
                }
                Ok(Some(s.clone()))
            }
            Some(other) => Err(Self::type_error(name, "a string", other)),
        }
    }

    /// A required string.
    pub fn required(&mut self, name: &str, min: usize, max: usize) -> Result<String, ApiError> {
        Ok(self.string(name, min, max, true)?.unwrap_or_default())
    }

    /// An optional string.
    pub fn optional(
        &mut self,
        name: &str,
        min: usize,
        max: usize,
    ) -> Result<Option<String>, ApiError> {
        self.string(name, min, max, false)
    }

    /// An optional string from an enum.
    pub fn enumeration(
        &mut self,
        name: &str,
        allowed: &[&str],
    ) -> Result<Option<String>, ApiError> {
        let v = self.optional(name, 0, usize::MAX)?;
        if let Some(s) = &v
            && !allowed.contains(&s.as_str())
        {
            self.violations.push(format!(
                "Value '{}' at '{name}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                shown(s),
                allowed.join(", ")
            ));
        }
        Ok(v)
    }

    /// An optional integer within bounds.
    pub fn integer(&mut self, name: &str, min: i64, max: i64) -> Result<Option<i64>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => {
                let Some(i) = n
                    .as_i64()
                    .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                else {
                    return Err(ApiError::serialization(format!(
                        "NUMBER_VALUE can not be converted to an Integer for member '{name}'"
                    )));
                };
                if i < min {
                    self.violations.push(format!(
                        "Value '{i}' at '{name}' failed to satisfy constraint: Member must have value greater than or equal to {min}"
                    ));
                } else if i > max {
                    self.violations.push(format!(
                        "Value '{i}' at '{name}' failed to satisfy constraint: Member must have value less than or equal to {max}"
                    ));
                }
                Ok(Some(i))
            }
            Some(other) => Err(Self::type_error(name, "a number", other)),
        }
    }

    /// An optional float within bounds.
    pub fn float(&mut self, name: &str, min: f64, max: f64) -> Result<Option<f64>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => {
                let f = n.as_f64().unwrap_or(0.0);
                if f < min || f > max {
                    self.violations.push(format!(
                        "Value '{f}' at '{name}' failed to satisfy constraint: Member must have value between {min} and {max}"
                    ));
                }
                Ok(Some(f))
            }
            Some(other) => Err(Self::type_error(name, "a number", other)),
        }
    }

    /// An optional boolean.
    pub fn boolean(&mut self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(Self::type_error(name, "a boolean", other)),
        }
    }

    /// An optional object member (kept as JSON).
    pub fn object(&mut self, name: &str) -> Result<Option<Value>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v @ Value::Object(_)) => Ok(Some(v.clone())),
            Some(other) => Err(Self::type_error(name, "a structure", other)),
        }
    }

    /// An optional list member.
    pub fn list(&mut self, name: &str) -> Result<Option<&'a Vec<Value>>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(other) => Err(Self::type_error(name, "a list", other)),
        }
    }

    /// `tags`: a list of `{key, value}`.
    pub fn tags(&mut self, name: &str) -> Result<Vec<(String, String)>, ApiError> {
        let Some(list) = self.list(name)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::with_capacity(list.len());
        for t in list {
            let Some(obj) = t.as_object() else {
                return Err(Self::type_error(name, "a list of tags", t));
            };
            let key = match obj.get("key") {
                Some(Value::String(s)) => s.clone(),
                Some(other) => return Err(Self::type_error("key", "a string", other)),
                None => {
                    self.violations.push(format!(
                        "Value null at '{name}.member.key' failed to satisfy constraint: Member must not be null"
                    ));
                    continue;
                }
            };
            let value = match obj.get("value") {
                Some(Value::String(s)) => s.clone(),
                None | Some(Value::Null) => String::new(),
                Some(other) => return Err(Self::type_error("value", "a string", other)),
            };
            out.push((key, value));
        }
        Ok(out)
    }

    /// `maxResults` (0 means the default).
    pub fn max_results(&mut self, max: i64, default: usize) -> Result<usize, ApiError> {
        Ok(match self.integer("maxResults", 0, max)? {
            None | Some(0) => default,
            Some(n) => n.max(1) as usize,
        })
    }

    /// Fail with every violation found so far.
    pub fn finish(&self) -> Result<(), ApiError> {
        match self.violations.len() {
            0 => Ok(()),
            1 => Err(ApiError::validation(format!(
                "1 validation error detected: {}",
                self.violations[0]
            ))),
            n => Err(ApiError::validation(format!(
                "{n} validation errors detected: {}",
                self.violations.join("; ")
            ))),
        }
    }
}

/// Pagination tokens: opaque, tied to a listing, valid 24 hours (as AWS's).
pub mod token {
    use super::*;

    const LIFETIME_MS: i64 = 24 * 3600 * 1000;

    /// Make a token for `scope` (which listing) continuing at `cursor`.
    pub fn make(scope: &str, cursor: &str, now: i64) -> String {
        URL_SAFE_NO_PAD.encode(json!({"s": scope, "c": cursor, "t": now}).to_string())
    }

    /// Read a token back; `InvalidToken` if it is garbage, for another listing, or expired.
    pub fn read(scope: &str, token: &str, now: i64) -> Result<String, ApiError> {
        let bad = || ApiError::new("InvalidToken", format!("Invalid Token: '{}'", shown(token)));
        let bytes = URL_SAFE_NO_PAD
            .decode(token.as_bytes())
            .map_err(|_| bad())?;
        let v: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        if v.get("s").and_then(Value::as_str) != Some(scope) {
            return Err(bad());
        }
        let t = v.get("t").and_then(Value::as_i64).ok_or_else(bad)?;
        if now - t > LIFETIME_MS {
            return Err(ApiError::new(
                "InvalidToken",
                "Invalid Token: 'The token has expired'",
            ));
        }
        v.get("c")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(bad)
    }
}
