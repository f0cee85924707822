//! Reader threads: a few read-only connections that serve every read, never the writer's.
//!
//! Dedicated threads rather than `tokio::task::spawn_blocking`: each connection stays on one
//! thread with its prepared-statement cache warm, concurrency is bounded by the number of
//! connections without a second semaphore, and the store works under any async executor (or
//! none). WAL lets these readers run while the writer commits; each query sees the last commit.

use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};

use ironstep_store::{DispatchRecord, ExecutionFilter, ExecutionRecord, StoredEvent, TimerRecord};
use rusqlite::{Connection, ToSql};
use tokio::sync::oneshot;

use crate::rows::{self, bound, limit};

/// A read to run on some reader's connection.
pub(crate) type Job = Box<dyn FnOnce(&Connection) + Send>;

pub(crate) enum ReaderMsg {
    Job(Job),
    /// Exit (after closing the connection), then answer.
    Stop(Option<oneshot::Sender<()>>),
}

/// The thread body of one reader. The receiver is shared: whichever reader is free takes the
/// next job.
pub(crate) fn run(conn: Connection, rx: Arc<Mutex<Receiver<ReaderMsg>>>) {
    let stop = loop {
        // The guard is a temporary of this statement: the lock is released before the job runs.
        let msg = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
        match msg {
            Ok(ReaderMsg::Job(job)) => job(&conn),
            Ok(ReaderMsg::Stop(reply)) => break reply,
            Err(_) => break None,
        }
    };
    drop(conn);
    if let Some(reply) = stop {
        let _ = reply.send(());
    }
}

pub(crate) fn execution(conn: &Connection, arn: &str) -> rusqlite::Result<Option<ExecutionRecord>> {
    use rusqlite::OptionalExtension;
    let sql = format!("{} WHERE e.arn = ?1", rows::SELECT_EXECUTION);
    conn.prepare_cached(&sql)?
        .query_row([arn], rows::execution)
        .optional()
}

pub(crate) fn snapshot(conn: &Connection, arn: &str) -> rusqlite::Result<Option<Vec<u8>>> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .prepare_cached("SELECT snapshot FROM executions WHERE arn = ?1")?
        .query_row([arn], |r| r.get::<_, Option<Vec<u8>>>(0))
        .optional()?
        .flatten())
}

/// Newest first. Ties on `start_date` are ordered by start order (the surrogate id), which is
/// what the (state_machine_arn, start_date) index yields when scanned backwards.
pub(crate) fn executions(
    conn: &Connection,
    f: &ExecutionFilter,
) -> rusqlite::Result<Vec<ExecutionRecord>> {
    let mut sql = String::from(rows::SELECT_EXECUTION);
    let mut args: Vec<&dyn ToSql> = Vec::new();
    let mut clauses: Vec<String> = Vec::new();
    // Parameters are numbered in the order they are pushed.
    for (column, value) in [
        ("e.state_machine_arn", &f.state_machine_arn),
        ("e.status", &f.status),
        ("e.parent_arn", &f.parent_arn),
        ("e.map_run_arn", &f.map_run_arn),
    ] {
        if let Some(v) = value {
            clauses.push(format!("{column} = ?{}", args.len() + 1));
            args.push(v);
        }
    }
    if let Some(v) = &f.version_or_alias_arn {
        let n = args.len() + 1;
        clauses.push(format!("(e.version_arn = ?{n} OR e.alias_arn = ?{n})"));
        args.push(v);
    }
    if let Some((start, arn)) = &f.after {
        let (s, a) = (args.len() + 1, args.len() + 2);
        // A cursor whose execution has since been purged keeps working for strictly older
        // start dates (the subquery is NULL and the tie comparison is false).
        clauses.push(format!(
            "(e.start_date < ?{s} OR (e.start_date = ?{s} AND e.id < (SELECT id FROM executions WHERE arn = ?{a})))"
        ));
        args.push(start);
        args.push(arn);
    }
    if !clauses.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&clauses.join(" AND "));
    }
    let lim = limit(f.limit);
    sql.push_str(&format!(
        " ORDER BY e.start_date DESC, e.id DESC LIMIT ?{}",
        args.len() + 1
    ));
    args.push(&lim);
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(args.as_slice(), rows::execution)?;
    rows.collect()
}

pub(crate) fn history(
    conn: &Connection,
    arn: &str,
    from_id: u64,
    reverse: bool,
    max: usize,
) -> rusqlite::Result<Vec<StoredEvent>> {
    let sql = if reverse {
        "SELECT id, json FROM events
         WHERE execution_id = (SELECT id FROM executions WHERE arn = ?1) AND id <= ?2
         ORDER BY id DESC LIMIT ?3"
    } else {
        "SELECT id, json FROM events
         WHERE execution_id = (SELECT id FROM executions WHERE arn = ?1) AND id >= ?2
         ORDER BY id LIMIT ?3"
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(rusqlite::params![arn, bound(from_id), limit(max)], |r| {
        Ok(StoredEvent {
            id: rows::get_u64(r, 0)?,
            json: r.get(1)?,
        })
    })?;
    rows.collect()
}

pub(crate) fn running(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt =
        conn.prepare_cached("SELECT arn FROM executions WHERE status = 'RUNNING' ORDER BY id")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    rows.collect()
}

pub(crate) fn timers(conn: &Connection) -> rusqlite::Result<Vec<TimerRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT e.arn, t.timer_id, t.due FROM timers t JOIN executions e ON e.id = t.execution_id
         ORDER BY t.due",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(TimerRecord {
            execution_arn: r.get(0)?,
            timer_id: rows::get_u64(r, 1)?,
            due: r.get(2)?,
        })
    })?;
    rows.collect()
}

pub(crate) fn dispatches(conn: &Connection) -> rusqlite::Result<Vec<DispatchRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT e.arn, d.task_id, d.payload FROM dispatches d JOIN executions e ON e.id = d.execution_id
         ORDER BY d.execution_id, d.task_id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(DispatchRecord {
            execution_arn: r.get(0)?,
            task_id: rows::get_u64(r, 1)?,
            payload: r.get(2)?,
        })
    })?;
    rows.collect()
}
