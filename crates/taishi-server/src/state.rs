//! The state every handler shares: the store, the login limiter, the clock and the server's options.

use crate::auth::limiter::{LimitConfig, LoginLimiter};
use crate::auth::proxy::TrustedProxies;
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use taishi_loop::LoopService;
use taishi_store::attribution::{AttributionHandle, AttributionIndex};
use taishi_store::{Store, StoreResult};

/// How long an attribution index serves before it is rebuilt, to pick up registry changes made by other
/// processes (imports, other front ends). Changes made through this server rebuild it at once.
const ATTRIBUTION_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(60);

/// The attribution index with its freshness.
struct Attribution {
    handle: AttributionHandle,
    /// When the current index was built (`None`: never) and whether a local change outdated it.
    fresh: std::sync::Mutex<(Option<std::time::Instant>, bool)>,
    /// Held while rebuilding, so concurrent lookups wait for one rebuild instead of starting many.
    rebuild: tokio::sync::Mutex<()>,
}

/// Where "now" comes from; tests pass a fixed or manually moved clock.
pub type ClockFn = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// The server's clock as the loop's clock, so deadlines, sweeps and sessions read the same "now".
struct LoopClock(ClockFn);

impl taishi_loop::Clock for LoopClock {
    fn now(&self) -> Timestamp {
        (self.0)()
    }
}

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
    /// Reverse proxies whose `X-Forwarded-For` names the client (none by default: the header is
    /// ignored).
    pub trusted_proxies: TrustedProxies,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            session_ttl: SignedDuration::from_hours(12),
            body_limit: 1024 * 1024,
            login_limits: LimitConfig::default(),
            trusted_proxies: TrustedProxies::default(),
        }
    }
}

struct Inner {
    store: Arc<dyn Store>,
    options: ServerOptions,
    limiter: LoginLimiter,
    clock: ClockFn,
    attribution: Attribution,
    loop_service: Arc<LoopService>,
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
        let service = LoopService::new(store.clone(), Arc::new(LoopClock(clock.clone())));
        Self::with_loop(store, options, clock, Arc::new(service))
    }

    /// State with a configured loop service (policy, indicators, notifier, re-verifier). Build the
    /// service over the same store and a clock agreeing with `clock` (see [`AppState::loop_clock`]).
    pub fn with_loop(
        store: Arc<dyn Store>,
        options: ServerOptions,
        clock: ClockFn,
        loop_service: Arc<LoopService>,
    ) -> Self {
        let limiter = LoginLimiter::new(options.login_limits);
        let attribution = Attribution {
            handle: AttributionHandle::default(),
            fresh: std::sync::Mutex::new((None, true)),
            rebuild: tokio::sync::Mutex::new(()),
        };
        Self(Arc::new(Inner {
            store,
            options,
            limiter,
            clock,
            attribution,
            loop_service,
        }))
    }

    /// `clock` as the loop's [`taishi_loop::Clock`], for building the service given to [`AppState::with_loop`].
    pub fn loop_clock(clock: ClockFn) -> Arc<dyn taishi_loop::Clock> {
        Arc::new(LoopClock(clock))
    }

    /// The closed loop: findings, notices, scores and bulletins.
    pub fn loop_service(&self) -> &LoopService {
        &self.0.loop_service
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

    /// Marks the attribution index outdated after a change to assets or orgs.
    pub fn attribution_changed(&self) {
        self.0
            .attribution
            .fresh
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1 = true;
    }

    fn attribution_stale(&self) -> bool {
        let f = self
            .0
            .attribution
            .fresh
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        f.1 || f.0.is_none_or(|t| t.elapsed() > ATTRIBUTION_MAX_AGE)
    }

    /// The current attribution index, rebuilt from the store first when it is outdated.
    pub async fn attribution(&self) -> StoreResult<Arc<AttributionIndex>> {
        let a = &self.0.attribution;
        if self.attribution_stale() {
            let _guard = a.rebuild.lock().await;
            if self.attribution_stale() {
                // Clear the flag before reading, so a change during the rebuild marks it stale again.
                *a.fresh.lock().unwrap_or_else(|e| e.into_inner()) =
                    (Some(std::time::Instant::now()), false);
                match taishi_store::load_attribution(self.store()).await {
                    Ok(index) => a.handle.replace(index),
                    Err(e) => {
                        a.fresh.lock().unwrap_or_else(|e| e.into_inner()).1 = true;
                        return Err(e);
                    }
                }
            }
        }
        Ok(a.handle.get())
    }
}
