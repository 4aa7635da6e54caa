//! `GET /`: the situation of the caller's subtree, and `GET /screen`: the same for a wall display.

use super::loopfigs::LoopFigures;
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
    lp: LoopFigures,
    donut: Svg,
    bars: Svg,
    sev: Svg,
    notices: Svg,
    trend30: Svg,
    trend90: Svg,
}

/// `GET /`: the dashboard.
pub async fn dashboard(State(state): State<WebState>, ctx: Ctx) -> WebResult<Response> {
    let sit = Situation::load(&state.app, &ctx).await?;
    let donut = sit.kind_donut(&ctx.tr);
    let bars = sit.children_bars(&ctx.tr, 560);
    let lp = LoopFigures::load(&state, &ctx, sit.root.id).await?;
    let (sev, notices) = (lp.severity_donut(&ctx.tr), lp.notice_bars(&ctx.tr, 360));
    let (trend30, trend90) = (lp.trend_line(&ctx.tr, 30), lp.trend_line(&ctx.tr, 90));
    let s = Shell::new(&state, &ctx, "/", ctx.tr.t("nav.dashboard"));
    html(&DashboardPage {
        s,
        sit,
        lp,
        donut,
        bars,
        sev,
        notices,
        trend30,
        trend90,
    })
}

#[derive(Template)]
#[template(path = "screen.html")]
struct ScreenPage {
    tr: Tr,
    v: Arc<str>,
    sit: Situation,
    lp: LoopFigures,
    sev: Svg,
    trend: Svg,
    donut: Svg,
    bars: Svg,
    updated: String,
    tz: String,
}

/// Seconds between refreshes of the big screen.
pub const SCREEN_REFRESH_SECS: u32 = 60;

/// `GET /screen`: full-screen view that reloads itself every minute (a meta refresh; no script needed).
pub async fn screen(State(state): State<WebState>, ctx: Ctx) -> WebResult<Response> {
    let sit = Situation::load(&state.app, &ctx).await?;
    let donut = sit.kind_donut(&ctx.tr);
    let bars = sit.children_bars(&ctx.tr, 640);
    let updated = ctx.tr.datetime(state.app.now());
    let lp = LoopFigures::load(&state, &ctx, sit.root.id).await?;
    let (sev, trend) = (lp.severity_donut(&ctx.tr), lp.trend_line(&ctx.tr, 30));
    html(&ScreenPage {
        tr: ctx.tr.clone(),
        v: state.static_version.clone(),
        sit,
        lp,
        sev,
        trend,
        donut,
        bars,
        updated,
        tz: state.tz.iana_name().unwrap_or("Asia/Shanghai").to_owned(),
    })
}
