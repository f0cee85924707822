//! Serves the local Lambda API alone, for trying functions with the aws CLI or boto3:
//!
//! ```sh
//! cargo run -p ironstep-functions --example serve -- 127.0.0.1:9000 [data-dir]
//! aws --endpoint-url http://127.0.0.1:9000 lambda list-functions
//! ```

use ironstep_functions::{Functions, FunctionsConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9000".to_owned());
    let mut config = match std::env::args().nth(2) {
        Some(dir) => FunctionsConfig::persistent(dir),
        None => FunctionsConfig::new(),
    };
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    config.endpoint_url = Some(format!("http://{}", listener.local_addr()?));
    let functions = Functions::open(config).await?;
    println!("local Lambda API on http://{}", listener.local_addr()?);
    let shutdown = functions.clone();
    axum::serve(listener, functions.router())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    shutdown.shutdown();
    Ok(())
}
