//! Definition JSON → compiled [`Definition`], collecting every problem as a [`Diagnostic`].
//!
//! The parser walks the JSON by hand rather than through serde derive so that each problem points
//! at the narrowest location (`/States/Foo/Retry/0/BackoffRate`) and says what AWS would say.

use std::collections::HashMap;
use std::sync::Arc;

use ironstep_jsonata::{Expression, Template as JsonataTemplate};
use ironstep_query::path::Path;
use ironstep_query::template::{Expr, Template};
use serde_json::{Map as JsonMap, Value};

use crate::diagnostic::{Code, Diagnostic, pointer_escape};
use crate::model::*;
use crate::resource::{Pattern, Resource};
use crate::{CompileOptions, StateMachineType};

/// The largest value ASL accepts for second counts (`TimeoutSeconds`, `Seconds`, `IntervalSeconds`...).
const MAX_SECONDS: f64 = 99_999_999.0;

pub(crate) struct Parser<'o> {
    pub(crate) diagnostics: Vec<Diagnostic>,
    states: Vec<Option<State>>,
    scopes: Vec<Option<Scope>>,
    names: HashMap<Arc<str>, StateId>,
    /// Top-level query language: nested states inherit it, never a Parallel/Map override.
    top_language: QueryLanguage,
    /// Whether the JSONata being compiled is a catcher's `Output`/`Assign`, the one place
    /// `$states.errorOutput` exists.
    in_catcher: bool,
    opts: &'o CompileOptions,
}

/// The object of one JSON node with bookkeeping of which keys were read, so that unknown fields
/// can be reported.
struct Fields<'a> {
    map: &'a JsonMap<String, Value>,
    used: Vec<&'a str>,
    loc: String,
}

impl<'a> Fields<'a> {
    fn new(map: &'a JsonMap<String, Value>, loc: impl Into<String>) -> Self {
        Fields {
            map,
            used: Vec::new(),
            loc: loc.into(),
        }
    }

    fn get(&mut self, key: &'a str) -> Option<&'a Value> {
        let v = self.map.get(key);
        if v.is_some() {
            self.used.push(key);
        }
        v
    }

    fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    fn at(&self, key: &str) -> String {
        format!("{}/{}", self.loc, pointer_escape(key))
    }

    fn unknown(&self) -> Vec<&'a str> {
        self.map
            .keys()
            .map(String::as_str)
            .filter(|k| !self.used.contains(k))
            .collect()
    }
}

/// AWS's schema message for a field whose JSON type is wrong (string fields).
const EXPECTED_STRING: &str = "Expected value of type [STRING]";
/// ... for object fields.
const EXPECTED_OBJECT: &str = "Expected value of type [OBJECT]";
/// ... for array fields.
const EXPECTED_ARRAY: &str = "Expected value of type [ARRAY]";

/// Fields that only JSONPath states may carry.
const JSONPATH_ONLY: &[&str] = &[
    "InputPath",
    "Parameters",
    "ResultSelector",
    "ResultPath",
    "OutputPath",
    "Result",
    "TimeoutSecondsPath",
    "HeartbeatSecondsPath",
    "ItemsPath",
    "MaxConcurrencyPath",
    "ToleratedFailurePercentagePath",
    "ToleratedFailureCountPath",
    "SecondsPath",
    "TimestampPath",
    "ErrorPath",
    "CausePath",
];

/// Fields that only JSONata states may carry.
const JSONATA_ONLY: &[&str] = &["Output", "Arguments", "Items"];

impl<'o> Parser<'o> {
    pub(crate) fn new(opts: &'o CompileOptions) -> Self {
        Parser {
            diagnostics: Vec::new(),
            states: Vec::new(),
            scopes: Vec::new(),
            names: HashMap::new(),
            top_language: QueryLanguage::JsonPath,
            in_catcher: false,
            opts,
        }
    }

    fn schema(&mut self, message: impl Into<String>, location: impl Into<String>) {
        self.diagnostics.push(Diagnostic::schema(message, location));
    }

    fn diag(&mut self, code: Code, message: impl Into<String>, location: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::new(code, message, Some(location.into())));
    }

    /// Parse a whole definition document.
    pub(crate) fn definition(mut self, root: &Value) -> (Option<Definition>, Vec<Diagnostic>) {
        let Some(obj) = root.as_object() else {
            self.diagnostics.push(Diagnostic::new(
                Code::SchemaValidationFailed,
                "Definition must be a valid JSON object",
                None,
            ));
            return (None, self.diagnostics);
        };
        let mut f = Fields::new(obj, "");
        let mut missing = Vec::new();
        if !f.has("States") {
            missing.push("States");
        }
        if !f.has("StartAt") {
            missing.push("StartAt");
        }
        if !missing.is_empty() {
            self.schema(
                format!("These fields are required: [{}]", missing.join(", ")),
                "/",
            );
            return (None, self.diagnostics);
        }
        let comment = self.opt_string(&mut f, "Comment");
        let version = self.opt_string(&mut f, "Version");
        if let Some(v) = &version
            && v != "1.0"
        {
            self.schema(
                format!("Version '{v}' is not supported, only '1.0'"),
                "/Version",
            );
        }
        let timeout_seconds = match f.get("TimeoutSeconds") {
            None => None,
            Some(v) => match positive_int(v) {
                Some(n) => Some(n),
                None => {
                    self.schema(
                        "The value for the field 'TimeoutSeconds' must be a positive integer",
                        "/TimeoutSeconds",
                    );
                    None
                }
            },
        };
        self.top_language = match f.get("QueryLanguage") {
            None => QueryLanguage::JsonPath,
            Some(v) => self.query_language(v, "/QueryLanguage"),
        };
        let top = self.scope(&mut f, "", None);
        for key in f.unknown() {
            self.schema(format!("Field '{key}' is not supported"), "/");
        }
        if top.is_none() || self.diagnostics.iter().any(Diagnostic::is_error) {
            return (None, self.diagnostics);
        }
        let states: Vec<State> = self.states.into_iter().flatten().collect();
        let scopes: Vec<Scope> = self.scopes.into_iter().flatten().collect();
        let def = Definition {
            comment,
            version,
            timeout_seconds,
            query_language: self.top_language,
            states,
            scopes,
            by_name: self.names,
        };
        (Some(def), self.diagnostics)
    }

    /// AWS resolves a declared language to JSONPath only for the exact string `JSONPath`;
    /// anything else counts as JSONata, and the bad value is reported at the field on top
    /// (measured with ValidateStateMachineDefinition, floci-io/floci#2968).
    fn query_language(&mut self, v: &Value, loc: &str) -> QueryLanguage {
        match v.as_str() {
            Some("JSONPath") => QueryLanguage::JsonPath,
            Some("JSONata") => QueryLanguage::Jsonata,
            Some(_) => {
                self.schema(
                    "Value should be one of the following: [JSONPath, JSONata]",
                    loc,
                );
                QueryLanguage::Jsonata
            }
            None => {
                self.schema(EXPECTED_STRING, loc);
                QueryLanguage::Jsonata
            }
        }
    }

    /// Parse `StartAt` + `States` of a state list. `f` is the object holding them.
    fn scope(&mut self, f: &mut Fields<'_>, loc: &str, owner: Option<StateId>) -> Option<ScopeId> {
        let start_at = f.get("StartAt");
        let states = f.get("States");
        let scope_id = ScopeId(self.scopes.len() as u32);
        self.scopes.push(None);
        let states_obj = match states {
            Some(Value::Object(m)) if !m.is_empty() => m,
            Some(Value::Object(_)) => {
                self.schema(
                    "The field 'States' must not be empty",
                    format!("{loc}/States"),
                );
                return None;
            }
            Some(_) => {
                self.schema(EXPECTED_OBJECT, format!("{loc}/States"));
                return None;
            }
            None => {
                self.schema("These fields are required: [States]", or_root(loc));
                return None;
            }
        };
        // Register every name of this list first, so that `Next` can be resolved while parsing.
        let mut local: HashMap<&str, StateId> = HashMap::new();
        let mut ids = Vec::with_capacity(states_obj.len());
        for name in states_obj.keys() {
            let id = StateId(self.states.len() as u32);
            self.states.push(None);
            let state_loc = format!("{loc}/States/{}", pointer_escape(name));
            if name.is_empty() || name.chars().count() > 80 {
                self.diag(
                    Code::InvalidStateName,
                    format!("State name '{name}' must be between 1 and 80 characters"),
                    state_loc.clone(),
                );
            } else if name.chars().any(|c| c.is_control()) {
                self.diag(
                    Code::InvalidStateName,
                    format!("State name '{name}' contains a control character"),
                    state_loc.clone(),
                );
            }
            let arc: Arc<str> = Arc::from(name.as_str());
            match self.names.entry(arc) {
                std::collections::hash_map::Entry::Occupied(_) => self.diag(
                    Code::DuplicateStateName,
                    format!("Duplicate State name: {name}"),
                    state_loc,
                ),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(id);
                }
            }
            local.insert(name.as_str(), id);
            ids.push(id);
        }
        let start = match start_at {
            Some(Value::String(s)) => match local.get(s.as_str()) {
                Some(id) => Some(*id),
                None => {
                    self.diag(
                        Code::MissingTransitionTarget,
                        format!("Missing 'Next' target: {s}"),
                        format!("{loc}/StartAt"),
                    );
                    None
                }
            },
            Some(_) => {
                self.schema(EXPECTED_STRING, format!("{loc}/StartAt"));
                None
            }
            None => {
                self.schema("These fields are required: [StartAt]", or_root(loc));
                None
            }
        };
        for ((name, value), id) in states_obj.iter().zip(ids.iter()) {
            let state_loc = format!("{loc}/States/{}", pointer_escape(name));
            let state = self.state(name, value, &state_loc, scope_id, &local, *id);
            self.states[id.0 as usize] = state;
        }
        let start = start?;
        self.scopes[scope_id.0 as usize] = Some(Scope {
            start_at: start,
            owner,
            states: ids,
        });
        Some(scope_id)
    }

    fn state(
        &mut self,
        name: &str,
        value: &Value,
        loc: &str,
        scope: ScopeId,
        local: &HashMap<&str, StateId>,
        id: StateId,
    ) -> Option<State> {
        let Some(obj) = value.as_object() else {
            self.schema("A state must be a JSON object", loc);
            return None;
        };
        let mut f = Fields::new(obj, loc);
        let ty = match f.get("Type") {
            Some(Value::String(t)) => t.as_str(),
            Some(_) => {
                self.schema(EXPECTED_STRING, f.at("Type"));
                return None;
            }
            None => {
                self.schema("These fields are required: [Type]", loc);
                return None;
            }
        };
        let mut downgraded = false;
        let language = match f.get("QueryLanguage") {
            None => self.top_language,
            Some(v) => {
                let l = self.query_language(v, &f.at("QueryLanguage"));
                if self.top_language == QueryLanguage::Jsonata && l == QueryLanguage::JsonPath {
                    downgraded = true;
                    self.schema(
                        "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
                        loc,
                    );
                }
                l
            }
        };
        self.opt_string(&mut f, "Comment");
        // Fields of the other query language get AWS's own message, before "not supported".
        // A refused downgrade is the whole answer for the state (measured by floci-io/floci#2972).
        let (wrong, lang_name, other_name) = match language {
            QueryLanguage::Jsonata => (JSONPATH_ONLY, "JSONata", "JSONPath"),
            QueryLanguage::JsonPath => (JSONATA_ONLY, "JSONPath", "JSONata"),
        };
        for key in wrong {
            if f.has(key) {
                f.used.push(key);
                if !downgraded {
                    self.schema(
                        format!(
                            "The QueryLanguage is set to '{lang_name}', but field '{key}' is only supported for the '{other_name}' QueryLanguage"
                        ),
                        loc,
                    );
                }
            }
        }
        let mut cx = StateCx {
            f,
            loc: loc.to_string(),
            language,
            local,
            id,
        };
        let kind = match ty {
            "Pass" => self.pass(&mut cx).map(StateKind::Pass),
            "Task" => self.task(&mut cx).map(|t| StateKind::Task(Box::new(t))),
            "Choice" => self.choice(&mut cx).map(StateKind::Choice),
            "Wait" => self.wait(&mut cx).map(StateKind::Wait),
            "Succeed" => {
                let flow = self.flow(&mut cx, FlowFields::IN_OUT);
                Some(StateKind::Succeed(Succeed { flow }))
            }
            "Fail" => self.fail(&mut cx).map(StateKind::Fail),
            "Parallel" => self
                .parallel(&mut cx)
                .map(|p| StateKind::Parallel(Box::new(p))),
            "Map" => self.map(&mut cx).map(|m| StateKind::Map(Box::new(m))),
            other => {
                self.schema(
                    format!(
                        "The value for the field 'Type' must be one of [Task, Pass, Choice, Wait, Succeed, Fail, Parallel, Map], but was '{other}'"
                    ),
                    cx.f.at("Type"),
                );
                return None;
            }
        };
        for key in cx.f.unknown() {
            self.schema(format!("Field '{key}' is not supported"), loc);
        }
        Some(State {
            name: Arc::from(name),
            scope,
            query_language: language,
            location: loc.to_string(),
            kind: kind?,
        })
    }

    // ---- state types -------------------------------------------------------------------------

    fn pass(&mut self, cx: &mut StateCx<'_, '_>) -> Option<Pass> {
        let next = self.transition(cx);
        let flow = self.flow(cx, FlowFields::ALL);
        let parameters = match (cx.language, cx.f.get("Parameters")) {
            (QueryLanguage::JsonPath, Some(v)) => self.jsonpath_template(v, &cx.f.at("Parameters")),
            _ => None,
        };
        let result = if cx.language == QueryLanguage::JsonPath {
            cx.f.get("Result").cloned()
        } else {
            None
        };
        if let Some(r) = &result
            && contains_dollar_key(r)
        {
            self.diag(
                Code::PassResultIsStatic,
                "The Result field of a Pass state is static: keys ending in '.$' are not evaluated",
                cx.f.at("Result"),
            );
        }
        Some(Pass {
            next: next?,
            flow,
            parameters,
            result,
        })
    }

    fn task(&mut self, cx: &mut StateCx<'_, '_>) -> Option<Task> {
        let next = self.transition(cx);
        let flow = self.flow(cx, FlowFields::ALL);
        let resource_text = match cx.f.get("Resource") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.schema(EXPECTED_STRING, cx.f.at("Resource"));
                None
            }
            None => {
                self.schema("These fields are required: [Resource]", cx.loc.clone());
                None
            }
        };
        let resource = resource_text
            .as_ref()
            .and_then(|text| match Resource::parse(text) {
                Ok(r) => Some(r),
                Err(msg) => {
                    self.diag(Code::InvalidResource, msg, cx.f.at("Resource"));
                    None
                }
            });
        if let Some(r) = &resource
            && self.opts.machine_type == StateMachineType::Express
        {
            let at = cx.f.at("Resource");
            match (r, r.pattern()) {
                (Resource::Activity { .. }, _) => {
                    self.schema("Express state machine does not support Activity ARN", at)
                }
                (_, Pattern::Sync | Pattern::Sync2) => self.schema(
                    "Express state machine does not support '.sync' service integration ",
                    at,
                ),
                (_, Pattern::WaitForTaskToken) => self.schema(
                    "Express state machine does not support '.waitForTaskToken' service integration ",
                    at,
                ),
                _ => {}
            }
        }
        let parameters = self.payload(cx, "Parameters", "Arguments");
        let result_selector = match (cx.language, cx.f.get("ResultSelector")) {
            (QueryLanguage::JsonPath, Some(v)) => {
                self.jsonpath_template(v, &cx.f.at("ResultSelector"))
            }
            _ => None,
        };
        let timeout = self.number_field(cx, "TimeoutSeconds", NumberKind::PositiveInt);
        let heartbeat = self.number_field(cx, "HeartbeatSeconds", NumberKind::PositiveInt);
        if let (Some(NumberField::Literal(t)), Some(NumberField::Literal(h))) =
            (&timeout, &heartbeat)
            && h >= t
        {
            self.schema(
                "The value of 'HeartbeatSeconds' must be less than the value of 'TimeoutSeconds'",
                cx.f.at("HeartbeatSeconds"),
            );
        }
        let credentials = match cx.f.get("Credentials") {
            None => None,
            Some(v) if v.is_object() => match cx.language {
                QueryLanguage::JsonPath => self
                    .jsonpath_template(v, &cx.f.at("Credentials"))
                    .map(Payload::JsonPath),
                QueryLanguage::Jsonata => self
                    .jsonata_template(v, &cx.f.at("Credentials"))
                    .map(Payload::Jsonata),
            },
            Some(_) => {
                self.schema(EXPECTED_OBJECT, cx.f.at("Credentials"));
                None
            }
        };
        let retry = self.retriers(cx);
        let catch = self.catchers(cx);
        Some(Task {
            next: next?,
            flow,
            resource: resource?,
            resource_text: resource_text?,
            parameters,
            result_selector,
            timeout,
            heartbeat,
            credentials,
            retry,
            catch,
        })
    }

    fn choice(&mut self, cx: &mut StateCx<'_, '_>) -> Option<Choice> {
        if cx.f.has("Next") || cx.f.has("End") {
            for key in ["Next", "End"] {
                if cx.f.has(key) {
                    cx.f.used.push(key);
                    self.schema(format!("Field '{key}' is not supported"), cx.loc.clone());
                }
            }
        }
        let flow = self.flow(cx, FlowFields::IN_OUT);
        let default = match cx.f.get("Default") {
            None => None,
            Some(Value::String(s)) => self.target(cx, s, &cx.f.at("Default")),
            Some(_) => {
                self.schema(EXPECTED_STRING, cx.f.at("Default"));
                None
            }
        };
        let rules = match cx.f.get("Choices") {
            Some(Value::Array(a)) if !a.is_empty() => a,
            Some(Value::Array(_)) => {
                self.schema("The field 'Choices' must not be empty", cx.f.at("Choices"));
                return None;
            }
            Some(_) => {
                self.schema(EXPECTED_ARRAY, cx.f.at("Choices"));
                return None;
            }
            None => {
                self.schema("These fields are required: [Choices]", cx.loc.clone());
                return None;
            }
        };
        let mut choices = Vec::with_capacity(rules.len());
        let mut ok = true;
        for (i, rule) in rules.iter().enumerate() {
            let loc = format!("{}/Choices[{i}]", cx.loc);
            match self.choice_rule(cx, rule, &loc) {
                Some(r) => choices.push(r),
                None => ok = false,
            }
        }
        if !ok {
            return None;
        }
        Some(Choice {
            flow,
            choices,
            default,
        })
    }

    fn choice_rule(&mut self, cx: &StateCx<'_, '_>, rule: &Value, loc: &str) -> Option<ChoiceRule> {
        let Some(obj) = rule.as_object() else {
            self.schema("A Choice rule must be an object", loc);
            return None;
        };
        let mut f = Fields::new(obj, loc);
        self.opt_string(&mut f, "Comment");
        let next = match f.get("Next") {
            Some(Value::String(s)) => self.target(cx, s, &f.at("Next")),
            Some(_) => {
                self.schema(EXPECTED_STRING, f.at("Next"));
                None
            }
            None => {
                self.schema("These fields are required: [Next]", loc);
                None
            }
        };
        let assign = f
            .get("Assign")
            .and_then(|v| self.assign(cx.language, v, &f.at("Assign")));
        let output = match (cx.language, f.get("Output")) {
            (QueryLanguage::Jsonata, Some(v)) => self.jsonata_template(v, &f.at("Output")),
            (QueryLanguage::JsonPath, Some(_)) => {
                self.schema(
                    "The QueryLanguage is set to 'JSONPath', but field 'Output' is only supported for the 'JSONata' QueryLanguage",
                    loc,
                );
                None
            }
            _ => None,
        };
        let condition = self.condition(cx.language, &mut f, loc, true);
        for key in f.unknown() {
            self.schema(format!("Field '{key}' is not supported"), loc);
        }
        Some(ChoiceRule {
            condition: condition?,
            next: next?,
            assign,
            output,
        })
    }

    fn condition(
        &mut self,
        language: QueryLanguage,
        f: &mut Fields<'_>,
        loc: &str,
        top: bool,
    ) -> Option<Condition> {
        if language == QueryLanguage::Jsonata {
            return match f.get("Condition") {
                Some(Value::String(s)) => self
                    .jsonata_whole(s, &f.at("Condition"))
                    .map(Condition::Jsonata),
                Some(Value::Bool(b)) => {
                    // A literal boolean condition is allowed; compile it as an expression.
                    let src = if *b { "{% true %}" } else { "{% false %}" };
                    self.jsonata_whole(src, &f.at("Condition"))
                        .map(Condition::Jsonata)
                }
                Some(_) => {
                    self.schema(
                        "The field 'Condition' must be a JSONata expression",
                        f.at("Condition"),
                    );
                    None
                }
                None => {
                    self.schema("These fields are required: [Condition]", loc);
                    None
                }
            };
        }
        if !top && f.has("Next") {
            f.used.push("Next");
            self.schema("Field 'Next' is not supported", loc);
        }
        if let Some(v) = f.get("And") {
            return self
                .condition_list(language, v, &f.at("And"))
                .map(Condition::And);
        }
        if let Some(v) = f.get("Or") {
            return self
                .condition_list(language, v, &f.at("Or"))
                .map(Condition::Or);
        }
        if let Some(v) = f.get("Not") {
            let at = f.at("Not");
            let Some(obj) = v.as_object() else {
                self.schema(EXPECTED_OBJECT, at);
                return None;
            };
            let mut inner = Fields::new(obj, at.clone());
            let c = self.condition(language, &mut inner, &at, false);
            for key in inner.unknown() {
                self.schema(format!("Field '{key}' is not supported"), at.clone());
            }
            return c.map(|c| Condition::Not(Box::new(c)));
        }
        let variable = match f.get("Variable") {
            Some(Value::String(s)) => match Path::parse_reference(s) {
                Ok(p) => Some(p),
                Err(e) => {
                    self.schema(
                        format!("The value for the field 'Variable' must be a valid JSONPath: {e}"),
                        f.at("Variable"),
                    );
                    None
                }
            },
            Some(_) => {
                self.schema(EXPECTED_STRING, f.at("Variable"));
                None
            }
            None => None,
        };
        let mut found: Vec<(ComparisonOp, bool, &str)> = Vec::new();
        for (key, op, is_path) in COMPARISONS {
            if f.has(key) {
                found.push((*op, *is_path, key));
            }
        }
        if found.len() != 1 || variable.is_none() {
            if (found.is_empty() && variable.is_some()) || found.len() > 1 {
                self.schema(
                    "A Choice rule must have exactly one comparison operator",
                    loc,
                );
            } else if variable.is_none() && !f.has("Variable") {
                self.schema("These fields are required: [Variable]", loc);
            }
            for (_, _, k) in &found {
                f.get(k);
            }
            return None;
        }
        let (op, is_path, key) = found[0];
        let raw = f.get(key).expect("operator present");
        let at = f.at(key);
        let operand = if is_path {
            match raw.as_str().map(Path::parse_reference) {
                Some(Ok(p)) => Operand::Path(p),
                Some(Err(e)) => {
                    self.schema(
                        format!("The value for the field '{key}' must be a valid JSONPath: {e}"),
                        at,
                    );
                    return None;
                }
                None => {
                    self.schema(EXPECTED_STRING, at);
                    return None;
                }
            }
        } else {
            let ok = match op {
                ComparisonOp::StringEquals
                | ComparisonOp::StringLessThan
                | ComparisonOp::StringGreaterThan
                | ComparisonOp::StringLessThanEquals
                | ComparisonOp::StringGreaterThanEquals
                | ComparisonOp::StringMatches
                | ComparisonOp::TimestampEquals
                | ComparisonOp::TimestampLessThan
                | ComparisonOp::TimestampGreaterThan
                | ComparisonOp::TimestampLessThanEquals
                | ComparisonOp::TimestampGreaterThanEquals => raw.is_string(),
                ComparisonOp::NumericEquals
                | ComparisonOp::NumericLessThan
                | ComparisonOp::NumericGreaterThan
                | ComparisonOp::NumericLessThanEquals
                | ComparisonOp::NumericGreaterThanEquals => raw.is_number(),
                _ => raw.is_boolean(),
            };
            if !ok {
                let want = match op {
                    ComparisonOp::NumericEquals
                    | ComparisonOp::NumericLessThan
                    | ComparisonOp::NumericGreaterThan
                    | ComparisonOp::NumericLessThanEquals
                    | ComparisonOp::NumericGreaterThanEquals => "a number",
                    ComparisonOp::StringEquals
                    | ComparisonOp::StringLessThan
                    | ComparisonOp::StringGreaterThan
                    | ComparisonOp::StringLessThanEquals
                    | ComparisonOp::StringGreaterThanEquals
                    | ComparisonOp::StringMatches
                    | ComparisonOp::TimestampEquals
                    | ComparisonOp::TimestampLessThan
                    | ComparisonOp::TimestampGreaterThan
                    | ComparisonOp::TimestampLessThanEquals
                    | ComparisonOp::TimestampGreaterThanEquals => "a string",
                    _ => "a boolean",
                };
                self.schema(
                    format!("The value for the field '{key}' must be {want}"),
                    at,
                );
                return None;
            }
            Operand::Literal(raw.clone())
        };
        Some(Condition::Compare {
            variable: variable?,
            op,
            operand,
        })
    }

    fn condition_list(
        &mut self,
        language: QueryLanguage,
        v: &Value,
        loc: &str,
    ) -> Option<Vec<Condition>> {
        let Some(arr) = v.as_array().filter(|a| !a.is_empty()) else {
            self.schema("The field must be a non-empty array of Choice rules", loc);
            return None;
        };
        let mut out = Vec::with_capacity(arr.len());
        let mut ok = true;
        for (i, item) in arr.iter().enumerate() {
            let at = format!("{loc}[{i}]");
            let Some(obj) = item.as_object() else {
                self.schema("A Choice rule must be an object", at);
                ok = false;
                continue;
            };
            let mut f = Fields::new(obj, at.clone());
            self.opt_string(&mut f, "Comment");
            match self.condition(language, &mut f, &at, false) {
                Some(c) => out.push(c),
                None => ok = false,
            }
            for key in f.unknown() {
                self.schema(format!("Field '{key}' is not supported"), at.clone());
            }
        }
        ok.then_some(out)
    }

    fn wait(&mut self, cx: &mut StateCx<'_, '_>) -> Option<Wait> {
        let next = self.transition(cx);
        let flow = self.flow(cx, FlowFields::IN_OUT);
        let keys = ["Seconds", "Timestamp", "SecondsPath", "TimestampPath"];
        let present: Vec<&str> = keys.iter().copied().filter(|k| cx.f.has(k)).collect();
        if present.len() != 1 {
            for k in &present {
                cx.f.get(k);
            }
            self.schema(
                "A Wait state must have exactly one of [Seconds, Timestamp, SecondsPath, TimestampPath]",
                cx.loc.clone(),
            );
            return None;
        }
        let key = present[0];
        let v = cx.f.get(key).expect("present");
        let at = cx.f.at(key);
        let duration = match (key, cx.language) {
            ("Seconds", QueryLanguage::Jsonata) if v.is_string() => {
                WaitDuration::SecondsExpr(self.jsonata_whole(v.as_str().unwrap_or(""), &at)?)
            }
            ("Timestamp", QueryLanguage::Jsonata) if is_jsonata(v) => {
                WaitDuration::TimestampExpr(self.jsonata_whole(v.as_str().unwrap_or(""), &at)?)
            }
            ("Seconds", _) => match non_negative_int(v) {
                Some(n) if n as f64 <= MAX_SECONDS => WaitDuration::Seconds(n),
                _ => {
                    self.schema(
                        "The value for the field 'Seconds' must be a non-negative integer",
                        at,
                    );
                    return None;
                }
            },
            ("Timestamp", _) => match v.as_str() {
                Some(s) if crate::timestamp::parse(s).is_some() => {
                    WaitDuration::Timestamp(s.to_string())
                }
                _ => {
                    self.schema(
                        "The value for the field 'Timestamp' must be a valid ISO-8601 timestamp",
                        at,
                    );
                    return None;
                }
            },
            ("SecondsPath", _) => WaitDuration::SecondsPath(self.reference_path(v, &at)?),
            (_, _) => WaitDuration::TimestampPath(self.reference_path(v, &at)?),
        };
        Some(Wait {
            next: next?,
            flow,
            duration,
        })
    }

    fn fail(&mut self, cx: &mut StateCx<'_, '_>) -> Option<Fail> {
        let error = self.fail_field(cx, "Error", "ErrorPath");
        let cause = self.fail_field(cx, "Cause", "CausePath");
        Some(Fail { error, cause })
    }

    fn fail_field(
        &mut self,
        cx: &mut StateCx<'_, '_>,
        name: &'static str,
        path_name: &'static str,
    ) -> Option<FailField> {
        if cx.f.has(name) && cx.f.has(path_name) {
            cx.f.get(path_name);
            self.schema(
                format!("Only one of the fields '{name}' and '{path_name}' may be specified"),
                cx.loc.clone(),
            );
        }
        if let Some(v) = cx.f.get(name) {
            let at = cx.f.at(name);
            return match v {
                Value::String(s) if cx.language == QueryLanguage::Jsonata && is_jsonata(v) => {
                    self.jsonata_whole(s, &at).map(FailField::Jsonata)
                }
                Value::String(s) => Some(FailField::Literal(s.clone())),
                _ => {
                    self.schema(EXPECTED_STRING, at);
                    None
                }
            };
        }
        if cx.language == QueryLanguage::JsonPath
            && let Some(v) = cx.f.get(path_name)
        {
            let at = cx.f.at(path_name);
            let Some(s) = v.as_str() else {
                self.schema(EXPECTED_STRING, at);
                return None;
            };
            return match Expr::parse(s, path_name) {
                Ok(e) => Some(FailField::Expr(e)),
                Err(e) => {
                    self.schema(e.message().to_string(), at);
                    None
                }
            };
        }
        None
    }

    fn parallel(&mut self, cx: &mut StateCx<'_, '_>) -> Option<Parallel> {
        let next = self.transition(cx);
        let flow = self.flow(cx, FlowFields::ALL);
        let parameters = self.payload(cx, "Parameters", "Arguments");
        let result_selector = match (cx.language, cx.f.get("ResultSelector")) {
            (QueryLanguage::JsonPath, Some(v)) => {
                self.jsonpath_template(v, &cx.f.at("ResultSelector"))
            }
            _ => None,
        };
        // Retry and Catch first: a bad Branches field returns early, and must not leave them
        // unread (they would be reported as unsupported fields).
        let retry = self.retriers(cx);
        let catch = self.catchers(cx);
        let branches_v = match cx.f.get("Branches") {
            Some(Value::Array(a)) if !a.is_empty() => a,
            Some(_) => {
                self.schema(
                    "The field 'Branches' must be a non-empty array",
                    cx.f.at("Branches"),
                );
                return None;
            }
            None => {
                self.schema("These fields are required: [Branches]", cx.loc.clone());
                return None;
            }
        };
        let mut branches = Vec::with_capacity(branches_v.len());
        let mut ok = true;
        for (i, b) in branches_v.iter().enumerate() {
            let at = format!("{}/Branches[{i}]", cx.loc);
            let Some(obj) = b.as_object() else {
                self.schema("A branch must be an object", at);
                ok = false;
                continue;
            };
            let mut bf = Fields::new(obj, at.clone());
            self.opt_string(&mut bf, "Comment");
            match self.scope(&mut bf, &at, Some(cx.id)) {
                Some(s) => branches.push(s),
                None => ok = false,
            }
            for key in bf.unknown() {
                self.schema(format!("Field '{key}' is not supported"), at.clone());
            }
        }
        if !ok {
            return None;
        }
        Some(Parallel {
            next: next?,
            flow,
            branches,
            parameters,
            result_selector,
            retry,
            catch,
        })
    }

    fn map(&mut self, cx: &mut StateCx<'_, '_>) -> Option<Map> {
        let next = self.transition(cx);
        let flow = self.flow(cx, FlowFields::ALL);
        // As in `parallel`: every field is read before any early return, so that a bad one does
        // not make the others look unsupported.
        let retry = self.retriers(cx);
        let catch = self.catchers(cx);
        let items = match cx.language {
            QueryLanguage::JsonPath => match cx.f.get("ItemsPath") {
                None => Some(Items::Path(None)),
                Some(v) => self
                    .reference_path(v, &cx.f.at("ItemsPath"))
                    .map(|p| Items::Path(Some(p))),
            },
            QueryLanguage::Jsonata => match cx.f.get("Items") {
                None => Some(Items::Input),
                Some(v @ (Value::Array(_) | Value::String(_))) => self
                    .jsonata_template(v, &cx.f.at("Items"))
                    .map(Items::Jsonata),
                Some(_) => {
                    self.schema(
                        "The field 'Items' must be a JSON array or a JSONata expression",
                        cx.f.at("Items"),
                    );
                    None
                }
            },
        };
        let item_selector = if cx.f.has("ItemSelector") {
            let v = cx.f.get("ItemSelector").expect("present");
            let at = cx.f.at("ItemSelector");
            if cx.f.has("Parameters") {
                cx.f.get("Parameters");
                self.schema(
                    "Only one of the fields 'ItemSelector' and 'Parameters' may be specified",
                    cx.loc.clone(),
                );
            }
            match cx.language {
                QueryLanguage::JsonPath => self.jsonpath_template(v, &at).map(Payload::JsonPath),
                QueryLanguage::Jsonata => self.jsonata_template(v, &at).map(Payload::Jsonata),
            }
        } else if cx.language == QueryLanguage::JsonPath {
            cx.f.get("Parameters")
                .and_then(|v| self.jsonpath_template(v, &cx.f.at("Parameters")))
                .map(Payload::JsonPath)
        } else {
            None
        };
        let result_selector = match (cx.language, cx.f.get("ResultSelector")) {
            (QueryLanguage::JsonPath, Some(v)) => {
                self.jsonpath_template(v, &cx.f.at("ResultSelector"))
            }
            _ => None,
        };
        let max_concurrency = self.number_field(cx, "MaxConcurrency", NumberKind::NonNegativeInt);
        let tolerated_failure_percentage =
            self.number_field(cx, "ToleratedFailurePercentage", NumberKind::Percentage);
        let tolerated_failure_count =
            self.number_field(cx, "ToleratedFailureCount", NumberKind::NonNegativeInt);
        let label = match cx.f.get("Label") {
            None => None,
            Some(Value::String(s)) => {
                let bad = s.is_empty()
                    || s.chars().count() > 40
                    || s.chars().any(|c| {
                        c.is_whitespace() || c.is_control() || FORBIDDEN_NAME_CHARS.contains(c)
                    });
                if bad {
                    self.diag(
                        Code::InvalidLabelName,
                        format!("Label '{s}' must be 1 to 40 characters without whitespace or special characters"),
                        cx.f.at("Label"),
                    );
                }
                Some(s.clone())
            }
            Some(_) => {
                self.schema(EXPECTED_STRING, cx.f.at("Label"));
                None
            }
        };
        let item_reader = cx.f.get("ItemReader").cloned();
        let item_batcher = self.item_batcher(cx);
        let result_writer = cx.f.get("ResultWriter").cloned();
        let (proc_key, proc_v) = match (cx.f.get("ItemProcessor"), cx.f.get("Iterator")) {
            (Some(v), None) => ("ItemProcessor", v),
            (None, Some(v)) => ("Iterator", v),
            (Some(_), Some(_)) => {
                self.schema(
                    "Only one of the fields 'ItemProcessor' and 'Iterator' may be specified",
                    cx.loc.clone(),
                );
                return None;
            }
            (None, None) => {
                self.schema("These fields are required: [ItemProcessor]", cx.loc.clone());
                return None;
            }
        };
        let at = cx.f.at(proc_key);
        let Some(pobj) = proc_v.as_object() else {
            self.schema(EXPECTED_OBJECT, at);
            return None;
        };
        let mut pf = Fields::new(pobj, at.clone());
        self.opt_string(&mut pf, "Comment");
        let mut mode = MapMode::Inline;
        if let Some(pc) = pf.get("ProcessorConfig") {
            let pc_at = pf.at("ProcessorConfig");
            match pc.as_object() {
                Some(pco) => {
                    let mut pcf = Fields::new(pco, pc_at.clone());
                    match pcf.get("Mode").map(|m| m.as_str()) {
                        None | Some(Some("INLINE")) => {}
                        Some(Some("DISTRIBUTED")) => mode = MapMode::Distributed,
                        Some(_) => self.schema(
                            "Value should be one of the following: [INLINE, DISTRIBUTED]",
                            pcf.at("Mode"),
                        ),
                    }
                    match pcf.get("ExecutionType").map(|m| m.as_str()) {
                        None => {}
                        Some(Some("STANDARD" | "EXPRESS")) if mode == MapMode::Distributed => {}
                        Some(_) => self.schema(
                            "The value for the field 'ExecutionType' must be one of [STANDARD, EXPRESS] and only with Mode DISTRIBUTED",
                            pcf.at("ExecutionType"),
                        ),
                    }
                    for key in pcf.unknown() {
                        self.schema(format!("Field '{key}' is not supported"), pc_at.clone());
                    }
                }
                None => self.schema(EXPECTED_OBJECT, pc_at),
            }
        }
        let processor = self.scope(&mut pf, &at, Some(cx.id));
        for key in pf.unknown() {
            self.schema(format!("Field '{key}' is not supported"), at.clone());
        }
        if mode == MapMode::Inline {
            for (key, present) in [
                ("ItemReader", item_reader.is_some()),
                ("ItemBatcher", item_batcher.is_some()),
                ("ResultWriter", result_writer.is_some()),
            ] {
                if present {
                    self.schema(
                        format!(
                            "Field '{key}' is only supported for Map states in DISTRIBUTED mode"
                        ),
                        cx.loc.clone(),
                    );
                }
            }
        }
        Some(Map {
            next: next?,
            flow,
            processor: processor?,
            mode,
            items: items?,
            item_selector,
            result_selector,
            max_concurrency,
            tolerated_failure_percentage,
            tolerated_failure_count,
            label,
            item_reader,
            item_batcher,
            result_writer,
            retry,
            catch,
        })
    }

    // ---- shared fields -----------------------------------------------------------------------

    fn transition(&mut self, cx: &mut StateCx<'_, '_>) -> Option<Transition> {
        let next = cx.f.get("Next");
        let end = cx.f.get("End");
        match (next, end) {
            (Some(Value::String(s)), None | Some(Value::Bool(false))) => {
                let at = cx.f.at("Next");
                self.target(cx, s, &at).map(Transition::Next)
            }
            (Some(Value::String(_)), Some(_)) => {
                self.schema(
                    "Only one of the fields 'Next' and 'End' may be specified",
                    cx.loc.clone(),
                );
                None
            }
            (Some(_), _) => {
                self.schema(EXPECTED_STRING, cx.f.at("Next"));
                None
            }
            (None, Some(Value::Bool(true))) => Some(Transition::End),
            (None, Some(Value::Bool(false))) | (None, None) => {
                self.schema("These fields are required: [Next or End]", cx.loc.clone());
                None
            }
            (None, Some(_)) => {
                self.schema("Expected value of type [BOOLEAN]", cx.f.at("End"));
                None
            }
        }
    }

    fn target(&mut self, cx: &StateCx<'_, '_>, name: &str, at: &str) -> Option<StateId> {
        match cx.local.get(name) {
            Some(id) => Some(*id),
            None => {
                self.diag(
                    Code::MissingTransitionTarget,
                    format!("Missing 'Next' target: {name}"),
                    at.to_string(),
                );
                None
            }
        }
    }

    fn flow(&mut self, cx: &mut StateCx<'_, '_>, which: FlowFields) -> DataFlow {
        let mut flow = DataFlow::default();
        match cx.language {
            QueryLanguage::JsonPath => {
                if let Some(v) = cx.f.get("InputPath") {
                    flow.input_path = self.path_field(v, &cx.f.at("InputPath"), false);
                }
                if let Some(v) = cx.f.get("OutputPath") {
                    flow.output_path = self.path_field(v, &cx.f.at("OutputPath"), false);
                }
                if which.result_path
                    && let Some(v) = cx.f.get("ResultPath")
                {
                    flow.result_path = self.path_field(v, &cx.f.at("ResultPath"), true);
                }
            }
            QueryLanguage::Jsonata => {
                if let Some(v) = cx.f.get("Output") {
                    flow.output = self.jsonata_template(v, &cx.f.at("Output"));
                }
            }
        }
        if let Some(v) = cx.f.get("Assign") {
            flow.assign = self.assign(cx.language, v, &cx.f.at("Assign"));
        }
        flow
    }

    fn assign(&mut self, language: QueryLanguage, v: &Value, at: &str) -> Option<Payload> {
        let Some(obj) = v.as_object() else {
            self.schema(EXPECTED_OBJECT, at);
            return None;
        };
        for key in obj.keys() {
            let name = key.strip_suffix(".$").unwrap_or(key);
            let valid = !name.is_empty()
                && name.chars().count() <= 80
                && name
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_alphanumeric() || c == '_');
            if !valid {
                self.schema(
                    format!("The variable name '{name}' is not valid: names start with a letter or '_' and contain only letters, digits and '_' (at most 80 characters)"),
                    format!("{at}/{}", pointer_escape(key)),
                );
            } else if name == "states" {
                self.schema(
                    "The variable name 'states' is reserved",
                    format!("{at}/{}", pointer_escape(key)),
                );
            }
        }
        match language {
            QueryLanguage::JsonPath => self.jsonpath_template(v, at).map(Payload::JsonPath),
            QueryLanguage::Jsonata => self.jsonata_template(v, at).map(Payload::Jsonata),
        }
    }

    /// `Parameters` (JSONPath) or `Arguments` (JSONata); the other one was already reported.
    fn payload(
        &mut self,
        cx: &mut StateCx<'_, '_>,
        jsonpath: &'static str,
        jsonata: &'static str,
    ) -> Option<Payload> {
        match cx.language {
            QueryLanguage::JsonPath => {
                cx.f.get(jsonpath)
                    .and_then(|v| self.jsonpath_template(v, &cx.f.at(jsonpath)))
                    .map(Payload::JsonPath)
            }
            QueryLanguage::Jsonata => {
                cx.f.get(jsonata)
                    .and_then(|v| self.jsonata_template(v, &cx.f.at(jsonata)))
                    .map(Payload::Jsonata)
            }
        }
    }

    fn path_field(&mut self, v: &Value, at: &str, reference: bool) -> PathField {
        match v {
            Value::Null => PathField::Null,
            Value::String(s) => {
                let parsed = if reference {
                    Path::parse_reference(s)
                } else {
                    Path::parse(s)
                };
                match parsed {
                    Ok(p) => PathField::Path(p),
                    Err(e) => {
                        let field = at.rsplit('/').next().unwrap_or(at);
                        self.schema(
                            format!(
                                "The value for the field '{field}' must be a valid JSONPath: {e}"
                            ),
                            at,
                        );
                        PathField::Default
                    }
                }
            }
            _ => {
                let field = at.rsplit('/').next().unwrap_or(at);
                self.schema(
                    format!("The value for the field '{field}' must be a string or null"),
                    at,
                );
                PathField::Default
            }
        }
    }

    fn reference_path(&mut self, v: &Value, at: &str) -> Option<Path> {
        let field = at.rsplit('/').next().unwrap_or(at).to_string();
        match v.as_str().map(Path::parse_reference) {
            Some(Ok(p)) => Some(p),
            Some(Err(e)) => {
                self.schema(
                    format!("The value for the field '{field}' must be a valid JSONPath: {e}"),
                    at,
                );
                None
            }
            None => {
                self.schema(EXPECTED_STRING, at);
                None
            }
        }
    }

    fn jsonpath_template(&mut self, v: &Value, at: &str) -> Option<Template> {
        if !(v.is_object() || v.is_array()) && at.ends_with("/Parameters") {
            // AWS requires an object for Parameters; other templates may be any JSON.
            self.schema("The field 'Parameters' must be an object", at);
            return None;
        }
        self.no_dollar_warnings(v, at);
        match Template::compile(v) {
            Ok(t) => Some(t),
            Err(e) => {
                let loc = match e.location() {
                    "" => at.to_string(),
                    inner => format!("{at}{inner}"),
                };
                self.schema(e.message().to_string(), loc);
                None
            }
        }
    }

    fn no_dollar_warnings(&mut self, v: &Value, at: &str) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    let loc = format!("{at}/{}", pointer_escape(k));
                    if !k.ends_with(".$")
                        && let Value::String(s) = x
                        && s.starts_with("$.")
                    {
                        self.diag(
                            Code::NoDollar,
                            format!("The value of the field '{k}' looks like a JSONPath, but the field name does not end with '.$'"),
                            loc.clone(),
                        );
                    }
                    self.no_dollar_warnings(x, &loc);
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    self.no_dollar_warnings(x, &format!("{at}/{i}"));
                }
            }
            _ => {}
        }
    }

    fn jsonata_template(&mut self, v: &Value, at: &str) -> Option<JsonataTemplate> {
        match JsonataTemplate::compile(v) {
            Ok(t) => {
                let mut ok = true;
                for (e, path) in t.expressions() {
                    ok &= self.error_output_allowed(e, &field_location(at, path));
                }
                ok.then_some(t)
            }
            Err(e) => {
                for (path, err) in &e.errors {
                    self.jsonata_diagnostics(err, &field_location(at, path));
                }
                None
            }
        }
    }

    /// `$states.errorOutput` exists only in a catcher's `Output` and `Assign`; AWS refuses it
    /// anywhere else at creation (floci-io/floci#2786, measured).
    fn error_output_allowed(&mut self, e: &Expression, at: &str) -> bool {
        if self.in_catcher || !e.reads_states_field(ironstep_jsonata::StatesField::ErrorOutput) {
            return true;
        }
        self.diag(
            Code::UnsupportedJsonataExpression,
            "Field '$states.errorOutput' does not exist.",
            at,
        );
        false
    }

    fn jsonata_diagnostics(&mut self, err: &ironstep_jsonata::CompileError, at: &str) {
        for d in &err.diagnostics {
            let code = match d.code {
                ironstep_jsonata::DiagnosticCode::UnsupportedJsonataExpression => {
                    Code::UnsupportedJsonataExpression
                }
                ironstep_jsonata::DiagnosticCode::InvalidJsonataExpression => {
                    Code::InvalidJsonataExpression
                }
            };
            self.diag(code, d.message.clone(), at.to_string());
        }
    }

    /// A field whose whole value is one `{% %}` expression.
    fn jsonata_whole(&mut self, s: &str, at: &str) -> Option<Expression> {
        let Some(inner) = ironstep_jsonata::parse_expression_string(s) else {
            let field = at.rsplit('/').next().unwrap_or(at);
            self.schema(
                format!("The value for the field '{field}' must be a JSONata expression enclosed in '{{%' and '%}}'"),
                at,
            );
            return None;
        };
        match Expression::compile(inner) {
            Ok(e) => self.error_output_allowed(&e, at).then_some(e),
            Err(e) => {
                self.jsonata_diagnostics(&e, at);
                None
            }
        }
    }

    fn number_field(
        &mut self,
        cx: &mut StateCx<'_, '_>,
        name: &'static str,
        kind: NumberKind,
    ) -> Option<NumberField> {
        self.number_field_in(&mut cx.f, cx.language, &cx.loc, name, kind)
    }

    /// [`Self::number_field`] over any object's fields (a state's, or `ItemBatcher`'s).
    fn number_field_in(
        &mut self,
        f: &mut Fields<'_>,
        language: QueryLanguage,
        loc: &str,
        name: &'static str,
        kind: NumberKind,
    ) -> Option<NumberField> {
        let path_name: &'static str = match name {
            "MaxItemsPerBatch" => "MaxItemsPerBatchPath",
            "MaxInputBytesPerBatch" => "MaxInputBytesPerBatchPath",
            "TimeoutSeconds" => "TimeoutSecondsPath",
            "HeartbeatSeconds" => "HeartbeatSecondsPath",
            "MaxConcurrency" => "MaxConcurrencyPath",
            "ToleratedFailurePercentage" => "ToleratedFailurePercentagePath",
            _ => "ToleratedFailureCountPath",
        };
        if f.has(name) && f.has(path_name) {
            f.get(path_name);
            self.schema(
                format!("Only one of the fields '{name}' and '{path_name}' may be specified"),
                loc.to_string(),
            );
        }
        if let Some(v) = f.get(name) {
            let at = f.at(name);
            if language == QueryLanguage::Jsonata && is_jsonata(v) {
                return self
                    .jsonata_whole(v.as_str().unwrap_or(""), &at)
                    .map(NumberField::Jsonata);
            }
            let ok = match kind {
                NumberKind::PositiveInt => positive_int(v).is_some_and(|n| n as f64 <= MAX_SECONDS),
                NumberKind::NonNegativeInt => non_negative_int(v).is_some(),
                NumberKind::Percentage => v.as_f64().is_some_and(|p| (0.0..=100.0).contains(&p)),
            };
            if !ok {
                let want = match kind {
                    NumberKind::PositiveInt => "a positive integer",
                    NumberKind::NonNegativeInt => "a non-negative integer",
                    NumberKind::Percentage => "a number between 0 and 100",
                };
                self.schema(
                    format!("The value for the field '{name}' must be {want}"),
                    at,
                );
                return None;
            }
            return v.as_f64().map(NumberField::Literal);
        }
        if language == QueryLanguage::JsonPath
            && let Some(v) = f.get(path_name)
        {
            let at = f.at(path_name);
            return self.reference_path(v, &at).map(NumberField::Path);
        }
        None
    }

    /// `ItemBatcher`: its limits (literal, path or JSONata) and `BatchInput`.
    fn item_batcher(&mut self, cx: &mut StateCx<'_, '_>) -> Option<ItemBatcher> {
        let v = cx.f.get("ItemBatcher")?;
        let at = cx.f.at("ItemBatcher");
        let Some(obj) = v.as_object() else {
            self.schema(EXPECTED_OBJECT, at);
            return None;
        };
        let mut f = Fields::new(obj, at.clone());
        let max_items = self.number_field_in(
            &mut f,
            cx.language,
            &at,
            "MaxItemsPerBatch",
            NumberKind::PositiveInt,
        );
        let max_bytes = self.number_field_in(
            &mut f,
            cx.language,
            &at,
            "MaxInputBytesPerBatch",
            NumberKind::PositiveInt,
        );
        let batch_input = f.get("BatchInput").and_then(|b| {
            let bat = f.at("BatchInput");
            match cx.language {
                QueryLanguage::JsonPath => self.jsonpath_template(b, &bat).map(Payload::JsonPath),
                QueryLanguage::Jsonata => self.jsonata_template(b, &bat).map(Payload::Jsonata),
            }
        });
        for key in f.unknown() {
            self.schema(format!("Field '{key}' is not supported"), at.clone());
        }
        Some(ItemBatcher {
            max_items,
            max_bytes,
            batch_input,
        })
    }

    fn retriers(&mut self, cx: &mut StateCx<'_, '_>) -> Vec<Retrier> {
        let Some(v) = cx.f.get("Retry") else {
            return Vec::new();
        };
        let at = cx.f.at("Retry");
        let Some(arr) = v.as_array() else {
            self.schema(EXPECTED_ARRAY, at);
            return Vec::new();
        };
        let mut out = Vec::with_capacity(arr.len());
        for (i, r) in arr.iter().enumerate() {
            let rat = format!("{at}[{i}]");
            let Some(obj) = r.as_object() else {
                self.schema("A retrier must be an object", rat);
                continue;
            };
            let mut f = Fields::new(obj, rat.clone());
            self.opt_string(&mut f, "Comment");
            let error_equals = self.error_equals(&mut f, &rat, i + 1 == arr.len(), "retrier");
            let interval_seconds = match f.get("IntervalSeconds") {
                None => 1,
                Some(v) => match positive_int(v).filter(|n| *n as f64 <= MAX_SECONDS) {
                    Some(n) => n,
                    None => {
                        self.schema(
                            "The value for the field 'IntervalSeconds' must be a positive integer",
                            f.at("IntervalSeconds"),
                        );
                        1
                    }
                },
            };
            let max_attempts = match f.get("MaxAttempts") {
                None => 3,
                Some(v) => match non_negative_int(v).filter(|n| *n as f64 <= MAX_SECONDS) {
                    Some(n) => n,
                    None => {
                        self.schema(
                            "The value for the field 'MaxAttempts' must be a non-negative integer",
                            f.at("MaxAttempts"),
                        );
                        3
                    }
                },
            };
            let backoff_rate = match f.get("BackoffRate") {
                None => 2.0,
                Some(v) => match v.as_f64().filter(|b| *b >= 1.0) {
                    Some(b) => b,
                    None => {
                        self.schema(
                            "The value for the field 'BackoffRate' must be a number greater than or equal to 1.0",
                            f.at("BackoffRate"),
                        );
                        2.0
                    }
                },
            };
            let max_delay_seconds = match f.get("MaxDelaySeconds") {
                None => None,
                Some(v) => match positive_int(v).filter(|n| *n <= 31_622_400) {
                    Some(n) => Some(n),
                    None => {
                        self.schema(
                            "The value for the field 'MaxDelaySeconds' must be an integer between 1 and 31622400",
                            f.at("MaxDelaySeconds"),
                        );
                        None
                    }
                },
            };
            let jitter = match f.get("JitterStrategy").map(|v| v.as_str()) {
                None | Some(Some("NONE")) => Jitter::None,
                Some(Some("FULL")) => Jitter::Full,
                Some(_) => {
                    self.schema(
                        "Value should be one of the following: [FULL, NONE]",
                        f.at("JitterStrategy"),
                    );
                    Jitter::None
                }
            };
            for key in f.unknown() {
                self.schema(format!("Field '{key}' is not supported"), rat.clone());
            }
            out.push(Retrier {
                error_equals,
                interval_seconds,
                max_attempts,
                backoff_rate,
                max_delay_seconds,
                jitter,
            });
        }
        out
    }

    fn catchers(&mut self, cx: &mut StateCx<'_, '_>) -> Vec<Catcher> {
        let Some(v) = cx.f.get("Catch") else {
            return Vec::new();
        };
        let at = cx.f.at("Catch");
        let Some(arr) = v.as_array() else {
            self.schema(EXPECTED_ARRAY, at);
            return Vec::new();
        };
        let mut out = Vec::with_capacity(arr.len());
        for (i, c) in arr.iter().enumerate() {
            let cat = format!("{at}[{i}]");
            let Some(obj) = c.as_object() else {
                self.schema("A catcher must be an object", cat);
                continue;
            };
            let mut f = Fields::new(obj, cat.clone());
            self.opt_string(&mut f, "Comment");
            let error_equals = self.error_equals(&mut f, &cat, i + 1 == arr.len(), "catcher");
            let next = match f.get("Next") {
                Some(Value::String(s)) => self.target(cx, s, &f.at("Next")),
                Some(_) => {
                    self.schema(EXPECTED_STRING, f.at("Next"));
                    None
                }
                None => {
                    self.schema("These fields are required: [Next]", cat.clone());
                    None
                }
            };
            let mut result_path = PathField::Default;
            let mut output = None;
            match cx.language {
                QueryLanguage::JsonPath => {
                    if let Some(v) = f.get("ResultPath") {
                        result_path = self.path_field(v, &f.at("ResultPath"), true);
                    }
                    if f.has("Output") {
                        f.get("Output");
                        self.schema(
                            "The QueryLanguage is set to 'JSONPath', but field 'Output' is only supported for the 'JSONata' QueryLanguage",
                            cat.clone(),
                        );
                    }
                }
                QueryLanguage::Jsonata => {
                    if let Some(v) = f.get("Output") {
                        self.in_catcher = true;
                        output = self.jsonata_template(v, &f.at("Output"));
                        self.in_catcher = false;
                    }
                    if f.has("ResultPath") {
                        f.get("ResultPath");
                        self.schema(
                            "The QueryLanguage is set to 'JSONata', but field 'ResultPath' is only supported for the 'JSONPath' QueryLanguage",
                            cat.clone(),
                        );
                    }
                }
            }
            self.in_catcher = true;
            let assign = f
                .get("Assign")
                .and_then(|v| self.assign(cx.language, v, &f.at("Assign")));
            self.in_catcher = false;
            for key in f.unknown() {
                self.schema(format!("Field '{key}' is not supported"), cat.clone());
            }
            if let Some(next) = next {
                out.push(Catcher {
                    error_equals,
                    next,
                    result_path,
                    output,
                    assign,
                });
            }
        }
        out
    }

    fn error_equals(
        &mut self,
        f: &mut Fields<'_>,
        at: &str,
        last: bool,
        what: &str,
    ) -> Vec<String> {
        let Some(v) = f.get("ErrorEquals") else {
            self.schema("These fields are required: [ErrorEquals]", at);
            return Vec::new();
        };
        let eat = f.at("ErrorEquals");
        let Some(arr) = v.as_array().filter(|a| !a.is_empty()) else {
            self.schema(
                "The field 'ErrorEquals' must be a non-empty array of strings",
                eat,
            );
            return Vec::new();
        };
        let mut out = Vec::with_capacity(arr.len());
        for x in arr {
            match x.as_str() {
                Some(s) => out.push(s.to_string()),
                None => self.schema(
                    "The field 'ErrorEquals' must be a non-empty array of strings",
                    eat.clone(),
                ),
            }
        }
        if out.iter().any(|e| e == "States.ALL") {
            if out.len() > 1 {
                self.schema("States.ALL must appear alone in ErrorEquals", eat.clone());
            } else if !last {
                self.schema(
                    format!("States.ALL must appear in the last {what}"),
                    eat.clone(),
                );
            }
        }
        out
    }

    fn opt_string(&mut self, f: &mut Fields<'_>, key: &'static str) -> Option<String> {
        match f.get(key) {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.schema(EXPECTED_STRING, f.at(key));
                None
            }
        }
    }
}

struct StateCx<'a, 'l> {
    f: Fields<'a>,
    loc: String,
    language: QueryLanguage,
    local: &'l HashMap<&'l str, StateId>,
    id: StateId,
}

#[derive(Clone, Copy)]
struct FlowFields {
    result_path: bool,
}

impl FlowFields {
    const ALL: FlowFields = FlowFields { result_path: true };
    const IN_OUT: FlowFields = FlowFields { result_path: false };
}

#[derive(Clone, Copy)]
enum NumberKind {
    PositiveInt,
    NonNegativeInt,
    Percentage,
}

/// Characters AWS forbids in names and labels (asl-facts §1.5).
pub(crate) const FORBIDDEN_NAME_CHARS: &str = "<>{}[]?*\"#%\\^|~`$&,;:/";

const COMPARISONS: &[(&str, ComparisonOp, bool)] = &[
    ("StringEquals", ComparisonOp::StringEquals, false),
    ("StringEqualsPath", ComparisonOp::StringEquals, true),
    ("StringLessThan", ComparisonOp::StringLessThan, false),
    ("StringLessThanPath", ComparisonOp::StringLessThan, true),
    ("StringGreaterThan", ComparisonOp::StringGreaterThan, false),
    (
        "StringGreaterThanPath",
        ComparisonOp::StringGreaterThan,
        true,
    ),
    (
        "StringLessThanEquals",
        ComparisonOp::StringLessThanEquals,
        false,
    ),
    (
        "StringLessThanEqualsPath",
        ComparisonOp::StringLessThanEquals,
        true,
    ),
    (
        "StringGreaterThanEquals",
        ComparisonOp::StringGreaterThanEquals,
        false,
    ),
    (
        "StringGreaterThanEqualsPath",
        ComparisonOp::StringGreaterThanEquals,
        true,
    ),
    ("StringMatches", ComparisonOp::StringMatches, false),
    ("NumericEquals", ComparisonOp::NumericEquals, false),
    ("NumericEqualsPath", ComparisonOp::NumericEquals, true),
    ("NumericLessThan", ComparisonOp::NumericLessThan, false),
    ("NumericLessThanPath", ComparisonOp::NumericLessThan, true),
    (
        "NumericGreaterThan",
        ComparisonOp::NumericGreaterThan,
        false,
    ),
    (
        "NumericGreaterThanPath",
        ComparisonOp::NumericGreaterThan,
        true,
    ),
    (
        "NumericLessThanEquals",
        ComparisonOp::NumericLessThanEquals,
        false,
    ),
    (
        "NumericLessThanEqualsPath",
        ComparisonOp::NumericLessThanEquals,
        true,
    ),
    (
        "NumericGreaterThanEquals",
        ComparisonOp::NumericGreaterThanEquals,
        false,
    ),
    (
        "NumericGreaterThanEqualsPath",
        ComparisonOp::NumericGreaterThanEquals,
        true,
    ),
    ("BooleanEquals", ComparisonOp::BooleanEquals, false),
    ("BooleanEqualsPath", ComparisonOp::BooleanEquals, true),
    ("TimestampEquals", ComparisonOp::TimestampEquals, false),
    ("TimestampEqualsPath", ComparisonOp::TimestampEquals, true),
    ("TimestampLessThan", ComparisonOp::TimestampLessThan, false),
    (
        "TimestampLessThanPath",
        ComparisonOp::TimestampLessThan,
        true,
    ),
    (
        "TimestampGreaterThan",
        ComparisonOp::TimestampGreaterThan,
        false,
    ),
    (
        "TimestampGreaterThanPath",
        ComparisonOp::TimestampGreaterThan,
        true,
    ),
    (
        "TimestampLessThanEquals",
        ComparisonOp::TimestampLessThanEquals,
        false,
    ),
    (
        "TimestampLessThanEqualsPath",
        ComparisonOp::TimestampLessThanEquals,
        true,
    ),
    (
        "TimestampGreaterThanEquals",
        ComparisonOp::TimestampGreaterThanEquals,
        false,
    ),
    (
        "TimestampGreaterThanEqualsPath",
        ComparisonOp::TimestampGreaterThanEquals,
        true,
    ),
    ("IsNull", ComparisonOp::IsNull, false),
    ("IsPresent", ComparisonOp::IsPresent, false),
    ("IsNumeric", ComparisonOp::IsNumeric, false),
    ("IsString", ComparisonOp::IsString, false),
    ("IsBoolean", ComparisonOp::IsBoolean, false),
    ("IsTimestamp", ComparisonOp::IsTimestamp, false),
];

/// The location of an expression inside a JSONata payload: AWS's `Output/a/b`, with array
/// elements as `[i]` (`Arguments/items[0]`), appended to the field's own location.
fn field_location(at: &str, path: &ironstep_jsonata::FieldPath) -> String {
    let mut loc = at.to_string();
    for seg in &path.0 {
        match seg {
            ironstep_jsonata::PathSegment::Key(k) => {
                loc.push('/');
                loc.push_str(&pointer_escape(k));
            }
            ironstep_jsonata::PathSegment::Index(i) => {
                loc.push_str(&format!("[{i}]"));
            }
        }
    }
    loc
}

fn or_root(loc: &str) -> String {
    if loc.is_empty() {
        "/".to_string()
    } else {
        loc.to_string()
    }
}

fn is_jsonata(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.starts_with("{%") && s.ends_with("%}"))
}

fn positive_int(v: &Value) -> Option<u64> {
    non_negative_int(v).filter(|n| *n > 0)
}

fn non_negative_int(v: &Value) -> Option<u64> {
    if let Some(n) = v.as_u64() {
        return Some(n);
    }
    // AWS accepts integral floats such as `3.0`.
    v.as_f64()
        .filter(|f| *f >= 0.0 && f.fract() == 0.0 && *f < 1e15)
        .map(|f| f as u64)
}

fn contains_dollar_key(v: &Value) -> bool {
    match v {
        Value::Object(m) => m
            .iter()
            .any(|(k, x)| k.ends_with(".$") || contains_dollar_key(x)),
        Value::Array(a) => a.iter().any(contains_dollar_key),
        _ => false,
    }
}
