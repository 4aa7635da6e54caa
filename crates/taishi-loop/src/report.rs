//! Bulletin generation over the store: scores for the period and the trailing periods, the bulletin
//! data, its three renderings, and the archive; and the scheduled publication (常态化通报) of
//! [`BulletinSchedule`], once per root, period and format, announced to the root's channels.

use crate::bulletin::{
    Bulletin, BulletinInput, BulletinSchedule, build_bulletin, render_csv, render_html,
    render_markdown,
};
use crate::notify::Notification;
use crate::service::{LoopError, LoopResult, LoopService};
use taishi_model::OrgId;
use taishi_model::indicator::Period;
use taishi_store::{ArchivedBulletin, FindingQuery, NoticeQuery, StoreError};
use uuid::Uuid;

/// A bulletin with its three renderings.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedBulletin {
    /// The data.
    pub bulletin: Bulletin,
    /// Self-contained printable HTML.
    pub html: String,
    /// Markdown.
    pub markdown: String,
    /// CSV ranking.
    pub csv: String,
}

/// One scheduled publication: the root, the period and the formats archived now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedBulletin {
    /// The subtree root.
    pub root: OrgId,
    /// The period.
    pub period: Period,
    /// The formats archived by this run (those not archived before).
    pub formats: Vec<String>,
}

/// How many periods the trend charts show.
pub const TREND_PERIODS: usize = 6;

impl LoopService {
    /// Builds the bulletin of `root`'s subtree for `period` (scores recomputed for the period and the
    /// trend), renders it, and archives the three renderings when `archive` is set.
    pub async fn bulletin(
        &self,
        root: OrgId,
        period: Period,
        archive: bool,
    ) -> LoopResult<RenderedBulletin> {
        let tree = self.tree().await?;
        if tree.get(root).is_none() {
            return Err(LoopError::Invalid(format!("org {root} does not exist")));
        }
        let mut trend = Vec::with_capacity(TREND_PERIODS);
        let mut scores = Vec::new();
        for p in period.trailing(TREND_PERIODS) {
            let cards = self.compute_scores(p).await?;
            let s = cards
                .iter()
                .find(|c| c.org == root)
                .map_or(100.0, |c| c.subtree);
            trend.push((p, s));
            if p == period {
                scores = cards;
            }
        }
        let findings = self
            .store_ref()
            .list_findings(&FindingQuery {
                within: Some(root),
                ..Default::default()
            })
            .await?;
        let notices = self
            .store_ref()
            .list_notices(&NoticeQuery {
                within: Some(root),
                live_only: false,
            })
            .await?;
        let tz = self.policy().calendar.tz();
        let now = self.now();
        let b = build_bulletin(BulletinInput {
            tree: &tree,
            root,
            period,
            tz: &tz,
            findings: &findings,
            notices: &notices,
            scores: &scores,
            score_trend: &trend,
            now,
        });
        let r = RenderedBulletin {
            html: render_html(&b),
            markdown: render_markdown(&b),
            csv: render_csv(&b),
            bulletin: b,
        };
        if archive {
            for (format, content) in [("html", &r.html), ("md", &r.markdown), ("csv", &r.csv)] {
                self.store_ref()
                    .archive_bulletin(&ArchivedBulletin {
                        id: Uuid::new_v4(),
                        org: root,
                        period,
                        format: format.into(),
                        created_at: now,
                        content: content.clone(),
                    })
                    .await?;
            }
        }
        Ok(r)
    }

    /// Publishes the bulletins `schedule` says are due at the service's "now": for each root and due
    /// period, the formats not yet in the archive are generated and archived, and the root's officers
    /// and the webhooks are told. Running it again publishes nothing twice.
    ///
    /// # Errors
    /// A root code that names no org ([`LoopError::Invalid`]), storage errors.
    pub async fn publish_scheduled(
        &self,
        schedule: &BulletinSchedule,
    ) -> LoopResult<Vec<PublishedBulletin>> {
        let now = self.now();
        let due = schedule.due(now, &self.policy().calendar.tz());
        let mut roots = Vec::with_capacity(schedule.roots.len());
        for code in schedule
            .roots
            .iter()
            .map(|c| c.trim())
            .filter(|c| !c.is_empty())
        {
            match self.store_ref().get_org_by_code(code).await {
                Ok(o) => roots.push((o.id, o.name)),
                Err(StoreError::NotFound { .. }) => {
                    return Err(LoopError::Invalid(format!(
                        "bulletins.roots: no org with code {code:?}"
                    )));
                }
                Err(e) => return Err(e.into()),
            }
        }
        let mut out = Vec::new();
        let mut tree = None;
        for (root, name) in roots {
            let archived = self.store_ref().bulletins(root).await?;
            for &period in &due {
                let missing: Vec<String> = schedule
                    .formats
                    .iter()
                    .filter(|f| {
                        !archived
                            .iter()
                            .any(|b| b.period == period && &b.format == *f)
                    })
                    .cloned()
                    .collect();
                if missing.is_empty() {
                    continue;
                }
                let r = self.bulletin(root, period, false).await?;
                let mut first = None;
                for format in &missing {
                    let content = match format.as_str() {
                        "html" => &r.html,
                        "md" => &r.markdown,
                        _ => &r.csv,
                    };
                    let id = Uuid::new_v4();
                    first.get_or_insert(id);
                    self.store_ref()
                        .archive_bulletin(&ArchivedBulletin {
                            id,
                            org: root,
                            period,
                            format: format.clone(),
                            created_at: now,
                            content: content.clone(),
                        })
                        .await?;
                }
                if tree.is_none() {
                    tree = Some(self.tree().await?);
                }
                if let (Some(t), Some(subject)) = (&tree, first) {
                    let link = self.link_base().map(|b| format!("{b}/bulletins"));
                    let msg = Notification::bulletin_published(
                        &name,
                        &period.to_string(),
                        missing.clone(),
                        link,
                    );
                    self.deliver_logged(t, subject, root, &msg).await?;
                }
                out.push(PublishedBulletin {
                    root,
                    period,
                    formats: missing,
                });
            }
        }
        Ok(out)
    }
}
