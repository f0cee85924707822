//! A template's sections, checked for shape (not yet for meaning: see [`crate::plan`]).

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::{DeployError, Result};

/// The SAM transform's name.
pub const SAM_TRANSFORM: &str = "AWS::Serverless-2016-10-31";

/// A parsed template.
#[derive(Debug, Clone)]
pub struct Template {
    /// The template file (for messages).
    pub file: PathBuf,
    /// The directory relative paths (`CodeUri`, `DefinitionUri`) start from.
    pub dir: PathBuf,
    /// `Transform`, as a list.
    pub transforms: Vec<String>,
    /// `Description`.
    pub description: Option<String>,
    /// `Parameters`, in template order.
    pub parameters: Vec<(String, Parameter)>,
    /// `Mappings`.
    pub mappings: Map<String, Value>,
    /// `Conditions`, in template order.
    pub conditions: Map<String, Value>,
    /// SAM's `Globals`.
    pub globals: Map<String, Value>,
    /// `Resources`, in template order.
    pub resources: Vec<Resource>,
    /// `Outputs`, in template order.
    pub outputs: Vec<(String, Output)>,
}

/// One `Parameters` entry.
#[derive(Debug, Clone, Default)]
pub struct Parameter {
    /// `Type` (`String`, `Number`, `CommaDelimitedList`, `List<Number>`, AWS-specific types).
    pub kind: String,
    /// `Default`, as text.
    pub default: Option<String>,
    /// `AllowedValues`.
    pub allowed_values: Option<Vec<String>>,
    /// `AllowedPattern`.
    pub allowed_pattern: Option<String>,
    /// `MinLength`.
    pub min_length: Option<u64>,
    /// `MaxLength`.
    pub max_length: Option<u64>,
    /// `MinValue`.
    pub min_value: Option<f64>,
    /// `MaxValue`.
    pub max_value: Option<f64>,
    /// `NoEcho`: the value is masked in what we print.
    pub no_echo: bool,
    /// `ConstraintDescription`, shown when a constraint fails.
    pub constraint_description: Option<String>,
}

/// One `Resources` entry.
#[derive(Debug, Clone)]
pub struct Resource {
    /// The logical id.
    pub logical_id: String,
    /// `Type`.
    pub kind: String,
    /// `Properties` (empty when absent).
    pub properties: Map<String, Value>,
    /// `Condition`.
    pub condition: Option<String>,
    /// `DependsOn`.
    pub depends_on: Vec<String>,
    /// `Metadata`.
    pub metadata: Option<Value>,
}

/// One `Outputs` entry.
#[derive(Debug, Clone)]
pub struct Output {
    /// `Value`.
    pub value: Value,
    /// `Description`.
    pub description: Option<Value>,
    /// `Condition`.
    pub condition: Option<String>,
}

const TOP_LEVEL: &[&str] = &[
    "AWSTemplateFormatVersion",
    "Description",
    "Metadata",
    "Parameters",
    "Rules",
    "Mappings",
    "Conditions",
    "Transform",
    "Resources",
    "Outputs",
    "Globals",
];

const RESOURCE_ATTRIBUTES: &[&str] = &[
    "Type",
    "Properties",
    "DependsOn",
    "Condition",
    "Metadata",
    "DeletionPolicy",
    "UpdateReplacePolicy",
    "UpdatePolicy",
    "CreationPolicy",
];

fn is_alphanumeric(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn section<'a>(top: &'a Map<String, Value>, name: &str) -> Result<Option<&'a Map<String, Value>>> {
    match top.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(DeployError::at(name, "must be a map")),
    }
}

impl Template {
    /// Reads and parses a template file.
    pub fn load(file: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(file).map_err(|source| DeployError::Io {
            context: "template".into(),
            path: file.to_path_buf(),
            source,
        })?;
        let dir = file
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        let dir = std::path::absolute(&dir).unwrap_or(dir);
        Self::parse(&text, file, &normalize(&dir))
    }

    /// Parses template text; `dir` is where relative paths start.
    pub fn parse(text: &str, file: &Path, dir: &Path) -> Result<Self> {
        let value = crate::text::parse(text).map_err(|message| DeployError::Syntax {
            file: file.display().to_string(),
            message,
        })?;
        let Value::Object(top) = value else {
            return Err(DeployError::Syntax {
                file: file.display().to_string(),
                message: "a template is a map of sections (Resources, Parameters, ...)".into(),
            });
        };
        let unknown: Vec<&str> = top
            .keys()
            .map(String::as_str)
            .filter(|k| !TOP_LEVEL.contains(k))
            .collect();
        if !unknown.is_empty() {
            return Err(DeployError::at(
                "Template",
                format!(
                    "invalid template property or properties [{}]",
                    unknown.join(", ")
                ),
            ));
        }
        let transforms = match top.get("Transform") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .map(|t| {
                    t.as_str().map(str::to_string).ok_or_else(|| {
                        DeployError::at("Transform", "each transform must be a name (macros with parameters are not supported)")
                    })
                })
                .collect::<Result<_>>()?,
            Some(_) => {
                return Err(DeployError::at(
                    "Transform",
                    "must be a transform name or a list of names",
                ));
            }
        };
        for t in &transforms {
            if t != SAM_TRANSFORM && t != "AWS::LanguageExtensions" {
                return Err(DeployError::at(
                    "Transform",
                    format!(
                        "ironstep runs the SAM transform ({SAM_TRANSFORM}) and AWS::LanguageExtensions' functions, not '{t}'"
                    ),
                ));
            }
        }
        let description = top.get("Description").and_then(as_text);

        let mut parameters = Vec::new();
        if let Some(ps) = section(&top, "Parameters")? {
            for (name, p) in ps {
                parameters.push((name.clone(), parameter(name, p)?));
            }
        }
        let mappings = section(&top, "Mappings")?.cloned().unwrap_or_default();
        let conditions = section(&top, "Conditions")?.cloned().unwrap_or_default();
        let globals = section(&top, "Globals")?.cloned().unwrap_or_default();

        let Some(res) = section(&top, "Resources")? else {
            return Err(DeployError::at(
                "Resources",
                "a template must declare at least one resource",
            ));
        };
        if res.is_empty() {
            return Err(DeployError::at(
                "Resources",
                "a template must declare at least one resource",
            ));
        }
        let mut resources = Vec::with_capacity(res.len());
        for (id, r) in res {
            resources.push(resource(id, r)?);
        }
        let mut outputs = Vec::new();
        if let Some(os) = section(&top, "Outputs")? {
            for (name, o) in os {
                outputs.push((name.clone(), output(name, o)?));
            }
        }
        Ok(Self {
            file: file.to_path_buf(),
            dir: dir.to_path_buf(),
            transforms,
            description,
            parameters,
            mappings,
            conditions,
            globals,
            resources,
            outputs,
        })
    }

    /// Whether the SAM transform is declared.
    pub fn is_sam(&self) -> bool {
        self.transforms.iter().any(|t| t == SAM_TRANSFORM)
    }

    /// The resource with this logical id.
    pub fn resource(&self, id: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.logical_id == id)
    }
}

/// `a/./b/../c` → `a/c`, without touching the file system (symlinks are kept as named).
pub(crate) fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn parameter(name: &str, p: &Value) -> Result<Parameter> {
    let path = format!("Parameters.{name}");
    if !is_alphanumeric(name) {
        return Err(DeployError::at(
            &path,
            "a parameter name must be alphanumeric",
        ));
    }
    let Value::Object(m) = p else {
        return Err(DeployError::at(&path, "must be a map with a Type"));
    };
    let kind = m
        .get("Type")
        .and_then(Value::as_str)
        .ok_or_else(|| DeployError::at(format!("{path}.Type"), "is required"))?
        .to_string();
    let num = |key: &str| -> Result<Option<f64>> {
        match m.get(key) {
            None => Ok(None),
            Some(v) => as_text(v)
                .and_then(|s| s.parse::<f64>().ok())
                .map(Some)
                .ok_or_else(|| DeployError::at(format!("{path}.{key}"), "must be a number")),
        }
    };
    let allowed_values = match m.get("AllowedValues") {
        None => None,
        Some(Value::Array(a)) => Some(
            a.iter()
                .map(|v| {
                    as_text(v).ok_or_else(|| {
                        DeployError::at(format!("{path}.AllowedValues"), "values must be scalars")
                    })
                })
                .collect::<Result<Vec<_>>>()?,
        ),
        Some(_) => {
            return Err(DeployError::at(
                format!("{path}.AllowedValues"),
                "must be a list",
            ));
        }
    };
    let default = match m.get("Default") {
        None => None,
        Some(Value::Array(a)) => Some(a.iter().filter_map(as_text).collect::<Vec<_>>().join(",")),
        Some(v) => Some(
            as_text(v)
                .ok_or_else(|| DeployError::at(format!("{path}.Default"), "must be a scalar"))?,
        ),
    };
    Ok(Parameter {
        kind,
        default,
        allowed_values,
        allowed_pattern: m.get("AllowedPattern").and_then(as_text),
        min_length: num("MinLength")?.map(|n| n as u64),
        max_length: num("MaxLength")?.map(|n| n as u64),
        min_value: num("MinValue")?,
        max_value: num("MaxValue")?,
        no_echo: m
            .get("NoEcho")
            .and_then(as_text)
            .is_some_and(|s| s.eq_ignore_ascii_case("true")),
        constraint_description: m.get("ConstraintDescription").and_then(as_text),
    })
}

fn resource(id: &str, r: &Value) -> Result<Resource> {
    let path = format!("Resources.{id}");
    if id.starts_with("Fn::ForEach") {
        return Err(DeployError::at(
            &path,
            "Fn::ForEach (AWS::LanguageExtensions) is not supported by ironstep deploy",
        ));
    }
    if !is_alphanumeric(id) {
        return Err(DeployError::at(&path, "a logical id must be alphanumeric"));
    }
    let Value::Object(m) = r else {
        return Err(DeployError::at(&path, "must be a map with a Type"));
    };
    if let Some(k) = m
        .keys()
        .find(|k| !RESOURCE_ATTRIBUTES.contains(&k.as_str()))
    {
        return Err(DeployError::at(
            format!("{path}.{k}"),
            "is not a resource attribute (Type, Properties, DependsOn, Condition, Metadata, ...)",
        ));
    }
    let kind = match m.get("Type") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => {
            return Err(DeployError::at(
                format!("{path}.Type"),
                "is required (a resource type name)",
            ));
        }
    };
    let properties = match m.get("Properties") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(p)) => p.clone(),
        Some(_) => {
            return Err(DeployError::at(
                format!("{path}.Properties"),
                "must be a map",
            ));
        }
    };
    let condition = match m.get("Condition") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(DeployError::at(
                format!("{path}.Condition"),
                "must be the name of a condition",
            ));
        }
    };
    let depends_on = match m.get("DependsOn") {
        None => Vec::new(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| {
                v.as_str().map(str::to_string).ok_or_else(|| {
                    DeployError::at(format!("{path}.DependsOn"), "must list logical ids")
                })
            })
            .collect::<Result<_>>()?,
        Some(_) => {
            return Err(DeployError::at(
                format!("{path}.DependsOn"),
                "must be a logical id or a list of them",
            ));
        }
    };
    Ok(Resource {
        logical_id: id.to_string(),
        kind,
        properties,
        condition,
        depends_on,
        metadata: m.get("Metadata").cloned(),
    })
}

fn output(name: &str, o: &Value) -> Result<Output> {
    let path = format!("Outputs.{name}");
    let Value::Object(m) = o else {
        return Err(DeployError::at(&path, "must be a map with a Value"));
    };
    let value = m
        .get("Value")
        .cloned()
        .ok_or_else(|| DeployError::at(format!("{path}.Value"), "is required"))?;
    Ok(Output {
        value,
        description: m.get("Description").cloned(),
        condition: m
            .get("Condition")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Template> {
        Template::parse(text, Path::new("template.yaml"), Path::new("/project"))
    }

    #[test]
    fn sections_are_read_in_order() {
        let t = parse(
            "Transform: AWS::Serverless-2016-10-31\nParameters:\n  B: {Type: String, Default: x}\n  A: {Type: Number, Default: 3}\nResources:\n  Z: {Type: AWS::StepFunctions::Activity, Properties: {Name: z}}\n  Y:\n    Type: AWS::StepFunctions::Activity\n    DependsOn: Z\n    Condition: C\n",
        )
        .expect("parses");
        assert!(t.is_sam());
        assert_eq!(
            t.parameters
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>(),
            ["B", "A"]
        );
        assert_eq!(t.parameters[1].1.default.as_deref(), Some("3"));
        assert_eq!(
            t.resources
                .iter()
                .map(|r| r.logical_id.as_str())
                .collect::<Vec<_>>(),
            ["Z", "Y"]
        );
        assert_eq!(t.resources[1].depends_on, ["Z"]);
        assert_eq!(t.resources[1].condition.as_deref(), Some("C"));
    }

    #[test]
    fn shape_errors_name_the_place() {
        let cases = [
            (
                "Resources: {}\n",
                "Resources: a template must declare at least one resource",
            ),
            (
                "Resourcs: {A: {Type: X}}\n",
                "Template: invalid template property or properties [Resourcs]",
            ),
            (
                "Resources:\n  A:\n    Properties: {}\n",
                "Resources.A.Type: is required",
            ),
            (
                "Resources:\n  my-fn:\n    Type: X\n",
                "Resources.my-fn: a logical id must be alphanumeric",
            ),
            (
                "Resources:\n  A:\n    Type: X\n    Propertis: {}\n",
                "Resources.A.Propertis: is not a resource attribute",
            ),
            (
                "Resources:\n  A:\n    Type: X\n    Properties: [1]\n",
                "Resources.A.Properties: must be a map",
            ),
            (
                "Transform: AWS::Include\nResources: {A: {Type: X}}\n",
                "Transform: ironstep runs the SAM transform",
            ),
            (
                "Parameters:\n  P: {Default: 1}\nResources: {A: {Type: X}}\n",
                "Parameters.P.Type: is required",
            ),
            (
                "Resources: {A: {Type: X}}\nOutputs:\n  O: {Description: d}\n",
                "Outputs.O.Value: is required",
            ),
        ];
        for (text, expected) in cases {
            let e = parse(text).expect_err(text).to_string();
            assert!(e.starts_with(expected), "{text:?}: {e}");
        }
    }
}
