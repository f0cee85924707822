//! `ironstep`: a Step Functions-compatible workflow engine in one binary.

mod cli;
mod deploy;
mod executions;
mod functions;
mod lambda;
mod logs;
mod nodes;
mod run;
mod samples;
mod serve;
mod validate;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let result = match args.command {
        cli::Command::Serve(a) => serve::main(a),
        cli::Command::Run(a) => run::main(a),
        cli::Command::Validate(a) => validate::main(a),
        cli::Command::Deploy(a) => deploy::main(a),
        cli::Command::Samples(a) => samples::main(a),
        cli::Command::Executions(a) => executions::main(a),
        cli::Command::Logs(a) => logs::main(a),
        cli::Command::Nodes(a) => nodes::main(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // Ripgrep's convention: a broken pipe (e.g. `| head`) is not an error.
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("ironstep failed: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  Cause: {cause}");
            }
            ExitCode::from(2)
        }
    }
}
