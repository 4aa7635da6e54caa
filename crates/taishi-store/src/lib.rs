//! Persistence for taishi: one storage interface ([`Store`], split by concern into [`RegistryStore`],
//! [`AccessStore`] and [`AuditStore`]), two backends (embedded SQLite, the default, and PostgreSQL),
//! versioned migrations applied at start-up, import and export of the registry, and the in-memory
//! attribution index that maps an address or host name to its owning org.
//!
//! SQL lives only in this crate. Migrations: `migrations/sqlite/` and `migrations/postgres/`, numbered
//! 0001–0099 for the registry; findings and notices take 0100 onwards.

pub mod attribution;
mod error;
mod loop_store;
mod observation_store;
mod settings_store;
mod sql;
mod traits;
pub mod transfer;

pub use sql::{MigrationInfo, OpenOptions, SqlStore};

pub use error::{StoreError, StoreResult};
pub use loop_store::{
    ArchivedBulletin, DayCounts, FindingCursor, FindingPage, FindingQuery, FindingSort, LoopAudit,
    LoopStore, NoticeQuery, OrgRisk,
};
pub use observation_store::{
    AvailabilityCounts, AvailabilityDay, AvailabilitySpan, Observation, ObservationOutcome,
    ObservationQuery, ObservationStore, StoredObservation,
};
pub use settings_store::{SettingChange, SettingsStore, StoredSetting};
pub use traits::{
    AccessStore, AttributionEntry, AuditStore, DeleteMode, NewAudit, RegistryStore, Store,
};

use std::sync::Arc;

/// Builds the attribution index from the store's current registrations.
pub async fn load_attribution(store: &dyn Store) -> StoreResult<attribution::AttributionIndex> {
    Ok(attribution::AttributionIndex::build(
        store.attribution_entries().await?,
    ))
}

/// Opens the store named by `url` and applies pending migrations: `sqlite://PATH` (a file, created if
/// missing) or `postgres://…` / `postgresql://…`.
pub async fn open(url: &str) -> StoreResult<Arc<dyn Store>> {
    open_with(url, &OpenOptions::default()).await
}

/// Like [`open`], with options (a PostgreSQL schema, the pool size).
pub async fn open_with(url: &str, opts: &OpenOptions) -> StoreResult<Arc<dyn Store>> {
    Ok(Arc::new(open_sql(url, opts).await?))
}

/// Like [`open_with`] but returns the concrete [`SqlStore`].
pub async fn open_sql(url: &str, opts: &OpenOptions) -> StoreResult<SqlStore> {
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        if path.is_empty() {
            return Err(StoreError::BadUrl(url.to_owned()));
        }
        SqlStore::open_sqlite(path, opts).await
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        SqlStore::open_postgres(url, opts).await
    } else {
        Err(StoreError::BadUrl(url.to_owned()))
    }
}
