//! A small, fast, seedable PRNG for simulations (shared by tests and benches).

#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A category index drawn with the given shares.
    pub fn pick(&mut self, shares: &[f64]) -> usize {
        let mut u = self.next_f64();
        for (i, s) in shares.iter().enumerate() {
            if u < *s {
                return i;
            }
            u -= s;
        }
        shares.len() - 1
    }
}
