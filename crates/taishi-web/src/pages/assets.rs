//! The asset list (filter by kind, subtree, owner, critical infrastructure, text; pages by cursor) and
//! the page of one asset with its software inventory, its recent probe observations per check and its
//! availability per day over the last 30 days (an inline-SVG bar per day). Assets are read through the
//! API's scope check; observations need the same read permission as the API's observation routes.

use super::orgs::crumbs;
use crate::ctx::{Ctx, WebState};
use crate::error::{WebError, WebResult};
use crate::layout::{Shell, html};
use crate::security::external_href;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use std::collections::HashMap;
use taishi_model::{
    Asset, AssetFilter, AssetId, AssetKind, Org, OrgId, Page, Software, SoftwareFilter,
};
use taishi_server::AppError;
use taishi_server::api::scope;
use taishi_server::policy::Action;

mod obs;

/// Rows per page of the asset list.
const PER_PAGE: u32 = 50;

/// Query of `GET /assets`.
#[derive(Debug, Default, Deserialize)]
pub struct AssetQuery {
    q: Option<String>,
    kind: Option<String>,
    within: Option<i64>,
    org: Option<i64>,
    critical: Option<u8>,
    after: Option<i64>,
}

#[derive(Template)]
#[template(path = "assets.html")]
struct ListPage {
    s: Shell,
    rows: Vec<(Asset, String)>,
    q: String,
    kind: String,
    kinds: Vec<(&'static str, String)>,
    within: Option<Org>,
    critical: bool,
    next: Option<String>,
    first: Option<String>,
}

fn store_err(e: taishi_store::StoreError) -> WebError {
    WebError::App(AppError::from(e))
}

/// Query string of the list with `after` replaced (for the pager links).
fn link(q: &AssetQuery, after: Option<i64>) -> String {
    let mut parts: Vec<(&str, String)> = Vec::new();
    if let Some(v) = q.q.as_ref().filter(|s| !s.is_empty()) {
        parts.push(("q", v.clone()));
    }
    if let Some(v) = q.kind.as_ref().filter(|s| !s.is_empty()) {
        parts.push(("kind", v.clone()));
    }
    if let Some(v) = q.within {
        parts.push(("within", v.to_string()));
    }
    if let Some(v) = q.org {
        parts.push(("org", v.to_string()));
    }
    if q.critical.is_some() {
        parts.push(("critical", "1".into()));
    }
    if let Some(a) = after {
        parts.push(("after", a.to_string()));
    }
    format!(
        "/assets?{}",
        serde_urlencoded::to_string(&parts).unwrap_or_default()
    )
}

/// `GET /assets`: assets in the caller's scope.
pub async fn list(
    State(state): State<WebState>,
    ctx: Ctx,
    Query(q): Query<AssetQuery>,
) -> WebResult<Response> {
    let within_org = match q.within.or(q.org) {
        Some(id) => {
            Some(scope::org(&state.app, &ctx.caller, OrgId(id), Action::ReadRegistry).await?)
        }
        None => None,
    };
    let kind = match q.kind.as_deref().filter(|k| !k.is_empty()) {
        Some(k) => Some(
            k.parse::<AssetKind>()
                .map_err(|e| WebError::BadForm(e.to_string()))?,
        ),
        None => None,
    };
    let filter = AssetFilter {
        within: Some(
            within_org
                .as_ref()
                .map(|o| o.id)
                .unwrap_or(ctx.caller.scope),
        ),
        org: q.org.map(OrgId),
        kind,
        critical_infrastructure: q.critical.map(|_| true),
        q: q.q.clone().filter(|s| !s.trim().is_empty()),
        ..AssetFilter::default()
    };
    let page = state
        .app
        .store()
        .list_assets(
            &filter,
            Page {
                limit: PER_PAGE,
                after: q.after,
            },
        )
        .await
        .map_err(store_err)?;
    let mut names: HashMap<OrgId, String> = HashMap::new();
    let mut rows = Vec::new();
    for a in page.items {
        if let std::collections::hash_map::Entry::Vacant(slot) = names.entry(a.org_id) {
            let name = state
                .app
                .store()
                .get_org(a.org_id)
                .await
                .map(|o| o.name)
                .unwrap_or_default();
            slot.insert(name);
        }
        let owner = names.get(&a.org_id).cloned().unwrap_or_default();
        rows.push((a, owner));
    }
    let kinds = AssetKind::ALL
        .iter()
        .map(|k| (k.as_str(), ctx.tr.word(k.as_str(), k.label_zh()).to_owned()))
        .collect();
    let next = page.next.map(|n| link(&q, Some(n)));
    let first = q.after.map(|_| link(&q, None));
    let s = Shell::new(&state, &ctx, "/assets", ctx.tr.t("nav.assets"));
    html(&ListPage {
        s,
        rows,
        q: q.q.clone().unwrap_or_default(),
        kind: q.kind.clone().unwrap_or_default(),
        kinds,
        within: within_org,
        critical: q.critical.is_some(),
        next,
        first,
    })
}

#[derive(Template)]
#[template(path = "asset.html")]
struct AssetPage {
    s: Shell,
    asset: Asset,
    owner: Org,
    crumbs: Vec<Org>,
    link: Option<String>,
    software: Vec<Software>,
    obs: Option<obs::AssetObservations>,
}

/// `GET /assets/{id}`: one asset.
pub async fn asset(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    let asset = scope::asset(&state.app, &ctx.caller, AssetId(id), Action::ReadRegistry).await?;
    let owner = state
        .app
        .store()
        .get_org(asset.org_id)
        .await
        .map_err(store_err)?;
    let crumbs = crumbs(&state, &ctx, &owner).await?;
    let sf = SoftwareFilter {
        asset: Some(asset.id),
        within: Some(ctx.caller.scope),
        ..SoftwareFilter::default()
    };
    let software = state
        .app
        .store()
        .list_software(&sf, Page::first(500))
        .await
        .map_err(store_err)?
        .items;
    let link = match asset.kind {
        AssetKind::Website => external_href(&asset.identity).map(str::to_owned),
        _ => None,
    };
    // Observations need the API's observation permission on the asset (the same scope check).
    let obs = match scope::asset(&state.app, &ctx.caller, asset.id, Action::ReadLoop).await {
        Ok(_) => Some(obs::load(state.app.store(), &ctx.tr, asset.id, state.app.now()).await?),
        Err(_) => None,
    };
    let s = Shell::new(&state, &ctx, "/assets", asset.identity.clone());
    html(&AssetPage {
        s,
        asset,
        owner,
        crumbs,
        link,
        software,
        obs,
    })
}
