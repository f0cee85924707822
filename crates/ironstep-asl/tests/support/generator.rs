//! Random and mutated ASL definitions, shared by the in-tree fuzz test (`tests/fuzzish.rs`) and
//! the cargo-fuzz targets (`fuzz/`). It depends on serde_json only, and draws every decision from
//! an [`Entropy`] so that a seeded generator and libFuzzer's bytes drive the same code.

#![allow(dead_code)] // each user takes a different part

use serde_json::{Map, Value, json};

/// Where random decisions come from.
pub trait Entropy {
    /// The next 64 random bits.
    fn next_u64(&mut self) -> u64;

    /// A number in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability 1/n.
    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    /// One element of a non-empty slice.
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// SplitMix64: tiny and deterministic, so failures reproduce from the seed.
pub struct SplitMix(pub u64);

impl Entropy for SplitMix {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// libFuzzer's bytes as entropy: each decision consumes bytes, zeros once they run out (so
/// libFuzzer's byte mutations map to nearby decisions).
pub struct Bytes<'a>(pub &'a [u8]);

impl Entropy for Bytes<'_> {
    fn next_u64(&mut self) -> u64 {
        let take = self.0.len().min(2);
        let mut v = 0u64;
        for b in &self.0[..take] {
            v = (v << 8) | u64::from(*b);
        }
        self.0 = &self.0[take..];
        v
    }
}

/// Valid definitions covering every state type, both query languages and most fields. Each one
/// must compile without errors (checked by the fuzz test itself).
pub const CORPUS: &[&str] = &[
    r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#,
    r#"{"Comment":"c","Version":"1.0","TimeoutSeconds":60,"StartAt":"A","States":{
        "A":{"Type":"Pass","InputPath":"$.a","Parameters":{"x.$":"$.b","f.$":"States.Format('{}', $.c)","n":[1,{"y.$":"$$.Execution.Id"}]},"ResultPath":"$.r","OutputPath":"$","Assign":{"v.$":"$.a","w":1},"Next":"B"},
        "B":{"Type":"Pass","Result":{"k":"v"},"ResultPath":null,"Next":"C"},
        "C":{"Type":"Succeed","InputPath":null,"OutputPath":"$.r"}}}"#,
    r#"{"StartAt":"T","States":{
        "T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f","Payload.$":"$"},
             "ResultSelector":{"p.$":"$.Payload"},"ResultPath":"$.out","TimeoutSeconds":30,"HeartbeatSeconds":10,
             "Retry":[{"ErrorEquals":["Lambda.ServiceException","States.Timeout"],"IntervalSeconds":2,"MaxAttempts":3,"BackoffRate":1.5,"MaxDelaySeconds":10,"JitterStrategy":"FULL"},
                      {"ErrorEquals":["States.ALL"]}],
             "Catch":[{"ErrorEquals":["States.TaskFailed"],"ResultPath":"$.err","Next":"F"},{"ErrorEquals":["States.ALL"],"Next":"F"}],
             "Next":"S"},
        "S":{"Type":"Succeed"},
        "F":{"Type":"Fail","Error":"E","Cause":"C"}}}"#,
    r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync:2","Parameters":{"StateMachineArn":"arn:aws:states:us-east-1:123456789012:stateMachine:c","Input":{"token.$":"$$.Task.Token"}},"TimeoutSecondsPath":"$.t","HeartbeatSecondsPath":"$.h","Credentials":{"RoleArn":"arn:aws:iam::123456789012:role/r"},"End":true}}}"#,
    r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:us-east-1:123456789012:activity:a","End":true}}}"#,
    r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f:1","Next":"W"},"W":{"Type":"Wait","Seconds":0,"End":true}}}"#,
    r#"{"StartAt":"C","States":{
        "C":{"Type":"Choice","InputPath":"$","OutputPath":"$","Assign":{"d":true},"Choices":[
            {"Variable":"$.s","StringEquals":"a","Next":"X"},
            {"Variable":"$.s","StringMatches":"a*b","Next":"X"},
            {"Variable":"$.n","NumericGreaterThanEqualsPath":"$.m","Next":"X"},
            {"And":[{"Variable":"$.b","BooleanEquals":true},{"Not":{"Variable":"$.t","TimestampLessThan":"2016-03-14T01:59:00Z"}}],"Next":"X"},
            {"Or":[{"Variable":"$.x","IsPresent":false},{"Variable":"$.x","IsNull":true},{"Variable":"$.x","IsTimestamp":true}],"Next":"X","Assign":{"hit":1}}],
          "Default":"Y"},
        "X":{"Type":"Pass","End":true},
        "Y":{"Type":"Fail","ErrorPath":"$.e","CausePath":"States.Format('bad {}', $.c)"}}}"#,
    r#"{"StartAt":"W1","States":{
        "W1":{"Type":"Wait","SecondsPath":"$.s","Next":"W2"},
        "W2":{"Type":"Wait","Timestamp":"2016-03-14T01:59:00Z","Next":"W3"},
        "W3":{"Type":"Wait","TimestampPath":"$$.Execution.StartTime","End":true}}}"#,
    r#"{"StartAt":"Par","States":{"Par":{"Type":"Parallel","Parameters":{"i.$":"$"},"ResultSelector":{"r.$":"$[0]"},"ResultPath":"$.par",
        "Branches":[{"StartAt":"B1","States":{"B1":{"Type":"Pass","End":true}}},
                    {"Comment":"b","StartAt":"B2","States":{"B2":{"Type":"Wait","Seconds":1,"Next":"B3"},"B3":{"Type":"Succeed"}}}],
        "Retry":[{"ErrorEquals":["States.BranchFailed"]}],"Catch":[{"ErrorEquals":["States.ALL"],"Next":"Done"}],"Next":"Done"},
        "Done":{"Type":"Pass","End":true}}}"#,
    r#"{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","ItemSelector":{"i.$":"$$.Map.Item.Index","v.$":"$$.Map.Item.Value"},
        "MaxConcurrency":2,"ResultPath":"$.out",
        "ItemProcessor":{"ProcessorConfig":{"Mode":"INLINE"},"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}},"End":true}}}"#,
    r#"{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrencyPath":"$.mc","Parameters":{"x.$":"$$.Map.Item.Value"},
        "Iterator":{"StartAt":"I","States":{"I":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:sfn:describeExecution","Parameters":{"ExecutionArn.$":"$.x"},"End":true}}},"End":true}}}"#,
    r#"{"StartAt":"M","States":{"M":{"Type":"Map","Label":"Lbl","ToleratedFailurePercentage":10,"ToleratedFailureCount":2,
        "ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},"Parameters":{"Bucket":"b","Key":"k"}},
        "ItemBatcher":{"MaxItemsPerBatch":10},"ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"b","Prefix":"p"}},
        "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}},"End":true}}}"#,
    r#"{"QueryLanguage":"JSONata","StartAt":"A","States":{
        "A":{"Type":"Pass","Output":{"x":"{% $states.input.a %}","lit":[1,"two"]},"Assign":{"v":"{% $states.input %}"},"Next":"T"},
        "T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Arguments":{"FunctionName":"f","Payload":"{% $v %}"},
             "TimeoutSeconds":"{% 10 %}","HeartbeatSeconds":5,"Output":"{% $states.result.Payload %}",
             "Catch":[{"ErrorEquals":["States.ALL"],"Output":"{% $states.errorOutput %}","Assign":{"e":"{% $states.errorOutput.Error %}"},"Next":"F"}],"Next":"C"},
        "C":{"Type":"Choice","Choices":[{"Condition":"{% $v.a = 1 %}","Next":"W","Output":{"c":1}},{"Condition":true,"Next":"W"}],"Default":"W"},
        "W":{"Type":"Wait","Seconds":"{% 0 %}","Next":"M"},
        "M":{"Type":"Map","Items":"{% [1,2,3] %}","ItemSelector":{"i":"{% $states.context.Map.Item.Index %}"},"MaxConcurrency":"{% 1 %}",
             "ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","Output":"{% $states.input %}","End":true}}},"Next":"P"},
        "P":{"Type":"Parallel","Arguments":{"a":"{% $states.input %}"},"Branches":[{"StartAt":"B","States":{"B":{"Type":"Succeed","Output":"{% 1 %}"}}}],"Next":"S"},
        "S":{"Type":"Succeed","Output":"{% $states.input %}"},
        "F":{"Type":"Fail","Error":"{% 'E' %}","Cause":"{% 'c' %}"}}}"#,
    r#"{"StartAt":"J","States":{"J":{"Type":"Pass","QueryLanguage":"JSONata","Output":"{% $states.input %}","Next":"W"},
        "W":{"Type":"Wait","QueryLanguage":"JSONata","Timestamp":"{% '2016-03-14T01:59:00Z' %}","End":true}}}"#,
];

/// Field names of every state type and sub-object, so that mutations hit the parser's branches.
pub const FIELDS: &[&str] = &[
    "Type",
    "Next",
    "End",
    "Comment",
    "QueryLanguage",
    "InputPath",
    "OutputPath",
    "ResultPath",
    "Parameters",
    "ResultSelector",
    "Result",
    "Resource",
    "TimeoutSeconds",
    "TimeoutSecondsPath",
    "HeartbeatSeconds",
    "HeartbeatSecondsPath",
    "Credentials",
    "Retry",
    "Catch",
    "Arguments",
    "Output",
    "Assign",
    "Choices",
    "Default",
    "Variable",
    "StringEquals",
    "StringEqualsPath",
    "StringMatches",
    "NumericLessThan",
    "NumericEqualsPath",
    "BooleanEquals",
    "TimestampEquals",
    "TimestampGreaterThanPath",
    "IsPresent",
    "IsNull",
    "IsTimestamp",
    "And",
    "Or",
    "Not",
    "Condition",
    "Seconds",
    "SecondsPath",
    "Timestamp",
    "TimestampPath",
    "Error",
    "ErrorPath",
    "Cause",
    "CausePath",
    "Branches",
    "StartAt",
    "States",
    "ItemProcessor",
    "Iterator",
    "ProcessorConfig",
    "Mode",
    "ExecutionType",
    "ItemsPath",
    "Items",
    "ItemSelector",
    "MaxConcurrency",
    "MaxConcurrencyPath",
    "ToleratedFailurePercentage",
    "ToleratedFailurePercentagePath",
    "ToleratedFailureCount",
    "ToleratedFailureCountPath",
    "Label",
    "ItemReader",
    "ItemBatcher",
    "ResultWriter",
    "ErrorEquals",
    "IntervalSeconds",
    "MaxAttempts",
    "BackoffRate",
    "MaxDelaySeconds",
    "JitterStrategy",
    "Version",
    "x.$",
    "a",
    "",
    "~/",
    "Nope",
];

const STRINGS: &[&str] = &[
    "",
    "$",
    "$$",
    "$.a",
    "$.a[0]",
    "$..a",
    "$.a[?(@.b > 1)]",
    "$[",
    "$.",
    "a",
    "$$.Execution.Id",
    "$$.Map.Item.Value",
    "$$.Task.Token",
    "$v",
    "$v.x",
    "$states",
    "States.ALL",
    "States.TaskFailed",
    "States.Format('{}', $.a)",
    "States.Array(",
    "States.Nope()",
    "States.StringToJson($.a)",
    "States.MathAdd(1, 'x')",
    "{% $states.input %}",
    "{% %}",
    "{%}",
    "{% ( %}",
    "{% $$ %}",
    "{% phone %}",
    "{% $states.errorOutput %}",
    "{% 1 + %}",
    "{%  $x := 1 %}",
    "{% [1,2)] %}",
    "JSONPath",
    "JSONata",
    "jsonata",
    "Pass",
    "Task",
    "Choice",
    "Wait",
    "Succeed",
    "Fail",
    "Parallel",
    "Map",
    "INLINE",
    "DISTRIBUTED",
    "EXPRESS",
    "STANDARD",
    "FULL",
    "NONE",
    "1.0",
    "2.0",
    "arn:aws:states:::lambda:invoke",
    "arn:aws:states:::lambda:invoke.waitForTaskToken",
    "arn:aws:states:::states:startExecution.sync",
    "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
    "arn:aws:states:::aws-sdk:s3:getObject",
    "arn:aws:states:us-east-1:123456789012:activity:a",
    "arn:aws:lambda:us-east-1:1:function:f",
    "arn:aws:states:::",
    "arn:",
    "arn:aws:states:::s3:getObject",
    "2016-03-14T01:59:00Z",
    "2016-03-14T01:59:00",
    "2016-03-14T01:59:00+0é12",
    "2016-03-14T01:59:00.éZ",
    "2016-03-14T01:59:00+01:00",
    "99999-03-14T01:59:00Z",
    "é",
    "🚀",
    "a*b",
    "\\*",
    "A",
    "B",
    "P",
    "S",
    "T",
    "Nope",
    "x/y~z",
    "\u{0}",
    "\u{7f}",
    "with space",
    "<>",
];

const RESOURCES: &[&str] = &[
    "arn:aws:states:::lambda:invoke",
    "arn:aws:states:::lambda:invoke.waitForTaskToken",
    "arn:aws:states:::states:startExecution.sync",
    "arn:aws:states:::states:startExecution.sync:2",
    "arn:aws:states:::aws-sdk:s3:getObject",
    "arn:aws:states:us-east-1:123456789012:activity:a",
    "arn:aws:lambda:us-east-1:123456789012:function:f",
    "arn:aws:states:::",
    "not-an-arn",
];

/// A random leaf or small structure.
pub fn value<E: Entropy>(e: &mut E, depth: usize) -> Value {
    match e.below(if depth > 3 { 9 } else { 12 }) {
        0 => Value::Null,
        1 => Value::Bool(e.one_in(2)),
        2 => json!(*e.pick(&[
            0i64,
            1,
            -1,
            2,
            3,
            99_999_999,
            100_000_000,
            31_622_401,
            i64::MAX
        ])),
        3 => json!(*e.pick(&[0.5f64, 1.0, 2.0, -0.0, 100.5, 1e300, -1e-300, 3.0])),
        4 => json!(u64::MAX),
        5..=8 => Value::String((*e.pick(STRINGS)).to_string()),
        9 => {
            let n = e.below(4);
            Value::Array((0..n).map(|_| value(e, depth + 1)).collect())
        }
        _ => {
            let n = e.below(4);
            let mut m = Map::new();
            for _ in 0..n {
                let key = if e.one_in(3) {
                    format!("{}.$", e.pick(FIELDS))
                } else {
                    (*e.pick(FIELDS)).to_string()
                };
                m.insert(key, value(e, depth + 1));
            }
            Value::Object(m)
        }
    }
}

/// One random state of a random type with a few random fields.
pub fn state<E: Entropy>(e: &mut E, names: &[String], depth: usize) -> Value {
    let ty = *e.pick(&[
        "Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map",
    ]);
    let mut m = Map::new();
    m.insert("Type".into(), json!(ty));
    match (ty, e.below(3)) {
        ("Choice" | "Succeed" | "Fail", _) => {}
        (_, 0) => {
            m.insert("End".into(), json!(true));
        }
        _ => {
            m.insert("Next".into(), json!(e.pick(names)));
        }
    }
    match ty {
        "Task" => {
            m.insert("Resource".into(), json!(e.pick(RESOURCES)));
        }
        "Choice" => {
            let rule = json!({"Variable": "$.a", "StringEquals": "x", "Next": e.pick(names)});
            m.insert("Choices".into(), json!([rule]));
        }
        "Wait" => {
            m.insert("Seconds".into(), json!(1));
        }
        "Parallel" if depth < 3 => {
            m.insert("Branches".into(), json!([list(e, depth + 1)]));
        }
        "Map" if depth < 3 => {
            m.insert("ItemProcessor".into(), list(e, depth + 1));
        }
        _ => {}
    }
    for _ in 0..e.below(3) {
        m.insert((*e.pick(FIELDS)).to_string(), value(e, depth + 1));
    }
    Value::Object(m)
}

/// A random state list (`StartAt` + `States`).
pub fn list<E: Entropy>(e: &mut E, depth: usize) -> Value {
    let n = 1 + e.below(4);
    let names: Vec<String> = (0..n).map(|i| format!("S{depth}_{i}")).collect();
    let mut states = Map::new();
    for name in &names {
        states.insert(name.clone(), state(e, &names, depth));
    }
    json!({"StartAt": names[0], "States": states})
}

/// Every node of a JSON value, as pointer-like paths of keys/indices.
fn paths(v: &Value, prefix: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    out.push(prefix.clone());
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                prefix.push(Seg::Key(k.clone()));
                paths(x, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                prefix.push(Seg::Index(i));
                paths(x, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

#[derive(Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

fn node_mut<'a>(v: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    let mut cur = v;
    for s in path {
        cur = match (s, cur) {
            (Seg::Key(k), Value::Object(m)) => m.get_mut(k)?,
            (Seg::Index(i), Value::Array(a)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Apply one structural mutation to a definition.
pub fn mutate<E: Entropy>(e: &mut E, root: &mut Value) {
    let mut all = Vec::new();
    paths(root, &mut Vec::new(), &mut all);
    let path = e.pick(&all).clone();
    let Some(node) = node_mut(root, &path) else {
        return;
    };
    match e.below(8) {
        // Replace the node.
        0 | 1 => *node = value(e, path.len()),
        // Delete a key or element.
        2 => match node {
            Value::Object(m) if !m.is_empty() => {
                let k = m.keys().nth(e.below(m.len())).cloned().unwrap_or_default();
                m.shift_remove(&k);
            }
            Value::Array(a) if !a.is_empty() => {
                let i = e.below(a.len());
                a.remove(i);
            }
            _ => *node = Value::Null,
        },
        // Add a field or element.
        3 | 4 => match node {
            Value::Object(m) => {
                m.insert((*e.pick(FIELDS)).to_string(), value(e, path.len()));
            }
            Value::Array(a) => a.push(value(e, path.len())),
            _ => *node = value(e, path.len()),
        },
        // Rename a key (e.g. `x` → `x.$`, or to another field).
        5 => {
            if let Value::Object(m) = node
                && !m.is_empty()
            {
                let k = m.keys().nth(e.below(m.len())).cloned().unwrap_or_default();
                if let Some(v) = m.shift_remove(&k) {
                    let new = if e.one_in(2) && !k.ends_with(".$") {
                        format!("{k}.$")
                    } else {
                        (*e.pick(FIELDS)).to_string()
                    };
                    m.insert(new, v);
                }
            }
        }
        // Graft a random state list or state.
        6 => {
            *node = if e.one_in(2) {
                list(e, 1)
            } else {
                state(e, &["A".into()], 1)
            }
        }
        // Deep nesting (TOO_DEEPLY_NESTED, recursion depth).
        _ => {
            let mut v = value(e, 0);
            for _ in 0..e.below(40) {
                v = if e.one_in(2) {
                    json!([v])
                } else {
                    json!({"Not": v})
                };
            }
            *node = v;
        }
    }
}

/// A definition text: a corpus entry, mutated, a fresh random one, or a text-level corruption.
pub fn definition<E: Entropy>(e: &mut E) -> String {
    let mut root: Value = match e.below(4) {
        0 => {
            let mut root = list(e, 0);
            if e.one_in(3)
                && let Value::Object(m) = &mut root
            {
                m.insert("QueryLanguage".into(), json!("JSONata"));
            }
            root
        }
        _ => {
            let text: &&str = e.pick(CORPUS);
            serde_json::from_str(text).unwrap_or(Value::Null)
        }
    };
    for _ in 0..e.below(4) {
        mutate(e, &mut root);
    }
    let mut text = root.to_string();
    if e.one_in(6) {
        // Text-level: truncate, or splice a byte sequence somewhere.
        let cut = e.below(text.len() + 1);
        let cut = (0..=cut)
            .rev()
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        match e.below(3) {
            0 => text.truncate(cut),
            1 => {
                let piece: &&str = e.pick(&["\"", "{", "}", ",", ":", "[", "é", "\\", "x"]);
                text.insert_str(cut, piece);
            }
            _ => text = format!("{}{}", &text[..cut], e.pick(&["", "not a definition", " "])),
        }
    }
    text
}
