//! ironstep-api: the HTTP face of ironstep. The AWS Step Functions API (AWS JSON 1.0, `POST /`
//! with `X-Amz-Target: AWSStepFunctions.<Action>`) with AWS's error shapes; other routers (the
//! Lambda API, the console) are merged in by the binary.
//!
//! Every request is read with a size bound, parsed, validated against the model's constraints and
//! answered with a JSON body; nothing a client sends can make a handler panic.
#![warn(missing_docs)]

pub mod protocol;
pub mod sfn;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use ironstep_runtime::Engine;
use serde_json::Value;

pub use protocol::ApiError;

/// The largest request body read (bytes). AWS documents 1 MB requests; a 1 MiB definition
/// escaped inside JSON can be larger, so the bound leaves room, and anything beyond is refused
/// without being buffered further.
pub const MAX_BODY: usize = 4 * 1024 * 1024;

/// The Step Functions router: `POST /` (any Host header, so that SDKs that prefix `sync-` to it
/// for StartSyncExecution and TestState work).
pub fn router(engine: Engine) -> Router {
    Router::new()
        .route("/", post(handle))
        .route("/ironstep/health", get(|| async { "ok" }))
        .with_state(engine)
}

async fn handle(State(engine): State<Engine>, headers: HeaderMap, body: Body) -> Response {
    match handle_inner(&engine, &headers, body).await {
        Ok(v) => (
            StatusCode::OK,
            [("content-type", "application/x-amz-json-1.0")],
            v.to_string(),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

async fn handle_inner(engine: &Engine, headers: &HeaderMap, body: Body) -> Result<Value, ApiError> {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::new("MissingAction", "Missing X-Amz-Target header"))?;
    let action = target.strip_prefix("AWSStepFunctions.").ok_or_else(|| {
        ApiError::new(
            "UnknownOperationException",
            format!("Unknown target: '{target}'"),
        )
    })?;
    let bytes = to_bytes(body, MAX_BODY).await.map_err(|_| {
        let mut e = ApiError::validation(format!(
            "Request body is too large or was not received completely (limit {MAX_BODY} bytes)"
        ));
        e.status = 413;
        e
    })?;
    let value: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Default::default())
    } else {
        serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::serialization(format!("Could not parse the request body as JSON: {e}"))
        })?
    };
    let Value::Object(map) = value else {
        return Err(ApiError::serialization(
            "The request body must be a JSON object",
        ));
    };
    sfn::dispatch(engine, action, &map).await
}

#[allow(dead_code)]
fn assert_send(engine: Engine, h: HeaderMap, b: Body) {
    fn is_send<T: Send>(_: T) {}
    is_send(handle_inner(&engine, &h, b));
}
