//! A small seeded generator (SplitMix64), so a run is repeatable from its seed.

/// A SplitMix64 generator.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator that yields the same numbers for the same `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..=max`.
    pub fn up_to(&mut self, max: u64) -> u64 {
        match max.checked_add(1) {
            Some(span) => self.next_u64().checked_rem(span).unwrap_or(0),
            None => self.next_u64(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn the_same_seed_gives_the_same_numbers_within_range() {
        let a: Vec<u64> = (0..50)
            .map({
                let mut r = Rng::new(7);
                move |_| r.up_to(9)
            })
            .collect();
        let b: Vec<u64> = (0..50)
            .map({
                let mut r = Rng::new(7);
                move |_| r.up_to(9)
            })
            .collect();
        assert_eq!(a, b);
        assert!(a.iter().all(|&x| x <= 9));
        assert!(a.iter().collect::<std::collections::BTreeSet<_>>().len() > 5);
    }
}
