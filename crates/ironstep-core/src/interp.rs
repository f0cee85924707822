//! The interpreter: an execution's state and the deterministic function that advances it.
//!
//! An execution is a tree of *frames*: the top-level state list, each running Parallel branch
//! and each running Map iteration. Frames that can make progress sit in a FIFO run queue; each
//! turn of the loop advances one frame by one micro-step (enter a state, or leave it). A frame
//! that waits for the outside world (a task result, a timer) leaves the queue until an
//! [`Input`] wakes it. Processing the queue round-robin interleaves concurrent branches the way
//! AWS does (every branch enters its first state before any leaves it).
//!
//! Everything here is pure: time (`now`), randomness ([`Entropy`]) and the compiled
//! [`Definition`] are arguments; the result of a call is a [`Step`] of events and commands.

use std::collections::VecDeque;
use std::sync::Arc;

use ironstep_asl::model::*;
use ironstep_asl::{Pattern, Resource};
use ironstep_query::Entropy;
use serde::{Deserialize, Serialize};
use serde_json::{Map as JsonMap, Value};

use crate::context::{ExecutionInfo, StateContext};
use crate::error::{Failure, StateError, state_prefix};
use crate::eval::{self, Env, LazyContext};
use crate::event::*;
use crate::io::*;
use crate::json;

/// Variables a state assigns (`Assign`), in definition order.
type Assignments = Vec<(String, Value)>;

/// AWS's history limit for Standard executions; event 25,000 is the `ExecutionFailed`.
pub const HISTORY_LIMIT: u64 = 25_000;

/// Bytes of variables an execution may store (AWS: 10 MiB).
pub const VARIABLES_LIMIT: usize = 10 * 1024 * 1024;

/// The payload limit for inputs, outputs and results (256 KiB, UTF-8 bytes).
pub const PAYLOAD_LIMIT: usize = 262_144;

/// An execution's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// Still running.
    Running,
    /// Closed: see [`Execution::outcome`].
    Closed,
}

/// The state of a running Map Run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapRunProgress {
    /// Its ARN.
    pub map_run_arn: String,
    /// `RUNNING`, `SUCCEEDED`, `FAILED` or `ABORTED`.
    pub status: String,
    /// Items.
    pub total: u64,
    /// Iterations running.
    pub running: u64,
    /// Iterations succeeded.
    pub succeeded: u64,
    /// Iterations failed.
    pub failed: u64,
    /// Current `MaxConcurrency` (0 = unlimited).
    pub max_concurrency: u64,
    /// Current `ToleratedFailureCount`.
    pub tolerated_failure_count: Option<u64>,
    /// Current `ToleratedFailurePercentage`.
    pub tolerated_failure_percentage: Option<f64>,
}

/// Options fixed for the life of an execution.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Options {
    /// Record history events (Standard executions, `ironstep run --history`). Express
    /// executions skip them: AWS keeps no history for Express, and building the JSON texts is
    /// most of the cost of a Pass state.
    pub record_history: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            record_history: true,
        }
    }
}

/// A running (or closed) execution. Serializable: the runtime snapshots it after each step.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Execution {
    info: ExecutionInfo,
    options: Options,
    status: Status,
    outcome: Option<Outcome>,
    next_event_id: u64,
    last_event_id: u64,
    next_timer_id: u64,
    frames: Vec<Option<Frame>>,
    generations: Vec<u32>,
    free: Vec<u32>,
    queue: VecDeque<(u32, u32)>,
    execution_timer: Option<TimerId>,
    history_limit_hit: bool,
    /// Where a redrive re-enters the workflow (the top-level state that was running when the
    /// execution failed, timed out or was stopped), with the top-level variables.
    #[serde(default)]
    redrive_point: Option<RedrivePoint>,
    /// Counts `start`/`handle` calls, to tell work finished within one call from work that
    /// waited for the outside world.
    #[serde(default)]
    calls: u64,
    /// The results a redriven Parallel or Map keeps, used by its first attempt only.
    #[serde(default)]
    redrive_results: Option<(StateId, Vec<Option<Value>>)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RedrivePoint {
    state: StateId,
    input: Value,
    vars: JsonMap<String, Value>,
    /// A Parallel's branch results or a Map's iteration results at the failure: a redrive
    /// runs only the slots without one (the failed or aborted branches and iterations).
    #[serde(default)]
    results: Option<Vec<Option<Value>>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Frame {
    scope: ScopeId,
    parent: Option<ParentLink>,
    /// The last event of this frame: the `previousEventId` of its next event.
    prev: u64,
    /// Variables of this frame's scope (globals on the top frame).
    vars: JsonMap<String, Value>,
    /// Children of a Distributed Map record no events in the parent's history.
    silent: bool,
    /// The `previousEventId` of the current state's `...StateEntered` (AWS points a JSONata
    /// `EvaluationFailed` there).
    #[serde(default)]
    entered_prev: u64,
    phase: Phase,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct ParentLink {
    frame: u32,
    slot: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
enum Phase {
    /// About to enter `state`. `raw` carries the execution's input text for the first state.
    Enter {
        state: StateId,
        input: Value,
        raw: Option<String>,
    },
    /// About to leave `state`.
    Exit {
        state: StateId,
        output: Value,
        next: Transition,
        assigned: Assignments,
    },
    Task(Box<TaskRun>),
    Wait(WaitRun),
    Parallel(Box<ParallelRun>),
    Map(Box<MapRun>),
    /// Transient placeholder while a phase is being worked on.
    Busy,
}

/// What every Retry-capable state remembers across attempts.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Attempt {
    state: StateId,
    entered_id: u64,
    entered_at: Millis,
    raw_input: Value,
    /// Per-retrier attempt counters, reset when the state is left.
    retries: Vec<u32>,
    /// All retries so far (`$$.State.RetryCount`).
    retry_count: u32,
    /// A retry back-off in progress.
    retry_timer: Option<TimerId>,
}

impl Attempt {
    /// The first attempt of a state just entered.
    fn first(state: StateId, entered_id: u64, entered_at: Millis, raw_input: Value) -> Self {
        Attempt {
            state,
            entered_id,
            entered_at,
            raw_input,
            retries: Vec::new(),
            retry_count: 0,
            retry_timer: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum TaskFlavour {
    /// `Task*` events.
    Service,
    /// `LambdaFunction*` events (legacy function ARN resource).
    Lambda,
    /// `Activity*` events.
    Activity,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TaskRun {
    at: Attempt,
    flavour: TaskFlavour,
    task_id: Option<TaskId>,
    token: Option<String>,
    submitted: Option<Value>,
    timeout_timer: Option<TimerId>,
    heartbeat_timer: Option<TimerId>,
    heartbeat_seconds: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct WaitRun {
    state: StateId,
    entered_id: u64,
    output: Value,
    timer: TimerId,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ParallelRun {
    at: Attempt,
    children: Vec<Option<u32>>,
    results: Vec<Option<Value>>,
    remaining: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct MapRun {
    at: Attempt,
    /// The input after `InputPath` (what `ItemSelector`'s `$` sees).
    effective: Value,
    items: Vec<Value>,
    keys: Option<Vec<String>>,
    next_index: usize,
    running: Vec<(u32, u32)>,
    results: Vec<Option<Value>>,
    done: usize,
    failed: usize,
    max_concurrency: usize,
    tolerated_count: Option<u64>,
    tolerated_percentage: Option<f64>,
    /// `previousEventId` for the next `MapIterationStarted`.
    iteration_prev: u64,
    /// The last `MapIterationSucceeded`/`Failed` event (what `MapStateSucceeded` points to).
    completion_event: u64,
    map_run_arn: Option<String>,
    first_error: Option<StateError>,
    /// The interpreter call in which the Map started.
    #[serde(default)]
    started_call: u64,
    /// `items` are `ItemBatcher` batches, already through `ItemSelector`.
    #[serde(default)]
    batched: bool,
}

/// Per-call context: the definition, the time and the randomness.
struct Cx<'d, 'e> {
    def: &'d Definition,
    now: Millis,
    entropy: &'e mut dyn Entropy,
    step: Step,
}

impl Execution {
    /// Start an execution: records `ExecutionStarted`, enters the first state and runs until
    /// every frame waits for the outside world (or the execution closes).
    pub fn start(
        def: &Definition,
        info: ExecutionInfo,
        options: Options,
        now: Millis,
        entropy: &mut dyn Entropy,
    ) -> (Execution, Step) {
        Self::start_with_variables(def, info, options, JsonMap::new(), now, entropy)
    }

    /// [`Execution::start`] with workflow variables already assigned (TestState's `variables`).
    pub fn start_with_variables(
        def: &Definition,
        info: ExecutionInfo,
        options: Options,
        variables: JsonMap<String, Value>,
        now: Millis,
        entropy: &mut dyn Entropy,
    ) -> (Execution, Step) {
        let mut exec = Execution {
            info,
            options,
            status: Status::Running,
            outcome: None,
            next_event_id: 1,
            last_event_id: 0,
            next_timer_id: 1,
            frames: Vec::new(),
            generations: Vec::new(),
            free: Vec::new(),
            queue: VecDeque::new(),
            execution_timer: None,
            history_limit_hit: false,
            redrive_point: None,
            redrive_results: None,
            calls: 0,
        };
        let mut cx = Cx {
            def,
            now,
            entropy,
            step: Step::default(),
        };
        let started = EventKind::ExecutionStarted {
            input: exec.info.raw_input.clone(),
            role_arn: exec.info.role_arn.clone(),
            state_machine_version_arn: exec.info.version_arn.clone(),
            state_machine_alias_arn: exec.info.alias_arn.clone(),
        };
        exec.emit(&mut cx, None, started, 0);
        if let Some(secs) = def.timeout_seconds {
            let timer = exec.new_timer(
                &mut cx,
                now + secs as i64 * 1000,
                TimerKind::ExecutionTimeout,
            );
            exec.execution_timer = Some(timer);
        }
        let top = def.scope(ScopeId::TOP);
        let input = exec.info.input.clone();
        let raw = Some(exec.info.raw_input.clone());
        let fid = exec.alloc(Frame {
            scope: ScopeId::TOP,
            parent: None,
            prev: 0,
            vars: variables,
            silent: false,
            entered_prev: 0,
            phase: Phase::Enter {
                state: top.start_at,
                input,
                raw,
            },
        });
        exec.enqueue(fid);
        exec.run(&mut cx);
        (exec, cx.step)
    }

    /// React to one input. Stale inputs (a result for a task no longer awaited, a timer already
    /// cancelled, anything after the execution closed) produce an empty step.
    pub fn handle(
        &mut self,
        def: &Definition,
        now: Millis,
        input: Input,
        entropy: &mut dyn Entropy,
    ) -> Step {
        let mut cx = Cx {
            def,
            now,
            entropy,
            step: Step::default(),
        };
        if self.status == Status::Closed {
            cx.step.stale = true;
            return cx.step;
        }
        self.calls += 1;
        match input {
            Input::Stop { error, cause } => self.stop(&mut cx, error, cause),
            Input::TimerFired { timer_id } => self.timer_fired(&mut cx, timer_id),
            Input::TaskStarted {
                task_id,
                worker_name,
            } => self.task_started(&mut cx, task_id, worker_name),
            Input::TaskSubmitted { task_id, output } => {
                self.task_submitted(&mut cx, task_id, output)
            }
            Input::TaskSucceeded { task_id, output } => {
                self.task_succeeded(&mut cx, task_id, output)
            }
            Input::TaskFailed {
                task_id,
                error,
                cause,
            } => self.task_failed(
                &mut cx,
                task_id,
                StateError {
                    error,
                    cause,
                    heartbeat: false,
                },
                false,
            ),
            Input::Heartbeat { task_id } => self.heartbeat(&mut cx, task_id),
            Input::UpdateMapRun {
                map_run_arn,
                max_concurrency,
                tolerated_failure_count,
                tolerated_failure_percentage,
            } => {
                let found = self.frames.iter().enumerate().find_map(|(i, f)| match f {
                    Some(Frame {
                        phase: Phase::Map(m),
                        ..
                    }) if m.map_run_arn.as_deref() == Some(map_run_arn.as_str()) => Some(i as u32),
                    _ => None,
                });
                if let Some(fid) = found
                    && let Phase::Map(mut run) = self.take_phase(fid)
                {
                    if let Some(mc) = max_concurrency {
                        run.max_concurrency = mc as usize;
                    }
                    if tolerated_failure_count.is_some() {
                        run.tolerated_count = tolerated_failure_count;
                    }
                    if tolerated_failure_percentage.is_some() {
                        run.tolerated_percentage = tolerated_failure_percentage;
                    }
                    // A higher limit starts waiting iterations now.
                    self.map_continue(&mut cx, fid, run);
                }
            }
        }
        self.run(&mut cx);
        cx.step
    }

    /// Whether [`Execution::redrive`] can restart this execution.
    pub fn redrivable(&self) -> bool {
        self.status == Status::Closed
            && !matches!(self.outcome, Some(Outcome::Succeeded(_)))
            && self.redrive_point.is_some()
    }

    /// RedriveExecution: re-open a failed, timed-out or aborted execution at the top-level state
    /// that was running when it closed, with that state's input and the top-level variables.
    /// Records `ExecutionRedriven`. Returns `None` when the execution cannot be redriven.
    ///
    /// As AWS does, a redriven Parallel or Map runs only the branches or iterations that did not
    /// succeed; the others keep their results and record no new events.
    pub fn redrive(
        &mut self,
        def: &Definition,
        now: Millis,
        entropy: &mut dyn Entropy,
    ) -> Option<Step> {
        if !self.redrivable() {
            return None;
        }
        let point = self.redrive_point.take()?;
        self.redrive_results = point.results.map(|r| (point.state, r));
        let mut cx = Cx {
            def,
            now,
            entropy,
            step: Step::default(),
        };
        self.info.redrive_count += 1;
        self.status = Status::Running;
        self.outcome = None;
        self.calls += 1;
        let prev = self.last_event_id;
        let redriven = self.emit(
            &mut cx,
            None,
            EventKind::ExecutionRedriven {
                redrive_count: self.info.redrive_count,
            },
            prev,
        );
        let fid = self.alloc(Frame {
            scope: def.state(point.state).scope,
            parent: None,
            prev: redriven,
            vars: point.vars,
            silent: false,
            entered_prev: 0,
            phase: Phase::Enter {
                state: point.state,
                input: point.input,
                raw: None,
            },
        });
        self.enqueue(fid);
        self.run(&mut cx);
        Some(cx.step)
    }

    /// Running or closed.
    pub fn status(&self) -> Status {
        self.status
    }

    /// How it ended, once closed.
    pub fn outcome(&self) -> Option<&Outcome> {
        self.outcome.as_ref()
    }

    /// The fixed facts of the execution.
    pub fn info(&self) -> &ExecutionInfo {
        &self.info
    }

    /// The id the next history event will get.
    pub fn next_event_id(&self) -> u64 {
        self.next_event_id
    }

    /// The tokens of tasks currently waiting for `SendTask*` (callback and activity tasks),
    /// with their task ids.
    pub fn open_tokens(&self) -> Vec<(TaskId, String)> {
        self.frames
            .iter()
            .flatten()
            .filter_map(|f| match &f.phase {
                Phase::Task(t) => match (t.task_id, &t.token) {
                    (Some(id), Some(tok)) => Some((id, tok.clone())),
                    _ => None,
                },
                _ => None,
            })
            .collect()
    }

    /// The Map Runs in progress, with their item counts `(arn, total, running, succeeded,
    /// failed, max_concurrency, tolerated_count, tolerated_percentage)`.
    pub fn map_runs(&self) -> Vec<MapRunProgress> {
        self.frames
            .iter()
            .flatten()
            .filter_map(|f| match &f.phase {
                Phase::Map(m) => m.map_run_arn.as_ref().map(|arn| MapRunProgress {
                    map_run_arn: arn.clone(),
                    status: "RUNNING".into(),
                    total: m.items.len() as u64,
                    running: m.running.len() as u64,
                    succeeded: (m.done - m.failed) as u64,
                    failed: m.failed as u64,
                    max_concurrency: m.max_concurrency as u64,
                    tolerated_failure_count: m.tolerated_count,
                    tolerated_failure_percentage: m.tolerated_percentage,
                }),
                _ => None,
            })
            .collect()
    }

    /// The tasks currently running (for re-dispatch after a restart).
    pub fn running_tasks(&self) -> Vec<TaskId> {
        self.frames
            .iter()
            .flatten()
            .filter_map(|f| match &f.phase {
                Phase::Task(t) if t.at.retry_timer.is_none() => t.task_id,
                _ => None,
            })
            .collect()
    }

    // ---- frames and events -------------------------------------------------------------------

    fn alloc(&mut self, frame: Frame) -> u32 {
        if let Some(i) = self.free.pop() {
            self.frames[i as usize] = Some(frame);
            i
        } else {
            self.frames.push(Some(frame));
            self.generations.push(0);
            (self.frames.len() - 1) as u32
        }
    }

    fn release(&mut self, fid: u32) -> Option<Frame> {
        let f = self.frames.get_mut(fid as usize)?.take();
        if f.is_some() {
            self.generations[fid as usize] = self.generations[fid as usize].wrapping_add(1);
            self.free.push(fid);
        }
        f
    }

    fn frame(&mut self, fid: u32) -> &mut Frame {
        self.frames[fid as usize]
            .as_mut()
            .expect("frame ids in use always point at a live frame")
    }

    fn frame_ref(&self, fid: u32) -> Option<&Frame> {
        self.frames.get(fid as usize).and_then(Option::as_ref)
    }

    fn enqueue(&mut self, fid: u32) {
        self.queue.push_back((fid, self.generations[fid as usize]));
    }

    fn take_phase(&mut self, fid: u32) -> Phase {
        std::mem::replace(&mut self.frame(fid).phase, Phase::Busy)
    }

    /// Append an event; returns its id (0 when history is not recorded or the frame is silent).
    fn emit(&mut self, cx: &mut Cx<'_, '_>, fid: Option<u32>, kind: EventKind, prev: u64) -> u64 {
        if !self.options.record_history {
            return 0;
        }
        if let Some(f) = fid
            && self.frame_ref(f).is_some_and(|f| f.silent)
        {
            return 0;
        }
        if self.history_limit_hit {
            return 0;
        }
        let id = self.next_event_id;
        if id >= HISTORY_LIMIT && !kind.is_terminal() {
            self.history_limit_hit = true;
            return 0;
        }
        self.next_event_id += 1;
        self.last_event_id = id;
        cx.step.events.push(HistoryEvent {
            id,
            previous_event_id: prev,
            timestamp: cx.now,
            kind,
        });
        id
    }

    /// Emit an event in frame `fid` chained to the frame's last event, and advance the chain.
    fn emit_chained(&mut self, cx: &mut Cx<'_, '_>, fid: u32, kind: EventKind) -> u64 {
        let prev = self.frame(fid).prev;
        let id = self.emit(cx, Some(fid), kind, prev);
        if id != 0 {
            self.frame(fid).prev = id;
        }
        id
    }

    fn new_timer(&mut self, cx: &mut Cx<'_, '_>, due: Millis, kind: TimerKind) -> TimerId {
        let timer_id = self.next_timer_id;
        self.next_timer_id += 1;
        cx.step.commands.push(Command::StartTimer {
            timer_id,
            due,
            kind,
        });
        timer_id
    }

    fn cancel_timer(cx: &mut Cx<'_, '_>, timer: Option<TimerId>) {
        if let Some(timer_id) = timer {
            cx.step.commands.push(Command::CancelTimer { timer_id });
        }
    }

    /// Render a value as the compact JSON text AWS records, or nothing when history is off.
    fn text(&self, v: &Value) -> String {
        if self.options.record_history {
            json::compact(v)
        } else {
            String::new()
        }
    }

    // ---- the run loop ------------------------------------------------------------------------

    fn run(&mut self, cx: &mut Cx<'_, '_>) {
        self.run_queue(cx);
        if self.status == Status::Running {
            let active = self.map_runs();
            cx.step.map_runs.extend(active);
        }
    }

    fn run_queue(&mut self, cx: &mut Cx<'_, '_>) {
        while self.status == Status::Running {
            if self.history_limit_hit {
                self.close_history_limit(cx);
                break;
            }
            let Some((fid, generation)) = self.queue.pop_front() else {
                break;
            };
            if self.generations.get(fid as usize) != Some(&generation)
                || self.frame_ref(fid).is_none()
            {
                continue;
            }
            match self.take_phase(fid) {
                Phase::Enter { state, input, raw } => self.enter(cx, fid, state, input, raw),
                Phase::Exit {
                    state,
                    output,
                    next,
                    assigned,
                } => self.exit(cx, fid, state, output, next, assigned),
                other => self.frame(fid).phase = other,
            }
        }
    }

    fn close_history_limit(&mut self, cx: &mut Cx<'_, '_>) {
        self.history_limit_hit = false;
        let prev = self.last_event_id;
        let err = StateError::new(
            "States.Runtime",
            format!(
                "The execution reached the maximum number of history events ({HISTORY_LIMIT})."
            ),
        );
        self.emit(
            cx,
            None,
            EventKind::ExecutionFailed(ErrorCause {
                error: err.error.clone(),
                cause: err.cause.clone(),
            }),
            prev,
        );
        self.cancel_everything(cx);
        self.close(
            cx,
            Outcome::Failed {
                error: err.error,
                cause: err.cause,
            },
        );
    }

    fn close(&mut self, cx: &mut Cx<'_, '_>, outcome: Outcome) {
        self.redrive_results = None;
        if !matches!(outcome, Outcome::Succeeded(_)) && self.redrive_point.is_none() {
            self.redrive_point = self
                .frames
                .iter()
                .flatten()
                .find(|f| f.parent.is_none())
                .and_then(redrive_point_of);
        }
        for f in self.frames.iter().flatten() {
            if let Phase::Map(m) = &f.phase
                && let Some(arn) = &m.map_run_arn
            {
                cx.step.map_runs.push(final_progress(arn, m, "ABORTED"));
            }
        }
        Self::cancel_timer(cx, self.execution_timer.take());
        self.status = Status::Closed;
        cx.step.outcome = Some(outcome.clone());
        self.outcome = Some(outcome);
        self.queue.clear();
        self.frames.clear();
        self.generations.clear();
        self.free.clear();
    }

    /// Cancel every timer and running task of every frame (stop, timeout, history limit).
    fn cancel_everything(&mut self, cx: &mut Cx<'_, '_>) {
        for f in self.frames.iter().flatten() {
            match &f.phase {
                Phase::Task(t) => {
                    Self::cancel_timer(cx, t.at.retry_timer);
                    Self::cancel_timer(cx, t.timeout_timer);
                    Self::cancel_timer(cx, t.heartbeat_timer);
                    if let Some(task_id) = t.task_id {
                        cx.step.commands.push(Command::CancelTask {
                            task_id,
                            resource: task_resource_text(cx.def, t.at.state),
                            submitted: t.submitted.clone(),
                        });
                    }
                }
                Phase::Wait(w) => Self::cancel_timer(cx, Some(w.timer)),
                Phase::Parallel(p) => Self::cancel_timer(cx, p.at.retry_timer),
                Phase::Map(m) => Self::cancel_timer(cx, m.at.retry_timer),
                _ => {}
            }
        }
    }

    // ---- entering and leaving states ---------------------------------------------------------

    fn enter(
        &mut self,
        cx: &mut Cx<'_, '_>,
        fid: u32,
        sid: StateId,
        input: Value,
        raw: Option<String>,
    ) {
        let def = cx.def;
        let state = def.state(sid);
        cx.step.transitions += 1;
        let input_text = match raw {
            Some(r) => r,
            None => self.text(&input),
        };
        if input_text.len() > PAYLOAD_LIMIT {
            self.fail_frame_data_limit(cx, fid, state, "input");
            return;
        }
        let entered_prev = self.frame(fid).prev;
        self.frame(fid).entered_prev = entered_prev;
        let entered_id = self.emit_chained(
            cx,
            fid,
            EventKind::StateEntered {
                state_type: state_type(state),
                name: state.name.clone(),
                input: input_text,
            },
        );
        let entered_at = cx.now;
        match &state.kind {
            StateKind::Pass(p) => {
                let r = self.run_pass(cx, fid, sid, p, input, entered_at);
                self.after_simple(cx, fid, sid, entered_id, r.map(|(o, a)| (o, p.next, a)));
            }
            StateKind::Succeed(s) => {
                let r = self.run_in_out(cx, fid, sid, &s.flow, input, entered_at);
                self.after_simple(
                    cx,
                    fid,
                    sid,
                    entered_id,
                    r.map(|(o, a)| (o, Transition::End, a)),
                );
            }
            StateKind::Choice(c) => {
                let r = self.run_choice(cx, fid, sid, c, input, entered_at);
                self.after_simple(cx, fid, sid, entered_id, r);
            }
            StateKind::Fail(f) => {
                let r = self.run_fail(cx, fid, sid, f, &input, entered_at);
                match r {
                    Ok(err) => {
                        if self.frame(fid).parent.is_none() {
                            // A redrive re-enters the Fail state with its input.
                            self.frame(fid).phase = Phase::Enter {
                                state: sid,
                                input: input.clone(),
                                raw: None,
                            };
                        }
                        let prev = self.frame(fid).prev;
                        self.frame_failed(cx, fid, err, prev);
                    }
                    Err(fail) => self.raise(cx, fid, sid, entered_id, fail),
                }
            }
            StateKind::Wait(w) => self.enter_wait(cx, fid, sid, w, input, entered_id, entered_at),
            StateKind::Task(_) => {
                let at = Attempt::first(sid, entered_id, entered_at, input);
                self.start_task_attempt(cx, fid, at);
            }
            StateKind::Parallel(_) => {
                let at = Attempt::first(sid, entered_id, entered_at, input);
                self.start_parallel_attempt(cx, fid, at);
            }
            StateKind::Map(_) => {
                let at = Attempt::first(sid, entered_id, entered_at, input);
                self.start_map_attempt(cx, fid, at);
            }
        }
    }

    /// Pass, Succeed and Choice either leave at once or fail.
    fn after_simple(
        &mut self,
        cx: &mut Cx<'_, '_>,
        fid: u32,
        sid: StateId,
        entered_id: u64,
        r: Result<(Value, Transition, Assignments), Failure>,
    ) {
        match r {
            Ok((output, next, assigned)) => {
                self.frame(fid).phase = Phase::Exit {
                    state: sid,
                    output,
                    next,
                    assigned,
                };
                self.enqueue(fid);
            }
            Err(fail) => self.raise(cx, fid, sid, entered_id, fail),
        }
    }

    fn exit(
        &mut self,
        cx: &mut Cx<'_, '_>,
        fid: u32,
        sid: StateId,
        output: Value,
        next: Transition,
        assigned: Assignments,
    ) {
        let state = cx.def.state(sid);
        let output_text = self.text(&output);
        if output_text.len() > PAYLOAD_LIMIT {
            self.fail_frame_data_limit(cx, fid, state, "output");
            return;
        }
        // The next state's StateEntered input is this same text: copy it rather than
        // serializing the value again.
        let next_raw = (self.options.record_history
            && matches!(next, Transition::Next(_))
            && !matches!(state.kind, StateKind::Succeed(_)))
        .then(|| output_text.clone());
        if !assigned.is_empty()
            && let Some(why) = self.assignment_over_limit(fid, &assigned)
        {
            let err = StateError::new(
                "States.DataLimitExceeded",
                format!("The state/task '{}' {why}", state.name),
            );
            let prev = self.frame(fid).prev;
            self.frame_failed(cx, fid, err, prev);
            return;
        }
        let assigned_variables = if assigned.is_empty() {
            None
        } else {
            let mut v: Vec<(String, String)> = assigned
                .iter()
                .map(|(k, x)| (k.clone(), self.text(x)))
                .collect();
            v.sort_by(|a, b| a.0.cmp(&b.0));
            Some(v)
        };
        self.emit_chained(
            cx,
            fid,
            EventKind::StateExited {
                state_type: state_type(state),
                name: state.name.clone(),
                output: output_text,
                assigned_variables,
            },
        );
        // Assignments take effect once the state is left.
        let frame = self.frame(fid);
        for (k, v) in assigned {
            frame.vars.insert(k, v);
        }
        if matches!(state.kind, StateKind::Succeed(_)) {
            self.frame_finished(cx, fid, output);
            return;
        }
        match next {
            Transition::Next(n) => {
                self.frame(fid).phase = Phase::Enter {
                    state: n,
                    input: output,
                    raw: next_raw,
                };
                self.enqueue(fid);
            }
            Transition::End => self.frame_finished(cx, fid, output),
        }
    }

    /// A state's own evaluation failed: record the error where AWS does and hand it on to the
    /// state's Retry/Catch (for the states that have them) or to the frame.
    fn raise(
        &mut self,
        cx: &mut Cx<'_, '_>,
        fid: u32,
        sid: StateId,
        entered_id: u64,
        fail: Failure,
    ) {
        let state = cx.def.state(sid);
        let cause = format!("{}{}", state_prefix(&state.name, entered_id), fail.detail);
        let mut failing = self.frame(fid).prev;
        if fail.error == "States.QueryEvaluationError" {
            // AWS records JSONata failures as an EvaluationFailed event. It points to what the
            // state's `...StateEntered` points to, except in a Wait state, where it points to the
            // `WaitStateEntered` itself (both recorded).
            let prev = if matches!(state.kind, StateKind::Wait(_)) {
                entered_id
            } else {
                self.frame(fid).entered_prev
            };
            let id = self.emit(
                cx,
                Some(fid),
                EventKind::EvaluationFailed {
                    error: fail.error.to_string(),
                    cause: cause.clone(),
                    location: fail.location.clone(),
                    state: state.name.clone(),
                },
                prev,
            );
            if id != 0 {
                failing = id;
                self.frame(fid).prev = id;
            }
        }
        let err = StateError {
            error: Some(fail.error.to_string()),
            cause: Some(cause),
            heartbeat: false,
        };
        let query = fail.error == "States.QueryEvaluationError";
        match &state.kind {
            StateKind::Map(_) if query => {
                self.recover_or_fail(cx, fid, err, failing, Some(EventKind::MapStateFailed))
            }
            StateKind::Parallel(_) if query => {
                self.recover_or_fail(cx, fid, err, failing, Some(EventKind::ParallelStateFailed))
            }
            StateKind::Task(_) | StateKind::Parallel(_) | StateKind::Map(_) => {
                self.recover_or_fail(cx, fid, err, failing, None)
            }
            _ => self.frame_failed(cx, fid, err, failing),
        }
    }

    /// AWS's variable quotas: one variable at most 256 KiB, one `Assign` at most 256 KiB in
    /// all, and (checked here per scope) at most 10 MiB stored. The error name is AWS's data
    /// limit error; the cause wording is ours (no recording shows it).
    fn assignment_over_limit(&self, fid: u32, assigned: &Assignments) -> Option<String> {
        let mut batch = 0usize;
        for (name, v) in assigned {
            let n = json::serialized_len(v);
            if n > PAYLOAD_LIMIT {
                return Some(format!(
                    "assigned the variable '{name}' a value of {n} bytes, over the limit of {PAYLOAD_LIMIT} bytes for one variable."
                ));
            }
            batch += n;
        }
        if batch > PAYLOAD_LIMIT {
            return Some(format!(
                "assigned {batch} bytes of variables at once, over the limit of {PAYLOAD_LIMIT} bytes for one Assign."
            ));
        }
        let frame = self.frames[fid as usize].as_ref()?;
        let kept: usize = frame
            .vars
            .iter()
            .filter(|(k, _)| !assigned.iter().any(|(a, _)| a == *k))
            .map(|(_, v)| json::serialized_len(v))
            .sum();
        (kept + batch > VARIABLES_LIMIT).then(|| {
            format!(
                "would store {} bytes of variables, over the limit of {VARIABLES_LIMIT} bytes per execution.",
                kept + batch
            )
        })
    }

    fn fail_frame_data_limit(&mut self, cx: &mut Cx<'_, '_>, fid: u32, state: &State, what: &str) {
        let err = StateError::new(
            "States.DataLimitExceeded",
            format!(
                "The state/task '{}' returned a result with a size exceeding the maximum number of bytes service limit.",
                state.name
            ),
        );
        let _ = what;
        let prev = self.frame(fid).prev;
        self.frame_failed(cx, fid, err, prev);
    }

    // ---- frames ending -----------------------------------------------------------------------

    fn frame_finished(&mut self, cx: &mut Cx<'_, '_>, fid: u32, output: Value) {
        let frame = self.release(fid).expect("finishing frame is live");
        match frame.parent {
            None => {
                let text = self.text(&output);
                if text.len() > PAYLOAD_LIMIT {
                    let err = StateError::new(
                        "States.DataLimitExceeded",
                        "The execution output exceeds the maximum number of bytes service limit.",
                    );
                    self.emit(
                        cx,
                        None,
                        EventKind::ExecutionFailed(ErrorCause {
                            error: err.error.clone(),
                            cause: err.cause.clone(),
                        }),
                        frame.prev,
                    );
                    self.close(
                        cx,
                        Outcome::Failed {
                            error: err.error,
                            cause: err.cause,
                        },
                    );
                    return;
                }
                self.emit(
                    cx,
                    None,
                    EventKind::ExecutionSucceeded { output: text },
                    frame.prev,
                );
                self.close(cx, Outcome::Succeeded(output));
            }
            Some(link) => self.child_finished(cx, link, frame.prev, Ok(output)),
        }
    }

    /// The frame failed with `err`; `failing` is the event that recorded the failure.
    fn frame_failed(&mut self, cx: &mut Cx<'_, '_>, fid: u32, err: StateError, failing: u64) {
        let Some(frame) = self.release(fid) else {
            return;
        };
        match frame.parent {
            None => {
                self.redrive_point = redrive_point_of(&frame);
                self.emit(
                    cx,
                    None,
                    EventKind::ExecutionFailed(ErrorCause {
                        error: err.error.clone(),
                        cause: err.cause.clone(),
                    }),
                    failing,
                );
                self.cancel_everything(cx);
                self.close(
                    cx,
                    Outcome::Failed {
                        error: err.error,
                        cause: err.cause,
                    },
                );
            }
            Some(link) => self.child_finished(cx, link, failing, Err(err)),
        }
    }

    fn child_finished(
        &mut self,
        cx: &mut Cx<'_, '_>,
        link: ParentLink,
        last: u64,
        result: Result<Value, StateError>,
    ) {
        let pid = link.frame;
        match self.take_phase(pid) {
            Phase::Parallel(mut run) => {
                run.children[link.slot as usize] = None;
                match result {
                    Ok(v) => {
                        run.results[link.slot as usize] = Some(v);
                        run.remaining -= 1;
                        if last != 0 {
                            self.frame(pid).prev = last;
                        }
                        if run.remaining == 0 {
                            self.parallel_succeeded(cx, pid, run);
                        } else {
                            self.frame(pid).phase = Phase::Parallel(run);
                        }
                    }
                    Err(err) => {
                        for child in run.children.iter_mut() {
                            if let Some(c) = child.take() {
                                self.abort_frame(cx, c, last);
                            }
                        }
                        if last != 0 {
                            self.frame(pid).prev = last;
                        }
                        self.frame(pid).phase = Phase::Parallel(run);
                        self.recover_or_fail(
                            cx,
                            pid,
                            err,
                            last,
                            Some(EventKind::ParallelStateFailed),
                        );
                    }
                }
            }
            Phase::Map(mut run) => {
                run.running.retain(|(f, _)| self.frame_ref(*f).is_some());
                let index = link.slot as u64;
                let name = cx.def.state(run.at.state).name.clone();
                match result {
                    Ok(v) => {
                        run.results[link.slot as usize] = Some(v);
                        run.done += 1;
                        let kind = EventKind::MapIterationSucceeded { name, index };
                        self.record_iteration_end(cx, pid, &mut run, kind, last);
                        self.map_continue(cx, pid, run);
                    }
                    Err(err) => {
                        run.failed += 1;
                        run.done += 1;
                        let kind = EventKind::MapIterationFailed { name, index };
                        self.record_iteration_end(cx, pid, &mut run, kind, last);
                        if run.first_error.is_none() {
                            run.first_error = Some(err.clone());
                        }
                        if self.map_tolerates(&run) {
                            run.results[link.slot as usize] = Some(err.error_output());
                            self.map_continue(cx, pid, run);
                        } else {
                            self.map_failed(cx, pid, run, err, last);
                        }
                    }
                }
            }
            other => {
                // The parent was aborted meanwhile; nothing waits for this child.
                self.frame(pid).phase = other;
            }
        }
    }

    /// Abort a running frame (a sibling of a failed branch or iteration), recording what AWS
    /// records for the state it was in; every aborted event points to `cause_event`.
    fn abort_frame(&mut self, cx: &mut Cx<'_, '_>, fid: u32, cause_event: u64) {
        let Some(frame) = self.release(fid) else {
            return;
        };
        let silent = frame.silent;
        let emit = |me: &mut Self, cx: &mut Cx<'_, '_>, kind: EventKind| {
            if silent {
                0
            } else {
                me.emit(cx, None, kind, cause_event)
            }
        };
        match frame.phase {
            Phase::Task(t) => {
                Self::cancel_timer(cx, t.at.retry_timer);
                Self::cancel_timer(cx, t.timeout_timer);
                Self::cancel_timer(cx, t.heartbeat_timer);
                if let Some(task_id) = t.task_id {
                    cx.step.commands.push(Command::CancelTask {
                        task_id,
                        resource: task_resource_text(cx.def, t.at.state),
                        submitted: t.submitted.clone(),
                    });
                }
                emit(self, cx, EventKind::TaskStateAborted);
            }
            Phase::Wait(w) => {
                Self::cancel_timer(cx, Some(w.timer));
                emit(self, cx, EventKind::WaitStateAborted);
            }
            Phase::Parallel(p) => {
                Self::cancel_timer(cx, p.at.retry_timer);
                for c in p.children.into_iter().flatten() {
                    self.abort_frame(cx, c, cause_event);
                }
                emit(self, cx, EventKind::ParallelStateAborted);
            }
            Phase::Map(m) => {
                Self::cancel_timer(cx, m.at.retry_timer);
                if let Some(arn) = &m.map_run_arn {
                    cx.step.map_runs.push(final_progress(arn, &m, "ABORTED"));
                }
                let name = cx.def.state(m.at.state).name.clone();
                for (c, _) in m.running {
                    let index = self
                        .frame_ref(c)
                        .and_then(|f| f.parent)
                        .map(|l| l.slot as u64);
                    self.abort_frame(cx, c, cause_event);
                    if let Some(index) = index {
                        emit(
                            self,
                            cx,
                            EventKind::MapIterationAborted {
                                name: name.clone(),
                                index,
                            },
                        );
                    }
                }
                emit(self, cx, EventKind::MapStateAborted);
            }
            _ => {}
        }
    }

    // ---- Retry and Catch ---------------------------------------------------------------------

    /// A Task, Parallel or Map state failed: retry it, catch the error, or fail the frame.
    /// `final_event` (MapStateFailed, ParallelStateFailed) is recorded only if the state is not
    /// retried: a retried Map starts over with a new MapStateStarted (recorded).
    fn recover_or_fail(
        &mut self,
        cx: &mut Cx<'_, '_>,
        fid: u32,
        err: StateError,
        failing: u64,
        final_event: Option<EventKind>,
    ) {
        let def = cx.def;
        let mut at = match &mut self.frame(fid).phase {
            Phase::Task(t) => t.at.clone(),
            Phase::Parallel(p) => p.at.clone(),
            Phase::Map(m) => m.at.clone(),
            _ => {
                self.frame_failed(cx, fid, err, failing);
                return;
            }
        };
        let state = def.state(at.state);
        let (retry, catch) = match &state.kind {
            StateKind::Task(t) => (&t.retry, &t.catch),
            StateKind::Parallel(p) => (&p.retry, &p.catch),
            StateKind::Map(m) => (&m.retry, &m.catch),
            _ => unreachable!("only Task, Parallel and Map run attempts"),
        };
        let name = err.name();
        if at.retries.len() < retry.len() {
            at.retries.resize(retry.len(), 0);
        }
        // The first retrier that matches decides; an exhausted one hands over to Catch.
        if let Some((i, r)) = retry
            .iter()
            .enumerate()
            .find(|(_, r)| error_matches(&r.error_equals, name, err.heartbeat))
            && (at.retries[i] as u64) < r.max_attempts
        {
            at.retries[i] += 1;
            at.retry_count += 1;
            let n = at.retries[i];
            let mut delay = r.interval_seconds as f64 * r.backoff_rate.powi(n as i32 - 1);
            if let Some(max) = r.max_delay_seconds {
                delay = delay.min(max as f64);
            }
            if r.jitter == Jitter::Full {
                let unit = (cx.entropy.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                delay *= unit;
            }
            let due = cx.now + (delay * 1000.0).round() as i64;
            let timer = self.new_timer(cx, due, TimerKind::Retry);
            at.retry_timer = Some(timer);
            if failing != 0 {
                self.frame(fid).prev = failing;
            }
            match &mut self.frame(fid).phase {
                Phase::Task(t) => {
                    t.at = at;
                    t.task_id = None;
                    t.token = None;
                    t.submitted = None;
                }
                Phase::Parallel(p) => p.at = at,
                Phase::Map(m) => m.at = at,
                _ => {}
            }
            return;
        }
        let mut failing = failing;
        if let Some(kind) = final_event {
            let id = self.emit(cx, Some(fid), kind, failing);
            if id != 0 {
                failing = id;
                self.frame(fid).prev = id;
            }
        }
        if let Some(c) = catch
            .iter()
            .find(|c| error_matches(&c.error_equals, name, err.heartbeat))
        {
            if failing != 0 {
                self.frame(fid).prev = failing;
            }
            let error_output = err.error_output();
            let r = self.catch_output(cx, fid, state, &at, c, error_output);
            match r {
                Ok((output, assigned)) => {
                    self.frame(fid).phase = Phase::Exit {
                        state: at.state,
                        output,
                        next: Transition::Next(c.next),
                        assigned,
                    };
                    self.enqueue(fid);
                }
                Err(fail) => {
                    // An error in the catcher's own evaluation fails the frame.
                    let cause = format!(
                        "{}{}",
                        state_prefix(&state.name, at.entered_id),
                        fail.detail
                    );
                    let prev = self.frame(fid).prev;
                    self.frame_failed(
                        cx,
                        fid,
                        StateError {
                            error: Some(fail.error.to_string()),
                            cause: Some(cause),
                            heartbeat: false,
                        },
                        prev,
                    );
                }
            }
            return;
        }
        self.frame_failed(cx, fid, err, failing);
    }

    fn catch_output(
        &mut self,
        cx: &mut Cx<'_, '_>,
        fid: u32,
        state: &State,
        at: &Attempt,
        c: &Catcher,
        error_output: Value,
    ) -> Result<(Value, Assignments), Failure> {
        match state.query_language {
            QueryLanguage::JsonPath => {
                let assigned = match &c.assign {
                    Some(Payload::JsonPath(t)) => {
                        let sc = self.state_ctx(cx, at, None, None);
                        let ctx = LazyContext::new(&self.info, sc.view(cx.def));
                        let vars = self.var_lookup(fid);
                        let env = Env::new(&error_output, &ctx, &vars);
                        assign_pairs(eval::template(t, &env, &mut *cx.entropy)?)
                    }
                    _ => Vec::new(),
                };
                let output = eval::result_path(&c.result_path, at.raw_input.clone(), error_output)?;
                Ok((output, assigned))
            }
            QueryLanguage::Jsonata => {
                let sc = self.state_ctx(cx, at, None, None);
                let js_vars = self.var_lookup(fid);

                let js_states = eval::states_object(self.info_ref(), cx.def, &at.raw_input, &sc);

                let mut js = eval::JsonataEnv::new(&js_states, cx.now, &mut *cx.entropy, &js_vars);
                js.set_error_output(&error_output);
                let assigned = match &c.assign {
                    Some(Payload::Jsonata(t)) => assign_pairs(js.template(t, "Assign")?),
                    _ => Vec::new(),
                };
                let output = match &c.output {
                    Some(t) => js.template(t, "Output")?,
                    None => error_output,
                };
                Ok((output, assigned))
            }
        }
    }

    // ---- evaluation helpers ------------------------------------------------------------------

    fn state_ctx<'a>(
        &self,
        _cx: &Cx<'_, '_>,
        at: &'a Attempt,
        token: Option<&'a str>,
        item: Option<(u64, &'a Value)>,
    ) -> OwnedStateContext {
        OwnedStateContext {
            state: at.state,
            entered: at.entered_at,
            retry_count: Some(at.retry_count),
            token: token.map(str::to_string),
            item: item.map(|(i, v)| (i, v.clone())),
            item_key: None,
        }
    }

    /// A lookup of variables visible from frame `fid`: its own scope, then each enclosing one.
    pub(crate) fn var_lookup(&self, fid: u32) -> VarLookup<'_> {
        VarLookup { exec: self, fid }
    }

    pub(crate) fn lookup_var(&self, fid: u32, name: &str) -> Option<&Value> {
        let mut cur = Some(fid);
        while let Some(f) = cur {
            let frame = self.frame_ref(f)?;
            if let Some(v) = frame.vars.get(name) {
                return Some(v);
            }
            cur = frame.parent.map(|l| l.frame);
        }
        None
    }

    pub(crate) fn info_ref(&self) -> &ExecutionInfo {
        &self.info
    }

    // ---- Pass, Succeed, Choice, Fail, Wait ---------------------------------------------------

    fn run_pass(
        &mut self,
        cx: &mut Cx<'_, '_>,
        fid: u32,
        sid: StateId,
        p: &Pass,
        input: Value,
        entered_at: Millis,
    ) -> Result<(Value, Assignments), Failure> {
        let state = cx.def.state(sid);
        let sc = OwnedStateContext::plain(sid, entered_at);
        match state.query_language {
            QueryLanguage::JsonPath => {
                let ctx = LazyContext::new(&self.info, sc.view(cx.def));
                let vars = self.var_lookup(fid);
                let env = Env::new(&input, &ctx, &vars);
                let effective = eval::input_path(&p.flow.input_path, &input, &env)?;
                let result = if let Some(r) = &p.result {
                    r.clone()
                } else if let Some(t) = &p.parameters {
                    let env = Env::new(&effective, &ctx, &vars);
                    eval::template(t, &env, &mut *cx.entropy)?
                } else {
                    effective.into_owned()
                };
                let assigned = match &p.flow.assign {
                    Some(Payload::JsonPath(t)) => {
                        let env = Env::new(&result, &ctx, &vars);
                        assign_pairs(eval::template(t, &env, &mut *cx.entropy)?)
                    }
                    _ => Vec::new(),
                };
                let merged = eval::result_path(&p.flow.result_path, input, result)?;
                let output = eval::output_path(&p.flow.output_path, merged, |path, v| {
                    eval::select(path, &Env::new(v, &ctx, &vars))
                })?;
                Ok((output, assigned))
            }
            QueryLanguage::Jsonata => self.jsonata_in_out(cx, fid, sc, &p.flow, input),
        }
    }

    /// States whose output is their (filtered) input: Succeed, and the data flow of Choice/Wait.
    fn run_in_out(
        &mut self,
        cx: &mut Cx<'_, '_>,
        fid: u32,
        sid: StateId,
        flow: &DataFlow,
        input: Value,
        entered_at: Millis,
    ) -> Result<(Value, Assignments), Failure> {
        let state = cx.def.state(sid);
        let sc = OwnedStateContext::plain(sid, entered_at);
        match state.query_language {
            QueryLanguage::JsonPath => {
                let ctx = LazyContext::new(&self.info, sc.view(cx.def));
                let vars = self.var_lookup(fid);
                let env = Env::new(&input, &ctx, &vars);
                let effective = eval::input_path(&flow.input_path, &input, &env)?;
                let assigned = match &flow.assign {
                    Some(Payload::JsonPath(t)) => {
                        let env = Env::new(&effective, &ctx, &vars);
                        assign_pairs(eval::template(t, &env, &mut *cx.entropy)?)
                    }
                    _ => Vec::new(),
                };
                let effective = eval::owned(effective).unwrap_or(input);
                let output = eval::output_path(&flow.output_path, effective, |path, v| {
                    eval::select(path, &Env::new(v, &ctx, &vars))
                })?;
                Ok((output, assigned))
            }
            QueryLanguage::Jsonata => self.jsonata_in_out(cx, fid, sc, flow, input),
        }
    }

    fn jsonata_in_out(
        &mut self,
        cx: &mut Cx<'_, '_>,
        fid: u32,
        sc: OwnedStateContext,
        flow: &DataFlow,
        input: Value,
    ) -> Result<(Value, Assignments), Failure> {
        let js_vars = self.var_lookup(fid);

        let js_states = eval::states_object(self.info_ref(), cx.def, &input, &sc);

        let mut js = eval::JsonataEnv::new(&js_states, cx.now, &mut *cx.entropy, &js_vars);
        let assigned = match &flow.assign {
            Some(Payload::Jsonata(t)) => assign_pairs(js.template(t, "Assign")?),
            _ => Vec::new(),
        };
        let output = match &flow.output {
            Some(t) => js.template(t, "Output")?,
            None => input,
        };
        Ok((output, assigned))
    }

    fn run_choice(
        &mut self,
        cx: &mut Cx<'_, '_>,
        fid: u32,
        sid: StateId,
        c: &Choice,
        input: Value,
        entered_at: Millis,
    ) -> Result<(Value, Transition, Assignments), Failure> {
        let state = cx.def.state(sid);
        let sc = OwnedStateContext::plain(sid, entered_at);
        match state.query_language {
            QueryLanguage::JsonPath => {
                let ctx = LazyContext::new(&self.info, sc.view(cx.def));
                let vars = self.var_lookup(fid);
                let env = Env::new(&input, &ctx, &vars);
                let effective = eval::input_path(&c.flow.input_path, &input, &env)?;
                let env = Env::new(&effective, &ctx, &vars);
                let mut chosen = None;
                for rule in &c.choices {
                    if crate::choice::evaluate(&rule.condition, &env)? {
                        chosen = Some(rule);
                        break;
                    }
                }
                let (next, assign) = match chosen {
                    Some(rule) => (rule.next, rule.assign.as_ref().or(c.flow.assign.as_ref())),
                    None => match c.default {
                        Some(d) => (d, c.flow.assign.as_ref()),
                        None => {
                            return Err(Failure::named("States.NoChoiceMatched", "No Matches!"));
                        }
                    },
                };
                let assigned = match assign {
                    Some(Payload::JsonPath(t)) => {
                        assign_pairs(eval::template(t, &env, &mut *cx.entropy)?)
                    }
                    _ => Vec::new(),
                };
                let effective = eval::owned(effective).unwrap_or(input);
                let output = eval::output_path(&c.flow.output_path, effective, |path, v| {
                    eval::select(path, &Env::new(v, &ctx, &vars))
                })?;
                Ok((output, Transition::Next(next), assigned))
            }
            QueryLanguage::Jsonata => {
                let js_vars = self.var_lookup(fid);

                let js_states = eval::states_object(self.info_ref(), cx.def, &input, &sc);

                let mut js = eval::JsonataEnv::new(&js_states, cx.now, &mut *cx.entropy, &js_vars);
                let mut chosen = None;
                for (i, rule) in c.choices.iter().enumerate() {
                    if let Condition::Jsonata(expr) = &rule.condition {
                        let loc = format!("Choices[{i}].Condition");
                        if js.condition(expr, &loc)? {
                            chosen = Some(rule);
                            break;
                        }
                    }
                }
                let (next, assign, output_t) = match chosen {
                    Some(rule) => (
                        rule.next,
                        rule.assign.as_ref().or(c.flow.assign.as_ref()),
                        rule.output.as_ref().or(c.flow.output.as_ref()),
                    ),
                    None => match c.default {
                        Some(d) => (d, c.flow.assign.as_ref(), c.flow.output.as_ref()),
                        None => {
                            return Err(Failure::named("States.NoChoiceMatched", "No Matches!"));
                        }
                    },
                };
                let assigned = match assign {
                    Some(Payload::Jsonata(t)) => assign_pairs(js.template(t, "Assign")?),
                    _ => Vec::new(),
                };
                let output = match output_t {
                    Some(t) => js.template(t, "Output")?,
                    None => input,
                };
                Ok((output, Transition::Next(next), assigned))
            }
        }
    }

    fn run_fail(
        &mut self,
        cx: &mut Cx<'_, '_>,
        fid: u32,
        sid: StateId,
        f: &Fail,
        input: &Value,
        entered_at: Millis,
    ) -> Result<StateError, Failure> {
        let sc = OwnedStateContext::plain(sid, entered_at);
        let state = cx.def.state(sid);
        let mut out = StateError {
            error: None,
            cause: None,
            heartbeat: false,
        };
        if state.query_language == QueryLanguage::Jsonata {
            let js_vars = self.var_lookup(fid);

            let js_states = eval::states_object(self.info_ref(), cx.def, input, &sc);

            let mut js = eval::JsonataEnv::new(&js_states, cx.now, &mut *cx.entropy, &js_vars);
            for (field, slot, name) in [
                (&f.error, &mut out.error, "Error"),
                (&f.cause, &mut out.cause, "Cause"),
            ] {
                *slot = match field {
                    None => None,
                    Some(FailField::Literal(s)) => Some(s.clone()),
                    Some(FailField::Jsonata(e)) => Some(js.string(e, name)?),
                    Some(_) => None,
                };
            }
            return Ok(out);
        }
        let ctx = LazyContext::new(&self.info, sc.view(cx.def));
        let vars = self.var_lookup(fid);
        let env = Env::new(input, &ctx, &vars);
        for (field, slot, name) in [
            (&f.error, &mut out.error, "ErrorPath"),
            (&f.cause, &mut out.cause, "CausePath"),
        ] {
            *slot = match field {
                None => None,
                Some(FailField::Literal(s)) => Some(s.clone()),
                Some(FailField::Expr(e)) => {
                    Some(eval::fail_expr_string(e, name, &env, &mut *cx.entropy)?)
                }
                Some(FailField::Jsonata(_)) => None,
            };
        }
        Ok(out)
    }

    #[allow(clippy::too_many_arguments)]
    fn enter_wait(
        &mut self,
        cx: &mut Cx<'_, '_>,
        fid: u32,
        sid: StateId,
        w: &Wait,
        input: Value,
        entered_id: u64,
        entered_at: Millis,
    ) {
        let state = cx.def.state(sid);
        let sc = OwnedStateContext::plain(sid, entered_at);
        let r: Result<(Millis, Value, Assignments), Failure> = (|| match state.query_language {
            QueryLanguage::JsonPath => {
                let ctx = LazyContext::new(&self.info, sc.view(cx.def));
                let vars = self.var_lookup(fid);
                let env = Env::new(&input, &ctx, &vars);
                let effective = eval::input_path(&w.flow.input_path, &input, &env)?;
                let env = Env::new(&effective, &ctx, &vars);
                let due = eval::wait_due(&w.duration, &env, cx.now)?;
                let assigned = match &w.flow.assign {
                    Some(Payload::JsonPath(t)) => {
                        assign_pairs(eval::template(t, &env, &mut *cx.entropy)?)
                    }
                    _ => Vec::new(),
                };
                let effective = eval::owned(effective).unwrap_or(input);
                let output = eval::output_path(&w.flow.output_path, effective, |path, v| {
                    eval::select(path, &Env::new(v, &ctx, &vars))
                })?;
                Ok((due, output, assigned))
            }
            QueryLanguage::Jsonata => {
                let js_vars = self.var_lookup(fid);

                let js_states = eval::states_object(self.info_ref(), cx.def, &input, &sc);

                let mut js = eval::JsonataEnv::new(&js_states, cx.now, &mut *cx.entropy, &js_vars);
                let due = js.wait_due(&w.duration, cx.now)?;
                let assigned = match &w.flow.assign {
                    Some(Payload::Jsonata(t)) => assign_pairs(js.template(t, "Assign")?),
                    _ => Vec::new(),
                };
                let output = match &w.flow.output {
                    Some(t) => js.template(t, "Output")?,
                    None => input.clone(),
                };
                Ok((due, output, assigned))
            }
        })();
        match r {
            Ok((due, output, assigned)) => {
                // Assignments are applied when the state is left; keep them with the output.
                let timer = self.new_timer(cx, due.max(cx.now), TimerKind::Wait);
                let output = if assigned.is_empty() {
                    output
                } else {
                    // Stash the assignment in the frame until the timer fires.
                    self.frame(fid).vars.insert(
                        pending_key(sid),
                        Value::Array(
                            assigned
                                .into_iter()
                                .map(|(k, v)| Value::Array(vec![Value::String(k), v]))
                                .collect(),
                        ),
                    );
                    output
                };
                self.frame(fid).phase = Phase::Wait(WaitRun {
                    state: sid,
                    entered_id,
                    output,
                    timer,
                });
            }
            Err(fail) => self.raise(cx, fid, sid, entered_id, fail),
        }
    }

    // ---- Task --------------------------------------------------------------------------------

    fn start_task_attempt(&mut self, cx: &mut Cx<'_, '_>, fid: u32, at: Attempt) {
        let def = cx.def;
        let state = def.state(at.state);
        let StateKind::Task(task) = &state.kind else {
            unreachable!("task attempt on a Task state")
        };
        let flavour = match &task.resource {
            Resource::LambdaFunction { .. } => TaskFlavour::Lambda,
            Resource::Activity { .. } => TaskFlavour::Activity,
            Resource::Service { .. } => TaskFlavour::Service,
        };
        // Callback tasks and activities wait for a token; `.sync` tasks get one too, since AWS
        // lets SendTaskSuccess end them early (recorded).
        let needs_token = matches!(task.resource, Resource::Activity { .. })
            || matches!(
                task.resource.pattern(),
                Pattern::WaitForTaskToken | Pattern::Sync | Pattern::Sync2
            );
        let token = needs_token.then(|| {
            let a = cx.entropy.next_u64();
            let b = cx.entropy.next_u64();
            crate::token::encode(&self.info.execution_arn, self.next_event_id, a, b)
        });
        let entered_id = at.entered_id;
        self.frame(fid).phase = Phase::Task(Box::new(TaskRun {
            at,
            flavour,
            task_id: None,
            token: token.clone(),
            submitted: None,
            timeout_timer: None,
            heartbeat_timer: None,
            heartbeat_seconds: None,
        }));
        let prepared = self.prepare_task(cx, fid, task, token.as_deref());
        let (parameters, timeout, heartbeat, task_credentials) = match prepared {
            Ok(p) => p,
            Err(fail) => {
                self.raise(cx, fid, state_id_of(self, fid), entered_id, fail);
                return;
            }
        };
        let params_text = self.text(&parameters);
        if params_text.len() > PAYLOAD_LIMIT {
            let err = StateError::new(
                "States.DataLimitExceeded",
                format!(
                    "The state/task '{}' returned a result with a size exceeding the maximum number of bytes service limit.",
                    state.name
                ),
            );
            let prev = self.frame(fid).prev;
            self.recover_or_fail(cx, fid, err, prev, None);
            return;
        }
        let res = task_resource(&task.resource);
        let sched_kind = match flavour {
            TaskFlavour::Service => EventKind::TaskScheduled {
                res: res.clone(),
                region: self.info.region.clone(),
                parameters: params_text,
                timeout_in_seconds: timeout.filter(|_| task.timeout.is_some()),
                heartbeat_in_seconds: heartbeat,
                task_credentials: task_credentials.clone(),
            },
            TaskFlavour::Lambda => EventKind::LambdaFunctionScheduled {
                resource: task.resource_text.clone(),
                input: params_text,
                timeout_in_seconds: timeout.filter(|_| task.timeout.is_some()),
                task_credentials: task_credentials.clone(),
            },
            TaskFlavour::Activity => EventKind::ActivityScheduled {
                resource: task.resource_text.clone(),
                input: params_text,
                timeout_in_seconds: timeout.filter(|_| task.timeout.is_some()),
                heartbeat_in_seconds: heartbeat,
            },
        };
        let scheduled_id = self.emit_chained(cx, fid, sched_kind);
        // With history off, event ids are not allocated; use a private counter for task ids.
        let task_id = if scheduled_id != 0 {
            scheduled_id
        } else {
            let id = self.next_timer_id;
            self.next_timer_id += 1;
            id
        };
        match flavour {
            TaskFlavour::Service => {
                self.emit_chained(cx, fid, EventKind::TaskStarted(res));
            }
            TaskFlavour::Lambda => {
                self.emit_chained(cx, fid, EventKind::LambdaFunctionStarted);
            }
            TaskFlavour::Activity => {}
        }
        let timeout_timer =
            timeout.map(|t| self.new_timer(cx, cx.now + t as i64 * 1000, TimerKind::TaskTimeout));
        let heartbeat_timer =
            heartbeat.map(|h| self.new_timer(cx, cx.now + h as i64 * 1000, TimerKind::Heartbeat));
        let attempt = match &self.frame(fid).phase {
            Phase::Task(t) => t.at.retry_count,
            _ => 0,
        };
        if let Phase::Task(t) = &mut self.frame(fid).phase {
            t.task_id = Some(task_id);
            t.timeout_timer = timeout_timer;
            t.heartbeat_timer = heartbeat_timer;
            t.heartbeat_seconds = heartbeat;
        }
        cx.step.commands.push(Command::ScheduleTask(TaskRequest {
            task_id,
            state_name: state.name.clone(),
            resource: task.resource_text.clone(),
            parameters,
            token,
            timeout_seconds: timeout,
            heartbeat_seconds: heartbeat,
            attempt,
        }));
    }

    /// Evaluate a Task's input processing, timeout and heartbeat for the current attempt.
    fn prepare_task(
        &mut self,
        cx: &mut Cx<'_, '_>,
        fid: u32,
        task: &Task,
        token: Option<&str>,
    ) -> Result<PreparedTask, Failure> {
        let Phase::Task(run) = &self.frame_ref(fid).expect("live").phase else {
            unreachable!()
        };
        let at = run.at.clone();
        let state = cx.def.state(at.state);
        let sc = OwnedStateContext {
            state: at.state,
            entered: at.entered_at,
            retry_count: Some(at.retry_count),
            token: token.map(str::to_string),
            item: None,
            item_key: None,
        };
        match state.query_language {
            QueryLanguage::JsonPath => {
                let ctx = LazyContext::new(&self.info, sc.view(cx.def));
                let vars = self.var_lookup(fid);
                let env = Env::new(&at.raw_input, &ctx, &vars);
                let effective = eval::input_path(&task.flow.input_path, &at.raw_input, &env)?;
                let env = Env::new(&effective, &ctx, &vars);
                let parameters = match &task.parameters {
                    Some(Payload::JsonPath(t)) => eval::template(t, &env, &mut *cx.entropy)?,
                    _ => effective.clone().into_owned(),
                };
                let timeout =
                    eval::number_seconds(task.timeout.as_ref(), "TimeoutSecondsPath", &env)?;
                let heartbeat =
                    eval::number_seconds(task.heartbeat.as_ref(), "HeartbeatSecondsPath", &env)?;
                let credentials = match &task.credentials {
                    Some(Payload::JsonPath(t)) => Some(eval::template(t, &env, &mut *cx.entropy)?),
                    _ => None,
                };
                Ok((parameters, timeout, heartbeat, role_of(credentials)))
            }
            QueryLanguage::Jsonata => {
                let js_vars = self.var_lookup(fid);

                let js_states = eval::states_object(self.info_ref(), cx.def, &at.raw_input, &sc);

                let mut js = eval::JsonataEnv::new(&js_states, cx.now, &mut *cx.entropy, &js_vars);
                let parameters = match &task.parameters {
                    Some(Payload::Jsonata(t)) => js.template(t, "Arguments")?,
                    _ => at.raw_input.clone(),
                };
                let timeout = js.seconds(task.timeout.as_ref(), "TimeoutSeconds")?;
                let heartbeat = js.seconds(task.heartbeat.as_ref(), "HeartbeatSeconds")?;
                let credentials = match &task.credentials {
                    Some(Payload::Jsonata(t)) => Some(js.template(t, "Credentials")?),
                    _ => None,
                };
                Ok((parameters, timeout, heartbeat, role_of(credentials)))
            }
        }
    }

    /// Find the frame waiting for `task_id`.
    fn task_frame(&self, task_id: TaskId) -> Option<u32> {
        self.frames.iter().enumerate().find_map(|(i, f)| match f {
            Some(Frame {
                phase: Phase::Task(t),
                ..
            }) if t.task_id == Some(task_id) && t.at.retry_timer.is_none() => Some(i as u32),
            _ => None,
        })
    }

    fn task_started(&mut self, cx: &mut Cx<'_, '_>, task_id: TaskId, worker_name: Option<String>) {
        let Some(fid) = self.task_frame(task_id) else {
            return;
        };
        let flavour = match &self.frame(fid).phase {
            Phase::Task(t) => t.flavour,
            _ => return,
        };
        if flavour == TaskFlavour::Activity {
            self.emit_chained(cx, fid, EventKind::ActivityStarted { worker_name });
        }
    }

    fn task_submitted(&mut self, cx: &mut Cx<'_, '_>, task_id: TaskId, output: Value) {
        let Some(fid) = self.task_frame(task_id) else {
            return;
        };
        let sid = state_id_of(self, fid);
        let StateKind::Task(task) = &cx.def.state(sid).kind else {
            return;
        };
        let text = self.text(&output);
        if let Phase::Task(t) = &mut self.frame(fid).phase {
            if t.submitted.is_some() {
                return;
            }
            t.submitted = Some(output);
        }
        self.emit_chained(
            cx,
            fid,
            EventKind::TaskSubmitted {
                res: task_resource(&task.resource),
                output: text,
            },
        );
    }

    fn heartbeat(&mut self, cx: &mut Cx<'_, '_>, task_id: TaskId) {
        let Some(fid) = self.task_frame(task_id) else {
            return;
        };
        let (old, secs) = match &mut self.frame(fid).phase {
            Phase::Task(t) => (t.heartbeat_timer.take(), t.heartbeat_seconds),
            _ => return,
        };
        let Some(secs) = secs else { return };
        Self::cancel_timer(cx, old);
        let timer = self.new_timer(cx, cx.now + secs as i64 * 1000, TimerKind::Heartbeat);
        if let Phase::Task(t) = &mut self.frame(fid).phase {
            t.heartbeat_timer = Some(timer);
        }
    }

    fn task_succeeded(&mut self, cx: &mut Cx<'_, '_>, task_id: TaskId, result: Value) {
        let Some(fid) = self.task_frame(task_id) else {
            return;
        };
        let Phase::Task(run) = self.take_phase(fid) else {
            return;
        };
        Self::cancel_timer(cx, run.timeout_timer);
        Self::cancel_timer(cx, run.heartbeat_timer);
        let sid = run.at.state;
        let state = cx.def.state(sid);
        let StateKind::Task(task) = &state.kind else {
            return;
        };
        let text = self.text(&result);
        if text.len() > PAYLOAD_LIMIT {
            // AWS names an optimized integration by its service (`'lambda'`) and a legacy
            // Lambda or activity task by its ARN (both recorded).
            let culprit = match run.flavour {
                TaskFlavour::Service => task.resource.resource_type().to_string(),
                TaskFlavour::Lambda | TaskFlavour::Activity => task.resource_text.clone(),
            };
            self.frame(fid).phase = Phase::Task(run);
            let err = StateError::new(
                "States.DataLimitExceeded",
                format!(
                    "The state/task '{culprit}' returned a result with a size exceeding the maximum number of bytes service limit."
                ),
            );
            self.task_failed_inner(cx, fid, err, false);
            return;
        }
        let kind = match run.flavour {
            TaskFlavour::Service => EventKind::TaskSucceeded {
                res: task_resource(&task.resource),
                output: text,
            },
            TaskFlavour::Lambda => EventKind::LambdaFunctionSucceeded { output: text },
            TaskFlavour::Activity => EventKind::ActivitySucceeded { output: text },
        };
        self.emit_chained(cx, fid, kind);
        let at = run.at.clone();
        self.frame(fid).phase = Phase::Task(run);
        let r = self.task_output(cx, fid, task, &at, result);
        match r {
            Ok((output, assigned)) => {
                self.frame(fid).phase = Phase::Exit {
                    state: sid,
                    output,
                    next: task.next,
                    assigned,
                };
                self.enqueue(fid);
            }
            Err(fail) => self.raise(cx, fid, sid, at.entered_id, fail),
        }
    }

    /// ResultSelector, ResultPath and OutputPath (or JSONata Output) over a task result.
    fn task_output(
        &mut self,
        cx: &mut Cx<'_, '_>,
        fid: u32,
        task: &Task,
        at: &Attempt,
        result: Value,
    ) -> Result<(Value, Assignments), Failure> {
        result_flow(
            self,
            cx,
            fid,
            at,
            &task.flow,
            task.result_selector.as_ref(),
            result,
        )
    }

    fn task_failed(
        &mut self,
        cx: &mut Cx<'_, '_>,
        task_id: TaskId,
        err: StateError,
        timed_out: bool,
    ) {
        let Some(fid) = self.task_frame(task_id) else {
            return;
        };
        self.task_failed_inner(cx, fid, err, timed_out);
    }

    fn task_failed_inner(
        &mut self,
        cx: &mut Cx<'_, '_>,
        fid: u32,
        err: StateError,
        timed_out: bool,
    ) {
        let (flavour, sid, timeout_timer, heartbeat_timer, task_id, submitted) =
            match &mut self.frame(fid).phase {
                Phase::Task(t) => (
                    t.flavour,
                    t.at.state,
                    t.timeout_timer.take(),
                    t.heartbeat_timer.take(),
                    t.task_id,
                    t.submitted.clone(),
                ),
                _ => return,
            };
        Self::cancel_timer(cx, timeout_timer);
        Self::cancel_timer(cx, heartbeat_timer);
        let StateKind::Task(task) = &cx.def.state(sid).kind else {
            return;
        };
        if timed_out && let Some(task_id) = task_id {
            cx.step.commands.push(Command::CancelTask {
                task_id,
                resource: task.resource_text.clone(),
                submitted,
            });
        }
        let ec = ErrorCause {
            error: err.error.clone(),
            cause: err.cause.clone(),
        };
        let res = task_resource(&task.resource);
        let kind = match (run_flavour(flavour), timed_out) {
            (TaskFlavour::Service, false) => EventKind::TaskFailed(res, ec),
            (TaskFlavour::Service, true) => EventKind::TaskTimedOut(res, ec),
            (TaskFlavour::Lambda, false) => EventKind::LambdaFunctionFailed(ec),
            (TaskFlavour::Lambda, true) => EventKind::LambdaFunctionTimedOut(ec),
            (TaskFlavour::Activity, false) => EventKind::ActivityFailed(ec),
            (TaskFlavour::Activity, true) => EventKind::ActivityTimedOut(ec),
        };
        let failing = self.emit_chained(cx, fid, kind);
        let failing = if failing == 0 {
            self.frame(fid).prev
        } else {
            failing
        };
        self.recover_or_fail(cx, fid, err, failing, None);
    }

    // ---- timers ------------------------------------------------------------------------------

    fn timer_fired(&mut self, cx: &mut Cx<'_, '_>, timer_id: TimerId) {
        if self.execution_timer == Some(timer_id) {
            self.execution_timer = None;
            let ec = ErrorCause {
                error: Some("States.Timeout".into()),
                cause: None,
            };
            self.emit(cx, None, EventKind::ExecutionTimedOut(ec), 0);
            self.cancel_everything(cx);
            self.close(
                cx,
                Outcome::TimedOut {
                    error: Some("States.Timeout".into()),
                    cause: None,
                },
            );
            return;
        }
        let found = self.frames.iter().enumerate().find_map(|(i, f)| {
            let f = f.as_ref()?;
            let what = match &f.phase {
                Phase::Wait(w) if w.timer == timer_id => TimerUse::Wait,
                Phase::Task(t) if t.at.retry_timer == Some(timer_id) => TimerUse::Retry,
                Phase::Task(t) if t.timeout_timer == Some(timer_id) => TimerUse::TaskTimeout,
                Phase::Task(t) if t.heartbeat_timer == Some(timer_id) => TimerUse::Heartbeat,
                Phase::Parallel(p) if p.at.retry_timer == Some(timer_id) => TimerUse::Retry,
                Phase::Map(m) if m.at.retry_timer == Some(timer_id) => TimerUse::Retry,
                _ => return None,
            };
            Some((i as u32, what))
        });
        let Some((fid, what)) = found else {
            cx.step.stale = true;
            return;
        };
        match what {
            TimerUse::Wait => {
                let Phase::Wait(w) = self.take_phase(fid) else {
                    return;
                };
                let state = cx.def.state(w.state);
                let next = match &state.kind {
                    StateKind::Wait(ws) => ws.next,
                    _ => Transition::End,
                };
                let assigned = self
                    .frame(fid)
                    .vars
                    .remove(&pending_key(w.state))
                    .and_then(|v| match v {
                        Value::Array(a) => Some(
                            a.into_iter()
                                .filter_map(|p| match p {
                                    Value::Array(mut kv) if kv.len() == 2 => {
                                        let v = kv.pop()?;
                                        let k = kv.pop()?.as_str()?.to_string();
                                        Some((k, v))
                                    }
                                    _ => None,
                                })
                                .collect(),
                        ),
                        _ => None,
                    })
                    .unwrap_or_default();
                self.frame(fid).phase = Phase::Exit {
                    state: w.state,
                    output: w.output,
                    next,
                    assigned,
                };
                self.enqueue(fid);
            }
            TimerUse::Retry => match self.take_phase(fid) {
                Phase::Task(mut t) => {
                    t.at.retry_timer = None;
                    let at = t.at.clone();
                    self.start_task_attempt(cx, fid, at);
                }
                Phase::Parallel(mut p) => {
                    p.at.retry_timer = None;
                    self.start_parallel_attempt(cx, fid, p.at);
                }
                Phase::Map(mut m) => {
                    m.at.retry_timer = None;
                    self.start_map_attempt(cx, fid, m.at);
                }
                other => self.frame(fid).phase = other,
            },
            TimerUse::TaskTimeout => {
                if let Phase::Task(t) = &mut self.frame(fid).phase {
                    t.timeout_timer = None;
                }
                let err = StateError {
                    error: Some("States.Timeout".into()),
                    cause: None,
                    heartbeat: false,
                };
                self.task_failed_inner(cx, fid, err, true);
            }
            TimerUse::Heartbeat => {
                if let Phase::Task(t) = &mut self.frame(fid).phase {
                    t.heartbeat_timer = None;
                }
                let err = StateError {
                    error: Some("States.Timeout".into()),
                    cause: None,
                    heartbeat: true,
                };
                self.task_failed_inner(cx, fid, err, true);
            }
        }
    }

    fn stop(&mut self, cx: &mut Cx<'_, '_>, error: Option<String>, cause: Option<String>) {
        let ec = ErrorCause {
            error: error.clone(),
            cause: cause.clone(),
        };
        self.emit(cx, None, EventKind::ExecutionAborted(ec), 0);
        self.cancel_everything(cx);
        self.close(cx, Outcome::Aborted { error, cause });
    }

    // ---- Parallel ----------------------------------------------------------------------------

    fn start_parallel_attempt(&mut self, cx: &mut Cx<'_, '_>, fid: u32, at: Attempt) {
        let def = cx.def;
        let sid = at.state;
        let StateKind::Parallel(par) = &def.state(sid).kind else {
            unreachable!()
        };
        let entered_id = at.entered_id;
        let input = at.raw_input.clone();
        let sc = OwnedStateContext {
            state: sid,
            entered: at.entered_at,
            retry_count: Some(at.retry_count),
            token: None,
            item: None,
            item_key: None,
        };
        self.frame(fid).phase = Phase::Parallel(Box::new(ParallelRun {
            at,
            children: Vec::new(),
            results: Vec::new(),
            remaining: 0,
        }));
        let effective: Result<Value, Failure> = match def.state(sid).query_language {
            QueryLanguage::JsonPath => (|| {
                let ctx = LazyContext::new(&self.info, sc.view(def));
                let vars = self.var_lookup(fid);
                let env = Env::new(&input, &ctx, &vars);
                let effective = eval::input_path(&par.flow.input_path, &input, &env)?;
                match &par.parameters {
                    Some(Payload::JsonPath(t)) => {
                        let env = Env::new(&effective, &ctx, &vars);
                        eval::template(t, &env, cx.entropy)
                    }
                    _ => Ok(effective.into_owned()),
                }
            })(),
            QueryLanguage::Jsonata => {
                let js_vars = self.var_lookup(fid);

                let js_states = eval::states_object(self.info_ref(), cx.def, &input, &sc);

                let mut js = eval::JsonataEnv::new(&js_states, cx.now, &mut *cx.entropy, &js_vars);
                match &par.parameters {
                    Some(Payload::Jsonata(t)) => js.template(t, "Arguments"),
                    _ => Ok(input.clone()),
                }
            }
        };
        let effective = match effective {
            Ok(v) => v,
            Err(fail) => {
                self.raise(cx, fid, sid, entered_id, fail);
                return;
            }
        };
        let started = self.emit_chained(cx, fid, EventKind::ParallelStateStarted);
        let silent = self.frame(fid).silent;
        let n = par.branches.len();
        let kept = self.kept_results(fid, sid, n);
        let mut children = Vec::with_capacity(n);
        for (i, scope) in par.branches.iter().enumerate() {
            if kept[i].is_some() {
                children.push(None);
                continue;
            }
            let start = def.scope(*scope).start_at;
            let child = self.alloc(Frame {
                scope: *scope,
                parent: Some(ParentLink {
                    frame: fid,
                    slot: i as u32,
                }),
                prev: started,
                vars: JsonMap::new(),
                silent,
                entered_prev: 0,
                phase: Phase::Enter {
                    state: start,
                    input: effective.clone(),
                    raw: None,
                },
            });
            self.enqueue(child);
            children.push(Some(child));
        }
        let remaining = kept.iter().filter(|r| r.is_none()).count();
        if let Phase::Parallel(p) = &mut self.frame(fid).phase {
            p.children = children;
            p.results = kept;
            p.remaining = remaining;
        }
        if remaining == 0 {
            let Phase::Parallel(run) = self.take_phase(fid) else {
                unreachable!()
            };
            self.parallel_succeeded(cx, fid, run);
        }
    }

    /// A Parallel or Map whose branches or iterations all finished: `result` goes through
    /// `ResultSelector`, `ResultPath`/`Output` and `Assign`, then the state exits (or raises,
    /// with the run still in its phase so that Retry and Catch see it).
    #[allow(clippy::too_many_arguments)]
    fn exit_with_result(
        &mut self,
        cx: &mut Cx<'_, '_>,
        fid: u32,
        at: &Attempt,
        flow: &DataFlow,
        selector: Option<&ironstep_query::template::Template>,
        next: Transition,
        result: Value,
    ) {
        match result_flow(self, cx, fid, at, flow, selector, result) {
            Ok((output, assigned)) => {
                self.frame(fid).phase = Phase::Exit {
                    state: at.state,
                    output,
                    next,
                    assigned,
                };
                self.enqueue(fid);
            }
            Err(fail) => self.raise(cx, fid, at.state, at.entered_id, fail),
        }
    }

    /// The results a redriven Parallel or Map (top level, first attempt) keeps from the run
    /// that failed; all `None` otherwise.
    fn kept_results(&mut self, fid: u32, sid: StateId, n: usize) -> Vec<Option<Value>> {
        let top = self.frame_ref(fid).is_some_and(|f| f.parent.is_none());
        match self.redrive_results.take() {
            Some((state, results)) if top && state == sid && results.len() == n => results,
            other => {
                // Not this state's: keep it for the state it belongs to.
                if !top || other.as_ref().is_some_and(|(state, _)| *state != sid) {
                    self.redrive_results = other;
                }
                vec![None; n]
            }
        }
    }

    fn parallel_succeeded(&mut self, cx: &mut Cx<'_, '_>, fid: u32, run: Box<ParallelRun>) {
        let def = cx.def;
        let sid = run.at.state;
        let StateKind::Parallel(par) = &def.state(sid).kind else {
            unreachable!()
        };
        let prev = self.frame(fid).prev;
        self.emit(cx, Some(fid), EventKind::ParallelStateSucceeded, prev);
        let result = results_array(&run.results);
        let at = run.at.clone();
        self.frame(fid).phase = Phase::Parallel(run);
        self.exit_with_result(
            cx,
            fid,
            &at,
            &par.flow,
            par.result_selector.as_ref(),
            par.next,
            result,
        );
    }

    // ---- Map ---------------------------------------------------------------------------------

    fn start_map_attempt(&mut self, cx: &mut Cx<'_, '_>, fid: u32, at: Attempt) {
        let def = cx.def;
        let sid = at.state;
        let StateKind::Map(map) = &def.state(sid).kind else {
            unreachable!()
        };
        let entered_id = at.entered_id;
        let input = at.raw_input.clone();
        let sc = OwnedStateContext {
            state: sid,
            entered: at.entered_at,
            retry_count: Some(at.retry_count),
            token: None,
            item: None,
            item_key: None,
        };
        let state_name = def.state(sid).name.clone();
        self.frame(fid).phase = Phase::Map(Box::new(MapRun {
            at,
            effective: Value::Null,
            items: Vec::new(),
            keys: None,
            next_index: 0,
            running: Vec::new(),
            results: Vec::new(),
            done: 0,
            failed: 0,
            max_concurrency: 0,
            tolerated_count: None,
            tolerated_percentage: None,
            iteration_prev: 0,
            completion_event: 0,
            map_run_arn: None,
            first_error: None,
            started_call: self.calls,
            batched: false,
        }));
        // Reading items from, or writing results to, Amazon S3 needs S3: fail loudly rather
        // than run the Map over something else.
        if let Some(fail) = s3_unavailable(map) {
            self.raise(cx, fid, sid, entered_id, fail);
            return;
        }
        let prepared = match def.state(sid).query_language {
            QueryLanguage::JsonPath => (|| {
                let ctx = LazyContext::new(&self.info, sc.view(def));
                let vars = self.var_lookup(fid);
                let env = Env::new(&input, &ctx, &vars);
                let effective = eval::input_path(&map.flow.input_path, &input, &env)?;
                let env = Env::new(&effective, &ctx, &vars);
                let items = match &map.items {
                    Items::Path(p) => eval::map_items(p.as_ref(), &env)?,
                    Items::Jsonata(_) | Items::Input => Vec::new(),
                };
                let mc =
                    eval::number_value(map.max_concurrency.as_ref(), "MaxConcurrencyPath", &env)?;
                let mc = validate_concurrency(mc)?;
                // Tolerance is checked after MapStateStarted (recorded), so keep its result.
                let tolerance = (|| {
                    let tc = eval::number_value(
                        map.tolerated_failure_count.as_ref(),
                        "ToleratedFailureCountPath",
                        &env,
                    )?;
                    let tp = eval::number_value(
                        map.tolerated_failure_percentage.as_ref(),
                        "ToleratedFailurePercentagePath",
                        &env,
                    )?;
                    validate_tolerance(tc, tp)
                })();
                let batch = match &map.item_batcher {
                    None => None,
                    Some(b) => Some(BatchSpec {
                        max_items: batch_limit(
                            eval::number_value(b.max_items.as_ref(), "MaxItemsPerBatchPath", &env)?,
                            "MaxItemsPerBatch",
                        )?,
                        max_bytes: batch_limit(
                            eval::number_value(
                                b.max_bytes.as_ref(),
                                "MaxInputBytesPerBatchPath",
                                &env,
                            )?,
                            "MaxInputBytesPerBatch",
                        )?,
                        input: match &b.batch_input {
                            Some(Payload::JsonPath(t)) => {
                                Some(eval::template(t, &env, &mut *cx.entropy)?)
                            }
                            _ => None,
                        },
                    }),
                };
                Ok::<_, Failure>((effective.into_owned(), items, None, mc, tolerance, batch))
            })(),
            QueryLanguage::Jsonata => (|| {
                let js_vars = self.var_lookup(fid);

                let js_states = eval::states_object(self.info_ref(), cx.def, &input, &sc);

                let mut js = eval::JsonataEnv::new(&js_states, cx.now, &mut *cx.entropy, &js_vars);
                let (items, keys) = match &map.items {
                    Items::Jsonata(t) => js.map_items(t)?,
                    Items::Input => match &input {
                        Value::Array(a) => (a.clone(), None),
                        other => {
                            return Err(Failure::query(
                                format!(
                                    "Map state input must be an array but was: {}",
                                    json::compact(other)
                                ),
                                None,
                            ));
                        }
                    },
                    Items::Path(_) => (Vec::new(), None),
                };
                let mc = js.number(map.max_concurrency.as_ref(), "MaxConcurrency")?;
                let mc = validate_concurrency(mc)?;
                let tolerance = (|| {
                    let tc = js.number(
                        map.tolerated_failure_count.as_ref(),
                        "ToleratedFailureCount",
                    )?;
                    let tp = js.number(
                        map.tolerated_failure_percentage.as_ref(),
                        "ToleratedFailurePercentage",
                    )?;
                    validate_tolerance(tc, tp)
                })();
                let batch = match &map.item_batcher {
                    None => None,
                    Some(b) => Some(BatchSpec {
                        max_items: batch_limit(
                            js.number(b.max_items.as_ref(), "MaxItemsPerBatch")?,
                            "MaxItemsPerBatch",
                        )?,
                        max_bytes: batch_limit(
                            js.number(b.max_bytes.as_ref(), "MaxInputBytesPerBatch")?,
                            "MaxInputBytesPerBatch",
                        )?,
                        input: match &b.batch_input {
                            Some(Payload::Jsonata(t)) => Some(js.template(t, "BatchInput")?),
                            _ => None,
                        },
                    }),
                };
                Ok((input.clone(), items, keys, mc, tolerance, batch))
            })(),
        };
        let (effective, items, keys, mc, tolerance, batch) = match prepared {
            Ok(p) => p,
            Err(fail) => {
                self.raise(cx, fid, sid, entered_id, fail);
                return;
            }
        };
        let n = items.len();
        let started = self.emit_chained(cx, fid, EventKind::MapStateStarted { length: n as u64 });
        // Invalid tolerance values fail the state after MapStateStarted, as recorded.
        let (tc, tp) = match tolerance {
            Ok(t) => t,
            Err(fail) => {
                self.raise(cx, fid, sid, entered_id, fail);
                return;
            }
        };
        let mut prev_for_iterations = started;
        let mut map_run_arn = None;
        if map.mode == MapMode::Distributed {
            let label = map.label.clone().unwrap_or_else(|| {
                let a = cx.entropy.next_u64();
                format!("{:08x}", a as u32)
            });
            let uuid = crate::token::uuid(cx.entropy);
            let arn = format!(
                "arn:aws:states:{}:{}:mapRun:{}/{}:{}",
                self.info.region,
                account_of(&self.info.state_machine_arn),
                self.info.state_machine_name,
                label,
                uuid
            );
            let id = self.emit_chained(
                cx,
                fid,
                EventKind::MapRunStarted {
                    map_run_arn: arn.clone(),
                },
            );
            prev_for_iterations = id;
            map_run_arn = Some(arn);
        }
        if let Phase::Map(m) = &mut self.frame(fid).phase {
            m.effective = effective;
            m.items = items;
            m.keys = keys;
            m.results = vec![None; n];
            m.max_concurrency = mc;
            m.tolerated_count = tc;
            m.tolerated_percentage = tp;
            m.iteration_prev = prev_for_iterations;
            m.completion_event = prev_for_iterations;
            m.map_run_arn = map_run_arn;
        }
        let _ = state_name;
        let Phase::Map(mut run) = self.take_phase(fid) else {
            unreachable!()
        };
        if let Some(spec) = batch.filter(|_| map.mode == MapMode::Distributed) {
            // ItemSelector applies to each item, then the items are grouped: each child gets
            // one batch, and the Map's output has one result per batch.
            let mut selected = Vec::with_capacity(run.items.len());
            for index in 0..run.items.len() {
                let item = run.items[index].clone();
                let value = match &map.item_selector {
                    None => Ok(item),
                    Some(sel) => self.select_item(cx, fid, &run, sel, index, &item),
                };
                match value {
                    Ok(v) => selected.push(v),
                    Err(fail) => {
                        self.frame(fid).phase = Phase::Map(run);
                        self.raise(cx, fid, sid, entered_id, fail);
                        return;
                    }
                }
            }
            run.items = spec.group(selected);
            run.keys = None;
            run.results = vec![None; run.items.len()];
            run.batched = true;
        }
        run.results = self.kept_results(fid, sid, run.items.len());
        run.done = run.results.iter().filter(|r| r.is_some()).count();
        self.map_continue(cx, fid, run);
    }

    /// An iteration ended: an inline Map records `kind` (a Distributed Map's children record
    /// nothing in the parent), and the Map's event chain moves on to the iteration's last event.
    fn record_iteration_end(
        &mut self,
        cx: &mut Cx<'_, '_>,
        pid: u32,
        run: &mut MapRun,
        kind: EventKind,
        last: u64,
    ) {
        if run.map_run_arn.is_none() {
            let id = self.emit(cx, Some(pid), kind, last);
            if id != 0 {
                run.completion_event = id;
            }
        }
        if last != 0 {
            run.iteration_prev = last;
        }
    }

    /// Start iterations up to the concurrency limit; finish the Map when all are done.
    fn map_continue(&mut self, cx: &mut Cx<'_, '_>, fid: u32, mut run: Box<MapRun>) {
        let def = cx.def;
        let sid = run.at.state;
        let StateKind::Map(map) = &def.state(sid).kind else {
            unreachable!()
        };
        let n = run.items.len();
        if run.done == n {
            self.map_succeeded(cx, fid, run);
            return;
        }
        let limit = if run.max_concurrency == 0 {
            usize::MAX
        } else {
            run.max_concurrency
        };
        let distributed = map.mode == MapMode::Distributed;
        let parent_silent = self.frame(fid).silent;
        let name = def.state(sid).name.clone();
        while run.next_index < n && run.running.len() < limit {
            let index = run.next_index;
            run.next_index += 1;
            if run.results[index].is_some() {
                // Kept from before a redrive.
                continue;
            }
            let item = run.items[index].clone();
            // ItemSelector sees the Map's effective input as `$` and the item in `$$.Map.Item`.
            let selected = match &map.item_selector {
                Some(sel) if !run.batched => self.select_item(cx, fid, &run, sel, index, &item),
                _ => Ok(item),
            };
            let input = match selected {
                Ok(v) => v,
                Err(fail) => {
                    let entered_id = run.at.entered_id;
                    self.frame(fid).phase = Phase::Map(run);
                    self.raise(cx, fid, sid, entered_id, fail);
                    return;
                }
            };
            if !distributed {
                let id = self.emit(
                    cx,
                    Some(fid),
                    EventKind::MapIterationStarted {
                        name: name.clone(),
                        index: index as u64,
                    },
                    run.iteration_prev,
                );
                let _ = id;
            }
            let iteration_started = if distributed { 0 } else { self.last_event_id };
            let child = self.alloc(Frame {
                scope: map.processor,
                parent: Some(ParentLink {
                    frame: fid,
                    slot: index as u32,
                }),
                prev: iteration_started,
                vars: JsonMap::new(),
                silent: parent_silent || distributed,
                entered_prev: 0,
                phase: Phase::Enter {
                    state: def.scope(map.processor).start_at,
                    input,
                    raw: None,
                },
            });
            run.running.push((child, self.generations[child as usize]));
            self.enqueue(child);
        }
        self.frame(fid).phase = Phase::Map(run);
    }

    fn select_item(
        &mut self,
        cx: &mut Cx<'_, '_>,
        fid: u32,
        run: &MapRun,
        sel: &Payload,
        index: usize,
        item: &Value,
    ) -> Result<Value, Failure> {
        let sc = OwnedStateContext {
            state: run.at.state,
            entered: run.at.entered_at,
            retry_count: None,
            token: None,
            item: Some((index as u64, item.clone())),
            item_key: run.keys.as_ref().and_then(|k| k.get(index).cloned()),
        };
        match sel {
            Payload::JsonPath(t) => {
                let ctx = LazyContext::new(&self.info, sc.view(cx.def));
                let vars = self.var_lookup(fid);
                let env = Env::new(&run.effective, &ctx, &vars);
                eval::template(t, &env, cx.entropy)
            }
            Payload::Jsonata(t) => {
                let js_vars = self.var_lookup(fid);

                let js_states =
                    eval::states_object(self.info_ref(), cx.def, &run.at.raw_input, &sc);

                let mut js = eval::JsonataEnv::new(&js_states, cx.now, &mut *cx.entropy, &js_vars);
                js.template(t, "ItemSelector")
            }
        }
    }

    fn map_tolerates(&self, run: &MapRun) -> bool {
        let n = run.items.len().max(1) as f64;
        let count_ok = run.tolerated_count.is_some_and(|c| run.failed as u64 <= c);
        let pct_ok = run
            .tolerated_percentage
            .is_some_and(|p| (run.failed as f64 / n) * 100.0 <= p);
        count_ok || pct_ok
    }

    fn map_succeeded(&mut self, cx: &mut Cx<'_, '_>, fid: u32, run: Box<MapRun>) {
        let def = cx.def;
        let sid = run.at.state;
        let StateKind::Map(map) = &def.state(sid).kind else {
            unreachable!()
        };
        let mut prev = run.completion_event;
        if let Some(arn) = &run.map_run_arn {
            cx.step
                .map_runs
                .push(final_progress(arn, &run, "SUCCEEDED"));
            let id = self.emit(cx, Some(fid), EventKind::MapRunSucceeded, prev);
            if id != 0 {
                prev = id;
            }
        }
        self.emit(cx, Some(fid), EventKind::MapStateSucceeded, prev);
        // AWS's MapStateExited after a Map Run whose children finished at once (Pass-only) points
        // to MapRunStarted, unless the Map is the execution's first state; after children that
        // waited (tasks) it points to MapRunSucceeded. All three are recorded; the rule looks like
        // a race inside AWS, reproduced here as observed.
        let exit_prev = if run.map_run_arn.is_some()
            && self.frame(fid).entered_prev != 0
            && run.started_call == self.calls
        {
            run.completion_event
        } else {
            prev
        };
        if exit_prev != 0 {
            self.frame(fid).prev = exit_prev;
        }
        let result = results_array(&run.results);
        let at = run.at.clone();
        self.frame(fid).phase = Phase::Map(run);
        self.exit_with_result(
            cx,
            fid,
            &at,
            &map.flow,
            map.result_selector.as_ref(),
            map.next,
            result,
        );
    }

    fn map_failed(
        &mut self,
        cx: &mut Cx<'_, '_>,
        fid: u32,
        mut run: Box<MapRun>,
        err: StateError,
        last: u64,
    ) {
        let name = cx.def.state(run.at.state).name.clone();
        let running = std::mem::take(&mut run.running);
        for (c, generation) in running {
            if self.generations.get(c as usize) != Some(&generation) {
                continue;
            }
            let index = self
                .frame_ref(c)
                .and_then(|f| f.parent)
                .map(|l| l.slot as u64);
            let silent = self.frame_ref(c).is_some_and(|f| f.silent);
            self.abort_frame(cx, c, last);
            if let Some(index) = index
                && !silent
            {
                self.emit(
                    cx,
                    Some(fid),
                    EventKind::MapIterationAborted {
                        name: name.clone(),
                        index,
                    },
                    last,
                );
            }
        }
        let tolerance_set = run.tolerated_count.is_some() || run.tolerated_percentage.is_some();
        let err = if tolerance_set {
            StateError::new(
                "States.ExceedToleratedFailureThreshold",
                "The specified tolerated failure threshold was exceeded",
            )
        } else {
            err
        };
        let mut failing = last;
        if let Some(arn) = &run.map_run_arn {
            cx.step.map_runs.push(final_progress(arn, &run, "FAILED"));
            let id = self.emit(
                cx,
                Some(fid),
                EventKind::MapRunFailed(ErrorCause {
                    error: err.error.clone(),
                    cause: err.cause.clone(),
                }),
                failing,
            );
            if id != 0 {
                failing = id;
            }
        }
        if failing != 0 {
            self.frame(fid).prev = failing;
        }
        self.frame(fid).phase = Phase::Map(run);
        self.recover_or_fail(cx, fid, err, failing, Some(EventKind::MapStateFailed));
    }
}

#[derive(Clone, Copy)]
enum TimerUse {
    Wait,
    Retry,
    TaskTimeout,
    Heartbeat,
}

fn run_flavour(f: TaskFlavour) -> TaskFlavour {
    f
}

/// The per-state context facts, owned so they can outlive borrows of the frame.
#[derive(Debug, Clone)]
pub(crate) struct OwnedStateContext {
    pub(crate) state: StateId,
    pub(crate) entered: Millis,
    pub(crate) retry_count: Option<u32>,
    pub(crate) token: Option<String>,
    pub(crate) item: Option<(u64, Value)>,
    pub(crate) item_key: Option<String>,
}

impl OwnedStateContext {
    fn plain(state: StateId, entered: Millis) -> Self {
        OwnedStateContext {
            state,
            entered,
            retry_count: None,
            token: None,
            item: None,
            item_key: None,
        }
    }

    pub(crate) fn view<'a>(&'a self, def: &'a Definition) -> StateContext<'a> {
        StateContext {
            name: &def.state(self.state).name,
            entered: self.entered,
            retry_count: self.retry_count,
            token: self.token.as_deref(),
            map_item: self.item.as_ref().map(|(i, v)| (*i, v)),
            map_key: self.item_key.as_deref(),
        }
    }
}

/// Variable lookup from one frame outwards.
pub(crate) struct VarLookup<'a> {
    exec: &'a Execution,
    fid: u32,
}

impl<'a> VarLookup<'a> {
    pub(crate) fn get(&self, name: &str) -> Option<&'a Value> {
        self.exec.lookup_var(self.fid, name)
    }
}

/// ResultSelector → ResultPath → OutputPath (JSONPath) or Output (JSONata), plus Assign, over a
/// result (task, Parallel or Map).
fn result_flow(
    exec: &mut Execution,
    cx: &mut Cx<'_, '_>,
    fid: u32,
    at: &Attempt,
    flow: &DataFlow,
    selector: Option<&ironstep_query::template::Template>,
    result: Value,
) -> Result<(Value, Assignments), Failure> {
    let state = cx.def.state(at.state);
    let sc = OwnedStateContext {
        state: at.state,
        entered: at.entered_at,
        retry_count: Some(at.retry_count),
        token: None,
        item: None,
        item_key: None,
    };
    match state.query_language {
        QueryLanguage::JsonPath => {
            let ctx = LazyContext::new(&exec.info, sc.view(cx.def));
            let vars = exec.var_lookup(fid);
            let env = Env::new(&result, &ctx, &vars);
            let assigned = match &flow.assign {
                Some(Payload::JsonPath(t)) => {
                    assign_pairs(eval::template(t, &env, &mut *cx.entropy)?)
                }
                _ => Vec::new(),
            };
            let selected = match selector {
                Some(t) => eval::template(t, &env, &mut *cx.entropy)?,
                None => result,
            };
            let merged = eval::result_path(&flow.result_path, at.raw_input.clone(), selected)?;
            let output = eval::output_path(&flow.output_path, merged, |path, v| {
                eval::select(path, &Env::new(v, &ctx, &vars))
            })?;
            Ok((output, assigned))
        }
        QueryLanguage::Jsonata => {
            let js_vars = exec.var_lookup(fid);

            let js_states = eval::states_object(exec.info_ref(), cx.def, &at.raw_input, &sc);

            let mut js = eval::JsonataEnv::new(&js_states, cx.now, &mut *cx.entropy, &js_vars);
            js.set_result(&result);
            let assigned = match &flow.assign {
                Some(Payload::Jsonata(t)) => assign_pairs(js.template(t, "Assign")?),
                _ => Vec::new(),
            };
            let output = match &flow.output {
                Some(t) => js.template(t, "Output")?,
                None => result,
            };
            Ok((output, assigned))
        }
    }
}

/// A Task's input, timeout, heartbeat and credentials role for one attempt.
type PreparedTask = (Value, Option<u64>, Option<u64>, Option<String>);

/// The role of an evaluated `Credentials` block (`{"RoleArn": ...}`).
fn role_of(credentials: Option<Value>) -> Option<String> {
    credentials?.get("RoleArn")?.as_str().map(str::to_string)
}

fn final_progress(arn: &str, run: &MapRun, status: &str) -> MapRunProgress {
    MapRunProgress {
        map_run_arn: arn.to_string(),
        status: status.into(),
        total: run.items.len() as u64,
        running: 0,
        succeeded: (run.done - run.failed) as u64,
        failed: run.failed as u64,
        max_concurrency: run.max_concurrency as u64,
        tolerated_failure_count: run.tolerated_count,
        tolerated_failure_percentage: run.tolerated_percentage,
    }
}

/// Where a top-level frame would resume if the execution is redriven.
fn redrive_point_of(frame: &Frame) -> Option<RedrivePoint> {
    let (state, input, results) = match &frame.phase {
        Phase::Enter { state, input, .. } => (*state, input.clone(), None),
        Phase::Task(t) => (t.at.state, t.at.raw_input.clone(), None),
        Phase::Parallel(p) => (p.at.state, p.at.raw_input.clone(), Some(p.results.clone())),
        Phase::Map(m) => (m.at.state, m.at.raw_input.clone(), Some(m.results.clone())),
        Phase::Wait(w) => (w.state, w.output.clone(), None),
        Phase::Exit { .. } | Phase::Busy => return None,
    };
    Some(RedrivePoint {
        state,
        input,
        vars: frame.vars.clone(),
        results: results.filter(|r| r.iter().any(Option::is_some)),
    })
}

fn assign_pairs(v: Value) -> Assignments {
    match v {
        Value::Object(m) => m.into_iter().collect(),
        _ => Vec::new(),
    }
}

/// The reserved variable key under which a Wait state keeps its pending assignments.
fn pending_key(sid: StateId) -> String {
    format!("\u{0}wait-assign-{}", sid.0)
}

fn state_type(state: &State) -> StateType {
    match &state.kind {
        StateKind::Pass(_) => StateType::Pass,
        StateKind::Task(_) => StateType::Task,
        StateKind::Choice(_) => StateType::Choice,
        StateKind::Wait(_) => StateType::Wait,
        StateKind::Succeed(_) => StateType::Succeed,
        StateKind::Fail(_) => StateType::Fail,
        StateKind::Parallel(_) => StateType::Parallel,
        StateKind::Map(_) => StateType::Map,
    }
}

fn task_resource(r: &Resource) -> TaskResource {
    TaskResource {
        resource_type: Arc::from(r.resource_type()),
        resource: Arc::from(r.resource_name().as_str()),
    }
}

fn task_resource_text(def: &Definition, sid: StateId) -> String {
    match &def.state(sid).kind {
        StateKind::Task(t) => t.resource_text.clone(),
        _ => String::new(),
    }
}

fn state_id_of(exec: &Execution, fid: u32) -> StateId {
    match exec.frame_ref(fid).map(|f| &f.phase) {
        Some(Phase::Task(t)) => t.at.state,
        Some(Phase::Parallel(p)) => p.at.state,
        Some(Phase::Map(m)) => m.at.state,
        Some(Phase::Wait(w)) => w.state,
        Some(Phase::Enter { state, .. }) | Some(Phase::Exit { state, .. }) => *state,
        _ => StateId(0),
    }
}

fn account_of(sm_arn: &str) -> &str {
    sm_arn.split(':').nth(4).unwrap_or("123456789012")
}

/// Branch or iteration results in order; a slot without one is `null`.
fn results_array(results: &[Option<Value>]) -> Value {
    Value::Array(
        results
            .iter()
            .map(|r| r.clone().unwrap_or(Value::Null))
            .collect(),
    )
}

/// `ItemReader` and `ResultWriter` (with a `Resource`) talk to Amazon S3, which ironstep does not
/// have: the Map fails with the error AWS uses for a reader or writer failure.
fn s3_unavailable(map: &ironstep_asl::Map) -> Option<Failure> {
    let resource = |v: &Value| v.get("Resource").and_then(Value::as_str).map(str::to_owned);
    if let Some(r) = &map.item_reader {
        let what = resource(r).unwrap_or_else(|| "(no Resource)".into());
        return Some(Failure::named(
            "States.ItemReaderFailed",
            format!(
                "ItemReader {what} is not supported: ironstep has no Amazon S3, so a Map reads its items from the state input (ItemsPath/Items)"
            ),
        ));
    }
    if let Some(what) = map.result_writer.as_ref().and_then(resource) {
        return Some(Failure::named(
            "States.ResultWriterFailed",
            format!(
                "ResultWriter {what} is not supported: ironstep has no Amazon S3; remove ResultWriter to get the results in the Map's output"
            ),
        ));
    }
    None
}

/// An `ItemBatcher` resolved for one Map run.
struct BatchSpec {
    max_items: Option<usize>,
    max_bytes: Option<usize>,
    input: Option<Value>,
}

impl BatchSpec {
    /// Group items in order: a batch closes when it holds `max_items` items or when one more
    /// would take its JSON text (with `BatchInput`) over `max_bytes`. A single item larger than
    /// the byte limit still gets a batch of its own.
    fn group(&self, items: Vec<Value>) -> Vec<Value> {
        let base = self
            .input
            .as_ref()
            .map_or(0, |b| json::compact(b).len() + "\"BatchInput\":,".len())
            + "{\"Items\":[]}".len();
        let mut batches = Vec::new();
        let mut current: Vec<Value> = Vec::new();
        let mut bytes = base;
        for item in items {
            // Only measured when a byte limit is set; a comma separates items after the first.
            let size = if self.max_bytes.is_some() {
                json::compact(&item).len()
            } else {
                0
            };
            let full_items = self.max_items.is_some_and(|m| current.len() >= m);
            let full_bytes = self
                .max_bytes
                .is_some_and(|m| bytes + size + usize::from(!current.is_empty()) > m);
            if !current.is_empty() && (full_items || full_bytes) {
                batches.push(self.batch(std::mem::take(&mut current)));
                bytes = base;
            }
            bytes += size + usize::from(!current.is_empty());
            current.push(item);
        }
        if !current.is_empty() {
            batches.push(self.batch(current));
        }
        batches
    }

    fn batch(&self, items: Vec<Value>) -> Value {
        let mut obj = JsonMap::new();
        if let Some(b) = &self.input {
            obj.insert("BatchInput".into(), b.clone());
        }
        obj.insert("Items".into(), Value::Array(items));
        Value::Object(obj)
    }
}

/// `MaxItemsPerBatch` / `MaxInputBytesPerBatch` (or their paths) must be positive integers.
fn batch_limit(v: Option<f64>, field: &str) -> Result<Option<usize>, Failure> {
    match v {
        None => Ok(None),
        Some(x) if x >= 1.0 && x.fract() == 0.0 => Ok(Some(x as usize)),
        Some(x) => Err(Failure::runtime(format!(
            "The {field} field refers to value \"{}\" which is not a positive integer",
            json::number_text(x)
        ))),
    }
}

fn validate_concurrency(mc: Option<f64>) -> Result<usize, Failure> {
    match mc {
        None => Ok(0),
        Some(v) if v >= 0.0 && v.fract() == 0.0 => Ok(v as usize),
        Some(v) => Err(Failure::runtime(format!(
            "The MaxConcurrencyPath field refers to value \"{}\" which is not a valid integer",
            json::number_text(v)
        ))),
    }
}

fn validate_tolerance(
    count: Option<f64>,
    pct: Option<f64>,
) -> Result<(Option<u64>, Option<f64>), Failure> {
    let count = match count {
        None => None,
        Some(c) if c < 0.0 => {
            return Err(Failure::runtime(
                "ToleratedFailureCount cannot be negative.",
            ));
        }
        Some(c) => Some(c as u64),
    };
    let pct = match pct {
        None => None,
        Some(p) if !(0.0..=100.0).contains(&p) => {
            return Err(Failure::runtime(
                "ToleratedFailurePercentage must be between 0 and 100.",
            ));
        }
        Some(p) => Some(p),
    };
    Ok((count, pct))
}
