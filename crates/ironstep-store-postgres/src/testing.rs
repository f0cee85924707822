//! Throw-away databases for tests: each test creates its own database on the server named by
//! `IRONSTEP_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/postgres`) and drops it
//! at the end, so tests running in parallel never see each other's rows.
//!
//! An unreachable server is a test failure, never a skip: PostgreSQL tests that do not run
//! must not pass.

use tokio_postgres::NoTls;

/// The environment variable naming the server tests use.
pub const ENV: &str = "IRONSTEP_TEST_POSTGRES";

/// The default test server.
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database created for one test, dropped (forcibly) when this value is dropped.
#[derive(Debug)]
pub struct TestDatabase {
    /// Connection URL of the new database.
    pub url: String,
    name: String,
    admin: String,
}

fn admin_url() -> String {
    std::env::var(ENV)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_URL.to_string())
}

/// `admin` with its database replaced by `db`.
fn with_database(admin: &str, db: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

async fn admin_exec(admin: &str, sql: &str) -> Result<(), String> {
    let (client, conn) = tokio_postgres::connect(admin, NoTls).await.map_err(|e| {
        format!("cannot connect to the test PostgreSQL server {admin} (set {ENV}): {e}")
    })?;
    let task = tokio::spawn(conn);
    let r = client
        .batch_execute(sql)
        .await
        .map_err(|e| format!("{sql}: {e}"));
    drop(client);
    let _ = task.await;
    r
}

impl TestDatabase {
    /// Create a fresh, empty database. Panics (failing the test) when the server cannot be
    /// reached.
    pub async fn create() -> TestDatabase {
        let admin = admin_url();
        let name = format!(
            "ironstep_test_{}_{:08x}",
            std::process::id(),
            rand::random::<u32>()
        );
        if let Err(e) = admin_exec(&admin, &format!("CREATE DATABASE {name}")).await {
            panic!("PostgreSQL tests cannot run: {e}");
        }
        TestDatabase {
            url: with_database(&admin, &name),
            name,
            admin,
        }
    }

    /// [`TestDatabase::create`] from synchronous code.
    pub fn create_blocking() -> TestDatabase {
        std::thread::spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map(|rt| rt.block_on(TestDatabase::create()))
        })
        .join()
        .unwrap_or_else(|_| panic!("creating a PostgreSQL test database failed"))
        .unwrap_or_else(|e| panic!("no runtime for creating a PostgreSQL test database: {e}"))
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        // Drop from a thread of its own: this may run inside or outside an async runtime.
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                let _ = rt.block_on(admin_exec(&admin, &sql));
            }
        })
        .join();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_database_is_replaced_in_the_url() {
        assert_eq!(
            super::with_database("postgres://u@h:5432/postgres", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            super::with_database("postgres://u@h", "x"),
            "postgres://u@h/x"
        );
        assert_eq!(
            super::with_database("postgres://u@h/p?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }
}
