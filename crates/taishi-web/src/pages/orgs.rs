//! The organisation tree (expand by levels, search by name or code) and the page of one organisation
//! (contacts, sub-organisations, assets, users). Every org is loaded through the API's scope check, so
//! an org outside the caller's subtree is "not found" here exactly as in the API.

use super::situation::{Count, count_assets};
use crate::ctx::{Ctx, WebState};
use crate::error::{WebError, WebResult};
use crate::layout::{Shell, html};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use taishi_model::{Asset, AssetFilter, Org, OrgFilter, OrgId, Page, User, UserFilter};
use taishi_server::AppError;
use taishi_server::api::scope;
use taishi_server::policy::Action;

/// One node of the rendered tree.
#[derive(Debug, Clone)]
pub struct Node {
    /// The org.
    pub org: Org,
    /// Its children (loaded to the shown depth).
    pub children: Vec<Node>,
    /// True when it has children beyond the shown depth.
    pub more: bool,
}

#[derive(Template)]
#[template(path = "orgs.html")]
struct TreePage {
    s: Shell,
    crumbs: Vec<Org>,
    root: Node,
    q: String,
    hits: Vec<(Org, String)>,
    critical: bool,
}

/// Query of `GET /orgs`.
#[derive(Debug, Deserialize)]
pub struct TreeQuery {
    root: Option<i64>,
    q: Option<String>,
    critical: Option<u8>,
}

/// Most children listed under one node.
const MAX_KIDS: u32 = 200;

fn store_err(e: taishi_store::StoreError) -> WebError {
    WebError::App(AppError::from(e))
}

async fn children(state: &WebState, id: OrgId) -> WebResult<Vec<Org>> {
    let f = OrgFilter {
        parent: Some(id),
        ..OrgFilter::default()
    };
    Ok(state
        .app
        .store()
        .list_orgs(&f, Page::first(MAX_KIDS))
        .await
        .map_err(store_err)?
        .items)
}

/// The breadcrumb of `org` inside the caller's scope (ancestors above the scope are not shown).
pub async fn crumbs(state: &WebState, ctx: &Ctx, org: &Org) -> WebResult<Vec<Org>> {
    let all = state
        .app
        .store()
        .ancestors(org.id)
        .await
        .map_err(store_err)?;
    let start = all
        .iter()
        .position(|o| o.id == ctx.caller.scope)
        .unwrap_or(all.len().saturating_sub(1));
    Ok(all.into_iter().skip(start).collect())
}

/// `GET /orgs`: the tree two levels deep from the scope (or `root`), or search results for `q`.
pub async fn tree(
    State(state): State<WebState>,
    ctx: Ctx,
    Query(q): Query<TreeQuery>,
) -> WebResult<Response> {
    let root_id = q.root.map(OrgId).unwrap_or(ctx.caller.scope);
    let root = scope::org(&state.app, &ctx.caller, root_id, Action::ReadRegistry).await?;
    let text = q.q.unwrap_or_default().trim().to_owned();
    let critical = q.critical.is_some();
    let mut hits = Vec::new();
    if !text.is_empty() || critical {
        let f = OrgFilter {
            within: Some(root.id),
            q: (!text.is_empty()).then(|| text.clone()),
            critical_infrastructure: critical.then_some(true),
            ..OrgFilter::default()
        };
        for org in state
            .app
            .store()
            .list_orgs(&f, Page::first(200))
            .await
            .map_err(store_err)?
            .items
        {
            let path = crumbs(&state, &ctx, &org)
                .await?
                .iter()
                .map(|o| o.name.clone())
                .collect::<Vec<_>>()
                .join(" › ");
            hits.push((org, path));
        }
    }
    let mut kids = Vec::new();
    for child in children(&state, root.id).await? {
        let grand = children(&state, child.id).await?;
        let mut nodes = Vec::new();
        for g in grand {
            // Deeper levels open on their own page rather than costing a query per node here.
            nodes.push(Node {
                org: g,
                children: Vec::new(),
                more: true,
            });
        }
        kids.push(Node {
            org: child,
            children: nodes,
            more: false,
        });
    }
    let crumbs = crumbs(&state, &ctx, &root).await?;
    let s = Shell::new(&state, &ctx, "/orgs", ctx.tr.t("nav.orgs"));
    html(&TreePage {
        s,
        crumbs,
        root: Node {
            org: root,
            children: kids,
            more: false,
        },
        q: text,
        hits,
        critical,
    })
}

#[derive(Template)]
#[template(path = "org.html")]
struct OrgPage {
    s: Shell,
    org: Org,
    crumbs: Vec<Org>,
    kids: Vec<Org>,
    assets: Vec<Asset>,
    asset_count: Count,
    users: Vec<User>,
}

/// `GET /orgs/{id}`: one organisation.
pub async fn org(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    let org = scope::org(&state.app, &ctx.caller, OrgId(id), Action::ReadRegistry).await?;
    let store = state.app.store();
    let kids = children(&state, org.id).await?;
    let af = AssetFilter {
        org: Some(org.id),
        within: Some(org.id),
        ..AssetFilter::default()
    };
    let assets = store
        .list_assets(&af, Page::first(100))
        .await
        .map_err(store_err)?
        .items;
    let asset_count = count_assets(
        &state.app,
        &AssetFilter {
            within: Some(org.id),
            ..AssetFilter::default()
        },
    )
    .await?;
    let users = if taishi_server::policy::role_allows(ctx.caller.role, Action::ReadUsers) {
        let uf = UserFilter {
            within: Some(org.id),
            ..UserFilter::default()
        };
        store
            .list_users(&uf, Page::first(100))
            .await
            .map_err(store_err)?
            .items
            .into_iter()
            .filter(|u| u.org_id == org.id)
            .collect()
    } else {
        Vec::new()
    };
    let crumbs = crumbs(&state, &ctx, &org).await?;
    let s = Shell::new(&state, &ctx, "/orgs", org.name.clone());
    html(&OrgPage {
        s,
        org,
        crumbs,
        kids,
        assets,
        asset_count,
        users,
    })
}
