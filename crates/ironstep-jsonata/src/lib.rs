//! ironstep-jsonata (skeleton; see the crate table in README.md).
