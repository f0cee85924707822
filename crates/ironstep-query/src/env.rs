//! The evaluation environment: what paths, intrinsic functions and templates read.

use std::cell::OnceCell;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde_json::{Map, Value};

use crate::Entropy;
use crate::path::{Path, Root};

/// Supplies the context object (`$$`). The interpreter builds it only when asked, so a state
/// whose templates never mention `$$` pays nothing for it (see [`LazyContext`]).
pub trait ContextObject {
    /// The context object.
    fn context_object(&self) -> &Value;

    /// A document holding at least the top-level member `name` (`Execution`, `Map`, ...) of the
    /// context object. A lazy implementation can build just that member, so that
    /// `$$.Map.Item.Value` does not copy the execution input for every Map item.
    fn context_member(&self, name: &str) -> &Value {
        let _ = name;
        self.context_object()
    }
}

impl ContextObject for Value {
    fn context_object(&self) -> &Value {
        self
    }
}

/// A context object built on first use by a closure.
pub struct LazyContext<F: Fn() -> Value> {
    cell: OnceCell<Value>,
    build: F,
}

impl<F: Fn() -> Value> LazyContext<F> {
    /// Wraps the builder; nothing is built yet.
    pub fn new(build: F) -> Self {
        LazyContext {
            cell: OnceCell::new(),
            build,
        }
    }

    /// `true` once something has asked for the context object.
    pub fn is_built(&self) -> bool {
        self.cell.get().is_some()
    }
}

impl<F: Fn() -> Value> ContextObject for LazyContext<F> {
    fn context_object(&self) -> &Value {
        self.cell.get_or_init(&self.build)
    }
}

impl<F: Fn() -> Value> fmt::Debug for LazyContext<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LazyContext")
            .field("built", &self.cell.get())
            .finish()
    }
}

/// Looks up workflow variables by name.
pub trait Variables {
    /// The variable's value, or `None` if it was never assigned.
    fn variable(&self, name: &str) -> Option<&Value>;
}

/// No variables at all.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoVariables;

impl Variables for NoVariables {
    fn variable(&self, _name: &str) -> Option<&Value> {
        None
    }
}

impl Variables for Map<String, Value> {
    fn variable(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

impl<S: std::hash::BuildHasher> Variables for HashMap<String, Value, S> {
    fn variable(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

impl Variables for BTreeMap<String, Value> {
    fn variable(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

/// Stands in for the context object when the caller supplies none: `$$` paths then find
/// nothing.
static NO_CONTEXT: Value = Value::Null;

/// Everything an evaluation may read, plus the randomness `States.UUID` and
/// `States.MathRandom` draw from.
pub struct Env<'a> {
    input: &'a Value,
    context: &'a dyn ContextObject,
    variables: &'a dyn Variables,
    entropy: &'a mut dyn Entropy,
}

impl fmt::Debug for Env<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Env")
            .field("input", &self.input)
            .finish_non_exhaustive()
    }
}

impl<'a> Env<'a> {
    /// An environment with the given input, no context object and no variables.
    pub fn new(input: &'a Value, entropy: &'a mut dyn Entropy) -> Self {
        Env {
            input,
            context: &NO_CONTEXT,
            variables: &NoVariables,
            entropy,
        }
    }

    /// Sets the context object.
    pub fn with_context(mut self, context: &'a dyn ContextObject) -> Self {
        self.context = context;
        self
    }

    /// Sets the variables.
    pub fn with_variables(mut self, variables: &'a dyn Variables) -> Self {
        self.variables = variables;
        self
    }

    /// Replaces the input (the document `$` designates), keeping everything else.
    pub fn with_input(mut self, input: &'a Value) -> Self {
        self.input = input;
        self
    }

    /// The input (`$`).
    pub fn input(&self) -> &'a Value {
        self.input
    }

    /// The context object (`$$`); builds it if it is lazy.
    pub fn context(&self) -> &'a Value {
        self.context.context_object()
    }

    /// A variable's value.
    pub fn variable(&self, name: &str) -> Option<&'a Value> {
        self.variables.variable(name)
    }

    /// The document `path` starts from: the input, (enough of) the context object, or a
    /// variable's value (`None` when the variable was never assigned).
    #[inline]
    pub fn root_of(&self, path: &Path) -> Option<&'a Value> {
        match (path.root(), path.first_name()) {
            (Root::Context, Some(name)) => Some(self.context.context_member(name)),
            (root, _) => self.root(root),
        }
    }

    /// The document a path root designates, or `None` for an unassigned variable.
    #[inline]
    pub fn root(&self, root: &Root) -> Option<&'a Value> {
        match root {
            Root::Input => Some(self.input),
            Root::Context => Some(self.context.context_object()),
            Root::Variable(name) => self.variables.variable(name),
        }
    }

    /// The randomness source.
    pub fn entropy(&mut self) -> &mut dyn Entropy {
        &mut *self.entropy
    }
}
