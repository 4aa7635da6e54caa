//! People and machines that use taishi: users with a role over an org subtree, their sessions, and API
//! tokens. Secrets are never held here in clear: passwords as argon2 PHC strings, tokens and session
//! ids as hashes, computed by the caller.

use crate::enums::Role;
use crate::ids::{OrgId, TokenId, UserId};
use crate::validate::{self, Errors, FieldError};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A user account. Its password hash is kept out of this type so it cannot leak through the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct User {
    /// Internal identifier.
    pub id: UserId,
    /// Login name, unique.
    pub name: String,
    /// Name shown in the console and the audit log.
    pub display_name: String,
    /// What the user may do.
    pub role: Role,
    /// The root of the subtree the user may see and act on.
    pub org_id: OrgId,
    /// A disabled user cannot log in and its sessions are refused.
    pub disabled: bool,
    /// When the account was created.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// When it was last changed.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// Last successful login.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_login_at: Option<Timestamp>,
}

/// What a caller supplies to create a user; `password_hash` is already an argon2id PHC string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// Login name.
    pub name: String,
    /// Display name; the login name when empty.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Subtree root.
    pub org_id: OrgId,
    /// argon2id PHC string (`$argon2id$v=19$…`).
    pub password_hash: String,
}

impl NewUser {
    /// Every problem with the fields.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut e = Errors::default();
        validate::check_code(&mut e, "name", &self.name);
        validate::check_text(&mut e, "display_name", &self.display_name, 100);
        if !self.password_hash.starts_with('$') {
            e.add("password_hash", "must be a PHC string");
        }
        e.finish()
    }
}

/// A partial update of a user (password changes go through their own operation).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// New display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// New role.
    #[serde(default)]
    pub role: Option<Role>,
    /// New subtree root.
    #[serde(default)]
    pub org_id: Option<OrgId>,
    /// Disable or re-enable the account.
    #[serde(default)]
    pub disabled: Option<bool>,
}

/// A logged-in browser session, found by the hash of its cookie value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// SHA-256 (hex) of the cookie value; the value itself is never stored.
    pub token_hash: String,
    /// Whose session it is.
    pub user_id: UserId,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it stops being valid.
    pub expires_at: Timestamp,
}

/// A machine API token. The token is shown once at creation; only its hash and prefix are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApiToken {
    /// Internal identifier.
    pub id: TokenId,
    /// What the token is for (`ci-import`, `sensor-01`).
    pub name: String,
    /// The first characters of the token, shown so people can tell tokens apart.
    pub prefix: String,
    /// What the token may do.
    pub role: Role,
    /// The root of the subtree it may act on.
    pub org_id: OrgId,
    /// The user who created it, when created through the API.
    pub created_by: Option<UserId>,
    /// When it was created.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// When it was last used to authenticate.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<Timestamp>,
    /// When it was revoked; a revoked token authenticates nothing.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<Timestamp>,
}

/// What a caller supplies to store a new token; the caller generated the secret and hashed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiToken {
    /// Name.
    pub name: String,
    /// Shown prefix of the secret.
    pub prefix: String,
    /// SHA-256 (hex) of the whole secret.
    pub token_hash: String,
    /// Role.
    pub role: Role,
    /// Subtree root.
    pub org_id: OrgId,
    /// Creator.
    pub created_by: Option<UserId>,
}
