//! Schema migrations: SQL files embedded in the binary, applied in order at start-up.
//!
//! As on SQLite, each applied migration is a row of `ironstep_schema`, and a database that has a
//! migration this binary does not know is refused. Several nodes may start at once: the
//! migration runs under a transaction-scoped advisory lock, so one node migrates and the
//! others find the work done.

use tokio_postgres::Client;

use crate::error::ConnectError;

struct Migration {
    version: u32,
    name: &'static str,
    sql: &'static str,
}

/// Every migration, in order. Append only: never edit a released one.
const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "init",
    sql: include_str!("../migrations/0001_init.sql"),
}];

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = match MIGRATIONS.last() {
    Some(m) => m.version,
    None => 0,
};

/// An arbitrary constant naming ironstep's migration lock ("ironstep" in ASCII, truncated).
const MIGRATION_LOCK: i64 = 0x6972_6f6e_7374_6570;

/// Bring the database up to [`SCHEMA_VERSION`], refusing one written by a newer ironstep.
/// Returns the version found before migrating (0 for a new database).
pub(crate) async fn migrate(client: &mut Client, now_ms: i64) -> Result<u32, ConnectError> {
    let err = |e: tokio_postgres::Error| ConnectError::Schema(e.to_string());
    let tx = client.transaction().await.map_err(err)?;
    // PostgreSQL-specific, and the only advisory lock: it serializes nodes starting together.
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(err)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS ironstep_schema (
            version    BIGINT NOT NULL PRIMARY KEY,
            name       TEXT   NOT NULL,
            applied_at BIGINT NOT NULL
        )",
    )
    .await
    .map_err(err)?;
    let found: Option<i64> = tx
        .query_one("SELECT MAX(version) FROM ironstep_schema", &[])
        .await
        .map_err(err)?
        .get(0);
    let found = u32::try_from(found.unwrap_or(0)).unwrap_or(u32::MAX);
    if found > SCHEMA_VERSION {
        return Err(ConnectError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > found) {
        tx.batch_execute(m.sql)
            .await
            .map_err(|e| ConnectError::Migration {
                version: m.version,
                name: m.name,
                detail: e
                    .as_db_error()
                    .map(|d| d.message().to_string())
                    .unwrap_or_else(|| e.to_string()),
            })?;
        tx.execute(
            "INSERT INTO ironstep_schema (version, name, applied_at) VALUES ($1, $2, $3)",
            &[&i64::from(m.version), &m.name, &now_ms],
        )
        .await
        .map_err(err)?;
    }
    tx.commit().await.map_err(err)?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    #[test]
    fn versions_are_contiguous_from_one() {
        for (i, m) in super::MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version as usize, i + 1, "migration {}", m.name);
        }
    }
}
