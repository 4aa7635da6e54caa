//! Loop persistence: the delivery log, metric inputs, computed scores, archived bulletins, and the
//! [`LoopStore`] implementation that routes to the `loop_*` modules.

use super::SqlStore;
use super::db::args;
use super::loop_findings::{bad_doc, ms};
use crate::error::StoreResult;
use crate::loop_store::{
    ArchivedBulletin, DayCounts, FindingPage, FindingQuery, LoopAudit, LoopStore, NoticeQuery,
    OrgRisk,
};
use async_trait::async_trait;
use jiff::Timestamp;
use taishi_model::OrgId;
use taishi_model::finding::Finding;
use taishi_model::indicator::{FindingFact, NoticeFact, Period};
use taishi_model::notice::{Notice, NoticeNumber};
use taishi_model::rectification::{AttachmentMeta, Delivery, Rectification};
use uuid::Uuid;

fn ts(v: i64) -> StoreResult<Timestamp> {
    Timestamp::from_millisecond(v).map_err(|e| bad_doc("time", e))
}

#[async_trait]
impl LoopStore for SqlStore {
    async fn finding_by_fingerprint(&self, fingerprint: &str) -> StoreResult<Option<Finding>> {
        self.loop_finding_by_fp(fingerprint).await
    }
    async fn get_finding(&self, id: Uuid) -> StoreResult<Finding> {
        self.loop_get_finding(id).await
    }
    async fn put_finding(&self, f: &Finding, audit: Option<LoopAudit>) -> StoreResult<()> {
        self.loop_put_finding(f, audit).await
    }
    async fn put_findings(&self, fs: &[Finding]) -> StoreResult<()> {
        self.loop_put_findings(fs).await
    }
    async fn list_findings(&self, q: &FindingQuery) -> StoreResult<Vec<Finding>> {
        self.loop_list_findings(q).await
    }
    async fn page_findings(&self, q: &FindingQuery) -> StoreResult<FindingPage> {
        self.loop_page_findings(q).await
    }
    async fn count_findings(&self, q: &FindingQuery) -> StoreResult<u64> {
        self.loop_count_findings(q).await
    }
    async fn open_by_severity(&self, within: Option<OrgId>) -> StoreResult<[u64; 5]> {
        self.loop_open_by_severity(within).await
    }
    async fn riskiest_orgs(
        &self,
        within: Option<OrgId>,
        weights: [u64; 5],
        n: u32,
    ) -> StoreResult<Vec<OrgRisk>> {
        self.loop_riskiest_orgs(within, weights, n).await
    }
    async fn findings_per_day(
        &self,
        within: Option<OrgId>,
        since: Timestamp,
        days: u32,
    ) -> StoreResult<Vec<DayCounts>> {
        self.loop_findings_per_day(within, since, days).await
    }
    async fn finding_facts(&self, within: Option<OrgId>) -> StoreResult<Vec<FindingFact>> {
        self.loop_finding_facts(within).await
    }
    async fn for_each_finding_facts(
        &self,
        within: Option<OrgId>,
        chunk: u32,
        f: &mut (dyn FnMut(Vec<FindingFact>) + Send),
    ) -> StoreResult<()> {
        self.loop_for_each_finding_facts(within, chunk, f).await
    }
    async fn create_notice(&self, n: Notice, year: i16, audit: LoopAudit) -> StoreResult<Notice> {
        self.loop_create_notice(n, year, audit).await
    }
    async fn get_notice(&self, id: Uuid) -> StoreResult<Notice> {
        self.loop_get_notice(id).await
    }
    async fn notice_by_number(&self, number: NoticeNumber) -> StoreResult<Notice> {
        self.loop_notice_by_number(number).await
    }
    async fn save_notice(&self, n: &Notice, audit: Option<LoopAudit>) -> StoreResult<()> {
        self.loop_save_notice(n, audit).await
    }
    async fn save_notices(&self, ns: &[Notice]) -> StoreResult<()> {
        self.loop_save_notices(ns).await
    }
    async fn list_notices(&self, q: &NoticeQuery) -> StoreResult<Vec<Notice>> {
        self.loop_list_notices(q).await
    }
    async fn notice_facts(&self, within: Option<OrgId>) -> StoreResult<Vec<NoticeFact>> {
        self.loop_notice_facts(within).await
    }
    async fn notices_by_state(&self, within: Option<OrgId>) -> StoreResult<Vec<(String, u64)>> {
        self.loop_notices_by_state(within).await
    }
    async fn count_overdue_notices(
        &self,
        within: Option<OrgId>,
        now: Timestamp,
    ) -> StoreResult<u64> {
        self.loop_count_overdue_notices(within, now).await
    }
    async fn add_rectification(
        &self,
        r: &Rectification,
        contents: Vec<Vec<u8>>,
    ) -> StoreResult<()> {
        self.loop_add_rectification(r, contents).await
    }
    async fn rectifications(&self, notice: Uuid) -> StoreResult<Vec<Rectification>> {
        self.loop_rectifications(notice).await
    }
    async fn attachment(&self, id: Uuid) -> StoreResult<(AttachmentMeta, Vec<u8>)> {
        self.loop_attachment(id).await
    }

    async fn record_deliveries(&self, d: &[Delivery]) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        for x in d {
            tx.exec(
                "INSERT INTO loop_deliveries (id, notice_id, event, channel, target, attempts, delivered, error, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                args![
                    Uuid::new_v4().to_string(),
                    x.notice.to_string(),
                    &x.event,
                    &x.channel,
                    &x.target,
                    i64::from(x.attempts),
                    i64::from(x.delivered),
                    x.error.clone(),
                    ms(x.at),
                ],
            )
            .await?;
        }
        tx.commit().await
    }

    async fn deliveries(&self, notice: Uuid) -> StoreResult<Vec<Delivery>> {
        let rows = self
            .db
            .all(
                "SELECT event, channel, target, attempts, delivered, error, at FROM loop_deliveries \
                 WHERE notice_id = $1 ORDER BY at, id",
                args![notice.to_string()],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Delivery {
                    notice,
                    event: r.text(0)?,
                    channel: r.text(1)?,
                    target: r.text(2)?,
                    attempts: u32::try_from(r.i64(3)?).unwrap_or(0),
                    delivered: r.i64(4)? != 0,
                    error: r.opt_text(5)?,
                    at: ts(r.i64(6)?)?,
                })
            })
            .collect()
    }

    async fn set_metric(
        &self,
        org: OrgId,
        period: Period,
        key: &str,
        value: f64,
    ) -> StoreResult<()> {
        self.db
            .exec(
                "INSERT INTO loop_metrics (org_id, period, key, value) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (period, org_id, key) DO UPDATE SET value = excluded.value",
                args![org.0, period.to_string(), key, value.to_string()],
            )
            .await?;
        Ok(())
    }

    async fn metrics(&self, period: Period) -> StoreResult<Vec<(OrgId, String, f64)>> {
        let rows = self
            .db
            .all(
                "SELECT org_id, key, value FROM loop_metrics WHERE period = $1",
                args![period.to_string()],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let v: f64 = r.text(2)?.parse().map_err(|e| bad_doc("metric", e))?;
                Ok((OrgId(r.i64(0)?), r.text(1)?, v))
            })
            .collect()
    }

    async fn put_scores(&self, period: Period, cards: &[(OrgId, String)]) -> StoreResult<()> {
        let p = period.to_string();
        let mut tx = self.db.begin().await?;
        tx.exec(
            "DELETE FROM loop_scores WHERE period = $1",
            args![p.as_str()],
        )
        .await?;
        for (org, doc) in cards {
            tx.exec(
                "INSERT INTO loop_scores (period, org_id, doc) VALUES ($1, $2, $3)",
                args![p.as_str(), org.0, doc.as_str()],
            )
            .await?;
        }
        tx.commit().await
    }

    async fn scores(&self, period: Period) -> StoreResult<Vec<(OrgId, String)>> {
        let rows = self
            .db
            .all(
                "SELECT org_id, doc FROM loop_scores WHERE period = $1 ORDER BY org_id",
                args![period.to_string()],
            )
            .await?;
        rows.iter()
            .map(|r| Ok((OrgId(r.i64(0)?), r.text(1)?)))
            .collect()
    }

    async fn archive_bulletin(&self, b: &ArchivedBulletin) -> StoreResult<()> {
        self.db
            .exec(
                "INSERT INTO loop_bulletins (id, org_id, period, format, created_at, content) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                args![
                    b.id.to_string(),
                    b.org.0,
                    b.period.to_string(),
                    &b.format,
                    ms(b.created_at),
                    &b.content
                ],
            )
            .await?;
        Ok(())
    }

    async fn bulletins(&self, org: OrgId) -> StoreResult<Vec<ArchivedBulletin>> {
        let rows = self
            .db
            .all(
                "SELECT id, period, format, created_at, content FROM loop_bulletins WHERE org_id = $1 \
                 ORDER BY created_at DESC, id",
                args![org.0],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ArchivedBulletin {
                    id: r.text(0)?.parse().map_err(|e| bad_doc("bulletin id", e))?,
                    org,
                    period: r.text(1)?.parse().map_err(|e| bad_doc("period", e))?,
                    format: r.text(2)?,
                    created_at: ts(r.i64(3)?)?,
                    content: r.text(4)?,
                })
            })
            .collect()
    }
}
