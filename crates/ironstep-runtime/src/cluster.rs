//! Cluster mode: several nodes share one store ([`ironstep_store::cluster::Cluster`]).
//!
//! Active only when the store says it is shared; otherwise none of this runs. The rules:
//! - A node holds an execution in memory only under a **lease**; every commit is fenced by it
//!   and a lost lease drops the copy in memory (the input is then retried).
//! - A node that needs an execution it does not hold takes the lease when it is free or
//!   expired; otherwise it **posts the input to the execution's inbox** and waits until the
//!   holder applied it (a notification says so; polling covers a lost one).
//! - Timers a node sets are fired from its memory; timers and running executions of a dead
//!   node are claimed by whichever node polls first after their lease expired (`FOR UPDATE
//!   SKIP LOCKED`), and an adopted execution's unanswered tasks are dispatched again (every
//!   integration is idempotent).
//! - Activity tasks wait in the store; GetActivityTask on any node takes one, exactly once.
//! - Leaving (graceful shutdown) hands every lease back at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use ironstep_core::{Input, TaskRequest};
use ironstep_store::cluster::{Cluster, Lease, Notice, NoticeSink, Taken};
use ironstep_store::{ExecutionRecord, TimerRecord};
use tokio::sync::{Notify, oneshot};

use crate::error::{ErrorCode, ServiceError, ServiceResult};
use crate::executions::{Live, Slot};
use crate::{Engine, Inner, Recovered, lock};

const LEASE_LOST: &str = "the lease on the execution was lost to another node";

/// The error a fenced commit that lost its lease becomes.
pub(crate) fn lease_lost(arn: &str) -> ServiceError {
    ServiceError::new(ErrorCode::ServiceFailure, format!("{LEASE_LOST}: {arn}"))
}

pub(crate) fn is_lease_lost(e: &ServiceError) -> bool {
    e.code == ErrorCode::ServiceFailure && e.message.starts_with(LEASE_LOST)
}

/// What this node keeps for cluster mode (unused by a single-node engine).
#[derive(Default)]
pub(crate) struct ClusterState {
    /// Posters waiting for their inbox entry to be applied.
    inbox_waiters: Mutex<HashMap<u64, oneshot::Sender<bool>>>,
    /// Wakes GetActivityTask long polls of an activity.
    activity: Mutex<HashMap<String, Arc<Notify>>>,
    /// Local GetActivityTask polls per activity (AWS caps them).
    pollers: Mutex<HashMap<String, usize>>,
    /// Wakes the poll loop early.
    poll_now: Arc<Notify>,
    /// Keeps the notification sink alive (the store holds it weakly).
    sink: Mutex<Option<Arc<dyn NoticeSink>>>,
}

impl ClusterState {
    fn activity_notify(&self, activity: &str) -> Arc<Notify> {
        lock(&self.activity)
            .entry(activity.to_string())
            .or_default()
            .clone()
    }

    /// Wake this node's pollers of an activity.
    pub(crate) fn wake_activity(&self, activity: &str) {
        if let Some(n) = lock(&self.activity).get(activity) {
            n.notify_waiters();
        }
    }
}

/// Turns notifications into work.
struct Sink(Weak<Inner>);

impl NoticeSink for Sink {
    fn notice(&self, notice: Notice) {
        let Some(engine) = Engine::from_weak(&self.0) else {
            return;
        };
        let state = &engine.inner.cluster;
        match notice {
            Notice::Inbox(arn) => {
                if engine.inner.live.contains(&arn) {
                    spawn_drain(engine.clone(), arn);
                }
            }
            Notice::InboxDone { id, applied } => {
                if let Some(w) = lock(&state.inbox_waiters).remove(&id) {
                    let _ = w.send(applied);
                }
            }
            Notice::Activity(arn) => state.wake_activity(&arn),
            Notice::Closed(arn) => {
                let waiting = lock(&engine.inner.waiters.map).remove(&arn);
                if let Some(waiters) = waiting {
                    let e = engine.clone();
                    tokio::spawn(async move {
                        match e.inner.store.get_execution(&arn).await {
                            Ok(Some(rec)) => {
                                for w in waiters {
                                    let _ = w.send(rec.clone());
                                }
                            }
                            // Put them back: the poll in `wait_closed` finds the end.
                            _ => lock(&e.inner.waiters.map)
                                .entry(arn)
                                .or_default()
                                .extend(waiters),
                        }
                    });
                }
            }
            Notice::Reconnected => state.poll_now.notify_one(),
        }
    }
}

fn shutting_down(engine: &Engine) -> bool {
    engine
        .inner
        .shutting_down
        .load(std::sync::atomic::Ordering::SeqCst)
}

fn cluster(engine: &Engine) -> ServiceResult<&dyn Cluster> {
    engine
        .inner
        .store
        .cluster()
        .ok_or_else(|| ServiceError::new(ErrorCode::ServiceFailure, "the store is not shared"))
}

/// Join the cluster, start listening and the background loops, and adopt orphaned work.
pub(crate) async fn start(engine: &Engine) -> ServiceResult<Recovered> {
    let c = cluster(engine)?;
    c.join(&engine.inner.config.node_address).await?;
    let sink: Arc<dyn NoticeSink> = Arc::new(Sink(Arc::downgrade(&engine.inner)));
    *lock(&engine.inner.cluster.sink) = Some(sink.clone());
    c.listen(sink);
    spawn_heartbeat(Arc::downgrade(&engine.inner), c.timing().renew);
    let adopted = poll_once(engine).await;
    spawn_poll(Arc::downgrade(&engine.inner), c.timing().poll);
    tracing::info!(node = c.node_id(), "joined the cluster");
    Ok(Recovered {
        running: adopted,
        timers: 0,
        dispatches: 0,
    })
}

/// Leave: hand every lease back so that other nodes take the work over at once.
pub(crate) async fn leave(engine: &Engine) {
    let Some(c) = engine.inner.store.cluster() else {
        return;
    };
    if let Err(e) = c.leave().await {
        tracing::warn!("leaving the cluster: {e}");
    } else {
        tracing::info!(node = c.node_id(), "left the cluster; leases handed back");
    }
}

/// The metrics this node publishes with its heartbeat.
fn metrics_json(engine: &Engine) -> String {
    use std::sync::atomic::Ordering::Relaxed;
    let m = &engine.inner.metrics;
    serde_json::json!({
        "transitions": m.transitions.load(Relaxed),
        "steps": m.steps.load(Relaxed),
        "started": m.started.load(Relaxed),
        "closed": m.closed.load(Relaxed),
        "live": engine.inner.live.len(),
        "timers": engine.inner.timers.len(),
    })
    .to_string()
}

fn spawn_heartbeat(weak: Weak<Inner>, every: Duration) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            let Some(engine) = Engine::from_weak(&weak) else {
                return;
            };
            if shutting_down(&engine) {
                return;
            }
            let Some(c) = engine.inner.store.cluster() else {
                return;
            };
            let held = engine.inner.live.arns();
            if let Err(e) = c.heartbeat(&held, &metrics_json(&engine)).await {
                tracing::warn!("cluster heartbeat failed (leases expire if this lasts): {e}");
            }
        }
    });
}

fn spawn_poll(weak: Weak<Inner>, every: Duration) {
    tokio::spawn(async move {
        loop {
            let wake = {
                let Some(inner) = weak.upgrade() else { return };
                inner.cluster.poll_now.clone()
            };
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = wake.notified() => {}
            }
            let Some(engine) = Engine::from_weak(&weak) else {
                return;
            };
            if shutting_down(&engine) {
                return;
            }
            poll_once(&engine).await;
        }
    });
}

/// One round of looking for work: orphaned executions, orphaned inbox entries, due timers.
/// Returns how many executions were adopted.
async fn poll_once(engine: &Engine) -> usize {
    let Some(c) = engine.inner.store.cluster() else {
        return 0;
    };
    let mut adopted = 0;
    match c.adopt_orphans(64).await {
        Ok(list) => {
            adopted = list.len();
            for (arn, lease) in list {
                tracing::info!(execution = arn, "adopting an execution from another node");
                let e = engine.clone();
                tokio::spawn(async move { adopt(&e, &arn, lease).await });
            }
        }
        Err(e) => tracing::warn!("looking for orphaned executions: {e}"),
    }
    match c.inbox_orphans(128).await {
        Ok(list) => {
            for arn in list {
                spawn_drain(engine.clone(), arn);
            }
        }
        Err(e) => tracing::warn!("looking for queued inputs: {e}"),
    }
    match c.claim_due_timers(engine.now(), 256).await {
        Ok(list) => {
            if !list.is_empty() {
                // A node fires the timers it set itself: these are a dead (or departed)
                // node's.
                tracing::info!(count = list.len(), "taking over due timers of another node");
            }
            for t in list {
                let e = engine.clone();
                tokio::spawn(async move { fire_claimed(&e, t).await });
            }
        }
        Err(e) => tracing::warn!("claiming due timers: {e}"),
    }
    adopted
}

async fn fire_claimed(engine: &Engine, t: TimerRecord) {
    engine.inner.timers.cancel(&t.execution_arn, t.timer_id);
    fire_timer(engine, &t.execution_arn, t.timer_id).await;
}

/// Fire a timer. A shared store keeps no fired timer (another node would fire it again): the
/// step the timer causes deletes its row, and a timer that changed nothing is deleted here.
/// When the delivery fails the row stays, and the timer fires again once this node's claim on
/// it expires.
pub(crate) async fn fire_timer(engine: &Engine, arn: &str, timer_id: u64) {
    match engine
        .try_deliver(arn, Input::TimerFired { timer_id })
        .await
    {
        // The step it caused deleted the row.
        Ok(true) => {}
        Ok(false) => {
            if let Some(c) = engine.inner.store.cluster()
                && let Err(e) = c.finish_timer(arn, timer_id).await
            {
                tracing::warn!(execution = arn, "could not delete a fired timer: {e}");
            }
        }
        Err(e) => tracing::warn!(
            execution = arn,
            "a timer could not fire (it fires again later): {e}"
        ),
    }
}

/// Run an execution taken over from another node: load it, dispatch its unanswered tasks
/// again, apply its queued inputs.
async fn adopt(engine: &Engine, arn: &str, lease: Lease) {
    let Some(c) = engine.inner.store.cluster() else {
        return;
    };
    loop {
        let slot = engine.inner.live.slot(arn);
        let mut guard = slot.lock().await;
        if guard.retired {
            continue;
        }
        if let Some(live) = guard.live.as_mut() {
            // This node already runs it (its own lease had expired): the copy in memory is
            // the last commit, so it simply continues under the new lease.
            live.lease = Some(lease);
        } else {
            let loaded = match engine.load_live(arn).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(execution = arn, "adopting: {e}");
                    None
                }
            };
            let Some(mut live) = loaded else {
                if let Err(e) = c.release(arn, lease).await {
                    tracing::warn!(execution = arn, "could not hand a lease back: {e}");
                }
                guard.retired = true;
                engine.inner.live.remove(arn, &slot);
                return;
            };
            live.lease = Some(lease);
            guard.live = Some(live);
            match c.dispatches_of(arn).await {
                Ok(list) => {
                    for d in list {
                        match serde_json::from_slice::<TaskRequest>(&d.payload) {
                            Ok(req) => {
                                crate::integrations::dispatch(engine.clone(), d.execution_arn, req)
                            }
                            Err(e) => tracing::warn!(
                                execution = d.execution_arn,
                                "unreadable dispatch row: {e}"
                            ),
                        }
                    }
                }
                Err(e) => tracing::warn!(execution = arn, "reading dispatches: {e}"),
            }
        }
        apply_inbox_locked(engine, arn, &mut guard).await;
        if guard.live.is_none() {
            guard.retired = true;
            engine.inner.live.remove(arn, &slot);
            return;
        }
        engine.settle(arn, &slot, &mut guard).await;
        return;
    }
}

/// What taking an execution over found.
pub(crate) enum TakeOver {
    /// The lease is ours and the execution loaded.
    Loaded(Box<Live>),
    /// Another node holds it (or this one is leaving): use the inbox.
    Elsewhere,
    /// Closed or missing.
    Gone,
}

/// Take the lease on an execution this node does not hold, and load it.
pub(crate) async fn take_over(engine: &Engine, arn: &str) -> ServiceResult<TakeOver> {
    let c = cluster(engine)?;
    if shutting_down(engine) {
        return Ok(TakeOver::Elsewhere);
    }
    match c.acquire_loaded(arn).await? {
        Taken::Acquired {
            lease,
            record,
            snapshot: Some(snapshot),
            inbox,
        } => match engine.live_from(*record, &snapshot) {
            Ok(mut live) => {
                live.lease = Some(lease);
                live.inbox_waiting = inbox;
                Ok(TakeOver::Loaded(Box::new(live)))
            }
            Err(e) => {
                c.release(arn, lease).await?;
                Err(e)
            }
        },
        Taken::Acquired { lease, .. } => {
            c.release(arn, lease).await?;
            Ok(TakeOver::Gone)
        }
        Taken::Held { .. } => Ok(TakeOver::Elsewhere),
        Taken::Closed => {
            c.discard_closed_inbox(arn).await?;
            Ok(TakeOver::Gone)
        }
        Taken::Missing => Ok(TakeOver::Gone),
    }
}

/// Apply the inputs queued in the inbox of an execution this node holds (slot locked). On a
/// failure the copy in memory is dropped (`guard.live` is `None` afterwards).
pub(crate) async fn apply_inbox_locked(engine: &Engine, arn: &str, guard: &mut Slot) {
    let Some(c) = engine.inner.store.cluster() else {
        return;
    };
    const PAGE: usize = 64;
    loop {
        let Some(live) = guard.live.as_mut() else {
            return;
        };
        let Some(lease) = live.lease else {
            return;
        };
        let items = match c.inbox(arn, PAGE).await {
            Ok(items) => items,
            Err(e) => {
                tracing::warn!(execution = arn, "reading the inbox: {e}");
                return;
            }
        };
        let full = items.len() == PAGE;
        for item in items {
            let input: Input = match serde_json::from_slice(&item.input) {
                Ok(i) => i,
                Err(e) => {
                    tracing::warn!(execution = arn, "unreadable inbox entry {}: {e}", item.id);
                    let _ = c.discard_inbox(arn, lease, &[item.id]).await;
                    continue;
                }
            };
            if let Err(e) = engine.apply_input(live, input, Some(item.id)).await {
                if !is_lease_lost(&e) {
                    tracing::warn!(execution = arn, "applying a queued input: {e}");
                }
                guard.live = None;
                return;
            }
            if live.record.status != "RUNNING" {
                if let Err(e) = c.discard_closed_inbox(arn).await {
                    tracing::warn!(
                        execution = arn,
                        "dropping inputs of a closed execution: {e}"
                    );
                }
                return;
            }
            if live.lease.is_none() {
                // The step handed the lease back (idle); what is left is drained anew.
                return;
            }
        }
        if !full {
            return;
        }
    }
}

/// Apply the queued inputs of an execution, taking it over if nobody live holds it.
pub(crate) async fn drain_inbox(engine: &Engine, arn: &str) {
    loop {
        let slot = engine.inner.live.slot(arn);
        let mut guard = slot.lock().await;
        if guard.retired {
            continue;
        }
        if guard.live.is_none() {
            let taken = match take_over(engine, arn).await {
                Ok(t) => t,
                Err(e) => {
                    tracing::warn!(execution = arn, "taking over to apply queued inputs: {e}");
                    TakeOver::Gone
                }
            };
            match taken {
                TakeOver::Loaded(l) => guard.live = Some(*l),
                TakeOver::Elsewhere | TakeOver::Gone => {
                    guard.retired = true;
                    engine.inner.live.remove(arn, &slot);
                    return;
                }
            }
        }
        apply_inbox_locked(engine, arn, &mut guard).await;
        if guard.live.is_none() {
            guard.retired = true;
            engine.inner.live.remove(arn, &slot);
            return;
        }
        engine.settle(arn, &slot, &mut guard).await;
        return;
    }
}

pub(crate) fn spawn_drain(engine: Engine, arn: String) {
    tokio::spawn(async move { drain_inbox(&engine, &arn).await });
}

/// Post an input to the inbox of an execution another node holds, and wait until it was
/// applied (by that node, or by whichever node takes the execution over). Returns whether
/// the input changed the execution.
pub(crate) async fn post_and_wait(engine: &Engine, arn: &str, input: Input) -> ServiceResult<bool> {
    let c = cluster(engine)?;
    let bytes = serde_json::to_vec(&input).map_err(|e| {
        ServiceError::new(ErrorCode::ServiceFailure, format!("encoding an input: {e}"))
    })?;
    let Some(posted) = c.post_input(arn, bytes).await? else {
        return Ok(false);
    };
    let (tx, mut rx) = oneshot::channel();
    lock(&engine.inner.cluster.inbox_waiters).insert(posted.id, tx);
    let forget = || {
        lock(&engine.inner.cluster.inbox_waiters).remove(&posted.id);
    };
    if posted.owner.is_none() && !shutting_down(engine) {
        drain_inbox(engine, arn).await;
    }
    let timing = c.timing();
    let deadline = tokio::time::Instant::now() + timing.lease * 3 + Duration::from_secs(10);
    loop {
        tokio::select! {
            r = &mut rx => return Ok(r.unwrap_or(true)),
            _ = tokio::time::sleep(timing.poll) => {}
        }
        match c.inbox_pending(posted.id).await {
            Ok(false) => {
                forget();
                // Applied; the notification with the answer was lost or is still coming.
                return Ok(rx.try_recv().unwrap_or(true));
            }
            Ok(true) => {}
            Err(e) => tracing::warn!(execution = arn, "checking an inbox entry: {e}"),
        }
        if tokio::time::Instant::now() >= deadline {
            forget();
            return Err(ServiceError::new(
                ErrorCode::ServiceFailure,
                format!(
                    "the node running {arn} did not apply the input in time; it stays queued and will be applied"
                ),
            ));
        }
        if !shutting_down(engine) {
            // Takes the execution over if its holder died or let it go.
            drain_inbox(engine, arn).await;
        }
    }
}

/// Wait for an execution to close when another node may be the one closing it.
pub(crate) async fn wait_closed(
    engine: &Engine,
    arn: &str,
    mut rx: oneshot::Receiver<ExecutionRecord>,
    poll: Duration,
) -> ServiceResult<ExecutionRecord> {
    loop {
        let mut sender_gone = false;
        tokio::select! {
            r = &mut rx => match r {
                Ok(rec) => return Ok(rec),
                Err(_) => sender_gone = true,
            },
            _ = tokio::time::sleep(poll) => {}
        }
        if let Some(rec) = engine.inner.store.get_execution(arn).await?
            && rec.status != "RUNNING"
        {
            drop(rx);
            if let Some(list) = lock(&engine.inner.waiters.map).get_mut(arn) {
                list.retain(|w| !w.is_closed());
            }
            return Ok(rec);
        }
        if sender_gone {
            // The sender went without an answer: register again.
            let (tx, new_rx) = oneshot::channel();
            lock(&engine.inner.waiters.map)
                .entry(arn.to_string())
                .or_default()
                .push(tx);
            rx = new_rx;
        }
    }
}

/// Offer an activity task (dispatched by this node) to workers on every node.
pub(crate) async fn offer_activity_task(
    engine: &Engine,
    activity: &str,
    arn: &str,
    task_id: u64,
) -> ServiceResult<()> {
    let c = cluster(engine)?;
    c.offer_activity_task(activity, arn, task_id).await?;
    engine.inner.cluster.wake_activity(activity);
    Ok(())
}

/// Counts this node's pollers of an activity while alive.
struct Poller<'a> {
    engine: &'a Engine,
    activity: String,
}

impl Drop for Poller<'_> {
    fn drop(&mut self) {
        let mut p = lock(&self.engine.inner.cluster.pollers);
        if let Some(n) = p.get_mut(&self.activity) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                p.remove(&self.activity);
            }
        }
    }
}

/// GetActivityTask in cluster mode: take an offered task from the store (any node's), waiting
/// up to `wait` for one.
pub(crate) async fn get_activity_task(
    engine: &Engine,
    activity: &str,
    worker_name: Option<String>,
    wait: Duration,
    max_pollers: usize,
) -> ServiceResult<Option<(String, String)>> {
    let c = cluster(engine)?;
    {
        let mut p = lock(&engine.inner.cluster.pollers);
        let n = p.entry(activity.to_string()).or_default();
        if *n >= max_pollers {
            return Err(ServiceError::new(
                ErrorCode::ActivityWorkerLimitExceeded,
                "The maximum number of workers concurrently polling for activity tasks has been reached.",
            ));
        }
        *n += 1;
    }
    let _poller = Poller {
        engine,
        activity: activity.to_string(),
    };
    let deadline = tokio::time::Instant::now() + wait;
    let notify = engine.inner.cluster.activity_notify(activity);
    let poll = c.timing().poll;
    loop {
        let notified = notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if let Some(d) = c.take_activity_task(activity).await? {
            let req: TaskRequest = serde_json::from_slice(&d.payload).map_err(|e| {
                ServiceError::new(
                    ErrorCode::ServiceFailure,
                    format!("unreadable activity task: {e}"),
                )
            })?;
            engine
                .deliver(
                    &d.execution_arn,
                    Input::TaskStarted {
                        task_id: d.task_id,
                        worker_name,
                    },
                )
                .await;
            return Ok(Some((
                req.token.unwrap_or_default(),
                ironstep_core::json::compact(&req.parameters),
            )));
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        tokio::select! {
            _ = notified => {}
            _ = tokio::time::sleep(poll.min(deadline - now)) => {}
        }
    }
}

/// Offered activity tasks not yet handed out (cluster mode).
pub(crate) async fn offered_activity_tasks(engine: &Engine, activity: &str) -> ServiceResult<u64> {
    Ok(cluster(engine)?.offered_activity_tasks(activity).await?)
}

impl Engine {
    /// This node's id when the store is shared by several nodes.
    pub fn node_id(&self) -> Option<String> {
        self.inner.store.cluster().map(|c| c.node_id().to_string())
    }
}
