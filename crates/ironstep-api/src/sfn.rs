//! The Step Functions actions: request members in, response shapes out.

use std::time::Duration;

use ironstep_runtime::StartRequest;
use ironstep_runtime::machines::{CreateStateMachine, UpdateStateMachine};
use ironstep_runtime::{Engine, ServiceError};
use ironstep_store::{ExecutionFilter, ExecutionRecord};
use serde_json::{Map, Value, json};

use crate::protocol::{ApiError, Fields, token, ts};

/// ARN members are 1..256 characters (versions 2000).
const ARN: usize = 256;

type R = Result<Value, ApiError>;

/// Run one action.
pub async fn dispatch(engine: &Engine, action: &str, body: &Map<String, Value>) -> R {
    let mut f = Fields::new(body);
    match action {
        "CreateStateMachine" => create_state_machine(engine, &mut f).await,
        "DescribeStateMachine" => describe_state_machine(engine, &mut f).await,
        "UpdateStateMachine" => update_state_machine(engine, &mut f).await,
        "DeleteStateMachine" => {
            let arn = f.required("stateMachineArn", 1, ARN)?;
            f.finish()?;
            engine.delete_state_machine(&arn).await?;
            Ok(json!({}))
        }
        "ListStateMachines" => list_state_machines(engine, &mut f).await,
        "ValidateStateMachineDefinition" => validate(engine, &mut f),
        "PublishStateMachineVersion" => {
            let arn = f.required("stateMachineArn", 1, ARN)?;
            let rid = f.optional("revisionId", 0, 1000)?;
            let desc = f.optional("description", 0, 256)?;
            f.finish()?;
            let v = engine.publish_version(&arn, rid.as_deref(), desc).await?;
            Ok(json!({"creationDate": ts(v.creation_date), "stateMachineVersionArn": v.arn}))
        }
        "ListStateMachineVersions" => {
            let arn = f.required("stateMachineArn", 1, ARN)?;
            let max = f.max_results(1000, 100)?;
            let next = f.optional("nextToken", 1, 1024)?;
            f.finish()?;
            let all = engine.list_versions(&arn).await?;
            let items: Vec<Value> = all
                .iter()
                .map(|v| json!({"stateMachineVersionArn": v.arn, "creationDate": ts(v.creation_date)}))
                .collect();
            page(engine, "versions", &arn, items, max, next)
        }
        "DeleteStateMachineVersion" => {
            let arn = f.required("stateMachineVersionArn", 1, 2000)?;
            f.finish()?;
            engine.delete_version(&arn).await?;
            Ok(json!({}))
        }
        "CreateStateMachineAlias" => {
            let name = f.required("name", 1, 80)?;
            let desc = f.optional("description", 0, 256)?;
            let routing = routing(&mut f)?;
            f.finish()?;
            let a = engine
                .create_alias(&name, desc, routing.unwrap_or_default())
                .await?;
            Ok(json!({"stateMachineAliasArn": a.arn, "creationDate": ts(a.creation_date)}))
        }
        "DescribeStateMachineAlias" => {
            let arn = f.required("stateMachineAliasArn", 1, ARN)?;
            f.finish()?;
            let a = engine.describe_alias(&arn).await?;
            let mut m = Map::new();
            m.insert("stateMachineAliasArn".into(), json!(a.arn));
            m.insert("name".into(), json!(a.name));
            if let Some(d) = a.description {
                m.insert("description".into(), json!(d));
            }
            m.insert(
                "routingConfiguration".into(),
                Value::Array(
                    a.routing
                        .iter()
                        .map(|(v, w)| json!({"stateMachineVersionArn": v, "weight": w}))
                        .collect(),
                ),
            );
            m.insert("creationDate".into(), ts(a.creation_date));
            m.insert("updateDate".into(), ts(a.update_date));
            Ok(Value::Object(m))
        }
        "UpdateStateMachineAlias" => {
            let arn = f.required("stateMachineAliasArn", 1, ARN)?;
            let desc = f.optional("description", 0, 256)?;
            let routing = routing(&mut f)?;
            f.finish()?;
            if desc.is_none() && routing.is_none() {
                return Err(ApiError::validation(
                    "Either the description or the RoutingConfiguration must be specified",
                ));
            }
            let d = engine.update_alias(&arn, desc, routing).await?;
            Ok(json!({"updateDate": ts(d)}))
        }
        "DeleteStateMachineAlias" => {
            let arn = f.required("stateMachineAliasArn", 1, ARN)?;
            f.finish()?;
            engine.delete_alias(&arn).await?;
            Ok(json!({}))
        }
        "ListStateMachineAliases" => {
            let arn = f.required("stateMachineArn", 1, ARN)?;
            let max = f.max_results(1000, 100)?;
            let next = f.optional("nextToken", 1, 1024)?;
            f.finish()?;
            let all = engine.list_aliases(&arn).await?;
            let items: Vec<Value> = all
                .iter()
                .map(
                    |a| json!({"stateMachineAliasArn": a.arn, "creationDate": ts(a.creation_date)}),
                )
                .collect();
            page(engine, "aliases", &arn, items, max, next)
        }
        "TagResource" => {
            let arn = f.required("resourceArn", 1, ARN)?;
            if f.list("tags")?.is_none() {
                f.required("tags", 0, 0)?;
            }
            let tags = f.tags("tags")?;
            f.finish()?;
            engine.tag_resource(&arn, tags).await?;
            Ok(json!({}))
        }
        "UntagResource" => {
            let arn = f.required("resourceArn", 1, ARN)?;
            let keys = match f.list("tagKeys")? {
                Some(l) => l
                    .iter()
                    .map(|k| {
                        k.as_str().map(str::to_string).ok_or_else(|| {
                            ApiError::serialization("tagKeys must be a list of strings")
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                None => {
                    f.required("tagKeys", 0, 0)?;
                    Vec::new()
                }
            };
            f.finish()?;
            engine.untag_resource(&arn, &keys).await?;
            Ok(json!({}))
        }
        "ListTagsForResource" => {
            let arn = f.required("resourceArn", 1, ARN)?;
            f.finish()?;
            let tags = engine.list_tags(&arn).await?;
            Ok(
                json!({"tags": tags.iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>()}),
            )
        }
        "CreateActivity" => {
            let name = f.required("name", 1, 80)?;
            let tags = f.tags("tags")?;
            f.object("encryptionConfiguration")?;
            f.finish()?;
            let a = engine.create_activity(&name, tags).await?;
            Ok(json!({"activityArn": a.arn, "creationDate": ts(a.creation_date)}))
        }
        "DescribeActivity" => {
            let arn = f.required("activityArn", 1, ARN)?;
            f.finish()?;
            let a = engine.describe_activity(&arn).await?;
            Ok(json!({"activityArn": a.arn, "name": a.name, "creationDate": ts(a.creation_date)}))
        }
        "DeleteActivity" => {
            let arn = f.required("activityArn", 1, ARN)?;
            f.finish()?;
            engine.delete_activity(&arn).await?;
            Ok(json!({}))
        }
        "ListActivities" => {
            let max = f.max_results(1000, 100)?;
            let next = f.optional("nextToken", 1, 1024)?;
            f.finish()?;
            let after = match &next {
                Some(t) => Some(token::read("activities", t, engine.now())?),
                None => None,
            };
            let mut list = engine.list_activities(after.as_deref(), max + 1).await?;
            let more = list.len() > max;
            list.truncate(max);
            let mut out = json!({"activities": list.iter().map(|a| json!({"activityArn": a.arn, "name": a.name, "creationDate": ts(a.creation_date)})).collect::<Vec<_>>()});
            if more && let Some(last) = list.last() {
                out["nextToken"] = json!(token::make("activities", &last.arn, engine.now()));
            }
            Ok(out)
        }
        "GetActivityTask" => {
            let arn = f.required("activityArn", 1, ARN)?;
            let worker = f.optional("workerName", 1, 80)?;
            f.finish()?;
            let wait = Duration::from_secs(ironstep_runtime::activities::POLL_SECONDS);
            match engine.get_activity_task(&arn, worker, wait).await? {
                Some((token, input)) => Ok(json!({"taskToken": token, "input": input})),
                None => Ok(json!({})),
            }
        }
        "SendTaskSuccess" => {
            let token = f.required("taskToken", 1, 2048)?;
            let output = f.required("output", 0, 262_144)?;
            f.finish()?;
            engine.send_task_success(&token, &output).await?;
            Ok(json!({}))
        }
        "SendTaskFailure" => {
            let token = f.required("taskToken", 1, 2048)?;
            let error = f.optional("error", 0, 256)?;
            let cause = f.optional("cause", 0, 32_768)?;
            f.finish()?;
            engine.send_task_failure(&token, error, cause).await?;
            Ok(json!({}))
        }
        "SendTaskHeartbeat" => {
            let token = f.required("taskToken", 1, 2048)?;
            f.finish()?;
            engine.send_task_heartbeat(&token).await?;
            Ok(json!({}))
        }
        "StartExecution" => {
            let req = start_request(&mut f)?;
            let s = engine.start_execution(req).await?;
            Ok(json!({"executionArn": s.execution_arn, "startDate": ts(s.start_date)}))
        }
        "StartSyncExecution" => {
            let req = start_request(&mut f)?;
            let included = f.enumeration("includedData", &["ALL_DATA", "METADATA_ONLY"])?;
            f.finish()?;
            let s = engine.start_sync_execution(req).await?;
            Ok(sync_shape(
                &s.record,
                included.as_deref() != Some("METADATA_ONLY"),
            ))
        }
        "StopExecution" => {
            let arn = f.required("executionArn", 1, ARN)?;
            let error = f.optional("error", 0, 256)?;
            let cause = f.optional("cause", 0, 32_768)?;
            f.finish()?;
            let d = engine.stop_execution(&arn, error, cause).await?;
            Ok(json!({"stopDate": ts(d)}))
        }
        "DescribeExecution" => {
            let arn = f.required("executionArn", 1, ARN)?;
            let included = f.enumeration("includedData", &["ALL_DATA", "METADATA_ONLY"])?;
            f.finish()?;
            let r = engine.describe_execution(&arn).await?;
            Ok(describe_shape(
                &r,
                included.as_deref() != Some("METADATA_ONLY"),
            ))
        }
        "DescribeStateMachineForExecution" => {
            let arn = f.required("executionArn", 1, ARN)?;
            f.enumeration("includedData", &["ALL_DATA", "METADATA_ONLY"])?;
            f.finish()?;
            let r = engine.describe_execution(&arn).await?;
            let m = engine.machine(&r.state_machine_arn).await.ok();
            let mut out = Map::new();
            out.insert("stateMachineArn".into(), json!(r.state_machine_arn));
            out.insert(
                "name".into(),
                json!(r.state_machine_arn.rsplit(':').next().unwrap_or_default()),
            );
            out.insert("definition".into(), json!(r.definition));
            out.insert("roleArn".into(), json!(r.role_arn));
            out.insert(
                "updateDate".into(),
                ts(m.as_ref().map(|m| m.update_date).unwrap_or(r.start_date)),
            );
            if let Some(m) = &m {
                out.insert(
                    "loggingConfiguration".into(),
                    m.logging_configuration
                        .clone()
                        .unwrap_or(json!({"level": "OFF", "includeExecutionData": false})),
                );
                out.insert(
                    "tracingConfiguration".into(),
                    m.tracing_configuration
                        .clone()
                        .unwrap_or(json!({"enabled": false})),
                );
                out.insert("revisionId".into(), json!(m.revision_id));
            }
            Ok(Value::Object(out))
        }
        "ListExecutions" => list_executions(engine, &mut f).await,
        "TestState" => test_state(engine, &mut f).await,
        "RedriveExecution" => {
            let arn = f.required("executionArn", 1, ARN)?;
            f.optional("clientToken", 1, 64)?;
            f.finish()?;
            let d = engine.redrive_execution(&arn).await?;
            Ok(json!({"redriveDate": ts(d)}))
        }
        "DescribeMapRun" => {
            let arn = f.required("mapRunArn", 1, 2000)?;
            f.finish()?;
            let r = engine.describe_map_run(&arn).await?;
            Ok(map_run_shape(&r))
        }
        "ListMapRuns" => {
            let arn = f.required("executionArn", 1, ARN)?;
            let max = f.max_results(1000, 100)?;
            let next = f.optional("nextToken", 1, 1024)?;
            f.finish()?;
            let scope = format!("maprun:{arn}");
            let start: usize = match &next {
                Some(t) => token::read(&scope, t, engine.now())?
                    .parse()
                    .map_err(|_| ApiError::new("InvalidToken", "Invalid Token"))?,
                None => 0,
            };
            let runs = engine.list_map_runs(&arn).await?;
            let end = (start + max).min(runs.len());
            let items: Vec<Value> = runs
                .get(start.min(runs.len())..end)
                .unwrap_or(&[])
                .iter()
                .map(|r| {
                    let mut m = Map::new();
                    m.insert("executionArn".into(), json!(r.execution_arn));
                    m.insert("mapRunArn".into(), json!(r.map_run_arn));
                    m.insert(
                        "stateMachineArn".into(),
                        json!(labelled_machine(&r.map_run_arn)),
                    );
                    m.insert("startDate".into(), ts(r.start_date));
                    if let Some(s) = r.stop_date {
                        m.insert("stopDate".into(), ts(s));
                    }
                    Value::Object(m)
                })
                .collect();
            let mut out = json!({"mapRuns": items});
            if end < runs.len() {
                out["nextToken"] = json!(token::make(&scope, &end.to_string(), engine.now()));
            }
            Ok(out)
        }
        "UpdateMapRun" => {
            let arn = f.required("mapRunArn", 1, 2000)?;
            let mc = f.integer("maxConcurrency", 0, i64::MAX)?;
            let pct = f.float("toleratedFailurePercentage", 0.0, 100.0)?;
            let count = f.integer("toleratedFailureCount", 0, i64::MAX)?;
            f.finish()?;
            engine
                .update_map_run(&arn, mc.map(|v| v as u64), count.map(|v| v as u64), pct)
                .await?;
            Ok(json!({}))
        }
        "GetExecutionHistory" => history(engine, &mut f).await,
        other => Err(ApiError::new(
            "UnknownOperationException",
            format!("The operation '{other}' is not supported by this endpoint"),
        )),
    }
}

async fn test_state(engine: &Engine, f: &mut Fields<'_>) -> R {
    use ironstep_runtime::testing::{Mock, TestStateRequest};
    let definition = f.required("definition", 1, 1_048_576)?;
    let role_arn = f.optional("roleArn", 1, ARN)?;
    let input = f.optional("input", 0, 262_144)?;
    let level = f.enumeration("inspectionLevel", &["INFO", "DEBUG", "TRACE"])?;
    let reveal = f.boolean("revealSecrets")?.unwrap_or(false);
    let variables = f.optional("variables", 0, 262_144)?;
    let state_name = f.optional("stateName", 1, 80)?;
    let mock = f.object("mock")?;
    f.optional("context", 0, 262_144)?;
    let config = f.object("stateConfiguration")?;
    f.finish()?;
    let mock = match mock {
        None => None,
        Some(m) => {
            if reveal {
                return Err(ApiError::validation(
                    "TestState does not support RevealSecrets when a mock is specified.",
                ));
            }
            match (m.get("result"), m.get("errorOutput")) {
                (Some(_), Some(_)) => {
                    return Err(ApiError::validation(
                        "A test mock should have only one of the following fields: [result, errorOutput].",
                    ));
                }
                (Some(Value::String(r)), None) => match serde_json::from_str::<Value>(r) {
                    Ok(v) => Some(Mock::Result(v)),
                    Err(_) => return Err(ApiError::validation("Mocked result must be valid JSON")),
                },
                (None, Some(Value::Object(e))) => Some(Mock::Error {
                    error: e.get("error").and_then(Value::as_str).map(str::to_string),
                    cause: e.get("cause").and_then(Value::as_str).map(str::to_string),
                }),
                _ => {
                    return Err(ApiError::validation(
                        "A test mock should have one of the following fields: [result, errorOutput].",
                    ));
                }
            }
        }
    };
    let retrier_retry_count = config
        .as_ref()
        .and_then(|c| c.get("retrierRetryCount"))
        .and_then(Value::as_u64);
    let r = engine
        .test_state(TestStateRequest {
            definition,
            state_name,
            input,
            variables,
            role_arn,
            inspection_level: level,
            mock,
            retrier_retry_count,
        })
        .await?;
    let mut out = Map::new();
    if let Some(o) = r.output {
        out.insert("output".into(), json!(o));
    }
    if let Some(e) = r.error {
        out.insert("error".into(), json!(e));
    }
    if let Some(c) = r.cause {
        out.insert("cause".into(), json!(c));
    }
    if let Some(d) = r.inspection_data {
        out.insert("inspectionData".into(), d);
    }
    if let Some(n) = r.next_state {
        out.insert("nextState".into(), json!(n));
    }
    out.insert("status".into(), json!(r.status));
    Ok(Value::Object(out))
}

fn routing(f: &mut Fields<'_>) -> Result<Option<Vec<(String, u32)>>, ApiError> {
    let Some(list) = f.list("routingConfiguration")? else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for item in list {
        let arn = item
            .get("stateMachineVersionArn")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                ApiError::validation(
                    "Each routing configuration item needs a stateMachineVersionArn",
                )
            })?;
        let weight = item
            .get("weight")
            .and_then(Value::as_u64)
            .filter(|w| *w <= 100)
            .ok_or_else(|| {
                ApiError::validation(
                    "Each routing configuration item needs a weight between 0 and 100",
                )
            })?;
        out.push((arn.to_string(), weight as u32));
    }
    Ok(Some(out))
}

fn start_request(f: &mut Fields<'_>) -> Result<StartRequest, ApiError> {
    let sm = f.required("stateMachineArn", 1, ARN)?;
    let name = f.optional("name", 1, 80)?;
    let input = f.optional("input", 0, 262_144)?;
    let trace = f.optional("traceHeader", 0, 256)?;
    f.finish()?;
    if let Some(t) = &trace
        && !t.is_ascii()
    {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{t}' at 'traceHeader' failed to satisfy constraint: Member must satisfy regular expression pattern: \\p{{ASCII}}*"
        )));
    }
    Ok(StartRequest {
        state_machine_arn: sm,
        name,
        input,
        trace_header: trace,
        idempotent_internal: false,
        ..Default::default()
    })
}

async fn create_state_machine(engine: &Engine, f: &mut Fields<'_>) -> R {
    let name = f.required("name", 1, 80)?;
    let definition = f.required("definition", 1, 1_048_576)?;
    let role = f.required("roleArn", 1, ARN)?;
    let machine_type = f.enumeration("type", &["STANDARD", "EXPRESS"])?;
    let logging = f.object("loggingConfiguration")?;
    let tracing = f.object("tracingConfiguration")?;
    let encryption = f.object("encryptionConfiguration")?;
    let tags = f.tags("tags")?;
    let publish = f.boolean("publish")?.unwrap_or(false);
    let version_description = f.optional("versionDescription", 0, 256)?;
    f.finish()?;
    let c = engine
        .create_state_machine(CreateStateMachine {
            name,
            definition,
            role_arn: role,
            machine_type,
            logging_configuration: logging,
            tracing_configuration: tracing,
            encryption_configuration: encryption,
            tags,
            publish,
            version_description,
        })
        .await?;
    let mut out = json!({"stateMachineArn": c.arn, "creationDate": ts(c.creation_date)});
    if let Some(v) = c.version_arn {
        out["stateMachineVersionArn"] = json!(v);
    }
    Ok(out)
}

async fn describe_state_machine(engine: &Engine, f: &mut Fields<'_>) -> R {
    let arn = f.required("stateMachineArn", 1, ARN)?;
    f.enumeration("includedData", &["ALL_DATA", "METADATA_ONLY"])?;
    f.finish()?;
    let v = engine.describe_state_machine(&arn).await?;
    let r = &v.record;
    let mut m = Map::new();
    // A version ARN describes that version's definition, role and date; the rest is the machine's.
    let (arn, definition, role_arn, created, revision_id, description) = match &v.version {
        Some(ver) => (
            &ver.arn,
            &ver.definition,
            &ver.role_arn,
            ver.creation_date,
            &ver.revision_id,
            &ver.description,
        ),
        None => (
            &r.arn,
            &r.definition,
            &r.role_arn,
            r.creation_date,
            &r.revision_id,
            &r.description,
        ),
    };
    m.insert("stateMachineArn".into(), json!(arn));
    m.insert("name".into(), json!(r.name));
    m.insert("status".into(), json!(r.status));
    m.insert("definition".into(), json!(definition));
    m.insert("roleArn".into(), json!(role_arn));
    m.insert("type".into(), json!(r.machine_type));
    m.insert("creationDate".into(), ts(created));
    m.insert("revisionId".into(), json!(revision_id));
    if let Some(d) = description {
        m.insert("description".into(), json!(d));
    }
    m.insert(
        "loggingConfiguration".into(),
        r.logging_configuration
            .clone()
            .unwrap_or(json!({"level": "OFF", "includeExecutionData": false})),
    );
    m.insert(
        "tracingConfiguration".into(),
        r.tracing_configuration
            .clone()
            .unwrap_or(json!({"enabled": false})),
    );
    if let Some(e) = &r.encryption_configuration {
        m.insert("encryptionConfiguration".into(), e.clone());
    }
    Ok(Value::Object(m))
}

async fn update_state_machine(engine: &Engine, f: &mut Fields<'_>) -> R {
    let arn = f.required("stateMachineArn", 1, ARN)?;
    let definition = f.optional("definition", 1, 1_048_576)?;
    let role = f.optional("roleArn", 1, ARN)?;
    let logging = f.object("loggingConfiguration")?;
    let tracing = f.object("tracingConfiguration")?;
    let encryption = f.object("encryptionConfiguration")?;
    let publish = f.boolean("publish")?.unwrap_or(false);
    let version_description = f.optional("versionDescription", 0, 256)?;
    f.finish()?;
    let u = engine
        .update_state_machine(UpdateStateMachine {
            arn,
            definition,
            role_arn: role,
            logging_configuration: logging,
            tracing_configuration: tracing,
            encryption_configuration: encryption,
            publish,
            version_description,
        })
        .await?;
    let mut out = json!({"updateDate": ts(u.update_date), "revisionId": u.revision_id});
    if let Some(v) = u.version_arn {
        out["stateMachineVersionArn"] = json!(v);
    }
    Ok(out)
}

async fn list_state_machines(engine: &Engine, f: &mut Fields<'_>) -> R {
    let max = f.max_results(1000, 100)?;
    let next = f.optional("nextToken", 1, 1024)?;
    f.finish()?;
    let after = match &next {
        Some(t) => Some(token::read("machines", t, engine.now())?),
        None => None,
    };
    let mut list = engine
        .list_state_machines(after.as_deref(), max + 1)
        .await?;
    let more = list.len() > max;
    list.truncate(max);
    let mut out = json!({"stateMachines": list.iter().map(|m| json!({
        "stateMachineArn": m.arn, "name": m.name, "type": m.machine_type, "creationDate": ts(m.creation_date)
    })).collect::<Vec<_>>()});
    if more && let Some(last) = list.last() {
        out["nextToken"] = json!(token::make("machines", &last.arn, engine.now()));
    }
    Ok(out)
}

/// Page an already-complete list by index.
fn page(
    engine: &Engine,
    scope: &str,
    key: &str,
    items: Vec<Value>,
    max: usize,
    next: Option<String>,
) -> R {
    let scope = format!("{scope}:{key}");
    let start: usize = match &next {
        Some(t) => token::read(&scope, t, engine.now())?
            .parse()
            .map_err(|_| ApiError::new("InvalidToken", "Invalid Token"))?,
        None => 0,
    };
    let member = if scope.starts_with("versions") {
        "stateMachineVersions"
    } else {
        "stateMachineAliases"
    };
    let end = (start + max).min(items.len());
    let slice = items
        .get(start.min(items.len())..end)
        .unwrap_or(&[])
        .to_vec();
    let mut out = json!({ member: slice });
    if end < items.len() {
        out["nextToken"] = json!(token::make(&scope, &end.to_string(), engine.now()));
    }
    Ok(out)
}

fn validate(engine: &Engine, f: &mut Fields<'_>) -> R {
    let definition = f.required("definition", 1, 1_048_576)?;
    let t = f.enumeration("type", &["STANDARD", "EXPRESS"])?;
    let severity = f.enumeration("severity", &["ERROR", "WARNING"])?;
    let max = match f.integer("maxResults", 0, 100)? {
        None | Some(0) => 100,
        Some(n) => n as usize,
    };
    f.finish()?;
    let all = engine.validate_definition(&definition, t.as_deref() == Some("EXPRESS"));
    let include_warnings = severity.as_deref() == Some("WARNING");
    let shown: Vec<&ironstep_asl::Diagnostic> = all
        .iter()
        .filter(|d| include_warnings || d.is_error())
        .collect();
    let failed = all.iter().any(|d| d.is_error());
    let truncated = shown.len() > max;
    let diagnostics: Vec<Value> = shown
        .iter()
        .take(max)
        .map(|d| {
            let mut m = Map::new();
            m.insert("severity".into(), json!(d.severity.as_str()));
            m.insert("code".into(), json!(d.code.as_str()));
            m.insert("message".into(), json!(d.message));
            if let Some(l) = &d.location {
                m.insert("location".into(), json!(l));
            }
            Value::Object(m)
        })
        .collect();
    Ok(json!({
        "result": if failed { "FAIL" } else { "OK" },
        "diagnostics": diagnostics,
        "truncated": truncated,
    }))
}

/// `arn:...:mapRun:<machine>/<label>:<id>` → `arn:...:stateMachine:<machine>/<label>`.
fn labelled_machine(map_run_arn: &str) -> String {
    let head = map_run_arn
        .rsplit_once(':')
        .map(|(h, _)| h)
        .unwrap_or(map_run_arn);
    head.replacen(":mapRun:", ":stateMachine:", 1)
}

fn map_run_shape(r: &ironstep_runtime::maprun::MapRunInfo) -> Value {
    let p = &r.progress;
    let pending = p.total.saturating_sub(p.running + p.succeeded + p.failed);
    let aborted = if r.status == "ABORTED" {
        pending + p.running
    } else {
        0
    };
    let counts = json!({
        "pending": if r.status == "ABORTED" { 0 } else { pending },
        "running": if r.status == "ABORTED" { 0 } else { p.running },
        "succeeded": p.succeeded, "failed": p.failed, "timedOut": 0, "aborted": aborted,
        "total": p.total, "resultsWritten": if r.status == "SUCCEEDED" { p.total } else { p.succeeded },
        "failuresNotRedrivable": 0, "pendingRedrive": 0,
    });
    let mut m = Map::new();
    m.insert("mapRunArn".into(), json!(r.map_run_arn));
    m.insert("executionArn".into(), json!(r.execution_arn));
    m.insert("status".into(), json!(r.status));
    m.insert("startDate".into(), ts(r.start_date));
    if let Some(s) = r.stop_date {
        m.insert("stopDate".into(), ts(s));
    }
    m.insert("maxConcurrency".into(), json!(p.max_concurrency));
    m.insert(
        "toleratedFailurePercentage".into(),
        json!(p.tolerated_failure_percentage.unwrap_or(0.0)),
    );
    m.insert(
        "toleratedFailureCount".into(),
        json!(p.tolerated_failure_count.unwrap_or(0)),
    );
    m.insert("itemCounts".into(), counts.clone());
    m.insert("executionCounts".into(), counts);
    m.insert("redriveCount".into(), json!(0));
    Value::Object(m)
}

/// DescribeExecution's shape.
pub fn describe_shape(r: &ExecutionRecord, include_data: bool) -> Value {
    let mut m = Map::new();
    m.insert("executionArn".into(), json!(r.arn));
    m.insert("stateMachineArn".into(), json!(r.state_machine_arn));
    m.insert("name".into(), json!(r.name));
    m.insert("status".into(), json!(r.status));
    m.insert("startDate".into(), ts(r.start_date));
    if let Some(s) = r.stop_date {
        m.insert("stopDate".into(), ts(s));
    }
    if include_data {
        m.insert("input".into(), json!(r.input));
    }
    m.insert("inputDetails".into(), json!({"included": include_data}));
    if r.status == "SUCCEEDED" {
        if include_data && let Some(o) = &r.output {
            m.insert("output".into(), json!(o));
        }
        m.insert("outputDetails".into(), json!({"included": include_data}));
    }
    // A timed-out execution shows no error or cause (they are only in the history).
    if r.status != "TIMED_OUT" {
        if let Some(e) = &r.error {
            m.insert("error".into(), json!(e));
        }
        if let Some(c) = &r.cause {
            m.insert("cause".into(), json!(c));
        }
    }
    if let Some(t) = &r.trace_header {
        m.insert("traceHeader".into(), json!(t));
    }
    if let Some(v) = &r.version_arn {
        m.insert("stateMachineVersionArn".into(), json!(v));
    }
    if let Some(a) = &r.alias_arn {
        m.insert("stateMachineAliasArn".into(), json!(a));
    }
    if let Some(mr) = &r.map_run_arn {
        m.insert("mapRunArn".into(), json!(mr));
    }
    m.insert("redriveCount".into(), json!(r.redrive_count));
    if let Some(d) = r.redrive_date {
        m.insert("redriveDate".into(), ts(d));
    }
    let (status, reason) = match r.status.as_str() {
        "RUNNING" => (
            "NOT_REDRIVABLE",
            Some("Execution is RUNNING and cannot be redriven"),
        ),
        "SUCCEEDED" => (
            "NOT_REDRIVABLE",
            Some("Execution is SUCCEEDED and cannot be redriven"),
        ),
        _ => ("REDRIVABLE", None),
    };
    m.insert("redriveStatus".into(), json!(status));
    if let Some(reason) = reason {
        m.insert("redriveStatusReason".into(), json!(reason));
    }
    Value::Object(m)
}

fn sync_shape(r: &ExecutionRecord, include_data: bool) -> Value {
    let mut m = Map::new();
    m.insert("executionArn".into(), json!(r.arn));
    m.insert("stateMachineArn".into(), json!(r.state_machine_arn));
    m.insert("name".into(), json!(r.name));
    m.insert("startDate".into(), ts(r.start_date));
    m.insert("stopDate".into(), ts(r.stop_date.unwrap_or(r.start_date)));
    m.insert("status".into(), json!(r.status));
    if let Some(e) = &r.error {
        m.insert("error".into(), json!(e));
    }
    if let Some(c) = &r.cause {
        m.insert("cause".into(), json!(c));
    }
    if include_data {
        m.insert("input".into(), json!(r.input));
    }
    m.insert("inputDetails".into(), json!({"included": include_data}));
    if r.status == "SUCCEEDED" {
        if include_data && let Some(o) = &r.output {
            m.insert("output".into(), json!(o));
        }
        m.insert("outputDetails".into(), json!({"included": include_data}));
    }
    if let Some(t) = &r.trace_header {
        m.insert("traceHeader".into(), json!(t));
    }
    let billed = (r.stop_date.unwrap_or(r.start_date) - r.start_date).max(0);
    m.insert(
        "billingDetails".into(),
        json!({"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": ((billed + 99) / 100 * 100).max(100)}),
    );
    Value::Object(m)
}

async fn list_executions(engine: &Engine, f: &mut Fields<'_>) -> R {
    let sm = f.optional("stateMachineArn", 1, ARN)?;
    let status = f.enumeration(
        "statusFilter",
        &[
            "RUNNING",
            "SUCCEEDED",
            "FAILED",
            "TIMED_OUT",
            "ABORTED",
            "PENDING_REDRIVE",
        ],
    )?;
    let max = f.max_results(1000, 100)?;
    let next = f.optional("nextToken", 1, 3096)?;
    let map_run = f.optional("mapRunArn", 1, 2000)?;
    let redrive = f.enumeration("redriveFilter", &["REDRIVEN", "NOT_REDRIVEN"])?;
    f.finish()?;
    if sm.is_some() == map_run.is_some() {
        return Err(ApiError::validation(
            "Must provide a StateMachine ARN or MapRun ARN",
        ));
    }
    let mut filter = ExecutionFilter {
        status: status.clone(),
        limit: max + 1,
        map_run_arn: map_run.clone(),
        ..Default::default()
    };
    if let Some(sm) = &sm {
        let r = ironstep_runtime::arn::state_machine_ref(sm)?;
        let rec = engine.machine(r.machine()).await.map_err(|_| {
            ApiError::from(ServiceError::new(
                ironstep_runtime::ErrorCode::StateMachineDoesNotExist,
                format!("State Machine Does Not Exist: '{sm}'"),
            ))
        })?;
        if rec.machine_type == "EXPRESS" {
            return Err(ApiError::new(
                "StateMachineTypeNotSupported",
                "This operation is not supported by this type of state machine",
            ));
        }
        filter.state_machine_arn = Some(r.machine().to_string());
        if r.machine() != sm {
            filter.version_or_alias_arn = Some(sm.clone());
        }
    }
    if let Some(t) = &next {
        let c = token::read("executions", t, engine.now())?;
        let (start, arn) = c
            .split_once('|')
            .ok_or_else(|| ApiError::new("InvalidToken", "Invalid Token"))?;
        filter.after = Some((start.parse().unwrap_or(0), arn.to_string()));
    }
    let mut list = engine.list_executions(&filter).await?;
    if redrive.as_deref() == Some("REDRIVEN") {
        list.retain(|e| e.redrive_count > 0);
    } else if redrive.as_deref() == Some("NOT_REDRIVEN") {
        list.retain(|e| e.redrive_count == 0);
    }
    let more = list.len() > max;
    list.truncate(max);
    let items: Vec<Value> = list
        .iter()
        .map(|e| {
            let mut m = Map::new();
            m.insert("executionArn".into(), json!(e.arn));
            m.insert("stateMachineArn".into(), json!(e.state_machine_arn));
            m.insert("name".into(), json!(e.name));
            m.insert("status".into(), json!(e.status));
            m.insert("startDate".into(), ts(e.start_date));
            if let Some(s) = e.stop_date {
                m.insert("stopDate".into(), ts(s));
            }
            if let Some(v) = &e.version_arn {
                m.insert("stateMachineVersionArn".into(), json!(v));
            }
            if let Some(a) = &e.alias_arn {
                m.insert("stateMachineAliasArn".into(), json!(a));
            }
            if let Some(mr) = &e.map_run_arn {
                m.insert("mapRunArn".into(), json!(mr));
            }
            m.insert("redriveCount".into(), json!(e.redrive_count));
            Value::Object(m)
        })
        .collect();
    let mut out = json!({ "executions": items });
    if more && let Some(last) = list.last() {
        out["nextToken"] = json!(token::make(
            "executions",
            &format!("{}|{}", last.start_date, last.arn),
            engine.now()
        ));
    }
    Ok(out)
}

async fn history(engine: &Engine, f: &mut Fields<'_>) -> R {
    let arn = f.required("executionArn", 1, ARN)?;
    let max = f.max_results(1000, 100)?;
    let reverse = f.boolean("reverseOrder")?.unwrap_or(false);
    let next = f.optional("nextToken", 1, 1024)?;
    let include = f.boolean("includeExecutionData")?.unwrap_or(true);
    f.finish()?;
    let scope = format!("history:{arn}:{reverse}");
    let from = match &next {
        Some(t) => Some(
            token::read(&scope, t, engine.now())?
                .parse::<u64>()
                .map_err(|_| ApiError::new("InvalidToken", "Invalid Token"))?,
        ),
        None => None,
    };
    let page = engine.history(&arn, from, reverse, max, include).await?;
    let mut out = json!({"events": page.events});
    if let Some(n) = page.next {
        out["nextToken"] = json!(token::make(&scope, &n.to_string(), engine.now()));
    }
    Ok(out)
}
