//! Evaluation timeouts enforced by one background thread, not by the evaluator reading the clock.
//!
//! jsonata-core's own `timeout_ms` reads the clock at every node it evaluates; measured on this
//! crate's benchmark (2026-11, release build) that is 30–40% of the time of an expression that
//! walks an array. Its cancel token costs one atomic load per node instead, so each scope
//! registers a slot here once, publishes a deadline while an evaluation runs, and a single
//! watchdog thread cancels the token of any slot whose deadline has passed. Timeouts therefore
//! fire up to [`TICK`] late, which is irrelevant for a limit measured in seconds.
//!
//! The clock is read only to enforce the limit; it never influences a result.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use jsonata_core::evaluator::CancelToken;

/// How often the watchdog looks at the running evaluations.
const TICK: Duration = Duration::from_millis(10);

/// One scope's registration: its current cancel token and the deadline of the evaluation it is
/// running (0 when idle), in milliseconds since the watchdog's epoch.
pub(crate) struct Slot {
    token: Mutex<CancelToken>,
    deadline: AtomicU64,
}

struct Registry {
    epoch: Instant,
    slots: Mutex<Vec<Weak<Slot>>>,
}

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        // If the thread cannot be spawned, timeouts are not enforced; depth and sequence limits
        // still hold. There is nothing better to do in a library than carry on.
        let _ = std::thread::Builder::new()
            .name("jsonata-watchdog".to_owned())
            .spawn(watch);
        Registry {
            epoch: Instant::now(),
            slots: Mutex::new(Vec::new()),
        }
    })
}

fn watch() {
    loop {
        std::thread::sleep(TICK);
        let registry = registry();
        let now = registry.epoch.elapsed().as_millis() as u64;
        let mut slots = registry.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.retain(|weak| {
            let Some(slot) = weak.upgrade() else {
                return false;
            };
            let deadline = slot.deadline.load(Ordering::Relaxed);
            if deadline != 0 && now >= deadline {
                slot.token
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .cancel();
            }
            true
        });
    }
}

impl Slot {
    /// A new slot, registered with the watchdog.
    pub(crate) fn register() -> Arc<Slot> {
        let slot = Arc::new(Slot {
            token: Mutex::new(CancelToken::new()),
            deadline: AtomicU64::new(0),
        });
        registry()
            .slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Arc::downgrade(&slot));
        slot
    }

    /// Starts an evaluation that may run for `timeout`; returns the token to give the evaluator.
    pub(crate) fn start(&self, timeout: Duration) -> CancelToken {
        let mut token = self.token.lock().unwrap_or_else(|e| e.into_inner());
        if token.is_cancelled() {
            // The previous evaluation timed out; a cancelled token cannot be reset.
            *token = CancelToken::new();
        }
        let deadline = registry().epoch.elapsed() + timeout;
        self.deadline
            .store((deadline.as_millis() as u64).max(1), Ordering::Relaxed);
        token.clone()
    }

    /// Ends the evaluation: the watchdog leaves the slot alone until the next [`Slot::start`].
    pub(crate) fn finish(&self) {
        self.deadline.store(0, Ordering::Relaxed);
    }
}
