//! ironstep-console: the web console, served by `ironstep serve` on the API's own port.
//!
//! - [`router`] serves the console at `GET /` and `/console/*` (hand-written HTML, CSS and ES
//!   modules embedded in the binary: no CDN, no build step, works offline) and the JSON the
//!   console needs beyond the AWS API under `/ironstep/api/` ([`server`]).
//! - [`layout`] lays out a state machine's graph (a layered layout with Parallel and Map
//!   states as compound nodes), in Rust, so the browser only draws.
//! - [`steps`] derives per-state step details (visits, iterations, branches, attempts,
//!   children) from an execution's history.
//!
//! Key decision: the browser uses the AWS Step Functions and Lambda APIs for everything they
//! offer (so the console shows the CLI's errors), and these endpoints only for what AWS has no
//! API for. This crate reads the engine; it never changes executions by itself.
#![warn(missing_docs)]

pub mod assets;
pub mod layout;
pub mod server;
pub mod steps;

pub use server::router;
