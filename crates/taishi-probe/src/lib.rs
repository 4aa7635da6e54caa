//! Active posture checks of websites, hosts and IPs, and the lab of flawed sites.
//!
//! Being built; see ARCHITECTURE.md for what this crate owns.
