//! ironstep-functions (skeleton; see the crate table in README.md).
