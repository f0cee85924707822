//! The AWS SDK for Rust (`aws-sdk-sfn`) against ironstep's HTTP server (the same router and
//! server loop as `ironstep serve`, over an engine on a SQLite store in a temporary directory):
//! executions, history, typed errors, activities with task tokens, and `StartSyncExecution`
//! (whose `sync-` host prefix an interceptor removes, the setup the README recommends for local
//! endpoints).

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_sfn::Client;
use aws_sdk_sfn::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_sfn::config::{
    BehaviorVersion, ConfigBag, Credentials, Intercept, Region, RuntimeComponents,
};
use aws_sdk_sfn::error::{BoxError, ProvideErrorMetadata};
use aws_sdk_sfn::types::{
    ExecutionStatus, HistoryEventType, StateMachineType, SyncExecutionStatus,
};
use ironstep_runtime::{Engine, EngineConfig, SystemClock};

/// A server on a free port; dropped with the test (its runtime ends).
struct Server {
    endpoint: String,
    _dir: tempfile::TempDir,
}

impl Server {
    fn endpoint(&self) -> String {
        self.endpoint.clone()
    }
}

async fn serve() -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = ironstep_store_sqlite::SqliteStore::open(
        dir.path(),
        ironstep_store_sqlite::SqliteOptions::default(),
    )
    .expect("SQLite store");
    let engine = Engine::start(
        EngineConfig::default(),
        Arc::new(store),
        Arc::new(SystemClock),
    )
    .await
    .expect("engine");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    let app = ironstep_api::guard(ironstep_api::router(engine));
    tokio::spawn(ironstep_api::server::serve(
        listener,
        app,
        std::future::pending::<()>(),
    ));
    Server {
        endpoint,
        _dir: dir,
    }
}

const ROLE: &str = "arn:aws:iam::123456789012:role/test";

/// Undo the `sync-` host prefix that the SDK puts in front of `StartSyncExecution`'s endpoint:
/// `sync-127.0.0.1` does not resolve.
#[derive(Debug)]
struct NoHostPrefix;

impl Intercept for NoHostPrefix {
    fn name(&self) -> &'static str {
        "NoHostPrefix"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let uri = context.request().uri().replacen("://sync-", "://", 1);
        context.request_mut().set_uri(uri)?;
        Ok(())
    }
}

fn client(endpoint: &str) -> Client {
    let config = aws_sdk_sfn::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .interceptor(NoHostPrefix)
        .build();
    Client::from_conf(config)
}

async fn wait_closed(
    sfn: &Client,
    arn: &str,
) -> aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let d = sfn
            .describe_execution()
            .execution_arn(arn)
            .send()
            .await
            .expect("DescribeExecution");
        if d.status() != &ExecutionStatus::Running || Instant::now() > deadline {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_sdk_runs_a_standard_execution_and_reads_its_history() {
    let s = serve().await;
    let sfn = client(&s.endpoint());
    let definition = r#"{
      "StartAt": "Greet",
      "States": {
        "Greet": {"Type": "Pass", "Parameters": {"greeting.$": "States.Format('hello {}', $.who)"}, "Next": "Pause"},
        "Pause": {"Type": "Wait", "Seconds": 0, "Next": "Check"},
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$.greeting", "StringEquals": "hello sdk", "Next": "Done"}], "Default": "Wrong"},
        "Wrong": {"Type": "Fail", "Error": "Wrong"},
        "Done": {"Type": "Succeed"}
      }
    }"#;
    let sm = sfn
        .create_state_machine()
        .name("greeter")
        .definition(definition)
        .role_arn(ROLE)
        .send()
        .await
        .expect("CreateStateMachine");
    assert_eq!(
        sm.state_machine_arn(),
        "arn:aws:states:us-east-1:123456789012:stateMachine:greeter"
    );
    let started = sfn
        .start_execution()
        .state_machine_arn(sm.state_machine_arn())
        .name("first")
        .input(r#"{"who": "sdk"}"#)
        .send()
        .await
        .expect("StartExecution");
    let d = wait_closed(&sfn, started.execution_arn()).await;
    assert_eq!(d.status(), &ExecutionStatus::Succeeded);
    assert_eq!(d.output(), Some(r#"{"greeting":"hello sdk"}"#));
    assert!(d.stop_date().is_some());

    let history = sfn
        .get_execution_history()
        .execution_arn(started.execution_arn())
        .send()
        .await
        .expect("GetExecutionHistory");
    let types: Vec<&HistoryEventType> = history.events().iter().map(|e| e.r#type()).collect();
    use HistoryEventType as H;
    assert_eq!(
        types,
        [
            &H::ExecutionStarted,
            &H::PassStateEntered,
            &H::PassStateExited,
            &H::WaitStateEntered,
            &H::WaitStateExited,
            &H::ChoiceStateEntered,
            &H::ChoiceStateExited,
            &H::SucceedStateEntered,
            &H::SucceedStateExited,
            &H::ExecutionSucceeded,
        ]
    );
    let ids: Vec<i64> = history.events().iter().map(|e| e.id()).collect();
    assert_eq!(ids, (1..=10).collect::<Vec<_>>());

    let listed = sfn
        .list_executions()
        .state_machine_arn(sm.state_machine_arn())
        .send()
        .await
        .expect("ListExecutions");
    assert_eq!(listed.executions().len(), 1);
    assert_eq!(listed.executions()[0].name(), "first");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_sdk_gets_typed_errors() {
    let s = serve().await;
    let sfn = client(&s.endpoint());
    let missing = sfn
        .describe_execution()
        .execution_arn("arn:aws:states:us-east-1:123456789012:execution:nope:nope")
        .send()
        .await
        .expect_err("no such execution")
        .into_service_error();
    assert!(missing.is_execution_does_not_exist(), "{missing:?}");

    let invalid = sfn
        .create_state_machine()
        .name("bad")
        .definition(r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}"#)
        .role_arn(ROLE)
        .send()
        .await
        .expect_err("invalid definition")
        .into_service_error();
    assert!(invalid.is_invalid_definition(), "{invalid:?}");
    let message = invalid.message().unwrap_or_default();
    assert!(
        message.contains("Missing 'Next' target: B"),
        "message: {message}"
    );

    let sm = sfn
        .create_state_machine()
        .name("ok")
        .definition(
            r#"{"StartAt": "A", "States": {"A": {"Type": "Wait", "Seconds": 60, "End": true}}}"#,
        )
        .role_arn(ROLE)
        .send()
        .await
        .expect("CreateStateMachine");
    let start = |input: &'static str| {
        sfn.start_execution()
            .state_machine_arn(sm.state_machine_arn())
            .name("same")
            .input(input)
            .send()
    };
    start("{}").await.expect("first start");
    // The same name and input is idempotent; another input is a conflict.
    start("{}").await.expect("idempotent start");
    let dup = start(r#"{"other": 1}"#)
        .await
        .expect_err("different input")
        .into_service_error();
    assert!(dup.is_execution_already_exists(), "{dup:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_sdk_activity_worker_answers_with_its_task_token() {
    let s = serve().await;
    let sfn = client(&s.endpoint());
    let activity = sfn
        .create_activity()
        .name("work")
        .send()
        .await
        .expect("CreateActivity");
    let definition = format!(
        r#"{{"StartAt": "Work", "States": {{"Work": {{"Type": "Task", "Resource": "{}", "End": true}}}}}}"#,
        activity.activity_arn()
    );
    let sm = sfn
        .create_state_machine()
        .name("worker")
        .definition(definition)
        .role_arn(ROLE)
        .send()
        .await
        .expect("CreateStateMachine");
    let exec = sfn
        .start_execution()
        .state_machine_arn(sm.state_machine_arn())
        .input(r#"{"n": 20}"#)
        .send()
        .await
        .expect("StartExecution");
    let task = sfn
        .get_activity_task()
        .activity_arn(activity.activity_arn())
        .worker_name("rust-worker")
        .send()
        .await
        .expect("GetActivityTask");
    // The effective input, serialized again (compact) as AWS does.
    assert_eq!(task.input(), Some(r#"{"n":20}"#));
    let token = task.task_token().expect("a task");
    sfn.send_task_heartbeat()
        .task_token(token)
        .send()
        .await
        .expect("SendTaskHeartbeat");
    sfn.send_task_success()
        .task_token(token)
        .output(r#"{"doubled": 40}"#)
        .send()
        .await
        .expect("SendTaskSuccess");
    let d = wait_closed(&sfn, exec.execution_arn()).await;
    assert_eq!(d.status(), &ExecutionStatus::Succeeded);
    assert_eq!(d.output(), Some(r#"{"doubled":40}"#));
    // A token answers once.
    let again = sfn
        .send_task_success()
        .task_token(token)
        .output("{}")
        .send()
        .await
        .expect_err("second answer")
        .into_service_error();
    assert!(
        again.is_task_timed_out() || again.is_invalid_token(),
        "{again:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_sdk_start_sync_execution_runs_an_express_machine() {
    let s = serve().await;
    let sfn = client(&s.endpoint());
    let sm = sfn
        .create_state_machine()
        .name("express")
        .r#type(StateMachineType::Express)
        .definition(r#"{"StartAt": "Sum", "States": {"Sum": {"Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($.a, $.b)"}, "End": true}}}"#)
        .role_arn(ROLE)
        .send()
        .await
        .expect("CreateStateMachine");
    let out = sfn
        .start_sync_execution()
        .state_machine_arn(sm.state_machine_arn())
        .input(r#"{"a": 2, "b": 40}"#)
        .send()
        .await
        .expect("StartSyncExecution");
    assert_eq!(out.status(), &SyncExecutionStatus::Succeeded);
    assert_eq!(out.output(), Some(r#"{"sum":42}"#));
    assert!(out.execution_arn().contains(":express:express:"));
}
