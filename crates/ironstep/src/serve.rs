//! `ironstep serve`.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use ironstep_runtime::{Engine, EngineConfig, Partition, SystemClock};
use ironstep_store::{MemoryStore, Store};

use crate::cli::{EngineArgs, ServeArgs, StoreKind};

pub fn engine_config(a: &EngineArgs) -> anyhow::Result<EngineConfig> {
    if !(a.wait_scale >= 0.0 && a.wait_scale.is_finite()) {
        anyhow::bail!(
            "--wait-scale must be a finite number >= 0, not {}",
            a.wait_scale
        );
    }
    if a.account.len() != 12 || !a.account.bytes().all(|b| b.is_ascii_digit()) {
        anyhow::bail!("--account must be 12 digits, not '{}'", a.account);
    }
    Ok(EngineConfig {
        partition: Partition {
            region: a.region.clone(),
            account: a.account.clone(),
        },
        wait_scale: a.wait_scale,
        ..EngineConfig::default()
    })
}

pub fn main(args: ServeArgs) -> anyhow::Result<ExitCode> {
    init_tracing();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(serve(args))
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("IRONSTEP_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    serve_until(args, shutdown_signal()).await
}

/// Serves until `shutdown` completes (`ironstep samples run` serves in process).
pub async fn serve_until(
    args: ServeArgs,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<ExitCode> {
    let mut config = engine_config(&args.engine)?;
    config.retention_ms = (args.retention_days * 86_400_000.0) as i64;
    config.node_address = args.listen.to_string();
    let store: Arc<dyn Store> = match &args.store {
        StoreKind::Memory => Arc::new(MemoryStore::new()),
        StoreKind::Postgres(url) => crate::nodes::open_postgres(url, &args).await?,
        StoreKind::Sqlite => {
            let store = ironstep_store_sqlite::SqliteStore::open(
                &args.data_dir,
                ironstep_store_sqlite::SqliteOptions::default(),
            )
            .with_context(|| format!("opening the data directory {}", args.data_dir.display()))?;
            tracing::info!("data directory: {}", args.data_dir.display());
            Arc::new(store)
        }
    };
    let engine = Engine::start(config, store, Arc::new(SystemClock))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if args.engine.wait_scale != 1.0 {
        tracing::warn!(
            scale = args.engine.wait_scale,
            "Wait states and retry delays are scaled"
        );
    }
    let functions = crate::functions::open(&args, &engine).await?;
    let app = ironstep_api::router(engine.clone())
        .merge(crate::nodes::ready_router(engine.clone()))
        .merge(functions.router())
        .merge(ironstep_console::router(engine.clone(), functions.clone()));
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    tracing::info!(
        "ironstep serving the Step Functions API on http://{}",
        args.listen
    );
    ironstep_api::server::serve(listener, ironstep_api::guard(app), shutdown)
        .await
        .context("serving")?;
    tracing::info!("shutting down");
    functions.shutdown();
    engine.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
