//! JSON templates whose strings may be `{% ... %}` expressions.

use serde_json::Value;

use crate::error::{CompileError, FieldPath, PathSegment, TemplateCompileError};
use crate::expression::Expression;

/// The expression inside a string of the form `{% expr %}`, trimmed, or `None` for a literal.
///
/// AWS's rule: the string must start with `{%` and end with `%}` exactly (a leading or trailing
/// space outside the delimiters makes it a literal); whitespace inside is not part of the
/// expression (AWS quotes `{% 'string' %}` as `'string'`).
pub fn parse_expression_string(s: &str) -> Option<&str> {
    if s.len() >= 4 && s.starts_with("{%") && s.ends_with("%}") {
        Some(s[2..s.len() - 2].trim())
    } else {
        None
    }
}

/// A JSON value compiled once, in which every string that is exactly `{% ... %}` (at any depth in
/// objects and arrays, or the whole value) is an expression and everything else is a literal.
///
/// Evaluate it with [`Scope::eval_template`](crate::Scope::eval_template).
#[derive(Debug, Clone)]
pub struct Template {
    root: Node,
}

#[derive(Debug, Clone)]
pub(crate) enum Node {
    /// A subtree without expressions, kept as it is.
    Literal(Value),
    Expr(Box<(Expression, FieldPath)>),
    Object(Vec<(String, Node)>),
    Array(Vec<Node>),
}

impl Template {
    /// Compiles every expression in `value`. All failures are reported, each with its path.
    pub fn compile(value: &Value) -> Result<Template, TemplateCompileError> {
        let mut errors = Vec::new();
        let mut path = Vec::new();
        let root = compile_node(value, &mut path, &mut errors);
        if errors.is_empty() {
            Ok(Template { root })
        } else {
            Err(TemplateCompileError { errors })
        }
    }

    /// Whether the template holds no expression (evaluating it just clones it).
    pub fn is_literal(&self) -> bool {
        matches!(self.root, Node::Literal(_))
    }

    /// The whole value is a single expression (a field like `"Items": "{% ... %}"`).
    pub fn as_expression(&self) -> Option<&Expression> {
        match &self.root {
            Node::Expr(e) => Some(&e.0),
            _ => None,
        }
    }

    /// Every expression with its path, in document order (for validators).
    pub fn expressions(&self) -> Vec<(&Expression, &FieldPath)> {
        let mut out = Vec::new();
        collect(&self.root, &mut out);
        out
    }

    pub(crate) fn root(&self) -> &Node {
        &self.root
    }
}

fn collect<'a>(node: &'a Node, out: &mut Vec<(&'a Expression, &'a FieldPath)>) {
    match node {
        Node::Literal(_) => {}
        Node::Expr(e) => out.push((&e.0, &e.1)),
        Node::Object(members) => members.iter().for_each(|(_, n)| collect(n, out)),
        Node::Array(items) => items.iter().for_each(|n| collect(n, out)),
    }
}

fn compile_node(
    value: &Value,
    path: &mut Vec<PathSegment>,
    errors: &mut Vec<(FieldPath, CompileError)>,
) -> Node {
    match value {
        Value::String(s) => match parse_expression_string(s) {
            Some(src) => match Expression::compile(src) {
                Ok(expr) => Node::Expr(Box::new((expr, FieldPath(path.clone())))),
                Err(e) => {
                    errors.push((FieldPath(path.clone()), e));
                    Node::Literal(Value::Null)
                }
            },
            None => Node::Literal(value.clone()),
        },
        Value::Object(map) => {
            let mut members = Vec::with_capacity(map.len());
            for (k, v) in map {
                path.push(PathSegment::Key(k.clone()));
                members.push((k.clone(), compile_node(v, path, errors)));
                path.pop();
            }
            if members.iter().all(|(_, n)| matches!(n, Node::Literal(_))) {
                Node::Literal(value.clone())
            } else {
                Node::Object(members)
            }
        }
        Value::Array(items) => {
            let mut nodes = Vec::with_capacity(items.len());
            for (i, v) in items.iter().enumerate() {
                path.push(PathSegment::Index(i));
                nodes.push(compile_node(v, path, errors));
                path.pop();
            }
            if nodes.iter().all(|n| matches!(n, Node::Literal(_))) {
                Node::Literal(value.clone())
            } else {
                Node::Array(nodes)
            }
        }
        other => Node::Literal(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expression_strings() {
        assert_eq!(parse_expression_string("{% $x %}"), Some("$x"));
        assert_eq!(parse_expression_string("{%$x%}"), Some("$x"));
        assert_eq!(parse_expression_string(" {% $x %}"), None);
        assert_eq!(parse_expression_string("{% $x %} "), None);
        assert_eq!(parse_expression_string("{%}"), None);
        assert_eq!(parse_expression_string("{%%}"), Some(""));
        assert_eq!(parse_expression_string("$states.input"), None);
    }

    #[test]
    fn literals_stay_literal() {
        let t = Template::compile(&json!({"a": [1, "x", " {% y %} "], "b": {"c": null}})).unwrap();
        assert!(t.is_literal());
        assert!(t.expressions().is_empty());
    }

    #[test]
    fn expressions_keep_their_paths() {
        let t = Template::compile(&json!({
            "a": "{% $x %}", "b": [1, {"c": "{% $y %}"}], "d": "lit"
        }))
        .unwrap();
        let paths: Vec<String> = t
            .expressions()
            .iter()
            .map(|(e, p)| format!("{}={}", p.location("Output"), e.source()))
            .collect();
        assert_eq!(paths, ["Output/a=$x", "Output/b[1]/c=$y"]);
        let whole = Template::compile(&json!("{% $states.input.items %}")).unwrap();
        assert_eq!(
            whole.as_expression().unwrap().source(),
            "$states.input.items"
        );
    }

    #[test]
    fn all_compile_errors_are_reported() {
        let err = Template::compile(&json!({"a": "{% phone %}", "b": ["{% 1 + %}"]})).unwrap_err();
        let locations: Vec<String> = err
            .errors
            .iter()
            .map(|(p, _)| p.location("Output"))
            .collect();
        assert_eq!(locations, ["Output/a", "Output/b[0]"]);
    }
}
