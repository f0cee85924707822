//! The parts of the SAM transform that matter locally: `Globals` merged into resources.

use serde_json::{Map, Value};

use crate::error::{DeployError, Result};
use crate::eval::intrinsic;

/// The `Globals` sections SAM knows.
const SECTIONS: &[&str] = &[
    "Api",
    "CapacityProvider",
    "Function",
    "HttpApi",
    "LayerVersion",
    "SimpleTable",
    "StateMachine",
];

/// Checks the `Globals` section names.
pub(crate) fn check_globals(globals: &Map<String, Value>) -> Result<()> {
    for (name, v) in globals {
        if !SECTIONS.contains(&name.as_str()) {
            return Err(DeployError::at(
                format!("Globals.{name}"),
                format!(
                    "'{name}' is not a resource type of the Globals section ({})",
                    SECTIONS.join(", ")
                ),
            ));
        }
        if !v.is_object() {
            return Err(DeployError::at(format!("Globals.{name}"), "must be a map"));
        }
    }
    Ok(())
}

/// The `Globals` section for a SAM resource type.
pub(crate) fn section_for(kind: &str) -> Option<&'static str> {
    match kind {
        "AWS::Serverless::Function" => Some("Function"),
        "AWS::Serverless::StateMachine" => Some("StateMachine"),
        "AWS::Serverless::Api" => Some("Api"),
        "AWS::Serverless::HttpApi" => Some("HttpApi"),
        "AWS::Serverless::SimpleTable" => Some("SimpleTable"),
        "AWS::Serverless::LayerVersion" => Some("LayerVersion"),
        _ => None,
    }
}

/// SAM's merge: maps merge key by key (the resource's value wins, recursively), lists are
/// concatenated (globals first), anything else (including an intrinsic function on either
/// side) is the resource's value.
pub(crate) fn merge(global: &Value, local: &Value) -> Value {
    match (global, local) {
        (Value::Object(g), Value::Object(l))
            if intrinsic(global).is_none() && intrinsic(local).is_none() =>
        {
            let mut out = g.clone();
            for (k, v) in l {
                let merged = match g.get(k) {
                    Some(gv) => merge(gv, v),
                    None => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(g), Value::Array(l)) => {
            let mut out = g.clone();
            out.extend(l.iter().cloned());
            Value::Array(out)
        }
        _ => local.clone(),
    }
}

/// A resource's properties with its `Globals` section merged in.
pub(crate) fn with_globals(
    globals: &Map<String, Value>,
    kind: &str,
    properties: &Map<String, Value>,
) -> Map<String, Value> {
    let Some(Value::Object(g)) = section_for(kind).and_then(|s| globals.get(s)) else {
        return properties.clone();
    };
    match merge(
        &Value::Object(g.clone()),
        &Value::Object(properties.clone()),
    ) {
        Value::Object(m) => m,
        _ => properties.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn globals_merge_like_sam() {
        let globals = json!({"Function": {
            "Runtime": "nodejs20.x", "Timeout": 180, "Handler": "index.handler",
            "Environment": {"Variables": {"TABLE_NAME": "data-table", "STAGE": "dev"}},
            "Layers": ["arn:layer:1"],
            "Tags": {"Ref": "TagsParam"}
        }});
        let globals = globals.as_object().cloned().unwrap_or_default();
        let local = json!({
            "Timeout": 25,
            "Environment": {"Variables": {"MESSAGE": "Hello", "STAGE": "prod"}},
            "Layers": ["arn:layer:2"],
            "Tags": {"team": "a"}
        });
        let merged = with_globals(
            &globals,
            "AWS::Serverless::Function",
            local.as_object().unwrap_or(&Map::new()),
        );
        assert_eq!(
            Value::Object(merged),
            json!({
                "Runtime": "nodejs20.x", "Timeout": 25, "Handler": "index.handler",
                "Environment": {"Variables": {"TABLE_NAME": "data-table", "STAGE": "prod", "MESSAGE": "Hello"}},
                "Layers": ["arn:layer:1", "arn:layer:2"],
                "Tags": {"team": "a"}
            })
        );
        // Other resource types are untouched.
        let cfn = with_globals(&globals, "AWS::Lambda::Function", &Map::new());
        assert!(cfn.is_empty());
    }

    #[test]
    fn unknown_globals_sections_are_errors() {
        let g = json!({"Functions": {"Timeout": 3}});
        let e = check_globals(g.as_object().unwrap_or(&Map::new()))
            .expect_err("unknown")
            .to_string();
        assert!(
            e.starts_with("Globals.Functions: 'Functions' is not a resource type"),
            "{e}"
        );
    }
}
