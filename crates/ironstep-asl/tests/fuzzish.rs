//! Garbage in, no panic out: random, mutated and corrupted definitions from a seeded generator,
//! with the invariants the API relies on:
//!
//! - `compile` succeeds exactly when `validate` reports no error;
//! - every diagnostic is located by a JSON pointer (`/...`), except the three AWS records without
//!   one: a parser error (located by Jackson's `[Source: ...]`), a definition that is not a JSON
//!   object, and `MISSING_END_STATE`;
//! - the same text gives the same diagnostics twice;
//! - a compiled definition only refers to states and scopes that exist.
//!
//! CI runs a few thousand cases; `IRONSTEP_ASL_FUZZ_CASES=1000000 cargo test -p ironstep-asl
//! --release --test fuzzish` runs a long one (`IRONSTEP_ASL_FUZZ_SEED` picks another stream).

#[path = "support/generator.rs"]
mod generator;

use generator::{Entropy, SplitMix};
use ironstep_asl::{
    Code, CompileOptions, Definition, StateKind, StateMachineType, Transition, compile, validate,
};

/// Check every invariant for one text; the message names the broken one.
fn check(text: &str, opts: &CompileOptions) -> Result<(), String> {
    let diagnostics = validate(text, opts);
    let again = validate(text, opts);
    if diagnostics != again {
        return Err(format!(
            "validate is not deterministic:\n{diagnostics:?}\n{again:?}"
        ));
    }
    for d in &diagnostics {
        match (&d.location, d.code) {
            (Some(l), Code::InvalidJsonDescription) if l.starts_with("[Source: ") => {}
            (Some(l), _) if l.starts_with('/') => {}
            (None, Code::MissingEndState) => {}
            (None, Code::SchemaValidationFailed)
                if d.message == "Definition must be a valid JSON object" => {}
            _ => return Err(format!("badly located diagnostic {d:?}")),
        }
    }
    let has_error = diagnostics.iter().any(|d| d.is_error());
    match compile(text, opts) {
        Ok(_) if has_error => Err(format!(
            "compile succeeded but validate reports errors: {diagnostics:?}"
        )),
        Ok(def) => consistent(&def),
        Err(errs) if !has_error => Err(format!(
            "compile failed without an error diagnostic: {errs:?}"
        )),
        Err(errs) => {
            let mut sorted = errs.clone();
            sorted.sort_by_key(|d| d.severity);
            if sorted != diagnostics {
                return Err(format!(
                    "compile and validate disagree:\n{errs:?}\n{diagnostics:?}"
                ));
            }
            Ok(())
        }
    }
}

/// Every id in a compiled definition points at a state or scope that exists, and names resolve.
fn consistent(def: &Definition) -> Result<(), String> {
    let n = def.states.len();
    let ok_state = |id: ironstep_asl::StateId| (id.0 as usize) < n;
    let ok_scope = |id: ironstep_asl::ScopeId| (id.0 as usize) < def.scopes.len();
    if def.by_name.len() != n || def.scopes.is_empty() {
        return Err(format!("{} names for {n} states", def.by_name.len()));
    }
    for (name, id) in &def.by_name {
        if !ok_state(*id) || *def.state(*id).name != **name {
            return Err(format!("name {name} maps to the wrong state"));
        }
    }
    for scope in &def.scopes {
        if !ok_state(scope.start_at) || scope.states.iter().any(|s| !ok_state(*s)) {
            return Err("scope refers to a missing state".into());
        }
    }
    for s in &def.states {
        let next = match &s.kind {
            StateKind::Pass(p) => Some(p.next),
            StateKind::Task(t) => Some(t.next),
            StateKind::Wait(w) => Some(w.next),
            StateKind::Parallel(p) => Some(p.next),
            StateKind::Map(m) => Some(m.next),
            _ => None,
        };
        if let Some(Transition::Next(id)) = next
            && (!ok_state(id) || def.state(id).scope != s.scope)
        {
            return Err(format!("{} goes to a state of another list", s.name));
        }
        let scopes: Vec<_> = match &s.kind {
            StateKind::Parallel(p) => p.branches.clone(),
            StateKind::Map(m) => vec![m.processor],
            _ => Vec::new(),
        };
        if scopes.iter().any(|sc| !ok_scope(*sc)) {
            return Err(format!("{} owns a missing scope", s.name));
        }
        if !s.location.starts_with("/States/") {
            return Err(format!("{} is located at {}", s.name, s.location));
        }
    }
    Ok(())
}

fn cases() -> usize {
    std::env::var("IRONSTEP_ASL_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3_000)
}

#[test]
fn the_corpus_is_valid() {
    for text in generator::CORPUS {
        let d = validate(text, &CompileOptions::default());
        assert!(d.iter().all(|d| !d.is_error()), "{text}\n{d:?}");
        check(text, &CompileOptions::default()).unwrap();
    }
}

#[test]
fn random_and_mutated_definitions_keep_the_invariants() {
    let seed = std::env::var("IRONSTEP_ASL_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x05EE_DA51);
    let mut rng = SplitMix(seed);
    let mut errors = 0usize;
    for case in 0..cases() {
        let text = generator::definition(&mut rng);
        let machine_type = if rng.one_in(3) {
            StateMachineType::Express
        } else {
            StateMachineType::Standard
        };
        let opts = CompileOptions { machine_type };
        let outcome = std::panic::catch_unwind(|| check(&text, &opts))
            .unwrap_or_else(|_| Err("panicked".to_string()));
        if let Err(why) = outcome {
            panic!("case {case} (seed {seed}, {machine_type:?}): {why}\n{text}");
        }
        errors += usize::from(compile(&text, &opts).is_err());
    }
    // The generator must exercise both outcomes, or it tests nothing.
    assert!(
        errors > 0 && errors < cases(),
        "{errors} of {} rejected",
        cases()
    );
}
