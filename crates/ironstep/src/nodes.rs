//! Several nodes on one PostgreSQL store: opening it for `serve`, the readiness route, and
//! `ironstep nodes`.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::http::StatusCode;
use axum::routing::get;
use ironstep_runtime::Engine;
use ironstep_store::Store;
use ironstep_store::cluster::ClusterTiming;
use ironstep_store_postgres::{PgOptions, PgStore};

use crate::cli::{NodesArgs, ServeArgs};

/// Connect to PostgreSQL for `serve` (retrying with back-off while it is unreachable).
pub async fn open_postgres(url: &str, args: &ServeArgs) -> anyhow::Result<Arc<dyn Store>> {
    if !(args.failover_seconds.is_finite() && args.failover_seconds >= 0.5) {
        anyhow::bail!(
            "--failover-seconds must be at least 0.5, not {}",
            args.failover_seconds
        );
    }
    let node_id = args.node_id.clone().unwrap_or_else(|| {
        let host = std::fs::read_to_string("/etc/hostname")
            .ok()
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "node".into());
        format!(
            "{host}:{}-{:04x}",
            args.listen.port(),
            rand::random::<u16>()
        )
    });
    let options = PgOptions {
        node_id: Some(node_id.clone()),
        timing: ClusterTiming::for_failover(Duration::from_secs_f64(args.failover_seconds)),
        ..PgOptions::default()
    };
    let store = PgStore::connect(url, options)
        .await
        .context("opening the PostgreSQL store")?;
    tracing::info!(
        node = node_id,
        "PostgreSQL store at {} (failover within {} s)",
        store.target(),
        args.failover_seconds
    );
    Ok(Arc::new(store))
}

/// `GET /ironstep/ready`: 200 while the store answers, 503 (with the reason) when it does not.
pub fn ready_router(engine: Engine) -> axum::Router {
    axum::Router::new().route(
        "/ironstep/ready",
        get(move || {
            let engine = engine.clone();
            async move {
                match engine.store().list_state_machines(None, 1).await {
                    Ok(_) => (StatusCode::OK, "ready".to_string()),
                    Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {e}")),
                }
            }
        }),
    )
}

/// `ironstep nodes`.
pub fn main(args: NodesArgs) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let options = PgOptions {
            pool_size: 1,
            writers: 1,
            node_id: Some("ironstep-nodes".into()),
            connect_timeout: Duration::from_secs(10),
            ..PgOptions::default()
        };
        let store = PgStore::connect(&args.store, options)
            .await
            .context("opening the PostgreSQL store")?;
        let nodes = ironstep_store::cluster::Cluster::nodes(&store)
            .await
            .context("listing nodes")?;
        let _ = store.close().await;
        if args.json {
            let list: Vec<serde_json::Value> = nodes
                .iter()
                .map(|n| {
                    serde_json::json!({
                        "id": n.id,
                        "address": n.address,
                        "status": n.status,
                        "startedAt": n.started_at,
                        "heartbeatAt": n.heartbeat_at,
                        "executions": n.executions,
                        "timers": n.timers,
                        "metrics": serde_json::from_str::<serde_json::Value>(&n.metrics)
                            .unwrap_or(serde_json::Value::Null),
                    })
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&list)?);
            return Ok(ExitCode::SUCCESS);
        }
        println!(
            "{:<28} {:<8} {:<22} {:>10} {:>6} {:>12} {:>10} {:>6}",
            "NODE", "STATUS", "ADDRESS", "EXECUTIONS", "TIMERS", "TRANSITIONS", "STEPS", "LIVE"
        );
        for n in &nodes {
            let m: serde_json::Value =
                serde_json::from_str(&n.metrics).unwrap_or(serde_json::Value::Null);
            let num = |k: &str| m.get(k).and_then(|v| v.as_u64()).unwrap_or(0);
            println!(
                "{:<28} {:<8} {:<22} {:>10} {:>6} {:>12} {:>10} {:>6}",
                n.id,
                n.status,
                n.address,
                n.executions,
                n.timers,
                num("transitions"),
                num("steps"),
                num("live")
            );
        }
        if nodes.is_empty() {
            println!("(no node has joined this store in the last 24 hours)");
        }
        Ok(ExitCode::SUCCESS)
    })
}
