//! The interpreter alone: compile once, then start executions back to back on one thread. No
//! store, no async runtime: this is the ceiling the engine's other layers take from.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use ironstep_asl::{CompileOptions, StateMachineType};
use ironstep_core::{Execution, ExecutionInfo, Options, Outcome, SeededEntropy, Status};

use crate::report::Row;
use crate::workload::Workload;

/// Run `w` for at least `min_time` (and at least its meta's execution count), with or without
/// history events (Standard keeps them; Express does not).
pub fn run(w: &Workload, record_history: bool, min_time: Duration) -> anyhow::Result<Row> {
    let opts = CompileOptions {
        machine_type: StateMachineType::Standard,
    };
    let def = ironstep_asl::compile(&w.definition, &opts)
        .map_err(|d| anyhow::anyhow!("{}: definition does not compile: {d:?}", w.name))?;
    let mut entropy = SeededEntropy(1);
    let mut executions = 0u64;
    let mut events = 0u64;
    let started = Instant::now();
    while executions < w.meta.executions as u64 || started.elapsed() < min_time {
        let input = serde_json::from_str(&w.input).context("input")?;
        let info = ExecutionInfo {
            execution_arn: format!(
                "arn:aws:states:us-east-1:123456789012:execution:bench:{executions}"
            ),
            name: executions.to_string(),
            state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:bench".into(),
            state_machine_name: "bench".into(),
            role_arn: "arn:aws:iam::123456789012:role/bench".into(),
            region: "us-east-1".into(),
            start_time: 1_700_000_000_000,
            input,
            raw_input: w.input.clone(),
            redrive_count: 0,
            sync_express: false,
            version_arn: None,
            alias_arn: None,
        };
        let (exec, step) = Execution::start(
            &def,
            info,
            Options { record_history },
            1_700_000_000_000,
            &mut entropy,
        );
        events += step.events.len() as u64;
        if exec.status() == Status::Running {
            bail!(
                "{}: the execution waits for something (a task or a timer); in-process runs need workloads that complete on their own",
                w.name
            );
        }
        if executions == 0 {
            match exec.outcome() {
                Some(Outcome::Succeeded(out)) => w.check(out)?,
                other => bail!("{}: execution did not succeed: {other:?}", w.name),
            }
        }
        executions += 1;
    }
    let elapsed = started.elapsed();
    Ok(Row {
        workload: w.name.clone(),
        mode: if record_history {
            "in-process, history".into()
        } else {
            "in-process, no history".into()
        },
        executions,
        transitions: executions * w.meta.transitions_per_execution,
        events,
        elapsed,
        latencies: Vec::new(),
        note: String::new(),
    })
}
