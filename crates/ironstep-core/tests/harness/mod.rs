//! A simulated world for the interpreter (quinn-proto's `Pair` idea): virtual time, scripted
//! task results, and `drive` to run until the execution waits for something unscripted.
#![allow(dead_code)]

use std::collections::BTreeMap;

use ironstep_asl::{CompileOptions, Definition};
use ironstep_core::{
    Command, Execution, ExecutionInfo, HistoryEvent, Input, Options, Outcome, SeededEntropy, Step,
    TaskRequest, TimerKind,
};
use serde_json::{Map, Value};

/// The virtual clock at execution start (2023-11-14T22:13:20Z).
pub const T0: i64 = 1_700_000_000_000;

pub struct World {
    pub def: Definition,
    pub exec: Execution,
    pub now: i64,
    pub entropy: SeededEntropy,
    pub history: Vec<HistoryEvent>,
    /// Pending timers: (due, id) -> kind.
    pub timers: BTreeMap<(i64, u64), TimerKind>,
    /// Every timer ever started, with its due time and kind (for delay assertions).
    pub started_timers: Vec<(u64, i64, TimerKind)>,
    /// Tasks waiting for an answer.
    pub tasks: Vec<TaskRequest>,
    /// Every task ever scheduled, in order.
    pub scheduled: Vec<TaskRequest>,
    pub cancelled_tasks: Vec<u64>,
    pub cancelled_timers: Vec<u64>,
    /// Steps that reported `stale`.
    pub stale_steps: usize,
    /// Serialize and reload the execution after every step, as the runtime does on eviction.
    pub roundtrip: bool,
}

pub fn compile(def: &str) -> Definition {
    ironstep_asl::compile(def, &CompileOptions::default()).unwrap_or_else(|d| panic!("{d:?}"))
}

pub fn info(input: &str) -> ExecutionInfo {
    ExecutionInfo {
        execution_arn: "arn:aws:states:us-east-1:123456789012:execution:sm:run".into(),
        name: "run".into(),
        state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:sm".into(),
        state_machine_name: "sm".into(),
        role_arn: "arn:aws:iam::123456789012:role/r".into(),
        region: "us-east-1".into(),
        start_time: T0,
        input: serde_json::from_str(input).unwrap(),
        raw_input: input.into(),
        redrive_count: 0,
        sync_express: false,
        version_arn: None,
        alias_arn: None,
    }
}

/// How a world is set up.
#[derive(Debug, Clone, Copy)]
pub struct Setup {
    pub seed: u64,
    pub roundtrip: bool,
    pub options: Options,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            seed: 7,
            roundtrip: true,
            options: Options::default(),
        }
    }
}

impl World {
    pub fn start(def: &str, input: &str) -> World {
        Self::start_with(def, input, Setup::default())
    }

    pub fn start_with(def: &str, input: &str, setup: Setup) -> World {
        Self::start_compiled(compile(def), info(input), setup)
    }

    pub fn start_compiled(def: Definition, info: ExecutionInfo, setup: Setup) -> World {
        let mut entropy = SeededEntropy(setup.seed);
        let now = info.start_time;
        let (exec, step) = Execution::start(&def, info, setup.options, now, &mut entropy);
        let mut w = World {
            def,
            exec,
            now,
            entropy,
            history: Vec::new(),
            timers: BTreeMap::new(),
            started_timers: Vec::new(),
            tasks: Vec::new(),
            scheduled: Vec::new(),
            cancelled_tasks: Vec::new(),
            cancelled_timers: Vec::new(),
            stale_steps: 0,
            roundtrip: setup.roundtrip,
        };
        w.absorb(step);
        w
    }

    fn absorb(&mut self, step: Step) {
        if step.stale {
            self.stale_steps += 1;
        }
        self.history.extend(step.events);
        for c in step.commands {
            match c {
                Command::StartTimer {
                    timer_id,
                    due,
                    kind,
                } => {
                    self.timers.insert((due, timer_id), kind);
                    self.started_timers.push((timer_id, due, kind));
                }
                Command::CancelTimer { timer_id } => {
                    self.timers.retain(|(_, id), _| *id != timer_id);
                    self.cancelled_timers.push(timer_id);
                }
                Command::ScheduleTask(t) => {
                    self.scheduled.push(t.clone());
                    self.tasks.push(t)
                }
                Command::CancelTask { task_id, .. } => {
                    self.tasks.retain(|t| t.task_id != task_id);
                    self.cancelled_tasks.push(task_id);
                }
            }
        }
        if self.roundtrip {
            // The runtime evicts and reloads executions between steps.
            let bytes = serde_json::to_vec(&self.exec).expect("snapshot");
            self.exec = serde_json::from_slice(&bytes).expect("reload");
        }
    }

    pub fn input(&mut self, input: Input) {
        if let Input::TaskSucceeded { task_id, .. } | Input::TaskFailed { task_id, .. } = &input {
            let id = *task_id;
            self.tasks.retain(|t| t.task_id != id);
        }
        let step = self
            .exec
            .handle(&self.def, self.now, input, &mut self.entropy);
        self.absorb(step);
    }

    /// RedriveExecution.
    pub fn redrive(&mut self) -> bool {
        match self.exec.redrive(&self.def, self.now, &mut self.entropy) {
            Some(step) => {
                self.absorb(step);
                true
            }
            None => false,
        }
    }

    /// Move the clock forward without firing anything.
    pub fn advance(&mut self, ms: i64) {
        self.now += ms;
    }

    /// Fire the earliest timer, moving virtual time to it. False when none is left.
    pub fn fire_next_timer(&mut self) -> bool {
        let Some(((due, id), _)) = self.timers.pop_first() else {
            return false;
        };
        self.now = self.now.max(due);
        self.input(Input::TimerFired { timer_id: id });
        true
    }

    /// Fire the earliest timer of a kind.
    pub fn fire_timer_of(&mut self, kind: TimerKind) -> bool {
        let Some(key) = self
            .timers
            .iter()
            .find(|(_, k)| **k == kind)
            .map(|(key, _)| *key)
        else {
            return false;
        };
        self.timers.remove(&key);
        self.now = self.now.max(key.0);
        self.input(Input::TimerFired { timer_id: key.1 });
        true
    }

    /// Fire timers until the execution closes or nothing is left to fire.
    pub fn run_timers(&mut self) {
        while self.exec.outcome().is_none() && self.fire_next_timer() {}
    }

    /// The pending task of a state (panics if there is none, or several).
    pub fn task(&self, state: &str) -> TaskRequest {
        let mut found = self.tasks.iter().filter(|t| &*t.state_name == state);
        let t = found
            .next()
            .unwrap_or_else(|| panic!("no pending task for {state}: {:?}", self.tasks))
            .clone();
        assert!(found.next().is_none(), "several tasks pending for {state}");
        t
    }

    pub fn succeed(&mut self, state: &str, output: Value) {
        let task_id = self.task(state).task_id;
        self.input(Input::TaskSucceeded { task_id, output });
    }

    pub fn fail(&mut self, state: &str, error: &str, cause: &str) {
        let task_id = self.task(state).task_id;
        self.input(Input::TaskFailed {
            task_id,
            error: Some(error.into()),
            cause: Some(cause.into()),
        });
    }

    /// Answer every pending task (oldest first) with `answer` until none is left or the
    /// execution closes; retry and Wait timers fire as needed.
    pub fn drive(
        &mut self,
        mut answer: impl FnMut(&TaskRequest) -> Result<Value, (String, String)>,
    ) {
        loop {
            if self.exec.outcome().is_some() {
                return;
            }
            if let Some(t) = self.tasks.first().cloned() {
                let input = match answer(&t) {
                    Ok(output) => Input::TaskSucceeded {
                        task_id: t.task_id,
                        output,
                    },
                    Err((e, c)) => Input::TaskFailed {
                        task_id: t.task_id,
                        error: Some(e),
                        cause: Some(c),
                    },
                };
                self.input(input);
                continue;
            }
            if !self.fire_next_timer() {
                return;
            }
        }
    }

    pub fn stop(&mut self, error: Option<&str>, cause: Option<&str>) {
        self.input(Input::Stop {
            error: error.map(str::to_string),
            cause: cause.map(str::to_string),
        });
    }

    pub fn outcome(&self) -> Option<&Outcome> {
        self.exec.outcome()
    }

    pub fn output(&self) -> Value {
        match self.exec.outcome() {
            Some(Outcome::Succeeded(v)) => v.clone(),
            other => panic!("not succeeded: {other:?}\n{}", self.render()),
        }
    }

    /// `(error, cause)` of a FAILED execution.
    pub fn failure(&self) -> (Option<String>, Option<String>) {
        match self.exec.outcome() {
            Some(Outcome::Failed { error, cause }) => (error.clone(), cause.clone()),
            other => panic!("not failed: {other:?}\n{}", self.render()),
        }
    }

    /// The error name of a FAILED execution.
    pub fn error(&self) -> String {
        self.failure().0.unwrap_or_default()
    }

    /// The cause of a FAILED execution.
    pub fn cause(&self) -> String {
        self.failure().1.unwrap_or_default()
    }

    pub fn types(&self) -> Vec<String> {
        self.history.iter().map(|e| e.kind.type_name()).collect()
    }

    /// Events of one type, in the AWS wire shape.
    pub fn events_of(&self, ty: &str) -> Vec<Value> {
        self.history
            .iter()
            .filter(|e| e.kind.type_name() == ty)
            .map(|e| e.to_json(true))
            .collect()
    }

    /// The details object of the only event of a type.
    pub fn details(&self, ty: &str) -> Value {
        let evs = self.events_of(ty);
        assert_eq!(evs.len(), 1, "expected one {ty}:\n{}", self.render());
        details_of(&evs[0])
    }

    /// `output` of the `...StateExited` event of a state (parsed).
    pub fn exited_output(&self, state: &str) -> Value {
        let out = self
            .history
            .iter()
            .map(|e| e.to_json(true))
            .find(|e| {
                e["type"]
                    .as_str()
                    .is_some_and(|t| t.ends_with("StateExited"))
                    && e["stateExitedEventDetails"]["name"] == state
            })
            .unwrap_or_else(|| panic!("{state} never exited:\n{}", self.render()));
        serde_json::from_str(out["stateExitedEventDetails"]["output"].as_str().unwrap()).unwrap()
    }

    /// The history, one compact line per event (for snapshots and failure messages).
    pub fn render(&self) -> String {
        render(&self.history)
    }

    /// Invariants every history keeps: ids contiguous from 1, previous ids point backwards,
    /// timestamps never go back, at most one terminal event and only at the end.
    pub fn check_invariants(&self) {
        check_history(&self.history);
    }
}

pub fn details_of(ev: &Value) -> Value {
    ev.as_object()
        .and_then(|m| {
            m.iter()
                .find(|(k, _)| k.ends_with("EventDetails"))
                .map(|(_, v)| v.clone())
        })
        .unwrap_or(Value::Null)
}

/// One line per event: `id <prev +seconds Type {details}`. Data texts are shown parsed, detail
/// markers (`truncated`) and the role ARN are dropped.
pub fn render(history: &[HistoryEvent]) -> String {
    let start = history.first().map(|e| e.timestamp).unwrap_or(T0);
    let mut out = String::new();
    for e in history {
        let j = e.to_json(true);
        let mut details = match details_of(&j) {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        details.retain(|k, _| !k.ends_with("Details") && k != "roleArn");
        for (_, v) in details.iter_mut() {
            if let Value::String(s) = v
                && let Ok(parsed) = serde_json::from_str::<Value>(s)
                && (parsed.is_object() || parsed.is_array())
            {
                *v = parsed;
            }
        }
        let secs = (e.timestamp - start) as f64 / 1000.0;
        let line = if details.is_empty() {
            format!(
                "{:>3} <{:<3} +{secs}s {}",
                e.id,
                e.previous_event_id,
                j["type"].as_str().unwrap()
            )
        } else {
            format!(
                "{:>3} <{:<3} +{secs}s {} {}",
                e.id,
                e.previous_event_id,
                j["type"].as_str().unwrap(),
                Value::Object(details)
            )
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

pub fn check_history(history: &[HistoryEvent]) {
    let text = || render(history);
    for (i, e) in history.iter().enumerate() {
        assert_eq!(e.id, i as u64 + 1, "ids must be contiguous:\n{}", text());
        assert!(
            e.previous_event_id < e.id,
            "event {} points forward to {}:\n{}",
            e.id,
            e.previous_event_id,
            text()
        );
        if i > 0 {
            assert!(
                e.timestamp >= history[i - 1].timestamp,
                "time goes back at {}",
                e.id
            );
            assert!(
                !history[i - 1].kind.is_terminal()
                    || matches!(e.kind, ironstep_core::EventKind::ExecutionRedriven { .. }),
                "event after the terminal one:\n{}",
                text()
            );
        }
    }
    if let Some(first) = history.first() {
        assert_eq!(first.kind.type_name(), "ExecutionStarted");
        assert_eq!(first.previous_event_id, 0);
    }
}

/// A Task state calling Lambda (`arn:aws:states:::lambda:invoke`), as JSON text to splice into
/// definitions.
pub const LAMBDA: &str = "arn:aws:states:::lambda:invoke";
/// A callback resource (`.waitForTaskToken`).
pub const CALLBACK: &str = "arn:aws:states:::sqs:sendMessage.waitForTaskToken";
