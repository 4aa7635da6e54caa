//! Turning one probe check run into loop intake: every finding becomes a sighting, and every open probe
//! finding of the same check and target that the run no longer saw is reported absent (resolved as
//! disappeared). A run that ended in error changes nothing: an unreachable prober is not a fix.

use jiff::Timestamp;
use serde_json::json;
use taishi_loop::LoopService;
use taishi_model::finding::{Finding, IntakeOutcome, Sighting};
use taishi_model::{Asset, AssetKind, FindingSource};
use taishi_probe::{CheckReport, Outcome, ProbeFinding, Target};

/// What intake of one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IntakeCounts {
    /// New findings.
    pub opened: usize,
    /// Findings seen again.
    pub updated: usize,
    /// Resolved findings seen again, now open.
    pub reopened: usize,
    /// Open findings the run no longer saw, now resolved.
    pub resolved: usize,
}

impl IntakeCounts {
    /// Adds another run's counts.
    pub fn add(&mut self, o: IntakeCounts) {
        self.opened += o.opened;
        self.updated += o.updated;
        self.reopened += o.reopened;
        self.resolved += o.resolved;
    }
}

/// The check component a stored probe finding came from: recorded in its evidence by [`sighting`],
/// else guessed from its id (`tls.cert.expired` → `tls`, `port.open.redis` → `ports`).
pub fn component_of(f: &Finding) -> String {
    if let Some(c) = f.evidence.get("component").and_then(|v| v.as_str()) {
        return c.to_owned();
    }
    match f.check.split('.').next().unwrap_or_default() {
        "port" => "ports".to_owned(),
        other => other.to_owned(),
    }
}

/// The probe target a stored probe finding was seen on (recorded in its evidence).
pub fn target_of(f: &Finding) -> Option<&str> {
    f.evidence.get("target").and_then(|v| v.as_str())
}

/// Whether the asset faces the internet (everything registered by network identity does; an internal
/// information system does not), which with "known exploited" selects the shortest deadline.
pub fn internet_exposed(asset: &Asset) -> bool {
    asset.kind != AssetKind::System
}

/// The sighting of a probe finding on `asset`, with the component, target, English title and
/// remediation kept in the evidence.
pub fn sighting(
    asset: &Asset,
    component: &str,
    target: &Target,
    pf: &ProbeFinding,
    at: Timestamp,
) -> Sighting {
    Sighting {
        source: FindingSource::Probe,
        check: pf.check_id.clone(),
        key: pf.key.clone(),
        org: asset.org_id,
        asset: asset.id,
        title: pf.title_zh.clone(),
        severity: pf.severity,
        exploited: false,
        internet_exposed: internet_exposed(asset),
        evidence: json!({
            "component": component,
            "target": target.input,
            "text": pf.evidence.text,
            "data": pf.evidence.data,
            "title_en": pf.title_en,
            "remediation_zh": pf.remediation_zh,
            "remediation_en": pf.remediation_en,
        }),
        seen_at: at,
    }
}

/// Feeds one run into the loop. `open` are the asset's open findings known before the run (any source;
/// only probe findings of this component and target are considered for resolution).
pub async fn ingest_run(
    svc: &LoopService,
    asset: &Asset,
    target: &Target,
    report: &CheckReport,
    open: &[Finding],
    at: Timestamp,
) -> Result<IntakeCounts, taishi_loop::LoopError> {
    let mut c = IntakeCounts::default();
    if report.run.outcome == Outcome::Error {
        return Ok(c);
    }
    let component = report.run.check_id.as_str();
    for pf in &report.findings {
        let r = svc
            .ingest(sighting(asset, component, target, pf, at))
            .await?;
        match r.outcome {
            IntakeOutcome::Opened => c.opened += 1,
            IntakeOutcome::Reopened => c.reopened += 1,
            _ => c.updated += 1,
        }
    }
    for f in open.iter().filter(|f| {
        f.source == FindingSource::Probe
            && f.asset == asset.id
            && component_of(f) == component
            && target_of(f).is_none_or(|t| t == target.input)
            && !report
                .findings
                .iter()
                .any(|pf| pf.check_id == f.check && pf.key == f.key)
    }) {
        if let Some((_, IntakeOutcome::Resolved)) = svc
            .absent(FindingSource::Probe, &f.check, f.asset, &f.key, at)
            .await?
        {
            c.resolved += 1;
        }
    }
    Ok(c)
}
