//! Crash test in a separate process: a writer process commits numbered steps and prints each
//! acknowledged one; we kill it with SIGKILL at random moments, reopen the database, and check
//! that every acknowledged step is there, whole, once.
//!
//! This binary is both sides (`harness = false`): started with `IRONSTEP_CRASH_CHILD=<dir>` it
//! is the writer; otherwise it runs the test. So a plain `cargo test` runs it, with no extra
//! target to build.

mod common;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{arn, exec, step};
use ironstep_store::Store;
use ironstep_store_sqlite::{SqliteOptions, SqliteStore};

const CHILD_ENV: &str = "IRONSTEP_CRASH_CHILD";
const WRITERS: usize = 8;
const EVENTS_PER_STEP: u64 = 3;
const ROUNDS: usize = 6;

fn main() {
    if let Some(dir) = std::env::var_os(CHILD_ENV) {
        child(Path::new(&dir));
        return;
    }
    let start = Instant::now();
    match parent() {
        Ok(summary) => {
            println!("crash: {summary} ({:.1} s)", start.elapsed().as_secs_f64());
            println!("crash: 1 passed, 0 failed");
        }
        Err(msg) => {
            println!("crash: FAILED: {msg}");
            println!("crash: 0 passed, 1 failed");
            std::process::exit(1);
        }
    }
}

/// The writer process: continue every execution from where the store says it is, and print
/// `<writer> <last event id>` after each acknowledged commit. Runs until killed.
fn child(dir: &Path) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let store = match SqliteStore::open(dir, SqliteOptions::default()) {
            Ok(s) => Arc::new(s),
            Err(e) => {
                eprintln!("child: {e}");
                std::process::exit(2);
            }
        };
        println!("ready");
        let mut tasks = Vec::new();
        for w in 0..WRITERS {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let a = arn(w);
                let mut last = match store.get_execution(&a).await {
                    Ok(Some(rec)) => rec.event_count,
                    Ok(None) => {
                        let first = step(&a, 1, EVENTS_PER_STEP, 120);
                        if store.create_execution(exec(&a), first).await.is_err() {
                            std::process::exit(3);
                        }
                        ack(w, EVENTS_PER_STEP);
                        EVENTS_PER_STEP
                    }
                    Err(_) => std::process::exit(3),
                };
                loop {
                    if store
                        .commit(step(&a, last + 1, EVENTS_PER_STEP, 120))
                        .await
                        .is_err()
                    {
                        std::process::exit(3);
                    }
                    last += EVENTS_PER_STEP;
                    ack(w, last);
                }
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
    });
}

fn ack(writer: usize, last: u64) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{writer} {last}");
    let _ = out.flush();
}

fn random(bound: u64) -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(bound);
    h.finish() % bound
}

fn parent() -> Result<String, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let mut acked = [0u64; WRITERS];
    let mut total_acks = 0usize;
    let mut seen_counts = Vec::new();
    for round in 0..ROUNDS {
        let mut child = Command::new(&exe)
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("spawn: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(l) if l == "ready" => {}
            other => {
                let _ = child.kill();
                return Err(format!("round {round}: child did not start: {other:?}"));
            }
        }
        // Kill at a random moment 30..530 ms into the run: mid-batch, mid-fsync, mid-checkpoint.
        std::thread::sleep(Duration::from_millis(30 + random(500)));
        child.kill().map_err(|e| format!("kill: {e}"))?;
        let status = child.wait().map_err(|e| e.to_string())?;
        if status.code().is_some() {
            return Err(format!(
                "round {round}: the child exited on its own ({status})"
            ));
        }
        let _ = reader.join();
        let mut round_acks = 0;
        for line in rx.try_iter() {
            let mut parts = line.split(' ');
            let (Some(w), Some(n)) = (parts.next(), parts.next()) else {
                return Err(format!("bad line {line:?}"));
            };
            let w: usize = w.parse().map_err(|_| format!("bad line {line:?}"))?;
            let n: u64 = n.parse().map_err(|_| format!("bad line {line:?}"))?;
            if w >= WRITERS {
                return Err(format!("bad writer in {line:?}"));
            }
            acked[w] = acked[w].max(n);
            round_acks += 1;
        }
        total_acks += round_acks;
        let counts = rt.block_on(verify(dir.path(), &acked))?;
        seen_counts.push(counts.iter().sum::<u64>());
    }
    if total_acks < ROUNDS {
        return Err(format!(
            "only {total_acks} steps acknowledged in {ROUNDS} rounds"
        ));
    }
    Ok(format!(
        "{ROUNDS} SIGKILLs, {total_acks} acknowledged steps all present; events stored after each round: {seen_counts:?}"
    ))
}

/// Reopen and check every writer's execution; returns the stored event counts.
async fn verify(dir: &Path, acked: &[u64; WRITERS]) -> Result<Vec<u64>, String> {
    let store =
        SqliteStore::open(dir, SqliteOptions::default()).map_err(|e| format!("reopen: {e}"))?;
    let timers = store.all_timers().await.map_err(|e| e.to_string())?;
    let mut counts = Vec::new();
    for (w, &min) in acked.iter().enumerate() {
        let a = arn(w);
        let Some(rec) = store.get_execution(&a).await.map_err(|e| e.to_string())? else {
            if min > 0 {
                return Err(format!("{a}: acknowledged creation lost"));
            }
            counts.push(0);
            continue;
        };
        if rec.event_count < min {
            return Err(format!(
                "{a}: {} events stored, {min} acknowledged",
                rec.event_count
            ));
        }
        if rec.event_count % EVENTS_PER_STEP != 0 {
            return Err(format!(
                "{a}: {} events, a step was half applied",
                rec.event_count
            ));
        }
        let h = store
            .history(&a, 1, false, usize::MAX)
            .await
            .map_err(|e| e.to_string())?;
        let ids: Vec<u64> = h.iter().map(|e| e.id).collect();
        if ids != (1..=rec.event_count).collect::<Vec<_>>() {
            return Err(format!("{a}: events not contiguous or duplicated: {ids:?}"));
        }
        let snap = store.get_snapshot(&a).await.map_err(|e| e.to_string())?;
        if snap.as_deref() != Some(&rec.event_count.to_le_bytes()[..]) {
            return Err(format!(
                "{a}: snapshot {snap:?} is not from step {}",
                rec.event_count
            ));
        }
        let mine: Vec<u64> = timers
            .iter()
            .filter(|t| t.execution_arn == a)
            .map(|t| t.timer_id)
            .collect();
        if mine != [rec.event_count] {
            return Err(format!(
                "{a}: timers {mine:?} do not match step {}",
                rec.event_count
            ));
        }
        counts.push(rec.event_count);
    }
    store.close().await.map_err(|e| e.to_string())?;
    Ok(counts)
}
