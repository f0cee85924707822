//! Renderings of JSON values the way AWS's Java runtime prints them.
//!
//! AWS Step Functions runs on the JVM with Jackson. Three of its habits show up in
//! user-visible text and behaviour, and `serde_json` does none of them:
//!
//! * Doubles print with `Double.toString`: `1.0E7`, `1.0E-5`, `100.0` (serde_json prints
//!   `10000000.0`, `1e-5`, `100.0`). Integers print as written.
//! * `States.Format` and `States.ArrayContains` see their arguments as plain Java objects, so
//!   an object prints like a `java.util.Map` (`{a=1, b=[x, y]}`) and strings print unquoted.
//! * `States.ArrayUnique` puts the elements in a `java.util.HashSet`, so the order of its
//!   result follows Java hash codes.
//!
//! One difference we cannot remove: without serde_json's `arbitrary_precision` (off on
//! purpose, see `dependencies.md` §9) an integer above `u64::MAX` is parsed as a double and
//! prints as `1.0E20`, where Jackson would keep a `BigInteger` and print every digit.
//!
//! What is uncertain is said next to each function.

use std::fmt::Write as _;

use serde_json::{Number, Value};

/// Compact JSON as Jackson writes it (no spaces; doubles in `Double.toString` form).
///
/// Used for the `input '<json>'` part of AWS error messages. Strings are escaped the way
/// serde_json does, which matches Jackson's default for every character we have seen
/// (control characters, `"` and `\` escaped; non-ASCII and `/` left alone).
pub fn to_compact(value: &Value) -> String {
    let mut out = String::new();
    write_compact(&mut out, value);
    out
}

fn write_compact(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_json_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_compact(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(out, key);
                out.push(':');
                write_compact(out, item);
            }
            out.push('}');
        }
    }
}

fn write_json_string(out: &mut String, s: &str) {
    // serde_json's escaping of a bare string cannot fail; fall back to a lossless debug
    // form only to stay panic-free.
    match serde_json::to_string(s) {
        Ok(quoted) => out.push_str(&quoted),
        Err(_) => {
            let _ = write!(out, "{s:?}");
        }
    }
}

fn write_number(out: &mut String, n: &Number) {
    if let Some(i) = n.as_i64() {
        let _ = write!(out, "{i}");
    } else if let Some(u) = n.as_u64() {
        let _ = write!(out, "{u}");
    } else if let Some(f) = n.as_f64() {
        out.push_str(&java_double(f));
    }
}

/// `String.valueOf(Object)` of the Java object Jackson would build for `value`:
/// `null`, `true`, `12`, `1.5`, strings unquoted, lists as `[a, b]`, maps as `{k=v, k2=v2}`.
///
/// This is what `States.Format` inserts for a placeholder (recorded: an object argument
/// renders as `{Arg1=1, Arg2=[]}`, `null` as `null`, `1.1` as `1.1`).
pub fn java_string(value: &Value) -> String {
    let mut out = String::new();
    write_java(&mut out, value);
    out
}

fn write_java(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_java(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(key);
                out.push('=');
                write_java(out, item);
            }
            out.push('}');
        }
    }
}

/// Java's `Double.toString(d)` (JDK 19+, shortest round-trip digits).
///
/// Plain notation for `1e-3 <= |d| < 1e7` with at least one fractional digit (`100.0`),
/// otherwise `d.dddE±n` (`1.0E7`, `1.0E-4`).
pub fn java_double(d: f64) -> String {
    if d.is_nan() {
        return "NaN".to_owned();
    }
    if d.is_infinite() {
        return if d > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    // Rust's `{:e}` prints the shortest digits that round-trip, like JDK 19+. Java always
    // shows two significant digits in computerized notation and then picks the two-digit
    // decimal nearest the value (`4.9E-324`, not `5.0E-324`).
    let magnitude = d.abs();
    let mut sci = format!("{magnitude:e}");
    if !(1e-3..1e7).contains(&magnitude) && !sci.split('e').next().unwrap_or("").contains('.') {
        sci = format!("{magnitude:.1e}");
    }
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let mut out = String::with_capacity(digits.len() + 8);
    if d < 0.0 {
        out.push('-');
    }
    if (1e-3..1e7).contains(&magnitude) {
        if exponent >= 0 {
            let int_len = exponent as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', int_len - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exponent - 1) as usize));
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        out.push('.');
        if digits.len() > 1 {
            out.push_str(&digits[1..]);
        } else {
            out.push('0');
        }
        let _ = write!(out, "E{exponent}");
    }
    out
}

/// The Java class Jackson would deserialize `value` into (untyped binding), as printed in
/// Jayway's "not a json object" message.
pub(crate) fn java_class_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "java.lang.Boolean",
        Value::String(_) => "java.lang.String",
        Value::Array(_) => "java.util.ArrayList",
        Value::Object(_) => "java.util.LinkedHashMap",
        Value::Number(n) => match java_number(n) {
            JavaNumber::Int(_) => "java.lang.Integer",
            JavaNumber::Long(_) => "java.lang.Long",
            JavaNumber::BigInteger(_) => "java.math.BigInteger",
            JavaNumber::Double(_) => "java.lang.Double",
        },
    }
}

/// How Jackson's untyped binding represents a JSON number: the smallest integer type that
/// holds it, or a double for anything written with a fraction or an exponent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum JavaNumber {
    Int(i32),
    Long(i64),
    BigInteger(u64),
    Double(f64),
}

pub(crate) fn java_number(n: &Number) -> JavaNumber {
    if let Some(i) = n.as_i64() {
        match i32::try_from(i) {
            Ok(small) => JavaNumber::Int(small),
            Err(_) => JavaNumber::Long(i),
        }
    } else if let Some(u) = n.as_u64() {
        JavaNumber::BigInteger(u)
    } else {
        JavaNumber::Double(n.as_f64().unwrap_or(f64::NAN))
    }
}

/// `Object.equals` between the Java objects Jackson would build: numbers are equal only with
/// the same Java type and value (`1` is not `1.0`), maps compare without regard to key order.
pub(crate) fn java_equals(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => match (java_number(x), java_number(y)) {
            (JavaNumber::Double(p), JavaNumber::Double(q)) => p.to_bits() == q.to_bits(),
            (p, q) => p == q,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| java_equals(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| java_equals(v, w)))
        }
        _ => false,
    }
}

/// `Object.hashCode` of the Java object Jackson would build (null hashes to 0, as in
/// `HashMap`).
pub(crate) fn java_hash(value: &Value) -> i32 {
    match value {
        Value::Null => 0,
        Value::Bool(b) => {
            if *b {
                1231
            } else {
                1237
            }
        }
        Value::String(s) => java_string_hash(s),
        Value::Number(n) => match java_number(n) {
            JavaNumber::Int(i) => i,
            JavaNumber::Long(l) => (l ^ ((l as u64) >> 32) as i64) as i32,
            JavaNumber::BigInteger(u) => {
                // BigInteger.hashCode: 31-based over the big-endian 32-bit magnitude words.
                let high = (u >> 32) as u32;
                let low = u as u32;
                let mut h: i32 = 0;
                if high != 0 {
                    h = h.wrapping_mul(31).wrapping_add(high as i32);
                }
                h.wrapping_mul(31).wrapping_add(low as i32)
            }
            JavaNumber::Double(d) => {
                let bits = if d.is_nan() {
                    0x7ff8_0000_0000_0000u64
                } else {
                    d.to_bits()
                };
                (bits ^ (bits >> 32)) as i32
            }
        },
        Value::Array(items) => items.iter().fold(1i32, |h, item| {
            h.wrapping_mul(31).wrapping_add(java_hash(item))
        }),
        Value::Object(map) => map.iter().fold(0i32, |h, (k, v)| {
            h.wrapping_add(java_string_hash(k) ^ java_hash(v))
        }),
    }
}

/// `String.hashCode` over UTF-16 code units.
pub(crate) fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

/// Length of a string in UTF-16 code units, as Java's `String.length()` counts it.
pub(crate) fn java_length(s: &str) -> usize {
    s.encode_utf16().count()
}

/// Order of the distinct elements of `items` when they are put in a `java.util.HashSet`
/// built from the whole list (`new HashSet<>(list)`) and read back.
///
/// Recorded on AWS: `States.ArrayUnique([true,false,true,false])` returns `[false,true]`,
/// `[[1,2],[1,2],[2,1]]` returns `[[2,1],[1,2]]`; first-seen order would give the opposite.
/// A HashSet iterates bucket by bucket, and within a bucket in insertion order; we assume
/// buckets are never treeified (that needs 8+ colliding elements in a table of 64+).
/// Uncertain: whether AWS sizes the set from the list (as here) or grows it one add at a
/// time; the two differ only for lists longer than 12 elements.
pub(crate) fn java_hash_set_order(items: &[Value]) -> Vec<&Value> {
    let mut distinct: Vec<(&Value, u32)> = Vec::new();
    for item in items {
        if !distinct.iter().any(|(seen, _)| java_equals(seen, item)) {
            let h = java_hash(item) as u32;
            distinct.push((item, h ^ (h >> 16)));
        }
    }
    // HashMap(initialCapacity) rounds up to a power of two; then doubles while the number
    // of entries exceeds 3/4 of the table.
    let initial = ((items.len() as f64 / 0.75) as usize + 1).max(16);
    let mut capacity = initial.next_power_of_two();
    while distinct.len() > capacity / 4 * 3 {
        capacity *= 2;
    }
    let mask = (capacity - 1) as u32;
    let mut ordered: Vec<(usize, u32, &Value)> = distinct
        .into_iter()
        .enumerate()
        .map(|(i, (v, h))| (i, h & mask, v))
        .collect();
    ordered.sort_by_key(|(i, bucket, _)| (*bucket, *i));
    ordered.into_iter().map(|(_, _, v)| v).collect()
}

/// Whether `a` sorts before, after or with `b` under Java's `String.compareTo` (UTF-16 code
/// unit order, which differs from Rust's `str` order for characters above U+FFFF).
pub(crate) fn java_compare_strings(a: &str, b: &str) -> std::cmp::Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn java_double_matches_double_to_string() {
        let cases = [
            (1.0, "1.0"),
            (1.1, "1.1"),
            (3.5, "3.5"),
            (-1.5, "-1.5"),
            (100.0, "100.0"),
            (0.001, "0.001"),
            (0.0001, "1.0E-4"),
            (1e7, "1.0E7"),
            (9999999.0, "9999999.0"),
            (1.2345678e8, "1.2345678E8"),
            (1e20, "1.0E20"),
            (-2.5e-7, "-2.5E-7"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (123.456, "123.456"),
            (0.1, "0.1"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
            (f64::NAN, "NaN"),
            (5e-324, "4.9E-324"),
            (1.7976931348623157e308, "1.7976931348623157E308"),
        ];
        for (d, want) in cases {
            assert_eq!(java_double(d), want, "{d}");
        }
    }

    #[test]
    fn compact_uses_java_doubles_and_no_spaces() {
        let v = json!({"a": [1, 2.5, 1e7, "x\"y"], "b": null, "c": {"d": true}});
        assert_eq!(
            to_compact(&v),
            r#"{"a":[1,2.5,1.0E7,"x\"y"],"b":null,"c":{"d":true}}"#
        );
        assert_eq!(to_compact(&json!(1.0)), "1.0");
        assert_eq!(to_compact(&json!(u64::MAX)), "18446744073709551615");
        assert_eq!(to_compact(&json!(-5)), "-5");
    }

    #[test]
    fn java_string_renders_maps_and_lists() {
        let v = json!({"Arg1": 1, "Arg2": [], "s": "x y", "n": null, "l": [1, "a", {"k": 1.5}]});
        assert_eq!(
            java_string(&v),
            "{Arg1=1, Arg2=[], s=x y, n=null, l=[1, a, {k=1.5}]}"
        );
        assert_eq!(java_string(&json!("plain")), "plain");
        assert_eq!(java_string(&json!(null)), "null");
        assert_eq!(java_string(&json!(false)), "false");
    }

    #[test]
    fn java_hashes_match_known_values() {
        assert_eq!(java_string_hash("a"), 97);
        assert_eq!(java_string_hash("hello"), 99_162_322);
        assert_eq!(java_hash(&json!([1, 2])), 994);
        assert_eq!(java_hash(&json!([2, 1])), 1024);
        assert_eq!(java_hash(&json!(true)), 1231);
        assert_eq!(java_hash(&json!(null)), 0);
        // Double.hashCode(1.5) == 1073217536
        assert_eq!(java_hash(&json!(1.5)), 1_073_217_536);
        // Long.hashCode(2^32) == 1
        assert_eq!(java_hash(&json!(4_294_967_296i64)), 1);
    }

    #[test]
    fn java_equality_is_typed_and_order_insensitive_for_maps() {
        assert!(java_equals(
            &json!({"a": 1, "b": 2}),
            &json!({"b": 2, "a": 1})
        ));
        assert!(!java_equals(&json!(1), &json!(1.0)));
        assert!(!java_equals(&json!([1, 2]), &json!([2, 1])));
        assert!(java_equals(&json!([null, "x"]), &json!([null, "x"])));
    }

    #[test]
    fn hash_set_order_matches_aws_recordings() {
        let order = |v: Value| -> Value {
            let items = v.as_array().cloned().unwrap_or_default();
            Value::Array(java_hash_set_order(&items).into_iter().cloned().collect())
        };
        assert_eq!(
            order(json!([true, false, true, false])),
            json!([false, true])
        );
        assert_eq!(
            order(json!([[1, 2], [1, 2], [2, 1]])),
            json!([[2, 1], [1, 2]])
        );
        assert_eq!(order(json!([1, 2, 2, 3, 3, 4])), json!([1, 2, 3, 4]));
        assert_eq!(
            order(json!(["a", "b", "a", "c", "b"])),
            json!(["a", "b", "c"])
        );
        assert_eq!(order(json!([null, null, 1, null])), json!([null, 1]));
        assert_eq!(
            order(json!([{"a": 1, "b": 2}, {"b": 2, "a": 1}])),
            json!([{"a": 1, "b": 2}])
        );
        assert_eq!(order(json!([])), json!([]));
    }

    #[test]
    fn string_compare_uses_utf16_order() {
        use std::cmp::Ordering;
        // U+FF61 sorts before U+10000 by code point but after it in UTF-16.
        assert_eq!(
            java_compare_strings("\u{FF61}", "\u{10000}"),
            Ordering::Greater
        );
        assert_eq!(java_compare_strings("a", "b"), Ordering::Less);
    }
}
