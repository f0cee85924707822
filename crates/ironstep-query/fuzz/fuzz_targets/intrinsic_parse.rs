//! Any string: parsing must not panic, and whatever parses must evaluate without panicking.
#![no_main]

use ironstep_query::{Entropy, Env, Intrinsic};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, json};

struct Counter(u64);

impl Entropy for Counter {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        self.0
    }
}

fuzz_target!(|text: &str| {
    let Ok(call) = Intrinsic::parse(text) else {
        return;
    };
    let _ = call.check_arity();
    let input = json!({"a": [1, 2, 2], "s": "x,y", "o": {"k": 1.5}, "n": null});
    let context = json!({"Execution": {"Name": "exec-1"}});
    let mut vars = Map::new();
    vars.insert("v".to_owned(), json!({"x": [true]}));
    let mut entropy = Counter(0);
    let mut env = Env::new(&input, &mut entropy)
        .with_context(&context)
        .with_variables(&vars);
    if let Err(e) = call.eval(&mut env) {
        let _ = e.to_string();
    }
});
