//! ARNs and names: building them in AWS's formats and checking what callers send.

use crate::error::{ErrorCode, ServiceError, ServiceResult};

/// Region and account an engine serves.
#[derive(Debug, Clone)]
pub struct Partition {
    /// e.g. `us-east-1`.
    pub region: String,
    /// 12 digits.
    pub account: String,
}

impl Partition {
    /// `arn:aws:states:<region>:<account>:stateMachine:<name>`.
    pub fn state_machine(&self, name: &str) -> String {
        format!(
            "arn:aws:states:{}:{}:stateMachine:{name}",
            self.region, self.account
        )
    }

    /// `arn:aws:states:<region>:<account>:execution:<sm>:<name>`.
    pub fn execution(&self, sm: &str, name: &str) -> String {
        format!(
            "arn:aws:states:{}:{}:execution:{sm}:{name}",
            self.region, self.account
        )
    }

    /// `arn:aws:states:<region>:<account>:express:<sm>:<name>:<uuid>`.
    pub fn express_execution(&self, sm: &str, name: &str, uuid: &str) -> String {
        format!(
            "arn:aws:states:{}:{}:express:{sm}:{name}:{uuid}",
            self.region, self.account
        )
    }

    /// `arn:aws:states:<region>:<account>:activity:<name>`.
    pub fn activity(&self, name: &str) -> String {
        format!(
            "arn:aws:states:{}:{}:activity:{name}",
            self.region, self.account
        )
    }
}

/// A parsed Step Functions ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn {
    /// `stateMachine`, `execution`, `express`, `activity`, `mapRun`.
    pub resource_type: String,
    /// The region part.
    pub region: String,
    /// The account part.
    pub account: String,
    /// The parts after the resource type.
    pub parts: Vec<String>,
}

/// Parse `arn:<partition>:states:<region>:<account>:<type>:...`.
pub fn parse(arn: &str) -> ServiceResult<Arn> {
    let bad = || {
        ServiceError::new(
            ErrorCode::InvalidArn,
            format!("Invalid Arn: 'Invalid ARN prefix: {arn}'"),
        )
    };
    let mut it = arn.split(':');
    if it.next() != Some("arn") {
        return Err(bad());
    }
    let partition = it.next().ok_or_else(bad)?;
    // ironstep serves the `aws` partition; an ARN of another partition names nothing here.
    if partition != "aws" || it.next() != Some("states") {
        return Err(bad());
    }
    let region = it.next().ok_or_else(bad)?.to_string();
    let account = it.next().ok_or_else(bad)?.to_string();
    let resource_type = it.next().ok_or_else(bad)?.to_string();
    let parts: Vec<String> = it.map(str::to_string).collect();
    if region.is_empty()
        || account.len() != 12
        || !account.bytes().all(|b| b.is_ascii_digit())
        || parts.is_empty()
        || parts.iter().any(|p| p.is_empty())
    {
        return Err(bad());
    }
    Ok(Arn {
        resource_type,
        region,
        account,
        parts,
    })
}

/// What a state machine ARN given to StartExecution and friends designates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MachineRef {
    /// The latest revision.
    Unqualified(String),
    /// A version (`...:name:3`).
    Version {
        /// The unqualified ARN.
        machine: String,
        /// The version number.
        version: u64,
    },
    /// An alias (`...:name:PROD`).
    Alias {
        /// The unqualified ARN.
        machine: String,
        /// The alias name.
        alias: String,
    },
}

impl MachineRef {
    /// The unqualified state machine ARN.
    pub fn machine(&self) -> &str {
        match self {
            MachineRef::Unqualified(m) => m,
            MachineRef::Version { machine, .. } | MachineRef::Alias { machine, .. } => machine,
        }
    }
}

/// Parse a state machine ARN, possibly qualified by a version or an alias.
pub fn state_machine_ref(arn: &str) -> ServiceResult<MachineRef> {
    let a = parse(arn)?;
    if a.resource_type != "stateMachine" {
        return Err(ServiceError::new(
            ErrorCode::InvalidArn,
            format!(
                "Invalid Arn: 'Resource type not valid in this context: {}'",
                a.resource_type
            ),
        ));
    }
    let name = &a.parts[0];
    if name.contains('/') {
        return Err(ServiceError::new(
            ErrorCode::ValidationException,
            format!(
                "Invalid Arn: '{arn}' is a labelled state machine ARN, which this API does not support"
            ),
        ));
    }
    let machine = format!(
        "arn:aws:states:{}:{}:stateMachine:{name}",
        a.region, a.account
    );
    match a.parts.len() {
        1 => Ok(MachineRef::Unqualified(machine)),
        2 => {
            let q = &a.parts[1];
            match q.parse::<u64>() {
                Ok(version) => Ok(MachineRef::Version { machine, version }),
                Err(_) => Ok(MachineRef::Alias {
                    machine,
                    alias: q.clone(),
                }),
            }
        }
        _ => Err(ServiceError::new(
            ErrorCode::InvalidArn,
            format!("Invalid Arn: 'Invalid ARN prefix: {arn}'"),
        )),
    }
}

/// Check an execution ARN; Express ARNs are refused where AWS refuses them.
pub fn execution_arn(arn: &str, allow_express: bool) -> ServiceResult<Arn> {
    let a = parse(arn)?;
    match a.resource_type.as_str() {
        "execution" if a.parts.len() == 2 => Ok(a),
        "express" if allow_express && a.parts.len() == 3 => Ok(a),
        "express" => Err(ServiceError::new(
            ErrorCode::InvalidArn,
            "Invalid Arn: 'Resource type not valid in this context: express'",
        )),
        "execution" => Err(ServiceError::new(
            ErrorCode::InvalidArn,
            format!("Invalid Arn: 'Invalid ARN prefix: {arn}'"),
        )),
        other => Err(ServiceError::new(
            ErrorCode::InvalidArn,
            format!("Invalid Arn: 'Resource type not valid in this context: {other}'"),
        )),
    }
}

/// Check an activity ARN.
pub fn activity_arn(arn: &str) -> ServiceResult<Arn> {
    let a = parse(arn)?;
    if a.resource_type != "activity" || a.parts.len() != 1 {
        return Err(ServiceError::new(
            ErrorCode::InvalidArn,
            format!(
                "Invalid Arn: 'Resource type not valid in this context: {}'",
                a.resource_type
            ),
        ));
    }
    Ok(a)
}

/// Characters AWS forbids in names (besides whitespace and control characters).
const FORBIDDEN: &str = "<>{}[]?*\"#%\\^|~`$&,;:/";

/// Check a state machine, execution, activity or alias name (1–80 characters, none of the
/// forbidden ones).
pub fn check_name(name: &str) -> ServiceResult<()> {
    let count = name.chars().count();
    let bad = count == 0
        || count > 80
        || name.chars().any(|c| {
            c.is_whitespace()
                || FORBIDDEN.contains(c)
                || (c as u32) <= 0x1f
                || (0x7f..=0x9f).contains(&(c as u32))
                || matches!(c as u32, 0xFFFE | 0xFFFF | 0x10FFFF)
        });
    if bad {
        return Err(ServiceError::new(
            ErrorCode::InvalidName,
            format!("Invalid Name: '{name}'"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_aws_rules() {
        for ok in ["a", "My-Machine_1", "ünïcödé", &"x".repeat(80)] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a b",
            "a/b",
            "a:b",
            "a*",
            "tab\t",
            "\u{7f}",
            &"x".repeat(81),
        ] {
            assert_eq!(
                check_name(bad).unwrap_err().code,
                ErrorCode::InvalidName,
                "{bad}"
            );
        }
    }

    #[test]
    fn machine_refs() {
        let base = "arn:aws:states:us-east-1:123456789012:stateMachine:m";
        assert_eq!(
            state_machine_ref(base).unwrap(),
            MachineRef::Unqualified(base.into())
        );
        assert_eq!(
            state_machine_ref(&format!("{base}:3")).unwrap(),
            MachineRef::Version {
                machine: base.into(),
                version: 3
            }
        );
        assert_eq!(
            state_machine_ref(&format!("{base}:PROD")).unwrap(),
            MachineRef::Alias {
                machine: base.into(),
                alias: "PROD".into()
            }
        );
        assert_eq!(
            state_machine_ref("nope").unwrap_err().code,
            ErrorCode::InvalidArn
        );
        assert_eq!(
            state_machine_ref("arn:aws:states:us-east-1:123456789012:activity:a")
                .unwrap_err()
                .code,
            ErrorCode::InvalidArn
        );
    }

    /// AWS answers `InvalidArn` (not `StateMachineDoesNotExist`) when the account is not 12 digits.
    #[test]
    fn account_must_be_twelve_digits() {
        for bad in [
            "arn:aws:states:us-east-1:not-an-account:stateMachine:x",
            "arn:aws:states:us-east-1:12345678901:stateMachine:x",
            "arn:aws-cn:states:us-east-1:123456789012:stateMachine:x",
        ] {
            assert_eq!(
                state_machine_ref(bad).unwrap_err().code,
                ErrorCode::InvalidArn,
                "{bad}"
            );
        }
    }

    #[test]
    fn execution_arns() {
        assert!(
            execution_arn("arn:aws:states:us-east-1:123456789012:execution:m:e", false).is_ok()
        );
        let e = execution_arn("arn:aws:states:us-east-1:123456789012:express:m:e:u", false)
            .unwrap_err();
        assert_eq!(
            e.message,
            "Invalid Arn: 'Resource type not valid in this context: express'"
        );
        assert!(execution_arn("arn:aws:states:us-east-1:123456789012:express:m:e:u", true).is_ok());
        assert!(execution_arn("arn:aws:states:us-east-1:123456789012:execution:m", false).is_err());
    }
}
