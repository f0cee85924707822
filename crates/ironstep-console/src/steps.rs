//! Step details derived from an execution's history: what happened in each state.
//!
//! A *visit* is one entry into a state (a state inside a Map body has one visit per iteration;
//! a loop makes several). Events are attributed to visits by following `previousEventId`,
//! which the engine (like AWS) chains per branch and per iteration, not by event order: the
//! events of parallel branches interleave. Rules:
//! - a `…StateEntered` whose previous event is a `MapIterationStarted` or a
//!   `ParallelStateStarted` opens a visit in that iteration or branch (a branch's index comes
//!   from the definition: state names are unique in a whole machine); otherwise it is a sibling
//!   of the previous event's visit;
//! - a `…StateExited` and the Parallel/Map lifecycle events belong to the nearest enclosing
//!   visit of that state, found by walking up from the previous event's visit (AWS points a
//!   `ParallelStateExited` at the last event of a branch);
//! - task, activity and Lambda events belong to the previous event's visit.
//!
//! Pure: works on the `GetExecutionHistory` JSON, with no engine or store.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use serde_json::{Map, Value};

/// What happened to a state (or an iteration, or a branch). The console colours by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Left normally.
    Succeeded,
    /// Failed and the failure was not caught here (the error went up).
    Failed,
    /// Failed and left through a `Catch`.
    Caught,
    /// Still running.
    InProgress,
    /// Stopped from outside: the execution was stopped or timed out, or a sibling branch
    /// failed.
    Cancelled,
}

impl StepStatus {
    /// Which status a state with several visits shows: the most telling one.
    fn weight(self) -> u8 {
        match self {
            StepStatus::InProgress => 5,
            StepStatus::Failed => 4,
            StepStatus::Caught => 3,
            StepStatus::Cancelled => 2,
            StepStatus::Succeeded => 1,
        }
    }

    fn worst(a: Option<StepStatus>, b: StepStatus) -> StepStatus {
        match a {
            Some(a) if a.weight() >= b.weight() => a,
            _ => b,
        }
    }
}

/// One level of nesting: an iteration of a Map or a branch of a Parallel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SegKind {
    /// A Map iteration.
    Iteration,
    /// A Parallel branch.
    Branch,
}

/// Where a visit happened: inside `visit` (a Map or Parallel visit), iteration or branch `index`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PathSeg {
    /// The Map or Parallel state.
    pub state: String,
    /// The Map or Parallel visit.
    pub visit: usize,
    /// Iteration or branch.
    pub kind: SegKind,
    /// Its index.
    pub index: u64,
}

/// One try of a task.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    /// The `…Scheduled` event.
    pub scheduled_event: u64,
    /// When it was scheduled (epoch seconds, as history timestamps).
    pub scheduled_at: f64,
    /// When a worker or the integration started it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<f64>,
    /// When it ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<f64>,
    /// How it ended (in progress while open).
    pub status: StepStatus,
    /// Error of a failed try.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Cause of a failed try.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

/// The status of one Map iteration or Parallel branch.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sub {
    /// Iteration or branch index.
    pub index: u64,
    /// What happened in it.
    pub status: StepStatus,
}

/// One entry into a state.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Visit {
    /// Position in [`Steps::visits`].
    pub id: usize,
    /// The state.
    pub name: String,
    /// Its type (`Task`, `Map`, ...).
    pub state_type: String,
    /// Enclosing iterations and branches, outermost first.
    pub path: Vec<PathSeg>,
    /// What happened.
    pub status: StepStatus,
    /// The `…StateEntered` event.
    pub entered_event: u64,
    /// The `…StateExited` event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exited_event: Option<u64>,
    /// Entered at (epoch seconds).
    pub entered_at: f64,
    /// Exited at, or when it failed or was cancelled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<f64>,
    /// The state's input (JSON text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// The state's output (JSON text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// The last error seen in this visit (caught or not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Its cause.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// Task `resourceType` (`lambda`, `states`, ...; `activity` and `lambda-function` for the
    /// ARN forms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// Task `resource`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// What the task was called with (JSON text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<String>,
    /// The task's result before the state's output processing (JSON text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_output: Option<String>,
    /// Tries of a task (a retried task has several).
    pub attempts: Vec<Attempt>,
    /// Executions this visit started (`states:startExecution` and `aws-sdk:sfn:startExecution`).
    pub children: Vec<String>,
    /// Map iterations.
    pub iterations: Vec<Sub>,
    /// Parallel branches.
    pub branches: Vec<Sub>,
    /// Ids of the events that belong to this visit.
    pub events: Vec<u64>,
    #[serde(skip)]
    parent: Option<(usize, SegKind, u64)>,
    #[serde(skip)]
    failed: bool,
    #[serde(skip)]
    aborted: bool,
}

impl Visit {
    /// Retries made (tries after the first).
    pub fn retries(&self) -> usize {
        self.attempts.len().saturating_sub(1)
    }

    /// Drop inputs, outputs and parameters (summaries).
    fn strip_data(&mut self) {
        self.input = None;
        self.output = None;
        self.parameters = None;
        self.task_output = None;
        self.cause = None;
    }
}

/// The status of a state over all its visits.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StateSummary {
    /// The state.
    pub name: String,
    /// The most telling status of its visits.
    pub status: StepStatus,
    /// Its visits, in order.
    pub visits: Vec<usize>,
}

/// Everything derived from a history.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Steps {
    /// Visited states, in order of first entry (states never entered are not listed).
    pub states: Vec<StateSummary>,
    /// Every visit, in order of entry.
    pub visits: Vec<Visit>,
    /// The id of the last event read.
    pub last_event_id: u64,
}

impl Steps {
    /// Keep only what a graph needs: statuses, paths and event ids (no data).
    pub fn summary(mut self) -> Steps {
        for v in &mut self.visits {
            v.strip_data();
        }
        self
    }

    /// Keep the visits of one state only (with their data).
    pub fn only_state(mut self, name: &str) -> Steps {
        self.visits.retain(|v| v.name == name);
        self.states.retain(|s| s.name == name);
        self
    }
}

/// State name → index of the Parallel branch that holds it, from the definition.
fn branch_index(definition: &Value) -> HashMap<String, usize> {
    fn walk(states: &Map<String, Value>, out: &mut HashMap<String, usize>) {
        for st in states.values() {
            let scopes: Vec<(Option<usize>, &Value)> = match st.get("Type").and_then(Value::as_str)
            {
                Some("Parallel") => st
                    .get("Branches")
                    .and_then(Value::as_array)
                    .map(|b| b.iter().enumerate().map(|(i, b)| (Some(i), b)).collect())
                    .unwrap_or_default(),
                Some("Map") => st
                    .get("ItemProcessor")
                    .or_else(|| st.get("Iterator"))
                    .map(|b| vec![(None, b)])
                    .unwrap_or_default(),
                _ => Vec::new(),
            };
            for (i, scope) in scopes {
                if let Some(inner) = scope.get("States").and_then(Value::as_object) {
                    if let Some(i) = i {
                        for name in inner.keys() {
                            out.insert(name.clone(), i);
                        }
                    }
                    walk(inner, out);
                }
            }
        }
    }
    let mut out = HashMap::new();
    if let Some(states) = definition.get("States").and_then(Value::as_object) {
        walk(states, &mut out);
    }
    out
}

/// Every state of a definition by name (nested ones included).
fn state_defs(definition: &Value) -> HashMap<&str, &Value> {
    fn walk<'a>(states: &'a Map<String, Value>, out: &mut HashMap<&'a str, &'a Value>) {
        for (name, st) in states {
            out.insert(name.as_str(), st);
            let scopes = st
                .get("Branches")
                .and_then(Value::as_array)
                .map(|b| b.iter().collect::<Vec<_>>())
                .unwrap_or_default()
                .into_iter()
                .chain(st.get("ItemProcessor").or_else(|| st.get("Iterator")));
            for scope in scopes {
                if let Some(inner) = scope.get("States").and_then(Value::as_object) {
                    walk(inner, out);
                }
            }
        }
    }
    let mut out = HashMap::new();
    if let Some(states) = definition.get("States").and_then(Value::as_object) {
        walk(states, &mut out);
    }
    out
}

fn details(e: &Value) -> Option<&Map<String, Value>> {
    e.as_object()?
        .iter()
        .find(|(k, _)| k.ends_with("EventDetails"))
        .and_then(|(_, v)| v.as_object())
}

fn text(d: Option<&Map<String, Value>>, key: &str) -> Option<String> {
    d.and_then(|d| d.get(key))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Execution ARNs in a `StartExecution` response (`ExecutionArn`, as the integration returns).
fn started_execution(output: &str) -> Option<String> {
    let v: Value = serde_json::from_str(output).ok()?;
    v.get("ExecutionArn")
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn find_up(
    visits: &[Visit],
    mut at: Option<usize>,
    pred: impl Fn(&Visit) -> bool,
) -> Option<usize> {
    // Bounded by the nesting depth; the guard stops a malformed (cyclic) parent chain.
    for _ in 0..=visits.len() {
        let v = at?;
        if pred(&visits[v]) {
            return Some(v);
        }
        at = visits[v].parent.map(|p| p.0);
    }
    None
}

fn is_failure(ty: &str) -> bool {
    ty.ends_with("Failed") || ty.ends_with("TimedOut")
}

/// Derive per-state details from a history (events in `GetExecutionHistory` shape, ascending),
/// the definition (for branch indices; optional) and the execution's status (`RUNNING`, ...).
pub fn derive(events: &[Value], definition: Option<&Value>, execution_status: &str) -> Steps {
    let branch_of = definition.map(branch_index).unwrap_or_default();
    let mut visits: Vec<Visit> = Vec::new();
    let mut visit_of: HashMap<u64, usize> = HashMap::new();
    let mut iteration_start: HashMap<u64, (usize, u64)> = HashMap::new();
    let mut parallel_start: HashSet<u64> = HashSet::new();
    // Branch indices seen per Parallel visit when the definition does not tell.
    let mut seen_branches: HashMap<usize, Vec<String>> = HashMap::new();
    let mut last_event_id = 0;
    let running = execution_status == "RUNNING";

    for e in events {
        let Some(id) = e.get("id").and_then(Value::as_u64) else {
            continue;
        };
        last_event_id = last_event_id.max(id);
        let prev = e
            .get("previousEventId")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let ty = e.get("type").and_then(Value::as_str).unwrap_or("");
        let ts = e.get("timestamp").and_then(Value::as_f64).unwrap_or(0.0);
        let d = details(e);
        let from_prev = visit_of.get(&prev).copied();
        let name = text(d, "name");

        let owner: Option<usize> = if let Some(state_type) = ty.strip_suffix("StateEntered") {
            let name = name.unwrap_or_default();
            let parent = if let Some(&(mv, index)) = iteration_start.get(&prev) {
                Some((mv, SegKind::Iteration, index))
            } else if let (true, Some(pv)) = (parallel_start.contains(&prev), from_prev) {
                let index = match branch_of.get(&name) {
                    Some(i) => *i as u64,
                    None => {
                        let seen = seen_branches.entry(pv).or_default();
                        if !seen.contains(&name) {
                            seen.push(name.clone());
                        }
                        seen.iter().position(|n| *n == name).unwrap_or(0) as u64
                    }
                };
                Some((pv, SegKind::Branch, index))
            } else {
                from_prev.and_then(|v| visits[v].parent)
            };
            let path = match parent {
                Some((pv, kind, index)) => {
                    let mut p = visits[pv].path.clone();
                    p.push(PathSeg {
                        state: visits[pv].name.clone(),
                        visit: pv,
                        kind,
                        index,
                    });
                    p
                }
                None => Vec::new(),
            };
            let v = visits.len();
            visits.push(Visit {
                id: v,
                name,
                state_type: state_type.to_string(),
                path,
                status: StepStatus::InProgress,
                entered_event: id,
                exited_event: None,
                entered_at: ts,
                ended_at: None,
                input: text(d, "input"),
                output: None,
                error: None,
                cause: None,
                resource_type: None,
                resource: None,
                parameters: None,
                task_output: None,
                attempts: Vec::new(),
                children: Vec::new(),
                iterations: Vec::new(),
                branches: Vec::new(),
                events: Vec::new(),
                parent,
                failed: false,
                aborted: false,
            });
            Some(v)
        } else if ty.ends_with("StateExited") {
            let name = name.unwrap_or_default();
            let v = find_up(&visits, from_prev, |v| {
                v.name == name && v.exited_event.is_none()
            })
            .or_else(|| {
                visits
                    .iter()
                    .rposition(|v| v.name == name && v.exited_event.is_none())
            });
            if let Some(v) = v {
                let visit = &mut visits[v];
                visit.exited_event = Some(id);
                visit.ended_at = Some(ts);
                visit.output = text(d, "output");
            }
            v
        } else if ty.starts_with("MapIteration") {
            let name = name.unwrap_or_default();
            let index = d
                .and_then(|d| d.get("index"))
                .and_then(Value::as_u64)
                .unwrap_or(0);
            let v = find_up(&visits, from_prev, |v| {
                v.name == name && v.state_type == "Map"
            });
            if let Some(v) = v {
                let status = match ty {
                    "MapIterationStarted" => StepStatus::InProgress,
                    "MapIterationSucceeded" => StepStatus::Succeeded,
                    "MapIterationFailed" => StepStatus::Failed,
                    _ => StepStatus::Cancelled,
                };
                if ty == "MapIterationStarted" {
                    iteration_start.insert(id, (v, index));
                }
                let its = &mut visits[v].iterations;
                match its.iter_mut().find(|s| s.index == index) {
                    Some(s) => s.status = status,
                    None => its.push(Sub { index, status }),
                }
            }
            v
        } else if let Some(rest) = ty
            .strip_prefix("ParallelState")
            .map(|r| ("Parallel", r))
            .or_else(|| ty.strip_prefix("MapState").map(|r| ("Map", r)))
            .or_else(|| ty.strip_prefix("MapRun").map(|r| ("Map", r)))
        {
            let (state_type, what) = rest;
            let v = find_up(&visits, from_prev, |v| {
                v.state_type == state_type && v.exited_event.is_none()
            });
            if let Some(v) = v {
                let visit = &mut visits[v];
                match what {
                    "Started" if ty == "ParallelStateStarted" => {
                        parallel_start.insert(id);
                    }
                    "Failed" => visit.failed = true,
                    "Aborted" => visit.aborted = true,
                    "Succeeded" => visit.failed = false,
                    _ => {}
                }
                if ty == "MapRunFailed" {
                    visit.error = text(d, "error").or(visit.error.take());
                    visit.cause = text(d, "cause").or(visit.cause.take());
                }
            }
            v
        } else if ty == "EvaluationFailed" {
            let state = text(d, "state").unwrap_or_default();
            let v = find_up(&visits, from_prev, |v| v.name == state).or(from_prev);
            if let Some(v) = v {
                let visit = &mut visits[v];
                visit.failed = true;
                visit.error = text(d, "error");
                visit.cause = text(d, "cause");
            }
            v
        } else if ty.starts_with("Execution") {
            if ty == "ExecutionFailed" || ty == "ExecutionTimedOut" {
                // The error surfaces from the state that was running when it ended.
                if let Some(v) = from_prev.filter(|&v| visits[v].exited_event.is_none()) {
                    let visit = &mut visits[v];
                    if visit.error.is_none() {
                        visit.error = text(d, "error");
                        visit.cause = text(d, "cause");
                    }
                }
            }
            None
        } else {
            // Task, activity, Lambda and Wait events: the previous event's visit.
            if let Some(v) = from_prev {
                task_event(&mut visits[v], ty, ts, d, id);
            }
            from_prev
        };
        if let Some(v) = owner {
            visit_of.insert(id, v);
            visits[v].events.push(id);
        }
    }

    // Final statuses, innermost first is not needed: a visit's status depends only on itself.
    for v in &mut visits {
        v.status = if v.exited_event.is_some() {
            if v.failed {
                StepStatus::Caught
            } else {
                StepStatus::Succeeded
            }
        } else if v.aborted {
            StepStatus::Cancelled
        } else if v.state_type == "Fail" {
            // A Fail state ends its branch at once, even while the execution runs on.
            StepStatus::Failed
        } else if running {
            StepStatus::InProgress
        } else if v.failed {
            StepStatus::Failed
        } else {
            StepStatus::Cancelled
        };
        if v.ended_at.is_none() && v.status != StepStatus::InProgress {
            v.ended_at = v
                .attempts
                .last()
                .and_then(|a| a.ended_at)
                .or(Some(v.entered_at));
        }
        for it in &mut v.iterations {
            if it.status == StepStatus::InProgress && !running {
                it.status = StepStatus::Cancelled;
            }
        }
        for a in &mut v.attempts {
            if a.status == StepStatus::InProgress && !running {
                a.status = StepStatus::Cancelled;
            }
        }
    }
    // A Fail state records its error in no event when it is caught further up (inside a Map
    // or Parallel): take its static Error and Cause from the definition.
    if let Some(def) = definition {
        let defs = state_defs(def);
        for v in &mut visits {
            if v.state_type == "Fail" && v.error.is_none() {
                let st = defs.get(v.name.as_str());
                v.error = st
                    .and_then(|s| s.get("Error"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                v.cause = st
                    .and_then(|s| s.get("Cause"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
            }
        }
    }
    // A failed Map or Parallel shows the error of what failed inside it.
    for i in 0..visits.len() {
        if !visits[i].failed || visits[i].error.is_some() {
            continue;
        }
        let inner = visits.iter().find(|c| {
            c.status == StepStatus::Failed
                && c.error.is_some()
                && c.path.iter().any(|p| p.visit == i)
        });
        if let Some(c) = inner {
            let (error, cause) = (c.error.clone(), c.cause.clone());
            visits[i].error = error;
            visits[i].cause = cause;
        }
    }
    // Branch statuses from the visits inside them.
    let mut branch_status: HashMap<(usize, u64), StepStatus> = HashMap::new();
    for v in &visits {
        if let Some((pv, SegKind::Branch, index)) = v.parent {
            let e = branch_status.get(&(pv, index)).copied();
            branch_status.insert((pv, index), StepStatus::worst(e, v.status));
        }
    }
    let mut keys: Vec<_> = branch_status.into_iter().collect();
    keys.sort_by_key(|((pv, i), _)| (*pv, *i));
    for ((pv, index), status) in keys {
        visits[pv].branches.push(Sub { index, status });
    }

    let mut states: Vec<StateSummary> = Vec::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    for v in &visits {
        match by_name.get(&v.name) {
            Some(&i) => {
                let s = &mut states[i];
                s.status = StepStatus::worst(Some(s.status), v.status);
                s.visits.push(v.id);
            }
            None => {
                by_name.insert(v.name.clone(), states.len());
                states.push(StateSummary {
                    name: v.name.clone(),
                    status: v.status,
                    visits: vec![v.id],
                });
            }
        }
    }
    Steps {
        states,
        visits,
        last_event_id,
    }
}

/// Record a task, activity, Lambda or Wait event in its visit.
fn task_event(v: &mut Visit, ty: &str, ts: f64, d: Option<&Map<String, Value>>, id: u64) {
    if ty.ends_with("Scheduled") {
        v.attempts.push(Attempt {
            scheduled_event: id,
            scheduled_at: ts,
            started_at: None,
            ended_at: None,
            status: StepStatus::InProgress,
            error: None,
            cause: None,
        });
        v.failed = false;
        match ty {
            "TaskScheduled" => {
                v.resource_type = text(d, "resourceType");
                v.resource = text(d, "resource");
                v.parameters = text(d, "parameters");
            }
            "ActivityScheduled" => {
                v.resource_type = Some("activity".into());
                v.resource = text(d, "resource");
                v.parameters = text(d, "input");
            }
            "LambdaFunctionScheduled" => {
                v.resource_type = Some("lambda-function".into());
                v.resource = text(d, "resource");
                v.parameters = text(d, "input");
            }
            _ => {}
        }
        return;
    }
    if ty.ends_with("StateAborted") {
        v.aborted = true;
        if let Some(a) = v.attempts.last_mut().filter(|a| a.ended_at.is_none()) {
            a.ended_at = Some(ts);
            a.status = StepStatus::Cancelled;
        }
        return;
    }
    if ty.ends_with("Started") {
        if let Some(a) = v.attempts.last_mut() {
            a.started_at = Some(ts);
        }
        return;
    }
    let starts_child = v.resource_type.as_deref() == Some("states")
        && v.resource
            .as_deref()
            .is_some_and(|r| r.starts_with("startExecution"))
        || v.resource_type.as_deref() == Some("aws-sdk:sfn")
            && v.resource.as_deref() == Some("startExecution");
    if ty.ends_with("Submitted") || ty.ends_with("Succeeded") {
        let output = text(d, "output");
        if let (true, Some(o)) = (starts_child, &output)
            && let Some(child) = started_execution(o)
            && !v.children.contains(&child)
        {
            v.children.push(child);
        }
        if ty.ends_with("Succeeded") {
            v.task_output = output;
            v.failed = false;
            if let Some(a) = v.attempts.last_mut() {
                a.ended_at = Some(ts);
                a.status = StepStatus::Succeeded;
            }
        }
        return;
    }
    if is_failure(ty) {
        v.failed = true;
        v.error = text(d, "error");
        v.cause = text(d, "cause");
        if let Some(a) = v.attempts.last_mut() {
            a.ended_at = Some(ts);
            a.status = StepStatus::Failed;
            a.error = v.error.clone();
            a.cause = v.cause.clone();
        }
    }
}

#[cfg(test)]
mod tests;
