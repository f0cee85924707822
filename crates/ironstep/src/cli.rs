//! Command-line arguments (what the user typed; resolved into configs by each command).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// A Step Functions-compatible workflow engine: serves the AWS Step Functions API and runs
/// Amazon States Language state machines.
#[derive(Debug, Parser)]
#[command(name = "ironstep", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the Step Functions API (point an AWS SDK's endpoint URL at it).
    Serve(ServeArgs),
    /// Run one execution in process, without a server, and print its progress and result.
    Run(RunArgs),
    /// Check state machine definitions and print AWS's diagnostics.
    Validate(ValidateArgs),
    /// Deploy a SAM or CloudFormation template to a running ironstep.
    Deploy(crate::deploy::DeployArgs),
    /// Sample projects: list them, deploy one, or run one end to end.
    Samples(crate::samples::SamplesArgs),
    /// List executions of a running server across state machines (e.g. a parent's children).
    Executions(crate::executions::ExecutionsArgs),
    /// Print a local function's recent invocations and their output (stdout/stderr).
    Logs(crate::logs::LogsArgs),
    /// List the nodes sharing a PostgreSQL store and what each holds.
    Nodes(NodesArgs),
}

/// Where state is kept: `sqlite`, `memory`, or a `postgres://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreKind {
    /// An embedded SQLite database under `--data-dir` (durable; the default).
    Sqlite,
    /// In memory: fast, nothing survives a restart.
    Memory,
    /// A PostgreSQL database several nodes share (`postgres://user@host:port/database`).
    Postgres(String),
}

impl std::str::FromStr for StoreKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sqlite" => Ok(StoreKind::Sqlite),
            "memory" => Ok(StoreKind::Memory),
            url if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(StoreKind::Postgres(url.to_string()))
            }
            other => Err(format!(
                "'{other}' is not a store: use sqlite, memory or a postgres://user@host/database URL"
            )),
        }
    }
}

/// Options shared by commands that run an engine.
#[derive(Debug, Clone, Args)]
pub struct EngineArgs {
    /// Region used in ARNs.
    #[arg(long, env = "AWS_DEFAULT_REGION", default_value = "us-east-1")]
    pub region: String,
    /// Account id used in ARNs.
    #[arg(long, env = "IRONSTEP_ACCOUNT", default_value = "123456789012")]
    pub account: String,
    /// Multiply Wait-state and retry delays by this factor (0 skips waiting; for tests). Never
    /// applied to timeouts.
    #[arg(long, default_value_t = 1.0)]
    pub wait_scale: f64,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (Step Functions Local users expect port 8083).
    #[arg(long, env = "IRONSTEP_LISTEN", default_value = "127.0.0.1:8083")]
    pub listen: SocketAddr,
    /// Where executions are kept: `sqlite` (under --data-dir), `memory`, or a
    /// `postgres://user@host:port/database` URL that several nodes share.
    #[arg(long, env = "IRONSTEP_STORE", default_value = "sqlite")]
    pub store: StoreKind,
    /// With a PostgreSQL store: how quickly the work of a dead node is taken over.
    #[arg(long, env = "IRONSTEP_FAILOVER_SECONDS", default_value_t = 10.0)]
    pub failover_seconds: f64,
    /// With a PostgreSQL store: this node's id (default: host, port and a random suffix).
    #[arg(long, env = "IRONSTEP_NODE_ID")]
    pub node_id: Option<String>,
    /// Directory for durable data.
    #[arg(long, env = "IRONSTEP_DATA_DIR", default_value = "ironstep-data")]
    pub data_dir: PathBuf,
    /// Days closed executions are kept before they are purged (AWS keeps 90).
    #[arg(long, default_value_t = 90.0)]
    pub retention_days: f64,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub functions: FunctionArgs,
}

/// Local Lambda functions.
#[derive(Debug, Clone, Args)]
pub struct FunctionArgs {
    /// The `node_modules` folder with the AWS SDK v3 offered to Node.js functions (Lambda's Node
    /// runtimes ship it). Default: the repository's `crates/ironstep-functions/runtimes/node`.
    #[arg(long, env = "IRONSTEP_NODE_SDK_DIR")]
    pub node_sdk_dir: Option<PathBuf>,
    /// Python interpreter for `python3.*` functions (use a virtualenv's python to offer boto3).
    #[arg(long, env = "IRONSTEP_PYTHON", default_value = "python3")]
    pub python: PathBuf,
    /// Node.js executable for `nodejs*` functions.
    #[arg(long, env = "IRONSTEP_NODE", default_value = "node")]
    pub node: PathBuf,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The definition file (JSON; `-` reads standard input).
    pub definition: PathBuf,
    /// The execution input: JSON text, or `@file`.
    #[arg(long, short, default_value = "{}")]
    pub input: String,
    /// Run as an Express state machine.
    #[arg(long)]
    pub express: bool,
    /// Print the execution history (AWS's GetExecutionHistory JSON) at the end.
    #[arg(long)]
    pub history: bool,
    /// Print nothing but the output (or the error).
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Debug, Args)]
pub struct NodesArgs {
    /// The PostgreSQL store the nodes share (`postgres://...`).
    #[arg(long, env = "IRONSTEP_STORE")]
    pub store: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Definition files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Validate as an Express state machine.
    #[arg(long)]
    pub express: bool,
    /// Print diagnostics as JSON (ValidateStateMachineDefinition's shape).
    #[arg(long)]
    pub json: bool,
}
