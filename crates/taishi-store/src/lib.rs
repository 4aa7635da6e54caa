//! Persistence for taishi: one storage interface ([`Store`], split by concern into [`RegistryStore`],
//! [`AccessStore`] and [`AuditStore`]), two backends (embedded SQLite, the default, and PostgreSQL),
//! versioned migrations applied at start-up, import and export of the registry, and the in-memory
//! attribution index that maps an address or host name to its owning org.
//!
//! SQL lives only in this crate. Migrations: `migrations/sqlite/` and `migrations/postgres/`, numbered
//! 0001–0099 for the registry; findings and notices take 0100 onwards.

mod error;
mod traits;
pub mod transfer;

pub use error::{StoreError, StoreResult};
pub use traits::{
    AccessStore, AttributionEntry, AuditStore, DeleteMode, NewAudit, RegistryStore, Store,
};
