//! The storage interface: domain operations, not SQL. Split by concern; [`Store`] is the umbrella every
//! caller holds (as `Arc<dyn Store>`), so a new concern (findings and notices: `LoopStore`, added by
//! `taishi-loop`'s work in its own module and migrations 0100+) is one more supertrait.
//!
//! Rules every implementation keeps (the conformance suite in `tests/conformance.rs` checks them):
//! - every change writes its audit entry in the same transaction, so the log never misses or invents one;
//! - reads never fail because of concurrent writes;
//! - "not found" is [`StoreError::NotFound`], duplicates are [`StoreError::Conflict`], broken registry rules
//!   (cycles, deleting an org that still owns things) are [`StoreError::Refused`];
//! - times are stored as unix milliseconds, so they round-trip at millisecond precision.

use crate::error::StoreResult;
use crate::transfer::{ImportProblem, ImportReport, RegistryDocument};
use async_trait::async_trait;
use jiff::Timestamp;
use taishi_model::{
    Actor, ApiToken, Asset, AssetFilter, AssetId, AssetInput, AssetKind, AssetPatch, AuditEntry,
    AuditFilter, NewApiToken, NewUser, Org, OrgFilter, OrgId, OrgInput, OrgPatch, Page, Paged,
    Session, Software, SoftwareFilter, SoftwareId, SoftwareInput, TokenFilter, TokenId, User,
    UserFilter, UserId, UserPatch,
};

/// One registered network identity and its owner: what the attribution index is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributionEntry {
    /// Website, domain, ip or cidr (systems have no network identity).
    pub kind: AssetKind,
    /// The normalised identity.
    pub identity: String,
    /// The owning org.
    pub org_id: OrgId,
    /// The asset.
    pub asset_id: AssetId,
}

/// How a delete treats what an org still owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeleteMode {
    /// Refuse while the org has child orgs, assets or users.
    #[default]
    Refuse,
    /// Delete the whole subtree with its assets, software, users and tokens.
    Cascade,
}

/// The org tree, assets and software inventory.
#[async_trait]
pub trait RegistryStore: Send + Sync {
    /// Registers an org under `input.parent_id` (a root when `None`).
    async fn create_org(&self, actor: &Actor, input: OrgInput) -> StoreResult<Org>;
    /// One org by id.
    async fn get_org(&self, id: OrgId) -> StoreResult<Org>;
    /// One org by its external code.
    async fn get_org_by_code(&self, code: &str) -> StoreResult<Org>;
    /// Changes fields of an org (not its place in the tree).
    async fn update_org(&self, actor: &Actor, id: OrgId, patch: OrgPatch) -> StoreResult<Org>;
    /// Moves `id` with its whole subtree under `new_parent` (a root when `None`); refuses cycles.
    async fn move_org(
        &self,
        actor: &Actor,
        id: OrgId,
        new_parent: Option<OrgId>,
    ) -> StoreResult<Org>;
    /// Deletes an org; with [`DeleteMode::Refuse`] only when it owns nothing.
    async fn delete_org(&self, actor: &Actor, id: OrgId, mode: DeleteMode) -> StoreResult<()>;
    /// Orgs matching `filter`, in id order.
    async fn list_orgs(&self, filter: &OrgFilter, page: Page) -> StoreResult<Paged<Org>>;
    /// How many orgs match `filter`: the total of [`RegistryStore::list_orgs`] over all pages.
    async fn count_orgs(&self, filter: &OrgFilter) -> StoreResult<u64>;
    /// The org and its ancestors, root first (for breadcrumbs and notice routing).
    async fn ancestors(&self, id: OrgId) -> StoreResult<Vec<Org>>;
    /// True when `org` is `root` or lies beneath it. One indexed lookup.
    async fn is_in_subtree(&self, org: OrgId, root: OrgId) -> StoreResult<bool>;
    /// Number of orgs in the subtree of `root`, the root included.
    async fn count_subtree(&self, root: OrgId) -> StoreResult<u64>;

    /// Registers an asset; its identity is normalised first.
    async fn create_asset(&self, actor: &Actor, input: AssetInput) -> StoreResult<Asset>;
    /// One asset by id.
    async fn get_asset(&self, id: AssetId) -> StoreResult<Asset>;
    /// One asset by kind and normalised identity (systems: also by owner).
    async fn find_asset(
        &self,
        kind: AssetKind,
        identity: &str,
        org: Option<OrgId>,
    ) -> StoreResult<Option<Asset>>;
    /// Changes fields of an asset (including its owner).
    async fn update_asset(
        &self,
        actor: &Actor,
        id: AssetId,
        patch: AssetPatch,
    ) -> StoreResult<Asset>;
    /// Deletes an asset and its software lines.
    async fn delete_asset(&self, actor: &Actor, id: AssetId) -> StoreResult<()>;
    /// Assets matching `filter`, in id order.
    async fn list_assets(&self, filter: &AssetFilter, page: Page) -> StoreResult<Paged<Asset>>;
    /// How many assets match `filter`: the total of [`RegistryStore::list_assets`] over all pages.
    async fn count_assets(&self, filter: &AssetFilter) -> StoreResult<u64>;

    /// Adds a software line to an asset.
    async fn add_software(
        &self,
        actor: &Actor,
        asset: AssetId,
        input: SoftwareInput,
    ) -> StoreResult<Software>;
    /// One software line by id.
    async fn get_software(&self, id: SoftwareId) -> StoreResult<Software>;
    /// Removes a software line.
    async fn delete_software(&self, actor: &Actor, id: SoftwareId) -> StoreResult<()>;
    /// Software lines matching `filter`, in id order.
    async fn list_software(
        &self,
        filter: &SoftwareFilter,
        page: Page,
    ) -> StoreResult<Paged<Software>>;
    /// How many software lines match `filter`.
    async fn count_software(&self, filter: &SoftwareFilter) -> StoreResult<u64>;

    /// Every website, domain, IP and CIDR asset with its owner, to build the attribution index.
    async fn attribution_entries(&self) -> StoreResult<Vec<AttributionEntry>>;

    /// Applies a whole import document in one transaction: creates or updates orgs by code and assets by
    /// identity, never duplicates. On any error nothing is changed and every problem is reported.
    async fn import_registry(
        &self,
        actor: &Actor,
        doc: &RegistryDocument,
    ) -> StoreResult<ImportReport>;
    /// Checks a document exactly as [`RegistryStore::import_registry`] would, without changing anything;
    /// returns every problem (empty when the import would succeed).
    async fn check_import(&self, doc: &RegistryDocument) -> StoreResult<Vec<ImportProblem>>;
    /// The subtree of `root` (everything when `None`) as an import document, parents before children.
    async fn export_registry(&self, root: Option<OrgId>) -> StoreResult<RegistryDocument>;
}

/// Users, sessions and API tokens. Secrets arrive hashed; the store compares nothing itself.
#[async_trait]
pub trait AccessStore: Send + Sync {
    /// Creates a user; the login name must be unused.
    async fn create_user(&self, actor: &Actor, user: NewUser) -> StoreResult<User>;
    /// One user by id.
    async fn get_user(&self, id: UserId) -> StoreResult<User>;
    /// A user and the stored PHC password hash, by login name, for password login.
    async fn user_credentials(&self, name: &str) -> StoreResult<Option<(User, String)>>;
    /// Changes a user's display name, role, scope or disabled flag.
    async fn update_user(&self, actor: &Actor, id: UserId, patch: UserPatch) -> StoreResult<User>;
    /// Replaces a user's password hash and ends all their sessions.
    async fn set_password(&self, actor: &Actor, id: UserId, password_hash: &str)
    -> StoreResult<()>;
    /// Records a successful login.
    async fn record_login(&self, id: UserId, at: Timestamp) -> StoreResult<()>;
    /// Deletes a user, their sessions and the tokens they created.
    async fn delete_user(&self, actor: &Actor, id: UserId) -> StoreResult<()>;
    /// Users matching `filter`, in id order.
    async fn list_users(&self, filter: &UserFilter, page: Page) -> StoreResult<Paged<User>>;
    /// How many users match `filter`.
    async fn count_users_matching(&self, filter: &UserFilter) -> StoreResult<u64>;
    /// How many users exist (zero means first start).
    async fn count_users(&self) -> StoreResult<u64>;

    /// Stores a new session.
    async fn create_session(&self, session: &Session) -> StoreResult<()>;
    /// The session with this token hash and its user, if it exists and has not expired at `now`.
    async fn get_session(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<(Session, User)>>;
    /// Ends one session (logout).
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()>;
    /// Removes sessions expired at `now`; returns how many.
    async fn purge_sessions(&self, now: Timestamp) -> StoreResult<u64>;

    /// Stores a new API token.
    async fn create_token(&self, actor: &Actor, token: NewApiToken) -> StoreResult<ApiToken>;
    /// The unrevoked token with this hash, if any.
    async fn token_by_hash(&self, token_hash: &str) -> StoreResult<Option<ApiToken>>;
    /// One token by id.
    async fn get_token(&self, id: TokenId) -> StoreResult<ApiToken>;
    /// Records that a token authenticated a request.
    async fn touch_token(&self, id: TokenId, at: Timestamp) -> StoreResult<()>;
    /// Revokes a token; it stays listed.
    async fn revoke_token(&self, actor: &Actor, id: TokenId) -> StoreResult<ApiToken>;
    /// Tokens matching `filter`, in id order.
    async fn list_tokens(&self, filter: &TokenFilter, page: Page) -> StoreResult<Paged<ApiToken>>;
    /// How many tokens match `filter`.
    async fn count_tokens(&self, filter: &TokenFilter) -> StoreResult<u64>;
}

/// Reading the audit log, and recording events that change no row (logins, failed logins, exports).
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends one entry on its own.
    async fn append_audit(&self, entry: NewAudit) -> StoreResult<()>;
    /// Entries matching `filter`, in id (= time) order.
    async fn list_audit(&self, filter: &AuditFilter, page: Page) -> StoreResult<Paged<AuditEntry>>;
    /// How many entries match `filter`.
    async fn count_audit(&self, filter: &AuditFilter) -> StoreResult<u64>;
}

/// An audit entry to append; the store assigns id and time.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAudit {
    /// Who.
    pub actor: Actor,
    /// What (`session.login`, `session.login_failed`, `registry.export`).
    pub action: String,
    /// Entity type.
    pub entity_type: String,
    /// Entity id.
    pub entity_id: String,
    /// The org the entity belongs to, for scoping.
    pub org_id: Option<OrgId>,
    /// State before.
    pub before: Option<serde_json::Value>,
    /// State after.
    pub after: Option<serde_json::Value>,
}

/// Everything taishi persists, behind one object. Hold it as `Arc<dyn Store>`; get one from
/// [`crate::open`].
#[async_trait]
pub trait Store:
    RegistryStore
    + AccessStore
    + AuditStore
    + crate::LoopStore
    + crate::ObservationStore
    + crate::SettingsStore
    + Send
    + Sync
{
    /// Which backend this is (`sqlite` or `postgres`), for logs and `/metrics`.
    fn backend(&self) -> &'static str;
    /// Checks the database answers (for `/healthz`).
    async fn ping(&self) -> StoreResult<()>;
    /// Closes the pools, waiting for running queries (graceful shutdown).
    async fn close(&self);
}
