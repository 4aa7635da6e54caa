//! Bulletin generation over the store: scores for the period and the trailing periods, the bulletin
//! data, its three renderings, and the archive.

use crate::bulletin::{
    Bulletin, BulletinInput, build_bulletin, render_csv, render_html, render_markdown,
};
use crate::service::{LoopError, LoopResult, LoopService};
use taishi_model::OrgId;
use taishi_model::indicator::Period;
use taishi_store::{ArchivedBulletin, FindingQuery, NoticeQuery};
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
}
