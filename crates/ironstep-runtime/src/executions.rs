//! Executions: start, deliver inputs, commit steps, act on commands, describe, list, history,
//! stop, task tokens, and crash recovery.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use ironstep_asl::Definition;
use ironstep_core::{
    Command, Execution, ExecutionInfo, HistoryEvent, Input, Options, Outcome, Step, TaskId,
    TaskRequest, TimerKind,
};
use ironstep_store::cluster::{Acquire, Committed, Fenced, Lease};
use ironstep_store::{
    DispatchRecord, ExecutionFilter, ExecutionRecord, Mutation, StoreError, StoredEvent,
    TimerRecord,
};
use serde_json::Value;
use tokio::sync::{Mutex as AsyncMutex, oneshot};

use crate::arn;
use crate::error::{ErrorCode, ServiceError, ServiceResult};
use crate::{Engine, Inner, Millis, OsEntropy, Recovered, lock, parse_json};

/// The largest execution input AWS accepts (bytes).
const MAX_INPUT: usize = 262_144;

pub(crate) struct Live {
    pub(crate) exec: Execution,
    def: Arc<Definition>,
    pub(crate) record: ExecutionRecord,
    pub(crate) express: bool,
    /// Events of executions that are not persisted (Express with history on).
    events: Vec<HistoryEvent>,
    /// Cluster mode: the lease this node holds on the execution (`None` once released).
    pub(crate) lease: Option<Lease>,
    /// Cluster mode: inbox entries the next commit consumes.
    pub(crate) inbox_done: Vec<u64>,
    /// Cluster mode: the last commit saw inputs waiting in the inbox.
    pub(crate) inbox_waiting: bool,
    /// Cluster mode: the timer the next commit consumes (its row is deleted with the step).
    pub(crate) fired_timer: Option<u64>,
}

impl Live {
    /// Nothing keeps the execution in memory: no task runs and no token is awaited (it then
    /// waits only on timers, which reload it).
    pub(crate) fn idle(&self) -> bool {
        !self.express && self.exec.running_tasks().is_empty() && self.exec.open_tokens().is_empty()
    }
}

#[derive(Default)]
pub(crate) struct Slot {
    pub(crate) live: Option<Live>,
    /// Set when the slot was removed from the map; a waiter must fetch the current one.
    pub(crate) retired: bool,
}

#[derive(Default)]
pub(crate) struct LiveMap {
    map: Mutex<HashMap<String, Arc<AsyncMutex<Slot>>>>,
}

impl LiveMap {
    pub(crate) fn slot(&self, arn: &str) -> Arc<AsyncMutex<Slot>> {
        lock(&self.map)
            .entry(arn.to_string())
            .or_insert_with(|| Arc::new(AsyncMutex::new(Slot::default())))
            .clone()
    }

    pub(crate) fn remove(&self, arn: &str, slot: &Arc<AsyncMutex<Slot>>) {
        let mut map = lock(&self.map);
        if map.get(arn).is_some_and(|s| Arc::ptr_eq(s, slot)) {
            map.remove(arn);
        }
    }

    /// How many executions are held in memory (for memory measurements).
    pub(crate) fn len(&self) -> usize {
        lock(&self.map).len()
    }

    /// The executions held in memory (or being worked on).
    pub(crate) fn arns(&self) -> Vec<String> {
        lock(&self.map).keys().cloned().collect()
    }

    pub(crate) fn contains(&self, arn: &str) -> bool {
        lock(&self.map).contains_key(arn)
    }
}

/// Callers waiting for executions to close (StartSyncExecution, `.sync` parents, tests).
#[derive(Default)]
pub(crate) struct Waiters {
    pub(crate) map: Mutex<HashMap<String, Vec<oneshot::Sender<ExecutionRecord>>>>,
}

/// What StartExecution returns.
#[derive(Debug, Clone)]
pub struct StartOutcome {
    /// `executionArn`.
    pub execution_arn: String,
    /// `startDate`.
    pub start_date: Millis,
}

/// What StartSyncExecution returns.
#[derive(Debug, Clone)]
pub struct SyncOutcome {
    /// The closed execution.
    pub record: ExecutionRecord,
}

/// One page of history.
#[derive(Debug, Clone)]
pub struct HistoryPage {
    /// Events in AWS's JSON shape.
    pub events: Vec<Value>,
    /// Where the next page starts (the id of its first event), if any.
    pub next: Option<u64>,
}

/// Options of a start.
#[derive(Debug, Clone, Default)]
pub struct StartRequest {
    /// `stateMachineArn` (possibly a version or alias ARN).
    pub state_machine_arn: String,
    /// `name`.
    pub name: Option<String>,
    /// `input`.
    pub input: Option<String>,
    /// `traceHeader`.
    pub trace_header: Option<String>,
    /// Internal starts (nested executions) reuse a closed execution of the same name
    /// instead of failing: a re-dispatched start after a crash finds the child it started.
    pub idempotent_internal: bool,
    /// Variables assigned before the first state (TestState).
    pub variables: Option<serde_json::Map<String, Value>>,
    /// Run this (Express) machine, which is not stored (TestState).
    pub inline_machine: Option<ironstep_store::StateMachineRecord>,
}

/// Run the interpreter. A JSONata expression may run up to its time limit (seconds), so for
/// definitions that use JSONata the worker thread is handed over to the blocking pool first:
/// one slow expression must not stall every other execution on that worker.
fn interpret<R>(def: &ironstep_asl::Definition, f: impl FnOnce() -> R) -> R {
    let multi_thread = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    let jsonata = def
        .states
        .iter()
        .any(|s| s.query_language == ironstep_asl::model::QueryLanguage::Jsonata);
    if multi_thread && jsonata {
        tokio::task::block_in_place(f)
    } else {
        f()
    }
}

/// `--wait-scale` runs are marked where a reader of the history looks first: the
/// `ExecutionStarted` event carries `ironstepWaitScale` (a field AWS never sends; SDKs ignore
/// unknown members).
fn mark_scaled(event: &mut Value, scale: f64) {
    if let Some(details) = event
        .get_mut("executionStartedEventDetails")
        .and_then(Value::as_object_mut)
    {
        details.insert("ironstepWaitScale".into(), serde_json::json!(scale));
    }
}

fn status_of(o: &Outcome) -> &'static str {
    o.status()
}

fn outcome_fields(o: &Outcome) -> (Option<String>, Option<String>, Option<String>) {
    match o {
        Outcome::Succeeded(v) => (Some(ironstep_core::json::compact(v)), None, None),
        Outcome::Failed { error, cause }
        | Outcome::TimedOut { error, cause }
        | Outcome::Aborted { error, cause } => (None, error.clone(), cause.clone()),
    }
}

/// The parent link AWS draws from a special key in the child's input.
fn parent_of(input: &Value) -> Option<String> {
    input
        .get("AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID")
        .and_then(Value::as_str)
        .filter(|s| s.starts_with("arn:"))
        .map(str::to_string)
}

impl Engine {
    /// StartExecution (Standard or Express).
    pub async fn start_execution(&self, req: StartRequest) -> ServiceResult<StartOutcome> {
        let (outcome, _) = self.start_inner(req, false).await?;
        Ok(outcome)
    }

    /// StartSyncExecution: runs an Express execution to its end and returns it.
    pub async fn start_sync_execution(&self, req: StartRequest) -> ServiceResult<SyncOutcome> {
        let (_, rx) = self.start_inner(req, true).await?;
        let rx = rx.ok_or_else(|| ServiceError::new(ErrorCode::ServiceFailure, "no waiter"))?;
        match rx.await {
            Ok(record) => Ok(SyncOutcome { record }),
            Err(_) => Err(ServiceError::new(
                ErrorCode::ServiceFailure,
                "the execution was dropped before it finished",
            )),
        }
    }

    async fn start_inner(
        &self,
        req: StartRequest,
        sync: bool,
    ) -> ServiceResult<(StartOutcome, Option<oneshot::Receiver<ExecutionRecord>>)> {
        if self
            .inner
            .shutting_down
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            return Err(ServiceError::new(
                ErrorCode::ServiceFailure,
                "the engine is shutting down",
            ));
        }
        let (machine, definition, role_arn, version_arn, alias_arn) = match &req.inline_machine {
            Some(m) => (
                m.clone(),
                m.definition.clone(),
                m.role_arn.clone(),
                None,
                None,
            ),
            None => self.resolve_for_start(&req.state_machine_arn).await?,
        };
        let express = machine.machine_type == "EXPRESS";
        if sync && !express {
            return Err(ServiceError::new(
                ErrorCode::StateMachineTypeNotSupported,
                "This operation is not supported by this type of state machine",
            ));
        }
        let name = match req.name {
            Some(n) => {
                arn::check_name(&n)?;
                n
            }
            None => uuid::Uuid::new_v4().to_string(),
        };
        let raw_input = req.input.unwrap_or_else(|| "{}".to_string());
        if raw_input.len() > MAX_INPUT {
            return Err(ServiceError::new(
                ErrorCode::ValidationException,
                format!(
                    "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have length less than or equal to {MAX_INPUT}"
                ),
            ));
        }
        let input = parse_json(&raw_input).map_err(|m| {
            ServiceError::new(
                ErrorCode::InvalidExecutionInput,
                format!("Invalid State Machine Execution Input: '{m}'"),
            )
        })?;
        let p = &self.inner.config.partition;
        let execution_arn = if express {
            p.express_execution(&machine.name, &name, &uuid::Uuid::new_v4().to_string())
        } else {
            p.execution(&machine.name, &name)
        };
        if !express && let Some(existing) = self.inner.store.get_execution(&execution_arn).await? {
            return self.idempotent_start(existing, &raw_input, req.idempotent_internal);
        }
        let def = self.compile(&definition, express).map_err(|d| {
            ServiceError::new(
                ErrorCode::InvalidDefinition,
                ironstep_asl::invalid_definition_message(&d),
            )
        })?;
        let now = self.now();
        let info = ExecutionInfo {
            execution_arn: execution_arn.clone(),
            name: name.clone(),
            state_machine_arn: machine.arn.clone(),
            state_machine_name: machine.name.clone(),
            role_arn: role_arn.clone(),
            region: p.region.clone(),
            start_time: now,
            input: input.clone(),
            raw_input: raw_input.clone(),
            redrive_count: 0,
            sync_express: sync,
            version_arn: version_arn.clone(),
            alias_arn: alias_arn.clone(),
        };
        let testing = crate::testing::is_test(self, &execution_arn);
        let options = Options {
            record_history: !express || self.inner.config.express_history || testing,
        };
        let (exec, step) = interpret(&def, || {
            Execution::start_with_variables(
                &def,
                info,
                options,
                req.variables.clone().unwrap_or_default(),
                now,
                &mut OsEntropy,
            )
        });
        let record = ExecutionRecord {
            arn: execution_arn.clone(),
            state_machine_arn: machine.arn.clone(),
            name,
            status: "RUNNING".into(),
            start_date: now,
            stop_date: None,
            input: raw_input.clone(),
            output: None,
            error: None,
            cause: None,
            version_arn,
            alias_arn,
            definition,
            role_arn,
            trace_header: req.trace_header,
            parent_arn: parent_of(&input),
            map_run_arn: None,
            redrive_count: 0,
            event_count: 0,
            redrive_date: None,
        };
        let rx = if sync {
            let (tx, rx) = oneshot::channel();
            lock(&self.inner.waiters.map)
                .entry(execution_arn.clone())
                .or_default()
                .push(tx);
            Some(rx)
        } else {
            None
        };
        let mut live = Live {
            exec,
            def,
            record,
            express,
            events: Vec::new(),
            lease: None,
            inbox_done: Vec::new(),
            inbox_waiting: false,
            fired_timer: None,
        };
        self.inner
            .metrics
            .started
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let slot = self.inner.live.slot(&execution_arn);
        let mut guard = slot.lock().await;
        match self.apply_step(&mut live, step, None, true).await {
            Ok(()) => {}
            Err(e) => {
                drop(guard);
                self.inner.live.remove(&execution_arn, &slot);
                if let Some(ServiceError {
                    code: ErrorCode::ExecutionAlreadyExists,
                    ..
                }) = Some(&e)
                    && let Some(existing) = self.inner.store.get_execution(&execution_arn).await?
                {
                    return self.idempotent_start(existing, &raw_input, req.idempotent_internal);
                }
                return Err(e);
            }
        }
        let outcome = StartOutcome {
            execution_arn: execution_arn.clone(),
            start_date: now,
        };
        let closed = live.record.status != "RUNNING";
        let evict = !closed
            && !express
            && live.exec.running_tasks().is_empty()
            && live.exec.open_tokens().is_empty();
        if closed || evict {
            guard.retired = true;
            self.inner.live.remove(&execution_arn, &slot);
        } else {
            guard.live = Some(live);
        }
        Ok((outcome, rx))
    }

    fn idempotent_start(
        &self,
        existing: ExecutionRecord,
        raw_input: &str,
        internal: bool,
    ) -> ServiceResult<(StartOutcome, Option<oneshot::Receiver<ExecutionRecord>>)> {
        let same_input = existing.input == raw_input
            || parse_json(&existing.input).ok() == parse_json(raw_input).ok();
        if same_input && (existing.status == "RUNNING" || internal) {
            return Ok((
                StartOutcome {
                    execution_arn: existing.arn,
                    start_date: existing.start_date,
                },
                None,
            ));
        }
        Err(ServiceError::new(
            ErrorCode::ExecutionAlreadyExists,
            format!("Execution Already Exists: '{}'", existing.arn),
        ))
    }

    /// Commit a step and act on it. `consumed` is the task whose answer this step consumed.
    async fn apply_step(
        &self,
        live: &mut Live,
        step: Step,
        consumed: Option<TaskId>,
        first: bool,
    ) -> ServiceResult<()> {
        self.apply_step_with(live, step, consumed, first, false)
            .await
    }

    async fn apply_step_with(
        &self,
        live: &mut Live,
        step: Step,
        consumed: Option<TaskId>,
        first: bool,
        redrive: bool,
    ) -> ServiceResult<()> {
        let now = self.now();
        let arn = live.record.arn.clone();
        let durable = !live.express;
        self.inner
            .metrics
            .transitions
            .fetch_add(step.transitions, std::sync::atomic::Ordering::Relaxed);
        let mut timers_put = Vec::new();
        let mut timers_delete = Vec::new();
        let mut dispatch_put = Vec::new();
        let mut dispatch_delete: Vec<u64> = consumed.into_iter().collect();
        // Cluster mode: a fired timer's row goes with the step it caused.
        timers_delete.extend(live.fired_timer.take());
        let scale = self.inner.config.wait_scale;
        for c in &step.commands {
            match c {
                Command::StartTimer {
                    timer_id,
                    due,
                    kind,
                } => {
                    let due = match kind {
                        TimerKind::Wait | TimerKind::Retry if scale != 1.0 => {
                            let delay = (due - now).max(0) as f64 * scale;
                            now + delay as i64
                        }
                        _ => *due,
                    };
                    timers_put.push(TimerRecord {
                        execution_arn: arn.clone(),
                        timer_id: *timer_id,
                        due,
                    });
                }
                Command::CancelTimer { timer_id } => timers_delete.push(*timer_id),
                Command::ScheduleTask(t) => dispatch_put.push(DispatchRecord {
                    execution_arn: arn.clone(),
                    task_id: t.task_id,
                    payload: serde_json::to_vec(t).unwrap_or_default(),
                }),
                Command::CancelTask { task_id, .. } => dispatch_delete.push(*task_id),
            }
        }
        let events: Vec<StoredEvent> = if durable {
            step.events
                .iter()
                .map(|e| {
                    let mut v = e.to_json(true);
                    if scale != 1.0 {
                        mark_scaled(&mut v, scale);
                    }
                    StoredEvent {
                        id: e.id,
                        // serde_json::to_string, not Display: the fmt::Write path is several
                        // times slower.
                        json: ironstep_core::json::compact(&v),
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        if !durable {
            if crate::testing::is_test(self, &arn) {
                crate::testing::record_events(self, &arn, &step.events);
            } else if self.inner.config.express_history {
                live.events.extend(step.events.iter().cloned());
            }
        }
        let mut m = Mutation {
            execution_arn: arn.clone(),
            status: "RUNNING".into(),
            redrive: redrive.then_some(now),
            events,
            timers_put: timers_put.clone(),
            timers_delete: timers_delete.clone(),
            dispatch_put,
            dispatch_delete,
            ..Default::default()
        };
        if let Some(o) = &step.outcome {
            let (output, error, cause) = outcome_fields(o);
            m.status = status_of(o).into();
            m.stop_date = Some(now);
            m.output = output;
            m.error = error;
            m.cause = cause;
            // A failed, timed-out or aborted execution keeps its snapshot for RedriveExecution.
            m.snapshot = if durable && live.exec.redrivable() {
                serde_json::to_vec(&live.exec).ok()
            } else {
                None
            };
            m.clear_all = true;
        } else if durable {
            m.snapshot = Some(serde_json::to_vec(&live.exec).map_err(|e| {
                ServiceError::new(ErrorCode::ServiceFailure, format!("snapshot: {e}"))
            })?);
        }
        // Keep the summary in step with what is committed.
        if redrive {
            live.record.stop_date = None;
            live.record.output = None;
            live.record.error = None;
            live.record.cause = None;
            live.record.redrive_count += 1;
            live.record.redrive_date = Some(now);
        }
        live.record.status = m.status.clone();
        live.record.event_count += step.events.len() as u64;
        if m.stop_date.is_some() {
            live.record.stop_date = m.stop_date;
            live.record.output = m.output.clone();
            live.record.error = m.error.clone();
            live.record.cause = m.cause.clone();
        }
        if durable {
            let cluster = self.inner.store.cluster();
            // Cluster mode: a step that closes the execution or leaves it idle hands the lease
            // back in its own transaction (the caller then drops it from memory).
            let release = step.outcome.is_some() || live.idle();
            let r = if first {
                let mut rec = live.record.clone();
                rec.status = "RUNNING".into();
                rec.event_count = 0;
                rec.stop_date = None;
                rec.output = None;
                rec.error = None;
                rec.cause = None;
                match cluster {
                    None => self.inner.store.create_execution(rec, m).await,
                    Some(c) => c
                        .create_execution_leased(rec, m, release)
                        .await
                        .map(|l| live.lease = (!release).then_some(l)),
                }
            } else {
                match cluster {
                    None => self.inner.store.commit(m).await,
                    Some(c) => {
                        let Some(lease) = live.lease else {
                            return Err(crate::cluster::lease_lost(&arn));
                        };
                        let extra = Fenced {
                            release,
                            inbox_done: std::mem::take(&mut live.inbox_done),
                        };
                        match c.commit_fenced(m, lease, extra).await {
                            Ok(Committed::Done { inbox_waiting }) => {
                                live.inbox_waiting = inbox_waiting;
                                if release {
                                    live.lease = None;
                                }
                                Ok(())
                            }
                            Ok(Committed::LeaseLost) => {
                                return Err(crate::cluster::lease_lost(&arn));
                            }
                            Err(e) => Err(e),
                        }
                    }
                }
            };
            match r {
                Ok(()) => {}
                Err(StoreError::AlreadyExists(a)) => {
                    return Err(ServiceError::new(
                        ErrorCode::ExecutionAlreadyExists,
                        format!("Execution Already Exists: '{a}'"),
                    ));
                }
                Err(e) => return Err(e.into()),
            }
        }
        self.inner
            .metrics
            .steps
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.inner.map_runs.record(&arn, now, &step.map_runs);
        // The step is durable: act on it.
        for t in &timers_delete {
            self.inner.timers.cancel(&arn, *t);
        }
        for t in timers_put {
            self.inner.timers.put(t.execution_arn, t.timer_id, t.due);
        }
        for c in step.commands {
            match c {
                Command::ScheduleTask(t) => {
                    crate::integrations::dispatch(self.clone(), arn.clone(), t)
                }
                Command::CancelTask {
                    task_id,
                    resource,
                    submitted,
                } => crate::integrations::cancel(
                    self.clone(),
                    arn.clone(),
                    task_id,
                    resource,
                    submitted,
                ),
                _ => {}
            }
        }
        if step.outcome.is_some() {
            self.inner
                .metrics
                .closed
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let waiters = lock(&self.inner.waiters.map)
                .remove(&arn)
                .unwrap_or_default();
            for w in waiters {
                let _ = w.send(live.record.clone());
            }
            if live.express {
                self.inner.activities.forget_execution(&arn);
            }
        }
        Ok(())
    }

    /// Deliver an input to an execution (loading it from the store if it was evicted). Inputs
    /// for unknown or closed executions are dropped.
    pub(crate) async fn deliver(&self, arn: &str, input: Input) {
        if self.inner.store.cluster().is_some() {
            // Cluster mode: a transient failure (another node's step in the way, a database
            // hiccup) is retried before the input is given up; after that, the execution's
            // lease expires and the node adopting it dispatches its tasks again.
            for pause in [50u64, 200, 800] {
                match self.try_deliver(arn, input.clone()).await {
                    Ok(_) => return,
                    Err(e) => tracing::debug!(execution = arn, "delivery failed, retrying: {e}"),
                }
                tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
            }
        }
        if let Err(e) = self.try_deliver(arn, input).await {
            tracing::warn!(execution = arn, "could not deliver an input: {e}");
        }
    }

    pub(crate) async fn try_deliver(&self, arn: &str, input: Input) -> ServiceResult<bool> {
        let clustered = self.inner.store.cluster().is_some();
        let mut input = Some(input);
        loop {
            let slot = self.inner.live.slot(arn);
            let mut guard = slot.lock().await;
            if guard.retired {
                continue;
            }
            if guard.live.is_none() {
                let loaded = if clustered {
                    match crate::cluster::take_over(self, arn).await? {
                        crate::cluster::TakeOver::Loaded(l) => Some(*l),
                        crate::cluster::TakeOver::Elsewhere => {
                            // Another node runs it: its inbox takes the input.
                            guard.retired = true;
                            self.inner.live.remove(arn, &slot);
                            drop(guard);
                            let Some(input) = input.take() else {
                                return Ok(false);
                            };
                            return crate::cluster::post_and_wait(self, arn, input).await;
                        }
                        crate::cluster::TakeOver::Gone => None,
                    }
                } else {
                    self.load_live(arn).await?
                };
                match loaded {
                    Some(l) => guard.live = Some(l),
                    None => {
                        guard.retired = true;
                        self.inner.live.remove(arn, &slot);
                        return Ok(false);
                    }
                }
                if clustered && guard.live.as_ref().is_some_and(|l| l.inbox_waiting) {
                    // Inputs queued for it before this one go first.
                    crate::cluster::apply_inbox_locked(self, arn, &mut guard).await;
                    if guard.live.is_none() {
                        guard.retired = true;
                        self.inner.live.remove(arn, &slot);
                        continue;
                    }
                }
            }
            let Some(live) = guard.live.as_mut() else {
                return Ok(false);
            };
            // Cluster mode keeps a copy: a lost lease retries the input elsewhere.
            let this = if clustered {
                input.clone()
            } else {
                input.take()
            };
            let Some(this) = this else {
                return Ok(false);
            };
            let applied = match self.apply_input(live, this, None).await {
                Ok(a) => a,
                Err(e) if clustered => {
                    // The copy in memory may be ahead of what is committed: drop it.
                    guard.live = None;
                    guard.retired = true;
                    self.inner.live.remove(arn, &slot);
                    if crate::cluster::is_lease_lost(&e) {
                        continue;
                    }
                    return Err(e);
                }
                Err(e) => return Err(e),
            };
            self.settle(arn, &slot, &mut guard).await;
            return Ok(applied);
        }
    }

    /// Feed one input to a live execution and commit the step; false when it changed nothing.
    /// `inbox_id`: the inbox entry the input came from (consumed by the same commit).
    pub(crate) async fn apply_input(
        &self,
        live: &mut Live,
        input: Input,
        inbox_id: Option<u64>,
    ) -> ServiceResult<bool> {
        let consumed = match &input {
            Input::TaskSucceeded { task_id, .. } | Input::TaskFailed { task_id, .. } => {
                Some(*task_id)
            }
            _ => None,
        };
        if let (Input::TimerFired { timer_id }, Some(_)) = (&input, self.inner.store.cluster()) {
            live.fired_timer = Some(*timer_id);
        }
        let now = self.now();
        let def = live.def.clone();
        let step = interpret(&def, || live.exec.handle(&def, now, input, &mut OsEntropy));
        let empty = step.events.is_empty() && step.commands.is_empty() && step.outcome.is_none();
        let stale = step.stale;
        // A step without events can still change the execution (a silent Distributed Map
        // iteration finished), so only a stale input skips the commit: losing a change would
        // leave the execution waiting for a timer that already fired.
        if !empty || consumed.is_some() || !stale {
            live.inbox_done.extend(inbox_id);
            self.apply_step(live, step, consumed, false).await?;
        } else if let (Some(id), Some(lease), Some(c)) =
            (inbox_id, live.lease, self.inner.store.cluster())
            && !c.discard_inbox(&live.record.arn, lease, &[id]).await?
        {
            return Err(crate::cluster::lease_lost(&live.record.arn));
        }
        live.fired_timer = None;
        Ok(!stale)
    }

    /// After a step: drop a closed or idle execution from memory (in cluster mode also handing
    /// back a lease no commit released), and apply inputs that arrived in the inbox meanwhile.
    pub(crate) async fn settle(&self, arn: &str, slot: &Arc<AsyncMutex<Slot>>, guard: &mut Slot) {
        let Some(live) = guard.live.as_mut() else {
            return;
        };
        let closed = live.record.status != "RUNNING";
        let evict = !live.express && (closed || live.idle());
        let waiting = std::mem::take(&mut live.inbox_waiting);
        if closed || evict {
            if let (Some(lease), Some(c)) = (live.lease.take(), self.inner.store.cluster())
                && let Err(e) = c.release(arn, lease).await
            {
                // The lease then expires and another node adopts the execution.
                tracing::warn!(execution = arn, "could not hand a lease back: {e}");
            }
            guard.live = None;
            guard.retired = true;
            self.inner.live.remove(arn, slot);
        }
        if waiting {
            crate::cluster::spawn_drain(self.clone(), arn.to_string());
        }
    }

    pub(crate) async fn load_live(&self, arn: &str) -> ServiceResult<Option<Live>> {
        let Some(record) = self.inner.store.get_execution(arn).await? else {
            return Ok(None);
        };
        if record.status != "RUNNING" {
            return Ok(None);
        }
        let Some(snapshot) = self.inner.store.get_snapshot(arn).await? else {
            return Ok(None);
        };
        self.live_from(record, &snapshot).map(Some)
    }

    /// An execution in memory from its committed record and snapshot.
    pub(crate) fn live_from(
        &self,
        record: ExecutionRecord,
        snapshot: &[u8],
    ) -> ServiceResult<Live> {
        let arn = &record.arn;
        let exec: Execution = serde_json::from_slice(snapshot).map_err(|e| {
            ServiceError::new(
                ErrorCode::ServiceFailure,
                format!("corrupt snapshot of {arn}: {e}"),
            )
        })?;
        let def = self.compile(&record.definition, false).map_err(|_| {
            ServiceError::new(
                ErrorCode::ServiceFailure,
                format!("the definition of {arn} no longer compiles"),
            )
        })?;
        Ok(Live {
            exec,
            def,
            record,
            express: false,
            events: Vec::new(),
            lease: None,
            inbox_done: Vec::new(),
            inbox_waiting: false,
            fired_timer: None,
        })
    }

    /// Wait until an execution closes and return its record (immediately if already closed).
    pub async fn wait_for(&self, arn: &str) -> ServiceResult<ExecutionRecord> {
        let rx = {
            let (tx, rx) = oneshot::channel();
            lock(&self.inner.waiters.map)
                .entry(arn.to_string())
                .or_default()
                .push(tx);
            rx
        };
        // It may have closed before the waiter was registered.
        if let Some(rec) = self.inner.store.get_execution(arn).await?
            && rec.status != "RUNNING"
        {
            return Ok(rec);
        }
        if let Some(c) = self.inner.store.cluster() {
            // Another node may close it: its notification wakes us, polling covers a lost one.
            return crate::cluster::wait_closed(self, arn, rx, c.timing().poll).await;
        }
        rx.await
            .map_err(|_| ServiceError::new(ErrorCode::ServiceFailure, "waiter dropped"))
    }

    /// The record of an execution, live or stored.
    pub async fn execution_record(&self, arn: &str) -> ServiceResult<Option<ExecutionRecord>> {
        Ok(self.inner.store.get_execution(arn).await?)
    }

    /// DescribeExecution.
    pub async fn describe_execution(&self, arn: &str) -> ServiceResult<ExecutionRecord> {
        arn::execution_arn(arn, false)?;
        self.inner.store.get_execution(arn).await?.ok_or_else(|| {
            ServiceError::new(
                ErrorCode::ExecutionDoesNotExist,
                format!("Execution Does Not Exist: '{arn}'"),
            )
        })
    }

    /// StopExecution.
    pub async fn stop_execution(
        &self,
        arn: &str,
        error: Option<String>,
        cause: Option<String>,
    ) -> ServiceResult<Millis> {
        let rec = self.describe_execution(arn).await?;
        if rec.status != "RUNNING" {
            // AWS answers a stop of a closed execution with its stop date and changes nothing.
            return Ok(rec.stop_date.unwrap_or(rec.start_date));
        }
        self.try_deliver(arn, Input::Stop { error, cause }).await?;
        let rec = self.describe_execution(arn).await?;
        Ok(rec.stop_date.unwrap_or_else(|| self.now()))
    }

    /// ListExecutions page.
    pub async fn list_executions(
        &self,
        filter: &ExecutionFilter,
    ) -> ServiceResult<Vec<ExecutionRecord>> {
        Ok(self.inner.store.list_executions(filter).await?)
    }

    /// GetExecutionHistory page: `from` is the first event id to return (or, reversed, the
    /// largest); `None` starts at the beginning (or the end).
    pub async fn history(
        &self,
        arn: &str,
        from: Option<u64>,
        reverse: bool,
        limit: usize,
        include_data: bool,
    ) -> ServiceResult<HistoryPage> {
        self.describe_execution(arn).await?;
        let start = match (from, reverse) {
            (Some(f), _) => f,
            (None, false) => 1,
            (None, true) => u64::MAX,
        };
        let rows = self
            .inner
            .store
            .history(arn, start, reverse, limit + 1)
            .await?;
        let mut events = Vec::with_capacity(rows.len().min(limit));
        let mut next = None;
        for (i, row) in rows.into_iter().enumerate() {
            if i == limit {
                next = Some(row.id);
                break;
            }
            let mut v: Value = serde_json::from_str(&row.json).unwrap_or(Value::Null);
            if !include_data {
                strip_data(&mut v);
            }
            events.push(v);
        }
        Ok(HistoryPage { events, next })
    }

    /// Events of an in-memory execution (Express with history recording), for `ironstep run`.
    pub async fn memory_history(&self, arn: &str) -> Vec<HistoryEvent> {
        let slot = self.inner.live.slot(arn);
        let g = slot.lock().await;
        g.live
            .as_ref()
            .map(|l| l.events.clone())
            .unwrap_or_default()
    }

    /// The task token a running execution waits with for `task_id`, if any.
    async fn token_matches(&self, token: &str) -> ServiceResult<(String, TaskId)> {
        let Some((arn, task_id)) = ironstep_core::token::decode(token) else {
            return Err(ServiceError::new(
                ErrorCode::InvalidToken,
                format!("Invalid Token: '{token}'"),
            ));
        };
        let gone = || {
            ServiceError::new(
                ErrorCode::TaskTimedOut,
                "Task Timed Out: 'Provided task does not exist anymore'",
            )
        };
        // Look at the live execution if loaded, otherwise at its snapshot.
        let slot = self.inner.live.slot(&arn);
        let open = {
            let g = slot.lock().await;
            g.live.as_ref().map(|l| l.exec.open_tokens())
        };
        let open = match open {
            Some(o) => o,
            None => {
                let loaded = self.load_live(&arn).await?;
                match loaded {
                    Some(l) => l.exec.open_tokens(),
                    None => {
                        if self.inner.store.get_execution(&arn).await?.is_none() {
                            return Err(ServiceError::new(
                                ErrorCode::InvalidToken,
                                format!("Invalid Token: '{token}'"),
                            ));
                        }
                        return Err(gone());
                    }
                }
            }
        };
        if open.iter().any(|(id, t)| *id == task_id && t == token) {
            Ok((arn, task_id))
        } else {
            Err(gone())
        }
    }

    /// SendTaskSuccess.
    pub async fn send_task_success(&self, token: &str, output: &str) -> ServiceResult<()> {
        let value = parse_json(output).map_err(|m| {
            ServiceError::new(ErrorCode::InvalidOutput, format!("Invalid Output: '{m}'"))
        })?;
        let (arn, task_id) = self.token_matches(token).await?;
        if !self
            .try_deliver(
                &arn,
                Input::TaskSucceeded {
                    task_id,
                    output: value,
                },
            )
            .await?
        {
            return Err(ServiceError::new(
                ErrorCode::TaskTimedOut,
                "Task Timed Out: 'Provided task does not exist anymore'",
            ));
        }
        Ok(())
    }

    /// SendTaskFailure.
    pub async fn send_task_failure(
        &self,
        token: &str,
        error: Option<String>,
        cause: Option<String>,
    ) -> ServiceResult<()> {
        let (arn, task_id) = self.token_matches(token).await?;
        if !self
            .try_deliver(
                &arn,
                Input::TaskFailed {
                    task_id,
                    error,
                    cause,
                },
            )
            .await?
        {
            return Err(ServiceError::new(
                ErrorCode::TaskTimedOut,
                "Task Timed Out: 'Provided task does not exist anymore'",
            ));
        }
        Ok(())
    }

    /// SendTaskHeartbeat (records no history event).
    pub async fn send_task_heartbeat(&self, token: &str) -> ServiceResult<()> {
        let (arn, task_id) = self.token_matches(token).await?;
        self.try_deliver(&arn, Input::Heartbeat { task_id }).await?;
        Ok(())
    }

    /// Deliver a task outcome from an integration (no-op if the task is no longer awaited).
    pub(crate) async fn task_outcome(&self, arn: &str, input: Input) {
        self.deliver(arn, input).await;
    }

    /// RedriveExecution: restart a failed, timed-out or aborted Standard execution from the state
    /// that was running when it closed (within 14 days of closing, as AWS allows).
    pub async fn redrive_execution(&self, arn: &str) -> ServiceResult<Millis> {
        let rec = self.describe_execution(arn).await?;
        let not = |reason: &str| {
            ServiceError::new(
                ErrorCode::ExecutionNotRedrivable,
                format!("Execution is not redrivable: '{arn}': {reason}"),
            )
        };
        if rec.status == "RUNNING" || rec.status == "SUCCEEDED" {
            return Err(not(&format!(
                "Execution is {} and cannot be redriven",
                rec.status
            )));
        }
        let now = self.now();
        if rec
            .stop_date
            .is_some_and(|s| now - s > 14 * 24 * 3600 * 1000)
        {
            return Err(not("the execution closed more than 14 days ago"));
        }
        if rec.event_count >= 24_999 {
            return Err(not("the execution history has reached its limit"));
        }
        let slot = self.inner.live.slot(arn);
        let mut guard = slot.lock().await;
        // Cluster mode: take the (closed) execution's lease first, so that one node redrives it.
        let mut lease = None;
        let mut rec = rec;
        if let Some(c) = self.inner.store.cluster() {
            match c.acquire(arn, true).await? {
                Acquire::Acquired(l) => lease = Some(l),
                Acquire::Held { .. } => {
                    return Err(not("Execution is RUNNING and cannot be redriven"));
                }
                Acquire::Closed | Acquire::Missing => return Err(not("nothing to redrive from")),
            }
            match self.inner.store.get_execution(arn).await? {
                Some(r) if r.status != "RUNNING" && r.status != "SUCCEEDED" => rec = r,
                Some(r) => {
                    self.release_quietly(arn, lease).await;
                    return Err(not(&format!(
                        "Execution is {} and cannot be redriven",
                        r.status
                    )));
                }
                None => {
                    self.release_quietly(arn, lease).await;
                    return Err(not("nothing to redrive from"));
                }
            }
        }
        let snapshot = match self.inner.store.get_snapshot(arn).await {
            Ok(s) => s,
            Err(e) => {
                self.release_quietly(arn, lease).await;
                return Err(e.into());
            }
        };
        let Some(snapshot) = snapshot else {
            self.release_quietly(arn, lease).await;
            return Err(not("nothing to redrive from"));
        };
        let mut exec: Execution = serde_json::from_slice(&snapshot).map_err(|e| {
            ServiceError::new(
                ErrorCode::ServiceFailure,
                format!("corrupt snapshot of {arn}: {e}"),
            )
        })?;
        let def = self.compile(&rec.definition, false).map_err(|_| {
            ServiceError::new(
                ErrorCode::ServiceFailure,
                format!("the definition of {arn} no longer compiles"),
            )
        })?;
        let Some(step) = interpret(&def, || exec.redrive(&def, now, &mut OsEntropy)) else {
            self.release_quietly(arn, lease).await;
            return Err(not("nothing to redrive from"));
        };
        let mut live = Live {
            exec,
            def,
            record: rec,
            express: false,
            events: Vec::new(),
            lease,
            inbox_done: Vec::new(),
            inbox_waiting: false,
            fired_timer: None,
        };
        self.apply_step_with(&mut live, step, None, false, true)
            .await?;
        let released = lease.is_some() && live.lease.is_none();
        if live.record.status == "RUNNING" && !released {
            guard.live = Some(live);
            guard.retired = false;
        } else {
            guard.retired = true;
            self.inner.live.remove(arn, &slot);
        }
        Ok(now)
    }

    /// Hand back a lease taken for an operation that did not happen (cluster mode).
    async fn release_quietly(&self, arn: &str, lease: Option<Lease>) {
        if let (Some(l), Some(c)) = (lease, self.inner.store.cluster())
            && let Err(e) = c.release(arn, l).await
        {
            tracing::warn!(execution = arn, "could not hand a lease back: {e}");
        }
    }

    /// Number of executions currently held in memory.
    pub fn live_executions(&self) -> usize {
        self.inner.live.len()
    }
}

fn strip_data(v: &mut Value) {
    if let Value::Object(m) = v {
        for (k, d) in m.iter_mut() {
            if k.ends_with("EventDetails")
                && let Value::Object(dm) = d
            {
                dm.remove("input");
                dm.remove("output");
            }
        }
    }
}

/// Reload timers and re-dispatch unanswered tasks after a restart.
pub(crate) async fn recover(engine: &Engine) -> ServiceResult<Recovered> {
    let store = &engine.inner.store;
    if store.cluster().is_some() {
        // Other nodes run what is theirs; this node joins and adopts only orphaned work.
        return crate::cluster::start(engine).await;
    }
    let running = store.running_executions().await?.len();
    let timers = store.all_timers().await?;
    let n_timers = timers.len();
    for t in timers {
        engine.inner.timers.put(t.execution_arn, t.timer_id, t.due);
    }
    let dispatches = store.pending_dispatches().await?;
    let n_dispatch = dispatches.len();
    for d in dispatches {
        match serde_json::from_slice::<TaskRequest>(&d.payload) {
            Ok(req) => crate::integrations::dispatch(engine.clone(), d.execution_arn, req),
            Err(e) => tracing::warn!(execution = d.execution_arn, "unreadable dispatch row: {e}"),
        }
    }
    Ok(Recovered {
        running,
        timers: n_timers,
        dispatches: n_dispatch,
    })
}

/// Periodically purge closed executions past the retention period, in small batches.
pub(crate) fn spawn_retention(weak: Weak<Inner>) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            let Some(engine) = Engine::from_weak(&weak) else {
                return;
            };
            if engine
                .inner
                .shutting_down
                .load(std::sync::atomic::Ordering::SeqCst)
            {
                return;
            }
            let cutoff = engine.now() - engine.inner.config.retention_ms;
            loop {
                match engine.inner.store.purge_closed(cutoff, 500).await {
                    Ok(500) => tokio::task::yield_now().await,
                    Ok(_) => break,
                    Err(e) => {
                        tracing::warn!("retention: {e}");
                        break;
                    }
                }
            }
        }
    });
}
