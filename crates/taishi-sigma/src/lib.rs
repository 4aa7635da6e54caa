//! Sigma rules: parsing, compilation to a prefiltered plan, matching and correlation; no I/O.
//!
//! Being built; see ARCHITECTURE.md for what this crate owns.
