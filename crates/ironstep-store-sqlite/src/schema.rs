//! Schema migrations: plain SQL files embedded in the binary, applied in order at start-up.
//!
//! Each applied migration is a row of `ironstep_schema` (a table rather than
//! `PRAGMA user_version`, so that the PostgreSQL backend can keep its history the same way).
//! A database that has a migration this binary does not know was written by a newer ironstep:
//! opening it is refused instead of running new code against an unknown schema.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::OpenError;

/// One migration: its number and the SQL that takes the schema from `version - 1` to `version`.
struct Migration {
    version: u32,
    name: &'static str,
    sql: &'static str,
}

/// Every migration, in order. Append only: never edit a released one.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../migrations/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "redrive_date",
        sql: include_str!("../migrations/0002_redrive_date.sql"),
    },
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = match MIGRATIONS.last() {
    Some(m) => m.version,
    None => 0,
};

const CREATE_HISTORY: &str = "CREATE TABLE IF NOT EXISTS ironstep_schema (
    version    INTEGER NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
)";

/// Bring the database up to [`SCHEMA_VERSION`], refusing one written by a newer ironstep.
/// Returns the version found before migrating (0 for a new database).
pub fn migrate(conn: &mut Connection, now_ms: i64) -> Result<u32, OpenError> {
    let sql_err = |e: rusqlite::Error| OpenError::Schema(e.to_string());
    // IMMEDIATE takes the write lock before reading the version, so two processes racing
    // past the lock file (which cannot happen, but costs nothing) could not both migrate.
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(sql_err)?;
    tx.execute_batch(CREATE_HISTORY).map_err(sql_err)?;
    let found: u32 = tx
        .query_row("SELECT MAX(version) FROM ironstep_schema", [], |r| {
            r.get::<_, Option<u32>>(0)
        })
        .optional()
        .map_err(sql_err)?
        .flatten()
        .unwrap_or(0);
    if found > SCHEMA_VERSION {
        return Err(OpenError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > found) {
        tx.execute_batch(m.sql).map_err(|e| OpenError::Migration {
            version: m.version,
            name: m.name,
            detail: e.to_string(),
        })?;
        tx.execute(
            "INSERT INTO ironstep_schema (version, name, applied_at) VALUES (?1, ?2, ?3)",
            params![m.version, m.name, now_ms],
        )
        .map_err(sql_err)?;
    }
    tx.commit().map_err(sql_err)?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_contiguous_from_one() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version as usize, i + 1, "migration {}", m.name);
        }
    }

    #[test]
    fn migrating_twice_is_a_no_op() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut conn, 1).unwrap(), 0);
        assert_eq!(migrate(&mut conn, 2).unwrap(), SCHEMA_VERSION);
        let rows: u32 = conn
            .query_row("SELECT COUNT(*) FROM ironstep_schema", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, SCHEMA_VERSION);
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, 1).unwrap();
        conn.execute(
            "INSERT INTO ironstep_schema (version, name, applied_at) VALUES (?1, 'future', 0)",
            [SCHEMA_VERSION + 7],
        )
        .unwrap();
        let err = migrate(&mut conn, 2).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "database schema version {} is newer than this ironstep ({}); upgrade ironstep",
                SCHEMA_VERSION + 7,
                SCHEMA_VERSION
            )
        );
    }
}
