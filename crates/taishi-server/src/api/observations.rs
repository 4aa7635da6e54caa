//! Probe observations of an asset (every check run, newest first) and availability figures aggregated
//! from them: per day and for a period per asset, and per org for a period.

use super::extract::{ApiPath, ApiQuery};
use super::{page, scope};
use crate::auth::caller::Caller;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::policy::Action;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use taishi_model::{AssetId, OrgFilter, OrgId, Page};
use taishi_store::{AvailabilityCounts, AvailabilitySpan, ObservationQuery, StoredObservation};

/// Longest span the availability routes aggregate over.
const MAX_SPAN_DAYS: i64 = 366;
/// An availability run slower than this counts as slow (the government-site rule's 15 s).
const SLOW_MS: u64 = 15_000;

/// Query of `GET /api/v1/assets/{id}/observations`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ObservationsQuery {
    /// Page size, 1–1000 (default 50).
    pub limit: Option<u32>,
    /// Cursor: the `next` of the previous page.
    pub after: Option<i64>,
    /// Only runs of this check (`availability`, `tls`, `headers`, `dns`, …).
    pub check: Option<String>,
}

/// One stored check run.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ObservationView {
    /// Row id (paging cursor).
    pub id: i64,
    /// The asset.
    pub asset: i64,
    /// Its org at the time of the run.
    pub org: i64,
    /// The check.
    pub check: String,
    /// The target probed.
    pub target: String,
    /// When the run started (RFC 3339).
    pub at: String,
    /// `pass`, `fail` or `error`.
    pub outcome: String,
    /// Wall time of the run.
    pub duration_ms: u64,
    /// What the check measured.
    #[schema(value_type = Object)]
    pub observation: serde_json::Value,
    /// Why it ended in error.
    pub error: Option<String>,
    /// Findings raised.
    pub findings: u32,
}

impl From<StoredObservation> for ObservationView {
    fn from(s: StoredObservation) -> Self {
        let o = s.obs;
        ObservationView {
            id: s.id,
            asset: o.asset.0,
            org: o.org.0,
            check: o.check,
            target: o.target,
            at: o.at.to_string(),
            outcome: o.outcome.as_str().to_owned(),
            duration_ms: o.duration_ms,
            observation: o.observation,
            error: o.error,
            findings: o.findings,
        }
    }
}

/// A page of observations.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ObservationPage {
    /// Newest first.
    pub items: Vec<ObservationView>,
    /// Pass as `after` for the next page; absent on the last.
    pub next: Option<i64>,
}

/// Lists an asset's observations in the caller's scope, newest first.
#[utoipa::path(get, path = "/api/v1/assets/{id}/observations", tag = "observations",
    params(("id" = i64, Path), ObservationsQuery),
    responses((status = 200, body = ObservationPage), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<ObservationsQuery>,
) -> AppResult<Json<ObservationPage>> {
    let asset = scope::asset(&state, &caller, AssetId(id), Action::ReadLoop).await?;
    if let Some(c) = &q.check
        && (c.is_empty()
            || c.len() > 64
            || !c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_'))
    {
        return Err(AppError::bad_field("check", "not a check id"));
    }
    let query = ObservationQuery {
        asset: asset.id,
        check: q.check,
    };
    let p = state
        .store()
        .list_observations(&query, page(q.limit, q.after)?)
        .await?;
    Ok(Json(ObservationPage {
        items: p.items.into_iter().map(ObservationView::from).collect(),
        next: p.next,
    }))
}

/// Query of the availability routes.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AvailabilityQuery {
    /// Start, RFC 3339 (default: 30 days before `to`).
    pub from: Option<String>,
    /// End, exclusive, RFC 3339 (default: now).
    pub to: Option<String>,
    /// Days start at midnight in this UTC offset, in minutes (default 480: China Standard Time).
    pub utc_offset_minutes: Option<i32>,
    /// Per-org route only: orgs in this subtree (default: the caller's scope).
    #[param(value_type = Option<i64>)]
    pub within: Option<OrgId>,
}

/// Availability counts and their percentage.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AvailabilityFigure {
    /// Completed availability runs.
    pub runs: u64,
    /// Runs that found the site up.
    pub up: u64,
    /// Up runs slower than 15 s.
    pub slow: u64,
    /// `up / runs` in percent; absent without runs.
    pub percent: Option<f64>,
}

impl From<AvailabilityCounts> for AvailabilityFigure {
    fn from(c: AvailabilityCounts) -> Self {
        AvailabilityFigure {
            runs: c.runs,
            up: c.up,
            slow: c.slow,
            percent: c.percent(),
        }
    }
}

/// One day's availability.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DayFigure {
    /// The day (`YYYY-MM-DD`, in the asked offset).
    pub day: String,
    /// Its figures.
    #[serde(flatten)]
    pub figure: AvailabilityFigure,
}

/// Availability of an asset.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AssetAvailability {
    /// The asset.
    pub asset: i64,
    /// Start (RFC 3339).
    pub from: String,
    /// End, exclusive (RFC 3339).
    pub to: String,
    /// The whole period.
    pub period: AvailabilityFigure,
    /// Days with runs, oldest first.
    pub days: Vec<DayFigure>,
}

/// Availability of one org.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrgAvailability {
    /// The org.
    pub org: i64,
    /// Its figures.
    #[serde(flatten)]
    pub figure: AvailabilityFigure,
}

/// Availability per org.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrgsAvailability {
    /// Start (RFC 3339).
    pub from: String,
    /// End, exclusive (RFC 3339).
    pub to: String,
    /// Orgs in scope with runs in the period, by id.
    pub orgs: Vec<OrgAvailability>,
}

fn instant(field: &str, v: &str) -> AppResult<Timestamp> {
    v.parse::<Timestamp>()
        .map_err(|e| AppError::bad_field(field, format!("not an RFC 3339 time: {e}")))
}

/// The span asked for: `to` defaults to now, `from` to 30 days before `to`; at most a year.
fn span_of(state: &AppState, q: &AvailabilityQuery) -> AppResult<AvailabilitySpan> {
    let to = match &q.to {
        Some(t) => instant("to", t)?,
        None => state.now(),
    };
    let from = match &q.from {
        Some(f) => instant("from", f)?,
        None => to
            .saturating_sub(SignedDuration::from_hours(30 * 24))
            .unwrap_or(to),
    };
    if from >= to {
        return Err(AppError::bad_field("from", "must be before to"));
    }
    if to.duration_since(from) > SignedDuration::from_hours(MAX_SPAN_DAYS * 24) {
        return Err(AppError::bad_field(
            "from",
            format!("the span may be at most {MAX_SPAN_DAYS} days"),
        ));
    }
    Ok(AvailabilitySpan {
        from,
        to,
        slow_ms: SLOW_MS,
    })
}

/// Availability of an asset per day and for the period.
#[utoipa::path(get, path = "/api/v1/assets/{id}/availability", tag = "observations",
    params(("id" = i64, Path), AvailabilityQuery),
    responses((status = 200, body = AssetAvailability), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn asset_availability(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<AvailabilityQuery>,
) -> AppResult<Json<AssetAvailability>> {
    let asset = scope::asset(&state, &caller, AssetId(id), Action::ReadLoop).await?;
    if q.within.is_some() {
        return Err(AppError::bad_field(
            "within",
            "only for the per-org availability",
        ));
    }
    let span = span_of(&state, &q)?;
    let offset = q.utc_offset_minutes.unwrap_or(480);
    if !(-18 * 60..=18 * 60).contains(&offset) {
        return Err(AppError::bad_field(
            "utc_offset_minutes",
            "must be between -1080 and 1080",
        ));
    }
    let days = state
        .store()
        .availability_days(asset.id, span, offset * 60)
        .await?;
    let period = state.store().availability_of_asset(asset.id, span).await?;
    Ok(Json(AssetAvailability {
        asset: asset.id.0,
        from: span.from.to_string(),
        to: span.to.to_string(),
        period: period.into(),
        days: days
            .into_iter()
            .map(|d| DayFigure {
                day: d.day.to_string(),
                figure: d.counts.into(),
            })
            .collect(),
    }))
}

/// Availability per org over a period, for the orgs in the caller's scope (or `within`).
#[utoipa::path(get, path = "/api/v1/availability", tag = "observations", params(AvailabilityQuery),
    responses((status = 200, body = OrgsAvailability), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn orgs_availability(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AvailabilityQuery>,
) -> AppResult<Json<OrgsAvailability>> {
    let within = scope::within(&state, &caller, q.within, Action::ReadLoop).await?;
    if q.utc_offset_minutes.is_some() {
        return Err(AppError::bad_field(
            "utc_offset_minutes",
            "only for an asset's daily availability",
        ));
    }
    let span = span_of(&state, &q)?;
    let mut inside = HashSet::new();
    let mut p = Page {
        limit: Page::MAX_LIMIT,
        after: None,
    };
    loop {
        let filter = OrgFilter {
            within: Some(within),
            ..OrgFilter::default()
        };
        let got = state.store().list_orgs(&filter, p).await?;
        inside.extend(got.items.iter().map(|o| o.id));
        match got.next {
            Some(n) => p.after = Some(n),
            None => break,
        }
    }
    let orgs = state
        .store()
        .availability_by_org(span)
        .await?
        .into_iter()
        .filter(|(o, _)| inside.contains(o))
        .map(|(o, c)| OrgAvailability {
            org: o.0,
            figure: c.into(),
        })
        .collect();
    Ok(Json(OrgsAvailability {
        from: span.from.to_string(),
        to: span.to.to_string(),
        orgs,
    }))
}
