//! Static analysis and rewriting of a parsed expression.
//!
//! Analysis finds what the evaluator and the validator need to know without running anything:
//! the workflow variables an expression reads, the names it reads from the (absent) top-level
//! context (which AWS refuses), the `$states` fields it reads, whether it calls the impure
//! functions, and its regex literals.
//!
//! Top-level rules, as measured against AWS by others and recorded in the project notes: only the
//! first step of a path reads the top-level context; later steps, predicates, sort terms, group-by
//! bodies and transforms read the value before them. A lambda body keeps the context of the
//! expression that defines it. Object constructor keys are read at the top level too.

use jsonata_core::ast::{AstNode, BinaryOp, PathStep, Stage};
use jsonata_core::value::with_stack;

/// Functions AWS adds to JSONata; calls to them are not variable reads.
pub(crate) const ASL_FUNCTIONS: &[&str] =
    &["partition", "range", "hash", "random", "uuid", "parse"];

/// jsonata-js 2.0.6's built-in functions.
const BUILTIN_FUNCTIONS: &[&str] = &[
    "sum",
    "count",
    "max",
    "min",
    "average",
    "string",
    "substring",
    "substringBefore",
    "substringAfter",
    "lowercase",
    "uppercase",
    "length",
    "trim",
    "pad",
    "match",
    "contains",
    "replace",
    "split",
    "join",
    "formatNumber",
    "formatBase",
    "formatInteger",
    "parseInteger",
    "number",
    "floor",
    "ceil",
    "round",
    "abs",
    "sqrt",
    "power",
    "random",
    "boolean",
    "not",
    "map",
    "zip",
    "filter",
    "single",
    "reduce",
    "sift",
    "keys",
    "lookup",
    "append",
    "exists",
    "spread",
    "merge",
    "reverse",
    "each",
    "error",
    "assert",
    "type",
    "sort",
    "shuffle",
    "distinct",
    "base64encode",
    "base64decode",
    "encodeUrlComponent",
    "encodeUrl",
    "decodeUrlComponent",
    "decodeUrl",
    "eval",
    "toMillis",
    "fromMillis",
    "clone",
    "now",
    "millis",
];

/// The regex functions replaced by host functions, with the minimum number of arguments below
/// which jsonata-js fills the first (`s-` in their signatures) from the context.
pub(crate) const REGEX_FUNCTIONS: &[(&str, usize)] =
    &[("match", 2), ("contains", 2), ("split", 2), ("replace", 3)];

/// Host-function names for the regex functions that jsonata-core refuses to let us override
/// (they run on its bytecode fast path), so calls to them are renamed instead.
pub(crate) fn renamed(name: &str) -> Option<&'static str> {
    match name {
        "contains" => Some("__ironstep_contains"),
        "split" => Some("__ironstep_split"),
        _ => None,
    }
}

fn is_function_name(name: &str) -> bool {
    BUILTIN_FUNCTIONS.contains(&name) || ASL_FUNCTIONS.contains(&name)
}

/// What analysis found.
#[derive(Debug, Default)]
pub(crate) struct Facts {
    /// Workflow variables read, in first-use order, without duplicates.
    pub variables: Vec<String>,
    /// Names read from the top-level context (`$` for the context itself), in order.
    pub top_level: Vec<String>,
    /// Whether `$$` appears anywhere.
    pub root_reference: bool,
    /// `$states` is read as a whole (not only through `$states.<name>`).
    pub states_all: bool,
    /// `$states` fields read by name.
    pub states_fields: Vec<String>,
    /// Calls `$random` or `$uuid`.
    pub uses_randomness: bool,
    /// Regex literals: (pattern, flags).
    pub regexes: Vec<(String, String)>,
    /// Every name bound anywhere inside (`:=`, parameters, `@$x`, `#$i`).
    pub locally_bound: Vec<String>,
    /// Every `$name` read or called, bound or not (to know which host functions to register).
    pub names: Vec<String>,
}

pub(crate) fn analyze(ast: &AstNode) -> Facts {
    let mut a = Analyzer {
        facts: Facts::default(),
        scopes: vec![Vec::new()],
    };
    a.walk(ast, true);
    a.facts
}

struct Analyzer {
    facts: Facts,
    scopes: Vec<Vec<String>>,
}

impl Analyzer {
    fn is_bound(&self, name: &str) -> bool {
        self.scopes.iter().any(|s| s.iter().any(|n| n == name))
    }

    fn bind(&mut self, name: &str) {
        if let Some(top) = self.scopes.last_mut() {
            top.push(name.to_owned());
        }
        push_unique(&mut self.facts.locally_bound, name);
    }

    fn read_variable(&mut self, name: &str) {
        push_unique(&mut self.facts.names, name);
        if name == "random" || name == "uuid" {
            self.facts.uses_randomness = true;
        }
        if name.is_empty() || name == "states" || self.is_bound(name) {
            return;
        }
        if is_function_name(name) {
            return;
        }
        push_unique(&mut self.facts.variables, name);
    }

    fn walk(&mut self, node: &AstNode, top: bool) {
        with_stack(|| self.walk_inner(node, top));
    }

    fn walk_inner(&mut self, node: &AstNode, top: bool) {
        match node {
            AstNode::Variable(name) => {
                if name.is_empty() {
                    if top {
                        push_unique(&mut self.facts.top_level, "$");
                    }
                } else {
                    if name == "states" {
                        self.states_field(None);
                    }
                    self.read_variable(name);
                }
            }
            AstNode::ParentVariable(_) => self.facts.root_reference = true,
            AstNode::Regex { pattern, flags } => {
                self.facts.regexes.push((pattern.clone(), flags.clone()));
            }
            AstNode::Path { steps } => self.walk_path(steps, top),
            AstNode::Binary { op, lhs, rhs } => {
                if *op == BinaryOp::ColonEqual {
                    // `$f := function(){ $f() }` sees itself; `$x := $x + 1` reads the outer one.
                    let name = match lhs.as_ref() {
                        AstNode::Variable(n) => Some(n.as_str()),
                        _ => None,
                    };
                    let is_lambda = matches!(rhs.as_ref(), AstNode::Lambda { .. });
                    if let (Some(n), true) = (name, is_lambda) {
                        self.bind(n);
                    }
                    self.walk(rhs, top);
                    if let (Some(n), false) = (name, is_lambda) {
                        self.bind(n);
                    }
                    if name.is_none() {
                        self.walk(lhs, top);
                    }
                } else {
                    self.walk(lhs, top);
                    self.walk(rhs, top);
                }
            }
            AstNode::Unary { operand, .. } => self.walk(operand, top),
            AstNode::Function { name, args, .. } => {
                self.read_variable(name);
                for arg in args {
                    self.walk(arg, top);
                }
            }
            AstNode::Call { procedure, args } => {
                self.walk(procedure, top);
                for arg in args {
                    self.walk(arg, top);
                }
            }
            AstNode::Lambda { params, body, .. } => {
                self.scopes.push(Vec::new());
                for p in params {
                    self.bind(p);
                }
                self.walk(body, top);
                self.scopes.pop();
            }
            AstNode::Array(items) | AstNode::ArrayGroup(items) => {
                for item in items {
                    self.walk(item, top);
                }
            }
            AstNode::Block(items) => {
                self.scopes.push(Vec::new());
                for item in items {
                    self.walk(item, top);
                }
                self.scopes.pop();
            }
            AstNode::Object(pairs) => {
                for (k, v) in pairs {
                    self.walk(k, top);
                    self.walk(v, top);
                }
            }
            AstNode::ObjectTransform { input, pattern } => {
                self.walk(input, top);
                for (k, v) in pattern {
                    self.walk(k, false);
                    self.walk(v, false);
                }
            }
            AstNode::Conditional {
                condition,
                then_branch,
                else_branch,
            } => {
                self.walk(condition, top);
                self.walk(then_branch, top);
                if let Some(e) = else_branch {
                    self.walk(e, top);
                }
            }
            AstNode::FunctionApplication(inner) => self.walk(inner, false),
            AstNode::Sort { input, terms } => {
                self.walk(input, top);
                for (t, _) in terms {
                    self.walk(t, false);
                }
            }
            AstNode::Transform {
                location,
                update,
                delete,
            } => {
                self.walk(location, false);
                self.walk(update, false);
                if let Some(d) = delete {
                    self.walk(d, false);
                }
            }
            AstNode::String(_)
            | AstNode::Name(_)
            | AstNode::Number(_)
            | AstNode::Boolean(_)
            | AstNode::Null
            | AstNode::Undefined
            | AstNode::Placeholder
            | AstNode::Wildcard
            | AstNode::Descendant
            | AstNode::Parent(_) => {}
        }
    }

    fn walk_path(&mut self, steps: &[PathStep], top: bool) {
        self.scopes.push(Vec::new());
        if let (Some(AstNode::Variable(v)), Some(second)) =
            (steps.first().map(|s| &s.node), steps.get(1))
            && v == "states"
        {
            let field = match &second.node {
                AstNode::Name(n) => Some(n.as_str()),
                _ => None,
            };
            self.states_field(field);
        }
        for (i, step) in steps.iter().enumerate() {
            let step_top = top && i == 0;
            match &step.node {
                AstNode::Name(n) if step_top => push_unique(&mut self.facts.top_level, n),
                AstNode::Variable(v) if i == 0 && v == "states" && steps.len() > 1 => {}
                other => self.walk(other, step_top),
            }
            if let Some(f) = &step.focus {
                self.bind(f);
            }
            if let Some(ix) = &step.index_var {
                self.bind(ix);
            }
            for stage in &step.stages {
                match stage {
                    Stage::Filter(f) => self.walk(f, false),
                    Stage::Index(ix) => self.bind(ix),
                    Stage::KeepArray => {}
                }
            }
        }
        self.scopes.pop();
    }

    fn states_field(&mut self, field: Option<&str>) {
        match field {
            None => self.facts.states_all = true,
            Some(name) => push_unique(&mut self.facts.states_fields, name),
        }
    }
}

fn push_unique(list: &mut Vec<String>, name: &str) {
    if !list.iter().any(|n| n == name) {
        list.push(name.to_owned());
    }
}

/// Points the regex functions at our host functions: renames `$contains`/`$split` calls (which
/// jsonata-core will not let us override) and, where a call leaves out the string argument that
/// jsonata-js takes from the context, passes the context (`$`) explicitly, since host functions
/// do not see it. Names the expression binds itself are left alone.
pub(crate) fn rewrite_regex_calls(node: &mut AstNode, locally_bound: &[String]) {
    rewrite(node, locally_bound, false);
}

/// `chained`: the node is the right-hand side of `~>`, whose left side becomes the call's first
/// argument, so no context argument is missing.
fn rewrite(node: &mut AstNode, locally_bound: &[String], chained: bool) {
    with_stack(|| {
        if let AstNode::Function { name, args, .. } = node
            && !locally_bound.iter().any(|b| b == name)
            && let Some((_, min)) = REGEX_FUNCTIONS.iter().find(|(n, _)| n == name)
        {
            if !chained && args.len() + 1 == *min {
                args.insert(0, AstNode::Variable(String::new()));
            }
            if let Some(new_name) = renamed(name) {
                *name = new_name.to_owned();
            }
        }
        if let AstNode::Binary {
            op: BinaryOp::ChainPipe,
            lhs,
            rhs,
        } = node
        {
            rewrite(lhs, locally_bound, false);
            rewrite(rhs, locally_bound, true);
            return;
        }
        for_each_child_mut(node, &mut |child| rewrite(child, locally_bound, false));
    });
}

fn for_each_child_mut(node: &mut AstNode, f: &mut dyn FnMut(&mut AstNode)) {
    match node {
        AstNode::Path { steps } => {
            for step in steps {
                f(&mut step.node);
                for stage in &mut step.stages {
                    if let Stage::Filter(x) = stage {
                        f(x);
                    }
                }
            }
        }
        AstNode::Binary { lhs, rhs, .. } => {
            f(lhs);
            f(rhs);
        }
        AstNode::Unary { operand, .. } => f(operand),
        AstNode::Function { args, .. } => args.iter_mut().for_each(f),
        AstNode::Call { procedure, args } => {
            f(procedure);
            args.iter_mut().for_each(f);
        }
        AstNode::Lambda { body, .. } => f(body),
        AstNode::Array(items) | AstNode::ArrayGroup(items) | AstNode::Block(items) => {
            items.iter_mut().for_each(f)
        }
        AstNode::Object(pairs) => {
            for (k, v) in pairs {
                f(k);
                f(v);
            }
        }
        AstNode::ObjectTransform { input, pattern } => {
            f(input);
            for (k, v) in pattern {
                f(k);
                f(v);
            }
        }
        AstNode::Conditional {
            condition,
            then_branch,
            else_branch,
        } => {
            f(condition);
            f(then_branch);
            if let Some(e) = else_branch {
                f(e);
            }
        }
        AstNode::FunctionApplication(inner) => f(inner),
        AstNode::Sort { input, terms } => {
            f(input);
            for (t, _) in terms {
                f(t);
            }
        }
        AstNode::Transform {
            location,
            update,
            delete,
        } => {
            f(location);
            f(update);
            if let Some(d) = delete {
                f(d);
            }
        }
        _ => {}
    }
}
