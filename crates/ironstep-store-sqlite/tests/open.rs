//! Opening: migrations, the directory lock, and files the store must refuse to use.

mod common;

use std::io::Write;

use common::{RoMount, arn, exec, step};
use ironstep_store::{Store, StoreError};
use ironstep_store_sqlite::{DB_FILE, OpenError, SCHEMA_VERSION, SqliteOptions, SqliteStore};

fn open(dir: &std::path::Path) -> Result<SqliteStore, OpenError> {
    SqliteStore::open(dir, SqliteOptions::default())
}

#[tokio::test]
async fn open_close_reopen_keeps_data_and_migrates_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("nested").join("data");
    let store = open(&dir).unwrap();
    assert!(dir.join(DB_FILE).exists(), "directory and database created");
    store
        .create_execution(exec(&arn(1)), step(&arn(1), 1, 3, 10))
        .await
        .unwrap();
    store.close().await.unwrap();
    drop(store);

    let store = open(&dir).unwrap();
    let rec = store.get_execution(&arn(1)).await.unwrap().unwrap();
    assert_eq!(rec.event_count, 3);
    store.close().await.unwrap();
    drop(store);

    let conn = rusqlite::Connection::open(dir.join(DB_FILE)).unwrap();
    let versions: Vec<u32> = conn
        .prepare("SELECT version FROM ironstep_schema ORDER BY version")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        versions,
        (1..=SCHEMA_VERSION).collect::<Vec<_>>(),
        "each migration recorded once"
    );
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn a_database_from_a_newer_ironstep_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    open(dir.path()).unwrap().close().await.unwrap();
    let db = dir.path().join(DB_FILE);
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute(
            "INSERT INTO ironstep_schema (version, name, applied_at) VALUES (?1, 'from the future', 0)",
            [SCHEMA_VERSION + 1],
        )
        .unwrap();
    }
    let err = open(dir.path()).unwrap_err();
    assert!(
        matches!(err, OpenError::SchemaTooNew { found, supported } if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION)
    );
    assert_eq!(
        err.to_string(),
        format!(
            "database schema version {} is newer than this ironstep ({SCHEMA_VERSION}); upgrade ironstep",
            SCHEMA_VERSION + 1
        )
    );
    // The refusal left the lock free and the newer row in place.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let max: u32 = conn
        .query_row("SELECT MAX(version) FROM ironstep_schema", [], |r| r.get(0))
        .unwrap();
    assert_eq!(max, SCHEMA_VERSION + 1);
    conn.execute(
        "DELETE FROM ironstep_schema WHERE version > ?1",
        [SCHEMA_VERSION],
    )
    .unwrap();
    drop(conn);
    open(dir.path()).unwrap();
}

#[tokio::test]
async fn a_second_open_of_the_same_directory_fails_until_the_first_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let first = open(dir.path()).unwrap();
    let err = open(dir.path()).unwrap_err();
    assert!(
        matches!(err, OpenError::Locked { holder: Some(pid), .. } if pid == std::process::id()),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("in use by another ironstep"), "{msg}");
    assert!(
        msg.contains(&format!("process {}", std::process::id())),
        "{msg}"
    );

    // Dropping without close releases the lock (after the writer has stopped).
    drop(first);
    let second = open(dir.path()).unwrap();
    // close() releases it too, even while the value is still alive.
    second.close().await.unwrap();
    let third = open(dir.path()).unwrap();
    assert!(matches!(
        second.get_execution("x").await,
        Err(StoreError::Closed)
    ));
    assert!(matches!(
        second.commit(step(&arn(1), 1, 1, 1)).await,
        Err(StoreError::Closed)
    ));
    third.close().await.unwrap();
}

#[tokio::test]
async fn garbage_in_the_database_file_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(DB_FILE);
    let garbage: Vec<u8> = (0..64 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::File::create(&db)
        .unwrap()
        .write_all(&garbage)
        .unwrap();
    let err = open(dir.path()).unwrap_err();
    assert!(matches!(err, OpenError::Corrupt { .. }), "{err:?}");
    assert!(
        err.to_string().contains("not a usable ironstep database"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&db).unwrap(),
        garbage,
        "the file was not modified"
    );
    // The failed open released the lock: a second try reports the damage again, not a lock.
    assert!(matches!(
        open(dir.path()).unwrap_err(),
        OpenError::Corrupt { .. }
    ));
}

#[tokio::test]
async fn a_damaged_page_is_found_by_verify_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    for i in 0..50 {
        store
            .create_execution(exec(&arn(i)), step(&arn(i), 1, 20, 200))
            .await
            .unwrap();
    }
    store.close().await.unwrap();
    drop(store);
    let db = dir.path().join(DB_FILE);
    let mut bytes = std::fs::read(&db).unwrap();
    assert!(bytes.len() > 40 * 4096);
    // Scribble over the middle pages (the header stays valid).
    for b in &mut bytes[8 * 4096..30 * 4096] {
        *b = 0xA5;
    }
    std::fs::write(&db, &bytes).unwrap();
    let err = SqliteStore::open(
        dir.path(),
        SqliteOptions {
            verify_on_open: true,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(matches!(err, OpenError::Corrupt { .. }), "{err:?}");

    // Without the check the damage surfaces on use, as a Backend error, never as wrong data.
    let Ok(store) = open(dir.path()) else { return };
    let mut failures = 0;
    for i in 0..50 {
        match store.history(&arn(i), 1, false, 100).await {
            Ok(h) => assert!(h.is_empty() || h.len() == 20, "partial history for {i}"),
            Err(StoreError::Backend(msg)) => {
                assert!(msg.contains("corrupt"), "{msg}");
                failures += 1;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    assert!(failures > 0, "the damaged pages were read");
}

#[tokio::test]
async fn a_read_only_directory_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    open(&dir).unwrap().close().await.unwrap();
    let before = std::fs::read(dir.join(DB_FILE)).unwrap();
    // As root, permissions do not stop writes: a read-only bind mount does. Without the
    // privilege to mount, permissions do (we are then not root).
    let _mount = RoMount::new(&dir);
    if _mount.is_none() {
        make_read_only(&dir);
        if std::fs::write(dir.join("probe"), b"x").is_ok() {
            eprintln!("skipped: cannot make a directory read-only here (root without mount)");
            return;
        }
    }
    let err = open(&dir).unwrap_err();
    assert!(matches!(err, OpenError::ReadOnly { .. }), "{err:?}");
    assert!(err.to_string().contains("is read-only"), "{err}");
    drop(_mount);
    restore_writable(&dir);
    assert_eq!(std::fs::read(dir.join(DB_FILE)).unwrap(), before);
}

#[tokio::test]
async fn a_read_only_database_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    store
        .create_execution(exec(&arn(1)), step(&arn(1), 1, 3, 10))
        .await
        .unwrap();
    store.close().await.unwrap();
    drop(store);
    let db = dir.path().join(DB_FILE);
    // The directory stays writable (the lock file is fine); only the database file is not.
    let _mount = RoMount::new(&db);
    if _mount.is_none() {
        make_read_only(&db);
        if std::fs::OpenOptions::new().append(true).open(&db).is_ok() {
            eprintln!("skipped: cannot make a file read-only here (root without mount)");
            return;
        }
    }
    let err = open(dir.path()).unwrap_err();
    assert!(matches!(err, OpenError::ReadOnly { .. }), "{err:?}");
    drop(_mount);
    restore_writable(&db);
    let store = open(dir.path()).unwrap();
    assert_eq!(
        store
            .get_execution(&arn(1))
            .await
            .unwrap()
            .unwrap()
            .event_count,
        3
    );
}

fn make_read_only(path: &std::path::Path) {
    let mut p = std::fs::metadata(path).unwrap().permissions();
    p.set_readonly(true);
    std::fs::set_permissions(path, p).unwrap();
}

fn restore_writable(path: &std::path::Path) {
    let mut p = std::fs::metadata(path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    p.set_readonly(false);
    std::fs::set_permissions(path, p).unwrap();
}

#[tokio::test]
async fn a_data_directory_that_is_a_file_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("not-a-dir");
    std::fs::write(&path, b"x").unwrap();
    let err = open(&path).unwrap_err();
    assert!(matches!(err, OpenError::Directory { .. }), "{err:?}");
    assert!(err.to_string().contains("as the data directory"), "{err}");
}
