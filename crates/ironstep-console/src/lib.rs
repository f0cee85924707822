//! ironstep-console: the web console.
#![warn(missing_docs)]

pub mod layout;
pub mod steps;
