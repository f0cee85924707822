//! The visual workflow's layout: a layered (Sugiyama-style) drawing of a state machine,
//! top to bottom, computed from the definition's JSON.
//!
//! Per scope (the machine, each Parallel branch, each Map body):
//! 1. **Cycle removal**: a depth-first search from `StartAt` marks back edges (loops), which
//!    are reversed for ranking and drawn upward on the side.
//! 2. **Ranks** by longest path from the sources; the End marker always gets the last rank.
//! 3. **Dummy nodes** split edges spanning several ranks, so they route around nodes.
//! 4. **Crossing reduction** by barycenter sweeps (down, then up), keeping the best order.
//! 5. **Coordinates**: each sweep places a rank at the weighted mean of its neighbours under
//!    the order and minimum-gap constraints, solved exactly by isotonic regression
//!    (pool-adjacent-violators); edges between dummies weigh more, so long edges run straight.
//!
//! Parallel and Map states are **compound nodes**: their branches (side by side) or body are
//! laid out first, recursively, and the state becomes a box big enough to hold them. Sizes
//! are estimated from label lengths (no font metrics here); the browser only draws.
//!
//! Pure: no I/O, deterministic, no panics on any definition (unknown targets are skipped).

use serde::Serialize;
use serde_json::{Map, Value};

/// Height of a state box.
const NODE_H: f64 = 44.0;
/// Vertical gap between ranks (room for edge labels).
const RANK_GAP: f64 = 52.0;
/// Horizontal gap between boxes of one rank.
const NODE_SEP: f64 = 28.0;
/// Horizontal gap next to a dummy (an edge passing through a rank).
const DUMMY_SEP: f64 = 14.0;
/// Average width of a character of the 13 px UI font; labels are estimated, not measured.
const CHAR_W: f64 = 7.8;
/// Narrowest and widest state box.
const MIN_W: f64 = 132.0;
const MAX_W: f64 = 380.0;
/// Padding inside Parallel/Map boxes, the height of their title and the gap between branches.
const PAD: f64 = 14.0;
const HEADER: f64 = 34.0;
const BRANCH_GAP: f64 = 18.0;
/// Padding inside a branch or body frame, and above its content (room for its label).
const FRAME_PAD: f64 = 10.0;
const FRAME_TOP: f64 = 20.0;
/// Sweeps of crossing reduction and of coordinate assignment (both converge quickly; more
/// rounds changed nothing on the seed and on 100-state machines).
const ORDER_SWEEPS: usize = 12;
const X_SWEEPS: usize = 8;

/// Why a definition cannot be drawn.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    /// The text is not JSON.
    #[error("the definition is not valid JSON: {0}")]
    Json(String),
    /// JSON, but without a `States` object.
    #[error("the definition has no States object")]
    NoStates,
}

/// A laid-out state machine. Coordinates are pixels, origin at the top left; nodes are listed
/// containers first (draw order).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Graph {
    /// Boxes: the Start and End markers and every state (nested ones included).
    pub nodes: Vec<Node>,
    /// Transitions.
    pub edges: Vec<Edge>,
    /// Frames of Parallel branches and Map bodies.
    pub groups: Vec<Group>,
    /// Total width.
    pub width: f64,
    /// Total height.
    pub height: f64,
}

/// What a node stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    /// The Start marker.
    Start,
    /// The End marker.
    End,
    /// A state.
    State,
}

/// A positioned box.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Node {
    /// The state name (unique in a machine), or `__start` / `__end`.
    pub id: String,
    /// Kind of node.
    pub kind: NodeKind,
    /// `Type` of the state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_type: Option<String>,
    /// A short form of a Task's `Resource` (`lambda:invoke`, `activity: name`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The enclosing Parallel or Map state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Parallel/Map boxes contain others.
    pub compound: bool,
    /// Left.
    pub x: f64,
    /// Top.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

/// A frame inside a compound node.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    /// The Parallel or Map state.
    pub state: String,
    /// `branch` (Parallel) or `body` (Map).
    pub kind: &'static str,
    /// Branch index (0 for a Map body).
    pub index: usize,
    /// Left.
    pub x: f64,
    /// Top.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

/// Why a transition exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EdgeKind {
    /// `Next`, `StartAt`, or the end of the machine.
    Next,
    /// A Choice rule.
    Choice,
    /// A Choice's `Default`.
    Default,
    /// A `Catch` (drawn dashed).
    Catch,
}

/// A routed transition.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Edge {
    /// Source node id.
    pub from: String,
    /// Target node id.
    pub to: String,
    /// Why.
    pub kind: EdgeKind,
    /// Rule condition, `Default`, or the caught errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Where to draw the label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_at: Option<[f64; 2]>,
    /// A loop back to an earlier rank (drawn on the side, upward).
    pub back: bool,
    /// Polyline, from the source to the target (the arrow head is at the last point).
    pub points: Vec<[f64; 2]>,
}

/// Lay out a definition given as JSON text.
pub fn layout_text(definition: &str) -> Result<Graph, LayoutError> {
    let v: Value =
        serde_json::from_str(definition).map_err(|e| LayoutError::Json(e.to_string()))?;
    layout(&v)
}

/// Lay out a parsed definition.
pub fn layout(definition: &Value) -> Result<Graph, LayoutError> {
    let states = definition
        .get("States")
        .and_then(Value::as_object)
        .ok_or(LayoutError::NoStates)?;
    let start_at = definition.get("StartAt").and_then(Value::as_str);
    let block = layout_scope(states, start_at, true, None, 0);
    Ok(Graph {
        nodes: block.nodes,
        edges: block.edges,
        groups: block.groups,
        width: block.w,
        height: block.h,
    })
}

/// A laid-out scope, coordinates relative to its top left.
struct Block {
    w: f64,
    h: f64,
    nodes: Vec<Node>,
    edges: Vec<Edge>,
    groups: Vec<Group>,
}

impl Block {
    fn shift(&mut self, dx: f64, dy: f64) {
        for n in &mut self.nodes {
            n.x += dx;
            n.y += dy;
        }
        for e in &mut self.edges {
            for p in &mut e.points {
                p[0] += dx;
                p[1] += dy;
            }
            if let Some(l) = &mut e.label_at {
                l[0] += dx;
                l[1] += dy;
            }
        }
        for g in &mut self.groups {
            g.x += dx;
            g.y += dy;
        }
    }
}

/// One item to place in a scope: a state, a marker or a dummy.
struct Item {
    id: String,
    kind: NodeKind,
    state_type: Option<String>,
    resource: Option<String>,
    w: f64,
    h: f64,
    /// Branch or body blocks of a compound state, with their frame offsets inside the box.
    inner: Vec<(Block, f64, f64)>,
    inner_kind: &'static str,
    dummy: bool,
}

struct RawEdge {
    from: usize,
    to: usize,
    kind: EdgeKind,
    label: Option<String>,
}

fn text_w(s: &str) -> f64 {
    s.chars().count() as f64 * CHAR_W
}

/// `arn:aws:states:::lambda:invoke` → `lambda:invoke`, activity and function ARNs → their names.
pub fn short_resource(r: &str) -> String {
    if let Some(rest) = r.strip_prefix("arn:aws:states:::") {
        return rest.to_string();
    }
    let parts: Vec<&str> = r.split(':').collect();
    if parts.len() >= 7 && parts[2] == "states" && parts[5] == "activity" {
        return format!("activity: {}", parts[6]);
    }
    if parts.len() >= 7 && parts[2] == "lambda" && parts[5] == "function" {
        return format!("lambda: {}", parts[6]);
    }
    r.to_string()
}

/// A short text for a Choice rule: `$.x == true`, a JSONata condition, or `Rule #n`.
fn rule_label(rule: &Value, n: usize) -> String {
    if let Some(c) = rule.get("Condition").and_then(Value::as_str) {
        let c = c.trim();
        let c = c
            .strip_prefix("{%")
            .and_then(|c| c.strip_suffix("%}"))
            .unwrap_or(c);
        return clip(c.trim());
    }
    let Some(var) = rule.get("Variable").and_then(Value::as_str) else {
        return format!("Rule #{n}");
    };
    const OPS: [(&str, &str); 9] = [
        ("EqualsPath", "=="),
        ("Equals", "=="),
        ("LessThanEqualsPath", "<="),
        ("LessThanEquals", "<="),
        ("GreaterThanEqualsPath", ">="),
        ("GreaterThanEquals", ">="),
        ("LessThan", "<"),
        ("GreaterThan", ">"),
        ("Matches", "matches"),
    ];
    let Some(obj) = rule.as_object() else {
        return format!("Rule #{n}");
    };
    for (k, v) in obj {
        if k == "Variable" || k == "Next" || k == "Comment" || k == "Assign" || k == "Output" {
            continue;
        }
        let value = match v {
            Value::String(s) if !k.ends_with("Path") => format!("\"{s}\""),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        for (suffix, op) in OPS {
            if k.ends_with(suffix) && k.len() > suffix.len() {
                return clip(&format!("{var} {op} {value}"));
            }
        }
        if let Some(test) = k.strip_prefix("Is") {
            return clip(&format!("{var} is {} {value}", test.to_lowercase()));
        }
    }
    format!("Rule #{n}")
}

fn clip(s: &str) -> String {
    const MAX: usize = 36;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(MAX - 1).collect();
        t.push('…');
        t
    }
}

fn make_state_item(name: &str, state: &Value, depth: u32) -> Item {
    let ty = state
        .get("Type")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string();
    let resource = state
        .get("Resource")
        .and_then(Value::as_str)
        .map(short_resource);
    let sub = resource.as_deref().unwrap_or(&ty);
    let label_w = (text_w(name) + 36.0).max(text_w(sub) * 0.9 + 36.0);
    let mut item = Item {
        id: name.to_string(),
        kind: NodeKind::State,
        state_type: Some(ty.clone()),
        resource,
        w: label_w.clamp(MIN_W, MAX_W),
        h: NODE_H,
        inner: Vec::new(),
        inner_kind: "",
        dummy: false,
    };
    let scopes: Vec<&Value> = match ty.as_str() {
        "Parallel" => {
            item.inner_kind = "branch";
            state
                .get("Branches")
                .and_then(Value::as_array)
                .map(|b| b.iter().collect())
                .unwrap_or_default()
        }
        "Map" => {
            item.inner_kind = "body";
            state
                .get("ItemProcessor")
                .or_else(|| state.get("Iterator"))
                .into_iter()
                .collect()
        }
        _ => Vec::new(),
    };
    if scopes.is_empty() {
        return item;
    }
    let blocks: Vec<Block> = scopes
        .iter()
        .filter_map(|s| {
            let states = s.get("States").and_then(Value::as_object)?;
            let start = s.get("StartAt").and_then(Value::as_str);
            Some(layout_scope(states, start, false, Some(name), depth + 1))
        })
        .collect();
    let frames_w: f64 = blocks.iter().map(|b| b.w + 2.0 * FRAME_PAD).sum::<f64>()
        + BRANCH_GAP * blocks.len().saturating_sub(1) as f64;
    let frames_h = blocks
        .iter()
        .map(|b| b.h + FRAME_TOP + FRAME_PAD)
        .fold(0.0, f64::max);
    item.w = (frames_w + 2.0 * PAD).max(item.w);
    item.h = HEADER + frames_h + PAD;
    // Centre the frames if the title is wider than they are.
    let mut x = (item.w - frames_w) / 2.0;
    for b in blocks {
        let fw = b.w + 2.0 * FRAME_PAD;
        item.inner.push((b, x, HEADER));
        x += fw + BRANCH_GAP;
    }
    item
}

fn layout_scope(
    states: &Map<String, Value>,
    start_at: Option<&str>,
    top: bool,
    parent: Option<&str>,
    depth: u32,
) -> Block {
    let mut items: Vec<Item> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for (name, st) in states {
        index.insert(name.as_str(), items.len());
        items.push(make_state_item(name, st, depth));
    }
    let n_states = items.len();
    let marker = |id: &str, kind| Item {
        id: id.into(),
        kind,
        state_type: None,
        resource: None,
        w: 72.0,
        h: 28.0,
        inner: Vec::new(),
        inner_kind: "",
        dummy: false,
    };
    let (start, end) = if top {
        items.push(marker("__start", NodeKind::Start));
        items.push(marker("__end", NodeKind::End));
        (Some(n_states), Some(n_states + 1))
    } else {
        (None, None)
    };
    let start_state = start_at
        .and_then(|s| index.get(s).copied())
        .or(if n_states > 0 { Some(0) } else { None });

    // Transitions, merged per (from, to, kind).
    let mut raw: Vec<RawEdge> = Vec::new();
    let mut add = |from: usize, to: usize, kind: EdgeKind, label: Option<String>| {
        if let Some(e) = raw
            .iter_mut()
            .find(|e| e.from == from && e.to == to && e.kind == kind)
        {
            if let Some(l) = label {
                e.label = Some(match e.label.take() {
                    Some(prev) => clip(&format!("{prev}, {l}")),
                    None => l,
                });
            }
            return;
        }
        raw.push(RawEdge {
            from,
            to,
            kind,
            label,
        });
    };
    if let (Some(s), Some(first)) = (start, start_state) {
        add(s, first, EdgeKind::Next, None);
    }
    for (i, (_, st)) in states.iter().enumerate() {
        let target = |v: Option<&Value>| {
            v.and_then(Value::as_str)
                .and_then(|n| index.get(n).copied())
        };
        let ty = st.get("Type").and_then(Value::as_str).unwrap_or("");
        if let Some(t) = target(st.get("Next")) {
            add(i, t, EdgeKind::Next, None);
        }
        if let Some(rules) = st.get("Choices").and_then(Value::as_array) {
            for (k, r) in rules.iter().enumerate() {
                if let Some(t) = target(r.get("Next")) {
                    add(i, t, EdgeKind::Choice, Some(rule_label(r, k + 1)));
                }
            }
        }
        if let Some(t) = target(st.get("Default")) {
            add(i, t, EdgeKind::Default, Some("Default".into()));
        }
        if let Some(catchers) = st.get("Catch").and_then(Value::as_array) {
            for c in catchers {
                if let Some(t) = target(c.get("Next")) {
                    let errors = c
                        .get("ErrorEquals")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(Value::as_str)
                                .collect::<Vec<_>>()
                                .join(", ")
                        })
                        .filter(|s| !s.is_empty());
                    add(i, t, EdgeKind::Catch, errors.map(|e| clip(&e)));
                }
            }
        }
        let terminal =
            st.get("End").and_then(Value::as_bool) == Some(true) || ty == "Succeed" || ty == "Fail";
        if let (true, Some(e)) = (terminal, end) {
            add(i, e, EdgeKind::Next, None);
        }
    }

    let mut lg = Layered::new(items, &raw, start.or(start_state));
    if let Some(e) = end {
        lg.force_last(e);
    }
    lg.add_dummies();
    lg.order();
    lg.place_x();
    let (w, h) = lg.place_y();
    lg.into_block(w, h, parent)
}

/// The layered graph of one scope.
struct Layered {
    items: Vec<Item>,
    /// Original transitions with their chain of layout nodes in drawing direction.
    edges: Vec<(RawEdge, bool, Vec<usize>)>,
    rank: Vec<usize>,
    layers: Vec<Vec<usize>>,
    preds: Vec<Vec<(usize, f64)>>,
    succs: Vec<Vec<(usize, f64)>>,
    /// Depth-first discovery order, for the initial order within ranks.
    disc: Vec<f64>,
    x: Vec<f64>,
    y: Vec<f64>,
    layer_top: Vec<f64>,
    layer_h: Vec<f64>,
}

impl Layered {
    fn new(items: Vec<Item>, raw: &[RawEdge], root: Option<usize>) -> Layered {
        let n = items.len();
        let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (k, e) in raw.iter().enumerate() {
            out[e.from].push(k);
        }
        // Depth-first search: back edges and discovery order.
        let mut back = vec![false; raw.len()];
        let mut state = vec![0u8; n];
        let mut disc = vec![0.0; n];
        let mut counter = 0.0;
        let roots: Vec<usize> = root.into_iter().chain(0..n).collect();
        for r in roots {
            if state[r] != 0 {
                continue;
            }
            let mut stack: Vec<(usize, usize)> = vec![(r, 0)];
            state[r] = 1;
            disc[r] = counter;
            counter += 1.0;
            while let Some(&mut (v, ref mut next)) = stack.last_mut() {
                if *next < out[v].len() {
                    let k = out[v][*next];
                    *next += 1;
                    let t = raw[k].to;
                    match state[t] {
                        0 => {
                            state[t] = 1;
                            disc[t] = counter;
                            counter += 1.0;
                            stack.push((t, 0));
                        }
                        1 => back[k] = true,
                        _ => {}
                    }
                } else {
                    state[v] = 2;
                    stack.pop();
                }
            }
        }
        // Longest-path ranks over the acyclic orientation (Kahn's order).
        let mut dag_out: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut indeg = vec![0usize; n];
        for (k, e) in raw.iter().enumerate() {
            if e.from == e.to {
                continue;
            }
            let (a, b) = if back[k] {
                (e.to, e.from)
            } else {
                (e.from, e.to)
            };
            dag_out[a].push(b);
            indeg[b] += 1;
        }
        let mut rank = vec![0usize; n];
        let mut queue: std::collections::VecDeque<usize> =
            (0..n).filter(|&v| indeg[v] == 0).collect();
        while let Some(v) = queue.pop_front() {
            for &t in &dag_out[v] {
                rank[t] = rank[t].max(rank[v] + 1);
                indeg[t] -= 1;
                if indeg[t] == 0 {
                    queue.push_back(t);
                }
            }
        }
        let edges = raw
            .iter()
            .enumerate()
            .map(|(k, e)| {
                let chain = if back[k] {
                    vec![e.to, e.from]
                } else {
                    vec![e.from, e.to]
                };
                (
                    RawEdge {
                        from: e.from,
                        to: e.to,
                        kind: e.kind,
                        label: e.label.clone(),
                    },
                    back[k] || e.from == e.to,
                    chain,
                )
            })
            .collect();
        Layered {
            items,
            edges,
            rank,
            layers: Vec::new(),
            preds: Vec::new(),
            succs: Vec::new(),
            disc,
            x: Vec::new(),
            y: Vec::new(),
            layer_top: Vec::new(),
            layer_h: Vec::new(),
        }
    }

    /// Put the End marker below everything.
    fn force_last(&mut self, v: usize) {
        let max = (0..self.items.len())
            .filter(|&u| u != v)
            .map(|u| self.rank[u])
            .max()
            .unwrap_or(0);
        self.rank[v] = max + 1;
    }

    fn add_dummies(&mut self) {
        for ei in 0..self.edges.len() {
            let (a, b) = (self.edges[ei].2[0], self.edges[ei].2[1]);
            if a == b {
                self.edges[ei].2 = vec![a];
                continue;
            }
            let (ra, rb) = (self.rank[a], self.rank[b]);
            let mut chain = vec![a];
            for r in ra + 1..rb {
                let d = self.items.len();
                self.items.push(Item {
                    id: String::new(),
                    kind: NodeKind::State,
                    state_type: None,
                    resource: None,
                    w: 8.0,
                    h: 0.0,
                    inner: Vec::new(),
                    inner_kind: "",
                    dummy: true,
                });
                self.rank.push(r);
                // Dummies follow their source in the initial order.
                let fraction = (r - ra) as f64 / (rb - ra + 1) as f64;
                self.disc.push(self.disc[a] + fraction);
                chain.push(d);
            }
            chain.push(b);
            self.edges[ei].2 = chain;
        }
        let n = self.items.len();
        self.preds = vec![Vec::new(); n];
        self.succs = vec![Vec::new(); n];
        for (_, _, chain) in &self.edges {
            for pair in chain.windows(2) {
                let (u, v) = (pair[0], pair[1]);
                if self.rank[v] != self.rank[u] + 1 {
                    continue; // rank constraints broken only by the End marker's own edges
                }
                // Straight long edges matter more than short ones (Gansner et al.'s omega).
                let w = match (self.items[u].dummy, self.items[v].dummy) {
                    (true, true) => 8.0,
                    (false, false) => 1.0,
                    _ => 2.0,
                };
                self.succs[u].push((v, w));
                self.preds[v].push((u, w));
            }
        }
        let layers = self.rank.iter().copied().max().map_or(0, |m| m + 1);
        self.layers = vec![Vec::new(); layers];
        for v in 0..n {
            self.layers[self.rank[v]].push(v);
        }
        for l in &mut self.layers {
            l.sort_by(|a, b| self.disc[*a].total_cmp(&self.disc[*b]));
        }
    }

    fn positions(&self) -> Vec<usize> {
        let mut pos = vec![0; self.items.len()];
        for l in &self.layers {
            for (i, &v) in l.iter().enumerate() {
                pos[v] = i;
            }
        }
        pos
    }

    fn crossings(&self) -> usize {
        let pos = self.positions();
        let mut total = 0;
        for l in &self.layers {
            let mut segs: Vec<(usize, usize)> = Vec::new();
            for &u in l {
                for &(v, _) in &self.succs[u] {
                    segs.push((pos[u], pos[v]));
                }
            }
            for i in 0..segs.len() {
                for j in i + 1..segs.len() {
                    let (a, b) = (segs[i], segs[j]);
                    if (a.0 < b.0 && a.1 > b.1) || (a.0 > b.0 && a.1 < b.1) {
                        total += 1;
                    }
                }
            }
        }
        total
    }

    /// Barycenter sweeps, keeping the order with the fewest crossings.
    fn order(&mut self) {
        let mut best = self.layers.clone();
        let mut best_c = self.crossings();
        for sweep in 0..ORDER_SWEEPS {
            if best_c == 0 {
                break;
            }
            let down = sweep % 2 == 0;
            let ranks: Vec<usize> = if down {
                (1..self.layers.len()).collect()
            } else {
                (0..self.layers.len().saturating_sub(1)).rev().collect()
            };
            for r in ranks {
                let pos = self.positions();
                let nbrs = if down { &self.preds } else { &self.succs };
                let mut keyed: Vec<(f64, usize, usize)> = self.layers[r]
                    .iter()
                    .map(|&v| {
                        let ns = &nbrs[v];
                        let bary = if ns.is_empty() {
                            pos[v] as f64
                        } else {
                            ns.iter().map(|(u, _)| pos[*u] as f64).sum::<f64>() / ns.len() as f64
                        };
                        (bary, pos[v], v)
                    })
                    .collect();
                keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                self.layers[r] = keyed.into_iter().map(|k| k.2).collect();
            }
            let c = self.crossings();
            if c < best_c {
                best_c = c;
                best = self.layers.clone();
            }
        }
        self.layers = best;
    }

    fn gap(&self, a: usize, b: usize) -> f64 {
        let sep = if self.items[a].dummy || self.items[b].dummy {
            DUMMY_SEP
        } else {
            NODE_SEP
        };
        (self.items[a].w + self.items[b].w) / 2.0 + sep
    }

    /// Place one rank as close as possible (least squares) to `desired`, keeping its order
    /// and minimum gaps: isotonic regression by pool-adjacent-violators.
    fn place_layer(&mut self, r: usize, desired: &[(f64, f64)]) {
        let layer = &self.layers[r];
        let mut offsets = Vec::with_capacity(layer.len());
        let mut o = 0.0;
        for (i, &v) in layer.iter().enumerate() {
            if i > 0 {
                o += self.gap(layer[i - 1], v);
            }
            offsets.push(o);
        }
        // Blocks of (weighted sum, weight, count).
        let mut blocks: Vec<(f64, f64, usize)> = Vec::new();
        for (i, &(d, w)) in desired.iter().enumerate() {
            blocks.push(((d - offsets[i]) * w, w, 1));
            while blocks.len() >= 2 {
                let (s2, w2, c2) = blocks[blocks.len() - 1];
                let (s1, w1, c1) = blocks[blocks.len() - 2];
                if s1 / w1 > s2 / w2 {
                    blocks.pop();
                    let last = blocks.len() - 1;
                    blocks[last] = (s1 + s2, w1 + w2, c1 + c2);
                } else {
                    break;
                }
            }
        }
        let mut i = 0;
        let layer = self.layers[r].clone();
        for (s, w, c) in blocks {
            let value = s / w;
            for _ in 0..c {
                self.x[layer[i]] = value + offsets[i];
                i += 1;
            }
        }
    }

    fn place_x(&mut self) {
        let n = self.items.len();
        self.x = vec![0.0; n];
        for r in 0..self.layers.len() {
            let l = self.layers[r].clone();
            let mut x = 0.0;
            for (i, &v) in l.iter().enumerate() {
                if i > 0 {
                    x += self.gap(l[i - 1], v);
                }
                self.x[v] = x;
            }
        }
        let desired_from = |me: &Layered, v: usize, nbrs: &[(usize, f64)]| -> (f64, f64) {
            if nbrs.is_empty() {
                // Nothing pulls: stay, but give way easily.
                return (me.x[v], 0.05);
            }
            let wsum: f64 = nbrs.iter().map(|(_, w)| w).sum();
            let mean = nbrs.iter().map(|(u, w)| me.x[*u] * w).sum::<f64>() / wsum;
            (mean, wsum)
        };
        for sweep in 0..X_SWEEPS {
            let down = sweep % 2 == 0;
            let ranks: Vec<usize> = if down {
                (1..self.layers.len()).collect()
            } else {
                (0..self.layers.len().saturating_sub(1)).rev().collect()
            };
            for r in ranks {
                let desired: Vec<(f64, f64)> = self.layers[r]
                    .iter()
                    .map(|&v| {
                        let ns = if down { &self.preds[v] } else { &self.succs[v] };
                        desired_from(self, v, ns)
                    })
                    .collect();
                self.place_layer(r, &desired);
            }
        }
        // A last pass balancing both sides.
        for r in 0..self.layers.len() {
            let desired: Vec<(f64, f64)> = self.layers[r]
                .iter()
                .map(|&v| {
                    let both: Vec<(usize, f64)> = self.preds[v]
                        .iter()
                        .chain(self.succs[v].iter())
                        .copied()
                        .collect();
                    desired_from(self, v, &both)
                })
                .collect();
            self.place_layer(r, &desired);
        }
        let min_left = (0..n)
            .map(|v| self.x[v] - self.items[v].w / 2.0)
            .fold(f64::INFINITY, f64::min);
        if min_left.is_finite() {
            for x in &mut self.x {
                *x -= min_left;
            }
        }
    }

    fn place_y(&mut self) -> (f64, f64) {
        let n = self.items.len();
        self.y = vec![0.0; n];
        let mut top = 0.0;
        for l in &self.layers {
            let h = l.iter().map(|&v| self.items[v].h).fold(0.0, f64::max);
            self.layer_top.push(top);
            self.layer_h.push(h);
            for &v in l {
                self.y[v] = top;
            }
            top += h + RANK_GAP;
        }
        let height = (top - RANK_GAP).max(0.0);
        let width = (0..n)
            .map(|v| self.x[v] + self.items[v].w / 2.0)
            .fold(0.0, f64::max);
        (width, height)
    }

    fn into_block(mut self, w: f64, h: f64, parent: Option<&str>) -> Block {
        let mut nodes = Vec::new();
        let mut edges = Vec::new();
        let mut groups = Vec::new();
        let mut children: Vec<Block> = Vec::new();
        // Spread the ends of several edges along a box's side.
        let mut out_ports: Vec<Vec<(usize, f64)>> = vec![Vec::new(); self.items.len()];
        let mut in_ports: Vec<Vec<(usize, f64)>> = vec![Vec::new(); self.items.len()];
        for (k, (_, back, chain)) in self.edges.iter().enumerate() {
            if *back || chain.len() < 2 {
                continue;
            }
            out_ports[chain[0]].push((k, self.x[chain[1]]));
            let last = chain.len() - 1;
            in_ports[chain[last]].push((k, self.x[chain[last - 1]]));
        }
        let port_x = |ports: &mut Vec<(usize, f64)>, k: usize, cx: f64, w: f64| -> f64 {
            ports.sort_by(|a, b| a.1.total_cmp(&b.1));
            let n = ports.len();
            let i = ports.iter().position(|p| p.0 == k).unwrap_or(0);
            if n <= 1 {
                cx
            } else {
                cx + ((i as f64 + 1.0) / (n as f64 + 1.0) - 0.5) * w * 0.6
            }
        };
        for (k, (raw, back, chain)) in self.edges.iter().enumerate() {
            let (s, t) = (raw.from, raw.to);
            let (sx, sy, sw, sh) = (self.x[s], self.y[s], self.items[s].w, self.items[s].h);
            let (tx, ty, tw, th) = (self.x[t], self.y[t], self.items[t].w, self.items[t].h);
            let mut points: Vec<[f64; 2]> = Vec::new();
            if s == t {
                let right = sx + sw / 2.0;
                let cy = sy + sh / 2.0;
                points = vec![
                    [right, cy - 8.0],
                    [right + 22.0, cy - 8.0],
                    [right + 22.0, cy + 8.0],
                    [right, cy + 8.0],
                ];
            } else if *back {
                // Drawn from the source (lower) up to the target, along the side the dummies
                // were placed on.
                let dummies: Vec<usize> = chain[1..chain.len() - 1].iter().rev().copied().collect();
                let right_side = dummies.first().is_none_or(|&d| self.x[d] >= sx);
                let side = |x: f64, w: f64| if right_side { x + w / 2.0 } else { x - w / 2.0 };
                points.push([side(sx, sw), sy + sh / 2.0]);
                if dummies.is_empty() {
                    let far = if right_side {
                        side(sx, sw).max(side(tx, tw)) + 24.0
                    } else {
                        side(sx, sw).min(side(tx, tw)) - 24.0
                    };
                    points.push([far, sy + sh / 2.0]);
                    points.push([far, ty + th / 2.0]);
                } else {
                    for d in dummies {
                        let r = self.rank[d];
                        points.push([self.x[d], self.layer_top[r] + self.layer_h[r]]);
                        points.push([self.x[d], self.layer_top[r]]);
                    }
                }
                points.push([side(tx, tw), ty + th / 2.0]);
            } else {
                points.push([port_x(&mut out_ports[s], k, sx, sw), sy + sh]);
                for &d in &chain[1..chain.len() - 1] {
                    let r = self.rank[d];
                    points.push([self.x[d], self.layer_top[r]]);
                    points.push([self.x[d], self.layer_top[r] + self.layer_h[r]]);
                }
                points.push([port_x(&mut in_ports[t], k, tx, tw), ty]);
            }
            let label_at = raw.label.as_ref().map(|_| {
                let (a, b) = (points[0], points[1.min(points.len() - 1)]);
                if *back {
                    [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0]
                } else {
                    // Just below the source, on the edge's way to its target.
                    let f = (RANK_GAP * 0.45 / (b[1] - a[1]).max(1.0)).min(0.5);
                    [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f]
                }
            });
            edges.push(Edge {
                from: self.items[s].id.clone(),
                to: self.items[t].id.clone(),
                kind: raw.kind,
                label: raw.label.clone(),
                label_at,
                back: *back,
                points,
            });
        }
        let count = self.items.len();
        for v in 0..count {
            if self.items[v].dummy {
                continue;
            }
            let (x, y) = (self.x[v] - self.items[v].w / 2.0, self.y[v]);
            let item = &mut self.items[v];
            let inner = std::mem::take(&mut item.inner);
            nodes.push(Node {
                id: item.id.clone(),
                kind: item.kind,
                state_type: item.state_type.clone(),
                resource: item.resource.clone(),
                parent: parent.map(str::to_string),
                compound: !inner.is_empty(),
                x,
                y,
                w: item.w,
                h: item.h,
            });
            for (i, (mut b, fx, fy)) in inner.into_iter().enumerate() {
                groups.push(Group {
                    state: item.id.clone(),
                    kind: item.inner_kind,
                    index: i,
                    x: x + fx,
                    y: y + fy,
                    w: b.w + 2.0 * FRAME_PAD,
                    h: b.h + FRAME_TOP + FRAME_PAD,
                });
                b.shift(x + fx + FRAME_PAD, y + fy + FRAME_TOP);
                children.push(b);
            }
        }
        // Containers first, then what they contain (SVG paints in order).
        for b in children {
            nodes.extend(b.nodes);
            edges.extend(b.edges);
            groups.extend(b.groups);
        }
        Block {
            w,
            h,
            nodes,
            edges,
            groups,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node<'g>(g: &'g Graph, id: &str) -> &'g Node {
        g.nodes
            .iter()
            .find(|n| n.id == id)
            .unwrap_or_else(|| panic!("no node {id}"))
    }

    fn overlaps(a: &Node, b: &Node) -> bool {
        a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h
    }

    /// Boxes of one scope never overlap; nested boxes lie inside their container.
    fn check_geometry(g: &Graph) {
        for (i, a) in g.nodes.iter().enumerate() {
            for b in &g.nodes[i + 1..] {
                if a.parent == b.parent {
                    assert!(!overlaps(a, b), "{} overlaps {}", a.id, b.id);
                }
            }
            if let Some(p) = &a.parent {
                let c = node(g, p);
                assert!(
                    a.x >= c.x && a.y >= c.y && a.x + a.w <= c.x + c.w && a.y + a.h <= c.y + c.h,
                    "{} is outside {}",
                    a.id,
                    p
                );
            }
            assert!(
                a.x >= -0.01 && a.y >= -0.01,
                "{} at negative coordinates",
                a.id
            );
            assert!(a.x + a.w <= g.width + 0.01 && a.y + a.h <= g.height + 0.01);
        }
        for e in &g.edges {
            assert!(
                e.points.len() >= 2,
                "edge {}->{} has no route",
                e.from,
                e.to
            );
            for p in &e.points {
                assert!(p[0].is_finite() && p[1].is_finite());
            }
        }
    }

    #[test]
    fn linear_machine_is_a_straight_column() {
        let g = layout(&json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Next": "B"},
            "B": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}
        }}))
        .unwrap();
        check_geometry(&g);
        let (s, a, b, e) = (
            node(&g, "__start"),
            node(&g, "A"),
            node(&g, "B"),
            node(&g, "__end"),
        );
        assert!(s.y < a.y && a.y < b.y && b.y < e.y);
        let cx = |n: &Node| n.x + n.w / 2.0;
        assert!((cx(s) - cx(a)).abs() < 0.5 && (cx(a) - cx(b)).abs() < 0.5);
        assert_eq!(b.resource.as_deref(), Some("lambda:invoke"));
        assert_eq!(g.edges.len(), 3);
        // Straight edges: the source's bottom to the target's top.
        let ab = g.edges.iter().find(|e| e.from == "A").unwrap();
        assert_eq!(ab.points, vec![[cx(a), a.y + a.h], [cx(b), b.y]]);
    }

    #[test]
    fn choice_branches_sit_side_by_side_with_labels() {
        let g = layout(&json!({"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [
                {"Variable": "$.NeedCallback", "BooleanEquals": true, "Next": "Yes"}
            ], "Default": "No"},
            "Yes": {"Type": "Pass", "Next": "Join"},
            "No": {"Type": "Pass", "Next": "Join"},
            "Join": {"Type": "Succeed"}
        }}))
        .unwrap();
        check_geometry(&g);
        let (yes, no, join) = (node(&g, "Yes"), node(&g, "No"), node(&g, "Join"));
        assert_eq!(yes.y, no.y);
        assert!(yes.x + yes.w <= no.x || no.x + no.w <= yes.x);
        assert!(join.y > yes.y);
        let rule = g.edges.iter().find(|e| e.to == "Yes").unwrap();
        assert_eq!(rule.kind, EdgeKind::Choice);
        assert_eq!(rule.label.as_deref(), Some("$.NeedCallback == true"));
        let default = g.edges.iter().find(|e| e.to == "No").unwrap();
        assert_eq!(default.kind, EdgeKind::Default);
        assert!(default.label_at.is_some());
    }

    #[test]
    fn parallel_branches_are_side_by_side_inside_the_state() {
        let g = layout(&json!({"StartAt": "P", "States": {
            "P": {"Type": "Parallel", "End": true, "Branches": [
                {"StartAt": "A1", "States": {"A1": {"Type": "Pass", "Next": "A2"}, "A2": {"Type": "Pass", "End": true}}},
                {"StartAt": "B1", "States": {"B1": {"Type": "Wait", "Seconds": 1, "End": true}}},
                {"StartAt": "C1", "States": {"C1": {"Type": "Pass", "End": true}}}
            ]}
        }}))
        .unwrap();
        check_geometry(&g);
        let p = node(&g, "P");
        assert!(p.compound);
        let frames: Vec<&Group> = g.groups.iter().filter(|f| f.state == "P").collect();
        assert_eq!(frames.len(), 3);
        for w in frames.windows(2) {
            assert!(w[0].x + w[0].w <= w[1].x, "branches overlap");
            assert_eq!(w[0].y, w[1].y);
        }
        let (a1, b1, c1) = (node(&g, "A1"), node(&g, "B1"), node(&g, "C1"));
        assert_eq!(a1.parent.as_deref(), Some("P"));
        assert!(a1.x < b1.x && b1.x < c1.x);
        assert!(node(&g, "A2").y > a1.y);
        // Containers come before their content (draw order).
        let pos = |id: &str| g.nodes.iter().position(|n| n.id == id).unwrap();
        assert!(pos("P") < pos("A1"));
        // No markers inside branches.
        assert_eq!(
            g.nodes.iter().filter(|n| n.kind == NodeKind::Start).count(),
            1
        );
    }

    #[test]
    fn map_body_is_nested_and_maps_nest() {
        let g = layout(&json!({"StartAt": "M", "States": {
            "M": {"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "Inner", "States": {
                "Inner": {"Type": "Map", "End": true, "Iterator": {"StartAt": "Leaf", "States": {
                    "Leaf": {"Type": "Pass", "End": true}}}}
            }}}
        }}))
        .unwrap();
        check_geometry(&g);
        assert_eq!(node(&g, "Inner").parent.as_deref(), Some("M"));
        assert_eq!(node(&g, "Leaf").parent.as_deref(), Some("Inner"));
        let body: Vec<&Group> = g.groups.iter().filter(|f| f.kind == "body").collect();
        assert_eq!(body.len(), 2);
    }

    #[test]
    fn catch_edges_are_marked_and_labelled() {
        let g = layout(&json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:us-east-1:123456789012:activity:work",
                  "Next": "Done",
                  "Catch": [{"ErrorEquals": ["States.Timeout", "States.TaskFailed"], "Next": "Oops"}]},
            "Done": {"Type": "Succeed"},
            "Oops": {"Type": "Fail", "Error": "E"}
        }}))
        .unwrap();
        check_geometry(&g);
        let c = g.edges.iter().find(|e| e.to == "Oops").unwrap();
        assert_eq!(c.kind, EdgeKind::Catch);
        assert_eq!(
            c.label.as_deref(),
            Some("States.Timeout, States.TaskFailed")
        );
        assert_eq!(node(&g, "T").resource.as_deref(), Some("activity: work"));
        // Both terminal states lead to End.
        assert_eq!(g.edges.iter().filter(|e| e.to == "__end").count(), 2);
    }

    #[test]
    fn loops_become_back_edges_and_terminate() {
        let g = layout(&json!({"StartAt": "Poll", "States": {
            "Poll": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "Done?"},
            "Done?": {"Type": "Choice", "Choices": [
                {"Variable": "$.done", "BooleanEquals": true, "Next": "Finish"}
            ], "Default": "Wait"},
            "Wait": {"Type": "Wait", "Seconds": 5, "Next": "Poll"},
            "Finish": {"Type": "Succeed"},
            "Self": {"Type": "Pass", "Next": "Self"}
        }}))
        .unwrap();
        check_geometry(&g);
        let back = g.edges.iter().find(|e| e.from == "Wait").unwrap();
        assert!(back.back);
        assert!(node(&g, "Wait").y > node(&g, "Poll").y);
        // Upward: the route ends higher than it starts.
        assert!(back.points.last().unwrap()[1] < back.points[0][1]);
        let selfloop = g.edges.iter().find(|e| e.from == "Self").unwrap();
        assert!(selfloop.back && selfloop.points.len() == 4);
    }

    #[test]
    fn barycenter_sweeps_remove_avoidable_crossings() {
        // Written so that definition order alone would cross: A→Y, B→X with X before Y.
        let g = layout(&json!({"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [
                {"Variable": "$.a", "IsPresent": true, "Next": "A"}
            ], "Default": "B"},
            "X": {"Type": "Pass", "End": true},
            "Y": {"Type": "Pass", "End": true},
            "A": {"Type": "Pass", "Next": "Y"},
            "B": {"Type": "Pass", "Next": "X"}
        }}))
        .unwrap();
        check_geometry(&g);
        let (a, b, x, y) = (node(&g, "A"), node(&g, "B"), node(&g, "X"), node(&g, "Y"));
        assert_eq!((a.x < b.x), (y.x < x.x), "A→Y and B→X cross");
    }

    #[test]
    fn invalid_definitions_are_errors_not_panics() {
        assert!(matches!(layout_text("{"), Err(LayoutError::Json(_))));
        assert!(matches!(layout_text("{}"), Err(LayoutError::NoStates)));
        // Unknown targets and odd shapes are drawn as far as they go.
        let g = layout_text(
            r#"{"StartAt":"Nope","States":{"A":{"Type":"Pass","Next":"Missing"},"B":{"Type":"Parallel","Branches":[{}, 3]},"C":7}}"#,
        )
        .unwrap();
        check_geometry(&g);
        let g = layout_text(r#"{"States":{}}"#).unwrap();
        assert_eq!(g.nodes.len(), 2);
    }

    /// A 100-state machine: chains with choices, catches, loops, a Parallel and a Map.
    pub(crate) fn big_definition(n: usize) -> Value {
        let mut states = Map::new();
        for i in 0..n {
            let name = format!("Step {i}");
            let next = format!("Step {}", i + 1);
            let st = if i + 1 == n {
                json!({"Type": "Succeed"})
            } else if i % 10 == 3 {
                json!({"Type": "Choice", "Choices": [
                    {"Variable": "$.n", "NumericGreaterThan": i, "Next": format!("Step {}", (i + 3).min(n - 1))}
                ], "Default": next})
            } else if i % 10 == 7 {
                json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                       "Parameters": {"FunctionName": "f"}, "Next": next,
                       "Catch": [{"ErrorEquals": ["States.ALL"], "Next": format!("Step {}", (i + 2).min(n - 1))}]})
            } else if i == 50 {
                json!({"Type": "Parallel", "Next": next, "Branches": [
                    {"StartAt": "P1", "States": {"P1": {"Type": "Pass", "End": true}}},
                    {"StartAt": "P2", "States": {"P2": {"Type": "Pass", "Next": "P3"}, "P3": {"Type": "Pass", "End": true}}}
                ]})
            } else if i == 60 {
                json!({"Type": "Map", "Next": next, "ItemProcessor": {"StartAt": "M1", "States": {"M1": {"Type": "Pass", "End": true}}}})
            } else if i % 25 == 24 {
                json!({"Type": "Choice", "Choices": [
                    {"Variable": "$.again", "BooleanEquals": true, "Next": format!("Step {}", i - 5)}
                ], "Default": next})
            } else {
                json!({"Type": "Pass", "Next": next})
            };
            states.insert(name, st);
        }
        json!({"StartAt": "Step 0", "States": states})
    }

    #[test]
    fn hundred_states_lay_out_quickly_without_overlaps() {
        let def = big_definition(100);
        let t = std::time::Instant::now();
        let g = layout(&def).unwrap();
        let took = t.elapsed();
        check_geometry(&g);
        assert_eq!(g.nodes.len(), 100 + 2 + 3 + 1);
        // Debug build; a release build takes well under a millisecond.
        assert!(took.as_millis() < 500, "layout took {took:?}");
        // Top to bottom: rank order follows the chain.
        assert!(node(&g, "Step 99").y > node(&g, "Step 0").y);
    }
}
