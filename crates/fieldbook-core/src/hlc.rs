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
#[error("'{0}' is not a clock stamp (expected 15 digits of milliseconds, 10 of counter and the writer's id: 001764000000000-0000000000-laptop1)")]
pub struct ParseHlcError(pub String);

/// How far ahead of the server's clock a pushed stamp may be. Laptop clocks drift by seconds;
/// a stamp further ahead would let that write outlast the office's later ones, so the server
/// keeps such a change for review instead of applying it, and the laptop says its clock is wrong.
pub const MAX_AHEAD_MS: u64 = 10 * 60 * 1000;

/// Longest writer id in a stamp (device ids are UUIDs; the server is `server`).
pub const MAX_NODE_LEN: usize = 64;

impl FromStr for Hlc {
    type Err = ParseHlcError;
    /// Only the canonical form is a stamp: stamps are compared as text wherever they are stored,
    /// so `9-0-x` (which sorts after every real stamp) must not pass for one.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (wall, counter, node) = Hlc::split_canonical(s).ok_or_else(|| ParseHlcError(crate::policy::clip(s)))?;
        Ok(Hlc::new(wall, counter, node))
    }
}

impl Hlc {
    /// Is `s` a stamp in canonical form? As parsing it, without allocating (a push checks the
    /// stamp of every field it writes).
    pub fn is_canonical(s: &str) -> bool {
        Hlc::split_canonical(s).is_some()
    }

    fn split_canonical(s: &str) -> Option<(u64, u32, &str)> {
        let b = s.as_bytes();
        let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
        if b.len() < 28 || !digits(0..15) || b[15] != b'-' || !digits(16..26) || b[26] != b'-' {
            return None;
        }
        let node = &s[27..];
        if node.len() > MAX_NODE_LEN || !node.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b':')) {
            return None;
        }
        Some((s[..15].parse().ok()?, s[16..26].parse().ok()?, node))
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
        let (wall, counter) = if now_ms > self.last.wall_ms { (now_ms, 0) } else { next(self.last.wall_ms, self.last.counter) };
        self.last = Hlc::new(wall, counter, self.node.clone());
        self.last.clone()
    }

    /// Takes in a stamp from another replica so that later local stamps sort after it.
    pub fn observe(&mut self, remote: &Hlc, now_ms: u64) {
        let wall = now_ms.max(self.last.wall_ms).max(remote.wall_ms);
        let (wall, counter) = if wall == self.last.wall_ms && wall == remote.wall_ms {
            next(wall, self.last.counter.max(remote.counter))
        } else if wall == self.last.wall_ms {
            next(wall, self.last.counter)
        } else if wall == remote.wall_ms {
            next(wall, remote.counter)
        } else {
            (wall, 0)
        };
        self.last = Hlc::new(wall, counter, self.node.clone());
    }
}

/// The stamp after (wall, counter) at the same wall time; a full counter moves on to the next
/// millisecond instead of overflowing, which keeps the order (and the text form) intact.
fn next(wall: u64, counter: u32) -> (u64, u32) {
    /// The largest wall time the 15-digit text form holds (about the year 33658).
    const MAX_WALL_MS: u64 = 999_999_999_999_999;
    match counter.checked_add(1) {
        Some(c) => (wall, c),
        None if wall < MAX_WALL_MS => (wall + 1, 0),
        None => (wall, counter),
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

    #[test]
    fn only_the_canonical_form_parses() {
        for bad in ["9-0-dev", "1-1-a", "000000000000001-0000000000-", "000000000000001-00000000001-a", "000000000000001-9999999999-a",
                    "000000000000001-0000000000-a b", "00000000000000中-0000000000-a", "+00000000000001-0000000000-a", ""] {
            assert!(bad.parse::<Hlc>().is_err(), "{bad} parsed");
        }
        let ok: Hlc = "001764000000000-4294967295-0190a0b1-c2d3-7e4f-8a9b-0c1d2e3f4a5b".parse().unwrap();
        assert_eq!(ok.counter, u32::MAX);
        assert_eq!(ok.to_string().parse::<Hlc>().unwrap(), ok);
    }

    #[test]
    fn a_full_counter_moves_to_the_next_millisecond_instead_of_overflowing() {
        let mut c = HlcClock::new("server", None);
        let max = Hlc::new(5, u32::MAX, "laptop");
        c.observe(&max, 0);
        assert_eq!((c.last().wall_ms, c.last().counter), (6, 0));
        assert!(c.last() > &max);
        let mut c = HlcClock::new("a", Some(Hlc::new(7, u32::MAX, "a")));
        assert!(c.tick(7) > Hlc::new(7, u32::MAX, "a"));
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
