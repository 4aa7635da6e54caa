//! Bulletins (常态化通报): the periodic report for a subtree and period — headline figures, new and closed
//! findings by severity, overdue notices by org, the ranking table with grades and changes, the worst
//! problems and trend charts — built as data by [`build_bulletin`] and rendered by [`render_html`]
//! (self-contained, printable, charts as inline SVG, everything escaped), [`render_markdown`] and
//! [`render_csv`].

mod render;
mod schedule;
mod svg;

pub use render::{render_csv, render_html, render_markdown};
pub use schedule::{BulletinSchedule, FORMATS, PeriodKind, ScheduleError};

use crate::score::{FindingFact, ScoreCard};
use crate::tree::OrgTree;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use taishi_model::finding::Finding;
use taishi_model::indicator::{Grade, Period};
use taishi_model::notice::Notice;
use taishi_model::{OrgId, Severity};

/// Counts per severity, most severe first (critical, high, medium, low, info).
pub type BySeverity = [u64; 5];

/// The headline figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Headline {
    /// Orgs in the subtree.
    pub orgs: u64,
    /// Subtree score of the root.
    pub score: f64,
    /// Its grade.
    pub grade: Grade,
    /// Change against the previous period.
    pub change: Option<f64>,
    /// Findings open at the end of the period.
    pub open_findings: u64,
    /// Findings opened in the period.
    pub new_findings: u64,
    /// Findings closed in the period.
    pub closed_findings: u64,
    /// Notices issued in the period.
    pub notices_issued: u64,
    /// Notices closed in the period.
    pub notices_closed: u64,
    /// Notices overdue at the end of the period.
    pub notices_overdue: u64,
}

/// One overdue notice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverdueRow {
    /// Org name.
    pub org: String,
    /// Notice number.
    pub number: String,
    /// Title.
    pub title: String,
    /// Deadline.
    pub due: Timestamp,
    /// Whole days past the deadline at the end of the period.
    pub days_overdue: i64,
    /// Escalation level reached.
    pub escalation: u8,
}

/// One row of the ranking table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankRow {
    /// Org.
    pub org: OrgId,
    /// Org name.
    pub name: String,
    /// Parent's name.
    pub parent: String,
    /// Subtree score.
    pub score: f64,
    /// Grade.
    pub grade: Grade,
    /// Rank among siblings.
    pub rank: u32,
    /// Change against the previous period.
    pub change: Option<f64>,
    /// The indicator that cost most, with points.
    pub main_loss: String,
}

/// One of the worst open problems.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProblemRow {
    /// Org name.
    pub org: String,
    /// Finding title.
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// First seen.
    pub first_seen: Timestamp,
    /// Days open at the end of the period.
    pub days_open: i64,
}

/// One point of the trend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendPoint {
    /// Period label.
    pub period: String,
    /// Root subtree score.
    pub score: f64,
    /// Findings opened.
    pub new_findings: u64,
    /// Findings closed.
    pub closed_findings: u64,
}

/// A bulletin as data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bulletin {
    /// Root org.
    pub org: OrgId,
    /// Root org name.
    pub org_name: String,
    /// Period.
    pub period: Period,
    /// When generated.
    pub generated_at: Timestamp,
    /// Headline.
    pub headline: Headline,
    /// New findings by severity.
    pub new_by_severity: BySeverity,
    /// Closed findings by severity.
    pub closed_by_severity: BySeverity,
    /// Open at period end by severity.
    pub open_by_severity: BySeverity,
    /// Overdue notices, most overdue first.
    pub overdue: Vec<OverdueRow>,
    /// Ranking, best first.
    pub ranking: Vec<RankRow>,
    /// Worst open problems.
    pub worst: Vec<ProblemRow>,
    /// Trend, oldest first (ends with this period).
    pub trend: Vec<TrendPoint>,
}

/// Everything a bulletin is built from. Findings and notices should be the subtree's; others are
/// ignored.
#[derive(Debug, Clone, Copy)]
pub struct BulletinInput<'a> {
    /// The tree.
    pub tree: &'a OrgTree,
    /// Root of the bulletin.
    pub root: OrgId,
    /// Period.
    pub period: Period,
    /// Authority's time zone.
    pub tz: &'a TimeZone,
    /// Findings.
    pub findings: &'a [Finding],
    /// Notices.
    pub notices: &'a [Notice],
    /// Score cards of the period (all orgs of the subtree).
    pub scores: &'a [ScoreCard],
    /// Root subtree score per trailing period, oldest first, ending with `period`.
    pub score_trend: &'a [(Period, f64)],
    /// When generated.
    pub now: Timestamp,
}

fn sev_idx(s: Severity) -> usize {
    4 - s as usize
}

fn days(d: jiff::SignedDuration) -> i64 {
    d.as_secs() / 86_400
}

/// Builds the bulletin data.
pub fn build_bulletin(i: BulletinInput<'_>) -> Bulletin {
    let in_tree = |o: OrgId| i.tree.covers(i.root, o);
    let name = |o: OrgId| {
        i.tree
            .get(o)
            .map_or_else(|| o.to_string(), |n| n.name.clone())
    };
    let (start, end) = i.period.bounds(i.tz);
    let last = end
        .checked_sub(jiff::SignedDuration::from_millis(1))
        .unwrap_or(end);
    let facts: Vec<(&Finding, FindingFact)> = i
        .findings
        .iter()
        .filter(|f| in_tree(f.org))
        .map(|f| (f, FindingFact::from_finding(f)))
        .collect();
    let (mut new_s, mut closed_s, mut open_s) = ([0u64; 5], [0u64; 5], [0u64; 5]);
    for (f, fact) in &facts {
        let k = sev_idx(f.severity);
        new_s[k] += u64::from(fact.opened_within(start, end));
        closed_s[k] += u64::from(fact.closed_within(start, end));
        open_s[k] += u64::from(fact.open_at(last));
    }
    let notices: Vec<&Notice> = i.notices.iter().filter(|n| in_tree(n.org)).collect();
    let within = |t: Option<Timestamp>| t.is_some_and(|t| start <= t && t < end);
    let mut overdue: Vec<OverdueRow> = notices
        .iter()
        .filter(|n| {
            // Overdue at the end of the period: issued, past the deadline, not closed or cancelled by then.
            n.issued_at.is_some_and(|t| t < end)
                && n.rectify_due.is_some_and(|d| d < last)
                && n.closed_at.is_none_or(|c| c > last)
        })
        .map(|n| {
            let due = n.rectify_due.unwrap_or(last);
            OverdueRow {
                org: name(n.org),
                number: n.number.to_string(),
                title: n.title.clone(),
                due,
                days_overdue: days(last.duration_since(due)),
                escalation: n.escalations.iter().filter(|e| e.at <= last).count() as u8,
            }
        })
        .collect();
    overdue.sort_by(|a, b| {
        b.days_overdue
            .cmp(&a.days_overdue)
            .then(a.number.cmp(&b.number))
    });
    let root_card = i.scores.iter().find(|c| c.org == i.root);
    let mut ranking: Vec<RankRow> = i
        .scores
        .iter()
        .filter(|c| c.org != i.root && in_tree(c.org))
        .map(|c| {
            let main = c
                .breakdown
                .iter()
                .max_by(|a, b| a.points_lost.total_cmp(&b.points_lost));
            RankRow {
                org: c.org,
                name: name(c.org),
                parent: i
                    .tree
                    .get(c.org)
                    .and_then(|n| n.parent)
                    .map(name)
                    .unwrap_or_default(),
                score: c.subtree,
                grade: c.grade,
                rank: c.rank,
                change: c.change(),
                main_loss: main
                    .filter(|m| m.points_lost >= 0.05)
                    .map(|m| format!("{} −{:.1}", m.name_zh, m.points_lost))
                    .unwrap_or_default(),
            }
        })
        .collect();
    ranking.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.name.cmp(&b.name)));
    let mut worst: Vec<ProblemRow> = facts
        .iter()
        .filter(|(f, fact)| fact.open_at(last) && f.severity >= Severity::Medium)
        .map(|(f, _)| ProblemRow {
            org: name(f.org),
            title: f.title.clone(),
            severity: f.severity,
            first_seen: f.first_seen,
            days_open: days(last.duration_since(f.first_seen)),
        })
        .collect();
    worst.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.days_open.cmp(&a.days_open))
    });
    worst.truncate(10);
    let trend = i
        .score_trend
        .iter()
        .map(|(p, score)| {
            let (a, b) = p.bounds(i.tz);
            TrendPoint {
                period: p.to_string(),
                score: *score,
                new_findings: facts.iter().filter(|(_, f)| f.opened_within(a, b)).count() as u64,
                closed_findings: facts.iter().filter(|(_, f)| f.closed_within(a, b)).count() as u64,
            }
        })
        .collect();
    let score = root_card.map_or(100.0, |c| c.subtree);
    Bulletin {
        org: i.root,
        org_name: name(i.root),
        period: i.period,
        generated_at: i.now,
        headline: Headline {
            orgs: i.tree.subtree(i.root).len() as u64,
            score,
            grade: Grade::of(score),
            change: root_card.and_then(ScoreCard::change),
            open_findings: open_s.iter().sum(),
            new_findings: new_s.iter().sum(),
            closed_findings: closed_s.iter().sum(),
            notices_issued: notices.iter().filter(|n| within(n.issued_at)).count() as u64,
            notices_closed: notices
                .iter()
                .filter(|n| {
                    n.state == taishi_model::notice::NoticeState::Closed && within(n.closed_at)
                })
                .count() as u64,
            notices_overdue: overdue.len() as u64,
        },
        new_by_severity: new_s,
        closed_by_severity: closed_s,
        open_by_severity: open_s,
        overdue,
        ranking,
        worst,
        trend,
    }
}

#[cfg(test)]
mod tests;
