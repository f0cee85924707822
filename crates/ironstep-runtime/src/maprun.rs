//! Map Runs (Distributed Map): DescribeMapRun, ListMapRuns, UpdateMapRun.
//!
//! The interpreter reports each Map Run's progress in its steps; the runtime keeps the latest
//! report per Map Run here. After a restart, runs of earlier processes are rebuilt from the
//! history (their item counts then come from `MapStateStarted`'s length and the outcome).

use std::collections::HashMap;
use std::sync::Mutex;

use ironstep_core::{Input, MapRunProgress};
use serde_json::Value;

use crate::error::{ErrorCode, ServiceError, ServiceResult};
use crate::{Engine, Millis, lock};

/// What DescribeMapRun shows.
#[derive(Debug, Clone, PartialEq)]
pub struct MapRunInfo {
    /// The Map Run ARN.
    pub map_run_arn: String,
    /// The execution that runs it.
    pub execution_arn: String,
    /// `RUNNING`, `SUCCEEDED`, `FAILED`, `ABORTED`.
    pub status: String,
    /// Started at.
    pub start_date: Millis,
    /// Stopped at.
    pub stop_date: Option<Millis>,
    /// Counts and settings.
    pub progress: MapRunProgress,
}

#[derive(Default)]
pub(crate) struct MapRuns {
    runs: Mutex<HashMap<String, MapRunInfo>>,
}

impl MapRuns {
    pub(crate) fn record(&self, execution_arn: &str, now: Millis, updates: &[MapRunProgress]) {
        if updates.is_empty() {
            return;
        }
        let mut runs = lock(&self.runs);
        for p in updates {
            let e = runs
                .entry(p.map_run_arn.clone())
                .or_insert_with(|| MapRunInfo {
                    map_run_arn: p.map_run_arn.clone(),
                    execution_arn: execution_arn.to_string(),
                    status: p.status.clone(),
                    start_date: now,
                    stop_date: None,
                    progress: p.clone(),
                });
            e.status = p.status.clone();
            e.progress = p.clone();
            if p.status != "RUNNING" && e.stop_date.is_none() {
                e.stop_date = Some(now);
            }
        }
    }
}

fn not_found(arn: &str) -> ServiceError {
    ServiceError::new(
        ErrorCode::ResourceNotFound,
        format!("Resource not found: '{arn}'"),
    )
}

fn check_arn(arn: &str) -> ServiceResult<()> {
    let a = crate::arn::parse(arn)?;
    if a.resource_type != "mapRun" {
        return Err(ServiceError::new(
            ErrorCode::InvalidArn,
            format!(
                "Invalid Arn: 'Resource type not valid in this context: {}'",
                a.resource_type
            ),
        ));
    }
    Ok(())
}

impl Engine {
    /// Map Runs of an execution, oldest first.
    pub async fn list_map_runs(&self, execution_arn: &str) -> ServiceResult<Vec<MapRunInfo>> {
        self.describe_execution(execution_arn).await?;
        let mut out: Vec<MapRunInfo> = lock(&self.inner.map_runs.runs)
            .values()
            .filter(|r| r.execution_arn == execution_arn)
            .cloned()
            .collect();
        // Runs from before a restart: rebuild them from the history.
        for r in self.map_runs_from_history(execution_arn).await? {
            if !out.iter().any(|x| x.map_run_arn == r.map_run_arn) {
                out.push(r);
            }
        }
        out.sort_by_key(|r| r.start_date);
        Ok(out)
    }

    async fn map_runs_from_history(&self, execution_arn: &str) -> ServiceResult<Vec<MapRunInfo>> {
        let mut from = None;
        let mut out: Vec<MapRunInfo> = Vec::new();
        let mut last_length = 0u64;
        loop {
            let page = self
                .history(execution_arn, from, false, 1000, false)
                .await?;
            for e in &page.events {
                let t = e.get("type").and_then(Value::as_str).unwrap_or("");
                let ts =
                    (e.get("timestamp").and_then(Value::as_f64).unwrap_or(0.0) * 1000.0) as i64;
                match t {
                    "MapStateStarted" => {
                        last_length = e["mapStateStartedEventDetails"]["length"]
                            .as_u64()
                            .unwrap_or(0)
                    }
                    "MapRunStarted" => {
                        let arn = e["mapRunStartedEventDetails"]["mapRunArn"]
                            .as_str()
                            .unwrap_or("")
                            .to_string();
                        out.push(MapRunInfo {
                            map_run_arn: arn.clone(),
                            execution_arn: execution_arn.to_string(),
                            status: "RUNNING".into(),
                            start_date: ts,
                            stop_date: None,
                            progress: MapRunProgress {
                                map_run_arn: arn,
                                status: "RUNNING".into(),
                                total: last_length,
                                running: 0,
                                succeeded: 0,
                                failed: 0,
                                max_concurrency: 0,
                                tolerated_failure_count: None,
                                tolerated_failure_percentage: None,
                            },
                        });
                    }
                    "MapRunSucceeded" | "MapRunFailed" | "MapRunAborted" => {
                        if let Some(r) = out.iter_mut().rev().find(|r| r.status == "RUNNING") {
                            r.status = match t {
                                "MapRunSucceeded" => "SUCCEEDED",
                                "MapRunFailed" => "FAILED",
                                _ => "ABORTED",
                            }
                            .into();
                            r.progress.status = r.status.clone();
                            r.stop_date = Some(ts);
                            if t == "MapRunSucceeded" {
                                r.progress.succeeded = r.progress.total;
                            }
                        }
                    }
                    _ => {}
                }
            }
            match page.next {
                Some(n) => from = Some(n),
                None => break,
            }
        }
        Ok(out)
    }

    /// DescribeMapRun.
    pub async fn describe_map_run(&self, arn: &str) -> ServiceResult<MapRunInfo> {
        check_arn(arn)?;
        if let Some(r) = lock(&self.inner.map_runs.runs).get(arn).cloned() {
            return Ok(r);
        }
        // Not seen by this process: look through the executions of its state machine.
        let a = crate::arn::parse(arn)?;
        let machine = a.parts[0].split('/').next().unwrap_or_default().to_string();
        let sm = self.inner.config.partition.state_machine(&machine);
        let list = self
            .list_executions(&ironstep_store::ExecutionFilter {
                state_machine_arn: Some(sm),
                limit: 1000,
                ..Default::default()
            })
            .await?;
        for e in list {
            for r in self.map_runs_from_history(&e.arn).await? {
                if r.map_run_arn == arn {
                    return Ok(r);
                }
            }
        }
        Err(not_found(arn))
    }

    /// UpdateMapRun: change the concurrency or failure tolerance of a running Map Run.
    pub async fn update_map_run(
        &self,
        arn: &str,
        max_concurrency: Option<u64>,
        tolerated_failure_count: Option<u64>,
        tolerated_failure_percentage: Option<f64>,
    ) -> ServiceResult<()> {
        let run = self.describe_map_run(arn).await?;
        if run.status != "RUNNING" {
            return Err(ServiceError::new(
                ErrorCode::ValidationException,
                format!("Map Run is not running: '{arn}' (CANNOT_UPDATE_COMPLETED_MAP_RUN)"),
            ));
        }
        self.try_deliver(
            &run.execution_arn,
            Input::UpdateMapRun {
                map_run_arn: arn.to_string(),
                max_concurrency,
                tolerated_failure_count,
                tolerated_failure_percentage,
            },
        )
        .await?;
        Ok(())
    }
}
