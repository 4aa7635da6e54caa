//! User accounts within the caller's scope: list, read, create, change, delete, reset password.

use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::{ListPage, listed, page, scope};
use crate::auth::caller::Caller;
use crate::auth::password;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::policy::Action;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use taishi_model::{NewUser, OrgId, Role, User, UserFilter, UserId, UserPatch};

/// Query of `GET /api/v1/users`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Page size, 1–1000 (default 50).
    pub limit: Option<u32>,
    /// Cursor: the `next` of the previous page.
    pub after: Option<i64>,
    /// Only users scoped within this subtree (default: the caller's scope).
    #[param(value_type = Option<i64>)]
    pub within: Option<OrgId>,
    /// Only this role.
    pub role: Option<Role>,
}

/// Lists users scoped within the caller's subtree.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(UserQuery),
    responses((status = 200, body = ListPage<User>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<UserQuery>,
) -> AppResult<Json<ListPage<User>>> {
    let within = scope::within(&state, &caller, q.within, Action::ReadUsers).await?;
    let filter = UserFilter {
        within: Some(within),
        role: q.role,
    };
    let pg = page(q.limit, q.after)?;
    let store = state.store();
    Ok(Json(
        listed(
            pg,
            store.list_users(&filter, pg),
            store.count_users_matching(&filter),
        )
        .await?,
    ))
}

/// One user.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = i64, Path)),
    responses((status = 200, body = User), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<User>> {
    Ok(Json(
        scope::user(&state, &caller, UserId(id), Action::ReadUsers).await?,
    ))
}

/// Body of `POST /api/v1/users`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// Login name.
    pub name: String,
    /// Display name (default: the login name).
    #[serde(default)]
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Root of the subtree the user may see; inside the caller's scope.
    #[schema(value_type = i64)]
    pub org_id: OrgId,
    /// Initial password (at least 10 characters); stored as an argon2id hash.
    pub password: String,
}

/// Hashes a password off the async threads.
pub async fn hash_blocking(pw: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || password::hash_password(&pw))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(e.to_string()))
}

/// Creates a user (admins only).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = CreateUser,
    responses((status = 201, body = User), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateUser>,
) -> AppResult<(StatusCode, Json<User>)> {
    scope::org(&state, &caller, body.org_id, Action::ManageUsers).await?;
    password::check_new_password(&body.password).map_err(|m| AppError::invalid("password", m))?;
    let password_hash = hash_blocking(body.password).await?;
    let user = NewUser {
        display_name: if body.display_name.is_empty() {
            body.name.clone()
        } else {
            body.display_name
        },
        name: body.name,
        role: body.role,
        org_id: body.org_id,
        password_hash,
    };
    user.validate().map_err(AppError::Invalid)?;
    Ok((
        StatusCode::CREATED,
        Json(state.store().create_user(&caller.actor, user).await?),
    ))
}

/// Changes a user's display name, role, scope or disabled flag.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", params(("id" = i64, Path)), request_body = UserPatch,
    responses((status = 200, body = User), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<UserPatch>,
) -> AppResult<Json<User>> {
    let user = scope::user(&state, &caller, UserId(id), Action::ManageUsers).await?;
    if let Some(o) = patch.org_id {
        scope::org(&state, &caller, o, Action::ManageUsers).await?;
    }
    let self_lockout = patch.role.is_some_and(|r| r != user.role)
        || patch.org_id.is_some_and(|o| o != user.org_id)
        || patch.disabled == Some(true);
    if caller.user_id() == Some(user.id) && self_lockout {
        return Err(AppError::forbidden(
            "ask another admin to change your own role, scope or status",
        ));
    }
    Ok(Json(
        state
            .store()
            .update_user(&caller.actor, user.id, patch)
            .await?,
    ))
}

/// Deletes a user, their sessions and the tokens they created.
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "users", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    let user = scope::user(&state, &caller, UserId(id), Action::ManageUsers).await?;
    if caller.user_id() == Some(user.id) {
        return Err(AppError::forbidden("you cannot delete your own account"));
    }
    state.store().delete_user(&caller.actor, user.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Body of `POST /api/v1/users/{id}/password`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPassword {
    /// The new password (at least 10 characters).
    pub password: String,
}

/// Sets a new password for a user and ends their sessions (admins only).
#[utoipa::path(post, path = "/api/v1/users/{id}/password", tag = "users", params(("id" = i64, Path)),
    request_body = ResetPassword, responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reset_password(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ResetPassword>,
) -> AppResult<StatusCode> {
    let user = scope::user(&state, &caller, UserId(id), Action::ManageUsers).await?;
    password::check_new_password(&body.password).map_err(|m| AppError::invalid("password", m))?;
    let hash = hash_blocking(body.password).await?;
    state
        .store()
        .set_password(&caller.actor, user.id, &hash)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
