//! List filters and keyset pagination shared by the store and the API.

use crate::enums::{AssetKind, OrgKind, Role, Sector};
use crate::ids::{AssetId, OrgId};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Which page of a list: up to `limit` items with an id greater than `after`, in id order.
///
/// Keyset pagination stays fast at any depth and never skips or repeats items when rows are added.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, utoipa::IntoParams,
)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// Maximum items (1–1000, default 50).
    #[serde(default = "Page::default_limit")]
    pub limit: u32,
    /// Return items after this id (the previous page's `next`).
    #[serde(default)]
    pub after: Option<i64>,
}

impl Page {
    /// The largest page a caller may ask for.
    pub const MAX_LIMIT: u32 = 1000;

    fn default_limit() -> u32 {
        50
    }

    /// The first page of `limit` items.
    pub fn first(limit: u32) -> Self {
        Self { limit, after: None }
    }

    /// The limit clamped to 1..=MAX_LIMIT.
    pub fn clamped_limit(&self) -> u32 {
        self.limit.clamp(1, Self::MAX_LIMIT)
    }
}

impl Default for Page {
    fn default() -> Self {
        Self {
            limit: Self::default_limit(),
            after: None,
        }
    }
}

/// One page of results and the cursor for the next one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Paged<T> {
    /// The items, in id order.
    pub items: Vec<T>,
    /// Pass as `after` to get the next page; `None` on the last page.
    pub next: Option<i64>,
}

/// Filters for listing organisations; all given conditions must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OrgFilter {
    /// Only orgs in this subtree (the org itself included): the caller's scope.
    #[serde(default)]
    pub within: Option<OrgId>,
    /// Only direct children of this org.
    #[serde(default)]
    pub parent: Option<OrgId>,
    /// Only roots (`parent` must then be unset).
    #[serde(default)]
    pub roots_only: bool,
    /// Only this kind.
    #[serde(default)]
    pub kind: Option<OrgKind>,
    /// Only this sector.
    #[serde(default)]
    pub sector: Option<Sector>,
    /// Only critical-infrastructure operators (or only others).
    #[serde(default)]
    pub critical_infrastructure: Option<bool>,
    /// Only orgs whose region code starts with this.
    #[serde(default)]
    pub region_prefix: Option<String>,
    /// Name or code contains this text (case-insensitive for ASCII).
    #[serde(default)]
    pub q: Option<String>,
}

/// Filters for listing assets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AssetFilter {
    /// Only assets of orgs in this subtree.
    #[serde(default)]
    pub within: Option<OrgId>,
    /// Only assets owned directly by this org.
    #[serde(default)]
    pub org: Option<OrgId>,
    /// Only this kind.
    #[serde(default)]
    pub kind: Option<AssetKind>,
    /// Only assets carrying this tag.
    #[serde(default)]
    pub tag: Option<String>,
    /// Only critical-infrastructure assets (or only others).
    #[serde(default)]
    pub critical_infrastructure: Option<bool>,
    /// Only assets at this protection level or above.
    #[serde(default)]
    pub min_mlps_level: Option<u8>,
    /// Identity or name contains this text.
    #[serde(default)]
    pub q: Option<String>,
}

/// Filters for listing software lines across assets (e.g. everything running a vulnerable product).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SoftwareFilter {
    /// Only software on assets of orgs in this subtree.
    #[serde(default)]
    pub within: Option<OrgId>,
    /// Only software of this asset.
    #[serde(default)]
    pub asset: Option<AssetId>,
    /// Vendor equals this (case-insensitive for ASCII).
    #[serde(default)]
    pub vendor: Option<String>,
    /// Product equals this (case-insensitive for ASCII).
    #[serde(default)]
    pub product: Option<String>,
    /// CPE starts with this (`cpe:2.3:a:apache:tomcat:`).
    #[serde(default)]
    pub cpe_prefix: Option<String>,
}

/// Filters for listing users.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UserFilter {
    /// Only users whose scope root lies in this subtree.
    #[serde(default)]
    pub within: Option<OrgId>,
    /// Only this role.
    #[serde(default)]
    pub role: Option<Role>,
}

/// Filters for listing API tokens.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TokenFilter {
    /// Only tokens whose scope root lies in this subtree.
    #[serde(default)]
    pub within: Option<OrgId>,
    /// Include revoked tokens.
    #[serde(default)]
    pub include_revoked: bool,
}

/// Filters for reading the audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditFilter {
    /// Only entries about entities of orgs in this subtree.
    #[serde(default)]
    pub within: Option<OrgId>,
    /// Only this entity type.
    #[serde(default)]
    pub entity_type: Option<String>,
    /// Only this entity id (with `entity_type`).
    #[serde(default)]
    pub entity_id: Option<String>,
    /// Only this actor (`user:alice`).
    #[serde(default)]
    pub actor: Option<String>,
    /// Only entries at or after this time.
    #[serde(default)]
    #[param(value_type = Option<String>)]
    pub since: Option<Timestamp>,
    /// Only entries before this time.
    #[serde(default)]
    #[param(value_type = Option<String>)]
    pub until: Option<Timestamp>,
}
