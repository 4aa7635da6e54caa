//! Loading a target and checking it against the caller's scope and role in one step, so every handler
//! does both or neither. Anything outside the scope is reported as "not found" under the name the caller
//! asked for, never revealing the owner.

use crate::auth::caller::Caller;
use crate::error::{AppError, AppResult};
use crate::policy::Action;
use crate::state::AppState;
use taishi_model::{
    ApiToken, Asset, AssetId, Org, OrgId, Software, SoftwareId, TokenId, User, UserId,
};
use taishi_store::StoreError;

fn hide(e: StoreError, what: impl FnOnce() -> String) -> AppError {
    match e {
        StoreError::NotFound { .. } => AppError::not_found(what()),
        other => other.into(),
    }
}

/// Re-labels a "not found" from checking an owner org as a "not found" of the thing asked for.
fn relabel(e: AppError, what: impl FnOnce() -> String) -> AppError {
    match e {
        AppError::NotFound(_) => AppError::not_found(what()),
        other => other,
    }
}

/// The org `id`, if the caller may do `action` on it.
pub async fn org(state: &AppState, caller: &Caller, id: OrgId, action: Action) -> AppResult<Org> {
    let org = state
        .store()
        .get_org(id)
        .await
        .map_err(|e| hide(e, || format!("org {id}")))?;
    caller.check(action, &org)?;
    Ok(org)
}

/// The asset `id`, if the caller may do `action` on its owner.
pub async fn asset(
    state: &AppState,
    caller: &Caller,
    id: AssetId,
    action: Action,
) -> AppResult<Asset> {
    let what = || format!("asset {id}");
    let a = state
        .store()
        .get_asset(id)
        .await
        .map_err(|e| hide(e, what))?;
    org(state, caller, a.org_id, action)
        .await
        .map_err(|e| relabel(e, what))?;
    Ok(a)
}

/// The software line `id`, if the caller may do `action` on its asset's owner.
pub async fn software(
    state: &AppState,
    caller: &Caller,
    id: SoftwareId,
    action: Action,
) -> AppResult<Software> {
    let what = || format!("software {id}");
    let s = state
        .store()
        .get_software(id)
        .await
        .map_err(|e| hide(e, what))?;
    asset(state, caller, s.asset_id, action)
        .await
        .map_err(|e| relabel(e, what))?;
    Ok(s)
}

/// The user `id`, if the caller may do `action` on users scoped within its subtree.
pub async fn user(
    state: &AppState,
    caller: &Caller,
    id: UserId,
    action: Action,
) -> AppResult<User> {
    let what = || format!("user {id}");
    let u = state
        .store()
        .get_user(id)
        .await
        .map_err(|e| hide(e, what))?;
    org(state, caller, u.org_id, action)
        .await
        .map_err(|e| relabel(e, what))?;
    Ok(u)
}

/// The token `id`, if the caller may do `action` on tokens scoped within its subtree.
pub async fn token(
    state: &AppState,
    caller: &Caller,
    id: TokenId,
    action: Action,
) -> AppResult<ApiToken> {
    let what = || format!("token {id}");
    let t = state
        .store()
        .get_token(id)
        .await
        .map_err(|e| hide(e, what))?;
    org(state, caller, t.org_id, action)
        .await
        .map_err(|e| relabel(e, what))?;
    Ok(t)
}

/// The subtree a list may cover: the caller's scope, or a narrower `within` the caller may read.
pub async fn within(
    state: &AppState,
    caller: &Caller,
    within: Option<OrgId>,
    action: Action,
) -> AppResult<OrgId> {
    caller.require(action)?;
    match within {
        None => Ok(caller.scope),
        Some(w) => Ok(org(state, caller, w, action).await?.id),
    }
}
