//! Persistence of probe observations (the record of every check run) and the availability figures
//! aggregated from them: the [`ObservationStore`] part of [`crate::Store`]. Tables and migrations
//! 0200+ (the monitor range) belong to `taishi-monitor`'s work; the SQL is in `sql/observations.rs`.
//!
//! Availability is computed in SQL from two slim columns the writer fills for availability runs only
//! ([`Observation::up`], [`Observation::latency_ms`]); other checks leave them empty and never count.

use crate::error::{StoreError, StoreResult};
use async_trait::async_trait;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;
use taishi_model::{AssetId, OrgId, Page, Paged};

/// How a check run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ObservationOutcome {
    /// Nothing wrong found.
    Pass,
    /// Findings raised.
    Fail,
    /// The run could not complete (unreachable prober, timeout, hostile answer).
    Error,
}

impl ObservationOutcome {
    /// `pass`, `fail` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            ObservationOutcome::Pass => "pass",
            ObservationOutcome::Fail => "fail",
            ObservationOutcome::Error => "error",
        }
    }

    /// Parses `pass`, `fail` or `error`.
    pub fn parse(s: &str) -> StoreResult<ObservationOutcome> {
        match s {
            "pass" => Ok(ObservationOutcome::Pass),
            "fail" => Ok(ObservationOutcome::Fail),
            "error" => Ok(ObservationOutcome::Error),
            other => Err(StoreError::Database(format!(
                "stored observation outcome {other:?} is unknown"
            ))),
        }
    }
}

/// One check run against one target of one asset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observation {
    /// The asset.
    pub asset: AssetId,
    /// Its org at the time of the run.
    pub org: OrgId,
    /// The check component id (`availability`, `tls`, …).
    pub check: String,
    /// The target probed.
    pub target: String,
    /// When the run started.
    pub at: Timestamp,
    /// Pass, fail or error.
    pub outcome: ObservationOutcome,
    /// Wall time of the run.
    pub duration_ms: u64,
    /// What the check measured.
    pub observation: serde_json::Value,
    /// Why it ended in error.
    pub error: Option<String>,
    /// Findings raised.
    pub findings: u32,
    /// Availability runs that completed: whether the site answered. `None` for every other run, which
    /// then never counts in availability figures.
    pub up: Option<bool>,
    /// Availability runs that answered: time to the answer.
    pub latency_ms: Option<u64>,
}

/// A stored observation with its id (the paging cursor).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredObservation {
    /// Row id, increasing in insertion order.
    pub id: i64,
    /// The observation.
    #[serde(flatten)]
    pub obs: Observation,
}

/// Which observations of one asset to list, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservationQuery {
    /// The asset.
    pub asset: AssetId,
    /// Only this check.
    pub check: Option<String>,
}

/// Availability counts over a span: runs that completed, how many found the site up, and how many of
/// those answered slower than the threshold asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AvailabilityCounts {
    /// Completed availability runs.
    pub runs: u64,
    /// Runs that found the site answering.
    pub up: u64,
    /// Runs that found it up but slower than the threshold.
    pub slow: u64,
}

impl AvailabilityCounts {
    /// Share of runs that found the site up, in percent (`None` without runs).
    pub fn percent(&self) -> Option<f64> {
        (self.runs > 0).then(|| self.up as f64 * 100.0 / self.runs as f64)
    }

    /// Runs that failed or were slow (the government-site rule's "bad requests").
    pub fn bad(&self) -> u64 {
        self.runs.saturating_sub(self.up) + self.slow
    }

    /// Adds another span's counts.
    pub fn add(&mut self, o: AvailabilityCounts) {
        self.runs += o.runs;
        self.up += o.up;
        self.slow += o.slow;
    }
}

/// Availability of one calendar day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AvailabilityDay {
    /// The day (in the offset asked for).
    pub day: Date,
    /// Its counts.
    pub counts: AvailabilityCounts,
}

/// A time span `[from, to)` and the latency above which an up run counts as slow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AvailabilitySpan {
    /// Start, inclusive.
    pub from: Timestamp,
    /// End, exclusive.
    pub to: Timestamp,
    /// Up runs slower than this count in [`AvailabilityCounts::slow`].
    pub slow_ms: u64,
}

/// The observations' persistence.
#[async_trait]
pub trait ObservationStore: Send + Sync {
    /// Appends observations in one transaction (multi-row statements).
    async fn add_observations(&self, obs: &[Observation]) -> StoreResult<()>;
    /// One page of an asset's observations, newest first (`page.after` is the previous page's last
    /// id).
    async fn list_observations(
        &self,
        q: &ObservationQuery,
        page: Page,
    ) -> StoreResult<Paged<StoredObservation>>;
    /// Availability of an asset per day over `span`, days starting at midnight in the fixed UTC
    /// offset `utc_offset_secs` (28,800 for China); days without runs are left out.
    async fn availability_days(
        &self,
        asset: AssetId,
        span: AvailabilitySpan,
        utc_offset_secs: i32,
    ) -> StoreResult<Vec<AvailabilityDay>>;
    /// Availability of an asset over `span`.
    async fn availability_of_asset(
        &self,
        asset: AssetId,
        span: AvailabilitySpan,
    ) -> StoreResult<AvailabilityCounts>;
    /// Availability of every org with runs in `span` (by the org recorded with each run).
    async fn availability_by_org(
        &self,
        span: AvailabilitySpan,
    ) -> StoreResult<Vec<(OrgId, AvailabilityCounts)>>;
    /// Deletes observations older than `before`; returns how many.
    async fn prune_observations(&self, before: Timestamp) -> StoreResult<u64>;
}
