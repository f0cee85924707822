//! Any string: parsing must not panic, and whatever parses must evaluate and assign without
//! panicking on a few documents.
#![no_main]

use ironstep_query::Path;
use libfuzzer_sys::fuzz_target;
use serde_json::json;

fuzz_target!(|text: &str| {
    let _ = Path::parse_reference(text);
    let Ok(path) = Path::parse(text) else {
        return;
    };
    let _ = path.normalized();
    for doc in [
        json!(null),
        json!({"a": [1, {"b": "x"}], "c": {"d": null}}),
        json!([[1, 2], {"a": true}]),
    ] {
        if let Err(e) = path.select(&doc) {
            let _ = e.invalid_path_message(text);
        }
        let _ = path.assign(doc, json!(0));
    }
});
