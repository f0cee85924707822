//! ironstep-api (skeleton; see the crate table in README.md).
