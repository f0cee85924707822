//! Durable write throughput of the SQLite store (fsync on: WAL + `synchronous=FULL`).
//!
//! N concurrent writers each commit steps the size of a 10-state Pass chain: 23 history events
//! of ~200 bytes, an execution update and a 1 KiB snapshot. Two shapes:
//! - `commit`: steps of long-running executions (`Store::commit`);
//! - `start`: each step is a whole new execution that runs to completion in one commit
//!   (`Store::create_execution` with a closing first step), as a Pass chain does.
//!
//! `cargo bench -p ironstep-store-sqlite` (release). Environment: `BENCH_SECS` (default 3),
//! `BENCH_WRITERS` (default `1,8,32,128,256`), `BENCH_MODE` (`commit`, `start` or `both`),
//! `BENCH_MAX_BATCH`, `BENCH_WAIT_US`, `BENCH_DIR` (default: a temp dir).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ironstep_store::{ExecutionRecord, Mutation, Store, StoredEvent};
use ironstep_store_sqlite::{Checkpoints, SqliteOptions, SqliteStore};

const EVENTS_PER_STEP: u64 = 23;
const TRANSITIONS_PER_STEP: u64 = 10;

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn event_json(id: u64) -> String {
    // ~200 bytes, shaped like a PassStateExited event.
    format!(
        "{{\"id\":{id},\"previousEventId\":{},\"timestamp\":\"2026-11-26T10:00:00.000Z\",\
         \"type\":\"PassStateExited\",\"stateExitedEventDetails\":{{\"name\":\"Step{id}\",\
         \"output\":\"{{\\\"value\\\":{id},\\\"pad\\\":\\\"abcdefghijklmnop\\\"}}\",\
         \"outputDetails\":{{\"truncated\":false}}}}}}",
        id.saturating_sub(1)
    )
}

fn record(arn: &str) -> ExecutionRecord {
    ExecutionRecord {
        arn: arn.into(),
        state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:bench".into(),
        name: arn.rsplit(':').next().unwrap_or("x").into(),
        status: "RUNNING".into(),
        start_date: 1,
        stop_date: None,
        input: "{\"value\":1}".into(),
        output: None,
        error: None,
        cause: None,
        version_arn: None,
        alias_arn: None,
        definition: "{\"StartAt\":\"Step1\",\"States\":{}}".into(),
        role_arn: "arn:aws:iam::123456789012:role/bench".into(),
        trace_header: None,
        parent_arn: None,
        map_run_arn: None,
        redrive_count: 0,
        event_count: 0,
        redrive_date: None,
    }
}

fn mutation(arn: &str, first: u64, closing: bool) -> Mutation {
    Mutation {
        execution_arn: arn.into(),
        status: if closing { "SUCCEEDED" } else { "RUNNING" }.into(),
        stop_date: closing.then_some(2),
        output: closing.then(|| "{\"value\":10}".into()),
        snapshot: (!closing).then(|| vec![0x5a; 1024]),
        events: (first..first + EVENTS_PER_STEP)
            .map(|id| StoredEvent {
                id,
                json: event_json(id),
            })
            .collect(),
        clear_all: closing,
        ..Default::default()
    }
}

/// CPU time of the whole process (user + system), from /proc; zero where unavailable.
fn cpu_time() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the ")" that ends the command name: utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<u64> = rest
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    let ticks = f.get(10).copied().unwrap_or(0) + f.get(11).copied().unwrap_or(0);
    // USER_HZ is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

struct Run {
    steps: u64,
    elapsed: Duration,
    latencies: Vec<Duration>,
    /// Process CPU time during the measured window.
    cpu: Duration,
}

async fn run(store: Arc<SqliteStore>, mode: &str, writers: usize, secs: u64, tag: usize) -> Run {
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for w in 0..writers {
        let store = store.clone();
        let stop = stop.clone();
        let mode = mode.to_string();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut steps = 0u64;
            if mode == "commit" {
                let arn =
                    format!("arn:aws:states:us-east-1:123456789012:execution:bench:r{tag}w{w}");
                store
                    .create_execution(record(&arn), mutation(&arn, 1, false))
                    .await
                    .unwrap();
                let mut next = EVENTS_PER_STEP + 1;
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    store.commit(mutation(&arn, next, false)).await.unwrap();
                    lat.push(t.elapsed());
                    next += EVENTS_PER_STEP;
                    steps += 1;
                }
            } else {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let arn = format!(
                        "arn:aws:states:us-east-1:123456789012:execution:bench:r{tag}w{w}n{n}"
                    );
                    let t = Instant::now();
                    store
                        .create_execution(record(&arn), mutation(&arn, 1, true))
                        .await
                        .unwrap();
                    lat.push(t.elapsed());
                    n += 1;
                    steps += 1;
                }
            }
            (steps, lat)
        }));
    }
    // Let every writer get going (the commit shape creates its execution first).
    tokio::time::sleep(Duration::from_millis(200)).await;
    let start = Instant::now();
    let cpu = cpu_time();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let cpu = cpu_time().saturating_sub(cpu);
    stop.store(true, Ordering::Relaxed);
    let mut steps = 0;
    let mut latencies = Vec::new();
    for t in tasks {
        let (s, l) = t.await.unwrap();
        steps += s;
        latencies.extend(l);
    }
    let elapsed = start.elapsed();
    Run {
        steps,
        elapsed,
        latencies,
        cpu,
    }
}

/// Purge every closed execution: how long one purge chunk holds the writer.
async fn purge_all(store: &SqliteStore) -> (u64, Duration, u64) {
    let before = store.stats();
    let t = Instant::now();
    let n = store
        .purge_closed(i64::MAX, usize::MAX)
        .await
        .expect("purge");
    (n, t.elapsed(), store.stats().commits - before.commits)
}

fn main() {
    let secs: u64 = env("BENCH_SECS", 3);
    let writers: Vec<usize> = std::env::var("BENCH_WRITERS")
        .unwrap_or_else(|_| "1,8,32,128,256".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let mode: String = env("BENCH_MODE", "both".to_string());
    let modes: Vec<&str> = match mode.as_str() {
        "both" => vec!["commit", "start"],
        m => vec![if m == "start" { "start" } else { "commit" }],
    };
    let defaults = SqliteOptions::default();
    let options = SqliteOptions {
        max_batch: env("BENCH_MAX_BATCH", defaults.max_batch),
        batch_wait: Duration::from_micros(env("BENCH_WAIT_US", 0)),
        checkpoints: match env("BENCH_CHECKPOINT", "background".to_string()).as_str() {
            "inline" => Checkpoints::Inline(1000),
            "off" => Checkpoints::Off,
            _ => Checkpoints::Background(Duration::from_millis(env("BENCH_CHECKPOINT_MS", 100))),
        },
        cache_kib: env("BENCH_CACHE_KIB", defaults.cache_kib),
        ..defaults
    };
    let tmp = tempfile::tempdir().expect("temp dir");
    let base = std::env::var_os("BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or(tmp.path().to_path_buf());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "durable throughput, WAL + synchronous=FULL, max_batch={} batch_wait={:?} checkpoints={:?} cache={} KiB, {secs}s per run, dir {}",
        options.max_batch,
        options.batch_wait,
        options.checkpoints,
        options.cache_kib,
        base.display()
    );
    println!(
        "{:<7} {:>7} {:>10} {:>12} {:>14} {:>10} {:>10} {:>9} {:>9} {:>12}",
        "shape",
        "writers",
        "steps/s",
        "events/s",
        "transitions/s",
        "ev/commit",
        "req/commit",
        "p50 ms",
        "p99 ms",
        "cpu us/step"
    );
    let mut purges = Vec::new();
    for (k, mode) in modes.iter().enumerate() {
        for (i, &n) in writers.iter().enumerate() {
            let dir = base.join(format!("run-{mode}-{n}-{k}-{i}"));
            let store = Arc::new(SqliteStore::open(&dir, options.clone()).expect("open"));
            let before = store.stats();
            let mut r = rt.block_on(run(store.clone(), mode, n, secs, i));
            let after = store.stats();
            r.latencies.sort();
            let pct = |p: f64| {
                r.latencies
                    .get(
                        ((r.latencies.len() as f64 * p) as usize)
                            .min(r.latencies.len().saturating_sub(1)),
                    )
                    .map(|d| d.as_secs_f64() * 1e3)
                    .unwrap_or(0.0)
            };
            let s = r.elapsed.as_secs_f64();
            let commits = (after.commits - before.commits).max(1) as f64;
            println!(
                "{:<7} {:>7} {:>10.0} {:>12.0} {:>14.0} {:>10.1} {:>10.1} {:>9.2} {:>9.2} {:>12.0}",
                mode,
                n,
                r.steps as f64 / s,
                (r.steps * EVENTS_PER_STEP) as f64 / s,
                (r.steps * TRANSITIONS_PER_STEP) as f64 / s,
                (after.events - before.events) as f64 / commits,
                (after.requests - before.requests) as f64 / commits,
                pct(0.5),
                pct(0.99),
                r.cpu.as_secs_f64() * 1e6 / r.steps.max(1) as f64
            );
            if *mode == "start" {
                purges.push(rt.block_on(purge_all(&store)));
            }
            rt.block_on(store.close()).expect("close");
            drop(store);
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    for (n, elapsed, chunks) in purges {
        println!(
            "purge: {n} closed executions (23 events each) in {:.0} ms, {chunks} writer transactions, {:.2} ms per transaction",
            elapsed.as_secs_f64() * 1e3,
            elapsed.as_secs_f64() * 1e3 / chunks.max(1) as f64
        );
    }
}
