//! The indicator system as declared in a TOML file (see `examples/indicators.toml`).

use serde::{Deserialize, Serialize};
use taishi_model::Severity;

/// Points per severity, for the capped-deduction rule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerSeverity {
    /// Critical.
    pub critical: f64,
    /// High.
    pub high: f64,
    /// Medium.
    pub medium: f64,
    /// Low.
    pub low: f64,
}

impl PerSeverity {
    /// The value for a severity (info is always 0 / no cap).
    pub fn get(&self, s: Severity) -> Option<f64> {
        match s {
            Severity::Critical => Some(self.critical),
            Severity::High => Some(self.high),
            Severity::Medium => Some(self.medium),
            Severity::Low => Some(self.low),
            Severity::Info => None,
        }
    }
}

fn caps() -> PerSeverity {
    PerSeverity {
        critical: 40.0,
        high: 60.0,
        medium: 80.0,
        low: 95.0,
    }
}
fn per_extra() -> PerSeverity {
    PerSeverity {
        critical: 5.0,
        high: 3.0,
        medium: 2.0,
        low: 1.0,
    }
}
fn floor() -> f64 {
    5.0
}
fn ten() -> f64 {
    10.0
}
fn target_days() -> f64 {
    14.0
}
fn zero_days() -> f64 {
    90.0
}
fn availability_floor() -> f64 {
    0.9
}

/// What an indicator measures; each yields a 0–100 sub-score, or no data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IndicatorKind {
    /// Findings open at the end of the period: the worst severity caps the score, then points off per
    /// further finding (DefectDojo's product grade), never below `floor`. Info findings do not count.
    OpenFindings {
        /// Cap by worst open severity.
        #[serde(default = "caps")]
        caps: PerSeverity,
        /// Points off per further finding of each severity.
        #[serde(default = "per_extra")]
        per_extra: PerSeverity,
        /// Lowest score.
        #[serde(default = "floor")]
        floor: f64,
    },
    /// Notices overdue at any time in the period: points off per notice.
    OverdueNotices {
        /// Points off per overdue notice.
        #[serde(default = "ten")]
        per_notice: f64,
    },
    /// Share of notices due in the period that closed by their deadline, × 100.
    OnTimeRectification,
    /// Mean days from issue to close of notices closed in the period: 100 up to `target_days`, 0 from
    /// `zero_days`, linear between.
    MeanTimeToRectify {
        /// Full marks up to this many days.
        #[serde(default = "target_days")]
        target_days: f64,
        /// Zero from this many days.
        #[serde(default = "zero_days")]
        zero_days: f64,
    },
    /// Verifications that failed (notices returned) in the period: points off per failure.
    FailedVerifications {
        /// Points off per failure.
        #[serde(default = "ten")]
        per_failure: f64,
    },
    /// Website availability ratio (metric `availability`, 0–1): 100 at 1.0, 0 at `floor_ratio`.
    Availability {
        /// Ratio that scores 0.
        #[serde(default = "availability_floor")]
        floor_ratio: f64,
    },
    /// Mean TLS grade of the org's websites (metric `tls_grade`, already 0–100).
    TlsGrade,
    /// Mean HTTP security-header grade (metric `header_grade`, 0–100).
    HeaderGrade,
    /// Asset register completeness (metric `register_completeness`, 0–1: contacts filled, assets with
    /// owners).
    RegisterCompleteness,
    /// A value analysts enter per org and period (0–100), e.g. training completion.
    Manual {
        /// Metric key, e.g. `training`.
        key: String,
    },
}

/// One indicator of the system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Indicator {
    /// Stable id (used in explanations and stored scores).
    pub id: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Relative weight (> 0).
    pub weight: f64,
    /// What it measures.
    #[serde(flatten)]
    pub kind: IndicatorKind,
}

/// How an org's subtree score combines its own score with its children's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Rollup {
    /// `own_weight × own + (1 − own_weight) × mean(children's subtree scores)`.
    Weighted {
        /// Share of the org's own score (0–1).
        own_weight: f64,
    },
    /// The mean of the own scores of every org in the subtree.
    MeanOfSubtree,
    /// The worst of the own score and the children's subtree scores.
    Worst,
}

/// The whole indicator system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndicatorSystem {
    /// Roll-up rule.
    pub rollup: Rollup,
    /// The indicators.
    #[serde(rename = "indicator")]
    pub indicators: Vec<Indicator>,
}

/// An indicator file that does not parse or does not make sense.
#[derive(Debug, thiserror::Error)]
pub enum IndicatorError {
    /// TOML syntax or field types (message names line and field).
    #[error("indicator file {origin}: {source}")]
    Toml {
        /// File name.
        origin: String,
        /// Cause.
        #[source]
        source: toml::de::Error,
    },
    /// A value out of range.
    #[error("indicator file {origin}: indicator {id:?}: {problem}")]
    Invalid {
        /// File name.
        origin: String,
        /// Indicator id ("" for the roll-up).
        id: String,
        /// What is wrong.
        problem: String,
    },
}

impl IndicatorSystem {
    /// Parses and checks an indicator file.
    ///
    /// # Errors
    /// Syntax, unknown kinds, duplicate ids, non-positive weights, out-of-range parameters.
    pub fn from_toml(text: &str, origin: &str) -> Result<IndicatorSystem, IndicatorError> {
        let sys: IndicatorSystem = toml::from_str(text).map_err(|source| IndicatorError::Toml {
            origin: origin.into(),
            source,
        })?;
        let bad = |id: &str, problem: String| IndicatorError::Invalid {
            origin: origin.into(),
            id: id.into(),
            problem,
        };
        if let Rollup::Weighted { own_weight } = sys.rollup
            && !(0.0..=1.0).contains(&own_weight)
        {
            return Err(bad(
                "",
                format!("rollup own_weight {own_weight} is not within 0..1"),
            ));
        }
        if sys.indicators.is_empty() {
            return Err(bad("", "no [[indicator]] declared".into()));
        }
        let mut seen = std::collections::HashSet::new();
        for i in &sys.indicators {
            if !seen.insert(i.id.as_str()) {
                return Err(bad(&i.id, "duplicate id".into()));
            }
            if !(i.weight.is_finite() && i.weight > 0.0) {
                return Err(bad(&i.id, format!("weight {} must be > 0", i.weight)));
            }
            match &i.kind {
                IndicatorKind::MeanTimeToRectify {
                    target_days,
                    zero_days,
                } if zero_days <= target_days => {
                    return Err(bad(&i.id, "zero_days must exceed target_days".into()));
                }
                IndicatorKind::Availability { floor_ratio }
                    if !(0.0..1.0).contains(floor_ratio) =>
                {
                    return Err(bad(&i.id, "floor_ratio must be within 0..1".into()));
                }
                _ => {}
            }
        }
        Ok(sys)
    }

    /// The system shipped as `examples/indicators.toml`.
    pub fn default_system() -> IndicatorSystem {
        // The example file is part of the crate and parsed in tests, so this cannot fail.
        IndicatorSystem::from_toml(DEFAULT_TOML, "examples/indicators.toml").unwrap_or_else(|_| {
            IndicatorSystem {
                rollup: Rollup::MeanOfSubtree,
                indicators: Vec::new(),
            }
        })
    }
}

/// The default indicator file.
pub const DEFAULT_TOML: &str = include_str!("../../examples/indicators.toml");
