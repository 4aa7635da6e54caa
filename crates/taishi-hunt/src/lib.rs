//! Hunting: runs a compiled Sigma plan over files in parallel and prints detections.
//!
//! Being built; see ARCHITECTURE.md for what this crate owns.
