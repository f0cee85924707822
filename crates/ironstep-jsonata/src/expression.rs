//! A compiled JSONata expression.

use std::fmt;
use std::sync::Arc;

use jsonata_core::ast::AstNode;
use jsonata_core::parser::{self, ParserError};

use crate::analysis;
use crate::error::{CompileError, Diagnostic, DiagnosticCode};
use crate::functions::HostFunction;
use crate::js_regex;

// The parsed AST is plain data; this is what lets an `Expression` be shared across threads
// without a per-thread re-parse. If jsonata-core ever puts an `Rc` in its AST, this fails to
// compile and the design must move to a per-thread cache of parsed trees.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<AstNode>();
};

/// A field of `$states`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatesField {
    /// `$states.input`: the state's raw input (always available).
    Input,
    /// `$states.context`: the context object.
    Context,
    /// `$states.result`: the task/Parallel/Map result (only in `Output`/`Assign` after success).
    Result,
    /// `$states.errorOutput`: `{Error, Cause}` (only in a Catch's `Output`/`Assign`).
    ErrorOutput,
}

impl StatesField {
    /// The field's name in `$states`.
    pub fn name(self) -> &'static str {
        match self {
            StatesField::Input => "input",
            StatesField::Context => "context",
            StatesField::Result => "result",
            StatesField::ErrorOutput => "errorOutput",
        }
    }
}

/// A JSONata expression parsed and checked once, at definition-creation time.
///
/// Cheap to clone and shareable across threads (`Send + Sync`). Evaluate it with
/// [`Scope::eval`](crate::Scope::eval).
#[derive(Clone)]
pub struct Expression {
    inner: Arc<Inner>,
}

struct Inner {
    source: String,
    ast: AstNode,
    variables: Vec<String>,
    states_all: bool,
    states_fields: Vec<String>,
    uses_randomness: bool,
    host_functions: u16,
}

impl fmt::Debug for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Expression")
            .field("source", &self.inner.source)
            .field("variables", &self.inner.variables)
            .finish()
    }
}

impl Expression {
    /// Parses `src` (the text between `{%` and `%}`) and checks it as AWS does at creation time:
    /// syntax errors are `INVALID_JSONATA_EXPRESSION`; a bare field name, `$` or `$$` read from
    /// the top level is `UNSUPPORTED_JSONATA_EXPRESSION` (one diagnostic per distinct name).
    pub fn compile(src: &str) -> Result<Expression, CompileError> {
        let mut ast =
            parser::parse(src).map_err(|e| CompileError::invalid(parse_message(&e, src)))?;
        let facts = analysis::analyze(&ast);

        for (pattern, flags) in &facts.regexes {
            js_regex::compile(pattern, flags).map_err(|e| CompileError::invalid(e.0))?;
        }
        let mut diagnostics: Vec<Diagnostic> = facts
            .top_level
            .iter()
            .map(|name| Diagnostic {
                code: DiagnosticCode::UnsupportedJsonataExpression,
                message: format!("Reference to '{name}' at the top level is not supported."),
            })
            .collect();
        if facts.root_reference {
            diagnostics.push(Diagnostic {
                code: DiagnosticCode::UnsupportedJsonataExpression,
                message: "Reference to '$$' is not supported.".to_owned(),
            });
        }
        if !diagnostics.is_empty() {
            return Err(CompileError { diagnostics });
        }

        analysis::rewrite_regex_calls(&mut ast, &facts.locally_bound);
        Ok(Expression {
            inner: Arc::new(Inner {
                source: src.to_owned(),
                ast,
                variables: facts.variables,
                states_all: facts.states_all,
                states_fields: facts.states_fields,
                uses_randomness: facts.uses_randomness,
                host_functions: HostFunction::mask_for(facts.names.iter().map(String::as_str)),
            }),
        })
    }

    /// The source text, as given to [`Expression::compile`]. AWS quotes it in error causes.
    pub fn source(&self) -> &str {
        &self.inner.source
    }

    /// Workflow variables the expression reads (`$name`), in first-use order: not `$states`, not
    /// names the expression binds itself (`:=`, lambda parameters, `@$x`, `#$i`), not function
    /// names. The validator checks them against `Assign`s; the scope converts only these.
    pub fn variables(&self) -> &[String] {
        &self.inner.variables
    }

    /// Whether the expression reads `field` of `$states` (a bare `$states` reads all of them).
    /// The validator uses it to refuse `$states.errorOutput` outside a Catch, with AWS's
    /// `Field '$states.errorOutput' does not exist.`
    pub fn reads_states_field(&self, field: StatesField) -> bool {
        self.inner.states_all || self.inner.states_fields.iter().any(|f| f == field.name())
    }

    /// `$states` fields the expression reads by name, or `None` when it reads `$states` whole.
    pub(crate) fn states_fields(&self) -> Option<&[String]> {
        (!self.inner.states_all).then_some(&self.inner.states_fields[..])
    }

    pub(crate) fn ast(&self) -> &AstNode {
        &self.inner.ast
    }

    pub(crate) fn host_functions(&self) -> u16 {
        self.inner.host_functions
    }

    pub(crate) fn uses_randomness(&self) -> bool {
        self.inner.uses_randomness
    }
}

/// jsonata-js's wording for a parse error, without the `S0xxx: ` code (AWS prints it that way:
/// `Expected "]", got ","`).
fn parse_message(error: &ParserError, src: &str) -> String {
    match error {
        ParserError::Expected { expected, found } => {
            if found == "Eof" {
                format!("Expected {} before end of expression", symbol(expected))
            } else if expected == "parameter name" {
                strip_code(&error.to_string())
            } else {
                format!("Expected {}, got {}", symbol(expected), symbol(found))
            }
        }
        ParserError::UnexpectedToken(token) if token != "Eof" => {
            if token.chars().next().is_some_and(char::is_alphabetic) {
                format!(
                    "The symbol {} cannot be used as a unary operator",
                    symbol(token)
                )
            } else {
                format!("Unknown operator: {}", quoted(token))
            }
        }
        // jsonata-core reports an unterminated regex as an unterminated string.
        ParserError::UnclosedString if !src.contains(['"', '\'']) && src.contains('/') => {
            "No terminating / in regular expression".to_owned()
        }
        other => strip_code(&other.to_string()),
    }
}

fn strip_code(message: &str) -> String {
    match jsonata_core::evaluator::error_code_prefix(message) {
        Some(code) => message[code.len() + 1..].trim_start().to_owned(),
        None => message.to_owned(),
    }
}

fn quoted(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

/// A jsonata-core token name (its `Debug` form) as the symbol jsonata-js prints, quoted.
fn symbol(token: &str) -> String {
    let s = match token {
        "RightBracket" => "]",
        "LeftBracket" => "[",
        "RightParen" => ")",
        "LeftParen" => "(",
        "RightBrace" => "}",
        "LeftBrace" => "{",
        "Comma" => ",",
        "Semicolon" => ";",
        "Colon" => ":",
        "Dot" => ".",
        "DotDot" => "..",
        "Question" => "?",
        "QuestionQuestion" => "??",
        "QuestionColon" => "?:",
        "Plus" => "+",
        "Minus" => "-",
        "Star" => "*",
        "StarStar" => "**",
        "Slash" => "/",
        "Percent" => "%",
        "Equal" => "=",
        "NotEqual" => "!=",
        "LessThan" => "<",
        "LessThanOrEqual" => "<=",
        "GreaterThan" => ">",
        "GreaterThanOrEqual" => ">=",
        "Ampersand" => "&",
        "ColonEqual" => ":=",
        "TildeArrow" => "~>",
        "Caret" => "^",
        "Pipe" => "|",
        "Hash" => "#",
        "At" => "@",
        "And" => "and",
        "Or" => "or",
        "In" => "in",
        "True" => "true",
        "False" => "false",
        "Null" => "null",
        other => {
            // `Identifier("foo")`, `String("x")`, `Number(1.0)`: print the value.
            if let (Some(open), true) = (other.find('('), other.ends_with(')')) {
                let inner = &other[open + 1..other.len() - 1];
                return match serde_json::from_str::<String>(inner) {
                    Ok(s) => quoted(&s),
                    Err(_) => inner.to_owned(),
                };
            }
            other
        }
    };
    quoted(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(src: &str) -> Vec<String> {
        Expression::compile(src)
            .unwrap_err()
            .diagnostics
            .into_iter()
            .map(|d| d.message)
            .collect()
    }

    #[test]
    fn expression_is_send_sync_debug() {
        fn check<T: Send + Sync + fmt::Debug + Clone>() {}
        check::<Expression>();
    }

    #[test]
    fn syntax_errors_use_jsonata_js_wording() {
        // Pairs measured on AWS (validate-state-machine-definition) by another emulator.
        assert_eq!(messages("a[1,2)"), [r#"Expected "]", got ",""#]);
        assert_eq!(
            messages("\"unterminated"),
            ["String literal must be terminated by a matching quote"]
        );
        assert_eq!(messages("1 +"), ["Unexpected end of expression"]);
        assert_eq!(
            messages("{\"a\":}"),
            [r#"The symbol "}" cannot be used as a unary operator"#]
        );
        assert_eq!(messages("$x :="), ["Unexpected end of expression"]);
        assert_eq!(
            messages("$match(\"a\", /abc"),
            ["String literal must be terminated by a matching quote"]
        );
        assert_eq!(
            messages("$match(1, /abc"),
            ["No terminating / in regular expression"]
        );
        assert_eq!(messages(""), ["Unexpected end of expression"]);
        let e = Expression::compile("1 +").unwrap_err();
        assert_eq!(e.diagnostics[0].code.as_str(), "INVALID_JSONATA_EXPRESSION");
    }

    #[test]
    fn top_level_references_are_unsupported() {
        assert_eq!(
            messages("phone"),
            ["Reference to 'phone' at the top level is not supported."]
        );
        assert_eq!(
            messages("aaa + bbb"),
            [
                "Reference to 'aaa' at the top level is not supported.",
                "Reference to 'bbb' at the top level is not supported."
            ]
        );
        assert_eq!(
            messages("$.phone"),
            ["Reference to '$' at the top level is not supported."]
        );
        assert_eq!(messages("$$"), ["Reference to '$$' is not supported."]);
        assert_eq!(
            messages("$map($states.input.a, function($x){ b })"),
            ["Reference to 'b' at the top level is not supported."]
        );
        assert_eq!(
            messages("{aaa: 1}"),
            ["Reference to 'aaa' at the top level is not supported."]
        );
        let e = Expression::compile("phone").unwrap_err();
        assert_eq!(
            e.diagnostics[0].code,
            DiagnosticCode::UnsupportedJsonataExpression
        );
        for ok in [
            "$states.input.phone",
            "$states.input.items[phone > 3]",
            "$map($states.input.a, function($x){ $x.phone })",
            "$phone",
            "$states.input.items{type: $sum(price)}",
            "$states.input.items^(>price).name",
            "$states.input ~> |items|{'x': y}|",
            "$states.input.items.(name)",
        ] {
            assert!(Expression::compile(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn variables_exclude_states_locals_and_functions() {
        let e = Expression::compile(
            "( $local := $a + 1; $f := function($p){ $p + $b + $local }; $map($c, $f) ~> $sum() \
             & $states.input.x & $string($d) & $states.input.items#$i@$v[$i > $e].($v) )",
        )
        .unwrap();
        assert_eq!(e.variables(), ["a", "b", "c", "d", "e"]);
        let e = Expression::compile("$undefinedFn() & $x").unwrap();
        assert_eq!(e.variables(), ["undefinedFn", "x"]);
    }

    #[test]
    fn states_fields_are_reported() {
        let e = Expression::compile("$states.errorOutput.Cause & $states.input.x").unwrap();
        assert!(e.reads_states_field(StatesField::ErrorOutput));
        assert!(e.reads_states_field(StatesField::Input));
        assert!(!e.reads_states_field(StatesField::Result));
        let e = Expression::compile("$states").unwrap();
        assert!(e.reads_states_field(StatesField::Result));
    }

    #[test]
    fn bad_regex_literals_fail_at_compile_time() {
        assert!(Expression::compile("$match($states.input, /(/)").is_err());
        assert!(Expression::compile("$match($states.input, /a/g)").is_err());
        assert!(Expression::compile("$match($states.input, /a(?=b)/i)").is_ok());
    }

    #[test]
    fn deeply_nested_source_does_not_crash() {
        let src = format!("{}1{}", "(".repeat(5000), ")".repeat(5000));
        let _ = Expression::compile(&src);
        let src = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
        let _ = Expression::compile(&src);
    }
}
