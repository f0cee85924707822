//! The Lambda REST API driven by boto3 and the aws CLI: function management and API errors.

mod common;

use common::{aws_cli, boto3, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_get_list_update_delete_with_boto3() {
    let server = start(common::config()).await;
    let out = boto3(
        &server.url,
        r#"
files = {"app.py": "def handler(event, context):\n    return event\n"}
c = create("alpha", "python3.12", "app.handler", files, Description="first", Timeout=7,
           Environment={"Variables": {"GREETING": "hi"}}, Tags={"team": "x"})
assert c["ResponseMetadata"]["HTTPStatusCode"] == 201
assert c["FunctionArn"] == "arn:aws:lambda:us-east-1:123456789012:function:alpha", c["FunctionArn"]
assert c["Version"] == "$LATEST" and c["Timeout"] == 7 and c["MemorySize"] == 128
assert c["State"] == "Active" and c["PackageType"] == "Zip"
assert c["Environment"] == {"Variables": {"GREETING": "hi"}}
assert c["CodeSize"] == len(zip_of(files)) and len(base64.b64decode(c["CodeSha256"])) == 32
# Defaults.
d = create("beta", "nodejs20.x", "index.handler", {"index.js": "exports.handler = async () => 1;"})
assert d["Timeout"] == 3 and d["MemorySize"] == 128 and d["Architectures"] == ["x86_64"]
create("gamma", "python3.12", "app.handler", files)

g = lam.get_function(FunctionName="alpha")
assert g["Configuration"]["Description"] == "first"
assert g["Tags"] == {"team": "x"}
assert g["Code"]["RepositoryType"] == "S3"
# Names, ARNs and partial ARNs with qualifiers are accepted everywhere.
for ref in ["arn:aws:lambda:us-east-1:123456789012:function:alpha", "123456789012:function:alpha", "alpha:$LATEST"]:
    assert lam.get_function_configuration(FunctionName=ref)["FunctionName"] == "alpha"

# Pagination.
p1 = lam.list_functions(MaxItems=2)
assert [f["FunctionName"] for f in p1["Functions"]] == ["alpha", "beta"], p1
p2 = lam.list_functions(MaxItems=2, Marker=p1["NextMarker"])
assert [f["FunctionName"] for f in p2["Functions"]] == ["gamma"] and "NextMarker" not in p2
names = [f["FunctionName"] for page in lam.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 1}) for f in page["Functions"]]
assert names == ["alpha", "beta", "gamma"], names

u = lam.update_function_configuration(FunctionName="alpha", Timeout=30, Environment={"Variables": {"AB": "1"}})
assert u["Timeout"] == 30 and u["Environment"]["Variables"] == {"AB": "1"} and u["RevisionId"] != c["RevisionId"]
u2 = lam.update_function_code(FunctionName="alpha", ZipFile=zip_of({"app.py": "def handler(e, c):\n    return 2\n"}))
assert u2["CodeSha256"] != c["CodeSha256"]
assert json.loads(invoke("alpha", {})["Body"]) == 2

# Stale revision id.
code, msg, cls, status = error_code(lambda: lam.update_function_configuration(FunctionName="alpha", Timeout=5, RevisionId="nope"))
assert (code, status) == ("PreconditionFailedException", 412), (code, status)

r = lam.delete_function(FunctionName="beta")
assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
code, msg, cls, status = error_code(lambda: lam.get_function(FunctionName="beta"))
assert (code, status) == ("ResourceNotFoundException", 404)
assert msg == "Function not found: arn:aws:lambda:us-east-1:123456789012:function:beta", msg
try:
    lam.get_function(FunctionName="beta")
except lam.exceptions.ResourceNotFoundException:
    pass
print("OK")
"#,
    )
    .await;
    assert!(out.contains("OK"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_errors_are_lambdas() {
    let server = start(common::config()).await;
    let out = boto3(
        &server.url,
        r#"
files = {"app.py": "def handler(event, context):\n    return event\n"}
create("dup", "python3.12", "app.handler", files)
code, msg, cls, status = error_code(lambda: create("dup", "python3.12", "app.handler", files))
assert (code, msg, status) == ("ResourceConflictException", "Function already exist: dup", 409), (code, msg)
try:
    create("dup", "python3.12", "app.handler", files)
except lam.exceptions.ResourceConflictException:
    pass

code, msg, cls, status = error_code(lambda: create("t0", "python3.12", "app.handler", files, Timeout=0))
assert code == "ValidationException" and status == 400, code
assert msg == "1 validation error detected: Value '0' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1", msg
code, msg, cls, status = error_code(lambda: create("t1", "python3.12", "app.handler", files, Timeout=901))
assert "less than or equal to 900" in msg
code, msg, *_ = error_code(lambda: create("t2", "python3.12", None, files))
assert (code, msg) == ("InvalidParameterValueException", "Runtime and Handler are mandatory parameters for functions created with deployment packages."), msg
code, msg, *_ = error_code(lambda: create("t3", "cobol", "app.handler", files))
assert code == "InvalidParameterValueException" and "at 'runtime' failed to satisfy constraint" in msg
code, msg, *_ = error_code(lambda: create("t4", "python3.12", "app.handler", files, Environment={"Variables": {"AWS_REGION": "x"}}))
assert code == "InvalidParameterValueException" and msg.endswith("Reserved keys used in this request: AWS_REGION"), msg
code, msg, *_ = error_code(lambda: lam.create_function(FunctionName="t5", Runtime="python3.12", Role="r", Handler="a.b", Code={"ZipFile": b"not a zip"}))
assert (code, msg) == ("InvalidParameterValueException", "Could not unzip uploaded file. Please check your file, then try to upload again."), msg
code, msg, *_ = error_code(lambda: lam.get_function(FunctionName="bad name!"))
assert code == "ValidationException", code

code, msg, cls, status = error_code(lambda: lam.invoke(FunctionName="missing"))
assert (code, status) == ("ResourceNotFoundException", 404)
assert msg == "Function not found: arn:aws:lambda:us-east-1:123456789012:function:missing:$LATEST", msg
code, msg, *_ = error_code(lambda: lam.invoke(FunctionName="dup", Qualifier="7"))
assert msg == "Function not found: arn:aws:lambda:us-east-1:123456789012:function:dup:7", msg
code, msg, *_ = error_code(lambda: lam.invoke(FunctionName="dup:1", Qualifier="2"))
assert code == "InvalidParameterValueException", code
code, msg, *_ = error_code(lambda: lam.invoke(FunctionName="arn:aws:lambda:eu-west-1:123456789012:function:dup"))
assert msg == "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')", msg
code, msg, cls, status = error_code(lambda: lam.invoke(FunctionName="dup", Payload=b"{not json"))
assert (code, status) == ("InvalidRequestContentException", 400), code
assert msg.startswith("Could not parse request body into json: Could not parse payload into json"), msg
big = b'"' + b"x" * (6 * 1024 * 1024 + 10) + b'"'
code, msg, cls, status = error_code(lambda: lam.invoke(FunctionName="dup", Payload=big))
assert (code, status, msg) == ("RequestTooLargeException", 413, "Request must be smaller than 6291456 bytes for the InvokeFunction operation"), (code, msg)
try:
    lam.invoke(FunctionName="dup", Payload=big)
except lam.exceptions.RequestTooLargeException:
    pass
code, msg, cls, status = error_code(lambda: lam.delete_function(FunctionName="missing"))
assert (code, status) == ("ResourceNotFoundException", 404)

# Reserved concurrency 0 throttles: TooManyRequestsException with Lambda's reason.
lam.put_function_concurrency(FunctionName="dup", ReservedConcurrentExecutions=0)
assert lam.get_function_concurrency(FunctionName="dup")["ReservedConcurrentExecutions"] == 0
assert lam.get_function(FunctionName="dup")["Concurrency"] == {"ReservedConcurrentExecutions": 0}
try:
    lam.invoke(FunctionName="dup", Payload=b"{}")
    raise AssertionError("not throttled")
except lam.exceptions.TooManyRequestsException as e:
    assert e.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded", e.response
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 429
lam.delete_function_concurrency(FunctionName="dup")
assert json.loads(invoke("dup", {"k": 1})["Body"]) == {"k": 1}
print("OK")
"#,
    )
    .await;
    assert!(out.contains("OK"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_cli_manages_and_invokes() {
    if !common::has("aws") {
        eprintln!("SKIPPED: the aws CLI is not installed");
        return;
    }
    let server = start(common::config()).await;
    let dir = tempfile::tempdir().expect("tmp");
    common::write_dir(
        dir.path(),
        &[(
            "fn.py",
            "def handler(event, context):\n    print('hello from cli')\n    return {'got': event, 'name': context.function_name}\n",
        )],
    );
    let code_dir = dir.path().display().to_string();
    let (ok, out, err) = aws_cli(
        &server.url,
        &[
            "lambda",
            "create-function",
            "--function-name",
            "cli",
            "--runtime",
            "python3.12",
            "--handler",
            "fn.handler",
            "--role",
            "arn:aws:iam::123456789012:role/r",
            "--code",
            &format!("S3Bucket=hot-reload,S3Key={code_dir}"),
        ],
    )
    .await;
    assert!(ok, "{out}{err}");
    let outfile = dir.path().join("out.json");
    let (ok, out, err) = aws_cli(
        &server.url,
        &[
            "lambda",
            "invoke",
            "--function-name",
            "cli",
            "--payload",
            r#"{"a":1}"#,
            "--log-type",
            "Tail",
            &outfile.display().to_string(),
        ],
    )
    .await;
    assert!(ok, "{out}{err}");
    let meta: serde_json::Value = serde_json::from_str(&out).expect("cli json");
    assert_eq!(meta["StatusCode"], 200);
    assert_eq!(meta["ExecutedVersion"], "$LATEST");
    use base64::Engine as _;
    let log = base64::engine::general_purpose::STANDARD
        .decode(meta["LogResult"].as_str().unwrap_or(""))
        .expect("b64");
    let log = String::from_utf8_lossy(&log);
    assert!(
        log.contains("hello from cli")
            && log.contains("START RequestId:")
            && log.contains("REPORT RequestId:"),
        "{log}"
    );
    let result: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&outfile).expect("out")).expect("json");
    assert_eq!(result, serde_json::json!({"got": {"a": 1}, "name": "cli"}));

    let (ok, out, _) = aws_cli(&server.url, &["lambda", "list-functions"]).await;
    assert!(ok);
    let list: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(list["Functions"][0]["FunctionName"], "cli");
    let (ok, _, err) = aws_cli(
        &server.url,
        &["lambda", "get-function", "--function-name", "nope"],
    )
    .await;
    assert!(!ok);
    assert!(
        err.contains("ResourceNotFoundException")
            && err.contains(
                "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope"
            ),
        "{err}"
    );
}
