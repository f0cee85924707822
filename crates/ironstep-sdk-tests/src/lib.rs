//! ironstep-sdk-tests: no library code. `tests/sdk.rs` drives ironstep's Step Functions API
//! (the HTTP server of `ironstep-api` over an engine on a SQLite store, as `ironstep serve` runs
//! it) with the AWS SDK for Rust. The SDK takes minutes to build, so it lives in its own crate.
