//! Host functions: AWS's JSONata functions, the deterministic `$now`/`$millis`/`$random`, the
//! disabled `$eval`, and the ECMAScript-regex versions of `$match`/`$replace`/`$contains`/`$split`.
//!
//! Each evaluation registers only the functions its expression names (see
//! [`HostFunction::mask_for`]), so an expression that uses none of them pays nothing.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::OnceLock;

use jsonata_core::ast::AstNode;
use jsonata_core::evaluator::{Context, Evaluator, EvaluatorError, EvaluatorOptions};
use jsonata_core::value::{JMap, JValue};
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::convert;
use crate::js_regex::{self, JsMatch};
use crate::rng::{self, Xoshiro256};

/// State shared by one scope's host functions.
pub(crate) struct HostState {
    pub now_millis: i64,
    pub rng: RefCell<Option<Xoshiro256>>,
    /// `$states`, for the nested evaluations that call a JSONata function from a host function.
    pub states: RefCell<JValue>,
    /// The running evaluation's options (its cancel token included), for nested evaluations.
    pub options: RefCell<EvaluatorOptions>,
    pub max_sequence_length: usize,
}

/// The functions we provide or replace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HostFunction {
    Partition,
    Range,
    Hash,
    Random,
    Uuid,
    Parse,
    Now,
    Millis,
    Eval,
    Match,
    Replace,
    Contains,
    Split,
}

const ALL: [HostFunction; 13] = [
    HostFunction::Partition,
    HostFunction::Range,
    HostFunction::Hash,
    HostFunction::Random,
    HostFunction::Uuid,
    HostFunction::Parse,
    HostFunction::Now,
    HostFunction::Millis,
    HostFunction::Eval,
    HostFunction::Match,
    HostFunction::Replace,
    HostFunction::Contains,
    HostFunction::Split,
];

impl HostFunction {
    /// The name an expression calls it by.
    fn name(self) -> &'static str {
        match self {
            HostFunction::Partition => "partition",
            HostFunction::Range => "range",
            HostFunction::Hash => "hash",
            HostFunction::Random => "random",
            HostFunction::Uuid => "uuid",
            HostFunction::Parse => "parse",
            HostFunction::Now => "now",
            HostFunction::Millis => "millis",
            HostFunction::Eval => "eval",
            HostFunction::Match => "match",
            HostFunction::Replace => "replace",
            HostFunction::Contains => "contains",
            HostFunction::Split => "split",
        }
    }

    /// The bit set of host functions an expression naming `names` needs.
    pub(crate) fn mask_for<'a>(names: impl IntoIterator<Item = &'a str>) -> u16 {
        let mut mask = 0;
        for name in names {
            if let Some(i) = ALL.iter().position(|f| f.name() == name) {
                mask |= 1 << i;
            }
        }
        mask
    }
}

/// Registers the host functions in `mask` on `ev`.
pub(crate) fn register(
    ev: &mut Evaluator,
    mask: u16,
    host: &Rc<HostState>,
) -> Result<(), EvaluatorError> {
    for (i, f) in ALL.iter().enumerate() {
        if mask & (1 << i) == 0 {
            continue;
        }
        let h = host.clone();
        match f {
            HostFunction::Partition => ev.register_fn("partition", partition)?,
            HostFunction::Range => {
                ev.register_fn("range", move |a: &[JValue]| range(a, h.max_sequence_length))?
            }
            HostFunction::Hash => ev.register_fn("hash", hash)?,
            HostFunction::Uuid => ev.register_fn("uuid", move |a: &[JValue]| uuid(a, &h))?,
            HostFunction::Parse => ev.register_fn("parse", parse)?,
            HostFunction::Random => {
                ev.register_fn_override("random", move |a: &[JValue]| random(a, &h))?
            }
            HostFunction::Now => ev.register_fn_override("now", move |a: &[JValue]| now(a, &h))?,
            HostFunction::Millis => ev.register_fn_override("millis", move |a: &[JValue]| {
                if !a.is_empty() {
                    return Err(err(
                        "T0410",
                        "Argument 1 of function \"millis\" does not match function signature",
                    ));
                }
                Ok(JValue::Number(h.now_millis as f64))
            })?,
            // AWS: "$eval is not supported; use $parse". A JSONata engine without it reports
            // calling it as calling anything else that is not a function.
            HostFunction::Eval => ev.register_fn_override("eval", |_: &[JValue]| {
                Err(err("T1006", "Attempted to invoke a non-function"))
            })?,
            HostFunction::Match => {
                ev.register_fn_override("match", move |a: &[JValue]| regex_match(a))?
            }
            HostFunction::Replace => {
                ev.register_fn_override("replace", move |a: &[JValue]| replace(a, &h))?
            }
            HostFunction::Contains => {
                ev.register_fn("__ironstep_contains", |a: &[JValue]| contains(a))?
            }
            HostFunction::Split => ev.register_fn("__ironstep_split", |a: &[JValue]| split(a))?,
        }
    }
    Ok(())
}

/// A coded error in jsonata-js's `CODE: message` form.
fn err(code: &str, message: &str) -> EvaluatorError {
    EvaluatorError::EvaluationError(format!("{code}: {message}"))
}

/// jsonata-js's signature mismatch error.
fn bad_arg(index: usize, function: &str) -> EvaluatorError {
    err(
        "T0410",
        &format!("Argument {index} of function \"{function}\" does not match function signature"),
    )
}

fn arg(args: &[JValue], i: usize) -> &JValue {
    args.get(i).unwrap_or(&JValue::Undefined)
}

/// A number argument that must be an integer, as the ASL functions take.
fn integer_arg(args: &[JValue], i: usize, function: &str) -> Result<f64, EvaluatorError> {
    match arg(args, i) {
        JValue::Number(n) if n.is_finite() && n.fract() == 0.0 => Ok(*n),
        JValue::Number(n) => Err(err(
            "D3030",
            &format!(
                "Argument {} of function \"{function}\" must be an integer, but was {n}",
                i + 1
            ),
        )),
        _ => Err(bad_arg(i + 1, function)),
    }
}

// ---------------------------------------------------------------------------------------------
// AWS's functions

/// `$partition(array, size)`: consecutive chunks of `size` items; the last may be shorter.
fn partition(args: &[JValue]) -> Result<JValue, EvaluatorError> {
    let items: Vec<JValue> = match arg(args, 0) {
        JValue::Undefined => return Ok(JValue::Undefined),
        JValue::Array(a) => a.iter().cloned().collect(),
        JValue::Lambda(_) | JValue::Builtin { .. } | JValue::Regex { .. } => {
            return Err(bad_arg(1, "partition"));
        }
        single => vec![single.clone()],
    };
    let size = integer_arg(args, 1, "partition")?;
    if size < 1.0 {
        return Err(err(
            "D3031",
            &format!(
                "The size argument of function \"partition\" must be a positive integer, but was {size}"
            ),
        ));
    }
    let size = size.min(usize::MAX as f64) as usize;
    let chunks: Vec<JValue> = items
        .chunks(size)
        .map(|c| JValue::array(c.to_vec()))
        .collect();
    Ok(JValue::array(chunks))
}

/// `$range(start, end, step)`: `start`, `start + step`, ... up to and including `end`. The result
/// is a sequence, so a single item comes back as that item (AWS: `$range(1, 9, 9)` is `1`).
fn range(args: &[JValue], max_len: usize) -> Result<JValue, EvaluatorError> {
    let start = integer_arg(args, 0, "range")?;
    let end = integer_arg(args, 1, "range")?;
    let step = integer_arg(args, 2, "range")?;
    if step == 0.0 {
        return Err(err(
            "D3032",
            "The step argument of function \"range\" must not be zero",
        ));
    }
    let count = ((end - start) / step).floor() + 1.0;
    if count <= 0.0 {
        return Ok(JValue::sequence(Vec::new()));
    }
    if count > max_len as f64 {
        return Err(err(
            "D2014",
            &format!(
                "The size of the sequence allocated by $range must not exceed {max_len}. Attempted to allocate {count}."
            ),
        ));
    }
    let items = (0..count as usize)
        .map(|i| JValue::Number(start + step * i as f64))
        .collect();
    Ok(JValue::sequence(items))
}

/// `$hash(value, algorithm)`: the lowercase hex digest of a string's UTF-8 bytes.
fn hash(args: &[JValue]) -> Result<JValue, EvaluatorError> {
    let value = match arg(args, 0) {
        JValue::Undefined => return Ok(JValue::Undefined),
        JValue::String(s) => s.clone(),
        _ => return Err(bad_arg(1, "hash")),
    };
    let JValue::String(algorithm) = arg(args, 1) else {
        return Err(bad_arg(2, "hash"));
    };
    let bytes = value.as_bytes();
    let digest = match &**algorithm {
        "MD5" => hex(&Md5::digest(bytes)),
        "SHA-1" => hex(&Sha1::digest(bytes)),
        "SHA-256" => hex(&Sha256::digest(bytes)),
        "SHA-384" => hex(&Sha384::digest(bytes)),
        "SHA-512" => hex(&Sha512::digest(bytes)),
        other => {
            return Err(err(
                "D3033",
                &format!(
                    "The hash algorithm '{other}' is not supported; use one of MD5, SHA-1, SHA-256, SHA-384, SHA-512"
                ),
            ));
        }
    };
    Ok(JValue::string(digest))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// `$random([seed])`: a number in `[0, 1)`; with a seed the same seed always gives the same number.
fn random(args: &[JValue], host: &HostState) -> Result<JValue, EvaluatorError> {
    match arg(args, 0) {
        JValue::Undefined => Ok(JValue::Number(with_rng(host, |g| g.next_f64()))),
        JValue::Number(seed) if seed.is_finite() => Ok(JValue::Number(
            Xoshiro256::from_seed(seed.to_bits()).next_f64(),
        )),
        _ => Err(bad_arg(1, "random")),
    }
}

/// `$uuid()`: a random version 4 UUID.
fn uuid(args: &[JValue], host: &HostState) -> Result<JValue, EvaluatorError> {
    if !args.is_empty() {
        return Err(bad_arg(1, "uuid"));
    }
    let (hi, lo) = with_rng(host, |g| (g.next_u64(), g.next_u64()));
    Ok(JValue::string(rng::uuid_v4(hi, lo)))
}

fn with_rng<T>(host: &HostState, f: impl FnOnce(&mut Xoshiro256) -> T) -> T {
    let mut rng = host.rng.borrow_mut();
    // The scope seeds the generator before any evaluation whose expression names `$random` or
    // `$uuid`; a fixed seed is the fallback should a function reach here some other way.
    f(rng.get_or_insert_with(|| Xoshiro256::from_seed(0)))
}

/// `$parse(jsonString)`: the JSON value a string holds.
fn parse(args: &[JValue]) -> Result<JValue, EvaluatorError> {
    let text = match arg(args, 0) {
        JValue::Undefined => return Ok(JValue::Undefined),
        JValue::String(s) => s.clone(),
        _ => return Err(bad_arg(1, "parse")),
    };
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(v) => Ok(convert::to_jvalue(&v)),
        Err(e) => Err(err(
            "D3034",
            &format!("The argument of function \"parse\" is not valid JSON: {e}"),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Time

/// `$now([picture [, timezone]])` at the scope's time, formatted as `$fromMillis` formats it.
fn now(args: &[JValue], host: &HostState) -> Result<JValue, EvaluatorError> {
    static AST: [OnceLock<Option<AstNode>>; 3] =
        [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    const SOURCES: [&str; 3] = [
        "$fromMillis($m)",
        "$fromMillis($m, $p)",
        "$fromMillis($m, $p, $t)",
    ];
    if args.len() > 2 {
        return Err(bad_arg(3, "now"));
    }
    for (i, a) in args.iter().enumerate() {
        if !matches!(a, JValue::String(_) | JValue::Undefined) {
            return Err(bad_arg(i + 1, "now"));
        }
    }
    let n = args.len();
    let ast = AST[n]
        .get_or_init(|| jsonata_core::parser::parse(SOURCES[n]).ok())
        .as_ref()
        .ok_or_else(|| err("U1000", "internal: $now could not be prepared"))?;
    let mut bindings = vec![("m", JValue::Number(host.now_millis as f64))];
    if let Some(p) = args.first() {
        bindings.push(("p", p.clone()));
    }
    if let Some(t) = args.get(1) {
        bindings.push(("t", t.clone()));
    }
    nested_eval(ast, bindings, host)
}

/// Evaluates a small fixed expression with `bindings` (and `$states`) on a fresh evaluator.
/// Host functions cannot re-enter the evaluator that called them, so this is how they call a
/// JSONata function value or a built-in.
fn nested_eval(
    ast: &AstNode,
    bindings: Vec<(&str, JValue)>,
    host: &HostState,
) -> Result<JValue, EvaluatorError> {
    let mut context = Context::new();
    context.bind("states".to_owned(), host.states.borrow().clone());
    for (name, value) in bindings {
        context.bind(name.to_owned(), value);
    }
    let options = host.options.borrow().clone();
    Evaluator::with_options(context, options).evaluate(ast, &JValue::Undefined)
}

// ---------------------------------------------------------------------------------------------
// Regular expressions (jsonata-js semantics, ECMAScript patterns)

/// A string argument that may be undefined (then the function returns undefined).
fn subject<'a>(args: &'a [JValue], function: &str) -> Result<Option<&'a Rc<str>>, EvaluatorError> {
    match arg(args, 0) {
        JValue::Undefined => Ok(None),
        JValue::String(s) => Ok(Some(s)),
        _ => Err(bad_arg(1, function)),
    }
}

/// An optional non-negative limit argument.
fn limit(
    args: &[JValue],
    i: usize,
    function: &str,
    code: &str,
    message: &str,
) -> Result<Option<usize>, EvaluatorError> {
    match arg(args, i) {
        JValue::Undefined => Ok(None),
        JValue::Number(n) if *n < 0.0 => Err(err(code, message)),
        JValue::Number(n) => Ok(Some(n.min(usize::MAX as f64) as usize)),
        _ => Err(bad_arg(i + 1, function)),
    }
}

enum Pattern {
    Text(Rc<str>),
    Regex(Rc<fancy_regex::Regex>),
}

fn pattern(
    args: &[JValue],
    i: usize,
    function: &str,
    allow_text: bool,
) -> Result<Pattern, EvaluatorError> {
    match arg(args, i) {
        JValue::String(s) if allow_text => Ok(Pattern::Text(s.clone())),
        JValue::Regex { pattern, flags } => js_regex::compile_cached(pattern, flags)
            .map(Pattern::Regex)
            .map_err(|e| EvaluatorError::EvaluationError(e.0)),
        JValue::Lambda(_) | JValue::Builtin { .. } => Err(err(
            "T1010",
            &format!(
                "The matcher function argument passed to function \"{function}\" is not supported; use a regular expression"
            ),
        )),
        _ => Err(bad_arg(i + 1, function)),
    }
}

/// Successive matches as jsonata-js's regex closure produces them: the first from the start;
/// each next one from where the previous ended, none once that is the end of the string, and
/// D1004 if a later match is empty (it would never progress).
struct Matches<'a> {
    re: &'a fancy_regex::Regex,
    text: &'a str,
    next_from: Option<usize>,
    first: bool,
}

impl<'a> Matches<'a> {
    fn new(re: &'a fancy_regex::Regex, text: &'a str) -> Self {
        Matches {
            re,
            text,
            next_from: Some(0),
            first: true,
        }
    }

    fn next(&mut self) -> Result<Option<JsMatch>, EvaluatorError> {
        let Some(from) = self.next_from else {
            return Ok(None);
        };
        if !self.first && from >= self.text.len() {
            self.next_from = None;
            return Ok(None);
        }
        let found =
            js_regex::find_at(self.re, self.text, from).map_err(EvaluatorError::EvaluationError)?;
        match &found {
            Some(m) => {
                if !self.first && m.start == m.end {
                    return Err(err(
                        "D1004",
                        "Regular expression matches zero length string",
                    ));
                }
                self.next_from = Some(m.end);
            }
            None => self.next_from = None,
        }
        self.first = false;
        Ok(found)
    }
}

fn group_values(text: &str, m: &JsMatch) -> Vec<JValue> {
    m.groups
        .iter()
        .map(|g| g.map_or(JValue::Null, |(s, e)| JValue::string(&text[s..e])))
        .collect()
}

/// `$match(str, regex [, limit])`: `{match, index, groups}` for each match.
fn regex_match(args: &[JValue]) -> Result<JValue, EvaluatorError> {
    let Some(text) = subject(args, "match")? else {
        return Ok(JValue::Undefined);
    };
    let Pattern::Regex(re) = pattern(args, 1, "match", false)? else {
        return Err(bad_arg(2, "match"));
    };
    let limit = limit(
        args,
        2,
        "match",
        "D3040",
        "Third argument of match function must evaluate to a positive number",
    )?;
    let mut out = Vec::new();
    let mut matches = Matches::new(&re, text);
    while limit.is_none_or(|l| out.len() < l) {
        let Some(m) = matches.next()? else { break };
        let mut obj = JMap::default();
        obj.insert("match".to_owned(), JValue::string(&text[m.start..m.end]));
        obj.insert(
            "index".to_owned(),
            JValue::Number(js_regex::utf16_index(text, m.start) as f64),
        );
        obj.insert("groups".to_owned(), JValue::array(group_values(text, &m)));
        out.push(JValue::Object(Rc::new(obj)));
    }
    Ok(JValue::sequence(out))
}

/// `$contains(str, pattern)`.
fn contains(args: &[JValue]) -> Result<JValue, EvaluatorError> {
    let Some(text) = subject(args, "contains")? else {
        return Ok(JValue::Undefined);
    };
    Ok(JValue::Bool(match pattern(args, 1, "contains", true)? {
        Pattern::Text(t) => text.contains(&*t),
        Pattern::Regex(re) => Matches::new(&re, text).next()?.is_some(),
    }))
}

/// `$split(str, separator [, limit])`.
fn split(args: &[JValue]) -> Result<JValue, EvaluatorError> {
    let Some(text) = subject(args, "split")? else {
        return Ok(JValue::Undefined);
    };
    let sep = pattern(args, 1, "split", true)?;
    let limit = limit(
        args,
        2,
        "split",
        "D3020",
        "Third argument of split function must evaluate to a positive number",
    )?;
    let under = |n: usize| limit.is_none_or(|l| n < l);
    let mut out: Vec<JValue> = Vec::new();
    match sep {
        Pattern::Text(sep) if sep.is_empty() => {
            // JavaScript splits into UTF-16 units; splitting into characters differs only for
            // characters outside the Basic Multilingual Plane.
            for c in text.chars() {
                if !under(out.len()) {
                    break;
                }
                out.push(JValue::string(c.to_string()));
            }
        }
        Pattern::Text(sep) => {
            for piece in text.split(&*sep) {
                if !under(out.len()) {
                    break;
                }
                out.push(JValue::string(piece));
            }
        }
        Pattern::Regex(re) => {
            let mut matches = Matches::new(&re, text);
            let mut start = 0;
            let mut count = 0;
            let mut any = false;
            while under(count) {
                let Some(m) = matches.next()? else { break };
                any = true;
                out.push(JValue::string(&text[start..m.start]));
                start = m.end;
                count += 1;
            }
            if !any {
                if under(0) {
                    out.push(JValue::string(&**text));
                }
            } else if under(count) {
                out.push(JValue::string(&text[start..]));
            }
        }
    }
    Ok(JValue::array(out))
}

/// `$replace(str, pattern, replacement [, limit])`.
fn replace(args: &[JValue], host: &HostState) -> Result<JValue, EvaluatorError> {
    let Some(text) = subject(args, "replace")? else {
        return Ok(JValue::Undefined);
    };
    let pat = pattern(args, 1, "replace", true)?;
    if matches!(&pat, Pattern::Text(t) if t.is_empty()) {
        return Err(err(
            "D3010",
            "Second argument of replace function cannot be an empty string",
        ));
    }
    let replacement = arg(args, 2);
    if !matches!(
        replacement,
        JValue::String(_) | JValue::Lambda(_) | JValue::Builtin { .. }
    ) {
        return Err(bad_arg(3, "replace"));
    }
    let limit = limit(
        args,
        3,
        "replace",
        "D3011",
        "Fourth argument of replace function must evaluate to a positive number",
    )?;
    let under = |n: usize| limit.is_none_or(|l| n < l);
    let mut out = String::with_capacity(text.len());
    let mut position = 0;
    let mut count = 0;
    match pat {
        Pattern::Text(p) => {
            let JValue::String(rep) = replacement else {
                return Err(bad_arg(3, "replace"));
            };
            while under(count) {
                let Some(i) = text[position..].find(&*p) else {
                    break;
                };
                out.push_str(&text[position..position + i]);
                out.push_str(rep);
                position += i + p.len();
                count += 1;
            }
        }
        Pattern::Regex(re) => {
            let mut matches = Matches::new(&re, text);
            while under(count) {
                let Some(m) = matches.next()? else { break };
                out.push_str(&text[position..m.start]);
                match replacement {
                    JValue::String(rep) => substitute(rep, text, &m, &mut out),
                    function => {
                        let value = call_replacer(function, text, &m, host)?;
                        match value {
                            JValue::String(s) => out.push_str(&s),
                            _ => {
                                return Err(err(
                                    "D3012",
                                    "Attempted to replace a matched string with a non-string value",
                                ));
                            }
                        }
                    }
                }
                position = m.end;
                count += 1;
            }
        }
    }
    out.push_str(&text[position..]);
    Ok(JValue::string(out))
}

/// Calls a JSONata function with jsonata-js's match object `{match, start, end, groups}`.
fn call_replacer(
    function: &JValue,
    text: &str,
    m: &JsMatch,
    host: &HostState,
) -> Result<JValue, EvaluatorError> {
    static AST: OnceLock<Option<AstNode>> = OnceLock::new();
    let ast = AST
        .get_or_init(|| jsonata_core::parser::parse("$f($m)").ok())
        .as_ref()
        .ok_or_else(|| err("U1000", "internal: $replace could not be prepared"))?;
    let mut obj = JMap::default();
    obj.insert("match".to_owned(), JValue::string(&text[m.start..m.end]));
    obj.insert(
        "start".to_owned(),
        JValue::Number(js_regex::utf16_index(text, m.start) as f64),
    );
    obj.insert(
        "end".to_owned(),
        JValue::Number(js_regex::utf16_index(text, m.end) as f64),
    );
    obj.insert("groups".to_owned(), JValue::array(group_values(text, m)));
    nested_eval(
        ast,
        vec![("f", function.clone()), ("m", JValue::Object(Rc::new(obj)))],
        host,
    )
}

/// jsonata-js's replacement-string substitution: `$$` is `$`, `$0` the match, `$n` group `n`
/// (reading as many digits as the group count has, then one fewer if that is too many), any
/// other `$` itself.
fn substitute(rep: &str, text: &str, m: &JsMatch, out: &mut String) {
    let groups = &m.groups;
    let bytes = rep.as_bytes();
    let mut position = 0;
    while let Some(offset) = rep[position..].find('$') {
        let index = position + offset;
        out.push_str(&rep[position..index]);
        position = index + 1;
        match bytes.get(position) {
            Some(b'$') => {
                out.push('$');
                position += 1;
            }
            Some(b'0') => {
                out.push_str(&text[m.start..m.end]);
                position += 1;
            }
            _ => {
                let max_digits = if groups.is_empty() {
                    1
                } else {
                    groups.len().ilog10() as usize + 1
                };
                let leading = |n: usize| -> Option<usize> {
                    let digits: &str = &rep[position..];
                    let len = digits
                        .bytes()
                        .take(n)
                        .take_while(u8::is_ascii_digit)
                        .count();
                    digits[..len].parse().ok()
                };
                let mut n = leading(max_digits);
                if max_digits > 1 && n.is_some_and(|n| n > groups.len()) {
                    n = leading(max_digits - 1);
                }
                match n {
                    Some(n) => {
                        if let Some(Some((s, e))) = n.checked_sub(1).and_then(|i| groups.get(i)) {
                            out.push_str(&text[*s..*e]);
                        }
                        position += n.to_string().len();
                    }
                    None => out.push('$'),
                }
            }
        }
    }
    out.push_str(&rep[position..]);
}
