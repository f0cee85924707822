//! The invariants both targets check (the same as `tests/fuzzish.rs`).

use ironstep_asl::{Code, CompileOptions, StateMachineType, compile, validate};

pub fn check(text: &str, express: bool) {
    let opts = CompileOptions {
        machine_type: if express {
            StateMachineType::Express
        } else {
            StateMachineType::Standard
        },
    };
    let diagnostics = validate(text, &opts);
    assert_eq!(diagnostics, validate(text, &opts), "validate is not deterministic");
    for d in &diagnostics {
        let located = match (&d.location, d.code) {
            (Some(l), Code::InvalidJsonDescription) => l.starts_with("[Source: "),
            (Some(l), _) => l.starts_with('/'),
            (None, Code::MissingEndState) => true,
            (None, Code::SchemaValidationFailed) => {
                d.message == "Definition must be a valid JSON object"
            }
            (None, _) => false,
        };
        assert!(located, "badly located diagnostic {d:?}");
    }
    let has_error = diagnostics.iter().any(|d| d.is_error());
    match compile(text, &opts) {
        Ok(def) => {
            assert!(!has_error, "compiled despite errors: {diagnostics:?}");
            assert_eq!(def.by_name.len(), def.states.len());
            for (name, id) in &def.by_name {
                assert_eq!(&*def.state(*id).name, &**name);
            }
            for scope in &def.scopes {
                let _ = def.state(scope.start_at);
            }
        }
        Err(errs) => {
            assert!(has_error, "rejected without an error: {errs:?}");
            let mut sorted = errs;
            sorted.sort_by_key(|d| d.severity);
            assert_eq!(sorted, diagnostics, "compile and validate disagree");
        }
    }
    let _ = ironstep_asl::invalid_definition_message(&diagnostics);
}
