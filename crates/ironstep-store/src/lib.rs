//! ironstep-store: the storage contract of ironstep, and its in-memory backend.
//!
//! The contract ([`Store`]) knows state machines, versions, aliases, tags, activities,
//! executions, their history, timers and the task-dispatch outbox. One execution step is one
//! [`Mutation`]: its events, the new execution snapshot, the timers it puts and deletes and the
//! tasks it hands out are committed together (or not at all), so a crash never leaves a step half
//! done.
//!
//! This crate names no database driver: SQLite and PostgreSQL live in their own crates and
//! implement the same trait, and one contract test suite ([`contract`]) runs against every
//! backend. Snapshots and dispatch payloads are opaque bytes here; only the runtime knows what
//! they contain.
//!
//! A store several nodes share (PostgreSQL) also implements [`cluster::Cluster`]: leases with
//! fencing, an inbox, timer claims and node heartbeats.
#![warn(missing_docs)]

pub mod cluster;
pub mod contract;
mod memory;
mod model;

pub use memory::MemoryStore;
pub use model::*;

use async_trait::async_trait;

/// Everything ironstep keeps. Implementations must be safe to share between threads.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    // ---- state machines, versions, aliases ---------------------------------------------------

    /// Insert a state machine, failing with [`StoreError::AlreadyExists`] if the ARN is taken.
    async fn create_state_machine(&self, sm: StateMachineRecord) -> Result<(), StoreError>;
    /// Replace a state machine (update).
    async fn update_state_machine(&self, sm: StateMachineRecord) -> Result<(), StoreError>;
    /// A state machine by ARN.
    async fn get_state_machine(&self, arn: &str) -> Result<Option<StateMachineRecord>, StoreError>;
    /// State machines ordered by ARN, after `after` (exclusive), at most `limit`.
    async fn list_state_machines(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StateMachineRecord>, StoreError>;
    /// Delete a state machine with its versions, aliases and tags.
    async fn delete_state_machine(&self, arn: &str) -> Result<(), StoreError>;

    /// Insert a published version.
    async fn put_version(&self, v: VersionRecord) -> Result<(), StoreError>;
    /// A version by ARN.
    async fn get_version(&self, arn: &str) -> Result<Option<VersionRecord>, StoreError>;
    /// Versions of a state machine, newest first.
    async fn list_versions(
        &self,
        state_machine_arn: &str,
    ) -> Result<Vec<VersionRecord>, StoreError>;
    /// Delete a version.
    async fn delete_version(&self, arn: &str) -> Result<(), StoreError>;

    /// Insert or replace an alias.
    async fn put_alias(&self, a: AliasRecord) -> Result<(), StoreError>;
    /// An alias by ARN.
    async fn get_alias(&self, arn: &str) -> Result<Option<AliasRecord>, StoreError>;
    /// Aliases of a state machine, by name.
    async fn list_aliases(&self, state_machine_arn: &str) -> Result<Vec<AliasRecord>, StoreError>;
    /// Delete an alias.
    async fn delete_alias(&self, arn: &str) -> Result<(), StoreError>;

    /// Tags of a resource (state machine or activity), in insertion order.
    async fn get_tags(&self, resource_arn: &str) -> Result<Vec<(String, String)>, StoreError>;
    /// Replace the tags of a resource.
    async fn set_tags(
        &self,
        resource_arn: &str,
        tags: Vec<(String, String)>,
    ) -> Result<(), StoreError>;

    // ---- activities --------------------------------------------------------------------------

    /// Insert an activity, or return the existing one with that ARN (CreateActivity is idempotent).
    async fn create_activity(&self, a: ActivityRecord) -> Result<ActivityRecord, StoreError>;
    /// An activity by ARN.
    async fn get_activity(&self, arn: &str) -> Result<Option<ActivityRecord>, StoreError>;
    /// Activities ordered by ARN after `after`, at most `limit`.
    async fn list_activities(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ActivityRecord>, StoreError>;
    /// Delete an activity.
    async fn delete_activity(&self, arn: &str) -> Result<(), StoreError>;

    // ---- executions --------------------------------------------------------------------------

    /// Create an execution together with its first step. Fails with
    /// [`StoreError::AlreadyExists`] (carrying the existing record) if the ARN exists.
    async fn create_execution(
        &self,
        rec: ExecutionRecord,
        first: Mutation,
    ) -> Result<(), StoreError>;
    /// Commit one step of an execution. Acknowledged only once durable.
    async fn commit(&self, m: Mutation) -> Result<(), StoreError>;
    /// An execution's summary.
    async fn get_execution(&self, arn: &str) -> Result<Option<ExecutionRecord>, StoreError>;
    /// The interpreter snapshot of a running execution.
    async fn get_snapshot(&self, arn: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Executions matching `filter`, newest first.
    async fn list_executions(
        &self,
        filter: &ExecutionFilter,
    ) -> Result<Vec<ExecutionRecord>, StoreError>;
    /// History events with ids in `range` (inclusive), ascending or descending, at most `limit`.
    async fn history(
        &self,
        arn: &str,
        from_id: u64,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError>;
    /// ARNs of every execution still RUNNING (crash recovery).
    async fn running_executions(&self) -> Result<Vec<String>, StoreError>;

    // ---- timers and dispatch -----------------------------------------------------------------

    /// Every timer, ordered by due time (loaded once at start-up).
    async fn all_timers(&self) -> Result<Vec<TimerRecord>, StoreError>;
    /// Every dispatched task that has not reported back (re-dispatched after a restart).
    async fn pending_dispatches(&self) -> Result<Vec<DispatchRecord>, StoreError>;

    // ---- retention ---------------------------------------------------------------------------

    /// Delete closed executions that stopped before `before` (epoch ms), at most `limit`;
    /// returns how many were deleted.
    async fn purge_closed(&self, before: i64, limit: usize) -> Result<u64, StoreError>;

    /// Flush and close (the writer finishes its current commit).
    async fn close(&self) -> Result<(), StoreError> {
        Ok(())
    }

    // ---- several nodes -----------------------------------------------------------------------

    /// The cluster side of a store that several nodes share ([`cluster::Cluster`]); `None`
    /// (the default) for a store only one process uses, and the runtime then runs everything
    /// itself.
    fn cluster(&self) -> Option<&dyn cluster::Cluster> {
        None
    }
}
