//! A simulated world for the interpreter (quinn-proto's `Pair` idea): virtual time, scripted
//! task results, and `drive` to run until the execution waits for something unscripted.
#![allow(dead_code)]

use std::collections::BTreeMap;

use ironstep_asl::{CompileOptions, Definition};
use ironstep_core::{
    Command, Execution, ExecutionInfo, HistoryEvent, Input, Options, Outcome, SeededEntropy, Step,
    TaskRequest,
};
use serde_json::Value;

pub struct World {
    pub def: Definition,
    pub exec: Execution,
    pub now: i64,
    pub entropy: SeededEntropy,
    pub history: Vec<HistoryEvent>,
    /// Pending timers: due -> ids.
    pub timers: BTreeMap<(i64, u64), ()>,
    /// Tasks waiting for an answer.
    pub tasks: Vec<TaskRequest>,
    pub cancelled_tasks: Vec<u64>,
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
        start_time: 1_700_000_000_000,
        input: serde_json::from_str(input).unwrap(),
        raw_input: input.into(),
        redrive_count: 0,
        sync_express: false,
        version_arn: None,
        alias_arn: None,
    }
}

impl World {
    pub fn start(def: &str, input: &str) -> World {
        let def = compile(def);
        let mut entropy = SeededEntropy(7);
        let now = 1_700_000_000_000;
        let (exec, step) =
            Execution::start(&def, info(input), Options::default(), now, &mut entropy);
        let mut w = World {
            def,
            exec,
            now,
            entropy,
            history: Vec::new(),
            timers: BTreeMap::new(),
            tasks: Vec::new(),
            cancelled_tasks: Vec::new(),
        };
        w.absorb(step);
        w
    }

    fn absorb(&mut self, step: Step) {
        self.history.extend(step.events);
        for c in step.commands {
            match c {
                Command::StartTimer { timer_id, due, .. } => {
                    self.timers.insert((due, timer_id), ());
                }
                Command::CancelTimer { timer_id } => {
                    self.timers.retain(|(_, id), _| *id != timer_id)
                }
                Command::ScheduleTask(t) => self.tasks.push(t),
                Command::CancelTask { task_id, .. } => {
                    self.tasks.retain(|t| t.task_id != task_id);
                    self.cancelled_tasks.push(task_id);
                }
            }
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
        // Every step is followed by a snapshot round trip, as the runtime evicts and reloads.
        let bytes = serde_json::to_vec(&self.exec).expect("snapshot");
        self.exec = serde_json::from_slice(&bytes).expect("reload");
    }

    /// Fire the earliest timer, moving virtual time to it. False when none is left.
    pub fn fire_next_timer(&mut self) -> bool {
        let Some(((due, id), ())) = self.timers.pop_first() else {
            return false;
        };
        self.now = self.now.max(due);
        self.input(Input::TimerFired { timer_id: id });
        true
    }

    /// Fire timers until the execution closes or nothing is left to fire.
    pub fn run_timers(&mut self) {
        while self.exec.outcome().is_none() && self.fire_next_timer() {}
    }

    pub fn outcome(&self) -> Option<&Outcome> {
        self.exec.outcome()
    }

    pub fn output(&self) -> Value {
        match self.exec.outcome() {
            Some(Outcome::Succeeded(v)) => v.clone(),
            other => panic!("not succeeded: {other:?}"),
        }
    }

    pub fn types(&self) -> Vec<String> {
        self.history.iter().map(|e| e.kind.type_name()).collect()
    }
}
