//! Organisations: list, tree, read, create, change, move, delete.

use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::{ListPage, listed, page, scope};
use crate::auth::caller::Caller;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::policy::{self, Action};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use taishi_model::{Org, OrgFilter, OrgId, OrgInput, OrgKind, OrgPatch, Page, Sector};
use taishi_store::DeleteMode;

/// Query of `GET /api/v1/orgs`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrgQuery {
    /// Page size, 1–1000 (default 50).
    pub limit: Option<u32>,
    /// Cursor: the `next` of the previous page.
    pub after: Option<i64>,
    /// Only this subtree (default: the caller's whole scope).
    #[param(value_type = Option<i64>)]
    pub within: Option<OrgId>,
    /// Only direct children of this org.
    #[param(value_type = Option<i64>)]
    pub parent: Option<OrgId>,
    /// Only this kind.
    pub kind: Option<OrgKind>,
    /// Only this sector.
    pub sector: Option<Sector>,
    /// Only critical-infrastructure operators (true) or only others (false).
    pub critical_infrastructure: Option<bool>,
    /// Region code starts with this.
    pub region_prefix: Option<String>,
    /// Name or code contains this text.
    pub q: Option<String>,
}

/// Lists orgs in the caller's scope.
#[utoipa::path(get, path = "/api/v1/orgs", tag = "orgs", params(OrgQuery),
    responses((status = 200, body = ListPage<Org>), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<OrgQuery>,
) -> AppResult<Json<ListPage<Org>>> {
    let within = scope::within(&state, &caller, q.within, Action::ReadRegistry).await?;
    let filter = OrgFilter {
        within: Some(within),
        parent: q.parent,
        roots_only: false,
        kind: q.kind,
        sector: q.sector,
        critical_infrastructure: q.critical_infrastructure,
        region_prefix: q.region_prefix,
        q: q.q,
    };
    let pg = page(q.limit, q.after)?;
    let store = state.store();
    Ok(Json(
        listed(pg, store.list_orgs(&filter, pg), store.count_orgs(&filter)).await?,
    ))
}

/// Query of `GET /api/v1/orgs/tree`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TreeQuery {
    /// The node to start from (default: the caller's scope org).
    #[param(value_type = Option<i64>)]
    pub root: Option<OrgId>,
    /// Levels below the root to include, 0–32 (default 1).
    pub depth: Option<u32>,
}

/// One node of the org tree with its children.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TreeNode {
    /// Org id.
    #[schema(value_type = i64)]
    pub id: OrgId,
    /// Parent id.
    #[schema(value_type = Option<i64>)]
    pub parent_id: Option<OrgId>,
    /// External code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: OrgKind,
    /// Sector.
    pub sector: Sector,
    /// Critical-infrastructure operator.
    pub critical_infrastructure: bool,
    /// Children within the requested depth (empty at the last level).
    #[schema(no_recursion)]
    pub children: Vec<TreeNode>,
}

/// The most nodes one tree answer may hold; ask for a deeper root or less depth beyond that.
pub const MAX_TREE_NODES: usize = 50_000;
const MAX_DEPTH: u32 = 32;

/// The org tree under a root, to a depth.
#[utoipa::path(get, path = "/api/v1/orgs/tree", tag = "orgs", params(TreeQuery),
    responses((status = 200, body = TreeNode), (status = 404, body = ErrorBody)))]
pub async fn tree(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<TreeQuery>,
) -> AppResult<Json<TreeNode>> {
    let root = scope::org(
        &state,
        &caller,
        q.root.unwrap_or(caller.scope),
        Action::ReadRegistry,
    )
    .await?;
    let depth = q.depth.unwrap_or(1);
    if depth > MAX_DEPTH {
        return Err(AppError::bad_field(
            "depth",
            format!("depth must be 0 to {MAX_DEPTH}"),
        ));
    }
    let below = match depth {
        0 => Vec::new(),
        1 => {
            collect(
                &state,
                OrgFilter {
                    parent: Some(root.id),
                    ..OrgFilter::default()
                },
            )
            .await?
        }
        _ => {
            let max_len = root.path.len() + depth as usize;
            let mut all = collect(
                &state,
                OrgFilter {
                    within: Some(root.id),
                    ..OrgFilter::default()
                },
            )
            .await?;
            all.retain(|o| o.id != root.id && o.path.len() <= max_len);
            all
        }
    };
    Ok(Json(build_tree(root, below)))
}

async fn collect(state: &AppState, filter: OrgFilter) -> AppResult<Vec<Org>> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let p = state
            .store()
            .list_orgs(
                &filter,
                Page {
                    limit: Page::MAX_LIMIT,
                    after,
                },
            )
            .await?;
        out.extend(p.items);
        if out.len() > MAX_TREE_NODES {
            return Err(AppError::bad_field(
                "depth",
                "the tree is too large: start deeper or ask for less depth",
            ));
        }
        match p.next {
            Some(n) => after = Some(n),
            None => return Ok(out),
        }
    }
}

/// Assembles nested nodes from a root and its descendants (in any order).
fn build_tree(root: Org, below: Vec<Org>) -> TreeNode {
    let mut by_parent: HashMap<OrgId, Vec<Org>> = HashMap::new();
    for o in below {
        if let Some(p) = o.parent_id {
            by_parent.entry(p).or_default().push(o);
        }
    }
    fn node(o: Org, by_parent: &mut HashMap<OrgId, Vec<Org>>) -> TreeNode {
        let kids = by_parent.remove(&o.id).unwrap_or_default();
        let children = kids.into_iter().map(|k| node(k, by_parent)).collect();
        TreeNode {
            id: o.id,
            parent_id: o.parent_id,
            code: o.code,
            name: o.name,
            kind: o.kind,
            sector: o.sector,
            critical_infrastructure: o.critical_infrastructure,
            children,
        }
    }
    node(root, &mut by_parent)
}

/// One org.
#[utoipa::path(get, path = "/api/v1/orgs/{id}", tag = "orgs", params(("id" = i64, Path)),
    responses((status = 200, body = Org), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Org>> {
    Ok(Json(
        scope::org(&state, &caller, OrgId(id), Action::ReadRegistry).await?,
    ))
}

/// Registers an org under a parent in the caller's scope.
#[utoipa::path(post, path = "/api/v1/orgs", tag = "orgs", request_body = OrgInput,
    responses((status = 201, body = Org), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<OrgInput>,
) -> AppResult<(StatusCode, Json<Org>)> {
    let Some(parent) = input.parent_id else {
        caller.require(Action::CreateOrg)?;
        return Err(AppError::invalid(
            "parent_id",
            "a new root would lie outside your scope: give a parent",
        ));
    };
    scope::org(&state, &caller, parent, Action::CreateOrg).await?;
    input.validate().map_err(AppError::Invalid)?;
    let org = state.store().create_org(&caller.actor, input).await?;
    Ok((StatusCode::CREATED, Json(org)))
}

/// Changes fields of an org (officers: contacts and notes only).
#[utoipa::path(patch, path = "/api/v1/orgs/{id}", tag = "orgs", params(("id" = i64, Path)), request_body = OrgPatch,
    responses((status = 200, body = Org), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<OrgPatch>,
) -> AppResult<Json<Org>> {
    let mut org = scope::org(&state, &caller, OrgId(id), Action::UpdateOrg).await?;
    policy::org_patch_allowed(caller.role, &patch)
        .map_err(|f| AppError::forbidden(format!("your role may not change {f}")))?;
    patch.apply(&mut org).map_err(AppError::Invalid)?;
    Ok(Json(
        state
            .store()
            .update_org(&caller.actor, OrgId(id), patch)
            .await?,
    ))
}

/// Body of `POST /api/v1/orgs/{id}/move`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    /// The new parent, inside the caller's scope.
    #[schema(value_type = i64)]
    pub parent_id: OrgId,
}

/// Moves an org with its whole subtree under another parent.
#[utoipa::path(post, path = "/api/v1/orgs/{id}/move", tag = "orgs", params(("id" = i64, Path)), request_body = MoveBody,
    responses((status = 200, body = Org), (status = 409, body = ErrorBody)))]
pub async fn move_org(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<MoveBody>,
) -> AppResult<Json<Org>> {
    let org = scope::org(&state, &caller, OrgId(id), Action::MoveOrg).await?;
    if org.id == caller.scope {
        return Err(AppError::forbidden(
            "the root of your own scope cannot be moved",
        ));
    }
    scope::org(&state, &caller, body.parent_id, Action::MoveOrg).await?;
    Ok(Json(
        state
            .store()
            .move_org(&caller.actor, org.id, Some(body.parent_id))
            .await?,
    ))
}

/// Query of `DELETE /api/v1/orgs/{id}`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// Also delete child orgs, assets, software, users and tokens (default false: refuse while the org
    /// owns anything).
    #[serde(default)]
    pub cascade: bool,
}

/// Deletes an org; refused while it owns anything unless `cascade=true`.
#[utoipa::path(delete, path = "/api/v1/orgs/{id}", tag = "orgs", params(("id" = i64, Path), DeleteQuery),
    responses((status = 204), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<DeleteQuery>,
) -> AppResult<StatusCode> {
    let org = scope::org(&state, &caller, OrgId(id), Action::DeleteOrg).await?;
    if org.id == caller.scope {
        return Err(AppError::forbidden(
            "the root of your own scope cannot be deleted",
        ));
    }
    let mode = if q.cascade {
        DeleteMode::Cascade
    } else {
        DeleteMode::Refuse
    };
    state
        .store()
        .delete_org(&caller.actor, org.id, mode)
        .await?;
    state.attribution_changed();
    Ok(StatusCode::NO_CONTENT)
}
