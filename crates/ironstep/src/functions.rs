//! Opening the local function pool for `serve`.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use ironstep_functions::{Functions, FunctionsConfig};
use ironstep_runtime::Engine;

use crate::cli::{ServeArgs, StoreKind};

/// Where the repository's Node SDK folder is, if this binary was built from a checkout.
fn default_node_sdk() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../ironstep-functions/runtimes/node/node_modules");
    dir.is_dir().then_some(dir)
}

pub async fn open(args: &ServeArgs, engine: &Engine) -> anyhow::Result<Functions> {
    let mut config = match args.store {
        StoreKind::Memory => FunctionsConfig::new(),
        // Absolute: workers run with their code directory as the working directory, so a
        // relative data directory (the default `ironstep-data`) would not find the runtimes.
        // Functions are this node's own files, also when executions live in PostgreSQL.
        StoreKind::Sqlite | StoreKind::Postgres(_) => FunctionsConfig::persistent(
            std::path::absolute(&args.data_dir).unwrap_or_else(|_| args.data_dir.clone()),
        ),
    };
    config.region = args.engine.region.clone();
    config.account_id = args.engine.account.clone();
    let host = if args.listen.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else {
        args.listen.ip().to_string()
    };
    config.endpoint_url = Some(format!("http://{host}:{}", args.listen.port()));
    config.node_command = args.functions.node.clone();
    config.python_command = args.functions.python.clone();
    config.node_sdk_dir = args
        .functions
        .node_sdk_dir
        .clone()
        .map(|d| {
            if d.ends_with("node_modules") {
                d
            } else {
                d.join("node_modules")
            }
        })
        .or_else(default_node_sdk);
    if config.node_sdk_dir.is_none() {
        tracing::warn!(
            "no AWS SDK for Node.js functions (run `npm ci --prefix crates/ironstep-functions/runtimes/node` or pass --node-sdk-dir)"
        );
    }
    let functions = Functions::open(config)
        .await
        .context("opening the local function pool")?;
    engine.set_lambda(Arc::new(crate::lambda::LocalLambda(functions.clone())));
    Ok(functions)
}
