//! Errors of connecting, and how PostgreSQL failures become [`StoreError`]s.

use ironstep_store::StoreError;
use tokio_postgres::error::SqlState;

/// Why [`crate::PgStore::connect`] failed. Every variant says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The URL is not a PostgreSQL connection string.
    #[error("invalid PostgreSQL URL '{url}': {detail}")]
    Url {
        /// The URL with any password hidden.
        url: String,
        /// What is wrong with it.
        detail: String,
    },
    /// The server could not be reached (or refused us) for the whole connect timeout.
    #[error(
        "cannot reach PostgreSQL at {target} after trying for {seconds} s: {detail}; is the server running and is the URL right?"
    )]
    Unreachable {
        /// Host and database.
        target: String,
        /// How long it was tried.
        seconds: u64,
        /// The last error.
        detail: String,
    },
    /// The database was written by a newer ironstep.
    #[error(
        "database schema version {found} is newer than this ironstep ({supported}); upgrade ironstep"
    )]
    SchemaTooNew {
        /// The version recorded in the database.
        found: u32,
        /// The newest version this build knows.
        supported: u32,
    },
    /// A migration failed (nothing of it was applied).
    #[error("schema migration {version} ({name}) failed: {detail}")]
    Migration {
        /// Its number.
        version: u32,
        /// Its name.
        name: &'static str,
        /// PostgreSQL's report.
        detail: String,
    },
    /// Reading or creating the schema history failed.
    #[error("cannot read the schema version: {0}")]
    Schema(String),
}

/// A PostgreSQL error as a backend failure, with the server's message when there is one.
pub(crate) fn backend(e: &tokio_postgres::Error) -> StoreError {
    match e.as_db_error() {
        Some(db) => StoreError::Backend(format!(
            "PostgreSQL: {} ({})",
            db.message(),
            db.code().code()
        )),
        None => StoreError::Backend(format!("PostgreSQL: {e}")),
    }
}

pub(crate) fn pool(e: deadpool_postgres::PoolError) -> StoreError {
    StoreError::Backend(format!("PostgreSQL connection pool: {e}"))
}

/// A unique or primary key violation.
pub(crate) fn is_key_conflict(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&SqlState::UNIQUE_VIOLATION)
}

/// A deadlock victim or a serialization failure: trying again is the remedy.
pub(crate) fn is_transient(e: &tokio_postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_DEADLOCK_DETECTED || *c == SqlState::T_R_SERIALIZATION_FAILURE
    )
}

/// The connection broke (no SQLSTATE: I/O, closed socket), as opposed to a statement error.
pub(crate) fn is_connection(e: &tokio_postgres::Error) -> bool {
    e.is_closed() || e.code().is_none()
}

/// `StoreError` is not `Clone`; a failed batch answers every request in it.
pub(crate) fn clone_error(e: &StoreError) -> StoreError {
    match e {
        StoreError::AlreadyExists(s) => StoreError::AlreadyExists(s.clone()),
        StoreError::NotFound(s) => StoreError::NotFound(s.clone()),
        StoreError::Backend(s) => StoreError::Backend(s.clone()),
        StoreError::Closed => StoreError::Closed,
    }
}

/// A URL for messages: the password replaced.
pub(crate) fn redact(url: &str) -> String {
    // postgres://user:password@host/... -> postgres://user:***@host/...
    if let Some(scheme_end) = url.find("://") {
        let rest = &url[scheme_end + 3..];
        if let Some(at) = rest.find('@') {
            let userinfo = &rest[..at];
            if let Some(colon) = userinfo.find(':') {
                return format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &userinfo[..colon],
                    &rest[at..]
                );
            }
        }
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            super::redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(super::redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}
