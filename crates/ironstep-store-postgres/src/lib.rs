//! ironstep-store-postgres: the [`Store`] several ironstep nodes share.
//!
//! Point every node at one PostgreSQL database (`ironstep serve --store postgres://...`): any
//! node answers any API call, and executions keep running when a node dies. The store has the
//! same semantics as the SQLite one (it passes the same contract suite) and adds the
//! [`Cluster`] side: leases with fencing, an inbox, timer claims, activity hand-out, node
//! heartbeats and LISTEN/NOTIFY hints.
//!
//! Key decisions:
//! - **Group commit with pipelining.** Steps go to a few writer tasks that batch everything
//!   queued into one transaction, each request in its own savepoint, its statements pipelined
//!   (one round trip per step, one WAL flush per batch). `Ok` means committed.
//! - **Fencing in the statement.** A fenced step's first statement is the execution row's
//!   update `WHERE owner = me AND epoch = e`; when it matches nothing, the request rolls back
//!   to its savepoint and answers [`Committed::LeaseLost`].
//! - **The database's clock for leases.** Lease expiry is computed and compared in SQL, so
//!   nodes whose clocks differ still agree on who holds what.
//! - **Notifications are hints.** Everything a notification announces is also found by
//!   polling; the listener reconnects by itself.
//!
//! This crate depends on the storage contract (`ironstep-store`), tokio-postgres and
//! deadpool-postgres only: never on the runtime or the interpreter.
#![warn(missing_docs)]

mod cluster;
mod error;
mod listen;
mod rows;
mod schema;
pub mod testing;
mod writer;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use ironstep_store::cluster::{Cluster, ClusterTiming, Committed, Fenced, Lease};
use ironstep_store::{
    ActivityRecord, AliasRecord, DispatchRecord, ExecutionFilter, ExecutionRecord, Millis,
    Mutation, StateMachineRecord, Store, StoreError, StoredEvent, TimerRecord, VersionRecord,
};
use tokio::sync::{Mutex as AsyncMutex, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, NoTls};

pub use error::ConnectError;
pub use schema::SCHEMA_VERSION;

use error::backend;
use writer::{Counters, Done, Op, Request, WriterConfig};

/// The database's clock in epoch milliseconds, as SQL (lease times use it).
pub(crate) const NOW: &str = "CAST(EXTRACT(EPOCH FROM CURRENT_TIMESTAMP) * 1000 AS BIGINT)";

/// Purge deletes at most this many executions per transaction (as on SQLite).
const PURGE_CHUNK: usize = 64;

/// How to open a [`PgStore`]. `Default` is the production setting.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// Connections for reads and control-plane writes.
    pub pool_size: usize,
    /// Writer tasks (each with its own connection) committing execution steps.
    pub writers: usize,
    /// At most this many steps share one transaction.
    pub max_batch: usize,
    /// Lease, renewal and polling times of the cluster.
    pub timing: ClusterTiming,
    /// This node's id; a fresh one (`<host>-<random>`) when `None`.
    pub node_id: Option<String>,
    /// How long [`PgStore::connect`] keeps trying to reach the server before giving up.
    pub connect_timeout: Duration,
    /// How long a step waits for an unreachable database (reconnecting with back-off)
    /// before its caller gets an error.
    pub retry_for: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            pool_size: 16,
            writers: 2,
            max_batch: 128,
            timing: ClusterTiming::default(),
            node_id: None,
            connect_timeout: Duration::from_secs(30),
            retry_for: Duration::from_secs(10),
        }
    }
}

/// Group-commit counters since the store opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriterStats {
    /// Transactions committed.
    pub commits: u64,
    /// Steps answered by those commits.
    pub requests: u64,
    /// History events written.
    pub events: u64,
    /// Transactions that did not commit.
    pub failed_commits: u64,
    /// The most steps one commit carried.
    pub largest_batch: u64,
}

/// The PostgreSQL store. Open with [`PgStore::connect`]; [`Store::close`] it on shutdown.
pub struct PgStore {
    pool: Pool,
    pg: tokio_postgres::Config,
    target: String,
    writer: Mutex<Option<mpsc::Sender<Request>>>,
    writers: Mutex<Vec<JoinHandle<()>>>,
    counters: Arc<Counters>,
    node: String,
    timing: ClusterTiming,
    listener: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("target", &self.target)
            .field("node", &self.node)
            .finish_non_exhaustive()
    }
}

/// One connection, driven by its own task.
pub(crate) async fn connect_once(
    config: &tokio_postgres::Config,
) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!("PostgreSQL connection ended: {e}");
        }
    });
    Ok(client)
}

pub(crate) fn to_i64(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Backend(format!("{v} is too large for PostgreSQL")))
}

/// A `usize` limit as a SQL `LIMIT` (saturating).
pub(crate) fn limit(v: usize) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn bound(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn default_node_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".into());
    format!("{host}-{:06x}", rand::random::<u32>() & 0xff_ffff)
}

/// Where a URL points, for messages (host, port and database; never the password).
fn describe(config: &tokio_postgres::Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(s) => s.clone(),
            tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
        })
        .collect();
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "{}:{port}/{}",
        hosts.join(","),
        config.get_dbname().unwrap_or("(default database)")
    )
}

impl PgStore {
    /// Connect to `url` (`postgres://user[:password]@host[:port]/database`), retrying with
    /// back-off for up to `options.connect_timeout`, run the migrations, and start the writers.
    pub async fn connect(url: &str, options: PgOptions) -> Result<PgStore, ConnectError> {
        let mut pg: tokio_postgres::Config = url.parse().map_err(|e| ConnectError::Url {
            url: error::redact(url),
            detail: format!("{e}"),
        })?;
        if pg.get_application_name().is_none() {
            pg.application_name("ironstep");
        }
        if pg.get_connect_timeout().is_none() {
            pg.connect_timeout(Duration::from_secs(5));
        }
        let target = describe(&pg);
        let started = std::time::Instant::now();
        let mut backoff = Duration::from_millis(100);
        let mut client = loop {
            match connect_once(&pg).await {
                Ok(c) => break c,
                Err(e) => {
                    let detail = e
                        .as_db_error()
                        .map(|d| d.message().to_string())
                        .unwrap_or_else(|| e.to_string());
                    if started.elapsed() >= options.connect_timeout {
                        return Err(ConnectError::Unreachable {
                            target,
                            seconds: options.connect_timeout.as_secs(),
                            detail,
                        });
                    }
                    tracing::warn!(
                        "cannot reach PostgreSQL at {target} ({detail}); retrying in {} ms",
                        backoff.as_millis()
                    );
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        };
        schema::migrate(&mut client, now_ms()).await?;
        drop(client);
        let manager = Manager::from_config(
            pg.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.pool_size.max(1))
            .runtime(Runtime::Tokio1)
            .create_timeout(Some(Duration::from_secs(5)))
            .wait_timeout(Some(Duration::from_secs(30)))
            .build()
            .map_err(|e| ConnectError::Schema(format!("building the connection pool: {e}")))?;
        let node = options.node_id.clone().unwrap_or_else(default_node_id);
        let counters = Arc::new(Counters::default());
        let (tx, rx) = mpsc::channel(4096);
        let rx = Arc::new(AsyncMutex::new(rx));
        let cfg = Arc::new(WriterConfig {
            pg: pg.clone(),
            node: node.clone(),
            lease_ms: duration_ms(options.timing.lease),
            max_batch: options.max_batch.max(1),
            retry_for: options.retry_for,
            counters: counters.clone(),
        });
        let writers = (0..options.writers.max(1))
            .map(|_| tokio::spawn(writer::run(cfg.clone(), rx.clone())))
            .collect();
        Ok(PgStore {
            pool,
            pg,
            target,
            writer: Mutex::new(Some(tx)),
            writers: Mutex::new(writers),
            counters,
            node,
            timing: options.timing,
            listener: Mutex::new(None),
        })
    }

    /// Host, port and database this store uses.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Group-commit counters since connect.
    pub fn stats(&self) -> WriterStats {
        use std::sync::atomic::Ordering::Relaxed;
        let c = &self.counters;
        WriterStats {
            commits: c.commits.load(Relaxed),
            requests: c.requests.load(Relaxed),
            events: c.events.load(Relaxed),
            failed_commits: c.failed_commits.load(Relaxed),
            largest_batch: c.largest_batch.load(Relaxed),
        }
    }

    /// Whether the database answers now (readiness).
    pub async fn ping(&self) -> Result<(), StoreError> {
        let c = self.client().await?;
        c.simple_query("SELECT 1").await.map_err(|e| backend(&e))?;
        Ok(())
    }

    pub(crate) async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(error::pool)
    }

    pub(crate) fn lease_ms(&self) -> i64 {
        duration_ms(self.timing.lease)
    }

    async fn write(&self, op: Op) -> Result<Done, StoreError> {
        let tx = lock(&self.writer).clone().ok_or(StoreError::Closed)?;
        let (reply, rx) = oneshot::channel();
        tx.send(Request { op, reply })
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Run one statement on a pooled connection and return its rows.
    pub(crate) async fn query(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<tokio_postgres::Row>, StoreError> {
        let c = self.client().await?;
        let stmt = c.prepare_cached(sql).await.map_err(|e| backend(&e))?;
        c.query(&stmt, params).await.map_err(|e| backend(&e))
    }

    /// Run one statement and return how many rows it changed.
    pub(crate) async fn execute(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        let c = self.client().await?;
        let stmt = c.prepare_cached(sql).await.map_err(|e| backend(&e))?;
        c.execute(&stmt, params).await.map_err(|e| backend(&e))
    }

    /// Run statements in one transaction.
    async fn transaction(
        &self,
        statements: &[(&str, &[&(dyn ToSql + Sync)])],
    ) -> Result<(), StoreError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(|e| backend(&e))?;
        for (sql, params) in statements {
            let stmt = tx.prepare_cached(sql).await.map_err(|e| backend(&e))?;
            tx.execute(&stmt, params).await.map_err(|e| backend(&e))?;
        }
        tx.commit().await.map_err(|e| backend(&e))
    }
}

pub(crate) fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Only whole values are stored under these locks; a poisoned one still holds a valid value.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn execution_query(f: &ExecutionFilter) -> (String, Vec<Box<dyn ToSql + Sync + Send>>) {
    let mut sql = String::from(rows::SELECT_EXECUTION);
    let mut args: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
    let mut clauses: Vec<String> = Vec::new();
    for (column, value) in [
        ("e.state_machine_arn", &f.state_machine_arn),
        ("e.parent_arn", &f.parent_arn),
        ("e.map_run_arn", &f.map_run_arn),
        ("e.status", &f.status),
    ] {
        if let Some(v) = value {
            args.push(Box::new(v.clone()));
            clauses.push(format!("{column} = ${}", args.len()));
        }
    }
    if let Some(v) = &f.version_or_alias_arn {
        args.push(Box::new(v.clone()));
        let n = args.len();
        // A version ARN lists the executions started through that version directly; an
        // execution started through an alias belongs to the alias.
        clauses.push(format!(
            "((e.version_arn = ${n} AND e.alias_arn IS NULL) OR e.alias_arn = ${n})"
        ));
    }
    if let Some((start, arn)) = &f.after {
        args.push(Box::new(*start));
        let s = args.len();
        args.push(Box::new(arn.clone()));
        let a = args.len();
        // A cursor whose execution was purged still works for strictly older start dates.
        clauses.push(format!(
            "e.start_date <= ${s} AND (e.start_date < ${s} OR e.id < (SELECT id FROM executions WHERE arn = ${a}))"
        ));
    }
    if !clauses.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&clauses.join(" AND "));
    }
    args.push(Box::new(limit(f.limit)));
    sql.push_str(&format!(
        " ORDER BY e.start_date DESC, e.id DESC LIMIT ${}",
        args.len()
    ));
    (sql, args)
}

#[async_trait]
impl Store for PgStore {
    async fn create_state_machine(&self, sm: StateMachineRecord) -> Result<(), StoreError> {
        let r = self
            .execute(
                "INSERT INTO state_machines (arn, name, machine_type, definition, role_arn,
                    logging_configuration, tracing_configuration, encryption_configuration,
                    creation_date, update_date, revision_id, status, description, next_version)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
                 ON CONFLICT (arn) DO NOTHING",
                &[
                    &sm.arn,
                    &sm.name,
                    &sm.machine_type,
                    &sm.definition,
                    &sm.role_arn,
                    &rows::json_text(&sm.logging_configuration),
                    &rows::json_text(&sm.tracing_configuration),
                    &rows::json_text(&sm.encryption_configuration),
                    &sm.creation_date,
                    &sm.update_date,
                    &sm.revision_id,
                    &sm.status,
                    &sm.description,
                    &to_i64(sm.next_version)?,
                ],
            )
            .await?;
        if r == 0 {
            return Err(StoreError::AlreadyExists(sm.arn));
        }
        Ok(())
    }

    async fn update_state_machine(&self, sm: StateMachineRecord) -> Result<(), StoreError> {
        let n = self
            .execute(
                "UPDATE state_machines SET name = $2, machine_type = $3, definition = $4,
                    role_arn = $5, logging_configuration = $6, tracing_configuration = $7,
                    encryption_configuration = $8, creation_date = $9, update_date = $10,
                    revision_id = $11, status = $12, description = $13, next_version = $14
                 WHERE arn = $1",
                &[
                    &sm.arn,
                    &sm.name,
                    &sm.machine_type,
                    &sm.definition,
                    &sm.role_arn,
                    &rows::json_text(&sm.logging_configuration),
                    &rows::json_text(&sm.tracing_configuration),
                    &rows::json_text(&sm.encryption_configuration),
                    &sm.creation_date,
                    &sm.update_date,
                    &sm.revision_id,
                    &sm.status,
                    &sm.description,
                    &to_i64(sm.next_version)?,
                ],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound(sm.arn));
        }
        Ok(())
    }

    async fn get_state_machine(&self, arn: &str) -> Result<Option<StateMachineRecord>, StoreError> {
        let sql = format!("{} WHERE arn = $1", rows::SELECT_STATE_MACHINE);
        self.query(&sql, &[&arn])
            .await?
            .first()
            .map(rows::state_machine)
            .transpose()
    }

    async fn list_state_machines(
        &self,
        after: Option<&str>,
        max: usize,
    ) -> Result<Vec<StateMachineRecord>, StoreError> {
        let sql = format!(
            "{} WHERE arn > $1 ORDER BY arn LIMIT $2",
            rows::SELECT_STATE_MACHINE
        );
        self.query(&sql, &[&after.unwrap_or(""), &limit(max)])
            .await?
            .iter()
            .map(rows::state_machine)
            .collect()
    }

    async fn delete_state_machine(&self, arn: &str) -> Result<(), StoreError> {
        self.transaction(&[
            ("DELETE FROM state_machines WHERE arn = $1", &[&arn]),
            ("DELETE FROM versions WHERE state_machine_arn = $1", &[&arn]),
            ("DELETE FROM aliases WHERE state_machine_arn = $1", &[&arn]),
            ("DELETE FROM tags WHERE resource_arn = $1", &[&arn]),
        ])
        .await
    }

    async fn put_version(&self, v: VersionRecord) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO versions (arn, state_machine_arn, version, definition, role_arn,
                revision_id, description, creation_date)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (arn) DO UPDATE SET state_machine_arn = excluded.state_machine_arn,
                version = excluded.version, definition = excluded.definition,
                role_arn = excluded.role_arn, revision_id = excluded.revision_id,
                description = excluded.description, creation_date = excluded.creation_date",
            &[
                &v.arn,
                &v.state_machine_arn,
                &to_i64(v.version)?,
                &v.definition,
                &v.role_arn,
                &v.revision_id,
                &v.description,
                &v.creation_date,
            ],
        )
        .await
        .map(|_| ())
    }

    async fn get_version(&self, arn: &str) -> Result<Option<VersionRecord>, StoreError> {
        let sql = format!("{} WHERE arn = $1", rows::SELECT_VERSION);
        self.query(&sql, &[&arn])
            .await?
            .first()
            .map(rows::version)
            .transpose()
    }

    async fn list_versions(&self, sm: &str) -> Result<Vec<VersionRecord>, StoreError> {
        let sql = format!(
            "{} WHERE state_machine_arn = $1 ORDER BY version DESC",
            rows::SELECT_VERSION
        );
        self.query(&sql, &[&sm])
            .await?
            .iter()
            .map(rows::version)
            .collect()
    }

    async fn delete_version(&self, arn: &str) -> Result<(), StoreError> {
        self.execute("DELETE FROM versions WHERE arn = $1", &[&arn])
            .await
            .map(|_| ())
    }

    async fn put_alias(&self, a: AliasRecord) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO aliases (arn, state_machine_arn, name, description, routing,
                creation_date, update_date)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (arn) DO UPDATE SET state_machine_arn = excluded.state_machine_arn,
                name = excluded.name, description = excluded.description,
                routing = excluded.routing, creation_date = excluded.creation_date,
                update_date = excluded.update_date",
            &[
                &a.arn,
                &a.state_machine_arn,
                &a.name,
                &a.description,
                &rows::routing_text(&a.routing),
                &a.creation_date,
                &a.update_date,
            ],
        )
        .await
        .map(|_| ())
    }

    async fn get_alias(&self, arn: &str) -> Result<Option<AliasRecord>, StoreError> {
        let sql = format!("{} WHERE arn = $1", rows::SELECT_ALIAS);
        self.query(&sql, &[&arn])
            .await?
            .first()
            .map(rows::alias)
            .transpose()
    }

    async fn list_aliases(&self, sm: &str) -> Result<Vec<AliasRecord>, StoreError> {
        let sql = format!(
            "{} WHERE state_machine_arn = $1 ORDER BY name",
            rows::SELECT_ALIAS
        );
        self.query(&sql, &[&sm])
            .await?
            .iter()
            .map(rows::alias)
            .collect()
    }

    async fn delete_alias(&self, arn: &str) -> Result<(), StoreError> {
        self.execute("DELETE FROM aliases WHERE arn = $1", &[&arn])
            .await
            .map(|_| ())
    }

    async fn get_tags(&self, resource_arn: &str) -> Result<Vec<(String, String)>, StoreError> {
        self.query(
            "SELECT tag_key, tag_value FROM tags WHERE resource_arn = $1 ORDER BY position",
            &[&resource_arn],
        )
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get(0).map_err(|e| backend(&e))?,
                r.try_get(1).map_err(|e| backend(&e))?,
            ))
        })
        .collect()
    }

    async fn set_tags(
        &self,
        resource_arn: &str,
        tags: Vec<(String, String)>,
    ) -> Result<(), StoreError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(|e| backend(&e))?;
        tx.execute("DELETE FROM tags WHERE resource_arn = $1", &[&resource_arn])
            .await
            .map_err(|e| backend(&e))?;
        let ins = tx
            .prepare_cached(
                "INSERT INTO tags (resource_arn, position, tag_key, tag_value) VALUES ($1, $2, $3, $4)",
            )
            .await
            .map_err(|e| backend(&e))?;
        for (i, (k, v)) in tags.iter().enumerate() {
            tx.execute(&ins, &[&resource_arn, &limit(i), k, v])
                .await
                .map_err(|e| backend(&e))?;
        }
        tx.commit().await.map_err(|e| backend(&e))
    }

    async fn create_activity(&self, a: ActivityRecord) -> Result<ActivityRecord, StoreError> {
        self.execute(
            "INSERT INTO activities (arn, name, creation_date, encryption_configuration)
             VALUES ($1, $2, $3, $4) ON CONFLICT (arn) DO NOTHING",
            &[
                &a.arn,
                &a.name,
                &a.creation_date,
                &rows::json_text(&a.encryption_configuration),
            ],
        )
        .await?;
        self.get_activity(&a.arn)
            .await?
            .ok_or_else(|| StoreError::Backend(format!("activity {} vanished after insert", a.arn)))
    }

    async fn get_activity(&self, arn: &str) -> Result<Option<ActivityRecord>, StoreError> {
        let sql = format!("{} WHERE arn = $1", rows::SELECT_ACTIVITIES);
        self.query(&sql, &[&arn])
            .await?
            .first()
            .map(rows::activity)
            .transpose()
    }

    async fn list_activities(
        &self,
        after: Option<&str>,
        max: usize,
    ) -> Result<Vec<ActivityRecord>, StoreError> {
        let sql = format!(
            "{} WHERE arn > $1 ORDER BY arn LIMIT $2",
            rows::SELECT_ACTIVITIES
        );
        self.query(&sql, &[&after.unwrap_or(""), &limit(max)])
            .await?
            .iter()
            .map(rows::activity)
            .collect()
    }

    async fn delete_activity(&self, arn: &str) -> Result<(), StoreError> {
        self.transaction(&[
            ("DELETE FROM activities WHERE arn = $1", &[&arn]),
            ("DELETE FROM tags WHERE resource_arn = $1", &[&arn]),
        ])
        .await
    }

    async fn create_execution(
        &self,
        rec: ExecutionRecord,
        first: Mutation,
    ) -> Result<(), StoreError> {
        self.write(Op::Create {
            rec: Box::new(rec),
            first: Box::new(first),
            lease: None,
        })
        .await
        .map(|_| ())
    }

    async fn commit(&self, m: Mutation) -> Result<(), StoreError> {
        self.write(Op::Commit {
            m: Box::new(m),
            fence: None,
        })
        .await
        .map(|_| ())
    }

    async fn get_execution(&self, arn: &str) -> Result<Option<ExecutionRecord>, StoreError> {
        let sql = format!("{} WHERE e.arn = $1", rows::SELECT_EXECUTION);
        self.query(&sql, &[&arn])
            .await?
            .first()
            .map(rows::execution)
            .transpose()
    }

    async fn get_snapshot(&self, arn: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let rows = self
            .query("SELECT snapshot FROM executions WHERE arn = $1", &[&arn])
            .await?;
        match rows.first() {
            None => Ok(None),
            Some(r) => r.try_get(0).map_err(|e| backend(&e)),
        }
    }

    async fn list_executions(
        &self,
        filter: &ExecutionFilter,
    ) -> Result<Vec<ExecutionRecord>, StoreError> {
        let (sql, args) = execution_query(filter);
        let params: Vec<&(dyn ToSql + Sync)> =
            args.iter().map(|a| &**a as &(dyn ToSql + Sync)).collect();
        self.query(&sql, &params)
            .await?
            .iter()
            .map(rows::execution)
            .collect()
    }

    async fn history(
        &self,
        arn: &str,
        from_id: u64,
        reverse: bool,
        max: usize,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let sql = if reverse {
            "SELECT id, json FROM events
             WHERE execution_id = (SELECT id FROM executions WHERE arn = $1) AND id <= $2
             ORDER BY id DESC LIMIT $3"
        } else {
            "SELECT id, json FROM events
             WHERE execution_id = (SELECT id FROM executions WHERE arn = $1) AND id >= $2
             ORDER BY id LIMIT $3"
        };
        self.query(sql, &[&arn, &bound(from_id), &limit(max)])
            .await?
            .iter()
            .map(|r| {
                Ok(StoredEvent {
                    id: rows::get_u64(r, 0)?,
                    json: r.try_get(1).map_err(|e| backend(&e))?,
                })
            })
            .collect()
    }

    async fn running_executions(&self) -> Result<Vec<String>, StoreError> {
        self.query(
            "SELECT arn FROM executions WHERE status = 'RUNNING' ORDER BY id",
            &[],
        )
        .await?
        .iter()
        .map(|r| r.try_get(0).map_err(|e| backend(&e)))
        .collect()
    }

    async fn all_timers(&self) -> Result<Vec<TimerRecord>, StoreError> {
        self.query(
            "SELECT e.arn, t.timer_id, t.due FROM timers t
             JOIN executions e ON e.id = t.execution_id ORDER BY t.due",
            &[],
        )
        .await?
        .iter()
        .map(cluster::timer_row)
        .collect()
    }

    async fn pending_dispatches(&self) -> Result<Vec<DispatchRecord>, StoreError> {
        self.query(
            "SELECT e.arn, d.task_id, d.payload FROM dispatches d
             JOIN executions e ON e.id = d.execution_id ORDER BY d.execution_id, d.task_id",
            &[],
        )
        .await?
        .iter()
        .map(cluster::dispatch_row)
        .collect()
    }

    async fn purge_closed(&self, before: Millis, max: usize) -> Result<u64, StoreError> {
        let mut total = 0u64;
        let mut left = max;
        while left > 0 {
            let chunk = left.min(PURGE_CHUNK);
            // One statement per chunk; SKIP LOCKED lets several nodes purge side by side.
            let rows = self
                .query(
                    "WITH v AS (SELECT id FROM executions
                        WHERE stop_date < $1 AND status <> 'RUNNING'
                        ORDER BY stop_date LIMIT $2 FOR UPDATE SKIP LOCKED),
                     ev AS (DELETE FROM events WHERE execution_id IN (SELECT id FROM v)),
                     t AS (DELETE FROM timers WHERE execution_id IN (SELECT id FROM v)),
                     d AS (DELETE FROM dispatches WHERE execution_id IN (SELECT id FROM v)),
                     i AS (DELETE FROM execution_inputs WHERE execution_id IN (SELECT id FROM v)),
                     b AS (DELETE FROM inbox WHERE execution_id IN (SELECT id FROM v)),
                     x AS (DELETE FROM executions WHERE id IN (SELECT id FROM v) RETURNING 1)
                     SELECT COUNT(*) FROM x",
                    &[&before, &limit(chunk)],
                )
                .await?;
            let n: i64 = rows
                .first()
                .map(|r| r.try_get(0).map_err(|e| backend(&e)))
                .transpose()?
                .unwrap_or(0);
            let n = u64::try_from(n).unwrap_or(0);
            total += n;
            if (n as usize) < chunk {
                break;
            }
            left -= chunk;
        }
        Ok(total)
    }

    async fn close(&self) -> Result<(), StoreError> {
        // Dropping the sender lets each writer finish its batch and end.
        lock(&self.writer).take();
        let writers = std::mem::take(&mut *lock(&self.writers));
        for w in writers {
            let _ = w.await;
        }
        if let Some(l) = lock(&self.listener).take() {
            l.abort();
        }
        self.pool.close();
        Ok(())
    }

    fn cluster(&self) -> Option<&dyn Cluster> {
        Some(self)
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        if let Some(l) = lock(&self.listener).take() {
            l.abort();
        }
    }
}

/// Used by the cluster module for the fenced writes that go through the writers.
impl PgStore {
    pub(crate) async fn write_create_leased(
        &self,
        rec: ExecutionRecord,
        first: Mutation,
        release: bool,
    ) -> Result<Lease, StoreError> {
        match self
            .write(Op::Create {
                rec: Box::new(rec),
                first: Box::new(first),
                lease: Some(release),
            })
            .await?
        {
            Done::Lease(l) => Ok(l),
            Done::Committed(_) => Err(StoreError::Backend("unexpected answer to a create".into())),
        }
    }

    pub(crate) async fn write_fenced(
        &self,
        m: Mutation,
        lease: Lease,
        extra: Fenced,
    ) -> Result<Committed, StoreError> {
        match self
            .write(Op::Commit {
                m: Box::new(m),
                fence: Some((lease, extra)),
            })
            .await?
        {
            Done::Committed(c) => Ok(c),
            Done::Lease(_) => Err(StoreError::Backend("unexpected answer to a commit".into())),
        }
    }

    pub(crate) fn pg_config(&self) -> &tokio_postgres::Config {
        &self.pg
    }

    pub(crate) fn set_listener(&self, handle: JoinHandle<()>) {
        if let Some(old) = lock(&self.listener).replace(handle) {
            old.abort();
        }
    }
}
