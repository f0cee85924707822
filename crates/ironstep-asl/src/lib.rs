//! ironstep-asl (skeleton; see the crate table in README.md).
