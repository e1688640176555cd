//! Password logins, for the console (`POST /console/api/login`) and HTTP Basic alike:
//!
//! - **Throttled** per account and per client address, with growing delays: after
//!   [`Limits::account_free`] failures on an account (or [`Limits::address_free`] from an
//!   address), the next attempt must wait [`Limits::first_delay`], and each further failure doubles
//!   the wait up to [`Limits::max_delay`]. An attempt during the wait is refused at once (429 with
//!   `Retry-After`), without checking the password. A success clears its account's failures (not
//!   its address's: a valid account must not reset guessing at others); failures are forgotten
//!   after [`Limits::forget_after`] without one. The counts live in memory: a restart forgets
//!   them, and two server processes on one database count separately.
//! - **Argon2 is bounded**: at most [`Limits::argon2_parallel`] checks run at once, on tokio's
//!   blocking threads with no database connection held; a request that cannot start one within
//!   [`Limits::argon2_wait`] is answered 503 with `Retry-After`.
//! - **The same work for unknown logins**: a login that does not exist (or has no password) is
//!   checked against a dummy hash made once, so the answer's timing does not tell which logins
//!   exist.
//! - **Failures are audited** (`login_failed`, with the address and the way in).
//!
//! The client address is the connection's peer; when the peer is the loopback address (a reverse
//! proxy on the same machine) the last address of `X-Forwarded-For`, which that proxy appended,
//! is used instead. IPv6 addresses count by their /64.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use serde_json::json;
use tokio::sync::Semaphore;

use crate::db::{Db, Mode};
use crate::error::{Error, Result};
use crate::users::{self, User};

/// The numbers of the throttle and of the Argon2 limit.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Failures on one account before delays start.
    pub account_free: u32,
    /// Failures from one address before delays start (an office behind one NAT address shares it).
    pub address_free: u32,
    /// The wait after the first failure past the free ones; it doubles with each further failure.
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// Failures are forgotten this long after the last one.
    pub forget_after: Duration,
    /// Argon2 checks at once (each takes about 19 MiB and a core for tens of milliseconds).
    pub argon2_parallel: usize,
    /// How long a login waits for its turn at Argon2 before it is answered 503.
    pub argon2_wait: Duration,
    /// Accounts and addresses remembered at most (oldest forgotten first).
    pub max_tracked: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            account_free: 5,
            address_free: 20,
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(15 * 60),
            forget_after: Duration::from_secs(60 * 60),
            argon2_parallel: std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 4),
            argon2_wait: Duration::from_secs(10),
            max_tracked: 100_000,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Address(IpAddr),
}

/// The throttle and the Argon2 limit of one server.
pub struct Logins {
    limits: Limits,
    failures: Mutex<HashMap<Key, Failures>>,
    argon2: Arc<Semaphore>,
    verifications: Arc<AtomicU64>,
}

impl Default for Logins {
    fn default() -> Self {
        Logins::new(Limits::default())
    }
}

impl Logins {
    pub fn new(limits: Limits) -> Logins {
        Logins { argon2: Arc::new(Semaphore::new(limits.argon2_parallel.max(1))), limits, failures: Mutex::new(HashMap::new()), verifications: Arc::new(AtomicU64::new(0)) }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Argon2 verifications run so far (real and dummy), counted where they run.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::SeqCst)
    }

    /// The wait after `count` failures, `free` of them without one.
    fn delay(&self, count: u32, free: u32) -> Duration {
        if count < free {
            return Duration::ZERO;
        }
        let doublings = (count - free).min(30);
        self.limits.first_delay.saturating_mul(1u32 << doublings).min(self.limits.max_delay)
    }

    fn free(&self, key: &Key) -> u32 {
        match key {
            Key::Account(_) => self.limits.account_free,
            Key::Address(_) => self.limits.address_free,
        }
    }

    /// How long `keys` must still wait (the longest of them), if at all.
    fn wait(&self, keys: &[Key], now: Instant) -> Option<Duration> {
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        keys.iter()
            .filter_map(|k| {
                let f = map.get(k)?;
                if now.duration_since(f.last) > self.limits.forget_after {
                    return None;
                }
                (f.last + self.delay(f.count, self.free(k))).checked_duration_since(now).filter(|d| !d.is_zero())
            })
            .max()
    }

    fn failed(&self, keys: &[Key], now: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() + keys.len() > self.limits.max_tracked {
            map.retain(|_, f| now.duration_since(f.last) <= self.limits.forget_after);
            if map.len() + keys.len() > self.limits.max_tracked {
                // Still full: forget the oldest tenth.
                let mut lasts: Vec<Instant> = map.values().map(|f| f.last).collect();
                lasts.sort();
                let cut = lasts[lasts.len() / 10];
                map.retain(|_, f| f.last > cut);
            }
        }
        for k in keys {
            let f = map.entry(k.clone()).or_insert(Failures { count: 0, last: now });
            if now.duration_since(f.last) > self.limits.forget_after {
                f.count = 0;
            }
            f.count = f.count.saturating_add(1);
            f.last = now;
        }
    }

    fn succeeded(&self, account: &Key) {
        self.failures.lock().unwrap_or_else(|e| e.into_inner()).remove(account);
    }

    /// Checks `password` against `hash` (or, without one, against the dummy hash, failing),
    /// behind the Argon2 limit, on a blocking thread.
    async fn verify(&self, hash: Option<String>, password: String) -> Result<bool> {
        let busy = || Error::Busy("the server is checking many passwords at once; try again in a moment".into());
        let permit = tokio::time::timeout(self.limits.argon2_wait, self.argon2.clone().acquire_owned())
            .await
            .map_err(|_| busy())?
            .map_err(|_| busy())?;
        let verifications = self.verifications.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let argon2 = |h: &str| {
                verifications.fetch_add(1, Ordering::SeqCst);
                users::verify_password(h, &password)
            };
            match hash {
                Some(h) => argon2(&h),
                None => {
                    let _ = argon2(dummy_hash());
                    false
                }
            }
        })
        .await
        .map_err(|e| Error::Internal(format!("checking a password failed: {e}")))
    }
}

/// A hash of a random password with the parameters real hashes have, made once.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let password = hex::encode(rand::random::<[u8; 16]>());
        users::hash_password(&password).unwrap_or_default()
    })
}

/// Where a login attempt came from (see the module docs).
pub fn client_address(parts: &Parts) -> Option<IpAddr> {
    let peer = parts.extensions.get::<ConnectInfo<crate::conn::Peer>>()?.0 .0.ip();
    if peer.is_loopback() {
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse::<IpAddr>().ok())
            .next_back();
        if let Some(a) = forwarded {
            return Some(a);
        }
    }
    Some(peer)
}

/// The client address of a request, when the server knows it ([`client_address`]).
pub struct ClientAddress(pub Option<IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> std::result::Result<Self, Self::Rejection> {
        Ok(ClientAddress(client_address(parts)))
    }
}

/// The key an address counts under: IPv4 as it is, IPv6 by its /64 (one subscriber's).
fn address_key(a: IpAddr) -> Key {
    match a {
        IpAddr::V4(_) => Key::Address(a),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => Key::Address(IpAddr::V4(v4)),
            None => {
                let s = v6.segments();
                Key::Address(IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0)))
            }
        },
    }
}

fn account_key(login: &str) -> Key {
    Key::Account(login.trim().to_lowercase().chars().take(64).collect())
}

/// Checks a login and password: the user when the password is right (whatever the user's role
/// or state: the caller decides what it may do), `Unauthorized` when not, `Throttled` while the
/// account or the address must wait. `via` names the way in for the audit trail.
pub async fn check(db: &Db, logins: &Logins, login: &str, password: &str, address: Option<IpAddr>, via: &'static str) -> Result<User> {
    let mut keys = vec![account_key(login)];
    keys.extend(address.map(address_key));
    if let Some(wait) = logins.wait(&keys, Instant::now()) {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        return Err(Error::Throttled {
            message: format!("too many failed logins for this account or from this address; wait {secs} s before trying again"),
            retry_after: secs.max(1),
        });
    }
    let found = if users::check_login(login).is_ok() {
        let l = login.to_owned();
        db.run(Mode::Read, move |tx| users::credentials(tx, &l)).await?
    } else {
        None
    };
    let (user, hash) = match found {
        Some((user, hash)) => (Some(user), hash),
        None => (None, None),
    };
    let known = user.is_some() && hash.is_some();
    if logins.verify(hash, password.to_owned()).await? {
        if let Some(user) = user {
            logins.succeeded(&keys[0]);
            return Ok(user);
        }
    }
    logins.failed(&keys, Instant::now());
    let actor = if users::check_login(login).is_ok() { login.to_owned() } else { "-".to_owned() };
    let detail = json!({
        "via": via,
        "address": address.map(|a| a.to_string()),
        "login": login.chars().take(64).collect::<String>(),
        "known": known,
    });
    let target = (actor != "-").then(|| actor.clone());
    db.run(Mode::Write, move |tx| crate::console::audit::record(tx, &actor, "login_failed", Some("users"), target.as_deref(), None, detail)).await?;
    Err(Error::Unauthorized("wrong login or password".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits { first_delay: Duration::from_secs(1), max_delay: Duration::from_secs(60), ..Limits::default() }
    }

    #[test]
    fn delays_start_after_the_free_failures_and_double_up_to_the_cap() {
        let l = Logins::new(limits());
        let d: Vec<u64> = (0..12).map(|n| l.delay(n, 5).as_secs()).collect();
        assert_eq!(d, [0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 60]);
        assert_eq!(l.delay(u32::MAX, 5).as_secs(), 60);
    }

    #[test]
    fn an_account_waits_after_its_failures_and_a_success_clears_them() {
        let l = Logins::new(limits());
        let now = Instant::now();
        let keys = [account_key("Office.Wang "), address_key("10.0.0.1".parse().unwrap())];
        for _ in 0..5 {
            assert_eq!(l.wait(&keys, now), None);
            l.failed(&keys, now);
        }
        assert_eq!(l.wait(&keys, now), Some(Duration::from_secs(1)));
        assert_eq!(l.wait(&[account_key("office.wang")], now), Some(Duration::from_secs(1)), "logins count case-blind");
        assert_eq!(l.wait(&keys, now + Duration::from_secs(1)), None);
        // Forgotten after a quiet hour.
        l.failed(&keys, now);
        assert!(l.wait(&keys, now + Duration::from_secs(61 * 60)).is_none());
        l.succeeded(&keys[0]);
        assert_eq!(l.wait(&keys[..1], now), None);
        // The address keeps its count (6 of its 20 free).
        assert_eq!(l.failures.lock().unwrap()[&keys[1]].count, 6);
    }

    #[test]
    fn ipv6_counts_by_its_64_and_mapped_v4_as_v4() {
        assert_eq!(address_key("2001:db8:1:2:aaaa::1".parse().unwrap()), address_key("2001:db8:1:2:bbbb::2".parse().unwrap()));
        assert_ne!(address_key("2001:db8:1:2::1".parse().unwrap()), address_key("2001:db8:1:3::1".parse().unwrap()));
        assert_eq!(address_key("::ffff:10.0.0.1".parse().unwrap()), address_key("10.0.0.1".parse().unwrap()));
    }

    #[test]
    fn the_tracked_set_is_bounded() {
        let l = Logins::new(Limits { max_tracked: 100, ..limits() });
        let now = Instant::now();
        for i in 0..1000 {
            l.failed(&[account_key(&format!("user{i}"))], now + Duration::from_millis(i));
        }
        assert!(l.failures.lock().unwrap().len() <= 100);
    }
}
