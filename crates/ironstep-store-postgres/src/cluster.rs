//! The [`Cluster`] side: leases, the inbox, timer claims, activity hand-out and nodes.
//!
//! Claims use `FOR UPDATE SKIP LOCKED` inside an `UPDATE ... WHERE key IN (SELECT ...)`, so
//! that nodes claiming at the same moment get different rows instead of waiting for each other.

use std::sync::Arc;

use async_trait::async_trait;
use ironstep_store::cluster::{
    Acquire, Cluster, ClusterTiming, Committed, Fenced, InboxItem, Lease, NodeRecord, NoticeSink,
    Posted, Taken,
};
use ironstep_store::{DispatchRecord, ExecutionRecord, Millis, Mutation, StoreError, TimerRecord};
use tokio_postgres::Row;

use crate::error::backend;
use crate::rows::get_u64;
use crate::{NOW, PgStore, limit, now_ms, to_i64};

pub(crate) fn timer_row(r: &Row) -> Result<TimerRecord, StoreError> {
    Ok(TimerRecord {
        execution_arn: r.try_get(0).map_err(|e| backend(&e))?,
        timer_id: get_u64(r, 1)?,
        due: r.try_get(2).map_err(|e| backend(&e))?,
    })
}

pub(crate) fn dispatch_row(r: &Row) -> Result<DispatchRecord, StoreError> {
    Ok(DispatchRecord {
        execution_arn: r.try_get(0).map_err(|e| backend(&e))?,
        task_id: get_u64(r, 1)?,
        payload: r.try_get(2).map_err(|e| backend(&e))?,
    })
}

fn lease_of(r: &Row, idx: usize) -> Result<Lease, StoreError> {
    Ok(Lease {
        epoch: get_u64(r, idx)?,
    })
}

fn ids(v: &[u64]) -> Result<Vec<i64>, StoreError> {
    v.iter().map(|x| to_i64(*x)).collect()
}

#[async_trait]
impl Cluster for PgStore {
    fn node_id(&self) -> &str {
        &self.node
    }

    fn timing(&self) -> ClusterTiming {
        self.timing
    }

    fn listen(&self, sink: Arc<dyn NoticeSink>) {
        self.set_listener(crate::listen::spawn(self.pg_config().clone(), &sink));
        // The listener holds the sink weakly; the caller keeps it alive.
        drop(sink);
    }

    async fn join(&self, address: &str) -> Result<(), StoreError> {
        self.execute(
            &format!(
                "INSERT INTO nodes (id, address, started_at, heartbeat_at, lease_until, status, metrics)
                 VALUES ($1, $2, $3, {NOW}, {NOW} + $4, 'live', '{{}}')
                 ON CONFLICT (id) DO UPDATE SET address = excluded.address,
                    heartbeat_at = excluded.heartbeat_at, lease_until = excluded.lease_until,
                    status = 'live'"
            ),
            &[&self.node, &address, &now_ms(), &self.lease_ms()],
        )
        .await
        .map(|_| ())
    }

    /// A lease row locked by a commit in flight is skipped: that commit renews it.
    async fn heartbeat(&self, held: &[String], metrics: &str) -> Result<u64, StoreError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(|e| backend(&e))?;
        let lease = self.lease_ms();
        let node = tx
            .prepare_cached(&format!(
                "UPDATE nodes SET heartbeat_at = {NOW}, lease_until = {NOW} + $2, metrics = $3,
                    status = 'live' WHERE id = $1"
            ))
            .await
            .map_err(|e| backend(&e))?;
        let n = tx
            .execute(&node, &[&self.node, &lease, &metrics])
            .await
            .map_err(|e| backend(&e))?;
        if n == 0 {
            // The row was removed (or never written): register again.
            tx.execute(
                &format!(
                    "INSERT INTO nodes (id, address, started_at, heartbeat_at, lease_until, status, metrics)
                     VALUES ($1, '', $2, {NOW}, {NOW} + $3, 'live', $4)"
                ),
                &[&self.node, &now_ms(), &lease, &metrics],
            )
            .await
            .map_err(|e| backend(&e))?;
        }
        let renew = tx
            .prepare_cached(&format!(
                "UPDATE executions SET lease_until = {NOW} + $2
                 WHERE id IN (SELECT id FROM executions
                    WHERE owner = $1 AND arn = ANY($3) AND status = 'RUNNING'
                    ORDER BY arn FOR UPDATE SKIP LOCKED)"
            ))
            .await
            .map_err(|e| backend(&e))?;
        let renewed = tx
            .execute(&renew, &[&self.node, &lease, &held])
            .await
            .map_err(|e| backend(&e))?;
        tx.commit().await.map_err(|e| backend(&e))?;
        Ok(renewed)
    }

    async fn leave(&self) -> Result<(), StoreError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(|e| backend(&e))?;
        for sql in [
            // Rows are locked in ARN order, the writers' order (see the writer).
            "UPDATE executions SET owner = NULL, lease_until = NULL
             WHERE id IN (SELECT id FROM executions WHERE owner = $1 ORDER BY arn FOR UPDATE)"
                .to_string(),
            "UPDATE timers SET owner = NULL, lease_until = NULL WHERE owner = $1".to_string(),
            format!("UPDATE nodes SET status = 'stopped', lease_until = {NOW} WHERE id = $1"),
        ] {
            tx.execute(&sql, &[&self.node])
                .await
                .map_err(|e| backend(&e))?;
        }
        // Tell the others to look for the work handed back now rather than at their next poll.
        tx.execute("SELECT pg_notify('ironstep', 'poll')", &[])
            .await
            .map_err(|e| backend(&e))?;
        tx.commit().await.map_err(|e| backend(&e))
    }

    async fn nodes(&self) -> Result<Vec<NodeRecord>, StoreError> {
        let rows = self
            .query(
                &format!(
                    "SELECT n.id, n.address, n.status, n.started_at, n.heartbeat_at,
                        n.lease_until < {NOW} AS expired, n.metrics,
                        (SELECT COUNT(*) FROM executions e WHERE e.owner = n.id),
                        (SELECT COUNT(*) FROM timers t WHERE t.owner = n.id)
                     FROM nodes n WHERE n.heartbeat_at > {NOW} - 86400000
                     ORDER BY (n.status = 'live' AND n.lease_until >= {NOW}) DESC, n.id"
                ),
                &[],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let get_s = |i: usize| r.try_get::<_, String>(i).map_err(|e| backend(&e));
                let status = get_s(2)?;
                let expired: bool = r.try_get(5).map_err(|e| backend(&e))?;
                Ok(NodeRecord {
                    id: get_s(0)?,
                    address: get_s(1)?,
                    status: if status == "live" && expired {
                        "dead".into()
                    } else {
                        status
                    },
                    started_at: r.try_get(3).map_err(|e| backend(&e))?,
                    heartbeat_at: r.try_get(4).map_err(|e| backend(&e))?,
                    metrics: get_s(6)?,
                    executions: get_u64(r, 7)?,
                    timers: get_u64(r, 8)?,
                })
            })
            .collect()
    }

    async fn create_execution_leased(
        &self,
        rec: ExecutionRecord,
        first: Mutation,
        release: bool,
    ) -> Result<Lease, StoreError> {
        self.write_create_leased(rec, first, release).await
    }

    async fn acquire(&self, arn: &str, closed_too: bool) -> Result<Acquire, StoreError> {
        let rows = self
            .query(
                &format!(
                    "UPDATE executions SET owner = $2, epoch = epoch + 1, lease_until = {NOW} + $3
                     WHERE arn = $1 AND (owner IS NULL OR owner = $2 OR lease_until < {NOW})
                        AND ($4 OR status = 'RUNNING')
                     RETURNING epoch"
                ),
                &[&arn, &self.node, &self.lease_ms(), &closed_too],
            )
            .await?;
        if let Some(r) = rows.first() {
            return Ok(Acquire::Acquired(lease_of(r, 0)?));
        }
        let rows = self
            .query(
                &format!(
                    "SELECT owner, status, lease_until >= {NOW} FROM executions WHERE arn = $1"
                ),
                &[&arn],
            )
            .await?;
        let Some(r) = rows.first() else {
            return Ok(Acquire::Missing);
        };
        let owner: Option<String> = r.try_get(0).map_err(|e| backend(&e))?;
        let status: String = r.try_get(1).map_err(|e| backend(&e))?;
        if status != "RUNNING" && !closed_too {
            return Ok(Acquire::Closed);
        }
        // Freed or expired since the update: report it held anyway; the caller posts to the
        // inbox, whose fallback takes the free lease.
        Ok(Acquire::Held {
            owner: owner.unwrap_or_default(),
        })
    }

    async fn acquire_loaded(&self, arn: &str) -> Result<Taken, StoreError> {
        let rows = self
            .query(
                &format!(
                    "WITH e AS (UPDATE executions SET owner = $2, epoch = epoch + 1,
                        lease_until = {NOW} + $3
                     WHERE arn = $1 AND (owner IS NULL OR owner = $2 OR lease_until < {NOW})
                        AND status = 'RUNNING'
                     RETURNING *)
                     SELECT {}, e.epoch, e.snapshot,
                        EXISTS (SELECT 1 FROM inbox b WHERE b.execution_id = e.id)
                     FROM e JOIN execution_inputs i ON i.execution_id = e.id",
                    crate::rows::EXECUTION_COLUMNS
                ),
                &[&arn, &self.node, &self.lease_ms()],
            )
            .await?;
        if let Some(r) = rows.first() {
            return Ok(Taken::Acquired {
                record: Box::new(crate::rows::execution(r)?),
                lease: lease_of(r, 20)?,
                snapshot: r.try_get(21).map_err(|e| backend(&e))?,
                inbox: r.try_get(22).map_err(|e| backend(&e))?,
            });
        }
        Ok(match self.acquire(arn, false).await? {
            // Freed between the two statements: the lease taken now is as good.
            Acquire::Acquired(lease) => {
                let Some(record) = ironstep_store::Store::get_execution(self, arn).await? else {
                    self.release(arn, lease).await?;
                    return Ok(Taken::Missing);
                };
                Taken::Acquired {
                    lease,
                    record: Box::new(record),
                    snapshot: ironstep_store::Store::get_snapshot(self, arn).await?,
                    inbox: true,
                }
            }
            Acquire::Held { owner } => Taken::Held { owner },
            Acquire::Closed => Taken::Closed,
            Acquire::Missing => Taken::Missing,
        })
    }

    async fn commit_fenced(
        &self,
        m: Mutation,
        lease: Lease,
        extra: Fenced,
    ) -> Result<Committed, StoreError> {
        self.write_fenced(m, lease, extra).await
    }

    async fn release(&self, arn: &str, lease: Lease) -> Result<(), StoreError> {
        self.execute(
            "UPDATE executions SET owner = NULL, lease_until = NULL
             WHERE arn = $1 AND owner = $2 AND epoch = $3",
            &[&arn, &self.node, &to_i64(lease.epoch)?],
        )
        .await
        .map(|_| ())
    }

    async fn adopt_orphans(&self, max: usize) -> Result<Vec<(String, Lease)>, StoreError> {
        let mut out = Vec::new();
        // Executions whose holder stopped renewing (it died or lost the database).
        let expired = self
            .query(
                &format!(
                    "UPDATE executions SET owner = $1, epoch = epoch + 1, lease_until = {NOW} + $2
                     WHERE id IN (SELECT id FROM executions
                        WHERE owner IS NOT NULL AND lease_until < {NOW} AND status = 'RUNNING'
                        LIMIT $3 FOR UPDATE SKIP LOCKED)
                     RETURNING arn, epoch"
                ),
                &[&self.node, &self.lease_ms(), &limit(max)],
            )
            .await?;
        // Running executions with tasks in flight that nobody holds (their holder left).
        let unheld = self
            .query(
                &format!(
                    "UPDATE executions SET owner = $1, epoch = epoch + 1, lease_until = {NOW} + $2
                     WHERE id IN (SELECT e.id FROM executions e
                        WHERE e.owner IS NULL AND e.status = 'RUNNING'
                          AND e.id IN (SELECT execution_id FROM dispatches)
                        LIMIT $3 FOR UPDATE SKIP LOCKED)
                     RETURNING arn, epoch"
                ),
                &[&self.node, &self.lease_ms(), &limit(max)],
            )
            .await?;
        for r in expired.iter().chain(unheld.iter()) {
            out.push((r.try_get(0).map_err(|e| backend(&e))?, lease_of(r, 1)?));
        }
        Ok(out)
    }

    async fn dispatches_of(&self, arn: &str) -> Result<Vec<DispatchRecord>, StoreError> {
        self.query(
            "SELECT e.arn, d.task_id, d.payload FROM dispatches d
             JOIN executions e ON e.id = d.execution_id WHERE e.arn = $1 ORDER BY d.task_id",
            &[&arn],
        )
        .await?
        .iter()
        .map(dispatch_row)
        .collect()
    }

    async fn post_input(&self, arn: &str, input: Vec<u8>) -> Result<Option<Posted>, StoreError> {
        let rows = self
            .query(
                &format!(
                    "WITH e AS (SELECT id, owner, lease_until >= {NOW} AS live FROM executions
                        WHERE arn = $1),
                     i AS (INSERT INTO inbox (execution_id, input, created_at)
                        SELECT id, $2, $3 FROM e RETURNING id)
                     SELECT i.id, e.owner, e.live, pg_notify('ironstep', 'inbox ' || $1::TEXT)
                     FROM i, e"
                ),
                &[&arn, &input, &now_ms()],
            )
            .await?;
        let Some(r) = rows.first() else {
            return Ok(None);
        };
        let owner: Option<String> = r.try_get(1).map_err(|e| backend(&e))?;
        let live: Option<bool> = r.try_get(2).map_err(|e| backend(&e))?;
        Ok(Some(Posted {
            id: get_u64(r, 0)?,
            owner: owner.filter(|_| live == Some(true)),
        }))
    }

    async fn inbox(&self, arn: &str, max: usize) -> Result<Vec<InboxItem>, StoreError> {
        self.query(
            "SELECT id, input FROM inbox
             WHERE execution_id = (SELECT id FROM executions WHERE arn = $1)
             ORDER BY id LIMIT $2",
            &[&arn, &limit(max)],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(InboxItem {
                id: get_u64(r, 0)?,
                input: r.try_get(1).map_err(|e| backend(&e))?,
            })
        })
        .collect()
    }

    async fn inbox_pending(&self, id: u64) -> Result<bool, StoreError> {
        Ok(!self
            .query("SELECT 1 FROM inbox WHERE id = $1", &[&to_i64(id)?])
            .await?
            .is_empty())
    }

    async fn discard_inbox(
        &self,
        arn: &str,
        lease: Lease,
        items: &[u64],
    ) -> Result<bool, StoreError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(|e| backend(&e))?;
        let held = tx
            .query(
                "SELECT id FROM executions WHERE arn = $1 AND owner = $2 AND epoch = $3 FOR UPDATE",
                &[&arn, &self.node, &to_i64(lease.epoch)?],
            )
            .await
            .map_err(|e| backend(&e))?;
        let Some(row) = held.first() else {
            return Ok(false);
        };
        let exec_id: i64 = row.try_get(0).map_err(|e| backend(&e))?;
        tx.execute(
            "WITH d AS (DELETE FROM inbox WHERE id = ANY($1) AND execution_id = $2 RETURNING id)
             SELECT pg_notify('ironstep', 'done ' || d.id || ' 0') FROM d",
            &[&ids(items)?, &exec_id],
        )
        .await
        .map_err(|e| backend(&e))?;
        tx.commit().await.map_err(|e| backend(&e))?;
        Ok(true)
    }

    async fn discard_closed_inbox(&self, arn: &str) -> Result<(), StoreError> {
        self.query(
            "WITH d AS (DELETE FROM inbox WHERE execution_id =
                (SELECT id FROM executions WHERE arn = $1 AND status <> 'RUNNING') RETURNING id)
             SELECT pg_notify('ironstep', 'done ' || d.id || ' 0') FROM d",
            &[&arn],
        )
        .await
        .map(|_| ())
    }

    async fn inbox_orphans(&self, max: usize) -> Result<Vec<String>, StoreError> {
        self.query(
            &format!(
                "SELECT DISTINCT e.arn FROM inbox i JOIN executions e ON e.id = i.execution_id
                 WHERE e.owner IS NULL OR e.owner = $1 OR e.lease_until < {NOW}
                    OR e.status <> 'RUNNING'
                 LIMIT $2"
            ),
            &[&self.node, &limit(max)],
        )
        .await?
        .iter()
        .map(|r| r.try_get(0).map_err(|e| backend(&e)))
        .collect()
    }

    async fn claim_due_timers(
        &self,
        now: Millis,
        max: usize,
    ) -> Result<Vec<TimerRecord>, StoreError> {
        self.query(
            &format!(
                "UPDATE timers SET owner = $1, lease_until = {NOW} + $2
                 WHERE (execution_id, timer_id) IN (
                    SELECT execution_id, timer_id FROM timers
                    WHERE due <= $3 AND (owner IS NULL OR lease_until < {NOW})
                    ORDER BY due LIMIT $4 FOR UPDATE SKIP LOCKED)
                 RETURNING (SELECT arn FROM executions e WHERE e.id = timers.execution_id),
                    timer_id, due"
            ),
            &[&self.node, &self.lease_ms(), &now, &limit(max)],
        )
        .await?
        .iter()
        .map(timer_row)
        .collect()
    }

    async fn finish_timer(&self, arn: &str, timer_id: u64) -> Result<(), StoreError> {
        self.execute(
            "DELETE FROM timers WHERE execution_id = (SELECT id FROM executions WHERE arn = $1)
                AND timer_id = $2 AND owner = $3",
            &[&arn, &to_i64(timer_id)?, &self.node],
        )
        .await
        .map(|_| ())
    }

    async fn offer_activity_task(
        &self,
        activity_arn: &str,
        execution_arn: &str,
        task_id: u64,
    ) -> Result<(), StoreError> {
        self.query(
            "WITH u AS (UPDATE dispatches SET activity_arn = $1
                WHERE execution_id = (SELECT id FROM executions WHERE arn = $2) AND task_id = $3
                RETURNING handed_out)
             SELECT pg_notify('ironstep', 'activity ' || $1::TEXT) FROM u WHERE NOT u.handed_out",
            &[&activity_arn, &execution_arn, &to_i64(task_id)?],
        )
        .await
        .map(|_| ())
    }

    async fn take_activity_task(
        &self,
        activity_arn: &str,
    ) -> Result<Option<DispatchRecord>, StoreError> {
        let rows = self
            .query(
                "UPDATE dispatches SET handed_out = TRUE
                 WHERE (execution_id, task_id) IN (
                    SELECT execution_id, task_id FROM dispatches
                    WHERE activity_arn = $1 AND NOT handed_out
                    ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED)
                 RETURNING (SELECT arn FROM executions e WHERE e.id = dispatches.execution_id),
                    task_id, payload",
                &[&activity_arn],
            )
            .await?;
        rows.first().map(dispatch_row).transpose()
    }

    async fn offered_activity_tasks(&self, activity_arn: &str) -> Result<u64, StoreError> {
        let rows = self
            .query(
                "SELECT COUNT(*) FROM dispatches WHERE activity_arn = $1 AND NOT handed_out",
                &[&activity_arn],
            )
            .await?;
        rows.first()
            .map(|r| get_u64(r, 0))
            .transpose()
            .map(|n| n.unwrap_or(0))
    }
}
