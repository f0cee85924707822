//! TestState: run one state in isolation, as AWS's TestState API does.
//!
//! The state is wrapped in a one-state Express machine that is never stored: its transition
//! targets become Succeed states (so the state's choice of `Next` is observable), its retriers
//! are removed (TestState reports a retriable error instead of retrying), and a `mock` answers
//! its task instead of the integration. The execution runs through the normal engine, and the
//! result is read off its history.

use std::collections::HashMap;
use std::sync::Mutex;

use ironstep_asl::model::error_matches;
use ironstep_core::{EventKind, HistoryEvent};
use ironstep_query::Entropy;
use ironstep_query::env::Env as QueryEnv;
use ironstep_query::path::Path;
use ironstep_query::template::Template;
use serde_json::{Map, Value, json};

use crate::error::{ErrorCode, ServiceError, ServiceResult};
use crate::executions::StartRequest;
use crate::{Engine, OsEntropy, lock, parse_json};

/// A mocked task answer.
#[derive(Debug, Clone)]
pub enum Mock {
    /// `mock.result`: the task's result (JSON text).
    Result(Value),
    /// `mock.errorOutput`.
    Error {
        /// `error`.
        error: Option<String>,
        /// `cause`.
        cause: Option<String>,
    },
}

/// TestState's request.
#[derive(Debug, Clone, Default)]
pub struct TestStateRequest {
    /// `definition`: one state, or (with `state_name`) a whole state machine.
    pub definition: String,
    /// `stateName`.
    pub state_name: Option<String>,
    /// `input` (JSON text).
    pub input: Option<String>,
    /// `variables` (a JSON object's text).
    pub variables: Option<String>,
    /// `roleArn`.
    pub role_arn: Option<String>,
    /// `inspectionLevel`: INFO, DEBUG or TRACE.
    pub inspection_level: Option<String>,
    /// `mock`.
    pub mock: Option<Mock>,
    /// `stateConfiguration.retrierRetryCount`.
    pub retrier_retry_count: Option<u64>,
}

/// TestState's answer.
#[derive(Debug, Clone, Default)]
pub struct TestStateResult {
    /// SUCCEEDED, FAILED, RETRIABLE, CAUGHT_ERROR.
    pub status: String,
    /// `output`.
    pub output: Option<String>,
    /// `error`.
    pub error: Option<String>,
    /// `cause`.
    pub cause: Option<String>,
    /// `nextState`.
    pub next_state: Option<String>,
    /// `inspectionData` (DEBUG and TRACE).
    pub inspection_data: Option<Value>,
}

#[derive(Default)]
pub(crate) struct Tests {
    runs: Mutex<HashMap<String, TestRun>>,
}

struct TestRun {
    mock: Option<Mock>,
    events: Vec<HistoryEvent>,
}

/// The machine name inside an execution ARN (`...:express:<machine>:<name>:<uuid>`).
fn machine_of(execution_arn: &str) -> Option<&str> {
    execution_arn.split(':').nth(6)
}

pub(crate) fn is_test(engine: &Engine, execution_arn: &str) -> bool {
    machine_of(execution_arn).is_some_and(|m| lock(&engine.inner.tests.runs).contains_key(m))
}

pub(crate) fn record_events(engine: &Engine, execution_arn: &str, events: &[HistoryEvent]) {
    if let Some(m) = machine_of(execution_arn)
        && let Some(run) = lock(&engine.inner.tests.runs).get_mut(m)
    {
        run.events.extend(events.iter().cloned());
    }
}

/// The mock for a task of a TestState run, if any.
pub(crate) fn mock_for(engine: &Engine, execution_arn: &str) -> Option<Option<Mock>> {
    let m = machine_of(execution_arn)?;
    lock(&engine.inner.tests.runs)
        .get(m)
        .map(|r| r.mock.clone())
}

fn invalid(msg: impl Into<String>) -> ServiceError {
    ServiceError::new(ErrorCode::InvalidDefinition, msg)
}

/// Find a state by name anywhere in a definition (nested branches and processors included).
fn find_state<'a>(def: &'a Value, name: &str) -> Option<&'a Value> {
    let states = def.get("States")?.as_object()?;
    if let Some(s) = states.get(name) {
        return Some(s);
    }
    for s in states.values() {
        for key in ["Branches"] {
            if let Some(bs) = s.get(key).and_then(Value::as_array) {
                for b in bs {
                    if let Some(found) = find_state(b, name) {
                        return Some(found);
                    }
                }
            }
        }
        for key in ["ItemProcessor", "Iterator"] {
            if let Some(p) = s.get(key)
                && let Some(found) = find_state(p, name)
            {
                return Some(found);
            }
        }
    }
    None
}

struct Noise;
impl Entropy for Noise {
    fn next_u64(&mut self) -> u64 {
        OsEntropy.next_u64()
    }
}

impl Engine {
    /// TestState.
    pub async fn test_state(&self, req: TestStateRequest) -> ServiceResult<TestStateResult> {
        let def: Value = parse_json(&req.definition).map_err(|m| {
            invalid(format!(
                "Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: {m}'"
            ))
        })?;
        let (state, query_language) = match &req.state_name {
            Some(name) => {
                let s = find_state(&def, name).ok_or_else(|| {
                    ServiceError::new(
                        ErrorCode::ValidationException,
                        format!("State '{name}' does not exist in the definition"),
                    )
                })?;
                (s.clone(), def.get("QueryLanguage").cloned())
            }
            None => (def.clone(), None),
        };
        let Value::Object(mut state) = state else {
            return Err(invalid(
                "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: A state must be a JSON object at /'",
            ));
        };
        let ty = state
            .get("Type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let resource = state
            .get("Resource")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let needs_mock = matches!(ty.as_str(), "Map" | "Parallel")
            || resource.contains(".sync")
            || resource.ends_with(".waitForTaskToken")
            || resource.contains(":activity:");
        if req.mock.is_some()
            && matches!(ty.as_str(), "Pass" | "Wait" | "Choice" | "Succeed" | "Fail")
        {
            return Err(ServiceError::new(
                ErrorCode::ValidationException,
                format!("State type '{ty}' is not supported when a mock is specified"),
            ));
        }
        if needs_mock && req.mock.is_none() {
            return Err(ServiceError::new(
                ErrorCode::ValidationException,
                format!("A mock is required to test a '{ty}' state with resource '{resource}'"),
            ));
        }
        if ty == "Task" && req.mock.is_none() && req.role_arn.is_none() {
            return Err(ServiceError::new(
                ErrorCode::ValidationException,
                "RoleArn must be specified when testing a Task state",
            ));
        }
        let name = req.state_name.clone().unwrap_or_else(|| "TestState".into());
        // Remember the retriers; the run itself does not retry.
        let retriers = state.remove("Retry");
        // Every transition target becomes a Succeed state, so the chosen one shows in the history.
        let mut targets: Vec<String> = Vec::new();
        let mut push = |v: Option<&Value>| {
            if let Some(t) = v.and_then(Value::as_str)
                && !targets.iter().any(|x| x == t)
            {
                targets.push(t.to_string());
            }
        };
        push(state.get("Next"));
        push(state.get("Default"));
        for key in ["Choices", "Catch"] {
            if let Some(arr) = state.get(key).and_then(Value::as_array) {
                for r in arr {
                    push(r.get("Next"));
                }
            }
        }
        let mut states = Map::new();
        let target_prefix = "\u{2060}";
        for t in &targets {
            states.insert(format!("{target_prefix}{t}"), json!({"Type": "Succeed"}));
        }
        // Rename targets inside the state to the marked Succeed states.
        let rename = |v: &mut Value| {
            if let Some(t) = v.as_str() {
                *v = Value::String(format!("{target_prefix}{t}"));
            }
        };
        if let Some(n) = state.get_mut("Next") {
            rename(n);
        }
        if let Some(n) = state.get_mut("Default") {
            rename(n);
        }
        for key in ["Choices", "Catch"] {
            if let Some(arr) = state.get_mut(key).and_then(Value::as_array_mut) {
                for r in arr {
                    if let Some(n) = r.get_mut("Next") {
                        rename(n);
                    }
                }
            }
        }
        states.insert(name.clone(), Value::Object(state.clone()));
        let mut wrapper = Map::new();
        if let Some(q) = query_language {
            wrapper.insert("QueryLanguage".into(), q);
        }
        wrapper.insert("StartAt".into(), Value::String(name.clone()));
        wrapper.insert("States".into(), Value::Object(states));
        let text = Value::Object(wrapper).to_string();
        self.compile(&text, false).map_err(|d| {
            let d: Vec<_> = d
                .into_iter()
                .filter(|d| d.code != ironstep_asl::Code::MissingTransitionTarget)
                .collect();
            invalid(ironstep_asl::invalid_definition_message(&d))
        })?;
        let variables = match &req.variables {
            None => None,
            Some(v) => match parse_json(v) {
                Ok(Value::Object(m)) => Some(m),
                _ => {
                    return Err(ServiceError::new(
                        ErrorCode::ValidationException,
                        "The variables must be a JSON object",
                    ));
                }
            },
        };
        let input_text = req.input.clone().unwrap_or_else(|| "{}".into());
        let input = parse_json(&input_text).map_err(|m| {
            ServiceError::new(
                ErrorCode::InvalidExecutionInput,
                format!("Invalid State Machine Execution Input: '{m}'"),
            )
        })?;
        let machine = format!("ironstep-teststate-{}", uuid::Uuid::new_v4().simple());
        lock(&self.inner.tests.runs).insert(
            machine.clone(),
            TestRun {
                mock: req.mock.clone(),
                events: Vec::new(),
            },
        );
        let now = self.now();
        let record = ironstep_store::StateMachineRecord {
            arn: self.inner.config.partition.state_machine(&machine),
            name: machine.clone(),
            machine_type: "EXPRESS".into(),
            definition: text,
            role_arn: req.role_arn.clone().unwrap_or_else(|| {
                format!(
                    "arn:aws:iam::{}:role/TestState",
                    self.inner.config.partition.account
                )
            }),
            logging_configuration: None,
            tracing_configuration: None,
            encryption_configuration: None,
            creation_date: now,
            update_date: now,
            revision_id: String::new(),
            status: "ACTIVE".into(),
            description: None,
            next_version: 1,
        };
        let run = self
            .start_sync_execution(StartRequest {
                state_machine_arn: record.arn.clone(),
                input: Some(input_text.clone()),
                variables: variables.clone(),
                inline_machine: Some(record),
                ..Default::default()
            })
            .await;
        let events = lock(&self.inner.tests.runs)
            .remove(&machine)
            .map(|r| r.events)
            .unwrap_or_default();
        let run = run?;
        let mut result = TestStateResult::default();
        // Where did the state go, and did it fail on the way?
        let mut failure: Option<(Option<String>, Option<String>)> = None;
        let mut task_result: Option<Value> = None;
        let mut parameters: Option<Value> = None;
        let mut entered_target = None;
        let mut exited_output = None;
        let mut assigned: Option<Vec<(String, String)>> = None;
        for e in &events {
            match &e.kind {
                EventKind::TaskFailed(_, ec)
                | EventKind::TaskTimedOut(_, ec)
                | EventKind::LambdaFunctionFailed(ec)
                | EventKind::LambdaFunctionTimedOut(ec)
                | EventKind::ActivityFailed(ec)
                | EventKind::ActivityTimedOut(ec)
                | EventKind::ExecutionFailed(ec)
                    if failure.is_none() =>
                {
                    failure = Some((ec.error.clone(), ec.cause.clone()));
                }
                EventKind::TaskScheduled { parameters: p, .. } => {
                    parameters = serde_json::from_str(p).ok()
                }
                EventKind::TaskSucceeded { output, .. }
                | EventKind::LambdaFunctionSucceeded { output }
                | EventKind::ActivitySucceeded { output } => {
                    task_result = serde_json::from_str(output).ok()
                }
                EventKind::StateExited {
                    name: n,
                    output,
                    assigned_variables,
                    ..
                } if **n == *name => {
                    exited_output = Some(output.clone());
                    assigned = assigned_variables.clone();
                }
                EventKind::StateEntered { name: n, .. } if n.starts_with(target_prefix) => {
                    entered_target = Some(n.trim_start_matches(target_prefix).to_string());
                }
                _ => {}
            }
        }
        // A retriable error is reported before any Catch applies.
        if let Some((err, cause)) = &failure
            && let Some(Value::Array(rs)) = &retriers
        {
            let name_s = err.clone().unwrap_or_default();
            let count = req.retrier_retry_count.unwrap_or(0);
            for (i, r) in rs.iter().enumerate() {
                let eq: Vec<String> = r
                    .get("ErrorEquals")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                if error_matches(&eq, &name_s, false) {
                    let max = r.get("MaxAttempts").and_then(Value::as_u64).unwrap_or(3);
                    if count < max {
                        let interval = r
                            .get("IntervalSeconds")
                            .and_then(Value::as_f64)
                            .unwrap_or(1.0);
                        let rate = r.get("BackoffRate").and_then(Value::as_f64).unwrap_or(2.0);
                        let mut backoff = interval * rate.powi(count as i32);
                        if let Some(m) = r.get("MaxDelaySeconds").and_then(Value::as_f64) {
                            backoff = backoff.min(m);
                        }
                        result.status = "RETRIABLE".into();
                        result.error = err.clone();
                        result.cause = cause.clone();
                        result.inspection_data = self.inspection(&req, &input, &state, parameters.clone(), task_result.clone(), None, assigned.clone()).map(|mut d| {
                            d["errorDetails"] = json!({"retryIndex": i, "retryBackoffIntervalSeconds": backoff.round() as i64});
                            d
                        });
                        return Ok(result);
                    }
                    break;
                }
            }
        }
        let rec = run.record;
        match (rec.status.as_str(), failure) {
            ("SUCCEEDED", Some((err, cause))) => {
                result.status = "CAUGHT_ERROR".into();
                result.error = err;
                result.cause = cause;
                result.output = exited_output.clone();
                result.next_state = entered_target;
            }
            ("SUCCEEDED", None) => {
                result.status = "SUCCEEDED".into();
                result.output = exited_output.clone().or(rec.output.clone());
                result.next_state = entered_target;
            }
            _ => {
                result.status = "FAILED".into();
                result.error = rec.error.clone();
                result.cause = rec.cause.clone();
            }
        }
        result.inspection_data = self.inspection(
            &req,
            &input,
            &state,
            parameters,
            task_result,
            exited_output
                .as_deref()
                .and_then(|o| serde_json::from_str(o).ok()),
            assigned,
        );
        if let Some(d) = &mut result.inspection_data
            && result.status == "CAUGHT_ERROR"
            && let Some(Value::Array(cs)) = state.get("Catch")
        {
            let err = result.error.clone().unwrap_or_default();
            if let Some(i) = cs.iter().position(|c| {
                let eq: Vec<String> = c
                    .get("ErrorEquals")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                error_matches(&eq, &err, false)
            }) {
                d["errorDetails"] = json!({"catchIndex": i});
            }
        }
        Ok(result)
    }

    /// DEBUG inspection data: the data after each processing step.
    #[allow(clippy::too_many_arguments)]
    fn inspection(
        &self,
        req: &TestStateRequest,
        input: &Value,
        state: &Map<String, Value>,
        parameters: Option<Value>,
        task_result: Option<Value>,
        output: Option<Value>,
        assigned: Option<Vec<(String, String)>>,
    ) -> Option<Value> {
        let level = req.inspection_level.as_deref().unwrap_or("INFO");
        if level == "INFO" {
            return None;
        }
        let mut d = Map::new();
        d.insert("input".into(), Value::String(input.to_string()));
        let jsonata = state.get("QueryLanguage").and_then(Value::as_str) == Some("JSONata");
        let text = |v: &Value| Value::String(v.to_string());
        if jsonata {
            if let Some(p) = &parameters {
                d.insert("afterArguments".into(), text(p));
            }
            if let Some(r) = &task_result {
                d.insert("result".into(), text(r));
            }
            if let Some(a) = assigned {
                let vars: Map<String, Value> = a
                    .into_iter()
                    .map(|(k, v)| (k, serde_json::from_str(&v).unwrap_or(Value::Null)))
                    .collect();
                d.insert("variables".into(), text(&Value::Object(vars)));
            }
            return Some(Value::Object(d));
        }
        let after_input = match state.get("InputPath") {
            None => Some(input.clone()),
            Some(Value::Null) => Some(json!({})),
            Some(Value::String(p)) => Path::parse(p).ok().and_then(|p| p.select_value(input).ok()),
            _ => None,
        };
        if state.get("Result").is_none()
            && let Some(a) = &after_input
        {
            d.insert("afterInputPath".into(), text(a));
        }
        let after_parameters = parameters.or_else(|| {
            let t = Template::compile(state.get("Parameters")?).ok()?;
            let mut noise = Noise;
            let mut env = QueryEnv::new(after_input.as_ref()?, &mut noise);
            t.eval(&mut env).ok()
        });
        if state.get("Parameters").is_some()
            && let Some(p) = &after_parameters
        {
            d.insert("afterParameters".into(), text(p));
        }
        let result = task_result
            .or_else(|| state.get("Result").cloned())
            .or(after_parameters)
            .or(after_input);
        if let Some(r) = &result {
            d.insert("result".into(), text(r));
            let selected = match state.get("ResultSelector") {
                Some(sel) => Template::compile(sel).ok().and_then(|t| {
                    let mut noise = Noise;
                    let mut env = QueryEnv::new(r, &mut noise);
                    t.eval(&mut env).ok()
                }),
                None => Some(r.clone()),
            };
            if state.get("ResultSelector").is_some()
                && let Some(s) = &selected
            {
                d.insert("afterResultSelector".into(), text(s));
            }
            if let Some(s) = selected {
                let after = match state.get("ResultPath") {
                    None => Some(s),
                    Some(Value::Null) => Some(input.clone()),
                    Some(Value::String(p)) => Path::parse_reference(p)
                        .ok()
                        .and_then(|p| p.assign(input.clone(), s).ok()),
                    _ => None,
                };
                if let Some(a) = after {
                    d.insert("afterResultPath".into(), text(&a));
                }
            }
        } else if let Some(o) = output {
            d.insert("afterResultPath".into(), text(&o));
        }
        Some(Value::Object(d))
    }
}
