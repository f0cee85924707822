//! ironstep-api: the HTTP face of ironstep. The AWS Step Functions API (AWS JSON 1.0, `POST /`
//! with `X-Amz-Target: AWSStepFunctions.<Action>`) with AWS's error shapes; other routers (the
//! Lambda API, the console) are merged in by the binary.
//!
//! Every request is read with a size bound, parsed, validated against the model's constraints and
//! answered with a JSON body; nothing a client sends can make a handler panic.
#![warn(missing_docs)]

pub mod protocol;
pub mod server;
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

/// How long a request body may take to arrive. A 4 MiB body over a slow link takes seconds;
/// 20 s leaves room while keeping a stalled client from pinning a task.
pub const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// The Step Functions router: `POST /` (any Host header, so that SDKs that prefix `sync-` to it
/// for StartSyncExecution and TestState work).
pub fn router(engine: Engine) -> Router {
    Router::new()
        .route("/", post(handle))
        .route("/ironstep/health", get(|| async { "ok" }))
        .with_state(engine)
}

/// Wrap the whole application (API, Lambda API, console): requests that carry
/// `X-Amz-Target` but are not `POST /`, and requests for unknown paths, get AWS-style JSON errors
/// instead of empty bodies.
pub fn guard(app: Router) -> Router {
    app.fallback(not_found)
        .layer(axum::middleware::from_fn(api_method_guard))
}

async fn not_found(uri: axum::http::Uri) -> Response {
    let mut e = ApiError::new(
        "UnknownOperationException",
        format!("No operation at path '{}'", uri.path()),
    );
    e.status = 404;
    e.into_response()
}

async fn api_method_guard(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    if req.headers().contains_key("x-amz-target")
        && (req.method() != axum::http::Method::POST || req.uri().path() != "/")
    {
        let mut e = ApiError::new(
            "UnknownOperationException",
            format!(
                "The Step Functions API takes POST /, not {} {}",
                req.method(),
                req.uri().path()
            ),
        );
        e.status = if req.uri().path() == "/" { 405 } else { 404 };
        return e.into_response();
    }
    next.run(req).await
}

async fn handle(State(engine): State<Engine>, headers: HeaderMap, body: Body) -> Response {
    match handle_inner(&engine, &headers, body).await {
        Ok(v) => (
            StatusCode::OK,
            [("content-type", "application/x-amz-json-1.0")],
            serde_json::to_string(&v).unwrap_or_default(),
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
    if let Some(len) = headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > MAX_BODY as u64
    {
        let mut e = ApiError::validation(format!(
            "Request body of {len} bytes is larger than the limit of {MAX_BODY} bytes"
        ));
        e.status = 413;
        // Read (and drop) a moderately oversized body so that the client, still sending it,
        // gets the error rather than a broken pipe; a huge one is cut off at once.
        if len <= DRAIN_LIMIT {
            let _ = tokio::time::timeout(BODY_TIMEOUT, drain(body)).await;
        }
        return Err(e);
    }
    // A client that stops sending its body is cut off rather than holding a task forever.
    let read = tokio::time::timeout(BODY_TIMEOUT, to_bytes(body, MAX_BODY)).await;
    let Ok(read) = read else {
        let mut e = ApiError::validation(format!(
            "The request body was not received within {} s",
            BODY_TIMEOUT.as_secs()
        ));
        e.status = 408;
        return Err(e);
    };
    let bytes = read.map_err(|_| {
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

/// Bodies up to this size are read and dropped before a 413 answer.
const DRAIN_LIMIT: u64 = 64 * 1024 * 1024;

async fn drain(mut body: Body) {
    use axum::body::HttpBody;
    use std::pin::Pin;
    while let Some(Ok(_)) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {}
}

#[allow(dead_code)]
fn assert_send(engine: Engine, h: HeaderMap, b: Body) {
    fn is_send<T: Send>(_: T) {}
    is_send(handle_inner(&engine, &h, b));
}
