//! ironstep-core: the Amazon States Language interpreter, as a pure function.
//!
//! [`Execution::start`] and [`Execution::handle`] take the compiled definition, the time and an
//! [`Entropy`] source, and return a [`Step`]: the history events to append and the [`Command`]s
//! (run a task, start a timer, ...) for the runtime to carry out. Nothing here reads a clock,
//! draws OS randomness, touches a store or awaits: the runtime owns all I/O, which keeps the
//! interpreter deterministic, replayable and testable at full speed (a one-year Wait is one
//! `TimerFired` input away).
//!
//! Must not depend on: tokio, any store, any network or file API.
#![warn(missing_docs)]

mod choice;
pub mod context;
pub mod error;
mod eval;
pub mod event;
mod interp;
pub mod io;
pub mod json;
pub mod token;

pub use context::ExecutionInfo;
pub use error::StateError;
pub use event::{EventKind, HistoryEvent, Millis};
pub use interp::{Execution, HISTORY_LIMIT, MapRunProgress, Options, PAYLOAD_LIMIT, Status};
pub use io::{Command, Input, Outcome, Step, TaskId, TaskRequest, TimerId, TimerKind};
pub use ironstep_query::Entropy;

/// A small deterministic [`Entropy`] for tests and for `ironstep run` when reproducibility is
/// wanted (SplitMix64).
#[derive(Debug, Clone)]
pub struct SeededEntropy(pub u64);

impl Entropy for SeededEntropy {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}
