//! ironstep-core (skeleton; see the crate table in README.md).
