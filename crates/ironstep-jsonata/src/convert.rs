//! Conversion between `serde_json::Value` and the engine's value type.

use std::rc::Rc;

use jsonata_core::value::{JMap, JValue, with_stack};
use serde_json::{Map, Number, Value};

/// Deepest result we turn back into JSON. A JSONata result can nest as deep as a loop builds it
/// (`$reduce` wrapping an object 100,000 times), and both converting it and later dropping the
/// `serde_json::Value` recurse once per level; 1,000 is far beyond any real ASL payload (the
/// 256 KiB limit) while keeping the caller's stack safe.
pub(crate) const MAX_RESULT_DEPTH: usize = 1000;

/// Converts a JSON value into the engine's value type.
pub(crate) fn to_jvalue(value: &Value) -> JValue {
    match value {
        Value::Null => JValue::Null,
        Value::Bool(b) => JValue::Bool(*b),
        // JSONata numbers are IEEE doubles, as in JavaScript.
        Value::Number(n) => JValue::Number(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => JValue::String(Rc::from(s.as_str())),
        Value::Array(items) => {
            with_stack(|| JValue::array(items.iter().map(to_jvalue).collect::<Vec<_>>()))
        }
        Value::Object(map) => with_stack(|| {
            let map: JMap = map.iter().map(|(k, v)| (k.clone(), to_jvalue(v))).collect();
            JValue::Object(Rc::new(map))
        }),
    }
}

/// Why a result cannot become JSON.
#[derive(Debug)]
pub(crate) enum FromJValueError {
    TooDeep,
}

/// Converts an engine value back to JSON; `None` is JSONata's `undefined`. Undefined members of
/// objects and arrays are dropped, as `JSON.stringify` drops them in jsonata-js.
pub(crate) fn from_jvalue(value: &JValue) -> Result<Option<Value>, FromJValueError> {
    convert(value, 0)
}

fn convert(value: &JValue, depth: usize) -> Result<Option<Value>, FromJValueError> {
    if depth > MAX_RESULT_DEPTH {
        return Err(FromJValueError::TooDeep);
    }
    Ok(Some(match value {
        JValue::Undefined => return Ok(None),
        JValue::Null => Value::Null,
        JValue::Bool(b) => Value::Bool(*b),
        JValue::Number(n) => number(*n),
        JValue::String(s) => Value::String(s.to_string()),
        JValue::Array(items) => with_stack(|| {
            let mut out = Vec::with_capacity(items.len());
            for item in items.iter() {
                if let Some(v) = convert(item, depth + 1)? {
                    out.push(v);
                }
            }
            Ok(Value::Array(out))
        })?,
        JValue::Object(map) => with_stack(|| {
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map.iter() {
                if let Some(v) = convert(v, depth + 1)? {
                    out.insert(k.clone(), v);
                }
            }
            Ok(Value::Object(out))
        })?,
        // Functions and regexes have no JSON form; jsonata-core serializes them as "" (the
        // replacer jsonata-js uses in `$string`).
        _ => Value::String(String::new()),
    }))
}

/// A JSONata number as JSON: integral values within the exactly representable range become JSON
/// integers (`1+1` is `2`, not `2.0`), as jsonata-js's `JSON.stringify` prints them; non-finite
/// values become `null`, as `JSON.stringify` prints them.
pub(crate) fn number(n: f64) -> Value {
    const MAX_SAFE: f64 = 9_007_199_254_740_992.0; // 2^53
    if n.fract() == 0.0 && n.abs() <= MAX_SAFE {
        // `as` is exact here: the value is integral and within i64 range; -0.0 becomes 0.
        Value::Number(Number::from(n as i64))
    } else {
        Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_json() {
        let v = json!({"a": [1, 2.5, "x", null, true, {"b": []}], "c": {}});
        assert_eq!(from_jvalue(&to_jvalue(&v)).unwrap(), Some(v));
    }

    #[test]
    fn integral_numbers_become_integers() {
        assert_eq!(number(2.0), json!(2));
        assert_eq!(number(-0.0), json!(0));
        assert_eq!(number(0.5), json!(0.5));
        assert_eq!(number(1e300), json!(1e300));
        assert_eq!(number(f64::INFINITY), Value::Null);
        assert_eq!(number(f64::NAN), Value::Null);
    }

    #[test]
    fn undefined_members_are_dropped() {
        let v = JValue::array(vec![JValue::Number(1.0), JValue::Undefined]);
        assert_eq!(from_jvalue(&v).unwrap(), Some(json!([1])));
        assert_eq!(from_jvalue(&JValue::Undefined).unwrap(), None);
    }

    #[test]
    fn too_deep_results_are_refused() {
        let mut v = JValue::Null;
        for _ in 0..(MAX_RESULT_DEPTH + 5) {
            v = JValue::array(vec![v]);
        }
        assert!(matches!(from_jvalue(&v), Err(FromJValueError::TooDeep)));
    }
}
