//! ironstep-tests (skeleton; see the crate table in README.md).
