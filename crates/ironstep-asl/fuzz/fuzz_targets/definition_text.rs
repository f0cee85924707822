//! Any text as a definition: no panic, and the invariants of `check.rs`.
//! Seed it with JSON definitions (`fuzz/seeds/`) so that it starts from valid ones.
#![no_main]

mod check;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((flag, rest)) = data.split_first() else {
        return;
    };
    if let Ok(text) = std::str::from_utf8(rest) {
        check::check(text, flag & 1 == 1);
    }
});
