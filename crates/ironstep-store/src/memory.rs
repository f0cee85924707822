//! The in-memory backend: Express executions, tests, and `ironstep serve --store memory`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;

use crate::{
    ActivityRecord, AliasRecord, DispatchRecord, ExecutionFilter, ExecutionRecord, Mutation,
    StateMachineRecord, Store, StoreError, StoredEvent, TimerRecord, VersionRecord,
};

#[derive(Default)]
struct Inner {
    machines: BTreeMap<String, StateMachineRecord>,
    versions: BTreeMap<String, VersionRecord>,
    aliases: BTreeMap<String, AliasRecord>,
    tags: HashMap<String, Vec<(String, String)>>,
    activities: BTreeMap<String, ActivityRecord>,
    executions: HashMap<String, ExecutionRecord>,
    /// Execution ARNs in start order (for newest-first listing).
    order: Vec<String>,
    snapshots: HashMap<String, Vec<u8>>,
    history: HashMap<String, Vec<StoredEvent>>,
    timers: HashMap<String, BTreeMap<u64, TimerRecord>>,
    dispatches: HashMap<String, BTreeMap<u64, DispatchRecord>>,
}

/// Keeps everything in process memory; nothing survives a restart.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave half-applied state: every operation
        // validates before it mutates, so continuing with the inner value is sound.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn apply(inner: &mut Inner, m: Mutation) -> Result<(), StoreError> {
    let rec = inner
        .executions
        .get_mut(&m.execution_arn)
        .ok_or_else(|| StoreError::NotFound(m.execution_arn.clone()))?;
    if let Some(date) = m.redrive {
        rec.redrive_date = Some(date);
        rec.stop_date = None;
        rec.output = None;
        rec.error = None;
        rec.cause = None;
        rec.redrive_count += 1;
    }
    rec.status = m.status;
    if m.stop_date.is_some() {
        rec.stop_date = m.stop_date;
    }
    if m.output.is_some() {
        rec.output = m.output;
    }
    if m.error.is_some() {
        rec.error = m.error;
    }
    if m.cause.is_some() {
        rec.cause = m.cause;
    }
    rec.event_count += m.events.len() as u64;
    match m.snapshot {
        Some(s) => {
            inner.snapshots.insert(m.execution_arn.clone(), s);
        }
        None => {
            inner.snapshots.remove(&m.execution_arn);
        }
    }
    inner
        .history
        .entry(m.execution_arn.clone())
        .or_default()
        .extend(m.events);
    let timers = inner.timers.entry(m.execution_arn.clone()).or_default();
    for id in &m.timers_delete {
        timers.remove(id);
    }
    for t in m.timers_put {
        timers.insert(t.timer_id, t);
    }
    let dispatches = inner.dispatches.entry(m.execution_arn.clone()).or_default();
    for id in &m.dispatch_delete {
        dispatches.remove(id);
    }
    for d in m.dispatch_put {
        dispatches.insert(d.task_id, d);
    }
    if m.clear_all {
        inner.timers.remove(&m.execution_arn);
        inner.dispatches.remove(&m.execution_arn);
    }
    Ok(())
}

#[async_trait]
impl Store for MemoryStore {
    async fn create_state_machine(&self, sm: StateMachineRecord) -> Result<(), StoreError> {
        let mut g = self.lock();
        if g.machines.contains_key(&sm.arn) {
            return Err(StoreError::AlreadyExists(sm.arn));
        }
        g.machines.insert(sm.arn.clone(), sm);
        Ok(())
    }

    async fn update_state_machine(&self, sm: StateMachineRecord) -> Result<(), StoreError> {
        let mut g = self.lock();
        match g.machines.get_mut(&sm.arn) {
            Some(slot) => {
                *slot = sm;
                Ok(())
            }
            None => Err(StoreError::NotFound(sm.arn)),
        }
    }

    async fn get_state_machine(&self, arn: &str) -> Result<Option<StateMachineRecord>, StoreError> {
        Ok(self.lock().machines.get(arn).cloned())
    }

    async fn list_state_machines(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StateMachineRecord>, StoreError> {
        let g = self.lock();
        Ok(g.machines
            .values()
            .filter(|m| after.is_none_or(|a| m.arn.as_str() > a))
            .take(limit)
            .cloned()
            .collect())
    }

    async fn delete_state_machine(&self, arn: &str) -> Result<(), StoreError> {
        let mut g = self.lock();
        g.machines.remove(arn);
        g.versions.retain(|_, v| v.state_machine_arn != arn);
        g.aliases.retain(|_, a| a.state_machine_arn != arn);
        g.tags.remove(arn);
        Ok(())
    }

    async fn put_version(&self, v: VersionRecord) -> Result<(), StoreError> {
        self.lock().versions.insert(v.arn.clone(), v);
        Ok(())
    }

    async fn get_version(&self, arn: &str) -> Result<Option<VersionRecord>, StoreError> {
        Ok(self.lock().versions.get(arn).cloned())
    }

    async fn list_versions(&self, sm: &str) -> Result<Vec<VersionRecord>, StoreError> {
        let g = self.lock();
        let mut v: Vec<VersionRecord> = g
            .versions
            .values()
            .filter(|v| v.state_machine_arn == sm)
            .cloned()
            .collect();
        v.sort_by_key(|v| std::cmp::Reverse(v.version));
        Ok(v)
    }

    async fn delete_version(&self, arn: &str) -> Result<(), StoreError> {
        self.lock().versions.remove(arn);
        Ok(())
    }

    async fn put_alias(&self, a: AliasRecord) -> Result<(), StoreError> {
        self.lock().aliases.insert(a.arn.clone(), a);
        Ok(())
    }

    async fn get_alias(&self, arn: &str) -> Result<Option<AliasRecord>, StoreError> {
        Ok(self.lock().aliases.get(arn).cloned())
    }

    async fn list_aliases(&self, sm: &str) -> Result<Vec<AliasRecord>, StoreError> {
        let g = self.lock();
        Ok(g.aliases
            .values()
            .filter(|a| a.state_machine_arn == sm)
            .cloned()
            .collect())
    }

    async fn delete_alias(&self, arn: &str) -> Result<(), StoreError> {
        self.lock().aliases.remove(arn);
        Ok(())
    }

    async fn get_tags(&self, resource_arn: &str) -> Result<Vec<(String, String)>, StoreError> {
        Ok(self
            .lock()
            .tags
            .get(resource_arn)
            .cloned()
            .unwrap_or_default())
    }

    async fn set_tags(
        &self,
        resource_arn: &str,
        tags: Vec<(String, String)>,
    ) -> Result<(), StoreError> {
        self.lock().tags.insert(resource_arn.to_string(), tags);
        Ok(())
    }

    async fn create_activity(&self, a: ActivityRecord) -> Result<ActivityRecord, StoreError> {
        let mut g = self.lock();
        Ok(g.activities.entry(a.arn.clone()).or_insert(a).clone())
    }

    async fn get_activity(&self, arn: &str) -> Result<Option<ActivityRecord>, StoreError> {
        Ok(self.lock().activities.get(arn).cloned())
    }

    async fn list_activities(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ActivityRecord>, StoreError> {
        let g = self.lock();
        Ok(g.activities
            .values()
            .filter(|a| after.is_none_or(|x| a.arn.as_str() > x))
            .take(limit)
            .cloned()
            .collect())
    }

    async fn delete_activity(&self, arn: &str) -> Result<(), StoreError> {
        let mut g = self.lock();
        g.activities.remove(arn);
        g.tags.remove(arn);
        Ok(())
    }

    async fn create_execution(
        &self,
        rec: ExecutionRecord,
        first: Mutation,
    ) -> Result<(), StoreError> {
        let mut g = self.lock();
        if g.executions.contains_key(&rec.arn) {
            return Err(StoreError::AlreadyExists(rec.arn));
        }
        g.order.push(rec.arn.clone());
        g.executions.insert(rec.arn.clone(), rec);
        apply(&mut g, first)
    }

    async fn commit(&self, m: Mutation) -> Result<(), StoreError> {
        apply(&mut self.lock(), m)
    }

    async fn get_execution(&self, arn: &str) -> Result<Option<ExecutionRecord>, StoreError> {
        Ok(self.lock().executions.get(arn).cloned())
    }

    async fn get_snapshot(&self, arn: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock().snapshots.get(arn).cloned())
    }

    async fn list_executions(
        &self,
        f: &ExecutionFilter,
    ) -> Result<Vec<ExecutionRecord>, StoreError> {
        let g = self.lock();
        let mut out = Vec::new();
        let mut skipping = f.after.is_some();
        for arn in g.order.iter().rev() {
            let Some(e) = g.executions.get(arn) else {
                continue;
            };
            if skipping {
                if let Some((_, after_arn)) = &f.after
                    && after_arn == arn
                {
                    skipping = false;
                }
                continue;
            }
            if f.state_machine_arn
                .as_ref()
                .is_some_and(|s| *s != e.state_machine_arn)
                || f.status.as_ref().is_some_and(|s| *s != e.status)
                || f.parent_arn
                    .as_ref()
                    .is_some_and(|p| Some(p) != e.parent_arn.as_ref())
                || f.map_run_arn
                    .as_ref()
                    .is_some_and(|m| Some(m) != e.map_run_arn.as_ref())
                || f.version_or_alias_arn.as_ref().is_some_and(|v| {
                    // A version lists executions started through it directly, not via an alias.
                    let by_version = Some(v) == e.version_arn.as_ref() && e.alias_arn.is_none();
                    !by_version && Some(v) != e.alias_arn.as_ref()
                })
            {
                continue;
            }
            out.push(e.clone());
            if out.len() >= f.limit {
                break;
            }
        }
        Ok(out)
    }

    async fn history(
        &self,
        arn: &str,
        from_id: u64,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let g = self.lock();
        let Some(events) = g.history.get(arn) else {
            return Ok(Vec::new());
        };
        Ok(if reverse {
            events
                .iter()
                .rev()
                .filter(|e| e.id <= from_id)
                .take(limit)
                .cloned()
                .collect()
        } else {
            events
                .iter()
                .filter(|e| e.id >= from_id)
                .take(limit)
                .cloned()
                .collect()
        })
    }

    async fn running_executions(&self) -> Result<Vec<String>, StoreError> {
        let g = self.lock();
        Ok(g.order
            .iter()
            .filter(|a| g.executions.get(*a).is_some_and(|e| e.status == "RUNNING"))
            .cloned()
            .collect())
    }

    async fn all_timers(&self) -> Result<Vec<TimerRecord>, StoreError> {
        let g = self.lock();
        let mut v: Vec<TimerRecord> = g
            .timers
            .values()
            .flat_map(|m| m.values().cloned())
            .collect();
        v.sort_by_key(|t| t.due);
        Ok(v)
    }

    async fn pending_dispatches(&self) -> Result<Vec<DispatchRecord>, StoreError> {
        let g = self.lock();
        Ok(g.dispatches
            .values()
            .flat_map(|m| m.values().cloned())
            .collect())
    }

    async fn purge_closed(&self, before: i64, limit: usize) -> Result<u64, StoreError> {
        let mut g = self.lock();
        let victims: Vec<String> = g
            .executions
            .values()
            .filter(|e| e.status != "RUNNING" && e.stop_date.is_some_and(|s| s < before))
            .map(|e| e.arn.clone())
            .take(limit)
            .collect();
        for arn in &victims {
            g.executions.remove(arn);
            g.history.remove(arn);
            g.snapshots.remove(arn);
            g.timers.remove(arn);
            g.dispatches.remove(arn);
        }
        g.order.retain(|a| !victims.contains(a));
        Ok(victims.len() as u64)
    }
}
