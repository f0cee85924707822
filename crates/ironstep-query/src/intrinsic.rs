//! Intrinsic functions (`States.Format(...)` and friends), parsed once into a call tree.
//!
//! What AWS does, and where the evidence comes from (the recorded corpus unless noted;
//! "AWS-run" marks behaviour from a third-party suite executed against AWS, whose case files
//! state the AWS result even where their own emulator differs):
//!
//! * Syntax: `States.Name(arg, ...)`; arguments are `'strings'` (escapes `\'` `\{` `\}` `\\`
//!   only; another escape is rejected when the definition is created, AWS-run), JSON numbers,
//!   `true`/`false`/`null`, paths (`$.x`, `$`, `$$.x`, `$var.x`) and nested calls, at most
//!   10 calls deep. An unknown function or bad syntax is a parse error.
//! * Wrong argument counts are **not** rejected at creation: AWS fails at run time with
//!   `States.Runtime` (AWS-run: `States.Hash('hello')`, `States.JsonToString()`, ...).
//!   [`Intrinsic::check_arity`] reports them for a validator that wants a warning.
//! * Every run-time failure is `States.Runtime` (AWS-run), not the documented
//!   `States.IntrinsicFailure`. The cause names the function: `Invalid arguments in
//!   States.MathAdd` (AWS-run, substring). The surrounding sentence, `There was an error while
//!   evaluating the intrinsic function: <call>. ...`, and the path-not-found sentence
//!   `The JsonPath argument for the field '<path>' could not be found in the input '<json>'`
//!   come from an emulator that mirrors AWS wording; only the `could not be found in the
//!   input '{}'` part is confirmed (AWS-run).
//! * Numbers that must be integers are truncated like a Java `(int)` cast
//!   (`ArrayPartition($.a, 2.6)` partitions by 2, `ArrayGetItem($.a, 1.2)` reads index 1,
//!   `MathRandom(1.6, 5.4)` draws from [1, 5), all AWS-run), except `MathAdd`, which rounds
//!   with Java's `Math.round` (recorded) and must stay within 32-bit integers (AWS-run).

use std::borrow::Cow;
use std::fmt;

use base64::Engine as _;
use serde_json::{Map, Number, Value};

use crate::env::Env;
use crate::json;
use crate::path::{Path, Root, Selection};

/// Deepest nesting of calls AWS accepts (the outer call counts as 1).
pub const MAX_NESTING: usize = 10;

/// Longest string (in UTF-16 units) `Base64Encode`, `Base64Decode` and `Hash` accept (AWS
/// quota; AWS-run: 10,000 passes, 10,001 fails).
const MAX_STRING_ARG: usize = 10_000;

/// Most elements `ArrayRange` may produce (AWS quota; AWS-run: 1,000 passes, 1,001 fails).
const MAX_RANGE_LEN: i64 = 1_000;

/// A parsed intrinsic function call.
#[derive(Clone)]
pub struct Intrinsic {
    text: Box<str>,
    call: Call,
    uses_context: bool,
    variables: Box<[Box<str>]>,
}

impl fmt::Debug for Intrinsic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Intrinsic").field(&self.text).finish()
    }
}

#[derive(Debug, Clone)]
struct Call {
    function: Function,
    args: Box<[Arg]>,
    /// Byte range of the call in the source text (for error messages).
    start: usize,
    end: usize,
    /// For `States.Format` with a literal template: the template, parsed once.
    format: Option<Result<Box<[Piece]>, Box<str>>>,
}

#[derive(Debug, Clone)]
enum Arg {
    /// A number, `true`, `false`, `null`, or a string literal (unescaped).
    Literal(Value),
    Path(Path),
    Call(Box<Call>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(Box<str>),
    Placeholder,
}

/// The intrinsic functions AWS knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Function {
    Format,
    StringToJson,
    JsonToString,
    Array,
    ArrayPartition,
    ArrayContains,
    ArrayRange,
    ArrayGetItem,
    ArrayLength,
    ArrayUnique,
    Base64Encode,
    Base64Decode,
    Hash,
    JsonMerge,
    MathRandom,
    MathAdd,
    StringSplit,
    Uuid,
}

impl Function {
    const ALL: [Function; 18] = [
        Function::Format,
        Function::StringToJson,
        Function::JsonToString,
        Function::Array,
        Function::ArrayPartition,
        Function::ArrayContains,
        Function::ArrayRange,
        Function::ArrayGetItem,
        Function::ArrayLength,
        Function::ArrayUnique,
        Function::Base64Encode,
        Function::Base64Decode,
        Function::Hash,
        Function::JsonMerge,
        Function::MathRandom,
        Function::MathAdd,
        Function::StringSplit,
        Function::Uuid,
    ];

    /// The name as written, e.g. `States.Format`.
    pub fn name(self) -> &'static str {
        match self {
            Function::Format => "States.Format",
            Function::StringToJson => "States.StringToJson",
            Function::JsonToString => "States.JsonToString",
            Function::Array => "States.Array",
            Function::ArrayPartition => "States.ArrayPartition",
            Function::ArrayContains => "States.ArrayContains",
            Function::ArrayRange => "States.ArrayRange",
            Function::ArrayGetItem => "States.ArrayGetItem",
            Function::ArrayLength => "States.ArrayLength",
            Function::ArrayUnique => "States.ArrayUnique",
            Function::Base64Encode => "States.Base64Encode",
            Function::Base64Decode => "States.Base64Decode",
            Function::Hash => "States.Hash",
            Function::JsonMerge => "States.JsonMerge",
            Function::MathRandom => "States.MathRandom",
            Function::MathAdd => "States.MathAdd",
            Function::StringSplit => "States.StringSplit",
            Function::Uuid => "States.UUID",
        }
    }

    fn from_name(name: &str) -> Option<Function> {
        Function::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Allowed argument counts: (minimum, maximum or `None` for any).
    pub fn arity(self) -> (usize, Option<usize>) {
        match self {
            Function::Format => (1, None),
            Function::Array => (0, None),
            Function::Uuid => (0, Some(0)),
            Function::StringToJson
            | Function::JsonToString
            | Function::ArrayLength
            | Function::ArrayUnique
            | Function::Base64Encode
            | Function::Base64Decode => (1, Some(1)),
            Function::ArrayPartition
            | Function::ArrayContains
            | Function::ArrayGetItem
            | Function::Hash
            | Function::MathAdd
            | Function::StringSplit => (2, Some(2)),
            Function::MathRandom => (2, Some(3)),
            Function::ArrayRange | Function::JsonMerge => (3, Some(3)),
        }
    }

    /// `true` for the functions the ASL language service allows in a Fail state's
    /// `ErrorPath`/`CausePath` (those that return a string).
    pub fn returns_string(self) -> bool {
        matches!(
            self,
            Function::Format
                | Function::JsonToString
                | Function::ArrayGetItem
                | Function::Base64Encode
                | Function::Base64Decode
                | Function::Hash
                | Function::Uuid
        )
    }
}

/// A syntax error in an intrinsic function call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid intrinsic function call '{text}': {message}")]
pub struct IntrinsicParseError {
    text: String,
    position: usize,
    message: String,
}

impl IntrinsicParseError {
    fn new(text: &str, position: usize, message: impl Into<String>) -> Self {
        IntrinsicParseError {
            text: text.to_owned(),
            position,
            message: message.into(),
        }
    }

    /// What is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Byte offset of the problem in the text.
    pub fn position(&self) -> usize {
        self.position
    }
}

/// An intrinsic function failed at run time. AWS reports it as `States.Runtime`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntrinsicError {
    /// A path argument found nothing.
    #[error(
        "There was an error while evaluating the intrinsic function: {call}. The JsonPath argument for the field '{path}' could not be found in the input '{input}'"
    )]
    PathNotFound {
        /// The call as written.
        call: String,
        /// The path argument.
        path: String,
        /// The document the path was evaluated against, as compact JSON.
        input: String,
    },
    /// The arguments do not fit the function.
    #[error("There was an error while evaluating the intrinsic function: {call}. {detail}")]
    InvalidArguments {
        /// The call as written.
        call: String,
        /// The function.
        function: Function,
        /// AWS's explanation, e.g. `Invalid arguments in States.MathAdd`.
        detail: String,
    },
}

impl IntrinsicError {
    /// The ASL error name AWS reports.
    pub fn error_name(&self) -> &'static str {
        "States.Runtime"
    }
}

impl Intrinsic {
    /// Parses a call such as `States.Format('{}', $.name)`.
    pub fn parse(text: &str) -> Result<Intrinsic, IntrinsicParseError> {
        let mut parser = CallParser { src: text, pos: 0 };
        parser.skip_blanks();
        let call = parser.call(1)?;
        parser.skip_blanks();
        if parser.pos < text.len() {
            return Err(parser.error("unexpected text after the function call"));
        }
        let mut uses_context = false;
        let mut variables: Vec<Box<str>> = Vec::new();
        visit_paths(&call, &mut |path| match path.root() {
            Root::Context => uses_context = true,
            Root::Variable(name) => {
                if !variables.contains(name) {
                    variables.push(name.clone());
                }
            }
            Root::Input => {}
        });
        variables.sort();
        Ok(Intrinsic {
            text: text.into(),
            call,
            uses_context,
            variables: variables.into_boxed_slice(),
        })
    }

    /// `true` if `text` looks like an intrinsic call (starts with `States.` and a name), so
    /// a caller can pick between [`Path::parse`] and [`Intrinsic::parse`].
    pub fn looks_like_call(text: &str) -> bool {
        text.trim_start().starts_with("States.")
    }

    /// The text as given.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The outermost function.
    pub fn function(&self) -> Function {
        self.call.function
    }

    /// `true` if any path argument reads the context object (`$$`).
    pub fn uses_context(&self) -> bool {
        self.uses_context
    }

    /// The variables the call reads, sorted, without duplicates.
    pub fn variables(&self) -> &[Box<str>] {
        &self.variables
    }

    /// Reports the first call with a wrong number of arguments. AWS accepts such a
    /// definition and fails when the state runs; a validator may still want to warn.
    pub fn check_arity(&self) -> Result<(), IntrinsicParseError> {
        fn check(text: &str, call: &Call) -> Result<(), IntrinsicParseError> {
            let (min, max) = call.function.arity();
            let n = call.args.len();
            if n < min || max.is_some_and(|m| n > m) {
                let expected = match max {
                    None => format!("at least {min}"),
                    Some(m) if m == min => format!("{min}"),
                    Some(m) => format!("{min} to {m}"),
                };
                return Err(IntrinsicParseError::new(
                    text,
                    call.start,
                    format!(
                        "{} takes {expected} argument(s) but {n} were given",
                        call.function.name()
                    ),
                ));
            }
            for arg in call.args.iter() {
                if let Arg::Call(inner) = arg {
                    check(text, inner)?;
                }
            }
            Ok(())
        }
        check(&self.text, &self.call)
    }

    /// Evaluates the call.
    pub fn eval(&self, env: &mut Env<'_>) -> Result<Value, IntrinsicError> {
        self.eval_call(&self.call, env)
    }

    fn call_text(&self, call: &Call) -> String {
        self.text
            .get(call.start..call.end)
            .unwrap_or(&self.text)
            .to_owned()
    }

    fn invalid(&self, call: &Call) -> IntrinsicError {
        self.invalid_with(
            call,
            format!("Invalid arguments in {}", call.function.name()),
        )
    }

    fn invalid_with(&self, call: &Call, detail: String) -> IntrinsicError {
        IntrinsicError::InvalidArguments {
            call: self.call_text(call),
            function: call.function,
            detail,
        }
    }

    fn eval_arg<'s, 'a: 's>(
        &'s self,
        call: &'s Call,
        arg: &'s Arg,
        env: &mut Env<'a>,
    ) -> Result<Cow<'s, Value>, IntrinsicError> {
        match arg {
            Arg::Literal(v) => Ok(Cow::Borrowed(v)),
            Arg::Call(inner) => self.eval_call(inner, env).map(Cow::Owned),
            Arg::Path(path) => {
                let not_found = |doc: Option<&Value>| IntrinsicError::PathNotFound {
                    call: self.call_text(call),
                    path: path.as_str().to_owned(),
                    // AWS quotes the whole document (all of `$$`, not the member looked in).
                    input: json::to_compact(doc.and(env.root(path.root())).unwrap_or(env.input())),
                };
                let Some(doc) = env.root_of(path) else {
                    return Err(not_found(None));
                };
                match path.select(doc) {
                    Ok(Selection::One(v)) => Ok(Cow::Borrowed(v)),
                    Ok(other) => Ok(Cow::Owned(other.into_value())),
                    Err(_) => Err(not_found(Some(doc))),
                }
            }
        }
    }

    fn eval_call<'s, 'a: 's>(
        &'s self,
        call: &'s Call,
        env: &mut Env<'a>,
    ) -> Result<Value, IntrinsicError> {
        let mut args: Vec<Cow<'s, Value>> = Vec::with_capacity(call.args.len());
        for arg in call.args.iter() {
            args.push(self.eval_arg(call, arg, env)?);
        }
        let (min, max) = call.function.arity();
        if args.len() < min || max.is_some_and(|m| args.len() > m) {
            return Err(self.invalid(call));
        }
        let invalid = || self.invalid(call);
        let value = match call.function {
            Function::Format => return self.format(call, &args),
            Function::StringToJson => {
                let Value::String(s) = &*args[0] else {
                    return Err(invalid());
                };
                // Recorded: "" and " " give null.
                if s.trim().is_empty() {
                    Value::Null
                } else {
                    serde_json::from_str(s).map_err(|_| invalid())?
                }
            }
            Function::JsonToString => Value::String(json::to_compact(&args[0])),
            Function::Array => Value::Array(args.into_iter().map(Cow::into_owned).collect()),
            Function::ArrayPartition => {
                let (Value::Array(items), Some(size)) = (&*args[0], int32(&args[1])) else {
                    return Err(invalid());
                };
                let size = usize::try_from(size)
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(invalid)?;
                Value::Array(
                    items
                        .chunks(size)
                        .map(|chunk| Value::Array(chunk.to_vec()))
                        .collect(),
                )
            }
            Function::ArrayContains => {
                let Value::Array(items) = &*args[0] else {
                    return Err(invalid());
                };
                // AWS-run: `true` is found in `["true"]`, `{a:1,b:2}` is not found in
                // `[{b:2,a:1}]`: the elements compare by their Java `toString()`.
                let wanted = json::java_string(&args[1]);
                Value::Bool(items.iter().any(|item| json::java_string(item) == wanted))
            }
            Function::ArrayRange => {
                let (Some(start), Some(end), Some(step)) =
                    (int32(&args[0]), int32(&args[1]), int32(&args[2]))
                else {
                    return Err(invalid());
                };
                let (start, end, step) = (i64::from(start), i64::from(end), i64::from(step));
                if step == 0 {
                    return Err(invalid());
                }
                let count = if (step > 0 && start <= end) || (step < 0 && start >= end) {
                    (end - start) / step + 1
                } else {
                    0
                };
                if count > MAX_RANGE_LEN {
                    return Err(invalid());
                }
                Value::Array((0..count).map(|k| Value::from(start + k * step)).collect())
            }
            Function::ArrayGetItem => {
                let (Value::Array(items), Some(i)) = (&*args[0], int32(&args[1])) else {
                    return Err(invalid());
                };
                // AWS-run: an out-of-range index fails, except on an empty array, where
                // AWS returns null.
                if items.is_empty() {
                    Value::Null
                } else {
                    usize::try_from(i)
                        .ok()
                        .and_then(|i| items.get(i))
                        .cloned()
                        .ok_or_else(invalid)?
                }
            }
            Function::ArrayLength => match &*args[0] {
                Value::Array(items) => Value::from(items.len()),
                _ => return Err(invalid()),
            },
            Function::ArrayUnique => match &*args[0] {
                Value::Array(items) => Value::Array(
                    json::java_hash_set_order(items)
                        .into_iter()
                        .cloned()
                        .collect(),
                ),
                _ => return Err(invalid()),
            },
            Function::Base64Encode => {
                let Value::String(s) = &*args[0] else {
                    return Err(invalid());
                };
                if json::java_length(s) > MAX_STRING_ARG {
                    return Err(invalid());
                }
                Value::String(base64::engine::general_purpose::STANDARD.encode(s.as_bytes()))
            }
            Function::Base64Decode => {
                let Value::String(s) = &*args[0] else {
                    return Err(invalid());
                };
                if json::java_length(s) > MAX_STRING_ARG {
                    return Err(invalid());
                }
                Value::String(lenient_base64_decode(s))
            }
            Function::Hash => {
                // AWS-run: a number or an object is hashed through its text.
                let data: Cow<'_, str> = match &*args[0] {
                    Value::String(s) => Cow::Borrowed(s),
                    other => Cow::Owned(json::java_string(other)),
                };
                let Value::String(algorithm) = &*args[1] else {
                    return Err(invalid());
                };
                if json::java_length(&data) > MAX_STRING_ARG {
                    return Err(invalid());
                }
                Value::String(hash(data.as_bytes(), algorithm).ok_or_else(invalid)?)
            }
            Function::JsonMerge => {
                let (Value::Object(left), Value::Object(right)) = (&*args[0], &*args[1]) else {
                    return Err(invalid());
                };
                // Deep merge is unsupported; AWS-run: a non-boolean flag merges shallowly.
                if args[2].as_bool() == Some(true) {
                    return Err(invalid());
                }
                let mut merged: Map<String, Value> = left.clone();
                for (k, v) in right {
                    merged.insert(k.clone(), v.clone());
                }
                Value::Object(merged)
            }
            Function::MathRandom => {
                let (Some(start), Some(end)) = (int32(&args[0]), int32(&args[1])) else {
                    return Err(invalid());
                };
                let bound = i64::from(end) - i64::from(start);
                let bound = i32::try_from(bound)
                    .ok()
                    .filter(|b| *b > 0)
                    .ok_or_else(invalid)?;
                let offset = match args.get(2) {
                    Some(seed) => {
                        let seed = java_long(seed).ok_or_else(invalid)?;
                        JavaRandom::new(seed).next_int(bound)
                    }
                    None => {
                        let bound = u64::try_from(bound).unwrap_or(1);
                        // Modulo bias is below 2^-32 for a 31-bit bound.
                        i32::try_from(env.entropy().next_u64() % bound).unwrap_or(0)
                    }
                };
                Value::from(i64::from(start) + i64::from(offset))
            }
            Function::MathAdd => {
                let (Some(a), Some(b)) = (java_round(&args[0]), java_round(&args[1])) else {
                    return Err(invalid());
                };
                let sum = i32::try_from(a)
                    .ok()
                    .zip(i32::try_from(b).ok())
                    .and_then(|(a, b)| a.checked_add(b))
                    .ok_or_else(invalid)?;
                Value::from(sum)
            }
            Function::StringSplit => {
                let (Value::String(s), Value::String(delimiters)) = (&*args[0], &*args[1]) else {
                    return Err(invalid());
                };
                // Java's StringTokenizer: every character of the second argument separates,
                // and empty pieces are dropped (recorded).
                Value::Array(
                    s.split(|c: char| delimiters.contains(c))
                        .filter(|piece| !piece.is_empty())
                        .map(|piece| Value::String(piece.to_owned()))
                        .collect(),
                )
            }
            Function::Uuid => Value::String(uuid_v4(env)),
        };
        Ok(value)
    }

    fn format(&self, call: &Call, args: &[Cow<'_, Value>]) -> Result<Value, IntrinsicError> {
        let parsed;
        let pieces: &[Piece] = match &call.format {
            Some(Ok(pieces)) => pieces,
            Some(Err(detail)) => return Err(self.invalid_with(call, detail.to_string())),
            None => {
                let Value::String(template) = &*args[0] else {
                    return Err(self.invalid(call));
                };
                parsed = parse_format_template(template)
                    .map_err(|detail| self.invalid_with(call, detail.to_string()))?;
                &parsed
            }
        };
        let placeholders = pieces.iter().filter(|p| **p == Piece::Placeholder).count();
        if placeholders != args.len() - 1 {
            return Err(self.invalid_with(
                call,
                "Invalid arguments in States.Format: number of arguments do not match the occurrences of {}."
                    .to_owned(),
            ));
        }
        let mut out = String::new();
        let mut next = args[1..].iter();
        for piece in pieces {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Placeholder => {
                    if let Some(arg) = next.next() {
                        out.push_str(&json::java_string(arg));
                    }
                }
            }
        }
        Ok(Value::String(out))
    }
}

fn visit_paths<'c>(call: &'c Call, visit: &mut impl FnMut(&'c Path)) {
    for arg in call.args.iter() {
        match arg {
            Arg::Path(path) => visit(path),
            Arg::Call(inner) => visit_paths(inner, visit),
            Arg::Literal(_) => {}
        }
    }
}

/// Splits a `States.Format` template (escapes intact) into text and `{}` placeholders.
///
/// `\{`, `\}`, `\'` and `\\` stand for the character itself; any other backslash is kept as
/// is (a literal template cannot contain one, and a template read from the input such as
/// `C:\dir {}` most likely means it literally; AWS's handling of that case is not recorded).
fn parse_format_template(raw: &str) -> Result<Box<[Piece]>, &'static str> {
    const UNMATCHED_OPEN: &str =
        "Invalid template in States.Format: matching '}' not found for '{'.";
    const UNMATCHED_CLOSE: &str =
        "Invalid template in States.Format: matching '{' not found for '}'.";
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(&next @ ('{' | '}' | '\'' | '\\')) => {
                    text.push(next);
                    chars.next();
                }
                _ => text.push('\\'),
            },
            '{' => {
                if chars.next() != Some('}') {
                    return Err(UNMATCHED_OPEN);
                }
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text).into()));
                }
                pieces.push(Piece::Placeholder);
            }
            '}' => return Err(UNMATCHED_CLOSE),
            _ => text.push(c),
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text.into()));
    }
    Ok(pieces.into_boxed_slice())
}

/// A number as a Java `int`, truncating a fraction like a `(int)` cast. `None` for
/// anything else, and for values outside 32 bits (Java would wrap or saturate; we refuse).
fn int32(value: &Value) -> Option<i32> {
    java_long(value).and_then(|v| i32::try_from(v).ok())
}

/// A number as a Java `long`, truncating a fraction.
fn java_long(value: &Value) -> Option<i64> {
    let Value::Number(n) = value else {
        return None;
    };
    if let Some(i) = n.as_i64() {
        Some(i)
    } else if n.is_u64() {
        None
    } else {
        n.as_f64()
            .filter(|f| f.is_finite())
            .map(|f| f.trunc() as i64)
    }
}

/// Java's `Math.round(double)`: the nearest integer, halves rounded up (towards +∞).
fn java_round(value: &Value) -> Option<i64> {
    let Value::Number(n) = value else {
        return None;
    };
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    let f = n.as_f64().filter(|f| f.is_finite() && !n.is_u64())?;
    let floor = f.floor();
    // `f - floor` is exact for doubles, unlike `f + 0.5` (0.49999999999999994 + 0.5 == 1.0).
    let rounded = if f - floor >= 0.5 { floor + 1.0 } else { floor };
    if rounded.abs() < 9.2e18 {
        Some(rounded as i64)
    } else {
        None
    }
}

fn hash(data: &[u8], algorithm: &str) -> Option<String> {
    use sha2::Digest as _;
    let digest: Vec<u8> = match algorithm {
        "MD5" => md5::Md5::digest(data).to_vec(),
        "SHA-1" => sha1::Sha1::digest(data).to_vec(),
        "SHA-256" => sha2::Sha256::digest(data).to_vec(),
        "SHA-384" => sha2::Sha384::digest(data).to_vec(),
        "SHA-512" => sha2::Sha512::digest(data).to_vec(),
        _ => return None,
    };
    let mut out = String::with_capacity(digest.len() * 2);
    for byte in digest {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        out.push(HEX[usize::from(byte >> 4)] as char);
        out.push(HEX[usize::from(byte & 0xf)] as char);
    }
    Some(out)
}

/// Decodes base64 the lenient way AWS does (AWS-run: `'!!!invalid!!!'`, `'abc'`,
/// `'ab==cd'` and `' YWJjZA== '` all decode): characters outside the alphabet are skipped,
/// the first `=` ends the input, and leftover bits are dropped. Both the standard and the
/// URL-safe alphabet are accepted. Bytes that are not UTF-8 become U+FFFD.
fn lenient_base64_decode(s: &str) -> String {
    let mut bytes = Vec::with_capacity(s.len() / 4 * 3 + 2);
    let mut buffer: u32 = 0;
    let mut bits = 0u32;
    for b in s.bytes() {
        let sextet = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => continue,
        };
        buffer = (buffer << 6) | u32::from(sextet);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// `java.util.Random`, so that a seeded `States.MathRandom` gives the numbers AWS gives
/// (AWS-run: seed 42 over [-5, 5) yields -5, i.e. `new Random(42).nextInt(10) == 0`).
struct JavaRandom {
    seed: u64,
}

impl JavaRandom {
    const MULTIPLIER: u64 = 0x5_DEEC_E66D;
    const MASK: u64 = (1 << 48) - 1;

    fn new(seed: i64) -> Self {
        JavaRandom {
            seed: (seed as u64 ^ Self::MULTIPLIER) & Self::MASK,
        }
    }

    fn next(&mut self, bits: u32) -> i32 {
        self.seed = self.seed.wrapping_mul(Self::MULTIPLIER).wrapping_add(0xB) & Self::MASK;
        (self.seed >> (48 - bits)) as i32
    }

    /// `nextInt(bound)` for `bound > 0`.
    fn next_int(&mut self, bound: i32) -> i32 {
        let mut r = self.next(31);
        let m = bound - 1;
        if bound & m == 0 {
            return ((i64::from(bound) * i64::from(r)) >> 31) as i32;
        }
        let mut u = r;
        loop {
            r = u % bound;
            if u.wrapping_sub(r).wrapping_add(m) >= 0 {
                return r;
            }
            u = self.next(31);
        }
    }
}

fn uuid_v4(env: &mut Env<'_>) -> String {
    let hi = env.entropy().next_u64();
    let lo = env.entropy().next_u64();
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&hi.to_be_bytes());
    bytes[8..].copy_from_slice(&lo.to_be_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut out = String::with_capacity(36);
    for (i, byte) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        const HEX: &[u8; 16] = b"0123456789abcdef";
        out.push(HEX[usize::from(byte >> 4)] as char);
        out.push(HEX[usize::from(byte & 0xf)] as char);
    }
    out
}

// ---------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------

struct CallParser<'a> {
    src: &'a str,
    pos: usize,
}

impl CallParser<'_> {
    fn error(&self, message: impl Into<String>) -> IntrinsicParseError {
        IntrinsicParseError::new(self.src, self.pos, message)
    }

    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn call(&mut self, depth: usize) -> Result<Call, IntrinsicParseError> {
        if depth > MAX_NESTING {
            return Err(self.error(format!(
                "intrinsic functions may be nested at most {MAX_NESTING} deep"
            )));
        }
        let start = self.pos;
        while matches!(self.peek(), Some(b) if b.is_ascii_alphanumeric() || b == b'.' || b == b'_')
        {
            self.pos += 1;
        }
        let name = &self.src[start..self.pos];
        let Some(function) = Function::from_name(name) else {
            return Err(IntrinsicParseError::new(
                self.src,
                start,
                format!("'{name}' is not an intrinsic function"),
            ));
        };
        if self.peek() != Some(b'(') {
            return Err(self.error(format!("expected '(' after {name}")));
        }
        self.pos += 1;
        let mut args = Vec::new();
        let mut format = None;
        self.skip_blanks();
        if self.peek() == Some(b')') {
            self.pos += 1;
        } else {
            loop {
                let (arg, raw) = self.arg(depth)?;
                if function == Function::Format
                    && args.is_empty()
                    && let Some(raw) = raw
                {
                    // The template is parsed from the raw literal, where `\{` is a brace
                    // and not the start of a placeholder.
                    format = Some(parse_format_template(&raw).map_err(Box::from));
                }
                args.push(arg);
                self.skip_blanks();
                match self.peek() {
                    Some(b',') => {
                        self.pos += 1;
                        self.skip_blanks();
                    }
                    Some(b')') => {
                        self.pos += 1;
                        break;
                    }
                    None => return Err(self.error("missing ')'")),
                    Some(_) => return Err(self.error("expected ',' or ')'")),
                }
            }
        }
        Ok(Call {
            function,
            args: args.into_boxed_slice(),
            start,
            end: self.pos,
            format,
        })
    }

    /// One argument; for a string literal also its raw text (escapes intact).
    fn arg(&mut self, depth: usize) -> Result<(Arg, Option<String>), IntrinsicParseError> {
        if self.peek() == Some(b'\'') {
            let (value, raw) = self.string()?;
            return Ok((Arg::Literal(Value::String(value)), Some(raw)));
        }
        self.arg_other(depth).map(|arg| (arg, None))
    }

    fn arg_other(&mut self, depth: usize) -> Result<Arg, IntrinsicParseError> {
        match self.peek() {
            Some(b'$') => self.path(),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'S') if self.src[self.pos..].starts_with("States.") => {
                Ok(Arg::Call(Box::new(self.call(depth + 1)?)))
            }
            Some(b',' | b')') => Err(self.error("missing argument")),
            None => Err(self.error("missing ')'")),
            Some(_) => {
                for (word, value) in [
                    ("true", Value::Bool(true)),
                    ("false", Value::Bool(false)),
                    ("null", Value::Null),
                ] {
                    let rest = &self.src[self.pos..];
                    if rest.starts_with(word)
                        && !rest[word.len()..]
                            .bytes()
                            .next()
                            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
                    {
                        self.pos += word.len();
                        return Ok(Arg::Literal(value));
                    }
                }
                Err(self.error(
                    "an argument must be a 'string', a number, true, false, null, a path or an intrinsic function",
                ))
            }
        }
    }

    /// A single-quoted literal: returns the unescaped value and the raw text between the
    /// quotes.
    fn string(&mut self) -> Result<(String, String), IntrinsicParseError> {
        self.pos += 1;
        let start = self.pos;
        let mut value = String::new();
        let mut chars = self.src[start..].char_indices();
        loop {
            let Some((offset, c)) = chars.next() else {
                return Err(IntrinsicParseError::new(
                    self.src,
                    start - 1,
                    "string literal is not closed with '",
                ));
            };
            match c {
                '\'' => {
                    let raw = self.src[start..start + offset].to_owned();
                    self.pos = start + offset + 1;
                    return Ok((value, raw));
                }
                '\\' => match chars.next() {
                    Some((_, e @ ('\'' | '{' | '}' | '\\'))) => value.push(e),
                    Some((at, e)) => {
                        return Err(IntrinsicParseError::new(
                            self.src,
                            start + at,
                            format!("invalid escape sequence '\\{e}' in a string literal"),
                        ));
                    }
                    None => {
                        return Err(IntrinsicParseError::new(
                            self.src,
                            start + offset,
                            "string literal ends with a dangling '\\'",
                        ));
                    }
                },
                _ => value.push(c),
            }
        }
    }

    fn number(&mut self) -> Result<Arg, IntrinsicParseError> {
        let start = self.pos;
        while matches!(
            self.peek(),
            Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
        ) {
            self.pos += 1;
        }
        let token = &self.src[start..self.pos];
        serde_json::from_str::<Number>(token)
            .map(|n| Arg::Literal(Value::Number(n)))
            .map_err(|_| {
                IntrinsicParseError::new(self.src, start, format!("invalid number '{token}'"))
            })
    }

    /// A path argument: runs to the `,` or `)` that ends the argument, outside brackets,
    /// parentheses and quotes.
    fn path(&mut self) -> Result<Arg, IntrinsicParseError> {
        let start = self.pos;
        let bytes = self.src.as_bytes();
        let mut brackets = 0usize;
        let mut parens = 0usize;
        let mut i = start;
        while let Some(&b) = bytes.get(i) {
            match b {
                b'\'' | b'"' if brackets > 0 || parens > 0 => {
                    i += 1;
                    while let Some(&c) = bytes.get(i) {
                        if c == b'\\' {
                            i += 1;
                        } else if c == b {
                            break;
                        }
                        i += 1;
                    }
                }
                b'[' => brackets += 1,
                b']' => brackets = brackets.saturating_sub(1),
                b'(' => parens += 1,
                b')' if parens == 0 && brackets == 0 => break,
                b')' => parens = parens.saturating_sub(1),
                b',' | b' ' | b'\t' | b'\n' | b'\r' if parens == 0 && brackets == 0 => break,
                _ => {}
            }
            i += 1;
        }
        let i = i.min(bytes.len());
        let text = &self.src[start..i];
        let path = Path::parse(text).map_err(|e| {
            IntrinsicParseError::new(self.src, start + e.position(), e.message().to_owned())
        })?;
        self.pos = i;
        Ok(Arg::Path(path))
    }
}

#[cfg(test)]
mod tests;
