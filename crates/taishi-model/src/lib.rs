//! Domain types of taishi, named after the glossary in DESIGN.md.
//!
//! This crate holds plain data and pure functions only (no I/O, no async, no clock): state machines are
//! functions from a state and an event to a new state, so they are tested without servers. Every other
//! crate of ours may depend on it; it depends on none of them.

mod asset;
mod audit;
mod contact;
mod enums;
pub mod finding;
pub mod identity;
mod ids;
pub mod indicator;
pub mod notice;
mod org;
mod query;
pub mod rectification;
mod severity;
mod user;
pub mod validate;

pub use asset::{
    Asset, AssetInput, AssetPatch, MlpsLevel, Software, SoftwareInput, check_cpe23, normalize_tags,
};
pub use audit::{Actor, AuditEntry};
pub use contact::{Contact, Contacts};
pub use enums::{AssetKind, OrgKind, ParseEnumError, Role, Sector};
pub use ids::{AssetId, AuditId, OrgId, SoftwareId, TokenId, UserId};
pub use org::{Org, OrgInput, OrgPatch};
pub use query::{
    AssetFilter, AuditFilter, OrgFilter, Page, Paged, SoftwareFilter, TokenFilter, UserFilter,
};
pub use severity::{ParseSeverityError, Severity};
pub use user::{ApiToken, NewApiToken, NewUser, Session, User, UserPatch};
pub use validate::FieldError;

use serde::{Deserialize, Serialize};

/// Where a finding came from. All three ways of sensing produce findings through one path
/// (see `taishi-loop`), and this tag keeps them apart in fingerprints, filters and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingSource {
    /// An active posture check run from outside against an asset.
    Probe,
    /// A Sigma detection over events an organisation forwarded.
    Detection,
    /// A published, exploited vulnerability that hits registered software.
    Warning,
}

impl FindingSource {
    /// The stable lower-case name used in storage, APIs and fingerprints.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingSource::Probe => "probe",
            FindingSource::Detection => "detection",
            FindingSource::Warning => "warning",
        }
    }
}
