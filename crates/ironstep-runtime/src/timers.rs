//! The timer service: every due time of every execution in one ordered set, and one task that
//! sleeps until the earliest. Timers are durable in the store; this is the in-memory index
//! (about a hundred bytes per timer), reloaded at start-up.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, Weak};

use ironstep_core::Input;
use tokio::sync::Notify;

use crate::{Engine, Inner, Millis, lock};

#[derive(Default)]
struct Set {
    by_due: BTreeSet<(Millis, String, u64)>,
    by_key: HashMap<(String, u64), Millis>,
}

#[derive(Default)]
pub(crate) struct Timers {
    set: Mutex<Set>,
    notify: Arc<Notify>,
}

impl Timers {
    pub(crate) fn put(&self, arn: String, id: u64, due: Millis) {
        let mut s = lock(&self.set);
        if let Some(old) = s.by_key.insert((arn.clone(), id), due) {
            s.by_due.remove(&(old, arn.clone(), id));
        }
        let earliest = s.by_due.first().map(|(d, _, _)| *d);
        s.by_due.insert((due, arn, id));
        drop(s);
        if earliest.is_none_or(|e| due < e) {
            self.notify.notify_one();
        }
    }

    pub(crate) fn cancel(&self, arn: &str, id: u64) {
        let mut s = lock(&self.set);
        if let Some(due) = s.by_key.remove(&(arn.to_string(), id)) {
            s.by_due.remove(&(due, arn.to_string(), id));
        }
    }

    fn earliest(&self) -> Option<Millis> {
        lock(&self.set).by_due.first().map(|(d, _, _)| *d)
    }

    fn pop_due(&self, now: Millis) -> Vec<(String, u64)> {
        let mut s = lock(&self.set);
        let mut out = Vec::new();
        while let Some((due, _, _)) = s.by_due.first() {
            if *due > now {
                break;
            }
            let Some((_, arn, id)) = s.by_due.pop_first() else {
                break;
            };
            s.by_key.remove(&(arn.clone(), id));
            out.push((arn, id));
        }
        out
    }

    /// How many timers are pending.
    pub(crate) fn len(&self) -> usize {
        lock(&self.set).by_key.len()
    }
}

/// Spawn the loop that fires due timers. It stops when the engine is dropped or shut down.
pub(crate) fn spawn_loop(weak: Weak<Inner>) {
    tokio::spawn(async move {
        loop {
            let (clock, notify, next) = {
                let Some(inner) = weak.upgrade() else { return };
                if inner
                    .shutting_down
                    .load(std::sync::atomic::Ordering::SeqCst)
                {
                    return;
                }
                (
                    inner.clock.clone(),
                    inner.timers.notify.clone(),
                    inner.timers.earliest(),
                )
            };
            // Wake at least every second so that a dropped engine ends this task.
            let wake = next.unwrap_or(i64::MAX).min(clock.now() + 1000);
            let notified = notify.notified();
            tokio::select! {
                _ = clock.sleep_until(wake) => {}
                _ = notified => {}
            }
            let Some(engine) = Engine::from_weak(&weak) else {
                return;
            };
            let due = engine.inner.timers.pop_due(clock.now());
            for (arn, timer_id) in due {
                let e = engine.clone();
                tokio::spawn(async move {
                    if e.inner.store.cluster().is_some() {
                        crate::cluster::fire_timer(&e, &arn, timer_id).await;
                    } else {
                        e.deliver(&arn, Input::TimerFired { timer_id }).await;
                    }
                });
            }
        }
    });
}

impl Engine {
    /// How many timers are pending (for measurements).
    pub fn pending_timers(&self) -> usize {
        self.inner.timers.len()
    }
}
