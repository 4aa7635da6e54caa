//! The SQL store: one implementation of the storage traits over either backend (see [`db`]).

mod access;
mod assets;
mod audit;
mod batch;
pub(crate) mod db;
mod export;
mod import;
mod loop_findings;
mod loop_misc;
mod loop_notices;
mod loop_stats;
mod observations;
mod orgs;
mod rows;
mod settings;

use crate::error::{StoreError, StoreResult};
use crate::traits::{
    AccessStore, AttributionEntry, AuditStore, DeleteMode, NewAudit, RegistryStore, Store,
};
use crate::transfer::{ImportReport, RegistryDocument};
use async_trait::async_trait;
use db::{Backend, Db};
use jiff::Timestamp;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;
use taishi_model::*;

/// Options for [`crate::open_with`].
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// PostgreSQL only: use (and create if missing) this schema instead of `public`. Lets tests run in
    /// parallel in fresh schemas, and lets several deployments share one database.
    pub pg_schema: Option<String>,
    /// Maximum pooled connections (readers for SQLite); default 8.
    pub max_connections: Option<u32>,
}

/// The store over SQLite or PostgreSQL.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pub(crate) db: Db,
}

impl SqlStore {
    /// Opens a SQLite file (created if missing) with WAL, foreign keys and a busy timeout, and migrates it.
    pub async fn open_sqlite(path: &str, opts: &OpenOptions) -> StoreResult<Self> {
        let base = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))
            .map_err(|e| StoreError::BadUrl(format!("{path}: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("cache_size", "-32000");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(base.clone())
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(opts.max_connections.unwrap_or(8))
            .connect_with(base.read_only(true))
            .await?;
        Ok(Self {
            db: Db::Sqlite { writer, reader },
        })
    }

    /// Connects to PostgreSQL and migrates it.
    pub async fn open_postgres(url: &str, opts: &OpenOptions) -> StoreResult<Self> {
        let mut co =
            PgConnectOptions::from_str(url).map_err(|e| StoreError::BadUrl(format!("{e}")))?;
        if let Some(schema) = &opts.pg_schema {
            if !schema
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
                || schema.is_empty()
            {
                return Err(StoreError::BadUrl(format!(
                    "schema name {schema:?} must be [A-Za-z0-9_]+"
                )));
            }
            let setup = PgPoolOptions::new()
                .max_connections(1)
                .connect_with(co.clone())
                .await?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "CREATE SCHEMA IF NOT EXISTS \"{schema}\""
            )))
            .execute(&setup)
            .await?;
            setup.close().await;
            co = co.options([("search_path", schema.as_str())]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(opts.max_connections.unwrap_or(8))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(co)
            .await?;
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        Ok(Self { db: Db::Pg(pool) })
    }
}

/// One schema migration and whether this store has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationInfo {
    /// Version number (0001–0099 registry, 0100+ findings and notices).
    pub version: i64,
    /// What it does.
    pub description: String,
    /// Applied to this database.
    pub applied: bool,
}

impl SqlStore {
    /// Every migration this build knows, in order, with whether it is applied here.
    pub async fn migrations(&self) -> StoreResult<Vec<MigrationInfo>> {
        let migrator = match self.db.backend() {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("migrations/postgres"),
        };
        let rows = self
            .db
            .all("SELECT version FROM _sqlx_migrations WHERE success", vec![])
            .await?;
        let applied = rows
            .iter()
            .map(|r| r.i64(0))
            .collect::<StoreResult<std::collections::HashSet<_>>>()?;
        Ok(migrator
            .iter()
            .filter(|m| !m.migration_type.is_down_migration())
            .map(|m| MigrationInfo {
                version: m.version,
                description: m.description.to_string(),
                applied: applied.contains(&m.version),
            })
            .collect())
    }
}

/// The current time in unix milliseconds.
pub(crate) fn now_ms() -> i64 {
    Timestamp::now().as_millisecond()
}

#[async_trait]
impl RegistryStore for SqlStore {
    async fn create_org(&self, actor: &Actor, input: OrgInput) -> StoreResult<Org> {
        self.org_create(actor, input).await
    }
    async fn get_org(&self, id: OrgId) -> StoreResult<Org> {
        self.org_get(id).await
    }
    async fn get_org_by_code(&self, code: &str) -> StoreResult<Org> {
        self.org_by_code(code).await
    }
    async fn update_org(&self, actor: &Actor, id: OrgId, patch: OrgPatch) -> StoreResult<Org> {
        self.org_update(actor, id, patch).await
    }
    async fn move_org(
        &self,
        actor: &Actor,
        id: OrgId,
        new_parent: Option<OrgId>,
    ) -> StoreResult<Org> {
        self.org_move(actor, id, new_parent).await
    }
    async fn delete_org(&self, actor: &Actor, id: OrgId, mode: DeleteMode) -> StoreResult<()> {
        self.org_delete(actor, id, mode).await
    }
    async fn list_orgs(&self, filter: &OrgFilter, page: Page) -> StoreResult<Paged<Org>> {
        self.org_list(filter, page).await
    }
    async fn count_orgs(&self, filter: &OrgFilter) -> StoreResult<u64> {
        self.org_count(filter).await
    }
    async fn ancestors(&self, id: OrgId) -> StoreResult<Vec<Org>> {
        self.org_ancestors(id).await
    }
    async fn is_in_subtree(&self, org: OrgId, root: OrgId) -> StoreResult<bool> {
        self.org_in_subtree(org, root).await
    }
    async fn count_subtree(&self, root: OrgId) -> StoreResult<u64> {
        self.org_count_subtree(root).await
    }
    async fn create_asset(&self, actor: &Actor, input: AssetInput) -> StoreResult<Asset> {
        self.asset_create(actor, input).await
    }
    async fn get_asset(&self, id: AssetId) -> StoreResult<Asset> {
        self.asset_get(id).await
    }
    async fn find_asset(
        &self,
        kind: AssetKind,
        identity: &str,
        org: Option<OrgId>,
    ) -> StoreResult<Option<Asset>> {
        self.asset_find(kind, identity, org).await
    }
    async fn update_asset(
        &self,
        actor: &Actor,
        id: AssetId,
        patch: AssetPatch,
    ) -> StoreResult<Asset> {
        self.asset_update(actor, id, patch).await
    }
    async fn delete_asset(&self, actor: &Actor, id: AssetId) -> StoreResult<()> {
        self.asset_delete(actor, id).await
    }
    async fn list_assets(&self, filter: &AssetFilter, page: Page) -> StoreResult<Paged<Asset>> {
        self.asset_list(filter, page).await
    }
    async fn count_assets(&self, filter: &AssetFilter) -> StoreResult<u64> {
        self.asset_count(filter).await
    }
    async fn add_software(
        &self,
        actor: &Actor,
        asset: AssetId,
        input: SoftwareInput,
    ) -> StoreResult<Software> {
        self.software_add(actor, asset, input).await
    }
    async fn get_software(&self, id: SoftwareId) -> StoreResult<Software> {
        self.software_get(id).await
    }
    async fn delete_software(&self, actor: &Actor, id: SoftwareId) -> StoreResult<()> {
        self.software_delete(actor, id).await
    }
    async fn list_software(
        &self,
        filter: &SoftwareFilter,
        page: Page,
    ) -> StoreResult<Paged<Software>> {
        self.software_list(filter, page).await
    }
    async fn count_software(&self, filter: &SoftwareFilter) -> StoreResult<u64> {
        self.software_count(filter).await
    }
    async fn attribution_entries(&self) -> StoreResult<Vec<AttributionEntry>> {
        self.asset_attribution_entries().await
    }
    async fn import_registry(
        &self,
        actor: &Actor,
        doc: &RegistryDocument,
    ) -> StoreResult<ImportReport> {
        self.registry_import(actor, doc).await
    }
    async fn check_import(
        &self,
        doc: &RegistryDocument,
    ) -> StoreResult<Vec<crate::transfer::ImportProblem>> {
        match self
            .registry_import_inner(&Actor::system("check"), doc, true)
            .await
        {
            Ok(_) => Ok(Vec::new()),
            Err(StoreError::Rejected(p)) => Ok(p),
            Err(e) => Err(e),
        }
    }
    async fn export_registry(&self, root: Option<OrgId>) -> StoreResult<RegistryDocument> {
        self.registry_export(root).await
    }
}

#[async_trait]
impl AccessStore for SqlStore {
    async fn create_user(&self, actor: &Actor, user: NewUser) -> StoreResult<User> {
        self.user_create(actor, user).await
    }
    async fn get_user(&self, id: UserId) -> StoreResult<User> {
        self.user_get(id).await
    }
    async fn user_credentials(&self, name: &str) -> StoreResult<Option<(User, String)>> {
        self.user_credentials_by_name(name).await
    }
    async fn update_user(&self, actor: &Actor, id: UserId, patch: UserPatch) -> StoreResult<User> {
        self.user_update(actor, id, patch).await
    }
    async fn set_password(
        &self,
        actor: &Actor,
        id: UserId,
        password_hash: &str,
    ) -> StoreResult<()> {
        self.user_set_password(actor, id, password_hash).await
    }
    async fn record_login(&self, id: UserId, at: Timestamp) -> StoreResult<()> {
        self.user_record_login(id, at).await
    }
    async fn delete_user(&self, actor: &Actor, id: UserId) -> StoreResult<()> {
        self.user_delete(actor, id).await
    }
    async fn list_users(&self, filter: &UserFilter, page: Page) -> StoreResult<Paged<User>> {
        self.user_list(filter, page).await
    }
    async fn count_users_matching(&self, filter: &UserFilter) -> StoreResult<u64> {
        self.user_count_matching(filter).await
    }
    async fn count_users(&self) -> StoreResult<u64> {
        self.user_count().await
    }
    async fn create_session(&self, session: &Session) -> StoreResult<()> {
        self.session_create(session).await
    }
    async fn get_session(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<(Session, User)>> {
        self.session_get(token_hash, now).await
    }
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        self.session_delete(token_hash).await
    }
    async fn purge_sessions(&self, now: Timestamp) -> StoreResult<u64> {
        self.session_purge(now).await
    }
    async fn create_token(&self, actor: &Actor, token: NewApiToken) -> StoreResult<ApiToken> {
        self.token_create(actor, token).await
    }
    async fn token_by_hash(&self, token_hash: &str) -> StoreResult<Option<ApiToken>> {
        self.token_find(token_hash).await
    }
    async fn get_token(&self, id: TokenId) -> StoreResult<ApiToken> {
        self.token_get(id).await
    }
    async fn touch_token(&self, id: TokenId, at: Timestamp) -> StoreResult<()> {
        self.token_touch(id, at).await
    }
    async fn revoke_token(&self, actor: &Actor, id: TokenId) -> StoreResult<ApiToken> {
        self.token_revoke(actor, id).await
    }
    async fn list_tokens(&self, filter: &TokenFilter, page: Page) -> StoreResult<Paged<ApiToken>> {
        self.token_list(filter, page).await
    }
    async fn count_tokens(&self, filter: &TokenFilter) -> StoreResult<u64> {
        self.token_count(filter).await
    }
}

#[async_trait]
impl AuditStore for SqlStore {
    async fn append_audit(&self, entry: NewAudit) -> StoreResult<()> {
        self.audit_append(entry).await
    }
    async fn list_audit(&self, filter: &AuditFilter, page: Page) -> StoreResult<Paged<AuditEntry>> {
        self.audit_list(filter, page).await
    }
    async fn count_audit(&self, filter: &AuditFilter) -> StoreResult<u64> {
        self.audit_count(filter).await
    }
}

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> &'static str {
        match self.db.backend() {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
    async fn ping(&self) -> StoreResult<()> {
        self.db.opt("SELECT 1", vec![]).await.map(|_| ())
    }
    async fn close(&self) {
        self.db.close().await;
    }
}
