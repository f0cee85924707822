//! ironstep-runtime (skeleton; see the crate table in README.md).
