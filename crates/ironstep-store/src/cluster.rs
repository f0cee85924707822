//! What a store shared by several ironstep nodes adds to [`crate::Store`]: leases on
//! executions with fencing, an inbox of inputs for executions another node runs, claims on due
//! timers, orphaned work taken over from dead nodes, activity tasks handed out once across the
//! cluster, node heartbeats, and notifications.
//!
//! A store offers this through [`crate::Store::cluster`]; single-node stores (memory, SQLite)
//! return `None` and the runtime then behaves exactly as it does without a cluster.
//!
//! The model: an execution held in a node's memory is **leased** by that node (owner, epoch,
//! expiry). Every commit names the lease's epoch and fails ([`Committed::LeaseLost`]) once
//! another node has taken the execution over, so that a transition is committed by one node
//! only. A node that needs an execution it does not hold takes the lease when it is free or
//! expired, and otherwise posts the input to the execution's **inbox**, which the holder
//! applies. Notifications ([`Notice`]) are hints that make this fast; every consumer also polls,
//! so a lost notification only delays.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::{DispatchRecord, ExecutionRecord, Millis, Mutation, StoreError, TimerRecord};

/// How quickly a cluster notices a dead node and how often nodes renew and poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterTiming {
    /// A lease not renewed for this long may be taken over by another node: the failover time.
    pub lease: Duration,
    /// How often a node renews its heartbeat and the leases it holds.
    pub renew: Duration,
    /// How often a node looks for work when no notification came (due timers, orphaned
    /// executions, inbox entries).
    pub poll: Duration,
}

impl ClusterTiming {
    /// Timings that fail over within `failover`: leases last 80% of it, are renewed four
    /// times per lease, and nodes poll ten times per lease (at most once a second).
    pub fn for_failover(failover: Duration) -> ClusterTiming {
        let lease = failover.mul_f64(0.8).max(Duration::from_millis(200));
        ClusterTiming {
            lease,
            renew: lease / 4,
            poll: (lease / 10).min(Duration::from_secs(1)),
        }
    }
}

impl Default for ClusterTiming {
    /// Fail over within 10 seconds.
    fn default() -> Self {
        ClusterTiming::for_failover(Duration::from_secs(10))
    }
}

/// A node's lease on an execution: commits carry it and fail once another node took over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    /// Raised by every acquisition.
    pub epoch: u64,
}

/// What [`Cluster::acquire`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acquire {
    /// The lease is ours now.
    Acquired(Lease),
    /// Another node holds a live lease.
    Held {
        /// That node.
        owner: String,
    },
    /// The execution is not running (and the caller did not ask for closed ones).
    Closed,
    /// No such execution.
    Missing,
}

/// What [`Cluster::acquire_loaded`] found: [`Acquire`], with what running the execution needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Taken {
    /// The lease is ours; here is the execution as last committed.
    Acquired {
        /// The lease.
        lease: Lease,
        /// Its summary.
        record: Box<ExecutionRecord>,
        /// Its interpreter snapshot.
        snapshot: Option<Vec<u8>>,
        /// Inputs wait in its inbox.
        inbox: bool,
    },
    /// Another node holds a live lease.
    Held {
        /// That node.
        owner: String,
    },
    /// The execution is not running.
    Closed,
    /// No such execution.
    Missing,
}

/// What a fenced commit adds to a step.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fenced {
    /// Hand the lease back in the same transaction (the node drops the execution from memory).
    pub release: bool,
    /// Inbox entries this step consumed (deleted in the same transaction).
    pub inbox_done: Vec<u64>,
}

/// The answer of a fenced commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Committed {
    /// Durable. `inbox_waiting` tells that inputs are queued in the execution's inbox.
    Done {
        /// Inputs wait in the inbox (they arrived while the step ran).
        inbox_waiting: bool,
    },
    /// Nothing was written: another node took the execution over (or it is gone).
    LeaseLost,
}

/// An input waiting in an execution's inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxItem {
    /// Its id (ascending in posting order).
    pub id: u64,
    /// The input, as the runtime encoded it.
    pub input: Vec<u8>,
}

/// What [`Cluster::post_input`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    /// The inbox entry.
    pub id: u64,
    /// The node holding the execution when the input was posted, if its lease is live.
    pub owner: Option<String>,
}

/// A node of the cluster, as [`Cluster::nodes`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRecord {
    /// Its id.
    pub id: String,
    /// The address it serves on.
    pub address: String,
    /// `live`, `stopped` (left cleanly) or `dead` (heartbeat expired).
    pub status: String,
    /// Started at (epoch ms).
    pub started_at: Millis,
    /// Last heartbeat (database clock, epoch ms).
    pub heartbeat_at: Millis,
    /// Executions it holds leases on.
    pub executions: u64,
    /// Timers it owns or has claimed.
    pub timers: u64,
    /// Its latest metrics (JSON text, as the node reported them).
    pub metrics: String,
}

/// A notification from another node (or from this one). Only a hint: consumers poll too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// An input was posted to this execution's inbox.
    Inbox(String),
    /// An inbox entry was consumed; `applied` is false when the input changed nothing.
    InboxDone {
        /// The entry.
        id: u64,
        /// Whether it was applied.
        applied: bool,
    },
    /// An activity task was offered for this activity.
    Activity(String),
    /// This execution closed.
    Closed(String),
    /// The notification channel was re-established: anything may have been missed.
    Reconnected,
}

/// Receives [`Notice`]s. Called from the store's listener task: must not block.
pub trait NoticeSink: Send + Sync {
    /// One notification.
    fn notice(&self, notice: Notice);
}

/// The cluster side of a shared store. Every method acts as the node this store instance
/// belongs to ([`Cluster::node_id`]).
#[async_trait]
pub trait Cluster: Send + Sync {
    /// This node's id.
    fn node_id(&self) -> &str;

    /// The cluster's timings.
    fn timing(&self) -> ClusterTiming;

    /// Start delivering notifications to `sink` (a listener task that reconnects by itself).
    fn listen(&self, sink: Arc<dyn NoticeSink>);

    // ---- nodes -------------------------------------------------------------------------------

    /// Register this node (serving on `address`) as live.
    async fn join(&self, address: &str) -> Result<(), StoreError>;
    /// Renew the heartbeat, the leases on `held` (the executions this node has in memory) and
    /// the timers it claimed; record `metrics` (JSON text). Returns how many execution leases
    /// were renewed. Leases this node holds on executions not in `held` are left to expire.
    async fn heartbeat(&self, held: &[String], metrics: &str) -> Result<u64, StoreError>;
    /// Leave cleanly: hand every lease and timer back at once and mark the node stopped.
    async fn leave(&self) -> Result<(), StoreError>;
    /// Every node that has not been gone for long, live ones first.
    async fn nodes(&self) -> Result<Vec<NodeRecord>, StoreError>;

    // ---- leases and fenced commits -----------------------------------------------------------

    /// [`crate::Store::create_execution`], leased by this node (epoch 1), or released at once
    /// when `release`.
    async fn create_execution_leased(
        &self,
        rec: ExecutionRecord,
        first: Mutation,
        release: bool,
    ) -> Result<Lease, StoreError>;
    /// Take the lease on an execution if it is free, expired or already this node's (the
    /// runtime calls this only while it does not hold the execution in memory). Closed
    /// executions are leased only with `closed_too` (RedriveExecution).
    async fn acquire(&self, arn: &str, closed_too: bool) -> Result<Acquire, StoreError>;
    /// [`Cluster::acquire`] of a running execution that also returns its record, snapshot and
    /// whether inputs wait in its inbox, in one round trip (a node takes an execution over for
    /// nearly every timer that fires).
    async fn acquire_loaded(&self, arn: &str) -> Result<Taken, StoreError>;
    /// Commit a step if `lease` is still the execution's current lease.
    async fn commit_fenced(
        &self,
        m: Mutation,
        lease: Lease,
        extra: Fenced,
    ) -> Result<Committed, StoreError>;
    /// Hand a lease back without a step.
    async fn release(&self, arn: &str, lease: Lease) -> Result<(), StoreError>;
    /// Take over executions whose holder died (expired leases) and running executions nobody
    /// holds that still have dispatched tasks (their holder left); at most `limit`.
    async fn adopt_orphans(&self, limit: usize) -> Result<Vec<(String, Lease)>, StoreError>;
    /// The unanswered dispatches of one execution.
    async fn dispatches_of(&self, arn: &str) -> Result<Vec<DispatchRecord>, StoreError>;

    // ---- the inbox ---------------------------------------------------------------------------

    /// Queue an input for an execution and notify its holder. `None` if there is no such
    /// execution.
    async fn post_input(&self, arn: &str, input: Vec<u8>) -> Result<Option<Posted>, StoreError>;
    /// The queued inputs of an execution, oldest first.
    async fn inbox(&self, arn: &str, limit: usize) -> Result<Vec<InboxItem>, StoreError>;
    /// Whether an inbox entry is still queued.
    async fn inbox_pending(&self, id: u64) -> Result<bool, StoreError>;
    /// Drop inbox entries that changed nothing, if `lease` is still current; their posters are
    /// told `applied: false`. Returns false (and drops nothing) if the lease was lost.
    async fn discard_inbox(&self, arn: &str, lease: Lease, ids: &[u64])
    -> Result<bool, StoreError>;
    /// Drop every inbox entry of an execution that is closed (inputs to it change nothing).
    async fn discard_closed_inbox(&self, arn: &str) -> Result<(), StoreError>;
    /// Executions with queued inputs that this node should apply: held by nobody, by a node
    /// whose lease expired, by this node, or closed. At most `limit`.
    async fn inbox_orphans(&self, limit: usize) -> Result<Vec<String>, StoreError>;

    // ---- timers ------------------------------------------------------------------------------

    /// Claim timers due at `now` (engine clock) that nobody holds, or whose holder's claim
    /// expired (`FOR UPDATE SKIP LOCKED`: concurrent claimers get different timers).
    async fn claim_due_timers(
        &self,
        now: Millis,
        limit: usize,
    ) -> Result<Vec<TimerRecord>, StoreError>;
    /// Delete a timer this node claimed once it fired without a step deleting it.
    async fn finish_timer(&self, arn: &str, timer_id: u64) -> Result<(), StoreError>;

    // ---- activity tasks ----------------------------------------------------------------------

    /// Offer a dispatched activity task to workers on every node (idempotent: a task already
    /// handed out stays handed out).
    async fn offer_activity_task(
        &self,
        activity_arn: &str,
        execution_arn: &str,
        task_id: u64,
    ) -> Result<(), StoreError>;
    /// Hand the oldest offered task of an activity to one worker; never the same task twice.
    async fn take_activity_task(
        &self,
        activity_arn: &str,
    ) -> Result<Option<DispatchRecord>, StoreError>;
    /// Offered tasks of an activity not yet handed out.
    async fn offered_activity_tasks(&self, activity_arn: &str) -> Result<u64, StoreError>;
}
