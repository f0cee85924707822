//! Group commit, per-request isolation inside a batch, and what survives a stop.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::{arn, exec, step};
use ironstep_store::{Mutation, Store, StoreError};
use ironstep_store_sqlite::{Checkpoints, DB_FILE, SqliteOptions, SqliteStore};

const EVENTS_PER_STEP: u64 = 4;

/// Check that every execution `0..n` holds at least `acked[i]` events, contiguous from 1, and
/// that its snapshot and timer come from the same commit as its last event.
async fn check_consistent(store: &SqliteStore, acked: &[u64]) {
    let timers = store.all_timers().await.unwrap();
    for (i, &min) in acked.iter().enumerate() {
        let a = arn(i);
        let rec = store
            .get_execution(&a)
            .await
            .unwrap()
            .expect("acknowledged creation lost");
        assert!(
            rec.event_count >= min,
            "{a}: {} events, {min} acknowledged",
            rec.event_count
        );
        let h = store.history(&a, 1, false, usize::MAX).await.unwrap();
        let ids: Vec<u64> = h.iter().map(|e| e.id).collect();
        assert_eq!(
            ids,
            (1..=rec.event_count).collect::<Vec<_>>(),
            "{a}: contiguous, no duplicates"
        );
        let snap = store.get_snapshot(&a).await.unwrap().unwrap();
        assert_eq!(
            snap,
            rec.event_count.to_le_bytes(),
            "{a}: snapshot of the same step"
        );
        let mine: Vec<u64> = timers
            .iter()
            .filter(|t| t.execution_arn == a)
            .map(|t| t.timer_id)
            .collect();
        assert_eq!(mine, [rec.event_count], "{a}: the timer of the same step");
    }
}

/// `writers` tasks, each creating execution `i` and committing `steps` steps; returns the
/// number of events acknowledged per execution.
async fn write_concurrently(store: Arc<SqliteStore>, writers: usize, steps: u64) -> Vec<u64> {
    let acked: Arc<Vec<AtomicU64>> = Arc::new((0..writers).map(|_| AtomicU64::new(0)).collect());
    let mut tasks = Vec::new();
    for i in 0..writers {
        let store = store.clone();
        let acked = acked.clone();
        tasks.push(tokio::spawn(async move {
            let a = arn(i);
            store
                .create_execution(exec(&a), step(&a, 1, EVENTS_PER_STEP, 150))
                .await
                .unwrap();
            acked[i].store(EVENTS_PER_STEP, Ordering::SeqCst);
            for s in 1..steps {
                let first = s * EVENTS_PER_STEP + 1;
                store
                    .commit(step(&a, first, EVENTS_PER_STEP, 150))
                    .await
                    .unwrap();
                acked[i].store(first + EVENTS_PER_STEP - 1, Ordering::SeqCst);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    acked.iter().map(|a| a.load(Ordering::SeqCst)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_steps_survive_a_drop_without_close() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path(), SqliteOptions::default()).unwrap());
    let acked = write_concurrently(store.clone(), 24, 30).await;
    let stats = store.stats();
    assert!(
        stats.commits < stats.requests,
        "concurrent writers share commits: {stats:?}"
    );
    assert_eq!(stats.events, 24 * 30 * EVENTS_PER_STEP);
    // No close: the last handle goes away as in an abrupt shutdown of the runtime.
    drop(Arc::into_inner(store).expect("sole owner"));
    let store = SqliteStore::open(dir.path(), SqliteOptions::default()).unwrap();
    check_consistent(&store, &acked).await;
    for (i, &n) in acked.iter().enumerate() {
        assert_eq!(
            store
                .get_execution(&arn(i))
                .await
                .unwrap()
                .unwrap()
                .event_count,
            n
        );
    }
}

/// The files a crash would leave: with checkpoints off, the database file does not change and
/// the WAL only grows, so copying the database and then the WAL captures one moment of the
/// log (a torn last frame is what a crash leaves too, and recovery ignores it).
fn crash_image(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    std::fs::copy(from.join(DB_FILE), to.join(DB_FILE)).unwrap();
    let wal = format!("{DB_FILE}-wal");
    std::fs::copy(from.join(&wal), to.join(&wal)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_crash_image_taken_mid_run_holds_every_step_acknowledged_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteOptions {
        checkpoints: Checkpoints::Off,
        ..Default::default()
    };
    let store = Arc::new(SqliteStore::open(dir.path(), options).unwrap());
    let writers = 16;
    let acked: Arc<Vec<AtomicU64>> = Arc::new((0..writers).map(|_| AtomicU64::new(0)).collect());
    for i in 0..writers {
        let a = arn(i);
        store
            .create_execution(exec(&a), step(&a, 1, EVENTS_PER_STEP, 150))
            .await
            .unwrap();
        acked[i].store(EVENTS_PER_STEP, Ordering::SeqCst);
    }
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for i in 0..writers {
        let (store, acked, stop) = (store.clone(), acked.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let a = arn(i);
            let mut s = 1;
            while !stop.load(Ordering::SeqCst) {
                let first = s * EVENTS_PER_STEP + 1;
                store
                    .commit(step(&a, first, EVENTS_PER_STEP, 150))
                    .await
                    .unwrap();
                acked[i].store(first + EVENTS_PER_STEP - 1, Ordering::SeqCst);
                s += 1;
            }
        }));
    }
    let mut images = Vec::new();
    for k in 0..3 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let before: Vec<u64> = acked.iter().map(|a| a.load(Ordering::SeqCst)).collect();
        let image = dir.path().join(format!("image{k}"));
        crash_image(dir.path(), &image);
        images.push((image, before));
    }
    stop.store(true, Ordering::SeqCst);
    for t in tasks {
        t.await.unwrap();
    }
    for (image, before) in images {
        let copy = SqliteStore::open(&image, SqliteOptions::default()).unwrap();
        check_consistent(&copy, &before).await;
        copy.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_request_does_not_fail_the_others_in_its_batch() {
    let dir = tempfile::tempdir().unwrap();
    // A long batch window so that everything below lands in one or two transactions.
    let options = SqliteOptions {
        batch_wait: Duration::from_millis(200),
        ..Default::default()
    };
    let store = Arc::new(SqliteStore::open(dir.path(), options).unwrap());
    store
        .create_execution(exec(&arn(0)), step(&arn(0), 1, 2, 10))
        .await
        .unwrap();
    let before = store.stats();

    let mut tasks = Vec::new();
    for i in 1..=12usize {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let a = arn(i);
            match i % 4 {
                // A duplicate of execution 0: AlreadyExists.
                0 => {
                    store
                        .create_execution(exec(&arn(0)), step(&arn(0), 1, 1, 10))
                        .await
                }
                // A step for an execution that does not exist: NotFound.
                1 => store.commit(step("arn:missing", 1, 1, 10)).await,
                // Event ids 1..2 of execution 0 again (a step applied twice): AlreadyExists,
                // and nothing of it (snapshot, timers) may be applied.
                2 => {
                    store
                        .commit(Mutation {
                            snapshot: Some(vec![9, 9, 9]),
                            ..step(&arn(0), 2, 1, 10)
                        })
                        .await
                }
                _ => store.create_execution(exec(&a), step(&a, 1, 3, 10)).await,
            }
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    for (k, r) in results.iter().enumerate() {
        let i = k + 1;
        match i % 4 {
            0 | 2 => assert!(matches!(r, Err(StoreError::AlreadyExists(_))), "{i}: {r:?}"),
            1 => assert!(matches!(r, Err(StoreError::NotFound(_))), "{i}: {r:?}"),
            _ => assert!(r.is_ok(), "{i}: {r:?}"),
        }
    }
    let after = store.stats();
    assert!(
        after.commits - before.commits < after.requests - before.requests,
        "requests shared a transaction: {before:?} -> {after:?}"
    );
    assert_eq!(after.failed_commits, 0);
    // The failed requests left no trace.
    let zero = store.get_execution(&arn(0)).await.unwrap().unwrap();
    assert_eq!(zero.event_count, 2);
    assert_eq!(
        store.get_snapshot(&arn(0)).await.unwrap().unwrap(),
        2u64.to_le_bytes()
    );
    for i in [3usize, 7, 11] {
        assert_eq!(
            store
                .get_execution(&arn(i))
                .await
                .unwrap()
                .unwrap()
                .event_count,
            3
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_runs_in_chunks_and_removes_everything_of_an_execution() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path(), SqliteOptions::default()).unwrap();
    for i in 0..150 {
        let a = arn(i);
        store
            .create_execution(exec(&a), step(&a, 1, 3, 10))
            .await
            .unwrap();
        if i < 140 {
            store
                .commit(Mutation {
                    execution_arn: a.clone(),
                    status: "SUCCEEDED".into(),
                    stop_date: Some(1000 + i as i64),
                    snapshot: None,
                    clear_all: true,
                    ..step(&a, 4, 1, 10)
                })
                .await
                .unwrap();
        }
    }
    let before = store.stats();
    assert_eq!(store.purge_closed(1100, usize::MAX).await.unwrap(), 100);
    let after = store.stats();
    assert!(
        after.requests - before.requests >= 2,
        "100 executions take two chunks"
    );
    assert_eq!(store.purge_closed(i64::MAX, 5).await.unwrap(), 5);
    assert_eq!(store.purge_closed(i64::MAX, 1000).await.unwrap(), 35);
    assert_eq!(store.running_executions().await.unwrap().len(), 10);
    assert!(
        store
            .history(&arn(0), 1, false, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.all_timers().await.unwrap().len(), 10);
    drop(store);
    let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    for table in ["executions", "execution_inputs"] {
        let n: i64 = conn
            .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 10, "{table}");
    }
    let n: i64 = conn
        .query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 30);
}
