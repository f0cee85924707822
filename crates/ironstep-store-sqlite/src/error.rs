//! Errors of opening the store, and how SQLite failures become [`StoreError`]s.

use std::path::PathBuf;

use ironstep_store::StoreError;
use rusqlite::ErrorCode;

/// Why [`crate::SqliteStore::open`] failed. Every variant names what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The data directory could not be created or is not a directory.
    #[error("cannot use {} as the data directory: {source}", path.display())]
    Directory {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Another process (or another store in this process) has the directory open.
    #[error(
        "{} is in use by another ironstep{} (it holds the lock on {}); stop it or choose another data directory",
        dir.display(),
        holder.map(|p| format!(" (process {p})")).unwrap_or_default(),
        lock.display()
    )]
    Locked {
        /// The data directory.
        dir: PathBuf,
        /// The lock file.
        lock: PathBuf,
        /// The process id recorded by the holder, if readable.
        holder: Option<u32>,
    },
    /// The lock file could not be created or locked.
    #[error("cannot lock {}: {source}", path.display())]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The directory or the database file cannot be written.
    #[error("{} is read-only: ironstep needs to write its database there ({detail})", path.display())]
    ReadOnly {
        /// The file or directory.
        path: PathBuf,
        /// What reported it.
        detail: String,
    },
    /// The file is not a SQLite database, or it is damaged.
    #[error("{} is not a usable ironstep database (corrupt or not a database): {detail}", path.display())]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// SQLite's report.
        detail: String,
    },
    /// The disk is full.
    #[error("no space left to open {}: {detail}", path.display())]
    DiskFull {
        /// The database file.
        path: PathBuf,
        /// SQLite's report.
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
        /// SQLite's report.
        detail: String,
    },
    /// Reading or writing the migration history failed.
    #[error("cannot read the schema version: {0}")]
    Schema(String),
    /// Any other SQLite failure while opening.
    #[error("cannot open {}: {detail}", path.display())]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// SQLite's report.
        detail: String,
    },
    /// A store thread could not be started.
    #[error("cannot start a store thread: {0}")]
    Thread(std::io::Error),
}

impl OpenError {
    /// Classify a SQLite failure met while opening `path`.
    pub(crate) fn sqlite(path: &std::path::Path, e: &rusqlite::Error) -> OpenError {
        let path = path.to_path_buf();
        let detail = e.to_string();
        match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
                OpenError::Corrupt { path, detail }
            }
            Some(ErrorCode::ReadOnly) => OpenError::ReadOnly { path, detail },
            Some(ErrorCode::DiskFull) => OpenError::DiskFull { path, detail },
            _ => OpenError::Sqlite { path, detail },
        }
    }
}

/// A SQLite failure as the contract's [`StoreError::Backend`], with a plain-words prefix for the
/// conditions an operator can act on.
pub(crate) fn backend(e: &rusqlite::Error) -> StoreError {
    let what = match e.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => "disk full",
        Some(ErrorCode::ReadOnly) => "database is read-only",
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => "database is corrupt",
        Some(ErrorCode::SystemIoFailure) => "I/O error",
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => "database is busy",
        _ => "sqlite",
    };
    StoreError::Backend(format!("{what}: {e}"))
}

/// Whether `e` is a UNIQUE or PRIMARY KEY violation (the key is taken).
pub(crate) fn is_key_conflict(e: &rusqlite::Error) -> bool {
    const SQLITE_CONSTRAINT_PRIMARYKEY: i32 = 1555;
    const SQLITE_CONSTRAINT_UNIQUE: i32 = 2067;
    matches!(
        e.sqlite_error(),
        Some(f) if f.extended_code == SQLITE_CONSTRAINT_PRIMARYKEY || f.extended_code == SQLITE_CONSTRAINT_UNIQUE
    )
}
