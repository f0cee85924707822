//! Invoking Node.js and Python functions through boto3: results, context, environment, logs,
//! handled and unhandled errors, timeouts, size limits, and SDK calls back to ironstep.

mod common;

use common::{boto3, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_functions() {
    let server = start(common::config()).await;
    let out = boto3(
        &server.url,
        r#"
app = '''
import os, json, time, logging
def handler(event, context):
    print("printed line", json.dumps(event))
    logging.getLogger().warning("logged line")
    if event.get("raise"):
        raise ValueError("bad value")
    if event.get("exit"):
        os._exit(1)
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("big"):
        return "x" * (7 * 1024 * 1024)
    return {
        "event": event,
        "request_id": context.aws_request_id,
        "arn": context.invoked_function_arn,
        "name": context.function_name,
        "version": context.function_version,
        "memory": context.memory_limit_in_mb,
        "group": context.log_group_name,
        "stream": context.log_stream_name,
        "remaining": context.get_remaining_time_in_millis(),
        "custom": context.client_context.custom if context.client_context else None,
        "env": {k: os.environ.get(k) for k in ["AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_LOG_GROUP_NAME", "_HANDLER", "LAMBDA_TASK_ROOT",
                "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV", "TZ", "LANG", "AWS_ENDPOINT_URL",
                "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "MY_VAR", "AWS_LAMBDA_RUNTIME_API",
                "_X_AMZN_TRACE_ID"]},
        "pid": os.getpid(),
    }
'''
create("py", "python3.12", "app.handler", {"app.py": app}, MemorySize=256, Timeout=2,
       Environment={"Variables": {"MY_VAR": "mine", "TZ": "Europe/Paris"}})
cc = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
r = invoke("py", {"a": 1}, LogType="Tail", ClientContext=cc)
assert r["StatusCode"] == 200 and "FunctionError" not in r and r["ExecutedVersion"] == "$LATEST"
body = json.loads(r["Body"])
# Lambda's Python runtime serializes with json.dumps defaults (spaces after separators).
assert r["Body"].startswith(b'{"event": {"a": 1}, "request_id": '), r["Body"][:60]
assert body["event"] == {"a": 1}
assert body["request_id"] == r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
assert body["arn"] == "arn:aws:lambda:us-east-1:123456789012:function:py"
assert (body["name"], body["version"], body["memory"]) == ("py", "$LATEST", "256")
assert body["group"] == "/aws/lambda/py" and "[$LATEST]" in body["stream"]
assert 0 < body["remaining"] <= 2000, body["remaining"]
assert body["custom"] == {"k": "v"}, body["custom"]
env = body["env"]
assert env["AWS_LAMBDA_FUNCTION_NAME"] == "py" and env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
assert env["_HANDLER"] == "app.handler" and env["AWS_REGION"] == "us-east-1" == env["AWS_DEFAULT_REGION"]
assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12" and env["LANG"] == "en_US.UTF-8"
assert env["TZ"] == "Europe/Paris", "function variables win over ours"
assert env["MY_VAR"] == "mine" and env["AWS_ENDPOINT_URL"] == os.environ["ENDPOINT"]
assert env["AWS_ACCESS_KEY_ID"] and env["AWS_SECRET_ACCESS_KEY"] and env["AWS_SESSION_TOKEN"]
assert env["AWS_LAMBDA_RUNTIME_API"].startswith("127.0.0.1:") and env["_X_AMZN_TRACE_ID"].startswith("Root=1-")
assert os.path.isfile(os.path.join(env["LAMBDA_TASK_ROOT"], "app.py"))
log = base64.b64decode(r["LogResult"]).decode()
rid = body["request_id"]
assert f"START RequestId: {rid} Version: $LATEST" in log, log
assert "printed line" in log and "logged line" in log and f"\t{rid}\tlogged line" in log, log
assert f"END RequestId: {rid}" in log and f"REPORT RequestId: {rid}\tDuration: " in log and "Memory Size: 256 MB" in log, log
assert "Init Duration" in log, "first call is a cold start"

# Warm reuse: same process.
pids = {json.loads(invoke("py", {})["Body"])["pid"] for _ in range(3)}
assert pids == {body["pid"]}, pids

# Handled error.
r = invoke("py", {"raise": True})
assert r["StatusCode"] == 200 and r["FunctionError"] == "Unhandled"
assert r["Body"].startswith(b'{"errorMessage": "bad value", "errorType": "ValueError", "requestId": "'), r["Body"]
err = json.loads(r["Body"])
assert err["requestId"] == r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
assert any("raise ValueError" in line for line in err["stackTrace"]), err
# The worker survives a handled error.
assert json.loads(invoke("py", {})["Body"])["pid"] == body["pid"]

# Crash.
r = invoke("py", {"exit": True})
assert r["FunctionError"] == "Unhandled"
err = json.loads(r["Body"])
rid = r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
assert err == {"errorType": "Runtime.ExitError", "errorMessage": f"RequestId: {rid} Error: Runtime exited with error: exit status 1"}, err
assert json.loads(invoke("py", {})["Body"])["pid"] != body["pid"], "a new worker after a crash"

# Timeout (Timeout=2).
t0 = time.time()
r = invoke("py", {"sleep": 5}, LogType="Tail")
took = time.time() - t0
assert r["FunctionError"] == "Unhandled" and 1.9 < took < 4, took
err = json.loads(r["Body"])
rid = r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
assert list(err) == ["errorMessage"], err
import re
assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z " + rid + r" Task timed out after 2\.\d\d seconds", err["errorMessage"]), err
assert "Task timed out after" in base64.b64decode(r["LogResult"]).decode()

# Response too large.
r = invoke("py", {"big": True})
assert r["FunctionError"] == "Unhandled"
assert json.loads(r["Body"]) == {"errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).", "errorType": "Function.ResponseSizeTooLarge"}, r["Body"][:200]

# Event and DryRun.
r = lam.invoke(FunctionName="py", InvocationType="Event", Payload=b'{"async": 1}')
assert r["StatusCode"] == 202 and r["Payload"].read() == b""
r = lam.invoke(FunctionName="py", InvocationType="DryRun")
assert r["StatusCode"] == 204

# Init errors.
create("pyimp", "python3.12", "app.handler", {"app.py": "import not_a_module_xyz\n"})
r = invoke("pyimp", {})
err = json.loads(r["Body"])
assert r["FunctionError"] == "Unhandled" and err["errorType"] == "Runtime.ImportModuleError", err
assert err["errorMessage"] == "Unable to import module 'app': No module named 'not_a_module_xyz'", err
create("pynohandler", "python3.12", "app.nope", {"app.py": "x = 1\n"})
err = json.loads(invoke("pynohandler", {})["Body"])
assert (err["errorType"], err["errorMessage"]) == ("Runtime.HandlerNotFound", "Handler 'nope' missing on module 'app'"), err

# boto3 inside the function reaches ironstep through AWS_ENDPOINT_URL alone.
sfn = '''
import boto3
def handler(event, context):
    boto3.client("stepfunctions").send_task_success(taskToken=event["token"], output='{"from":"python"}')
    return "sent"
'''
create("pysfn", "python3.12", "app.handler", {"app.py": sfn}, Timeout=30)
r = invoke("pysfn", {"token": "tok-py"})
assert "FunctionError" not in r, r["Body"]
assert json.loads(r["Body"]) == "sent"
print("OK")
"#,
    )
    .await;
    assert!(out.contains("OK"));
    let calls = server.calls.lock().expect("lock").clone();
    let call = calls
        .iter()
        .find(|c| c.body["taskToken"] == "tok-py")
        .expect("SendTaskSuccess from Python");
    assert_eq!(call.target, "AWSStepFunctions.SendTaskSuccess");
    assert_eq!(call.body["output"], r#"{"from":"python"}"#);
    assert!(
        call.authorization
            .contains("Credential=ASIAIRONSTEPLOCAL000/"),
        "{}",
        call.authorization
    );

    // The async invocation ran and was logged.
    let mut found = false;
    for _ in 0..50 {
        let records = server.functions.recent_invocations("py").expect("records");
        if records
            .iter()
            .any(|r| r.log.contains(r#"printed line {"async": 1}"#))
        {
            found = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(found, "the Event invocation was recorded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_functions() {
    if common::node_sdk().is_none() {
        return;
    }
    let server = start(common::config()).await;
    let out = boto3(
        &server.url,
        r#"
index = '''
exports.handler = async (event, context) => {
  console.log("hello", { from: "node" });
  if (event.throw) { class CustomError extends Error {}; const e = new CustomError("it broke"); e.name = "CustomError"; throw e; }
  if (event.throwString) throw "plain string";
  if (event.exit) process.exit(1);
  if (event.sleep) await new Promise((r) => setTimeout(r, event.sleep * 1000));
  if (event.big) return "x".repeat(7 * 1024 * 1024);
  return {
    event, pid: process.pid,
    ctx: { awsRequestId: context.awsRequestId, functionName: context.functionName, functionVersion: context.functionVersion,
           invokedFunctionArn: context.invokedFunctionArn, memoryLimitInMB: context.memoryLimitInMB,
           logGroupName: context.logGroupName, logStreamName: context.logStreamName,
           remaining: context.getRemainingTimeInMillis(), waits: context.callbackWaitsForEmptyEventLoop,
           custom: context.clientContext && context.clientContext.custom },
    env: { name: process.env.AWS_LAMBDA_FUNCTION_NAME, exec: process.env.AWS_EXECUTION_ENV, endpoint: process.env.AWS_ENDPOINT_URL },
  };
};
'''
cb = '''
exports.handler = function (event, context, callback) {
  setTimeout(() => { globalThis.later = true; }, 200);
  if (event.fail) return callback(new Error("callback failure"));
  callback(null, { cb: true, waited: () => globalThis.later });
};
exports.after = function (event, context, callback) {
  let done = false;
  setTimeout(() => { done = true; }, 300);
  callback(null, "early");
};
'''
create("node", "nodejs20.x", "index.handler", {"index.js": index, "cb.js": cb}, Timeout=2)
cc = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
r = invoke("node", {"a": 1}, LogType="Tail", ClientContext=cc)
assert "FunctionError" not in r, r["Body"]
body = json.loads(r["Body"])
rid = r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
ctx = body["ctx"]
assert body["event"] == {"a": 1} and ctx["awsRequestId"] == rid
assert ctx["functionName"] == "node" and ctx["functionVersion"] == "$LATEST" and ctx["memoryLimitInMB"] == "128"
assert ctx["invokedFunctionArn"] == "arn:aws:lambda:us-east-1:123456789012:function:node"
assert ctx["logGroupName"] == "/aws/lambda/node" and 0 < ctx["remaining"] <= 2000 and ctx["waits"] is True
assert ctx["custom"] == {"k": "v"}
assert body["env"] == {"name": "node", "exec": "AWS_Lambda_nodejs20.x", "endpoint": os.environ["ENDPOINT"]}
log = base64.b64decode(r["LogResult"]).decode()
assert f"\t{rid}\tINFO\thello {{ from: 'node' }}" in log, log
assert f"START RequestId: {rid}" in log and f"END RequestId: {rid}" in log and "REPORT RequestId" in log
pid = body["pid"]
assert {json.loads(invoke("node", {})["Body"])["pid"] for _ in range(3)} == {pid}, "warm reuse"

r = invoke("node", {"throw": True})
err = json.loads(r["Body"])
assert r["FunctionError"] == "Unhandled" and err["errorType"] == "CustomError" and err["errorMessage"] == "it broke", err
assert err["trace"][0] == "CustomError: it broke" and any("index.js" in t for t in err["trace"]), err
assert list(err) == ["errorType", "errorMessage", "trace"]
err = json.loads(invoke("node", {"throwString": True})["Body"])
assert (err["errorType"], err["errorMessage"]) == ("string", "plain string"), err

r = invoke("node", {"exit": True})
rid = r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
assert json.loads(r["Body"]) == {"errorType": "Runtime.ExitError", "errorMessage": f"RequestId: {rid} Error: Runtime exited with error: exit status 1"}

r = invoke("node", {"sleep": 4})
assert r["FunctionError"] == "Unhandled" and "Task timed out after 2." in json.loads(r["Body"])["errorMessage"], r["Body"]
r = invoke("node", {"big": True})
assert json.loads(r["Body"])["errorType"] == "Function.ResponseSizeTooLarge"

# Callback handlers: the answer waits for the event loop to empty (callbackWaitsForEmptyEventLoop).
lam.update_function_configuration(FunctionName="node", Handler="cb.handler")
r = invoke("node", {})
assert json.loads(r["Body"]) == {"cb": True}, r["Body"]
err = json.loads(invoke("node", {"fail": True})["Body"])
assert (err["errorType"], err["errorMessage"]) == ("Error", "callback failure"), err
lam.update_function_configuration(FunctionName="node", Handler="cb.after")
t0 = time.time()
assert json.loads(invoke("node", {})["Body"]) == "early"
assert time.time() - t0 >= 0.25, "waited for the pending timer"

# ES modules: .mjs and "type": "module"; both import the SDK Lambda ships.
mjs = '''
import { SFNClient, SendTaskSuccessCommand } from "@aws-sdk/client-sfn";
import { LambdaClient } from "@aws-sdk/client-lambda";
export const handler = async (event) => {
  await new SFNClient({}).send(new SendTaskSuccessCommand({ taskToken: event.token, output: JSON.stringify({ from: "esm" }) }));
  return typeof LambdaClient;
};
'''
create("esm", "nodejs20.x", "callback.handler", {"callback.mjs": mjs}, Timeout=30)
r = invoke("esm", {"token": "tok-esm"})
assert "FunctionError" not in r and json.loads(r["Body"]) == "function", r["Body"]
create("esmpkg", "nodejs20.x", "src/app.handler", {"package.json": '{"type":"module"}', "src/app.js": mjs}, Timeout=30)
r = invoke("esmpkg", {"token": "tok-esmpkg"})
assert "FunctionError" not in r, r["Body"]
cjs = '''
const { SFNClient, SendTaskSuccessCommand } = require("@aws-sdk/client-sfn");
exports.handler = async (event) => {
  const out = await new SFNClient({}).send(new SendTaskSuccessCommand({ taskToken: event.token, output: "{}" }));
  return out.$metadata.httpStatusCode;
};
'''
create("cjs", "nodejs20.x", "callback.handler", {"callback.js": cjs}, Timeout=30)
r = invoke("cjs", {"token": "tok-cjs"})
assert json.loads(r["Body"]) == 200, r["Body"]

# Init errors.
create("nomod", "nodejs20.x", "missing.handler", {"index.js": "exports.handler = async () => 1;"})
err = json.loads(invoke("nomod", {})["Body"])
assert err["errorType"] == "Runtime.ImportModuleError" and err["errorMessage"].startswith("Error: Cannot find module 'missing'"), err
create("noexp", "nodejs20.x", "index.nope", {"index.js": "exports.handler = async () => 1;"})
err = json.loads(invoke("noexp", {})["Body"])
assert (err["errorType"], err["errorMessage"]) == ("Runtime.HandlerNotFound", "index.nope is undefined or not exported"), err
create("syntax", "nodejs20.x", "index.handler", {"index.js": "exports.handler = async () => {;"})
err = json.loads(invoke("syntax", {})["Body"])
assert err["errorType"] == "Runtime.UserCodeSyntaxError", err
print("OK")
"#,
    )
    .await;
    assert!(out.contains("OK"));
    let calls = server.calls.lock().expect("lock").clone();
    for token in ["tok-esm", "tok-esmpkg", "tok-cjs"] {
        let call = calls
            .iter()
            .find(|c| c.body["taskToken"] == token)
            .unwrap_or_else(|| panic!("no call for {token}: {calls:?}"));
        assert_eq!(call.target, "AWSStepFunctions.SendTaskSuccess");
        assert!(
            call.authorization
                .contains("Credential=ASIAIRONSTEPLOCAL000/")
        );
    }
}
