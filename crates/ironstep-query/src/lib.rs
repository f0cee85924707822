//! ironstep-query: the JSONPath query language of ASL, pure and I/O-free.
//!
//! (Skeleton: being written. See the crate table in the README.)

/// Randomness injected from outside, so that evaluation stays deterministic under test and
/// replay. `States.UUID`, `States.MathRandom`, and JSONata's `$uuid`/`$random` draw from it.
pub trait Entropy {
    /// The next 64 random bits.
    fn next_u64(&mut self) -> u64;
}
