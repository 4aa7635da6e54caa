//! Bulletins (通报): the archive of an org in the caller's subtree, generation on demand (analysts: org
//! and period, through the loop's bulletin generation and archive), an in-page view of an archived
//! bulletin, and downloads of its HTML, Markdown and CSV renderings.
//!
//! The archived HTML is a self-contained page with inline styles, so it never runs under the console's
//! policy: the view page frames it from `/bulletins/{id}/frame`, which answers with a policy of its own
//! (`sandbox`, no scripts, inline styles and `data:` images only, framed only by this origin), and the
//! `<iframe>` is sandboxed as well. Only the view page's policy differs from the console's: it may
//! frame this origin (`frame-src 'self'`).

use crate::ctx::{Ctx, Posted, WebState};
use crate::error::{WebError, WebResult};
use crate::layout::{Shell, html};
use crate::pages::rankings::{PeriodChoice, choices_for, period_label};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use serde::Deserialize;
use taishi_model::OrgId;
use taishi_model::indicator::Period;
use taishi_server::AppError;
use taishi_server::api::scope;
use taishi_server::policy::Action;
use taishi_store::ArchivedBulletin;
use uuid::Uuid;

/// The policy of a framed bulletin: no script at all, its own inline styles and `data:` images, no
/// forms or navigation of the console, framed only by the console itself.
pub const FRAME_CSP: &str = "sandbox; default-src 'none'; style-src 'unsafe-inline'; \
img-src data:; form-action 'none'; base-uri 'none'; frame-ancestors 'self'";

/// The view page's policy: the console's, plus framing of this origin for the bulletin.
pub fn view_csp() -> String {
    format!("{}; frame-src 'self'", crate::security::CSP)
}

/// Which org's archive (default: the caller's own org).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ArchiveQuery {
    /// Org id.
    pub org: Option<i64>,
}

/// The three renderings of one generation.
#[derive(Debug, Clone)]
pub struct Generation {
    /// Period.
    pub period: String,
    /// The period as the page's language writes it (filled by the page).
    pub label: String,
    /// When generated.
    pub created_at: Timestamp,
    /// Id of the HTML rendering (the view).
    pub html: Option<Uuid>,
    /// Every rendering: format and id.
    pub files: Vec<(String, Uuid, usize)>,
}

/// Groups an archive (newest first) into generations: renderings of one period archived within a
/// second of each other.
pub fn generations(mut rows: Vec<ArchivedBulletin>) -> Vec<Generation> {
    rows.sort_by_key(|b| std::cmp::Reverse(b.created_at));
    let mut out: Vec<Generation> = Vec::new();
    for b in rows {
        let period = b.period.to_string();
        let same = out.last_mut().filter(|g| {
            g.period == period
                && g.created_at.duration_since(b.created_at).abs()
                    < jiff::SignedDuration::from_secs(1)
                && !g.files.iter().any(|(f, _, _)| *f == b.format)
        });
        let g = match same {
            Some(g) => g,
            None => {
                out.push(Generation {
                    label: period.clone(),
                    period,
                    created_at: b.created_at,
                    html: None,
                    files: Vec::new(),
                });
                let last = out.len() - 1;
                &mut out[last]
            }
        };
        if b.format == "html" {
            g.html = Some(b.id);
        }
        g.files.push((b.format.clone(), b.id, b.content.len()));
    }
    for g in &mut out {
        let order = |f: &str| ["html", "md", "csv"].iter().position(|x| *x == f);
        g.files.sort_by_key(|(f, _, _)| order(f));
    }
    out
}

#[derive(Template)]
#[template(path = "bulletins.html")]
struct ListPage {
    s: Shell,
    org: String,
    org_id: OrgId,
    rows: Vec<Generation>,
    can_generate: bool,
    orgs: Vec<(OrgId, String)>,
    choices: Vec<PeriodChoice>,
}

/// The org whose archive a request means, checked against the caller's scope.
async fn archive_org(
    state: &WebState,
    ctx: &Ctx,
    org: Option<i64>,
) -> WebResult<taishi_model::Org> {
    let id = org.map_or(ctx.caller.scope, OrgId);
    Ok(scope::org(&state.app, &ctx.caller, id, Action::ReadLoop).await?)
}

async fn archive(state: &WebState, org: OrgId) -> WebResult<Vec<ArchivedBulletin>> {
    state
        .app
        .store()
        .bulletins(org)
        .await
        .map_err(|e| WebError::App(e.into()))
}

/// `GET /bulletins`: an org's archive and, for analysts, the form that generates a bulletin.
pub async fn list(
    State(state): State<WebState>,
    ctx: Ctx,
    Query(q): Query<ArchiveQuery>,
) -> WebResult<Response> {
    let org = archive_org(&state, &ctx, q.org).await?;
    let mut rows = generations(archive(&state, org.id).await?);
    for g in &mut rows {
        if let Ok(p) = g.period.parse::<Period>() {
            g.label = period_label(&ctx, p);
        }
    }
    let can_generate = ctx.caller.require(Action::PublishBulletin).is_ok();
    let tree = state.loops().tree().await?;
    let orgs = tree
        .subtree(ctx.caller.scope)
        .into_iter()
        .map(|id| {
            let depth = tree.tier(id).saturating_sub(tree.tier(ctx.caller.scope)) as usize;
            let name = tree
                .get(id)
                .map_or_else(|| id.to_string(), |n| n.name.clone());
            (id, format!("{}{name}", "\u{3000}".repeat(depth)))
        })
        .collect();
    let choices = choices_for(&state, &ctx, None)?;
    let s = Shell::new(&state, &ctx, "/bulletins", ctx.tr.t("nav.bulletins"));
    html(&ListPage {
        s,
        org: org.name,
        org_id: org.id,
        rows,
        can_generate,
        orgs,
        choices,
    })
}

/// The generate form.
#[derive(Debug, Deserialize)]
pub struct GenerateForm {
    /// Root of the bulletin's subtree.
    org: i64,
    /// `2026-10`, `2026-Q4` or `2026`.
    period: String,
}

/// `POST /bulletins`: generates and archives the bulletin of an org's subtree for a period, then shows
/// it.
pub async fn generate(
    State(state): State<WebState>,
    p: Posted<GenerateForm>,
) -> WebResult<Response> {
    let org = scope::org(
        &state.app,
        &p.ctx.caller,
        OrgId(p.form.org),
        Action::PublishBulletin,
    )
    .await?;
    let period: Period =
        p.form
            .period
            .trim()
            .parse()
            .map_err(|e: taishi_model::indicator::ParsePeriodError| {
                WebError::App(AppError::invalid("period", e.to_string()))
            })?;
    let made = state.loops().bulletin(org.id, period, true).await?;
    let at = made.bulletin.generated_at;
    let view = archive(&state, org.id)
        .await?
        .into_iter()
        .filter(|b| b.format == "html" && b.period == period)
        .min_by_key(|b| b.created_at.duration_since(at).abs())
        .map(|b| format!("/bulletins/{}/view?org={}", b.id, org.id))
        .unwrap_or_else(|| format!("/bulletins?org={}", org.id));
    Ok(Redirect::to(&view).into_response())
}

/// One archived rendering of the org in the query, or 404.
async fn find(
    state: &WebState,
    ctx: &Ctx,
    org: Option<i64>,
    id: Uuid,
) -> WebResult<(taishi_model::Org, ArchivedBulletin)> {
    let org = archive_org(state, ctx, org).await?;
    let b = archive(state, org.id)
        .await?
        .into_iter()
        .find(|b| b.id == id)
        .ok_or_else(|| AppError::not_found(format!("bulletin {id}")))?;
    Ok((org, b))
}

/// `GET /bulletins/{id}`: the archived file as a download.
pub async fn download(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(id): Path<Uuid>,
    Query(q): Query<ArchiveQuery>,
) -> WebResult<Response> {
    let (org, b) = find(&state, &ctx, q.org, id).await?;
    let (mime, ext) = match b.format.as_str() {
        "html" => ("text/html; charset=utf-8", "html"),
        "md" => ("text/markdown; charset=utf-8", "md"),
        _ => ("text/csv; charset=utf-8", "csv"),
    };
    let name = format!(
        "attachment; filename=\"bulletin-{}-{}.{ext}\"",
        org.code
            .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_"),
        b.period
    );
    let mut resp = b.content.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if let Ok(v) = HeaderValue::from_str(&name) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

#[derive(Template)]
#[template(path = "bulletin.html")]
struct ViewPage {
    s: Shell,
    org: String,
    org_id: OrgId,
    period: String,
    created_at: Timestamp,
    id: Uuid,
    files: Vec<(String, Uuid, usize)>,
}

/// `GET /bulletins/{id}/view`: the bulletin inside the console, with its downloads.
pub async fn view(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(id): Path<Uuid>,
    Query(q): Query<ArchiveQuery>,
) -> WebResult<Response> {
    let org = archive_org(&state, &ctx, q.org).await?;
    let gens = generations(archive(&state, org.id).await?);
    let g = gens
        .into_iter()
        .find(|g| g.html == Some(id))
        .ok_or_else(|| AppError::not_found(format!("bulletin {id}")))?;
    let period = g
        .period
        .parse::<Period>()
        .map(|p| period_label(&ctx, p))
        .unwrap_or_else(|_| g.period.clone());
    let s = Shell::new(
        &state,
        &ctx,
        "/bulletins",
        ctx.tr.f1("bulletin_view.title", "p", &period),
    );
    let mut resp = html(&ViewPage {
        s,
        org: org.name,
        org_id: org.id,
        period,
        created_at: g.created_at,
        id,
        files: g.files,
    })?;
    if let Ok(v) = HeaderValue::from_str(&view_csp()) {
        resp.headers_mut()
            .insert(HeaderName::from_static("content-security-policy"), v);
    }
    Ok(resp)
}

/// `GET /bulletins/{id}/frame`: the archived HTML for the view's sandboxed frame, under its own policy.
pub async fn frame(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(id): Path<Uuid>,
    Query(q): Query<ArchiveQuery>,
) -> WebResult<Response> {
    let (_, b) = find(&state, &ctx, q.org, id).await?;
    if b.format != "html" {
        return Err(AppError::not_found(format!("bulletin {id} as HTML")).into());
    }
    let mut resp = b.content.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        HeaderName::from_static("content-security-policy"),
        HeaderValue::from_static(FRAME_CSP),
    );
    h.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("SAMEORIGIN"),
    );
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(period: Period, format: &str, ms: i64) -> ArchivedBulletin {
        ArchivedBulletin {
            id: Uuid::new_v4(),
            org: OrgId(1),
            period,
            format: format.into(),
            created_at: Timestamp::from_millisecond(ms).unwrap(),
            content: "x".into(),
        }
    }

    #[test]
    fn renderings_of_one_run_group_and_runs_stay_apart() {
        let oct = Period::Month(2026, 10);
        let rows = vec![
            b(oct, "csv", 1_000_020),
            b(oct, "html", 1_000_000),
            b(oct, "md", 1_000_010),
            b(oct, "html", 2_000_000),
            b(Period::Quarter(2026, 3), "html", 2_000_001),
        ];
        let g = generations(rows);
        assert_eq!(g.len(), 3, "{g:?}");
        assert_eq!(g[0].period, "2026-Q3");
        assert_eq!(g[1].files.len(), 1);
        let formats: Vec<&str> = g[2].files.iter().map(|(f, _, _)| f.as_str()).collect();
        assert_eq!(formats, ["html", "md", "csv"]);
        assert!(g[2].html.is_some());
    }
}
