//! The diagnostics AWS has been recorded giving, pinned to the byte: code, message, location,
//! their order, and the `InvalidDefinition` message built from them.
//!
//! Sources: LocalStack's AWS-validated snapshots of ValidateStateMachineDefinition (recorded
//! 2025-10, quoted in shared/docs/asl-facts.md §6.3 and §2.8), and diagnostics measured against
//! AWS with `aws stepfunctions validate-state-machine-definition` and published in
//! floci-io/floci issues #2670, #2735, #2745, #2968 and pull request #2786.

use ironstep_asl::{
    Code, CompileOptions, Diagnostic, Severity, StateMachineType, compile,
    invalid_definition_message, validate,
};
use serde_json::{Value, json};

fn check(def: &str) -> Vec<Diagnostic> {
    validate(def, &CompileOptions::default())
}

fn check_json(def: Value) -> Vec<Diagnostic> {
    check(&def.to_string())
}

/// `(code, message, location)` triples, the part AWS returns.
fn triples(d: &[Diagnostic]) -> Vec<(&'static str, &str, Option<&str>)> {
    d.iter()
        .map(|d| (d.code.as_str(), d.message.as_str(), d.location.as_deref()))
        .collect()
}

#[test]
fn empty_definition_is_not_a_json_object_and_has_no_location() {
    assert_eq!(
        triples(&check("")),
        [(
            "SCHEMA_VALIDATION_FAILED",
            "Definition must be a valid JSON object",
            None
        )]
    );
}

#[test]
fn text_that_is_not_json_gets_jacksons_message_and_source_location() {
    let d = check("not a definition");
    let location = "[Source: (String)\"not a definition\"; line: 1, column: 4]";
    assert_eq!(
        triples(&d),
        [(
            "INVALID_JSON_DESCRIPTION",
            "Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')\n at [Source: (String)\"not a definition\"; line: 1, column: 4]",
            Some(location)
        )]
    );
}

#[test]
fn other_json_syntax_errors_keep_the_source_location_shape() {
    let d = check("{\"StartAt\": ");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].code, Code::InvalidJsonDescription);
    let location = d[0].location.as_deref().unwrap_or_default();
    assert!(
        location.starts_with("[Source: (String)\"{\\\"StartAt\\\": \"; line: 1, column: "),
        "{location}"
    );
    assert!(d[0].message.ends_with(&format!("\n at {location}")));
}

#[test]
fn bare_words_where_a_value_belongs_get_jacksons_unrecognized_token() {
    let d = check("{\"StartAt\": yes}");
    assert!(
        d[0].message
            .starts_with("Unrecognized token 'yes': was expecting"),
        "{d:?}"
    );
    assert!(d[0].message.ends_with("; line: 1, column: 16]"), "{d:?}");
    // An unquoted key is another error in Jackson's words; serde_json's stands in for it.
    let d = check("{StartAt: 1}");
    assert!(!d[0].message.starts_with("Unrecognized token"), "{d:?}");
}

#[test]
fn long_texts_are_cut_in_the_source_location() {
    let text = format!("nope {}", "x".repeat(600));
    let d = check(&text);
    let location = d[0].location.as_deref().unwrap_or_default();
    assert!(
        location.contains(&format!("{}[truncated 105 chars]\"", "x".repeat(495))),
        "{location}"
    );
}

#[test]
fn an_empty_object_lacks_states_and_startat_at_the_root() {
    assert_eq!(
        triples(&check("{}")),
        [(
            "SCHEMA_VALIDATION_FAILED",
            "These fields are required: [States, StartAt]",
            Some("/")
        )]
    );
}

#[test]
fn a_missing_startat_is_reported_at_the_root() {
    let d = check_json(json!({"States": {"P": {"Type": "Pass", "End": true}}}));
    assert_eq!(
        triples(&d),
        [(
            "SCHEMA_VALIDATION_FAILED",
            "These fields are required: [StartAt]",
            Some("/")
        )]
    );
}

#[test]
fn express_rejects_wait_for_task_token_with_a_trailing_space() {
    let def = json!({"StartAt": "SendMessageWithWait", "States": {"SendMessageWithWait": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": "q", "MessageBody": {"t.$": "$$.Task.Token"}}, "End": true}}})
    .to_string();
    let opts = CompileOptions {
        machine_type: StateMachineType::Express,
    };
    let d = validate(&def, &opts);
    assert_eq!(
        triples(&d),
        [(
            "SCHEMA_VALIDATION_FAILED",
            "Express state machine does not support '.waitForTaskToken' service integration ",
            Some("/States/SendMessageWithWait/Resource")
        )]
    );
    // The same definition is fine for a STANDARD machine.
    assert!(check(&def).is_empty());
    assert!(compile(&def, &opts).is_err());
}

#[test]
fn express_rejects_sync_integrations_at_the_resource() {
    let def = json!({"StartAt": "StartExecution", "States": {"StartExecution": {
        "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
        "Parameters": {"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:c"}, "End": true}}})
    .to_string();
    let d = validate(
        &def,
        &CompileOptions {
            machine_type: StateMachineType::Express,
        },
    );
    assert_eq!(
        invalid_definition_message(&d),
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Express state machine does not support '.sync' service integration  at /States/StartExecution/Resource'"
    );
}

#[test]
fn a_jsonpath_state_under_a_jsonata_machine_is_refused_at_the_state() {
    let d = check_json(
        json!({"QueryLanguage": "JSONata", "StartAt": "Pass", "States": {
        "Pass": {"Type": "Pass", "QueryLanguage": "JSONPath", "End": true}}}),
    );
    assert_eq!(
        triples(&d),
        [(
            "SCHEMA_VALIDATION_FAILED",
            "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
            Some("/States/Pass")
        )]
    );
}

#[test]
fn a_refused_downgrade_is_the_only_diagnostic_for_the_other_languages_fields() {
    let d = check_json(
        json!({"QueryLanguage": "JSONata", "StartAt": "Pass", "States": {
        "Pass": {"Type": "Pass", "QueryLanguage": "JSONPath", "Output": {}, "End": true}}}),
    );
    assert_eq!(d.len(), 1, "{d:?}");
}

#[test]
fn a_jsonata_only_field_on_a_jsonpath_state_is_refused_at_the_state() {
    let d = check_json(
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Output": {}, "End": true}}}),
    );
    assert_eq!(
        triples(&d),
        [(
            "SCHEMA_VALIDATION_FAILED",
            "The QueryLanguage is set to 'JSONPath', but field 'Output' is only supported for the 'JSONata' QueryLanguage",
            Some("/States/P")
        )]
    );
}

#[test]
fn processor_states_inherit_the_machines_language_not_the_maps() {
    let d = check_json(
        json!({"StartAt": "M", "States": {"M": {"Type": "Map", "QueryLanguage": "JSONata",
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "Output": {}, "End": true}}}, "End": true}}}),
    );
    assert_eq!(
        triples(&d),
        [(
            "SCHEMA_VALIDATION_FAILED",
            "The QueryLanguage is set to 'JSONPath', but field 'Output' is only supported for the 'JSONata' QueryLanguage",
            Some("/States/M/ItemProcessor/States/P")
        )]
    );
}

#[test]
fn item_processor_and_iterator_cannot_declare_a_query_language() {
    for key in ["ItemProcessor", "Iterator"] {
        let d = check_json(
            json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
            key: {"QueryLanguage": "JSONata", "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}}),
        );
        let location = format!("/States/M/{key}");
        assert_eq!(
            triples(&d),
            [(
                "SCHEMA_VALIDATION_FAILED",
                "Field 'QueryLanguage' is not supported",
                Some(location.as_str())
            )]
        );
    }
}

#[test]
fn query_language_is_jsonpath_only_when_spelled_exactly() {
    // A wrong spelling is reported at the field and the state is then read as JSONata: its
    // JSONata Output is fine, a JSONPath field would not be.
    let d = check_json(
        json!({"StartAt": "S", "States": {"S": {"Type": "Pass", "QueryLanguage": "jsonpath",
        "Output": "{% 1 %}", "End": true}}}),
    );
    assert_eq!(
        triples(&d),
        [(
            "SCHEMA_VALIDATION_FAILED",
            "Value should be one of the following: [JSONPath, JSONata]",
            Some("/States/S/QueryLanguage")
        )]
    );
    let d = check_json(
        json!({"QueryLanguage": 1, "StartAt": "S", "States": {"S": {"Type": "Pass", "End": true}}}),
    );
    assert_eq!(
        triples(&d),
        [(
            "SCHEMA_VALIDATION_FAILED",
            "Expected value of type [STRING]",
            Some("/QueryLanguage")
        )]
    );
}

#[test]
fn a_bare_top_level_jsonata_reference_is_unsupported() {
    let d = check_json(
        json!({"QueryLanguage": "JSONata", "StartAt": "E", "States": {
        "E": {"Type": "Pass", "Output": {"v": "{% phone %}"}, "End": true}}}),
    );
    assert_eq!(
        triples(&d),
        [(
            "UNSUPPORTED_JSONATA_EXPRESSION",
            "Reference to 'phone' at the top level is not supported.",
            Some("/States/E/Output/v")
        )]
    );
}

#[test]
fn jsonata_syntax_errors_carry_the_parsers_message_without_its_code() {
    for (expr, message) in [
        ("a[1,2)", "Expected \"]\", got \",\""),
        (
            "\"unterminated",
            "String literal must be terminated by a matching quote",
        ),
        ("1 +", "Unexpected end of expression"),
        (
            "{\"a\":}",
            "The symbol \"}\" cannot be used as a unary operator",
        ),
    ] {
        let def = json!({"QueryLanguage": "JSONata", "StartAt": "Main", "States": {
            "Main": {"Type": "Pass", "Output": format!("{{% {expr} %}}"), "End": true}}});
        let d = check_json(def);
        assert_eq!(
            triples(&d),
            [(
                "INVALID_JSONATA_EXPRESSION",
                message,
                Some("/States/Main/Output")
            )],
            "{expr}"
        );
        if expr == "1 +" {
            assert_eq!(
                invalid_definition_message(&d),
                "Invalid State Machine Definition: 'INVALID_JSONATA_EXPRESSION: Unexpected end of expression at /States/Main/Output'"
            );
        }
    }
}

#[test]
fn dollar_dollar_and_error_output_are_refused_outside_a_catcher() {
    for (expr, message) in [
        ("$$", "Reference to '$$' is not supported."),
        (
            "$states.errorOutput",
            "Field '$states.errorOutput' does not exist.",
        ),
        (
            "$states.errorOutput.Cause",
            "Field '$states.errorOutput' does not exist.",
        ),
    ] {
        let d = check_json(
            json!({"QueryLanguage": "JSONata", "StartAt": "S", "States": {
            "S": {"Type": "Pass", "Output": {"a": format!("{{% {expr} %}}")}, "End": true}}}),
        );
        assert_eq!(
            triples(&d),
            [(
                "UNSUPPORTED_JSONATA_EXPRESSION",
                message,
                Some("/States/S/Output/a")
            )]
        );
    }
    // In a catcher's own Output and Assign it is the error output.
    let d = check_json(
        json!({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "F",
                         "Output": "{% $states.errorOutput %}", "Assign": {"c": "{% $states.errorOutput.Cause %}"}}]},
        "F": {"Type": "Fail"}}}),
    );
    assert!(d.is_empty(), "{d:?}");
}

#[test]
fn a_loop_without_a_terminal_state_is_only_missing_end_state_with_no_location() {
    let d = check_json(json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}, "U": {"Type": "Pass", "Next": "A"}}}));
    assert_eq!(
        triples(&d),
        [("MISSING_END_STATE", "Workflow has no terminal state", None)]
    );
    assert_eq!(
        invalid_definition_message(&d),
        "Invalid State Machine Definition: 'MISSING_END_STATE: Workflow has no terminal state at null'"
    );
}

#[test]
fn an_unreachable_terminal_state_is_a_missing_transition_target() {
    let d = check_json(json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}, "C": {"Type": "Pass", "End": true}}}));
    assert_eq!(
        triples(&d),
        [(
            "MISSING_TRANSITION_TARGET",
            "State \"C\" is not reachable.",
            Some("/States/C")
        )]
    );
}

#[test]
fn a_dangling_next_comes_before_missing_end_state() {
    let d = check_json(json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "NOPE"}}}));
    assert_eq!(
        triples(&d),
        [
            (
                "MISSING_TRANSITION_TARGET",
                "Missing 'Next' target: NOPE",
                Some("/States/A/Next")
            ),
            ("MISSING_END_STATE", "Workflow has no terminal state", None)
        ]
    );
}

#[test]
fn every_dangling_target_says_next_and_points_at_its_own_field() {
    let d = check_json(json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.a", "IsPresent": true, "Next": "X1"}], "Default": "X2"},
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "X3",
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "X4"}]},
        "E": {"Type": "Succeed"}}}));
    let targets: Vec<_> = triples(&d)
        .into_iter()
        .filter(|(_, m, _)| m.starts_with("Missing"))
        .collect();
    assert_eq!(
        targets,
        [
            (
                "MISSING_TRANSITION_TARGET",
                "Missing 'Next' target: X2",
                Some("/States/C/Default")
            ),
            (
                "MISSING_TRANSITION_TARGET",
                "Missing 'Next' target: X1",
                Some("/States/C/Choices[0]/Next")
            ),
            (
                "MISSING_TRANSITION_TARGET",
                "Missing 'Next' target: X3",
                Some("/States/T/Next")
            ),
            (
                "MISSING_TRANSITION_TARGET",
                "Missing 'Next' target: X4",
                Some("/States/T/Catch[0]/Next")
            ),
        ]
    );
}

#[test]
fn several_errors_are_joined_in_one_invalid_definition_message() {
    let d = check_json(json!({"StartAt": "pass1", "States": {
        "pass1": {"Type": "Pass", "Next": "pass3"}, "pass2": {"Type": "Pass", "End": true}}}));
    assert_eq!(
        invalid_definition_message(&d),
        "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: pass3 at /States/pass1/Next, MISSING_TRANSITION_TARGET: State \"pass2\" is not reachable. at /States/pass2'"
    );
}

#[test]
fn timeout_seconds_is_a_task_field_only() {
    for ty in ["Map", "Parallel"] {
        let mut state = json!({"Type": ty, "TimeoutSeconds": 5, "End": true});
        let branch = json!({"StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}});
        if ty == "Map" {
            state["ItemProcessor"] = branch;
        } else {
            state["Branches"] = json!([branch]);
        }
        let d = check_json(json!({"StartAt": "M", "States": {"M": state}}));
        assert_eq!(
            triples(&d),
            [(
                "SCHEMA_VALIDATION_FAILED",
                "Field 'TimeoutSeconds' is not supported",
                Some("/States/M")
            )],
            "{ty}"
        );
    }
}

#[test]
fn a_wait_state_has_no_result_path() {
    let d = check_json(
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "ResultPath": null, "End": true}}}),
    );
    assert_eq!(
        invalid_definition_message(&d),
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Field 'ResultPath' is not supported at /States/W'"
    );
}

#[test]
fn warnings_follow_errors_and_do_not_reject() {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"a": "$.x"}, "End": true}}}).to_string();
    let d = check(&def);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].severity, Severity::Warning);
    assert_eq!(d[0].code, Code::NoDollar);
    assert!(compile(&def, &CompileOptions::default()).is_ok());
    // Warnings are left out of the InvalidDefinition message.
    let d = check_json(
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"a": "$.x"}, "Next": "Q"}}}),
    );
    assert_eq!(d.last().map(|d| d.severity), Some(Severity::Warning));
    assert!(!invalid_definition_message(&d).contains("NO_DOLLAR"));
}
