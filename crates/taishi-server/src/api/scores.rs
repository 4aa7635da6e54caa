//! Indicator scores (评价指标): per org per period with the explanation of every point lost, and the
//! ranking of an org's sub-units. Scores of the running period are recomputed on each request (they
//! move with every event); closed periods are served as stored, computed once when first asked for.

use super::extract::{ApiPath, ApiQuery};
use super::loopctx::offset_page;
use super::{page, scope};
use crate::auth::caller::Caller;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::policy::Action;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use taishi_loop::score::ScoreCard;
use taishi_model::indicator::Period;
use taishi_model::{OrgId, Paged};

/// Query of the score routes.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ScoreQuery {
    /// `2026-11`, `2026-Q4` or `2026` (default: the current month).
    pub period: Option<String>,
    /// Only orgs in this subtree (list only; default: the caller's scope).
    #[param(value_type = Option<i64>)]
    pub within: Option<OrgId>,
    /// Page size, 1–1000 (default 50; list only).
    pub limit: Option<u32>,
    /// Cursor: the `next` of the previous page (list only).
    pub after: Option<i64>,
}

/// A score card with the org's name.
#[derive(Debug, Serialize)]
pub struct NamedCard {
    /// Org name.
    pub name: String,
    /// The card: own and subtree score, grade, rank among siblings, change, per-indicator breakdown.
    #[serde(flatten)]
    pub card: ScoreCard,
}

fn period(state: &AppState, p: Option<&str>) -> AppResult<Period> {
    match p {
        Some(s) => s
            .parse::<Period>()
            .map_err(|e| AppError::bad_field("period", e.to_string())),
        None => {
            let d = state.loop_service().policy().calendar.date_of(state.now());
            Ok(Period::Month(d.year(), d.month()))
        }
    }
}

/// The cards of every org for `p`: recomputed when `p` has not ended or was never computed (the web
/// console's rankings read them here too).
pub async fn cards(state: &AppState, p: Period) -> AppResult<Vec<ScoreCard>> {
    let svc = state.loop_service();
    let (_, end) = p.bounds(&svc.policy().calendar.tz());
    if end > state.now() {
        return Ok(svc.compute_scores(p).await?);
    }
    let stored = state.store().scores(p).await?;
    if stored.is_empty() {
        return Ok(svc.compute_scores(p).await?);
    }
    stored
        .iter()
        .map(|(_, doc)| {
            serde_json::from_str(doc)
                .map_err(|e| AppError::Internal(format!("stored score card: {e}")))
        })
        .collect()
}

async fn named(state: &AppState, cards: Vec<ScoreCard>) -> AppResult<Vec<NamedCard>> {
    let tree = state.loop_service().tree().await?;
    Ok(cards
        .into_iter()
        .map(|card| NamedCard {
            name: tree
                .get(card.org)
                .map_or_else(|| card.org.to_string(), |o| o.name.clone()),
            card,
        })
        .collect())
}

/// The score cards of the orgs in the caller's scope (or a subtree of it) for a period, in tree order.
#[utoipa::path(get, path = "/api/v1/scores", tag = "scores", params(ScoreQuery),
    responses((status = 200, description = "A page of score cards", body = Object), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ScoreQuery>,
) -> AppResult<Json<Paged<NamedCard>>> {
    let within = scope::within(&state, &caller, q.within, Action::ReadLoop).await?;
    let pg = page(q.limit, q.after)?;
    let p = period(&state, q.period.as_deref())?;
    let tree = state.loop_service().tree().await?;
    let all = cards(&state, p).await?;
    let mut order = std::collections::HashMap::new();
    for (i, id) in tree.subtree(within).into_iter().enumerate() {
        order.insert(id, i);
    }
    let mut mine: Vec<ScoreCard> = all
        .into_iter()
        .filter(|c| order.contains_key(&c.org))
        .collect();
    mine.sort_by_key(|c| order[&c.org]);
    Ok(Json(offset_page(named(&state, mine).await?, pg)))
}

/// One org's card and the ranking of its direct sub-units.
#[derive(Debug, Serialize)]
pub struct OrgScore {
    /// The org's card (its `rank` of `siblings` is among its own siblings).
    pub card: NamedCard,
    /// Its direct sub-units, best first.
    pub ranking: Vec<NamedCard>,
}

/// One org's score for a period with the explanation, and the ranking of its sub-units.
#[utoipa::path(get, path = "/api/v1/scores/{org}", tag = "scores", params(("org" = i64, Path), ScoreQuery),
    responses((status = 200, description = "The card and the ranking", body = Object), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(org): ApiPath<i64>,
    ApiQuery(q): ApiQuery<ScoreQuery>,
) -> AppResult<Json<OrgScore>> {
    if q.within.is_some() || q.limit.is_some() || q.after.is_some() {
        return Err(AppError::bad_field("within", "only period applies here"));
    }
    let org = scope::org(&state, &caller, OrgId(org), Action::ReadLoop).await?;
    let p = period(&state, q.period.as_deref())?;
    let all = cards(&state, p).await?;
    let card = all
        .iter()
        .find(|c| c.org == org.id)
        .cloned()
        .ok_or_else(|| AppError::not_found(format!("score of org {} for {p}", org.id)))?;
    let mut ranking: Vec<ScoreCard> = all.into_iter().filter(|c| c.org != org.id).collect();
    let tree = state.loop_service().tree().await?;
    let children = tree.children(org.id).to_vec();
    ranking.retain(|c| children.contains(&c.org));
    ranking.sort_by_key(|c| (c.rank, c.org));
    let mut named_cards = named(&state, vec![card]).await?;
    Ok(Json(OrgScore {
        card: named_cards.remove(0),
        ranking: named(&state, ranking).await?,
    }))
}
