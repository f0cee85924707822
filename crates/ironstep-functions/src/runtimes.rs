//! The runtimes ironstep runs: our own Node.js and Python bootstraps (embedded in the crate and
//! written to the runtime directory at start), and `provided*` functions' own `bootstrap`.

use std::path::{Path, PathBuf};

use crate::config::FunctionsConfig;

const NODE_BOOTSTRAP: &str = include_str!("../runtimes/node/bootstrap.js");
const NODE_HOOKS: &str = include_str!("../runtimes/node/hooks.mjs");
const PYTHON_BOOTSTRAP: &str = include_str!("../runtimes/python/bootstrap.py");

/// Which runtime family a function's `Runtime` belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeKind {
    /// `nodejs*`: our `bootstrap.js`.
    Node,
    /// `python3.*`: our `bootstrap.py`.
    Python,
    /// `provided*`: the function's own `bootstrap` executable.
    Provided,
}

impl RuntimeKind {
    /// `None` for runtimes ironstep cannot run (Java, .NET, Ruby, Go 1.x, Python 2).
    pub fn of(runtime: &str) -> Option<Self> {
        if runtime.starts_with("nodejs") {
            Some(Self::Node)
        } else if runtime.starts_with("python3") {
            Some(Self::Python)
        } else if runtime.starts_with("provided") {
            Some(Self::Provided)
        } else {
            None
        }
    }
}

/// Writes the embedded bootstraps under `dir` (overwriting, so an upgraded binary takes effect).
pub fn install(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir.join("node"))?;
    std::fs::create_dir_all(dir.join("python"))?;
    std::fs::write(dir.join("node/bootstrap.js"), NODE_BOOTSTRAP)?;
    std::fs::write(dir.join("node/hooks.mjs"), NODE_HOOKS)?;
    std::fs::write(dir.join("python/bootstrap.py"), PYTHON_BOOTSTRAP)?;
    Ok(())
}

/// Program, arguments and runtime-specific environment of a worker.
pub struct Launch {
    /// Executable.
    pub program: PathBuf,
    /// Arguments.
    pub args: Vec<String>,
    /// Variables the runtime needs (before the function's own).
    pub env: Vec<(String, String)>,
}

/// How to start a worker for `record`, or Lambda's init error text when it cannot be started.
pub fn launch(
    kind: RuntimeKind,
    task_root: &Path,
    runtime_dir: &Path,
    config: &FunctionsConfig,
) -> Result<Launch, String> {
    match kind {
        RuntimeKind::Node => {
            let mut env = vec![];
            if let Some(sdk) = &config.node_sdk_dir {
                // NODE_PATH serves `require`; ESM `import` ignores it, so hooks.mjs resolves bare
                // specifiers that fail from the function's directory against this folder too.
                env.push(("NODE_PATH".to_owned(), sdk.display().to_string()));
                env.push(("IRONSTEP_NODE_SDK".to_owned(), sdk.display().to_string()));
            }
            Ok(Launch {
                program: config.node_command.clone(),
                args: vec![runtime_dir.join("node/bootstrap.js").display().to_string()],
                env,
            })
        }
        RuntimeKind::Python => {
            let mut paths = vec![task_root.display().to_string()];
            paths.extend(config.python_path.iter().map(|p| p.display().to_string()));
            Ok(Launch {
                program: config.python_command.clone(),
                args: vec![
                    "-u".to_owned(),
                    runtime_dir
                        .join("python/bootstrap.py")
                        .display()
                        .to_string(),
                ],
                env: vec![("PYTHONPATH".to_owned(), paths.join(":"))],
            })
        }
        RuntimeKind::Provided => {
            let bootstrap = task_root.join("bootstrap");
            if !bootstrap.is_file() {
                return Err(format!(
                    "Couldn't find valid bootstrap(s): [{} /opt/bootstrap]",
                    bootstrap.display()
                ));
            }
            Ok(Launch {
                program: bootstrap,
                args: vec![],
                env: vec![],
            })
        }
    }
}
