//! [`LoopService`]: the loop over a store, a clock and a notifier. The HTTP API, the CLI and background
//! jobs call these methods; every rule lives in the pure modules and the model, this file only fetches,
//! applies, saves and notifies.

use crate::attach::{AttachmentError, AttachmentPolicy, check_attachments};
use crate::clock::Clock;
use crate::notify::{Notification, Notifier};
use crate::policy::{Criticality, DeadlineBasis, LoopPolicy};
use crate::score::{
    IndicatorSystem, Metrics, OpenTally, ScoreCard, TalliedInput, compute_scores_tallied,
};
use crate::sweep::{LoopEvent, LoopEventKind, sweep_notice};
use crate::tree::{OrgNode, OrgTree, TreeError};
use crate::verify::{Reverifier, VerifyDecision, decide, machine_verifiable};
use std::sync::{Arc, RwLock};
use taishi_model::finding::{
    AcceptanceDue, Finding, FindingTransitionError, IntakeOutcome, ReopenReason, Resolution,
    Sighting,
};
use taishi_model::indicator::Period;
use taishi_model::notice::{
    IncidentLevel, LoopActor, Notice, NoticeAction, NoticeError, NoticeNumber, NoticeState,
};
use taishi_model::rectification::{Delivery, Rectification};
use taishi_model::{AssetId, FindingSource, OrgFilter, OrgId, Page, Severity};
use taishi_store::{FindingQuery, LoopAudit, NoticeQuery, Store, StoreError};
use uuid::Uuid;

mod expiry;
mod extensions;
mod live;
mod notices;

/// Why a loop operation failed.
#[derive(Debug, thiserror::Error)]
pub enum LoopError {
    /// Storage.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A notice transition was refused.
    #[error(transparent)]
    Notice(#[from] NoticeError),
    /// A finding transition was refused.
    #[error(transparent)]
    Finding(#[from] FindingTransitionError),
    /// An attachment was refused.
    #[error(transparent)]
    Attachment(#[from] AttachmentError),
    /// The org tree is inconsistent.
    #[error(transparent)]
    Tree(#[from] TreeError),
    /// The caller may not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The request does not make sense.
    #[error("invalid: {0}")]
    Invalid(String),
}

/// Result of loop operations.
pub type LoopResult<T> = Result<T, LoopError>;

/// Who calls, and where they may act: `scope` is the root of their subtree (`None`: everywhere, for
/// taishi itself and authority-wide analysts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Identity and role.
    pub actor: LoopActor,
    /// Subtree root.
    pub scope: Option<OrgId>,
}

impl Caller {
    /// taishi itself.
    pub fn system(what: &str) -> Caller {
        Caller {
            actor: LoopActor::system(what),
            scope: None,
        }
    }
}

/// What intake did with one sighting.
#[derive(Debug, Clone, PartialEq)]
pub struct IntakeReport {
    /// The finding after the sighting.
    pub finding: Finding,
    /// Opened, updated or reopened.
    pub outcome: IntakeOutcome,
    /// A notice issued automatically by the auto-issue policy.
    pub auto_notice: Option<Notice>,
}

/// What a sweep did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SweepReport {
    /// Notice events raised (reminders, overdue, escalations).
    pub events: Vec<LoopEvent>,
    /// Findings reopened because their risk acceptance expired.
    pub reopened: Vec<Uuid>,
    /// Findings whose risk acceptance expires within the warning window.
    pub expiring: Vec<Uuid>,
}

/// The closed loop as a service.
pub struct LoopService {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    // The policy, indicators and notifier can be replaced while the service runs (an admin saves new
    // settings); readers take a cheap `Arc` snapshot, so an operation sees one version throughout.
    notifier: RwLock<Option<Arc<Notifier>>>,
    reverifier: Option<Arc<dyn Reverifier>>,
    policy: RwLock<Arc<LoopPolicy>>,
    indicators: RwLock<Arc<IndicatorSystem>>,
    attachments: AttachmentPolicy,
    link_base: Option<String>,
}

impl LoopService {
    /// A service with the default policy and indicator system, no notifier and no re-verifier.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> LoopService {
        LoopService {
            store,
            clock,
            notifier: RwLock::new(None),
            reverifier: None,
            policy: RwLock::new(Arc::new(LoopPolicy::default())),
            indicators: RwLock::new(Arc::new(IndicatorSystem::default_system())),
            attachments: AttachmentPolicy::default(),
            link_base: None,
        }
    }

    /// Sends notifications through `n`.
    pub fn with_notifier(mut self, n: Notifier) -> Self {
        self.notifier = RwLock::new(Some(Arc::new(n)));
        self
    }
    /// Re-verifies rectifications with `r`.
    pub fn with_reverifier(mut self, r: Arc<dyn Reverifier>) -> Self {
        self.reverifier = Some(r);
        self
    }
    /// Uses `p` for deadlines, levels and auto-issue.
    pub fn with_policy(mut self, p: LoopPolicy) -> Self {
        self.policy = RwLock::new(Arc::new(p));
        self
    }
    /// Scores with `s`.
    pub fn with_indicators(mut self, s: IndicatorSystem) -> Self {
        self.indicators = RwLock::new(Arc::new(s));
        self
    }
    /// Limits attachments by `p`.
    pub fn with_attachment_policy(mut self, p: AttachmentPolicy) -> Self {
        self.attachments = p;
        self
    }
    /// Links in notifications point to `{base}/notices/{id}`.
    pub fn with_link_base(mut self, base: &str) -> Self {
        self.link_base = Some(base.trim_end_matches('/').to_owned());
        self
    }

    /// The store, for read-only views the API shows as they are (lists, attachments, delivery log).
    pub fn store_ref(&self) -> &dyn Store {
        &*self.store
    }

    /// "Now" by the service's clock.
    pub fn now(&self) -> jiff::Timestamp {
        self.clock.now()
    }

    /// The org tree as the loop sees it (all orgs; officer e-mail from the registry contacts).
    pub async fn tree(&self) -> LoopResult<OrgTree> {
        let mut nodes = Vec::new();
        let mut page = Page {
            limit: Page::MAX_LIMIT,
            after: None,
        };
        loop {
            let p = self.store.list_orgs(&OrgFilter::default(), page).await?;
            for o in p.items {
                let emails = [
                    &o.contacts.security_officer.email,
                    &o.contacts.principal.email,
                ]
                .into_iter()
                .filter(|e| !e.trim().is_empty())
                .map(|e| e.trim().to_owned())
                .collect();
                nodes.push(OrgNode {
                    id: o.id,
                    parent: o.parent_id,
                    name: o.name,
                    emails,
                    critical_infrastructure: o.critical_infrastructure,
                });
            }
            match p.next {
                Some(n) => page.after = Some(n),
                None => break,
            }
        }
        Ok(OrgTree::new(nodes)?)
    }

    fn check_scope(&self, tree: &OrgTree, caller: &Caller, org: OrgId) -> bool {
        caller.scope.is_none_or(|root| tree.covers(root, org))
    }

    async fn criticality(&self, asset: AssetId) -> Criticality {
        match self.store.get_asset(asset).await {
            Ok(a) if a.critical_infrastructure => Criticality::CriticalInfrastructure,
            Ok(a) if a.mlps_level.is_some_and(|l| l.get() >= 3) => Criticality::Important,
            _ => Criticality::General,
        }
    }

    /// Intake: opens, updates or reopens the finding of `s` (deduplicated by fingerprint), and issues a
    /// notice when the auto-issue policy says so.
    pub async fn ingest(&self, s: Sighting) -> LoopResult<IntakeReport> {
        let fp = s.fingerprint();
        let (finding, outcome) = match self.store.finding_by_fingerprint(fp.as_str()).await? {
            Some(mut f) => {
                let o = f.sighted(s);
                (f, o)
            }
            None => (Finding::open(Uuid::new_v4(), s), IntakeOutcome::Opened),
        };
        self.store.put_finding(&finding, None).await?;
        let mut auto_notice = None;
        if matches!(outcome, IntakeOutcome::Opened | IntakeOutcome::Reopened) {
            let crit = self.criticality(finding.asset).await;
            if self.policy().auto_issue.qualifies(
                finding.severity,
                crit,
                finding.exploited,
                finding.internet_exposed,
            ) && !self.covered_by_live_notice(&finding).await?
            {
                let sys = Caller::system("auto-issue");
                let title = format!("[自动] {}", finding.title);
                let actions = vec!["立即核查并处置该问题，按期反馈整改情况".to_owned()];
                let n = self
                    .draft_notice(&sys, finding.org, vec![finding.id], &title, actions)
                    .await?;
                auto_notice = Some(self.issue(&sys, n.id, "auto-issue policy").await?);
            }
        }
        Ok(IntakeReport {
            finding,
            outcome,
            auto_notice,
        })
    }

    async fn covered_by_live_notice(&self, f: &Finding) -> LoopResult<bool> {
        let live = self
            .store
            .list_notices(&NoticeQuery {
                within: Some(f.org),
                live_only: true,
            })
            .await?;
        Ok(live.iter().any(|n| n.findings.contains(&f.id)))
    }

    /// Intake of an absence: the check ran at `at` and did not see the problem, so an open finding
    /// resolves as disappeared.
    pub async fn absent(
        &self,
        source: FindingSource,
        check: &str,
        asset: AssetId,
        key: &str,
        at: jiff::Timestamp,
    ) -> LoopResult<Option<(Finding, IntakeOutcome)>> {
        let fp = taishi_model::finding::Fingerprint::of(source, check, asset, key);
        let Some(mut f) = self.store.finding_by_fingerprint(fp.as_str()).await? else {
            return Ok(None);
        };
        let o = f.absent(at);
        if o != IntakeOutcome::Unchanged {
            self.store.put_finding(&f, None).await?;
        }
        Ok(Some((f, o)))
    }

    fn analyst_only(&self, caller: &Caller, what: &str) -> LoopResult<()> {
        use taishi_model::Role;
        match caller.actor.role {
            None | Some(Role::Admin | Role::Analyst) => Ok(()),
            _ => Err(LoopError::Forbidden(format!("only analysts may {what}"))),
        }
    }

    async fn scoped_finding(&self, caller: &Caller, id: Uuid) -> LoopResult<Finding> {
        let f = self.store.get_finding(id).await?;
        let tree = self.tree().await?;
        if !self.check_scope(&tree, caller, f.org) {
            return Err(StoreError::NotFound {
                entity: "finding",
                key: id.to_string(),
            }
            .into());
        }
        Ok(f)
    }

    /// An analyst marks a finding as a false positive.
    pub async fn mark_false_positive(
        &self,
        caller: &Caller,
        id: Uuid,
        comment: &str,
    ) -> LoopResult<Finding> {
        self.analyst_only(caller, "mark false positives")?;
        let mut f = self.scoped_finding(caller, id).await?;
        f.mark_false_positive(
            self.clock.now(),
            caller.actor.actor.to_string(),
            comment.to_owned(),
        );
        let audit = LoopAudit {
            actor: caller.actor.actor.clone(),
            action: "finding.false_positive".into(),
            comment: comment.into(),
        };
        self.store.put_finding(&f, Some(audit)).await?;
        Ok(f)
    }

    /// An analyst records a risk acceptance (default days from the policy).
    pub async fn accept_risk(
        &self,
        caller: &Caller,
        id: Uuid,
        days: Option<i64>,
        reason: &str,
    ) -> LoopResult<Finding> {
        self.analyst_only(caller, "accept risks")?;
        if reason.trim().is_empty() {
            return Err(LoopError::Invalid(
                "a risk acceptance needs its approver and reason".into(),
            ));
        }
        let mut f = self.scoped_finding(caller, id).await?;
        let days = days.unwrap_or(self.policy().risk_acceptance_days);
        f.accept_risk(
            self.clock.now(),
            caller.actor.actor.to_string(),
            days,
            reason.to_owned(),
        )?;
        let audit = LoopAudit {
            actor: caller.actor.actor.clone(),
            action: "finding.accept_risk".into(),
            comment: reason.into(),
        };
        self.store.put_finding(&f, Some(audit)).await?;
        Ok(f)
    }

    /// The periodic sweep: reminders, overdue flags and escalations of live notices, and expiry of risk
    /// acceptances. Idempotent; run it as often as you like.
    pub async fn sweep(&self) -> LoopResult<SweepReport> {
        let tree = self.tree().await?;
        let now = self.clock.now();
        let mut report = SweepReport::default();
        let policy = self.policy();
        for mut n in self
            .store
            .list_notices(&NoticeQuery {
                within: None,
                live_only: true,
            })
            .await?
        {
            let events = sweep_notice(&mut n, &tree, &policy, now);
            if events.is_empty() {
                continue;
            }
            let names: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
            let audit = LoopAudit {
                actor: taishi_model::Actor::system("sweep"),
                action: "notice.sweep".into(),
                comment: names.join(", "),
            };
            self.store.save_notice(&n, Some(audit)).await?;
            self.notify(&tree, &n, &events).await?;
            report.events.extend(events);
        }
        self.sweep_acceptances(&tree, now, &mut report).await?;
        Ok(report)
    }

    async fn notify(&self, tree: &OrgTree, n: &Notice, events: &[LoopEvent]) -> LoopResult<()> {
        let Some(notifier) = self.notifier() else {
            return Ok(());
        };
        let org_name = tree
            .get(n.org)
            .map_or_else(|| n.org.to_string(), |o| o.name.clone());
        let mut log = Vec::new();
        for ev in events {
            let to = tree.get(ev.to_org);
            let emails = to.map(|o| o.emails.clone()).unwrap_or_default();
            let link = self
                .link_base
                .as_ref()
                .map(|b| format!("{b}/notices/{}", n.id));
            let msg = Notification::new(
                n,
                ev.kind.clone(),
                &org_name,
                to.map_or("", |o| o.name.as_str()),
                link,
            );
            for d in notifier.deliver(&msg, &emails).await {
                log.push(Delivery {
                    notice: n.id,
                    event: d.event,
                    channel: d.channel,
                    target: d.target,
                    attempts: d.attempts,
                    delivered: d.delivered,
                    error: d.error,
                    at: self.clock.now(),
                });
            }
        }
        if !log.is_empty() {
            self.store.record_deliveries(&log).await?;
        }
        Ok(())
    }

    /// Computes (and stores) the score cards of every org for `period`, with the previous period for the
    /// change column. Recomputable at any time: it reads event dates, not import dates.
    pub async fn compute_scores(&self, period: Period) -> LoopResult<Vec<ScoreCard>> {
        let tree = self.tree().await?;
        let tz = self.policy().calendar.tz();
        // Findings are folded page by page into per-org counts: memory follows the orgs, not the
        // findings (the cards equal `compute_scores` over every fact; see score::tests).
        let mut open = OpenTally::for_period(period, &tz);
        self.store
            .for_each_finding_facts(None, 20_000, &mut |page| open.add(&page))
            .await?;
        let notices = self.store.notice_facts(None).await?;
        let metrics = self.metrics(period).await?;
        let prev_metrics = self.metrics(period.prev()).await?;
        let input = TalliedInput {
            open: &open,
            notices: &notices,
            metrics: &metrics,
            prev_metrics: &prev_metrics,
        };
        let cards = compute_scores_tallied(&self.indicators(), &tree, period, &tz, input);
        let docs = cards
            .iter()
            .map(|c| {
                Ok((
                    c.org,
                    serde_json::to_string(c).map_err(|e| LoopError::Invalid(e.to_string()))?,
                ))
            })
            .collect::<LoopResult<Vec<_>>>()?;
        self.store.put_scores(period, &docs).await?;
        Ok(cards)
    }

    async fn metrics(&self, period: Period) -> LoopResult<Metrics> {
        let mut m = Metrics::new();
        for (org, key, v) in self.store.metrics(period).await? {
            m.entry(org).or_default().insert(key, v);
        }
        Ok(m)
    }
}
