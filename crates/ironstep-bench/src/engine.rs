//! The engine in process over a real store (memory, or SQLite in a temporary directory): what
//! `ironstep serve` does per execution minus HTTP. Standard executions commit every step (group
//! commit batches the steps of concurrent executions); Express ones run through
//! StartSyncExecution and keep nothing.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use ironstep_runtime::machines::CreateStateMachine;
use ironstep_runtime::{Engine, EngineConfig, StartRequest, SystemClock};
use ironstep_store::{MemoryStore, Store};

use crate::report::Row;
use crate::workload::Workload;

/// Which store the engine runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StoreKind {
    Memory,
    Sqlite,
}

/// An engine over a fresh store; the temporary directory lives as long as the engine.
pub struct Bench {
    pub engine: Engine,
    pub kind: StoreKind,
    _dir: Option<tempfile::TempDir>,
}

impl Bench {
    pub async fn start(kind: StoreKind) -> anyhow::Result<Bench> {
        let (store, dir): (Arc<dyn Store>, _) = match kind {
            StoreKind::Memory => (Arc::new(MemoryStore::new()), None),
            StoreKind::Sqlite => {
                let dir = tempfile::tempdir().context("temporary directory")?;
                let store = ironstep_store_sqlite::SqliteStore::open(
                    dir.path(),
                    ironstep_store_sqlite::SqliteOptions::default(),
                )
                .context("opening SQLite")?;
                (Arc::new(store), Some(dir))
            }
        };
        let engine = Engine::start(EngineConfig::default(), store, Arc::new(SystemClock))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(Bench {
            engine,
            kind,
            _dir: dir,
        })
    }

    /// Create the state machine of `w` (and of its children first) with `machine_type`.
    pub async fn create(
        &self,
        all: &[Workload],
        w: &Workload,
        machine_type: &str,
        arns: &mut BTreeMap<String, String>,
    ) -> anyhow::Result<String> {
        for child in w.meta.children.values() {
            if !arns.contains_key(child) {
                let cw = all
                    .iter()
                    .find(|x| &x.name == child)
                    .with_context(|| format!("child workload {child}"))?;
                let arn = Box::pin(self.create(all, cw, "STANDARD", arns)).await?;
                arns.insert(child.clone(), arn);
            }
        }
        let name = format!("{}-{}", w.name, machine_type.to_lowercase());
        let created = self
            .engine
            .create_state_machine(CreateStateMachine {
                name: name.clone(),
                definition: w.definition.clone(),
                role_arn: "arn:aws:iam::123456789012:role/bench".into(),
                machine_type: Some(machine_type.into()),
                ..Default::default()
            })
            .await;
        match created {
            Ok(c) => Ok(c.arn),
            Err(e) if e.code == ironstep_runtime::ErrorCode::StateMachineAlreadyExists => Ok(
                format!("arn:aws:states:us-east-1:123456789012:stateMachine:{name}"),
            ),
            Err(e) => bail!("{}: CreateStateMachine: {e}", w.name),
        }
    }

    /// Run `executions` executions of `w`, `concurrency` at a time, each from start to close.
    pub async fn run(
        &self,
        all: &[Workload],
        w: &Workload,
        express: bool,
        executions: usize,
        concurrency: usize,
    ) -> anyhow::Result<Row> {
        let machine_type = if express { "EXPRESS" } else { "STANDARD" };
        let mut arns = BTreeMap::new();
        let arn = self.create(all, w, machine_type, &mut arns).await?;
        let input = w.input_with_children(&arns)?;
        let next = Arc::new(AtomicU64::new(0));
        let before = self.engine.metrics().transitions.load(Ordering::Relaxed);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..concurrency.max(1) {
            let engine = self.engine.clone();
            let (arn, input, next, w) = (arn.clone(), input.clone(), next.clone(), w.clone());
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= executions as u64 {
                        return Ok::<_, anyhow::Error>(latencies);
                    }
                    let t0 = Instant::now();
                    let req = StartRequest {
                        state_machine_arn: arn.clone(),
                        name: Some(format!("run-{i}")),
                        input: Some(input.clone()),
                        ..Default::default()
                    };
                    let record = if express {
                        engine
                            .start_sync_execution(req)
                            .await
                            .map_err(|e| anyhow::anyhow!("{e}"))?
                            .record
                    } else {
                        let s = engine
                            .start_execution(req)
                            .await
                            .map_err(|e| anyhow::anyhow!("{e}"))?;
                        engine
                            .wait_for(&s.execution_arn)
                            .await
                            .map_err(|e| anyhow::anyhow!("{e}"))?
                    };
                    latencies.push(t0.elapsed());
                    if record.status != "SUCCEEDED" {
                        bail!(
                            "{}: execution {} {}: {:?} {:?}",
                            w.name,
                            record.arn,
                            record.status,
                            record.error,
                            record.cause
                        );
                    }
                    if i == 0 {
                        let out = serde_json::from_str(record.output.as_deref().unwrap_or("null"))?;
                        w.check(&out)?;
                    }
                }
            }));
        }
        let mut latencies = Vec::new();
        for t in tasks {
            latencies.extend(t.await.context("bench task")??);
        }
        let elapsed = started.elapsed();
        let transitions = self.engine.metrics().transitions.load(Ordering::Relaxed) - before;
        Ok(Row {
            workload: w.name.clone(),
            mode: format!(
                "engine {}, {}, x{}",
                match self.kind {
                    StoreKind::Memory => "memory",
                    StoreKind::Sqlite => "sqlite",
                },
                machine_type.to_lowercase(),
                concurrency
            ),
            executions: executions as u64,
            transitions,
            events: 0,
            elapsed,
            latencies,
            note: String::new(),
        })
    }
}

/// Start `count` Standard executions that sleep in a one-year Wait state, then report the
/// process's resident memory (the engine keeps a sleeping execution as a row and a timer).
pub async fn sleepers(kind: StoreKind, count: usize, concurrency: usize) -> anyhow::Result<String> {
    let rss_before = crate::rss_kib(std::process::id()).unwrap_or(0);
    let b = Bench::start(kind).await?;
    let arn = b
        .engine
        .create_state_machine(CreateStateMachine {
            name: "sleeper".into(),
            definition: r#"{"StartAt":"Sleep","States":{"Sleep":{"Type":"Wait","Seconds":31536000,"End":true}}}"#.into(),
            role_arn: "arn:aws:iam::123456789012:role/bench".into(),
            ..Default::default()
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .arn;
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (engine, arn, next) = (b.engine.clone(), arn.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count as u64 {
                    return Ok::<_, anyhow::Error>(());
                }
                engine
                    .start_execution(StartRequest {
                        state_machine_arn: arn.clone(),
                        name: Some(format!("sleeper-{i}")),
                        input: Some(format!(r#"{{"n":{i}}}"#)),
                        ..Default::default()
                    })
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            }
        }));
    }
    for t in tasks {
        t.await.context("start task")??;
    }
    let start_secs = started.elapsed().as_secs_f64();
    // Let evictions and the allocator settle.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss = crate::rss_kib(std::process::id()).unwrap_or(0);
    Ok(format!(
        "{count} sleeping executions on {kind:?}: started in {start_secs:.1} s ({:.0}/s); live in memory {}; timers {}; RSS {:.1} MiB (before the engine {:.1} MiB, {:.0} bytes per execution)",
        count as f64 / start_secs,
        b.engine.live_executions(),
        b.engine.pending_timers(),
        rss as f64 / 1024.0,
        rss_before as f64 / 1024.0,
        (rss.saturating_sub(rss_before) as f64 * 1024.0) / count as f64
    ))
}
