//! Observations: batched appends, an asset's newest-first pages, availability aggregated in SQL (per
//! day, per asset, per org) and retention. Migration 0200.

use super::SqlStore;
use super::batch::insert_batched;
use super::db::{Arg, Row, args};
use super::rows::{Where, paged};
use crate::error::{StoreError, StoreResult};
use crate::observation_store::{
    AvailabilityCounts, AvailabilityDay, AvailabilitySpan, Observation, ObservationOutcome,
    ObservationQuery, ObservationStore, StoredObservation,
};
use async_trait::async_trait;
use jiff::Timestamp;
use taishi_model::{AssetId, OrgId, Page, Paged};

const DAY_MS: i64 = 86_400_000;

/// The three counts as SQL columns: completed runs, up runs, up runs slower than `$slow`.
fn counts_sql(slow: &str) -> String {
    format!(
        "COUNT(*), SUM(CASE WHEN up = 1 THEN 1 ELSE 0 END), \
         SUM(CASE WHEN up = 1 AND latency_ms > {slow} THEN 1 ELSE 0 END)"
    )
}

fn read_counts(r: &Row, first: usize) -> StoreResult<AvailabilityCounts> {
    let n = |i: usize| -> StoreResult<u64> {
        Ok(u64::try_from(r.opt_i64(first + i)?.unwrap_or(0)).unwrap_or(0))
    };
    Ok(AvailabilityCounts {
        runs: n(0)?,
        up: n(1)?,
        slow: n(2)?,
    })
}

fn as_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn bad(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(format!("stored observation {what} is unreadable: {e}"))
}

fn span_check(span: &AvailabilitySpan) -> StoreResult<()> {
    if span.to < span.from {
        return Err(StoreError::Invalid(vec![taishi_model::FieldError::new(
            "to",
            "must not be before from",
        )]));
    }
    Ok(())
}

fn read_observation(r: &Row) -> StoreResult<StoredObservation> {
    let obs_text = r.text(9)?;
    Ok(StoredObservation {
        id: r.i64(0)?,
        obs: Observation {
            asset: AssetId(r.i64(1)?),
            org: OrgId(r.i64(2)?),
            check: r.text(3)?,
            target: r.text(4)?,
            at: Timestamp::from_millisecond(r.i64(5)?).map_err(|e| bad("time", e))?,
            outcome: ObservationOutcome::parse(&r.text(6)?)?,
            duration_ms: u64::try_from(r.i64(7)?).unwrap_or(0),
            findings: u32::try_from(r.i64(8)?).unwrap_or(0),
            observation: serde_json::from_str(&obs_text).map_err(|e| bad("document", e))?,
            error: r.opt_text(10)?,
            up: r.opt_i64(11)?.map(|v| v != 0),
            latency_ms: r.opt_i64(12)?.and_then(|v| u64::try_from(v).ok()),
        },
    })
}

#[async_trait]
impl ObservationStore for SqlStore {
    async fn add_observations(&self, obs: &[Observation]) -> StoreResult<()> {
        if obs.is_empty() {
            return Ok(());
        }
        let mut rows = Vec::with_capacity(obs.len());
        for o in obs {
            let doc = serde_json::to_string(&o.observation).map_err(|e| bad("document", e))?;
            let row: Vec<Arg> = args![
                o.asset.0,
                o.org.0,
                o.check.as_str(),
                o.target.as_str(),
                o.at.as_millisecond(),
                o.outcome.as_str(),
                as_i64(o.duration_ms),
                doc,
                o.error.clone(),
                i64::from(o.findings),
                o.up.map(i64::from),
                o.latency_ms.map(as_i64),
            ];
            rows.push(row);
        }
        let mut tx = self.db.begin().await?;
        insert_batched(
            &mut tx,
            "INSERT INTO observations (asset_id, org_id, check_id, target, at, outcome, \
             duration_ms, observation, error, findings, up, latency_ms) VALUES ",
            12,
            rows,
        )
        .await?;
        tx.commit().await
    }

    async fn list_observations(
        &self,
        q: &ObservationQuery,
        page: Page,
    ) -> StoreResult<Paged<StoredObservation>> {
        let mut w = Where::default();
        w.push("asset_id = ?", args![q.asset.0]);
        if let Some(c) = &q.check {
            w.push("check_id = ?", args![c.as_str()]);
        }
        if let Some(after) = page.after {
            w.push("id < ?", args![after]);
        }
        let sql = format!(
            "SELECT id, asset_id, org_id, check_id, target, at, outcome, duration_ms, findings, \
             observation, error, up, latency_ms FROM observations {} ORDER BY id DESC LIMIT {}",
            w.sql(),
            page.clamped_limit() + 1
        );
        let items = self
            .db
            .all(&sql, w.args)
            .await?
            .iter()
            .map(read_observation)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(paged(items, page, |o| o.id))
    }

    async fn availability_days(
        &self,
        asset: AssetId,
        span: AvailabilitySpan,
        utc_offset_secs: i32,
    ) -> StoreResult<Vec<AvailabilityDay>> {
        span_check(&span)?;
        let off = i64::from(utc_offset_secs) * 1000;
        // Shifted so the day number is never negative (integer division truncates towards zero).
        let sql = format!(
            "SELECT (at + $1) / $2 AS d, {} FROM observations \
             WHERE asset_id = $4 AND at >= $5 AND at < $6 AND up IS NOT NULL \
             GROUP BY d ORDER BY d",
            counts_sql("$3")
        );
        let rows = self
            .db
            .all(
                &sql,
                args![
                    off,
                    DAY_MS,
                    as_i64(span.slow_ms),
                    asset.0,
                    span.from.as_millisecond().max(-off),
                    span.to.as_millisecond()
                ],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let start =
                    Timestamp::from_second(r.i64(0)? * 86_400).map_err(|e| bad("day", e))?;
                let day = jiff::tz::TimeZone::UTC.to_datetime(start).date();
                Ok(AvailabilityDay {
                    day,
                    counts: read_counts(r, 1)?,
                })
            })
            .collect()
    }

    async fn availability_of_asset(
        &self,
        asset: AssetId,
        span: AvailabilitySpan,
    ) -> StoreResult<AvailabilityCounts> {
        span_check(&span)?;
        let sql = format!(
            "SELECT {} FROM observations \
             WHERE asset_id = $2 AND at >= $3 AND at < $4 AND up IS NOT NULL",
            counts_sql("$1")
        );
        let row = self
            .db
            .opt(
                &sql,
                args![
                    as_i64(span.slow_ms),
                    asset.0,
                    span.from.as_millisecond(),
                    span.to.as_millisecond()
                ],
            )
            .await?;
        row.map_or(Ok(AvailabilityCounts::default()), |r| read_counts(&r, 0))
    }

    async fn availability_by_org(
        &self,
        span: AvailabilitySpan,
    ) -> StoreResult<Vec<(OrgId, AvailabilityCounts)>> {
        span_check(&span)?;
        let sql = format!(
            "SELECT org_id, {} FROM observations \
             WHERE at >= $2 AND at < $3 AND up IS NOT NULL GROUP BY org_id ORDER BY org_id",
            counts_sql("$1")
        );
        let rows = self
            .db
            .all(
                &sql,
                args![
                    as_i64(span.slow_ms),
                    span.from.as_millisecond(),
                    span.to.as_millisecond()
                ],
            )
            .await?;
        rows.iter()
            .map(|r| Ok((OrgId(r.i64(0)?), read_counts(r, 1)?)))
            .collect()
    }

    async fn prune_observations(&self, before: Timestamp) -> StoreResult<u64> {
        self.db
            .exec(
                "DELETE FROM observations WHERE at < $1",
                args![before.as_millisecond()],
            )
            .await
    }
}
