//! Time as an input: the runtime reads time only through a [`Clock`].

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use async_trait::async_trait;
use tokio::sync::Notify;

/// Epoch milliseconds.
pub type Millis = i64;

/// A source of time that can also wait.
#[async_trait]
pub trait Clock: Send + Sync + 'static {
    /// Now, in epoch milliseconds.
    fn now(&self) -> Millis;
    /// Return once `now() >= due`.
    async fn sleep_until(&self, due: Millis);
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

#[async_trait]
impl Clock for SystemClock {
    fn now(&self) -> Millis {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }

    async fn sleep_until(&self, due: Millis) {
        loop {
            let now = self.now();
            if now >= due {
                return;
            }
            // Sleep in bounded slices so that a wall-clock jump is noticed within a minute.
            let ms = (due - now).clamp(1, 60_000) as u64;
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        }
    }
}

/// A clock that moves only when told to (tests).
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<AtomicI64>,
    moved: Arc<Notify>,
}

impl ManualClock {
    /// A clock set at `start`.
    pub fn new(start: Millis) -> Self {
        ManualClock {
            now: Arc::new(AtomicI64::new(start)),
            moved: Arc::new(Notify::new()),
        }
    }

    /// Move forward by `ms`.
    pub fn advance(&self, ms: i64) {
        self.now.fetch_add(ms, Ordering::SeqCst);
        self.moved.notify_waiters();
    }
}

#[async_trait]
impl Clock for ManualClock {
    fn now(&self) -> Millis {
        self.now.load(Ordering::SeqCst)
    }

    async fn sleep_until(&self, due: Millis) {
        loop {
            let notified = self.moved.notified();
            if self.now() >= due {
                return;
            }
            notified.await;
        }
    }
}
