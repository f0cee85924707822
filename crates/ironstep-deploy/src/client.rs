//! A small client for the two APIs a deployment uses, over plain HTTP/1.1: Step Functions (AWS
//! JSON 1.0: `POST /` with `X-Amz-Target`) and Lambda (REST JSON under `/2015-03-31/functions`).
//! No request signing: ironstep does not check signatures.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;

use crate::error::{DeployError, Result};

/// How long one request may take (a deployment's requests are all quick).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// A client for one ironstep endpoint.
#[derive(Debug, Clone)]
pub struct Client {
    endpoint: String,
    host: String,
    port: u16,
}

/// An API error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// AWS's error code (`StateMachineDoesNotExist`, `ResourceNotFoundException`).
    pub code: String,
    /// The message.
    pub message: String,
}

/// The answer to a call: the JSON body, or the API's error.
pub type Answer = std::result::Result<Value, ApiError>;

impl Client {
    /// A client for `http://host:port` (a trailing `/` is fine; `https` is refused).
    pub fn new(endpoint: &str) -> Result<Self> {
        let bad = |reason: &str| DeployError::Endpoint {
            endpoint: endpoint.to_string(),
            reason: reason.to_string(),
        };
        let rest = endpoint
            .strip_prefix("http://")
            .ok_or_else(|| bad("only plain http://host:port endpoints are supported"))?;
        let authority = rest.trim_end_matches('/');
        if authority.contains('/') {
            return Err(bad("the endpoint must not have a path"));
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
                let port = p
                    .parse::<u16>()
                    .map_err(|_| bad("the port is not a number"))?;
                (h.to_string(), port)
            }
            _ => (authority.to_string(), 80),
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        Ok(Self {
            endpoint: format!("http://{authority}"),
            host,
            port,
        })
    }

    /// The endpoint, without a trailing `/`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Whether something accepts connections at the endpoint.
    pub async fn is_listening(&self) -> bool {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        tokio::time::timeout(
            Duration::from_secs(2),
            tokio::net::TcpStream::connect((host, self.port)),
        )
        .await
        .is_ok_and(|r| r.is_ok())
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<(StatusCode, Bytes, Option<String>)> {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        let fut = async {
            let stream = tokio::net::TcpStream::connect((host, self.port))
                .await
                .map_err(|e| DeployError::Unreachable {
                    endpoint: self.endpoint.clone(),
                    reason: e.to_string(),
                })?;
            let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|e| DeployError::Protocol(format!("{}: {e}", self.endpoint)))?;
            let driver = tokio::spawn(conn);
            let mut req = Request::builder()
                .method(method)
                .uri(path)
                .header(hyper::header::HOST, format!("{}:{}", self.host, self.port));
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            let req = req
                .body(Full::new(Bytes::from(body)))
                .map_err(|e| DeployError::Protocol(e.to_string()))?;
            let resp = sender
                .send_request(req)
                .await
                .map_err(|e| DeployError::Protocol(format!("{}{path}: {e}", self.endpoint)))?;
            let status = resp.status();
            let error_type = resp
                .headers()
                .get("x-amzn-errortype")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let bytes = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| DeployError::Protocol(format!("{}{path}: {e}", self.endpoint)))?
                .to_bytes();
            driver.abort();
            Ok((status, bytes, error_type))
        };
        tokio::time::timeout(REQUEST_TIMEOUT, fut)
            .await
            .map_err(|_| {
                DeployError::Protocol(format!(
                    "{}{path}: no answer within {} s",
                    self.endpoint,
                    REQUEST_TIMEOUT.as_secs()
                ))
            })?
    }

    /// A Step Functions action (`CreateStateMachine`, ...).
    pub async fn sfn(&self, action: &str, body: &Value) -> Result<Answer> {
        let target = format!("AWSStepFunctions.{action}");
        let (status, bytes, _) = self
            .send(
                Method::POST,
                "/",
                &[
                    ("x-amz-target", &target),
                    ("content-type", "application/x-amz-json-1.0"),
                ],
                body.to_string().into_bytes(),
            )
            .await?;
        let v: Value = if bytes.is_empty() {
            Value::Object(Default::default())
        } else {
            serde_json::from_slice(&bytes).map_err(|e| {
                DeployError::Protocol(format!(
                    "{} answered {action} with something that is not JSON ({e}); is it ironstep?",
                    self.endpoint
                ))
            })?
        };
        if status.is_success() {
            return Ok(Ok(v));
        }
        // AWS JSON 1.0 errors: `__type` is `[namespace#]Code`.
        let code = v
            .get("__type")
            .and_then(Value::as_str)
            .map(|t| t.rsplit('#').next().unwrap_or(t).to_string())
            .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
        let message = v
            .get("message")
            .or_else(|| v.get("Message"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        Ok(Err(ApiError {
            status: status.as_u16(),
            code,
            message,
        }))
    }

    /// A Lambda REST call.
    pub async fn lambda(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Answer> {
        let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let (status, bytes, error_type) = self
            .send(method, path, &[("content-type", "application/json")], body)
            .await?;
        let v: Value = if bytes.is_empty() {
            Value::Object(Default::default())
        } else {
            match serde_json::from_slice(&bytes) {
                Ok(v) => v,
                Err(_) if status == StatusCode::NOT_FOUND && error_type.is_none() => {
                    return Err(DeployError::Protocol(format!(
                        "{} does not serve the Lambda API ({path} is not found); is it ironstep?",
                        self.endpoint
                    )));
                }
                Err(e) => {
                    return Err(DeployError::Protocol(format!(
                        "{} answered {path} with something that is not JSON ({e})",
                        self.endpoint
                    )));
                }
            }
        };
        if status.is_success() {
            return Ok(Ok(v));
        }
        let code = error_type.unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
        let message = v
            .get("message")
            .or_else(|| v.get("Message"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        Ok(Err(ApiError {
            status: status.as_u16(),
            code,
            message,
        }))
    }

    /// A `GET` of one of ironstep's own JSON endpoints (`/ironstep/api/...`), with the error
    /// answer (`__type`, `message`) when it fails.
    pub async fn get(&self, path: &str) -> Result<Answer> {
        let (status, bytes, _) = self.send(Method::GET, path, &[], Vec::new()).await?;
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| {
            DeployError::Protocol(format!(
                "{} answered {path} with something that is not JSON ({e}); is it ironstep?",
                self.endpoint
            ))
        })?;
        if status.is_success() {
            return Ok(Ok(v));
        }
        Ok(Err(ApiError {
            status: status.as_u16(),
            code: v
                .get("__type")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| format!("HTTP {}", status.as_u16())),
            message: v
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        }))
    }

    /// A plain `GET` (for ironstep's own endpoints): `None` when not found.
    pub async fn get_json(&self, path: &str) -> Result<Option<Value>> {
        let (status, bytes, _) = self.send(Method::GET, path, &[], Vec::new()).await?;
        if !status.is_success() {
            return Ok(None);
        }
        Ok(serde_json::from_slice(&bytes).ok())
    }

    /// The server's region and account: ironstep's info endpoint when it has one, else the
    /// ARN in Lambda's answer for a function that does not exist (Lambda names the full ARN).
    pub async fn discover_partition(&self) -> Result<Option<(String, String)>> {
        if let Some(info) = self.get_json("/ironstep/api/info").await?
            && let (Some(r), Some(a)) = (
                info.get("region").and_then(Value::as_str),
                info.get("account").and_then(Value::as_str),
            )
        {
            return Ok(Some((r.to_string(), a.to_string())));
        }
        let probe = "ironstep-deploy-probe-0000";
        let answer = self
            .lambda(
                Method::GET,
                &format!("/2015-03-31/functions/{probe}/configuration"),
                None,
            )
            .await?;
        let text = match &answer {
            Ok(v) => v
                .get("FunctionArn")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            Err(e) => e.message.clone(),
        };
        // `...arn:aws:lambda:<region>:<account>:function:<name>`
        Ok(text.find("arn:").and_then(|i| {
            let mut parts = text[i..].split(':');
            let (_arn, _partition, _service) = (parts.next()?, parts.next()?, parts.next()?);
            let region = parts.next()?.to_string();
            let account = parts.next()?.to_string();
            (!region.is_empty() && account.len() == 12).then_some((region, account))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        let c = Client::new("http://127.0.0.1:8083/").expect("valid");
        assert_eq!(c.endpoint(), "http://127.0.0.1:8083");
        assert_eq!((c.host.as_str(), c.port), ("127.0.0.1", 8083));
        let c = Client::new("http://localhost").expect("valid");
        assert_eq!(c.port, 80);
        assert!(Client::new("https://x:1").is_err());
        assert!(Client::new("http://x:1/path").is_err());
        assert!(Client::new("http://x:port").is_err());
    }

    #[tokio::test]
    async fn nothing_listening_is_a_clear_error() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("port");
        let c = Client::new(&format!("http://127.0.0.1:{port}")).expect("valid");
        assert!(!c.is_listening().await);
        let e = c
            .sfn("ListStateMachines", &serde_json::json!({}))
            .await
            .expect_err("unreachable")
            .to_string();
        assert!(
            e.starts_with(&format!(
                "no ironstep server answers at http://127.0.0.1:{port} ("
            )) && e.ends_with("start one with `ironstep serve` (or pass --endpoint)"),
            "{e}"
        );
    }
}
