//! `Invoke`: admission, worker choice (warm or cold), the wait for the runtime's answer with the
//! function's timeout, and the shaping of results and failures as Lambda reports them.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use bytes::Bytes;

use crate::error::LambdaApiError;
use crate::logs::{InvocationRecord, InvocationStatus};
use crate::names::LATEST;
use crate::registry::{CodeLocation, FunctionRecord};
use crate::runtime_api::{Pending, WorkerEvent};
use crate::runtimes::{self, RuntimeKind};
use crate::worker::Worker;
use crate::{FunctionEntry, Functions};

/// Largest synchronous request payload (6 MB), as Lambda.
const MAX_SYNC_REQUEST: usize = 6_291_456;
/// Largest asynchronous (`Event`) request payload. Lambda documented 256 KB for years and has
/// since announced larger async payloads; we keep the long-standing value (uncertain).
const MAX_ASYNC_REQUEST: usize = 262_144;
/// `X-Amz-Log-Result` carries the last 4 KB of the log, as Lambda.
const LOG_TAIL_BYTES: usize = 4096;

/// `X-Amz-Invocation-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InvocationType {
    /// Wait for the result (200).
    #[default]
    RequestResponse,
    /// Run in the background (202).
    Event,
    /// Only check the request (204).
    DryRun,
}

impl InvocationType {
    /// Parses the header value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "RequestResponse" => Some(Self::RequestResponse),
            "Event" => Some(Self::Event),
            "DryRun" => Some(Self::DryRun),
            _ => None,
        }
    }
}

/// `X-Amz-Log-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogType {
    /// No log in the response.
    #[default]
    None,
    /// Base64 of the last 4 KB of the log in `X-Amz-Log-Result` (synchronous calls only).
    Tail,
}

/// An invocation as the engine or the REST API submits it.
#[derive(Debug, Clone, Default)]
pub struct InvokeRequest {
    /// Name, ARN or partial ARN, optionally with `:qualifier`.
    pub function: String,
    /// The `Qualifier` parameter.
    pub qualifier: Option<String>,
    /// The event (JSON); empty means `{}`.
    pub payload: Bytes,
    /// Sync, async or dry run.
    pub invocation_type: InvocationType,
    /// Whether to return the log tail.
    pub log_type: LogType,
    /// `X-Amz-Client-Context`: base64 of a JSON object, handed decoded to the runtime.
    pub client_context: Option<String>,
}

/// The result of an invocation, as Lambda's `Invoke` returns it.
#[derive(Debug, Clone)]
pub struct InvokeResponse {
    /// 200, 202 (`Event`) or 204 (`DryRun`).
    pub status_code: u16,
    /// `$LATEST` for executed invocations.
    pub executed_version: Option<String>,
    /// The function's result, or its error JSON when `function_error` is set.
    pub payload: Bytes,
    /// `Unhandled` when the function or its runtime failed.
    pub function_error: Option<String>,
    /// With `function_error`: the error's type as the runtime reported it (`errorType`, e.g.
    /// `Error`, `Runtime.ExitError`, `Runtime.ImportModuleError`), or `Sandbox.Timedout` for a
    /// timeout (whose payload, as on Lambda, has no `errorType`). Not part of Lambda's wire API.
    pub error_type: Option<String>,
    /// Base64 log tail when [`LogType::Tail`] was asked.
    pub log_result: Option<String>,
    /// The request id (also in the log and given to the function).
    pub request_id: String,
}

/// What one execution produced.
struct Outcome {
    payload: Bytes,
    error_type: Option<String>,
    log: String,
}

impl Functions {
    /// Invokes a function (Lambda's `Invoke`). API errors (unknown function, bad payload,
    /// throttling) are `Err`; failures of the function itself are `Ok` with `function_error`.
    pub async fn invoke(&self, request: InvokeRequest) -> Result<InvokeResponse, LambdaApiError> {
        if *self.inner.shutdown.borrow() {
            return Err(LambdaApiError::service(
                "The local Lambda service is shutting down",
            ));
        }
        let r = self.parse(&request.function, request.qualifier.as_deref())?;
        let scope = &self.inner.scope;
        let entry = self.latest_entry(&r, || {
            scope.qualified_arn(&r.name, r.qualifier.as_deref().unwrap_or(LATEST))
        })?;
        let (limit, operation) = match request.invocation_type {
            InvocationType::Event => (MAX_ASYNC_REQUEST, "InvokeAsync"),
            _ => (MAX_SYNC_REQUEST, "InvokeFunction"),
        };
        if request.payload.len() > limit {
            return Err(LambdaApiError::request_too_large(format!(
                "Request must be smaller than {limit} bytes for the {operation} operation"
            )));
        }
        let payload = if request.payload.iter().all(u8::is_ascii_whitespace) {
            Bytes::from_static(b"{}")
        } else {
            if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&request.payload) {
                return Err(LambdaApiError::invalid_request_content(format!(
                    "Could not parse request body into json: Could not parse payload into json: {e}"
                )));
            }
            request.payload
        };
        let client_context = match &request.client_context {
            None => None,
            Some(b64) => Some(decode_client_context(b64)?),
        };
        let record = entry.record();
        let Some(kind) = RuntimeKind::of(&record.runtime) else {
            return Err(LambdaApiError {
                code: "InvalidRuntimeException",
                message: format!(
                    "The runtime parameter of {} is not supported by ironstep: it runs nodejs*, python3.* and provided* functions.",
                    record.runtime
                ),
                http_status: 502,
                reason: None,
            });
        };
        let request_id = uuid::Uuid::new_v4().to_string();
        let invoked_arn = match &r.qualifier {
            Some(q) => scope.qualified_arn(&r.name, q),
            None => scope.function_arn(&r.name),
        };
        let job = Job {
            functions: self.clone(),
            entry,
            record,
            kind,
            request_id: request_id.clone(),
            payload,
            invoked_arn,
            client_context,
        };
        match request.invocation_type {
            InvocationType::DryRun => Ok(InvokeResponse {
                status_code: 204,
                executed_version: None,
                payload: Bytes::new(),
                function_error: None,
                error_type: None,
                log_result: None,
                request_id,
            }),
            InvocationType::Event => {
                tokio::spawn(async move {
                    if let Err(e) = job.run().await {
                        tracing::warn!(error = %e, "asynchronous invocation not run");
                    }
                });
                Ok(InvokeResponse {
                    status_code: 202,
                    executed_version: None,
                    payload: Bytes::new(),
                    function_error: None,
                    error_type: None,
                    log_result: None,
                    request_id,
                })
            }
            InvocationType::RequestResponse => {
                // A task of its own: a caller that goes away must not kill the function mid-run.
                let outcome = tokio::spawn(job.run())
                    .await
                    .map_err(LambdaApiError::service)??;
                let log_result =
                    (request.log_type == LogType::Tail).then(|| tail_base64(&outcome.log));
                Ok(InvokeResponse {
                    status_code: 200,
                    executed_version: Some(LATEST.to_owned()),
                    payload: outcome.payload,
                    function_error: outcome.error_type.is_some().then(|| "Unhandled".to_owned()),
                    error_type: outcome.error_type,
                    log_result,
                    request_id,
                })
            }
        }
    }
}

fn decode_client_context(b64: &str) -> Result<String, LambdaApiError> {
    let invalid = || {
        LambdaApiError::invalid_parameter(
            "Client context must be a valid Base64-encoded JSON object.",
        )
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(serde_json::Value::Object(_)) => Ok(text),
        _ => Err(invalid()),
    }
}

fn tail_base64(log: &str) -> String {
    let bytes = log.as_bytes();
    let tail = &bytes[bytes.len().saturating_sub(LOG_TAIL_BYTES)..];
    base64::engine::general_purpose::STANDARD.encode(tail)
}

fn error_json(error_type: &str, message: &str) -> Bytes {
    Bytes::from(serde_json::json!({"errorType": error_type, "errorMessage": message}).to_string())
}

/// `Root=1-<epoch hex>-<24 hex>;Parent=<16 hex>;Sampled=0`, X-Ray's format.
fn trace_id() -> String {
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let a = uuid::Uuid::new_v4().simple().to_string();
    let b = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "Root=1-{secs:08x}-{};Parent={};Sampled=0",
        &a[..24],
        &b[..16]
    )
}

struct Job {
    functions: Functions,
    entry: Arc<FunctionEntry>,
    record: Arc<FunctionRecord>,
    kind: RuntimeKind,
    request_id: String,
    payload: Bytes,
    invoked_arn: String,
    client_context: Option<String>,
}

/// How the wait for the runtime ended.
enum Ending {
    Response(Bytes),
    FunctionError {
        body: Bytes,
        error_type: String,
    },
    /// The worker must not be reused (init error, crash).
    Broken {
        body: Bytes,
        error_type: String,
        log_line: Option<String>,
    },
    Timeout {
        elapsed: Duration,
    },
}

impl Job {
    async fn run(self) -> Result<Outcome, LambdaApiError> {
        let inner = &self.functions.inner;
        let config = &inner.config;
        let limit = self
            .record
            .reserved_concurrency
            .unwrap_or(config.default_concurrency)
            .min(config.max_concurrency);
        let _slot = self
            .entry
            .pool
            .acquire(limit, config.max_queued, config.queue_wait)
            .await?;
        let start = SystemTime::now();
        if let CodeLocation::HotReload { path } = &self.record.code
            && self.entry.watch.lock().is_ok_and(|mut w| w.changed(path))
        {
            self.entry.generation.fetch_add(1, Ordering::SeqCst);
        }
        let generation = self.entry.generation.load(Ordering::SeqCst);
        let mut worker = match self.entry.pool.take_idle(generation) {
            Some(w) => w,
            None => match self.spawn_worker(generation).await {
                Ok(w) => w,
                Err(message) => {
                    let text = format!("RequestId: {} Error: {message}", self.request_id);
                    return Ok(self.finish_without_worker(
                        start,
                        "Runtime.InvalidEntrypoint",
                        &text,
                    ));
                }
            },
        };
        let timeout = Duration::from_secs(u64::from(self.record.timeout));
        let submitted = worker.submit(Pending {
            request_id: self.request_id.clone(),
            payload: self.payload.clone(),
            timeout,
            invoked_arn: self.invoked_arn.clone(),
            trace_id: trace_id(),
            client_context: self.client_context.clone(),
        });
        let accepted_at = Instant::now();
        let mut delivered_at = None;
        let ending = if submitted {
            self.wait(&mut worker, timeout, accepted_at, &mut delivered_at)
                .await
        } else {
            Ending::Broken {
                body: Bytes::new(),
                error_type: String::new(),
                log_line: None,
            }
        };
        let ending = match ending {
            Ending::Broken { body, .. } if body.is_empty() => {
                let text = format!(
                    "RequestId: {} Error: Runtime exited without providing a reason",
                    self.request_id
                );
                Ending::Broken {
                    body: error_json("Runtime.ExitError", &text),
                    error_type: "Runtime.ExitError".into(),
                    log_line: Some(text),
                }
            }
            other => other,
        };
        let ran_from = delivered_at.unwrap_or(accepted_at);
        let duration = ran_from.elapsed();
        let init = (!worker.warm).then(|| ran_from.saturating_duration_since(worker.spawned_at));
        if delivered_at.is_none() {
            // Never reached the handler: START is written now so the log still reads in order.
            worker.log().append(&format!(
                "START RequestId: {} Version: {LATEST}\n",
                self.request_id
            ));
        }
        worker.log().sync().await;
        let (payload, error_type, status, reusable, trailer) = match ending {
            Ending::Response(body) => (body, None, InvocationStatus::Success, true, None),
            Ending::FunctionError { body, error_type } => {
                (body, Some(error_type), InvocationStatus::Error, true, None)
            }
            Ending::Broken {
                body,
                error_type,
                log_line,
            } => (
                body,
                Some(error_type.clone()),
                InvocationStatus::Error,
                false,
                log_line.map(|l| format!("{l}\n{error_type}\n")),
            ),
            Ending::Timeout { elapsed } => {
                let when = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ");
                let text = format!(
                    "{when} {} Task timed out after {:.2} seconds",
                    self.request_id,
                    elapsed.as_secs_f64()
                );
                let body = Bytes::from(serde_json::json!({ "errorMessage": text }).to_string());
                (
                    body,
                    Some("Sandbox.Timedout".to_owned()),
                    InvocationStatus::Timeout,
                    false,
                    Some(format!("{text}\n")),
                )
            }
        };
        let memory = worker.max_memory_mb();
        let log = worker.log();
        log.append(&format!("END RequestId: {}\n", self.request_id));
        let ms = duration.as_secs_f64() * 1000.0;
        let mut report = format!(
            "REPORT RequestId: {}\tDuration: {ms:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB\t",
            self.request_id,
            ms.ceil() as u64,
            self.record.memory_size,
            memory.unwrap_or(0),
        );
        if let Some(init) = init {
            report.push_str(&format!(
                "Init Duration: {:.2} ms\t",
                init.as_secs_f64() * 1000.0
            ));
        }
        if status == InvocationStatus::Timeout {
            report.push_str("Status: timeout");
        }
        report.push('\n');
        log.append(&report);
        if let Some(t) = trailer {
            log.append(&t);
        }
        let log_text = log.take();
        worker.warm = true;
        let current = self.entry.generation.load(Ordering::SeqCst) == worker.generation;
        if reusable && current && !*inner.shutdown.borrow() {
            self.entry.pool.put_idle(worker);
        }
        self.record_log(
            start,
            duration,
            status,
            error_type.clone(),
            log_text.clone(),
        );
        Ok(Outcome {
            payload,
            error_type,
            log: log_text,
        })
    }

    async fn wait(
        &self,
        worker: &mut Worker,
        timeout: Duration,
        accepted_at: Instant,
        delivered_at: &mut Option<Instant>,
    ) -> Ending {
        let init_limit = self.functions.inner.config.init_timeout;
        let mut shutdown = self.functions.inner.shutdown.subscribe();
        loop {
            let deadline = match delivered_at {
                Some(at) => *at + timeout,
                None => accepted_at + init_limit + timeout,
            };
            let event = tokio::select! {
                e = worker.next_event() => e,
                _ = tokio::time::sleep_until(deadline.into()) => {
                    return Ending::Timeout { elapsed: delivered_at.unwrap_or(accepted_at).elapsed() };
                }
                _ = shutdown.wait_for(|s| *s) => None,
            };
            match event {
                Some(WorkerEvent::Delivered { request_id, at })
                    if request_id == self.request_id =>
                {
                    *delivered_at = Some(at);
                    worker.log().append(&format!(
                        "START RequestId: {request_id} Version: {LATEST}\n"
                    ));
                }
                Some(WorkerEvent::Response { request_id, body })
                    if request_id == self.request_id =>
                {
                    return Ending::Response(body);
                }
                Some(WorkerEvent::Error {
                    request_id,
                    body,
                    error_type,
                }) if request_id == self.request_id => {
                    return Ending::FunctionError {
                        body,
                        error_type: error_type.unwrap_or_else(|| "Unhandled".into()),
                    };
                }
                Some(WorkerEvent::InitError { body, error_type }) => {
                    return Ending::Broken {
                        body,
                        error_type: error_type.unwrap_or_else(|| "Runtime.Unknown".into()),
                        log_line: None,
                    };
                }
                Some(WorkerEvent::Exited(how)) => {
                    let text = format!(
                        "RequestId: {} Error: Runtime exited with error: {how}",
                        self.request_id
                    );
                    return Ending::Broken {
                        body: error_json("Runtime.ExitError", &text),
                        error_type: "Runtime.ExitError".into(),
                        log_line: Some(text),
                    };
                }
                None => {
                    let text = format!(
                        "RequestId: {} Error: Runtime exited with error: signal: killed",
                        self.request_id
                    );
                    return Ending::Broken {
                        body: error_json("Runtime.ExitError", &text),
                        error_type: "Runtime.ExitError".into(),
                        log_line: Some(text),
                    };
                }
                // Events of another request id are late answers to an earlier invocation.
                Some(_) => {}
            }
        }
    }

    async fn spawn_worker(&self, generation: u64) -> Result<Worker, String> {
        let inner = &self.functions.inner;
        let config = &inner.config;
        let record = &self.record;
        let task_root = record.task_root(&self.entry.dir);
        if !task_root.is_dir() {
            // Only a hot-reload directory can vanish; say so rather than blame the interpreter.
            return Err(format!(
                "function code directory {} does not exist",
                task_root.display()
            ));
        }
        let launch = runtimes::launch(self.kind, &task_root, &inner.runtime_dir, config)?;
        let mut env: Vec<(String, String)> = config
            .passthrough_env
            .iter()
            .filter_map(|k| std::env::var(k).ok().map(|v| (k.clone(), v)))
            .collect();
        let stream = format!(
            "{}/[{LATEST}]{}",
            chrono::Utc::now().format("%Y/%m/%d"),
            uuid::Uuid::new_v4().simple()
        );
        let creds = &config.worker_credentials;
        let ours = [
            ("AWS_LAMBDA_FUNCTION_NAME", record.name.clone()),
            ("AWS_LAMBDA_FUNCTION_VERSION", LATEST.to_owned()),
            (
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                record.memory_size.to_string(),
            ),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{}", record.name),
            ),
            ("AWS_LAMBDA_LOG_STREAM_NAME", stream),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
            ("_HANDLER", record.handler.clone().unwrap_or_default()),
            ("LAMBDA_TASK_ROOT", task_root.display().to_string()),
            (
                "LAMBDA_RUNTIME_DIR",
                inner.runtime_dir.display().to_string(),
            ),
            ("AWS_REGION", config.region.clone()),
            ("AWS_DEFAULT_REGION", config.region.clone()),
            ("TZ", ":UTC".to_owned()),
            ("LANG", "en_US.UTF-8".to_owned()),
            ("AWS_ACCESS_KEY_ID", creds.access_key_id.clone()),
            ("AWS_SECRET_ACCESS_KEY", creds.secret_access_key.clone()),
            ("AWS_SESSION_TOKEN", creds.session_token.clone()),
        ];
        env.extend(ours.into_iter().map(|(k, v)| (k.to_owned(), v)));
        // OS-only runtimes have no AWS_EXECUTION_ENV on Lambda.
        if self.kind != RuntimeKind::Provided {
            env.push((
                "AWS_EXECUTION_ENV".to_owned(),
                format!("AWS_Lambda_{}", record.runtime),
            ));
        }
        if let Some(url) = &config.endpoint_url {
            env.push(("AWS_ENDPOINT_URL".to_owned(), url.clone()));
        }
        env.extend(launch.env.iter().cloned());
        // The function's variables come last and win (reserved names were refused at creation).
        env.extend(
            record
                .environment
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        Worker::spawn(generation, launch, env, &task_root)
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => format!(
                    "fork/exec {}: no such file or directory",
                    self.program_name()
                ),
                std::io::ErrorKind::PermissionDenied => {
                    format!("fork/exec {}: permission denied", self.program_name())
                }
                _ => e.to_string(),
            })
    }

    fn program_name(&self) -> String {
        let config = &self.functions.inner.config;
        match self.kind {
            RuntimeKind::Node => config.node_command.display().to_string(),
            RuntimeKind::Python => config.python_command.display().to_string(),
            RuntimeKind::Provided => self
                .record
                .task_root(&self.entry.dir)
                .join("bootstrap")
                .display()
                .to_string(),
        }
    }

    /// The runtime could not even be started: Lambda reports `Runtime.InvalidEntrypoint`.
    fn finish_without_worker(&self, start: SystemTime, error_type: &str, text: &str) -> Outcome {
        let log = format!(
            "START RequestId: {id} Version: {LATEST}\n{text}\n{error_type}\nEND RequestId: {id}\nREPORT RequestId: {id}\tDuration: 0.00 ms\tBilled Duration: 0 ms\tMemory Size: {} MB\tMax Memory Used: 0 MB\t\n",
            self.record.memory_size,
            id = self.request_id,
        );
        self.record_log(
            start,
            Duration::ZERO,
            InvocationStatus::Error,
            Some(error_type.to_owned()),
            log.clone(),
        );
        Outcome {
            payload: error_json(error_type, text),
            error_type: Some(error_type.to_owned()),
            log,
        }
    }

    fn record_log(
        &self,
        start: SystemTime,
        duration: Duration,
        status: InvocationStatus,
        error_type: Option<String>,
        log: String,
    ) {
        if let Ok(mut logs) = self.entry.logs.lock() {
            logs.push(InvocationRecord {
                request_id: self.request_id.clone(),
                start,
                duration,
                status,
                error_type,
                log,
            });
        }
    }
}
