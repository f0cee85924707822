//! ironstep-runtime: drives executions. It feeds inputs to the pure interpreter
//! (`ironstep-core`), commits each resulting step to the [`Store`] in one [`Mutation`], and then
//! carries out the step's commands: timers, task dispatch, child executions, activity hand-out.
//!
//! Key decisions:
//! - **One input at a time per execution.** Each live execution sits behind its own async mutex;
//!   different executions proceed in parallel, and the store batches their commits.
//! - **Commit, then act.** A command runs only after the step that issued it is durable, and its
//!   dispatch row is in that same commit, so a crash re-dispatches exactly the unanswered tasks.
//! - **Nothing sleeping lives in memory.** An execution that waits only on timers is evicted after
//!   its step; its next timer reloads it from the snapshot.
//! - **Time is an input** ([`Clock`]); `--wait-scale` shortens Wait and Retry delays only.
//! - **Several nodes, one store.** When the store is shared (PostgreSQL), executions are held
//!   under fenced leases, inputs for executions another node holds go through its inbox, and
//!   the work of a dead node is adopted (see the `cluster` module). With a single-node store
//!   none of that runs.
#![warn(missing_docs)]

pub mod activities;
pub mod arn;
pub mod clock;
mod cluster;
pub mod error;
mod executions;
pub mod integrations;
pub mod machines;
pub mod maprun;
pub mod testing;
mod timers;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use ironstep_asl::{CompileOptions, Definition, StateMachineType};
use ironstep_core::Entropy;
use ironstep_store::Store;
use serde_json::Value;

pub use arn::Partition;
pub use clock::{Clock, ManualClock, Millis, SystemClock};
pub use error::{ErrorCode, ServiceError, ServiceResult};
pub use executions::{HistoryPage, StartOutcome, StartRequest, SyncOutcome};
pub use integrations::{LambdaError, LambdaInvoker, LambdaRequest, LambdaResponse};

/// How an engine is set up.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Region and account of every ARN.
    pub partition: Partition,
    /// Multiplier applied to Wait-state and retry delays (1.0 = real time; 0 = no waiting).
    /// Never applied to timeouts.
    pub wait_scale: f64,
    /// How long closed executions are kept (milliseconds). AWS keeps 90 days.
    pub retention_ms: i64,
    /// Record history events for Express executions too (`ironstep run`, tests).
    pub express_history: bool,
    /// Cluster mode (a shared store): the address this node serves on, shown to operators.
    pub node_address: String,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            partition: Partition {
                region: "us-east-1".into(),
                account: "123456789012".into(),
            },
            wait_scale: 1.0,
            retention_ms: 90 * 24 * 3600 * 1000,
            express_history: false,
            node_address: String::new(),
        }
    }
}

/// Randomness from the operating system (task tokens must be unguessable).
#[derive(Debug, Default, Clone, Copy)]
pub struct OsEntropy;

impl Entropy for OsEntropy {
    fn next_u64(&mut self) -> u64 {
        rand::random()
    }
}

/// Counters for metrics and benchmarks.
#[derive(Debug, Default)]
pub struct Metrics {
    /// State transitions made.
    pub transitions: AtomicU64,
    /// Steps committed.
    pub steps: AtomicU64,
    /// Executions started.
    pub started: AtomicU64,
    /// Executions closed.
    pub closed: AtomicU64,
}

/// The engine: cheap to clone, shared by the API, the console and the CLI.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) config: EngineConfig,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    /// Compiled definitions by (machine type, definition text).
    compiled: Mutex<HashMap<(bool, String), Arc<Definition>>>,
    pub(crate) live: executions::LiveMap,
    pub(crate) timers: timers::Timers,
    pub(crate) activities: activities::Queues,
    pub(crate) waiters: executions::Waiters,
    pub(crate) lambda: Mutex<Option<Arc<dyn LambdaInvoker>>>,
    pub(crate) metrics: Metrics,
    pub(crate) map_runs: maprun::MapRuns,
    pub(crate) tests: testing::Tests,
    pub(crate) shutting_down: std::sync::atomic::AtomicBool,
    pub(crate) cluster: cluster::ClusterState,
}

impl Engine {
    /// Build an engine over a store, recover what the store holds (running executions, timers,
    /// unanswered tasks), and start the timer and retention loops. Must be called inside a tokio
    /// runtime.
    pub async fn start(
        config: EngineConfig,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> ServiceResult<Engine> {
        let inner = Arc::new(Inner {
            config,
            store,
            clock,
            compiled: Mutex::new(HashMap::new()),
            live: executions::LiveMap::default(),
            timers: timers::Timers::default(),
            activities: activities::Queues::default(),
            waiters: executions::Waiters::default(),
            lambda: Mutex::new(None),
            metrics: Metrics::default(),
            map_runs: maprun::MapRuns::default(),
            tests: testing::Tests::default(),
            shutting_down: std::sync::atomic::AtomicBool::new(false),
            cluster: cluster::ClusterState::default(),
        });
        let engine = Engine { inner };
        timers::spawn_loop(Arc::downgrade(&engine.inner));
        let recovered = engine.recover().await?;
        tracing::info!(
            running = recovered.running,
            timers = recovered.timers,
            dispatches = recovered.dispatches,
            "recovered from the store"
        );
        executions::spawn_retention(Arc::downgrade(&engine.inner));
        Ok(engine)
    }

    /// What recovery found at start-up.
    pub async fn recover(&self) -> ServiceResult<Recovered> {
        executions::recover(self).await
    }

    /// Plug in local Lambda functions (the binary wires `ironstep-functions` here).
    pub fn set_lambda(&self, invoker: Arc<dyn LambdaInvoker>) {
        *lock(&self.inner.lambda) = Some(invoker);
    }

    pub(crate) fn lambda(&self) -> Option<Arc<dyn LambdaInvoker>> {
        lock(&self.inner.lambda).clone()
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// Now, by the engine's clock.
    pub fn now(&self) -> Millis {
        self.inner.clock.now()
    }

    /// Counters.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Stop accepting work and flush the store. In cluster mode every lease is handed back
    /// first, so that other nodes take the work over at once.
    pub async fn shutdown(&self) {
        self.inner.shutting_down.store(true, Ordering::SeqCst);
        cluster::leave(self).await;
        if let Err(e) = self.inner.store.close().await {
            tracing::warn!("closing the store: {e}");
        }
    }

    pub(crate) fn from_weak(w: &Weak<Inner>) -> Option<Engine> {
        w.upgrade().map(|inner| Engine { inner })
    }

    /// Compile (or fetch the compiled) definition.
    pub(crate) fn compile(
        &self,
        text: &str,
        express: bool,
    ) -> Result<Arc<Definition>, Vec<ironstep_asl::Diagnostic>> {
        let key = (express, text.to_string());
        if let Some(d) = lock(&self.inner.compiled).get(&key) {
            return Ok(d.clone());
        }
        let opts = CompileOptions {
            machine_type: if express {
                StateMachineType::Express
            } else {
                StateMachineType::Standard
            },
        };
        let def = Arc::new(ironstep_asl::compile(text, &opts)?);
        let mut cache = lock(&self.inner.compiled);
        // Definitions are small and few; a bound keeps a pathological client from growing it.
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(key, def.clone());
        Ok(def)
    }
}

/// What [`Engine::recover`] found.
#[derive(Debug, Default, Clone, Copy)]
pub struct Recovered {
    /// Executions still running.
    pub running: usize,
    /// Timers reloaded.
    pub timers: usize,
    /// Tasks handed out again.
    pub dispatches: usize,
}

/// Lock a std mutex, ignoring poisoning: the runtime's critical sections never leave shared
/// state half-updated on panic (they only insert or remove whole entries).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Parse JSON text the way AWS reports failures (`InvalidExecutionInput` and friends).
pub(crate) fn parse_json(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| {
        let msg = e.to_string();
        match msg.rfind(" at line ") {
            Some(i) => msg[..i].to_string(),
            None => msg,
        }
    })
}

/// ISO-8601 UTC with milliseconds (`2024-01-01T00:00:00.000Z`).
pub(crate) fn iso(ms: Millis) -> String {
    ironstep_core::context::iso_millis(ms)
}
