//! Rankings (评价排名): the score cards of the caller's subtree for a month, quarter or year (by default
//! the last complete month) — score, grade, rank among siblings, change against the previous period,
//! sortable — and each org's indicator breakdown: per indicator the sub-score, the points it cost and
//! why.
//!
//! The cards come from the scores API's own [`scores::cards`] (stored cards for closed periods,
//! recomputed for the running one), so the console and `/api/v1/scores` always agree; the subtree and
//! the org page use the API's scope checks.

use crate::ctx::{Ctx, WebState};
use crate::error::{WebError, WebResult};
use crate::layout::{Shell, html};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use taishi_loop::score::{IndicatorResult, ScoreCard};
use taishi_model::OrgId;
use taishi_model::indicator::Period;
use taishi_server::AppError;
use taishi_server::api::{scope, scores};
use taishi_server::policy::Action;

/// Query of the ranking pages.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct RankQuery {
    /// `2026-10`, `2026-Q4` or `2026`; default the last complete month.
    pub period: Option<String>,
    /// Subtree root (list only); default the caller's scope.
    pub org: Option<i64>,
    /// `tree` (default), `score`, `change`, `rank` or `name`.
    pub sort: Option<String>,
    /// Reverse the sort's natural direction.
    pub rev: Option<bool>,
}

/// A period the selector offers, with its label.
#[derive(Debug, Clone)]
pub struct PeriodOption {
    /// `2026-10`.
    pub value: String,
    /// `2026年10月` / `Oct 2026`.
    pub label: String,
    /// The one shown.
    pub on: bool,
}

/// The period selector's groups: months, quarters, years (newest first, the running one marked).
#[derive(Debug, Clone)]
pub struct PeriodChoice {
    /// Group label key (`rank.months` …).
    pub key: &'static str,
    /// Its periods.
    pub options: Vec<PeriodOption>,
}

/// The label of a period in the page's language.
pub fn period_label(ctx: &Ctx, p: Period) -> String {
    match p {
        Period::Month(y, m) => ctx.tr.f("rank.p_month", &[("y", &y), ("m", &m)]),
        Period::Quarter(y, q) => ctx.tr.f("rank.p_quarter", &[("y", &y), ("q", &q)]),
        Period::Year(y) => ctx.tr.f1("rank.p_year", "y", y),
    }
}

/// The period asked for, or the last complete month.
fn chosen(state: &WebState, q: Option<&str>) -> WebResult<(Period, Period)> {
    let today = state.loops().policy().calendar.date_of(state.app.now());
    let this_month = Period::Month(today.year(), today.month());
    let p = match q.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => s
            .parse::<Period>()
            .map_err(|e| AppError::bad_field("period", e.to_string()))?,
        None => this_month.prev(),
    };
    Ok((p, this_month))
}

/// The period selector with `shown` selected (default: the last complete month).
pub fn choices_for(
    state: &WebState,
    ctx: &Ctx,
    shown: Option<Period>,
) -> WebResult<Vec<PeriodChoice>> {
    let (last_complete, this_month) = chosen(state, None)?;
    Ok(choices(ctx, shown.unwrap_or(last_complete), this_month))
}

fn choices(ctx: &Ctx, shown: Period, this_month: Period) -> Vec<PeriodChoice> {
    let date = this_month.first_day();
    let now_q = Period::Quarter(0, 1).containing(date);
    let now_y = Period::Year(date.year());
    let group = |key, newest: Period, n: usize| PeriodChoice {
        key,
        options: newest
            .trailing(n)
            .into_iter()
            .rev()
            .map(|p| PeriodOption {
                value: p.to_string(),
                label: if p == newest {
                    ctx.tr.f1("rank.running", "p", period_label(ctx, p))
                } else {
                    period_label(ctx, p)
                },
                on: p == shown,
            })
            .collect(),
    };
    vec![
        group("rank.months", this_month, 13),
        group("rank.quarters", now_q, 8),
        group("rank.years", now_y, 4),
    ]
}

/// One org's row of the ranking.
#[derive(Debug, Clone)]
pub struct RankRow {
    /// Its card.
    pub card: ScoreCard,
    /// Org name.
    pub name: String,
    /// Depth below the subtree root (for indentation in tree order).
    pub depth: usize,
    /// Change against the previous period, rounded to one decimal; `None` without a previous score.
    pub change: Option<f64>,
}

impl RankRow {
    /// The indentation of the name, in spaces of a fixed-width ideographic blank.
    pub fn indent(&self) -> String {
        "\u{3000}".repeat(self.depth)
    }
}

#[derive(Template)]
#[template(path = "rankings.html")]
struct ListPage {
    s: Shell,
    root: String,
    period: String,
    period_value: String,
    choices: Vec<PeriodChoice>,
    rows: Vec<RankRow>,
    sort: String,
    rev: bool,
    org: Option<i64>,
}

impl ListPage {
    /// The link that sorts by `key` (the same key again flips the direction).
    fn sort_link(&self, key: &str) -> String {
        let mut p: Vec<(&str, String)> = vec![("period", self.period_value.clone())];
        if let Some(o) = self.org {
            p.push(("org", o.to_string()));
        }
        p.push(("sort", key.to_owned()));
        if self.sort == key && !self.rev {
            p.push(("rev", "true".into()));
        }
        format!(
            "/rankings?{}",
            serde_urlencoded::to_string(&p).unwrap_or_default()
        )
    }

    /// `▲`/`▼` on the column the table is sorted by.
    fn arrow(&self, key: &str) -> &'static str {
        match (self.sort == key, self.rev) {
            (false, _) => "",
            (true, false) => " ▾",
            (true, true) => " ▴",
        }
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn sort_rows(rows: &mut [RankRow], sort: &str, rev: bool) {
    let by = |a: f64, b: f64| a.total_cmp(&b);
    match sort {
        // Natural directions: best score first, biggest drop first, rank 1 first, names A–Z.
        "score" => rows.sort_by(|a, b| by(b.card.subtree, a.card.subtree)),
        "change" => rows.sort_by(|a, b| {
            by(
                a.change.unwrap_or(f64::INFINITY),
                b.change.unwrap_or(f64::INFINITY),
            )
        }),
        "rank" => rows.sort_by_key(|r| (r.depth, r.card.rank)),
        "name" => rows.sort_by(|a, b| a.name.cmp(&b.name)),
        _ => {}
    }
    if rev {
        rows.reverse();
    }
}

/// The cards of `p`, as the scores API serves them.
async fn cards_of(state: &WebState, p: Period) -> WebResult<Vec<ScoreCard>> {
    Ok(scores::cards(&state.app, p).await?)
}

/// `GET /rankings`.
pub async fn list(
    State(state): State<WebState>,
    ctx: Ctx,
    Query(q): Query<RankQuery>,
) -> WebResult<Response> {
    let root = scope::within(&state.app, &ctx.caller, q.org.map(OrgId), Action::ReadLoop).await?;
    let (p, this_month) = chosen(&state, q.period.as_deref())?;
    let tree = state.loops().tree().await?;
    let cards = cards_of(&state, p).await?;
    let base = tree.tier(root) as usize;
    let mut rows: Vec<RankRow> = tree
        .subtree(root)
        .into_iter()
        .filter_map(|id| {
            let card = cards.iter().find(|c| c.org == id)?.clone();
            Some(RankRow {
                name: tree
                    .get(id)
                    .map_or_else(|| id.to_string(), |n| n.name.clone()),
                depth: (tree.tier(id) as usize).saturating_sub(base),
                change: card.change().map(round1),
                card,
            })
        })
        .collect();
    let sort = q.sort.clone().unwrap_or_else(|| "tree".into());
    let rev = q.rev == Some(true);
    sort_rows(&mut rows, &sort, rev);
    let root_name = tree.get(root).map(|n| n.name.clone()).unwrap_or_default();
    let s = Shell::new(&state, &ctx, "/rankings", ctx.tr.t("nav.rankings"));
    html(&ListPage {
        period: period_label(&ctx, p),
        period_value: p.to_string(),
        choices: choices(&ctx, p, this_month),
        root: root_name,
        org: q.org,
        s,
        rows,
        sort,
        rev,
    })
}

/// The loop's explanation of an indicator (`open: 2 critical, 1 high`, `3 of 4 on time`, …) in the
/// page's language, through the `rank_why` messages; text of any other shape is shown as it is.
pub fn explain(tr: &crate::i18n::Tr, detail: &str) -> String {
    let d = detail.trim();
    let fixed = match d {
        "no open findings" => Some("rank_why.no_open"),
        "no notice due in the period" => Some("rank_why.none_due"),
        "no notice closed in the period" => Some("rank_why.none_closed"),
        "no availability data" => Some("rank_why.no_availability"),
        _ => None,
    };
    if let Some(key) = fixed {
        return tr.t(key).to_owned();
    }
    if let Some(list) = d.strip_prefix("open: ") {
        let parts: Option<Vec<String>> = list
            .split(", ")
            .map(|p| {
                let (n, sev) = p.split_once(' ')?;
                let sev: taishi_model::Severity = sev.parse().ok()?;
                let word = tr.word(sev.as_str(), sev.label_zh());
                Some(tr.f("rank_why.count", &[("n", &n), ("what", &word)]))
            })
            .collect();
        if let Some(parts) = parts {
            return tr.f1("rank_why.open", "list", parts.join(tr.t("rank_why.sep")));
        }
    }
    let number = |s: &str| s.parse::<f64>().is_ok();
    if let Some(n) = d.strip_suffix(" overdue notice(s)").filter(|n| number(n)) {
        return tr.f1("rank_why.overdue", "n", n);
    }
    if let Some(n) = d
        .strip_suffix(" failed verification(s)")
        .filter(|n| number(n))
    {
        return tr.f1("rank_why.failed", "n", n);
    }
    if let Some((a, b)) = d
        .strip_suffix(" on time")
        .and_then(|r| r.split_once(" of "))
        .filter(|(a, b)| number(a) && number(b))
    {
        return tr.f("rank_why.on_time", &[("a", &a), ("b", &b)]);
    }
    if let Some((days, n)) = d
        .strip_prefix("mean ")
        .and_then(|r| r.strip_suffix(" notice(s)"))
        .and_then(|r| r.split_once(" days over "))
        .filter(|(a, b)| number(a) && number(b))
    {
        return tr.f("rank_why.mean", &[("days", &days), ("n", &n)]);
    }
    if let Some(pct) = d
        .strip_prefix("availability ")
        .and_then(|r| r.strip_suffix('%'))
    {
        return tr.f1("rank_why.availability", "pct", pct);
    }
    if let Some(key) = d.strip_prefix("no ").and_then(|r| r.strip_suffix(" data")) {
        return tr.f1("rank_why.no_metric", "key", key);
    }
    d.to_owned()
}

/// One indicator of the breakdown, with the width of its bar.
#[derive(Debug, Clone)]
pub struct IndicatorRow {
    /// The loop's result.
    pub r: IndicatorResult,
    /// Name in the page's language.
    pub name: String,
    /// Bar width (0–120 px) for the points lost.
    pub bar: u32,
    /// Why, in the page's language.
    pub why: String,
}

#[derive(Template)]
#[template(path = "org_score.html")]
struct OrgPage {
    s: Shell,
    name: String,
    card: ScoreCard,
    change: Option<f64>,
    period: String,
    period_value: String,
    choices: Vec<PeriodChoice>,
    indicators: Vec<IndicatorRow>,
    lost: f64,
    children: Vec<RankRow>,
}

/// `GET /rankings/{org}`: one org's card with its indicator breakdown and its sub-units' ranking.
pub async fn org_score(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<RankQuery>,
) -> WebResult<Response> {
    let org = scope::org(&state.app, &ctx.caller, OrgId(id), Action::ReadLoop).await?;
    let (p, this_month) = chosen(&state, q.period.as_deref())?;
    let cards = cards_of(&state, p).await?;
    let card = cards
        .iter()
        .find(|c| c.org == org.id)
        .cloned()
        .ok_or_else(|| WebError::App(AppError::not_found(format!("score of org {id} for {p}"))))?;
    let tree = state.loops().tree().await?;
    let mut children: Vec<RankRow> = tree
        .children(org.id)
        .iter()
        .filter_map(|c| {
            let card = cards.iter().find(|x| x.org == *c)?.clone();
            Some(RankRow {
                name: tree
                    .get(*c)
                    .map_or_else(|| c.to_string(), |n| n.name.clone()),
                depth: 0,
                change: card.change().map(round1),
                card,
            })
        })
        .collect();
    sort_rows(&mut children, "rank", false);
    let lost: f64 = card.breakdown.iter().map(|r| r.points_lost).sum();
    let most = card
        .breakdown
        .iter()
        .map(|r| r.points_lost)
        .fold(0.0_f64, f64::max);
    let indicators = card
        .breakdown
        .iter()
        .map(|r| IndicatorRow {
            name: ctx.tr.word(&r.name_en, &r.name_zh).to_owned(),
            why: explain(&ctx.tr, &r.detail),
            bar: if most > 0.0 {
                (r.points_lost / most * 120.0).round() as u32
            } else {
                0
            },
            r: r.clone(),
        })
        .collect();
    let s = Shell::new(&state, &ctx, "/rankings", org.name.clone());
    html(&OrgPage {
        s,
        name: org.name,
        change: card.change().map(round1),
        card,
        period: period_label(&ctx, p),
        period_value: p.to_string(),
        choices: choices(&ctx, p, this_month),
        indicators,
        lost: round1(lost),
        children,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use taishi_model::indicator::Grade;

    fn row(org: i64, depth: usize, score: f64, rank: u32, change: Option<f64>) -> RankRow {
        RankRow {
            card: ScoreCard {
                org: OrgId(org),
                period: Period::Month(2026, 10),
                own: score,
                subtree: score,
                grade: Grade::of(score),
                rank,
                siblings: 3,
                previous: change.map(|c| score - c),
                breakdown: Vec::new(),
            },
            name: format!("org{org}"),
            depth,
            change,
        }
    }

    fn order(rows: &[RankRow]) -> Vec<i64> {
        rows.iter().map(|r| r.card.org.0).collect()
    }

    #[test]
    fn explanations_read_in_both_languages_and_unknown_text_stays() {
        use crate::i18n::{Catalogues, Lang, Tr};
        let cats = std::sync::Arc::new(Catalogues::embedded().unwrap());
        let zh = Tr::new(Lang::ZhCn, cats.clone(), jiff::tz::TimeZone::UTC);
        let en = Tr::new(Lang::En, cats, jiff::tz::TimeZone::UTC);
        for (detail, chinese) in [
            ("open: 2 critical, 1 high", "未整改：严重 2 个，高危 1 个"),
            ("no open findings", "无未整改问题"),
            ("3 overdue notice(s)", "逾期未整改通报 3 份"),
            ("3 of 4 on time", "到期通报 4 份，按期整改 3 份"),
            ("mean 2.5 days over 4 notice(s)", "4 份通报平均整改 2.5 天"),
            ("0 failed verification(s)", "复核不通过 0 次"),
            ("availability 99.50%", "网站可用率 99.50%"),
            ("no tls_grade data", "无 tls_grade 数据"),
            ("tls_grade = 80", "tls_grade = 80"),
            ("open: lots", "open: lots"),
        ] {
            assert_eq!(explain(&zh, detail), chinese, "{detail}");
            assert_eq!(
                explain(&en, detail),
                detail,
                "English is the loop's own text"
            );
        }
    }

    #[test]
    fn sorts_have_natural_directions_and_flip() {
        let mut rows = vec![
            row(1, 0, 80.0, 1, Some(-2.0)),
            row(2, 1, 95.0, 1, Some(5.0)),
            row(3, 1, 60.0, 2, Some(-20.0)),
            row(4, 1, 70.0, 3, None),
        ];
        sort_rows(&mut rows, "score", false);
        assert_eq!(order(&rows), [2, 1, 4, 3]);
        sort_rows(&mut rows, "change", false);
        assert_eq!(
            order(&rows),
            [3, 1, 2, 4],
            "biggest drop first, unknown last"
        );
        sort_rows(&mut rows, "score", true);
        assert_eq!(order(&rows), [3, 4, 1, 2]);
        sort_rows(&mut rows, "rank", false);
        assert_eq!(order(&rows), [1, 2, 3, 4]);
    }
}
