//! The context object (`$$` in JSONPath, `$states.context` in JSONata).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::event::Millis;

/// What the interpreter knows about the execution it runs. Fixed at start.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExecutionInfo {
    /// The execution ARN.
    pub execution_arn: String,
    /// The execution name.
    pub name: String,
    /// The state machine ARN (unqualified).
    pub state_machine_arn: String,
    /// The state machine name.
    pub state_machine_name: String,
    /// The role ARN of the state machine.
    pub role_arn: String,
    /// The region (for `TaskScheduled.region`).
    pub region: String,
    /// When it started.
    pub start_time: Millis,
    /// The input, parsed.
    pub input: Value,
    /// The input exactly as it was given (AWS echoes it verbatim in `ExecutionStarted` and in the
    /// first state's `StateEntered`).
    pub raw_input: String,
    /// Redrive count (context `Execution.RedriveCount`).
    pub redrive_count: u32,
    /// Synchronous Express executions have no `RedriveCount` in their context.
    pub sync_express: bool,
    /// The version ARN the execution was started through, if any.
    pub version_arn: Option<String>,
    /// The alias ARN the execution was started through, if any.
    pub alias_arn: Option<String>,
}

/// ISO-8601 UTC with milliseconds, as AWS writes times in the context object.
pub fn iso_millis(t: Millis) -> String {
    DateTime::<Utc>::from_timestamp_millis(t)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

/// The per-state part of the context object.
#[derive(Debug, Clone, Copy)]
pub struct StateContext<'a> {
    /// `State.Name`.
    pub name: &'a str,
    /// `State.EnteredTime`.
    pub entered: Millis,
    /// `State.RetryCount` (only for states that retry).
    pub retry_count: Option<u32>,
    /// `Task.Token`.
    pub token: Option<&'a str>,
    /// `Map.Item.Index` / `Map.Item.Value` (only inside a Map's `ItemSelector`).
    pub map_item: Option<(u64, &'a Value)>,
    /// `Map.Item.Key` when a JSONata Map iterates an object.
    pub map_key: Option<&'a str>,
}

/// The context object's top-level members, in the order AWS lists them.
pub const MEMBERS: [&str; 5] = ["Execution", "StateMachine", "State", "Task", "Map"];

/// Build the context object.
pub fn build(info: &ExecutionInfo, state: &StateContext<'_>) -> Value {
    let mut root = Map::new();
    for name in MEMBERS {
        if let Some(v) = member(info, state, name) {
            root.insert(name.into(), v);
        }
    }
    Value::Object(root)
}

/// One top-level member of the context object, if present (`Task` only with a task token,
/// `Map` only inside a Map iteration).
pub fn member(info: &ExecutionInfo, state: &StateContext<'_>, name: &str) -> Option<Value> {
    match name {
        "Execution" => {
            let mut exec = Map::new();
            exec.insert("Id".into(), Value::String(info.execution_arn.clone()));
            exec.insert("Input".into(), info.input.clone());
            exec.insert(
                "StartTime".into(),
                Value::String(iso_millis(info.start_time)),
            );
            exec.insert("Name".into(), Value::String(info.name.clone()));
            exec.insert("RoleArn".into(), Value::String(info.role_arn.clone()));
            if !info.sync_express {
                exec.insert("RedriveCount".into(), Value::from(info.redrive_count));
            }
            Some(Value::Object(exec))
        }
        "StateMachine" => {
            let mut sm = Map::new();
            sm.insert("Id".into(), Value::String(info.state_machine_arn.clone()));
            sm.insert(
                "Name".into(),
                Value::String(info.state_machine_name.clone()),
            );
            Some(Value::Object(sm))
        }
        "State" => {
            let mut st = Map::new();
            st.insert("Name".into(), Value::String(state.name.to_string()));
            st.insert(
                "EnteredTime".into(),
                Value::String(iso_millis(state.entered)),
            );
            if let Some(n) = state.retry_count {
                st.insert("RetryCount".into(), Value::from(n));
            }
            Some(Value::Object(st))
        }
        "Task" => state.token.map(|token| {
            let mut t = Map::new();
            t.insert("Token".into(), Value::String(token.to_string()));
            Value::Object(t)
        }),
        "Map" => state.map_item.map(|(index, value)| {
            let mut item = Map::new();
            item.insert("Index".into(), Value::from(index));
            if let Some(k) = state.map_key {
                item.insert("Key".into(), Value::String(k.to_string()));
            }
            item.insert("Value".into(), value.clone());
            let mut m = Map::new();
            m.insert("Item".into(), Value::Object(item));
            Value::Object(m)
        }),
        _ => None,
    }
}
