//! The append-only audit log: who changed what, when, and the state before and after.

use crate::ids::{AuditId, OrgId};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Who did something: a user, a machine token, or taishi itself. Stored as `user:NAME`, `token:NAME`
/// or `system:WHAT` so the log stays readable after the account is gone.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Actor(String);

impl Actor {
    /// A logged-in user.
    pub fn user(name: &str) -> Self {
        Self(format!("user:{name}"))
    }

    /// A machine using an API token.
    pub fn token(name: &str) -> Self {
        Self(format!("token:{name}"))
    }

    /// taishi itself or a command-line operation (`system:import`, `system:cli`).
    pub fn system(what: &str) -> Self {
        Self(format!("system:{what}"))
    }

    /// Rebuilds an actor from its stored text.
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    /// The stored text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One recorded change. Written in the same transaction as the change itself, never updated or deleted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Position in the log.
    pub id: AuditId,
    /// When the change happened.
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// Who made it.
    pub actor: Actor,
    /// What was done, `entity.verb` (`org.create`, `asset.update`, `token.revoke`, `registry.import`).
    pub action: String,
    /// The kind of thing changed (`org`, `asset`, `software`, `user`, `token`, `registry`).
    pub entity_type: String,
    /// Its id as text.
    pub entity_id: String,
    /// The org the entity belonged to, used to scope who may read the entry.
    pub org_id: Option<OrgId>,
    /// State before the change; `None` for a creation.
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    /// State after the change; `None` for a deletion.
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
}
