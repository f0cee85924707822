//! ironstep-deploy: deploys a SAM or CloudFormation template (YAML or JSON) to a running ironstep.
//!
//! It creates or updates what ironstep runs — state machines (`AWS::Serverless::StateMachine`,
//! `AWS::StepFunctions::StateMachine`), Lambda functions (`AWS::Serverless::Function`,
//! `AWS::Lambda::Function`) and activities — and lists everything else (IAM, event rules,
//! connectors, ...) as skipped. Intrinsic functions, pseudo parameters, `Parameters`,
//! `Conditions`, `Mappings` and SAM's `Globals` are resolved as CloudFormation and the SAM
//! transform resolve them.
//!
//! Key design decision: planning and applying are separate. [`plan::plan`] turns a template into
//! a [`Plan`] — plain data with every value resolved, in dependency order — without talking to
//! a server; ARNs are derived from the region, the account and stable physical names
//! (`<stack>-<LogicalId>-<SUFFIX>`), which is also what makes a redeploy update in place.
//! [`apply::apply`] then talks HTTP to the Step Functions and Lambda APIs, the same ones any SDK
//! uses. Errors name the place in the template (`Resources.MyFn.Properties.CodeUri: ...`).
//!
//! It must not depend on the engine's crates: it is a client of the public APIs, so it deploys
//! to any ironstep (or any Step Functions + Lambda endpoint honouring LocalStack's `hot-reload`
//! code convention).
#![warn(missing_docs)]

pub mod apply;
pub mod client;
pub mod error;
pub mod eval;
pub mod names;
pub mod params;
pub mod plan;
mod sam;
pub mod template;
pub mod text;

use std::path::{Path, PathBuf};

pub use apply::{Outcome, Report, Row};
pub use client::Client;
pub use error::{DeployError, Result};
pub use eval::Environment;
pub use plan::{Action, CodeSpec, Plan, PlanOptions};
pub use template::Template;

/// What `ironstep deploy` is asked to do.
#[derive(Debug, Clone)]
pub struct DeployOptions {
    /// The server, `http://host:port`.
    pub endpoint: String,
    /// The stack name (default: the template directory's name).
    pub stack_name: Option<String>,
    /// `K=V` or `ParameterKey=K,ParameterValue=V` items.
    pub parameter_overrides: Vec<String>,
    /// Zip `CodeUri` directories instead of running them in place.
    pub package: bool,
    /// The region to plan for (default: the server's).
    pub region: Option<String>,
    /// The account to plan for (default: the server's).
    pub account: Option<String>,
}

impl DeployOptions {
    /// Options for an endpoint, everything else by default.
    pub fn new(endpoint: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
            stack_name: None,
            parameter_overrides: Vec::new(),
            package: false,
            region: None,
            account: None,
        }
    }
}

/// The stack name for a template: given, or from the template directory's name.
pub fn stack_name(template: &Template, given: Option<&str>) -> Result<String> {
    match given {
        Some(name) if names::is_valid_stack_name(name) => Ok(name.to_string()),
        Some(name) => Err(DeployError::at(
            "--stack-name",
            format!(
                "'{name}' is not a stack name (letters, digits and '-', starting with a letter, at most 128)"
            ),
        )),
        None => {
            let dir_name = template
                .dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "stack".to_string());
            Ok(names::stack_name_from(&dir_name))
        }
    }
}

/// Plans a template for the server behind `client` (its region and account are asked for
/// unless given).
pub async fn plan_for(
    client: &Client,
    template: &Template,
    options: &DeployOptions,
) -> Result<Plan> {
    let stack = stack_name(template, options.stack_name.as_deref())?;
    let mut env = Environment::new(stack);
    if (options.region.is_none() || options.account.is_none())
        && let Some((region, account)) = client.discover_partition().await?
    {
        env.region = region;
        env.account = account;
    }
    if let Some(r) = &options.region {
        env.region = r.clone();
    }
    if let Some(a) = &options.account {
        env.account = a.clone();
    }
    plan::plan(
        template,
        &PlanOptions {
            env,
            parameter_overrides: params::parse_overrides(&options.parameter_overrides)?,
            package: options.package,
        },
    )
}

/// Reads, plans and applies a template; `progress` sees each resource as it is done.
pub async fn deploy(
    template_file: &Path,
    options: &DeployOptions,
    progress: &mut dyn FnMut(&Row),
) -> Result<(Plan, Report)> {
    let client = Client::new(&options.endpoint)?;
    let template = Template::load(template_file)?;
    let plan = plan_for(&client, &template, options).await?;
    let report = apply::apply(&client, &plan, progress).await?;
    Ok((plan, report))
}

/// The template file for a path: the path itself, or `template.yaml` / `template.yml` /
/// `template.json` inside it when it is a directory (as SAM CLI looks for them).
pub fn find_template(path: &Path) -> Result<PathBuf> {
    if !path.is_dir() {
        return Ok(path.to_path_buf());
    }
    for name in ["template.yaml", "template.yml", "template.json"] {
        let p = path.join(name);
        if p.is_file() {
            return Ok(p);
        }
    }
    Err(DeployError::Io {
        context: "template".into(),
        path: path.join("template.yaml"),
        source: std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no template.yaml, template.yml or template.json in this directory",
        ),
    })
}
