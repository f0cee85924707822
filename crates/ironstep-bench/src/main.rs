//! ironstep-bench: measures ironstep on the benchmark workloads (`../shared/bench/workloads` in
//! the project's layout, or `--workloads DIR`), at three levels:
//!
//! - `inproc`: the pure interpreter on one thread (the ceiling);
//! - `engine`: the engine over the memory or SQLite store, as `ironstep serve` runs it minus HTTP;
//! - `http`: a running `ironstep serve`, through keep-alive HTTP connections;
//!
//! and `sleepers`, the resident memory of many executions sleeping in Wait states.
//! Build with `--release`; numbers from debug builds mean nothing.

mod engine;
mod http;
mod inproc;
mod report;
mod workload;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use report::Row;

#[derive(Parser)]
#[command(
    name = "ironstep-bench",
    about = "Benchmarks of ironstep (build with --release)"
)]
struct Cli {
    /// Directory of NAME.asl.json / NAME.input.json / NAME.meta.json workloads.
    #[arg(long, global = true, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/bench/workloads"))]
    workloads: PathBuf,
    /// Only these workloads (repeatable); default all that suit the mode.
    #[arg(long = "only", global = true)]
    only: Vec<String>,
    /// Print JSON lines instead of a table.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The interpreter alone, with and without history events.
    Inproc {
        /// Keep running each workload at least this many seconds.
        #[arg(long, default_value_t = 2.0)]
        seconds: f64,
    },
    /// The engine in process over a store.
    Engine {
        #[arg(long, value_enum, default_value = "memory")]
        store: engine::StoreKind,
        /// Executions per workload (default: the workload's meta).
        #[arg(long)]
        executions: Option<usize>,
        /// Executions in flight (default: the workload's meta).
        #[arg(long)]
        concurrency: Option<usize>,
        /// Run every workload as EXPRESS (StartSyncExecution, no history).
        #[arg(long)]
        express: bool,
    },
    /// A running `ironstep serve` over HTTP.
    Http {
        #[arg(long, default_value = "http://127.0.0.1:8083")]
        endpoint: String,
        #[arg(long, default_value_t = 1000)]
        executions: usize,
        #[arg(long, default_value_t = 8)]
        clients: usize,
        /// Standard workloads: measure acknowledged StartExecution calls instead of running
        /// them as Express through StartSyncExecution.
        #[arg(long)]
        standard: bool,
    },
    /// Warm `lambda:invoke` calls of no-op Node.js and Python functions on a running server.
    Lambda {
        #[arg(long, default_value = "http://127.0.0.1:8083")]
        endpoint: String,
        #[arg(long, default_value_t = 1000)]
        calls: usize,
    },
    /// Many executions sleeping in a one-year Wait state; reports resident memory.
    Sleepers {
        #[arg(long, default_value_t = 100_000)]
        count: usize,
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Measure a running server (with --pid) instead of an engine in this process.
        #[arg(long)]
        endpoint: Option<String>,
        /// The server's process id (with --endpoint).
        #[arg(long)]
        pid: Option<u32>,
        #[arg(long, value_enum, default_value = "sqlite")]
        store: engine::StoreKind,
    },
}

/// Resident set size of a process in KiB, from /proc (Linux).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let all = match cli.command {
        Command::Lambda { .. } | Command::Sleepers { .. } => Vec::new(),
        _ => workload::load(&cli.workloads, &cli.only)?,
    };
    let print = |row: &Row| {
        if cli.json {
            println!("{}", row.json());
        } else {
            println!("{}", row.line());
        }
    };
    if !cli.json && !matches!(cli.command, Command::Sleepers { .. }) {
        println!("{}", Row::header());
    }
    match &cli.command {
        Command::Inproc { seconds } => {
            for w in all
                .iter()
                .filter(|w| !w.is_child_only() && w.meta.children.is_empty())
            {
                for history in [true, false] {
                    // Over AWS's 25,000-event cap a Standard execution fails; such workloads are
                    // meant to run without history.
                    if history && w.meta.transitions_per_execution * 2 > 25_000 {
                        continue;
                    }
                    print(&inproc::run(w, history, Duration::from_secs_f64(*seconds))?);
                }
            }
        }
        Command::Engine {
            store,
            executions,
            concurrency,
            express,
        } => {
            let rt = runtime()?;
            rt.block_on(async {
                let b = engine::Bench::start(*store).await?;
                for w in all.iter().filter(|w| !w.is_child_only()) {
                    let over_cap = w.meta.transitions_per_execution * 2 > 25_000;
                    let express = *express || over_cap || w.meta.machine_type == "EXPRESS";
                    if express && !w.meta.children.is_empty() {
                        // Express parents cannot wait for children (.sync / callbacks).
                        continue;
                    }
                    let row = b
                        .run(
                            &all,
                            w,
                            express,
                            executions.unwrap_or(w.meta.executions),
                            concurrency.unwrap_or(w.meta.concurrency),
                        )
                        .await?;
                    print(&row);
                }
                anyhow::Ok(())
            })?;
        }
        Command::Http {
            endpoint,
            executions,
            clients,
            standard,
        } => {
            let rt = runtime()?;
            rt.block_on(async {
                for w in all.iter().filter(|w| !w.is_child_only()) {
                    let nested = !w.meta.children.is_empty();
                    if !*standard && nested {
                        continue;
                    }
                    let over_cap = w.meta.transitions_per_execution * 2 > 25_000;
                    if *standard && over_cap {
                        continue;
                    }
                    let row =
                        http::run(endpoint, &all, w, !*standard, *executions, *clients).await?;
                    print(&row);
                }
                anyhow::Ok(())
            })?;
        }
        Command::Lambda { endpoint, calls } => {
            let rt = runtime()?;
            for row in rt.block_on(http::lambda(endpoint, *calls))? {
                print(&row);
            }
        }
        Command::Sleepers {
            count,
            concurrency,
            endpoint,
            pid,
            store,
        } => {
            let rt = runtime()?;
            let line = rt.block_on(async {
                match (endpoint, pid) {
                    (Some(e), Some(p)) => http::sleepers(e, *p, *count, *concurrency).await,
                    (None, None) => engine::sleepers(*store, *count, *concurrency).await,
                    _ => anyhow::bail!("--endpoint and --pid go together"),
                }
            })?;
            println!("{line}");
        }
    }
    Ok(())
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
