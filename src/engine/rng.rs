//! Seeded random streams, one per component and purpose.
//!
//! Every stream is ChaCha8 keyed by the run's seed, on a stream number derived from the
//! component's name (e.g. `service/payment/service_time`). Adding a service therefore
//! leaves every other component's draws untouched, and no draw ever depends on the order
//! in which components happen to ask.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The generator every component uses.
pub type Stream = ChaCha8Rng;

/// Returns the stream for `name` under `seed`.
pub fn stream(seed: u64, name: &str) -> Stream {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(fnv1a64(name.as_bytes()));
    rng
}

/// FNV-1a, 64 bits: a fixed, platform-independent hash (std's hashers are not stable
/// across releases, which would change every run's draws).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn same_seed_and_name_same_draws() {
        let a: Vec<u64> = stream(7, "x").random_iter().take(4).collect();
        let b: Vec<u64> = stream(7, "x").random_iter().take(4).collect();
        assert_eq!(a, b);
    }

    #[test]
    fn names_and_seeds_give_independent_streams() {
        let a: u64 = stream(7, "service/a").random();
        let b: u64 = stream(7, "service/b").random();
        let c: u64 = stream(8, "service/a").random();
        assert_ne!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn fnv_is_the_published_function() {
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
    }
}
