//! HTTP API, authentication, authorisation and the web console.
//!
//! Being built; see ARCHITECTURE.md for what this crate owns.
