//! The state every handler shares: the store, the login limiter, the clock and the server's options.

use crate::auth::limiter::{LimitConfig, LoginLimiter};
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use taishi_store::Store;

/// Where "now" comes from; tests pass a fixed or manually moved clock.
pub type ClockFn = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// Options of the HTTP layer, set by the binary from its configuration.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Mark cookies `Secure` (set when serving TLS, or behind a TLS-terminating proxy).
    pub secure_cookies: bool,
    /// How long a login session lasts.
    pub session_ttl: SignedDuration,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// Login rate limits.
    pub login_limits: LimitConfig,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            session_ttl: SignedDuration::from_hours(12),
            body_limit: 1024 * 1024,
            login_limits: LimitConfig::default(),
        }
    }
}

struct Inner {
    store: Arc<dyn Store>,
    options: ServerOptions,
    limiter: LoginLimiter,
    clock: ClockFn,
}

/// Shared, cheaply cloned handle to everything a handler needs.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl AppState {
    /// State over `store` with `options` and the system clock.
    pub fn new(store: Arc<dyn Store>, options: ServerOptions) -> Self {
        Self::with_clock(store, options, Arc::new(Timestamp::now))
    }

    /// State with an injected clock (for tests of expiry and rate limits).
    pub fn with_clock(store: Arc<dyn Store>, options: ServerOptions, clock: ClockFn) -> Self {
        let limiter = LoginLimiter::new(options.login_limits);
        Self(Arc::new(Inner {
            store,
            options,
            limiter,
            clock,
        }))
    }

    /// The store.
    pub fn store(&self) -> &dyn Store {
        self.0.store.as_ref()
    }

    /// The store as a shared handle (for work moved to other tasks).
    pub fn store_arc(&self) -> Arc<dyn Store> {
        self.0.store.clone()
    }

    /// The options.
    pub fn options(&self) -> &ServerOptions {
        &self.0.options
    }

    /// The login limiter.
    pub fn limiter(&self) -> &LoginLimiter {
        &self.0.limiter
    }

    /// The current instant according to the injected clock.
    pub fn now(&self) -> Timestamp {
        (self.0.clock)()
    }
}
