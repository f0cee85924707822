//! Function definitions: what a caller submits ([`FunctionDefinition`], [`ConfigurationUpdate`]),
//! what is stored ([`FunctionRecord`]), what the API answers ([`FunctionConfiguration`]), and the
//! disk layout (`functions/<name>/function.json` plus one `code-<revision>/` directory).

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::LambdaApiError;
use crate::names::{LATEST, Scope};

/// Largest unzipped deployment package Lambda accepts (250 MB).
const MAX_UNZIPPED_BYTES: u64 = 262_144_000;

/// The runtimes of Lambda's API model; ironstep runs `nodejs*`, `python3.*` and `provided*`, and
/// accepts the others at creation (so deployment tools can create whole stacks) but answers
/// `InvalidRuntimeException` when one of them is invoked.
pub const KNOWN_RUNTIMES: &[&str] = &[
    "nodejs",
    "nodejs4.3",
    "nodejs6.10",
    "nodejs8.10",
    "nodejs10.x",
    "nodejs12.x",
    "nodejs14.x",
    "nodejs16.x",
    "java8",
    "java8.al2",
    "java11",
    "python2.7",
    "python3.6",
    "python3.7",
    "python3.8",
    "python3.9",
    "dotnetcore1.0",
    "dotnetcore2.0",
    "dotnetcore2.1",
    "dotnetcore3.1",
    "dotnet6",
    "dotnet8",
    "nodejs4.3-edge",
    "go1.x",
    "ruby2.5",
    "ruby2.7",
    "provided",
    "provided.al2",
    "nodejs18.x",
    "python3.10",
    "java17",
    "ruby3.2",
    "ruby3.3",
    "ruby3.4",
    "python3.11",
    "nodejs20.x",
    "provided.al2023",
    "python3.12",
    "java21",
    "python3.13",
    "nodejs22.x",
    "nodejs24.x",
    "python3.14",
    "java25",
    "dotnet10",
    "ruby4.0",
];

/// Environment variables Lambda reserves: a function may not set them.
pub const RESERVED_ENV: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

/// A function's code as submitted.
#[derive(Debug, Clone)]
pub enum FunctionCode {
    /// A zip deployment package (the API's decoded `ZipFile`).
    Zip(Vec<u8>),
    /// A local directory run in place and re-read at every cold start (LocalStack's
    /// `S3Bucket: "hot-reload"`, `S3Key: "/abs/path"` convention).
    Directory(PathBuf),
}

/// Everything `CreateFunction` takes that ironstep uses or stores.
#[derive(Debug, Clone)]
pub struct FunctionDefinition {
    /// Name, or ARN, of the new function.
    pub name: String,
    /// e.g. `nodejs20.x`, `python3.12`, `provided.al2023`.
    pub runtime: String,
    /// `file.export` (Node), `module.function` (Python); unused by `provided*`.
    pub handler: Option<String>,
    /// Execution role: stored, never assumed.
    pub role: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Seconds, 1..=900; default 3.
    pub timeout: Option<u32>,
    /// MB, 128..=10240; default 128 (reported to the function, not enforced).
    pub memory_size: Option<u32>,
    /// The function's own environment variables.
    pub environment: BTreeMap<String, String>,
    /// `x86_64` or `arm64`; stored only.
    pub architectures: Option<Vec<String>>,
    /// Tags, returned by `GetFunction`.
    pub tags: BTreeMap<String, String>,
    /// `/tmp` size in MB; stored only.
    pub ephemeral_storage: Option<u32>,
    /// X-Ray mode; stored only.
    pub tracing_mode: Option<String>,
    /// The code.
    pub code: FunctionCode,
}

impl FunctionDefinition {
    /// A definition with Lambda's defaults for everything but name, runtime, handler and code.
    pub fn new(
        name: impl Into<String>,
        runtime: impl Into<String>,
        handler: impl Into<String>,
        code: FunctionCode,
    ) -> Self {
        Self {
            name: name.into(),
            runtime: runtime.into(),
            handler: Some(handler.into()),
            role: None,
            description: None,
            timeout: None,
            memory_size: None,
            environment: BTreeMap::new(),
            architectures: None,
            tags: BTreeMap::new(),
            ephemeral_storage: None,
            tracing_mode: None,
            code,
        }
    }
}

/// `UpdateFunctionConfiguration`: every field optional; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct ConfigurationUpdate {
    /// New runtime.
    pub runtime: Option<String>,
    /// New handler.
    pub handler: Option<String>,
    /// New role.
    pub role: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New timeout in seconds.
    pub timeout: Option<u32>,
    /// New memory size in MB.
    pub memory_size: Option<u32>,
    /// Replaces all environment variables.
    pub environment: Option<BTreeMap<String, String>>,
    /// New `/tmp` size.
    pub ephemeral_storage: Option<u32>,
    /// New X-Ray mode.
    pub tracing_mode: Option<String>,
    /// Only update if the function's revision is still this one.
    pub revision_id: Option<String>,
}

/// Where the stored code of a function is.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CodeLocation {
    /// Unpacked zip in `<function dir>/<dir>`.
    Unpacked {
        /// Directory name relative to the function's directory.
        dir: String,
    },
    /// A user directory run in place.
    HotReload {
        /// Absolute path.
        path: PathBuf,
    },
}

/// A function as stored (the `function.json` file).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FunctionRecord {
    /// Name.
    pub name: String,
    /// Runtime identifier.
    pub runtime: String,
    /// Handler string.
    pub handler: Option<String>,
    /// Role ARN (stored only).
    pub role: String,
    /// Description.
    pub description: String,
    /// Timeout in seconds.
    pub timeout: u32,
    /// Memory size in MB.
    pub memory_size: u32,
    /// Function environment variables.
    pub environment: BTreeMap<String, String>,
    /// Architectures.
    pub architectures: Vec<String>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// `/tmp` size in MB.
    pub ephemeral_storage: u32,
    /// X-Ray mode.
    pub tracing_mode: String,
    /// Code location.
    pub code: CodeLocation,
    /// Base64 SHA-256 of the zip (of the path for hot-reload directories).
    pub code_sha256: String,
    /// Zip size in bytes (0 for directories).
    pub code_size: u64,
    /// `2024-01-01T00:00:00.000+0000`.
    pub last_modified: String,
    /// Changes at every update.
    pub revision_id: String,
    /// `PutFunctionConcurrency`'s reserved concurrency.
    #[serde(default)]
    pub reserved_concurrency: Option<u32>,
}

impl FunctionRecord {
    /// The directory the code runs from (`LAMBDA_TASK_ROOT`), given the function's directory.
    pub fn task_root(&self, function_dir: &Path) -> PathBuf {
        match &self.code {
            CodeLocation::Unpacked { dir } => function_dir.join(dir),
            CodeLocation::HotReload { path } => path.clone(),
        }
    }

    /// The API view of this record.
    pub fn configuration(&self, scope: &Scope) -> FunctionConfiguration {
        FunctionConfiguration {
            function_name: self.name.clone(),
            function_arn: scope.function_arn(&self.name),
            runtime: self.runtime.clone(),
            role: self.role.clone(),
            handler: self.handler.clone(),
            code_size: self.code_size,
            description: self.description.clone(),
            timeout: self.timeout,
            memory_size: self.memory_size,
            last_modified: self.last_modified.clone(),
            code_sha256: self.code_sha256.clone(),
            version: LATEST.to_owned(),
            environment: (!self.environment.is_empty()).then(|| EnvironmentResponse {
                variables: self.environment.clone(),
            }),
            tracing_config: TracingConfig {
                mode: self.tracing_mode.clone(),
            },
            revision_id: self.revision_id.clone(),
            state: "Active",
            last_update_status: "Successful",
            package_type: "Zip",
            architectures: self.architectures.clone(),
            ephemeral_storage: EphemeralStorage {
                size: self.ephemeral_storage,
            },
            snap_start: SnapStart {
                apply_on: "None",
                optimization_status: "Off",
            },
            logging_config: LoggingConfig {
                log_format: "Text",
                log_group: format!("/aws/lambda/{}", self.name),
            },
        }
    }
}

/// Lambda's `FunctionConfiguration` shape, as `GetFunctionConfiguration` returns it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)] // Field names are Lambda's; see its API reference.
pub struct FunctionConfiguration {
    pub function_name: String,
    pub function_arn: String,
    pub runtime: String,
    pub role: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handler: Option<String>,
    pub code_size: u64,
    pub description: String,
    pub timeout: u32,
    pub memory_size: u32,
    pub last_modified: String,
    pub code_sha256: String,
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<EnvironmentResponse>,
    pub tracing_config: TracingConfig,
    pub revision_id: String,
    pub state: &'static str,
    pub last_update_status: &'static str,
    pub package_type: &'static str,
    pub architectures: Vec<String>,
    pub ephemeral_storage: EphemeralStorage,
    pub snap_start: SnapStart,
    pub logging_config: LoggingConfig,
}

/// `Environment` in a `FunctionConfiguration`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EnvironmentResponse {
    /// The variables.
    pub variables: BTreeMap<String, String>,
}

/// `TracingConfig`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TracingConfig {
    /// `PassThrough` or `Active`.
    pub mode: String,
}

/// `EphemeralStorage`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EphemeralStorage {
    /// MB.
    pub size: u32,
}

/// `SnapStart`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnapStart {
    /// Always `None`.
    pub apply_on: &'static str,
    /// Always `Off`.
    pub optimization_status: &'static str,
}

/// `LoggingConfig`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingConfig {
    /// Always `Text`.
    pub log_format: &'static str,
    /// `/aws/lambda/<name>`.
    pub log_group: String,
}

/// Lambda's `LastModified` format: `2024-01-01T00:00:00.000+0000`.
pub fn timestamp_now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3f+0000")
        .to_string()
}

fn check_range(value: u32, field: &str, min: u32, max: u32) -> Result<(), LambdaApiError> {
    if value < min {
        return Err(LambdaApiError::validation_one(
            &value.to_string(),
            field,
            &format!("Member must have value greater than or equal to {min}"),
        ));
    }
    if value > max {
        return Err(LambdaApiError::validation_one(
            &value.to_string(),
            field,
            &format!("Member must have value less than or equal to {max}"),
        ));
    }
    Ok(())
}

/// Checks the fields shared by create and update, as Lambda validates them.
pub fn validate_settings(
    runtime: &str,
    timeout: u32,
    memory_size: u32,
    environment: &BTreeMap<String, String>,
) -> Result<(), LambdaApiError> {
    if !KNOWN_RUNTIMES.contains(&runtime) {
        return Err(LambdaApiError::invalid_parameter(format!(
            "Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [{}] or be a valid ARN",
            KNOWN_RUNTIMES.join(", ")
        )));
    }
    check_range(timeout, "timeout", 1, 900)?;
    check_range(memory_size, "memorySize", 128, 10240)?;
    let reserved: Vec<&str> = environment
        .keys()
        .map(String::as_str)
        .filter(|k| RESERVED_ENV.contains(k))
        .collect();
    if !reserved.is_empty() {
        return Err(LambdaApiError::invalid_parameter(format!(
            "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: {}",
            reserved.join(", ")
        )));
    }
    for key in environment.keys() {
        let mut bytes = key.bytes();
        let ok = bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
            && key.len() >= 2
            && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !ok {
            return Err(LambdaApiError::validation_one(
                key,
                "environment.variables",
                "Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+",
            ));
        }
    }
    let size: usize = environment.iter().map(|(k, v)| k.len() + v.len()).sum();
    if size > 4096 {
        return Err(LambdaApiError::invalid_parameter(format!(
            "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: {}",
            serde_json::to_string(environment).unwrap_or_default()
        )));
    }
    Ok(())
}

/// The handler is mandatory for the managed runtimes, as Lambda requires for zip packages.
pub fn validate_handler(runtime: &str, handler: Option<&str>) -> Result<(), LambdaApiError> {
    if handler.is_none_or(str::is_empty) && !runtime.starts_with("provided") {
        return Err(LambdaApiError::invalid_parameter(
            "Runtime and Handler are mandatory parameters for functions created with deployment packages.",
        ));
    }
    Ok(())
}

/// The code after preparation: where it is and its identity.
pub struct PreparedCode {
    /// Location to store in the record.
    pub location: CodeLocation,
    /// Base64 SHA-256.
    pub sha256: String,
    /// Bytes.
    pub size: u64,
}

/// Unpacks a zip into `<function_dir>/code-<revision>` or checks a hot-reload directory.
/// Blocking: call from `spawn_blocking`.
pub fn prepare_code(
    code: &FunctionCode,
    function_dir: &Path,
    revision: &str,
) -> Result<PreparedCode, LambdaApiError> {
    match code {
        FunctionCode::Directory(path) => {
            if !path.is_absolute() || !path.is_dir() {
                return Err(LambdaApiError::invalid_parameter(format!(
                    "Hot-reload code path '{}' must be an existing absolute directory",
                    path.display()
                )));
            }
            let digest = Sha256::digest(path.to_string_lossy().as_bytes());
            Ok(PreparedCode {
                location: CodeLocation::HotReload { path: path.clone() },
                sha256: base64::engine::general_purpose::STANDARD.encode(digest),
                size: 0,
            })
        }
        FunctionCode::Zip(bytes) => {
            let unzip_error = || {
                LambdaApiError::invalid_parameter(
                    "Could not unzip uploaded file. Please check your file, then try to upload again.",
                )
            };
            let mut archive =
                zip::ZipArchive::new(Cursor::new(bytes.as_slice())).map_err(|_| unzip_error())?;
            let mut total: u64 = 0;
            for i in 0..archive.len() {
                let entry = archive.by_index_raw(i).map_err(|_| unzip_error())?;
                total = total.saturating_add(entry.size());
            }
            if total > MAX_UNZIPPED_BYTES {
                return Err(LambdaApiError::invalid_parameter(format!(
                    "Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes"
                )));
            }
            let dir_name = format!("code-{revision}");
            let dir = function_dir.join(&dir_name);
            std::fs::create_dir_all(&dir).map_err(LambdaApiError::service)?;
            if archive.extract(&dir).is_err() {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(unzip_error());
            }
            Ok(PreparedCode {
                location: CodeLocation::Unpacked { dir: dir_name },
                sha256: base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes)),
                size: bytes.len() as u64,
            })
        }
    }
}

/// Writes `function.json` atomically (temporary file, then rename).
pub fn save_record(function_dir: &Path, record: &FunctionRecord) -> Result<(), LambdaApiError> {
    let json = serde_json::to_vec_pretty(record).map_err(LambdaApiError::service)?;
    let tmp = function_dir.join("function.json.tmp");
    std::fs::write(&tmp, json).map_err(LambdaApiError::service)?;
    std::fs::rename(&tmp, function_dir.join("function.json")).map_err(LambdaApiError::service)
}

/// Removes `code-*` directories other than the current one: leftovers of an update interrupted
/// by a crash. Errors are ignored (the directories are garbage either way).
pub fn remove_stale_code(function_dir: &Path, current: &CodeLocation) {
    let keep = match current {
        CodeLocation::Unpacked { dir } => Some(dir.as_str()),
        CodeLocation::HotReload { .. } => None,
    };
    let Ok(entries) = std::fs::read_dir(function_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with("code-") && Some(name) != keep {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Removes an old unpacked code directory after an update, ignoring errors (it is garbage).
pub fn remove_code(function_dir: &Path, location: &CodeLocation) {
    if let CodeLocation::Unpacked { dir } = location {
        let _ = std::fs::remove_dir_all(function_dir.join(dir));
    }
}
