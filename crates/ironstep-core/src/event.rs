//! History events as AWS writes them: the event model and its rendering into the
//! `GetExecutionHistory` wire shape.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// Milliseconds since the Unix epoch (UTC). History timestamps, timer due times and the
/// context object's times are all in this unit.
pub type Millis = i64;

/// The state types, as they prefix `...StateEntered`/`...StateExited` event names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum StateType {
    Pass,
    Task,
    Choice,
    Wait,
    Succeed,
    Fail,
    Parallel,
    Map,
}

impl StateType {
    /// `Pass`, `Task`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            StateType::Pass => "Pass",
            StateType::Task => "Task",
            StateType::Choice => "Choice",
            StateType::Wait => "Wait",
            StateType::Succeed => "Succeed",
            StateType::Fail => "Fail",
            StateType::Parallel => "Parallel",
            StateType::Map => "Map",
        }
    }
}

/// Error and cause as they appear in failure events; absent fields are omitted on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ErrorCause {
    /// `error`.
    pub error: Option<String>,
    /// `cause`.
    pub cause: Option<String>,
}

/// `resourceType` and `resource` of task events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskResource {
    /// `resourceType`, e.g. `states`, `lambda`, `aws-sdk:sfn`.
    pub resource_type: Arc<str>,
    /// `resource`, e.g. `startExecution.sync`.
    pub resource: Arc<str>,
}

/// One history event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEvent {
    /// Starts at 1, contiguous.
    pub id: u64,
    /// The causally previous event (not simply `id - 1`).
    pub previous_event_id: u64,
    /// When it happened.
    pub timestamp: Millis,
    /// What happened.
    pub kind: EventKind,
}

/// The event types ironstep records, with their details. JSON texts (`input`, `output`,
/// `parameters`) are kept as the compact text AWS records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum EventKind {
    ExecutionStarted {
        input: String,
        role_arn: String,
        state_machine_version_arn: Option<String>,
        state_machine_alias_arn: Option<String>,
    },
    ExecutionSucceeded {
        output: String,
    },
    ExecutionFailed(ErrorCause),
    ExecutionAborted(ErrorCause),
    ExecutionTimedOut(ErrorCause),
    ExecutionRedriven {
        redrive_count: u32,
    },
    StateEntered {
        state_type: StateType,
        name: Arc<str>,
        input: String,
    },
    StateExited {
        state_type: StateType,
        name: Arc<str>,
        output: String,
        /// Variables assigned by the state's `Assign`, name → JSON text.
        assigned_variables: Option<Vec<(String, String)>>,
    },
    TaskScheduled {
        res: TaskResource,
        region: String,
        parameters: String,
        timeout_in_seconds: Option<u64>,
        heartbeat_in_seconds: Option<u64>,
        /// `taskCredentials.roleArn` when the state has `Credentials`.
        #[serde(default)]
        task_credentials: Option<String>,
    },
    TaskStarted(TaskResource),
    TaskSubmitted {
        res: TaskResource,
        output: String,
    },
    TaskSucceeded {
        res: TaskResource,
        output: String,
    },
    TaskFailed(TaskResource, ErrorCause),
    TaskTimedOut(TaskResource, ErrorCause),
    TaskStartFailed(TaskResource, ErrorCause),
    TaskSubmitFailed(TaskResource, ErrorCause),
    TaskStateAborted,
    ActivityScheduled {
        resource: String,
        input: String,
        timeout_in_seconds: Option<u64>,
        heartbeat_in_seconds: Option<u64>,
    },
    ActivityStarted {
        worker_name: Option<String>,
    },
    ActivitySucceeded {
        output: String,
    },
    ActivityFailed(ErrorCause),
    ActivityTimedOut(ErrorCause),
    ActivityScheduleFailed(ErrorCause),
    LambdaFunctionScheduled {
        resource: String,
        input: String,
        timeout_in_seconds: Option<u64>,
        #[serde(default)]
        task_credentials: Option<String>,
    },
    LambdaFunctionStarted,
    LambdaFunctionSucceeded {
        output: String,
    },
    LambdaFunctionFailed(ErrorCause),
    LambdaFunctionTimedOut(ErrorCause),
    LambdaFunctionScheduleFailed(ErrorCause),
    LambdaFunctionStartFailed(ErrorCause),
    WaitStateAborted,
    ParallelStateStarted,
    ParallelStateSucceeded,
    ParallelStateFailed,
    ParallelStateAborted,
    MapStateStarted {
        length: u64,
    },
    MapStateSucceeded,
    MapStateFailed,
    MapStateAborted,
    MapIterationStarted {
        name: Arc<str>,
        index: u64,
    },
    MapIterationSucceeded {
        name: Arc<str>,
        index: u64,
    },
    MapIterationFailed {
        name: Arc<str>,
        index: u64,
    },
    MapIterationAborted {
        name: Arc<str>,
        index: u64,
    },
    MapRunStarted {
        map_run_arn: String,
    },
    MapRunSucceeded,
    MapRunFailed(ErrorCause),
    MapRunAborted,
    EvaluationFailed {
        error: String,
        cause: String,
        location: Option<String>,
        state: Arc<str>,
    },
}

impl EventKind {
    /// The AWS event type name, e.g. `PassStateEntered`.
    pub fn type_name(&self) -> String {
        use EventKind::*;
        let fixed = match self {
            ExecutionStarted { .. } => "ExecutionStarted",
            ExecutionSucceeded { .. } => "ExecutionSucceeded",
            ExecutionFailed(_) => "ExecutionFailed",
            ExecutionAborted(_) => "ExecutionAborted",
            ExecutionTimedOut(_) => "ExecutionTimedOut",
            ExecutionRedriven { .. } => "ExecutionRedriven",
            StateEntered { state_type, .. } => {
                return format!("{}StateEntered", state_type.as_str());
            }
            StateExited { state_type, .. } => return format!("{}StateExited", state_type.as_str()),
            TaskScheduled { .. } => "TaskScheduled",
            TaskStarted(_) => "TaskStarted",
            TaskSubmitted { .. } => "TaskSubmitted",
            TaskSucceeded { .. } => "TaskSucceeded",
            TaskFailed(..) => "TaskFailed",
            TaskTimedOut(..) => "TaskTimedOut",
            TaskStartFailed(..) => "TaskStartFailed",
            TaskSubmitFailed(..) => "TaskSubmitFailed",
            TaskStateAborted => "TaskStateAborted",
            ActivityScheduled { .. } => "ActivityScheduled",
            ActivityStarted { .. } => "ActivityStarted",
            ActivitySucceeded { .. } => "ActivitySucceeded",
            ActivityFailed(_) => "ActivityFailed",
            ActivityTimedOut(_) => "ActivityTimedOut",
            ActivityScheduleFailed(_) => "ActivityScheduleFailed",
            LambdaFunctionScheduled { .. } => "LambdaFunctionScheduled",
            LambdaFunctionStarted => "LambdaFunctionStarted",
            LambdaFunctionSucceeded { .. } => "LambdaFunctionSucceeded",
            LambdaFunctionFailed(_) => "LambdaFunctionFailed",
            LambdaFunctionTimedOut(_) => "LambdaFunctionTimedOut",
            LambdaFunctionScheduleFailed(_) => "LambdaFunctionScheduleFailed",
            LambdaFunctionStartFailed(_) => "LambdaFunctionStartFailed",
            WaitStateAborted => "WaitStateAborted",
            ParallelStateStarted => "ParallelStateStarted",
            ParallelStateSucceeded => "ParallelStateSucceeded",
            ParallelStateFailed => "ParallelStateFailed",
            ParallelStateAborted => "ParallelStateAborted",
            MapStateStarted { .. } => "MapStateStarted",
            MapStateSucceeded => "MapStateSucceeded",
            MapStateFailed => "MapStateFailed",
            MapStateAborted => "MapStateAborted",
            MapIterationStarted { .. } => "MapIterationStarted",
            MapIterationSucceeded { .. } => "MapIterationSucceeded",
            MapIterationFailed { .. } => "MapIterationFailed",
            MapIterationAborted { .. } => "MapIterationAborted",
            MapRunStarted { .. } => "MapRunStarted",
            MapRunSucceeded => "MapRunSucceeded",
            MapRunFailed(_) => "MapRunFailed",
            MapRunAborted => "MapRunAborted",
            EvaluationFailed { .. } => "EvaluationFailed",
        };
        fixed.to_string()
    }

    /// Whether this event closes the execution.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            EventKind::ExecutionSucceeded { .. }
                | EventKind::ExecutionFailed(_)
                | EventKind::ExecutionAborted(_)
                | EventKind::ExecutionTimedOut(_)
        )
    }
}

fn data_details(
    key: &str,
    text: &str,
    include_data: bool,
    details_key: &str,
) -> Map<String, Value> {
    let mut m = Map::new();
    if include_data {
        m.insert(key.to_string(), Value::String(text.to_string()));
    }
    m.insert(details_key.to_string(), json!({"truncated": false}));
    m
}

fn error_cause(ec: &ErrorCause) -> Map<String, Value> {
    let mut m = Map::new();
    if let Some(e) = &ec.error {
        m.insert("error".into(), Value::String(e.clone()));
    }
    if let Some(c) = &ec.cause {
        m.insert("cause".into(), Value::String(c.clone()));
    }
    m
}

fn res_map(r: &TaskResource) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "resourceType".into(),
        Value::String(r.resource_type.to_string()),
    );
    m.insert("resource".into(), Value::String(r.resource.to_string()));
    m
}

fn with(mut m: Map<String, Value>, extra: Map<String, Value>) -> Map<String, Value> {
    m.extend(extra);
    m
}

impl HistoryEvent {
    /// The event in AWS's `GetExecutionHistory` shape. `include_data` false drops inputs and
    /// outputs (`includeExecutionData: false`).
    pub fn to_json(&self, include_data: bool) -> Value {
        use EventKind::*;
        let mut out = Map::new();
        out.insert("timestamp".into(), json!(self.timestamp as f64 / 1000.0));
        out.insert("type".into(), Value::String(self.kind.type_name()));
        out.insert("id".into(), json!(self.id));
        out.insert("previousEventId".into(), json!(self.previous_event_id));
        let details: Option<(&str, Map<String, Value>)> = match &self.kind {
            ExecutionStarted {
                input,
                role_arn,
                state_machine_version_arn,
                state_machine_alias_arn,
            } => {
                let mut m = data_details("input", input, include_data, "inputDetails");
                m.insert("roleArn".into(), Value::String(role_arn.clone()));
                if let Some(v) = state_machine_version_arn {
                    m.insert("stateMachineVersionArn".into(), Value::String(v.clone()));
                }
                if let Some(a) = state_machine_alias_arn {
                    m.insert("stateMachineAliasArn".into(), Value::String(a.clone()));
                }
                Some(("executionStartedEventDetails", m))
            }
            ExecutionSucceeded { output } => Some((
                "executionSucceededEventDetails",
                data_details("output", output, include_data, "outputDetails"),
            )),
            ExecutionFailed(ec) => Some(("executionFailedEventDetails", error_cause(ec))),
            ExecutionAborted(ec) => Some(("executionAbortedEventDetails", error_cause(ec))),
            ExecutionTimedOut(ec) => Some(("executionTimedOutEventDetails", error_cause(ec))),
            ExecutionRedriven { redrive_count } => {
                let mut m = Map::new();
                m.insert("redriveCount".into(), json!(redrive_count));
                Some(("executionRedrivenEventDetails", m))
            }
            StateEntered { name, input, .. } => {
                let mut m = Map::new();
                m.insert("name".into(), Value::String(name.to_string()));
                m.extend(data_details("input", input, include_data, "inputDetails"));
                Some(("stateEnteredEventDetails", m))
            }
            StateExited {
                name,
                output,
                assigned_variables,
                ..
            } => {
                let mut m = Map::new();
                m.insert("name".into(), Value::String(name.to_string()));
                m.extend(data_details(
                    "output",
                    output,
                    include_data,
                    "outputDetails",
                ));
                if let Some(vars) = assigned_variables {
                    let mut vm = Map::new();
                    for (k, v) in vars {
                        vm.insert(k.clone(), Value::String(v.clone()));
                    }
                    m.insert("assignedVariables".into(), Value::Object(vm));
                    m.insert(
                        "assignedVariablesDetails".into(),
                        json!({"truncated": false}),
                    );
                }
                Some(("stateExitedEventDetails", m))
            }
            TaskScheduled {
                res,
                region,
                parameters,
                timeout_in_seconds,
                heartbeat_in_seconds,
                task_credentials,
            } => {
                let mut m = res_map(res);
                if let Some(r) = task_credentials {
                    m.insert("taskCredentials".into(), json!({"roleArn": r}));
                }
                m.insert("region".into(), Value::String(region.clone()));
                m.insert("parameters".into(), Value::String(parameters.clone()));
                if let Some(t) = timeout_in_seconds {
                    m.insert("timeoutInSeconds".into(), json!(t));
                }
                if let Some(h) = heartbeat_in_seconds {
                    m.insert("heartbeatInSeconds".into(), json!(h));
                }
                Some(("taskScheduledEventDetails", m))
            }
            TaskStarted(res) => Some(("taskStartedEventDetails", res_map(res))),
            TaskSubmitted { res, output } => Some((
                "taskSubmittedEventDetails",
                with(
                    res_map(res),
                    data_details("output", output, include_data, "outputDetails"),
                ),
            )),
            TaskSucceeded { res, output } => Some((
                "taskSucceededEventDetails",
                with(
                    res_map(res),
                    data_details("output", output, include_data, "outputDetails"),
                ),
            )),
            TaskFailed(res, ec) => Some((
                "taskFailedEventDetails",
                with(res_map(res), error_cause(ec)),
            )),
            TaskTimedOut(res, ec) => Some((
                "taskTimedOutEventDetails",
                with(res_map(res), error_cause(ec)),
            )),
            TaskStartFailed(res, ec) => Some((
                "taskStartFailedEventDetails",
                with(res_map(res), error_cause(ec)),
            )),
            TaskSubmitFailed(res, ec) => Some((
                "taskSubmitFailedEventDetails",
                with(res_map(res), error_cause(ec)),
            )),
            ActivityScheduled {
                resource,
                input,
                timeout_in_seconds,
                heartbeat_in_seconds,
            } => {
                let mut m = Map::new();
                m.insert("resource".into(), Value::String(resource.clone()));
                m.extend(data_details("input", input, include_data, "inputDetails"));
                if let Some(t) = timeout_in_seconds {
                    m.insert("timeoutInSeconds".into(), json!(t));
                }
                if let Some(h) = heartbeat_in_seconds {
                    m.insert("heartbeatInSeconds".into(), json!(h));
                }
                Some(("activityScheduledEventDetails", m))
            }
            ActivityStarted { worker_name } => {
                let mut m = Map::new();
                if let Some(w) = worker_name {
                    m.insert("workerName".into(), Value::String(w.clone()));
                }
                Some(("activityStartedEventDetails", m))
            }
            ActivitySucceeded { output } => Some((
                "activitySucceededEventDetails",
                data_details("output", output, include_data, "outputDetails"),
            )),
            ActivityFailed(ec) => Some(("activityFailedEventDetails", error_cause(ec))),
            ActivityTimedOut(ec) => Some(("activityTimedOutEventDetails", error_cause(ec))),
            ActivityScheduleFailed(ec) => {
                Some(("activityScheduleFailedEventDetails", error_cause(ec)))
            }
            LambdaFunctionScheduled {
                resource,
                input,
                timeout_in_seconds,
                task_credentials,
            } => {
                let mut m = Map::new();
                if let Some(r) = task_credentials {
                    m.insert("taskCredentials".into(), json!({"roleArn": r}));
                }
                m.insert("resource".into(), Value::String(resource.clone()));
                m.extend(data_details("input", input, include_data, "inputDetails"));
                if let Some(t) = timeout_in_seconds {
                    m.insert("timeoutInSeconds".into(), json!(t));
                }
                Some(("lambdaFunctionScheduledEventDetails", m))
            }
            LambdaFunctionStarted => None,
            LambdaFunctionSucceeded { output } => Some((
                "lambdaFunctionSucceededEventDetails",
                data_details("output", output, include_data, "outputDetails"),
            )),
            LambdaFunctionFailed(ec) => Some(("lambdaFunctionFailedEventDetails", error_cause(ec))),
            LambdaFunctionTimedOut(ec) => {
                Some(("lambdaFunctionTimedOutEventDetails", error_cause(ec)))
            }
            LambdaFunctionScheduleFailed(ec) => {
                Some(("lambdaFunctionScheduleFailedEventDetails", error_cause(ec)))
            }
            LambdaFunctionStartFailed(ec) => {
                Some(("lambdaFunctionStartFailedEventDetails", error_cause(ec)))
            }
            MapStateStarted { length } => {
                let mut m = Map::new();
                m.insert("length".into(), json!(length));
                Some(("mapStateStartedEventDetails", m))
            }
            MapIterationStarted { name, index } => {
                Some(("mapIterationStartedEventDetails", iteration(name, *index)))
            }
            MapIterationSucceeded { name, index } => {
                Some(("mapIterationSucceededEventDetails", iteration(name, *index)))
            }
            MapIterationFailed { name, index } => {
                Some(("mapIterationFailedEventDetails", iteration(name, *index)))
            }
            MapIterationAborted { name, index } => {
                Some(("mapIterationAbortedEventDetails", iteration(name, *index)))
            }
            MapRunStarted { map_run_arn } => {
                let mut m = Map::new();
                m.insert("mapRunArn".into(), Value::String(map_run_arn.clone()));
                Some(("mapRunStartedEventDetails", m))
            }
            MapRunFailed(ec) => Some(("mapRunFailedEventDetails", error_cause(ec))),
            EvaluationFailed {
                error,
                cause,
                location,
                state,
            } => {
                let mut m = Map::new();
                m.insert("error".into(), Value::String(error.clone()));
                m.insert("cause".into(), Value::String(cause.clone()));
                if let Some(l) = location {
                    m.insert("location".into(), Value::String(l.clone()));
                }
                m.insert("state".into(), Value::String(state.to_string()));
                Some(("evaluationFailedEventDetails", m))
            }
            TaskStateAborted
            | WaitStateAborted
            | ParallelStateStarted
            | ParallelStateSucceeded
            | ParallelStateFailed
            | ParallelStateAborted
            | MapStateSucceeded
            | MapStateFailed
            | MapStateAborted
            | MapRunSucceeded
            | MapRunAborted => None,
        };
        if let Some((key, m)) = details {
            out.insert(key.to_string(), Value::Object(m));
        }
        Value::Object(out)
    }
}

fn iteration(name: &str, index: u64) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("name".into(), Value::String(name.to_string()));
    m.insert("index".into(), json!(index));
    m
}
