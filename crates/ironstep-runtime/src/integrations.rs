//! Task integrations: what a `Resource` does. Each runs after the step that scheduled it is
//! committed, and reports back through the engine as an [`Input`]. Every integration is safe to
//! run twice for the same task (a crash re-dispatches unanswered tasks): child executions get a
//! name derived from the parent task, activity tasks are queued again under the same token.

use async_trait::async_trait;
use ironstep_asl::{Pattern, Resource};
use ironstep_core::{Input, TaskId, TaskRequest};
use ironstep_store::ExecutionRecord;
use serde_json::{Map, Value, json};

use crate::activities::PendingTask;
use crate::error::{ErrorCode, ServiceError};
use crate::executions::StartRequest;
use crate::{Engine, Millis};

/// An invocation of a local Lambda function.
#[derive(Debug, Clone)]
pub struct LambdaRequest {
    /// Name, ARN or partial ARN, possibly with a qualifier.
    pub function: String,
    /// `Qualifier`.
    pub qualifier: Option<String>,
    /// The payload bytes.
    pub payload: Vec<u8>,
    /// `RequestResponse` or `Event`.
    pub invocation_type: String,
    /// `Tail` to get logs.
    pub log_type: Option<String>,
    /// Base64 `ClientContext`.
    pub client_context: Option<String>,
}

/// What Invoke answered.
#[derive(Debug, Clone)]
pub struct LambdaResponse {
    /// HTTP status (200, 202).
    pub status_code: u16,
    /// `X-Amz-Executed-Version`.
    pub executed_version: String,
    /// The function's response bytes.
    pub payload: Vec<u8>,
    /// `X-Amz-Function-Error` (`Unhandled` / `Handled`).
    pub function_error: Option<String>,
    /// With `function_error`: the error type the runtime reported (`Sandbox.Timedout` for a
    /// timeout, whose payload carries none).
    pub error_type: Option<String>,
    /// `X-Amz-Log-Result`.
    pub log_result: Option<String>,
    /// Request id.
    pub request_id: String,
}

/// An Invoke API error (the function was not called).
#[derive(Debug, Clone)]
pub struct LambdaError {
    /// e.g. `ResourceNotFoundException`.
    pub code: String,
    /// The message.
    pub message: String,
    /// HTTP status.
    pub status: u16,
}

/// Runs Lambda functions (implemented by `ironstep-functions`, wired by the binary).
#[async_trait]
pub trait LambdaInvoker: Send + Sync {
    /// Invoke a function.
    async fn invoke(&self, req: LambdaRequest) -> Result<LambdaResponse, LambdaError>;
}

/// Start carrying out a task.
pub(crate) fn dispatch(engine: Engine, arn: String, req: TaskRequest) {
    tokio::spawn(async move {
        run(engine, arn, req).await;
    });
}

/// Best-effort cancellation of a task that no longer matters.
pub(crate) fn cancel(
    engine: Engine,
    arn: String,
    task_id: TaskId,
    resource: String,
    submitted: Option<Value>,
) {
    tokio::spawn(async move {
        match Resource::parse(&resource) {
            Ok(Resource::Activity { .. }) => engine.inner.activities.remove(&arn, Some(task_id)),
            Ok(Resource::Service {
                service,
                api,
                pattern,
            }) if service == "states"
                && api == "startExecution"
                && matches!(pattern, Pattern::Sync | Pattern::Sync2) =>
            {
                // Stop the child this `.sync` task started.
                let child = submitted
                    .as_ref()
                    .and_then(|s| s.get("ExecutionArn"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                if let Some(child) = child
                    && let Err(e) = engine.stop_execution(&child, None, None).await
                {
                    tracing::warn!(child, "could not stop a child execution: {e}");
                }
            }
            _ => {}
        }
    });
}

async fn fail(engine: &Engine, arn: &str, task_id: TaskId, error: &str, cause: String) {
    engine
        .task_outcome(
            arn,
            Input::TaskFailed {
                task_id,
                error: Some(error.to_string()),
                cause: Some(cause),
            },
        )
        .await;
}

async fn succeed(engine: &Engine, arn: &str, task_id: TaskId, output: Value) {
    engine
        .task_outcome(arn, Input::TaskSucceeded { task_id, output })
        .await;
}

async fn run(engine: Engine, arn: String, req: TaskRequest) {
    let task_id = req.task_id;
    // A TestState run with a mock: the mock answers instead of the integration.
    if let Some(Some(mock)) = crate::testing::mock_for(&engine, &arn) {
        match mock {
            crate::testing::Mock::Result(v) => succeed(&engine, &arn, task_id, v).await,
            crate::testing::Mock::Error { error, cause } => {
                engine
                    .task_outcome(
                        &arn,
                        Input::TaskFailed {
                            task_id,
                            error,
                            cause,
                        },
                    )
                    .await
            }
        }
        return;
    }
    let Some(resource) = req.classified() else {
        fail(
            &engine,
            &arn,
            task_id,
            "States.Runtime",
            format!("Invalid resource: '{}'", req.resource),
        )
        .await;
        return;
    };
    match &resource {
        Resource::Activity { arn: activity } => {
            match engine.inner.store.get_activity(activity).await {
                Ok(Some(_)) => {}
                _ => {
                    fail(
                        &engine,
                        &arn,
                        task_id,
                        "States.Runtime",
                        format!("The activity {activity} does not exist."),
                    )
                    .await;
                    return;
                }
            }
            if engine.inner.store.cluster().is_some() {
                // Workers on any node take it from the store.
                if let Err(e) =
                    crate::cluster::offer_activity_task(&engine, activity, &arn, task_id).await
                {
                    tracing::warn!(execution = arn, "could not offer an activity task: {e}");
                }
                return;
            }
            engine.inner.activities.enqueue(
                activity,
                PendingTask {
                    execution_arn: arn,
                    task_id,
                    token: req.token.clone().unwrap_or_default(),
                    input: ironstep_core::json::compact(&req.parameters),
                },
            );
        }
        Resource::Service {
            service,
            api,
            pattern,
        } if service == "states" && api == "startExecution" => {
            start_child(&engine, &arn, &req, *pattern).await;
        }
        Resource::Service {
            service,
            api,
            pattern,
        } if service == "aws-sdk:sfn" => {
            sfn_sdk(&engine, &arn, &req, api, *pattern).await;
        }
        Resource::Service {
            service,
            api,
            pattern,
        } if service == "lambda" && api == "invoke" => {
            lambda_invoke(&engine, &arn, &req, *pattern, false).await;
        }
        Resource::LambdaFunction { .. } => {
            lambda_invoke(&engine, &arn, &req, Pattern::RequestResponse, true).await;
        }
        other => {
            fail(
                &engine,
                &arn,
                task_id,
                "States.Runtime",
                format!(
                    "ironstep does not run the resource '{}' (service integration '{}' is not supported locally)",
                    req.resource,
                    other.resource_type()
                ),
            )
            .await;
        }
    }
}

// ---- states:startExecution ------------------------------------------------------------------

/// The `SdkHttpMetadata`/`SdkResponseMetadata` pair AWS's Java SDK adds to optimized
/// integration outputs.
fn sdk_metadata(content_length: usize, content_type: &str, now: Millis) -> (Value, Value) {
    let request_id = uuid::Uuid::new_v4().to_string();
    let date = httpdate(now);
    let http = json!({
        "AllHttpHeaders": {
            "x-amzn-RequestId": [request_id],
            "connection": ["keep-alive"],
            "Content-Length": [content_length.to_string()],
            "Date": [date],
            "Content-Type": [content_type],
        },
        "HttpHeaders": {
            "connection": "keep-alive",
            "Content-Length": content_length.to_string(),
            "Content-Type": content_type,
            "Date": date,
            "x-amzn-RequestId": request_id,
        },
        "HttpStatusCode": 200,
    });
    (http, json!({"RequestId": request_id}))
}

/// The metadata of a Lambda Invoke answer, with the headers Lambda sends.
fn lambda_metadata(resp: &LambdaResponse, now: Millis) -> (Value, Value) {
    let request_id = resp.request_id.clone();
    let date = httpdate(now);
    let len = resp.payload.len().to_string();
    let trace = format!(
        "root=1-{:08x}-{};sampled=0;lineage=00000000:0",
        now / 1000,
        &uuid::Uuid::new_v4().simple().to_string()[..24]
    );
    let http = json!({
        "AllHttpHeaders": {
            "X-Amz-Executed-Version": [resp.executed_version],
            "x-amzn-Remapped-Content-Length": ["0"],
            "Connection": ["keep-alive"],
            "x-amzn-RequestId": [request_id],
            "Content-Length": [len],
            "Date": [date],
            "X-Amzn-Trace-Id": [trace],
            "Content-Type": ["application/json"],
        },
        "HttpHeaders": {
            "Connection": "keep-alive",
            "Content-Length": len,
            "Content-Type": "application/json",
            "Date": date,
            "X-Amz-Executed-Version": resp.executed_version,
            "x-amzn-Remapped-Content-Length": "0",
            "x-amzn-RequestId": request_id,
            "X-Amzn-Trace-Id": trace,
        },
        "HttpStatusCode": resp.status_code,
    });
    (http, json!({"RequestId": resp.request_id}))
}

fn httpdate(ms: Millis) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .map(|d| d.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
        .unwrap_or_default()
}

/// The Java-SDK-style cause of a Step Functions API error inside a task failure.
fn sfn_cause(e: &ServiceError) -> String {
    format!(
        "{} (Service: AWSStepFunctions; Status Code: {}; Error Code: {}; Request ID: {}; Proxy: null)",
        e.message,
        e.code.http_status(),
        e.code.as_str(),
        uuid::Uuid::new_v4()
    )
}

/// A child name derived from the parent task, so that a re-dispatched start finds the same child.
fn derived_name(parent: &str, task_id: TaskId) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{parent}#{task_id}").as_bytes());
    let b = &digest[..16];
    format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-4{:01x}{:02x}-{:01x}{:01x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        b[0],
        b[1],
        b[2],
        b[3],
        b[4],
        b[5],
        b[6] & 0x0f,
        b[7],
        8 | (b[8] & 0x3),
        b[8] >> 4,
        b[9],
        b[10],
        b[11],
        b[12],
        b[13],
        b[14],
        b[15]
    )
}

fn input_text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "{}".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => ironstep_core::json::compact(other),
    }
}

async fn start_child(engine: &Engine, arn: &str, req: &TaskRequest, pattern: Pattern) {
    let task_id = req.task_id;
    let params = &req.parameters;
    let Some(sm) = params.get("StateMachineArn").and_then(Value::as_str) else {
        fail(
            engine,
            arn,
            task_id,
            "States.Runtime",
            "The field 'StateMachineArn' is required for the startExecution integration".into(),
        )
        .await;
        return;
    };
    let name = match params.get("Name") {
        Some(Value::String(n)) => n.clone(),
        _ => derived_name(arn, task_id),
    };
    let start = engine
        .start_execution(StartRequest {
            state_machine_arn: sm.to_string(),
            name: Some(name),
            input: Some(input_text(params.get("Input"))),
            trace_header: None,
            idempotent_internal: true,
            ..Default::default()
        })
        .await;
    let started = match start {
        Ok(s) => s,
        Err(e) => {
            fail(
                engine,
                arn,
                task_id,
                &format!("StepFunctions.{}Exception", e.code.as_str()),
                sfn_cause(&e),
            )
            .await;
            return;
        }
    };
    let body = json!({"executionArn": started.execution_arn, "startDate": started.start_date as f64 / 1000.0});
    let (http, meta) = sdk_metadata(
        body.to_string().len(),
        "application/x-amz-json-1.0",
        engine.now(),
    );
    let mut response = Map::new();
    response.insert(
        "ExecutionArn".into(),
        Value::String(started.execution_arn.clone()),
    );
    response.insert("SdkHttpMetadata".into(), http);
    response.insert("SdkResponseMetadata".into(), meta);
    response.insert("StartDate".into(), json!(started.start_date));
    let response = Value::Object(response);
    match pattern {
        Pattern::RequestResponse => succeed(engine, arn, task_id, response).await,
        Pattern::WaitForTaskToken => {
            engine
                .task_outcome(
                    arn,
                    Input::TaskSubmitted {
                        task_id,
                        output: response,
                    },
                )
                .await;
        }
        Pattern::Sync | Pattern::Sync2 => {
            engine
                .task_outcome(
                    arn,
                    Input::TaskSubmitted {
                        task_id,
                        output: response,
                    },
                )
                .await;
            match engine.wait_for(&started.execution_arn).await {
                Ok(child) => {
                    let v = describe_output(&child, pattern == Pattern::Sync2);
                    if child.status == "SUCCEEDED" {
                        succeed(engine, arn, task_id, v).await;
                    } else {
                        fail(
                            engine,
                            arn,
                            task_id,
                            "States.TaskFailed",
                            ironstep_core::json::compact(&v),
                        )
                        .await;
                    }
                }
                Err(e) => {
                    fail(engine, arn, task_id, "States.TaskFailed", e.message).await;
                }
            }
        }
    }
}

/// The DescribeExecution-like object `.sync` integrations return (PascalCase, no SDK metadata).
fn describe_output(c: &ExecutionRecord, json_io: bool) -> Value {
    let mut m = Map::new();
    if let Some(cause) = &c.cause {
        m.insert("Cause".into(), Value::String(cause.clone()));
    }
    if let Some(error) = &c.error {
        m.insert("Error".into(), Value::String(error.clone()));
    }
    m.insert("ExecutionArn".into(), Value::String(c.arn.clone()));
    let parse = |s: &str| serde_json::from_str::<Value>(s).unwrap_or(Value::String(s.to_string()));
    m.insert(
        "Input".into(),
        if json_io {
            parse(&c.input)
        } else {
            Value::String(c.input.clone())
        },
    );
    m.insert("InputDetails".into(), json!({"Included": true}));
    m.insert("Name".into(), Value::String(c.name.clone()));
    if let Some(out) = &c.output {
        m.insert(
            "Output".into(),
            if json_io {
                parse(out)
            } else {
                Value::String(out.clone())
            },
        );
        m.insert("OutputDetails".into(), json!({"Included": true}));
    }
    if c.status == "SUCCEEDED" {
        m.insert("RedriveCount".into(), json!(c.redrive_count));
        m.insert("RedriveStatus".into(), json!("NOT_REDRIVABLE"));
        m.insert(
            "RedriveStatusReason".into(),
            json!("Execution is SUCCEEDED and cannot be redriven"),
        );
    }
    m.insert("StartDate".into(), json!(c.start_date));
    m.insert(
        "StateMachineArn".into(),
        Value::String(c.state_machine_arn.clone()),
    );
    m.insert("Status".into(), Value::String(c.status.clone()));
    if let Some(stop) = c.stop_date {
        m.insert("StopDate".into(), json!(stop));
    }
    Value::Object(m)
}

// ---- aws-sdk:sfn -------------------------------------------------------------------------------

/// The AWS SDK v2 (Java) style cause of an SDK integration error.
fn sdk_cause(e: &ServiceError) -> String {
    format!(
        "{} (Service: Sfn, Status Code: {}, Request ID: {}) (SDK Attempt Count: 1)",
        e.message,
        e.code.http_status(),
        uuid::Uuid::new_v4()
    )
}

fn str_param(p: &Value, key: &str) -> Option<String> {
    p.get(key).and_then(Value::as_str).map(str::to_string)
}

async fn sfn_sdk(engine: &Engine, arn: &str, req: &TaskRequest, api: &str, pattern: Pattern) {
    let p = &req.parameters;
    let task_id = req.task_id;
    let result: Result<Value, ServiceError> = match api {
        "startExecution" => engine
            .start_execution(StartRequest {
                state_machine_arn: str_param(p, "StateMachineArn").unwrap_or_default(),
                name: str_param(p, "Name"),
                input: Some(input_text(p.get("Input"))),
                trace_header: str_param(p, "TraceHeader"),
                idempotent_internal: false,
                ..Default::default()
            })
            .await
            .map(|s| json!({"ExecutionArn": s.execution_arn, "StartDate": crate::iso(s.start_date)})),
        "describeExecution" => engine
            .describe_execution(&str_param(p, "ExecutionArn").unwrap_or_default())
            .await
            .map(|r| sdk_describe(&r)),
        "stopExecution" => engine
            .stop_execution(
                &str_param(p, "ExecutionArn").unwrap_or_default(),
                str_param(p, "Error"),
                str_param(p, "Cause"),
            )
            .await
            .map(|d| json!({"StopDate": crate::iso(d)})),
        "sendTaskSuccess" => {
            let output = match p.get("Output") {
                Some(Value::String(s)) => {
                    // The SDK takes a JSON text; a plain string is sent as a JSON string.
                    if crate::parse_json(s).is_ok() { s.clone() } else { Value::String(s.clone()).to_string() }
                }
                Some(v) => ironstep_core::json::compact(v),
                None => "null".into(),
            };
            let token = str_param(p, "TaskToken").unwrap_or_default();
            match engine.send_task_success(&token, &output).await {
                Err(e) if e.code == ErrorCode::TaskTimedOut
                    && already_answered(engine, &token, &Answer::Success(&output)).await =>
                {
                    Ok(json!({}))
                }
                r => r.map(|_| json!({})),
            }
        }
        "sendTaskFailure" => {
            let token = str_param(p, "TaskToken").unwrap_or_default();
            let (error, cause) = (str_param(p, "Error"), str_param(p, "Cause"));
            match engine
                .send_task_failure(&token, error.clone(), cause.clone())
                .await
            {
                Err(e) if e.code == ErrorCode::TaskTimedOut
                    && already_answered(engine, &token, &Answer::Failure(&error, &cause)).await =>
                {
                    Ok(json!({}))
                }
                r => r.map(|_| json!({})),
            }
        }
        "sendTaskHeartbeat" => engine
            .send_task_heartbeat(&str_param(p, "TaskToken").unwrap_or_default())
            .await
            .map(|_| json!({})),
        "listExecutions" => {
            let filter = ironstep_store::ExecutionFilter {
                state_machine_arn: str_param(p, "StateMachineArn"),
                status: str_param(p, "StatusFilter"),
                limit: p.get("MaxResults").and_then(Value::as_u64).filter(|n| *n > 0).unwrap_or(100) as usize,
                ..Default::default()
            };
            engine.list_executions(&filter).await.map(|list| {
                json!({"Executions": list.iter().map(|r| {
                    let mut m = Map::new();
                    m.insert("ExecutionArn".into(), json!(r.arn));
                    m.insert("Name".into(), json!(r.name));
                    m.insert("StartDate".into(), json!(crate::iso(r.start_date)));
                    m.insert("StateMachineArn".into(), json!(r.state_machine_arn));
                    m.insert("Status".into(), json!(r.status));
                    if let Some(s) = r.stop_date { m.insert("StopDate".into(), json!(crate::iso(s))); }
                    Value::Object(m)
                }).collect::<Vec<_>>()})
            })
        }
        "describeStateMachine" => engine
            .describe_state_machine(&str_param(p, "StateMachineArn").unwrap_or_default())
            .await
            .map(|v| {
                json!({
                    "StateMachineArn": v.record.arn, "Name": v.record.name, "Status": v.record.status,
                    "Definition": v.record.definition, "RoleArn": v.record.role_arn,
                    "Type": v.record.machine_type, "CreationDate": crate::iso(v.record.creation_date),
                })
            }),
        other => Err(ServiceError::new(
            ErrorCode::ValidationException,
            format!("The aws-sdk:sfn action '{other}' is not supported by ironstep"),
        )),
    };
    match result {
        Ok(v) => match pattern {
            Pattern::WaitForTaskToken => {
                engine
                    .task_outcome(arn, Input::TaskSubmitted { task_id, output: v })
                    .await;
            }
            _ => succeed(engine, arn, task_id, v).await,
        },
        Err(e) => {
            let code = e.code.as_str();
            let name = if code.ends_with("Exception") {
                format!("Sfn.{code}")
            } else {
                format!("Sfn.{code}Exception")
            };
            let e = if e.code == ErrorCode::InvalidToken {
                ServiceError::new(ErrorCode::InvalidToken, "Invalid Token: 'Invalid token'")
            } else {
                e
            };
            fail(engine, arn, task_id, &name, sdk_cause(&e)).await;
        }
    }
}

/// How a task token was answered.
enum Answer<'a> {
    Success(&'a str),
    Failure(&'a Option<String>, &'a Option<String>),
}

/// Did `token`'s task already end with exactly this answer? An `aws-sdk:sfn:sendTask*` task
/// that is dispatched again after a crash (the target committed the answer, the caller had not
/// yet recorded its own result) finds its earlier answer in the target's history and succeeds
/// again instead of failing with `TaskTimedOut`: the repeated effect is harmless.
async fn already_answered(engine: &Engine, token: &str, answer: &Answer<'_>) -> bool {
    let Some((target, _)) = ironstep_core::token::decode(token) else {
        return false;
    };
    let mut events: Vec<Value> = Vec::new();
    let mut from = None;
    loop {
        let Ok(page) = engine.history(&target, from, false, 1000, true).await else {
            return false;
        };
        events.extend(page.events);
        match page.next {
            Some(n) => from = Some(n),
            None => break,
        }
    }
    let id = |e: &Value| e.get("id").and_then(Value::as_u64).unwrap_or(0);
    let prev = |e: &Value| {
        e.get("previousEventId")
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    let kind = |e: &Value| {
        e.get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let by_id: std::collections::HashMap<u64, &Value> = events.iter().map(|e| (id(e), e)).collect();
    // The task was scheduled with the token among its parameters (`$$.Task.Token`).
    let scheduled: std::collections::HashSet<u64> = events
        .iter()
        .filter(|e| {
            kind(e) == "TaskScheduled"
                && e.pointer("/taskScheduledEventDetails/parameters")
                    .and_then(Value::as_str)
                    .is_some_and(|p| p.contains(token))
        })
        .map(id)
        .collect();
    if scheduled.is_empty() {
        return false;
    }
    let str_at = |e: &Value, p: &str| e.pointer(p).and_then(Value::as_str).map(str::to_string);
    for e in &events {
        let matches = match (kind(e).as_str(), answer) {
            ("TaskSucceeded", Answer::Success(output)) => {
                let recorded = str_at(e, "/taskSucceededEventDetails/output");
                recorded.and_then(|r| crate::parse_json(&r).ok()) == crate::parse_json(output).ok()
            }
            ("TaskFailed", Answer::Failure(error, cause)) => {
                str_at(e, "/taskFailedEventDetails/error") == **error
                    && str_at(e, "/taskFailedEventDetails/cause") == **cause
            }
            _ => false,
        };
        if !matches {
            continue;
        }
        // Walk back along previousEventId to the task's TaskScheduled.
        let mut at = prev(e);
        while let Some(ev) = by_id.get(&at) {
            if kind(ev) == "TaskScheduled" {
                if scheduled.contains(&at) {
                    return true;
                }
                break;
            }
            at = prev(ev);
        }
    }
    false
}

fn sdk_describe(r: &ExecutionRecord) -> Value {
    let mut m = Map::new();
    m.insert("ExecutionArn".into(), json!(r.arn));
    m.insert("StateMachineArn".into(), json!(r.state_machine_arn));
    m.insert("Name".into(), json!(r.name));
    m.insert("Status".into(), json!(r.status));
    m.insert("StartDate".into(), json!(crate::iso(r.start_date)));
    if let Some(s) = r.stop_date {
        m.insert("StopDate".into(), json!(crate::iso(s)));
    }
    m.insert("Input".into(), json!(r.input));
    m.insert("InputDetails".into(), json!({"Included": true}));
    if let Some(o) = &r.output {
        m.insert("Output".into(), json!(o));
        m.insert("OutputDetails".into(), json!({"Included": true}));
    }
    if let Some(e) = &r.error {
        m.insert("Error".into(), json!(e));
    }
    if let Some(c) = &r.cause {
        m.insert("Cause".into(), json!(c));
    }
    Value::Object(m)
}

// ---- Lambda ------------------------------------------------------------------------------------

async fn lambda_invoke(
    engine: &Engine,
    arn: &str,
    req: &TaskRequest,
    pattern: Pattern,
    legacy: bool,
) {
    let task_id = req.task_id;
    let Some(invoker) = engine.lambda() else {
        fail(
            engine,
            arn,
            task_id,
            "Lambda.ServiceException",
            "Local Lambda functions are not enabled in this engine".into(),
        )
        .await;
        return;
    };
    let p = &req.parameters;
    let (function, payload, invocation_type, log_type, client_context, qualifier) = if legacy {
        (
            req.resource.clone(),
            ironstep_core::json::compact(p).into_bytes(),
            "RequestResponse".to_string(),
            None,
            None,
            None,
        )
    } else {
        let payload = match p.get("Payload") {
            None => b"{}".to_vec(),
            Some(Value::String(s)) if crate::parse_json(s).is_ok() => s.clone().into_bytes(),
            Some(v) => ironstep_core::json::compact(v).into_bytes(),
        };
        (
            str_param(p, "FunctionName").unwrap_or_default(),
            payload,
            str_param(p, "InvocationType").unwrap_or_else(|| "RequestResponse".into()),
            str_param(p, "LogType"),
            str_param(p, "ClientContext"),
            str_param(p, "Qualifier"),
        )
    };
    let resp = invoker
        .invoke(LambdaRequest {
            function,
            qualifier,
            payload,
            invocation_type,
            log_type,
            client_context,
        })
        .await;
    let resp = match resp {
        Ok(r) => r,
        Err(e) => {
            let cause = format!(
                "{} (Service: AWSLambda; Status Code: {}; Error Code: {}; Request ID: {}; Proxy: null)",
                e.message,
                e.status,
                e.code,
                uuid::Uuid::new_v4()
            );
            fail(engine, arn, task_id, &format!("Lambda.{}", e.code), cause).await;
            return;
        }
    };
    let text = String::from_utf8_lossy(&resp.payload).to_string();
    let parsed = serde_json::from_str::<Value>(&text).ok();
    if let Some(kind) = &resp.function_error {
        let (error, cause) = match &parsed {
            Some(v)
                if v.get("errorType").and_then(Value::as_str).is_some() && kind == "Handled"
                    || v.get("errorType").is_some() =>
            {
                let error = v
                    .get("errorType")
                    .and_then(Value::as_str)
                    .unwrap_or("Lambda.Unknown")
                    .to_string();
                // The optimized integration re-serializes the error payload compactly; the legacy
                // resource passes it on as the function returned it.
                let cause = if legacy {
                    text.clone()
                } else {
                    ironstep_core::json::compact(v)
                };
                (error, cause)
            }
            _ => ("Lambda.Unknown".to_string(), text.clone()),
        };
        fail(engine, arn, task_id, &error, cause).await;
        return;
    }
    if pattern == Pattern::WaitForTaskToken {
        // The result arrives by SendTaskSuccess; the invoke answer is not recorded as a result.
        return;
    }
    let payload = parsed.unwrap_or(Value::String(text));
    if legacy {
        succeed(engine, arn, task_id, payload).await;
        return;
    }
    let (http, meta) = lambda_metadata(&resp, engine.now());
    let mut out = Map::new();
    out.insert("ExecutedVersion".into(), json!(resp.executed_version));
    if let Some(l) = resp.log_result {
        out.insert("LogResult".into(), json!(l));
    }
    out.insert("Payload".into(), payload);
    out.insert("SdkHttpMetadata".into(), http);
    out.insert("SdkResponseMetadata".into(), meta);
    out.insert("StatusCode".into(), json!(resp.status_code));
    succeed(engine, arn, task_id, Value::Object(out)).await;
}
