//! libFuzzer's bytes drive the structured generator of `tests/support/generator.rs`: valid
//! definitions mutated field by field reach far deeper into the parser than raw text does.
#![no_main]

mod check;
#[path = "../../tests/support/generator.rs"]
mod generator;

use generator::{Bytes, Entropy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut e = Bytes(data);
    let express = e.one_in(3);
    let text = generator::definition(&mut e);
    check::check(&text, express);
});
