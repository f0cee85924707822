//! Opening the store: an unreachable server, a newer schema, several nodes migrating at once,
//! and connections that break under a running store.

use std::time::Duration;

use ironstep_store::{ExecutionRecord, Mutation, Store, StoredEvent};
use ironstep_store_postgres::testing::TestDatabase;
use ironstep_store_postgres::{ConnectError, PgOptions, PgStore, SCHEMA_VERSION};
use tokio_postgres::NoTls;

fn options() -> PgOptions {
    PgOptions {
        pool_size: 2,
        writers: 1,
        connect_timeout: Duration::from_secs(5),
        ..PgOptions::default()
    }
}

fn record(arn: &str) -> ExecutionRecord {
    ExecutionRecord {
        arn: arn.into(),
        state_machine_arn: "arn:sm".into(),
        name: "x".into(),
        status: "RUNNING".into(),
        start_date: 1,
        stop_date: None,
        input: "{}".into(),
        output: None,
        error: None,
        cause: None,
        version_arn: None,
        alias_arn: None,
        definition: "{}".into(),
        role_arn: "r".into(),
        trace_header: None,
        parent_arn: None,
        map_run_arn: None,
        redrive_count: 0,
        event_count: 0,
        redrive_date: None,
    }
}

fn step(arn: &str, id: u64) -> Mutation {
    Mutation {
        execution_arn: arn.into(),
        status: "RUNNING".into(),
        snapshot: Some(vec![1]),
        events: vec![StoredEvent {
            id,
            json: format!("{{\"id\":{id}}}"),
        }],
        ..Default::default()
    }
}

async fn admin(db: &TestDatabase, sql: &str) {
    let (client, conn) = tokio_postgres::connect(&db.url, NoTls).await.unwrap();
    let task = tokio::spawn(conn);
    client.batch_execute(sql).await.unwrap();
    drop(client);
    let _ = task.await;
}

#[tokio::test]
async fn an_unreachable_server_is_a_clear_error_after_retrying() {
    let started = std::time::Instant::now();
    let err = PgStore::connect(
        "postgres://postgres@127.0.0.1:1/nowhere",
        PgOptions {
            connect_timeout: Duration::from_millis(700),
            ..PgOptions::default()
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ConnectError::Unreachable { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.starts_with("cannot reach PostgreSQL at 127.0.0.1:1/nowhere after trying for 0 s"),
        "{msg}"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(700),
        "did not retry"
    );
    let err = PgStore::connect("mysql://x", options()).await.unwrap_err();
    assert!(matches!(err, ConnectError::Url { .. }), "{err:?}");
}

#[tokio::test]
async fn a_newer_schema_is_refused_and_migrating_twice_is_a_no_op() {
    let db = TestDatabase::create().await;
    let s = PgStore::connect(&db.url, options()).await.unwrap();
    s.close().await.unwrap();
    // Several nodes starting together migrate once.
    let (a, b) = tokio::join!(
        PgStore::connect(&db.url, options()),
        PgStore::connect(&db.url, options())
    );
    a.unwrap().close().await.unwrap();
    b.unwrap().close().await.unwrap();
    admin(
        &db,
        &format!(
            "INSERT INTO ironstep_schema (version, name, applied_at) VALUES ({}, 'future', 0)",
            SCHEMA_VERSION + 3
        ),
    )
    .await;
    let err = PgStore::connect(&db.url, options()).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "database schema version {} is newer than this ironstep ({SCHEMA_VERSION}); upgrade ironstep",
            SCHEMA_VERSION + 3
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_connections_are_replaced_without_losing_a_step() {
    let db = TestDatabase::create().await;
    let s = PgStore::connect(&db.url, options()).await.unwrap();
    let arn = "arn:aws:states:us-east-1:123456789012:execution:s:broken";
    s.create_execution(record(arn), step(arn, 1)).await.unwrap();
    // Cut every connection of the store (as a server restart or a network blip would).
    admin(
        &db,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    s.commit(step(arn, 2)).await.expect("the writer reconnects");
    let mut rec = None;
    for _ in 0..3 {
        // A pooled connection that broke fails once, then the pool replaces it.
        if let Ok(r) = s.get_execution(arn).await {
            rec = r;
            break;
        }
    }
    assert_eq!(rec.expect("read").event_count, 2);
    s.close().await.unwrap();
}
