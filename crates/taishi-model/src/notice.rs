//! Notices (通报): an order to an organisation to rectify findings by a deadline, and their workflow as a
//! pure, permission-checked state machine.
//!
//! ```text
//! draft ─► issued ─► acknowledged ─► rectification_submitted ─► verifying ─► closed
//!            │            │                    ▲                    │
//!            │            └────────────────────┤◄── returned ◄──────┘ (with reason)
//!            └──────── any open state ─► cancelled (with reason)
//! ```
//!
//! Deadline extensions (延期) leave the state alone: an officer asks with a reason, an analyst grants
//! (with the date) or refuses, or extends directly; each entry records the old and new deadline
//! ([`DeadlineChange`]), so sweeps measure reminders and overdue against the extended deadline.
//!
//! [`Notice::apply`] checks who may do what (an officer acts only on notices of its own subtree; only
//! analysts issue, verify, close, return or cancel), changes the state and appends an audit entry with
//! actor, time and comment. It reads no clock: the caller passes `now`.

use crate::{Actor, OrgId, Role, Severity};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// A notice number, `YYYY-NNNN`: a per-year sequence, as printed on paper notices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NoticeNumber {
    /// The year of issue.
    pub year: i16,
    /// The sequence within the year, from 1.
    pub seq: u32,
}

impl fmt::Display for NoticeNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:04}", self.year, self.seq)
    }
}

/// Text that is not a `YYYY-NNNN` notice number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid notice number {0:?}: expected YYYY-NNNN, e.g. 2026-0042")]
pub struct ParseNoticeNumberError(pub String);

impl FromStr for NoticeNumber {
    type Err = ParseNoticeNumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseNoticeNumberError(s.to_owned());
        let (y, n) = s.split_once('-').ok_or_else(err)?;
        if y.len() != 4 || n.len() < 4 {
            return Err(err());
        }
        let year = y.parse().map_err(|_| err())?;
        let seq: u32 = n.parse().map_err(|_| err())?;
        if seq == 0 {
            return Err(err());
        }
        Ok(NoticeNumber { year, seq })
    }
}

impl TryFrom<String> for NoticeNumber {
    type Error = ParseNoticeNumberError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<NoticeNumber> for String {
    fn from(n: NoticeNumber) -> String {
        n.to_string()
    }
}

/// Incident level (事件级别) as in GB/T 20986 and the national emergency plan, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentLevel {
    /// 一般 (Ⅳ, blue).
    General,
    /// 较大 (Ⅲ, yellow).
    Large,
    /// 重大 (Ⅱ, orange).
    Major,
    /// 特别重大 (Ⅰ, red).
    ParticularlyMajor,
}

impl IncidentLevel {
    /// The stable name used in storage and configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentLevel::General => "general",
            IncidentLevel::Large => "large",
            IncidentLevel::Major => "major",
            IncidentLevel::ParticularlyMajor => "particularly_major",
        }
    }

    /// The Chinese name printed on notices.
    pub fn label_zh(self) -> &'static str {
        match self {
            IncidentLevel::General => "一般",
            IncidentLevel::Large => "较大",
            IncidentLevel::Major => "重大",
            IncidentLevel::ParticularlyMajor => "特别重大",
        }
    }
}

/// Text that is not an incident level.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown incident level {0:?}: expected particularly_major/特别重大, major/重大, large/较大 or general/一般"
)]
pub struct ParseIncidentLevelError(pub String);

impl FromStr for IncidentLevel {
    type Err = ParseIncidentLevelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim() {
            "general" | "一般" | "IV" | "Ⅳ" => IncidentLevel::General,
            "large" | "较大" | "III" | "Ⅲ" => IncidentLevel::Large,
            "major" | "重大" | "II" | "Ⅱ" => IncidentLevel::Major,
            "particularly_major" | "特别重大" | "I" | "Ⅰ" => IncidentLevel::ParticularlyMajor,
            _ => return Err(ParseIncidentLevelError(s.to_owned())),
        })
    }
}

/// Where a notice stands in its workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeState {
    /// Being written by an analyst; the organisation does not see it.
    Draft,
    /// Sent; waiting for acknowledgement.
    Issued,
    /// The organisation confirmed receipt.
    Acknowledged,
    /// The organisation says it fixed the problems.
    RectificationSubmitted,
    /// Re-checks or an analyst review are under way.
    Verifying,
    /// Verified fixed. Final.
    Closed,
    /// Verification failed; back with the organisation.
    Returned,
    /// Withdrawn by an analyst. Final.
    Cancelled,
}

impl NoticeState {
    /// The stable name used in storage and APIs.
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeState::Draft => "draft",
            NoticeState::Issued => "issued",
            NoticeState::Acknowledged => "acknowledged",
            NoticeState::RectificationSubmitted => "rectification_submitted",
            NoticeState::Verifying => "verifying",
            NoticeState::Closed => "closed",
            NoticeState::Returned => "returned",
            NoticeState::Cancelled => "cancelled",
        }
    }

    /// Parses [`NoticeState::as_str`] back.
    pub fn parse(s: &str) -> Option<NoticeState> {
        [
            NoticeState::Draft,
            NoticeState::Issued,
            NoticeState::Acknowledged,
            NoticeState::RectificationSubmitted,
            NoticeState::Verifying,
            NoticeState::Closed,
            NoticeState::Returned,
            NoticeState::Cancelled,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }

    /// Closed and cancelled notices never change again and are never overdue.
    pub fn is_final(self) -> bool {
        matches!(self, NoticeState::Closed | NoticeState::Cancelled)
    }

    /// Issued and not final: the organisation owes something.
    pub fn is_live(self) -> bool {
        !self.is_final() && self != NoticeState::Draft
    }
}

/// Who acts on a notice, for permission checks and the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoopActor {
    /// The audit identity (`user:NAME`, `system:WHAT`).
    pub actor: Actor,
    /// The user's role, or `None` for taishi itself (sweeps, re-verification, auto-issue).
    pub role: Option<Role>,
}

impl LoopActor {
    /// taishi acting on its own.
    pub fn system(what: &str) -> LoopActor {
        LoopActor {
            actor: Actor::system(what),
            role: None,
        }
    }

    /// A user with a role (the subtree check is the caller's `covers_org`).
    pub fn user(name: &str, role: Role) -> LoopActor {
        LoopActor {
            actor: Actor::user(name),
            role: Some(role),
        }
    }

    fn is_analyst(&self) -> bool {
        matches!(self.role, None | Some(Role::Admin | Role::Analyst))
    }
}

/// What someone asks to do to a notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum NoticeAction {
    /// Send a draft (analyst). The deadlines are computed by the caller's policy.
    Issue {
        /// Acknowledgement due.
        ack_due: Timestamp,
        /// Rectification due (`None` for info-only notices).
        rectify_due: Option<Timestamp>,
    },
    /// Confirm receipt (officer of the subtree, or analyst).
    Acknowledge,
    /// Submit a rectification (officer of the subtree, or analyst on its behalf).
    SubmitRectification {
        /// The rectification record.
        rectification: Uuid,
    },
    /// Begin re-checks or review (analyst or system).
    StartVerification,
    /// Verified fixed (analyst or system).
    Close,
    /// Verification failed; back to the organisation (analyst or system). Reason required.
    Return {
        /// Why.
        reason: String,
    },
    /// Withdraw (analyst). Reason required.
    Cancel {
        /// Why.
        reason: String,
    },
    /// Ask for a later rectification deadline (延期申请; officer of the subtree, or analyst). Reason
    /// required; one request at a time.
    RequestExtension {
        /// The deadline asked for.
        until: Timestamp,
        /// Why.
        reason: String,
    },
    /// Grant the pending request, with the deadline the analyst decides (analyst).
    GrantExtension {
        /// The new deadline (may differ from the one asked for).
        until: Timestamp,
    },
    /// Refuse the pending request (analyst). Reason required.
    RefuseExtension {
        /// Why.
        reason: String,
    },
    /// Extend the deadline directly, without a request (analyst); settles a pending request.
    Extend {
        /// The new deadline.
        until: Timestamp,
        /// Why.
        reason: String,
    },
}

impl NoticeAction {
    /// The stable name used in the audit log.
    pub fn as_str(&self) -> &'static str {
        match self {
            NoticeAction::Issue { .. } => "issue",
            NoticeAction::Acknowledge => "acknowledge",
            NoticeAction::SubmitRectification { .. } => "submit_rectification",
            NoticeAction::StartVerification => "start_verification",
            NoticeAction::Close => "close",
            NoticeAction::Return { .. } => "return",
            NoticeAction::Cancel { .. } => "cancel",
            NoticeAction::RequestExtension { .. } => extension::REQUEST,
            NoticeAction::GrantExtension { .. } => extension::GRANT,
            NoticeAction::RefuseExtension { .. } => extension::REFUSE,
            NoticeAction::Extend { .. } => extension::EXTEND,
        }
    }
}

/// Why an action on a notice was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoticeError {
    /// The actor's role or subtree does not allow it.
    #[error("{actor} ({role:?}) may not {action} notice {notice}")]
    Forbidden {
        /// Who.
        actor: String,
        /// Role (`None`: system).
        role: Option<Role>,
        /// What.
        action: &'static str,
        /// Which notice.
        notice: String,
    },
    /// The state does not allow it.
    #[error("cannot {action} notice {notice}: it is {state}")]
    InvalidState {
        /// What.
        action: &'static str,
        /// Which notice.
        notice: String,
        /// Its state.
        state: &'static str,
    },
    /// Return and cancel need a reason.
    #[error("{action} needs a reason")]
    ReasonRequired {
        /// What.
        action: &'static str,
    },
    /// An extension's new deadline is not acceptable (not later than the current one, in the past, or
    /// the notice has no rectification deadline).
    #[error("cannot {action} notice {notice}: {why}")]
    BadDeadline {
        /// What.
        action: &'static str,
        /// Which notice.
        notice: String,
        /// Why the date is refused.
        why: String,
    },
    /// Granting or refusing needs a pending request; requesting needs none pending.
    #[error("cannot {action} notice {notice}: {why}")]
    ExtensionConflict {
        /// What.
        action: &'static str,
        /// Which notice.
        notice: String,
        /// "no extension request is pending" or "an extension request is already pending".
        why: &'static str,
    },
}

/// One audit entry of a notice: who did what, when, with what comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeEvent {
    /// When.
    pub at: Timestamp,
    /// Who (`user:NAME`, `system:WHAT`).
    pub actor: Actor,
    /// The action name, or "escalate"/"overdue" for sweeps.
    pub action: String,
    /// State before.
    pub from: NoticeState,
    /// State after.
    pub to: NoticeState,
    /// Free comment (reason for return/cancel, etc.).
    pub comment: String,
    /// The rectification deadline change this entry made (`extend`, `grant_extension`) or asked for
    /// (`request_extension`), with the old deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<DeadlineChange>,
}

/// One escalation (督办) step of an overdue notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    /// 1 = parent org, 2 = grandparent, …
    pub level: u8,
    /// The org whose officer was told.
    pub to_org: OrgId,
    /// When.
    pub at: Timestamp,
}

/// An order to one organisation to rectify findings by a deadline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// Stable id.
    pub id: Uuid,
    /// Printed number.
    pub number: NoticeNumber,
    /// The organisation that must act.
    pub org: OrgId,
    /// The findings it covers.
    pub findings: Vec<Uuid>,
    /// Headline.
    pub title: String,
    /// The worst severity among its findings.
    pub severity: Severity,
    /// Incident level from policy.
    pub level: IncidentLevel,
    /// What the organisation must do.
    pub required_actions: Vec<String>,
    /// Where it stands.
    pub state: NoticeState,
    /// Who drafted it.
    pub created_by: Actor,
    /// When it was drafted.
    pub created_at: Timestamp,
    /// When it was issued.
    pub issued_at: Option<Timestamp>,
    /// Acknowledgement deadline.
    pub ack_due: Option<Timestamp>,
    /// Rectification deadline (`None`: no deadline).
    pub rectify_due: Option<Timestamp>,
    /// When acknowledged.
    pub acknowledged_at: Option<Timestamp>,
    /// When the latest rectification was submitted.
    pub submitted_at: Option<Timestamp>,
    /// When it closed or was cancelled.
    pub closed_at: Option<Timestamp>,
    /// Failed verifications so far.
    pub returns: u32,
    /// Escalations so far, oldest first.
    pub escalations: Vec<Escalation>,
    /// Audit trail, oldest first.
    pub history: Vec<NoticeEvent>,
}

impl Notice {
    /// Whether the rectification deadline has passed at `now` without the notice being closed.
    pub fn is_overdue(&self, now: Timestamp) -> bool {
        self.state.is_live() && self.rectify_due.is_some_and(|due| now > due)
    }

    /// Whether the notice was closed on or before its deadline (no deadline counts as on time).
    pub fn closed_on_time(&self) -> Option<bool> {
        let closed = self
            .closed_at
            .filter(|_| self.state == NoticeState::Closed)?;
        Some(self.rectify_due.is_none_or(|due| closed <= due))
    }

    /// Applies `action` by `actor` at `now`. `actor_covers_org` says whether the notice's organisation is
    /// in the actor's subtree (the caller knows the tree; this crate does not).
    ///
    /// # Errors
    /// [`NoticeError::Forbidden`] for a role or subtree that may not act, [`NoticeError::InvalidState`]
    /// for an action the state does not allow, [`NoticeError::ReasonRequired`] for an empty reason.
    pub fn apply(
        &mut self,
        actor: &LoopActor,
        actor_covers_org: bool,
        action: NoticeAction,
        now: Timestamp,
        comment: &str,
    ) -> Result<(), NoticeError> {
        use NoticeState as S;
        if action.is_extension() {
            return self.apply_extension(actor, actor_covers_org, action, now, comment);
        }
        let name = action.as_str();
        let forbidden = || NoticeError::Forbidden {
            actor: actor.actor.to_string(),
            role: actor.role,
            action: name,
            notice: self.number.to_string(),
        };
        // Users act only within their subtree; taishi itself acts everywhere.
        let in_scope = actor.role.is_none() || actor_covers_org;
        let allowed = in_scope
            && match action {
                NoticeAction::Acknowledge | NoticeAction::SubmitRectification { .. } => {
                    actor.role == Some(Role::Officer) || actor.is_analyst()
                }
                _ => actor.is_analyst(),
            };
        if !allowed {
            return Err(forbidden());
        }
        let from = self.state;
        let to = match (&action, from) {
            (NoticeAction::Issue { .. }, S::Draft) => S::Issued,
            (NoticeAction::Acknowledge, S::Issued) => S::Acknowledged,
            (
                NoticeAction::SubmitRectification { .. },
                S::Issued | S::Acknowledged | S::Returned,
            ) => S::RectificationSubmitted,
            (NoticeAction::StartVerification, S::RectificationSubmitted) => S::Verifying,
            (NoticeAction::Close, S::RectificationSubmitted | S::Verifying) => S::Closed,
            (NoticeAction::Return { .. }, S::RectificationSubmitted | S::Verifying) => S::Returned,
            (NoticeAction::Cancel { .. }, s) if !s.is_final() => S::Cancelled,
            _ => {
                return Err(NoticeError::InvalidState {
                    action: name,
                    notice: self.number.to_string(),
                    state: from.as_str(),
                });
            }
        };
        let mut comment = comment.trim().to_owned();
        match &action {
            NoticeAction::Return { reason } | NoticeAction::Cancel { reason } => {
                if reason.trim().is_empty() {
                    return Err(NoticeError::ReasonRequired { action: name });
                }
                comment = if comment.is_empty() {
                    reason.trim().to_owned()
                } else {
                    format!("{}: {comment}", reason.trim())
                };
            }
            _ => {}
        }
        match action {
            NoticeAction::Issue {
                ack_due,
                rectify_due,
            } => {
                self.issued_at = Some(now);
                self.ack_due = Some(ack_due);
                self.rectify_due = rectify_due;
            }
            NoticeAction::Acknowledge => self.acknowledged_at = Some(now),
            NoticeAction::SubmitRectification { .. } => {
                // Submitting implies receipt.
                self.acknowledged_at.get_or_insert(now);
                self.submitted_at = Some(now);
            }
            NoticeAction::Return { .. } => self.returns += 1,
            NoticeAction::Close | NoticeAction::Cancel { .. } => self.closed_at = Some(now),
            // Handled by apply_extension before the state match.
            NoticeAction::StartVerification
            | NoticeAction::RequestExtension { .. }
            | NoticeAction::GrantExtension { .. }
            | NoticeAction::RefuseExtension { .. }
            | NoticeAction::Extend { .. } => {}
        }
        self.state = to;
        self.history.push(NoticeEvent {
            at: now,
            actor: actor.actor.clone(),
            action: name.to_owned(),
            from,
            to,
            comment,
            deadline: None,
        });
        Ok(())
    }

    /// Records an escalation step (the caller decided it is due); the state does not change.
    pub fn record_escalation(&mut self, to_org: OrgId, now: Timestamp) -> u8 {
        let level = self.escalations.len() as u8 + 1;
        self.escalations.push(Escalation {
            level,
            to_org,
            at: now,
        });
        self.history.push(NoticeEvent {
            at: now,
            actor: Actor::system("sweep"),
            action: "escalate".into(),
            from: self.state,
            to: self.state,
            comment: format!("督办 level {level}"),
            deadline: None,
        });
        level
    }
}

mod extension;
pub use extension::DeadlineChange;

#[cfg(test)]
mod tests;
