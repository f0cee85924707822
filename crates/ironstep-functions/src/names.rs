//! Function names as Lambda accepts them: `name`, `name:qualifier`,
//! `123456789012:function:name[:qualifier]` and `arn:aws:lambda:region:account:function:name[:qualifier]`.

use crate::error::LambdaApiError;

/// The qualifier of the only version we run.
pub const LATEST: &str = "$LATEST";

/// A function reference after parsing: the bare name and the qualifier, if one was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRef {
    /// The function's name.
    pub name: String,
    /// `$LATEST`, a version number or an alias name, when the reference carried one.
    pub qualifier: Option<String>,
}

/// Account and region used to build and check ARNs.
#[derive(Debug, Clone)]
pub struct Scope {
    /// e.g. `us-east-1`.
    pub region: String,
    /// 12 digits.
    pub account_id: String,
}

impl Scope {
    /// `arn:aws:lambda:<region>:<account>:function:<name>`.
    pub fn function_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{}",
            self.region, self.account_id, name
        )
    }

    /// The ARN with `:<qualifier>` appended.
    pub fn qualified_arn(&self, name: &str, qualifier: &str) -> String {
        format!("{}:{qualifier}", self.function_arn(name))
    }

    /// Parses a function name, ARN or partial ARN, and merges an explicit `Qualifier` parameter.
    ///
    /// Errors as Lambda: a malformed name is a `ValidationException` naming `field`, an ARN of
    /// another region is an `InvalidParameterValueException`, and a qualifier in the name that
    /// differs from the `Qualifier` parameter is an `InvalidParameterValueException`.
    pub fn parse(
        &self,
        input: &str,
        explicit_qualifier: Option<&str>,
        field: &str,
    ) -> Result<FunctionRef, LambdaApiError> {
        let invalid = || {
            LambdaApiError::validation_one(
                input,
                field,
                "Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?",
            )
        };
        if input.is_empty() || input.len() > 170 {
            return Err(invalid());
        }
        let parts: Vec<&str> = input.split(':').collect();
        let (region, account, name, qualifier) = match parts.as_slice() {
            [name] => (None, None, *name, None),
            [name, q] => (None, None, *name, Some(*q)),
            [account, "function", name] => (None, Some(*account), *name, None),
            [account, "function", name, q] => (None, Some(*account), *name, Some(*q)),
            [
                "arn",
                partition,
                "lambda",
                region,
                account,
                "function",
                name,
            ] if is_partition(partition) => (Some(*region), Some(*account), *name, None),
            [
                "arn",
                partition,
                "lambda",
                region,
                account,
                "function",
                name,
                q,
            ] if is_partition(partition) => (Some(*region), Some(*account), *name, Some(*q)),
            _ => return Err(invalid()),
        };
        if !valid_name(name) || name.len() > 64 {
            return Err(invalid());
        }
        if let Some(q) = qualifier
            && !valid_qualifier(q)
        {
            return Err(invalid());
        }
        if let Some(account) = account
            && (account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(invalid());
        }
        if let Some(region) = region
            && region != self.region
        {
            return Err(LambdaApiError::invalid_parameter(format!(
                "Functions from '{region}' are not reachable in this region ('{}')",
                self.region
            )));
        }
        let qualifier = match (qualifier, explicit_qualifier.filter(|q| !q.is_empty())) {
            (Some(a), Some(b)) if a != b => {
                return Err(LambdaApiError::invalid_parameter(
                    "The derived qualifier from the function name does not match the specified qualifier.",
                ));
            }
            (Some(a), _) => Some(a.to_owned()),
            (None, Some(b)) => {
                if !valid_qualifier(b) {
                    return Err(LambdaApiError::validation_one(
                        b,
                        "qualifier",
                        "Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)",
                    ));
                }
                Some(b.to_owned())
            }
            (None, None) => None,
        };
        Ok(FunctionRef {
            name: name.to_owned(),
            qualifier,
        })
    }
}

fn is_partition(p: &str) -> bool {
    p == "aws" || p.starts_with("aws-")
}

/// `[a-zA-Z0-9-_]+`, the name part of Lambda's pattern.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn valid_qualifier(q: &str) -> bool {
    q == LATEST || valid_name(q) && q.len() <= 128
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope {
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
        }
    }

    #[test]
    fn accepts_every_form_lambda_accepts() {
        let s = scope();
        let plain = FunctionRef {
            name: "f".into(),
            qualifier: None,
        };
        assert_eq!(s.parse("f", None, "functionName").ok(), Some(plain.clone()));
        assert_eq!(
            s.parse("123456789012:function:f", None, "functionName")
                .ok(),
            Some(plain.clone())
        );
        assert_eq!(
            s.parse(
                "arn:aws:lambda:us-east-1:123456789012:function:f",
                None,
                "functionName"
            )
            .ok(),
            Some(plain)
        );
        let latest = s.parse(
            "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST",
            None,
            "functionName",
        );
        assert_eq!(
            latest.ok().and_then(|r| r.qualifier),
            Some("$LATEST".into())
        );
        assert_eq!(
            s.parse("f:prod", None, "functionName")
                .ok()
                .and_then(|r| r.qualifier),
            Some("prod".into())
        );
        assert_eq!(
            s.parse("f", Some("7"), "functionName")
                .ok()
                .and_then(|r| r.qualifier),
            Some("7".into())
        );
    }

    #[test]
    fn rejects_malformed_and_conflicting_references() {
        let s = scope();
        let e = s.parse("bad name", None, "functionName").unwrap_err();
        assert_eq!(e.code, "ValidationException");
        assert!(
            e.message
                .starts_with("1 validation error detected: Value 'bad name' at 'functionName'")
        );
        assert_eq!(
            s.parse("a:b:c:d:e", None, "functionName").unwrap_err().code,
            "ValidationException"
        );
        let e = s.parse("f:1", Some("2"), "functionName").unwrap_err();
        assert_eq!(e.code, "InvalidParameterValueException");
        let e = s
            .parse(
                "arn:aws:lambda:eu-west-1:123456789012:function:f",
                None,
                "functionName",
            )
            .unwrap_err();
        assert_eq!(
            e.message,
            "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')"
        );
    }
}
