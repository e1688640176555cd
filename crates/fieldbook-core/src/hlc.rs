//! Hybrid logical clocks: timestamps that order every write across laptops and the server even
//! when a laptop's wall clock is hours or days off.
//!
//! A stamp is (wall milliseconds, counter, node). A replica's clock never goes backwards: it takes
//! the larger of its own wall clock and the last stamp it issued or observed, and bumps the counter
//! when the wall clock has not moved. Ties between replicas are broken by the node id, so every
//! replica orders any two stamps the same way.

use std::fmt;
use std::str::FromStr;

/// One hybrid-logical-clock stamp. Its text form sorts in the same order as the stamps.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hlc {
    pub wall_ms: u64,
    pub counter: u32,
    pub node: String,
}

impl Hlc {
    pub fn new(wall_ms: u64, counter: u32, node: impl Into<String>) -> Self {
        Self { wall_ms, counter, node: node.into() }
    }

    /// The smallest stamp: older than anything a clock issues.
    pub fn zero() -> Self {
        Self::new(0, 0, "")
    }
}

impl fmt::Display for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Fixed-width numbers keep the text sortable; 15 digits of ms last beyond the year 30000.
        write!(f, "{:015}-{:010}-{}", self.wall_ms, self.counter, self.node)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a clock stamp (expected WALLMS-COUNTER-NODE, e.g. 001764000000000-0000000000-laptop1)")]
pub struct ParseHlcError(pub String);

impl FromStr for Hlc {
    type Err = ParseHlcError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseHlcError(s.to_owned());
        let mut parts = s.splitn(3, '-');
        let wall = parts.next().ok_or_else(err)?.parse().map_err(|_| err())?;
        let counter = parts.next().ok_or_else(err)?.parse().map_err(|_| err())?;
        let node = parts.next().ok_or_else(err)?;
        Ok(Hlc::new(wall, counter, node))
    }
}

/// A replica's clock. `now_ms` is passed in so that tests (and skewed laptops) are explicit.
#[derive(Debug, Clone)]
pub struct HlcClock {
    node: String,
    last: Hlc,
}

impl HlcClock {
    pub fn new(node: impl Into<String>, last: Option<Hlc>) -> Self {
        let node = node.into();
        let last = last.unwrap_or_else(|| Hlc::new(0, 0, node.clone()));
        Self { node, last }
    }

    pub fn last(&self) -> &Hlc {
        &self.last
    }

    /// A stamp for a local write, later than every stamp issued or observed so far.
    pub fn tick(&mut self, now_ms: u64) -> Hlc {
        let (wall, counter) = if now_ms > self.last.wall_ms {
            (now_ms, 0)
        } else {
            (self.last.wall_ms, self.last.counter + 1)
        };
        self.last = Hlc::new(wall, counter, self.node.clone());
        self.last.clone()
    }

    /// Takes in a stamp from another replica so that later local stamps sort after it.
    pub fn observe(&mut self, remote: &Hlc, now_ms: u64) {
        let wall = now_ms.max(self.last.wall_ms).max(remote.wall_ms);
        let counter = if wall == self.last.wall_ms && wall == remote.wall_ms {
            self.last.counter.max(remote.counter) + 1
        } else if wall == self.last.wall_ms {
            self.last.counter + 1
        } else if wall == remote.wall_ms {
            remote.counter + 1
        } else {
            0
        };
        self.last = Hlc::new(wall, counter, self.node.clone());
    }
}

/// Milliseconds since the Unix epoch by this machine's clock.
pub fn wall_clock_ms() -> u64 {
    chrono::Utc::now().timestamp_millis().max(0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ticks_are_strictly_increasing_when_the_wall_clock_stalls_or_goes_back() {
        let mut c = HlcClock::new("a", None);
        let t1 = c.tick(1000);
        let t2 = c.tick(1000);
        let t3 = c.tick(500); // clock stepped back (NTP correction)
        assert!(t1 < t2 && t2 < t3, "{t1} {t2} {t3}");
        assert_eq!(t3.wall_ms, 1000);
    }

    #[test]
    fn a_laptop_a_day_behind_orders_after_what_it_has_seen() {
        let day = 86_400_000;
        let mut server = HlcClock::new("server", None);
        let seen = server.tick(10 * day);
        let mut laptop = HlcClock::new("laptop", None);
        laptop.observe(&seen, 9 * day);
        assert!(laptop.tick(9 * day) > seen);
    }

    #[test]
    fn text_form_round_trips_and_node_breaks_ties() {
        let a = Hlc::new(5, 1, "a");
        let b = Hlc::new(5, 1, "b");
        assert!(a < b);
        assert_eq!(a.to_string().parse::<Hlc>().unwrap(), a);
        assert!("nonsense".parse::<Hlc>().is_err());
    }

    proptest! {
        #[test]
        fn text_order_matches_stamp_order(
            w1 in 0u64..10_000_000_000_000, c1 in 0u32..100_000, n1 in "[a-z0-9]{1,8}",
            w2 in 0u64..10_000_000_000_000, c2 in 0u32..100_000, n2 in "[a-z0-9]{1,8}",
        ) {
            let a = Hlc::new(w1, c1, n1);
            let b = Hlc::new(w2, c2, n2);
            prop_assert_eq!(a.cmp(&b), a.to_string().cmp(&b.to_string()));
        }

        #[test]
        fn observe_then_tick_is_after_both(local in 0u64..1_000_000, remote in 0u64..1_000_000, now in 0u64..1_000_000) {
            let mut c = HlcClock::new("x", None);
            let mine = c.tick(local);
            c.observe(&Hlc::new(remote, 7, "y"), now);
            let next = c.tick(now);
            prop_assert!(next > mine);
            prop_assert!(next > Hlc::new(remote, 7, "y"));
        }
    }
}
