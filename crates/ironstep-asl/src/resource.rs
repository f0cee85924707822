//! Task `Resource` strings, classified once at compile time.

use std::fmt;

/// How a Task waits for its integration (the resource suffix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pattern {
    /// No suffix: the API answer is the result.
    RequestResponse,
    /// `.sync`: run a job and wait for it.
    Sync,
    /// `.sync:2`: like `.sync` with JSON (not string) input and output.
    Sync2,
    /// `.waitForTaskToken`: wait for `SendTaskSuccess`/`SendTaskFailure`.
    WaitForTaskToken,
}

impl Pattern {
    /// The suffix as written after the API name.
    pub fn suffix(self) -> &'static str {
        match self {
            Pattern::RequestResponse => "",
            Pattern::Sync => ".sync",
            Pattern::Sync2 => ".sync:2",
            Pattern::WaitForTaskToken => ".waitForTaskToken",
        }
    }
}

/// A classified Task resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// `arn:aws:states:::<service>:<api>[.pattern]`, an optimized or SDK integration.
    Service {
        /// `states`, `lambda`, `aws-sdk:sfn`, `sqs`, ...
        service: String,
        /// `startExecution`, `invoke`, `sendTaskSuccess`, ...
        api: String,
        /// The suffix.
        pattern: Pattern,
    },
    /// A Lambda function ARN used directly (the legacy Lambda resource).
    LambdaFunction {
        /// The whole function ARN, possibly with a qualifier.
        arn: String,
    },
    /// An activity ARN.
    Activity {
        /// The whole activity ARN.
        arn: String,
    },
}

impl Resource {
    /// Classify a resource string, or explain why it is not one AWS accepts.
    pub fn parse(text: &str) -> Result<Resource, String> {
        let parts: Vec<&str> = text.splitn(6, ':').collect();
        if parts.len() < 6 || parts[0] != "arn" || parts[1].is_empty() {
            return Err(format!("Resource '{text}' is not a valid ARN"));
        }
        let (service, region, account, rest) = (parts[2], parts[3], parts[4], parts[5]);
        match service {
            "states" if region.is_empty() && account.is_empty() => {
                let (service, api_with_pattern) = if let Some(sdk) = rest.strip_prefix("aws-sdk:") {
                    let (svc, api) = sdk
                        .split_once(':')
                        .ok_or_else(|| format!("Resource '{text}' is not a valid ARN"))?;
                    (format!("aws-sdk:{svc}"), api)
                } else {
                    let (svc, api) = rest
                        .split_once(':')
                        .ok_or_else(|| format!("Resource '{text}' is not a valid ARN"))?;
                    (svc.to_string(), api)
                };
                let (api, pattern) = split_pattern(api_with_pattern);
                if api.is_empty() || service.is_empty() {
                    return Err(format!("Resource '{text}' is not a valid ARN"));
                }
                Ok(Resource::Service {
                    service,
                    api: api.to_string(),
                    pattern,
                })
            }
            "states" if rest.starts_with("activity:") && rest.len() > "activity:".len() => {
                Ok(Resource::Activity {
                    arn: text.to_string(),
                })
            }
            "lambda" if rest.starts_with("function:") && rest.len() > "function:".len() => {
                Ok(Resource::LambdaFunction {
                    arn: text.to_string(),
                })
            }
            _ => Err(format!("Resource '{text}' is not a valid ARN")),
        }
    }

    /// The integration pattern (activities and legacy Lambda behave like request/response
    /// from the validator's point of view, except activities which Express rejects).
    pub fn pattern(&self) -> Pattern {
        match self {
            Resource::Service { pattern, .. } => *pattern,
            _ => Pattern::RequestResponse,
        }
    }

    /// `resourceType` in task history events (`states`, `lambda`, `aws-sdk:sfn`).
    pub fn resource_type(&self) -> &str {
        match self {
            Resource::Service { service, .. } => service,
            Resource::LambdaFunction { .. } => "lambda",
            Resource::Activity { .. } => "activity",
        }
    }

    /// `resource` in task history events: the API name with its suffix (`startExecution.sync:2`).
    pub fn resource_name(&self) -> String {
        match self {
            Resource::Service { api, pattern, .. } => format!("{api}{}", pattern.suffix()),
            Resource::LambdaFunction { arn } | Resource::Activity { arn } => arn.clone(),
        }
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Resource::Service {
                service,
                api,
                pattern,
            } => write!(f, "arn:aws:states:::{service}:{api}{}", pattern.suffix()),
            Resource::LambdaFunction { arn } | Resource::Activity { arn } => f.write_str(arn),
        }
    }
}

fn split_pattern(api: &str) -> (&str, Pattern) {
    if let Some(a) = api.strip_suffix(".sync:2") {
        (a, Pattern::Sync2)
    } else if let Some(a) = api.strip_suffix(".sync") {
        (a, Pattern::Sync)
    } else if let Some(a) = api.strip_suffix(".waitForTaskToken") {
        (a, Pattern::WaitForTaskToken)
    } else {
        (api, Pattern::RequestResponse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_start_execution_patterns() {
        for (text, api, pattern) in [
            (
                "arn:aws:states:::states:startExecution",
                "startExecution",
                Pattern::RequestResponse,
            ),
            (
                "arn:aws:states:::states:startExecution.sync",
                "startExecution",
                Pattern::Sync,
            ),
            (
                "arn:aws:states:::states:startExecution.sync:2",
                "startExecution",
                Pattern::Sync2,
            ),
            (
                "arn:aws:states:::states:startExecution.waitForTaskToken",
                "startExecution",
                Pattern::WaitForTaskToken,
            ),
        ] {
            let r = Resource::parse(text).unwrap();
            assert_eq!(
                r,
                Resource::Service {
                    service: "states".into(),
                    api: api.into(),
                    pattern
                }
            );
            assert_eq!(r.to_string(), text);
        }
    }

    #[test]
    fn classifies_sdk_lambda_and_activity() {
        let r = Resource::parse("arn:aws:states:::aws-sdk:sfn:sendTaskSuccess").unwrap();
        assert_eq!(r.resource_type(), "aws-sdk:sfn");
        assert_eq!(r.resource_name(), "sendTaskSuccess");
        let r = Resource::parse("arn:aws:lambda:us-east-1:123456789012:function:f").unwrap();
        assert!(matches!(r, Resource::LambdaFunction { .. }));
        let r = Resource::parse("arn:aws:states:us-east-1:123456789012:activity:a").unwrap();
        assert!(matches!(r, Resource::Activity { .. }));
        let r = Resource::parse("arn:aws:states:::lambda:invoke.waitForTaskToken").unwrap();
        assert_eq!(r.resource_name(), "invoke.waitForTaskToken");
        assert_eq!(r.pattern(), Pattern::WaitForTaskToken);
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "foo",
            "arn:aws:states",
            "arn:aws:states:::",
            "arn:aws:s3:::bucket",
            "arn:aws:states:::states:",
        ] {
            assert!(Resource::parse(bad).is_err(), "{bad}");
        }
    }
}
