//! Bulletins (常态化通报): generate one for a subtree and period (archived as HTML, Markdown and CSV), list
//! an org's archive, and download an archived rendering — always as a download, never shown inline.

use super::extract::{ApiJson, ApiPath};
use super::notices::disposition;
use super::scope;
use crate::auth::caller::Caller;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::policy::Action;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use taishi_loop::bulletin::Bulletin;
use taishi_model::OrgId;
use taishi_model::indicator::Period;
use uuid::Uuid;

/// Body of `POST /api/v1/bulletins`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulletinInput {
    /// The root of the subtree it covers.
    #[schema(value_type = i64)]
    pub org_id: OrgId,
    /// `2026-11`, `2026-Q4` or `2026`.
    pub period: String,
}

/// One archived rendering, without its content.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ArchiveEntry {
    /// Id, for the download.
    #[schema(value_type = String)]
    pub id: Uuid,
    /// Root org.
    #[schema(value_type = i64)]
    pub org: OrgId,
    /// Period.
    pub period: String,
    /// `html`, `md` or `csv`.
    pub format: String,
    /// When generated.
    #[schema(value_type = String)]
    pub created_at: Timestamp,
    /// Size in bytes.
    pub size: usize,
    /// Where to download it.
    pub href: String,
}

/// A generated bulletin: its data and where its archived renderings are.
#[derive(Debug, Serialize)]
pub struct Generated {
    /// The bulletin as data (headline, by severity, overdue, ranking, worst problems, trend).
    pub bulletin: Bulletin,
    /// The archived renderings.
    pub files: Vec<ArchiveEntry>,
}

async fn archive(state: &AppState, org: OrgId) -> AppResult<Vec<ArchiveEntry>> {
    Ok(state
        .store()
        .bulletins(org)
        .await?
        .into_iter()
        .map(|b| ArchiveEntry {
            href: format!("/api/v1/orgs/{}/bulletins/{}", b.org, b.id),
            id: b.id,
            org: b.org,
            period: b.period.to_string(),
            format: b.format,
            created_at: b.created_at,
            size: b.content.len(),
        })
        .collect())
}

/// Generates the bulletin of a subtree for a period (scores recomputed) and archives its HTML,
/// Markdown and CSV renderings (analysts).
#[utoipa::path(post, path = "/api/v1/bulletins", tag = "bulletins", request_body = BulletinInput,
    responses((status = 201, description = "The bulletin and its archived files", body = Object),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn generate(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<BulletinInput>,
) -> AppResult<(StatusCode, Json<Generated>)> {
    let org = scope::org(&state, &caller, input.org_id, Action::PublishBulletin).await?;
    let period: Period =
        input
            .period
            .parse()
            .map_err(|e: taishi_model::indicator::ParsePeriodError| {
                AppError::invalid("period", e.to_string())
            })?;
    let r = state.loop_service().bulletin(org.id, period, true).await?;
    let at = r.bulletin.generated_at;
    let files = archive(&state, org.id)
        .await?
        .into_iter()
        // The archive keeps milliseconds; the three renderings of this run are the newest of the period.
        .filter(|e| {
            e.period == period.to_string()
                && e.created_at.duration_since(at).abs() < jiff::SignedDuration::from_secs(1)
        })
        .take(3)
        .collect();
    Ok((
        StatusCode::CREATED,
        Json(Generated {
            bulletin: r.bulletin,
            files,
        }),
    ))
}

/// The archived bulletins of an org, newest first.
#[utoipa::path(get, path = "/api/v1/orgs/{id}/bulletins", tag = "bulletins", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<ArchiveEntry>), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Vec<ArchiveEntry>>> {
    let org = scope::org(&state, &caller, OrgId(id), Action::ReadLoop).await?;
    Ok(Json(archive(&state, org.id).await?))
}

/// Downloads an archived rendering as a file: HTML (self-contained, printable), Markdown or CSV.
#[utoipa::path(get, path = "/api/v1/orgs/{id}/bulletins/{bulletin}", tag = "bulletins",
    params(("id" = i64, Path), ("bulletin" = String, Path)),
    responses((status = 200, description = "The file", content_type = "text/html"), (status = 404, body = ErrorBody)))]
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, bulletin)): ApiPath<(i64, Uuid)>,
) -> AppResult<Response> {
    let org = scope::org(&state, &caller, OrgId(id), Action::ReadLoop).await?;
    let b = state
        .store()
        .bulletins(org.id)
        .await?
        .into_iter()
        .find(|b| b.id == bulletin)
        .ok_or_else(|| AppError::not_found(format!("bulletin {bulletin}")))?;
    let (ct, ext) = match b.format.as_str() {
        "html" => ("text/html; charset=utf-8", "html"),
        "md" => ("text/markdown; charset=utf-8", "md"),
        _ => ("text/csv; charset=utf-8", "csv"),
    };
    let name = format!("bulletin-{}-{}.{ext}", org.code, b.period);
    let mut resp = b.content.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    if let Ok(v) = HeaderValue::from_str(&disposition(&name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}
