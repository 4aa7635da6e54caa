//! The closed loop: findings, notices, deadlines, verification, escalation, scores and bulletins.
//!
//! Being assembled; see the module docs.

pub mod bulletin;
mod calendar;
mod clock;
pub mod notify;
mod policy;
pub mod score;
mod sweep;
mod tree;

pub use calendar::WorkCalendar;
pub use clock::{Clock, ManualClock, SystemClock};
pub use policy::{
    AutoIssuePolicy, Criticality, DeadlineBasis, DeadlineDays, LevelPolicy, LoopPolicy, PolicyError,
};
pub use sweep::{LoopEvent, LoopEventKind, sweep_notice};
pub use tree::{OrgNode, OrgTree, TreeError};
