//! HTTP: the embedded assets and the console's JSON endpoints under `/ironstep/api/`.
//!
//! Errors use AWS's JSON error shape (`{"__type", "message"}` with AWS's HTTP status), through
//! the same [`ApiError`] as the Step Functions API, so the browser handles both alike.

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::Stream;
use ironstep_api::ApiError;
use ironstep_api::protocol::{token, ts};
use ironstep_functions::{Functions, InvocationStatus};
use ironstep_runtime::Engine;
use ironstep_store::{ExecutionFilter, ExecutionRecord};
use serde_json::{Value, json};

use crate::assets;
use crate::steps;

/// How often a live stream looks for new events. The store has no change notification; a
/// quarter second feels live and costs one indexed read per open execution page.
const STREAM_POLL: Duration = Duration::from_millis(250);
/// Events read per store call when a whole history is needed.
const HISTORY_PAGE: usize = 1000;
/// The longest history read for step details (AWS caps histories at 25,000 events).
const HISTORY_CAP: usize = 25_000;
/// Executions scanned per store call when filtering by name.
const SCAN_BATCH: usize = 500;
/// The most executions counted per state machine for the list's running/failed columns.
const COUNT_SCAN_CAP: usize = 100_000;

#[derive(Clone)]
struct Ctx {
    engine: Engine,
    functions: Functions,
}

type Q = Query<HashMap<String, String>>;
type R = Result<Response, ApiError>;

/// The console's router: `GET /`, `/console/*` and `/ironstep/api/*`.
pub fn router(engine: Engine, functions: Functions) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/console/{file}", get(asset))
        .route("/ironstep/api/info", get(info))
        .route("/ironstep/api/executions", get(executions))
        .route("/ironstep/api/execution-counts", get(execution_counts))
        .route("/ironstep/api/graph", get(graph))
        .route("/ironstep/api/steps", get(steps_of))
        .route("/ironstep/api/stream", get(stream))
        .route("/ironstep/api/activities", get(activities))
        .route(
            "/ironstep/api/functions/{name}/invocations",
            get(invocations),
        )
        .with_state(Ctx { engine, functions })
}

async fn index() -> Response {
    asset_response("index.html")
}

async fn asset(Path(file): Path<String>) -> Response {
    asset_response(&file)
}

fn asset_response(file: &str) -> Response {
    match assets::get(file) {
        Some((body, mime)) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, mime),
                // Small files, always revalidated: a rebuilt binary shows its own console.
                (header::CACHE_CONTROL, "no-cache"),
            ],
            body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

fn json_response(v: Value) -> R {
    Ok(Json(v).into_response())
}

fn required<'q>(q: &'q HashMap<String, String>, key: &str) -> Result<&'q str, ApiError> {
    q.get(key)
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::validation(format!("Missing required parameter: {key}")))
}

async fn info(State(c): State<Ctx>) -> R {
    let p = &c.engine.config().partition;
    json_response(json!({
        "region": p.region,
        "account": p.account,
        "version": env!("CARGO_PKG_VERSION"),
    }))
}

fn execution_item(e: &ExecutionRecord) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("executionArn".into(), json!(e.arn));
    m.insert("stateMachineArn".into(), json!(e.state_machine_arn));
    m.insert(
        "stateMachineName".into(),
        json!(e.state_machine_arn.rsplit(':').next().unwrap_or_default()),
    );
    m.insert("name".into(), json!(e.name));
    m.insert("status".into(), json!(e.status));
    m.insert("startDate".into(), ts(e.start_date));
    if let Some(s) = e.stop_date {
        m.insert("stopDate".into(), ts(s));
    }
    if let Some(p) = &e.parent_arn {
        m.insert("parentArn".into(), json!(p));
    }
    m.insert("redriveCount".into(), json!(e.redrive_count));
    Value::Object(m)
}

const STATUSES: [&str; 5] = ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"];

/// Executions of every state machine (or one), newest first: `status`, `name` (a
/// case-insensitive substring), `parentArn`, `stateMachineArn`, `maxResults`, `nextToken`.
async fn executions(State(c): State<Ctx>, Query(q): Q) -> R {
    let status = q.get("status").filter(|s| !s.is_empty()).cloned();
    if let Some(s) = &status
        && !STATUSES.contains(&s.as_str())
    {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{s}' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
            STATUSES.join(", ")
        )));
    }
    let max: usize = match q.get("maxResults").filter(|s| !s.is_empty()) {
        Some(m) => m
            .parse()
            .ok()
            .filter(|m| (1..=1000).contains(m))
            .ok_or_else(|| ApiError::validation("maxResults must be between 1 and 1000"))?,
        None => 50,
    };
    let name = q
        .get("name")
        .map(|n| n.trim().to_lowercase())
        .filter(|n| !n.is_empty());
    let mut filter = ExecutionFilter {
        status,
        parent_arn: q.get("parentArn").filter(|s| !s.is_empty()).cloned(),
        limit: SCAN_BATCH,
        ..Default::default()
    };
    if let Some(sm) = q.get("stateMachineArn").filter(|s| !s.is_empty()) {
        c.engine.machine(sm).await?;
        filter.state_machine_arn = Some(sm.clone());
    }
    if let Some(t) = q.get("nextToken").filter(|s| !s.is_empty()) {
        let cursor = token::read("console-executions", t, c.engine.now())?;
        let (start, arn) = cursor
            .split_once('|')
            .ok_or_else(|| ApiError::new("InvalidToken", "Invalid Token"))?;
        filter.after = Some((start.parse().unwrap_or(0), arn.to_string()));
    }
    let mut out: Vec<ExecutionRecord> = Vec::new();
    let mut more = false;
    'scan: loop {
        let batch = c.engine.list_executions(&filter).await?;
        let exhausted = batch.len() < filter.limit;
        for e in batch {
            filter.after = Some((e.start_date, e.arn.clone()));
            if name
                .as_ref()
                .is_some_and(|n| !e.name.to_lowercase().contains(n))
            {
                continue;
            }
            if out.len() == max {
                more = true;
                break 'scan;
            }
            out.push(e);
        }
        if exhausted {
            break;
        }
    }
    let mut body = json!({"executions": out.iter().map(execution_item).collect::<Vec<_>>()});
    if more && let Some(last) = out.last() {
        body["nextToken"] = json!(token::make(
            "console-executions",
            &format!("{}|{}", last.start_date, last.arn),
            c.engine.now()
        ));
    }
    json_response(body)
}

/// Executions per state machine and status: `{"counts": {arn: {"RUNNING": n, ...}}}`.
async fn execution_counts(State(c): State<Ctx>) -> R {
    let mut counts: HashMap<String, HashMap<String, u64>> = HashMap::new();
    let mut filter = ExecutionFilter {
        limit: SCAN_BATCH,
        ..Default::default()
    };
    let mut scanned = 0;
    loop {
        let batch = c.engine.list_executions(&filter).await?;
        let exhausted = batch.len() < filter.limit;
        for e in &batch {
            *counts
                .entry(e.state_machine_arn.clone())
                .or_default()
                .entry(e.status.clone())
                .or_default() += 1;
        }
        scanned += batch.len();
        match batch.last() {
            Some(last) if !exhausted && scanned < COUNT_SCAN_CAP => {
                filter.after = Some((last.start_date, last.arn.clone()));
            }
            _ => break,
        }
    }
    json_response(json!({"counts": counts, "truncated": scanned >= COUNT_SCAN_CAP}))
}

/// The layout of a state machine (`stateMachineArn`, a version ARN too) or of the definition
/// an execution runs (`executionArn`).
async fn graph(State(c): State<Ctx>, Query(q): Q) -> R {
    let definition = if let Some(e) = q.get("executionArn").filter(|s| !s.is_empty()) {
        c.engine.describe_execution(e).await?.definition
    } else {
        let sm = required(&q, "stateMachineArn")?;
        let view = c.engine.describe_state_machine(sm).await?;
        match view.version {
            Some(v) => v.definition,
            None => view.record.definition,
        }
    };
    let g = crate::layout::layout_text(&definition)
        .map_err(|e| ApiError::new("InvalidDefinition", e.to_string()))?;
    json_response(serde_json::to_value(g).unwrap_or(Value::Null))
}

/// A whole history (bounded by [`HISTORY_CAP`]).
async fn all_events(engine: &Engine, arn: &str, after: u64) -> Result<Vec<Value>, ApiError> {
    let mut events = Vec::new();
    let mut from = Some(after + 1);
    while let Some(f) = from {
        let page = engine
            .history(arn, Some(f), false, HISTORY_PAGE, true)
            .await?;
        events.extend(page.events);
        from = page.next;
        if events.len() >= HISTORY_CAP {
            break;
        }
    }
    Ok(events)
}

async fn derive_steps(engine: &Engine, rec: &ExecutionRecord) -> Result<steps::Steps, ApiError> {
    let events = all_events(engine, &rec.arn, 0).await?;
    let def: Option<Value> = serde_json::from_str(&rec.definition).ok();
    Ok(steps::derive(&events, def.as_ref(), &rec.status))
}

/// Step details of an execution: every visit's status (`summary` by default), or one state's
/// visits with their inputs, outputs and attempts (`state=NAME`).
async fn steps_of(State(c): State<Ctx>, Query(q): Q) -> R {
    let arn = required(&q, "executionArn")?;
    let rec = c.engine.describe_execution(arn).await?;
    let s = derive_steps(&c.engine, &rec).await?;
    let s = match q.get("state") {
        Some(name) => s.only_state(name),
        None => s.summary(),
    };
    json_response(json!({
        "executionStatus": rec.status,
        "steps": s,
    }))
}

struct Live {
    engine: Engine,
    arn: String,
    after: u64,
    status: String,
    first: bool,
    done: bool,
}

/// Server-sent events for an execution page: an `update` (new history events, the execution's
/// description and the step summary) whenever something happened, then `end` once it closed.
async fn stream(
    State(c): State<Ctx>,
    Query(q): Q,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let arn = required(&q, "executionArn")?.to_string();
    c.engine.describe_execution(&arn).await?;
    let after = q.get("after").and_then(|a| a.parse().ok()).unwrap_or(0);
    let live = Live {
        engine: c.engine.clone(),
        arn,
        after,
        status: String::new(),
        first: true,
        done: false,
    };
    let s = futures_util::stream::unfold(live, |mut st| async move {
        if st.done {
            return None;
        }
        loop {
            match next_update(&mut st).await {
                Ok(Some(ev)) => return Some((Ok(ev), st)),
                Ok(None) => tokio::time::sleep(STREAM_POLL).await,
                Err(e) => {
                    st.done = true;
                    let ev = Event::default()
                        .event("error")
                        .data(json!({"__type": e.code, "message": e.message}).to_string());
                    return Some((Ok(ev), st));
                }
            }
        }
    });
    Ok(Sse::new(s).keep_alive(KeepAlive::default()))
}

async fn next_update(st: &mut Live) -> Result<Option<Event>, ApiError> {
    let rec = st.engine.describe_execution(&st.arn).await?;
    let new = all_events(&st.engine, &st.arn, st.after).await?;
    if new.is_empty() && rec.status == st.status && !st.first {
        if rec.status != "RUNNING" {
            st.done = true;
            return Ok(Some(Event::default().event("end").data("{}")));
        }
        return Ok(None);
    }
    st.first = false;
    st.status = rec.status.clone();
    if let Some(last) = new.last().and_then(|e| e.get("id")).and_then(Value::as_u64) {
        st.after = last;
    }
    let steps = derive_steps(&st.engine, &rec).await?.summary();
    let body = json!({
        "events": new,
        "execution": ironstep_api::sfn::describe_shape(&rec, true),
        "steps": steps,
    });
    Ok(Some(
        Event::default()
            .event("update")
            .id(st.after.to_string())
            .data(body.to_string()),
    ))
}

/// Activities with the number of tasks waiting for a worker.
async fn activities(State(c): State<Ctx>) -> R {
    let list = c.engine.list_activities(None, 10_000).await?;
    let items: Vec<Value> = list
        .iter()
        .map(|a| {
            json!({
                "activityArn": a.arn,
                "name": a.name,
                "creationDate": ts(a.creation_date),
                "pendingTasks": c.engine.pending_activity_tasks(&a.arn),
            })
        })
        .collect();
    json_response(json!({"activities": items}))
}

/// A function's recent invocations with their logs, newest first.
async fn invocations(State(c): State<Ctx>, Path(name): Path<String>) -> R {
    let records = c.functions.recent_invocations(&name).map_err(|e| {
        let mut a = ApiError::new(e.code, e.message);
        a.status = e.http_status;
        a
    })?;
    let items: Vec<Value> = records
        .iter()
        .rev()
        .map(|r| {
            let start = r
                .start
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0);
            json!({
                "requestId": r.request_id,
                "start": ts(start),
                "durationMs": r.duration.as_secs_f64() * 1000.0,
                "status": match r.status {
                    InvocationStatus::Success => "Success",
                    InvocationStatus::Error => "Error",
                    InvocationStatus::Timeout => "Timeout",
                },
                "errorType": r.error_type,
                "log": r.log,
            })
        })
        .collect();
    json_response(json!({"invocations": items}))
}
