//! Activities: the control plane (create, describe, list, delete) and the hand-out of activity
//! tasks to long-polling workers, first come first served, never one task to two workers.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use ironstep_core::Input;
use ironstep_store::ActivityRecord;
use tokio::sync::oneshot;

use crate::arn;
use crate::error::{ErrorCode, ServiceError, ServiceResult};
use crate::{Engine, lock};

/// How long GetActivityTask holds a poll open (AWS: 60 s).
pub const POLL_SECONDS: u64 = 60;

/// AWS's limit of concurrent pollers per activity.
const MAX_POLLERS: usize = 1000;

/// A task waiting for a worker.
#[derive(Debug, Clone)]
pub(crate) struct PendingTask {
    pub(crate) execution_arn: String,
    pub(crate) task_id: u64,
    pub(crate) token: String,
    pub(crate) input: String,
}

#[derive(Default)]
struct Queue {
    tasks: VecDeque<PendingTask>,
    pollers: VecDeque<oneshot::Sender<PendingTask>>,
}

#[derive(Default)]
pub(crate) struct Queues {
    map: Mutex<HashMap<String, Queue>>,
}

impl Queues {
    /// Hand a task to the longest-waiting poller, or queue it.
    pub(crate) fn enqueue(&self, activity: &str, mut task: PendingTask) {
        let mut map = lock(&self.map);
        let q = map.entry(activity.to_string()).or_default();
        while let Some(p) = q.pollers.pop_front() {
            match p.send(task) {
                Ok(()) => return,
                Err(t) => task = t, // that poller gave up; try the next
            }
        }
        q.tasks.push_back(task);
    }

    /// Drop queued tasks of an execution (it closed or the task was cancelled).
    pub(crate) fn remove(&self, execution_arn: &str, task_id: Option<u64>) {
        let mut map = lock(&self.map);
        for q in map.values_mut() {
            q.tasks.retain(|t| {
                !(t.execution_arn == execution_arn && task_id.is_none_or(|id| id == t.task_id))
            });
        }
    }

    pub(crate) fn forget_execution(&self, execution_arn: &str) {
        self.remove(execution_arn, None);
    }

    /// Tasks waiting for a worker, per activity (for the console).
    pub(crate) fn pending(&self, activity: &str) -> usize {
        lock(&self.map)
            .get(activity)
            .map(|q| q.tasks.len())
            .unwrap_or(0)
    }
}

impl Engine {
    /// CreateActivity (idempotent by name).
    pub async fn create_activity(
        &self,
        name: &str,
        tags: Vec<(String, String)>,
    ) -> ServiceResult<ActivityRecord> {
        arn::check_name(name)?;
        crate::machines::check_tags(&tags)?;
        let arn = self.inner.config.partition.activity(name);
        let rec = self
            .inner
            .store
            .create_activity(ActivityRecord {
                arn: arn.clone(),
                name: name.to_string(),
                creation_date: self.now(),
                encryption_configuration: None,
            })
            .await?;
        if !tags.is_empty() {
            self.inner.store.set_tags(&arn, tags).await?;
        }
        Ok(rec)
    }

    /// DescribeActivity.
    pub async fn describe_activity(&self, arn: &str) -> ServiceResult<ActivityRecord> {
        arn::activity_arn(arn)?;
        self.inner.store.get_activity(arn).await?.ok_or_else(|| {
            ServiceError::new(
                ErrorCode::ActivityDoesNotExist,
                format!("Activity Does Not Exist: '{arn}'"),
            )
        })
    }

    /// ListActivities page.
    pub async fn list_activities(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> ServiceResult<Vec<ActivityRecord>> {
        Ok(self.inner.store.list_activities(after, limit).await?)
    }

    /// DeleteActivity.
    pub async fn delete_activity(&self, arn: &str) -> ServiceResult<()> {
        arn::activity_arn(arn)?;
        self.inner.store.delete_activity(arn).await?;
        Ok(())
    }

    /// Number of activity tasks waiting for a worker on this node (cluster mode: see
    /// [`Engine::offered_activity_tasks`]).
    pub fn pending_activity_tasks(&self, arn: &str) -> usize {
        self.inner.activities.pending(arn)
    }

    /// Number of activity tasks waiting for a worker, on any node.
    pub async fn offered_activity_tasks(&self, arn: &str) -> ServiceResult<u64> {
        if self.inner.store.cluster().is_some() {
            return crate::cluster::offered_activity_tasks(self, arn).await;
        }
        Ok(self.inner.activities.pending(arn) as u64)
    }

    /// GetActivityTask: wait up to `wait` (AWS: 60 s) for a task; `None` when none came.
    pub async fn get_activity_task(
        &self,
        arn: &str,
        worker_name: Option<String>,
        wait: Duration,
    ) -> ServiceResult<Option<(String, String)>> {
        self.describe_activity(arn).await?;
        if self.inner.store.cluster().is_some() {
            return crate::cluster::get_activity_task(self, arn, worker_name, wait, MAX_POLLERS)
                .await;
        }
        enum Got {
            Task(PendingTask),
            Wait(oneshot::Receiver<PendingTask>),
        }
        let got = {
            let mut map = lock(&self.inner.activities.map);
            let q = map.entry(arn.to_string()).or_default();
            if let Some(t) = q.tasks.pop_front() {
                Got::Task(t)
            } else {
                q.pollers.retain(|p| !p.is_closed());
                if q.pollers.len() >= MAX_POLLERS {
                    return Err(ServiceError::new(
                        ErrorCode::ActivityWorkerLimitExceeded,
                        "The maximum number of workers concurrently polling for activity tasks has been reached.",
                    ));
                }
                let (tx, rx) = oneshot::channel();
                q.pollers.push_back(tx);
                Got::Wait(rx)
            }
        };
        let mut rx = match got {
            Got::Task(t) => return Ok(Some(self.hand_out(t, worker_name).await)),
            Got::Wait(rx) => rx,
        };
        match tokio::time::timeout(wait, &mut rx).await {
            Ok(Ok(t)) => Ok(Some(self.hand_out(t, worker_name).await)),
            _ => {
                // A task may have been sent just as the wait ended: take it rather than lose it.
                rx.close();
                match rx.try_recv() {
                    Ok(t) => Ok(Some(self.hand_out(t, worker_name).await)),
                    Err(_) => Ok(None),
                }
            }
        }
    }

    async fn hand_out(&self, t: PendingTask, worker_name: Option<String>) -> (String, String) {
        self.deliver(
            &t.execution_arn,
            Input::TaskStarted {
                task_id: t.task_id,
                worker_name,
            },
        )
        .await;
        (t.token, t.input)
    }
}
