//! Observations: the record of every check run (outcome, duration, measurements), kept per asset and
//! check. The store has no observation table yet, so they live in a bounded in-memory log that the
//! scheduler writes and the API or CLI can read; findings, which are stored, are what the loop acts on.

use jiff::Timestamp;
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use taishi_model::{AssetId, OrgId};
use taishi_probe::Outcome;

/// One check run against one target of one asset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observation {
    /// The asset.
    pub asset: AssetId,
    /// Its org at the time.
    pub org: OrgId,
    /// The target probed.
    pub target: String,
    /// The check component id.
    pub check: String,
    /// When the run started.
    pub at: Timestamp,
    /// Pass, fail or error.
    pub outcome: Outcome,
    /// Wall time of the run.
    pub duration_ms: u64,
    /// What the check measured.
    pub observation: serde_json::Value,
    /// Why it ended in error.
    pub error: Option<String>,
    /// Findings raised.
    pub findings: usize,
}

/// A bounded log of observations per (asset, check).
#[derive(Debug)]
pub struct ObservationLog {
    keep: usize,
    inner: Mutex<HashMap<(AssetId, String), VecDeque<Observation>>>,
}

impl ObservationLog {
    /// Keeps the last `keep` observations per (asset, check).
    pub fn new(keep: usize) -> ObservationLog {
        ObservationLog {
            keep: keep.max(1),
            inner: Mutex::new(HashMap::new()),
        }
    }

    /// Records one.
    pub fn record(&self, o: Observation) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let q = g.entry((o.asset, o.check.clone())).or_default();
        if q.len() == self.keep {
            q.pop_front();
        }
        q.push_back(o);
    }

    /// The observations of an asset, oldest first per check, checks in name order.
    pub fn of_asset(&self, asset: AssetId) -> Vec<Observation> {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut keys: Vec<&(AssetId, String)> = g.keys().filter(|k| k.0 == asset).collect();
        keys.sort();
        keys.into_iter()
            .flat_map(|k| g[k].iter().cloned())
            .collect()
    }

    /// Share of non-error availability runs that passed for an asset, over what is kept, or `None`
    /// when there was none.
    pub fn availability(&self, asset: AssetId) -> Option<f64> {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let q = g.get(&(asset, "availability".to_owned()))?;
        let n = q.len();
        (n > 0).then(|| q.iter().filter(|o| o.outcome == Outcome::Pass).count() as f64 / n as f64)
    }

    /// How many observations are kept in total.
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .map(VecDeque::len)
            .sum()
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
