//! Loop persistence, aggregates for the dashboard and the big screen: every figure is one GROUP BY (or
//! COUNT) over the indexed columns of migration 0101, scoped to a subtree, so nothing loads rows.

use super::SqlStore;
use super::db::args;
use super::loop_findings::{ms, within_clause};
use crate::error::StoreResult;
use crate::loop_store::{DayCounts, OrgRisk};
use jiff::Timestamp;
use taishi_model::OrgId;

const DAY_MS: i64 = 86_400_000;

fn count(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn sev_slot(rank: i64) -> usize {
    usize::try_from(rank).unwrap_or(0).min(4)
}

impl SqlStore {
    pub(crate) async fn loop_open_by_severity(
        &self,
        within: Option<OrgId>,
    ) -> StoreResult<[u64; 5]> {
        let (clause, a) = within_clause(self, within, 1).await?;
        let rows = self
            .db
            .all(
                &format!(
                    "SELECT sev_rank, COUNT(*) FROM loop_findings WHERE status = 'open' AND {clause} \
                     GROUP BY sev_rank"
                ),
                a,
            )
            .await?;
        let mut out = [0u64; 5];
        for r in &rows {
            out[sev_slot(r.i64(0)?)] += count(r.i64(1)?);
        }
        Ok(out)
    }

    pub(crate) async fn loop_riskiest_orgs(
        &self,
        within: Option<OrgId>,
        weights: [u64; 5],
        n: u32,
    ) -> StoreResult<Vec<OrgRisk>> {
        let (clause, a) = within_clause(self, within, 1).await?;
        // Weights are small integers of our own, so they are written into the SQL, not bound.
        let risk = weights
            .iter()
            .enumerate()
            .map(|(i, w)| format!("{w} * SUM(CASE WHEN sev_rank = {i} THEN 1 ELSE 0 END)"))
            .collect::<Vec<_>>()
            .join(" + ");
        let per: Vec<String> = (0..5)
            .map(|i| format!("SUM(CASE WHEN sev_rank = {i} THEN 1 ELSE 0 END)"))
            .collect();
        let sql = format!(
            "SELECT org_id, {}, {risk} AS risk FROM loop_findings WHERE status = 'open' AND {clause} \
             GROUP BY org_id HAVING {risk} > 0 ORDER BY risk DESC, org_id LIMIT {n}",
            per.join(", ")
        );
        let rows = self.db.all(&sql, a).await?;
        rows.iter()
            .map(|r| {
                let mut by_severity = [0u64; 5];
                for (i, slot) in by_severity.iter_mut().enumerate() {
                    *slot = count(r.i64(1 + i)?);
                }
                Ok(OrgRisk {
                    org: OrgId(r.i64(0)?),
                    by_severity,
                    risk: count(r.i64(6)?),
                })
            })
            .collect()
    }

    pub(crate) async fn loop_findings_per_day(
        &self,
        within: Option<OrgId>,
        since: Timestamp,
        days: u32,
    ) -> StoreResult<Vec<DayCounts>> {
        let start = ms(since);
        let end = start + i64::from(days) * DAY_MS;
        let mut out = vec![DayCounts::default(); days as usize];
        for (col, new) in [("first_seen", true), ("closed_at", false)] {
            let (clause, mut a) = within_clause(self, within, 4).await?;
            let mut all = args![start, end, start];
            all.append(&mut a);
            // Integer division of a non-negative offset: the day index from `since`.
            let sql = format!(
                "SELECT ({col} - $3) / {DAY_MS} AS d, COUNT(*) FROM loop_findings \
                 WHERE {col} >= $1 AND {col} < $2 AND {clause} GROUP BY d"
            );
            for r in &self.db.all(&sql, all).await? {
                let Some(slot) = usize::try_from(r.i64(0)?).ok().and_then(|d| out.get_mut(d))
                else {
                    continue;
                };
                if new {
                    slot.new = count(r.i64(1)?);
                } else {
                    slot.closed = count(r.i64(1)?);
                }
            }
        }
        Ok(out)
    }

    pub(crate) async fn loop_notices_by_state(
        &self,
        within: Option<OrgId>,
    ) -> StoreResult<Vec<(String, u64)>> {
        let (clause, a) = within_clause(self, within, 1).await?;
        let rows = self
            .db
            .all(
                &format!(
                    "SELECT state, COUNT(*) FROM loop_notices WHERE {clause} GROUP BY state ORDER BY state"
                ),
                a,
            )
            .await?;
        rows.iter()
            .map(|r| Ok((r.text(0)?, count(r.i64(1)?))))
            .collect()
    }

    pub(crate) async fn loop_count_overdue_notices(
        &self,
        within: Option<OrgId>,
        now: Timestamp,
    ) -> StoreResult<u64> {
        let (clause, mut a) = within_clause(self, within, 2).await?;
        let mut all = args![ms(now)];
        all.append(&mut a);
        let row = self
            .db
            .opt(
                &format!(
                    "SELECT COUNT(*) FROM loop_notices WHERE state NOT IN ('draft', 'closed', 'cancelled') \
                     AND rectify_due < $1 AND {clause}"
                ),
                all,
            )
            .await?;
        Ok(row.map(|r| r.i64(0)).transpose()?.map_or(0, count))
    }
}
