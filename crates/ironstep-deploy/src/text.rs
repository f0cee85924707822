//! Template text (YAML or JSON) to a JSON value. CloudFormation's YAML short forms (`!Ref X`,
//! `!GetAtt A.B`, `!Sub ...`) become their long forms (`{"Ref": "X"}`, `{"Fn::GetAtt": ["A", "B"]}`),
//! so everything after parsing sees one shape, as CloudFormation itself does.

use serde_json::{Map, Number, Value};

/// The short-form tags CloudFormation accepts, other than `!Ref` and `!Condition` (which have no
/// `Fn::` prefix) and `!GetAtt` (whose scalar form is split at the first dot).
const FN_TAGS: &[&str] = &[
    "Base64",
    "Cidr",
    "FindInMap",
    "GetAZs",
    "ImportValue",
    "Join",
    "Select",
    "Split",
    "Sub",
    "Transform",
    "And",
    "Equals",
    "If",
    "Not",
    "Or",
    "ToJsonString",
    "Length",
];

/// Parses template text: JSON when it starts with `{`, YAML otherwise (with CloudFormation's
/// tags). The error message carries the line and column.
pub fn parse(text: &str) -> Result<Value, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim_start().starts_with('{') {
        return serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"));
    }
    let yaml: yaml_serde::Value =
        yaml_serde::from_str(text).map_err(|e| format!("invalid YAML: {e}"))?;
    let mut path = Vec::new();
    convert(yaml, &mut path)
}

fn at(path: &[String]) -> String {
    if path.is_empty() {
        "the top level".to_string()
    } else {
        path.join(".")
    }
}

fn convert(v: yaml_serde::Value, path: &mut Vec<String>) -> Result<Value, String> {
    use yaml_serde::Value as Y;
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            number(&n).ok_or_else(|| format!("{}: {n} is not a finite number", at(path)))?
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                path.push(i.to_string());
                out.push(convert(item, path)?);
                path.pop();
            }
            Value::Array(out)
        }
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    Y::Null => "null".to_string(),
                    _ => return Err(format!("{}: a mapping key must be a scalar", at(path))),
                };
                path.push(key.clone());
                let value = convert(v, path)?;
                path.pop();
                out.insert(key, value);
            }
            Value::Object(out)
        }
        Y::Tagged(t) => {
            let tag = t.tag.to_string();
            let name = tag.trim_start_matches('!').to_string();
            path.push(tag.clone());
            let inner = convert(t.value, path)?;
            path.pop();
            short_form(&name, inner).ok_or_else(|| {
                format!(
                    "{}: unknown tag {tag} (CloudFormation's are !Ref, !GetAtt, !Sub, !Join, !If, ...)",
                    at(path)
                )
            })?
        }
    })
}

fn number(n: &yaml_serde::Number) -> Option<Value> {
    if let Some(i) = n.as_i64() {
        Some(Value::Number(i.into()))
    } else if let Some(u) = n.as_u64() {
        Some(Value::Number(u.into()))
    } else {
        n.as_f64().and_then(Number::from_f64).map(Value::Number)
    }
}

/// A scalar as the string CloudFormation reads from it (`!Ref 1` names `"1"`).
fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn single(key: &str, value: Value) -> Value {
    let mut m = Map::new();
    m.insert(key.to_string(), value);
    Value::Object(m)
}

fn short_form(name: &str, inner: Value) -> Option<Value> {
    match name {
        "Ref" | "Condition" => {
            let s = scalar_string(&inner).unwrap_or_default();
            Some(single(name, Value::String(s)))
        }
        "GetAtt" => {
            let arg = match inner {
                Value::String(s) => match s.split_once('.') {
                    Some((id, attr)) => Value::Array(vec![id.into(), attr.into()]),
                    None => Value::String(s),
                },
                other => other,
            };
            Some(single("Fn::GetAtt", arg))
        }
        _ if FN_TAGS.contains(&name) => Some(single(&format!("Fn::{name}"), inner)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn short_forms_become_long_forms() {
        let v = parse(
            r#"
a: !Ref Param
b: !GetAtt Fn.Arn
c: !GetAtt [Fn, Arn]
d: !Sub "${AWS::Region}-x"
e: !Sub
  - "${X}"
  - X: !Ref Y
f: !Join [",", [a, !Ref B]]
g: !If [Cond, 1, !Ref "AWS::NoValue"]
h: !Equals [!Ref Env, prod]
i: !GetAtt Table.StreamSpecification.StreamArn
j: !Condition IsProd
k: !Ref 123
"#,
        )
        .expect("parses");
        assert_eq!(
            v,
            json!({
                "a": {"Ref": "Param"},
                "b": {"Fn::GetAtt": ["Fn", "Arn"]},
                "c": {"Fn::GetAtt": ["Fn", "Arn"]},
                "d": {"Fn::Sub": "${AWS::Region}-x"},
                "e": {"Fn::Sub": ["${X}", {"X": {"Ref": "Y"}}]},
                "f": {"Fn::Join": [",", ["a", {"Ref": "B"}]]},
                "g": {"Fn::If": ["Cond", 1, {"Ref": "AWS::NoValue"}]},
                "h": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
                "i": {"Fn::GetAtt": ["Table", "StreamSpecification.StreamArn"]},
                "j": {"Condition": "IsProd"},
                "k": {"Ref": "123"},
            })
        );
    }

    #[test]
    fn json_templates_parse_as_json_and_keep_key_order() {
        let v = parse("{\"b\": 1, \"a\": {\"Fn::Sub\": \"x\"}}").expect("parses");
        assert_eq!(
            v.as_object().map(|m| m.keys().cloned().collect::<Vec<_>>()),
            Some(vec!["b".to_string(), "a".to_string()])
        );
    }

    #[test]
    fn errors_name_the_place() {
        let e = parse("a:\n  b: !Bogus x\n").expect_err("unknown tag");
        assert!(e.contains("a.b: unknown tag !Bogus"), "{e}");
        let e = parse("a: [1, 2\n").expect_err("syntax");
        assert!(e.starts_with("invalid YAML:") && e.contains("line"), "{e}");
        let e = parse("{\"a\": }").expect_err("syntax");
        assert!(
            e.starts_with("invalid JSON:") && e.contains("line 1"),
            "{e}"
        );
    }

    #[test]
    fn scalars_keep_their_yaml_types() {
        let v = parse("n: 25\nf: 1.5\nb: true\ns: '25'\nz: ~\nd: 2010-09-09\n").expect("parses");
        assert_eq!(
            v,
            json!({"n": 25, "f": 1.5, "b": true, "s": "25", "z": null, "d": "2010-09-09"})
        );
    }
}
