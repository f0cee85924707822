//! Records to columns and back.

use ironstep_store::{
    ActivityRecord, AliasRecord, ExecutionRecord, StateMachineRecord, VersionRecord,
};
use rusqlite::Row;
use rusqlite::types::Type;

/// SQLite integers are signed; the contract's ids and counters are `u64`. Values past
/// `i64::MAX` are refused rather than wrapped.
pub(crate) fn to_i64(v: u64) -> rusqlite::Result<i64> {
    i64::try_from(v).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

/// A `usize` limit as a SQL `LIMIT` (saturating: "no limit" is `usize::MAX`).
pub(crate) fn limit(v: usize) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// An id bound as a SQL integer (saturating: ids past `i64::MAX` cannot exist in the table).
pub(crate) fn bound(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Read a non-negative integer column as `u64` (rusqlite reads `u64` only behind a feature).
pub(crate) fn get_u64(r: &Row<'_>, idx: usize) -> rusqlite::Result<u64> {
    let v: i64 = r.get(idx)?;
    u64::try_from(v)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, Type::Integer, Box::new(e)))
}

pub(crate) fn json_text(v: &Option<serde_json::Value>) -> Option<String> {
    v.as_ref().map(|v| v.to_string())
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

fn parse_json(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<serde_json::Value>> {
    match row.get::<_, Option<String>>(idx)? {
        None => Ok(None),
        Some(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, Box::new(e))),
    }
}

pub(crate) const SELECT_STATE_MACHINE: &str =
    "SELECT arn, name, machine_type, definition, role_arn,
    logging_configuration, tracing_configuration, encryption_configuration, creation_date,
    update_date, revision_id, status, description, next_version FROM state_machines";

pub(crate) fn state_machine(r: &Row<'_>) -> rusqlite::Result<StateMachineRecord> {
    Ok(StateMachineRecord {
        arn: r.get(0)?,
        name: r.get(1)?,
        machine_type: r.get(2)?,
        definition: r.get(3)?,
        role_arn: r.get(4)?,
        logging_configuration: parse_json(r, 5)?,
        tracing_configuration: parse_json(r, 6)?,
        encryption_configuration: parse_json(r, 7)?,
        creation_date: r.get(8)?,
        update_date: r.get(9)?,
        revision_id: r.get(10)?,
        status: r.get(11)?,
        description: r.get(12)?,
        next_version: get_u64(r, 13)?,
    })
}

pub(crate) const SELECT_VERSION: &str = "SELECT arn, state_machine_arn, version, definition,
    role_arn, revision_id, description, creation_date FROM versions";

pub(crate) fn version(r: &Row<'_>) -> rusqlite::Result<VersionRecord> {
    Ok(VersionRecord {
        arn: r.get(0)?,
        state_machine_arn: r.get(1)?,
        version: get_u64(r, 2)?,
        definition: r.get(3)?,
        role_arn: r.get(4)?,
        revision_id: r.get(5)?,
        description: r.get(6)?,
        creation_date: r.get(7)?,
    })
}

pub(crate) const SELECT_ALIAS: &str = "SELECT arn, state_machine_arn, name, description, routing,
    creation_date, update_date FROM aliases";

pub(crate) fn alias(r: &Row<'_>) -> rusqlite::Result<AliasRecord> {
    let text: String = r.get(4)?;
    let routing: Vec<(String, u32)> = serde_json::from_str(&text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(4, Type::Text, Box::new(e)))?;
    Ok(AliasRecord {
        arn: r.get(0)?,
        state_machine_arn: r.get(1)?,
        name: r.get(2)?,
        description: r.get(3)?,
        routing,
        creation_date: r.get(5)?,
        update_date: r.get(6)?,
    })
}

pub(crate) const SELECT_ACTIVITY: &str =
    "SELECT arn, name, creation_date, encryption_configuration FROM activities WHERE arn = ?1";

pub(crate) const SELECT_ACTIVITIES: &str =
    "SELECT arn, name, creation_date, encryption_configuration FROM activities";

pub(crate) fn activity(r: &Row<'_>) -> rusqlite::Result<ActivityRecord> {
    Ok(ActivityRecord {
        arn: r.get(0)?,
        name: r.get(1)?,
        creation_date: r.get(2)?,
        encryption_configuration: parse_json(r, 3)?,
    })
}

/// Executions with their inputs; callers append `WHERE`/`ORDER BY` on `e` (executions).
pub(crate) const SELECT_EXECUTION: &str = "SELECT e.arn, e.state_machine_arn, e.name, e.status,
    e.start_date, e.stop_date, i.input, e.output, e.error, e.cause, e.version_arn, e.alias_arn,
    i.definition, e.role_arn, e.trace_header, e.parent_arn, e.map_run_arn, e.redrive_count,
    e.event_count, e.redrive_date
    FROM executions e JOIN execution_inputs i ON i.execution_id = e.id";

pub(crate) fn execution(r: &Row<'_>) -> rusqlite::Result<ExecutionRecord> {
    Ok(ExecutionRecord {
        arn: r.get(0)?,
        state_machine_arn: r.get(1)?,
        name: r.get(2)?,
        status: r.get(3)?,
        start_date: r.get(4)?,
        stop_date: r.get(5)?,
        input: r.get(6)?,
        output: r.get(7)?,
        error: r.get(8)?,
        cause: r.get(9)?,
        version_arn: r.get(10)?,
        alias_arn: r.get(11)?,
        definition: r.get(12)?,
        role_arn: r.get(13)?,
        trace_header: r.get(14)?,
        parent_arn: r.get(15)?,
        map_run_arn: r.get(16)?,
        redrive_count: r.get(17)?,
        event_count: get_u64(r, 18)?,
        redrive_date: r.get(19)?,
    })
}
