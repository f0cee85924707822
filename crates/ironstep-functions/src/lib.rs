//! ironstep-functions: AWS Lambda on the local machine, without containers.
//!
//! Users' functions run as plain processes (`node`, `python3`, or a `provided` runtime's own
//! `bootstrap`) speaking Lambda's Runtime API, exactly as on Lambda, so unmodified handlers and
//! runtime clients (`lambda_runtime`, `awslambdaric`) work. The crate offers:
//! - [`Functions`]: the registry (persisted under a data directory, or temporary), the
//!   engine-side [`Functions::invoke`], and the per-function logs ([`Functions::recent_invocations`]);
//! - [`Functions::router`]: Lambda's REST API (`/2015-03-31/functions/...`) as an axum router, for
//!   boto3, the aws CLI and SDKs;
//! - a Runtime API listener per worker process on an ephemeral loopback port.
//!
//! Key decision: **one listener per worker.** Runtimes address the Runtime API with fixed paths
//! through `AWS_LAMBDA_RUNTIME_API=host:port`, so the port identifies the worker; an invocation is
//! handed to exactly one process and cannot be answered by another. A worker value owns its
//! process and listener: dropping it kills both, which makes timeouts, crashes, code updates,
//! idle reaping and shutdown the same clean-up path.
//!
//! This crate must not depend on the other ironstep crates: the engine calls it, not the reverse.

#![warn(missing_docs)]

mod api;
mod config;
mod error;
mod hot_reload;
mod invoke;
mod logs;
mod names;
mod pool;
mod registry;
mod runtime_api;
mod runtimes;
mod worker;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

pub use config::{FunctionsConfig, Storage, WorkerCredentials};
pub use error::{LambdaApiError, OpenError};
pub use invoke::{InvocationType, InvokeRequest, InvokeResponse, LogType};
pub use logs::{InvocationRecord, InvocationStatus};
pub use names::{FunctionRef, LATEST};
pub use registry::{
    CodeLocation, ConfigurationUpdate, FunctionCode, FunctionConfiguration, FunctionDefinition,
    KNOWN_RUNTIMES,
};
pub use runtime_api::MAX_RESPONSE_BYTES;

use logs::LogStore;
use names::Scope;
use pool::Pool;
use registry::FunctionRecord;

/// The local Lambda service: registry, invoker, worker pools and logs. Cheap to clone.
///
/// Open it once ([`Functions::open`]) inside a Tokio runtime, mount [`Functions::router`] on the
/// HTTP server, call [`Functions::invoke`] from the engine, and [`Functions::shutdown`] at exit.
#[derive(Clone)]
pub struct Functions {
    inner: Arc<Inner>,
}

struct Inner {
    config: FunctionsConfig,
    scope: Scope,
    /// `<data>/functions` (or the temporary directory's equivalent).
    root: PathBuf,
    runtime_dir: PathBuf,
    persistent: bool,
    functions: RwLock<BTreeMap<String, Arc<FunctionEntry>>>,
    /// Serialises create/update/delete, which touch the disk.
    writes: tokio::sync::Mutex<()>,
    shutdown: tokio::sync::watch::Sender<bool>,
    _temp: Option<tempfile::TempDir>,
}

struct FunctionEntry {
    dir: PathBuf,
    record: RwLock<Arc<FunctionRecord>>,
    /// Bumped at every change of code or configuration: workers of older generations retire.
    generation: AtomicU64,
    pool: Arc<Pool>,
    logs: Mutex<LogStore>,
    /// For hot-reload directories: edits retire warm workers.
    watch: Mutex<hot_reload::Watch>,
}

impl FunctionEntry {
    fn record(&self) -> Arc<FunctionRecord> {
        match self.record.read() {
            Ok(r) => r.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn replace(&self, record: FunctionRecord) {
        match self.record.write() {
            Ok(mut r) => *r = Arc::new(record),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(record),
        }
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.pool.reap(None);
        // The next look at a hot-reload directory starts from what the new workers will read.
        if let Ok(mut w) = self.watch.lock() {
            *w = hot_reload::Watch::default();
        }
    }
}

/// `GetFunction`'s answer.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionInfo {
    /// The configuration.
    pub configuration: FunctionConfiguration,
    /// Where the code is (`RepositoryType`, `Location`).
    pub code: CodeInfo,
    /// Tags.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Reserved concurrency, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<Concurrency>,
}

/// `FunctionCodeLocation`.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CodeInfo {
    /// `S3` as Lambda says; the location is a local `file://` URL.
    pub repository_type: &'static str,
    /// `file:///...` of the directory the code runs from.
    pub location: String,
}

/// `Concurrency`.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Concurrency {
    /// Reserved concurrent executions.
    pub reserved_concurrent_executions: u32,
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> OpenError + '_ {
    move |source| OpenError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl Functions {
    /// Opens the registry: loads stored functions, installs the bootstraps, starts the idle
    /// reaper. Must run inside a Tokio runtime.
    pub async fn open(config: FunctionsConfig) -> Result<Self, OpenError> {
        let (temp, base, persistent) = match &config.storage {
            Storage::Directory(dir) => (None, dir.clone(), true),
            Storage::Temporary => {
                let t = tempfile::Builder::new()
                    .prefix("ironstep-functions-")
                    .tempdir()
                    .map_err(io_error(&std::env::temp_dir()))?;
                let p = t.path().to_path_buf();
                (Some(t), p, false)
            }
        };
        let root = base.join("functions");
        std::fs::create_dir_all(&root).map_err(io_error(&root))?;
        let runtime_dir = config
            .runtime_dir
            .clone()
            .unwrap_or_else(|| base.join("runtime"));
        runtimes::install(&runtime_dir).map_err(io_error(&runtime_dir))?;

        let mut functions = BTreeMap::new();
        if persistent {
            for dirent in std::fs::read_dir(&root).map_err(io_error(&root))? {
                let dir = dirent.map_err(io_error(&root))?.path();
                let file = dir.join("function.json");
                if !file.is_file() {
                    continue;
                }
                let text = std::fs::read(&file).map_err(io_error(&file))?;
                let record: FunctionRecord =
                    serde_json::from_slice(&text).map_err(|source| OpenError::Corrupt {
                        path: file.clone(),
                        source,
                    })?;
                registry::remove_stale_code(&dir, &record.code);
                functions.insert(
                    record.name.clone(),
                    Arc::new(new_entry(&config, dir, record)),
                );
            }
        }
        let scope = Scope {
            region: config.region.clone(),
            account_id: config.account_id.clone(),
        };
        let (shutdown, _) = tokio::sync::watch::channel(false);
        let inner = Arc::new(Inner {
            scope,
            root,
            runtime_dir,
            persistent,
            functions: RwLock::new(functions),
            writes: tokio::sync::Mutex::new(()),
            shutdown,
            _temp: temp,
            config,
        });
        tokio::spawn(reap_idle(Arc::downgrade(&inner)));
        Ok(Self { inner })
    }

    /// Lambda's REST API, to be merged into ironstep's HTTP router.
    pub fn router(&self) -> axum::Router {
        api::router(self.clone())
    }

    /// The configuration it was opened with.
    pub fn config(&self) -> &FunctionsConfig {
        &self.inner.config
    }

    /// `arn:aws:lambda:<region>:<account>:function:<name>`.
    pub fn function_arn(&self, name: &str) -> String {
        self.inner.scope.function_arn(name)
    }

    fn parse(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<FunctionRef, LambdaApiError> {
        self.inner.scope.parse(function, qualifier, "functionName")
    }

    fn entry(&self, name: &str) -> Option<Arc<FunctionEntry>> {
        self.inner.functions.read().ok()?.get(name).cloned()
    }

    /// The entry for a reference that must designate `$LATEST` (the only version we keep).
    fn latest_entry(
        &self,
        r: &FunctionRef,
        not_found_arn: impl FnOnce() -> String,
    ) -> Result<Arc<FunctionEntry>, LambdaApiError> {
        if r.qualifier.as_deref().is_some_and(|q| q != LATEST) {
            return Err(LambdaApiError::function_not_found(&not_found_arn()));
        }
        self.entry(&r.name)
            .ok_or_else(|| LambdaApiError::function_not_found(&not_found_arn()))
    }

    fn lookup(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<Arc<FunctionEntry>, LambdaApiError> {
        let r = self.parse(function, qualifier)?;
        let scope = &self.inner.scope;
        self.latest_entry(&r, || match &r.qualifier {
            Some(q) => scope.qualified_arn(&r.name, q),
            None => scope.function_arn(&r.name),
        })
    }

    /// `CreateFunction`.
    pub async fn create_function(
        &self,
        def: FunctionDefinition,
    ) -> Result<FunctionConfiguration, LambdaApiError> {
        let r = self.parse(&def.name, None)?;
        if r.qualifier.is_some() {
            return Err(LambdaApiError::validation_one(
                &def.name,
                "functionName",
                "Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)",
            ));
        }
        let timeout = def.timeout.unwrap_or(3);
        let memory_size = def.memory_size.unwrap_or(128);
        registry::validate_settings(&def.runtime, timeout, memory_size, &def.environment)?;
        registry::validate_handler(&def.runtime, def.handler.as_deref())?;
        let _guard = self.inner.writes.lock().await;
        if self.entry(&r.name).is_some() {
            return Err(LambdaApiError::conflict(format!(
                "Function already exist: {}",
                r.name
            )));
        }
        let dir = self.inner.root.join(&r.name);
        let revision = uuid::Uuid::new_v4().to_string();
        let persistent = self.inner.persistent;
        let name = r.name.clone();
        let record = tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&dir).map_err(LambdaApiError::service)?;
            let code = match registry::prepare_code(&def.code, &dir, &revision) {
                Ok(code) => code,
                Err(e) => {
                    let _ = std::fs::remove_dir_all(&dir);
                    return Err(e);
                }
            };
            let record = FunctionRecord {
                name,
                runtime: def.runtime,
                handler: def.handler,
                role: def.role.unwrap_or_default(),
                description: def.description.unwrap_or_default(),
                timeout,
                memory_size,
                environment: def.environment,
                architectures: def
                    .architectures
                    .unwrap_or_else(|| vec!["x86_64".to_owned()]),
                tags: def.tags,
                ephemeral_storage: def.ephemeral_storage.unwrap_or(512),
                tracing_mode: def.tracing_mode.unwrap_or_else(|| "PassThrough".to_owned()),
                code: code.location,
                code_sha256: code.sha256,
                code_size: code.size,
                last_modified: registry::timestamp_now(),
                revision_id: revision,
                reserved_concurrency: None,
            };
            if persistent {
                registry::save_record(&dir, &record)?;
            }
            Ok((dir, record))
        })
        .await
        .map_err(LambdaApiError::service)??;
        let (dir, record) = record;
        let configuration = record.configuration(&self.inner.scope);
        let entry = Arc::new(new_entry(&self.inner.config, dir, record));
        if let Ok(mut map) = self.inner.functions.write() {
            map.insert(r.name, entry);
        }
        Ok(configuration)
    }

    /// `GetFunction`.
    pub fn get_function(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<FunctionInfo, LambdaApiError> {
        let entry = self.lookup(function, qualifier)?;
        let record = entry.record();
        let root = record.task_root(&entry.dir);
        Ok(FunctionInfo {
            configuration: record.configuration(&self.inner.scope),
            code: CodeInfo {
                repository_type: "S3",
                location: format!("file://{}", root.display()),
            },
            tags: record.tags.clone(),
            concurrency: record.reserved_concurrency.map(|n| Concurrency {
                reserved_concurrent_executions: n,
            }),
        })
    }

    /// `GetFunctionConfiguration`.
    pub fn get_function_configuration(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<FunctionConfiguration, LambdaApiError> {
        let entry = self.lookup(function, qualifier)?;
        Ok(entry.record().configuration(&self.inner.scope))
    }

    /// `ListFunctions`: by name, `max_items` per page (default 50, 1..=10000), `marker` from the
    /// previous page's `NextMarker`.
    pub fn list_functions(
        &self,
        marker: Option<&str>,
        max_items: Option<u32>,
    ) -> Result<(Vec<FunctionConfiguration>, Option<String>), LambdaApiError> {
        let max = max_items.unwrap_or(50);
        if !(1..=10000).contains(&max) {
            return Err(LambdaApiError::validation_one(
                &max.to_string(),
                "maxItems",
                if max == 0 {
                    "Member must have value greater than or equal to 1"
                } else {
                    "Member must have value less than or equal to 10000"
                },
            ));
        }
        let map = self
            .inner
            .functions
            .read()
            .map_err(|_| LambdaApiError::service("registry lock poisoned"))?;
        let start = match marker.filter(|m| !m.is_empty()) {
            // The marker is the name of the next function to return (opaque to clients).
            Some(m) => std::ops::Bound::Included(m.to_owned()),
            None => std::ops::Bound::Unbounded,
        };
        let mut page: Vec<FunctionConfiguration> = Vec::new();
        let mut next = None;
        for (name, entry) in map.range((start, std::ops::Bound::Unbounded)) {
            if page.len() == max as usize {
                next = Some(name.clone());
                break;
            }
            page.push(entry.record().configuration(&self.inner.scope));
        }
        Ok((page, next))
    }

    /// `UpdateFunctionCode`: new code takes effect at the next cold start; warm workers retire.
    pub async fn update_function_code(
        &self,
        function: &str,
        code: FunctionCode,
        revision_id: Option<&str>,
    ) -> Result<FunctionConfiguration, LambdaApiError> {
        let _guard = self.inner.writes.lock().await;
        let entry = self.lookup(function, None)?;
        let old = entry.record();
        if revision_id.is_some_and(|r| r != old.revision_id) {
            return Err(LambdaApiError::precondition_failed());
        }
        let revision = uuid::Uuid::new_v4().to_string();
        let dir = entry.dir.clone();
        let persistent = self.inner.persistent;
        let mut record = (*old).clone();
        let record = tokio::task::spawn_blocking(move || {
            let code = registry::prepare_code(&code, &dir, &revision)?;
            record.code = code.location;
            record.code_sha256 = code.sha256;
            record.code_size = code.size;
            record.revision_id = revision;
            record.last_modified = registry::timestamp_now();
            if persistent && let Err(e) = registry::save_record(&dir, &record) {
                registry::remove_code(&dir, &record.code);
                return Err(e);
            }
            if old.code != record.code {
                registry::remove_code(&dir, &old.code);
            }
            Ok(record)
        })
        .await
        .map_err(LambdaApiError::service)??;
        let configuration = record.configuration(&self.inner.scope);
        entry.replace(record);
        Ok(configuration)
    }

    /// `UpdateFunctionConfiguration`.
    pub async fn update_function_configuration(
        &self,
        function: &str,
        update: ConfigurationUpdate,
    ) -> Result<FunctionConfiguration, LambdaApiError> {
        let _guard = self.inner.writes.lock().await;
        let entry = self.lookup(function, None)?;
        let mut record = (*entry.record()).clone();
        if update
            .revision_id
            .as_deref()
            .is_some_and(|r| r != record.revision_id)
        {
            return Err(LambdaApiError::precondition_failed());
        }
        let ConfigurationUpdate {
            runtime,
            handler,
            role,
            description,
            timeout,
            memory_size,
            environment,
            ephemeral_storage,
            tracing_mode,
            revision_id: _,
        } = update;
        record.runtime = runtime.unwrap_or(record.runtime);
        record.handler = handler.or(record.handler);
        record.role = role.unwrap_or(record.role);
        record.description = description.unwrap_or(record.description);
        record.timeout = timeout.unwrap_or(record.timeout);
        record.memory_size = memory_size.unwrap_or(record.memory_size);
        record.environment = environment.unwrap_or(record.environment);
        record.ephemeral_storage = ephemeral_storage.unwrap_or(record.ephemeral_storage);
        record.tracing_mode = tracing_mode.unwrap_or(record.tracing_mode);
        registry::validate_settings(
            &record.runtime,
            record.timeout,
            record.memory_size,
            &record.environment,
        )?;
        registry::validate_handler(&record.runtime, record.handler.as_deref())?;
        record.revision_id = uuid::Uuid::new_v4().to_string();
        record.last_modified = registry::timestamp_now();
        self.store(&entry, record).await
    }

    async fn store(
        &self,
        entry: &FunctionEntry,
        record: FunctionRecord,
    ) -> Result<FunctionConfiguration, LambdaApiError> {
        if self.inner.persistent {
            let dir = entry.dir.clone();
            let copy = record.clone();
            tokio::task::spawn_blocking(move || registry::save_record(&dir, &copy))
                .await
                .map_err(LambdaApiError::service)??;
        }
        let configuration = record.configuration(&self.inner.scope);
        entry.replace(record);
        Ok(configuration)
    }

    /// `DeleteFunction` (of `$LATEST`, i.e. the whole function).
    pub async fn delete_function(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<(), LambdaApiError> {
        let _guard = self.inner.writes.lock().await;
        let r = self.parse(function, qualifier)?;
        if r.qualifier.as_deref() == Some(LATEST) {
            return Err(LambdaApiError::invalid_parameter(
                "$LATEST version cannot be deleted without deleting the function.",
            ));
        }
        let entry = self.latest_entry(&r, || match &r.qualifier {
            Some(q) => self.inner.scope.qualified_arn(&r.name, q),
            None => self.inner.scope.function_arn(&r.name),
        })?;
        if let Ok(mut map) = self.inner.functions.write() {
            map.remove(&r.name);
        }
        entry.generation.fetch_add(1, Ordering::SeqCst);
        entry.pool.reap(None);
        let dir = entry.dir.clone();
        tokio::task::spawn_blocking(move || std::fs::remove_dir_all(dir))
            .await
            .map_err(LambdaApiError::service)?
            .ok();
        Ok(())
    }

    /// `PutFunctionConcurrency`: reserved concurrency bounds the function's concurrent workers
    /// (0 throttles every invocation); capped by [`FunctionsConfig::max_concurrency`].
    pub async fn put_function_concurrency(
        &self,
        function: &str,
        reserved: u32,
    ) -> Result<u32, LambdaApiError> {
        let _guard = self.inner.writes.lock().await;
        let entry = self.lookup(function, None)?;
        let max = self.inner.config.max_concurrency;
        if reserved > max {
            // Lambda's bound is the account's unreserved concurrency; ours is a per-function cap.
            return Err(LambdaApiError::invalid_parameter(format!(
                "Specified ReservedConcurrentExecutions for function exceeds the maximum of {max} allowed per function by this server."
            )));
        }
        let mut record = (*entry.record()).clone();
        record.reserved_concurrency = Some(reserved);
        self.store_concurrency(&entry, record).await?;
        Ok(reserved)
    }

    /// `DeleteFunctionConcurrency`.
    pub async fn delete_function_concurrency(&self, function: &str) -> Result<(), LambdaApiError> {
        let _guard = self.inner.writes.lock().await;
        let entry = self.lookup(function, None)?;
        let mut record = (*entry.record()).clone();
        record.reserved_concurrency = None;
        self.store_concurrency(&entry, record).await
    }

    /// `GetFunctionConcurrency`.
    pub fn get_function_concurrency(&self, function: &str) -> Result<Option<u32>, LambdaApiError> {
        Ok(self.lookup(function, None)?.record().reserved_concurrency)
    }

    /// Concurrency changes keep warm workers (code and configuration are unchanged).
    async fn store_concurrency(
        &self,
        entry: &FunctionEntry,
        record: FunctionRecord,
    ) -> Result<(), LambdaApiError> {
        if self.inner.persistent {
            let dir = entry.dir.clone();
            let copy = record.clone();
            tokio::task::spawn_blocking(move || registry::save_record(&dir, &copy))
                .await
                .map_err(LambdaApiError::service)??;
        }
        match entry.record.write() {
            Ok(mut r) => *r = Arc::new(record),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(record),
        }
        Ok(())
    }

    /// The last invocations of a function, oldest first (bounded by
    /// [`FunctionsConfig::log_records_per_function`] and [`FunctionsConfig::log_bytes_per_function`]).
    pub fn recent_invocations(
        &self,
        function: &str,
    ) -> Result<Vec<InvocationRecord>, LambdaApiError> {
        let entry = self.lookup(function, None)?;
        let logs = entry
            .logs
            .lock()
            .map_err(|_| LambdaApiError::service("log store poisoned"))?;
        Ok(logs.records())
    }

    /// Process ids of a function's idle warm workers (for tests and diagnostics).
    pub fn idle_worker_pids(&self, function: &str) -> Result<Vec<u32>, LambdaApiError> {
        Ok(self.lookup(function, None)?.pool.idle_pids())
    }

    /// Stops every worker: idle ones now, running ones as soon as their invocation notices
    /// (it then fails with `Runtime.ExitError`). New invocations are refused afterwards.
    pub fn shutdown(&self) {
        self.inner.shutdown.send_replace(true);
        if let Ok(map) = self.inner.functions.read() {
            for entry in map.values() {
                entry.pool.reap(None);
            }
        }
    }
}

fn new_entry(config: &FunctionsConfig, dir: PathBuf, record: FunctionRecord) -> FunctionEntry {
    FunctionEntry {
        dir,
        record: RwLock::new(Arc::new(record)),
        generation: AtomicU64::new(0),
        pool: Arc::new(Pool::default()),
        watch: Mutex::new(hot_reload::Watch::default()),
        logs: Mutex::new(LogStore::new(
            config.log_records_per_function,
            config.log_bytes_per_function,
        )),
    }
}

/// Stops idle workers past [`FunctionsConfig::idle_timeout`]; ends with the service.
async fn reap_idle(inner: std::sync::Weak<Inner>) {
    let period = match inner.upgrade() {
        Some(i) => {
            (i.config.idle_timeout / 4).clamp(Duration::from_millis(100), Duration::from_secs(30))
        }
        None => return,
    };
    loop {
        tokio::time::sleep(period).await;
        let Some(inner) = inner.upgrade() else { return };
        if *inner.shutdown.borrow() {
            return;
        }
        let Some(before) = Instant::now().checked_sub(inner.config.idle_timeout) else {
            continue;
        };
        let entries: Vec<Arc<FunctionEntry>> = match inner.functions.read() {
            Ok(map) => map.values().cloned().collect(),
            Err(_) => continue,
        };
        for entry in entries {
            entry.pool.reap(Some(before));
        }
    }
}
