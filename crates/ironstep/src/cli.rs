//! Command-line arguments (what the user typed; resolved into configs by each command).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

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
}

/// Where state is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreKind {
    /// An embedded SQLite database under `--data-dir` (durable; the default).
    Sqlite,
    /// In memory: fast, nothing survives a restart.
    Memory,
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
    /// Where executions are kept.
    #[arg(long, value_enum, env = "IRONSTEP_STORE", default_value = "sqlite")]
    pub store: StoreKind,
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
