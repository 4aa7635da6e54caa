//! Login rate limiting per account and per client address.
//!
//! Failed logins are counted in a window that opens at the first failure. Once an account (or an
//! address) reaches its limit, further attempts are refused without checking the password until the
//! window closes. A success clears the account's count. Time is passed in by the caller, so tests move
//! a clock instead of sleeping.

use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Limits of the login rate limiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitConfig {
    /// How long a window of failures lasts.
    pub window: SignedDuration,
    /// Failures allowed per login name within a window.
    pub per_account: u32,
    /// Failures allowed per client address within a window.
    pub per_address: u32,
}

impl Default for LimitConfig {
    fn default() -> Self {
        Self {
            window: SignedDuration::from_mins(15),
            per_account: 5,
            per_address: 20,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Address(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Window {
    opened: Timestamp,
    failures: u32,
}

/// Beyond this many tracked keys, expired windows are swept on the next failure.
const SWEEP_ABOVE: usize = 10_000;

/// Counts failed logins; share one per server.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    cfg: LimitConfig,
    windows: Mutex<HashMap<Key, Window>>,
}

impl LoginLimiter {
    /// A limiter with these limits.
    pub fn new(cfg: LimitConfig) -> Self {
        Self {
            cfg,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// `Ok(())` when a login for `account` from `addr` may be tried at `now`, otherwise the seconds to
    /// wait.
    pub fn check(&self, account: &str, addr: Option<IpAddr>, now: Timestamp) -> Result<(), u64> {
        let map = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let mut wait = 0u64;
        let account = Key::Account(account.to_lowercase());
        let mut keys = vec![(account, self.cfg.per_account)];
        if let Some(a) = addr {
            keys.push((Key::Address(a), self.cfg.per_address));
        }
        for (key, limit) in keys {
            if let Some(w) = map.get(&key) {
                let closes = w.opened.saturating_add(self.cfg.window).unwrap_or(w.opened);
                if w.failures >= limit && now < closes {
                    let secs = closes.duration_since(now).as_secs().max(1) as u64;
                    wait = wait.max(secs);
                }
            }
        }
        if wait > 0 { Err(wait) } else { Ok(()) }
    }

    /// Counts a failed login for `account` and `addr` at `now`.
    pub fn record_failure(&self, account: &str, addr: Option<IpAddr>, now: Timestamp) {
        let mut map = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > SWEEP_ABOVE {
            let window = self.cfg.window;
            map.retain(|_, w| {
                w.opened
                    .saturating_add(window)
                    .map(|c| c > now)
                    .unwrap_or(false)
            });
        }
        let mut keys = vec![Key::Account(account.to_lowercase())];
        if let Some(a) = addr {
            keys.push(Key::Address(a));
        }
        for key in keys {
            let w = map.entry(key).or_insert(Window {
                opened: now,
                failures: 0,
            });
            let closes = w.opened.saturating_add(self.cfg.window).unwrap_or(w.opened);
            if now >= closes {
                *w = Window {
                    opened: now,
                    failures: 0,
                };
            }
            w.failures = w.failures.saturating_add(1);
        }
    }

    /// Clears the failures of `account` after a successful login (the address keeps its count).
    pub fn record_success(&self, account: &str) {
        let mut map = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&Key::Account(account.to_lowercase()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    #[test]
    fn account_is_locked_after_limit_until_window_closes() {
        let l = LoginLimiter::new(LimitConfig {
            window: SignedDuration::from_secs(60),
            per_account: 3,
            per_address: 100,
        });
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for i in 0..3 {
            assert!(l.check("alice", Some(ip), t(i)).is_ok());
            l.record_failure("alice", Some(ip), t(i));
        }
        assert_eq!(l.check("alice", Some(ip), t(10)), Err(50));
        assert_eq!(
            l.check("ALICE", None, t(10)),
            Err(50),
            "names compare case-insensitively"
        );
        assert!(
            l.check("bob", Some(ip), t(10)).is_ok(),
            "other accounts are not affected"
        );
        assert!(
            l.check("alice", Some(ip), t(60)).is_ok(),
            "the window closed"
        );
    }

    #[test]
    fn address_is_limited_across_accounts() {
        let l = LoginLimiter::new(LimitConfig {
            window: SignedDuration::from_secs(60),
            per_account: 100,
            per_address: 4,
        });
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        for (i, name) in ["a", "b", "c", "d"].iter().enumerate() {
            l.record_failure(name, Some(ip), t(i as i64));
        }
        assert!(l.check("e", Some(ip), t(5)).is_err());
        assert!(
            l.check("e", Some("192.0.2.8".parse().unwrap()), t(5))
                .is_ok()
        );
    }

    #[test]
    fn success_clears_the_account() {
        let l = LoginLimiter::new(LimitConfig {
            window: SignedDuration::from_secs(60),
            per_account: 2,
            per_address: 100,
        });
        l.record_failure("alice", None, t(0));
        l.record_success("alice");
        l.record_failure("alice", None, t(1));
        assert!(l.check("alice", None, t(2)).is_ok());
        l.record_failure("alice", None, t(3));
        assert!(l.check("alice", None, t(4)).is_err());
    }
}
