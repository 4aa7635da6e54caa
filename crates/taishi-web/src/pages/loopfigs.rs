//! The closed loop's figures for the dashboard and the big screen: open findings by severity, notices by
//! state, overdue notices, 30- and 90-day trends, the riskiest sub-organisations, the latest alerts and
//! website availability. Everything is read for the caller's subtree only.

use super::notices::STATES;
use crate::ctx::{Ctx, WebState};
use crate::error::{WebError, WebResult};
use crate::i18n::Tr;
use crate::layout::{SEVERITIES, sev_colour};
use crate::svg::{self, Item, Series, Svg};
use jiff::{SignedDuration, Timestamp};
use taishi_model::finding::Finding;
use taishi_model::notice::NoticeState;
use taishi_model::{FindingSource, Org, OrgFilter, OrgId, Page, Severity};
use taishi_store::{FindingQuery, NoticeQuery};

/// Weight of each severity in the "riskiest organisations" ranking.
fn weight(s: Severity) -> u64 {
    match s {
        Severity::Critical => 10,
        Severity::High => 5,
        Severity::Medium => 2,
        Severity::Low => 1,
        Severity::Info => 0,
    }
}

/// A sub-organisation and its open findings.
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
    /// Open findings at the end of each of the last 90 days (oldest first), with day labels.
    pub trend: Vec<(Timestamp, u64, u64)>,
    /// Direct sub-organisations by weighted open findings, riskiest first.
    pub risky: Vec<RiskRow>,
    /// The newest detection findings.
    pub alerts: Vec<Finding>,
    /// Websites with an open availability finding.
    pub sites_down: Vec<Finding>,
}

fn store_err(e: taishi_store::StoreError) -> WebError {
    WebError::App(e.into())
}

impl LoopFigures {
    /// Reads the figures for `root` (already checked to be the caller's scope).
    pub async fn load(state: &WebState, _ctx: &Ctx, root: OrgId) -> WebResult<LoopFigures> {
        let store = state.app.store();
        let now = state.app.now();
        let q = FindingQuery {
            within: Some(root),
            statuses: vec!["open".into()],
            limit: super::findings::READ_CAP,
        };
        let open_findings = store.list_findings(&q).await.map_err(store_err)?;
        let mut open = [0u64; 5];
        for f in &open_findings {
            open[sev_index(f.severity)] += 1;
        }
        let mut alerts: Vec<Finding> = open_findings
            .iter()
            .filter(|f| f.source == FindingSource::Detection)
            .take(6)
            .cloned()
            .collect();
        alerts.sort_by_key(|f| std::cmp::Reverse(f.last_seen));
        let sites_down: Vec<Finding> = open_findings
            .iter()
            .filter(|f| f.check.starts_with("availability."))
            .take(8)
            .cloned()
            .collect();
        let notices = store
            .list_notices(&NoticeQuery {
                within: Some(root),
                live_only: false,
            })
            .await
            .map_err(store_err)?;
        let overdue = notices.iter().filter(|n| n.is_overdue(now)).count() as u64;
        let by_state = STATES
            .iter()
            .map(|s| (*s, notices.iter().filter(|n| n.state == *s).count() as u64))
            .collect();
        let facts = store.finding_facts(Some(root)).await.map_err(store_err)?;
        let mut trend = Vec::with_capacity(90);
        for back in (0..90).rev() {
            let day_end = now
                .checked_sub(SignedDuration::from_hours(24 * back))
                .unwrap_or(now);
            let day_start = day_end
                .checked_sub(SignedDuration::from_hours(24))
                .unwrap_or(day_end);
            let open_then = facts.iter().filter(|f| f.open_at(day_end)).count() as u64;
            let new = facts
                .iter()
                .filter(|f| {
                    f.spans
                        .first()
                        .is_some_and(|s| s.0 > day_start && s.0 <= day_end)
                })
                .count() as u64;
            trend.push((day_end, open_then, new));
        }
        let kids = store
            .list_orgs(
                &OrgFilter {
                    parent: Some(root),
                    ..OrgFilter::default()
                },
                Page::first(50),
            )
            .await
            .map_err(store_err)?;
        let mut risky = Vec::new();
        for org in kids.items {
            let q = FindingQuery {
                within: Some(org.id),
                statuses: vec!["open".into()],
                limit: super::findings::READ_CAP,
            };
            let mut by_sev = [0u64; 5];
            for f in store.list_findings(&q).await.map_err(store_err)? {
                by_sev[sev_index(f.severity)] += 1;
            }
            let risk = SEVERITIES
                .iter()
                .zip(by_sev)
                .map(|(s, n)| weight(*s) * n)
                .sum();
            if risk > 0 {
                risky.push(RiskRow { org, by_sev, risk });
            }
        }
        risky.sort_by_key(|r| std::cmp::Reverse(r.risk));
        risky.truncate(8);
        Ok(LoopFigures {
            open,
            notices: by_state,
            overdue,
            trend,
            risky,
            alerts,
            sites_down,
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

    /// The trend over the last `days` days: open findings and new findings per day.
    pub fn trend_line(&self, tr: &Tr, days: usize) -> Svg {
        let tail = &self.trend[self.trend.len().saturating_sub(days)..];
        let labels: Vec<String> = tail.iter().map(|(t, _, _)| tr.day(t)).collect();
        let series = vec![
            Series {
                name: tr.t("dash.open_findings").to_owned(),
                colour: "#b91c1c",
                points: tail.iter().map(|p| p.1 as f64).collect(),
            },
            Series {
                name: tr.t("dash.new_findings").to_owned(),
                colour: "#2563eb",
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
