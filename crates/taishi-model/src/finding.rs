//! Findings (问题/隐患): one deduplicated problem on one asset, and its status as a pure state machine.
//!
//! Every source of sensing (probes, Sigma detections, vulnerability warnings) produces the same
//! [`Finding`], identified by a [`Fingerprint`] of (source, check or rule, asset, key). The functions here
//! take the current finding and an event and return the new finding; they never read a clock or a
//! database, so the whole lifecycle is tested with literal timestamps.

use crate::{AssetId, FindingSource, OrgId, Severity};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Default life of a risk acceptance before the finding reopens (DefectDojo's form default).
pub const DEFAULT_RISK_ACCEPTANCE_DAYS: i64 = 180;
/// How long before a risk acceptance expires its owner is warned.
pub const RISK_ACCEPTANCE_WARNING_DAYS: i64 = 10;

/// The identity of a finding: the same fingerprint seen again updates the same finding.
///
/// It is the hex SHA-256 of the four identity parts joined by a unit separator, so it is stable across
/// processes and backends and needs no escaping.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fingerprint(pub String);

impl Fingerprint {
    /// Computes the fingerprint of (source, check or rule id, asset, key). The key distinguishes several
    /// problems one check can report on one asset (a port, a path, a CVE id); use "" when there is one.
    pub fn of(source: FindingSource, check: &str, asset: AssetId, key: &str) -> Fingerprint {
        let mut h = Sha256::new();
        for part in [source.as_str(), check, &asset.to_string(), key] {
            h.update(part.as_bytes());
            h.update([0x1f]);
        }
        Fingerprint(hex::encode(h.finalize()))
    }

    /// The hex text of the fingerprint.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How a finding came to be resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// A re-check or an analyst confirmed the fix (复核通过).
    VerifiedFix,
    /// A later run of the same check no longer saw the problem.
    Disappeared,
}

impl Resolution {
    /// The stable name used in storage and APIs.
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::VerifiedFix => "verified_fix",
            Resolution::Disappeared => "disappeared",
        }
    }
}

/// Where a finding stands. Only `Open` findings count against an organisation's score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum FindingStatus {
    /// The problem exists and nobody has decided otherwise.
    Open,
    /// The problem is gone, since `at`, for the reason `how`.
    Resolved {
        /// When it was resolved (the event date scores use, not the import date).
        at: Timestamp,
        /// Verified fix or disappeared.
        how: Resolution,
    },
    /// An analyst decided it is not a real problem; reappearances do not reopen it.
    FalsePositive {
        /// When the decision was taken.
        at: Timestamp,
    },
    /// A time-boxed exception: the organisation accepts the risk until `until`, then it reopens.
    RiskAccepted {
        /// When the acceptance was recorded.
        at: Timestamp,
        /// When it expires and the finding reopens.
        until: Timestamp,
        /// Who approved it (may be someone outside the platform) and why.
        reason: String,
    },
}

impl FindingStatus {
    /// The stable name used in storage and filters.
    pub fn as_str(&self) -> &'static str {
        match self {
            FindingStatus::Open => "open",
            FindingStatus::Resolved { .. } => "resolved",
            FindingStatus::FalsePositive { .. } => "false_positive",
            FindingStatus::RiskAccepted { .. } => "risk_accepted",
        }
    }
}

/// Why a finding was reopened; recorded in its history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReopenReason {
    /// The check saw the problem again after it had been resolved.
    Reappeared,
    /// The risk acceptance expired.
    RiskAcceptanceExpired,
    /// A verification found the problem still present.
    VerificationFailed,
    /// An analyst reopened it by hand.
    Manual,
}

/// One entry of a finding's history: what happened, when, by whom.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingEvent {
    /// When it happened.
    pub at: Timestamp,
    /// The user, or `None` for the system.
    pub actor: Option<String>,
    /// What happened.
    pub kind: FindingEventKind,
}

/// The kinds of entries in a finding's history. Plain re-sightings only bump the counter and are not
/// recorded one by one, so history stays short on noisy checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FindingEventKind {
    /// First seen.
    Opened,
    /// The check reported a different severity.
    SeverityChanged {
        /// Before.
        from: Severity,
        /// After.
        to: Severity,
    },
    /// Resolved.
    Resolved {
        /// How.
        how: Resolution,
    },
    /// Back to open.
    Reopened {
        /// Why.
        reason: ReopenReason,
    },
    /// Marked false positive, with the analyst's comment.
    MarkedFalsePositive {
        /// Why.
        comment: String,
    },
    /// Risk accepted until a date.
    RiskAccepted {
        /// Expiry.
        until: Timestamp,
        /// Approver and reason.
        reason: String,
    },
    /// The owner was warned that the risk acceptance expiring at `until` ends soon (marks the warning so
    /// sweeps send it once per acceptance).
    RiskExpiryWarned {
        /// The expiry warned about.
        until: Timestamp,
    },
}

/// One deduplicated problem on one asset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable id.
    pub id: Uuid,
    /// Identity for deduplication.
    pub fingerprint: Fingerprint,
    /// Which way of sensing produced it.
    pub source: FindingSource,
    /// Check id, Sigma rule id or CVE/advisory id.
    pub check: String,
    /// Distinguishes several problems of one check on one asset ("" if none).
    pub key: String,
    /// The organisation that owns the asset and must fix it.
    pub org: OrgId,
    /// The asset it was seen on.
    pub asset: AssetId,
    /// A one-line description for lists and notices.
    pub title: String,
    /// Current severity (the latest reported).
    pub severity: Severity,
    /// Listed in an exploited-vulnerability catalogue (KEV or a domestic equivalent).
    pub exploited: bool,
    /// Reachable from the internet.
    pub internet_exposed: bool,
    /// The latest evidence, as the source reported it.
    pub evidence: serde_json::Value,
    /// First sighting (event time).
    pub first_seen: Timestamp,
    /// Latest sighting (event time).
    pub last_seen: Timestamp,
    /// How many times it was seen.
    pub occurrences: u64,
    /// Where it stands.
    pub status: FindingStatus,
    /// What happened to it, oldest first.
    pub history: Vec<FindingEvent>,
}

/// A sighting reported by a source: the input of intake.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sighting {
    /// Which way of sensing.
    pub source: FindingSource,
    /// Check id, rule id or CVE id.
    pub check: String,
    /// Distinguishing key ("" if none).
    pub key: String,
    /// Owning organisation.
    pub org: OrgId,
    /// Asset.
    pub asset: AssetId,
    /// One-line description.
    pub title: String,
    /// Severity as reported.
    pub severity: Severity,
    /// Known exploited.
    pub exploited: bool,
    /// Internet-exposed.
    pub internet_exposed: bool,
    /// Evidence to keep.
    pub evidence: serde_json::Value,
    /// When the source saw it (event time, not import time).
    pub seen_at: Timestamp,
}

impl Sighting {
    /// The fingerprint this sighting deduplicates on.
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of(self.source, &self.check, self.asset, &self.key)
    }
}

/// What intake did with a sighting or an absence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntakeOutcome {
    /// A new finding.
    Opened,
    /// An open (or accepted, or false-positive) finding seen again.
    Updated,
    /// A resolved finding seen again, now open.
    Reopened,
    /// An open finding no longer seen, now resolved as disappeared.
    Resolved,
    /// Nothing changed.
    Unchanged,
}

/// A transition that is not allowed from the current status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} a finding that is {status}")]
pub struct FindingTransitionError {
    /// What was attempted.
    pub action: &'static str,
    /// The status it was in.
    pub status: &'static str,
}

impl Finding {
    /// A new open finding from its first sighting.
    pub fn open(id: Uuid, s: Sighting) -> Finding {
        let fingerprint = s.fingerprint();
        Finding {
            id,
            fingerprint,
            source: s.source,
            check: s.check,
            key: s.key,
            org: s.org,
            asset: s.asset,
            title: s.title,
            severity: s.severity,
            exploited: s.exploited,
            internet_exposed: s.internet_exposed,
            evidence: s.evidence,
            first_seen: s.seen_at,
            last_seen: s.seen_at,
            occurrences: 1,
            status: FindingStatus::Open,
            history: vec![FindingEvent {
                at: s.seen_at,
                actor: None,
                kind: FindingEventKind::Opened,
            }],
        }
    }

    /// Applies a new sighting of the same fingerprint: bumps the counter, refreshes evidence and severity,
    /// and reopens a resolved finding. False positives and accepted risks stay as they are.
    pub fn sighted(&mut self, s: Sighting) -> IntakeOutcome {
        let at = s.seen_at;
        self.occurrences += 1;
        if at > self.last_seen {
            self.last_seen = at;
            self.evidence = s.evidence;
            self.title = s.title;
            self.exploited = s.exploited;
            self.internet_exposed = s.internet_exposed;
            if s.severity != self.severity {
                self.history.push(FindingEvent {
                    at,
                    actor: None,
                    kind: FindingEventKind::SeverityChanged {
                        from: self.severity,
                        to: s.severity,
                    },
                });
                self.severity = s.severity;
            }
        }
        match self.status {
            FindingStatus::Resolved {
                at: resolved_at, ..
            } if at > resolved_at => {
                self.reopen(at, None, ReopenReason::Reappeared);
                IntakeOutcome::Reopened
            }
            _ => IntakeOutcome::Updated,
        }
    }

    /// Applies "the check ran at `at` and did not see it": an open finding resolves as disappeared.
    pub fn absent(&mut self, at: Timestamp) -> IntakeOutcome {
        if self.status == FindingStatus::Open && at >= self.last_seen {
            self.resolve(at, None, Resolution::Disappeared);
            IntakeOutcome::Resolved
        } else {
            IntakeOutcome::Unchanged
        }
    }

    /// Resolves an open finding (a verified fix or a disappearance).
    pub fn resolve(&mut self, at: Timestamp, actor: Option<String>, how: Resolution) {
        self.status = FindingStatus::Resolved { at, how };
        self.history.push(FindingEvent {
            at,
            actor,
            kind: FindingEventKind::Resolved { how },
        });
    }

    /// Back to open, saying why in the history.
    pub fn reopen(&mut self, at: Timestamp, actor: Option<String>, reason: ReopenReason) {
        self.status = FindingStatus::Open;
        self.history.push(FindingEvent {
            at,
            actor,
            kind: FindingEventKind::Reopened { reason },
        });
    }

    /// An analyst marks the finding as not a real problem.
    pub fn mark_false_positive(&mut self, at: Timestamp, actor: String, comment: String) {
        self.status = FindingStatus::FalsePositive { at };
        self.history.push(FindingEvent {
            at,
            actor: Some(actor),
            kind: FindingEventKind::MarkedFalsePositive { comment },
        });
    }

    /// Records a risk acceptance for `days` days (use [`DEFAULT_RISK_ACCEPTANCE_DAYS`] by default).
    ///
    /// # Errors
    /// A resolved or false-positive finding has no risk left to accept.
    pub fn accept_risk(
        &mut self,
        at: Timestamp,
        actor: String,
        days: i64,
        reason: String,
    ) -> Result<Timestamp, FindingTransitionError> {
        match self.status {
            FindingStatus::Open | FindingStatus::RiskAccepted { .. } => {}
            _ => {
                return Err(FindingTransitionError {
                    action: "accept risk of",
                    status: self.status.as_str(),
                });
            }
        }
        let until = at
            .saturating_add(SignedDuration::from_hours(24 * days.max(1)))
            .unwrap_or(at);
        self.status = FindingStatus::RiskAccepted {
            at,
            until,
            reason: reason.clone(),
        };
        self.history.push(FindingEvent {
            at,
            actor: Some(actor),
            kind: FindingEventKind::RiskAccepted { until, reason },
        });
        Ok(until)
    }

    /// What a daily sweep should do about this finding's risk acceptance at `now`.
    pub fn acceptance_due(&self, now: Timestamp) -> AcceptanceDue {
        let FindingStatus::RiskAccepted { until, .. } = self.status else {
            return AcceptanceDue::Nothing;
        };
        if now >= until {
            AcceptanceDue::Expired
        } else if until.duration_since(now)
            <= SignedDuration::from_hours(24 * RISK_ACCEPTANCE_WARNING_DAYS)
        {
            AcceptanceDue::ExpiresSoon(until)
        } else {
            AcceptanceDue::Nothing
        }
    }

    /// Records the expiry warning of the current risk acceptance if it is due at `now` and was not given
    /// yet for this acceptance; returns the expiry to warn about. A renewed acceptance (a new `until`)
    /// is warned about again.
    pub fn warn_acceptance_expiry(&mut self, now: Timestamp) -> Option<Timestamp> {
        let AcceptanceDue::ExpiresSoon(until) = self.acceptance_due(now) else {
            return None;
        };
        let warned = self.history.iter().any(
            |e| matches!(e.kind, FindingEventKind::RiskExpiryWarned { until: u } if u == until),
        );
        if warned {
            return None;
        }
        self.history.push(FindingEvent {
            at: now,
            actor: None,
            kind: FindingEventKind::RiskExpiryWarned { until },
        });
        Some(until)
    }

    /// Whether the finding was open (counts against the org) at instant `t`, judged from event dates in
    /// its history so past periods can be recomputed.
    pub fn open_at(&self, t: Timestamp) -> bool {
        if self.first_seen > t {
            return false;
        }
        let mut open = true;
        for e in self.history.iter().take_while(|e| e.at <= t) {
            match e.kind {
                FindingEventKind::Opened | FindingEventKind::Reopened { .. } => open = true,
                FindingEventKind::Resolved { .. }
                | FindingEventKind::MarkedFalsePositive { .. }
                | FindingEventKind::RiskAccepted { .. } => open = false,
                FindingEventKind::SeverityChanged { .. }
                | FindingEventKind::RiskExpiryWarned { .. } => {}
            }
        }
        open
    }

    /// When the finding was last resolved, if it is resolved now.
    pub fn resolved_at(&self) -> Option<Timestamp> {
        match self.status {
            FindingStatus::Resolved { at, .. } => Some(at),
            _ => None,
        }
    }
}

/// The result of checking a risk acceptance's expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptanceDue {
    /// Not accepted, or far from expiry.
    Nothing,
    /// Expires within the warning window, at the given instant.
    ExpiresSoon(Timestamp),
    /// Expired: the finding must reopen.
    Expired,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn sighting(at: &str, sev: Severity) -> Sighting {
        Sighting {
            source: FindingSource::Probe,
            check: "tls.expired".into(),
            key: String::new(),
            org: OrgId(1),
            asset: AssetId(7),
            title: "certificate expired".into(),
            severity: sev,
            exploited: false,
            internet_exposed: true,
            evidence: serde_json::json!({"not_after": "2026-01-01"}),
            seen_at: ts(at),
        }
    }

    #[test]
    fn fingerprint_depends_on_every_part() {
        let a = AssetId(1);
        let base = Fingerprint::of(FindingSource::Probe, "c", a, "k");
        assert_eq!(base, Fingerprint::of(FindingSource::Probe, "c", a, "k"));
        assert_ne!(base, Fingerprint::of(FindingSource::Detection, "c", a, "k"));
        assert_ne!(base, Fingerprint::of(FindingSource::Probe, "c2", a, "k"));
        assert_ne!(
            base,
            Fingerprint::of(FindingSource::Probe, "c", AssetId(2), "k")
        );
        assert_ne!(base, Fingerprint::of(FindingSource::Probe, "c", a, "k2"));
        // The separator keeps "ab"+"c" apart from "a"+"bc".
        assert_ne!(
            Fingerprint::of(FindingSource::Probe, "ab", a, "c"),
            Fingerprint::of(FindingSource::Probe, "a", a, "bc")
        );
        assert_eq!(base.as_str().len(), 64);
    }

    #[test]
    fn reappearance_after_resolution_reopens_with_history() {
        let mut f = Finding::open(
            Uuid::from_u128(1),
            sighting("2026-11-01T00:00:00Z", Severity::High),
        );
        assert_eq!(
            f.sighted(sighting("2026-11-02T00:00:00Z", Severity::Critical)),
            IntakeOutcome::Updated
        );
        assert_eq!((f.occurrences, f.severity), (2, Severity::Critical));
        assert_eq!(
            f.absent(ts("2026-11-03T00:00:00Z")),
            IntakeOutcome::Resolved
        );
        assert_eq!(f.resolved_at(), Some(ts("2026-11-03T00:00:00Z")));
        assert_eq!(
            f.absent(ts("2026-11-04T00:00:00Z")),
            IntakeOutcome::Unchanged
        );
        assert_eq!(
            f.sighted(sighting("2026-11-05T00:00:00Z", Severity::Critical)),
            IntakeOutcome::Reopened
        );
        assert_eq!(f.status, FindingStatus::Open);
        assert!(f.history.iter().any(|e| e.kind
            == FindingEventKind::Reopened {
                reason: ReopenReason::Reappeared
            }));
        assert!(f.open_at(ts("2026-11-02T12:00:00Z")));
        assert!(!f.open_at(ts("2026-11-04T00:00:00Z")));
        assert!(f.open_at(ts("2026-11-06T00:00:00Z")));
        assert!(!f.open_at(ts("2026-10-01T00:00:00Z")));
    }

    #[test]
    fn false_positive_is_not_reopened_by_sightings() {
        let mut f = Finding::open(
            Uuid::from_u128(1),
            sighting("2026-11-01T00:00:00Z", Severity::High),
        );
        f.mark_false_positive(
            ts("2026-11-02T00:00:00Z"),
            "ana".into(),
            "scanner bug".into(),
        );
        assert_eq!(
            f.sighted(sighting("2026-11-03T00:00:00Z", Severity::High)),
            IntakeOutcome::Updated
        );
        assert_eq!(f.status.as_str(), "false_positive");
        assert!(
            f.accept_risk(ts("2026-11-04T00:00:00Z"), "a".into(), 10, "x".into())
                .is_err()
        );
    }

    #[test]
    fn risk_acceptance_warns_then_expires() {
        let mut f = Finding::open(
            Uuid::from_u128(1),
            sighting("2026-01-01T00:00:00Z", Severity::Medium),
        );
        let until = f
            .accept_risk(
                ts("2026-01-02T00:00:00Z"),
                "ana".into(),
                DEFAULT_RISK_ACCEPTANCE_DAYS,
                "CIO".into(),
            )
            .unwrap();
        assert_eq!(until, ts("2026-07-01T00:00:00Z"));
        assert_eq!(
            f.acceptance_due(ts("2026-06-01T00:00:00Z")),
            AcceptanceDue::Nothing
        );
        assert_eq!(
            f.acceptance_due(ts("2026-06-22T00:00:00Z")),
            AcceptanceDue::ExpiresSoon(until)
        );
        assert_eq!(f.acceptance_due(until), AcceptanceDue::Expired);
        assert!(!f.open_at(ts("2026-03-01T00:00:00Z")));
    }

    #[test]
    fn expiry_warning_is_given_once_per_acceptance() {
        let mut f = Finding::open(
            Uuid::from_u128(1),
            sighting("2026-01-01T00:00:00Z", Severity::Medium),
        );
        let until = f
            .accept_risk(ts("2026-01-02T00:00:00Z"), "ana".into(), 30, "CIO".into())
            .unwrap();
        assert_eq!(f.warn_acceptance_expiry(ts("2026-01-20T00:00:00Z")), None);
        assert_eq!(
            f.warn_acceptance_expiry(ts("2026-01-22T00:00:00Z")),
            Some(until)
        );
        assert_eq!(f.warn_acceptance_expiry(ts("2026-01-23T00:00:00Z")), None);
        assert!(!f.open_at(ts("2026-01-23T00:00:00Z")));
        // Renewed: a new expiry, a new warning.
        let again = f
            .accept_risk(ts("2026-01-25T00:00:00Z"), "ana".into(), 30, "CIO".into())
            .unwrap();
        assert_eq!(
            f.warn_acceptance_expiry(ts("2026-02-20T00:00:00Z")),
            Some(again)
        );
    }
}
