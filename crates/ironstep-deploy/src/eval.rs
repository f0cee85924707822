//! Intrinsic functions (`Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`, `Fn::If`, ...), pseudo
//! parameters and conditions, evaluated against what the planner knows so far. Every error names
//! the place in the template (`Resources.MyFn.Properties.Environment.Variables.X`).

use std::cell::RefCell;
use std::collections::HashMap;

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::error::{DeployError, Result};

/// Where the stack goes: the values of the pseudo parameters and of generated ARNs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    /// `AWS::Region`.
    pub region: String,
    /// `AWS::AccountId`.
    pub account: String,
    /// `AWS::Partition`.
    pub partition: String,
    /// `AWS::StackName`.
    pub stack_name: String,
}

impl Environment {
    /// `us-east-1`, account `123456789012` (ironstep's defaults), partition `aws`.
    pub fn new(stack_name: impl Into<String>) -> Self {
        Self {
            region: "us-east-1".into(),
            account: "123456789012".into(),
            partition: "aws".into(),
            stack_name: stack_name.into(),
        }
    }

    /// `AWS::StackId`: stable for a stack name, so that redeploys see the same value.
    pub fn stack_id(&self) -> String {
        let h = crate::names::digest_hex(&format!("stack/{}", self.stack_name));
        format!(
            "arn:{}:cloudformation:{}:{}:stack/{}/{}-{}-{}-{}-{}",
            self.partition,
            self.region,
            self.account,
            self.stack_name,
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }

    /// An ARN in this region and account.
    pub fn arn(&self, service: &str, resource: &str) -> String {
        format!(
            "arn:{}:{service}:{}:{}:{resource}",
            self.partition, self.region, self.account
        )
    }
}

/// What a logical id stands for while planning.
#[derive(Debug, Clone)]
pub(crate) enum Known {
    /// Deployed by us: `Ref` and attributes are the real values.
    Deployed {
        reference: Value,
        attributes: Vec<(&'static str, Value)>,
    },
    /// Not run locally: `Ref` is its would-be physical name, `Arn` a plausible ARN, other
    /// attributes stand-ins (and each use is noted).
    Skipped { name: String, arn: String },
    /// Its `Condition` is false, so it does not exist.
    NotCreated { condition: String },
}

const PSEUDO: &[&str] = &[
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
];

/// Whether `name` is a pseudo parameter.
pub(crate) fn is_pseudo(name: &str) -> bool {
    PSEUDO.contains(&name)
}

/// The evaluation context.
pub(crate) struct Scope<'a> {
    pub env: &'a Environment,
    pub params: &'a HashMap<String, Value>,
    pub mappings: &'a Map<String, Value>,
    pub condition_defs: &'a Map<String, Value>,
    pub resources: HashMap<String, Known>,
    conditions: RefCell<HashMap<String, bool>>,
    visiting: RefCell<Vec<String>>,
    notes: RefCell<Vec<String>>,
}

/// Whether `v` is a one-key map naming an intrinsic function.
pub(crate) fn intrinsic(v: &Value) -> Option<(&str, &Value)> {
    let Value::Object(m) = v else { return None };
    if m.len() != 1 {
        return None;
    }
    let (k, arg) = m.iter().next()?;
    (k == "Ref" || k.starts_with("Fn::")).then_some((k.as_str(), arg))
}

/// A scalar as CloudFormation's string form.
pub(crate) fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// One piece of an `Fn::Sub` string.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SubPart {
    Text(String),
    Var(String),
}

/// Splits an `Fn::Sub` string into text and `${...}` variables (`${!Literal}` is text `${Literal}`).
pub(crate) fn sub_parts(s: &str) -> Vec<SubPart> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        text.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        match after.find('}') {
            Some(j) => {
                let inner = &after[..j];
                if let Some(lit) = inner.strip_prefix('!') {
                    text.push_str("${");
                    text.push_str(lit);
                    text.push('}');
                } else {
                    if !text.is_empty() {
                        parts.push(SubPart::Text(std::mem::take(&mut text)));
                    }
                    parts.push(SubPart::Var(inner.trim().to_string()));
                }
                rest = &after[j + 1..];
            }
            None => {
                // No closing brace: the rest is literal text, as CloudFormation leaves it.
                text.push_str(&rest[i..]);
                rest = "";
            }
        }
    }
    text.push_str(rest);
    if !text.is_empty() {
        parts.push(SubPart::Text(text));
    }
    parts
}

/// Logical ids (or parameters) a value refers to through `Ref`, `Fn::GetAtt` and `Fn::Sub`, each
/// with the place it is named.
pub(crate) fn references(v: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            if let Some((name, arg)) = intrinsic(v) {
                match name {
                    "Ref" => {
                        if let Some(s) = arg.as_str() {
                            out.push((s.to_string(), path.to_string()));
                        }
                        return;
                    }
                    "Fn::GetAtt" => {
                        let id = match arg {
                            Value::Array(a) => a.first().and_then(Value::as_str),
                            Value::String(s) => s.split('.').next(),
                            _ => None,
                        };
                        if let Some(id) = id {
                            out.push((id.to_string(), path.to_string()));
                        }
                        return;
                    }
                    "Fn::Sub" => {
                        let (text, vars) = match arg {
                            Value::String(s) => (Some(s.as_str()), None),
                            Value::Array(a) => (
                                a.first().and_then(Value::as_str),
                                a.get(1).and_then(Value::as_object),
                            ),
                            _ => (None, None),
                        };
                        if let Some(vars) = vars {
                            for (k, v) in vars {
                                references(v, &format!("{path}.{k}"), out);
                            }
                        }
                        if let Some(text) = text {
                            for part in sub_parts(text) {
                                if let SubPart::Var(name) = part
                                    && !vars.is_some_and(|m| m.contains_key(&name))
                                {
                                    let id = if is_pseudo(&name) {
                                        name.as_str()
                                    } else {
                                        name.split('.').next().unwrap_or(&name)
                                    };
                                    out.push((id.to_string(), path.to_string()));
                                }
                            }
                        }
                        return;
                    }
                    _ => {}
                }
            }
            for (k, v) in m {
                references(v, &format!("{path}.{k}"), out);
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                references(v, &format!("{path}.{i}"), out);
            }
        }
        _ => {}
    }
}

fn args<'v>(arg: &'v Value, name: &str, n: usize, path: &str) -> Result<&'v [Value]> {
    match arg {
        Value::Array(a) if a.len() == n => Ok(a),
        _ => Err(DeployError::at(
            path,
            format!("{name} takes a list of {n} arguments"),
        )),
    }
}

impl<'a> Scope<'a> {
    pub fn new(
        env: &'a Environment,
        params: &'a HashMap<String, Value>,
        mappings: &'a Map<String, Value>,
        condition_defs: &'a Map<String, Value>,
    ) -> Self {
        Self {
            env,
            params,
            mappings,
            condition_defs,
            resources: HashMap::new(),
            conditions: RefCell::new(HashMap::new()),
            visiting: RefCell::new(Vec::new()),
            notes: RefCell::new(Vec::new()),
        }
    }

    /// Notes gathered while evaluating (stand-in values used).
    pub fn take_notes(&self) -> Vec<String> {
        std::mem::take(&mut *self.notes.borrow_mut())
    }

    fn note(&self, text: String) {
        let mut notes = self.notes.borrow_mut();
        if !notes.contains(&text) {
            notes.push(text);
        }
    }

    /// Evaluates a value; `None` is `AWS::NoValue` (the property is removed).
    pub fn eval(&self, v: &Value, path: &str) -> Result<Option<Value>> {
        if let Some((name, arg)) = intrinsic(v) {
            return self.call(name, arg, path);
        }
        Ok(Some(match v {
            Value::Object(m) => {
                let mut out = Map::new();
                for (k, v) in m {
                    if let Some(x) = self.eval(v, &format!("{path}.{k}"))? {
                        out.insert(k.clone(), x);
                    }
                }
                Value::Object(out)
            }
            Value::Array(a) => {
                let mut out = Vec::with_capacity(a.len());
                for (i, v) in a.iter().enumerate() {
                    if let Some(x) = self.eval(v, &format!("{path}.{i}"))? {
                        out.push(x);
                    }
                }
                Value::Array(out)
            }
            other => other.clone(),
        }))
    }

    /// Evaluates a value that must be present.
    pub fn eval_some(&self, v: &Value, path: &str) -> Result<Value> {
        self.eval(v, path)?
            .ok_or_else(|| DeployError::at(path, "AWS::NoValue is not allowed here"))
    }

    /// Evaluates a value that must be a string (numbers and booleans are turned into text).
    pub fn eval_string(&self, v: &Value, path: &str) -> Result<String> {
        let x = self.eval_some(v, path)?;
        scalar_text(&x)
            .ok_or_else(|| DeployError::at(path, format!("must be a string, not {}", kind_of(&x))))
    }

    fn call(&self, name: &str, arg: &Value, path: &str) -> Result<Option<Value>> {
        match name {
            "Ref" => {
                let Some(target) = arg.as_str() else {
                    return Err(DeployError::at(
                        path,
                        "Ref takes a logical id or parameter name",
                    ));
                };
                self.reference(target, path)
            }
            "Fn::GetAtt" => {
                let (id, attr) = match arg {
                    Value::Array(a) if a.len() == 2 => {
                        let id = a[0].as_str().ok_or_else(|| {
                            DeployError::at(path, "Fn::GetAtt takes [LogicalId, Attribute]")
                        })?;
                        let attr = self.eval_string(&a[1], path)?;
                        (id.to_string(), attr)
                    }
                    Value::String(s) => match s.split_once('.') {
                        Some((id, attr)) => (id.to_string(), attr.to_string()),
                        None => {
                            return Err(DeployError::at(
                                path,
                                "Fn::GetAtt takes \"LogicalId.Attribute\" or [LogicalId, Attribute]",
                            ));
                        }
                    },
                    _ => {
                        return Err(DeployError::at(
                            path,
                            "Fn::GetAtt takes [LogicalId, Attribute]",
                        ));
                    }
                };
                self.get_att(&id, &attr, path).map(Some)
            }
            "Fn::Sub" => self.sub(arg, path).map(|s| Some(Value::String(s))),
            "Fn::Join" => {
                let a = args(arg, "Fn::Join", 2, path)?;
                let delim = a[0].as_str().ok_or_else(|| {
                    DeployError::at(path, "Fn::Join's delimiter must be a string")
                })?;
                let list = self.eval_some(&a[1], path)?;
                let Value::Array(items) = list else {
                    return Err(DeployError::at(
                        path,
                        "Fn::Join's second argument must be a list",
                    ));
                };
                let texts = items
                    .iter()
                    .map(|x| {
                        scalar_text(x).ok_or_else(|| {
                            DeployError::at(
                                path,
                                format!("Fn::Join can only join strings, not {}", kind_of(x)),
                            )
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(Some(Value::String(texts.join(delim))))
            }
            "Fn::If" => {
                let a = args(arg, "Fn::If", 3, path)?;
                let cond = a[0].as_str().ok_or_else(|| {
                    DeployError::at(path, "Fn::If's first argument is a condition name")
                })?;
                if self.condition(cond, path)? {
                    self.eval(&a[1], path)
                } else {
                    self.eval(&a[2], path)
                }
            }
            "Fn::Equals" | "Fn::And" | "Fn::Or" | "Fn::Not" => {
                let mut m = Map::new();
                m.insert(name.to_string(), arg.clone());
                self.condition_expr(&Value::Object(m), path)
                    .map(|b| Some(Value::String(b.to_string())))
            }
            "Fn::Select" => {
                let a = args(arg, "Fn::Select", 2, path)?;
                let index = scalar_text(&self.eval_some(&a[0], path)?)
                    .and_then(|s| s.parse::<usize>().ok())
                    .ok_or_else(|| {
                        DeployError::at(path, "Fn::Select's index must be a whole number")
                    })?;
                let Value::Array(items) = self.eval_some(&a[1], path)? else {
                    return Err(DeployError::at(
                        path,
                        "Fn::Select's second argument must be a list",
                    ));
                };
                items.get(index).cloned().map(Some).ok_or_else(|| {
                    DeployError::at(
                        path,
                        format!(
                            "Fn::Select index {index} is out of bounds for a list of {}",
                            items.len()
                        ),
                    )
                })
            }
            "Fn::Split" => {
                let a = args(arg, "Fn::Split", 2, path)?;
                let delim = a[0].as_str().filter(|d| !d.is_empty()).ok_or_else(|| {
                    DeployError::at(path, "Fn::Split's delimiter must be a non-empty string")
                })?;
                let s = self.eval_string(&a[1], path)?;
                Ok(Some(Value::Array(
                    s.split(delim)
                        .map(|p| Value::String(p.to_string()))
                        .collect(),
                )))
            }
            "Fn::FindInMap" => self.find_in_map(arg, path).map(Some),
            "Fn::Base64" => {
                let s = self.eval_string(arg, path)?;
                Ok(Some(Value::String(
                    base64::engine::general_purpose::STANDARD.encode(s.as_bytes()),
                )))
            }
            "Fn::GetAZs" => {
                let r = self.eval_string(arg, path)?;
                let region = if r.is_empty() {
                    self.env.region.clone()
                } else {
                    r
                };
                Ok(Some(Value::Array(
                    ["a", "b", "c"]
                        .iter()
                        .map(|z| Value::String(format!("{region}{z}")))
                        .collect(),
                )))
            }
            "Fn::ToJsonString" => {
                let v = self.eval_some(arg, path)?;
                Ok(Some(Value::String(v.to_string())))
            }
            "Fn::Length" => match self.eval_some(arg, path)? {
                Value::Array(a) => Ok(Some(Value::Number(a.len().into()))),
                other => Err(DeployError::at(
                    path,
                    format!("Fn::Length takes a list, not {}", kind_of(&other)),
                )),
            },
            "Fn::ImportValue" => Err(DeployError::at(
                path,
                "Fn::ImportValue is not supported: ironstep deploys one stack at a time, with no exports",
            )),
            other => Err(DeployError::at(
                path,
                format!("{other} is not supported by ironstep deploy"),
            )),
        }
    }

    fn reference(&self, target: &str, path: &str) -> Result<Option<Value>> {
        let env = self.env;
        let pseudo = match target {
            "AWS::NoValue" => return Ok(None),
            "AWS::Region" => Some(Value::String(env.region.clone())),
            "AWS::AccountId" => Some(Value::String(env.account.clone())),
            "AWS::Partition" => Some(Value::String(env.partition.clone())),
            "AWS::StackName" => Some(Value::String(env.stack_name.clone())),
            "AWS::StackId" => Some(Value::String(env.stack_id())),
            "AWS::URLSuffix" => Some(Value::String("amazonaws.com".into())),
            "AWS::NotificationARNs" => Some(Value::Array(Vec::new())),
            _ => None,
        };
        if pseudo.is_some() {
            return Ok(pseudo);
        }
        if let Some(v) = self.params.get(target) {
            return Ok(Some(v.clone()));
        }
        match self.resources.get(target) {
            Some(Known::Deployed { reference, .. }) => Ok(Some(reference.clone())),
            Some(Known::Skipped { name, .. }) => {
                self.note(format!(
                    "{path}: Ref {target} is a stand-in ('{name}'): {target} is not deployed"
                ));
                Ok(Some(Value::String(name.clone())))
            }
            Some(Known::NotCreated { condition }) => Err(DeployError::at(
                path,
                format!(
                    "Ref {target}: the resource is not created (its condition {condition} is false)"
                ),
            )),
            None => Err(DeployError::at(
                path,
                format!("Ref {target}: no parameter or resource of that name in the template"),
            )),
        }
    }

    fn get_att(&self, id: &str, attr: &str, path: &str) -> Result<Value> {
        match self.resources.get(id) {
            Some(Known::Deployed { attributes, .. }) => attributes
                .iter()
                .find(|(k, _)| *k == attr)
                .map(|(_, v)| v.clone())
                .ok_or_else(|| {
                    let names: Vec<&str> = attributes.iter().map(|(k, _)| *k).collect();
                    DeployError::at(
                        path,
                        format!(
                            "Fn::GetAtt {id}.{attr}: ironstep knows the attributes {} of this resource",
                            names.join(", ")
                        ),
                    )
                }),
            Some(Known::Skipped { name, arn }) => {
                let v = if attr == "Arn" {
                    arn.clone()
                } else if attr == "Name" || attr.ends_with("Name") {
                    name.clone()
                } else {
                    format!("{name}.{attr}")
                };
                self.note(format!(
                    "{path}: {id}.{attr} is a stand-in ('{v}'): {id} is not deployed"
                ));
                Ok(Value::String(v))
            }
            Some(Known::NotCreated { condition }) => Err(DeployError::at(
                path,
                format!(
                    "Fn::GetAtt {id}.{attr}: the resource is not created (its condition {condition} is false)"
                ),
            )),
            None => Err(DeployError::at(
                path,
                format!("Fn::GetAtt {id}.{attr}: no resource {id} in the template"),
            )),
        }
    }

    fn sub(&self, arg: &Value, path: &str) -> Result<String> {
        let (text, vars) = match arg {
            Value::String(s) => (s.as_str(), None),
            Value::Array(a) if a.len() == 2 => {
                let text = a[0].as_str().ok_or_else(|| {
                    DeployError::at(path, "Fn::Sub's first argument must be a string")
                })?;
                let Value::Object(m) = &a[1] else {
                    return Err(DeployError::at(
                        path,
                        "Fn::Sub's second argument must be a map of variables",
                    ));
                };
                let mut vars = HashMap::new();
                for (k, v) in m {
                    let vpath = format!("{path}.{k}");
                    let value = self.eval_some(v, &vpath)?;
                    let text = scalar_text(&value).ok_or_else(|| {
                        DeployError::at(
                            &vpath,
                            format!(
                                "a Fn::Sub variable must be a string, not {}",
                                kind_of(&value)
                            ),
                        )
                    })?;
                    vars.insert(k.as_str(), text);
                }
                (text, Some(vars))
            }
            _ => {
                return Err(DeployError::at(
                    path,
                    "Fn::Sub takes a string or [string, {variables}]",
                ));
            }
        };
        let mut out = String::with_capacity(text.len());
        for part in sub_parts(text) {
            match part {
                SubPart::Text(t) => out.push_str(&t),
                SubPart::Var(name) => {
                    if let Some(v) = vars.as_ref().and_then(|m| m.get(name.as_str())) {
                        out.push_str(v);
                        continue;
                    }
                    let value = if !is_pseudo(&name)
                        && let Some((id, attr)) = name.split_once('.')
                    {
                        self.get_att(id, attr, path)?
                    } else {
                        self.reference(&name, path)?.ok_or_else(|| {
                            DeployError::at(path, format!("Fn::Sub: ${{{name}}} has no value"))
                        })?
                    };
                    let text = scalar_text(&value).ok_or_else(|| {
                        DeployError::at(
                            path,
                            format!("Fn::Sub: ${{{name}}} is {}, not a string", kind_of(&value)),
                        )
                    })?;
                    out.push_str(&text);
                }
            }
        }
        Ok(out)
    }

    fn find_in_map(&self, arg: &Value, path: &str) -> Result<Value> {
        let a = match arg {
            Value::Array(a) if a.len() == 3 || a.len() == 4 => a,
            _ => {
                return Err(DeployError::at(
                    path,
                    "Fn::FindInMap takes [MapName, TopLevelKey, SecondLevelKey]",
                ));
            }
        };
        let map = self.eval_string(&a[0], path)?;
        let top = self.eval_string(&a[1], path)?;
        let second = self.eval_string(&a[2], path)?;
        let found = self
            .mappings
            .get(&map)
            .and_then(|m| m.get(&top))
            .and_then(|m| m.get(&second));
        match found {
            Some(v) => Ok(v.clone()),
            None => {
                if let Some(default) = a
                    .get(3)
                    .and_then(Value::as_object)
                    .and_then(|m| m.get("DefaultValue"))
                {
                    return self.eval_some(default, path);
                }
                Err(DeployError::at(
                    path,
                    format!("Fn::FindInMap: Mappings.{map}.{top}.{second} does not exist"),
                ))
            }
        }
    }

    /// The value of a named condition (evaluated once).
    pub fn condition(&self, name: &str, path: &str) -> Result<bool> {
        if let Some(b) = self.conditions.borrow().get(name) {
            return Ok(*b);
        }
        let Some(def) = self.condition_defs.get(name) else {
            return Err(DeployError::at(
                path,
                format!("condition {name} is not declared in Conditions"),
            ));
        };
        if self.visiting.borrow().iter().any(|v| v == name) {
            let chain = self.visiting.borrow().join(" -> ");
            return Err(DeployError::at(
                format!("Conditions.{name}"),
                format!("circular condition: {chain} -> {name}"),
            ));
        }
        self.visiting.borrow_mut().push(name.to_string());
        let result = self.condition_expr(def, &format!("Conditions.{name}"));
        self.visiting.borrow_mut().pop();
        let b = result?;
        self.conditions.borrow_mut().insert(name.to_string(), b);
        Ok(b)
    }

    /// Evaluates a condition function (`Fn::Equals`, `Fn::And`, `Fn::Or`, `Fn::Not`,
    /// `{"Condition": name}`).
    pub fn condition_expr(&self, v: &Value, path: &str) -> Result<bool> {
        if let Value::Object(m) = v
            && m.len() == 1
            && let Some(Value::String(name)) = m.get("Condition")
        {
            return self.condition(name, path);
        }
        let Some((name, arg)) = intrinsic(v) else {
            return match v {
                Value::Bool(b) => Ok(*b),
                Value::String(s) if s == "true" || s == "false" => Ok(s == "true"),
                _ => Err(DeployError::at(
                    path,
                    "a condition is Fn::Equals, Fn::And, Fn::Or, Fn::Not or {Condition: Name}",
                )),
            };
        };
        match name {
            "Fn::Equals" => {
                let a = args(arg, "Fn::Equals", 2, path)?;
                let x = self.eval(&a[0], path)?;
                let y = self.eval(&a[1], path)?;
                Ok(comparable(x.as_ref()) == comparable(y.as_ref()))
            }
            "Fn::Not" => {
                let a = args(arg, "Fn::Not", 1, path)?;
                Ok(!self.condition_expr(&a[0], path)?)
            }
            "Fn::And" | "Fn::Or" => {
                let Value::Array(items) = arg else {
                    return Err(DeployError::at(
                        path,
                        format!("{name} takes a list of 2 to 10 conditions"),
                    ));
                };
                if !(2..=10).contains(&items.len()) {
                    return Err(DeployError::at(
                        path,
                        format!("{name} takes a list of 2 to 10 conditions"),
                    ));
                }
                let and = name == "Fn::And";
                for item in items {
                    let b = self.condition_expr(item, path)?;
                    if and && !b {
                        return Ok(false);
                    }
                    if !and && b {
                        return Ok(true);
                    }
                }
                Ok(and)
            }
            _ => {
                // Any other function must produce "true" or "false".
                match self.call(name, arg, path)? {
                    Some(Value::Bool(b)) => Ok(b),
                    Some(Value::String(s)) if s == "true" || s == "false" => Ok(s == "true"),
                    _ => Err(DeployError::at(
                        path,
                        format!("{name} does not give a condition"),
                    )),
                }
            }
        }
    }
}

/// Values compared by `Fn::Equals`: scalars by their text, as CloudFormation compares them.
fn comparable(v: Option<&Value>) -> Option<Value> {
    v.map(|v| {
        scalar_text(v)
            .map(Value::String)
            .unwrap_or_else(|| v.clone())
    })
}

/// "a list", "a map", ... for messages.
pub(crate) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn with_scope<T>(f: impl FnOnce(&mut Scope<'_>) -> T) -> T {
        let env = Environment::new("stk");
        let mut params = HashMap::new();
        params.insert("Env".to_string(), json!("prod"));
        params.insert("Subnets".to_string(), json!(["a", "b"]));
        let mappings = json!({"Sizes": {"prod": {"Mem": 512}}});
        let mappings = mappings.as_object().cloned().unwrap_or_default();
        let conds = json!({
            "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
            "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
            "Both": {"Fn::And": [{"Condition": "IsProd"}, {"Fn::Equals": ["1", 1]}]},
            "Loop1": {"Condition": "Loop2"},
            "Loop2": {"Fn::Not": [{"Condition": "Loop1"}]},
        });
        let conds = conds.as_object().cloned().unwrap_or_default();
        let mut s = Scope::new(&env, &params, &mappings, &conds);
        s.resources.insert(
            "Fn".into(),
            Known::Deployed {
                reference: json!("stk-Fn"),
                attributes: vec![(
                    "Arn",
                    json!("arn:aws:lambda:us-east-1:123456789012:function:stk-Fn"),
                )],
            },
        );
        s.resources.insert(
            "Role".into(),
            Known::Skipped {
                name: "stk-Role".into(),
                arn: "arn:aws:iam::123456789012:role/stk-Role".into(),
            },
        );
        s.resources.insert(
            "Gone".into(),
            Known::NotCreated {
                condition: "IsDev".into(),
            },
        );
        f(&mut s)
    }

    fn ev(v: Value) -> Result<Option<Value>> {
        with_scope(|s| s.eval(&v, "Resources.X.Properties.P"))
    }

    #[test]
    fn refs_pseudo_parameters_and_attributes() {
        assert_eq!(
            ev(json!({"Ref": "Env"})).ok().flatten(),
            Some(json!("prod"))
        );
        assert_eq!(
            ev(json!({"Ref": "Fn"})).ok().flatten(),
            Some(json!("stk-Fn"))
        );
        assert_eq!(
            ev(json!({"Ref": "AWS::Region"})).ok().flatten(),
            Some(json!("us-east-1"))
        );
        assert_eq!(
            ev(json!({"Ref": "AWS::StackName"})).ok().flatten(),
            Some(json!("stk"))
        );
        assert_eq!(
            ev(json!({"Fn::GetAtt": ["Fn", "Arn"]})).ok().flatten(),
            Some(json!(
                "arn:aws:lambda:us-east-1:123456789012:function:stk-Fn"
            ))
        );
        assert_eq!(
            ev(json!({"Fn::GetAtt": "Fn.Arn"})).ok().flatten(),
            Some(json!(
                "arn:aws:lambda:us-east-1:123456789012:function:stk-Fn"
            ))
        );
        assert_eq!(
            ev(json!({"a": {"Ref": "AWS::NoValue"}, "b": [1, {"Ref": "AWS::NoValue"}]}))
                .ok()
                .flatten(),
            Some(json!({"b": [1]}))
        );
        let id = ev(json!({"Ref": "AWS::StackId"})).ok().flatten();
        assert_eq!(
            id,
            ev(json!({"Ref": "AWS::StackId"})).ok().flatten(),
            "stable"
        );
        assert!(id.as_ref().and_then(Value::as_str).is_some_and(|s| {
            s.starts_with("arn:aws:cloudformation:us-east-1:123456789012:stack/stk/")
        }));
    }

    #[test]
    fn sub_in_both_forms() {
        assert_eq!(
            ev(json!({"Fn::Sub": "${AWS::StackName}-${Env}-${Fn}-${Fn.Arn}-${!Literal}"}))
                .ok()
                .flatten(),
            Some(json!(
                "stk-prod-stk-Fn-arn:aws:lambda:us-east-1:123456789012:function:stk-Fn-${Literal}"
            ))
        );
        assert_eq!(
            ev(json!({"Fn::Sub": ["${A}/${Env}", {"A": {"Fn::Join": ["-", ["x", "y"]]}}]}))
                .ok()
                .flatten(),
            Some(json!("x-y/prod"))
        );
        assert_eq!(
            ev(json!({"Fn::Sub": "cost: $5 ${"})).ok().flatten(),
            Some(json!("cost: $5 ${"))
        );
        assert_eq!(
            sub_parts("a${X}b${!Y}c"),
            vec![
                SubPart::Text("a".into()),
                SubPart::Var("X".into()),
                SubPart::Text("b${Y}c".into())
            ]
        );
    }

    #[test]
    fn join_select_split_find_in_map_and_more() {
        assert_eq!(
            ev(json!({"Fn::Join": [",", {"Ref": "Subnets"}]}))
                .ok()
                .flatten(),
            Some(json!("a,b"))
        );
        assert_eq!(
            ev(json!({"Fn::Join": ["", ["n", 1, true]]})).ok().flatten(),
            Some(json!("n1true"))
        );
        assert_eq!(
            ev(json!({"Fn::Select": [1, {"Fn::Split": ["|", "x|y|z"]}]}))
                .ok()
                .flatten(),
            Some(json!("y"))
        );
        assert_eq!(
            ev(json!({"Fn::FindInMap": ["Sizes", {"Ref": "Env"}, "Mem"]}))
                .ok()
                .flatten(),
            Some(json!(512))
        );
        assert_eq!(
            ev(json!({"Fn::FindInMap": ["Sizes", "dev", "Mem", {"DefaultValue": 128}]}))
                .ok()
                .flatten(),
            Some(json!(128))
        );
        assert_eq!(
            ev(json!({"Fn::Base64": "hi"})).ok().flatten(),
            Some(json!("aGk="))
        );
        assert_eq!(
            ev(json!({"Fn::ToJsonString": {"a": [1]}})).ok().flatten(),
            Some(json!("{\"a\":[1]}"))
        );
        assert_eq!(
            ev(json!({"Fn::Length": [1, 2, 3]})).ok().flatten(),
            Some(json!(3))
        );
        assert_eq!(
            ev(json!({"Fn::Select": [0, {"Fn::GetAZs": ""}]}))
                .ok()
                .flatten(),
            Some(json!("us-east-1a"))
        );
    }

    #[test]
    fn conditions_and_if() {
        assert_eq!(
            ev(json!({"Fn::If": ["IsProd", "big", "small"]}))
                .ok()
                .flatten(),
            Some(json!("big"))
        );
        assert_eq!(
            ev(json!({"Fn::If": ["IsDev", "big", {"Ref": "AWS::NoValue"}]}))
                .ok()
                .flatten(),
            None
        );
        assert_eq!(
            ev(json!({"Fn::If": ["Both", 1, 2]})).ok().flatten(),
            Some(json!(1))
        );
        // An untaken branch is not evaluated (it may name a resource that does not exist).
        assert_eq!(
            ev(json!({"Fn::If": ["IsProd", 1, {"Ref": "Gone"}]}))
                .ok()
                .flatten(),
            Some(json!(1))
        );
        let e = ev(json!({"Fn::If": ["Loop1", 1, 2]}))
            .expect_err("cycle")
            .to_string();
        assert!(e.contains("circular condition"), "{e}");
        let e = ev(json!({"Fn::If": ["Nope", 1, 2]}))
            .expect_err("unknown")
            .to_string();
        assert_eq!(
            e,
            "Resources.X.Properties.P: condition Nope is not declared in Conditions"
        );
    }

    #[test]
    fn errors_name_the_property() {
        let e = ev(json!({"Ref": "Missing"}))
            .expect_err("missing")
            .to_string();
        assert_eq!(
            e,
            "Resources.X.Properties.P: Ref Missing: no parameter or resource of that name in the template"
        );
        let e = ev(json!({"k": {"Fn::GetAtt": ["Fn", "Nope"]}}))
            .expect_err("attr")
            .to_string();
        assert_eq!(
            e,
            "Resources.X.Properties.P.k: Fn::GetAtt Fn.Nope: ironstep knows the attributes Arn of this resource"
        );
        let e = ev(json!({"Ref": "Gone"}))
            .expect_err("not created")
            .to_string();
        assert!(e.contains("its condition IsDev is false"), "{e}");
        let e = ev(json!({"Fn::Sub": "${Subnets}"}))
            .expect_err("list in sub")
            .to_string();
        assert!(e.contains("${Subnets} is a list, not a string"), "{e}");
        let e = ev(json!({"Fn::ImportValue": "x"}))
            .expect_err("import")
            .to_string();
        assert!(e.contains("Fn::ImportValue is not supported"), "{e}");
    }

    #[test]
    fn skipped_resources_give_noted_stand_ins() {
        with_scope(|s| {
            let v = s.eval(
                &json!({"Fn::GetAtt": ["Role", "Arn"]}),
                "Resources.S.Properties.RoleArn",
            );
            assert_eq!(
                v.ok().flatten(),
                Some(json!("arn:aws:iam::123456789012:role/stk-Role"))
            );
            let notes = s.take_notes();
            assert_eq!(notes.len(), 1);
            assert!(
                notes[0].starts_with("Resources.S.Properties.RoleArn: Role.Arn is a stand-in"),
                "{notes:?}"
            );
        });
    }

    #[test]
    fn references_are_found_in_every_form() {
        let mut out = Vec::new();
        references(
            &json!({"a": {"Ref": "A"}, "b": [{"Fn::GetAtt": "B.Arn"}, {"Fn::GetAtt": ["C", "Arn"]}],
                    "c": {"Fn::Sub": ["${D.Arn}-${V}-${!E}-${AWS::Region}", {"V": {"Ref": "F"}}]}}),
            "P",
            &mut out,
        );
        let got: Vec<(&str, &str)> = out.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        assert_eq!(
            got,
            [
                ("A", "P.a"),
                ("B", "P.b.0"),
                ("C", "P.b.1"),
                ("F", "P.c.V"),
                ("D", "P.c"),
                ("AWS::Region", "P.c")
            ]
        );
    }
}
