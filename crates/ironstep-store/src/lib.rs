//! ironstep-store (skeleton; see the crate table in README.md).
