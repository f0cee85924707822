//! Lambda's REST-JSON API (`/2015-03-31/functions/...`) over [`Functions`].

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use base64::Engine as _;
use http_body_util::BodyExt as _;
use serde::Deserialize;

use crate::Functions;
use crate::error::LambdaApiError;
use crate::invoke::{InvocationType, InvokeRequest, LogType};
use crate::registry::{ConfigurationUpdate, FunctionCode, FunctionDefinition};

/// Largest `CreateFunction`/`UpdateFunctionCode` request: a 50 MB zip, base64-encoded, as Lambda.
const MAX_CODE_REQUEST: usize = 69_905_067;
/// Invoke bodies are read up to this size (more than any accepted payload) so that an oversized
/// request still gets Lambda's `RequestTooLargeException` rather than a reset connection.
const MAX_INVOKE_READ: usize = 6_291_456 + 1;
/// Bytes drained (and dropped) after a limit is hit, so the client can read our error response.
const MAX_DRAIN: usize = 128 << 20;
/// LocalStack's convention: code from this "bucket" is a local directory named by `S3Key`.
const HOT_RELOAD_BUCKET: &str = "hot-reload";

/// Builds the router.
pub fn router(functions: Functions) -> Router {
    Router::new()
        .route(
            "/2015-03-31/functions",
            post(create_function).get(list_functions),
        )
        .route(
            "/2015-03-31/functions/",
            post(create_function).get(list_functions),
        )
        .route(
            "/2015-03-31/functions/{name}",
            get(get_function).delete(delete_function),
        )
        .route(
            "/2015-03-31/functions/{name}/configuration",
            get(get_function_configuration).put(update_function_configuration),
        )
        .route(
            "/2015-03-31/functions/{name}/code",
            put(update_function_code),
        )
        .route("/2015-03-31/functions/{name}/invocations", post(invoke))
        .route(
            "/2017-10-31/functions/{name}/concurrency",
            put(put_function_concurrency).delete(delete_function_concurrency),
        )
        .route(
            "/2019-09-30/functions/{name}/concurrency",
            get(get_function_concurrency),
        )
        // Bodies are read by the handlers with Lambda's own limits and errors.
        .layer(DefaultBodyLimit::disable())
        .with_state(functions)
}

fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl IntoResponse for LambdaApiError {
    fn into_response(self) -> Response {
        // Lambda's error shapes spell the member `Message` for some codes and `message` for others.
        let message_key = match self.code {
            "ResourceNotFoundException" | "ServiceException" | "InvalidRuntimeException" => {
                "Message"
            }
            _ => "message",
        };
        let mut body = serde_json::Map::new();
        body.insert(
            "Type".into(),
            (if self.is_user_fault() {
                "User"
            } else {
                "Service"
            })
            .into(),
        );
        body.insert(message_key.into(), self.message.into());
        if let Some(reason) = self.reason {
            body.insert("Reason".into(), reason.into());
        }
        let status =
            StatusCode::from_u16(self.http_status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, serde_json::Value::Object(body).to_string()).into_response();
        let h = response.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        h.insert("x-amzn-ErrorType", HeaderValue::from_static(self.code));
        if let Ok(v) = HeaderValue::from_str(&request_id()) {
            h.insert("x-amzn-RequestId", v);
        }
        response
    }
}

/// A 200 with the JSON of the value, or the error's own response.
fn ok_or_error<T: serde::Serialize>(result: Result<T, LambdaApiError>) -> Response {
    match result {
        Ok(v) => json(StatusCode::OK, &v),
        Err(e) => e.into_response(),
    }
}

fn json(status: StatusCode, value: &impl serde::Serialize) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let mut response = (status, body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(&request_id()) {
        h.insert("x-amzn-RequestId", v);
    }
    response
}

/// Reads a body up to `limit` bytes; beyond that, drains the rest and says it was too large.
async fn read_limited(body: Body, limit: usize) -> Result<Bytes, usize> {
    let mut body = body;
    let mut buf = Vec::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { break };
        if let Ok(data) = frame.into_data() {
            total += data.len();
            if total <= limit {
                buf.extend_from_slice(&data);
            } else {
                buf = Vec::new();
                if total > MAX_DRAIN {
                    break;
                }
            }
        }
    }
    if total > limit {
        Err(total)
    } else {
        Ok(Bytes::from(buf))
    }
}

async fn read_json<T: for<'de> Deserialize<'de>>(
    body: Body,
    operation: &str,
) -> Result<T, LambdaApiError> {
    let bytes = read_limited(body, MAX_CODE_REQUEST).await.map_err(|_| {
        LambdaApiError::request_too_large(format!(
            "Request must be smaller than {MAX_CODE_REQUEST} bytes for the {operation} operation"
        ))
    })?;
    let bytes: &[u8] = if bytes.is_empty() { b"{}" } else { &bytes };
    serde_json::from_slice(bytes).map_err(|e| {
        LambdaApiError::invalid_request_content(format!(
            "Could not parse request body into json: {e}"
        ))
    })
}

fn u32_param(value: Option<i64>, field: &str, min: i64) -> Result<Option<u32>, LambdaApiError> {
    match value {
        None => Ok(None),
        Some(v) if v < min => Err(LambdaApiError::validation_one(
            &v.to_string(),
            field,
            &format!("Member must have value greater than or equal to {min}"),
        )),
        Some(v) => Ok(Some(u32::try_from(v).unwrap_or(u32::MAX))),
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct CodeBody {
    zip_file: Option<String>,
    s3_bucket: Option<String>,
    s3_key: Option<String>,
    image_uri: Option<String>,
}

impl CodeBody {
    fn into_code(self) -> Result<FunctionCode, LambdaApiError> {
        if self.image_uri.is_some() {
            return Err(LambdaApiError::invalid_parameter(
                "ironstep runs zip packages and local directories, not container images (ImageUri).",
            ));
        }
        match (self.zip_file, self.s3_bucket, self.s3_key) {
            (Some(zip), None, _) => {
                let bytes = base64::engine::general_purpose::STANDARD.decode(zip.trim()).map_err(|_| {
                    LambdaApiError::invalid_parameter(
                        "Could not unzip uploaded file. Please check your file, then try to upload again.",
                    )
                })?;
                Ok(FunctionCode::Zip(bytes))
            }
            (None, Some(bucket), Some(key)) if bucket == HOT_RELOAD_BUCKET => {
                Ok(FunctionCode::Directory(PathBuf::from(key)))
            }
            (None, Some(bucket), _) => Err(LambdaApiError::invalid_parameter(format!(
                "Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: The specified bucket '{bucket}' does not exist (ironstep takes ZipFile, or S3Bucket \"{HOT_RELOAD_BUCKET}\" with a local directory as S3Key)"
            ))),
            _ => Err(LambdaApiError::invalid_parameter(
                "Please provide a source for function code.",
            )),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EnvironmentBody {
    #[serde(default)]
    variables: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SizeBody {
    size: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TracingBody {
    mode: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateFunctionBody {
    function_name: Option<String>,
    runtime: Option<String>,
    role: Option<String>,
    handler: Option<String>,
    code: Option<CodeBody>,
    description: Option<String>,
    timeout: Option<i64>,
    memory_size: Option<i64>,
    environment: Option<EnvironmentBody>,
    tags: Option<BTreeMap<String, String>>,
    architectures: Option<Vec<String>>,
    ephemeral_storage: Option<SizeBody>,
    tracing_config: Option<TracingBody>,
    package_type: Option<String>,
}

async fn create_function(State(f): State<Functions>, request: Request) -> Response {
    let result = async {
        let body: CreateFunctionBody = read_json(request.into_body(), "CreateFunction").await?;
        let Some(name) = body.function_name else {
            return Err(LambdaApiError::validation(
                "1 validation error detected: Value null at 'functionName' failed to satisfy constraint: Member must not be null",
            ));
        };
        if body.package_type.as_deref() == Some("Image") {
            return Err(LambdaApiError::invalid_parameter(
                "ironstep runs zip packages and local directories, not container images (PackageType Image).",
            ));
        }
        let Some(runtime) = body.runtime else {
            return Err(LambdaApiError::invalid_parameter(
                "Runtime and Handler are mandatory parameters for functions created with deployment packages.",
            ));
        };
        let code = body.code.unwrap_or_default().into_code()?;
        let def = FunctionDefinition {
            name,
            runtime,
            handler: body.handler,
            role: body.role,
            description: body.description,
            timeout: u32_param(body.timeout, "timeout", 1)?,
            memory_size: u32_param(body.memory_size, "memorySize", 128)?,
            environment: body.environment.map(|e| e.variables).unwrap_or_default(),
            architectures: body.architectures,
            tags: body.tags.unwrap_or_default(),
            ephemeral_storage: u32_param(body.ephemeral_storage.and_then(|e| e.size), "ephemeralStorage.size", 512)?,
            tracing_mode: body.tracing_config.and_then(|t| t.mode),
            code,
        };
        f.create_function(def).await
    }
    .await;
    match result {
        Ok(c) => json(StatusCode::CREATED, &c),
        Err(e) => e.into_response(),
    }
}

async fn list_functions(
    State(f): State<Functions>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let max_items = match q.get("MaxItems").map(|v| v.parse::<u32>()) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => {
            return LambdaApiError::invalid_parameter(
                "Invalid MaxItems: must be a number between 1 and 10000",
            )
            .into_response();
        }
    };
    match f.list_functions(q.get("Marker").map(String::as_str), max_items) {
        Ok((functions, next)) => {
            let mut out = serde_json::Map::new();
            if let Some(n) = next {
                out.insert("NextMarker".into(), n.into());
            }
            out.insert(
                "Functions".into(),
                serde_json::to_value(functions).unwrap_or_default(),
            );
            json(StatusCode::OK, &out)
        }
        Err(e) => e.into_response(),
    }
}

async fn get_function(
    State(f): State<Functions>,
    Path(name): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    ok_or_error(f.get_function(&name, q.get("Qualifier").map(String::as_str)))
}

async fn get_function_configuration(
    State(f): State<Functions>,
    Path(name): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    ok_or_error(f.get_function_configuration(&name, q.get("Qualifier").map(String::as_str)))
}

async fn delete_function(
    State(f): State<Functions>,
    Path(name): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    match f
        .delete_function(&name, q.get("Qualifier").map(String::as_str))
        .await
    {
        Ok(()) => (StatusCode::NO_CONTENT, [("x-amzn-RequestId", request_id())]).into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateCodeBody {
    zip_file: Option<String>,
    s3_bucket: Option<String>,
    s3_key: Option<String>,
    image_uri: Option<String>,
    revision_id: Option<String>,
}

async fn update_function_code(
    State(f): State<Functions>,
    Path(name): Path<String>,
    request: Request,
) -> Response {
    let result = async {
        let body: UpdateCodeBody = read_json(request.into_body(), "UpdateFunctionCode").await?;
        let code = CodeBody {
            zip_file: body.zip_file,
            s3_bucket: body.s3_bucket,
            s3_key: body.s3_key,
            image_uri: body.image_uri,
        }
        .into_code()?;
        f.update_function_code(&name, code, body.revision_id.as_deref())
            .await
    }
    .await;
    ok_or_error(result)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateConfigurationBody {
    runtime: Option<String>,
    role: Option<String>,
    handler: Option<String>,
    description: Option<String>,
    timeout: Option<i64>,
    memory_size: Option<i64>,
    environment: Option<EnvironmentBody>,
    ephemeral_storage: Option<SizeBody>,
    tracing_config: Option<TracingBody>,
    revision_id: Option<String>,
}

async fn update_function_configuration(
    State(f): State<Functions>,
    Path(name): Path<String>,
    request: Request,
) -> Response {
    let result = async {
        let body: UpdateConfigurationBody =
            read_json(request.into_body(), "UpdateFunctionConfiguration").await?;
        let update = ConfigurationUpdate {
            runtime: body.runtime,
            handler: body.handler,
            role: body.role,
            description: body.description,
            timeout: u32_param(body.timeout, "timeout", 1)?,
            memory_size: u32_param(body.memory_size, "memorySize", 128)?,
            environment: body.environment.map(|e| e.variables),
            ephemeral_storage: u32_param(
                body.ephemeral_storage.and_then(|e| e.size),
                "ephemeralStorage.size",
                512,
            )?,
            tracing_mode: body.tracing_config.and_then(|t| t.mode),
            revision_id: body.revision_id,
        };
        f.update_function_configuration(&name, update).await
    }
    .await;
    ok_or_error(result)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConcurrencyBody {
    reserved_concurrent_executions: Option<i64>,
}

async fn put_function_concurrency(
    State(f): State<Functions>,
    Path(name): Path<String>,
    request: Request,
) -> Response {
    let result = async {
        let body: ConcurrencyBody = read_json(request.into_body(), "PutFunctionConcurrency").await?;
        let Some(n) = u32_param(body.reserved_concurrent_executions, "reservedConcurrentExecutions", 0)? else {
            return Err(LambdaApiError::validation(
                "1 validation error detected: Value null at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must not be null",
            ));
        };
        f.put_function_concurrency(&name, n).await
    }
    .await;
    match result {
        Ok(n) => json(
            StatusCode::OK,
            &serde_json::json!({ "ReservedConcurrentExecutions": n }),
        ),
        Err(e) => e.into_response(),
    }
}

async fn get_function_concurrency(
    State(f): State<Functions>,
    Path(name): Path<String>,
) -> Response {
    match f.get_function_concurrency(&name) {
        Ok(Some(n)) => json(
            StatusCode::OK,
            &serde_json::json!({ "ReservedConcurrentExecutions": n }),
        ),
        Ok(None) => json(StatusCode::OK, &serde_json::json!({})),
        Err(e) => e.into_response(),
    }
}

async fn delete_function_concurrency(
    State(f): State<Functions>,
    Path(name): Path<String>,
) -> Response {
    match f.delete_function_concurrency(&name).await {
        Ok(()) => (StatusCode::NO_CONTENT, [("x-amzn-RequestId", request_id())]).into_response(),
        Err(e) => e.into_response(),
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn invoke(
    State(f): State<Functions>,
    Path(name): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let result = async {
        let invocation_type = match header_str(&parts.headers, "x-amz-invocation-type") {
            None => InvocationType::RequestResponse,
            Some(t) => InvocationType::parse(t).ok_or_else(|| {
                LambdaApiError::validation_one(
                    t,
                    "invocationType",
                    "Member must satisfy enum value set: [Event, RequestResponse, DryRun]",
                )
            })?,
        };
        let log_type = match header_str(&parts.headers, "x-amz-log-type") {
            None | Some("None") => LogType::None,
            Some("Tail") => LogType::Tail,
            Some(t) => {
                return Err(LambdaApiError::validation_one(
                    t,
                    "logType",
                    "Member must satisfy enum value set: [None, Tail]",
                ));
            }
        };
        let limit = if invocation_type == InvocationType::Event {
            262_144 + 1
        } else {
            MAX_INVOKE_READ
        };
        let payload = match read_limited(body, limit).await {
            Ok(b) => b,
            // Let `invoke` produce the exact error with a payload just over the limit.
            Err(_) => Bytes::from(vec![b' '; limit]),
        };
        f.invoke(InvokeRequest {
            function: name,
            qualifier: q.get("Qualifier").cloned(),
            payload,
            invocation_type,
            log_type,
            client_context: header_str(&parts.headers, "x-amz-client-context").map(str::to_owned),
        })
        .await
    }
    .await;
    match result {
        Ok(r) => {
            let status = StatusCode::from_u16(r.status_code).unwrap_or(StatusCode::OK);
            let mut response = (status, r.payload).into_response();
            let h = response.headers_mut();
            if status == StatusCode::OK {
                h.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
            }
            let mut set = |name: &'static str, value: &str| {
                if let Ok(v) = HeaderValue::from_str(value) {
                    h.insert(name, v);
                }
            };
            set("x-amzn-RequestId", &r.request_id);
            if let Some(v) = &r.executed_version {
                set("X-Amz-Executed-Version", v);
            }
            if let Some(v) = &r.function_error {
                set("X-Amz-Function-Error", v);
            }
            if let Some(v) = &r.log_result {
                set("X-Amz-Log-Result", v);
            }
            response
        }
        Err(e) => e.into_response(),
    }
}
