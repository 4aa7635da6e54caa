//! Risk acceptances ending, as part of [`LoopService::sweep`]: a warning 10 days before (once per
//! acceptance, marked in the finding's history) and the reopening at expiry, each told to the org's
//! officers and the analysts' channel through the notifier and recorded in the delivery log under the
//! finding's id.

use super::*;
use jiff::Timestamp;

impl LoopService {
    /// Warns about and reopens risk-accepted findings at `now`, adding them to `report`.
    pub(super) async fn sweep_acceptances(
        &self,
        tree: &OrgTree,
        now: Timestamp,
        report: &mut SweepReport,
    ) -> LoopResult<()> {
        let q = FindingQuery {
            statuses: vec!["risk_accepted".into()],
            ..Default::default()
        };
        for mut f in self.store.list_findings(&q).await? {
            let (kind, audit) = match f.acceptance_due(now) {
                AcceptanceDue::Expired => {
                    f.reopen(now, None, ReopenReason::RiskAcceptanceExpired);
                    report.reopened.push(f.id);
                    let audit = LoopAudit {
                        actor: taishi_model::Actor::system("sweep"),
                        action: "finding.reopen".into(),
                        comment: "risk acceptance expired".into(),
                    };
                    (LoopEventKind::RiskAcceptanceExpired, audit)
                }
                AcceptanceDue::ExpiresSoon(_) => {
                    report.expiring.push(f.id);
                    let Some(until) = f.warn_acceptance_expiry(now) else {
                        continue;
                    };
                    let audit = LoopAudit {
                        actor: taishi_model::Actor::system("sweep"),
                        action: "finding.risk_expiry_warning".into(),
                        comment: format!("risk acceptance expires {until}"),
                    };
                    (LoopEventKind::RiskAcceptanceExpiring { until }, audit)
                }
                AcceptanceDue::Nothing => continue,
            };
            self.store.put_finding(&f, Some(audit)).await?;
            let org_name = tree
                .get(f.org)
                .map_or_else(|| f.org.to_string(), |o| o.name.clone());
            let link = self
                .link_base
                .as_ref()
                .map(|b| format!("{b}/findings/{}", f.id));
            let msg = Notification::about_finding(&f, kind, &org_name, link);
            self.deliver_logged(tree, f.id, f.org, &msg).await?;
        }
        Ok(())
    }
}
