//! Loop policy: rectification deadlines by severity and org tier, incident levels from severity and
//! asset criticality, and the auto-issue rule. Loaded from TOML (`[loop]` section of the server config or
//! its own file); every field has the documented default, so an empty file is a valid policy.

use crate::calendar::WorkCalendar;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use taishi_model::Severity;
use taishi_model::notice::IncidentLevel;

/// How important the asset a finding sits on is, for incident levels and auto-issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Criticality {
    /// An ordinary system.
    General,
    /// An important system (e.g. MLPS level 3 or above).
    Important,
    /// Critical information infrastructure (关键信息基础设施).
    CriticalInfrastructure,
}

/// Rectification days per severity; `None` means no deadline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeadlineDays {
    /// Known exploited and internet-exposed, whatever the severity.
    pub exploited_exposed: Option<u32>,
    /// Critical.
    pub critical: Option<u32>,
    /// High.
    pub high: Option<u32>,
    /// Medium.
    pub medium: Option<u32>,
    /// Low.
    pub low: Option<u32>,
    /// Info.
    pub info: Option<u32>,
}

impl Default for DeadlineDays {
    fn default() -> Self {
        DeadlineDays {
            exploited_exposed: Some(3),
            critical: Some(7),
            high: Some(14),
            medium: Some(60),
            low: Some(120),
            info: None,
        }
    }
}

impl DeadlineDays {
    fn for_severity(&self, s: Severity) -> Option<u32> {
        match s {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Info => self.info,
        }
    }
}

/// Reads `[tier_deadlines.N]` tables so that a field a tier leaves out is `None` and falls back to the
/// policy's `[deadlines]`, instead of taking [`DeadlineDays::default`] as the struct-level serde default
/// would.
fn tier_overrides<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, DeadlineDays>, D::Error> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Partial {
        exploited_exposed: Option<u32>,
        critical: Option<u32>,
        high: Option<u32>,
        medium: Option<u32>,
        low: Option<u32>,
        info: Option<u32>,
    }
    let raw = BTreeMap::<String, Partial>::deserialize(d)?;
    Ok(raw
        .into_iter()
        .map(|(tier, p)| {
            let days = DeadlineDays {
                exploited_exposed: p.exploited_exposed,
                critical: p.critical,
                high: p.high,
                medium: p.medium,
                low: p.low,
                info: p.info,
            };
            (tier, days)
        })
        .collect())
}

/// The complete loop policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoopPolicy {
    /// Working calendar for acknowledgement deadlines.
    pub calendar: WorkCalendar,
    /// Working days to acknowledge a notice.
    pub ack_workdays: u32,
    /// Default rectification deadlines.
    pub deadlines: DeadlineDays,
    /// Overrides per org tier (tier number as text key: "1", "2", …); unset fields fall back to
    /// `deadlines` (not to the built-in defaults).
    #[serde(deserialize_with = "tier_overrides")]
    pub tier_deadlines: BTreeMap<String, DeadlineDays>,
    /// Hours before a deadline to send the "deadline approaching" reminder.
    pub remind_hours_before: i64,
    /// Days after the deadline (and after each escalation) before escalating one level further up.
    pub escalation_period_days: i64,
    /// How many levels up escalation may go (2 = parent, then grandparent).
    pub max_escalation_levels: u8,
    /// Incident level matrix.
    pub levels: LevelPolicy,
    /// Automatic issue of notices.
    pub auto_issue: AutoIssuePolicy,
    /// Default days of a risk acceptance.
    pub risk_acceptance_days: i64,
}

impl Default for LoopPolicy {
    fn default() -> Self {
        LoopPolicy {
            calendar: WorkCalendar::default(),
            ack_workdays: 1,
            deadlines: DeadlineDays::default(),
            tier_deadlines: BTreeMap::new(),
            remind_hours_before: 24,
            escalation_period_days: 3,
            max_escalation_levels: 2,
            levels: LevelPolicy::default(),
            auto_issue: AutoIssuePolicy::default(),
            risk_acceptance_days: taishi_model::finding::DEFAULT_RISK_ACCEPTANCE_DAYS,
        }
    }
}

/// A policy file that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("loop policy {origin}: {source}")]
pub struct PolicyError {
    /// File name or `"<inline>"`.
    pub origin: String,
    /// The TOML error, which names line and field.
    #[source]
    pub source: toml::de::Error,
}

/// What a deadline is computed from: the worst finding's properties and the org's tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlineBasis {
    /// Worst severity.
    pub severity: Severity,
    /// Any finding known exploited and internet-exposed.
    pub exploited_exposed: bool,
    /// The org's tier (1 = top of the tree).
    pub tier: u8,
}

impl LoopPolicy {
    /// Parses a policy from TOML text.
    ///
    /// # Errors
    /// Unknown fields and wrong types, with line and column.
    pub fn from_toml(text: &str, origin: &str) -> Result<LoopPolicy, PolicyError> {
        toml::from_str(text).map_err(|source| PolicyError {
            origin: origin.to_owned(),
            source,
        })
    }

    /// Days to rectify: the tier override if it sets the value, else the default. Exploited-and-exposed
    /// takes the shorter of its own deadline and the severity's.
    pub fn rectify_days(&self, b: DeadlineBasis) -> Option<u32> {
        let tier = self.tier_deadlines.get(&b.tier.to_string());
        let pick =
            |f: fn(&DeadlineDays) -> Option<u32>| tier.and_then(f).or_else(|| f(&self.deadlines));
        let by_severity = match b.severity {
            Severity::Critical => pick(|d| d.for_severity(Severity::Critical)),
            Severity::High => pick(|d| d.for_severity(Severity::High)),
            Severity::Medium => pick(|d| d.for_severity(Severity::Medium)),
            Severity::Low => pick(|d| d.for_severity(Severity::Low)),
            Severity::Info => pick(|d| d.for_severity(Severity::Info)),
        };
        if b.exploited_exposed {
            let ee = pick(|d| d.exploited_exposed);
            return match (ee, by_severity) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        by_severity
    }

    /// The (acknowledgement, rectification) deadlines of a notice issued at `issued`.
    pub fn deadlines(&self, issued: Timestamp, b: DeadlineBasis) -> (Timestamp, Option<Timestamp>) {
        let ack = self.calendar.add_workdays(issued, self.ack_workdays);
        let rect = self.rectify_days(b).map(|d| {
            issued
                .saturating_add(SignedDuration::from_hours(24 * i64::from(d)))
                .unwrap_or(issued)
        });
        (ack, rect)
    }
}

/// Incident level matrix: severity × criticality, with a bump for exploited vulnerabilities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LevelPolicy {
    /// Levels for critical findings on [general, important, critical-infrastructure] assets.
    pub critical: [IncidentLevel; 3],
    /// Same for high.
    pub high: [IncidentLevel; 3],
    /// Same for medium.
    pub medium: [IncidentLevel; 3],
    /// Same for low and info.
    pub low: [IncidentLevel; 3],
    /// Raise the level one step when a finding is known exploited.
    pub exploited_raises: bool,
}

impl Default for LevelPolicy {
    fn default() -> Self {
        use IncidentLevel::*;
        LevelPolicy {
            critical: [Large, Large, Major],
            high: [General, General, Large],
            medium: [General, General, General],
            low: [General, General, General],
            exploited_raises: true,
        }
    }
}

impl LevelPolicy {
    /// The incident level of a notice from its worst finding.
    pub fn level(&self, severity: Severity, crit: Criticality, exploited: bool) -> IncidentLevel {
        let row = match severity {
            Severity::Critical => &self.critical,
            Severity::High => &self.high,
            Severity::Medium => &self.medium,
            Severity::Low | Severity::Info => &self.low,
        };
        let base = row[crit as usize];
        if exploited && self.exploited_raises {
            match base {
                IncidentLevel::General => IncidentLevel::Large,
                IncidentLevel::Large => IncidentLevel::Major,
                _ => IncidentLevel::ParticularlyMajor,
            }
        } else {
            base
        }
    }
}

/// When taishi issues a notice by itself, without an analyst.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AutoIssuePolicy {
    /// Off by default: an authority turns it on deliberately.
    pub enabled: bool,
    /// Findings at least this severe qualify.
    pub min_severity: Severity,
    /// And the asset must be at least this critical.
    pub min_criticality: Criticality,
    /// Known exploited and internet-exposed findings qualify whatever their severity or asset.
    pub exploited_exposed_always: bool,
}

impl Default for AutoIssuePolicy {
    fn default() -> Self {
        AutoIssuePolicy {
            enabled: false,
            min_severity: Severity::Critical,
            min_criticality: Criticality::CriticalInfrastructure,
            exploited_exposed_always: true,
        }
    }
}

impl AutoIssuePolicy {
    /// Whether a new or reopened finding triggers an automatic notice.
    pub fn qualifies(
        &self,
        severity: Severity,
        crit: Criticality,
        exploited: bool,
        exposed: bool,
    ) -> bool {
        self.enabled
            && ((severity >= self.min_severity && crit >= self.min_criticality)
                || (self.exploited_exposed_always && exploited && exposed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basis(severity: Severity, ee: bool, tier: u8) -> DeadlineBasis {
        DeadlineBasis {
            severity,
            exploited_exposed: ee,
            tier,
        }
    }

    #[test]
    fn default_deadlines() {
        let p = LoopPolicy::default();
        let days: Vec<_> = Severity::ALL_DESC
            .iter()
            .map(|s| p.rectify_days(basis(*s, false, 2)))
            .collect();
        assert_eq!(days, [Some(7), Some(14), Some(60), Some(120), None]);
        assert_eq!(p.rectify_days(basis(Severity::Low, true, 2)), Some(3));
        assert_eq!(p.rectify_days(basis(Severity::Info, true, 2)), Some(3));
        // Issued Friday 2026-11-27 10:00 +08.
        let (ack, rect) = p.deadlines(
            "2026-11-27T02:00:00Z".parse().unwrap(),
            basis(Severity::High, false, 2),
        );
        assert_eq!(ack, "2026-11-30T02:00:00Z".parse().unwrap());
        assert_eq!(rect, Some("2026-12-11T02:00:00Z".parse().unwrap()));
    }

    #[test]
    fn tier_overrides_and_toml() {
        let p = LoopPolicy::from_toml(
            "ack_workdays = 2\n[tier_deadlines.3]\nhigh = 30\n[auto_issue]\nenabled = true\n",
            "t.toml",
        )
        .unwrap();
        assert_eq!(p.rectify_days(basis(Severity::High, false, 3)), Some(30));
        assert_eq!(p.rectify_days(basis(Severity::Critical, false, 3)), Some(7));
        assert_eq!(p.rectify_days(basis(Severity::High, false, 2)), Some(14));
        assert!(p.auto_issue.qualifies(
            Severity::Critical,
            Criticality::CriticalInfrastructure,
            false,
            false
        ));
        assert!(
            !p.auto_issue
                .qualifies(Severity::Critical, Criticality::Important, false, false)
        );
        assert!(
            p.auto_issue
                .qualifies(Severity::Low, Criticality::General, true, true)
        );
        let err = LoopPolicy::from_toml("ack_workday = 2\n", "bad.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("bad.toml") && err.contains("ack_workday"),
            "{err}"
        );
    }

    #[test]
    fn tier_override_falls_back_to_policy_deadlines() {
        let p = LoopPolicy::from_toml(
            "[deadlines]\ncritical = 5\nexploited_exposed = 2\n[tier_deadlines.3]\nhigh = 20\n",
            "t.toml",
        )
        .unwrap();
        assert_eq!(p.rectify_days(basis(Severity::High, false, 3)), Some(20));
        assert_eq!(p.rectify_days(basis(Severity::Critical, false, 3)), Some(5));
        assert_eq!(p.rectify_days(basis(Severity::High, true, 3)), Some(2));
        // Fields [deadlines] leaves out keep the built-in defaults.
        assert_eq!(p.rectify_days(basis(Severity::Medium, false, 3)), Some(60));
        let err = LoopPolicy::from_toml("[tier_deadlines.3]\nhihg = 1\n", "bad.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("bad.toml") && err.contains("hihg"), "{err}");
    }

    #[test]
    fn level_matrix() {
        let l = LevelPolicy::default();
        assert_eq!(
            l.level(
                Severity::Critical,
                Criticality::CriticalInfrastructure,
                false
            ),
            IncidentLevel::Major
        );
        assert_eq!(
            l.level(
                Severity::Critical,
                Criticality::CriticalInfrastructure,
                true
            ),
            IncidentLevel::ParticularlyMajor
        );
        assert_eq!(
            l.level(Severity::High, Criticality::General, false),
            IncidentLevel::General
        );
        assert_eq!(
            l.level(Severity::High, Criticality::General, true),
            IncidentLevel::Large
        );
    }
}
