//! Runs a suite of checks against one target: what `taishi probe` prints per target.

use serde::Serialize;

use crate::model::{Check, CheckRun, ProbeFinding, run_check};
use crate::target::Target;

/// Every check run and every finding for one target.
#[derive(Debug, Clone, Serialize)]
pub struct TargetReport {
    /// The target as given.
    pub target: String,
    /// One run per check, in suite order.
    pub checks: Vec<CheckRun>,
    /// All findings, worst first.
    pub findings: Vec<ProbeFinding>,
}

/// Runs every check in `suite` against `target` concurrently and gathers the results.
pub async fn probe_target(suite: &[Box<dyn Check>], target: &Target) -> TargetReport {
    let reports =
        futures::future::join_all(suite.iter().map(|c| run_check(c.as_ref(), target))).await;
    let mut checks = Vec::with_capacity(reports.len());
    let mut findings = Vec::new();
    for r in reports {
        checks.push(r.run);
        findings.extend(r.findings);
    }
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.check_id.cmp(&b.check_id))
    });
    TargetReport {
        target: target.input.clone(),
        checks,
        findings,
    }
}
