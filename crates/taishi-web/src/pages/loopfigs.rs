//! The closed loop's figures for the dashboard and the big screen: open findings by severity, notices by
//! state, overdue notices, 30- and 90-day trends, the riskiest organisations, the latest alerts and
//! website availability. Everything is read for the caller's subtree only, and every figure is an
//! aggregate the store computes in SQL (GROUP BY, COUNT, a short keyset page): the page's cost does not
//! grow with the number of findings held in memory, because none are.

use super::notices::STATES;
use crate::ctx::{Ctx, WebState};
use crate::error::{WebError, WebResult};
use crate::i18n::Tr;
use crate::layout::{SEVERITIES, sev_colour};
use crate::svg::{self, Item, Series, Svg};
use jiff::{SignedDuration, Timestamp, ToSpan};
use taishi_model::finding::Finding;
use taishi_model::notice::NoticeState;
use taishi_model::{FindingSource, Org, OrgId, Severity};
use taishi_store::{FindingQuery, FindingSort};

/// Weight of each severity in the "riskiest organisations" ranking, indexed by `Severity as usize`
/// (info, low, medium, high, critical).
const RISK_WEIGHTS: [u64; 5] = [0, 1, 2, 5, 10];

/// Days of trend kept (the 30-day chart is the tail of the 90-day one).
const TREND_DAYS: u32 = 90;

/// An organisation and its open findings.
#[derive(Debug, Clone)]
pub struct RiskRow {
    /// The org.
    pub org: Org,
    /// Open findings by severity, worst first.
    pub by_sev: [u64; 5],
    /// Weighted sum.
    pub risk: u64,
}

/// The loop's figures.
#[derive(Debug, Clone, Default)]
pub struct LoopFigures {
    /// Open findings by severity, worst first.
    pub open: [u64; 5],
    /// Notices per state (in [`STATES`] order).
    pub notices: Vec<(NoticeState, u64)>,
    /// Live notices past a deadline.
    pub overdue: u64,
    /// Findings new and closed on each of the last 90 days (oldest first), with the day's start.
    pub trend: Vec<(Timestamp, u64, u64)>,
    /// Organisations by weighted open findings, riskiest first.
    pub risky: Vec<RiskRow>,
    /// The newest open detection findings.
    pub alerts: Vec<Finding>,
    /// Websites with an open availability finding (the newest few).
    pub sites_down: Vec<Finding>,
    /// How many availability findings are open.
    pub sites_down_total: u64,
}

fn store_err(e: taishi_store::StoreError) -> WebError {
    WebError::App(e.into())
}

/// Worst-first from the store's `Severity as usize` order.
fn worst_first(by_rank: [u64; 5]) -> [u64; 5] {
    let mut out = [0; 5];
    for (i, s) in SEVERITIES.iter().enumerate() {
        out[i] = by_rank[*s as usize];
    }
    out
}

impl LoopFigures {
    /// Reads the figures for `root` (already checked to be the caller's scope).
    pub async fn load(state: &WebState, _ctx: &Ctx, root: OrgId) -> WebResult<LoopFigures> {
        let store = state.app.store();
        let now = state.app.now();
        let within = Some(root);
        // The trend's first day starts at local midnight, TREND_DAYS - 1 days before today.
        let since = now
            .to_zoned_datetime(state.tz.clone())
            .start_of_day()
            .and_then(|d| d.checked_sub((i64::from(TREND_DAYS) - 1).days()))
            .map(|d| d.timestamp())
            .unwrap_or(now);
        let open_q = |limit| FindingQuery {
            within,
            statuses: vec!["open".into()],
            sort: FindingSort::LastSeen,
            limit,
            ..FindingQuery::default()
        };
        let alerts_q = FindingQuery {
            source: Some(FindingSource::Detection),
            ..open_q(6)
        };
        let down_q = FindingQuery {
            check_prefix: Some("availability.".into()),
            ..open_q(8)
        };
        let (open, by_state, overdue, days, risk, alerts, down, down_total) = tokio::try_join!(
            store.open_by_severity(within),
            store.notices_by_state(within),
            store.count_overdue_notices(within, now),
            store.findings_per_day(within, since, TREND_DAYS),
            store.riskiest_orgs(within, RISK_WEIGHTS, 8),
            store.page_findings(&alerts_q),
            store.page_findings(&down_q),
            store.count_findings(&down_q),
        )
        .map_err(store_err)?;
        let notices = STATES
            .iter()
            .map(|s| {
                let n = by_state
                    .iter()
                    .find(|(k, _)| k == s.as_str())
                    .map_or(0, |x| x.1);
                (*s, n)
            })
            .collect();
        let trend = days
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let day = since
                    .checked_add(SignedDuration::from_hours(24 * i as i64))
                    .unwrap_or(since);
                (day, d.new, d.closed)
            })
            .collect();
        let mut risky = Vec::with_capacity(risk.len());
        for r in risk {
            // An org deleted from the registry keeps its findings; it is left out of the table.
            if let Ok(org) = store.get_org(r.org).await {
                risky.push(RiskRow {
                    org,
                    by_sev: worst_first(r.by_severity),
                    risk: r.risk,
                });
            }
        }
        Ok(LoopFigures {
            open: worst_first(open),
            notices,
            overdue,
            trend,
            risky,
            alerts: alerts.items,
            sites_down: down.items,
            sites_down_total: down_total,
        })
    }

    /// Total open findings.
    pub fn open_total(&self) -> u64 {
        self.open.iter().sum()
    }

    /// Live notices (issued and not final).
    pub fn live_notices(&self) -> u64 {
        self.notices
            .iter()
            .filter(|(s, _)| s.is_live())
            .map(|(_, n)| n)
            .sum()
    }

    /// Open findings by severity as a donut, each slice linking to the filtered list.
    pub fn severity_donut(&self, tr: &Tr) -> Svg {
        let items: Vec<Item> = SEVERITIES
            .iter()
            .zip(self.open)
            .map(|(s, n)| Item {
                label: tr.word(s.as_str(), s.label_zh()).to_owned(),
                value: n as f64,
                colour: sev_colour(*s),
                href: Some(format!("/findings?severity={}", s.as_str())),
            })
            .collect();
        svg::donut(
            &items,
            tr.t("dash.open_findings"),
            tr.t("dash.open_by_severity"),
        )
    }

    /// Notices by state as bars, each linking to the filtered list.
    pub fn notice_bars(&self, tr: &Tr, width: u32) -> Svg {
        let items: Vec<Item> = self
            .notices
            .iter()
            .filter(|(s, _)| *s != NoticeState::Draft)
            .map(|(s, n)| Item {
                label: tr.tk("nstate", s.as_str()),
                value: *n as f64,
                colour: if matches!(s, NoticeState::Returned) {
                    "#ea580c"
                } else {
                    "#2563eb"
                },
                href: Some(format!("/notices?state={}", s.as_str())),
            })
            .collect();
        svg::bars(&items, width, tr.t("dash.notices_by_state"))
    }

    /// The trend over the last `days` days: findings new and closed per day.
    pub fn trend_line(&self, tr: &Tr, days: usize) -> Svg {
        let tail = &self.trend[self.trend.len().saturating_sub(days)..];
        let labels: Vec<String> = tail.iter().map(|(t, _, _)| tr.day(t)).collect();
        let series = vec![
            Series {
                name: tr.t("dash.new_findings").to_owned(),
                colour: "#b91c1c",
                points: tail.iter().map(|p| p.1 as f64).collect(),
            },
            Series {
                name: tr.t("dash.closed_findings").to_owned(),
                colour: "#16a34a",
                points: tail.iter().map(|p| p.2 as f64).collect(),
            },
        ];
        svg::line(&series, &labels, &tr.f1("dash.trend_days", "n", days))
    }
}

/// Position of a severity in worst-first arrays.
pub fn sev_index(s: Severity) -> usize {
    SEVERITIES.iter().position(|x| *x == s).unwrap_or(4)
}
