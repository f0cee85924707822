//! JSONPath with the Jayway semantics AWS Step Functions uses.
//!
//! A [`Path`] is parsed once into a list of segments. Evaluating a definite path made of a
//! few `.name` / `[i]` steps (the common case in `InputPath`, `Parameters`, `ResultPath`,
//! Choice `Variable`) is a loop over those segments that borrows from the document: no string
//! parsing and no allocation.
//!
//! The evaluator is written by hand rather than delegated to `jsonpath-rust`. Reasons, all
//! measured in `dependencies.md` §2: no crate knows Jayway's definite/indefinite split or its
//! error texts (which AWS prints verbatim), both RFC 9535 crates reject the `.['name']` form
//! that the AWS docs use, and none supports `=~`. What remains (names, indices, slices,
//! unions, wildcards, deep scan, filters) is small, and owning it keeps the hot path tight.
//!
//! Jayway rules implemented here:
//! * A path is *indefinite* if it contains `..`, `*`, a filter `[?(...)]`, a slice, or a
//!   union of indices or of names that is not the last step. `$['a','b']` (a union of names
//!   as the last step) is definite and yields an object holding just those keys.
//! * A definite path that matches nothing is an error, with Jayway's message
//!   (`No results for path: $['x']`, `Missing property in path $['no']`, ...); see
//!   [`NotFound`]. An indefinite path that matches nothing yields an empty list (AWS returns
//!   `[]` for `$.items[*].itemValue` on `{}`).
//! * Names in bracket quotes are taken verbatim: a backslash only stops the next character
//!   from closing the quote (recorded: `$['Test\""Name"']` selects the key `Test\""Name"`).

use std::borrow::Cow;
use std::fmt;

use serde_json::{Map, Value};

use crate::json;

/// Where a path starts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Root {
    /// `$`: the state input (or the document the caller evaluates against).
    Input,
    /// `$$`: the context object.
    Context,
    /// `$name`: a workflow variable.
    Variable(Box<str>),
}

/// A parsed JSONPath (see the module documentation for the semantics).
#[derive(Clone)]
pub struct Path {
    text: Box<str>,
    root: Root,
    segments: Box<[Segment]>,
    definite: bool,
    /// Only `.name` and `[i]` steps: evaluation takes the tight loop.
    simple: bool,
}

impl fmt::Debug for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Path").field(&self.text).finish()
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// One step of a path.
#[derive(Debug, Clone)]
pub(crate) enum Segment {
    /// `.name`, `['name']`
    Name(Box<str>),
    /// `[i]` (negative counts from the end, as in Jayway 2.x)
    Index(i64),
    /// `['a','b']`
    Names(Box<[Box<str>]>),
    /// `[0,1]`
    Indices(Box<[i64]>),
    /// `[a:b]`, `[a:]`, `[:b]`
    Slice {
        start: Option<i64>,
        end: Option<i64>,
    },
    /// `.*`, `[*]`
    Wildcard,
    /// `..`: the next step applies to the node and to every node below it.
    Descend,
    /// `[?(...)]`
    Filter(Box<Filter>),
}

/// A syntax error in a path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid JSONPath '{text}': {message}")]
pub struct PathError {
    text: String,
    position: usize,
    message: String,
}

impl PathError {
    fn new(text: &str, position: usize, message: impl Into<String>) -> Self {
        Self {
            text: text.to_owned(),
            position,
            message: message.into(),
        }
    }

    /// What is wrong, without the path.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Byte offset in the (trimmed) path text where the problem was found.
    pub fn position(&self) -> usize {
        self.position
    }

    /// The path text as given.
    pub fn path(&self) -> &str {
        &self.text
    }
}

/// A definite path that matched nothing, with Jayway's explanation.
///
/// `Display` gives Jayway's message; [`NotFound::invalid_path_message`] wraps it the way AWS
/// reports `InputPath`/`OutputPath` failures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotFound {
    /// The last step found nothing, or an index was out of range.
    #[error("No results for path: {path}")]
    NoResults {
        /// The whole path in Jayway's normalized form, e.g. `$['a']['b']`.
        path: String,
    },
    /// A property before the last step is missing.
    #[error("Missing property in path {path}")]
    MissingProperty {
        /// The path up to and including the missing property.
        path: String,
    },
    /// A property step met something that is not an object.
    #[error(
        "Expected to find an object with property {property} in path {path} but found '{found}'. This is not a json object according to the JsonProvider: '{JSON_PROVIDER}'."
    )]
    NotAnObject {
        /// The step, e.g. `['b']`.
        property: String,
        /// The path up to the node that is not an object.
        path: String,
        /// The Java class of that node (`java.lang.String`, `java.util.ArrayList`, `null`).
        found: &'static str,
    },
    /// An index step met `null`.
    #[error("The path {path} is null")]
    NullArray {
        /// The path up to the `null`.
        path: String,
    },
    /// An index step met something that is not an array.
    #[error("Filter: {filter} can only be applied to arrays. Current context is: {context}")]
    NotAnArray {
        /// The step, e.g. `[0]`.
        filter: String,
        /// The node, rendered as a Java object (`{a=1}`).
        context: String,
    },
}

/// The JSON provider class Jayway names in "not a json object" messages. AWS's exact
/// configuration is not recorded; this is Jayway's Jackson provider, which matches the Java
/// class names we print.
const JSON_PROVIDER: &str = "com.jayway.jsonpath.spi.json.JacksonJsonProvider";

impl NotFound {
    /// The cause AWS prints when `InputPath`/`OutputPath` (and other path fields evaluated the
    /// same way) match nothing, e.g.
    /// `Invalid path '$.x' : No results for path: $['x']`.
    pub fn invalid_path_message(&self, path_text: &str) -> String {
        format!("Invalid path '{path_text}' : {self}")
    }
}

/// What a path selected.
#[derive(Debug, Clone, PartialEq)]
pub enum Selection<'v> {
    /// A definite path's node, borrowed from the document.
    One(&'v Value),
    /// An indefinite path's nodes, in document order (possibly none).
    Many(Vec<&'v Value>),
    /// A value built by the path itself (`$['a','b']` builds an object).
    Owned(Value),
}

impl<'v> Selection<'v> {
    /// The selection as one owned value: a list becomes a JSON array.
    pub fn into_value(self) -> Value {
        match self {
            Selection::One(v) => v.clone(),
            Selection::Many(items) => Value::Array(items.into_iter().cloned().collect()),
            Selection::Owned(v) => v,
        }
    }

    /// The selection as one value, borrowed when possible.
    pub fn into_cow(self) -> Cow<'v, Value> {
        match self {
            Selection::One(v) => Cow::Borrowed(v),
            other => Cow::Owned(other.into_value()),
        }
    }
}

/// `ResultPath` could not be applied: an intermediate node is not an object (or an index does
/// not exist).
///
/// AWS documents the error name `States.ResultPathMatchFailure`; the only real AWS cause text
/// we found (a user report, undated, error name `States.ReferencePathConflict`) reads
/// `Unable to apply ReferencePath $.x to input "input1"`. We use that text with the
/// documented name; neither is in the recorded conformance corpus.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Unable to apply ReferencePath {path} to input {input}")]
pub struct AssignError {
    path: String,
    input: String,
}

impl AssignError {
    /// The ASL error name to report.
    pub fn error_name(&self) -> &'static str {
        "States.ResultPathMatchFailure"
    }

    /// The path text.
    pub fn path(&self) -> &str {
        &self.path
    }
}

impl Path {
    /// Parses a full path as allowed in `InputPath`, `OutputPath` and `.$` fields.
    pub fn parse(text: &str) -> Result<Path, PathError> {
        let trimmed = text.trim();
        let mut parser = Parser::new(trimmed, false);
        let root = parser.root()?;
        let segments = parser.segments()?;
        if parser.pos < trimmed.len() {
            return Err(parser.error("Could not parse token"));
        }
        Ok(Path::from_parts(trimmed, root, segments))
    }

    /// Parses a *reference path* (`ResultPath`, Choice `Variable`, `ItemsPath`, `*Path`
    /// fields): only `.name`, `['name']` and non-negative `[index]` steps.
    pub fn parse_reference(text: &str) -> Result<Path, PathError> {
        let path = Path::parse(text)?;
        for segment in path.segments.iter() {
            let problem = match segment {
                Segment::Name(_) => continue,
                Segment::Index(i) if *i >= 0 => continue,
                Segment::Index(_) => "negative array indices",
                Segment::Names(_) | Segment::Indices(_) => "unions",
                Segment::Slice { .. } => "array slices",
                Segment::Wildcard => "wildcards",
                Segment::Descend => "deep scans ('..')",
                Segment::Filter(_) => "filter expressions",
            };
            return Err(PathError::new(
                text,
                0,
                format!(
                    "a reference path may only use '.name', \"['name']\" and '[index]' steps, not {problem}"
                ),
            ));
        }
        Ok(path)
    }

    fn from_parts(text: &str, root: Root, segments: Vec<Segment>) -> Path {
        let last = segments.len().saturating_sub(1);
        let definite = segments.iter().enumerate().all(|(i, s)| match s {
            Segment::Name(_) | Segment::Index(_) => true,
            // Jayway's "multi property merge" case: definite only as the last step.
            Segment::Names(_) => i == last,
            _ => false,
        });
        let simple = segments
            .iter()
            .all(|s| matches!(s, Segment::Name(_) | Segment::Index(_)));
        Path {
            text: text.into(),
            root,
            segments: segments.into_boxed_slice(),
            definite,
            simple,
        }
    }

    /// Where the path starts.
    pub fn root(&self) -> &Root {
        &self.root
    }

    /// The first step's member name, when the first step is `.name`.
    pub fn first_name(&self) -> Option<&str> {
        match self.segments.first() {
            Some(Segment::Name(n)) => Some(n),
            _ => None,
        }
    }

    /// Jayway's definiteness: `true` if the path selects at most one node.
    pub fn is_definite(&self) -> bool {
        self.definite
    }

    /// The path text (trimmed).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// `true` if the path is the root alone (`$`, `$$` or `$name`).
    pub fn is_root_only(&self) -> bool {
        self.segments.is_empty()
    }

    /// The variable this path reads, if it starts with `$name`.
    pub fn variable(&self) -> Option<&str> {
        match &self.root {
            Root::Variable(name) => Some(name),
            _ => None,
        }
    }

    /// Jayway's normalized rendering, e.g. `$['a']['b'][0]` (the root is always `$`).
    pub fn normalized(&self) -> String {
        let mut out = String::from("$");
        for segment in self.segments.iter() {
            render_segment(&mut out, segment);
        }
        out
    }

    /// Evaluates the path against `doc` (the document its root designates).
    pub fn select<'v>(&self, doc: &'v Value) -> Result<Selection<'v>, NotFound> {
        if self.simple {
            let mut current = doc;
            for segment in self.segments.iter() {
                let next = match (segment, current) {
                    (Segment::Name(name), Value::Object(map)) => get(map, name),
                    (Segment::Index(i), Value::Array(items)) => index(items, *i),
                    _ => None,
                };
                match next {
                    Some(v) => current = v,
                    None => return Err(self.diagnose(doc)),
                }
            }
            return Ok(Selection::One(current));
        }
        if self.definite {
            // Only a trailing union of names is not simple: walk to it, then merge.
            let Some((Segment::Names(names), init)) = self.segments.split_last() else {
                return Err(self.diagnose(doc));
            };
            let mut current = doc;
            for segment in init {
                let next = match (segment, current) {
                    (Segment::Name(name), Value::Object(map)) => get(map, name),
                    (Segment::Index(i), Value::Array(items)) => index(items, *i),
                    _ => None,
                };
                match next {
                    Some(v) => current = v,
                    None => return Err(self.diagnose(doc)),
                }
            }
            let Value::Object(map) = current else {
                return Err(self.diagnose(doc));
            };
            let mut merged = Map::new();
            for name in names.iter() {
                if let Some(v) = map.get(&**name) {
                    merged.insert(name.to_string(), v.clone());
                }
            }
            return Ok(Selection::Owned(Value::Object(merged)));
        }
        let mut out = Vec::new();
        walk(&self.segments, doc, doc, &mut out);
        Ok(Selection::Many(out))
    }

    /// [`Path::select`], as an owned value (an indefinite result becomes an array).
    pub fn select_value(&self, doc: &Value) -> Result<Value, NotFound> {
        self.select(doc).map(Selection::into_value)
    }

    /// `true` if the path selects something in `doc` (Choice `IsPresent`). An indefinite
    /// path is present when it matches at least one node.
    pub fn is_present(&self, doc: &Value) -> bool {
        match self.select(doc) {
            Ok(Selection::Many(items)) => !items.is_empty(),
            Ok(_) => true,
            Err(_) => false,
        }
    }

    /// Writes `value` at this reference path inside `target` (`ResultPath`).
    ///
    /// `$` replaces the whole document. Missing intermediate objects are created and an
    /// existing field is overwritten. An index must name an existing array element. Any
    /// other shape fails with [`AssignError`] and leaves nothing half-written.
    pub fn assign(&self, target: Value, value: Value) -> Result<Value, AssignError> {
        if self.root != Root::Input {
            return Err(self.assign_error(&target));
        }
        if self.segments.is_empty() {
            return Ok(value);
        }
        if !self.can_assign(&target) {
            return Err(self.assign_error(&target));
        }
        let mut target = target;
        let mut current = &mut target;
        let last = self.segments.len() - 1;
        let mut value = Some(value);
        for (i, segment) in self.segments.iter().enumerate() {
            current = match (segment, current) {
                (Segment::Name(name), Value::Object(map)) => {
                    if i == last {
                        map.insert(name.to_string(), value.take().unwrap_or(Value::Null));
                        break;
                    }
                    map.entry(name.to_string())
                        .or_insert_with(|| Value::Object(Map::new()))
                }
                (Segment::Index(idx), Value::Array(items)) => {
                    let Some(slot) = usize::try_from(*idx).ok().and_then(|k| items.get_mut(k))
                    else {
                        break; // unreachable: checked by can_assign
                    };
                    if i == last {
                        *slot = value.take().unwrap_or(Value::Null);
                        break;
                    }
                    slot
                }
                _ => break, // unreachable: checked by can_assign
            };
        }
        Ok(target)
    }

    /// Checks, without writing, that [`Path::assign`] will succeed on `target`.
    fn can_assign(&self, target: &Value) -> bool {
        let mut current = Some(target);
        for segment in self.segments.iter() {
            match (segment, current) {
                // Below a missing property everything is created fresh: only names work.
                (Segment::Name(_), None) => {}
                (Segment::Name(name), Some(Value::Object(map))) => current = map.get(&**name),
                (Segment::Index(idx), Some(Value::Array(items))) => {
                    match usize::try_from(*idx).ok().and_then(|k| items.get(k)) {
                        Some(v) => current = Some(v),
                        None => return false,
                    }
                }
                _ => return false,
            }
        }
        true
    }

    fn assign_error(&self, target: &Value) -> AssignError {
        AssignError {
            path: self.text.to_string(),
            input: json::to_compact(target),
        }
    }

    /// Walks `doc` again to explain why a definite path matched nothing (cold path).
    fn diagnose(&self, doc: &Value) -> NotFound {
        let mut eval = String::from("$");
        let mut current = doc;
        let last = self.segments.len().saturating_sub(1);
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Name(name) => match current {
                    Value::Object(map) => {
                        render_segment(&mut eval, segment);
                        match map.get(&**name) {
                            Some(v) => current = v,
                            None if i == last => {
                                return NotFound::NoResults {
                                    path: self.normalized(),
                                };
                            }
                            None => return NotFound::MissingProperty { path: eval },
                        }
                    }
                    other => {
                        let mut property = String::new();
                        render_segment(&mut property, segment);
                        return NotFound::NotAnObject {
                            property,
                            path: eval,
                            found: json::java_class_name(other),
                        };
                    }
                },
                Segment::Names(_) => {
                    let mut property = String::new();
                    render_segment(&mut property, segment);
                    return NotFound::NotAnObject {
                        property,
                        path: eval,
                        found: json::java_class_name(current),
                    };
                }
                Segment::Index(idx) => match current {
                    Value::Null => return NotFound::NullArray { path: eval },
                    Value::Array(items) => match index(items, *idx) {
                        Some(v) => {
                            render_segment(&mut eval, segment);
                            current = v;
                        }
                        None => {
                            return NotFound::NoResults {
                                path: self.normalized(),
                            };
                        }
                    },
                    other => {
                        let mut filter = String::new();
                        render_segment(&mut filter, segment);
                        return NotFound::NotAnArray {
                            filter,
                            context: json::java_string(other),
                        };
                    }
                },
                _ => break,
            }
        }
        NotFound::NoResults {
            path: self.normalized(),
        }
    }
}

/// Object lookup. Small objects (the usual ASL payload) are scanned linearly: comparing a
/// few short keys is cheaper than hashing the key with SipHash (`benches/eval.rs`: 12 ns vs
/// 19 ns to find the last of 8 keys).
#[inline]
fn get<'v>(map: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    if map.len() <= 8 {
        map.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
    } else {
        map.get(key)
    }
}

/// Array lookup with Jayway's negative indices (`-1` is the last element).
#[inline]
fn index(items: &[Value], i: i64) -> Option<&Value> {
    let k = if i < 0 {
        i64::try_from(items.len()).ok()?.checked_add(i)?
    } else {
        i
    };
    usize::try_from(k).ok().and_then(|k| items.get(k))
}

fn slice_bounds(len: usize, start: Option<i64>, end: Option<i64>) -> (usize, usize) {
    let len_i = i64::try_from(len).unwrap_or(i64::MAX);
    let clamp = |v: i64| -> usize {
        let v = if v < 0 { len_i.saturating_add(v) } else { v };
        usize::try_from(v.clamp(0, len_i)).unwrap_or(0)
    };
    let s = start.map_or(0, clamp);
    let e = end.map_or(len, clamp);
    if s >= e { (0, 0) } else { (s, e) }
}

/// Collects every node `segments` reaches from `node` (indefinite evaluation: anything that
/// does not match is skipped).
fn walk<'v>(segments: &[Segment], node: &'v Value, root: &'v Value, out: &mut Vec<&'v Value>) {
    let Some((segment, rest)) = segments.split_first() else {
        out.push(node);
        return;
    };
    match segment {
        Segment::Name(name) => {
            if let Value::Object(map) = node
                && let Some(v) = get(map, name)
            {
                walk(rest, v, root, out);
            }
        }
        Segment::Names(names) => {
            if let Value::Object(map) = node {
                for name in names.iter() {
                    if let Some(v) = map.get(&**name) {
                        walk(rest, v, root, out);
                    }
                }
            }
        }
        Segment::Index(i) => {
            if let Value::Array(items) = node
                && let Some(v) = index(items, *i)
            {
                walk(rest, v, root, out);
            }
        }
        Segment::Indices(indices) => {
            if let Value::Array(items) = node {
                for i in indices.iter() {
                    if let Some(v) = index(items, *i) {
                        walk(rest, v, root, out);
                    }
                }
            }
        }
        Segment::Slice { start, end } => {
            if let Value::Array(items) = node {
                let (s, e) = slice_bounds(items.len(), *start, *end);
                for v in &items[s..e] {
                    walk(rest, v, root, out);
                }
            }
        }
        Segment::Wildcard => match node {
            Value::Object(map) => {
                for v in map.values() {
                    walk(rest, v, root, out);
                }
            }
            Value::Array(items) => {
                for v in items {
                    walk(rest, v, root, out);
                }
            }
            _ => {}
        },
        Segment::Descend => {
            if let Some((Segment::Filter(filter), after)) = rest.split_first() {
                // `..[?(...)]`: test every node below once (testing arrays element-wise as
                // well would report each element twice).
                descend_filter(filter, after, node, root, out);
            } else {
                descend(rest, node, root, out);
            }
        }
        Segment::Filter(filter) => match node {
            Value::Array(items) => {
                for v in items {
                    if filter.test(v, root) {
                        walk(rest, v, root, out);
                    }
                }
            }
            // Jayway applies a filter on an object to the object itself.
            Value::Object(_) if filter.test(node, root) => walk(rest, node, root, out),
            _ => {}
        },
    }
}

/// Applies `segments` to `node` and to every node below it, in document order.
fn descend<'v>(segments: &[Segment], node: &'v Value, root: &'v Value, out: &mut Vec<&'v Value>) {
    walk(segments, node, root, out);
    match node {
        Value::Object(map) => {
            for v in map.values() {
                descend(segments, v, root, out);
            }
        }
        Value::Array(items) => {
            for v in items {
                descend(segments, v, root, out);
            }
        }
        _ => {}
    }
}

fn descend_filter<'v>(
    filter: &Filter,
    after: &[Segment],
    node: &'v Value,
    root: &'v Value,
    out: &mut Vec<&'v Value>,
) {
    let children: Box<dyn Iterator<Item = &'v Value>> = match node {
        Value::Object(map) => Box::new(map.values()),
        Value::Array(items) => Box::new(items.iter()),
        _ => return,
    };
    for child in children {
        if filter.test(child, root) {
            walk(after, child, root, out);
        }
        descend_filter(filter, after, child, root, out);
    }
}

fn render_segment(out: &mut String, segment: &Segment) {
    match segment {
        Segment::Name(name) => {
            out.push_str("['");
            out.push_str(name);
            out.push_str("']");
        }
        Segment::Names(names) => {
            out.push('[');
            for (i, name) in names.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push('\'');
                out.push_str(name);
                out.push('\'');
            }
            out.push(']');
        }
        Segment::Index(i) => {
            out.push('[');
            out.push_str(&i.to_string());
            out.push(']');
        }
        Segment::Indices(indices) => {
            out.push('[');
            for (k, i) in indices.iter().enumerate() {
                if k > 0 {
                    out.push(',');
                }
                out.push_str(&i.to_string());
            }
            out.push(']');
        }
        Segment::Slice { start, end } => {
            out.push('[');
            if let Some(s) = start {
                out.push_str(&s.to_string());
            }
            out.push(':');
            if let Some(e) = end {
                out.push_str(&e.to_string());
            }
            out.push(']');
        }
        Segment::Wildcard => out.push_str("[*]"),
        Segment::Descend => out.push_str(".."),
        Segment::Filter(filter) => {
            out.push_str("[?(");
            out.push_str(&filter.text);
            out.push_str(")]");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Filters
// ---------------------------------------------------------------------------------------

/// A compiled `[?(...)]` filter.
#[derive(Debug, Clone)]
pub(crate) struct Filter {
    text: Box<str>,
    expr: FilterExpr,
}

#[derive(Debug, Clone)]
enum FilterExpr {
    Or(Box<[FilterExpr]>),
    And(Box<[FilterExpr]>),
    Not(Box<FilterExpr>),
    Exists(Operand),
    Compare {
        left: Operand,
        op: CompareOp,
        right: Operand,
    },
    Matches {
        left: Operand,
        regex: Box<regress::Regex>,
    },
}

#[derive(Debug, Clone)]
enum Operand {
    /// `@...`: relative to the node under test.
    Current(Box<[Segment]>),
    /// `$...`: relative to the document root.
    Root(Box<[Segment]>),
    Literal(Value),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Filter {
    fn test(&self, node: &Value, root: &Value) -> bool {
        self.expr.test(node, root)
    }
}

impl FilterExpr {
    fn test(&self, node: &Value, root: &Value) -> bool {
        match self {
            FilterExpr::Or(items) => items.iter().any(|e| e.test(node, root)),
            FilterExpr::And(items) => items.iter().all(|e| e.test(node, root)),
            FilterExpr::Not(inner) => !inner.test(node, root),
            FilterExpr::Exists(operand) => operand.resolve(node, root).is_some(),
            FilterExpr::Compare { left, op, right } => {
                let l = left.resolve(node, root);
                let r = right.resolve(node, root);
                compare(l.as_deref(), *op, r.as_deref())
            }
            FilterExpr::Matches { left, regex } => match left.resolve(node, root).as_deref() {
                Some(Value::String(s)) => regex.find(s).is_some(),
                _ => false,
            },
        }
    }
}

impl Operand {
    /// The operand's value; `None` when a path finds nothing (Jayway's "undefined").
    fn resolve<'v>(&'v self, node: &'v Value, root: &'v Value) -> Option<Cow<'v, Value>> {
        let (segments, start) = match self {
            Operand::Literal(v) => return Some(Cow::Borrowed(v)),
            Operand::Current(segments) => (segments, node),
            Operand::Root(segments) => (segments, root),
        };
        let definite = segments
            .iter()
            .all(|s| matches!(s, Segment::Name(_) | Segment::Index(_)));
        if definite {
            let mut current = start;
            for segment in segments.iter() {
                current = match (segment, current) {
                    (Segment::Name(name), Value::Object(map)) => get(map, name)?,
                    (Segment::Index(i), Value::Array(items)) => index(items, *i)?,
                    _ => return None,
                };
            }
            Some(Cow::Borrowed(current))
        } else {
            let mut out = Vec::new();
            walk(segments, start, root, &mut out);
            Some(Cow::Owned(Value::Array(out.into_iter().cloned().collect())))
        }
    }
}

/// Jayway's relational operators: numbers compare numerically, strings in Java order; any
/// other pair is only ever (un)equal. A missing operand equals nothing.
fn compare(left: Option<&Value>, op: CompareOp, right: Option<&Value>) -> bool {
    use std::cmp::Ordering;
    let (Some(l), Some(r)) = (left, right) else {
        return op == CompareOp::Ne;
    };
    let ordering = match (l, r) {
        (Value::Number(a), Value::Number(b)) => a
            .as_f64()
            .zip(b.as_f64())
            .and_then(|(x, y)| x.partial_cmp(&y)),
        (Value::String(a), Value::String(b)) => Some(json::java_compare_strings(a, b)),
        _ => None,
    };
    match op {
        CompareOp::Eq => ordering.map_or_else(|| loose_equals(l, r), |o| o == Ordering::Equal),
        CompareOp::Ne => !ordering.map_or_else(|| loose_equals(l, r), |o| o == Ordering::Equal),
        CompareOp::Lt => ordering == Some(Ordering::Less),
        CompareOp::Le => matches!(ordering, Some(Ordering::Less | Ordering::Equal)),
        CompareOp::Gt => ordering == Some(Ordering::Greater),
        CompareOp::Ge => matches!(ordering, Some(Ordering::Greater | Ordering::Equal)),
    }
}

/// Deep equality with numbers compared by value (`1 == 1.0`).
fn loose_equals(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| loose_equals(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| loose_equals(v, w)))
        }
        _ => a == b,
    }
}

// ---------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------

struct Parser<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// Inside a filter, a dot-name also ends at blanks, `)` and operator characters.
    in_filter: bool,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str, in_filter: bool) -> Self {
        Parser {
            src,
            bytes: src.as_bytes(),
            pos: 0,
            in_filter,
        }
    }

    fn error(&self, message: impl Into<String>) -> PathError {
        PathError::new(self.src, self.pos, message)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<u8> {
        self.bytes.get(self.pos + offset).copied()
    }

    fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), PathError> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(format!("expected '{}'", byte as char)))
        }
    }

    fn root(&mut self) -> Result<Root, PathError> {
        if self.peek() != Some(b'$') {
            return Err(self.error("a path must start with '$'"));
        }
        self.pos += 1;
        match self.peek() {
            Some(b'$') => {
                self.pos += 1;
                Ok(Root::Context)
            }
            Some(b) if b.is_ascii_alphabetic() || b == b'_' => {
                let start = self.pos;
                while matches!(self.peek(), Some(b) if b.is_ascii_alphanumeric() || b == b'_') {
                    self.pos += 1;
                }
                Ok(Root::Variable(self.src[start..self.pos].into()))
            }
            _ => Ok(Root::Input),
        }
    }

    fn segments(&mut self) -> Result<Vec<Segment>, PathError> {
        let mut segments = Vec::new();
        while let Some(b) = self.peek() {
            match b {
                b'.' if self.peek_at(1) == Some(b'.') => {
                    self.pos += 2;
                    segments.push(Segment::Descend);
                    let target = match self.peek() {
                        Some(b'[') => self.bracket()?,
                        Some(b'*') => {
                            self.pos += 1;
                            Segment::Wildcard
                        }
                        _ => Segment::Name(self.dot_name()?),
                    };
                    segments.push(target);
                }
                b'.' => {
                    self.pos += 1;
                    let segment = match self.peek() {
                        Some(b'[') => self.bracket()?,
                        Some(b'*') => {
                            self.pos += 1;
                            Segment::Wildcard
                        }
                        _ => Segment::Name(self.dot_name()?),
                    };
                    segments.push(segment);
                }
                b'[' => segments.push(self.bracket()?),
                _ if self.in_filter => break,
                _ => return Err(self.error("Could not parse token")),
            }
        }
        Ok(segments)
    }

    fn dot_name(&mut self) -> Result<Box<str>, PathError> {
        let start = self.pos;
        while let Some(b) = self.peek() {
            match b {
                b'.' | b'[' => break,
                b' ' | b')' | b'=' | b'!' | b'<' | b'>' | b'&' | b'|' | b',' | b'\t'
                    if self.in_filter =>
                {
                    break;
                }
                b' ' => {
                    return Err(self.error(
                        "Use bracket notation ['my prop'] if your property contains blank characters",
                    ));
                }
                b'(' => return Err(self.error("functions are not supported in paths")),
                _ => self.pos += 1,
            }
        }
        if start == self.pos {
            return Err(self.error("Path must not end with a '.' or '..'"));
        }
        Ok(self.src[start..self.pos].into())
    }

    fn bracket(&mut self) -> Result<Segment, PathError> {
        self.expect(b'[')?;
        self.skip_blanks();
        let segment = match self.peek() {
            Some(b'?') => {
                self.pos += 1;
                self.skip_blanks();
                self.expect(b'(')?;
                let start = self.pos;
                let end = self.filter_end()?;
                let text = &self.src[start..end];
                let expr = parse_filter(self.src, start, text)?;
                self.pos = end + 1;
                Segment::Filter(Box::new(Filter {
                    text: text.into(),
                    expr,
                }))
            }
            Some(b'*') => {
                self.pos += 1;
                Segment::Wildcard
            }
            Some(q @ (b'\'' | b'"')) => {
                let mut names = vec![self.quoted(q)?];
                loop {
                    self.skip_blanks();
                    if self.peek() == Some(b',') {
                        self.pos += 1;
                        self.skip_blanks();
                        match self.peek() {
                            Some(q @ (b'\'' | b'"')) => names.push(self.quoted(q)?),
                            _ => return Err(self.error("expected a quoted property name")),
                        }
                    } else {
                        break;
                    }
                }
                if names.len() == 1 {
                    Segment::Name(names.pop().unwrap_or_default())
                } else {
                    Segment::Names(names.into_boxed_slice())
                }
            }
            Some(b'-' | b'0'..=b'9' | b':') => self.indices()?,
            _ => return Err(self.error("Could not parse token")),
        };
        self.skip_blanks();
        if self.peek() != Some(b']') {
            return Err(self.error("expected ']'"));
        }
        self.pos += 1;
        Ok(segment)
    }

    /// A quoted name, taken verbatim; a backslash only keeps the next character from
    /// closing the quote.
    fn quoted(&mut self, quote: u8) -> Result<Box<str>, PathError> {
        self.pos += 1;
        let start = self.pos;
        loop {
            match self.peek() {
                None => {
                    return Err(self.error(format!(
                        "Property has not been closed - missing closing {}",
                        quote as char
                    )));
                }
                Some(b'\\') => self.pos += 2,
                Some(b) if b == quote => break,
                Some(_) => self.pos += 1,
            }
        }
        let name = self.src[start..self.pos].into();
        self.pos += 1;
        Ok(name)
    }

    fn indices(&mut self) -> Result<Segment, PathError> {
        let start = self.pos;
        let Some(len) = self.src[start..].find(']') else {
            return Err(self.error("expected ']'"));
        };
        let content = &self.src[start..start + len];
        self.pos = start + len;
        let number = |s: &str| -> Result<i64, PathError> {
            let s = s.trim();
            if s.starts_with('+') {
                return Err(PathError::new(
                    self.src,
                    start,
                    format!("invalid array index '{s}'"),
                ));
            }
            s.parse::<i64>()
                .map_err(|_| PathError::new(self.src, start, format!("invalid array index '{s}'")))
        };
        if content.contains(':') {
            let parts: Vec<&str> = content.split(':').collect();
            if parts.len() != 2 {
                return Err(PathError::new(
                    self.src,
                    start,
                    "array slices with a step are not supported",
                ));
            }
            let bound = |s: &str| -> Result<Option<i64>, PathError> {
                if s.trim().is_empty() {
                    Ok(None)
                } else {
                    number(s).map(Some)
                }
            };
            Ok(Segment::Slice {
                start: bound(parts[0])?,
                end: bound(parts[1])?,
            })
        } else if content.contains(',') {
            let indices = content
                .split(',')
                .map(number)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Segment::Indices(indices.into_boxed_slice()))
        } else {
            Ok(Segment::Index(number(content)?))
        }
    }

    /// Position of the `)` closing a filter that starts at `self.pos`.
    fn filter_end(&self) -> Result<usize, PathError> {
        let mut depth = 1usize;
        let mut i = self.pos;
        let mut after_tilde = false;
        while let Some(&b) = self.bytes.get(i) {
            match b {
                b'\'' | b'"' => {
                    i += 1;
                    while let Some(&c) = self.bytes.get(i) {
                        if c == b'\\' {
                            i += 1;
                        } else if c == b {
                            break;
                        }
                        i += 1;
                    }
                }
                b'/' if after_tilde => {
                    i += 1;
                    while let Some(&c) = self.bytes.get(i) {
                        if c == b'\\' {
                            i += 1;
                        } else if c == b'/' {
                            break;
                        }
                        i += 1;
                    }
                }
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(i);
                    }
                }
                _ => {}
            }
            if !b.is_ascii_whitespace() {
                after_tilde = b == b'~';
            }
            i += 1;
        }
        Err(PathError::new(
            self.src,
            self.pos,
            "filter is not closed with ')'",
        ))
    }
}

/// Parses the text between `[?(` and `)]`.
fn parse_filter(path: &str, offset: usize, text: &str) -> Result<FilterExpr, PathError> {
    let mut parser = FilterParser {
        path,
        offset,
        inner: Parser::new(text, true),
    };
    let expr = parser.or()?;
    parser.inner.skip_blanks();
    if parser.inner.pos < text.len() {
        return Err(parser.error("unexpected text in filter"));
    }
    Ok(expr)
}

struct FilterParser<'a> {
    path: &'a str,
    offset: usize,
    inner: Parser<'a>,
}

impl FilterParser<'_> {
    fn error(&self, message: impl Into<String>) -> PathError {
        PathError::new(self.path, self.offset + self.inner.pos, message)
    }

    fn eat(&mut self, token: &str) -> bool {
        self.inner.skip_blanks();
        if self.inner.src[self.inner.pos..].starts_with(token) {
            self.inner.pos += token.len();
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Result<FilterExpr, PathError> {
        let mut items = vec![self.and()?];
        while self.eat("||") {
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap_or(FilterExpr::Or(Box::new([])))
        } else {
            FilterExpr::Or(items.into_boxed_slice())
        })
    }

    fn and(&mut self) -> Result<FilterExpr, PathError> {
        let mut items = vec![self.unary()?];
        while self.eat("&&") {
            items.push(self.unary()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap_or(FilterExpr::And(Box::new([])))
        } else {
            FilterExpr::And(items.into_boxed_slice())
        })
    }

    fn unary(&mut self) -> Result<FilterExpr, PathError> {
        if self.eat("!") {
            return Ok(FilterExpr::Not(Box::new(self.unary()?)));
        }
        if self.eat("(") {
            let inner = self.or()?;
            if !self.eat(")") {
                return Err(self.error("expected ')'"));
            }
            return Ok(inner);
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<FilterExpr, PathError> {
        let left = self.operand()?;
        const OPS: [(&str, Option<CompareOp>); 7] = [
            ("==", Some(CompareOp::Eq)),
            ("!=", Some(CompareOp::Ne)),
            ("<=", Some(CompareOp::Le)),
            (">=", Some(CompareOp::Ge)),
            ("=~", None),
            ("<", Some(CompareOp::Lt)),
            (">", Some(CompareOp::Gt)),
        ];
        for (token, op) in OPS {
            if self.eat(token) {
                return match op {
                    Some(op) => Ok(FilterExpr::Compare {
                        left,
                        op,
                        right: self.operand()?,
                    }),
                    None => Ok(FilterExpr::Matches {
                        left,
                        regex: Box::new(self.regex()?),
                    }),
                };
            }
        }
        match left {
            Operand::Literal(_) => Err(self.error("a literal cannot be used as a condition")),
            path => Ok(FilterExpr::Exists(path)),
        }
    }

    fn operand(&mut self) -> Result<Operand, PathError> {
        self.inner.skip_blanks();
        match self.inner.peek() {
            Some(b'@') => {
                self.inner.pos += 1;
                Ok(Operand::Current(self.inner.segments()?.into_boxed_slice()))
            }
            Some(b'$') => {
                self.inner.pos += 1;
                Ok(Operand::Root(self.inner.segments()?.into_boxed_slice()))
            }
            Some(q @ (b'\'' | b'"')) => {
                let raw = self.inner.quoted(q)?;
                Ok(Operand::Literal(Value::String(unescape_filter_string(
                    &raw,
                ))))
            }
            Some(b'-' | b'0'..=b'9') => {
                let start = self.inner.pos;
                while matches!(
                    self.inner.peek(),
                    Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                ) {
                    self.inner.pos += 1;
                }
                let token = &self.inner.src[start..self.inner.pos];
                serde_json::from_str::<serde_json::Number>(token)
                    .map(|n| Operand::Literal(Value::Number(n)))
                    .map_err(|_| self.error(format!("invalid number '{token}'")))
            }
            _ => {
                for (word, value) in [
                    ("true", Value::Bool(true)),
                    ("false", Value::Bool(false)),
                    ("null", Value::Null),
                ] {
                    if self.inner.src[self.inner.pos..].starts_with(word) {
                        self.inner.pos += word.len();
                        return Ok(Operand::Literal(value));
                    }
                }
                Err(self.error("expected '@', '$', or a literal"))
            }
        }
    }

    /// `/pattern/flags`, matched against the whole string like Java's `Matcher.matches()`.
    fn regex(&mut self) -> Result<regress::Regex, PathError> {
        self.inner.skip_blanks();
        if self.inner.peek() != Some(b'/') {
            return Err(self.error("expected a regular expression like /pattern/"));
        }
        self.inner.pos += 1;
        let start = self.inner.pos;
        loop {
            match self.inner.peek() {
                None => return Err(self.error("regular expression is not closed with '/'")),
                Some(b'\\') => self.inner.pos += 2,
                Some(b'/') => break,
                Some(_) => self.inner.pos += 1,
            }
        }
        let pattern = &self.inner.src[start..self.inner.pos];
        self.inner.pos += 1;
        let flag_start = self.inner.pos;
        while matches!(self.inner.peek(), Some(b'a'..=b'z')) {
            self.inner.pos += 1;
        }
        let flags = &self.inner.src[flag_start..self.inner.pos];
        if let Some(bad) = flags.chars().find(|c| !matches!(c, 'i' | 'm' | 's')) {
            return Err(self.error(format!("unsupported regular expression flag '{bad}'")));
        }
        regress::Regex::with_flags(&format!("^(?:{pattern})$"), flags)
            .map_err(|e| self.error(format!("invalid regular expression: {e}")))
    }
}

fn unescape_filter_string(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests;
