//! Authentication: password hashing, session and token secrets, login rate limiting, and the
//! [`Caller`](caller::Caller) extractor every API handler takes.

pub mod caller;
pub mod limiter;
pub mod password;
pub mod proxy;
pub mod secret;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "taishi_session";
