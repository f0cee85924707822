//! Applies a [`Plan`] to a running ironstep through its Step Functions and Lambda APIs: creates
//! what is missing, updates what differs, leaves the rest, and deletes what an earlier deploy of
//! the same stack made but the template no longer declares (found by the stack's tags).

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use base64::Engine as _;
use hyper::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::client::{ApiError, Client};
use crate::error::{DeployError, Result};
use crate::plan::{Action, ActivitySpec, CodeSpec, FunctionSpec, Plan, StateMachineSpec};

/// The tag naming the stack a resource belongs to.
pub const STACK_TAG: &str = "ironstep:stack";
/// The tag naming a resource's logical id.
pub const LOGICAL_ID_TAG: &str = "ironstep:logical-id";

/// What happened to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It did not exist.
    Created,
    /// It existed and differed.
    Updated,
    /// It existed and differed in something that cannot change in place (a state machine's
    /// type): deleted and created again.
    Replaced,
    /// It existed as planned.
    Unchanged,
    /// An earlier deploy made it; the template no longer declares it.
    Deleted,
    /// Not run locally.
    Skipped,
}

impl Outcome {
    /// Lower-case word for the report.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Replaced => "replaced",
            Outcome::Unchanged => "unchanged",
            Outcome::Deleted => "deleted",
            Outcome::Skipped => "skipped",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone)]
pub struct Row {
    /// Logical id.
    pub logical_id: String,
    /// Resource type (with its SAM origin, if generated).
    pub resource_type: String,
    /// What happened.
    pub outcome: Outcome,
    /// The physical id (ARN or name) or why it was skipped, and details (code location).
    pub detail: String,
}

/// The result of a deployment.
#[derive(Debug, Clone)]
pub struct Report {
    /// The endpoint deployed to.
    pub endpoint: String,
    /// The stack.
    pub stack_name: String,
    /// One row per resource, in the order applied.
    pub rows: Vec<Row>,
    /// The plan's outputs: `(key, value, description)`.
    pub outputs: Vec<(String, String, Option<String>)>,
    /// The plan's notes.
    pub notes: Vec<String>,
}

fn api_err(context: &str, operation: &str, e: ApiError) -> DeployError {
    DeployError::Api {
        context: context.to_string(),
        operation: operation.to_string(),
        code: e.code,
        message: e.message,
    }
}

fn stack_tags(
    plan: &Plan,
    logical_id: &str,
    own: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut tags = own.clone();
    tags.insert(STACK_TAG.into(), plan.env.stack_name.clone());
    tags.insert(LOGICAL_ID_TAG.into(), logical_id.into());
    tags
}

fn sfn_tags(tags: &BTreeMap<String, String>) -> Value {
    Value::Array(
        tags.iter()
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect(),
    )
}

/// Applies a plan; `progress` sees each row as it is done.
pub async fn apply(client: &Client, plan: &Plan, progress: &mut dyn FnMut(&Row)) -> Result<Report> {
    let mut rows = Vec::new();
    let mut kept: HashSet<String> = HashSet::new();
    for step in &plan.steps {
        let context = format!("Resources.{}", step.logical_id);
        let resource_type = match &step.origin {
            Some(o) => format!("{} ({o})", step.resource_type),
            None => step.resource_type.clone(),
        };
        let (outcome, detail) = match &step.action {
            Action::StateMachine(spec) => {
                kept.insert(spec.arn.clone());
                let tags = stack_tags(plan, &step.logical_id, &spec.tags);
                let o = state_machine(client, &context, spec, &tags).await?;
                (
                    o,
                    format!(
                        "{} ({}, {})",
                        spec.arn,
                        spec.machine_type.to_ascii_lowercase(),
                        spec.source
                    ),
                )
            }
            Action::Function(spec) => {
                kept.insert(spec.name.clone());
                let tags = stack_tags(plan, &step.logical_id, &spec.tags);
                let o = function(client, &context, spec, &tags).await?;
                (
                    o,
                    format!("{} ({}, code: {})", spec.arn, spec.runtime, spec.code),
                )
            }
            Action::Activity(spec) => {
                kept.insert(spec.arn.clone());
                let tags = stack_tags(plan, &step.logical_id, &spec.tags);
                let o = activity(client, &context, spec, &tags).await?;
                (o, spec.arn.clone())
            }
            Action::Skip { reason } => (Outcome::Skipped, reason.clone()),
        };
        let row = Row {
            logical_id: step.logical_id.clone(),
            resource_type,
            outcome,
            detail,
        };
        progress(&row);
        rows.push(row);
    }
    for row in prune(client, plan, &kept).await? {
        progress(&row);
        rows.push(row);
    }
    Ok(Report {
        endpoint: client.endpoint().to_string(),
        stack_name: plan.env.stack_name.clone(),
        rows,
        outputs: plan
            .outputs
            .iter()
            .map(|o| (o.key.clone(), o.value.clone(), o.description.clone()))
            .collect(),
        notes: plan.notes.clone(),
    })
}

async fn state_machine(
    client: &Client,
    context: &str,
    spec: &StateMachineSpec,
    tags: &BTreeMap<String, String>,
) -> Result<Outcome> {
    let existing = client
        .sfn(
            "DescribeStateMachine",
            &json!({"stateMachineArn": spec.arn}),
        )
        .await?;
    let create = || {
        let mut body = json!({
            "name": spec.name,
            "definition": spec.definition,
            "roleArn": spec.role_arn,
            "type": spec.machine_type,
            "tags": sfn_tags(tags),
        });
        if let Some(l) = &spec.logging {
            body["loggingConfiguration"] = l.clone();
        }
        if let Some(t) = &spec.tracing {
            body["tracingConfiguration"] = t.clone();
        }
        body
    };
    let current = match existing {
        Err(e) if e.code == "StateMachineDoesNotExist" => {
            let created = client.sfn("CreateStateMachine", &create()).await?;
            let v = created.map_err(|e| api_err(context, "CreateStateMachine", e))?;
            check_arn(context, &v, "stateMachineArn", &spec.arn)?;
            return Ok(Outcome::Created);
        }
        Err(e) => return Err(api_err(context, "DescribeStateMachine", e)),
        Ok(v) => v,
    };
    let s = |k: &str| {
        current
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    if s("type") != spec.machine_type {
        // The type cannot change in place; CloudFormation replaces the state machine.
        client
            .sfn("DeleteStateMachine", &json!({"stateMachineArn": spec.arn}))
            .await?
            .map_err(|e| api_err(context, "DeleteStateMachine", e))?;
        let created = client.sfn("CreateStateMachine", &create()).await?;
        created.map_err(|e| {
            api_err(
                context,
                "CreateStateMachine (replacing a different type)",
                e,
            )
        })?;
        return Ok(Outcome::Replaced);
    }
    let same_logging = spec
        .logging
        .as_ref()
        .is_none_or(|l| current.get("loggingConfiguration") == Some(l));
    let same_tracing = spec
        .tracing
        .as_ref()
        .is_none_or(|t| current.get("tracingConfiguration") == Some(t));
    // Tags are (re)applied on every deploy: cheap, and it adopts a same-named machine that
    // was made by hand into the stack.
    client
        .sfn(
            "TagResource",
            &json!({"resourceArn": spec.arn, "tags": sfn_tags(tags)}),
        )
        .await?
        .map_err(|e| api_err(context, "TagResource", e))?;
    if s("definition") == spec.definition
        && s("roleArn") == spec.role_arn
        && same_logging
        && same_tracing
    {
        return Ok(Outcome::Unchanged);
    }
    let mut body = json!({
        "stateMachineArn": spec.arn,
        "definition": spec.definition,
        "roleArn": spec.role_arn,
    });
    if let Some(l) = &spec.logging {
        body["loggingConfiguration"] = l.clone();
    }
    if let Some(t) = &spec.tracing {
        body["tracingConfiguration"] = t.clone();
    }
    client
        .sfn("UpdateStateMachine", &body)
        .await?
        .map_err(|e| api_err(context, "UpdateStateMachine", e))?;
    Ok(Outcome::Updated)
}

fn check_arn(context: &str, answer: &Value, key: &str, planned: &str) -> Result<()> {
    let got = answer.get(key).and_then(Value::as_str).unwrap_or_default();
    if got != planned {
        return Err(DeployError::Protocol(format!(
            "{context}: the server made {got}, not the planned {planned} (does it use another region or account? pass --region/--account)"
        )));
    }
    Ok(())
}

/// The code as the Lambda API takes it.
fn code_body(context: &str, code: &CodeSpec) -> Result<Value> {
    Ok(match code {
        CodeSpec::Directory {
            path,
            package: false,
        } => json!({"S3Bucket": "hot-reload", "S3Key": path.display().to_string()}),
        CodeSpec::Directory {
            path,
            package: true,
        } => json!({"ZipFile": b64(&zip_directory(context, path)?)}),
        CodeSpec::Zip { path } => {
            let bytes = std::fs::read(path).map_err(|source| DeployError::Io {
                context: context.to_string(),
                path: path.clone(),
                source,
            })?;
            json!({"ZipFile": b64(&bytes)})
        }
        CodeSpec::Inline { file_name, source } => {
            json!({"ZipFile": b64(&zip_one(context, file_name, source)?)})
        }
    })
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Lambda's `CodeSha256` of what [`code_body`] sends: the base64 SHA-256 of the zip, or of the
/// directory's path for hot-reload code (as ironstep-functions computes it).
fn code_sha256(body: &Value) -> Option<String> {
    let digest = if let Some(zip) = body.get("ZipFile").and_then(Value::as_str) {
        let bytes = base64::engine::general_purpose::STANDARD.decode(zip).ok()?;
        Sha256::digest(&bytes)
    } else {
        Sha256::digest(body.get("S3Key")?.as_str()?.as_bytes())
    };
    Some(b64(&digest))
}

fn zip_error(context: &str, path: &Path, e: impl std::fmt::Display) -> DeployError {
    DeployError::Io {
        context: context.to_string(),
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    }
}

/// Zips a directory reproducibly: sorted entries, fixed timestamps, Unix modes kept (a
/// `bootstrap` must stay executable), so the same files give the same `CodeSha256`.
pub fn zip_directory(context: &str, dir: &Path) -> Result<Vec<u8>> {
    let mut files = Vec::new();
    collect_files(context, dir, dir, &mut files)?;
    files.sort();
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for rel in files {
        let full = dir.join(&rel);
        let bytes = std::fs::read(&full).map_err(|source| DeployError::Io {
            context: context.to_string(),
            path: full.clone(),
            source,
        })?;
        let mode = file_mode(&full);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(mode);
        let name = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        w.start_file(name, options)
            .map_err(|e| zip_error(context, &full, e))?;
        w.write_all(&bytes)
            .map_err(|e| zip_error(context, &full, e))?;
    }
    let cursor = w.finish().map_err(|e| zip_error(context, dir, e))?;
    Ok(cursor.into_inner())
}

fn zip_one(context: &str, file_name: &str, source: &str) -> Result<Vec<u8>> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    let here = Path::new(file_name);
    w.start_file(file_name, options)
        .map_err(|e| zip_error(context, here, e))?;
    w.write_all(source.as_bytes())
        .map_err(|e| zip_error(context, here, e))?;
    let cursor = w.finish().map_err(|e| zip_error(context, here, e))?;
    Ok(cursor.into_inner())
}

#[cfg(unix)]
fn file_mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o777)
        .unwrap_or(0o644)
}

#[cfg(not(unix))]
fn file_mode(_path: &Path) -> u32 {
    0o644
}

fn collect_files(
    context: &str,
    root: &Path,
    dir: &Path,
    out: &mut Vec<std::path::PathBuf>,
) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|source| DeployError::Io {
        context: context.to_string(),
        path: dir.to_path_buf(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| DeployError::Io {
            context: context.to_string(),
            path: dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        // Follows symlinks, as `zip -r` does by default.
        if path.is_dir() {
            if entry.file_name() == ".git" {
                continue;
            }
            collect_files(context, root, &path, out)?;
        } else if let Ok(rel) = path.strip_prefix(root) {
            out.push(rel.to_path_buf());
        }
    }
    Ok(())
}

fn function_path(name: &str) -> String {
    format!("/2015-03-31/functions/{name}")
}

async fn function(
    client: &Client,
    context: &str,
    spec: &FunctionSpec,
    tags: &BTreeMap<String, String>,
) -> Result<Outcome> {
    let code = code_body(context, &spec.code)?;
    let existing = client
        .lambda(Method::GET, &function_path(&spec.name), None)
        .await?;
    let mut config = json!({
        "Runtime": spec.runtime,
        "Handler": spec.handler,
        "Role": spec.role,
        "Description": spec.description,
        "Timeout": spec.timeout,
        "MemorySize": spec.memory_size,
        "Environment": {"Variables": spec.environment},
    });
    if let Some(a) = &spec.architectures {
        config["Architectures"] = json!(a);
    }
    if let Some(size) = spec.ephemeral_storage {
        config["EphemeralStorage"] = json!({"Size": size});
    }
    if let Some(mode) = &spec.tracing_mode {
        config["TracingConfig"] = json!({"Mode": mode});
    }
    let current = match existing {
        Err(e) if e.status == 404 => {
            let mut body = config.clone();
            body["FunctionName"] = json!(spec.name);
            body["Code"] = code;
            body["Tags"] = json!(tags);
            let created = client
                .lambda(Method::POST, "/2015-03-31/functions", Some(&body))
                .await?
                .map_err(|e| api_err(context, "CreateFunction", e))?;
            check_arn(context, &created, "FunctionArn", &spec.arn)?;
            concurrency(client, context, spec, None).await?;
            return Ok(Outcome::Created);
        }
        Err(e) => return Err(api_err(context, "GetFunction", e)),
        Ok(v) => v,
    };
    let conf = current.get("Configuration").cloned().unwrap_or_default();
    let mut changed = false;
    let differs = config.as_object().is_some_and(|want| {
        want.iter().any(|(k, v)| match k.as_str() {
            // An absent Environment and an empty one are the same.
            "Environment" => {
                let have = conf
                    .get("Environment")
                    .and_then(|e| e.get("Variables"))
                    .cloned()
                    .unwrap_or_else(|| json!({}));
                Some(&have) != v.get("Variables")
            }
            _ => conf.get(k) != Some(v),
        })
    });
    if differs {
        client
            .lambda(
                Method::PUT,
                &format!("{}/configuration", function_path(&spec.name)),
                Some(&config),
            )
            .await?
            .map_err(|e| api_err(context, "UpdateFunctionConfiguration", e))?;
        changed = true;
    }
    let have_sha = conf.get("CodeSha256").and_then(Value::as_str);
    if code_sha256(&code).as_deref() != have_sha {
        client
            .lambda(
                Method::PUT,
                &format!("{}/code", function_path(&spec.name)),
                Some(&code),
            )
            .await?
            .map_err(|e| api_err(context, "UpdateFunctionCode", e))?;
        changed = true;
    }
    let have_concurrency = current
        .get("Concurrency")
        .and_then(|c| c.get("ReservedConcurrentExecutions"))
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok());
    if have_concurrency != spec.reserved_concurrency {
        concurrency(client, context, spec, have_concurrency).await?;
        changed = true;
    }
    Ok(if changed {
        Outcome::Updated
    } else {
        Outcome::Unchanged
    })
}

async fn concurrency(
    client: &Client,
    context: &str,
    spec: &FunctionSpec,
    have: Option<u32>,
) -> Result<()> {
    let path = format!("/2017-10-31/functions/{}/concurrency", spec.name);
    match spec.reserved_concurrency {
        Some(n) => {
            client
                .lambda(
                    Method::PUT,
                    &path,
                    Some(&json!({"ReservedConcurrentExecutions": n})),
                )
                .await?
                .map_err(|e| api_err(context, "PutFunctionConcurrency", e))?;
        }
        None if have.is_some() => {
            client
                .lambda(Method::DELETE, &path, None)
                .await?
                .map_err(|e| api_err(context, "DeleteFunctionConcurrency", e))?;
        }
        None => {}
    }
    Ok(())
}

async fn activity(
    client: &Client,
    context: &str,
    spec: &ActivitySpec,
    tags: &BTreeMap<String, String>,
) -> Result<Outcome> {
    let existing = client
        .sfn("DescribeActivity", &json!({"activityArn": spec.arn}))
        .await?;
    match existing {
        Ok(_) => {
            client
                .sfn(
                    "TagResource",
                    &json!({"resourceArn": spec.arn, "tags": sfn_tags(tags)}),
                )
                .await?
                .map_err(|e| api_err(context, "TagResource", e))?;
            Ok(Outcome::Unchanged)
        }
        Err(e) if e.code == "ActivityDoesNotExist" => {
            let created = client
                .sfn(
                    "CreateActivity",
                    &json!({"name": spec.name, "tags": sfn_tags(tags)}),
                )
                .await?
                .map_err(|e| api_err(context, "CreateActivity", e))?;
            check_arn(context, &created, "activityArn", &spec.arn)?;
            Ok(Outcome::Created)
        }
        Err(e) => Err(api_err(context, "DescribeActivity", e)),
    }
}

/// Every page of a Step Functions list action.
async fn list_all(client: &Client, action: &str, key: &str) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({"maxResults": 1000});
        if let Some(t) = &token {
            body["nextToken"] = json!(t);
        }
        let page = client
            .sfn(action, &body)
            .await?
            .map_err(|e| api_err("Stack", action, e))?;
        if let Some(items) = page.get(key).and_then(Value::as_array) {
            out.extend(items.iter().cloned());
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

async fn sfn_stack_tags(client: &Client, arn: &str) -> Result<Option<(String, String)>> {
    let tags = client
        .sfn("ListTagsForResource", &json!({"resourceArn": arn}))
        .await?;
    let Ok(tags) = tags else { return Ok(None) };
    let find = |k: &str| {
        tags.get("tags")
            .and_then(Value::as_array)
            .and_then(|a| {
                a.iter()
                    .find(|t| t.get("key").and_then(Value::as_str) == Some(k))
            })
            .and_then(|t| t.get("value").and_then(Value::as_str))
            .map(str::to_string)
    };
    Ok(find(STACK_TAG).zip(find(LOGICAL_ID_TAG)))
}

/// Deletes what carries this stack's tag but is no longer in the plan.
async fn prune(client: &Client, plan: &Plan, kept: &HashSet<String>) -> Result<Vec<Row>> {
    let stack = &plan.env.stack_name;
    let mut rows = Vec::new();
    for (action, key, arn_key, delete, kind) in [
        (
            "ListStateMachines",
            "stateMachines",
            "stateMachineArn",
            "DeleteStateMachine",
            "state machine",
        ),
        (
            "ListActivities",
            "activities",
            "activityArn",
            "DeleteActivity",
            "activity",
        ),
    ] {
        for item in list_all(client, action, key).await? {
            let Some(arn) = item.get(arn_key).and_then(Value::as_str) else {
                continue;
            };
            if kept.contains(arn) {
                continue;
            }
            if let Some((s, logical_id)) = sfn_stack_tags(client, arn).await?
                && s == *stack
            {
                client
                    .sfn(delete, &json!({ arn_key: arn }))
                    .await?
                    .map_err(|e| api_err(&format!("Resources.{logical_id}"), delete, e))?;
                rows.push(Row {
                    logical_id,
                    resource_type: format!("{kind} no longer in the template"),
                    outcome: Outcome::Deleted,
                    detail: arn.to_string(),
                });
            }
        }
    }
    let mut marker: Option<String> = None;
    loop {
        let path = match &marker {
            Some(m) => format!("/2015-03-31/functions/?MaxItems=1000&Marker={m}"),
            None => "/2015-03-31/functions/?MaxItems=1000".to_string(),
        };
        let page = client
            .lambda(Method::GET, &path, None)
            .await?
            .map_err(|e| api_err("Stack", "ListFunctions", e))?;
        for f in page
            .get("Functions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            let Some(name) = f.get("FunctionName").and_then(Value::as_str) else {
                continue;
            };
            if kept.contains(name) {
                continue;
            }
            let Ok(info) = client
                .lambda(Method::GET, &function_path(name), None)
                .await?
            else {
                continue;
            };
            let tag = |k: &str| {
                info.get("Tags")
                    .and_then(|t| t.get(k))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            if tag(STACK_TAG).as_deref() == Some(stack.as_str()) {
                let logical_id = tag(LOGICAL_ID_TAG).unwrap_or_else(|| name.to_string());
                client
                    .lambda(Method::DELETE, &function_path(name), None)
                    .await?
                    .map_err(|e| {
                        api_err(&format!("Resources.{logical_id}"), "DeleteFunction", e)
                    })?;
                rows.push(Row {
                    logical_id,
                    resource_type: "function no longer in the template".into(),
                    outcome: Outcome::Deleted,
                    detail: f
                        .get("FunctionArn")
                        .and_then(Value::as_str)
                        .unwrap_or(name)
                        .to_string(),
                });
            }
        }
        marker = page
            .get("NextMarker")
            .and_then(Value::as_str)
            .map(str::to_string);
        if marker.is_none() {
            return Ok(rows);
        }
    }
}

/// Column widths for printing rows as they are applied.
#[derive(Debug, Clone, Copy)]
pub struct Table {
    id: usize,
    kind: usize,
}

impl Table {
    /// Widths that fit every step of a plan.
    pub fn for_plan(plan: &Plan) -> Self {
        let kind_of = |s: &crate::plan::Step| match &s.origin {
            Some(o) => s.resource_type.len() + o.len() + 3,
            None => s.resource_type.len(),
        };
        Self {
            id: plan
                .steps
                .iter()
                .map(|s| s.logical_id.len())
                .max()
                .unwrap_or(0)
                .max("Resource".len()),
            kind: plan
                .steps
                .iter()
                .map(kind_of)
                .max()
                .unwrap_or(0)
                .max("Type".len()),
        }
    }

    /// Widths that fit rows.
    pub fn for_rows(rows: &[Row]) -> Self {
        Self {
            id: rows
                .iter()
                .map(|r| r.logical_id.len())
                .max()
                .unwrap_or(0)
                .max("Resource".len()),
            kind: rows
                .iter()
                .map(|r| r.resource_type.len())
                .max()
                .unwrap_or(0)
                .max("Type".len()),
        }
    }

    /// The header line.
    pub fn header(&self) -> String {
        format!(
            "  {:<w_id$}  {:<w_kind$}  {:<9}  Details",
            "Resource",
            "Type",
            "Result",
            w_id = self.id,
            w_kind = self.kind
        )
    }

    /// One row.
    pub fn row(&self, r: &Row) -> String {
        format!(
            "  {:<w_id$}  {:<w_kind$}  {:<9}  {}",
            r.logical_id,
            r.resource_type,
            r.outcome.as_str(),
            r.detail,
            w_id = self.id,
            w_kind = self.kind
        )
    }
}

impl Report {
    /// The table of resources, the outputs and the notes, for a terminal.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let table = Table::for_rows(&self.rows);
        let _ = writeln!(s, "{}", table.header());
        for r in &self.rows {
            let _ = writeln!(s, "{}", table.row(r));
        }
        s.push_str(&self.render_outputs_and_notes());
        s
    }

    /// The outputs and the notes.
    pub fn render_outputs_and_notes(&self) -> String {
        let mut s = String::new();
        if !self.outputs.is_empty() {
            let _ = writeln!(s, "\nOutputs");
            let w = self.outputs.iter().map(|o| o.0.len()).max().unwrap_or(0);
            for (k, v, d) in &self.outputs {
                let _ = write!(s, "  {k:<w$}  {v}");
                if let Some(d) = d {
                    let _ = write!(s, "  ({d})");
                }
                let _ = writeln!(s);
            }
        }
        if !self.notes.is_empty() {
            let _ = writeln!(s, "\nNotes");
            for n in &self.notes {
                let _ = writeln!(s, "  - {n}");
            }
        }
        s
    }

    /// Counts by outcome, e.g. `3 created, 2 skipped`.
    pub fn summary(&self) -> String {
        let order = [
            Outcome::Created,
            Outcome::Updated,
            Outcome::Replaced,
            Outcome::Unchanged,
            Outcome::Deleted,
            Outcome::Skipped,
        ];
        order
            .iter()
            .filter_map(|o| {
                let n = self.rows.iter().filter(|r| r.outcome == *o).count();
                (n > 0).then(|| format!("{n} {}", o.as_str()))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// An output's value.
    pub fn output(&self, key: &str) -> Option<&str> {
        self.outputs
            .iter()
            .find(|o| o.0 == key)
            .map(|o| o.1.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zips_are_reproducible_and_keep_modes() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::create_dir_all(dir.path().join("lib")).expect("mkdir");
        std::fs::write(dir.path().join("index.js"), "exports.h = 1").expect("write");
        std::fs::write(dir.path().join("lib/a.js"), "x").expect("write");
        std::fs::write(dir.path().join("bootstrap"), "#!/bin/sh").expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(
                dir.path().join("bootstrap"),
                std::fs::Permissions::from_mode(0o755),
            )
            .expect("chmod");
        }
        let a = zip_directory("t", dir.path()).expect("zip");
        std::thread::sleep(std::time::Duration::from_millis(20));
        let b = zip_directory("t", dir.path()).expect("zip");
        assert_eq!(a, b, "same files, same bytes");
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(a)).expect("archive");
        let names: Vec<String> = (0..archive.len())
            .filter_map(|i| {
                archive
                    .by_index(i)
                    .ok()
                    .and_then(|f| f.name().ok().map(|n| n.to_string()))
            })
            .collect();
        assert_eq!(names, ["bootstrap", "index.js", "lib/a.js"]);
        #[cfg(unix)]
        {
            let mode = archive
                .by_name("bootstrap")
                .ok()
                .and_then(|f| f.unix_mode());
            assert_eq!(mode.map(|m| m & 0o777), Some(0o755));
        }
    }

    #[test]
    fn code_sha_matches_what_the_functions_crate_computes() {
        let body = json!({"S3Bucket": "hot-reload", "S3Key": "/abs/dir"});
        assert_eq!(code_sha256(&body), Some(b64(&Sha256::digest(b"/abs/dir"))));
        let body = json!({"ZipFile": b64(b"PK")});
        assert_eq!(code_sha256(&body), Some(b64(&Sha256::digest(b"PK"))));
    }
}
