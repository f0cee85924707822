//! Checks on the shape of the state graph, done on the raw JSON so that they run even when some
//! states fail to parse (AWS reports them together): every list has a terminal state, and every
//! state can be reached from `StartAt`.

use std::collections::{HashMap, HashSet, VecDeque};

use serde_json::Value;

use crate::diagnostic::{Code, Diagnostic, pointer_escape};

/// Check every state list of the definition, nested ones included.
pub(crate) fn check(root: &Value, out: &mut Vec<Diagnostic>) {
    if let Some(obj) = root.as_object() {
        check_list(obj, "", out);
    }
}

fn check_list(list: &serde_json::Map<String, Value>, loc: &str, out: &mut Vec<Diagnostic>) {
    let Some(states) = list.get("States").and_then(Value::as_object) else {
        return;
    };
    if states.is_empty() || !list.contains_key("StartAt") {
        return; // reported by the parser
    }
    // Nested lists first-class: Parallel branches and Map processors.
    for (name, state) in states {
        let state_loc = format!("{loc}/States/{}", pointer_escape(name));
        if let Some(branches) = state.get("Branches").and_then(Value::as_array) {
            for (i, b) in branches.iter().enumerate() {
                if let Some(b) = b.as_object() {
                    check_list(b, &format!("{state_loc}/Branches[{i}]"), out);
                }
            }
        }
        for key in ["ItemProcessor", "Iterator"] {
            if let Some(p) = state.get(key).and_then(Value::as_object) {
                check_list(p, &format!("{state_loc}/{key}"), out);
            }
        }
    }
    let terminal = |s: &Value| {
        matches!(
            s.get("Type").and_then(Value::as_str),
            Some("Succeed" | "Fail")
        ) || s.get("End") == Some(&Value::Bool(true))
    };
    if !states.values().any(terminal) {
        out.push(Diagnostic::new(
            Code::MissingEndState,
            "Workflow has no terminal state",
            None,
        ));
        return;
    }
    let Some(start) = list.get("StartAt").and_then(Value::as_str) else {
        return;
    };
    if !states.contains_key(start) {
        return; // reported by the parser as a missing target
    }
    let mut edges: HashMap<&str, Vec<&str>> = HashMap::new();
    for (name, s) in states {
        let mut targets: Vec<&str> = Vec::new();
        for v in [s.get("Next"), s.get("Default")] {
            if let Some(t) = v.and_then(Value::as_str) {
                targets.push(t);
            }
        }
        for key in ["Choices", "Catch"] {
            if let Some(arr) = s.get(key).and_then(Value::as_array) {
                for rule in arr {
                    if let Some(t) = rule.get("Next").and_then(Value::as_str) {
                        targets.push(t);
                    }
                }
            }
        }
        edges.entry(name.as_str()).or_default().extend(targets);
    }
    let mut seen: HashSet<&str> = HashSet::new();
    let mut queue = VecDeque::from([start]);
    while let Some(n) = queue.pop_front() {
        if !seen.insert(n) {
            continue;
        }
        if let Some(next) = edges.get(n) {
            queue.extend(next.iter().copied().filter(|t| states.contains_key(*t)));
        }
    }
    for name in states.keys() {
        if !seen.contains(name.as_str()) {
            out.push(Diagnostic::new(
                Code::MissingTransitionTarget,
                format!("State \"{name}\" is not reachable."),
                Some(format!("{loc}/States/{}", pointer_escape(name))),
            ));
        }
    }
}
