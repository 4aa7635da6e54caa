//! Assets: list and search, read, register, change, delete; and each asset's software inventory.

use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::{ListPage, listed, page, scope};
use crate::auth::caller::Caller;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::policy::Action;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use taishi_model::{
    Asset, AssetFilter, AssetId, AssetInput, AssetKind, AssetPatch, OrgId, Software,
    SoftwareFilter, SoftwareInput,
};

/// Query of `GET /api/v1/assets`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AssetQuery {
    /// Page size, 1–1000 (default 50).
    pub limit: Option<u32>,
    /// Cursor: the `next` of the previous page.
    pub after: Option<i64>,
    /// Only assets of orgs in this subtree (default: the caller's scope).
    #[param(value_type = Option<i64>)]
    pub within: Option<OrgId>,
    /// Only assets owned directly by this org.
    #[param(value_type = Option<i64>)]
    pub org: Option<OrgId>,
    /// Only this kind.
    pub kind: Option<AssetKind>,
    /// Only assets with this tag.
    pub tag: Option<String>,
    /// Only critical-infrastructure assets (true) or only others (false).
    pub critical_infrastructure: Option<bool>,
    /// Only assets at this MLPS level or above.
    pub min_mlps_level: Option<u8>,
    /// Identity or name contains this text.
    pub q: Option<String>,
}

/// Lists and searches assets in the caller's scope.
#[utoipa::path(get, path = "/api/v1/assets", tag = "assets", params(AssetQuery),
    responses((status = 200, body = ListPage<Asset>), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AssetQuery>,
) -> AppResult<Json<ListPage<Asset>>> {
    let within = scope::within(&state, &caller, q.within, Action::ReadRegistry).await?;
    let filter = AssetFilter {
        within: Some(within),
        org: q.org,
        kind: q.kind,
        tag: q.tag,
        critical_infrastructure: q.critical_infrastructure,
        min_mlps_level: q.min_mlps_level,
        q: q.q,
    };
    let pg = page(q.limit, q.after)?;
    let store = state.store();
    Ok(Json(
        listed(
            pg,
            store.list_assets(&filter, pg),
            store.count_assets(&filter),
        )
        .await?,
    ))
}

/// One asset.
#[utoipa::path(get, path = "/api/v1/assets/{id}", tag = "assets", params(("id" = i64, Path)),
    responses((status = 200, body = Asset), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Asset>> {
    Ok(Json(
        scope::asset(&state, &caller, AssetId(id), Action::ReadRegistry).await?,
    ))
}

/// Registers an asset for an org in the caller's scope; the identity is normalised.
#[utoipa::path(post, path = "/api/v1/assets", tag = "assets", request_body = AssetInput,
    responses((status = 201, body = Asset), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<AssetInput>,
) -> AppResult<(StatusCode, Json<Asset>)> {
    scope::org(&state, &caller, input.org_id, Action::WriteAsset).await?;
    let input = input.normalized().map_err(AppError::Invalid)?;
    let asset = state.store().create_asset(&caller.actor, input).await?;
    state.attribution_changed();
    Ok((StatusCode::CREATED, Json(asset)))
}

/// Changes an asset; moving it to another org needs write access to both.
#[utoipa::path(patch, path = "/api/v1/assets/{id}", tag = "assets", params(("id" = i64, Path)), request_body = AssetPatch,
    responses((status = 200, body = Asset), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<AssetPatch>,
) -> AppResult<Json<Asset>> {
    let mut asset = scope::asset(&state, &caller, AssetId(id), Action::WriteAsset).await?;
    if let Some(o) = patch.org_id {
        scope::org(&state, &caller, o, Action::WriteAsset).await?;
    }
    patch.apply(&mut asset).map_err(AppError::Invalid)?;
    let asset = state
        .store()
        .update_asset(&caller.actor, asset.id, patch)
        .await?;
    state.attribution_changed();
    Ok(Json(asset))
}

/// Deletes an asset and its software lines.
#[utoipa::path(delete, path = "/api/v1/assets/{id}", tag = "assets", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    let asset = scope::asset(&state, &caller, AssetId(id), Action::WriteAsset).await?;
    state.store().delete_asset(&caller.actor, asset.id).await?;
    state.attribution_changed();
    Ok(StatusCode::NO_CONTENT)
}

/// Query of `GET /api/v1/assets/{id}/software`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1–1000 (default 50).
    pub limit: Option<u32>,
    /// Cursor: the `next` of the previous page.
    pub after: Option<i64>,
}

/// The software inventory of one asset.
#[utoipa::path(get, path = "/api/v1/assets/{id}/software", tag = "assets", params(("id" = i64, Path), PageQuery),
    responses((status = 200, body = ListPage<Software>), (status = 404, body = ErrorBody)))]
pub async fn list_software(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> AppResult<Json<ListPage<Software>>> {
    let asset = scope::asset(&state, &caller, AssetId(id), Action::ReadRegistry).await?;
    let filter = SoftwareFilter {
        within: Some(caller.scope),
        asset: Some(asset.id),
        ..SoftwareFilter::default()
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

/// Adds a software line to an asset.
#[utoipa::path(post, path = "/api/v1/assets/{id}/software", tag = "assets", params(("id" = i64, Path)),
    request_body = SoftwareInput,
    responses((status = 201, body = Software), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_software(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<SoftwareInput>,
) -> AppResult<(StatusCode, Json<Software>)> {
    let asset = scope::asset(&state, &caller, AssetId(id), Action::WriteAsset).await?;
    input.validate().map_err(AppError::Invalid)?;
    Ok((
        StatusCode::CREATED,
        Json(
            state
                .store()
                .add_software(&caller.actor, asset.id, input)
                .await?,
        ),
    ))
}
