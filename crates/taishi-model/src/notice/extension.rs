//! Deadline extensions (延期) of a notice's rectification deadline: request, grant, refuse, extend.
//!
//! None of them changes the workflow state. Each appends a history entry carrying the old and the new
//! deadline ([`DeadlineChange`]); grant and extend also move [`Notice::rectify_due`], which is what
//! overdue, reminders, escalation and scores read. Whether a request is pending is read from the history
//! (the latest extension entry is a request), so it round-trips with the notice document.

use super::{LoopActor, Notice, NoticeAction, NoticeError, NoticeEvent, NoticeState};
use crate::Role;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// History action of a request.
pub(super) const REQUEST: &str = "request_extension";
/// History action of a grant.
pub(super) const GRANT: &str = "grant_extension";
/// History action of a refusal.
pub(super) const REFUSE: &str = "refuse_extension";
/// History action of a direct extension.
pub(super) const EXTEND: &str = "extend";

/// A change of the rectification deadline, kept on the history entry that made or asked for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineChange {
    /// The deadline before.
    pub from: Option<Timestamp>,
    /// The deadline after (or asked for).
    pub to: Timestamp,
}

impl NoticeAction {
    /// Whether this is one of the deadline-extension actions.
    pub fn is_extension(&self) -> bool {
        matches!(
            self,
            NoticeAction::RequestExtension { .. }
                | NoticeAction::GrantExtension { .. }
                | NoticeAction::RefuseExtension { .. }
                | NoticeAction::Extend { .. }
        )
    }
}

impl Notice {
    /// The pending extension request (its history entry, whose `deadline.to` is the date asked for), if
    /// the latest extension entry is a request nobody has decided yet.
    pub fn pending_extension(&self) -> Option<&NoticeEvent> {
        self.history
            .iter()
            .rev()
            .find(|e| [REQUEST, GRANT, REFUSE, EXTEND].contains(&e.action.as_str()))
            .filter(|e| e.action == REQUEST)
    }

    /// The index in the history just after the latest deadline change (grant or direct extension), or 0:
    /// sweeps count their reminder and overdue marks from here, so an extended deadline gets its own.
    pub fn deadline_epoch(&self) -> usize {
        self.history
            .iter()
            .rposition(|e| (e.action == GRANT || e.action == EXTEND) && e.deadline.is_some())
            .map_or(0, |i| i + 1)
    }

    /// Applies an extension action (called by [`Notice::apply`]).
    pub(super) fn apply_extension(
        &mut self,
        actor: &LoopActor,
        actor_covers_org: bool,
        action: NoticeAction,
        now: Timestamp,
        comment: &str,
    ) -> Result<(), NoticeError> {
        let name = action.as_str();
        let notice = self.number.to_string();
        let in_scope = actor.role.is_none() || actor_covers_org;
        let allowed = in_scope
            && match action {
                NoticeAction::RequestExtension { .. } => {
                    actor.role == Some(Role::Officer) || actor.is_analyst()
                }
                _ => actor.is_analyst(),
            };
        if !allowed {
            return Err(NoticeError::Forbidden {
                actor: actor.actor.to_string(),
                role: actor.role,
                action: name,
                notice,
            });
        }
        // Only while the organisation owes the rectification can it ask for more time; an analyst can
        // decide or extend in any live state.
        let state_ok = match action {
            NoticeAction::RequestExtension { .. } => matches!(
                self.state,
                NoticeState::Issued | NoticeState::Acknowledged | NoticeState::Returned
            ),
            _ => self.state.is_live(),
        };
        if !state_ok {
            return Err(NoticeError::InvalidState {
                action: name,
                notice,
                state: self.state.as_str(),
            });
        }
        let pending = self.pending_extension().is_some();
        let conflict = |why| NoticeError::ExtensionConflict {
            action: name,
            notice: notice.clone(),
            why,
        };
        match action {
            NoticeAction::RequestExtension { .. } if pending => {
                return Err(conflict("an extension request is already pending"));
            }
            NoticeAction::GrantExtension { .. } | NoticeAction::RefuseExtension { .. }
                if !pending =>
            {
                return Err(conflict("no extension request is pending"));
            }
            _ => {}
        }
        let bad = |why: String| NoticeError::BadDeadline {
            action: name,
            notice: notice.clone(),
            why,
        };
        let check_until = |until: Timestamp| -> Result<DeadlineChange, NoticeError> {
            let Some(due) = self.rectify_due else {
                return Err(bad("it has no rectification deadline to extend".into()));
            };
            if until <= due {
                return Err(bad(format!(
                    "the new deadline {until} is not later than the current one {due}"
                )));
            }
            if until <= now {
                return Err(bad(format!("the new deadline {until} is in the past")));
            }
            Ok(DeadlineChange {
                from: Some(due),
                to: until,
            })
        };
        let with_reason = |reason: &str| -> Result<String, NoticeError> {
            let reason = reason.trim();
            if reason.is_empty() {
                return Err(NoticeError::ReasonRequired { action: name });
            }
            let comment = comment.trim();
            Ok(if comment.is_empty() {
                reason.to_owned()
            } else {
                format!("{reason}: {comment}")
            })
        };
        let (change, text, moves) = match &action {
            NoticeAction::RequestExtension { until, reason } => {
                (Some(check_until(*until)?), with_reason(reason)?, false)
            }
            NoticeAction::GrantExtension { until } => {
                (Some(check_until(*until)?), comment.trim().to_owned(), true)
            }
            NoticeAction::RefuseExtension { reason } => (None, with_reason(reason)?, false),
            NoticeAction::Extend { until, reason } => {
                (Some(check_until(*until)?), with_reason(reason)?, true)
            }
            _ => {
                return Err(NoticeError::InvalidState {
                    action: name,
                    notice,
                    state: self.state.as_str(),
                });
            }
        };
        if moves && let Some(c) = change {
            self.rectify_due = Some(c.to);
        }
        self.history.push(NoticeEvent {
            at: now,
            actor: actor.actor.clone(),
            action: name.to_owned(),
            from: self.state,
            to: self.state,
            comment: text,
            deadline: change,
        });
        Ok(())
    }
}
