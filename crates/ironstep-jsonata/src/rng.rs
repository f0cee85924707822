//! The pseudo-random generator behind `$random()` and `$uuid()`.
//!
//! Host functions must be `'static`, so they cannot hold the `&mut dyn Entropy` a scope borrows.
//! Instead the scope draws 256 bits from the entropy source (once, and only if an expression
//! uses `$random` or `$uuid`) and seeds this generator with them: evaluation stays deterministic
//! under a scripted `Entropy`, and uniqueness is as good as the entropy source.
//!
//! The generator is xoshiro256** (Blackman and Vigna), written from its published definition;
//! seeds are expanded with splitmix64, as its authors recommend.

/// xoshiro256** state.
#[derive(Debug, Clone)]
pub(crate) struct Xoshiro256 {
    s: [u64; 4],
}

impl Xoshiro256 {
    /// Seeds from four words; an all-zero state (the one fixed point) is replaced.
    pub(crate) fn from_words(words: [u64; 4]) -> Self {
        if words == [0; 4] {
            return Self::from_seed(0);
        }
        Xoshiro256 { s: words }
    }

    /// Seeds from one 64-bit value, expanded with splitmix64.
    pub(crate) fn from_seed(seed: u64) -> Self {
        let mut sm = seed;
        let mut words = [0u64; 4];
        for w in &mut words {
            *w = splitmix64(&mut sm);
        }
        Xoshiro256 { s: words }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// A double uniformly distributed in `[0, 1)`: the top 53 bits scaled down.
    pub(crate) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A version 4 UUID in its canonical lowercase text form, from 128 random bits.
pub(crate) fn uuid_v4(hi: u64, lo: u64) -> String {
    let hi = (hi & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000; // version 4
    let lo = (lo & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000; // RFC 4122 variant
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xFFFF,
        hi & 0xFFFF,
        lo >> 48,
        lo & 0xFFFF_FFFF_FFFF
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_are_in_unit_interval_and_deterministic() {
        let mut a = Xoshiro256::from_seed(42);
        let mut b = Xoshiro256::from_seed(42);
        for _ in 0..1000 {
            let x = a.next_f64();
            assert!((0.0..1.0).contains(&x));
            assert_eq!(x.to_bits(), b.next_f64().to_bits());
        }
        assert_ne!(
            Xoshiro256::from_seed(1).next_u64(),
            Xoshiro256::from_seed(2).next_u64()
        );
    }

    #[test]
    fn zero_state_is_avoided() {
        let mut g = Xoshiro256::from_words([0; 4]);
        assert_ne!(g.next_u64() | g.next_u64(), 0);
    }

    #[test]
    fn uuid_has_version_and_variant() {
        let u = uuid_v4(u64::MAX, u64::MAX);
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
        assert_eq!(uuid_v4(0, 0), "00000000-0000-4000-8000-000000000000");
    }
}
