//! Benchmark workloads: `NAME.asl.json` (definition), `NAME.input.json` (input) and
//! `NAME.meta.json` (how many executions, transitions per execution, checks on the output, child
//! machines for nested workloads).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, bail};
use serde::Deserialize;
use serde_json::Value;

/// One workload.
#[derive(Debug, Clone)]
pub struct Workload {
    pub name: String,
    pub definition: String,
    pub input: String,
    pub meta: Meta,
}

/// What `NAME.meta.json` says.
#[derive(Debug, Clone, Deserialize)]
pub struct Meta {
    #[serde(default)]
    pub description: String,
    pub executions: usize,
    pub transitions_per_execution: u64,
    #[serde(default)]
    pub checks: Vec<Check>,
    #[serde(rename = "type", default = "standard")]
    pub machine_type: String,
    #[serde(default = "one")]
    pub concurrency: usize,
    /// Input field -> workload whose state machine ARN goes there.
    #[serde(default)]
    pub children: BTreeMap<String, String>,
}

fn standard() -> String {
    "STANDARD".into()
}

fn one() -> usize {
    1
}

/// `output[path...] == equals`.
#[derive(Debug, Clone, Deserialize)]
pub struct Check {
    pub path: Vec<Value>,
    pub equals: Value,
}

impl Workload {
    /// Is this a helper (a child started by other workloads), not a benchmark by itself?
    pub fn is_child_only(&self) -> bool {
        self.meta.description.contains("not a benchmark by itself")
    }

    /// Check an execution's output against the meta checks.
    pub fn check(&self, output: &Value) -> anyhow::Result<()> {
        for c in &self.meta.checks {
            let mut at = output;
            for step in &c.path {
                at = match step {
                    Value::String(k) => &at[k.as_str()],
                    Value::Number(n) => &at[n.as_u64().unwrap_or(u64::MAX) as usize],
                    _ => &Value::Null,
                };
            }
            if at != &c.equals {
                bail!(
                    "{}: output at {:?} is {at}, expected {} (output {output})",
                    self.name,
                    c.path,
                    c.equals
                );
            }
        }
        Ok(())
    }

    /// The input with child ARNs filled in.
    pub fn input_with_children(&self, arns: &BTreeMap<String, String>) -> anyhow::Result<String> {
        if self.meta.children.is_empty() {
            return Ok(self.input.clone());
        }
        let mut v: Value = serde_json::from_str(&self.input)
            .with_context(|| format!("{}: input is not JSON", self.name))?;
        for (field, child) in &self.meta.children {
            let arn = arns
                .get(child)
                .with_context(|| format!("{}: child workload {child} not loaded", self.name))?;
            v[field.as_str()] = Value::String(arn.clone());
        }
        Ok(v.to_string())
    }
}

/// Load every workload in `dir` (sorted by name); `only` keeps the named ones (and their children).
pub fn load(dir: &Path, only: &[String]) -> anyhow::Result<Vec<Workload>> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("reading the workload directory {}", dir.display()))?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".asl.json"))
                .map(str::to_string)
        })
        .collect();
    names.sort();
    for name in names {
        let read = |suffix: &str| {
            let p = dir.join(format!("{name}.{suffix}"));
            std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))
        };
        let meta: Meta = serde_json::from_str(&read("meta.json")?)
            .with_context(|| format!("{name}.meta.json"))?;
        out.push(Workload {
            definition: read("asl.json")?,
            input: read("input.json")?,
            meta,
            name,
        });
    }
    if !only.is_empty() {
        let mut keep: Vec<String> = only.to_vec();
        for w in &out {
            if only.contains(&w.name) {
                keep.extend(w.meta.children.values().cloned());
            }
        }
        out.retain(|w| keep.contains(&w.name));
        for o in only {
            if !out.iter().any(|w| &w.name == o) {
                bail!("no workload named {o} in {}", dir.display());
            }
        }
    }
    Ok(out)
}
