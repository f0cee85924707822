//! Records to columns and back.

use ironstep_store::{
    ActivityRecord, AliasRecord, ExecutionRecord, StateMachineRecord, StoreError, VersionRecord,
};
use tokio_postgres::Row;

fn bad(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("unreadable {what}: {e}"))
}

fn get<'a, T: tokio_postgres::types::FromSql<'a>>(r: &'a Row, idx: usize) -> Result<T, StoreError> {
    r.try_get(idx).map_err(|e| bad("column", e))
}

/// A non-negative BIGINT as `u64`.
pub(crate) fn get_u64(r: &Row, idx: usize) -> Result<u64, StoreError> {
    let v: i64 = get(r, idx)?;
    u64::try_from(v).map_err(|e| bad("counter", e))
}

pub(crate) fn json_text(v: &Option<serde_json::Value>) -> Option<String> {
    v.as_ref().map(|v| v.to_string())
}

fn parse_json(r: &Row, idx: usize) -> Result<Option<serde_json::Value>, StoreError> {
    match get::<Option<String>>(r, idx)? {
        None => Ok(None),
        Some(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| bad("JSON column", e)),
    }
}

pub(crate) fn routing_text(routing: &[(String, u32)]) -> String {
    serde_json::Value::Array(
        routing
            .iter()
            .map(|(arn, w)| serde_json::json!([arn, w]))
            .collect(),
    )
    .to_string()
}

pub(crate) const SELECT_STATE_MACHINE: &str =
    "SELECT arn, name, machine_type, definition, role_arn,
    logging_configuration, tracing_configuration, encryption_configuration, creation_date,
    update_date, revision_id, status, description, next_version FROM state_machines";

pub(crate) fn state_machine(r: &Row) -> Result<StateMachineRecord, StoreError> {
    Ok(StateMachineRecord {
        arn: get(r, 0)?,
        name: get(r, 1)?,
        machine_type: get(r, 2)?,
        definition: get(r, 3)?,
        role_arn: get(r, 4)?,
        logging_configuration: parse_json(r, 5)?,
        tracing_configuration: parse_json(r, 6)?,
        encryption_configuration: parse_json(r, 7)?,
        creation_date: get(r, 8)?,
        update_date: get(r, 9)?,
        revision_id: get(r, 10)?,
        status: get(r, 11)?,
        description: get(r, 12)?,
        next_version: get_u64(r, 13)?,
    })
}

pub(crate) const SELECT_VERSION: &str = "SELECT arn, state_machine_arn, version, definition,
    role_arn, revision_id, description, creation_date FROM versions";

pub(crate) fn version(r: &Row) -> Result<VersionRecord, StoreError> {
    Ok(VersionRecord {
        arn: get(r, 0)?,
        state_machine_arn: get(r, 1)?,
        version: get_u64(r, 2)?,
        definition: get(r, 3)?,
        role_arn: get(r, 4)?,
        revision_id: get(r, 5)?,
        description: get(r, 6)?,
        creation_date: get(r, 7)?,
    })
}

pub(crate) const SELECT_ALIAS: &str = "SELECT arn, state_machine_arn, name, description, routing,
    creation_date, update_date FROM aliases";

pub(crate) fn alias(r: &Row) -> Result<AliasRecord, StoreError> {
    let text: String = get(r, 4)?;
    let routing: Vec<(String, u32)> =
        serde_json::from_str(&text).map_err(|e| bad("alias routing", e))?;
    Ok(AliasRecord {
        arn: get(r, 0)?,
        state_machine_arn: get(r, 1)?,
        name: get(r, 2)?,
        description: get(r, 3)?,
        routing,
        creation_date: get(r, 5)?,
        update_date: get(r, 6)?,
    })
}

pub(crate) const SELECT_ACTIVITIES: &str =
    "SELECT arn, name, creation_date, encryption_configuration FROM activities";

pub(crate) fn activity(r: &Row) -> Result<ActivityRecord, StoreError> {
    Ok(ActivityRecord {
        arn: get(r, 0)?,
        name: get(r, 1)?,
        creation_date: get(r, 2)?,
        encryption_configuration: parse_json(r, 3)?,
    })
}

/// The columns [`execution`] reads, from `e` (executions) and `i` (execution_inputs).
pub(crate) const EXECUTION_COLUMNS: &str = "e.arn, e.state_machine_arn, e.name, e.status,
    e.start_date, e.stop_date, i.input, e.output, e.error, e.cause, e.version_arn, e.alias_arn,
    i.definition, e.role_arn, e.trace_header, e.parent_arn, e.map_run_arn, e.redrive_count,
    e.event_count, e.redrive_date";

/// Executions with their inputs; callers append `WHERE`/`ORDER BY` on `e` (executions).
pub(crate) const SELECT_EXECUTION: &str = "SELECT e.arn, e.state_machine_arn, e.name, e.status,
    e.start_date, e.stop_date, i.input, e.output, e.error, e.cause, e.version_arn, e.alias_arn,
    i.definition, e.role_arn, e.trace_header, e.parent_arn, e.map_run_arn, e.redrive_count,
    e.event_count, e.redrive_date
    FROM executions e JOIN execution_inputs i ON i.execution_id = e.id";

pub(crate) fn execution(r: &Row) -> Result<ExecutionRecord, StoreError> {
    let redrive_count: i64 = get(r, 17)?;
    Ok(ExecutionRecord {
        arn: get(r, 0)?,
        state_machine_arn: get(r, 1)?,
        name: get(r, 2)?,
        status: get(r, 3)?,
        start_date: get(r, 4)?,
        stop_date: get(r, 5)?,
        input: get(r, 6)?,
        output: get(r, 7)?,
        error: get(r, 8)?,
        cause: get(r, 9)?,
        version_arn: get(r, 10)?,
        alias_arn: get(r, 11)?,
        definition: get(r, 12)?,
        role_arn: get(r, 13)?,
        trace_header: get(r, 14)?,
        parent_arn: get(r, 15)?,
        map_run_arn: get(r, 16)?,
        redrive_count: u32::try_from(redrive_count).map_err(|e| bad("redrive count", e))?,
        event_count: get_u64(r, 18)?,
        redrive_date: get(r, 19)?,
    })
}
