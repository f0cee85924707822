//! Parameter values: defaults, overrides (`K=V` or SAM CLI's `ParameterKey=K,ParameterValue=V`)
//! and CloudFormation's constraints.

use std::collections::HashMap;

use serde_json::Value;

use crate::error::{DeployError, Result};
use crate::template::{Parameter, Template};

/// Splits SAM CLI's one-string form (`'A=1 B="two words"'`) at spaces outside quotes, dropping
/// the quotes.
fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut started = false;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                started = true;
            }
            None if c.is_whitespace() => {
                if started || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                started = false;
            }
            None => {
                cur.push(c);
                started = true;
            }
        }
    }
    if started || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Parses `--parameter-overrides` items: `Key=Value` or `ParameterKey=Key,ParameterValue=Value`,
/// several to an item when separated by spaces (as SAM CLI takes them).
pub fn parse_overrides(items: &[String]) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for item in items.iter().flat_map(|i| tokens(i)) {
        let item = &item;
        if let Some(rest) = item.strip_prefix("ParameterKey=") {
            let Some((key, value)) = rest.split_once(",ParameterValue=") else {
                return Err(DeployError::at(
                    "--parameter-overrides",
                    format!("'{item}' is not ParameterKey=K,ParameterValue=V"),
                ));
            };
            out.push((key.to_string(), value.to_string()));
        } else {
            let Some((key, value)) = item.split_once('=') else {
                return Err(DeployError::at(
                    "--parameter-overrides",
                    format!("'{item}' is not Key=Value"),
                ));
            };
            out.push((key.trim().to_string(), value.to_string()));
        }
    }
    Ok(out)
}

fn is_list(kind: &str) -> bool {
    kind == "CommaDelimitedList" || kind.starts_with("List<")
}

/// Resolves every parameter's value: list types become JSON lists, the rest strings.
pub fn resolve(
    template: &Template,
    overrides: &[(String, String)],
) -> Result<HashMap<String, Value>> {
    let unknown: Vec<&str> = overrides
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| !template.parameters.iter().any(|(n, _)| n == k))
        .collect();
    if !unknown.is_empty() {
        return Err(DeployError::at(
            "--parameter-overrides",
            format!(
                "Parameters [{}] do not exist in the template",
                unknown.join(", ")
            ),
        ));
    }
    let mut missing = Vec::new();
    let mut out = HashMap::new();
    for (name, p) in &template.parameters {
        let given = overrides
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone());
        let Some(text) = given.or_else(|| p.default.clone()) else {
            missing.push(name.as_str());
            continue;
        };
        check(name, p, &text)?;
        let value = if is_list(&p.kind) {
            Value::Array(
                text.split(',')
                    .map(|s| Value::String(s.trim().to_string()))
                    .collect(),
            )
        } else {
            Value::String(text)
        };
        out.insert(name.clone(), value);
    }
    if !missing.is_empty() {
        return Err(DeployError::at(
            "Parameters",
            format!(
                "[{}] must have values (no Default; pass --parameter-overrides {}=...)",
                missing.join(", "),
                missing[0]
            ),
        ));
    }
    Ok(out)
}

fn check(name: &str, p: &Parameter, text: &str) -> Result<()> {
    let path = format!("Parameters.{name}");
    let fail = |what: String| {
        let mut message = format!("value '{text}' {what}");
        if let Some(d) = &p.constraint_description {
            message.push_str(&format!(" ({d})"));
        }
        Err(DeployError::at(&path, message))
    };
    let items: Vec<&str> = if is_list(&p.kind) {
        text.split(',').map(str::trim).collect()
    } else {
        vec![text]
    };
    for item in items {
        if let Some(allowed) = &p.allowed_values
            && !allowed.iter().any(|a| a == item)
        {
            return fail(format!(
                "is not one of the AllowedValues [{}]",
                allowed.join(", ")
            ));
        }
        if p.kind == "Number" || p.kind == "List<Number>" {
            let Ok(n) = item.trim().parse::<f64>() else {
                return fail("is not a number".into());
            };
            if p.min_value.is_some_and(|m| n < m) || p.max_value.is_some_and(|m| n > m) {
                return fail(format!(
                    "is outside MinValue/MaxValue ({:?}..{:?})",
                    p.min_value, p.max_value
                ));
            }
        }
        let len = item.chars().count() as u64;
        if p.min_length.is_some_and(|m| len < m) || p.max_length.is_some_and(|m| len > m) {
            return fail(format!(
                "has a length outside MinLength/MaxLength ({:?}..{:?})",
                p.min_length, p.max_length
            ));
        }
        if let Some(pattern) = &p.allowed_pattern {
            // CloudFormation matches the whole value (Java regular expressions; ECMAScript's
            // agree on what templates use).
            let re = regress::Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
                DeployError::at(
                    format!("{path}.AllowedPattern"),
                    format!("invalid pattern: {e}"),
                )
            })?;
            if re.find(item).is_none() {
                return fail(format!("does not match AllowedPattern {pattern}"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    fn template() -> Template {
        Template::parse(
            r#"
Parameters:
  Env: {Type: String, Default: dev, AllowedValues: [dev, prod]}
  Size: {Type: Number, Default: 128, MinValue: 128, MaxValue: 1024}
  Ids: {Type: CommaDelimitedList, Default: "a, b"}
  Name: {Type: String, AllowedPattern: "[a-z]+", ConstraintDescription: lower-case letters}
Resources:
  A: {Type: AWS::StepFunctions::Activity, Properties: {Name: a}}
"#,
            Path::new("t.yaml"),
            Path::new("/"),
        )
        .expect("template")
    }

    fn ov(items: &[&str]) -> Vec<(String, String)> {
        parse_overrides(&items.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .expect("overrides")
    }

    #[test]
    fn sam_cli_style_overrides() {
        assert_eq!(
            ov(&["A=1 B=\"two words\"", "ParameterKey=C,ParameterValue=x=y"]),
            [
                ("A".to_string(), "1".to_string()),
                ("B".into(), "two words".into()),
                ("C".into(), "x=y".into())
            ]
        );
    }

    #[test]
    fn defaults_overrides_and_lists() {
        let v = resolve(
            &template(),
            &ov(&["Name=abc", "ParameterKey=Env,ParameterValue=prod"]),
        )
        .expect("resolves");
        assert_eq!(v["Env"], json!("prod"));
        assert_eq!(v["Size"], json!("128"));
        assert_eq!(v["Ids"], json!(["a", "b"]));
        assert_eq!(v["Name"], json!("abc"));
    }

    #[test]
    fn constraints_and_missing_values() {
        let t = template();
        let e = resolve(&t, &[]).expect_err("missing").to_string();
        assert!(e.starts_with("Parameters: [Name] must have values"), "{e}");
        let e = resolve(&t, &ov(&["Name=abc", "Env=qa"]))
            .expect_err("allowed")
            .to_string();
        assert_eq!(
            e,
            "Parameters.Env: value 'qa' is not one of the AllowedValues [dev, prod]"
        );
        let e = resolve(&t, &ov(&["Name=abc", "Size=64"]))
            .expect_err("min")
            .to_string();
        assert!(
            e.starts_with("Parameters.Size: value '64' is outside MinValue/MaxValue"),
            "{e}"
        );
        let e = resolve(&t, &ov(&["Name=ABC"]))
            .expect_err("pattern")
            .to_string();
        assert_eq!(
            e,
            "Parameters.Name: value 'ABC' does not match AllowedPattern [a-z]+ (lower-case letters)"
        );
        let e = resolve(&t, &ov(&["Nme=abc"]))
            .expect_err("unknown")
            .to_string();
        assert_eq!(
            e,
            "--parameter-overrides: Parameters [Nme] do not exist in the template"
        );
        let e = parse_overrides(&["novalue".to_string()])
            .expect_err("shape")
            .to_string();
        assert!(e.contains("is not Key=Value"), "{e}");
    }
}
