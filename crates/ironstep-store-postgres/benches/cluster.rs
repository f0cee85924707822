//! Durable throughput of 1, 2 and 3 ironstep nodes on one PostgreSQL database.
//!
//! Each node is a full engine (runtime + its own `PgStore`: pool, writers, listener, node id)
//! in this process. Every node runs `BENCH_CONCURRENCY` loops that start Standard executions
//! of a 10-state Pass chain; each execution is one durable step (23 history events, the
//! execution row, its input) committed through group commit, so transitions per second are
//! ten times executions per second. Reported: transitions/s (total and per node), steps per
//! PostgreSQL commit, and CPU seconds per wall second of this process and of all `postgres`
//! processes on the machine (others' queries included, if any run).
//!
//! `BENCH_SHAPE=waits` runs instead a chain of 5 Pass states each followed by a `Wait` of 0 s:
//! 6 steps per execution, each reloading the execution (it waits on a timer, so it leaves
//! memory and its lease), firing the timer and committing.
//!
//! `cargo bench -p ironstep-store-postgres --bench cluster` (release). Environment:
//! `BENCH_SECS` (default 10), `BENCH_NODES` (default `1,2,3`), `BENCH_CONCURRENCY` (per node,
//! default 64), `BENCH_SHAPE` (`pass` or `waits`), `IRONSTEP_TEST_POSTGRES` (the server; a
//! database is created and dropped).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ironstep_runtime::machines::CreateStateMachine;
use ironstep_runtime::{Engine, EngineConfig, StartRequest, SystemClock};
use ironstep_store::cluster::ClusterTiming;
use ironstep_store_postgres::testing::TestDatabase;
use ironstep_store_postgres::{PgOptions, PgStore};

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Pass, Wait 0 s, Pass, Wait 0 s, ... (`pairs` of each), then a final Pass.
fn wait_chain(pairs: usize) -> String {
    let mut s = serde_json::Map::new();
    for i in 1..=pairs {
        s.insert(
            format!("P{i}"),
            serde_json::json!({"Type": "Pass", "Next": format!("W{i}")}),
        );
        s.insert(
            format!("W{i}"),
            serde_json::json!({"Type": "Wait", "Seconds": 0, "Next": format!("P{}", i + 1)}),
        );
    }
    s.insert(
        format!("P{}", pairs + 1),
        serde_json::json!({"Type": "Pass", "End": true}),
    );
    serde_json::json!({"StartAt": "P1", "States": s}).to_string()
}

fn pass_chain(states: usize) -> String {
    let mut s = serde_json::Map::new();
    for i in 1..=states {
        let mut st =
            serde_json::json!({"Type": "Pass", "Parameters": {"value.$": "$.value", "step": i}});
        if i == states {
            st["End"] = true.into();
        } else {
            st["Next"] = format!("Step{}", i + 1).into();
        }
        s.insert(format!("Step{i}"), st);
    }
    serde_json::json!({"StartAt": "Step1", "States": s}).to_string()
}

/// utime + stime of a process, in seconds.
fn cpu_of(stat: &str) -> Option<f64> {
    // Fields after the command (which is in parentheses and may contain spaces).
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

fn self_cpu() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| cpu_of(&s))
        .unwrap_or(0.0)
}

fn postgres_cpu() -> f64 {
    let mut total = 0.0;
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let p = e.path();
            if std::fs::read_to_string(p.join("comm")).is_ok_and(|c| c.trim() == "postgres")
                && let Some(c) = std::fs::read_to_string(p.join("stat"))
                    .ok()
                    .and_then(|s| cpu_of(&s))
            {
                total += c;
            }
        }
    }
    total
}

async fn node(url: &str, i: usize) -> (Engine, Arc<PgStore>) {
    let store = Arc::new(
        PgStore::connect(
            url,
            PgOptions {
                node_id: Some(format!("bench-{i}")),
                pool_size: env("BENCH_POOL", PgOptions::default().pool_size),
                timing: ClusterTiming::default(),
                ..PgOptions::default()
            },
        )
        .await
        .expect("connect"),
    );
    let engine = Engine::start(
        EngineConfig {
            node_address: format!("bench-{i}"),
            ..EngineConfig::default()
        },
        store.clone(),
        Arc::new(SystemClock),
    )
    .await
    .expect("engine");
    (engine, store)
}

async fn run(nodes: usize, secs: u64, concurrency: usize, waits: bool) {
    let db = TestDatabase::create().await;
    let mut engines = Vec::new();
    for i in 0..nodes {
        engines.push(node(&db.url, i).await);
    }
    let sm = engines[0]
        .0
        .create_state_machine(CreateStateMachine {
            name: "chain".into(),
            definition: if waits { wait_chain(5) } else { pass_chain(10) },
            role_arn: "arn:aws:iam::123456789012:role/bench".into(),
            ..Default::default()
        })
        .await
        .expect("machine")
        .arn;
    // Warm up (connections, prepared statements, compiled definition).
    for (e, _) in &engines {
        e.start_execution(StartRequest {
            state_machine_arn: sm.clone(),
            input: Some("{\"value\":1}".into()),
            ..Default::default()
        })
        .await
        .expect("warm-up");
    }
    let stop = Arc::new(AtomicBool::new(false));
    let before: Vec<u64> = engines
        .iter()
        .map(|(e, _)| e.metrics().transitions.load(Ordering::Relaxed))
        .collect();
    let commits_before: Vec<(u64, u64)> = engines
        .iter()
        .map(|(_, s)| (s.stats().commits, s.stats().requests))
        .collect();
    let (cpu0, pg0, t0) = (self_cpu(), postgres_cpu(), Instant::now());
    let mut tasks = Vec::new();
    for (e, _) in &engines {
        for _ in 0..concurrency {
            let e = e.clone();
            let sm = sm.clone();
            let stop = stop.clone();
            tasks.push(tokio::spawn(async move {
                let mut errors = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    match e
                        .start_execution(StartRequest {
                            state_machine_arn: sm.clone(),
                            input: Some("{\"value\":1}".into()),
                            ..Default::default()
                        })
                        .await
                    {
                        // A multi-step execution runs on after its start: keep the number in
                        // flight bounded by waiting for it.
                        Ok(started) if waits => {
                            if e.wait_for(&started.execution_arn).await.is_err() {
                                errors += 1;
                            }
                        }
                        Ok(_) => {}
                        Err(_) => errors += 1,
                    }
                }
                errors
            }));
        }
    }
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut errors = 0;
    for t in tasks {
        errors += t.await.unwrap_or(0);
    }
    let wall = t0.elapsed().as_secs_f64();
    let (cpu, pg) = (self_cpu() - cpu0, postgres_cpu() - pg0);
    let per_node: Vec<f64> = engines
        .iter()
        .zip(&before)
        .map(|((e, _), b)| (e.metrics().transitions.load(Ordering::Relaxed) - b) as f64 / wall)
        .collect();
    let total: f64 = per_node.iter().sum();
    let (commits, requests) = engines
        .iter()
        .zip(&commits_before)
        .fold((0u64, 0u64), |(c, r), ((_, s), (c0, r0))| {
            (c + s.stats().commits - c0, r + s.stats().requests - r0)
        });
    let per_execution = if waits { 11.0 } else { 10.0 };
    println!(
        "{nodes} node(s) x {concurrency} starters: {total:>8.0} transitions/s ({:.0} executions/s), \
         per node {:?}, {:.1} steps/commit, CPU: ironstep {:.2} cores, postgres {:.2} cores, errors {errors}",
        total / per_execution,
        per_node
            .iter()
            .map(|x| x.round() as u64)
            .collect::<Vec<_>>(),
        requests as f64 / commits.max(1) as f64,
        cpu / wall,
        pg / wall,
    );
    for (e, s) in engines {
        e.shutdown().await;
        drop(s);
    }
    drop(db);
}

fn main() {
    let secs = env("BENCH_SECS", 10u64);
    let concurrency = env("BENCH_CONCURRENCY", 64usize);
    let waits = std::env::var("BENCH_SHAPE").is_ok_and(|v| v == "waits");
    let nodes: Vec<usize> = std::env::var("BENCH_NODES")
        .unwrap_or_else(|_| "1,2,3".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        for n in nodes {
            run(n, secs, concurrency, waits).await;
        }
    });
}
