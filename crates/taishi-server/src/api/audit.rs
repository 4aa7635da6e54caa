//! Reading the audit log of the caller's subtree.

use super::extract::ApiQuery;
use super::{ListPage, listed, page, scope};
use crate::auth::caller::Caller;
use crate::error::{AppResult, ErrorBody};
use crate::policy::Action;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use jiff::Timestamp;
use serde::Deserialize;
use taishi_model::{AuditEntry, AuditFilter, OrgId};

/// Query of `GET /api/v1/audit`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Page size, 1–1000 (default 50).
    pub limit: Option<u32>,
    /// Cursor: the `next` of the previous page.
    pub after: Option<i64>,
    /// Only entries about orgs in this subtree (default: the caller's scope).
    #[param(value_type = Option<i64>)]
    pub within: Option<OrgId>,
    /// Only this entity type (`org`, `asset`, `software`, `user`, `token`, `session`).
    pub entity_type: Option<String>,
    /// Only this entity id (with `entity_type`).
    pub entity_id: Option<String>,
    /// Only this actor (`user:alice`, `token:sensor-01`).
    pub actor: Option<String>,
    /// Only entries at or after this instant (RFC 3339).
    #[param(value_type = Option<String>)]
    pub since: Option<Timestamp>,
    /// Only entries before this instant (RFC 3339).
    #[param(value_type = Option<String>)]
    pub until: Option<Timestamp>,
}

/// Audit entries of the caller's subtree, oldest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = ListPage<AuditEntry>), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> AppResult<Json<ListPage<AuditEntry>>> {
    let within = scope::within(&state, &caller, q.within, Action::ReadAudit).await?;
    let filter = AuditFilter {
        within: Some(within),
        entity_type: q.entity_type,
        entity_id: q.entity_id,
        actor: q.actor,
        since: q.since,
        until: q.until,
    };
    let pg = page(q.limit, q.after)?;
    let store = state.store();
    Ok(Json(
        listed(
            pg,
            store.list_audit(&filter, pg),
            store.count_audit(&filter),
        )
        .await?,
    ))
}
