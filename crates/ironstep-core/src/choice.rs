//! Choice rules (JSONPath): comparison semantics as AWS applies them.
//!
//! A comparison whose variable has the wrong type is simply false (a number never equals a
//! string). Strings compare like Java's `String.compareTo` (UTF-16 code units); numbers as IEEE
//! doubles; timestamps after parsing (an unparseable timestamp makes the comparison false).

use std::cmp::Ordering;

use ironstep_asl::model::{ComparisonOp, Condition, Operand};
use ironstep_asl::timestamp;
use serde_json::Value;

use crate::error::Failure;
use crate::eval::{Env, reference};

/// Evaluate a condition against the state's effective input.
pub fn evaluate(c: &Condition, env: &Env<'_>) -> Result<bool, Failure> {
    match c {
        Condition::And(all) => {
            for x in all {
                if !evaluate(x, env)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Condition::Or(any) => {
            for x in any {
                if evaluate(x, env)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Condition::Not(x) => Ok(!evaluate(x, env)?),
        Condition::Compare {
            variable,
            op,
            operand,
        } => {
            let value = reference(variable, env);
            if *op == ComparisonOp::IsPresent {
                let want = matches!(operand, Operand::Literal(Value::Bool(true)));
                return Ok(value.is_some() == want);
            }
            let Some(value) = value else {
                return Err(Failure::runtime(format!(
                    "Invalid path '{}' : No results for path: {}",
                    variable.as_str(),
                    variable.normalized()
                )));
            };
            let rhs: Option<&Value> = match operand {
                Operand::Literal(v) => Some(v),
                Operand::Path(p) => match reference(p, env) {
                    Some(v) => Some(v),
                    None => {
                        return Err(Failure::runtime(format!(
                            "Invalid path '{}' : No results for path: {}",
                            p.as_str(),
                            p.normalized()
                        )));
                    }
                },
            };
            Ok(compare(*op, value, rhs))
        }
        Condition::Jsonata(_) => Ok(false),
    }
}

fn compare(op: ComparisonOp, v: &Value, rhs: Option<&Value>) -> bool {
    use ComparisonOp::*;
    let flag = || matches!(rhs, Some(Value::Bool(true)));
    match op {
        IsNull => v.is_null() == flag(),
        IsPresent => flag(),
        IsNumeric => v.is_number() == flag(),
        IsString => v.is_string() == flag(),
        IsBoolean => v.is_boolean() == flag(),
        IsTimestamp => v.as_str().and_then(timestamp::parse).is_some() == flag(),
        StringEquals
        | StringLessThan
        | StringGreaterThan
        | StringLessThanEquals
        | StringGreaterThanEquals => match (v.as_str(), rhs.and_then(Value::as_str)) {
            (Some(a), Some(b)) => ordering_matches(op, java_compare(a, b)),
            _ => false,
        },
        StringMatches => match (v.as_str(), rhs.and_then(Value::as_str)) {
            (Some(a), Some(p)) => string_matches(p, a),
            _ => false,
        },
        NumericEquals
        | NumericLessThan
        | NumericGreaterThan
        | NumericLessThanEquals
        | NumericGreaterThanEquals => match (number(v), rhs.and_then(number)) {
            (Some(a), Some(b)) => match a.partial_cmp(&b) {
                Some(o) => ordering_matches(op, o),
                None => false,
            },
            _ => false,
        },
        BooleanEquals => match (v.as_bool(), rhs.and_then(Value::as_bool)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        },
        TimestampEquals
        | TimestampLessThan
        | TimestampGreaterThan
        | TimestampLessThanEquals
        | TimestampGreaterThanEquals => {
            let a = v.as_str().and_then(timestamp::parse);
            let b = rhs.and_then(Value::as_str).and_then(timestamp::parse);
            match (a, b) {
                (Some(a), Some(b)) => ordering_matches(op, a.cmp(&b)),
                _ => false,
            }
        }
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

fn ordering_matches(op: ComparisonOp, o: Ordering) -> bool {
    use ComparisonOp::*;
    match op {
        StringEquals | NumericEquals | TimestampEquals => o == Ordering::Equal,
        StringLessThan | NumericLessThan | TimestampLessThan => o == Ordering::Less,
        StringGreaterThan | NumericGreaterThan | TimestampGreaterThan => o == Ordering::Greater,
        StringLessThanEquals | NumericLessThanEquals | TimestampLessThanEquals => {
            o != Ordering::Greater
        }
        StringGreaterThanEquals | NumericGreaterThanEquals | TimestampGreaterThanEquals => {
            o != Ordering::Less
        }
        _ => false,
    }
}

/// Java's `String.compareTo`: lexicographic over UTF-16 code units.
pub fn java_compare(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// `StringMatches`: `*` matches any run of characters (including none), `\*` is a literal
/// asterisk and `\\` a literal backslash; the whole string must match.
pub fn string_matches(pattern: &str, s: &str) -> bool {
    #[derive(PartialEq)]
    enum Tok {
        Star,
        Char(char),
    }
    let mut toks = Vec::new();
    let mut it = pattern.chars();
    while let Some(c) = it.next() {
        match c {
            '\\' => match it.next() {
                Some(n) => toks.push(Tok::Char(n)),
                None => toks.push(Tok::Char('\\')),
            },
            '*' => toks.push(Tok::Star),
            c => toks.push(Tok::Char(c)),
        }
    }
    let text: Vec<char> = s.chars().collect();
    // Iterative wildcard matching with backtracking to the last star.
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < toks.len() {
            match toks[p] {
                Tok::Char(c) if c == text[t] => {
                    p += 1;
                    t += 1;
                    continue;
                }
                Tok::Star => {
                    star = Some((p, t));
                    p += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, st)) => {
                p = sp + 1;
                t = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    while p < toks.len() && toks[p] == Tok::Star {
        p += 1;
    }
    p == toks.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_matches_follows_asl() {
        assert!(string_matches("*.log", "a.log"));
        assert!(string_matches("*.log", ".log"));
        assert!(!string_matches("*.log", "a.log.txt"));
        assert!(string_matches("foo*bar*baz", "fooXbarYYbaz"));
        assert!(string_matches("a\\*b", "a*b"));
        assert!(!string_matches("a\\*b", "aXb"));
        assert!(string_matches("*", ""));
        assert!(!string_matches("", "x"));
        assert!(string_matches("log-*-*.txt", "log-1-2.txt"));
    }

    #[test]
    fn java_order_is_utf16() {
        // U+FF21 (fullwidth A) sorts before U+1F600 in UTF-16 but after it in UTF-8 order.
        assert_eq!(java_compare("\u{FF21}", "\u{1F600}"), Ordering::Greater);
        assert_eq!(java_compare("a", "b"), Ordering::Less);
        assert_eq!(java_compare("B", "a"), Ordering::Less);
    }
}
