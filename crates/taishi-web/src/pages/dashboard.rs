//! `GET /`: the situation of the caller's subtree, and `GET /screen`: the same for a wall display.

use super::situation::Situation;
use crate::ctx::{Ctx, WebState};
use crate::error::WebResult;
use crate::i18n::Tr;
use crate::layout::{Shell, html};
use crate::svg::Svg;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use std::sync::Arc;

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    s: Shell,
    sit: Situation,
    donut: Svg,
    bars: Svg,
}

/// `GET /`: the dashboard.
pub async fn dashboard(State(state): State<WebState>, ctx: Ctx) -> WebResult<Response> {
    let sit = Situation::load(&state.app, &ctx).await?;
    let donut = sit.kind_donut(&ctx.tr);
    let bars = sit.children_bars(&ctx.tr, 560);
    let s = Shell::new(&state, &ctx, "/", ctx.tr.t("nav.dashboard"));
    html(&DashboardPage {
        s,
        sit,
        donut,
        bars,
    })
}

#[derive(Template)]
#[template(path = "screen.html")]
struct ScreenPage {
    tr: Tr,
    v: Arc<str>,
    sit: Situation,
    donut: Svg,
    bars: Svg,
    updated: String,
}

/// Seconds between refreshes of the big screen.
pub const SCREEN_REFRESH_SECS: u32 = 60;

/// `GET /screen`: full-screen view that reloads itself every minute (a meta refresh; no script needed).
pub async fn screen(State(state): State<WebState>, ctx: Ctx) -> WebResult<Response> {
    let sit = Situation::load(&state.app, &ctx).await?;
    let donut = sit.kind_donut(&ctx.tr);
    let bars = sit.children_bars(&ctx.tr, 640);
    let updated = ctx.tr.datetime(state.app.now());
    html(&ScreenPage {
        tr: ctx.tr.clone(),
        v: state.static_version.clone(),
        sit,
        donut,
        bars,
        updated,
    })
}
