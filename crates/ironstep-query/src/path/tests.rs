use super::*;
use serde_json::json;

fn p(text: &str) -> Path {
    match Path::parse(text) {
        Ok(path) => path,
        Err(e) => panic!("{text}: {e}"),
    }
}

fn sel(text: &str, doc: &Value) -> Value {
    match p(text).select(doc) {
        Ok(s) => s.into_value(),
        Err(e) => panic!("{text}: {e}"),
    }
}

fn not_found(text: &str, doc: &Value) -> String {
    match p(text).select(doc) {
        Ok(s) => panic!("{text}: expected no match, got {s:?}"),
        Err(e) => e.to_string(),
    }
}

fn store() -> Value {
    json!({
        "foo": 123,
        "a": [
            {"x": 1, "name": "one", "tag": "abc"},
            {"x": 2, "name": "two", "y": true, "tag": "xyz"},
            {"x": 3, "name": "three", "y": false}
        ],
        "key with space": "spaced",
        "abc": {"def ghi": "dg"},
        "nums": [5, 1, 7, 3],
        "empty": [],
        "store": {"book": [{"price": 8, "name": "b1"}, {"price": 22, "name": "b2"}], "bicycle": {"price": 19, "name": "bike"}},
        "jar": [{"a": 5}, {"a": 3}, {"a": 7}],
        "delivery-partner": "dp",
        "a:b": "colon",
        "ünï": "unicode",
        "nul": null
    })
}

#[test]
fn roots() {
    assert_eq!(*p("$").root(), Root::Input);
    assert_eq!(*p("$$").root(), Root::Context);
    assert_eq!(*p("$$.Execution.Id").root(), Root::Context);
    assert_eq!(*p("$myVar").root(), Root::Variable("myVar".into()));
    assert_eq!(*p("$my_Var2.a.b").root(), Root::Variable("my_Var2".into()));
    assert_eq!(*p("$_x[0]").root(), Root::Variable("_x".into()));
    assert_eq!(p("$myVar.a").variable(), Some("myVar"));
    assert_eq!(p("$.a").variable(), None);
    assert!(p("$").is_root_only());
    assert!(p("$$").is_root_only());
    assert!(!p("$.a").is_root_only());
}

#[test]
fn as_str_and_display_keep_the_text() {
    let path = p("  $.a[0]  ");
    assert_eq!(path.as_str(), "$.a[0]");
    assert_eq!(path.to_string(), "$.a[0]");
    assert_eq!(format!("{path:?}"), "Path(\"$.a[0]\")");
}

#[test]
fn dot_and_bracket_names() {
    let doc = store();
    assert_eq!(sel("$.foo", &doc), json!(123));
    assert_eq!(sel("$['foo']", &doc), json!(123));
    assert_eq!(sel("$[\"foo\"]", &doc), json!(123));
    assert_eq!(sel("$['key with space']", &doc), json!("spaced"));
    assert_eq!(sel("$.abc['def ghi']", &doc), json!("dg"));
    // The `.['name']` form from the AWS docs.
    assert_eq!(sel("$.abc.['def ghi']", &doc), json!("dg"));
    assert_eq!(sel("$.delivery-partner", &doc), json!("dp"));
    assert_eq!(sel("$.a:b", &doc), json!("colon"));
    assert_eq!(sel("$.ünï", &doc), json!("unicode"));
    assert_eq!(sel("$.nul", &doc), json!(null));
    assert_eq!(sel("$", &doc), doc);
}

#[test]
fn bracket_names_are_verbatim() {
    // Recorded on AWS: `$['Test\""Name"']` selects the key `Test\""Name"`.
    let doc = json!({"Test\\\"\"Name\"": "Value\"\\"});
    assert_eq!(sel(r#"$['Test\""Name"']"#, &doc), json!("Value\"\\"));
    let doc = json!({"it\\'s": 1});
    assert_eq!(sel(r"$['it\'s']", &doc), json!(1));
    let doc = json!({"a.b": 1, "c]d": 2});
    assert_eq!(sel("$['a.b']", &doc), json!(1));
    assert_eq!(sel("$['c]d']", &doc), json!(2));
}

#[test]
fn indices() {
    let doc = store();
    assert_eq!(sel("$.a[0].name", &doc), json!("one"));
    assert_eq!(sel("$.a[2]['name']", &doc), json!("three"));
    assert_eq!(sel("$.nums[-1]", &doc), json!(3));
    assert_eq!(sel("$.nums[ 1 ]", &doc), json!(1));
    assert_eq!(sel("$.store.book[1].price", &doc), json!(22));
}

#[test]
fn definiteness_follows_jayway() {
    for definite in [
        "$",
        "$.a",
        "$.a[0].b",
        "$['a']['b']",
        "$.a[-1]",
        "$$.Execution.Input",
        "$x.y",
        "$['a','b']",
        "$.x['a','b']",
    ] {
        assert!(p(definite).is_definite(), "{definite}");
    }
    for indefinite in [
        "$..a",
        "$.a[*]",
        "$.*",
        "$.a[0,1]",
        "$.a[0:2]",
        "$.a[:1]",
        "$.a[1:]",
        "$.a[?(@.x)]",
        "$['a','b'].c",
        "$..*",
    ] {
        assert!(!p(indefinite).is_definite(), "{indefinite}");
    }
}

#[test]
fn definite_selection_borrows() {
    let doc = store();
    match p("$.a[1]").select(&doc) {
        Ok(Selection::One(v)) => assert!(std::ptr::eq(v, &doc["a"][1])),
        other => panic!("{other:?}"),
    }
}

#[test]
fn wildcards_slices_unions() {
    let doc = store();
    assert_eq!(sel("$.a[*].x", &doc), json!([1, 2, 3]));
    assert_eq!(sel("$.a.*.x", &doc), json!([1, 2, 3]));
    assert_eq!(sel("$.store.*.price", &doc), json!([19]));
    assert_eq!(sel("$.a[0,1].name", &doc), json!(["one", "two"]));
    assert_eq!(sel("$.a[0:2].name", &doc), json!(["one", "two"]));
    assert_eq!(sel("$.a[-1:].name", &doc), json!(["three"]));
    assert_eq!(sel("$.a[1:].name", &doc), json!(["two", "three"]));
    assert_eq!(sel("$.a[:2].name", &doc), json!(["one", "two"]));
    assert_eq!(sel("$.a[:-1].name", &doc), json!(["one", "two"]));
    assert_eq!(sel("$.a[5:9]", &doc), json!([]));
    assert_eq!(sel("$.a[2:1]", &doc), json!([]));
    assert_eq!(sel("$.nums[10,0]", &doc), json!([5]));
    assert_eq!(sel("$.empty[*]", &doc), json!([]));
    assert_eq!(sel("$.foo[*]", &doc), json!([]));
    assert_eq!(sel("$.*", &json!({"a": 1, "b": [2]})), json!([1, [2]]));
}

#[test]
fn union_of_names_as_last_step_merges() {
    let doc = json!({"a": 1, "b": 2, "c": 3, "o": {"p": 1, "q": 2}});
    assert_eq!(sel("$['a','c']", &doc), json!({"a": 1, "c": 3}));
    assert_eq!(sel("$['a','missing']", &doc), json!({"a": 1}));
    assert_eq!(sel("$['o','a'].p", &doc), json!([1]));
}

#[test]
fn deep_scan() {
    let doc = store();
    assert_eq!(
        sel("$..name", &doc),
        json!(["one", "two", "three", "b1", "b2", "bike"])
    );
    assert_eq!(sel("$.store..price", &doc), json!([8, 22, 19]));
    assert_eq!(sel("$..['price']", &doc), json!([8, 22, 19]));
    assert_eq!(sel("$..book[0].name", &doc), json!(["b1"]));
    assert_eq!(
        sel("$.jar..*", &doc),
        json!([{"a": 5}, {"a": 3}, {"a": 7}, 5, 3, 7])
    );
    assert_eq!(sel("$..[?(@.price > 20)].name", &doc), json!(["b2"]));
    assert_eq!(sel("$..nothing", &doc), json!([]));
}

#[test]
fn filters() {
    let doc = store();
    assert_eq!(sel("$.a[?(@.x > 1)].name", &doc), json!(["two", "three"]));
    assert_eq!(sel("$.a[?(@.x >= 2)].x", &doc), json!([2, 3]));
    assert_eq!(sel("$.a[?(@.x < 2)].x", &doc), json!([1]));
    assert_eq!(sel("$.a[?(@.x <= 2)].x", &doc), json!([1, 2]));
    assert_eq!(sel("$.a[?(@.x == 2)].x", &doc), json!([2]));
    assert_eq!(sel("$.a[?(@.x != 2)].x", &doc), json!([1, 3]));
    assert_eq!(sel("$.a[?(@.x == 2.0)].x", &doc), json!([2]));
    assert_eq!(sel("$.a[?(@.y)].name", &doc), json!(["two", "three"]));
    assert_eq!(sel("$.a[?(!@.y)].name", &doc), json!(["one"]));
    assert_eq!(
        sel("$.a[?(@.x > 1 && @.y)].name", &doc),
        json!(["two", "three"])
    );
    assert_eq!(
        sel("$.a[?(@.x > 1 && @.y == true)].name", &doc),
        json!(["two"])
    );
    assert_eq!(
        sel("$.a[?(@.x == 1 || @.x == 3)].name", &doc),
        json!(["one", "three"])
    );
    assert_eq!(
        sel("$.a[?((@.x == 1 || @.x == 3) && @.y == false)].name", &doc),
        json!(["three"])
    );
    assert_eq!(sel("$.a[?(@.name == 'two')].x", &doc), json!([2]));
    assert_eq!(sel("$.a[?(@.name == \"two\")].x", &doc), json!([2]));
    assert_eq!(sel("$.a[?(@.name > 'three')].x", &doc), json!([2]));
    assert_eq!(sel("$.a[?(@['name'] == 'one')].x", &doc), json!([1]));
    assert_eq!(sel("$.a[?(@.tag =~ /ab.*/)].name", &doc), json!(["one"]));
    assert_eq!(sel("$.a[?(@.tag =~ /AB.*/i)].name", &doc), json!(["one"]));
    assert_eq!(sel("$.a[?(@.tag =~ /b/)].name", &doc), json!([]));
    assert_eq!(sel("$.jar[?(@.a >= 5)]", &doc), json!([{"a": 5}, {"a": 7}]));
    assert_eq!(sel("$.nums[?(@ > 2)]", &doc), json!([5, 7, 3]));
    assert_eq!(sel("$.a[?(@.x > $.foo)]", &doc), json!([]));
    assert_eq!(sel("$.jar[?(@.a == $.jar[1].a)]", &doc), json!([{"a": 3}]));
    assert_eq!(sel("$.a[?(@.missing != 1)].x", &doc), json!([1, 2, 3]));
    assert_eq!(sel("$.a[?(@.missing == null)].x", &doc), json!([]));
    assert_eq!(sel("$.a[?(@.x == '1')].x", &doc), json!([]));
    // Recorded on AWS.
    let users = json!({"users": [{"year": 1997, "status": 0}, {"year": 1998, "status": 1}]});
    assert_eq!(
        sel("$.users[?(@.status == 0)]", &users),
        json!([{"year": 1997, "status": 0}])
    );
    // A filter on an object tests the object itself.
    assert_eq!(
        sel("$.store.bicycle[?(@.price == 19)].name", &doc),
        json!(["bike"])
    );
}

#[test]
fn normalized_rendering() {
    assert_eq!(p("$").normalized(), "$");
    assert_eq!(p("$.a.b[0]").normalized(), "$['a']['b'][0]");
    assert_eq!(p("$$.Execution.Id").normalized(), "$['Execution']['Id']");
    assert_eq!(p("$['a','b']").normalized(), "$['a','b']");
    assert_eq!(p("$.a[0,1]").normalized(), "$['a'][0,1]");
    assert_eq!(p("$.a[1:]").normalized(), "$['a'][1:]");
    assert_eq!(p("$.a[:2]").normalized(), "$['a'][:2]");
    assert_eq!(p("$.a.*").normalized(), "$['a'][*]");
    assert_eq!(p("$..a").normalized(), "$..['a']");
    assert_eq!(p("$.a[?(@.x > 1)]").normalized(), "$['a'][?(@.x > 1)]");
}

#[test]
fn not_found_messages_match_jayway() {
    let doc = json!({"int-literal": 0, "a": {"b": 1, "s": "str", "l": [1], "n": null}});
    // Recorded on AWS (OutputPath).
    assert_eq!(
        not_found("$.NoSuchOutputPath", &doc),
        "No results for path: $['NoSuchOutputPath']"
    );
    assert_eq!(
        not_found("$.no.such.result.path", &doc),
        "Missing property in path $['no']"
    );
    assert_eq!(not_found("$.a.c", &doc), "No results for path: $['a']['c']");
    assert_eq!(
        not_found("$.a.l[3]", &doc),
        "No results for path: $['a']['l'][3]"
    );
    assert_eq!(
        not_found("$.a.l[3].x", &doc),
        "No results for path: $['a']['l'][3]['x']"
    );
    assert_eq!(
        not_found("$.a.s.x", &doc),
        "Expected to find an object with property ['x'] in path $['a']['s'] but found 'java.lang.String'. This is not a json object according to the JsonProvider: 'com.jayway.jsonpath.spi.json.JacksonJsonProvider'."
    );
    assert_eq!(
        not_found("$.a.b.x", &doc),
        "Expected to find an object with property ['x'] in path $['a']['b'] but found 'java.lang.Integer'. This is not a json object according to the JsonProvider: 'com.jayway.jsonpath.spi.json.JacksonJsonProvider'."
    );
    assert_eq!(
        not_found("$.a.n.x", &doc),
        "Expected to find an object with property ['x'] in path $['a']['n'] but found 'null'. This is not a json object according to the JsonProvider: 'com.jayway.jsonpath.spi.json.JacksonJsonProvider'."
    );
    assert_eq!(not_found("$.a.n[0]", &doc), "The path $['a']['n'] is null");
    assert_eq!(
        not_found("$.a[0]", &doc),
        "Filter: [0] can only be applied to arrays. Current context is: {b=1, s=str, l=[1], n=null}"
    );
    assert_eq!(
        not_found("$.a.b['x','y']", &doc),
        "Expected to find an object with property ['x','y'] in path $['a']['b'] but found 'java.lang.Integer'. This is not a json object according to the JsonProvider: 'com.jayway.jsonpath.spi.json.JacksonJsonProvider'."
    );
}

#[test]
fn invalid_path_message_wraps_like_aws() {
    let doc = json!({"int-literal": 0});
    let err = p("$.NoSuchOutputPath").select(&doc).unwrap_err();
    assert_eq!(
        err.invalid_path_message("$.NoSuchOutputPath"),
        "Invalid path '$.NoSuchOutputPath' : No results for path: $['NoSuchOutputPath']"
    );
    let err = p("$.no.such.result.path").select(&doc).unwrap_err();
    assert_eq!(
        err.invalid_path_message("$.no.such.result.path"),
        "Invalid path '$.no.such.result.path' : Missing property in path $['no']"
    );
}

#[test]
fn indefinite_paths_never_fail() {
    // Recorded on AWS: these all give [] on an empty input.
    let empty = json!({});
    for text in [
        "$.item.items[1:5].itemValue",
        "$.item.items[1:]",
        "$.item.items[:1]",
        "$.item.items[*]",
        "$.items[*].itemValue",
        "$.items[1:].itemValue",
        "$.items[1:]",
        "$.items[:1]",
        "$.items[*]",
        "$[*]",
    ] {
        assert_eq!(sel(text, &empty), json!([]), "{text}");
    }
}

#[test]
fn select_value_and_is_present() {
    let doc = json!({"a": [1, 2], "n": null});
    assert_eq!(p("$.a[*]").select_value(&doc), Ok(json!([1, 2])));
    assert!(p("$.n").is_present(&doc));
    assert!(p("$.a[1]").is_present(&doc));
    assert!(!p("$.a[2]").is_present(&doc));
    assert!(!p("$.b").is_present(&doc));
    assert!(p("$.a[*]").is_present(&doc));
    assert!(!p("$.b[*]").is_present(&doc));
    let cow = p("$.a").select(&doc).map(Selection::into_cow);
    assert!(matches!(cow, Ok(Cow::Borrowed(_))));
}

#[test]
fn reference_paths() {
    for ok in [
        "$",
        "$.a",
        "$.a.b[0]",
        "$['a b'][2]",
        "$$.Execution.Input",
        "$var.x[1]",
    ] {
        assert!(Path::parse_reference(ok).is_ok(), "{ok}");
    }
    for (bad, why) in [
        ("$.a[*]", "wildcards"),
        ("$.*", "wildcards"),
        ("$..a", "deep scans"),
        ("$.a[?(@.x)]", "filter"),
        ("$.a[0:1]", "slices"),
        ("$.a[0,1]", "unions"),
        ("$['a','b']", "unions"),
        ("$.a[-1]", "negative"),
    ] {
        let err = Path::parse_reference(bad).unwrap_err();
        assert!(err.message().contains(why), "{bad}: {err}");
        assert!(err.to_string().contains(bad), "{bad}: {err}");
    }
}

#[test]
fn parse_errors() {
    for bad in [
        "",
        "a",
        "x.$",
        "$.",
        "$..",
        "$.a.",
        "$.a b",
        "$[",
        "$[0",
        "$['a'",
        "$['a",
        "$['a' 'b']",
        "$[abc]",
        "$[1:2:3]",
        "$[::2]",
        "$[+1]",
        "$[1.5]",
        "$[?(@.a]",
        "$[?(@.a > )]",
        "$[?(1)]",
        "$[?(@.a =~ x)]",
        "$[?(@.a =~ /x/q)]",
        "$[?(@.a =~ /(/)]",
        "$.a.length()",
        "$.sum()",
        "$$x",
        "$1",
        "$ .a",
        "$[*",
        "$['a',]",
    ] {
        assert!(Path::parse(bad).is_err(), "{bad:?} should not parse");
    }
    // Jayway reads a dot-name up to '.', '[' or '(' : other characters belong to it.
    assert_eq!(sel("$.a]", &json!({"a]": 1})), json!(1));
    let err = Path::parse("$.a b").unwrap_err();
    assert!(err.message().contains("bracket notation"), "{err}");
    assert_eq!(err.path(), "$.a b");
    assert!(err.position() > 0);
}

#[test]
fn assign_writes_result_paths() {
    let input = json!({"a": {"x": 1}, "arr": [1, {"k": 0}], "s": "str"});
    let value = json!({"r": true});
    assert_eq!(
        p("$").assign(input.clone(), value.clone()),
        Ok(value.clone())
    );
    assert_eq!(
        p("$.a.x")
            .assign(input.clone(), json!(2))
            .map(|v| v["a"].clone()),
        Ok(json!({"x": 2}))
    );
    assert_eq!(
        p("$.new.deep.field")
            .assign(input.clone(), json!(3))
            .map(|v| v["new"].clone()),
        Ok(json!({"deep": {"field": 3}}))
    );
    assert_eq!(
        p("$.arr[1].k")
            .assign(input.clone(), json!(9))
            .map(|v| v["arr"].clone()),
        Ok(json!([1, {"k": 9}]))
    );
    assert_eq!(
        p("$.arr[0]")
            .assign(input.clone(), json!("z"))
            .map(|v| v["arr"].clone()),
        Ok(json!(["z", {"k": 0}]))
    );
    // Keys keep their order; a new key goes last.
    let out = p("$.a")
        .assign(json!({"a": 1, "b": 2}), json!(0))
        .unwrap_or_default();
    assert_eq!(
        serde_json::to_string(&out).unwrap_or_default(),
        r#"{"a":0,"b":2}"#
    );
    let out = p("$.c")
        .assign(json!({"a": 1, "b": 2}), json!(0))
        .unwrap_or_default();
    assert_eq!(
        serde_json::to_string(&out).unwrap_or_default(),
        r#"{"a":1,"b":2,"c":0}"#
    );
}

#[test]
fn assign_errors() {
    let input = json!({"a": {"x": 1}, "arr": [1], "s": "str"});
    for bad in [
        "$.s.x",
        "$.a.x.y",
        "$.arr[5]",
        "$.arr.k",
        "$.a[0]",
        "$.missing[0]",
        "$.missing.x[0]",
    ] {
        let err = p(bad).assign(input.clone(), json!(1)).unwrap_err();
        assert_eq!(err.error_name(), "States.ResultPathMatchFailure");
        assert_eq!(err.path(), bad);
        assert_eq!(
            err.to_string(),
            format!(
                r#"Unable to apply ReferencePath {bad} to input {{"a":{{"x":1}},"arr":[1],"s":"str"}}"#
            )
        );
    }
    let err = p("$.x").assign(json!("input1"), json!(1)).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"Unable to apply ReferencePath $.x to input "input1""#
    );
    // Only the input can be written.
    assert!(p("$$.x").assign(json!({}), json!(1)).is_err());
    assert!(p("$v.x").assign(json!({}), json!(1)).is_err());
    // Indefinite paths cannot be written.
    assert!(p("$.a[*]").assign(json!({"a": [1]}), json!(1)).is_err());
}

#[test]
fn variables_and_context_paths_evaluate_against_their_documents() {
    let var = json!({"a": [10, 20]});
    assert_eq!(sel("$v.a[1]", &var), json!(20));
    let ctx = json!({"Execution": {"Input": {"k": "v"}}});
    assert_eq!(sel("$$.Execution.Input.k", &ctx), json!("v"));
}

#[test]
fn large_objects_use_hashed_lookup() {
    let mut map = Map::new();
    for i in 0..50 {
        map.insert(format!("k{i}"), json!(i));
    }
    let doc = Value::Object(map);
    assert_eq!(sel("$.k42", &doc), json!(42));
    assert_eq!(not_found("$.k50", &doc), "No results for path: $['k50']");
}
