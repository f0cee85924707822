//! Task tokens and ids made from injected randomness.
//!
//! A task token names the execution and the task it belongs to (so the runtime can route a
//! `SendTaskSuccess` without an index) plus 128 random bits (so it cannot be guessed). The
//! runtime accepts a token only if it equals the one the execution is waiting with.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ironstep_query::Entropy;

/// Build a task token.
pub fn encode(execution_arn: &str, task_id: u64, r1: u64, r2: u64) -> String {
    let raw = format!("{execution_arn}#{task_id}#{r1:016x}{r2:016x}");
    URL_SAFE_NO_PAD.encode(raw.as_bytes())
}

/// The execution ARN and task id a token claims, if it is well-formed.
pub fn decode(token: &str) -> Option<(String, u64)> {
    let bytes = URL_SAFE_NO_PAD.decode(token.as_bytes()).ok()?;
    let raw = String::from_utf8(bytes).ok()?;
    let mut parts = raw.rsplitn(3, '#');
    let random = parts.next()?;
    let task_id = parts.next()?.parse().ok()?;
    let arn = parts.next()?;
    if random.len() != 32
        || !random.bytes().all(|b| b.is_ascii_hexdigit())
        || !arn.starts_with("arn:")
    {
        return None;
    }
    Some((arn.to_string(), task_id))
}

/// A version-4 UUID string from injected randomness.
pub fn uuid(entropy: &mut dyn Entropy) -> String {
    let a = entropy.next_u64();
    let b = entropy.next_u64();
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a.to_be_bytes());
    bytes[8..].copy_from_slice(&b.to_be_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let h: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        let arn = "arn:aws:states:us-east-1:123456789012:execution:sm:name#with#hash";
        let t = encode(arn, 42, 1, u64::MAX);
        assert_eq!(decode(&t), Some((arn.to_string(), 42)));
        assert_eq!(decode("garbage"), None);
        assert_eq!(decode(""), None);
        assert_eq!(decode(&URL_SAFE_NO_PAD.encode("arn:x#1#short")), None);
    }

    struct Fixed(u64);
    impl Entropy for Fixed {
        fn next_u64(&mut self) -> u64 {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1);
            self.0
        }
    }

    #[test]
    fn uuid_is_v4_shaped() {
        let u = uuid(&mut Fixed(7));
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
    }
}
