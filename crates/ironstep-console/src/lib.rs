//! ironstep-console (skeleton; see the crate table in README.md).
