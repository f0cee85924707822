//! Micro benchmarks for the evaluation hot path. Run with `cargo bench -p ironstep-query`;
//! each line prints nanoseconds per evaluation (best of several rounds, so that noise from
//! other processes on a shared machine inflates the numbers less).

use std::hint::black_box;
use std::time::Instant;

use ironstep_query::{Entropy, Env, Intrinsic, Path, Template};
use serde_json::{Map, Value, json};

struct Counter(u64);

impl Entropy for Counter {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        self.0
    }
}

/// Runs `f` `iters` times per round, returns the best ns/iteration over `rounds` rounds.
fn bench(name: &str, iters: u32, mut f: impl FnMut()) -> f64 {
    for _ in 0..iters / 10 {
        f();
    }
    let mut best = f64::MAX;
    for _ in 0..7 {
        let start = Instant::now();
        for _ in 0..iters {
            f();
        }
        let ns = start.elapsed().as_nanos() as f64 / f64::from(iters);
        best = best.min(ns);
    }
    println!("{name:<58} {best:>9.1} ns/iter");
    best
}

fn main() {
    let input = json!({
        "FunctionName": "my-function",
        "detail": {"id": "abc-123", "count": 7},
        "items": [10, 20, 30],
        "flag": true,
        "Payload": {"k": "v"}
    });
    let mut entropy = Counter(1);

    // The number quoted in the crate report: Parameters with 4 definite references.
    let four = Template::compile(&json!({
        "FunctionName.$": "$.FunctionName",
        "Id.$": "$.detail.id",
        "Second.$": "$.items[1]",
        "Flag.$": "$.flag",
        "Static": "literal"
    }))
    .expect("template compiles");
    bench(
        "template: 4 definite path refs + 1 literal",
        1_000_000,
        || {
            let mut env = Env::new(&input, &mut entropy);
            black_box(four.eval(black_box(&mut env)).ok());
        },
    );

    let constant = Template::compile(&json!({"a": 1, "b": "two", "c": [3]})).expect("compiles");
    bench("template: constant (3 keys)", 1_000_000, || {
        let mut env = Env::new(&input, &mut entropy);
        black_box(constant.eval(black_box(&mut env)).ok());
    });

    let with_object =
        Template::compile(&json!({"Payload.$": "$.Payload", "Input.$": "$"})).expect("compiles");
    bench(
        "template: copy a small object + the whole input",
        1_000_000,
        || {
            let mut env = Env::new(&input, &mut entropy);
            black_box(with_object.eval(black_box(&mut env)).ok());
        },
    );

    let format = Template::compile(
        &json!({"m.$": "States.Format('{} has {}', $.detail.id, $.detail.count)"}),
    )
    .expect("compiles");
    bench(
        "template: States.Format with 2 path arguments",
        500_000,
        || {
            let mut env = Env::new(&input, &mut entropy);
            black_box(format.eval(black_box(&mut env)).ok());
        },
    );

    let add = Intrinsic::parse("States.MathAdd($.detail.count, 1)").expect("parses");
    bench(
        "intrinsic: States.MathAdd($.detail.count, 1)",
        1_000_000,
        || {
            let mut env = Env::new(&input, &mut entropy);
            black_box(add.eval(black_box(&mut env)).ok());
        },
    );

    let path = Path::parse("$.detail.id").expect("parses");
    bench("path: select $.detail.id (borrowed)", 5_000_000, || {
        black_box(path.select(black_box(&input)).ok());
    });

    let filter = Path::parse("$.items[?(@ > 15)]").expect("parses");
    bench("path: select $.items[?(@ > 15)]", 1_000_000, || {
        black_box(filter.select(black_box(&input)).ok());
    });

    let result_path = Path::parse_reference("$.result.value").expect("parses");
    bench(
        "path: assign $.result.value (incl. input clone)",
        1_000_000,
        || {
            black_box(result_path.assign(input.clone(), json!(1)).ok());
        },
    );

    bench("parse: $.detail.id", 1_000_000, || {
        black_box(Path::parse(black_box("$.detail.id")).ok());
    });

    // Why small objects are scanned linearly rather than hashed (see `path::get`).
    let mut map = Map::new();
    for k in [
        "FunctionName",
        "detail",
        "items",
        "flag",
        "Payload",
        "alpha",
        "beta",
        "gamma",
    ] {
        map.insert(k.to_owned(), Value::Null);
    }
    bench(
        "lookup in an 8-key object: IndexMap hash",
        10_000_000,
        || {
            black_box(black_box(&map).get(black_box("gamma")));
        },
    );
    bench("lookup in an 8-key object: linear scan", 10_000_000, || {
        black_box(
            black_box(&map)
                .iter()
                .find(|(k, _)| k.as_str() == black_box("gamma")),
        );
    });
}
