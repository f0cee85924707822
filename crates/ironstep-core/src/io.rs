//! What goes into the interpreter ([`Input`]) and what comes out ([`Step`], [`Command`]).

use std::sync::Arc;

use ironstep_asl::Resource;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::event::{HistoryEvent, Millis};

/// Identifies one task attempt within an execution: the id of the event that scheduled it
/// (`TaskScheduled`, `ActivityScheduled` or `LambdaFunctionScheduled`). A result carrying a
/// task id that is no longer awaited is a stale duplicate and is ignored.
pub type TaskId = u64;

/// Identifies one timer within an execution.
pub type TimerId = u64;

/// Something that happened outside the interpreter and that it must react to.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Input {
    /// An activity worker picked the task up (`ActivityStarted`).
    TaskStarted {
        /// The task.
        task_id: TaskId,
        /// `workerName` of GetActivityTask.
        worker_name: Option<String>,
    },
    /// A `.sync` or `.waitForTaskToken` task was submitted; `output` is the submit API's answer.
    TaskSubmitted {
        /// The task.
        task_id: TaskId,
        /// The API response (`TaskSubmitted.output`).
        output: Value,
    },
    /// The task produced its result.
    TaskSucceeded {
        /// The task.
        task_id: TaskId,
        /// The raw result.
        output: Value,
    },
    /// The task failed.
    TaskFailed {
        /// The task.
        task_id: TaskId,
        /// The error name (`None` when e.g. SendTaskFailure sent none).
        error: Option<String>,
        /// The cause.
        cause: Option<String>,
    },
    /// A heartbeat arrived for a task with `HeartbeatSeconds` (resets its heartbeat timer).
    Heartbeat {
        /// The task.
        task_id: TaskId,
    },
    /// A timer set by [`Command::StartTimer`] is due.
    TimerFired {
        /// The timer.
        timer_id: TimerId,
    },
    /// `UpdateMapRun` of a running Map Run.
    UpdateMapRun {
        /// The Map Run.
        map_run_arn: String,
        /// New `MaxConcurrency` (0 = unlimited).
        max_concurrency: Option<u64>,
        /// New `ToleratedFailureCount`.
        tolerated_failure_count: Option<u64>,
        /// New `ToleratedFailurePercentage`.
        tolerated_failure_percentage: Option<f64>,
    },
    /// `StopExecution`.
    Stop {
        /// `error`.
        error: Option<String>,
        /// `cause`.
        cause: Option<String>,
    },
}

/// A task the runtime must carry out. The identity (`execution`, `task_id`) makes a repeated
/// dispatch after a crash recognisable.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskRequest {
    /// The task attempt.
    pub task_id: TaskId,
    /// The Task state's name.
    pub state_name: Arc<str>,
    /// The resource as written in the definition.
    pub resource: String,
    /// The effective task input (after `Parameters`/`Arguments`).
    pub parameters: Value,
    /// The task token for `.waitForTaskToken` resources and activities.
    pub token: Option<String>,
    /// `TimeoutSeconds` in effect (for integrations that pass it on, e.g. Lambda).
    pub timeout_seconds: Option<u64>,
    /// `HeartbeatSeconds` in effect.
    pub heartbeat_seconds: Option<u64>,
    /// 0 for the first attempt, then one more per retry.
    pub attempt: u32,
}

impl TaskRequest {
    /// The classified resource.
    pub fn classified(&self) -> Option<Resource> {
        Resource::parse(&self.resource).ok()
    }
}

/// A side effect for the runtime to carry out after the step's events are committed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Command {
    /// Run a task; report back with [`Input::TaskSucceeded`] / [`Input::TaskFailed`] (and
    /// [`Input::TaskSubmitted`] / [`Input::TaskStarted`] where they apply).
    ScheduleTask(TaskRequest),
    /// Best-effort cancellation of a running task (a `.sync` child is stopped).
    CancelTask {
        /// The task.
        task_id: TaskId,
        /// Its resource.
        resource: String,
        /// What the task reported on submission (for `.sync` children: the child's ARN).
        submitted: Option<Value>,
    },
    /// Call back with [`Input::TimerFired`] at `due` (virtual time; the runtime may scale waits).
    StartTimer {
        /// The timer.
        timer_id: TimerId,
        /// When.
        due: Millis,
        /// What it is for.
        kind: TimerKind,
    },
    /// Forget a timer.
    CancelTimer {
        /// The timer.
        timer_id: TimerId,
    },
}

/// Why a timer exists. The runtime scales `Wait` and `Retry` delays when asked to
/// (`--wait-scale`), never timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimerKind {
    /// A Wait state.
    Wait,
    /// A retry back-off.
    Retry,
    /// A task's `TimeoutSeconds`.
    TaskTimeout,
    /// A task's `HeartbeatSeconds`.
    Heartbeat,
    /// The execution's `TimeoutSeconds`.
    ExecutionTimeout,
}

/// How an execution ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Outcome {
    /// `SUCCEEDED` with its output.
    Succeeded(Value),
    /// `FAILED`.
    Failed {
        /// Error name.
        error: Option<String>,
        /// Cause.
        cause: Option<String>,
    },
    /// `TIMED_OUT`.
    TimedOut {
        /// Error name.
        error: Option<String>,
        /// Cause.
        cause: Option<String>,
    },
    /// `ABORTED`.
    Aborted {
        /// Error name.
        error: Option<String>,
        /// Cause.
        cause: Option<String>,
    },
}

impl Outcome {
    /// AWS's status string.
    pub fn status(&self) -> &'static str {
        match self {
            Outcome::Succeeded(_) => "SUCCEEDED",
            Outcome::Failed { .. } => "FAILED",
            Outcome::TimedOut { .. } => "TIMED_OUT",
            Outcome::Aborted { .. } => "ABORTED",
        }
    }
}

/// The result of handling one input: events to append, commands to run, and the outcome if
/// the execution closed. Events, the execution snapshot, timers and commands are committed
/// together by the runtime.
#[derive(Debug, Default)]
pub struct Step {
    /// New history events, in order.
    pub events: Vec<HistoryEvent>,
    /// Side effects, in order.
    pub commands: Vec<Command>,
    /// Set when the execution closed in this step.
    pub outcome: Option<Outcome>,
    /// How many state transitions (state entries) this step made; for metrics.
    pub transitions: u64,
    /// The Map Runs this step started, advanced or finished (for DescribeMapRun).
    pub map_runs: Vec<crate::interp::MapRunProgress>,
    /// The input changed nothing (a stale duplicate, an answer for a task no longer awaited,
    /// anything after the execution closed): there is nothing to commit.
    pub stale: bool,
}
