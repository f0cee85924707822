//! Micro benchmark: one JSONata Task state's expressions (`Arguments`, `Output`, `Assign`: six
//! expressions) over a ~2 KB input, with `$states` converted once per scope as the interpreter
//! does. Run with `cargo bench -p ironstep-jsonata`; `STATE_EVAL_PARTS=1` also times the parts
//! (scope creation, single expressions, each template).

use std::hint::black_box;
use std::time::{Duration, Instant};

use ironstep_jsonata::{Entropy, Env, Limits, Scope, Template};
use serde_json::{Value, json};

struct Counter(u64);

impl Entropy for Counter {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        self.0
    }
}

fn input() -> Value {
    let items: Vec<Value> = (0..22)
        .map(|i| {
            json!({
                "sku": format!("SKU-{i:05}"), "name": format!("Item number {i}"),
                "price": 10.5 + i as f64, "qty": i % 4 + 1, "tags": ["a", "b"]
            })
        })
        .collect();
    json!({
        "order": {"id": "ord-123456", "customer": {"id": "c-42", "name": "Ada Lovelace",
                  "email": "ada@example.com", "tier": "gold"}, "items": items},
        "flags": {"express": true, "gift": false}
    })
}

fn main() {
    let input = input();
    let input_size = input.to_string().len();
    let states = json!({
        "input": input,
        "context": {
            "Execution": {"Id": "arn:aws:states:us-east-1:123456789012:execution:sm:e1",
                          "Name": "e1", "StartTime": "2024-11-22T10:29:59.000Z"},
            "State": {"Name": "Charge", "EnteredTime": "2024-11-22T10:30:00.000Z"}
        }
    });
    let arguments = Template::compile(&json!({
        "FunctionName": "charge",
        "Payload": {
            "orderId": "{% $states.input.order.id %}",
            "total": "{% $sum($states.input.order.items.(price * qty)) %}"
        }
    }))
    .expect("compile Arguments");
    let output = Template::compile(&json!({
        "customer": "{% $states.input.order.customer.name %}",
        "receipt": "{% $states.result.Payload.receipt & '-' & $attempt %}"
    }))
    .expect("compile Output");
    let assign = Template::compile(&json!({
        "lastOrder": "{% $states.input.order.id %}",
        "count": "{% $count($states.input.order.items[qty > 1]) %}"
    }))
    .expect("compile Assign");
    let result = json!({"Payload": {"receipt": "r-1"}, "StatusCode": 200});
    let mut variables = serde_json::Map::new();
    variables.insert("attempt".into(), json!(1));
    let mut entropy = Counter(0);

    let mut run = || {
        let env = Env {
            now_millis: 1_732_271_400_000,
            entropy: &mut entropy,
            limits: Limits::default(),
        };
        let mut scope = Scope::new(&states, &variables, env);
        let a = scope.eval_template(&arguments).expect("Arguments");
        scope.set_result(&result);
        let o = scope.eval_template(&output).expect("Output");
        let s = scope.eval_template(&assign).expect("Assign");
        black_box((a, o, s));
    };

    for _ in 0..2_000 {
        run();
    }
    if std::env::var_os("STATE_EVAL_PARTS").is_some() {
        let t = Instant::now();
        for _ in 0..20_000 {
            let mut e = Counter(0);
            let env = Env {
                now_millis: 0,
                entropy: &mut e,
                limits: Limits::default(),
            };
            black_box(Scope::new(&states, &variables, env));
        }
        println!(
            "scope only: {:.2} µs",
            t.elapsed().as_secs_f64() * 1e6 / 20_000.0
        );
        let first_read =
            ironstep_jsonata::Expression::compile("$states.input.order.id").expect("compile");
        let t = Instant::now();
        for _ in 0..20_000 {
            let mut e = Counter(0);
            let env = Env {
                now_millis: 0,
                entropy: &mut e,
                limits: Limits::default(),
            };
            let mut scope = Scope::new(&states, &variables, env);
            black_box(scope.eval(&first_read).expect("eval"));
        }
        println!(
            "scope + converting $states.input + one read: {:.2} µs",
            t.elapsed().as_secs_f64() * 1e6 / 20_000.0
        );
        for src in [
            "$states.input.order.id",
            "$sum($states.input.order.items.(price * qty))",
            "$count($states.input.order.items[qty > 1])",
            "1",
        ] {
            let t = Template::compile(&json!(format!("{{% {src} %}}"))).expect("compile");
            let mut e = Counter(0);
            let env = Env {
                now_millis: 0,
                entropy: &mut e,
                limits: Limits::default(),
            };
            let mut scope = Scope::new(&states, &variables, env);
            let started = Instant::now();
            for _ in 0..20_000 {
                black_box(scope.eval_template(&t).expect("eval"));
            }
            println!(
                "{src}: {:.2} µs",
                started.elapsed().as_secs_f64() * 1e6 / 20_000.0
            );
        }
        for (name, t) in [
            ("arguments", &arguments),
            ("output", &output),
            ("assign", &assign),
        ] {
            let mut e = Counter(0);
            let env = Env {
                now_millis: 0,
                entropy: &mut e,
                limits: Limits::default(),
            };
            let mut scope = Scope::new(&states, &variables, env);
            scope.set_result(&result);
            let started = Instant::now();
            for _ in 0..20_000 {
                black_box(scope.eval_template(t).expect("eval"));
            }
            println!(
                "{name}: {:.2} µs",
                started.elapsed().as_secs_f64() * 1e6 / 20_000.0
            );
        }
    }
    let budget = Duration::from_secs(3);
    let started = Instant::now();
    let mut states_run = 0u64;
    while started.elapsed() < budget {
        for _ in 0..500 {
            run();
        }
        states_run += 500;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "state_eval: input {input_size} bytes, 6 expressions per state: {:.0} states/s, {:.0} expressions/s, {:.2} µs per state",
        states_run as f64 / secs,
        states_run as f64 * 6.0 / secs,
        secs * 1e6 / states_run as f64
    );
}
