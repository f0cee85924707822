//! ironstep-store-sqlite (skeleton; see the crate table in README.md).
