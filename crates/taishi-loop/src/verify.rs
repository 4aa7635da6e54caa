//! Re-verification (复核): the hook the probe side implements to re-run the checks behind a notice's
//! findings, and the decision drawn from the results.

use futures::future::BoxFuture;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use taishi_model::FindingSource;
use taishi_model::finding::Finding;
use uuid::Uuid;

/// The result of re-running the check behind one finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecheckResult {
    /// The finding rechecked.
    pub finding: Uuid,
    /// Whether the problem is still there.
    pub still_present: bool,
    /// New evidence (what the check saw).
    pub evidence: serde_json::Value,
    /// When the check ran.
    pub at: Timestamp,
}

/// A failed recheck run (the target unreachable from the prober, a check that no longer exists).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("re-verification failed: {0}")]
pub struct VerifyError(pub String);

/// Re-runs checks for findings. Implemented by the probe side; the loop calls it when an organisation
/// submits a rectification for probe or warning findings.
pub trait Reverifier: Send + Sync {
    /// Re-runs the checks behind `findings` and reports one result per finding it could check.
    fn recheck<'a>(
        &'a self,
        findings: &'a [Finding],
    ) -> BoxFuture<'a, Result<Vec<RecheckResult>, VerifyError>>;
}

/// What to do with a submitted rectification.
#[derive(Debug, Clone, PartialEq)]
pub enum VerifyDecision {
    /// Every finding is fixed: close as verified.
    Fixed,
    /// Some are still present: return with their new evidence.
    StillPresent(Vec<RecheckResult>),
    /// An analyst must decide (detection findings, no re-verifier, or findings the re-verifier could not
    /// check).
    NeedsAnalyst(String),
}

/// Whether findings can be verified by re-running checks at all: detections cannot (an alert does not
/// "re-fire on demand"), so they need an analyst's decision.
pub fn machine_verifiable(findings: &[Finding]) -> bool {
    !findings.is_empty()
        && findings
            .iter()
            .all(|f| f.source != FindingSource::Detection)
}

/// Draws the decision from recheck results.
pub fn decide(findings: &[Finding], results: &[RecheckResult]) -> VerifyDecision {
    let missing: Vec<&str> = findings
        .iter()
        .filter(|f| !results.iter().any(|r| r.finding == f.id))
        .map(|f| f.title.as_str())
        .collect();
    if !missing.is_empty() {
        return VerifyDecision::NeedsAnalyst(format!("not rechecked: {}", missing.join("; ")));
    }
    let still: Vec<RecheckResult> = results
        .iter()
        .filter(|r| r.still_present)
        .cloned()
        .collect();
    if still.is_empty() {
        VerifyDecision::Fixed
    } else {
        VerifyDecision::StillPresent(still)
    }
}
