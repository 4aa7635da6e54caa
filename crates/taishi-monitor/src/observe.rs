//! Observations: every check run is stored ([`taishi_store::ObservationStore`], migration 0200), written
//! by the scheduler in one batch per pass and pruned after the configured retention. Figures that need
//! history come from the stored runs, so they survive restarts:
//!
//! - the government-site rule (国办秘函〔2019〕19号: a week of checks fails when ≥ 5 % of requests failed or
//!   took over 15 s), evaluated per asset from the stored week and fed to the loop as its own component
//!   [`WEEK_COMPONENT`], so a run that does not evaluate it never resolves its finding;
//! - the loop's monthly `availability` metric per org (the indicator system's availability input),
//!   aggregated in SQL from the month's stored runs.

use jiff::{SignedDuration, Timestamp};
use taishi_model::Asset;
use taishi_model::indicator::Period;
use taishi_probe::checks::availability::{GOV_SLOW_MS, gov_rule_verdict};
use taishi_probe::{CheckReport, CheckRun, Outcome, Target};
use taishi_store::{AvailabilitySpan, Store, StoreError};

pub use taishi_store::{Observation, ObservationOutcome};

/// The loop component the weekly government-site rule's finding belongs to (not a probe check: no run
/// of a check resolves it, only the next weekly evaluation).
pub const WEEK_COMPONENT: &str = "availability_week";

/// The stored form of one run of `rep` against `target` of `asset`, started at `at`.
pub fn observation_of(
    asset: &Asset,
    target: &Target,
    rep: &CheckReport,
    at: Timestamp,
) -> Observation {
    let run = &rep.run;
    let availability = run.check_id == "availability" && run.outcome != Outcome::Error;
    let up = availability.then(|| {
        run.observation
            .get("up")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
    });
    let latency_ms = if up == Some(true) {
        run.observation
            .get("latency_ms")
            .and_then(serde_json::Value::as_u64)
    } else {
        None
    };
    Observation {
        asset: asset.id,
        org: asset.org_id,
        check: run.check_id.clone(),
        target: target.input.clone(),
        at,
        outcome: match run.outcome {
            Outcome::Pass => ObservationOutcome::Pass,
            Outcome::Fail => ObservationOutcome::Fail,
            Outcome::Error => ObservationOutcome::Error,
        },
        duration_ms: run.duration_ms,
        observation: run.observation.clone(),
        error: run.error.clone(),
        findings: u32::try_from(rep.findings.len()).unwrap_or(u32::MAX),
        up,
        latency_ms,
    }
}

/// The government-site rule over the stored week before `now` for `asset`, as a run of
/// [`WEEK_COMPONENT`] to feed through intake: failing with the finding, passing without, or `None`
/// when the week holds too few runs for a verdict (then nothing changes).
pub async fn week_rule(
    store: &dyn Store,
    asset: &Asset,
    target: &Target,
    now: Timestamp,
) -> Result<Option<CheckReport>, StoreError> {
    let span = AvailabilitySpan {
        from: now
            .saturating_sub(SignedDuration::from_hours(7 * 24))
            .unwrap_or(now),
        to: now
            .saturating_add(SignedDuration::from_millis(1))
            .unwrap_or(now),
        slow_ms: GOV_SLOW_MS,
    };
    let c = store.availability_of_asset(asset.id, span).await?;
    let Some(verdict) = gov_rule_verdict(target, c.bad(), c.runs) else {
        return Ok(None);
    };
    let observation = serde_json::json!({
        "runs": c.runs, "up": c.up, "slow": c.slow, "bad": c.bad(),
        "from": span.from.to_string(), "to": now.to_string(),
    });
    let findings: Vec<_> = verdict.into_iter().collect();
    Ok(Some(CheckReport {
        run: CheckRun {
            check_id: WEEK_COMPONENT.to_owned(),
            target: target.input.clone(),
            outcome: if findings.is_empty() {
                Outcome::Pass
            } else {
                Outcome::Fail
            },
            duration_ms: 0,
            observation,
            error: None,
        },
        findings,
    }))
}

/// The calendar month (UTC) `t` falls in, and its span.
fn month_of(t: Timestamp) -> Result<(Period, Timestamp, Timestamp), StoreError> {
    let bad = |e: jiff::Error| StoreError::Database(format!("month bounds: {e}"));
    let first = jiff::tz::TimeZone::UTC
        .to_datetime(t)
        .date()
        .first_of_month();
    let start = first
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .map_err(bad)?
        .timestamp();
    let end = first
        .checked_add(jiff::Span::new().months(1))
        .map_err(bad)?
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .map_err(bad)?
        .timestamp();
    Ok((Period::Month(first.year(), first.month()), start, end))
}

/// Sets the loop's `availability` metric (share of completed availability runs that found the site
/// up, 0–1) with `availability_runs` and `availability_up_runs` for every org with runs in the month
/// `at` falls in, aggregated from the stored observations. Returns how many orgs were set.
pub async fn availability_metrics(store: &dyn Store, at: Timestamp) -> Result<usize, StoreError> {
    let (period, from, to) = month_of(at)?;
    let span = AvailabilitySpan {
        from,
        to,
        slow_ms: u64::MAX >> 1,
    };
    let per_org = store.availability_by_org(span).await?;
    for (org, c) in &per_org {
        store
            .set_metric(*org, period, "availability_runs", c.runs as f64)
            .await?;
        store
            .set_metric(*org, period, "availability_up_runs", c.up as f64)
            .await?;
        let ratio = c.up as f64 / (c.runs.max(1)) as f64;
        store
            .set_metric(*org, period, "availability", ratio)
            .await?;
    }
    Ok(per_org.len())
}

/// The month before the one `t` falls in starts before this instant: used to finish the previous
/// month's figures once after the month changes.
pub fn previous_month_instant(t: Timestamp) -> Result<Timestamp, StoreError> {
    let (_, start, _) = month_of(t)?;
    Ok(start
        .saturating_sub(SignedDuration::from_millis(1))
        .unwrap_or(start))
}

/// Whether `a` and `b` fall in the same UTC month.
pub fn same_month(a: Timestamp, b: Timestamp) -> bool {
    let (x, y) = (
        jiff::tz::TimeZone::UTC.to_datetime(a).date(),
        jiff::tz::TimeZone::UTC.to_datetime(b).date(),
    );
    (x.year(), x.month()) == (y.year(), y.month())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_bounds_and_previous_month() {
        let t: Timestamp = "2026-03-15T12:00:00Z".parse().unwrap();
        let (p, from, to) = month_of(t).unwrap();
        assert_eq!(p, Period::Month(2026, 3));
        assert_eq!(from, "2026-03-01T00:00:00Z".parse::<Timestamp>().unwrap());
        assert_eq!(to, "2026-04-01T00:00:00Z".parse::<Timestamp>().unwrap());
        let prev = previous_month_instant(t).unwrap();
        assert_eq!(month_of(prev).unwrap().0, Period::Month(2026, 2));
        assert!(same_month(t, from) && !same_month(t, to) && !same_month(t, prev));
    }
}
