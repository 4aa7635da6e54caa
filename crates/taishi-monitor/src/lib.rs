//! Joins sensing to the closed loop.
//!
//! ```text
//! registry (Store) ─► Scheduler::tick ─► taishi-probe checks ─► intake::ingest_run ─► LoopService::ingest/absent
//!                          │ per-check intervals, urgency caps, jitter, global + per-host limits
//!                          └► ObservationStore (every run, batched) fingerprint ─► software inventory
//!                               └► week rule, monthly availability metric, retention
//! software inventory ─► warning::match_inventory (KEV + NVD CPE) ─► run_warnings ─► intake (source warning)
//! taishi-hunt detections ─► alerts::alerts_from ─► attribution index ─► ingest_alerts (source detection)
//! LoopService::submit_rectification ─► ProbeReverifier (re-runs the checks at once)
//! ```
//!
//! - [`Scheduler`]: decides per asset which checks apply and when (availability every 5 minutes,
//!   content hourly, TLS and DNS daily, ports weekly by default — [`MonitorConfig`]), shortened for
//!   assets with open critical or high findings the way CISA Cyber Hygiene rescans; time comes from the
//!   loop's [`taishi_loop::Clock`] so tests drive it with a `ManualClock` and [`Scheduler::tick`].
//! - [`ProbeReverifier`]: the loop's [`taishi_loop::verify::Reverifier`].
//! - [`warning`]: KEV and NVD matching (pure) and [`warning::run_warnings`].
//! - [`alerts`]: detections as findings.
//! - [`demo`]: the example constituency over the lab, for `taishi serve --demo`.
//! - [`Monitor`]: all of it as `taishi serve` runs it (scheduler task, warnings task, the loop service
//!   with the re-verifier for the server, and the lab in demo mode).

pub mod alerts;
mod config;
pub mod demo;
pub mod intake;
mod observe;
pub mod plan;
mod runtime;
mod scheduler;
mod verify;
pub mod warning;

pub use config::{ConfigError, MonitorConfig};
pub use observe::{Observation, ObservationOutcome, WEEK_COMPONENT};
pub use runtime::{Monitor, MonitorOptions};
pub use scheduler::{JobKey, Scheduler, TickReport};
pub use verify::ProbeReverifier;

use taishi_model::{Asset, AssetFilter, Page, Software, SoftwareFilter};
use taishi_store::{Store, StoreError};

/// Why a monitor operation failed.
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    /// Storage.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The loop refused an intake.
    #[error(transparent)]
    Loop(#[from] taishi_loop::LoopError),
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The probe suite could not be built.
    #[error(transparent)]
    Probe(#[from] taishi_probe::ConfigError),
    /// A feed could not be read.
    #[error(transparent)]
    Feed(#[from] warning::feeds::FeedError),
    /// The lab could not start.
    #[error(transparent)]
    Lab(#[from] taishi_probe::lab::LabError),
    /// The demo could not be seeded.
    #[error("demo: {0}")]
    Demo(String),
}

/// Every asset in the registry, page by page.
pub async fn all_assets(store: &dyn Store) -> Result<Vec<Asset>, StoreError> {
    let mut out = Vec::new();
    let mut page = Page {
        limit: 1000,
        after: None,
    };
    loop {
        let p = store.list_assets(&AssetFilter::default(), page).await?;
        out.extend(p.items);
        match p.next {
            Some(n) => page.after = Some(n),
            None => return Ok(out),
        }
    }
}

/// Every software line matching `filter`, page by page.
pub async fn all_software(
    store: &dyn Store,
    filter: &SoftwareFilter,
) -> Result<Vec<Software>, StoreError> {
    let mut out = Vec::new();
    let mut page = Page {
        limit: 1000,
        after: None,
    };
    loop {
        let p = store.list_software(filter, page).await?;
        out.extend(p.items);
        match p.next {
            Some(n) => page.after = Some(n),
            None => return Ok(out),
        }
    }
}
