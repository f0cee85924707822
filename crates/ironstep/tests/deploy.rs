//! `ironstep deploy` and `ironstep samples` against the real binary: SAM projects laid out as
//! the published "start a workflow within a workflow" sample (template.yaml with the SAM
//! transform and Globals, statemachines/*.asl.json, functions/) with the callback written in
//! Node.js (`@aws-sdk/client-sfn`), Python (boto3) and Rust (`lambda_runtime`, provided.al2023),
//! none with an endpoint in code; then redeploys, parameters, skipped resources and errors.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Instant;

use common::{bin, free_port, py_env, python, serve};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sample_dir() -> PathBuf {
    repo().join("samples/start-workflow-within-workflow")
}

/// Whether `program --version` runs.
fn has(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Node.js and the AWS SDK that Node functions get (installed with `npm ci` when missing).
/// False, loudly, only when node or npm is not installed.
fn node_ready() -> bool {
    static READY: OnceLock<bool> = OnceLock::new();
    *READY.get_or_init(|| {
        if !has("node") {
            eprintln!("SKIPPED: node is not installed; the Node.js callback does not run");
            return false;
        }
        let dir = repo().join("crates/ironstep-functions/runtimes/node");
        if !dir.join("node_modules/@aws-sdk/client-sfn").is_dir() {
            if !has("npm") {
                eprintln!("SKIPPED: npm is not installed; the Node.js AWS SDK cannot be installed");
                return false;
            }
            let out = Command::new("npm")
                .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
                .current_dir(&dir)
                .output()
                .expect("npm");
            assert!(
                out.status.success(),
                "npm ci failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        true
    })
}

/// Runs the ironstep binary; panics with its output if `ok` differs from its success.
fn ironstep(args: &[&str], cwd: Option<&Path>, ok: bool) -> Output {
    let mut cmd = Command::new(bin());
    cmd.args(args).stdin(Stdio::null());
    if let Some(d) = cwd {
        cmd.current_dir(d);
    }
    let out = cmd.output().expect("run ironstep");
    assert_eq!(
        out.status.success(),
        ok,
        "ironstep {args:?}\n--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

enum Callback {
    Node,
    Python,
    /// A built `bootstrap` executable.
    Rust(PathBuf),
}

const PYTHON_CALLBACK: &str = r#"import json

import boto3

# No endpoint in code: boto3 reads AWS_ENDPOINT_URL from the environment.
sfn = boto3.client("stepfunctions")


def lambda_handler(event, context):
    print(f"Calling back with {event['Message']!r}")
    sfn.send_task_success(taskToken=event["TaskToken"], output=json.dumps(event["Message"]))
    print("SendTaskSuccess sent")
    return {"status": "sent"}
"#;

/// A SAM project laid out as the published sample, with the callback in the given language.
fn sam_project(dir: &Path, callback: &Callback) {
    let src = sample_dir();
    std::fs::create_dir_all(dir.join("statemachines")).expect("mkdir");
    std::fs::create_dir_all(dir.join("functions")).expect("mkdir");
    for f in [
        "statemachines/parent.asl.json",
        "statemachines/child.asl.json",
    ] {
        std::fs::copy(src.join(f), dir.join(f)).expect("copy");
    }
    let template = std::fs::read_to_string(src.join("template.yaml")).expect("template");
    let template = match callback {
        Callback::Node => {
            std::fs::copy(
                src.join("functions/callback.js"),
                dir.join("functions/callback.js"),
            )
            .expect("copy");
            template
        }
        Callback::Python => {
            std::fs::write(dir.join("functions/callback.py"), PYTHON_CALLBACK).expect("write");
            template.replace("Runtime: nodejs20.x", "Runtime: python3.12")
        }
        Callback::Rust(bootstrap) => {
            std::fs::copy(bootstrap, dir.join("functions/bootstrap")).expect("copy");
            template
                .replace("Runtime: nodejs20.x", "Runtime: provided.al2023")
                .replace("Handler: callback.lambda_handler", "Handler: bootstrap")
        }
    };
    assert!(
        template.contains("Transform: AWS::Serverless-2016-10-31") && template.contains("Globals:")
    );
    std::fs::write(dir.join("template.yaml"), template).expect("write");
}

/// Deploys a project with `ironstep deploy`, starts the parent with `{}`, and checks the
/// result, the three children and that the callback function ran and logged.
fn deploy_and_run_sample(server: &common::Server, project: &Path) {
    let t0 = Instant::now();
    let template = project.join("template.yaml");
    let out = ironstep(
        &[
            "deploy",
            &template.display().to_string(),
            "--endpoint",
            &server.endpoint(),
        ],
        None,
        true,
    );
    let text = stdout(&out);
    for id in [
        "NestingPatternMainStateMachine ",
        "NestingPatternAnotherStateMachine ",
        "NestingPatternCallbackLambdaFunction ",
    ] {
        assert!(
            text.lines()
                .any(|l| l.contains(id) && l.contains(" created ")),
            "{id} not created:\n{text}"
        );
    }
    assert!(
        text.lines()
            .any(|l| l.contains("NestingPatternMainStateMachineRole") && l.contains(" skipped ")),
        "{text}"
    );
    assert!(text.contains("code: hot-reload "), "{text}");
    assert!(text.contains("Stack '"), "{text}");
    let check = py_env(
        server,
        &[("PROJECT", project.display().to_string())],
        r#"
import base64, urllib.request, urllib.error
machines = {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}
parent = [a for n, a in machines.items() if "NestingPatternMainStateMachine" in n]
child = [a for n, a in machines.items() if "NestingPatternAnotherStateMachine" in n]
assert len(parent) == 1 and len(child) == 1, machines
parent, child = parent[0], child[0]
fn = [f["FunctionName"] for f in lam.list_functions()["Functions"] if "NestingPatternCallback" in f["FunctionName"]]
assert len(fn) == 1, fn
fn = fn[0]
e = sfn.start_execution(stateMachineArn=parent, input="{}")["executionArn"]
d = wait(e, 120)
assert d["status"] == "SUCCEEDED", (d, history(e))
assert json.loads(d["output"]) == ["\"The whole execution is completed including both long-running jobs\"", "Callback right after the first long-running job is completed"], d["output"]
children = sfn.list_executions(stateMachineArn=child)["executions"]
assert len(children) == 3, children
called_back = 0
for x in children:
    w = wait(x["executionArn"], 60)
    assert w["status"] == "SUCCEEDED", w
    inp = json.loads(w["input"])
    assert inp["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"] == e, inp
    if inp["NeedCallback"]:
        # The Callback state invoked the function, which answered after SendTaskSuccess.
        ok = [h for h in history(x["executionArn"]) if h["type"] == "TaskSucceeded"]
        assert len(ok) == 1 and json.loads(ok[0]["taskSucceededEventDetails"]["output"])["Payload"] == {"status": "sent"}, ok
        called_back += 1
assert called_back == 1, called_back
# The function's log shows the callback (the server keeps each invocation's output).
with urllib.request.urlopen(ENDPOINT + "/ironstep/api/functions/" + fn + "/invocations") as r:
    logs = json.load(r)["invocations"]
assert any("Calling back with" in i["log"] and "SendTaskSuccess sent" in i["log"] for i in logs), logs
print("function:" + fn)
print("ok")
"#,
    );
    assert!(check.trim().ends_with("ok"), "{check}");
    // `ironstep logs FUNCTION` prints the same invocation, framed as Lambda frames it.
    let function = check
        .lines()
        .find_map(|l| l.strip_prefix("function:"))
        .expect("function name");
    let logs = Command::new(common::bin())
        .args(["logs", function, "--endpoint", &server.endpoint()])
        .output()
        .expect("ironstep logs");
    let text = String::from_utf8_lossy(&logs.stdout);
    assert!(
        logs.status.success(),
        "{}",
        String::from_utf8_lossy(&logs.stderr)
    );
    assert!(
        text.contains("Calling back with")
            && text.contains("SendTaskSuccess sent")
            && text.contains("START RequestId: ")
            && text.contains("Status: Success"),
        "{text}"
    );
    eprintln!("deployed and ran in {:.1} s", t0.elapsed().as_secs_f64());
}

#[test]
fn a_sam_project_with_a_node_callback_deploys_and_runs() {
    if !node_ready() {
        return;
    }
    let s = serve(&["--wait-scale", "0.1"]);
    let project = tempfile::tempdir().expect("tmp");
    sam_project(project.path(), &Callback::Node);
    deploy_and_run_sample(&s, project.path());
}

#[test]
fn a_sam_project_with_a_python_boto3_callback_deploys_and_runs() {
    let py = python();
    let s = serve(&["--wait-scale", "0.1", "--python", &py]);
    let project = tempfile::tempdir().expect("tmp");
    sam_project(project.path(), &Callback::Python);
    deploy_and_run_sample(&s, project.path());
}

/// Builds the `lambda_runtime` callback (tests/fixtures/rust-callback, its own workspace and
/// lockfile) into the target directory ironstep-functions' Rust fixture uses, so the two share
/// one build of their dependencies (about 25 s cold on 2 cores, a second or two after that).
fn rust_callback() -> PathBuf {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rust-callback");
    let target = std::env::temp_dir().join("ironstep-lambda-runtime-fixture");
    let t0 = Instant::now();
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--locked", "--quiet"])
        .current_dir(&fixture)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .expect("cargo");
    assert!(
        out.status.success(),
        "building the Rust callback failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "built the Rust callback in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    target.join("debug/rust-callback")
}

#[test]
fn a_sam_project_with_a_rust_lambda_runtime_callback_deploys_and_runs() {
    let bootstrap = rust_callback();
    let s = serve(&["--wait-scale", "0.1"]);
    let project = tempfile::tempdir().expect("tmp");
    sam_project(project.path(), &Callback::Rust(bootstrap));
    deploy_and_run_sample(&s, project.path());
}

const APP: &str = r#"
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Greeting:
    Type: String
    Default: hello
  WithExtra:
    Type: String
    Default: "no"
    AllowedValues: ["yes", "no"]
Conditions:
  Extra: !Equals [!Ref WithExtra, "yes"]
Globals:
  Function:
    Runtime: python3.12
    Timeout: 5
Resources:
  Greet:
    Type: AWS::Serverless::StateMachine
    Properties:
      Definition:
        StartAt: Say
        States:
          Say:
            Type: Pass
            Result: !Sub "${Greeting} from ${AWS::StackName}"
            End: true
      Policies: [AWSLambdaRole]
  Worker:
    Type: AWS::StepFunctions::Activity
    Properties:
      Name: !Sub ${AWS::StackName}-worker
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      InlineCode: |
        def handler(event, context):
            return event
      Handler: index.handler
      Environment:
        Variables:
          GREETING: !Ref Greeting
  ExtraMachine:
    Type: AWS::StepFunctions::StateMachine
    Condition: Extra
    Properties:
      RoleArn: !GetAtt ExtraRole.Arn
      DefinitionString: '{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}'
  ExtraFn:
    Type: AWS::Lambda::Function
    Condition: Extra
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Code:
        ZipFile: |
          def handler(event, context):
              return 1
  ExtraWorker:
    Type: AWS::StepFunctions::Activity
    Condition: Extra
    Properties:
      Name: extra-worker
  ExtraRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {}
  Rule:
    Type: AWS::Events::Rule
    Properties:
      ScheduleExpression: rate(1 hour)
Outputs:
  GreetArn:
    Value: !Ref Greet
  FnArn:
    Value: !GetAtt Fn.Arn
"#;

/// The logical ids of the report's rows with this outcome, in order.
fn rows(text: &str, outcome: &str) -> Vec<String> {
    let cell = format!("  {outcome:<9}  ");
    text.lines()
        .filter(|l| l.starts_with("  ") && l.contains(&cell))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

#[test]
fn redeploys_update_in_place_with_parameters_skips_and_deletes() {
    let s = serve(&[]);
    let dir = tempfile::tempdir().expect("tmp");
    let project = dir.path().join("my-app");
    std::fs::create_dir_all(&project).expect("mkdir");
    std::fs::write(project.join("template.yaml"), APP).expect("write");
    let ep = s.endpoint();
    let template = project.join("template.yaml").display().to_string();

    // First deploy: the stack is named after the directory.
    let first = stdout(&ironstep(
        &["deploy", &template, "--endpoint", &ep],
        None,
        true,
    ));
    assert!(first.contains("as stack 'my-app'"), "{first}");
    assert_eq!(
        rows(&first, "created"),
        ["Greet", "Worker", "Fn"],
        "{first}"
    );
    assert_eq!(
        rows(&first, "skipped"),
        // ExtraRole comes first: ExtraMachine refers to it (in a property never applied).
        [
            "GreetRole",
            "FnRole",
            "ExtraFn",
            "ExtraWorker",
            "ExtraRole",
            "ExtraMachine",
            "Rule"
        ],
        "{first}"
    );
    assert!(first.contains("condition Extra is false"), "{first}");
    assert!(first.contains("IAM is not enforced locally"), "{first}");
    assert!(
        first.contains("event sources are not run locally"),
        "{first}"
    );
    assert!(
        first.contains("Resources.Greet: Policies skipped"),
        "{first}"
    );
    assert!(
        first
            .contains("GreetArn  arn:aws:states:us-east-1:123456789012:stateMachine:my-app-Greet-"),
        "{first}"
    );

    // The same template again: nothing changes, nothing is duplicated.
    let again = stdout(&ironstep(
        &["deploy", &template, "--endpoint", &ep],
        None,
        true,
    ));
    assert_eq!(
        rows(&again, "unchanged"),
        ["Greet", "Worker", "Fn"],
        "{again}"
    );

    // A parameter override changes the definition and the function's environment in place; the
    // condition brings in a new state machine.
    let third = stdout(&ironstep(
        &[
            "deploy",
            &template,
            "--endpoint",
            &ep,
            "--parameter-overrides",
            "Greeting=bonjour",
            "WithExtra=yes",
        ],
        None,
        true,
    ));
    assert_eq!(rows(&third, "updated"), ["Greet", "Fn"], "{third}");
    assert_eq!(rows(&third, "unchanged"), ["Worker"], "{third}");
    assert_eq!(
        rows(&third, "created"),
        ["ExtraFn", "ExtraWorker", "ExtraMachine"],
        "{third}"
    );
    let out = py_env(
        &s,
        &[],
        r#"
sms = sfn.list_state_machines()["stateMachines"]
assert sorted(m["name"].rsplit("-", 1)[0] for m in sms) == ["my-app-ExtraMachine", "my-app-Greet"], sms
greet = [m["stateMachineArn"] for m in sms if "-Greet-" in m["name"]][0]
d = wait(sfn.start_execution(stateMachineArn=greet)["executionArn"])
assert json.loads(d["output"]) == "bonjour from my-app", d
fns = lam.list_functions()["Functions"]
fn = [f for f in fns if "-Fn-" in f["FunctionName"]]
assert len(fns) == 2 and fn[0]["Environment"]["Variables"] == {"GREETING": "bonjour"} and fn[0]["Timeout"] == 5, fns
acts = sfn.list_activities()["activities"]
assert sorted(a["name"] for a in acts) == ["extra-worker", "my-app-worker"], acts
print("ok")
"#,
    );
    assert_eq!(out.trim(), "ok");

    // Back to the defaults: the conditional resources are deleted (they carry the stack's tag).
    let fourth = stdout(&ironstep(
        &["deploy", &template, "--endpoint", &ep],
        None,
        true,
    ));
    assert_eq!(
        rows(&fourth, "deleted"),
        ["ExtraMachine", "ExtraWorker", "ExtraFn"],
        "{fourth}"
    );
    assert_eq!(rows(&fourth, "updated"), ["Greet", "Fn"], "{fourth}");

    // Another stack name deploys a second copy beside the first.
    let other = stdout(&ironstep(
        &[
            "deploy",
            &template,
            "--endpoint",
            &ep,
            "--stack-name",
            "other",
        ],
        None,
        true,
    ));
    assert_eq!(
        rows(&other, "created"),
        ["Greet", "Worker", "Fn"],
        "{other}"
    );
    assert!(rows(&other, "deleted").is_empty(), "{other}");
    let out = py_env(
        &s,
        &[],
        r#"
assert len(sfn.list_state_machines()["stateMachines"]) == 2
assert len(lam.list_functions()["Functions"]) == 2
assert len(sfn.list_activities()["activities"]) == 2
print("ok")
"#,
    );
    assert_eq!(out.trim(), "ok");

    // A template error names the resource and the property, and changes nothing.
    std::fs::write(
        project.join("template.yaml"),
        APP.replace(
            "Name: !Sub ${AWS::StackName}-worker",
            "Name: !GetAtt Nowhere.Name",
        ),
    )
    .expect("write");
    let bad = ironstep(&["deploy", &template, "--endpoint", &ep], None, false);
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("Resources.Worker.Properties.Name: Nowhere is not a parameter or resource in the template"),
        "{err}"
    );
    let bad = ironstep(
        &[
            "deploy",
            &template,
            "--endpoint",
            &ep,
            "--parameter-overrides",
            "Greting=x",
        ],
        None,
        false,
    );
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("Parameters [Greting] do not exist in the template"),
        "{err}"
    );
}

#[test]
fn deploy_says_clearly_when_no_server_answers() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("template.yaml"), APP).expect("write");
    let ep = format!("http://127.0.0.1:{}", free_port());
    let out = ironstep(
        &[
            "deploy",
            &dir.path().join("template.yaml").display().to_string(),
            "--endpoint",
            &ep,
        ],
        None,
        false,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("no ironstep server answers at {ep}"))
            && err.contains("start one with `ironstep serve`"),
        "{err}"
    );
}

#[test]
fn samples_are_listed() {
    let out = stdout(&ironstep(&["samples"], None, true));
    assert!(out.contains("start-workflow-within-workflow"), "{out}");
    let out = ironstep(&["samples", "run", "no-such-sample", "--exit"], None, false);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no sample named 'no-such-sample'"));
}

#[test]
fn samples_run_starts_ironstep_deploys_runs_and_prints_the_result() {
    if !node_ready() {
        return;
    }
    // A fresh directory: `./ironstep-data` does not exist yet, and nothing listens on the port.
    let cwd = tempfile::tempdir().expect("tmp");
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let t0 = Instant::now();
    let out = ironstep(
        &[
            "samples",
            "run",
            "start-workflow-within-workflow",
            "--exit",
            "--listen",
            &listen,
            "--wait-scale",
            "0.1",
        ],
        Some(cwd.path()),
        true,
    );
    let text = stdout(&out);
    eprintln!("samples run took {:.1} s", t0.elapsed().as_secs_f64());
    assert!(
        text.contains(&format!("Starting ironstep on http://{listen}")),
        "{text}"
    );
    assert!(text.lines().any(|l| l == "SUCCEEDED"), "{text}");
    let output_at = text.find("Output [").expect("an output");
    let output: serde_json::Value = serde_json::from_str(
        text[output_at + "Output ".len()..]
            .split("\n\n")
            .next()
            .unwrap_or_default(),
    )
    .expect("the output is JSON");
    assert_eq!(
        output,
        serde_json::json!([
            "\"The whole execution is completed including both long-running jobs\"",
            "Callback right after the first long-running job is completed"
        ])
    );
    assert!(text.contains("Child executions (3):"), "{text}");
    assert_eq!(
        text.matches("  SUCCEEDED arn:aws:states:").count(),
        3,
        "{text}"
    );
    assert!(text.contains(&format!("Look at it in the console: http://{listen}/  (execution arn:aws:states:us-east-1:123456789012:execution:start-workflow-within-workflow-NestingPatternMainStateMachine-")), "{text}");
    assert!(
        cwd.path().join("ironstep-data").is_dir(),
        "the data stays in ./ironstep-data"
    );

    // Run again against the same data: the stack is unchanged and a second execution succeeds.
    let again = stdout(&ironstep(
        &[
            "samples",
            "run",
            "start-workflow-within-workflow",
            "--exit",
            "--listen",
            &listen,
            "--wait-scale",
            "0.1",
        ],
        Some(cwd.path()),
        true,
    ));
    assert_eq!(again.matches(" unchanged ").count(), 3, "{again}");
    assert!(again.lines().any(|l| l == "SUCCEEDED"), "{again}");
}

#[test]
fn samples_deploy_writes_an_editable_project_to_a_running_server() {
    if !node_ready() {
        return;
    }
    let s = serve(&["--wait-scale", "0.1"]);
    let dir = tempfile::tempdir().expect("tmp");
    let project = dir.path().join("mine");
    let out = stdout(&ironstep(
        &[
            "samples",
            "deploy",
            "start-workflow-within-workflow",
            "--endpoint",
            &s.endpoint(),
            "--dir",
            &project.display().to_string(),
        ],
        None,
        true,
    ));
    assert!(
        out.contains(&format!(
            "code: hot-reload {}",
            project.join("functions").display()
        )),
        "{out}"
    );
    for f in [
        "template.yaml",
        "statemachines/parent.asl.json",
        "statemachines/child.asl.json",
        "functions/callback.js",
        "README.md",
    ] {
        assert!(project.join(f).is_file(), "{f}");
    }
    // An edit is kept on the next deploy, and runs.
    let js = project.join("functions/callback.js");
    let edited = std::fs::read_to_string(&js).expect("read").replace(
        "output: JSON.stringify(event.Message)",
        "output: JSON.stringify(event.Message + \" (edited)\")",
    );
    std::fs::write(&js, &edited).expect("write");
    let out = stdout(&ironstep(
        &[
            "samples",
            "deploy",
            "start-workflow-within-workflow",
            "--endpoint",
            &s.endpoint(),
            "--dir",
            &project.display().to_string(),
        ],
        None,
        true,
    ));
    assert!(out.contains("Keeping your edited"), "{out}");
    let check = py_env(
        &s,
        &[],
        r#"
parent = [m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"] if "NestingPatternMain" in m["name"]][0]
d = wait(sfn.start_execution(stateMachineArn=parent, input="{}")["executionArn"], 120)
assert d["status"] == "SUCCEEDED" and json.loads(d["output"])[1].endswith("(edited)"), d
print("ok")
"#,
    );
    assert_eq!(check.trim(), "ok");
}

#[test]
fn deploy_plans_for_the_servers_region_and_account() {
    let s = serve(&["--region", "eu-west-1", "--account", "111122223333"]);
    let dir = tempfile::tempdir().expect("tmp");
    let project = dir.path().join("app");
    std::fs::create_dir_all(&project).expect("mkdir");
    std::fs::write(project.join("template.yaml"), APP).expect("write");
    let out = stdout(&ironstep(
        &[
            "deploy",
            &project.display().to_string(),
            "--endpoint",
            &s.endpoint(),
        ],
        None,
        true,
    ));
    assert!(
        out.contains("(region eu-west-1, account 111122223333)"),
        "{out}"
    );
    assert!(
        out.contains("GreetArn  arn:aws:states:eu-west-1:111122223333:stateMachine:app-Greet-"),
        "{out}"
    );
    assert!(
        out.contains("FnArn     arn:aws:lambda:eu-west-1:111122223333:function:app-Fn-"),
        "{out}"
    );
}
