//! Retry delays: exponential backoff with full jitter. After the n-th consecutive failure the
//! wait is uniform in `[0, min(max, base · 2ⁿ)]`, so a fleet of laptops coming back online at
//! the same moment (the office's network returns) spreads its retries instead of stampeding.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    failures: u32,
    rng: StdRng,
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Self {
        Self { base, max, failures: 0, rng: StdRng::from_entropy() }
    }

    /// Deterministic delays, for tests.
    pub fn with_seed(base: Duration, max: Duration, seed: u64) -> Self {
        Self { base, max, failures: 0, rng: StdRng::seed_from_u64(seed) }
    }

    /// The longest wait after `failures` previous consecutive failures: `base · 2^failures`,
    /// capped at `max`.
    pub fn ceiling(&self, failures: u32) -> Duration {
        // 2^20 seconds is far past any sensible cap; stopping there avoids overflow.
        self.base.saturating_mul(1 << failures.min(20)).min(self.max)
    }

    /// The wait before the next attempt after one more failure.
    pub fn next_delay(&mut self) -> Duration {
        let ceiling = self.ceiling(self.failures);
        self.failures = self.failures.saturating_add(1);
        Duration::from_millis(self.rng.gen_range(0..=ceiling.as_millis() as u64))
    }

    /// Consecutive failures so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// A success: the next failure waits at most `base` again.
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    pub fn max(&self) -> Duration {
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn ceilings_double_from_one_second_to_five_minutes() {
        let b = Backoff::with_seed(S, Duration::from_secs(300), 1);
        let ceilings: Vec<u64> = (0..12).map(|n| b.ceiling(n).as_secs()).collect();
        assert_eq!(ceilings, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
        assert_eq!(b.ceiling(u32::MAX), Duration::from_secs(300), "no overflow after days offline");
    }

    #[test]
    fn the_schedule_is_deterministic_for_a_seed_and_within_its_ceilings() {
        let mut a = Backoff::with_seed(S, Duration::from_secs(300), 42);
        let mut b = Backoff::with_seed(S, Duration::from_secs(300), 42);
        let schedule: Vec<Duration> = (0..15).map(|_| a.next_delay()).collect();
        let again: Vec<Duration> = (0..15).map(|_| b.next_delay()).collect();
        assert_eq!(schedule, again);
        for (n, d) in schedule.iter().enumerate() {
            assert!(*d <= a.ceiling(n as u32), "attempt {n}: {d:?}");
        }
        let other: Vec<Duration> = {
            let mut c = Backoff::with_seed(S, Duration::from_secs(300), 43);
            (0..15).map(|_| c.next_delay()).collect()
        };
        assert_ne!(schedule, other, "the jitter depends on the seed");
    }

    #[test]
    fn jitter_is_spread_over_the_whole_window() {
        // Full jitter: uniform in [0, ceiling]. Over many seeds the 10th delay (ceiling 300 s)
        // averages about 150 s and covers both ends of the window.
        let delays: Vec<f64> = (0..2000)
            .map(|seed| {
                let mut b = Backoff::with_seed(S, Duration::from_secs(300), seed);
                (0..9).for_each(|_| {
                    b.next_delay();
                });
                b.next_delay().as_secs_f64()
            })
            .collect();
        let mean = delays.iter().sum::<f64>() / delays.len() as f64;
        assert!((140.0..160.0).contains(&mean), "mean {mean}");
        assert!(delays.iter().any(|d| *d < 30.0) && delays.iter().any(|d| *d > 270.0));
    }

    #[test]
    fn a_success_starts_over() {
        let mut b = Backoff::with_seed(S, Duration::from_secs(300), 7);
        for _ in 0..10 {
            b.next_delay();
        }
        assert_eq!(b.failures(), 10);
        b.reset();
        assert!(b.next_delay() <= S);
        assert_eq!(b.failures(), 1);
    }
}
