//! Reader threads: a few read-only connections that serve every read, never the writer's.
//!
//! Dedicated threads rather than `tokio::task::spawn_blocking`: each connection stays on one
//! thread with its prepared-statement cache warm, concurrency is bounded by the number of
//! connections without a second semaphore, and the store works under any async executor (or
//! none). WAL lets these readers run while the writer commits; each query sees the last commit.

use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};

use ironstep_store::{DispatchRecord, ExecutionFilter, ExecutionRecord, StoredEvent, TimerRecord};
use rusqlite::Connection;
use rusqlite::types::Value;
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
    let (sql, args) = executions_query(f);
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), rows::execution)?;
    rows.collect()
}

/// The SQL and its parameters for [`executions`] (one statement per combination of filters,
/// so each is prepared once and cached).
pub(crate) fn executions_query(f: &ExecutionFilter) -> (String, Vec<Value>) {
    let mut sql = String::from(rows::SELECT_EXECUTION);
    let mut args: Vec<Value> = Vec::new();
    let mut clauses: Vec<String> = Vec::new();
    // Parameters are numbered in the order they are pushed.
    for (column, value) in [
        ("e.state_machine_arn", &f.state_machine_arn),
        ("e.parent_arn", &f.parent_arn),
        ("e.map_run_arn", &f.map_run_arn),
    ] {
        if let Some(v) = value {
            clauses.push(format!("{column} = ?{}", args.len() + 1));
            args.push(Value::Text(v.clone()));
        }
    }
    if let Some(v) = &f.status {
        // `+` keeps the planner off the status index: filtering the rows of the state
        // machine's (start-ordered) index beats collecting every execution with that status
        // and sorting them.
        let plus = if clauses.is_empty() { "" } else { "+" };
        clauses.push(format!("{plus}e.status = ?{}", args.len() + 1));
        args.push(Value::Text(v.clone()));
    }
    if let Some(v) = &f.version_or_alias_arn {
        let n = args.len() + 1;
        // A version ARN lists the executions started through that version directly; an
        // execution started through an alias belongs to the alias.
        clauses.push(format!(
            "((e.version_arn = ?{n} AND e.alias_arn IS NULL) OR e.alias_arn = ?{n})"
        ));
        args.push(Value::Text(v.clone()));
    }
    if let Some((start, arn)) = &f.after {
        let (s, a) = (args.len() + 1, args.len() + 2);
        // `start_date <= ?` on its own lets the index seek straight to the cursor; the OR
        // then drops the ties already shown. A cursor whose execution has since been purged
        // still works for strictly older start dates (the subquery is NULL).
        clauses.push(format!(
            "e.start_date <= ?{s} AND (e.start_date < ?{s} OR e.id < (SELECT id FROM executions WHERE arn = ?{a}))"
        ));
        args.push(Value::Integer(*start));
        args.push(Value::Text(arn.clone()));
    }
    if !clauses.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&clauses.join(" AND "));
    }
    sql.push_str(&format!(
        " ORDER BY e.start_date DESC, e.id DESC LIMIT ?{}",
        args.len() + 1
    ));
    args.push(Value::Integer(limit(f.limit)));
    (sql, args)
}

pub(crate) const HISTORY_FORWARD: &str = "SELECT id, json FROM events
    WHERE execution_id = (SELECT id FROM executions WHERE arn = ?1) AND id >= ?2
    ORDER BY id LIMIT ?3";

pub(crate) const HISTORY_REVERSE: &str = "SELECT id, json FROM events
    WHERE execution_id = (SELECT id FROM executions WHERE arn = ?1) AND id <= ?2
    ORDER BY id DESC LIMIT ?3";

pub(crate) const RUNNING: &str = "SELECT arn FROM executions WHERE status = 'RUNNING' ORDER BY id";

pub(crate) const TIMERS: &str = "SELECT e.arn, t.timer_id, t.due
    FROM timers t JOIN executions e ON e.id = t.execution_id ORDER BY t.due";

pub(crate) fn history(
    conn: &Connection,
    arn: &str,
    from_id: u64,
    reverse: bool,
    max: usize,
) -> rusqlite::Result<Vec<StoredEvent>> {
    let sql = if reverse {
        HISTORY_REVERSE
    } else {
        HISTORY_FORWARD
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
    let mut stmt = conn.prepare_cached(RUNNING)?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    rows.collect()
}

pub(crate) fn timers(conn: &Connection) -> rusqlite::Result<Vec<TimerRecord>> {
    let mut stmt = conn.prepare_cached(TIMERS)?;
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

#[cfg(test)]
mod plans {
    //! The hot reads must stay index lookups: a regression here is a full scan in production.
    use super::*;

    fn db() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::schema::migrate(&mut conn, 0).unwrap();
        conn
    }

    fn plan(conn: &Connection, sql: &str, n: usize) -> String {
        let args = vec![Value::Integer(1); n];
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))
            .unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join("\n")
    }

    fn assert_plan(conn: &Connection, sql: &str, n: usize, wants: &[&str]) {
        let p = plan(conn, sql, n);
        for want in wants {
            assert!(p.contains(want), "{sql}\n-- plan --\n{p}\n-- wanted {want}");
        }
        assert!(!p.contains("TEMP B-TREE"), "{sql} sorts:\n{p}");
        assert!(
            !p.contains("SCAN e\n") && !p.ends_with("SCAN e"),
            "{sql} scans:\n{p}"
        );
    }

    fn filter(f: impl FnOnce(&mut ExecutionFilter)) -> (String, usize) {
        let mut filter = ExecutionFilter {
            limit: 100,
            ..Default::default()
        };
        f(&mut filter);
        let (sql, args) = executions_query(&filter);
        (sql, args.len())
    }

    #[test]
    fn listing_executions_uses_the_indexes_in_order() {
        let conn = db();
        let cases: Vec<((String, usize), &str)> = vec![
            (
                filter(|f| f.state_machine_arn = Some("sm".into())),
                "executions_by_machine (state_machine_arn=?)",
            ),
            (
                filter(|f| {
                    f.state_machine_arn = Some("sm".into());
                    f.status = Some("RUNNING".into());
                }),
                "executions_by_machine (state_machine_arn=?)",
            ),
            (
                filter(|f| {
                    f.state_machine_arn = Some("sm".into());
                    f.after = Some((5, "arn".into()));
                }),
                "executions_by_machine (state_machine_arn=? AND start_date<?)",
            ),
            (
                filter(|f| f.parent_arn = Some("p".into())),
                "executions_by_parent (parent_arn=?)",
            ),
            (
                filter(|f| f.map_run_arn = Some("m".into())),
                "executions_by_map_run (map_run_arn=?)",
            ),
        ];
        for ((sql, n), want) in cases {
            assert_plan(&conn, &sql, n, &[want]);
        }
    }

    #[test]
    fn history_running_timers_and_purge_use_their_indexes() {
        let conn = db();
        assert_plan(&conn, HISTORY_FORWARD, 3, &["(execution_id=? AND id>?)"]);
        assert_plan(&conn, HISTORY_REVERSE, 3, &["(execution_id=? AND id<?)"]);
        assert_plan(&conn, RUNNING, 0, &["executions_by_status (status=?)"]);
        assert_plan(&conn, TIMERS, 0, &["SCAN t USING INDEX timers_by_due"]);
        assert_plan(
            &conn,
            crate::writer::PURGE_SELECT,
            2,
            &["executions_closed (stop_date<?)"],
        );
    }
}
