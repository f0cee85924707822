//! Physical names for resources the template does not name: `<stack>-<LogicalId>-<SUFFIX>`, like
//! CloudFormation's, but with a suffix derived from the stack and the logical id instead of a
//! random one, so that deploying again finds (and updates) the same resources.

use sha2::{Digest, Sha256};

const SUFFIX_LEN: usize = 12;
const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Hex of the SHA-256 of `text`.
pub(crate) fn digest_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn suffix(stack: &str, logical_id: &str) -> String {
    let digest = Sha256::digest(format!("{stack}/{logical_id}").as_bytes());
    digest
        .iter()
        .take(SUFFIX_LEN)
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// `<stack>-<LogicalId>-<SUFFIX>` within `max` characters: the stack and the logical id are
/// shortened (the logical id keeps at least half of what is left) when they are too long.
pub fn generated_name(stack: &str, logical_id: &str, max: usize) -> String {
    let sfx = suffix(stack, logical_id);
    let budget = max.saturating_sub(SUFFIX_LEN + 2);
    let (mut s, mut l) = (stack.len(), logical_id.len());
    if s + l > budget {
        let half = budget / 2;
        if l <= half {
            s = budget - l;
        } else if s <= half {
            l = budget - s;
        } else {
            s = half;
            l = budget - half;
        }
    }
    // Stack names and logical ids are ASCII (checked when read), so byte slicing is safe; `get`
    // keeps that true even if a caller passes something else.
    let stack_part = stack.get(..s).unwrap_or(stack);
    let id_part = logical_id.get(..l).unwrap_or(logical_id);
    format!("{stack_part}-{id_part}-{sfx}")
}

/// A stack name from a directory name: letters, digits and `-`, starting with a letter.
pub fn stack_name_from(dir_name: &str) -> String {
    let mut out: String = dir_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    out = out.trim_matches('-').to_string();
    if !out.starts_with(|c: char| c.is_ascii_alphabetic()) {
        out.insert_str(0, "stack-");
    }
    out.truncate(128);
    out
}

/// Whether `name` is a valid stack name (CloudFormation's rule).
pub fn is_valid_stack_name(name: &str) -> bool {
    name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_stable_and_fit() {
        let a = generated_name("my-app", "Parent", 80);
        assert_eq!(a, generated_name("my-app", "Parent", 80));
        assert!(
            a.starts_with("my-app-Parent-") && a.len() == "my-app-Parent-".len() + 12,
            "{a}"
        );
        assert_ne!(a, generated_name("my-app", "Child", 80));
        assert_ne!(a, generated_name("other", "Parent", 80));
        let long = generated_name(
            "start-workflow-within-workflow",
            "NestingPatternCallbackLambdaFunction",
            64,
        );
        assert_eq!(long.len(), 64, "{long}");
        // Both parts are shortened to half of what the suffix leaves.
        assert!(
            long.starts_with("start-workflow-within-wor-NestingPatternCallbackLam-"),
            "{long}"
        );
        let long_stack = generated_name(&"s".repeat(100), "Fn", 64);
        assert!(
            long_stack.len() <= 64 && long_stack.contains("-Fn-"),
            "{long_stack}"
        );
    }

    #[test]
    fn stack_names_from_directories() {
        assert_eq!(stack_name_from("my_app"), "my-app");
        assert_eq!(stack_name_from("2024 project"), "stack-2024-project");
        assert!(is_valid_stack_name("my-app"));
        assert!(!is_valid_stack_name("my_app"));
        assert!(!is_valid_stack_name("1app"));
    }
}
