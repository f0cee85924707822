//! `ironstep deploy TEMPLATE`: a SAM or CloudFormation template to a running ironstep.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use ironstep_deploy::apply::Table;
use ironstep_deploy::{Client, DeployOptions, Plan, Report, Template};

/// Default server address (`ironstep serve`'s).
pub const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:8083";

#[derive(Debug, Args)]
pub struct DeployArgs {
    /// The template (YAML or JSON; SAM or CloudFormation), or a directory with template.yaml.
    #[arg(default_value = "template.yaml")]
    pub template: PathBuf,
    /// The ironstep server to deploy to.
    #[arg(long, env = "IRONSTEP_ENDPOINT", default_value = DEFAULT_ENDPOINT)]
    pub endpoint: String,
    /// Stack name: physical names are `<stack>-<LogicalId>-<suffix>` (default: the template
    /// directory's name).
    #[arg(long)]
    pub stack_name: Option<String>,
    /// Parameter values: `Key=Value` (several, or SAM CLI's `'K1=V1 K2=V2'` and
    /// `ParameterKey=K,ParameterValue=V`).
    #[arg(long, num_args = 1.., value_name = "KEY=VALUE")]
    pub parameter_overrides: Vec<String>,
    /// Zip `CodeUri` directories and upload them, instead of running them in place
    /// (`hot-reload`: edits take effect at the next cold start).
    #[arg(long)]
    pub package: bool,
    /// Region to plan ARNs for (default: the server's).
    #[arg(long)]
    pub region: Option<String>,
    /// Account to plan ARNs for (default: the server's).
    #[arg(long)]
    pub account: Option<String>,
    /// Print what would be deployed and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn main(args: DeployArgs) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let file = ironstep_deploy::find_template(&args.template)?;
    let options = DeployOptions {
        endpoint: args.endpoint.clone(),
        stack_name: args.stack_name.clone(),
        parameter_overrides: args.parameter_overrides.clone(),
        package: args.package,
        region: args.region.clone(),
        account: args.account.clone(),
    };
    rt.block_on(async {
        if args.dry_run {
            let client = Client::new(&options.endpoint)?;
            let template = Template::load(&file)?;
            let plan = if client.is_listening().await {
                ironstep_deploy::plan_for(&client, &template, &options).await?
            } else {
                // Nothing to ask for the region and account: plan with the given or default ones.
                eprintln!(
                    "(no server at {}: planning for the default or given region and account)",
                    client.endpoint()
                );
                let mut env = ironstep_deploy::Environment::new(ironstep_deploy::stack_name(
                    &template,
                    options.stack_name.as_deref(),
                )?);
                if let Some(r) = &options.region {
                    env.region = r.clone();
                }
                if let Some(a) = &options.account {
                    env.account = a.clone();
                }
                ironstep_deploy::plan::plan(
                    &template,
                    &ironstep_deploy::PlanOptions {
                        env,
                        parameter_overrides: ironstep_deploy::params::parse_overrides(
                            &options.parameter_overrides,
                        )?,
                        package: options.package,
                    },
                )?
            };
            print!("{}", plan.render());
            return Ok(ExitCode::SUCCESS);
        }
        deploy_and_print(&file, &options).await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// Deploys a template, printing each resource as it is applied, then the outputs (shared with
/// `ironstep samples`).
pub async fn deploy_and_print(
    file: &Path,
    options: &DeployOptions,
) -> anyhow::Result<(Plan, Report)> {
    let client = Client::new(&options.endpoint)?;
    let template = Template::load(file)?;
    let plan = ironstep_deploy::plan_for(&client, &template, options).await?;
    println!(
        "Deploying {} as stack '{}' to {} (region {}, account {})",
        file.display(),
        plan.env.stack_name,
        client.endpoint(),
        plan.env.region,
        plan.env.account
    );
    let table = Table::for_plan(&plan);
    println!("{}", table.header());
    let report = ironstep_deploy::apply::apply(&client, &plan, &mut |row| {
        println!("{}", table.row(row));
    })
    .await?;
    print!("{}", report.render_outputs_and_notes());
    println!("\nStack '{}': {}", report.stack_name, report.summary());
    Ok((plan, report))
}
