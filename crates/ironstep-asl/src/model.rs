//! The compiled definition: every state indexed, every path, template, intrinsic and JSONata
//! expression parsed once. The interpreter never sees raw definition JSON.

use std::collections::HashMap;
use std::sync::Arc;

use ironstep_jsonata::{Expression, Template as JsonataTemplate};
use ironstep_query::path::Path;
use ironstep_query::template::{Expr, Template};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::resource::Resource;

/// Index of a state in [`Definition::states`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StateId(pub u32);

/// Index of a state list (the top level, a Parallel branch or a Map processor) in
/// [`Definition::scopes`]. Scope 0 is the top level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ScopeId(pub u32);

impl ScopeId {
    /// The top-level state list.
    pub const TOP: ScopeId = ScopeId(0);
}

/// The query language of a state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum QueryLanguage {
    /// The default.
    #[default]
    JsonPath,
    /// `"QueryLanguage": "JSONata"`.
    Jsonata,
}

/// A compiled state machine definition.
#[derive(Debug)]
pub struct Definition {
    /// `Comment`.
    pub comment: Option<String>,
    /// `Version`.
    pub version: Option<String>,
    /// Execution-level `TimeoutSeconds`.
    pub timeout_seconds: Option<u64>,
    /// Top-level `QueryLanguage`.
    pub query_language: QueryLanguage,
    /// Every state of the machine, nested ones included.
    pub states: Vec<State>,
    /// Every state list; `scopes[0]` is the top level.
    pub scopes: Vec<Scope>,
    /// State names are unique across the whole machine.
    pub by_name: HashMap<Arc<str>, StateId>,
}

impl Definition {
    /// The state with this id.
    pub fn state(&self, id: StateId) -> &State {
        &self.states[id.0 as usize]
    }

    /// The scope with this id.
    pub fn scope(&self, id: ScopeId) -> &Scope {
        &self.scopes[id.0 as usize]
    }

    /// Look a state up by name.
    pub fn state_named(&self, name: &str) -> Option<StateId> {
        self.by_name.get(name).copied()
    }

    /// Whether any state uses a resource with this pattern (Express rejects some).
    pub fn task_resources(&self) -> impl Iterator<Item = (&State, &Resource)> {
        self.states.iter().filter_map(|s| match &s.kind {
            StateKind::Task(t) => Some((s, &t.resource)),
            _ => None,
        })
    }
}

/// A state list: the top level, one Parallel branch, or one Map processor.
#[derive(Debug)]
pub struct Scope {
    /// The first state.
    pub start_at: StateId,
    /// The Parallel or Map state that owns this list (None for the top level).
    pub owner: Option<StateId>,
    /// The states in this list, in definition order.
    pub states: Vec<StateId>,
}

/// One state.
#[derive(Debug)]
pub struct State {
    /// The unique name.
    pub name: Arc<str>,
    /// The list it belongs to.
    pub scope: ScopeId,
    /// Its effective query language.
    pub query_language: QueryLanguage,
    /// The JSON pointer of the state in the definition (`/States/A/Branches[0]/States/B`).
    pub location: String,
    /// Type-specific fields.
    pub kind: StateKind,
}

impl State {
    /// The event prefix of the type (`Pass`, `Task`, ...), used in history event names.
    pub fn type_name(&self) -> &'static str {
        match &self.kind {
            StateKind::Pass(_) => "Pass",
            StateKind::Task(_) => "Task",
            StateKind::Choice(_) => "Choice",
            StateKind::Wait(_) => "Wait",
            StateKind::Succeed(_) => "Succeed",
            StateKind::Fail(_) => "Fail",
            StateKind::Parallel(_) => "Parallel",
            StateKind::Map(_) => "Map",
        }
    }
}

/// Where a state goes when it is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Transition {
    /// `Next`.
    Next(StateId),
    /// `End: true`.
    End,
}

/// Type-specific fields of a state.
#[derive(Debug)]
#[allow(missing_docs)]
pub enum StateKind {
    Pass(Pass),
    Task(Box<Task>),
    Choice(Choice),
    Wait(Wait),
    Succeed(Succeed),
    Fail(Fail),
    Parallel(Box<Parallel>),
    Map(Box<Map>),
}

/// `InputPath`/`OutputPath`/`ResultPath`: absent, explicitly `null`, or a path.
#[derive(Debug, Default)]
pub enum PathField {
    /// Absent: `$`.
    #[default]
    Default,
    /// `null`: for InputPath/OutputPath the value becomes `{}`, for ResultPath the result is discarded.
    Null,
    /// A path.
    Path(Path),
}

/// A payload that is either a JSONPath template (`Parameters`, `ResultSelector`, `ItemSelector`)
/// or a JSONata one (`Arguments`, `Output`, `ItemSelector`).
#[derive(Debug)]
pub enum Payload {
    /// JSONPath: `.$` keys.
    JsonPath(Template),
    /// JSONata: `{% %}` strings.
    Jsonata(JsonataTemplate),
}

/// The data-flow fields shared by most states. JSONPath states use the path fields, JSONata states
/// use `output` (`Arguments` lives on the states that have it).
#[derive(Debug, Default)]
pub struct DataFlow {
    /// `InputPath` (JSONPath).
    pub input_path: PathField,
    /// `OutputPath` (JSONPath).
    pub output_path: PathField,
    /// `ResultPath` (JSONPath; Pass, Task, Parallel, Map).
    pub result_path: PathField,
    /// `Output` (JSONata).
    pub output: Option<JsonataTemplate>,
    /// `Assign`.
    pub assign: Option<Payload>,
}

/// `Pass`.
#[derive(Debug)]
pub struct Pass {
    /// Where to go next.
    pub next: Transition,
    /// Data flow.
    pub flow: DataFlow,
    /// `Parameters` (JSONPath).
    pub parameters: Option<Template>,
    /// `Result` (JSONPath): a literal.
    pub result: Option<Value>,
}

/// A number-valued field given literally, by a path, or by a JSONata expression
/// (`TimeoutSeconds`/`TimeoutSecondsPath`, `MaxConcurrency`/`MaxConcurrencyPath`, ...).
#[derive(Debug)]
pub enum NumberField {
    /// A literal.
    Literal(f64),
    /// A reference path (`...Path`).
    Path(Path),
    /// A JSONata expression.
    Jsonata(Expression),
}

/// `Task`.
#[derive(Debug)]
pub struct Task {
    /// Where to go next.
    pub next: Transition,
    /// Data flow.
    pub flow: DataFlow,
    /// `Resource`, classified.
    pub resource: Resource,
    /// `Resource` as written.
    pub resource_text: String,
    /// `Parameters` or `Arguments`.
    pub parameters: Option<Payload>,
    /// `ResultSelector` (JSONPath).
    pub result_selector: Option<Template>,
    /// `TimeoutSeconds` / `TimeoutSecondsPath`.
    pub timeout: Option<NumberField>,
    /// `HeartbeatSeconds` / `HeartbeatSecondsPath`.
    pub heartbeat: Option<NumberField>,
    /// `Credentials`, kept as a template; ironstep does not assume roles.
    pub credentials: Option<Payload>,
    /// `Retry`.
    pub retry: Vec<Retrier>,
    /// `Catch`.
    pub catch: Vec<Catcher>,
}

/// `Choice`.
#[derive(Debug)]
pub struct Choice {
    /// Data flow (no ResultPath).
    pub flow: DataFlow,
    /// `Choices`.
    pub choices: Vec<ChoiceRule>,
    /// `Default`.
    pub default: Option<StateId>,
}

/// A top-level Choice rule.
#[derive(Debug)]
pub struct ChoiceRule {
    /// The test.
    pub condition: Condition,
    /// Where to go when it matches.
    pub next: StateId,
    /// The rule's own `Assign`.
    pub assign: Option<Payload>,
    /// The rule's own `Output` (JSONata).
    pub output: Option<JsonataTemplate>,
}

/// A Choice condition.
#[derive(Debug)]
pub enum Condition {
    /// `And`.
    And(Vec<Condition>),
    /// `Or`.
    Or(Vec<Condition>),
    /// `Not`.
    Not(Box<Condition>),
    /// `Variable` with one comparison operator.
    Compare {
        /// `Variable`.
        variable: Path,
        /// The operator.
        op: ComparisonOp,
        /// Its operand.
        operand: Operand,
    },
    /// JSONata `Condition`.
    Jsonata(Expression),
}

/// Choice comparison operators (the `...Path` variants share the operator and take a path operand).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum ComparisonOp {
    StringEquals,
    StringLessThan,
    StringGreaterThan,
    StringLessThanEquals,
    StringGreaterThanEquals,
    StringMatches,
    NumericEquals,
    NumericLessThan,
    NumericGreaterThan,
    NumericLessThanEquals,
    NumericGreaterThanEquals,
    BooleanEquals,
    TimestampEquals,
    TimestampLessThan,
    TimestampGreaterThan,
    TimestampLessThanEquals,
    TimestampGreaterThanEquals,
    IsNull,
    IsPresent,
    IsNumeric,
    IsString,
    IsBoolean,
    IsTimestamp,
}

/// The operand of a comparison.
#[derive(Debug)]
pub enum Operand {
    /// A literal of the operator's type.
    Literal(Value),
    /// A `...Path` operand.
    Path(Path),
}

/// `Wait`.
#[derive(Debug)]
pub struct Wait {
    /// Where to go next.
    pub next: Transition,
    /// Data flow (no ResultPath).
    pub flow: DataFlow,
    /// How long.
    pub duration: WaitDuration,
}

/// The one duration field a Wait state has.
#[derive(Debug)]
pub enum WaitDuration {
    /// `Seconds` (a literal).
    Seconds(u64),
    /// `Timestamp` (a literal, kept as written; parsed when the state runs).
    Timestamp(String),
    /// `SecondsPath`.
    SecondsPath(Path),
    /// `TimestampPath`.
    TimestampPath(Path),
    /// JSONata `Seconds`.
    SecondsExpr(Expression),
    /// JSONata `Timestamp`.
    TimestampExpr(Expression),
}

/// `Succeed`.
#[derive(Debug)]
pub struct Succeed {
    /// Data flow (InputPath/OutputPath or Output).
    pub flow: DataFlow,
}

/// A string-valued Fail field.
#[derive(Debug)]
pub enum FailField {
    /// `Error`/`Cause` literal.
    Literal(String),
    /// `ErrorPath`/`CausePath`: a path or an intrinsic function.
    Expr(Expr),
    /// JSONata `Error`/`Cause`.
    Jsonata(Expression),
}

/// `Fail`.
#[derive(Debug)]
pub struct Fail {
    /// `Error` / `ErrorPath`.
    pub error: Option<FailField>,
    /// `Cause` / `CausePath`.
    pub cause: Option<FailField>,
}

/// `Parallel`.
#[derive(Debug)]
pub struct Parallel {
    /// Where to go next.
    pub next: Transition,
    /// Data flow.
    pub flow: DataFlow,
    /// `Branches`, each a scope.
    pub branches: Vec<ScopeId>,
    /// `Parameters` or `Arguments`.
    pub parameters: Option<Payload>,
    /// `ResultSelector` (JSONPath).
    pub result_selector: Option<Template>,
    /// `Retry`.
    pub retry: Vec<Retrier>,
    /// `Catch`.
    pub catch: Vec<Catcher>,
}

/// How a Map runs its iterations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapMode {
    /// In the parent's history.
    Inline,
    /// As child executions behind a Map Run (ironstep runs them in process and records the
    /// Map Run events).
    Distributed,
}

/// Where a Map takes its items from.
#[derive(Debug)]
pub enum Items {
    /// `ItemsPath` (default `$`).
    Path(Option<Path>),
    /// JSONata `Items`: an expression or a literal array.
    Jsonata(JsonataTemplate),
    /// JSONata without `Items`: the state input, which must be an array.
    Input,
}

/// `Map`.
#[derive(Debug)]
pub struct Map {
    /// Where to go next.
    pub next: Transition,
    /// Data flow.
    pub flow: DataFlow,
    /// `ItemProcessor` / `Iterator`.
    pub processor: ScopeId,
    /// `ProcessorConfig.Mode`.
    pub mode: MapMode,
    /// Items.
    pub items: Items,
    /// `ItemSelector` (or the legacy `Parameters`).
    pub item_selector: Option<Payload>,
    /// `ResultSelector` (JSONPath).
    pub result_selector: Option<Template>,
    /// `MaxConcurrency` / `MaxConcurrencyPath` (0 = unlimited).
    pub max_concurrency: Option<NumberField>,
    /// `ToleratedFailurePercentage` / `...Path`.
    pub tolerated_failure_percentage: Option<NumberField>,
    /// `ToleratedFailureCount` / `...Path`.
    pub tolerated_failure_count: Option<NumberField>,
    /// `Label`.
    pub label: Option<String>,
    /// `ItemReader` (kept raw; reading from S3 is not supported locally).
    pub item_reader: Option<Value>,
    /// `ItemBatcher` (Distributed Map only).
    pub item_batcher: Option<ItemBatcher>,
    /// `ResultWriter` (kept raw).
    pub result_writer: Option<Value>,
    /// `Retry`.
    pub retry: Vec<Retrier>,
    /// `Catch`.
    pub catch: Vec<Catcher>,
}

/// `ItemBatcher` of a Distributed Map: each child gets `{"BatchInput": ..., "Items": [...]}`
/// instead of one item.
#[derive(Debug)]
pub struct ItemBatcher {
    /// `MaxItemsPerBatch` / `MaxItemsPerBatchPath`.
    pub max_items: Option<NumberField>,
    /// `MaxInputBytesPerBatch` / `MaxInputBytesPerBatchPath`.
    pub max_bytes: Option<NumberField>,
    /// `BatchInput`: evaluated once, against the Map's effective input.
    pub batch_input: Option<Payload>,
}

/// `JitterStrategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Jitter {
    /// No jitter (default).
    #[default]
    None,
    /// Random delay in `[0, computed]`.
    Full,
}

/// One `Retry` entry.
#[derive(Debug)]
pub struct Retrier {
    /// `ErrorEquals`.
    pub error_equals: Vec<String>,
    /// `IntervalSeconds` (default 1).
    pub interval_seconds: u64,
    /// `MaxAttempts` (default 3).
    pub max_attempts: u64,
    /// `BackoffRate` (default 2.0).
    pub backoff_rate: f64,
    /// `MaxDelaySeconds`.
    pub max_delay_seconds: Option<u64>,
    /// `JitterStrategy`.
    pub jitter: Jitter,
}

/// One `Catch` entry.
#[derive(Debug)]
pub struct Catcher {
    /// `ErrorEquals`.
    pub error_equals: Vec<String>,
    /// `Next`.
    pub next: StateId,
    /// `ResultPath` (JSONPath).
    pub result_path: PathField,
    /// `Output` (JSONata).
    pub output: Option<JsonataTemplate>,
    /// `Assign`.
    pub assign: Option<Payload>,
}

/// Whether an `ErrorEquals` list matches an error name, by ASL's rules: `States.ALL` matches
/// everything except `States.Runtime` (which is not catchable), `States.TaskFailed` matches
/// everything except `States.Timeout` and `States.Runtime`, and heartbeat expiry (recorded by AWS
/// as `States.Timeout`) is also matched by `States.HeartbeatTimeout`.
pub fn error_matches(error_equals: &[String], error: &str, heartbeat_expiry: bool) -> bool {
    // States.Runtime cannot be retried or caught, not even by naming it (recorded).
    if error == "States.Runtime" {
        return false;
    }
    error_equals.iter().any(|e| match e.as_str() {
        "States.ALL" => error != "States.Runtime",
        "States.TaskFailed" => {
            error != "States.Timeout" && error != "States.Runtime" && !error.is_empty()
        }
        "States.HeartbeatTimeout" => heartbeat_expiry || error == "States.HeartbeatTimeout",
        other => other == error,
    })
}
