//! Attribution: which org in the caller's scope owns an IP address, host name or URL, through the most
//! specific registered IP, CIDR range, website host or domain.

use super::extract::ApiQuery;
use crate::auth::caller::Caller;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::policy::Action;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use taishi_model::{AssetId, AssetKind, Org};

/// Query of `GET /api/v1/attribution`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AttributionQuery {
    /// An IPv4/IPv6 address, a host name or a URL.
    pub q: String,
}

/// The owner of an address or host.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttributionAnswer {
    /// The query as given.
    pub query: String,
    /// The owning org.
    pub org: Org,
    /// The asset whose registration matched.
    #[schema(value_type = i64)]
    pub asset_id: AssetId,
    /// Its kind.
    pub kind: AssetKind,
    /// Its registered identity (`10.1.0.0/16`, `*.example.cn`, `https://www.example.cn/`).
    pub identity: String,
}

/// Finds the org owning an address or host; "not found" when nobody in the caller's scope registered it.
#[utoipa::path(get, path = "/api/v1/attribution", tag = "attribution", params(AttributionQuery),
    responses((status = 200, body = AttributionAnswer), (status = 404, body = ErrorBody)))]
pub async fn lookup(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AttributionQuery>,
) -> AppResult<Json<AttributionAnswer>> {
    caller.require(Action::ReadRegistry)?;
    if q.q.trim().is_empty() || q.q.len() > 2048 {
        return Err(AppError::bad_field(
            "q",
            "give an address, host name or URL",
        ));
    }
    let not_found = || AppError::not_found("an owner of this address or host in your scope");
    let index = state.attribution().await?;
    let hit = index.lookup(&q.q).ok_or_else(not_found)?;
    let org = state
        .store()
        .get_org(hit.org_id)
        .await
        .map_err(|_| not_found())?;
    caller
        .check(Action::ReadRegistry, &org)
        .map_err(|_| not_found())?;
    Ok(Json(AttributionAnswer {
        query: q.q,
        org,
        asset_id: hit.asset_id,
        kind: hit.kind,
        identity: hit.identity,
    }))
}
