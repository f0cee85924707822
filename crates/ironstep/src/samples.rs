//! `ironstep samples`: sample projects, like the Step Functions console's. Their files are
//! embedded in the binary (`samples/` at the repository's root), written out when deployed, and
//! deployed through the same code as `ironstep deploy`.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use ironstep_deploy::{Client, DeployOptions};
use serde_json::{Value, json};

use crate::cli::{EngineArgs, FunctionArgs, ServeArgs, StoreKind};
use crate::deploy::deploy_and_print;

/// A sample project.
pub struct Sample {
    /// Its name on the command line.
    pub name: &'static str,
    /// A title.
    pub title: &'static str,
    /// What it shows.
    pub description: &'static str,
    /// Its files, relative to the project directory.
    pub files: &'static [(&'static str, &'static str)],
    /// The stack output naming the state machine `samples run` starts.
    pub main_output: &'static str,
    /// The sample input.
    pub input: &'static str,
}

macro_rules! sample_file {
    ($sample:literal, $path:literal) => {
        (
            $path,
            include_str!(concat!("../../../samples/", $sample, "/", $path)),
        )
    };
}

/// Every sample.
pub const SAMPLES: &[Sample] = &[Sample {
    name: "start-workflow-within-workflow",
    title: "Start a workflow within a workflow",
    description: "A parent state machine starts a child three ways: request-response, .sync, and .waitForTaskToken with a Node.js Lambda callback (SendTaskSuccess).",
    files: &[
        sample_file!("start-workflow-within-workflow", "template.yaml"),
        sample_file!(
            "start-workflow-within-workflow",
            "statemachines/parent.asl.json"
        ),
        sample_file!(
            "start-workflow-within-workflow",
            "statemachines/child.asl.json"
        ),
        sample_file!("start-workflow-within-workflow", "functions/callback.js"),
        sample_file!("start-workflow-within-workflow", "README.md"),
    ],
    main_output: "NestingPatternMainStateMachineArn",
    input: "{}",
}];

#[derive(Debug, Args)]
pub struct SamplesArgs {
    #[command(subcommand)]
    pub command: Option<SamplesCommand>,
}

#[derive(Debug, Subcommand)]
pub enum SamplesCommand {
    /// List the sample projects (the default).
    List,
    /// Write a sample's files and deploy them to a running ironstep.
    Deploy(SampleDeployArgs),
    /// Deploy a sample, start its state machine, wait, and print the result (starts ironstep
    /// in process when none is running).
    Run(Box<SampleRunArgs>),
}

#[derive(Debug, Args)]
pub struct SampleDeployArgs {
    /// The sample's name (see `ironstep samples`).
    pub name: String,
    /// The ironstep server.
    #[arg(long, env = "IRONSTEP_ENDPOINT", default_value = crate::deploy::DEFAULT_ENDPOINT)]
    pub endpoint: String,
    /// Write the project here and run its functions from here (edit and redeploy). Default: a
    /// temporary directory, with function code uploaded as zips.
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SampleRunArgs {
    /// The sample's name (see `ironstep samples`).
    pub name: String,
    /// Use this ironstep server (never start one).
    #[arg(long)]
    pub endpoint: Option<String>,
    /// The execution input (default: the sample's).
    #[arg(long)]
    pub input: Option<String>,
    /// Stop right after printing the result (for CI) instead of serving until Ctrl-C.
    #[arg(long)]
    pub exit: bool,
    /// Where to look for a running ironstep, and where to start one if none answers.
    #[arg(long, default_value = "127.0.0.1:8083")]
    pub listen: SocketAddr,
    /// Data directory of the ironstep started in process.
    #[arg(long, default_value = "ironstep-data")]
    pub data_dir: PathBuf,
    /// Write the project here (see `samples deploy --dir`).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Give up waiting after this many seconds.
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub functions: FunctionArgs,
}

fn find(name: &str) -> anyhow::Result<&'static Sample> {
    SAMPLES.iter().find(|s| s.name == name).ok_or_else(|| {
        let names: Vec<&str> = SAMPLES.iter().map(|s| s.name).collect();
        anyhow::anyhow!("no sample named '{name}' (samples: {})", names.join(", "))
    })
}

pub fn main(args: SamplesArgs) -> anyhow::Result<ExitCode> {
    match args.command.unwrap_or(SamplesCommand::List) {
        SamplesCommand::List => {
            println!("Sample projects:\n");
            for s in SAMPLES {
                println!("  {:<34} {}", s.name, s.title);
                println!("  {:<34} {}\n", "", s.description);
            }
            println!(
                "Run one with `ironstep samples run NAME`; deploy one with `ironstep samples deploy NAME`."
            );
            Ok(ExitCode::SUCCESS)
        }
        SamplesCommand::Deploy(a) => {
            let sample = find(&a.name)?;
            let rt = runtime()?;
            rt.block_on(async {
                let client = Client::new(&a.endpoint)?;
                if !client.is_listening().await {
                    bail!(
                        "no ironstep server answers at {}: start one with `ironstep serve`, or use `ironstep samples run {}`, which starts one",
                        a.endpoint,
                        sample.name
                    );
                }
                deploy_sample(sample, &a.endpoint, a.dir.as_deref()).await?;
                Ok(ExitCode::SUCCESS)
            })
        }
        SamplesCommand::Run(a) => run(*a),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Writes a sample's files into `dir`; files already there and different are kept (they are
/// the user's edits) and named.
fn write_files(sample: &Sample, dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut kept = Vec::new();
    for (rel, text) in sample.files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        match std::fs::read_to_string(&path) {
            Ok(existing) if existing != *text => kept.push((*rel).to_string()),
            Ok(_) => {}
            Err(_) => std::fs::write(&path, text)
                .with_context(|| format!("writing {}", path.display()))?,
        }
    }
    Ok(kept)
}

/// Writes and deploys a sample; returns the state machine ARN to start.
async fn deploy_sample(
    sample: &Sample,
    endpoint: &str,
    dir: Option<&Path>,
) -> anyhow::Result<String> {
    let (project, temporary) = match dir {
        Some(d) => (d.to_path_buf(), false),
        None => (
            std::env::temp_dir().join(format!(
                "ironstep-sample-{}-{}",
                sample.name,
                std::process::id()
            )),
            true,
        ),
    };
    let kept = write_files(sample, &project)?;
    for k in &kept {
        println!("Keeping your edited {}", project.join(k).display());
    }
    let mut options = DeployOptions::new(endpoint);
    options.stack_name = Some(sample.name.to_string());
    // A temporary project is zipped (it is deleted right after); a project directory the user
    // chose runs in place, so that edits to it take effect.
    options.package = temporary;
    let result = deploy_and_print(&project.join("template.yaml"), &options).await;
    if temporary {
        let _ = std::fs::remove_dir_all(&project);
    }
    let (_, report) = result?;
    report
        .output(sample.main_output)
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("the sample's stack has no output {}", sample.main_output))
}

fn run(args: SampleRunArgs) -> anyhow::Result<ExitCode> {
    let sample = find(&args.name)?;
    let input = args
        .input
        .clone()
        .unwrap_or_else(|| sample.input.to_string());
    serde_json::from_str::<Value>(&input).context("--input must be JSON")?;
    let rt = runtime()?;
    rt.block_on(async move {
        let (endpoint, server) = match &args.endpoint {
            Some(e) => {
                let client = Client::new(e)?;
                if !client.is_listening().await {
                    bail!("no ironstep server answers at {e} (start one with `ironstep serve`, or leave out --endpoint to have one started)");
                }
                (e.clone(), None)
            }
            None => {
                let host = if args.listen.ip().is_unspecified() {
                    "127.0.0.1".to_string()
                } else {
                    args.listen.ip().to_string()
                };
                let endpoint = format!("http://{host}:{}", args.listen.port());
                let client = Client::new(&endpoint)?;
                if client.is_listening().await {
                    println!("Using the ironstep already serving at {endpoint}");
                    (endpoint, None)
                } else {
                    let server = start_server(&args, &client).await?;
                    (endpoint, Some(server))
                }
            }
        };
        let outcome = deploy_and_run(sample, &endpoint, &input, &args).await;
        let code = match outcome {
            Ok(code) => code,
            Err(e) => {
                eprintln!("ironstep samples run failed: {e:#}");
                ExitCode::from(1)
            }
        };
        if let Some(InProcess { stop, task }) = server {
            if !args.exit {
                println!(
                    "\nironstep keeps serving on {endpoint} (data in {}); press Ctrl-C to stop.",
                    args.data_dir.display()
                );
                // Ctrl-C or SIGTERM, whichever first.
                crate::serve::shutdown_signal().await;
            }
            let _ = stop.send(());
            match task.await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => eprintln!("ironstep: {e:#}"),
                Err(e) => eprintln!("ironstep: {e}"),
            }
        }
        Ok(code)
    })
}

struct InProcess {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<ExitCode>>,
}

/// Starts `ironstep serve` in this process (the same code) and waits until it accepts
/// connections.
async fn start_server(args: &SampleRunArgs, client: &Client) -> anyhow::Result<InProcess> {
    use tracing_subscriber::EnvFilter;
    // The server's own log would drown the sample's output: warnings only, unless asked.
    let filter = EnvFilter::try_from_env("IRONSTEP_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .try_init();
    println!(
        "Starting ironstep on {} (data in {})",
        client.endpoint(),
        args.data_dir.display()
    );
    let serve_args = ServeArgs {
        listen: args.listen,
        store: StoreKind::Sqlite,
        data_dir: std::path::absolute(&args.data_dir).unwrap_or_else(|_| args.data_dir.clone()),
        retention_days: 90.0,
        failover_seconds: 10.0,
        node_id: None,
        engine: args.engine.clone(),
        functions: args.functions.clone(),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(crate::serve::serve_until(serve_args, async move {
        let _ = stopped.await;
    }));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if task.is_finished() {
            return match task.await {
                Ok(Ok(_)) => bail!("ironstep stopped while starting"),
                Ok(Err(e)) => Err(e.context("starting ironstep")),
                Err(e) => Err(anyhow::anyhow!("starting ironstep: {e}")),
            };
        }
        if client.is_listening().await {
            return Ok(InProcess { stop, task });
        }
        if Instant::now() > deadline {
            bail!(
                "ironstep did not start listening on {} within 60 s",
                client.endpoint()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn sfn(client: &Client, action: &str, body: Value) -> anyhow::Result<Value> {
    client
        .sfn(action, &body)
        .await?
        .map_err(|e| anyhow::anyhow!("{action}: {}: {}", e.code, e.message))
}

/// A child execution seen in the parent's history.
struct Child {
    status: String,
    /// `error: cause` when it did not succeed.
    state: String,
}

async fn deploy_and_run(
    sample: &Sample,
    endpoint: &str,
    input: &str,
    args: &SampleRunArgs,
) -> anyhow::Result<ExitCode> {
    let main_arn = deploy_sample(sample, endpoint, args.dir.as_deref()).await?;
    let client = Client::new(endpoint)?;
    let started = sfn(
        &client,
        "StartExecution",
        json!({"stateMachineArn": main_arn, "input": input}),
    )
    .await?;
    let arn = started
        .get("executionArn")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    println!("\nStarted {arn}\nInput {input}\n");
    let tty = std::io::stdout().is_terminal();
    let deadline = Instant::now() + Duration::from_secs(args.timeout);
    let mut last_id = 0u64;
    let mut children: BTreeMap<String, Child> = BTreeMap::new();
    let status = loop {
        // New history events: progress lines, and children from `states:startExecution` tasks.
        for ev in history(&client, &arn).await? {
            let id = ev.get("id").and_then(Value::as_u64).unwrap_or(0);
            if id <= last_id {
                continue;
            }
            last_id = id;
            if let Some(line) = progress_line(&ev, tty) {
                println!("{line}");
            }
            if let Some(child) = child_arn(&ev)
                && !children.contains_key(&child)
            {
                println!("       child execution {child}");
                children.insert(
                    child,
                    Child {
                        status: "RUNNING".into(),
                        state: String::new(),
                    },
                );
            }
        }
        for (child_arn, child) in children.iter_mut() {
            if child.status != "RUNNING" {
                continue;
            }
            let d = sfn(
                &client,
                "DescribeExecution",
                json!({"executionArn": child_arn}),
            )
            .await?;
            let status = d
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string();
            if status != "RUNNING" {
                println!("       child {} {status}", short(child_arn));
                if status != "SUCCEEDED" {
                    child.state = format!(
                        "{}: {}",
                        d.get("error").and_then(Value::as_str).unwrap_or(""),
                        d.get("cause").and_then(Value::as_str).unwrap_or("")
                    );
                }
                child.status = status;
            }
        }
        let d = sfn(&client, "DescribeExecution", json!({"executionArn": arn})).await?;
        let status = d
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string();
        if status != "RUNNING" {
            break d;
        }
        if let Some((child, c)) = children.iter().find(|(_, c)| c.status == "FAILED") {
            // A failed child never calls back: the parent would wait for its token forever.
            println!(
                "\nThe child {child} failed ({}); stopping the parent.",
                c.state
            );
            sfn(
                &client,
                "StopExecution",
                json!({"executionArn": arn, "error": "ChildFailed", "cause": c.state}),
            )
            .await?;
            println!(
                "Is the runtime available? Node.js functions need the AWS SDK: run scripts/setup (npm ci) or pass --node-sdk-dir."
            );
            continue;
        }
        if Instant::now() > deadline {
            println!(
                "\nStill RUNNING after {} s; look at it in the console.",
                args.timeout
            );
            print_where(endpoint, &arn);
            return Ok(ExitCode::from(1));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let st = status.get("status").and_then(Value::as_str).unwrap_or("?");
    println!("\n{st}");
    match st {
        "SUCCEEDED" => {
            let out = status
                .get("output")
                .and_then(Value::as_str)
                .unwrap_or("null");
            let pretty = serde_json::from_str::<Value>(out)
                .ok()
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .unwrap_or_else(|| out.to_string());
            println!("Output {pretty}");
        }
        _ => {
            println!(
                "Error {}\nCause {}",
                status.get("error").and_then(Value::as_str).unwrap_or(""),
                status.get("cause").and_then(Value::as_str).unwrap_or("")
            );
        }
    }
    if !children.is_empty() {
        // A child that called back may still be running its last steps: give it a moment.
        let settle = Instant::now()
            + Duration::from_secs(30).min(deadline.saturating_duration_since(Instant::now()));
        let mut statuses = Vec::new();
        loop {
            statuses.clear();
            for child in children.keys() {
                let d = sfn(&client, "DescribeExecution", json!({"executionArn": child})).await?;
                let status = d
                    .get("status")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_string();
                statuses.push((child.clone(), status));
            }
            if statuses.iter().all(|(_, s)| s != "RUNNING") || Instant::now() > settle {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        println!("\nChild executions ({}):", children.len());
        for (child, status) in &statuses {
            println!("  {status:<9} {child}");
        }
    }
    print_where(endpoint, &arn);
    Ok(if st == "SUCCEEDED" {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Every event of an execution's history.
async fn history(client: &Client, arn: &str) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({"executionArn": arn, "maxResults": 1000});
        if let Some(t) = &token {
            body["nextToken"] = json!(t);
        }
        let page = sfn(client, "GetExecutionHistory", body).await?;
        if let Some(events) = page.get("events").and_then(Value::as_array) {
            out.extend(events.iter().cloned());
        }
        token = page
            .get("nextToken")
            .and_then(Value::as_str)
            .map(str::to_string);
        if token.is_none() {
            return Ok(out);
        }
    }
}

fn print_where(endpoint: &str, arn: &str) {
    println!("\nLook at it in the console: {endpoint}/  (execution {arn})");
    println!(
        "or with the aws CLI: aws stepfunctions --endpoint-url {endpoint} get-execution-history --execution-arn {arn}"
    );
}

fn short(arn: &str) -> &str {
    arn.rsplit(':').next().unwrap_or(arn)
}

/// The child execution a `states:startExecution` task started, from its submitted or
/// succeeded event.
fn child_arn(ev: &Value) -> Option<String> {
    let t = ev.get("type")?.as_str()?;
    let key = match t {
        "TaskSubmitted" => "taskSubmittedEventDetails",
        "TaskSucceeded" => "taskSucceededEventDetails",
        _ => return None,
    };
    let details = ev.get(key)?;
    if details.get("resourceType")?.as_str()? != "states" {
        return None;
    }
    let output: Value = serde_json::from_str(details.get("output")?.as_str()?).ok()?;
    output
        .get("ExecutionArn")
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn progress_line(ev: &Value, tty: bool) -> Option<String> {
    let t = ev.get("type")?.as_str()?;
    let (mark, color) = if t.ends_with("StateEntered") {
        ("→", "36")
    } else if t.ends_with("StateExited") {
        ("←", "32")
    } else if t.ends_with("Failed") || t.ends_with("TimedOut") || t.ends_with("Aborted") {
        ("✗", "31")
    } else if t.starts_with("Execution") || t.starts_with("Task") {
        ("·", "2")
    } else {
        return None;
    };
    let name = ev
        .as_object()?
        .iter()
        .find(|(k, _)| k.ends_with("EventDetails"))
        .and_then(|(_, d)| d.get("name"))
        .and_then(Value::as_str)
        .map(|n| format!(" {n}"))
        .unwrap_or_default();
    let id = ev.get("id").and_then(Value::as_u64).unwrap_or(0);
    let text = format!("{id:>4} {mark} {t}{name}");
    Some(if tty {
        format!("\x1b[{color}m{text}\x1b[0m")
    } else {
        text
    })
}
