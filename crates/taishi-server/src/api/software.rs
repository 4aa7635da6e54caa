//! Software lines across assets: find every asset running a product, read or remove one line.

use super::extract::{ApiPath, ApiQuery};
use super::{ListPage, listed, page, scope};
use crate::auth::caller::Caller;
use crate::error::{AppResult, ErrorBody};
use crate::policy::Action;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use taishi_model::{AssetId, OrgId, Software, SoftwareFilter, SoftwareId};

/// Query of `GET /api/v1/software`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SoftwareQuery {
    /// Page size, 1–1000 (default 50).
    pub limit: Option<u32>,
    /// Cursor: the `next` of the previous page.
    pub after: Option<i64>,
    /// Only software on assets of orgs in this subtree (default: the caller's scope).
    #[param(value_type = Option<i64>)]
    pub within: Option<OrgId>,
    /// Only software of this asset.
    #[param(value_type = Option<i64>)]
    pub asset: Option<AssetId>,
    /// Vendor equals this (case-insensitive).
    pub vendor: Option<String>,
    /// Product equals this (case-insensitive).
    pub product: Option<String>,
    /// CPE starts with this.
    pub cpe_prefix: Option<String>,
}

/// Lists software lines in the caller's scope.
#[utoipa::path(get, path = "/api/v1/software", tag = "software", params(SoftwareQuery),
    responses((status = 200, body = ListPage<Software>), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<SoftwareQuery>,
) -> AppResult<Json<ListPage<Software>>> {
    let within = scope::within(&state, &caller, q.within, Action::ReadRegistry).await?;
    let filter = SoftwareFilter {
        within: Some(within),
        asset: q.asset,
        vendor: q.vendor,
        product: q.product,
        cpe_prefix: q.cpe_prefix,
    };
    let pg = page(q.limit, q.after)?;
    let store = state.store();
    Ok(Json(
        listed(
            pg,
            store.list_software(&filter, pg),
            store.count_software(&filter),
        )
        .await?,
    ))
}

/// One software line.
#[utoipa::path(get, path = "/api/v1/software/{id}", tag = "software", params(("id" = i64, Path)),
    responses((status = 200, body = Software), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Software>> {
    Ok(Json(
        scope::software(&state, &caller, SoftwareId(id), Action::ReadRegistry).await?,
    ))
}

/// Removes a software line.
#[utoipa::path(delete, path = "/api/v1/software/{id}", tag = "software", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    let s = scope::software(&state, &caller, SoftwareId(id), Action::WriteAsset).await?;
    state.store().delete_software(&caller.actor, s.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
