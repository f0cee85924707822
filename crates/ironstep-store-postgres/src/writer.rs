//! Group commit: the writers that commit execution steps.
//!
//! A few writer tasks share one request queue; each owns a connection. A writer takes the first
//! queued request, drains what else is queued (up to `max_batch`), and applies them all in ONE
//! transaction, then answers every caller: `Ok` always means "committed". A commit costs a WAL
//! flush whether it carries one step or a hundred, so batching is what makes durable steps
//! cheap.
//!
//! Each request runs inside its own SAVEPOINT, so that one failing (or fenced-out) request
//! rolls back alone. Its statements are **pipelined**: sent back to back without waiting for
//! each answer (tokio-postgres sends the requests of futures polled together in order), so a
//! step costs about one round trip however many tables it touches. That only works with
//! statements prepared beforehand, which each writer does once per connection.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::future::join_all;
use ironstep_store::cluster::{Committed, Fenced, Lease};
use ironstep_store::{ExecutionRecord, Mutation, StoreError};
use tokio::sync::{Mutex as AsyncMutex, mpsc, oneshot};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Row, Statement};

use crate::error::{backend, clone_error, is_connection, is_key_conflict, is_transient};
use crate::{NOW, connect_once, to_i64};

/// A write operation on an execution.
pub(crate) enum Op {
    /// Insert an execution and apply its first step. `lease`: leased to this node
    /// (`Some(false)`), released at once (`Some(true)`), or no lease (`None`).
    Create {
        rec: Box<ExecutionRecord>,
        first: Box<Mutation>,
        lease: Option<bool>,
    },
    /// Apply a step, fenced by a lease or not.
    Commit {
        m: Box<Mutation>,
        fence: Option<(Lease, Fenced)>,
    },
}

impl Op {
    fn arn(&self) -> &str {
        match self {
            Op::Create { rec, .. } => &rec.arn,
            Op::Commit { m, .. } => &m.execution_arn,
        }
    }

    fn events(&self) -> u64 {
        match self {
            Op::Create { first, .. } => first.events.len() as u64,
            Op::Commit { m, .. } => m.events.len() as u64,
        }
    }
}

/// What a successful operation returns.
pub(crate) enum Done {
    Lease(Lease),
    Committed(Committed),
}

pub(crate) struct Request {
    pub op: Op,
    pub reply: oneshot::Sender<Result<Done, StoreError>>,
}

/// Group-commit counters.
#[derive(Default)]
pub(crate) struct Counters {
    pub commits: AtomicU64,
    pub requests: AtomicU64,
    pub events: AtomicU64,
    pub failed_commits: AtomicU64,
    pub largest_batch: AtomicU64,
}

/// What every writer needs.
pub(crate) struct WriterConfig {
    pub pg: tokio_postgres::Config,
    pub node: String,
    pub lease_ms: i64,
    pub max_batch: usize,
    /// How long a batch is retried while the database is unreachable before its callers get
    /// an error.
    pub retry_for: Duration,
    pub counters: Arc<Counters>,
}

/// The prepared statements of one writer connection.
struct Stmts {
    savepoint: Statement,
    release: Statement,
    rollback_to: Statement,
    insert_execution: Statement,
    insert_inputs: Statement,
    update: Statement,
    update_fenced: Statement,
    events: Statement,
    timers_delete: Statement,
    timers_put: Statement,
    dispatch_delete: Statement,
    dispatch_put: Statement,
    clear_timers: Statement,
    clear_dispatches: Statement,
    inbox_done: Statement,
    notify_closed: Statement,
    inbox_waiting: Statement,
}

const EXEC_ID: &str = "(SELECT id FROM executions WHERE arn = $1)";

impl Stmts {
    async fn prepare(c: &Client) -> Result<Stmts, tokio_postgres::Error> {
        let sql_update = |fenced: bool| {
            let mut s = String::from(
                "UPDATE executions SET status = $2,
                    stop_date = CASE WHEN $3 THEN $4 ELSE COALESCE($4, stop_date) END,
                    output = CASE WHEN $3 THEN $5 ELSE COALESCE($5, output) END,
                    error = CASE WHEN $3 THEN $6 ELSE COALESCE($6, error) END,
                    cause = CASE WHEN $3 THEN $7 ELSE COALESCE($7, cause) END,
                    redrive_count = redrive_count + CASE WHEN $3 THEN 1 ELSE 0 END,
                    redrive_date = CASE WHEN $3 THEN $8 ELSE redrive_date END,
                    event_count = event_count + $9, snapshot = $10",
            );
            if fenced {
                s.push_str(&format!(
                    ", owner = CASE WHEN $11 THEN NULL ELSE owner END,
                       lease_until = CASE WHEN $11 THEN NULL ELSE {NOW} + $14 END
                     WHERE arn = $1 AND owner = $12 AND epoch = $13 RETURNING id"
                ));
            } else {
                s.push_str(" WHERE arn = $1 RETURNING id");
            }
            s
        };
        Ok(Stmts {
            savepoint: c.prepare("SAVEPOINT r").await?,
            release: c.prepare("RELEASE SAVEPOINT r").await?,
            rollback_to: c.prepare("ROLLBACK TO SAVEPOINT r").await?,
            insert_execution: c
                .prepare(&format!(
                    "INSERT INTO executions (arn, state_machine_arn, name, status, start_date,
                        stop_date, version_arn, alias_arn, role_arn, trace_header, parent_arn,
                        map_run_arn, redrive_count, event_count, output, error, cause,
                        redrive_date, owner, epoch, lease_until)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
                        $16, $17, $18, $19::TEXT, 1,
                        CASE WHEN $19::TEXT IS NULL THEN NULL ELSE {NOW} + $20 END)
                     ON CONFLICT (arn) DO NOTHING RETURNING id"
                ))
                .await?,
            insert_inputs: c
                .prepare(
                    "INSERT INTO execution_inputs (execution_id, input, definition)
                     SELECT id, $2, $3 FROM executions WHERE arn = $1",
                )
                .await?,
            update: c.prepare(&sql_update(false)).await?,
            update_fenced: c.prepare(&sql_update(true)).await?,
            events: c
                .prepare(&format!(
                    "INSERT INTO events (execution_id, id, json)
                     SELECT x.id, u.id, u.json FROM {EXEC_ID} AS x(id),
                        unnest($2::BIGINT[], $3::TEXT[]) AS u(id, json)"
                ))
                .await?,
            timers_delete: c
                .prepare(&format!(
                    "DELETE FROM timers WHERE execution_id = {EXEC_ID} AND timer_id = ANY($2)"
                ))
                .await?,
            // The node that sets a timer fires it from memory; others may claim it once it is
            // a lease past due (if that node died).
            timers_put: c
                .prepare(&format!(
                    "INSERT INTO timers (execution_id, timer_id, due, owner, lease_until)
                     SELECT x.id, u.t, u.d, $4, GREATEST({NOW}, u.d) + $5
                     FROM {EXEC_ID} AS x(id), unnest($2::BIGINT[], $3::BIGINT[]) AS u(t, d)
                     ON CONFLICT (execution_id, timer_id) DO UPDATE SET due = excluded.due,
                        owner = excluded.owner, lease_until = excluded.lease_until"
                ))
                .await?,
            dispatch_delete: c
                .prepare(&format!(
                    "DELETE FROM dispatches WHERE execution_id = {EXEC_ID} AND task_id = ANY($2)"
                ))
                .await?,
            dispatch_put: c
                .prepare(&format!(
                    "INSERT INTO dispatches (execution_id, task_id, payload)
                     SELECT x.id, u.t, u.p
                     FROM {EXEC_ID} AS x(id), unnest($2::BIGINT[], $3::BYTEA[]) AS u(t, p)
                     ON CONFLICT (execution_id, task_id) DO UPDATE SET payload = excluded.payload"
                ))
                .await?,
            clear_timers: c
                .prepare(&format!(
                    "DELETE FROM timers WHERE execution_id = {EXEC_ID}"
                ))
                .await?,
            clear_dispatches: c
                .prepare(&format!(
                    "DELETE FROM dispatches WHERE execution_id = {EXEC_ID}"
                ))
                .await?,
            inbox_done: c
                .prepare(
                    "WITH d AS (DELETE FROM inbox WHERE id = ANY($1) RETURNING id)
                     SELECT pg_notify('ironstep', 'done ' || d.id || ' 1') FROM d",
                )
                .await?,
            notify_closed: c
                .prepare("SELECT pg_notify('ironstep', 'closed ' || $1::TEXT)")
                .await?,
            inbox_waiting: c
                .prepare(&format!(
                    "SELECT EXISTS (SELECT 1 FROM inbox WHERE execution_id = {EXEC_ID})"
                ))
                .await?,
        })
    }
}

/// One statement with its parameters, ready to be sent.
struct Q<'a> {
    stmt: &'a Statement,
    params: Vec<Box<dyn ToSql + Sync + Send + 'a>>,
}

fn q<'a>(stmt: &'a Statement, params: Vec<Box<dyn ToSql + Sync + Send + 'a>>) -> Q<'a> {
    Q { stmt, params }
}

/// Which answer of a request's pipeline tells whether it applied.
#[derive(Clone, Copy)]
enum Check {
    /// The insert returned the new id (none: the ARN exists).
    Created,
    /// The update returned the id (none: missing, or the lease was lost).
    Updated { fenced: bool },
}

/// Send `qs` back to back and collect every answer.
async fn pipeline(client: &Client, qs: &[Q<'_>]) -> Vec<Result<Vec<Row>, tokio_postgres::Error>> {
    let params: Vec<Vec<&(dyn ToSql + Sync)>> = qs
        .iter()
        .map(|q| {
            q.params
                .iter()
                .map(|p| &**p as &(dyn ToSql + Sync))
                .collect()
        })
        .collect();
    join_all(
        qs.iter()
            .zip(&params)
            .map(|(q, p)| client.query(q.stmt, p.as_slice())),
    )
    .await
}

fn ids(v: &[u64]) -> Result<Vec<i64>, StoreError> {
    v.iter().map(|x| to_i64(*x)).collect()
}

/// The statements of one step (after the row insert or update that checks it).
fn step_statements<'a>(
    s: &'a Stmts,
    cfg: &'a WriterConfig,
    m: &'a Mutation,
    out: &mut Vec<Q<'a>>,
) -> Result<(), StoreError> {
    let arn = &m.execution_arn;
    if !m.events.is_empty() {
        let ev_ids = ids(&m.events.iter().map(|e| e.id).collect::<Vec<_>>())?;
        let json: Vec<&str> = m.events.iter().map(|e| e.json.as_str()).collect();
        out.push(q(
            &s.events,
            vec![Box::new(arn), Box::new(ev_ids), Box::new(json)],
        ));
    }
    if !m.timers_delete.is_empty() {
        out.push(q(
            &s.timers_delete,
            vec![Box::new(arn), Box::new(ids(&m.timers_delete)?)],
        ));
    }
    if !m.timers_put.is_empty() && !m.clear_all {
        let t = ids(&m.timers_put.iter().map(|t| t.timer_id).collect::<Vec<_>>())?;
        let d: Vec<i64> = m.timers_put.iter().map(|t| t.due).collect();
        out.push(q(
            &s.timers_put,
            vec![
                Box::new(arn),
                Box::new(t),
                Box::new(d),
                Box::new(cfg.node.as_str()),
                Box::new(cfg.lease_ms),
            ],
        ));
    }
    if !m.dispatch_delete.is_empty() {
        out.push(q(
            &s.dispatch_delete,
            vec![Box::new(arn), Box::new(ids(&m.dispatch_delete)?)],
        ));
    }
    if !m.dispatch_put.is_empty() && !m.clear_all {
        let t = ids(&m.dispatch_put.iter().map(|d| d.task_id).collect::<Vec<_>>())?;
        let p: Vec<&[u8]> = m
            .dispatch_put
            .iter()
            .map(|d| d.payload.as_slice())
            .collect();
        out.push(q(
            &s.dispatch_put,
            vec![Box::new(arn), Box::new(t), Box::new(p)],
        ));
    }
    if m.clear_all {
        out.push(q(&s.clear_timers, vec![Box::new(arn)]));
        out.push(q(&s.clear_dispatches, vec![Box::new(arn)]));
    }
    if m.status != "RUNNING" {
        out.push(q(&s.notify_closed, vec![Box::new(arn)]));
    }
    Ok(())
}

fn update_params<'a>(m: &'a Mutation) -> Vec<Box<dyn ToSql + Sync + Send + 'a>> {
    vec![
        Box::new(&m.execution_arn),
        Box::new(m.status.as_str()),
        Box::new(m.redrive.is_some()),
        Box::new(m.stop_date),
        Box::new(m.output.as_deref()),
        Box::new(m.error.as_deref()),
        Box::new(m.cause.as_deref()),
        Box::new(m.redrive),
        Box::new(m.events.len() as i64),
        Box::new(m.snapshot.as_deref()),
    ]
}

/// The statements of one request, and how to tell whether it applied.
fn request_statements<'a>(
    s: &'a Stmts,
    cfg: &'a WriterConfig,
    op: &'a Op,
) -> Result<(Vec<Q<'a>>, Check), StoreError> {
    let mut out = Vec::with_capacity(8);
    match op {
        Op::Create { rec, first, lease } => {
            let owner: Option<&str> = match lease {
                Some(false) => Some(cfg.node.as_str()),
                _ => None,
            };
            out.push(q(
                &s.insert_execution,
                vec![
                    Box::new(rec.arn.as_str()),
                    Box::new(rec.state_machine_arn.as_str()),
                    Box::new(rec.name.as_str()),
                    Box::new(rec.status.as_str()),
                    Box::new(rec.start_date),
                    Box::new(rec.stop_date),
                    Box::new(rec.version_arn.as_deref()),
                    Box::new(rec.alias_arn.as_deref()),
                    Box::new(rec.role_arn.as_str()),
                    Box::new(rec.trace_header.as_deref()),
                    Box::new(rec.parent_arn.as_deref()),
                    Box::new(rec.map_run_arn.as_deref()),
                    Box::new(i64::from(rec.redrive_count)),
                    Box::new(to_i64(rec.event_count)?),
                    Box::new(rec.output.as_deref()),
                    Box::new(rec.error.as_deref()),
                    Box::new(rec.cause.as_deref()),
                    Box::new(rec.redrive_date),
                    Box::new(owner),
                    Box::new(cfg.lease_ms),
                ],
            ));
            out.push(q(
                &s.insert_inputs,
                vec![
                    Box::new(rec.arn.as_str()),
                    Box::new(rec.input.as_str()),
                    Box::new(rec.definition.as_str()),
                ],
            ));
            out.push(q(&s.update, update_params(first)));
            step_statements(s, cfg, first, &mut out)?;
            Ok((out, Check::Created))
        }
        Op::Commit { m, fence: None } => {
            out.push(q(&s.update, update_params(m)));
            step_statements(s, cfg, m, &mut out)?;
            Ok((out, Check::Updated { fenced: false }))
        }
        Op::Commit {
            m,
            fence: Some((lease, extra)),
        } => {
            let mut params = update_params(m);
            params.push(Box::new(extra.release || m.status != "RUNNING"));
            params.push(Box::new(cfg.node.as_str()));
            params.push(Box::new(to_i64(lease.epoch)?));
            params.push(Box::new(cfg.lease_ms));
            out.push(q(&s.update_fenced, params));
            step_statements(s, cfg, m, &mut out)?;
            if !extra.inbox_done.is_empty() {
                out.push(q(&s.inbox_done, vec![Box::new(ids(&extra.inbox_done)?)]));
            }
            out.push(q(&s.inbox_waiting, vec![Box::new(&m.execution_arn)]));
            Ok((out, Check::Updated { fenced: true }))
        }
    }
}

/// Why a batch did not commit.
enum BatchFailure {
    /// Nothing was committed and the connection broke: reconnect and try again.
    Retry(StoreError),
    /// The COMMIT itself was lost with the connection: it may or may not have happened.
    Unknown(StoreError),
    /// Nothing was committed (a statement error outside any request).
    Whole(StoreError),
}

/// One transaction over `batch`: every request's answer, if it committed.
async fn try_batch(
    client: &Client,
    s: &Stmts,
    cfg: &WriterConfig,
    batch: &[Request],
) -> Result<Vec<Result<Done, StoreError>>, BatchFailure> {
    let conn_err = |e: &tokio_postgres::Error| {
        if is_connection(e) {
            BatchFailure::Retry(backend(e))
        } else {
            BatchFailure::Whole(backend(e))
        }
    };
    client
        .batch_execute("BEGIN")
        .await
        .map_err(|e| conn_err(&e))?;
    let mut results = Vec::with_capacity(batch.len());
    // How the previous request's savepoint ends; sent at the head of the next pipeline.
    let mut pending_end: &[&Statement] = &[];
    let release = [&s.release];
    let undo = [&s.rollback_to, &s.release];
    for req in batch {
        let mut attempt = 0;
        let result = loop {
            attempt += 1;
            let (body, check) = match request_statements(s, cfg, &req.op) {
                Ok(x) => x,
                Err(e) => break Err(e),
            };
            let head = pending_end.len() + 1;
            let mut qs: Vec<Q<'_>> = Vec::with_capacity(head + body.len());
            for st in pending_end {
                qs.push(q(st, Vec::new()));
            }
            qs.push(q(&s.savepoint, Vec::new()));
            qs.extend(body);
            debug_assert!(
                qs.len() <= 30,
                "join_all polls in order only up to 30 futures"
            );
            let answers = pipeline(client, &qs).await;
            for a in &answers[..head] {
                if let Err(e) = a {
                    return Err(conn_err(e));
                }
            }
            let answers = &answers[head..];
            if let Some(Err(e)) = answers
                .iter()
                .find(|a| matches!(a, Err(e) if is_connection(e)))
            {
                return Err(BatchFailure::Retry(backend(e)));
            }
            // The first error is the cause; later ones only say that the transaction aborted.
            let failed = answers.iter().find_map(|a| a.as_ref().err());
            let first_rows = answers
                .first()
                .and_then(|a| a.as_ref().ok())
                .map(|r| r.len());
            // The check comes first: a fenced-out step's other statements may fail too (its
            // events exist already, written by the node that took over).
            let result = match (first_rows, check, failed) {
                (Some(0), Check::Created, _) => {
                    Err(StoreError::AlreadyExists(req.op.arn().to_string()))
                }
                (Some(0), Check::Updated { fenced: true }, _) => {
                    Ok(Done::Committed(Committed::LeaseLost))
                }
                (Some(0), Check::Updated { fenced: false }, _) => {
                    Err(StoreError::NotFound(req.op.arn().to_string()))
                }
                (_, _, Some(e)) if is_key_conflict(e) => Err(match &req.op {
                    Op::Create { rec, .. } => StoreError::AlreadyExists(rec.arn.clone()),
                    Op::Commit { m, .. } => {
                        StoreError::AlreadyExists(format!("an event of {}", m.execution_arn))
                    }
                }),
                (_, _, Some(e)) => Err(backend(e)),
                (_, Check::Created, None) => Ok(Done::Lease(Lease { epoch: 1 })),
                (_, Check::Updated { .. }, None) => {
                    let waiting = answers
                        .last()
                        .and_then(|a| a.as_ref().ok())
                        .and_then(|rows| rows.first())
                        .and_then(|r| r.try_get::<_, bool>(0).ok())
                        .unwrap_or(false);
                    Ok(Done::Committed(Committed::Done {
                        inbox_waiting: waiting,
                    }))
                }
            };
            let applied = matches!(
                result,
                Ok(Done::Lease(_)) | Ok(Done::Committed(Committed::Done { .. }))
            );
            pending_end = if applied { &release } else { &undo };
            // A deadlock victim or a serialization failure is retried in place.
            if attempt < 3 && first_rows != Some(0) && failed.is_some_and(is_transient) {
                continue;
            }
            break result;
        };
        results.push(result);
    }
    let end = match pending_end.len() {
        0 => "COMMIT",
        1 => "RELEASE SAVEPOINT r; COMMIT",
        _ => "ROLLBACK TO SAVEPOINT r; RELEASE SAVEPOINT r; COMMIT",
    };
    match client.batch_execute(end).await {
        Ok(()) => Ok(results),
        Err(e) if is_connection(&e) => Err(BatchFailure::Unknown(StoreError::Backend(format!(
            "the connection to PostgreSQL broke during COMMIT, so whether the step was saved is unknown: {e}"
        )))),
        Err(e) => Err(BatchFailure::Whole(backend(&e))),
    }
}

/// The writer task: batches until the queue closes.
pub(crate) async fn run(cfg: Arc<WriterConfig>, rx: Arc<AsyncMutex<mpsc::Receiver<Request>>>) {
    let mut conn: Option<(Client, Stmts)> = None;
    let mut batch: Vec<Request> = Vec::with_capacity(cfg.max_batch);
    loop {
        {
            let mut rx = rx.lock().await;
            match rx.recv().await {
                Some(r) => batch.push(r),
                None => return,
            }
            while batch.len() < cfg.max_batch {
                match rx.try_recv() {
                    Ok(r) => batch.push(r),
                    Err(_) => break,
                }
            }
        }
        // One lock order for every transaction that updates several execution rows (other
        // writers, heartbeats, leaving): no deadlocks between them.
        batch.sort_by(|a, b| a.op.arn().cmp(b.op.arn()));
        apply_batch(&cfg, &mut conn, &mut batch).await;
    }
}

async fn apply_batch(
    cfg: &WriterConfig,
    conn: &mut Option<(Client, Stmts)>,
    batch: &mut Vec<Request>,
) {
    let deadline = tokio::time::Instant::now() + cfg.retry_for;
    let mut backoff = Duration::from_millis(50);
    loop {
        if conn.as_ref().is_none_or(|(c, _)| c.is_closed()) {
            *conn = None;
            match connect_once(&cfg.pg).await {
                Ok(client) => match Stmts::prepare(&client).await {
                    Ok(s) => *conn = Some((client, s)),
                    Err(e) => tracing::warn!("PostgreSQL writer: preparing statements: {e}"),
                },
                Err(e) => tracing::warn!("PostgreSQL writer: cannot connect: {e}"),
            }
        }
        let failure = match conn.as_ref() {
            None => BatchFailure::Retry(StoreError::Backend("cannot connect to PostgreSQL".into())),
            Some((client, stmts)) => match try_batch(client, stmts, cfg, batch).await {
                Ok(results) => {
                    let c = &cfg.counters;
                    let size = batch.len() as u64;
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
                    return;
                }
                Err(f) => f,
            },
        };
        cfg.counters.failed_commits.fetch_add(1, Ordering::Relaxed);
        let error = match failure {
            BatchFailure::Retry(e) if tokio::time::Instant::now() < deadline => {
                tracing::warn!(
                    "PostgreSQL unreachable, retrying in {} ms: {e}",
                    backoff.as_millis()
                );
                *conn = None;
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(2));
                continue;
            }
            BatchFailure::Retry(e) | BatchFailure::Unknown(e) => {
                *conn = None;
                e
            }
            BatchFailure::Whole(e) => {
                // Leave the connection usable for the next batch.
                if let Some((c, _)) = conn.as_ref() {
                    let _ = c.batch_execute("ROLLBACK").await;
                }
                e
            }
        };
        for req in batch.drain(..) {
            let _ = req.reply.send(Err(clone_error(&error)));
        }
        return;
    }
}
