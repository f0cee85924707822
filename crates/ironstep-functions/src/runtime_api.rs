//! The Lambda Runtime API (`/2018-06-01/runtime/...`) served to one worker process.
//!
//! Each worker gets its own listener on an ephemeral `127.0.0.1` port, given to it as
//! `AWS_LAMBDA_RUNTIME_API`: runtimes address the API with fixed paths, so the port is what tells
//! workers apart, and a worker can never read or answer another worker's invocation.

use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::mpsc;

/// Lambda's limit on a synchronous response, as its Runtime API enforces it (measured messages
/// quote 6291556 bytes: 6 MiB plus 100 bytes of envelope allowance).
pub const MAX_RESPONSE_BYTES: usize = 6_291_556;

/// An invocation waiting for the worker's next `GET /next`.
#[derive(Debug)]
pub struct Pending {
    /// Request id.
    pub request_id: String,
    /// Event bytes.
    pub payload: Bytes,
    /// The function's timeout (the deadline is computed when the event is handed out).
    pub timeout: std::time::Duration,
    /// The ARN the caller used (with qualifier if any).
    pub invoked_arn: String,
    /// `Root=...;Parent=...;Sampled=0`.
    pub trace_id: String,
    /// Decoded client context JSON.
    pub client_context: Option<String>,
}

/// What the worker did, reported to the invoker that owns it.
#[derive(Debug)]
pub enum WorkerEvent {
    /// The runtime fetched the event at `at`.
    Delivered {
        /// Request id.
        request_id: String,
        /// When.
        at: Instant,
    },
    /// `POST /response`.
    Response {
        /// Request id.
        request_id: String,
        /// The function's result.
        body: Bytes,
    },
    /// `POST /error` (or a response too large, rewritten as Lambda's error).
    Error {
        /// Request id.
        request_id: String,
        /// Error JSON as posted.
        body: Bytes,
        /// `Lambda-Runtime-Function-Error-Type` header or the body's `errorType`.
        error_type: Option<String>,
    },
    /// `POST /init/error`.
    InitError {
        /// Error JSON as posted.
        body: Bytes,
        /// The error type.
        error_type: Option<String>,
    },
    /// The process ended; the text is Lambda's wording (`exit status 1`, `signal: killed`).
    Exited(String),
}

struct RuntimeState {
    next: tokio::sync::Mutex<mpsc::Receiver<Pending>>,
    /// The request id handed out by the last `/next`, until answered.
    current: Mutex<Option<String>>,
    events: mpsc::UnboundedSender<WorkerEvent>,
}

/// Builds the Runtime API router of one worker.
pub fn router(next: mpsc::Receiver<Pending>, events: mpsc::UnboundedSender<WorkerEvent>) -> Router {
    let state = Arc::new(RuntimeState {
        next: tokio::sync::Mutex::new(next),
        current: Mutex::new(None),
        events,
    });
    Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next_invocation))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(post_response),
        )
        .route(
            "/2018-06-01/runtime/invocation/{id}/error",
            post(post_error),
        )
        .route("/2018-06-01/runtime/init/error", post(post_init_error))
        .with_state(state)
}

fn json_status(status: StatusCode, body: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn accepted() -> Response {
    json_status(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
}

fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

async fn next_invocation(State(state): State<Arc<RuntimeState>>) -> Response {
    let pending = {
        let mut rx = state.next.lock().await;
        rx.recv().await
    };
    let Some(p) = pending else {
        return json_status(
            StatusCode::INTERNAL_SERVER_ERROR,
            r#"{"errorMessage":"worker is shutting down","errorType":"Runtime.Shutdown"}"#,
        );
    };
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let deadline = now_ms + p.timeout.as_millis();
    if let Ok(mut current) = state.current.lock() {
        *current = Some(p.request_id.clone());
    }
    let _ = state.events.send(WorkerEvent::Delivered {
        request_id: p.request_id.clone(),
        at: Instant::now(),
    });
    let mut response = Response::new(Body::from(p.payload));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert("lambda-runtime-aws-request-id", header_value(&p.request_id));
    h.insert(
        "lambda-runtime-deadline-ms",
        header_value(&deadline.to_string()),
    );
    h.insert(
        "lambda-runtime-invoked-function-arn",
        header_value(&p.invoked_arn),
    );
    h.insert("lambda-runtime-trace-id", header_value(&p.trace_id));
    // awslambdaric's C extension crashes when either header is missing (measured), and
    // lambda_runtime rejects `{}` as a Cognito identity (it requires `identityId`); both read an
    // empty value as "none" (measured 2026-11-26), so absent values are sent empty.
    h.insert(
        "lambda-runtime-client-context",
        header_value(p.client_context.as_deref().unwrap_or("")),
    );
    h.insert(
        "lambda-runtime-cognito-identity",
        HeaderValue::from_static(""),
    );
    response
}

/// Takes the in-flight request id if it is `id`; a stale or unknown id gets Lambda's 400.
fn take_current(state: &RuntimeState, id: &str) -> bool {
    match state.current.lock() {
        Ok(mut current) if current.as_deref() == Some(id) => {
            *current = None;
            true
        }
        _ => false,
    }
}

fn invalid_request_id() -> Response {
    json_status(
        StatusCode::BAD_REQUEST,
        r#"{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}"#,
    )
}

async fn read_body(request: Request) -> Option<Bytes> {
    axum::body::to_bytes(request.into_body(), MAX_RESPONSE_BYTES)
        .await
        .ok()
}

async fn post_response(
    State(state): State<Arc<RuntimeState>>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    if !take_current(&state, &id) {
        return invalid_request_id();
    }
    match read_body(request).await {
        Some(body) => {
            let _ = state.events.send(WorkerEvent::Response {
                request_id: id,
                body,
            });
            accepted()
        }
        None => {
            let _ = state.events.send(WorkerEvent::Error {
                request_id: id,
                body: Bytes::from_static(
                    br#"{"errorMessage":"Response payload size exceeded maximum allowed payload size (6291556 bytes).","errorType":"Function.ResponseSizeTooLarge"}"#,
                ),
                error_type: Some("Function.ResponseSizeTooLarge".to_owned()),
            });
            json_status(
                StatusCode::PAYLOAD_TOO_LARGE,
                r#"{"errorMessage":"Exceeded maximum allowed payload size (6291556 bytes).","errorType":"RequestEntityTooLarge"}"#,
            )
        }
    }
}

fn error_type(headers: &HeaderMap, body: &[u8]) -> Option<String> {
    let from_body = || {
        serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| {
                v.get("errorType")
                    .and_then(|t| t.as_str())
                    .map(str::to_owned)
            })
    };
    from_body().or_else(|| {
        headers
            .get("lambda-runtime-function-error-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    })
}

async fn post_error(
    State(state): State<Arc<RuntimeState>>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    if !take_current(&state, &id) {
        return invalid_request_id();
    }
    let headers = request.headers().clone();
    let body = read_body(request).await.unwrap_or_else(|| {
        Bytes::from_static(
            br#"{"errorMessage":"Error payload too large","errorType":"Runtime.Unknown"}"#,
        )
    });
    let error_type = error_type(&headers, &body);
    let _ = state.events.send(WorkerEvent::Error {
        request_id: id,
        body,
        error_type,
    });
    accepted()
}

async fn post_init_error(State(state): State<Arc<RuntimeState>>, request: Request) -> Response {
    let headers = request.headers().clone();
    let body = read_body(request).await.unwrap_or_default();
    let error_type = error_type(&headers, &body);
    let _ = state
        .events
        .send(WorkerEvent::InitError { body, error_type });
    accepted()
}
