//! Records kept by a [`crate::Store`].

use serde::{Deserialize, Serialize};

/// Epoch milliseconds.
pub type Millis = i64;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The key is taken.
    #[error("already exists: {0}")]
    AlreadyExists(String),
    /// The record to change does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The backend failed (I/O, corruption, a full disk...).
    #[error("storage failure: {0}")]
    Backend(String),
    /// The store is closed or shutting down.
    #[error("the store is closed")]
    Closed,
}

/// A state machine (its current revision).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateMachineRecord {
    /// ARN.
    pub arn: String,
    /// Name.
    pub name: String,
    /// `STANDARD` or `EXPRESS`.
    pub machine_type: String,
    /// The definition text as given.
    pub definition: String,
    /// Role ARN.
    pub role_arn: String,
    /// `loggingConfiguration` as JSON.
    pub logging_configuration: Option<serde_json::Value>,
    /// `tracingConfiguration` as JSON.
    pub tracing_configuration: Option<serde_json::Value>,
    /// `encryptionConfiguration` as JSON.
    pub encryption_configuration: Option<serde_json::Value>,
    /// Created at.
    pub creation_date: Millis,
    /// Last updated at.
    pub update_date: Millis,
    /// Changes with every update.
    pub revision_id: String,
    /// `ACTIVE` or `DELETING`.
    pub status: String,
    /// Description of the latest revision (from `versionDescription`).
    pub description: Option<String>,
    /// The next version number to publish.
    pub next_version: u64,
}

/// A published version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionRecord {
    /// Version ARN (`...:stateMachine:name:3`).
    pub arn: String,
    /// The state machine ARN.
    pub state_machine_arn: String,
    /// The number.
    pub version: u64,
    /// Definition of that revision.
    pub definition: String,
    /// Role of that revision.
    pub role_arn: String,
    /// Revision id it was published from.
    pub revision_id: String,
    /// `description`.
    pub description: Option<String>,
    /// Created at.
    pub creation_date: Millis,
}

/// An alias.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AliasRecord {
    /// Alias ARN (`...:stateMachine:name:alias`).
    pub arn: String,
    /// The state machine ARN.
    pub state_machine_arn: String,
    /// Name.
    pub name: String,
    /// `description`.
    pub description: Option<String>,
    /// `(version ARN, weight)` pairs.
    pub routing: Vec<(String, u32)>,
    /// Created at.
    pub creation_date: Millis,
    /// Updated at.
    pub update_date: Millis,
}

/// An activity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityRecord {
    /// ARN.
    pub arn: String,
    /// Name.
    pub name: String,
    /// Created at.
    pub creation_date: Millis,
    /// `encryptionConfiguration` as JSON.
    pub encryption_configuration: Option<serde_json::Value>,
}

/// An execution's summary (what DescribeExecution and ListExecutions show).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionRecord {
    /// ARN.
    pub arn: String,
    /// The unqualified state machine ARN.
    pub state_machine_arn: String,
    /// Name.
    pub name: String,
    /// `RUNNING`, `SUCCEEDED`, `FAILED`, `TIMED_OUT`, `ABORTED`.
    pub status: String,
    /// Started at.
    pub start_date: Millis,
    /// Stopped at.
    pub stop_date: Option<Millis>,
    /// The input text as given.
    pub input: String,
    /// Output text (SUCCEEDED).
    pub output: Option<String>,
    /// Error (FAILED/ABORTED/TIMED_OUT).
    pub error: Option<String>,
    /// Cause.
    pub cause: Option<String>,
    /// Version ARN it was started through.
    pub version_arn: Option<String>,
    /// Alias ARN it was started through.
    pub alias_arn: Option<String>,
    /// The definition it runs (captured at start: updates don't affect running executions).
    pub definition: String,
    /// The role it runs with.
    pub role_arn: String,
    /// X-Ray trace header.
    pub trace_header: Option<String>,
    /// The parent execution (from `AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID`).
    pub parent_arn: Option<String>,
    /// The Map Run it belongs to, if any.
    pub map_run_arn: Option<String>,
    /// Redrive count.
    pub redrive_count: u32,
    /// Number of history events so far.
    pub event_count: u64,
    /// When it was last redriven.
    #[serde(default)]
    pub redrive_date: Option<Millis>,
}

/// One history event, already rendered in AWS's JSON shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    /// Event id.
    pub id: u64,
    /// The event JSON text.
    pub json: String,
}

/// A timer row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimerRecord {
    /// The execution.
    pub execution_arn: String,
    /// The timer within it.
    pub timer_id: u64,
    /// When it fires (already scaled by the runtime).
    pub due: Millis,
}

/// A task handed out and not yet answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DispatchRecord {
    /// The execution.
    pub execution_arn: String,
    /// The task within it.
    pub task_id: u64,
    /// The runtime's description of the task (opaque here).
    pub payload: Vec<u8>,
}

/// One execution step, committed atomically.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mutation {
    /// The execution.
    pub execution_arn: String,
    /// New status (`RUNNING` while open).
    pub status: String,
    /// Set when it closes.
    pub stop_date: Option<Millis>,
    /// Output text (SUCCEEDED).
    pub output: Option<String>,
    /// Error name.
    pub error: Option<String>,
    /// Cause.
    pub cause: Option<String>,
    /// The new interpreter snapshot; `None` once closed (the snapshot is dropped).
    pub snapshot: Option<Vec<u8>>,
    /// Events to append.
    pub events: Vec<StoredEvent>,
    /// Timers to add.
    pub timers_put: Vec<TimerRecord>,
    /// Timers to remove (by timer id within this execution).
    pub timers_delete: Vec<u64>,
    /// Tasks handed out.
    pub dispatch_put: Vec<DispatchRecord>,
    /// Tasks answered.
    pub dispatch_delete: Vec<u64>,
    /// On close: delete every timer and dispatch row of the execution.
    pub clear_all: bool,
    /// RedriveExecution at this time: the execution is RUNNING again; its stop date, output,
    /// error and cause are cleared, its redrive count goes up by one and its redrive date is set
    /// (applied before the fields above).
    pub redrive: Option<Millis>,
}

/// Which executions to list.
#[derive(Debug, Clone, Default)]
pub struct ExecutionFilter {
    /// Only this state machine.
    pub state_machine_arn: Option<String>,
    /// Only executions started through this version or alias ARN.
    pub version_or_alias_arn: Option<String>,
    /// Only this status.
    pub status: Option<String>,
    /// Only children of this execution.
    pub parent_arn: Option<String>,
    /// Only this Map Run.
    pub map_run_arn: Option<String>,
    /// Resume after this (start_date, arn) position of a previous page.
    pub after: Option<(Millis, String)>,
    /// Page size.
    pub limit: usize,
}
