//! Garbage in, no panic out: random and mutated inputs for every parser and evaluator,
//! from a small deterministic generator (so failures reproduce).

use serde_json::{Map, Value, json};

use crate::{Entropy, Env, Intrinsic, Path, Template};

/// SplitMix64: tiny, deterministic, good enough to shake parsers.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

impl Entropy for Rng {
    fn next_u64(&mut self) -> u64 {
        self.next()
    }
}

const PATH_PIECES: &[&str] = &[
    "$",
    "$$",
    "$v",
    ".",
    "..",
    "[",
    "]",
    "'",
    "\"",
    "\\",
    "*",
    "?",
    "(",
    ")",
    "@",
    "a",
    "b",
    "0",
    "1",
    "-1",
    ":",
    ",",
    " ",
    "==",
    "!=",
    "<",
    ">=",
    "&&",
    "||",
    "!",
    "=~",
    "/",
    "i",
    "true",
    "null",
    "ü",
    "🚀",
    "[0]",
    "[*]",
    "['a']",
    "[?(@.a > 1)]",
    ".a",
    "..b",
    "[1:]",
    "[0,1]",
    "['a','b']",
];

const CALL_PIECES: &[&str] = &[
    "States.",
    "Format",
    "Array",
    "MathAdd",
    "StringSplit",
    "JsonMerge",
    "Hash",
    "ArrayRange",
    "ArrayGetItem",
    "MathRandom",
    "UUID",
    "Base64Decode",
    "ArrayUnique",
    "ArrayContains",
    "(",
    ")",
    ",",
    " ",
    "'",
    "\\'",
    "\\{",
    "\\",
    "{}",
    "{",
    "}",
    "$",
    "$.a",
    "$$.x",
    "$v",
    "1",
    "-2.5",
    "1e3",
    "true",
    "null",
    "'SHA-256'",
    "'x,y'",
    "[",
    "]",
    "é",
    "🚀",
];

const SEEDS: &[&str] = &[
    "$.a.b[0]",
    "$['a b'].c",
    "$.a[?(@.x > 1 && @.y)].z",
    "$..name",
    "$.a[1:3]",
    "$$.Execution.Input",
    "$var.x[2]",
    "States.Format('{} and {}', $.a, States.Array(1, 2))",
    "States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), 0)",
    "States.MathRandom(1, 10, 42)",
    "States.JsonMerge($.a, $.b, false)",
    r"States.Format('it\'s \{\} {}', $v)",
];

fn garbage(rng: &mut Rng, pieces: &[&str]) -> String {
    let mut s = String::new();
    for _ in 0..rng.below(12) {
        s.push_str(pieces[rng.below(pieces.len())]);
    }
    s
}

fn mutate(rng: &mut Rng, seed: &str) -> String {
    let mut chars: Vec<char> = seed.chars().collect();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(chars.len() + 1);
        match rng.below(3) {
            0 if at < chars.len() => {
                chars.remove(at);
            }
            1 => {
                let insert = *rng.pick(&[
                    '$', '.', '[', ']', '\'', '(', ')', ',', '\\', '{', '}', 'é', ' ',
                ]);
                chars.insert(at, insert);
            }
            _ if !chars.is_empty() => chars.truncate(at),
            _ => {}
        }
    }
    chars.into_iter().collect()
}

fn random_value(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth > 3 { 5 } else { 8 }) {
        0 => Value::Null,
        1 => json!(rng.below(2) == 0),
        2 => json!(rng.below(7) as i64 - 3),
        3 => json!((rng.below(1000) as f64) / 7.0 - 50.0),
        4 => json!(*rng.pick(&["", "a", "x,y", "{}", "SGk=", "[1,2]", "MD5", "🚀"])),
        5 | 6 => {
            let mut map = Map::new();
            for _ in 0..rng.below(4) {
                let key = *rng.pick(&["a", "b", "x", "y", "name", "items"]);
                map.insert(key.to_owned(), random_value(rng, depth + 1));
            }
            Value::Object(map)
        }
        _ => Value::Array(
            (0..rng.below(4))
                .map(|_| random_value(rng, depth + 1))
                .collect(),
        ),
    }
}

fn exercise_path(rng: &mut Rng, text: &str, docs: &[Value]) {
    let parsed = Path::parse(text);
    let _ = Path::parse_reference(text);
    if let Ok(path) = parsed {
        let _ = path.normalized();
        for doc in docs {
            if let Err(e) = path.select(doc) {
                let _ = e.invalid_path_message(text);
            }
            let _ = path.is_present(doc);
            let _ = path.assign(doc.clone(), json!(1));
        }
        let _ = rng.next();
    }
}

fn exercise_call(rng: &mut Rng, text: &str, docs: &[Value]) {
    if let Ok(call) = Intrinsic::parse(text) {
        let _ = call.check_arity();
        let mut vars = Map::new();
        vars.insert("v".into(), random_value(rng, 0));
        for doc in docs {
            let context = random_value(rng, 0);
            let mut entropy = Rng(rng.next());
            let mut env = Env::new(doc, &mut entropy)
                .with_context(&context)
                .with_variables(&vars);
            if let Err(e) = call.eval(&mut env) {
                let _ = e.to_string();
            }
        }
    }
}

#[test]
fn paths_survive_garbage() {
    let mut rng = Rng(0xA5A5 ^ seed());
    let docs: Vec<Value> = (0..4)
        .map(|_| random_value(&mut Rng(rng.next()), 0))
        .collect();
    for i in 0..rounds(20_000) {
        let text = if i % 2 == 0 {
            garbage(&mut rng, PATH_PIECES)
        } else {
            let seed = rng_seed(&mut rng);
            mutate(&mut rng, seed)
        };
        exercise_path(&mut rng, &text, &docs);
    }
}

#[test]
fn intrinsics_survive_garbage() {
    let mut rng = Rng(0x5A5A ^ seed());
    let docs: Vec<Value> = (0..3)
        .map(|_| random_value(&mut Rng(rng.next()), 0))
        .chain([json!({"a": {"x": 1}, "b": {"y": 2}})])
        .collect();
    for i in 0..rounds(20_000) {
        let text = if i % 2 == 0 {
            format!("States.{}", garbage(&mut rng, CALL_PIECES))
        } else {
            let seed = rng_seed(&mut rng);
            mutate(&mut rng, seed)
        };
        exercise_call(&mut rng, &text, &docs);
    }
}

#[test]
fn every_function_survives_random_arguments() {
    let mut rng = Rng(7 ^ seed());
    let names = [
        "Format",
        "StringToJson",
        "JsonToString",
        "Array",
        "ArrayPartition",
        "ArrayContains",
        "ArrayRange",
        "ArrayGetItem",
        "ArrayLength",
        "ArrayUnique",
        "Base64Encode",
        "Base64Decode",
        "Hash",
        "JsonMerge",
        "MathRandom",
        "MathAdd",
        "StringSplit",
        "UUID",
    ];
    for _ in 0..rounds(5_000) {
        let name = rng.pick(&names);
        let argc = rng.below(4);
        let args: Vec<String> = (0..argc).map(|k| format!("$.a{k}")).collect();
        let text = format!("States.{name}({})", args.join(", "));
        let mut map = Map::new();
        for k in 0..argc {
            map.insert(format!("a{k}"), random_value(&mut rng, 0));
        }
        exercise_call(&mut rng, &text, &[Value::Object(map)]);
    }
}

#[test]
fn templates_survive_random_documents() {
    let mut rng = Rng(99 ^ seed());
    for _ in 0..rounds(3_000) {
        let mut template = Map::new();
        for _ in 0..rng.below(5) {
            let key = format!("{}.$", rng.pick(&["a", "b", "c"]));
            let text = if rng.below(2) == 0 {
                let seed = rng_seed(&mut rng);
                mutate(&mut rng, seed)
            } else {
                rng_seed(&mut rng).to_owned()
            };
            template.insert(key, json!(text));
        }
        template.insert("lit".into(), random_value(&mut rng, 0));
        if let Ok(t) = Template::compile(&Value::Object(template)) {
            let input = random_value(&mut rng, 0);
            let mut entropy = Rng(rng.next());
            let mut env = Env::new(&input, &mut entropy);
            if let Err(e) = t.eval(&mut env) {
                let _ = (e.cause(), e.location(), e.field());
            }
        }
    }
}

fn rng_seed(rng: &mut Rng) -> &'static str {
    SEEDS[rng.below(SEEDS.len())]
}

/// `IRONSTEP_FUZZ_ROUNDS=N` runs longer (the default keeps `cargo test` fast).
fn rounds(default: usize) -> usize {
    std::env::var("IRONSTEP_FUZZ_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `IRONSTEP_FUZZ_SEED=N` explores other inputs; the default is fixed so runs reproduce.
fn seed() -> u64 {
    std::env::var("IRONSTEP_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
