//! The closed loop: findings, notices, deadlines, verification, escalation, scores and bulletins.
//!
//! Being built; see ARCHITECTURE.md for what this crate owns.
