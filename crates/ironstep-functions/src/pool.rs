//! Per-function admission (concurrency bound plus a short queue) and the warm workers.

use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::error::LambdaApiError;
use crate::worker::Worker;

/// Throttling reason Lambda reports when a function's own concurrency is exhausted.
const REASON_FUNCTION_LIMIT: &str = "ReservedFunctionConcurrentInvocationLimitExceeded";

#[derive(Default)]
struct PoolState {
    active: u32,
    waiting: u32,
    /// Warm workers, most recently used last (reused first: it is the one most likely hot).
    idle: Vec<Worker>,
}

/// Admission and warm workers of one function.
#[derive(Default)]
pub struct Pool {
    state: Mutex<PoolState>,
    freed: Notify,
}

/// An execution slot; dropping it frees the slot.
pub struct Slot {
    pool: Arc<Pool>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut s) = self.pool.state.lock() {
            s.active = s.active.saturating_sub(1);
        }
        self.pool.freed.notify_one();
    }
}

impl Pool {
    /// Takes an execution slot: at once if fewer than `limit` run, else after waiting in a queue
    /// of at most `max_queued` for at most `wait`; otherwise `TooManyRequestsException`.
    pub async fn acquire(
        self: &Arc<Self>,
        limit: u32,
        max_queued: u32,
        wait: Duration,
    ) -> Result<Slot, LambdaApiError> {
        if limit == 0 {
            return Err(LambdaApiError::too_many_requests(REASON_FUNCTION_LIMIT));
        }
        let deadline = tokio::time::Instant::now() + wait;
        let mut queued = false;
        loop {
            // Register interest before looking at the state, so a release in between is not lost.
            let mut notified = pin!(self.freed.notified());
            notified.as_mut().enable();
            {
                let Ok(mut s) = self.state.lock() else {
                    return Err(LambdaApiError::service("pool state poisoned"));
                };
                if s.active < limit {
                    s.active += 1;
                    if queued {
                        s.waiting -= 1;
                    }
                    return Ok(Slot { pool: self.clone() });
                }
                if !queued {
                    if s.waiting >= max_queued {
                        return Err(LambdaApiError::too_many_requests(REASON_FUNCTION_LIMIT));
                    }
                    s.waiting += 1;
                    queued = true;
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                if let Ok(mut s) = self.state.lock() {
                    s.waiting -= 1;
                }
                // Pass on a wake-up we may have consumed without using it.
                self.freed.notify_one();
                return Err(LambdaApiError::too_many_requests(REASON_FUNCTION_LIMIT));
            }
        }
    }

    /// A warm worker of `generation`, if one is idle and alive. Stale ones are dropped (killed).
    pub fn take_idle(&self, generation: u64) -> Option<Worker> {
        let mut stale = Vec::new();
        let found = {
            let mut s = self.state.lock().ok()?;
            loop {
                match s.idle.pop() {
                    None => break None,
                    Some(mut w) => {
                        if w.generation == generation && w.drain_stale_events() {
                            break Some(w);
                        }
                        stale.push(w);
                    }
                }
            }
        };
        drop(stale);
        found
    }

    /// Returns a worker for reuse.
    pub fn put_idle(&self, mut worker: Worker) {
        worker.last_used = Instant::now();
        if let Ok(mut s) = self.state.lock() {
            s.idle.push(worker);
        }
    }

    /// Stops idle workers unused since `before` (all of them with `None`).
    pub fn reap(&self, before: Option<Instant>) {
        let reaped: Vec<Worker> = match self.state.lock() {
            Ok(mut s) => {
                let (old, keep): (Vec<Worker>, Vec<Worker>) = s
                    .idle
                    .drain(..)
                    .partition(|w| before.is_none_or(|t| w.last_used < t));
                s.idle = keep;
                old
            }
            Err(_) => Vec::new(),
        };
        drop(reaped);
    }

    /// Process ids of the idle workers.
    pub fn idle_pids(&self) -> Vec<u32> {
        self.state
            .lock()
            .map(|s| s.idle.iter().filter_map(|w| w.pid).collect())
            .unwrap_or_default()
    }

    /// Invocations running now.
    #[cfg(test)]
    pub fn active(&self) -> u32 {
        self.state.lock().map(|s| s.active).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bounds_concurrency_and_queue() {
        let pool = Arc::new(Pool::default());
        let a = pool.acquire(1, 1, Duration::from_secs(5)).await;
        assert!(a.is_ok());
        // One may queue; the next one is throttled at once.
        let p2 = pool.clone();
        let waiter =
            tokio::spawn(async move { p2.acquire(1, 1, Duration::from_secs(5)).await.is_ok() });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let e = pool.acquire(1, 1, Duration::from_secs(5)).await.err();
        assert_eq!(e.map(|e| e.code), Some("TooManyRequestsException"));
        drop(a);
        assert!(waiter.await.unwrap_or(false));
        assert_eq!(pool.active(), 0);
    }

    #[tokio::test]
    async fn queue_wait_times_out() {
        let pool = Arc::new(Pool::default());
        let _a = pool.acquire(1, 5, Duration::from_secs(5)).await;
        let e = pool.acquire(1, 5, Duration::from_millis(30)).await.err();
        assert_eq!(e.map(|e| e.http_status), Some(429));
        assert_eq!(
            pool.acquire(0, 5, Duration::from_millis(30))
                .await
                .err()
                .map(|e| e.code),
            Some("TooManyRequestsException")
        );
    }
}
