//! Re-verification (复核) for the loop: re-runs, at once, the probe checks behind findings an
//! organisation says it fixed, and re-matches warning findings against the current software inventory.

use crate::intake::{component_of, target_of};
use crate::warning::Catalogue;
use futures::future::BoxFuture;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use taishi_loop::Clock;
use taishi_loop::verify::{RecheckResult, Reverifier, VerifyError};
use taishi_model::FindingSource;
use taishi_model::finding::Finding;
use taishi_probe::{Check, Outcome, Target, run_check};
use taishi_store::Store;

/// The probe side's [`Reverifier`].
pub struct ProbeReverifier {
    store: Arc<dyn Store>,
    suite: Vec<Box<dyn Check>>,
    clock: Arc<dyn Clock>,
    catalogue: Option<Arc<Catalogue>>,
}

impl ProbeReverifier {
    /// Re-runs checks from `suite` (build it like the scheduler's, with the same CAs).
    pub fn new(
        store: Arc<dyn Store>,
        suite: Vec<Box<dyn Check>>,
        clock: Arc<dyn Clock>,
    ) -> ProbeReverifier {
        ProbeReverifier {
            store,
            suite,
            clock,
            catalogue: None,
        }
    }

    /// Also re-verifies warning findings against this catalogue.
    pub fn with_catalogue(mut self, c: Arc<Catalogue>) -> Self {
        self.catalogue = Some(c);
        self
    }

    async fn recheck_probes(
        &self,
        findings: &[&Finding],
    ) -> Result<Vec<RecheckResult>, VerifyError> {
        // One run per (target, component), however many findings it covers.
        let mut groups: BTreeMap<(String, String), Vec<&Finding>> = BTreeMap::new();
        for f in findings {
            let target = match target_of(f) {
                Some(t) => t.to_owned(),
                None => {
                    self.store
                        .get_asset(f.asset)
                        .await
                        .map_err(|e| VerifyError(format!("asset {}: {e}", f.asset)))?
                        .identity
                }
            };
            groups.entry((target, component_of(f))).or_default().push(f);
        }
        let mut out = Vec::new();
        for ((target, component), fs) in groups {
            let Some(check) = self.suite.iter().find(|c| c.id() == component) else {
                continue;
            };
            let Ok(t) = Target::parse(&target) else {
                continue;
            };
            let at = self.clock.now();
            let rep = run_check(check.as_ref(), &t).await;
            if rep.run.outcome == Outcome::Error {
                tracing::info!(target, component, error = ?rep.run.error, "Re-check could not reach a verdict.");
                continue;
            }
            for f in fs {
                let seen = rep
                    .findings
                    .iter()
                    .find(|pf| pf.check_id == f.check && pf.key == f.key);
                let evidence = match seen {
                    Some(pf) => json!({
                        "component": component, "target": target, "text": pf.evidence.text,
                        "data": pf.evidence.data, "title_en": pf.title_en, "recheck": true,
                    }),
                    None => json!({
                        "component": component, "target": target, "recheck": true,
                        "text": "not seen on re-check", "observation": rep.run.observation,
                    }),
                };
                out.push(RecheckResult {
                    finding: f.id,
                    still_present: seen.is_some(),
                    evidence,
                    at,
                });
            }
        }
        Ok(out)
    }

    async fn recheck_warnings(
        &self,
        findings: &[&Finding],
    ) -> Result<Vec<RecheckResult>, VerifyError> {
        let Some(cat) = &self.catalogue else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for f in findings {
            let filter = taishi_model::SoftwareFilter {
                asset: Some(f.asset),
                ..Default::default()
            };
            let sw = crate::all_software(self.store.as_ref(), &filter)
                .await
                .map_err(|e| VerifyError(format!("software of asset {}: {e}", f.asset)))?;
            let hits = crate::warning::match_inventory(
                cat,
                &sw,
                self.clock.now(),
                &crate::warning::WarningPolicy::default(),
            );
            let still = hits.iter().find(|h| h.check == f.check && h.key == f.key);
            out.push(RecheckResult {
                finding: f.id,
                still_present: still.is_some(),
                evidence: still.map_or_else(
                    || json!({"text": "no longer matched by the current software inventory", "recheck": true}),
                    |h| h.evidence.clone(),
                ),
                at: self.clock.now(),
            });
        }
        Ok(out)
    }
}

impl Reverifier for ProbeReverifier {
    fn recheck<'a>(
        &'a self,
        findings: &'a [Finding],
    ) -> BoxFuture<'a, Result<Vec<RecheckResult>, VerifyError>> {
        Box::pin(async move {
            let probes: Vec<&Finding> = findings
                .iter()
                .filter(|f| f.source == FindingSource::Probe)
                .collect();
            let warnings: Vec<&Finding> = findings
                .iter()
                .filter(|f| f.source == FindingSource::Warning)
                .collect();
            let mut out = self.recheck_probes(&probes).await?;
            out.extend(self.recheck_warnings(&warnings).await?);
            Ok(out)
        })
    }
}
