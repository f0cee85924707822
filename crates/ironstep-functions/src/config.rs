//! [`FunctionsConfig`]: everything [`crate::Functions::open`] needs, resolved once by the caller.

use std::path::PathBuf;
use std::time::Duration;

/// Where function configurations and unpacked code live.
#[derive(Debug, Clone)]
pub enum Storage {
    /// Persistent: `<dir>/functions/<name>/function.json` plus `<dir>/functions/<name>/code-<rev>/`.
    /// Functions survive a restart.
    Directory(PathBuf),
    /// Configurations in memory, code unpacked in a temporary directory removed on drop.
    Temporary,
}

/// Configuration of the local Lambda service.
#[derive(Debug, Clone)]
pub struct FunctionsConfig {
    /// Persistent directory or temporary storage.
    pub storage: Storage,
    /// Region in ARNs and in the workers' `AWS_REGION`.
    pub region: String,
    /// Account id in ARNs.
    pub account_id: String,
    /// ironstep's own API, given to workers as `AWS_ENDPOINT_URL` so that SDKs inside functions
    /// call back into ironstep without an endpoint in code. `None` leaves the variable unset.
    pub endpoint_url: Option<String>,
    /// Concurrent executions per function when the function has no reserved concurrency.
    pub default_concurrency: u32,
    /// Upper bound for a function's reserved concurrency (`PutFunctionConcurrency`).
    pub max_concurrency: u32,
    /// Invocations allowed to wait for a free execution slot, per function. One more is
    /// throttled at once with `TooManyRequestsException`. Real Lambda throttles without queueing;
    /// a short queue suits a local machine, where bursts from a Map state are normal.
    pub max_queued: u32,
    /// How long a queued invocation waits for a slot before it is throttled.
    pub queue_wait: Duration,
    /// Warm workers unused for this long are stopped.
    pub idle_timeout: Duration,
    /// Time a worker may take to initialise (reach `/next`) on top of the function timeout;
    /// Lambda's on-demand init limit is 10 s.
    pub init_timeout: Duration,
    /// Invocation records kept per function for [`crate::Functions::recent_invocations`].
    pub log_records_per_function: usize,
    /// Bytes of log text kept per function, across its records.
    pub log_bytes_per_function: usize,
    /// Where the embedded bootstraps are written. `None`: `<data dir>/runtime` or a temporary dir.
    pub runtime_dir: Option<PathBuf>,
    /// Node.js executable (`nodejs*` runtimes).
    pub node_command: PathBuf,
    /// `node_modules` directory holding the AWS SDK v3 clients offered to Node functions
    /// (`runtimes/node` of this crate after `npm ci`). `None`: no SDK is offered.
    pub node_sdk_dir: Option<PathBuf>,
    /// Python interpreter (`python3.*` runtimes); point it at a virtualenv's python to offer boto3.
    pub python_command: PathBuf,
    /// Extra entries appended to the workers' `PYTHONPATH`.
    pub python_path: Vec<PathBuf>,
    /// Host environment variables passed through to workers (besides Lambda's own set), so that
    /// interpreters found through shims (pyenv, nvm) still start.
    pub passthrough_env: Vec<String>,
    /// Credentials given to workers (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    /// `AWS_SESSION_TOKEN`): SDKs need some to sign requests; ironstep's API must accept them.
    pub worker_credentials: WorkerCredentials,
}

/// Dummy credentials for workers.
#[derive(Debug, Clone)]
pub struct WorkerCredentials {
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: String,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: String,
    /// `AWS_SESSION_TOKEN`.
    pub session_token: String,
}

impl Default for WorkerCredentials {
    fn default() -> Self {
        Self {
            access_key_id: "ASIAIRONSTEPLOCAL000".to_owned(),
            secret_access_key: "ironstep/local/worker/secret/access/key00".to_owned(),
            session_token: "ironstep-local-session-token".to_owned(),
        }
    }
}

impl FunctionsConfig {
    /// Defaults for local use: temporary storage, `us-east-1`, account `123456789012`,
    /// 10 concurrent executions per function (max 1000), a queue of 100 waiting up to 30 s, warm
    /// workers kept 10 minutes, `node` and `python3` from `PATH`, and the Node SDK from this
    /// crate's `runtimes/node/node_modules` when it has been installed.
    pub fn new() -> Self {
        let bundled_sdk =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("runtimes/node/node_modules");
        Self {
            storage: Storage::Temporary,
            region: "us-east-1".to_owned(),
            account_id: "123456789012".to_owned(),
            endpoint_url: None,
            default_concurrency: 10,
            max_concurrency: 1000,
            max_queued: 100,
            queue_wait: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(600),
            init_timeout: Duration::from_secs(10),
            log_records_per_function: 100,
            log_bytes_per_function: 1 << 20,
            runtime_dir: None,
            node_command: PathBuf::from("node"),
            node_sdk_dir: bundled_sdk.is_dir().then_some(bundled_sdk),
            python_command: PathBuf::from("python3"),
            python_path: Vec::new(),
            passthrough_env: [
                "PATH",
                "HOME",
                "USER",
                "PYENV_ROOT",
                "PYENV_VERSION",
                "VIRTUAL_ENV",
                "LD_LIBRARY_PATH",
                "TMPDIR",
                "SSL_CERT_FILE",
                "SSL_CERT_DIR",
                "NODE_EXTRA_CA_CERTS",
            ]
            .into_iter()
            .map(str::to_owned)
            .collect(),
            worker_credentials: WorkerCredentials::default(),
        }
    }

    /// The defaults of [`FunctionsConfig::new`] with persistent storage in `dir`.
    pub fn persistent(dir: impl Into<PathBuf>) -> Self {
        Self {
            storage: Storage::Directory(dir.into()),
            ..Self::new()
        }
    }
}

impl Default for FunctionsConfig {
    fn default() -> Self {
        Self::new()
    }
}
