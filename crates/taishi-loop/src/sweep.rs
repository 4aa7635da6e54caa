//! The periodic sweep over live notices: deadline reminders, overdue flags and escalation (督办).
//!
//! [`sweep_notice`] is pure and idempotent: it marks what it did in the notice's history (and its
//! escalation list), so running it every minute or once a day yields each reminder, overdue flag and
//! escalation exactly once, at the first sweep after it became due.

use crate::policy::LoopPolicy;
use crate::tree::OrgTree;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use taishi_model::notice::{Notice, NoticeEvent, NoticeState};
use taishi_model::{Actor, OrgId};
use uuid::Uuid;

/// Something that happened to a notice and that people must hear about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum LoopEventKind {
    /// A notice was issued to the org.
    Issued,
    /// The acknowledgement deadline passed without acknowledgement.
    AckOverdue,
    /// The rectification deadline is less than the reminder window away.
    DeadlineApproaching {
        /// The deadline.
        due: Timestamp,
    },
    /// The rectification deadline passed.
    Overdue {
        /// The deadline.
        due: Timestamp,
    },
    /// Raised to an ancestor's officer.
    Escalated {
        /// 1 = parent, 2 = grandparent.
        level: u8,
        /// Who is told.
        to_org: OrgId,
    },
    /// Verification failed; back with the org.
    Returned {
        /// Why.
        reason: String,
    },
    /// Verified and closed.
    Closed,
    /// The org asked for a later rectification deadline (to the analysts).
    ExtensionRequested {
        /// The deadline asked for.
        until: Timestamp,
        /// Why.
        reason: String,
    },
    /// The deadline was extended, on request or directly.
    ExtensionGranted {
        /// The deadline before.
        from: Option<Timestamp>,
        /// The new deadline.
        to: Timestamp,
    },
    /// The extension request was refused.
    ExtensionRefused {
        /// Why.
        reason: String,
    },
    /// A risk acceptance of a finding ends soon (to the org and the analysts).
    RiskAcceptanceExpiring {
        /// When it ends.
        until: Timestamp,
    },
    /// A risk acceptance ended and the finding is open again (to the org and the analysts).
    RiskAcceptanceExpired,
    /// A scheduled bulletin (常态化通报) was generated and archived.
    BulletinPublished {
        /// The period (`2026-11`, `2026-Q4`).
        period: String,
        /// The formats archived (`html`, `md`, `csv`).
        formats: Vec<String>,
    },
}

impl LoopEventKind {
    /// Stable name for logs, webhook payloads and filters.
    pub fn as_str(&self) -> &'static str {
        match self {
            LoopEventKind::Issued => "issued",
            LoopEventKind::AckOverdue => "ack_overdue",
            LoopEventKind::DeadlineApproaching { .. } => "deadline_approaching",
            LoopEventKind::Overdue { .. } => "overdue",
            LoopEventKind::Escalated { .. } => "escalated",
            LoopEventKind::Returned { .. } => "returned",
            LoopEventKind::Closed => "closed",
            LoopEventKind::ExtensionRequested { .. } => "extension_requested",
            LoopEventKind::ExtensionGranted { .. } => "extension_granted",
            LoopEventKind::ExtensionRefused { .. } => "extension_refused",
            LoopEventKind::RiskAcceptanceExpiring { .. } => "risk_acceptance_expiring",
            LoopEventKind::RiskAcceptanceExpired => "risk_acceptance_expired",
            LoopEventKind::BulletinPublished { .. } => "bulletin_published",
        }
    }

    /// Whether the analysts' channel (`notify.analyst_emails`) hears about it: requests that wait for
    /// an analyst's decision and risk acceptances ending.
    pub fn for_analysts(&self) -> bool {
        matches!(
            self,
            LoopEventKind::ExtensionRequested { .. }
                | LoopEventKind::RiskAcceptanceExpiring { .. }
                | LoopEventKind::RiskAcceptanceExpired
        )
    }

    /// Whether the officers of the addressed org hear about it by e-mail (not for their own request).
    pub fn for_org(&self) -> bool {
        !matches!(self, LoopEventKind::ExtensionRequested { .. })
    }
}

/// A notice event, addressed to an org (the notice's own, or an ancestor for escalations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoopEvent {
    /// The notice.
    pub notice: Uuid,
    /// Whose officers are told.
    pub to_org: OrgId,
    /// When.
    pub at: Timestamp,
    /// What.
    pub kind: LoopEventKind,
}

/// Whether the sweep already marked `action` (`remind`, `overdue`) for the current rectification
/// deadline: marks made before the latest extension belong to the old deadline and do not count.
fn marked(n: &Notice, action: &str) -> bool {
    n.history[n.deadline_epoch()..]
        .iter()
        .any(|e| e.action == action)
}

fn mark(n: &mut Notice, action: &str, now: Timestamp, comment: String) {
    n.history.push(NoticeEvent {
        at: now,
        actor: Actor::system("sweep"),
        action: action.into(),
        from: n.state,
        to: n.state,
        comment,
        deadline: None,
    });
}

/// Runs the sweep on one notice at `now`, recording what it did in the notice and returning the events
/// to notify.
pub fn sweep_notice(
    n: &mut Notice,
    tree: &OrgTree,
    policy: &LoopPolicy,
    now: Timestamp,
) -> Vec<LoopEvent> {
    let mut out = Vec::new();
    if !n.state.is_live() {
        return out;
    }
    let id = n.id;
    let ev = |kind, to_org| LoopEvent {
        notice: id,
        to_org,
        at: now,
        kind,
    };
    if n.state == NoticeState::Issued
        && n.ack_due.is_some_and(|d| now > d)
        && !n.history.iter().any(|e| e.action == "ack_overdue")
    {
        mark(n, "ack_overdue", now, "acknowledgement overdue".into());
        out.push(ev(LoopEventKind::AckOverdue, n.org));
    }
    let Some(due) = n.rectify_due else { return out };
    // Waiting on the authority (submitted, verifying) is not the org's delay.
    let org_owes = matches!(
        n.state,
        NoticeState::Issued | NoticeState::Acknowledged | NoticeState::Returned
    );
    let window = SignedDuration::from_hours(policy.remind_hours_before.max(0));
    if org_owes && now <= due && due.duration_since(now) <= window && !marked(n, "remind") {
        mark(n, "remind", now, format!("deadline {due}"));
        out.push(ev(LoopEventKind::DeadlineApproaching { due }, n.org));
    }
    if !org_owes || now <= due {
        return out;
    }
    if !marked(n, "overdue") {
        mark(n, "overdue", now, format!("deadline {due} passed"));
        out.push(ev(LoopEventKind::Overdue { due }, n.org));
    }
    let period = SignedDuration::from_hours(24 * policy.escalation_period_days.max(1));
    // Escalations made before an extension stand (those officers were told); counting restarts at the
    // extended deadline, so the next level is due when it passes, and one period apart after that.
    let epoch_at = n
        .deadline_epoch()
        .checked_sub(1)
        .and_then(|i| n.history.get(i))
        .map(|e| e.at);
    let before = n
        .escalations
        .iter()
        .filter(|e| epoch_at.is_some_and(|t| e.at <= t))
        .count();
    loop {
        let next = n.escalations.len() as u8 + 1;
        if next > policy.max_escalation_levels {
            break;
        }
        // Level 1 at the deadline, each further level one period after the previous one.
        let steps = (n.escalations.len() - before) as i32;
        let due_at = due.saturating_add(period * steps).unwrap_or(due);
        if now <= due_at {
            break;
        }
        let Some(to) = tree.ancestor(n.org, next) else {
            break;
        };
        n.record_escalation(to, now);
        out.push(ev(
            LoopEventKind::Escalated {
                level: next,
                to_org: to,
            },
            to,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::OrgNode;
    use taishi_model::Role;
    use taishi_model::Severity;
    use taishi_model::notice::{IncidentLevel, LoopActor, NoticeAction};

    fn org(id: i64, parent: Option<i64>) -> OrgNode {
        OrgNode {
            id: OrgId(id),
            parent: parent.map(OrgId),
            name: format!("o{id}"),
            emails: vec![],
            critical_infrastructure: false,
        }
    }

    #[test]
    fn walks_weeks_of_deadlines() {
        let tree = OrgTree::new(vec![org(1, None), org(2, Some(1)), org(3, Some(2))]).unwrap();
        let policy = LoopPolicy::default();
        let issued: Timestamp = "2026-11-02T02:00:00Z".parse().unwrap(); // Monday 10:00 +08
        let mut n = Notice {
            id: Uuid::from_u128(100),
            number: "2026-0001".parse().unwrap(),
            org: OrgId(3),
            findings: vec![],
            title: "t".into(),
            severity: Severity::High,
            level: IncidentLevel::General,
            required_actions: vec![],
            state: NoticeState::Draft,
            created_by: Actor::user("a"),
            created_at: issued,
            issued_at: None,
            ack_due: None,
            rectify_due: None,
            acknowledged_at: None,
            submitted_at: None,
            closed_at: None,
            returns: 0,
            escalations: vec![],
            history: vec![],
        };
        let basis = crate::policy::DeadlineBasis {
            severity: Severity::High,
            exploited_exposed: false,
            tier: 3,
        };
        let (ack_due, rectify_due) = policy.deadlines(issued, basis);
        let analyst = LoopActor::user("a", Role::Analyst);
        n.apply(
            &analyst,
            true,
            NoticeAction::Issue {
                ack_due,
                rectify_due,
            },
            issued,
            "",
        )
        .unwrap();
        let hour = SignedDuration::from_hours(1);
        let mut log: Vec<(i64, String)> = Vec::new();
        // Sweep hourly for five weeks.
        for h in 0..(24 * 35) {
            let now = issued.checked_add(hour * h).unwrap();
            for e in sweep_notice(&mut n, &tree, &policy, now) {
                log.push((h as i64, e.kind.as_str().to_owned()));
            }
        }
        // ack overdue after Tuesday 10:00 (+24 h → first sweep at 25 h); reminder 24 h before the
        // 14-day deadline (336 h); overdue at 337 h with level-1 escalation; level 2 three days later.
        let expected: Vec<(i64, String)> = vec![
            (25, "ack_overdue".into()),
            (312, "deadline_approaching".into()),
            (337, "overdue".into()),
            (337, "escalated".into()),
            (409, "escalated".into()),
        ];
        assert_eq!(log, expected);
        assert_eq!(
            n.escalations.iter().map(|e| e.to_org).collect::<Vec<_>>(),
            [OrgId(2), OrgId(1)]
        );
        assert!(n.is_overdue(issued.checked_add(hour * 400).unwrap()));
    }
}
