//! Machine API tokens: list, read, create (the secret is shown once in the answer), revoke.

use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::{ListPage, listed, page, scope};
use crate::auth::caller::Caller;
use crate::auth::secret;
use crate::error::{AppResult, ErrorBody};
use crate::policy::Action;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use taishi_model::{ApiToken, NewApiToken, OrgId, Role, TokenFilter, TokenId};

/// Query of `GET /api/v1/tokens`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    /// Page size, 1–1000 (default 50).
    pub limit: Option<u32>,
    /// Cursor: the `next` of the previous page.
    pub after: Option<i64>,
    /// Only tokens scoped within this subtree (default: the caller's scope).
    #[param(value_type = Option<i64>)]
    pub within: Option<OrgId>,
    /// Include revoked tokens.
    #[serde(default)]
    pub include_revoked: bool,
}

/// Lists API tokens (admins only); secrets are never listed.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", params(TokenQuery),
    responses((status = 200, body = ListPage<ApiToken>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<TokenQuery>,
) -> AppResult<Json<ListPage<ApiToken>>> {
    let within = scope::within(&state, &caller, q.within, Action::ReadTokens).await?;
    let filter = TokenFilter {
        within: Some(within),
        include_revoked: q.include_revoked,
    };
    let pg = page(q.limit, q.after)?;
    let store = state.store();
    Ok(Json(
        listed(
            pg,
            store.list_tokens(&filter, pg),
            store.count_tokens(&filter),
        )
        .await?,
    ))
}

/// One token.
#[utoipa::path(get, path = "/api/v1/tokens/{id}", tag = "tokens", params(("id" = i64, Path)),
    responses((status = 200, body = ApiToken), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<ApiToken>> {
    Ok(Json(
        scope::token(&state, &caller, TokenId(id), Action::ReadTokens).await?,
    ))
}

/// Body of `POST /api/v1/tokens`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// What the token is for (`sensor-01`).
    pub name: String,
    /// Role the token acts with.
    pub role: Role,
    /// Root of the subtree the token may act on; inside the caller's scope.
    #[schema(value_type = i64)]
    pub org_id: OrgId,
}

/// A newly created token with its secret, shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    /// The secret to give to the machine: `Authorization: Bearer <token>`. Not retrievable later.
    pub token: String,
    /// The stored token.
    #[serde(flatten)]
    pub info: ApiToken,
}

/// Creates a token (admins only).
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = CreateToken,
    responses((status = 201, body = CreatedToken), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateToken>,
) -> AppResult<(StatusCode, Json<CreatedToken>)> {
    scope::org(&state, &caller, body.org_id, Action::ManageTokens).await?;
    let t = secret::new_api_token();
    let new = NewApiToken {
        name: body.name,
        prefix: t.prefix,
        token_hash: t.hash,
        role: body.role,
        org_id: body.org_id,
        created_by: caller.user_id(),
    };
    let info = state.store().create_token(&caller.actor, new).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            token: t.secret,
            info,
        }),
    ))
}

/// Revokes a token; it stays listed with its revocation time.
#[utoipa::path(post, path = "/api/v1/tokens/{id}/revoke", tag = "tokens", params(("id" = i64, Path)),
    responses((status = 200, body = ApiToken), (status = 404, body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<ApiToken>> {
    let t = scope::token(&state, &caller, TokenId(id), Action::ManageTokens).await?;
    Ok(Json(state.store().revoke_token(&caller.actor, t.id).await?))
}
