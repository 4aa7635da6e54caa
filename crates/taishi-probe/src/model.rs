//! Result types every check produces, and the `Check` trait the scheduler and the CLI call.

use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use taishi_model::Severity;

use crate::target::Target;

/// A boxed future, so the `Check` trait stays object-safe without an extra macro crate.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How one run of one check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The check ran and found nothing wrong.
    Pass,
    /// The check ran and produced at least one finding.
    Fail,
    /// The check could not run to a verdict (unreachable, hostile or malformed target, timeout).
    Error,
}

impl Outcome {
    /// Stable lower-case name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Error => "error",
        }
    }
}

/// The record of one check run against one target: what the scheduler stores as an observation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckRun {
    /// Stable id of the check component, e.g. `tls` or `headers`.
    pub check_id: String,
    /// The target as given (URL, host or IP).
    pub target: String,
    /// Pass, fail or error.
    pub outcome: Outcome,
    /// Wall time the run took, in milliseconds.
    pub duration_ms: u64,
    /// Check-specific measurements (status, grade, score, protocols…), kept even when all is well.
    pub observation: serde_json::Value,
    /// Why the run ended in `Error`, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Evidence attached to a finding: a short human sentence plus structured detail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// One line an analyst reads first, e.g. `server accepted TLS 1.0 with cipher 0x002f`.
    pub text: String,
    /// Structured detail (headers seen, fragments changed, banner bytes…).
    pub data: serde_json::Value,
}

/// One problem found by a check, in the shape the findings loop turns into a platform finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeFinding {
    /// Stable id of the kind of problem, e.g. `tls.protocol.tls10`.
    pub check_id: String,
    /// How bad it is.
    pub severity: Severity,
    /// Title in Simplified Chinese.
    pub title_zh: String,
    /// Title in English.
    pub title_en: String,
    /// What was seen.
    pub evidence: Evidence,
    /// What to do, in Simplified Chinese.
    pub remediation_zh: String,
    /// What to do, in English.
    pub remediation_en: String,
    /// Deduplication key: the same problem on the same target gives the same key run after run.
    pub key: String,
}

/// Static text of one kind of finding, kept in tables next to each check.
#[derive(Debug, Clone, Copy)]
pub struct FindingKind {
    /// Stable id, e.g. `tls.protocol.tls10`.
    pub id: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// Title in Simplified Chinese.
    pub title_zh: &'static str,
    /// Title in English.
    pub title_en: &'static str,
    /// Remediation in Simplified Chinese.
    pub fix_zh: &'static str,
    /// Remediation in English.
    pub fix_en: &'static str,
}

impl FindingKind {
    /// Builds a finding of this kind for `target`; `key_part` distinguishes several instances
    /// of the same kind on one target (a path, a port), empty when there is only one.
    pub fn finding(
        &self,
        target: &Target,
        key_part: &str,
        text: impl Into<String>,
        data: serde_json::Value,
    ) -> ProbeFinding {
        self.finding_with(self.severity, target, key_part, text, data)
    }

    /// Like [`FindingKind::finding`] with a severity decided at run time (e.g. expiry in 7 days).
    pub fn finding_with(
        &self,
        severity: Severity,
        target: &Target,
        key_part: &str,
        text: impl Into<String>,
        data: serde_json::Value,
    ) -> ProbeFinding {
        let key = if key_part.is_empty() {
            format!("{}|{}", self.id, target.key())
        } else {
            format!("{}|{}|{}", self.id, target.key(), key_part)
        };
        ProbeFinding {
            check_id: self.id.to_string(),
            severity,
            title_zh: self.title_zh.to_string(),
            title_en: self.title_en.to_string(),
            evidence: Evidence {
                text: text.into(),
                data,
            },
            remediation_zh: self.fix_zh.to_string(),
            remediation_en: self.fix_en.to_string(),
            key,
        }
    }
}

/// What a check hands back: its run record and the findings it raised.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckReport {
    /// The run record.
    pub run: CheckRun,
    /// Findings, empty on pass or error.
    pub findings: Vec<ProbeFinding>,
}

/// Scheduling settings every check component carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// How often the scheduler should run the check per asset, in seconds.
    pub interval_secs: u64,
    /// Hard limit on one run, in milliseconds; the run is an error past it.
    pub timeout_ms: u64,
}

impl Schedule {
    /// A schedule from seconds and milliseconds.
    pub const fn new(interval_secs: u64, timeout_ms: u64) -> Self {
        Schedule {
            interval_secs,
            timeout_ms,
        }
    }

    /// The timeout as a `Duration`.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
}

/// What a check body returns before timing and wrapping: observation plus findings, or an error.
pub type CheckOutput = Result<(serde_json::Value, Vec<ProbeFinding>), String>;

/// One posture check, built from its configuration; the scheduler calls `run` per asset.
pub trait Check: Send + Sync {
    /// Stable id of the component, e.g. `availability`.
    fn id(&self) -> &'static str;
    /// Its interval and timeout.
    fn schedule(&self) -> Schedule;
    /// Runs the check body once. Use [`run_check`] to get timing, timeout and the run record.
    fn execute<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, CheckOutput>;
}

/// Runs `check` against `target` under its timeout and wraps the result in a [`CheckReport`].
pub async fn run_check(check: &dyn Check, target: &Target) -> CheckReport {
    let start = std::time::Instant::now();
    let result = tokio::time::timeout(check.schedule().timeout(), check.execute(target)).await;
    let duration_ms = start.elapsed().as_millis() as u64;
    let (outcome, observation, findings, error) = match result {
        Ok(Ok((obs, findings))) => {
            let outcome = if findings.is_empty() {
                Outcome::Pass
            } else {
                Outcome::Fail
            };
            (outcome, obs, findings, None)
        }
        Ok(Err(e)) => (Outcome::Error, serde_json::Value::Null, Vec::new(), Some(e)),
        Err(_) => (
            Outcome::Error,
            serde_json::Value::Null,
            Vec::new(),
            Some(format!(
                "timed out after {} ms",
                check.schedule().timeout_ms
            )),
        ),
    };
    CheckReport {
        run: CheckRun {
            check_id: check.id().to_string(),
            target: target.input.clone(),
            outcome,
            duration_ms,
            observation,
            error,
        },
        findings,
    }
}
