//! The writer thread: the only read-write connection, and group commit.
//!
//! Callers send a [`Request`] with a oneshot reply. The thread takes the first request, drains
//! whatever else is queued (up to `max_batch`), applies them all in ONE transaction, each inside
//! its own SAVEPOINT so that a failing request rolls back alone, commits, and only then answers
//! every caller: an `Ok` always means "on disk" (WAL + `synchronous=FULL`).

use std::fs::File;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

use ironstep_store::{
    ActivityRecord, AliasRecord, Mutation, StateMachineRecord, StoreError, VersionRecord,
};
use ironstep_store::{ExecutionRecord, Millis};
use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::oneshot;

use crate::error::{backend, is_key_conflict};
use crate::rows::{json_text, routing_text, to_i64};

/// A write operation.
pub(crate) enum Op {
    CreateStateMachine(Box<StateMachineRecord>),
    UpdateStateMachine(Box<StateMachineRecord>),
    DeleteStateMachine(String),
    PutVersion(Box<VersionRecord>),
    DeleteVersion(String),
    PutAlias(Box<AliasRecord>),
    DeleteAlias(String),
    SetTags(String, Vec<(String, String)>),
    CreateActivity(Box<ActivityRecord>),
    DeleteActivity(String),
    CreateExecution(Box<(ExecutionRecord, Mutation)>),
    Commit(Box<Mutation>),
    /// Delete up to `limit` closed executions that stopped before `before`.
    Purge {
        before: Millis,
        limit: usize,
    },
}

impl Op {
    fn events(&self) -> u64 {
        match self {
            Op::CreateExecution(b) => b.1.events.len() as u64,
            Op::Commit(m) => m.events.len() as u64,
            _ => 0,
        }
    }
}

/// What a successful operation returns.
pub(crate) enum Done {
    Unit,
    Activity(ActivityRecord),
    Count(u64),
}

pub(crate) type Reply = oneshot::Sender<Result<Done, StoreError>>;

/// A queued write and where to send its answer.
pub(crate) struct Request {
    pub op: Op,
    pub reply: Reply,
}

/// What the writer thread receives.
pub(crate) enum Msg {
    Write(Request),
    /// Finish the current batch, close the connection, release the lock, then answer.
    Close(Option<oneshot::Sender<()>>),
}

/// Group-commit counters, shared with the store for [`crate::SqliteStore::stats`].
#[derive(Default)]
pub(crate) struct Counters {
    pub commits: AtomicU64,
    pub requests: AtomicU64,
    pub events: AtomicU64,
    pub failed_commits: AtomicU64,
    pub largest_batch: AtomicU64,
}

/// How the writer batches.
#[derive(Clone, Copy)]
pub(crate) struct BatchPolicy {
    pub max_requests: usize,
    pub max_wait: Duration,
}

pub(crate) struct Writer {
    pub conn: Connection,
    /// The directory lock: released when the writer ends, after the connection is closed.
    pub lock: File,
    /// Woken after each commit; `None` when checkpoints are inline or off.
    pub checkpointer: Option<crate::checkpoint::Checkpointer>,
    pub policy: BatchPolicy,
    pub counters: Arc<Counters>,
}

/// Why a batch's transaction did not commit.
enum BatchFailure {
    /// Request `index` failed in a way that made SQLite roll back the whole transaction
    /// (SQLITE_FULL, I/O errors): it gets `error`, and the others are retried without it.
    Lost { index: usize, error: StoreError },
    /// BEGIN or COMMIT failed: nothing of the batch is on disk.
    Whole(StoreError),
}

impl Writer {
    /// The thread body: batches until told to close or every sender is gone.
    pub fn run(mut self, rx: Receiver<Msg>) {
        let mut batch: Vec<Request> = Vec::with_capacity(self.policy.max_requests);
        let closing = loop {
            let mut closing = None;
            match rx.recv() {
                Ok(Msg::Write(r)) => batch.push(r),
                Ok(Msg::Close(reply)) => closing = Some(reply),
                Err(_) => closing = Some(None),
            }
            if closing.is_none() {
                closing = self.drain(&rx, &mut batch);
            }
            if !batch.is_empty() {
                self.apply_batch(&mut batch);
            }
            if let Some(reply) = closing {
                break reply;
            }
        };
        // Requests queued behind the Close are dropped with `rx`: their callers see `Closed`.
        drop(rx);
        let Writer {
            conn,
            lock,
            checkpointer,
            ..
        } = self;
        if let Some(c) = checkpointer {
            c.stop();
        }
        // Closing the last connection checkpoints the WAL; the lock goes only after that, so a
        // new store on this directory never races with our final writes.
        drop(conn);
        drop(lock);
        if let Some(reply) = closing {
            let _ = reply.send(());
        }
    }

    /// Add what is already queued to `batch` (waiting up to `max_wait` for more); returns the
    /// close request if one was met.
    fn drain(
        &self,
        rx: &Receiver<Msg>,
        batch: &mut Vec<Request>,
    ) -> Option<Option<oneshot::Sender<()>>> {
        let deadline =
            (!self.policy.max_wait.is_zero()).then(|| Instant::now() + self.policy.max_wait);
        while batch.len() < self.policy.max_requests {
            let msg = match rx.try_recv() {
                Ok(m) => m,
                Err(TryRecvError::Disconnected) => return Some(None),
                Err(TryRecvError::Empty) => {
                    let Some(deadline) = deadline else { break };
                    let now = Instant::now();
                    if now >= deadline {
                        break;
                    }
                    match rx.recv_timeout(deadline - now) {
                        Ok(m) => m,
                        Err(RecvTimeoutError::Timeout) => break,
                        Err(RecvTimeoutError::Disconnected) => return Some(None),
                    }
                }
            };
            match msg {
                Msg::Write(r) => batch.push(r),
                Msg::Close(reply) => return Some(reply),
            }
        }
        None
    }

    /// Apply and commit `batch`, then answer every request in it.
    fn apply_batch(&mut self, batch: &mut Vec<Request>) {
        loop {
            match self.try_batch(batch) {
                Ok(results) => {
                    // Requests that made SQLite drop a whole transaction were answered and
                    // removed already; `batch` holds what this commit carried.
                    let size = batch.len() as u64;
                    let c = &self.counters;
                    c.commits.fetch_add(1, Ordering::Relaxed);
                    c.requests.fetch_add(size, Ordering::Relaxed);
                    c.largest_batch.fetch_max(size, Ordering::Relaxed);
                    let mut events = 0;
                    for (req, res) in batch.drain(..).zip(results) {
                        if res.is_ok() {
                            events += req.op.events();
                        }
                        let _ = req.reply.send(res);
                    }
                    c.events.fetch_add(events, Ordering::Relaxed);
                    if let Some(cp) = &self.checkpointer {
                        cp.notify();
                    }
                    return;
                }
                Err(BatchFailure::Lost { index, error }) => {
                    self.counters.failed_commits.fetch_add(1, Ordering::Relaxed);
                    let failed = batch.remove(index);
                    let _ = failed.reply.send(Err(error));
                    if batch.is_empty() {
                        return;
                    }
                }
                Err(BatchFailure::Whole(error)) => {
                    self.counters.failed_commits.fetch_add(1, Ordering::Relaxed);
                    for req in batch.drain(..) {
                        let _ = req.reply.send(Err(clone_error(&error)));
                    }
                    return;
                }
            }
        }
    }

    /// One transaction over `batch`: per-request results if it committed.
    fn try_batch(
        &mut self,
        batch: &[Request],
    ) -> Result<Vec<Result<Done, StoreError>>, BatchFailure> {
        let conn = &self.conn;
        conn.execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| BatchFailure::Whole(backend(&e)))?;
        let mut results = Vec::with_capacity(batch.len());
        for (index, req) in batch.iter().enumerate() {
            let step = savepoint(conn, "SAVEPOINT req").and_then(|()| {
                let res = apply(conn, &req.op);
                if res.is_err() && !conn.is_autocommit() {
                    savepoint(conn, "ROLLBACK TO req")?;
                }
                if !conn.is_autocommit() {
                    savepoint(conn, "RELEASE req")?;
                }
                Ok(res)
            });
            match step {
                Ok(res) if !conn.is_autocommit() => results.push(res),
                // SQLite rolled the whole transaction back (it does so on SQLITE_FULL, I/O
                // and out-of-memory errors), taking the batch's earlier requests with it.
                Ok(res) => {
                    let error = res
                        .err()
                        .unwrap_or_else(|| StoreError::Backend("transaction rolled back".into()));
                    return Err(BatchFailure::Lost { index, error });
                }
                Err(e) => {
                    rollback(conn);
                    return Err(BatchFailure::Lost {
                        index,
                        error: backend(&e),
                    });
                }
            }
        }
        if let Err(e) = conn.execute_batch("COMMIT") {
            rollback(conn);
            return Err(BatchFailure::Whole(backend(&e)));
        }
        Ok(results)
    }
}

fn savepoint(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

fn rollback(conn: &Connection) {
    if !conn.is_autocommit() {
        // If even ROLLBACK fails the connection is unusable; the next BEGIN reports it.
        let _ = conn.execute_batch("ROLLBACK");
    }
}

/// `StoreError` is not `Clone`; a failed commit answers every request of the batch.
fn clone_error(e: &StoreError) -> StoreError {
    match e {
        StoreError::AlreadyExists(s) => StoreError::AlreadyExists(s.clone()),
        StoreError::NotFound(s) => StoreError::NotFound(s.clone()),
        StoreError::Backend(s) => StoreError::Backend(s.clone()),
        StoreError::Closed => StoreError::Closed,
    }
}

fn sql(e: rusqlite::Error) -> StoreError {
    backend(&e)
}

/// Apply one operation (inside the caller's savepoint).
fn apply(conn: &Connection, op: &Op) -> Result<Done, StoreError> {
    match op {
        Op::CreateStateMachine(sm) => {
            insert_state_machine(conn, sm).map_err(|e| {
                if is_key_conflict(&e) {
                    StoreError::AlreadyExists(sm.arn.clone())
                } else {
                    backend(&e)
                }
            })?;
            Ok(Done::Unit)
        }
        Op::UpdateStateMachine(sm) => {
            let n = conn
                .prepare_cached(
                    "UPDATE state_machines SET name = ?2, machine_type = ?3, definition = ?4, role_arn = ?5,
                        logging_configuration = ?6, tracing_configuration = ?7,
                        encryption_configuration = ?8, creation_date = ?9, update_date = ?10,
                        revision_id = ?11, status = ?12, description = ?13, next_version = ?14
                     WHERE arn = ?1",
                )
                .and_then(|mut s| s.execute(state_machine_params(sm)?.as_params()))
                .map_err(sql)?;
            if n == 0 {
                return Err(StoreError::NotFound(sm.arn.clone()));
            }
            Ok(Done::Unit)
        }
        Op::DeleteStateMachine(arn) => {
            for q in [
                "DELETE FROM state_machines WHERE arn = ?1",
                "DELETE FROM versions WHERE state_machine_arn = ?1",
                "DELETE FROM aliases WHERE state_machine_arn = ?1",
                "DELETE FROM tags WHERE resource_arn = ?1",
            ] {
                conn.prepare_cached(q)
                    .and_then(|mut s| s.execute([arn]))
                    .map_err(sql)?;
            }
            Ok(Done::Unit)
        }
        Op::PutVersion(v) => {
            conn.prepare_cached(
                "INSERT INTO versions (arn, state_machine_arn, version, definition, role_arn,
                    revision_id, description, creation_date)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (arn) DO UPDATE SET state_machine_arn = excluded.state_machine_arn,
                    version = excluded.version, definition = excluded.definition,
                    role_arn = excluded.role_arn, revision_id = excluded.revision_id,
                    description = excluded.description, creation_date = excluded.creation_date",
            )
            .and_then(|mut s| {
                s.execute(params![
                    v.arn,
                    v.state_machine_arn,
                    to_i64(v.version)?,
                    v.definition,
                    v.role_arn,
                    v.revision_id,
                    v.description,
                    v.creation_date
                ])
            })
            .map_err(sql)?;
            Ok(Done::Unit)
        }
        Op::DeleteVersion(arn) => {
            conn.prepare_cached("DELETE FROM versions WHERE arn = ?1")
                .and_then(|mut s| s.execute([arn]))
                .map_err(sql)?;
            Ok(Done::Unit)
        }
        Op::PutAlias(a) => {
            conn.prepare_cached(
                "INSERT INTO aliases (arn, state_machine_arn, name, description, routing,
                    creation_date, update_date)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (arn) DO UPDATE SET state_machine_arn = excluded.state_machine_arn,
                    name = excluded.name, description = excluded.description,
                    routing = excluded.routing, creation_date = excluded.creation_date,
                    update_date = excluded.update_date",
            )
            .and_then(|mut s| {
                s.execute(params![
                    a.arn,
                    a.state_machine_arn,
                    a.name,
                    a.description,
                    routing_text(&a.routing),
                    a.creation_date,
                    a.update_date
                ])
            })
            .map_err(sql)?;
            Ok(Done::Unit)
        }
        Op::DeleteAlias(arn) => {
            conn.prepare_cached("DELETE FROM aliases WHERE arn = ?1")
                .and_then(|mut s| s.execute([arn]))
                .map_err(sql)?;
            Ok(Done::Unit)
        }
        Op::SetTags(arn, tags) => {
            conn.prepare_cached("DELETE FROM tags WHERE resource_arn = ?1")
                .and_then(|mut s| s.execute([arn]))
                .map_err(sql)?;
            let mut ins = conn
                .prepare_cached("INSERT INTO tags (resource_arn, position, tag_key, tag_value) VALUES (?1, ?2, ?3, ?4)")
                .map_err(sql)?;
            for (i, (k, v)) in tags.iter().enumerate() {
                ins.execute(params![arn, crate::rows::limit(i), k, v])
                    .map_err(sql)?;
            }
            Ok(Done::Unit)
        }
        Op::CreateActivity(a) => {
            conn.prepare_cached(
                "INSERT INTO activities (arn, name, creation_date, encryption_configuration)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (arn) DO NOTHING",
            )
            .and_then(|mut s| {
                s.execute(params![
                    a.arn,
                    a.name,
                    a.creation_date,
                    json_text(&a.encryption_configuration)
                ])
            })
            .map_err(sql)?;
            let existing = conn
                .prepare_cached(crate::rows::SELECT_ACTIVITY)
                .and_then(|mut s| s.query_row([&a.arn], crate::rows::activity).optional())
                .map_err(sql)?;
            existing.map(Done::Activity).ok_or_else(|| {
                StoreError::Backend(format!("activity {} vanished after insert", a.arn))
            })
        }
        Op::DeleteActivity(arn) => {
            for q in [
                "DELETE FROM activities WHERE arn = ?1",
                "DELETE FROM tags WHERE resource_arn = ?1",
            ] {
                conn.prepare_cached(q)
                    .and_then(|mut s| s.execute([arn]))
                    .map_err(sql)?;
            }
            Ok(Done::Unit)
        }
        Op::CreateExecution(b) => {
            let (rec, first) = &**b;
            let id = insert_execution(conn, rec)?;
            let current = Current {
                id,
                status: &rec.status,
                event_count: rec.event_count,
            };
            apply_step(conn, &current, first)?;
            Ok(Done::Unit)
        }
        Op::Commit(m) => {
            let found = conn
                .prepare_cached("SELECT id, status, event_count FROM executions WHERE arn = ?1")
                .and_then(|mut s| {
                    s.query_row([&m.execution_arn], |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, String>(1)?,
                            crate::rows::get_u64(r, 2)?,
                        ))
                    })
                    .optional()
                })
                .map_err(sql)?;
            let Some((id, status, event_count)) = found else {
                return Err(StoreError::NotFound(m.execution_arn.clone()));
            };
            let current = Current {
                id,
                status: &status,
                event_count,
            };
            apply_step(conn, &current, m)?;
            Ok(Done::Unit)
        }
        Op::Purge { before, limit } => purge(conn, *before, *limit).map(Done::Count),
    }
}

/// The execution row a step applies to, as it is before the step.
struct Current<'a> {
    id: i64,
    status: &'a str,
    event_count: u64,
}

fn apply_step(conn: &Connection, cur: &Current<'_>, m: &Mutation) -> Result<(), StoreError> {
    let id = cur.id;
    if !m.events.is_empty() {
        let mut ins = conn
            .prepare_cached("INSERT INTO events (execution_id, id, json) VALUES (?1, ?2, ?3)")
            .map_err(sql)?;
        for e in &m.events {
            ins.execute(params![id, to_i64(e.id).map_err(sql)?, e.json])
                .map_err(|err| {
                    // A second write of the same event id is a step applied twice: refused,
                    // so that each transition is recorded exactly once.
                    if is_key_conflict(&err) {
                        StoreError::AlreadyExists(format!("event {} of {}", e.id, m.execution_arn))
                    } else {
                        backend(&err)
                    }
                })?;
        }
    }
    let event_count = to_i64(cur.event_count + m.events.len() as u64).map_err(sql)?;
    if let Some(date) = m.redrive {
        conn.prepare_cached(
            "UPDATE executions SET stop_date = NULL, output = NULL, error = NULL, cause = NULL,
                redrive_count = redrive_count + 1, redrive_date = ?2 WHERE id = ?1",
        )
        .and_then(|mut s| s.execute(params![id, date]))
        .map_err(sql)?;
    }
    let summary_unchanged = m.redrive.is_none()
        && m.status == cur.status
        && m.stop_date.is_none()
        && m.output.is_none()
        && m.error.is_none()
        && m.cause.is_none();
    if summary_unchanged {
        // The common RUNNING step: leave the indexed columns (status, stop_date) out of the
        // SET list so SQLite does not rewrite their index entries.
        conn.prepare_cached("UPDATE executions SET event_count = ?1, snapshot = ?2 WHERE id = ?3")
            .and_then(|mut s| s.execute(params![event_count, m.snapshot, id]))
            .map_err(sql)?;
    } else {
        conn.prepare_cached(
            "UPDATE executions SET status = ?1, stop_date = COALESCE(?2, stop_date),
                output = COALESCE(?3, output), error = COALESCE(?4, error),
                cause = COALESCE(?5, cause), event_count = ?6, snapshot = ?7
             WHERE id = ?8",
        )
        .and_then(|mut s| {
            s.execute(params![
                m.status,
                m.stop_date,
                m.output,
                m.error,
                m.cause,
                event_count,
                m.snapshot,
                id
            ])
        })
        .map_err(sql)?;
    }
    if !m.timers_delete.is_empty() {
        let mut del = conn
            .prepare_cached("DELETE FROM timers WHERE execution_id = ?1 AND timer_id = ?2")
            .map_err(sql)?;
        for t in &m.timers_delete {
            del.execute(params![id, to_i64(*t).map_err(sql)?])
                .map_err(sql)?;
        }
    }
    if !m.timers_put.is_empty() {
        let mut put = conn
            .prepare_cached(
                "INSERT INTO timers (execution_id, timer_id, due) VALUES (?1, ?2, ?3)
                 ON CONFLICT (execution_id, timer_id) DO UPDATE SET due = excluded.due",
            )
            .map_err(sql)?;
        for t in &m.timers_put {
            put.execute(params![id, to_i64(t.timer_id).map_err(sql)?, t.due])
                .map_err(sql)?;
        }
    }
    if !m.dispatch_delete.is_empty() {
        let mut del = conn
            .prepare_cached("DELETE FROM dispatches WHERE execution_id = ?1 AND task_id = ?2")
            .map_err(sql)?;
        for t in &m.dispatch_delete {
            del.execute(params![id, to_i64(*t).map_err(sql)?])
                .map_err(sql)?;
        }
    }
    if !m.dispatch_put.is_empty() {
        let mut put = conn
            .prepare_cached(
                "INSERT INTO dispatches (execution_id, task_id, payload) VALUES (?1, ?2, ?3)
                 ON CONFLICT (execution_id, task_id) DO UPDATE SET payload = excluded.payload",
            )
            .map_err(sql)?;
        for d in &m.dispatch_put {
            put.execute(params![id, to_i64(d.task_id).map_err(sql)?, d.payload])
                .map_err(sql)?;
        }
    }
    if m.clear_all {
        for q in [
            "DELETE FROM timers WHERE execution_id = ?1",
            "DELETE FROM dispatches WHERE execution_id = ?1",
        ] {
            conn.prepare_cached(q)
                .and_then(|mut s| s.execute([id]))
                .map_err(sql)?;
        }
    }
    Ok(())
}

fn insert_execution(conn: &Connection, rec: &ExecutionRecord) -> Result<i64, StoreError> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO executions (arn, state_machine_arn, name, status, start_date, stop_date,
                version_arn, alias_arn, role_arn, trace_header, parent_arn, map_run_arn,
                redrive_count, event_count, output, error, cause)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
        )
        .and_then(|mut s| {
            s.execute(params![
                rec.arn,
                rec.state_machine_arn,
                rec.name,
                rec.status,
                rec.start_date,
                rec.stop_date,
                rec.version_arn,
                rec.alias_arn,
                rec.role_arn,
                rec.trace_header,
                rec.parent_arn,
                rec.map_run_arn,
                rec.redrive_count,
                to_i64(rec.event_count)?,
                rec.output,
                rec.error,
                rec.cause
            ])
        });
    match inserted {
        Ok(_) => {}
        Err(e) if is_key_conflict(&e) => return Err(StoreError::AlreadyExists(rec.arn.clone())),
        Err(e) => return Err(backend(&e)),
    }
    let id = conn.last_insert_rowid();
    conn.prepare_cached(
        "INSERT INTO execution_inputs (execution_id, input, definition) VALUES (?1, ?2, ?3)",
    )
    .and_then(|mut s| s.execute(params![id, rec.input, rec.definition]))
    .map_err(sql)?;
    Ok(id)
}

pub(crate) const PURGE_SELECT: &str = "SELECT id FROM executions
    WHERE stop_date < ?1 AND status <> 'RUNNING' ORDER BY stop_date LIMIT ?2";

/// Delete up to `limit` closed executions that stopped before `before`, with everything they own.
fn purge(conn: &Connection, before: Millis, limit: usize) -> Result<u64, StoreError> {
    let victims: Vec<i64> = conn
        .prepare_cached(PURGE_SELECT)
        .and_then(|mut s| {
            s.query_map(params![before, to_i64(limit as u64)?], |r| r.get(0))?
                .collect()
        })
        .map_err(sql)?;
    for id in &victims {
        for q in [
            "DELETE FROM events WHERE execution_id = ?1",
            "DELETE FROM timers WHERE execution_id = ?1",
            "DELETE FROM dispatches WHERE execution_id = ?1",
            "DELETE FROM execution_inputs WHERE execution_id = ?1",
            "DELETE FROM executions WHERE id = ?1",
        ] {
            conn.prepare_cached(q)
                .and_then(|mut s| s.execute([id]))
                .map_err(sql)?;
        }
    }
    Ok(victims.len() as u64)
}

fn insert_state_machine(conn: &Connection, sm: &StateMachineRecord) -> rusqlite::Result<usize> {
    conn.prepare_cached(
        "INSERT INTO state_machines (arn, name, machine_type, definition, role_arn,
            logging_configuration, tracing_configuration, encryption_configuration,
            creation_date, update_date, revision_id, status, description, next_version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?
    .execute(state_machine_params(sm)?.as_params())
}

/// The 14 columns of a state machine, in table order.
struct StateMachineParams<'a> {
    sm: &'a StateMachineRecord,
    logging: Option<String>,
    tracing: Option<String>,
    encryption: Option<String>,
    next_version: i64,
}

fn state_machine_params(sm: &StateMachineRecord) -> rusqlite::Result<StateMachineParams<'_>> {
    Ok(StateMachineParams {
        sm,
        logging: json_text(&sm.logging_configuration),
        tracing: json_text(&sm.tracing_configuration),
        encryption: json_text(&sm.encryption_configuration),
        next_version: to_i64(sm.next_version)?,
    })
}

impl StateMachineParams<'_> {
    fn as_params(&self) -> [&dyn rusqlite::ToSql; 14] {
        let sm = self.sm;
        [
            &sm.arn,
            &sm.name,
            &sm.machine_type,
            &sm.definition,
            &sm.role_arn,
            &self.logging,
            &self.tracing,
            &self.encryption,
            &sm.creation_date,
            &sm.update_date,
            &sm.revision_id,
            &sm.status,
            &sm.description,
            &self.next_version,
        ]
    }
}
