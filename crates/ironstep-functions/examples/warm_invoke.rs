//! Warm-invoke overhead: invokes a no-op Node.js and Python function repeatedly through
//! `Functions::invoke` and prints p50/p99 latencies.
//!
//! ```sh
//! cargo run --release -p ironstep-functions --example warm_invoke -- [iterations]
//! ```

use std::time::{Duration, Instant};

use bytes::Bytes;
use ironstep_functions::{
    FunctionCode, FunctionDefinition, Functions, FunctionsConfig, InvokeRequest,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let iterations: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let dir = tempfile::tempdir()?;
    std::fs::write(
        dir.path().join("index.js"),
        "exports.handler = async (event) => event;\n",
    )?;
    std::fs::write(
        dir.path().join("app.py"),
        "def handler(event, context):\n    return event\n",
    )?;
    let functions = Functions::open(FunctionsConfig::new()).await?;
    let code = || FunctionCode::Directory(dir.path().to_path_buf());
    functions
        .create_function(FunctionDefinition::new(
            "noop-node",
            "nodejs20.x",
            "index.handler",
            code(),
        ))
        .await?;
    functions
        .create_function(FunctionDefinition::new(
            "noop-python",
            "python3.12",
            "app.handler",
            code(),
        ))
        .await?;
    for name in ["noop-node", "noop-python"] {
        let request = InvokeRequest {
            function: name.into(),
            payload: Bytes::from_static(br#"{"k":1}"#),
            ..Default::default()
        };
        // Cold start and JIT warm-up are not what is measured.
        for _ in 0..100 {
            functions.invoke(request.clone()).await?;
        }
        let mut samples = Vec::with_capacity(iterations);
        let total = Instant::now();
        for _ in 0..iterations {
            let t = Instant::now();
            let r = functions.invoke(request.clone()).await?;
            samples.push(t.elapsed());
            if r.function_error.is_some() {
                return Err(
                    format!("{name} failed: {}", String::from_utf8_lossy(&r.payload)).into(),
                );
            }
        }
        let elapsed = total.elapsed();
        samples.sort();
        let pct = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{name:12} n={iterations} p50={:.3} ms p90={:.3} ms p99={:.3} ms max={:.3} ms ({:.0} invokes/s)",
            ms(pct(0.50)),
            ms(pct(0.90)),
            ms(pct(0.99)),
            ms(pct(1.0)),
            iterations as f64 / elapsed.as_secs_f64()
        );
    }
    functions.shutdown();
    Ok(())
}
