//! The closed loop: findings, notices, deadlines, verification, escalation, scores and bulletins.
//!
//! ```text
//! sense ─► ingest() ─► Finding (dedup by fingerprint) ─► draft_notice()/issue() ─► Notice with deadlines
//!   ▲                                                          │ sweep(): reminders, overdue, 督办
//!   └── Reverifier ◄── submit_rectification() ◄── officer ◄────┘
//!        all fixed → closed · still present → returned       compute_scores() ─► bulletin()
//! ```
//!
//! # Service API
//!
//! [`LoopService`] is the one entry point for the server, the CLI and background jobs. Build it over an
//! `Arc<dyn taishi_store::Store>` and an `Arc<dyn Clock>` ([`SystemClock`] in production,
//! [`ManualClock`] in tests), then add what the deployment has:
//!
//! - [`LoopService::with_notifier`] — e-mail and webhooks ([`notify::NotifyConfig`]);
//! - [`LoopService::with_reverifier`] — the probe side's [`verify::Reverifier`];
//! - [`LoopService::with_policy`] — deadlines, incident levels, auto-issue ([`LoopPolicy`], TOML);
//! - [`LoopService::with_indicators`] — the indicator system ([`score::IndicatorSystem`], TOML;
//!   `examples/indicators.toml` is the default).
//!
//! Operations, each taking a [`Caller`] (actor, role and subtree scope) where people act:
//!
//! | what | method |
//! |---|---|
//! | intake from probes, detections, warnings | [`LoopService::ingest`], [`LoopService::absent`] |
//! | finding decisions | [`LoopService::mark_false_positive`], [`LoopService::accept_risk`] |
//! | notices | [`LoopService::draft_notice`], [`LoopService::issue`], [`LoopService::act`] (acknowledge, close, return, cancel) |
//! | rectification and 复核 | [`LoopService::submit_rectification`] (re-verifies at once), [`LoopService::analyst_verdict`] |
//! | deadlines and 督办 | [`LoopService::sweep`] (idempotent; run periodically) |
//! | deadline extensions (延期) | [`LoopService::extension`] (request, grant, refuse, extend) |
//! | scores and bulletins | [`LoopService::compute_scores`], [`LoopService::bulletin`], [`LoopService::publish_scheduled`] |
//!
//! Every rule is a pure function elsewhere — the finding and notice state machines in `taishi-model`,
//! [`policy`], [`sweep_notice`], [`score`], [`bulletin`] — and is tested without I/O; the service only
//! loads, applies, saves (with the audit line in the same transaction) and notifies. Read-only views
//! (lists, attachments, the delivery log) go through [`LoopService::store_ref`].

mod attach;
pub mod bulletin;
mod calendar;
mod clock;
pub mod notify;
pub mod policy;
mod report;
pub mod score;
mod service;
mod sweep;
mod tree;
pub mod verify;

pub use attach::{AttachmentError, AttachmentPolicy, check_attachment, check_attachments};
pub use calendar::WorkCalendar;
pub use clock::{Clock, ManualClock, SystemClock};
pub use policy::{
    AutoIssuePolicy, Criticality, DeadlineBasis, DeadlineDays, LevelPolicy, LoopPolicy, PolicyError,
};
pub use report::{PublishedBulletin, RenderedBulletin, TREND_PERIODS};
pub use service::{Caller, IntakeReport, LoopError, LoopResult, LoopService, SweepReport};
pub use sweep::{LoopEvent, LoopEventKind, sweep_notice};
pub use tree::{OrgNode, OrgTree, TreeError};
