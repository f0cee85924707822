//! Wires local Lambda functions (`ironstep-functions`) into the engine's task integrations.

use async_trait::async_trait;
use ironstep_functions::{Functions, InvocationType, InvokeRequest, LogType};
use ironstep_runtime::{LambdaError, LambdaInvoker, LambdaRequest, LambdaResponse};

/// The engine's view of the function pool.
pub struct LocalLambda(pub Functions);

#[async_trait]
impl LambdaInvoker for LocalLambda {
    async fn invoke(&self, req: LambdaRequest) -> Result<LambdaResponse, LambdaError> {
        let invocation_type = match req.invocation_type.as_str() {
            "Event" => InvocationType::Event,
            "DryRun" => InvocationType::DryRun,
            _ => InvocationType::RequestResponse,
        };
        let log_type = match req.log_type.as_deref() {
            Some("Tail") => LogType::Tail,
            _ => LogType::None,
        };
        let r = self
            .0
            .invoke(InvokeRequest {
                function: req.function,
                qualifier: req.qualifier,
                payload: req.payload.into(),
                invocation_type,
                log_type,
                client_context: req.client_context,
            })
            .await
            .map_err(|e| LambdaError {
                code: e.code.to_string(),
                message: e.message,
                status: e.http_status,
            })?;
        Ok(LambdaResponse {
            status_code: r.status_code,
            executed_version: r.executed_version.unwrap_or_else(|| "$LATEST".into()),
            payload: r.payload.to_vec(),
            function_error: r.function_error,
            error_type: r.error_type,
            log_result: r.log_result,
            request_id: r.request_id,
        })
    }
}
