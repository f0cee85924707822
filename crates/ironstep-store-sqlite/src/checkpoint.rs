//! The background checkpointer: copies committed WAL frames into the database file on its own
//! connection, so that the writer thread (and the callers waiting for its commit) never pay for
//! it. Measured (benches/throughput.rs, 2026-11): with SQLite's inline auto-checkpoint the
//! writer spent ~16% of its time checkpointing.

use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::Connection;

/// The writer's handle: a wake-up after each commit, and the thread to join on close.
pub(crate) struct Checkpointer {
    wake: SyncSender<()>,
    thread: JoinHandle<()>,
}

impl Checkpointer {
    pub fn start(conn: Connection, gap: Duration) -> std::io::Result<Checkpointer> {
        // Capacity 1: a wake-up already pending covers any number of later commits.
        let (wake, rx) = std::sync::mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("ironstep-sqlite-checkpoint".into())
            .spawn(move || run(conn, rx, gap))?;
        Ok(Checkpointer { wake, thread })
    }

    /// Called by the writer after a commit; never blocks.
    pub fn notify(&self) {
        match self.wake.try_send(()) {
            Ok(()) | Err(TrySendError::Full(())) | Err(TrySendError::Disconnected(())) => {}
        }
    }

    /// Stop the thread (it finishes a checkpoint in progress) and wait for it.
    pub fn stop(self) {
        drop(self.wake);
        let _ = self.thread.join();
    }
}

fn run(conn: Connection, rx: Receiver<()>, gap: Duration) {
    let mut pending = rx.recv().is_ok();
    while pending {
        // PASSIVE copies what it can without waiting for readers or the writer. An error here
        // (a full disk, say) only delays the checkpoint: committed data is safe in the WAL.
        let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        pending = false;
        // At most one checkpoint per `gap`: wake-ups meanwhile are remembered, not acted on.
        let until = Instant::now() + gap;
        loop {
            let now = Instant::now();
            if now >= until {
                break;
            }
            match rx.recv_timeout(until - now) {
                Ok(()) => pending = true,
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
        if !pending {
            pending = rx.recv().is_ok();
        }
    }
}
