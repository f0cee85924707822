//! ironstep-store-sqlite: the embedded, durable [`Store`] (ironstep's default backend).
//!
//! One directory holds one database file (`ironstep.db`, WAL mode, `synchronous=FULL`) and a
//! lock file that keeps a second process out. The key decision is **group commit**: one writer
//! thread owns the only read-write connection; every write (a step of an execution, a new
//! state machine, a purge chunk) is a request on a channel, and the writer applies everything
//! queued in ONE transaction, each request inside its own SAVEPOINT, commits, and only then
//! answers. An fsync costs 0.3–2 ms on a virtual disk whether it carries one step or a hundred,
//! so batching is what makes durable writes fast; `Ok` always means "on disk". Reads go to a
//! few read-only connections on their own threads (WAL readers never block the writer).
//!
//! The schema lives in plain SQL files under `migrations/`, applied at start-up; a database
//! written by a newer ironstep is refused. SQL stays portable to PostgreSQL where that costs
//! nothing, so the two backends share one schema shape.
//!
//! This crate depends on the storage contract (`ironstep-store`) and rusqlite only: never on
//! the runtime, the interpreter, or sqlx (whose `sqlite` feature links a conflicting SQLite).
#![warn(missing_docs)]

mod checkpoint;
mod error;
mod reader;
mod rows;
mod schema;
mod writer;

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use async_trait::async_trait;
use ironstep_store::{
    ActivityRecord, AliasRecord, DispatchRecord, ExecutionFilter, ExecutionRecord, Millis,
    Mutation, StateMachineRecord, Store, StoreError, StoredEvent, TimerRecord, VersionRecord,
};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use tokio::sync::oneshot;

pub use error::OpenError;
pub use schema::SCHEMA_VERSION;

use reader::{Job, ReaderMsg};
use writer::{BatchPolicy, Counters, Done, Msg, Op, Request, Writer};

/// The database file inside the data directory.
pub const DB_FILE: &str = "ironstep.db";
/// The lock file inside the data directory (held for the life of the store).
pub const LOCK_FILE: &str = "ironstep.lock";

/// Purge deletes at most this many executions per writer transaction, so that a large purge is
/// split into short transactions with other writers' batches in between. Measured
/// (benches/throughput.rs, release, 2026-11): a chunk of 64 executions of 23 events holds the
/// writer ~5 ms including its fsync, about one ordinary batch.
const PURGE_CHUNK: usize = 64;

/// The background checkpointer runs at most this often (see [`Checkpoints::Background`]).
const CHECKPOINT_GAP_MS: u64 = 100;

/// How to open a [`SqliteStore`]. `Default` is the production setting.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// Read-only connections (and threads) serving reads.
    pub readers: usize,
    /// At most this many write requests share one transaction. Bounds the latency of one
    /// commit and the WAL it writes; see [`SqliteOptions::default`] for the measured choice.
    pub max_batch: usize,
    /// After the queue is drained, wait up to this long for more requests before committing.
    /// Zero by default: concurrent writers already queue up behind the running fsync.
    pub batch_wait: Duration,
    /// How long a connection waits for a lock held by another connection.
    pub busy_timeout: Duration,
    /// Run `PRAGMA quick_check` at open (reads the whole file: slow on large databases).
    pub verify_on_open: bool,
    /// Cap the database size at this many pages (SQLite's `max_page_count`); writes past it
    /// fail with "disk full". For quotas and tests.
    pub max_page_count: Option<u64>,
    /// How the WAL is copied back into the database file.
    pub checkpoints: Checkpoints,
    /// Page cache of the writer connection, in KiB (readers get a quarter each).
    pub cache_kib: u32,
}

/// How the WAL is checkpointed (copied back into the database file so it can restart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checkpoints {
    /// A background thread with its own connection runs a PASSIVE checkpoint after commits,
    /// at most once per interval. It never blocks the writer, and the writer never pays for it.
    Background(Duration),
    /// The committing writer checkpoints once the WAL passes this many pages (SQLite's own
    /// `wal_autocheckpoint`): the commit that crosses it waits for the checkpoint.
    Inline(u32),
    /// Never while open (closing the store checkpoints). The database file then does not change
    /// while the store runs, which tests use to copy a crash image.
    Off,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            readers: 4,
            // Measured with 256 writers of 23-event steps (benches/throughput.rs, 2026-11):
            // 32 -> ~5.7k steps/s, 64 -> ~8k, 256 -> ~8.3k at ~6k events (~1.5 MB of WAL) per
            // commit. Past that a bigger batch saves no fsync worth having, and every caller in
            // it waits for the whole transaction.
            max_batch: 256,
            // Measured: 0.3 ms and 1 ms waits cost 30-55% with 4 writers and gained nothing
            // reliable with 16: callers wait for their ack before sending the next step, so
            // the queue fills during the fsync anyway.
            batch_wait: Duration::ZERO,
            busy_timeout: Duration::from_secs(5),
            verify_on_open: false,
            max_page_count: None,
            checkpoints: Checkpoints::Background(Duration::from_millis(CHECKPOINT_GAP_MS)),
            cache_kib: 64 * 1024,
        }
    }
}

/// Group-commit counters since the store opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriterStats {
    /// Transactions committed.
    pub commits: u64,
    /// Write requests answered by those commits (including those that failed alone inside a
    /// committed transaction).
    pub requests: u64,
    /// History events written.
    pub events: u64,
    /// Transactions that did not commit (a full disk, an I/O error).
    pub failed_commits: u64,
    /// The most requests one commit carried.
    pub largest_batch: u64,
}

impl WriterStats {
    /// Events per committed transaction.
    pub fn events_per_commit(&self) -> f64 {
        self.events as f64 / self.commits.max(1) as f64
    }

    /// Requests per committed transaction.
    pub fn requests_per_commit(&self) -> f64 {
        self.requests as f64 / self.commits.max(1) as f64
    }
}

/// The SQLite store. Open it with [`SqliteStore::open`], use it through [`Store`], and
/// [`Store::close`] it on shutdown (dropping it also stops its threads and releases the lock,
/// after the batch in flight).
pub struct SqliteStore {
    dir: PathBuf,
    writer: Sender<Msg>,
    readers: Sender<ReaderMsg>,
    reader_count: usize,
    counters: Arc<Counters>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Open (creating if needed) the store in `dir`: lock the directory, open the database in
    /// WAL mode, run migrations and start the writer and reader threads.
    pub fn open(dir: &Path, options: SqliteOptions) -> Result<SqliteStore, OpenError> {
        std::fs::create_dir_all(dir).map_err(|source| OpenError::Directory {
            path: dir.to_path_buf(),
            source,
        })?;
        let lock = lock_dir(dir)?;
        let db = dir.join(DB_FILE);
        let mut conn = open_writer(&db, &options)?;
        schema::migrate(&mut conn, now_ms())?;
        let readers = (0..options.readers.max(1))
            .map(|_| open_reader(&db, &options))
            .collect::<Result<Vec<_>, _>>()?;

        let counters = Arc::new(Counters::default());
        let (writer_tx, writer_rx) = mpsc::channel();
        let (reader_tx, reader_rx) = mpsc::channel();
        let reader_rx = Arc::new(Mutex::new(reader_rx));
        let store = SqliteStore {
            dir: dir.to_path_buf(),
            writer: writer_tx,
            readers: reader_tx,
            reader_count: readers.len(),
            counters: counters.clone(),
            threads: Mutex::new(Vec::with_capacity(readers.len() + 1)),
        };
        let checkpointer = match options.checkpoints {
            Checkpoints::Background(gap) => Some(
                checkpoint::Checkpointer::start(open_checkpointer(&db, &options)?, gap)
                    .map_err(OpenError::Thread)?,
            ),
            Checkpoints::Inline(_) | Checkpoints::Off => None,
        };
        let writer = Writer {
            conn,
            lock,
            checkpointer,
            policy: BatchPolicy {
                max_requests: options.max_batch.max(1),
                max_wait: options.batch_wait,
            },
            counters,
        };
        // On a spawn failure, dropping `store` stops the threads already started.
        let writer = std::thread::Builder::new()
            .name("ironstep-sqlite-writer".into())
            .spawn(move || writer.run(writer_rx))
            .map_err(OpenError::Thread)?;
        store.threads_mut().push(writer);
        for (i, conn) in readers.into_iter().enumerate() {
            let rx = reader_rx.clone();
            let reader = std::thread::Builder::new()
                .name(format!("ironstep-sqlite-reader-{i}"))
                .spawn(move || reader::run(conn, rx))
                .map_err(OpenError::Thread)?;
            store.threads_mut().push(reader);
        }
        Ok(store)
    }

    fn threads_mut(&self) -> std::sync::MutexGuard<'_, Vec<JoinHandle<()>>> {
        // Only open/close/drop touch the list; a poisoned lock still holds valid handles.
        self.threads.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Group-commit counters since open.
    pub fn stats(&self) -> WriterStats {
        let c = &self.counters;
        WriterStats {
            commits: c.commits.load(Ordering::Relaxed),
            requests: c.requests.load(Ordering::Relaxed),
            events: c.events.load(Ordering::Relaxed),
            failed_commits: c.failed_commits.load(Ordering::Relaxed),
            largest_batch: c.largest_batch.load(Ordering::Relaxed),
        }
    }

    async fn write(&self, op: Op) -> Result<Done, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.writer
            .send(Msg::Write(Request { op, reply }))
            .map_err(|_| StoreError::Closed)?;
        // A dropped reply means the writer stopped before answering: the store was closed.
        rx.await.map_err(|_| StoreError::Closed)?
    }

    async fn write_unit(&self, op: Op) -> Result<(), StoreError> {
        self.write(op).await.map(|_| ())
    }

    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let _ = tx.send(f(conn).map_err(|e| error::backend(&e)));
        });
        self.readers
            .send(ReaderMsg::Job(job))
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Stop every thread and wait for them (used by `Drop`; `close` does the same, awaiting).
    fn stop_threads_blocking(&self) {
        for _ in 0..self.reader_count {
            let _ = self.readers.send(ReaderMsg::Stop(None));
        }
        let _ = self.writer.send(Msg::Close(None));
        let threads = std::mem::take(&mut *self.threads_mut());
        for t in threads {
            let _ = t.join();
        }
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.stop_threads_blocking();
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn is_read_only_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::ReadOnlyFilesystem | ErrorKind::PermissionDenied
    )
}

/// Take the exclusive lock on the directory, recording our pid in the lock file for the error
/// another process will show.
fn lock_dir(dir: &Path) -> Result<File, OpenError> {
    let path = dir.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|source| {
            if is_read_only_error(&source) {
                OpenError::ReadOnly {
                    path: dir.to_path_buf(),
                    detail: source.to_string(),
                }
            } else {
                OpenError::Lock {
                    path: path.clone(),
                    source,
                }
            }
        })?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            return Err(OpenError::Locked {
                dir: dir.to_path_buf(),
                lock: path,
                holder: holder.trim().parse().ok(),
            });
        }
        Err(std::fs::TryLockError::Error(source)) => return Err(OpenError::Lock { path, source }),
    }
    // The pid is informational only: a failure to write it does not matter.
    let _ = file
        .set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| writeln!(file, "{}", std::process::id()));
    Ok(file)
}

fn open_writer(db: &Path, options: &SqliteOptions) -> Result<Connection, OpenError> {
    let fail = |e: rusqlite::Error| OpenError::sqlite(db, &e);
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(fail)?;
    // SQLite silently falls back to read-only when the file cannot be written; refuse instead
    // of failing on the first step.
    if conn.is_readonly(rusqlite::MAIN_DB).map_err(fail)? {
        return Err(OpenError::ReadOnly {
            path: db.to_path_buf(),
            detail: "the database file cannot be opened for writing".into(),
        });
    }
    conn.busy_timeout(options.busy_timeout).map_err(fail)?;
    // The first statement reads the header: garbage bytes fail here as "not a database".
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(fail)?;
    if !mode.eq_ignore_ascii_case("wal") {
        // Never run on the rollback journal: 30x slower commits (dependencies.md §3).
        return Err(OpenError::Sqlite {
            path: db.to_path_buf(),
            detail: format!("cannot switch to WAL mode (journal mode is {mode})"),
        });
    }
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(fail)?;
    conn.pragma_update(None, "temp_store", "MEMORY")
        .map_err(fail)?;
    let autocheckpoint = match options.checkpoints {
        Checkpoints::Inline(pages) => pages,
        Checkpoints::Background(_) | Checkpoints::Off => 0,
    };
    conn.pragma_update(None, "wal_autocheckpoint", autocheckpoint)
        .map_err(fail)?;
    conn.pragma_update(None, "cache_size", -i64::from(options.cache_kib))
        .map_err(fail)?;
    // Truncate the WAL back to 64 MiB after a checkpoint rather than keeping its peak size.
    conn.pragma_update(None, "journal_size_limit", 64i64 * 1024 * 1024)
        .map_err(fail)?;
    if let Some(pages) = options.max_page_count {
        conn.pragma_update(None, "max_page_count", rows::bound(pages))
            .map_err(fail)?;
    }
    conn.set_prepared_statement_cache_capacity(64);
    if options.verify_on_open {
        let report: String = conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(fail)?;
        if report != "ok" {
            return Err(OpenError::Corrupt {
                path: db.to_path_buf(),
                detail: report,
            });
        }
    }
    Ok(conn)
}

fn open_checkpointer(db: &Path, options: &SqliteOptions) -> Result<Connection, OpenError> {
    let fail = |e: rusqlite::Error| OpenError::sqlite(db, &e);
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(fail)?;
    conn.busy_timeout(options.busy_timeout).map_err(fail)?;
    // The checkpoint fsyncs the database file before the WAL may be restarted.
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(fail)?;
    conn.pragma_update(None, "wal_autocheckpoint", 0)
        .map_err(fail)?;
    Ok(conn)
}

fn open_reader(db: &Path, options: &SqliteOptions) -> Result<Connection, OpenError> {
    let fail = |e: rusqlite::Error| OpenError::sqlite(db, &e);
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(fail)?;
    conn.busy_timeout(options.busy_timeout).map_err(fail)?;
    conn.pragma_update(None, "cache_size", -i64::from(options.cache_kib / 4))
        .map_err(fail)?;
    conn.set_prepared_statement_cache_capacity(32);
    // Touch the schema now so a broken file fails the open, not the first read.
    conn.query_row("SELECT COUNT(*) FROM ironstep_schema", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(fail)?;
    Ok(conn)
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_state_machine(&self, sm: StateMachineRecord) -> Result<(), StoreError> {
        self.write_unit(Op::CreateStateMachine(Box::new(sm))).await
    }

    async fn update_state_machine(&self, sm: StateMachineRecord) -> Result<(), StoreError> {
        self.write_unit(Op::UpdateStateMachine(Box::new(sm))).await
    }

    async fn get_state_machine(&self, arn: &str) -> Result<Option<StateMachineRecord>, StoreError> {
        let arn = arn.to_string();
        self.read(move |c| {
            let sql = format!("{} WHERE arn = ?1", rows::SELECT_STATE_MACHINE);
            c.prepare_cached(&sql)?
                .query_row([arn], rows::state_machine)
                .optional()
        })
        .await
    }

    async fn list_state_machines(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StateMachineRecord>, StoreError> {
        // Every ARN sorts after "", so one indexed range query serves the first page too.
        let after = after.unwrap_or("").to_string();
        self.read(move |c| {
            let sql = format!(
                "{} WHERE arn > ?1 ORDER BY arn LIMIT ?2",
                rows::SELECT_STATE_MACHINE
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(
                rusqlite::params![after, rows::limit(limit)],
                rows::state_machine,
            )?;
            rows.collect()
        })
        .await
    }

    async fn delete_state_machine(&self, arn: &str) -> Result<(), StoreError> {
        self.write_unit(Op::DeleteStateMachine(arn.to_string()))
            .await
    }

    async fn put_version(&self, v: VersionRecord) -> Result<(), StoreError> {
        self.write_unit(Op::PutVersion(Box::new(v))).await
    }

    async fn get_version(&self, arn: &str) -> Result<Option<VersionRecord>, StoreError> {
        let arn = arn.to_string();
        self.read(move |c| {
            let sql = format!("{} WHERE arn = ?1", rows::SELECT_VERSION);
            c.prepare_cached(&sql)?
                .query_row([arn], rows::version)
                .optional()
        })
        .await
    }

    async fn list_versions(
        &self,
        state_machine_arn: &str,
    ) -> Result<Vec<VersionRecord>, StoreError> {
        let sm = state_machine_arn.to_string();
        self.read(move |c| {
            let sql = format!(
                "{} WHERE state_machine_arn = ?1 ORDER BY version DESC",
                rows::SELECT_VERSION
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map([sm], rows::version)?;
            rows.collect()
        })
        .await
    }

    async fn delete_version(&self, arn: &str) -> Result<(), StoreError> {
        self.write_unit(Op::DeleteVersion(arn.to_string())).await
    }

    async fn put_alias(&self, a: AliasRecord) -> Result<(), StoreError> {
        self.write_unit(Op::PutAlias(Box::new(a))).await
    }

    async fn get_alias(&self, arn: &str) -> Result<Option<AliasRecord>, StoreError> {
        let arn = arn.to_string();
        self.read(move |c| {
            let sql = format!("{} WHERE arn = ?1", rows::SELECT_ALIAS);
            c.prepare_cached(&sql)?
                .query_row([arn], rows::alias)
                .optional()
        })
        .await
    }

    async fn list_aliases(&self, state_machine_arn: &str) -> Result<Vec<AliasRecord>, StoreError> {
        let sm = state_machine_arn.to_string();
        self.read(move |c| {
            let sql = format!(
                "{} WHERE state_machine_arn = ?1 ORDER BY name",
                rows::SELECT_ALIAS
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map([sm], rows::alias)?;
            rows.collect()
        })
        .await
    }

    async fn delete_alias(&self, arn: &str) -> Result<(), StoreError> {
        self.write_unit(Op::DeleteAlias(arn.to_string())).await
    }

    async fn get_tags(&self, resource_arn: &str) -> Result<Vec<(String, String)>, StoreError> {
        let arn = resource_arn.to_string();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT tag_key, tag_value FROM tags WHERE resource_arn = ?1 ORDER BY position",
            )?;
            let rows = stmt.query_map([arn], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        })
        .await
    }

    async fn set_tags(
        &self,
        resource_arn: &str,
        tags: Vec<(String, String)>,
    ) -> Result<(), StoreError> {
        self.write_unit(Op::SetTags(resource_arn.to_string(), tags))
            .await
    }

    async fn create_activity(&self, a: ActivityRecord) -> Result<ActivityRecord, StoreError> {
        match self.write(Op::CreateActivity(Box::new(a))).await? {
            Done::Activity(a) => Ok(a),
            _ => Err(StoreError::Backend(
                "unexpected answer to create_activity".into(),
            )),
        }
    }

    async fn get_activity(&self, arn: &str) -> Result<Option<ActivityRecord>, StoreError> {
        let arn = arn.to_string();
        self.read(move |c| {
            c.prepare_cached(rows::SELECT_ACTIVITY)?
                .query_row([arn], rows::activity)
                .optional()
        })
        .await
    }

    async fn list_activities(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ActivityRecord>, StoreError> {
        // Every ARN sorts after "", so one indexed range query serves the first page too.
        let after = after.unwrap_or("").to_string();
        self.read(move |c| {
            let sql = format!(
                "{} WHERE arn > ?1 ORDER BY arn LIMIT ?2",
                rows::SELECT_ACTIVITIES
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let rows =
                stmt.query_map(rusqlite::params![after, rows::limit(limit)], rows::activity)?;
            rows.collect()
        })
        .await
    }

    async fn delete_activity(&self, arn: &str) -> Result<(), StoreError> {
        self.write_unit(Op::DeleteActivity(arn.to_string())).await
    }

    async fn create_execution(
        &self,
        rec: ExecutionRecord,
        first: Mutation,
    ) -> Result<(), StoreError> {
        self.write_unit(Op::CreateExecution(Box::new((rec, first))))
            .await
    }

    async fn commit(&self, m: Mutation) -> Result<(), StoreError> {
        self.write_unit(Op::Commit(Box::new(m))).await
    }

    async fn get_execution(&self, arn: &str) -> Result<Option<ExecutionRecord>, StoreError> {
        let arn = arn.to_string();
        self.read(move |c| reader::execution(c, &arn)).await
    }

    async fn get_snapshot(&self, arn: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let arn = arn.to_string();
        self.read(move |c| reader::snapshot(c, &arn)).await
    }

    async fn list_executions(
        &self,
        filter: &ExecutionFilter,
    ) -> Result<Vec<ExecutionRecord>, StoreError> {
        let filter = filter.clone();
        self.read(move |c| reader::executions(c, &filter)).await
    }

    async fn history(
        &self,
        arn: &str,
        from_id: u64,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let arn = arn.to_string();
        self.read(move |c| reader::history(c, &arn, from_id, reverse, limit))
            .await
    }

    async fn running_executions(&self) -> Result<Vec<String>, StoreError> {
        self.read(reader::running).await
    }

    async fn all_timers(&self) -> Result<Vec<TimerRecord>, StoreError> {
        self.read(reader::timers).await
    }

    async fn pending_dispatches(&self) -> Result<Vec<DispatchRecord>, StoreError> {
        self.read(reader::dispatches).await
    }

    /// Deletes in chunks of at most 64 executions, one writer transaction each, so that other
    /// writers' batches interleave with a large purge.
    async fn purge_closed(&self, before: Millis, limit: usize) -> Result<u64, StoreError> {
        let mut total = 0u64;
        let mut left = limit;
        while left > 0 {
            let chunk = left.min(PURGE_CHUNK);
            let n = match self
                .write(Op::Purge {
                    before,
                    limit: chunk,
                })
                .await?
            {
                Done::Count(n) => n,
                _ => return Err(StoreError::Backend("unexpected answer to purge".into())),
            };
            total += n;
            if (n as usize) < chunk {
                break;
            }
            left -= chunk;
        }
        Ok(total)
    }

    async fn close(&self) -> Result<(), StoreError> {
        let mut waits = Vec::with_capacity(self.reader_count + 1);
        for _ in 0..self.reader_count {
            let (tx, rx) = oneshot::channel();
            if self.readers.send(ReaderMsg::Stop(Some(tx))).is_ok() {
                waits.push(rx);
            }
        }
        // Readers first: the writer's connection is then the last one, and closing it
        // checkpoints the WAL into the database file before the lock is released.
        for rx in waits.drain(..) {
            let _ = rx.await;
        }
        let (tx, rx) = oneshot::channel();
        if self.writer.send(Msg::Close(Some(tx))).is_ok() {
            let _ = rx.await;
        }
        // Every thread has answered, so these joins return at once.
        let threads = std::mem::take(&mut *self.threads_mut());
        for t in threads {
            let _ = t.join();
        }
        Ok(())
    }
}
