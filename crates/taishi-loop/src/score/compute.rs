//! Score computation: per org and period, from event dates, so any past period can be recomputed.

use super::config::{Indicator, IndicatorKind, IndicatorSystem, Rollup};
use crate::tree::OrgTree;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
pub use taishi_model::indicator::{FindingFact, NoticeFact};
use taishi_model::indicator::{Grade, Period};
use taishi_model::{OrgId, Severity};

/// Per-org metric values for one period (`availability`, `tls_grade`, `header_grade`,
/// `register_completeness`, manual keys).
pub type Metrics = HashMap<OrgId, HashMap<String, f64>>;

/// One indicator's result for one org: the sub-score and what it cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndicatorResult {
    /// Indicator id.
    pub id: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Weight as declared.
    pub weight: f64,
    /// Sub-score 0–100 (`None`: no data, left out).
    pub score: Option<f64>,
    /// Points of the 100 this indicator cost the org.
    pub points_lost: f64,
    /// Why (counts that produced the sub-score).
    pub detail: String,
}

/// One org's score for one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreCard {
    /// Org.
    pub org: OrgId,
    /// Period.
    pub period: Period,
    /// Own score, 0–100.
    pub own: f64,
    /// Subtree score after roll-up (equals `own` for a leaf).
    pub subtree: f64,
    /// Grade of the subtree score.
    pub grade: Grade,
    /// Rank among siblings by subtree score (1 = best).
    pub rank: u32,
    /// Number of siblings including itself.
    pub siblings: u32,
    /// Subtree score of the previous period, if computed.
    pub previous: Option<f64>,
    /// Per-indicator breakdown of the own score.
    pub breakdown: Vec<IndicatorResult>,
}

impl ScoreCard {
    /// Change against the previous period.
    pub fn change(&self) -> Option<f64> {
        self.previous.map(|p| self.subtree - p)
    }
}

/// Everything a score computation reads.
#[derive(Debug, Clone, Copy)]
pub struct ScoreInput<'a> {
    /// Findings.
    pub findings: &'a [FindingFact],
    /// Notices.
    pub notices: &'a [NoticeFact],
    /// Metrics for the period.
    pub metrics: &'a Metrics,
}

fn by_org<T>(items: &[T], org: impl Fn(&T) -> OrgId) -> HashMap<OrgId, Vec<&T>> {
    let mut m: HashMap<OrgId, Vec<&T>> = HashMap::new();
    for i in items {
        m.entry(org(i)).or_default().push(i);
    }
    m
}

fn sub_score(
    ind: &Indicator,
    open_counts: [u32; 5],
    notices: &[&NoticeFact],
    metrics: Option<&HashMap<String, f64>>,
    (start, end): (Timestamp, Timestamp),
) -> (Option<f64>, String) {
    let metric = |k: &str| {
        metrics
            .and_then(|m| m.get(k))
            .copied()
            .filter(|v| v.is_finite())
    };
    match &ind.kind {
        IndicatorKind::OpenFindings {
            caps,
            per_extra,
            floor,
        } => {
            let counts = open_counts;
            let mut score: f64 = 100.0;
            let mut capped = false;
            let mut parts = Vec::new();
            for s in Severity::ALL_DESC {
                let n = counts[s as usize];
                if n == 0 || s == Severity::Info {
                    continue;
                }
                parts.push(format!("{n} {}", s.as_str()));
                let extra = if capped { n } else { n - 1 };
                if !capped {
                    score = score.min(caps.get(s).unwrap_or(100.0));
                    capped = true;
                }
                score -= per_extra.get(s).unwrap_or(0.0) * f64::from(extra);
            }
            let detail = if parts.is_empty() {
                "no open findings".into()
            } else {
                format!("open: {}", parts.join(", "))
            };
            (Some(score.max(*floor)), detail)
        }
        IndicatorKind::OverdueNotices { per_notice } => {
            let n = notices
                .iter()
                .filter(|x| x.overdue_within(start, end))
                .count();
            (
                Some((100.0 - per_notice * n as f64).max(0.0)),
                format!("{n} overdue notice(s)"),
            )
        }
        IndicatorKind::OnTimeRectification => {
            let due: Vec<_> = notices
                .iter()
                .filter(|x| {
                    !x.cancelled
                        && x.issued_at.is_some()
                        && x.rectify_due.is_some_and(|d| start <= d && d < end)
                })
                .collect();
            if due.is_empty() {
                return (None, "no notice due in the period".into());
            }
            let on_time = due
                .iter()
                .filter(|x| x.closed_at.is_some_and(|c| Some(c) <= x.rectify_due))
                .count();
            (
                Some(100.0 * on_time as f64 / due.len() as f64),
                format!("{on_time} of {} on time", due.len()),
            )
        }
        IndicatorKind::MeanTimeToRectify {
            target_days,
            zero_days,
        } => {
            let days: Vec<f64> = notices
                .iter()
                .filter_map(|x| {
                    let (i, c) = (x.issued_at?, x.closed_at?);
                    (start <= c && c < end).then(|| c.duration_since(i).as_secs_f64() / 86_400.0)
                })
                .collect();
            if days.is_empty() {
                return (None, "no notice closed in the period".into());
            }
            let mean = days.iter().sum::<f64>() / days.len() as f64;
            let s = 100.0 * ((zero_days - mean) / (zero_days - target_days)).clamp(0.0, 1.0);
            (
                Some(s),
                format!("mean {mean:.1} days over {} notice(s)", days.len()),
            )
        }
        IndicatorKind::FailedVerifications { per_failure } => {
            let n: usize = notices
                .iter()
                .map(|x| {
                    x.returned_at
                        .iter()
                        .filter(|t| start <= **t && **t < end)
                        .count()
                })
                .sum();
            (
                Some((100.0 - per_failure * n as f64).max(0.0)),
                format!("{n} failed verification(s)"),
            )
        }
        IndicatorKind::Availability { floor_ratio } => match metric("availability") {
            None => (None, "no availability data".into()),
            Some(r) => (
                Some(100.0 * ((r - floor_ratio) / (1.0 - floor_ratio)).clamp(0.0, 1.0)),
                format!("availability {:.2}%", r * 100.0),
            ),
        },
        IndicatorKind::TlsGrade
        | IndicatorKind::HeaderGrade
        | IndicatorKind::RegisterCompleteness
        | IndicatorKind::Manual { .. } => {
            let (key, scale) = match &ind.kind {
                IndicatorKind::TlsGrade => ("tls_grade", 1.0),
                IndicatorKind::HeaderGrade => ("header_grade", 1.0),
                IndicatorKind::RegisterCompleteness => ("register_completeness", 100.0),
                IndicatorKind::Manual { key } => (key.as_str(), 1.0),
                _ => ("", 1.0),
            };
            match metric(key) {
                None => (None, format!("no {key} data")),
                Some(v) => (Some((v * scale).clamp(0.0, 100.0)), format!("{key} = {v}")),
            }
        }
    }
}

/// Open findings per org and severity at one instant (the last millisecond of a period).
trait OpenCounts {
    fn open_counts(&self, org: OrgId, at: Timestamp) -> [u32; 5];
}

/// The facts themselves, grouped by org: counted at any instant.
struct FactsByOrg<'a>(HashMap<OrgId, Vec<&'a FindingFact>>);

impl OpenCounts for FactsByOrg<'_> {
    fn open_counts(&self, org: OrgId, at: Timestamp) -> [u32; 5] {
        let mut counts = [0u32; 5];
        for f in self.0.get(&org).into_iter().flatten() {
            if f.open_at(at) {
                counts[f.severity as usize] += 1;
            }
        }
        counts
    }
}

/// Open findings per org and severity at a few instants, folded from finding facts page by page, so a
/// score computation need not hold every finding: what the open-findings indicator reads, nothing
/// more. [`OpenTally::for_period`] keeps the instants of a period and of its previous period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpenTally {
    at: Vec<Timestamp>,
    counts: HashMap<OrgId, Vec<[u32; 5]>>,
}

impl OpenTally {
    /// A tally at the last millisecond of `period` and of the period before it.
    pub fn for_period(period: Period, tz: &jiff::tz::TimeZone) -> OpenTally {
        OpenTally {
            at: vec![
                period_last(period.bounds(tz)),
                period_last(period.prev().bounds(tz)),
            ],
            counts: HashMap::new(),
        }
    }

    /// Counts the findings of `facts` that are open at each instant.
    pub fn add(&mut self, facts: &[FindingFact]) {
        for f in facts {
            for (i, at) in self.at.iter().enumerate() {
                if f.open_at(*at) {
                    let slot = self
                        .counts
                        .entry(f.org)
                        .or_insert_with(|| vec![[0; 5]; self.at.len()]);
                    slot[i][f.severity as usize] += 1;
                }
            }
        }
    }
}

impl OpenCounts for OpenTally {
    fn open_counts(&self, org: OrgId, at: Timestamp) -> [u32; 5] {
        let Some(i) = self.at.iter().position(|t| *t == at) else {
            return [0; 5];
        };
        self.counts.get(&org).map_or([0; 5], |c| c[i])
    }
}

/// The last millisecond of `[start, end)`: findings open then count against the period.
fn period_last((_, end): (Timestamp, Timestamp)) -> Timestamp {
    end.checked_sub(jiff::SignedDuration::from_millis(1))
        .unwrap_or(end)
}

/// Computes the own score of every org of the tree for `period` (bounds in the authority's zone).
fn own_scores(
    sys: &IndicatorSystem,
    tree: &OrgTree,
    open: &dyn OpenCounts,
    notices: &[NoticeFact],
    metrics: &Metrics,
    bounds: (Timestamp, Timestamp),
) -> HashMap<OrgId, (f64, Vec<IndicatorResult>)> {
    let notices = by_org(notices, |n| n.org);
    let empty_n = Vec::new();
    let last = period_last(bounds);
    let mut out = HashMap::with_capacity(tree.nodes().len());
    for node in tree.nodes() {
        let counts = open.open_counts(node.id, last);
        let n = notices.get(&node.id).unwrap_or(&empty_n);
        let m = metrics.get(&node.id);
        let mut results: Vec<IndicatorResult> = sys
            .indicators
            .iter()
            .map(|ind| {
                let (score, detail) = sub_score(ind, counts, n, m, bounds);
                IndicatorResult {
                    id: ind.id.clone(),
                    name_zh: ind.name_zh.clone(),
                    name_en: ind.name_en.clone(),
                    weight: ind.weight,
                    score,
                    points_lost: 0.0,
                    detail,
                }
            })
            .collect();
        let total_w: f64 = results
            .iter()
            .filter(|r| r.score.is_some())
            .map(|r| r.weight)
            .sum();
        let own = if total_w > 0.0 {
            for r in &mut results {
                r.points_lost = r.score.map_or(0.0, |s| r.weight * (100.0 - s) / total_w);
            }
            results
                .iter()
                .filter_map(|r| r.score.map(|s| r.weight * s))
                .sum::<f64>()
                / total_w
        } else {
            100.0
        };
        out.insert(node.id, (own, results));
    }
    out
}

fn rollup(
    rule: Rollup,
    tree: &OrgTree,
    own: &HashMap<OrgId, (f64, Vec<IndicatorResult>)>,
) -> HashMap<OrgId, f64> {
    let mut sub: HashMap<OrgId, f64> = HashMap::with_capacity(own.len());
    // Children before parents: reverse of a parents-first order over all roots.
    let mut order = Vec::with_capacity(own.len());
    for n in tree.nodes().iter().filter(|n| n.parent.is_none()) {
        order.extend(tree.subtree(n.id));
    }
    let mut sums: HashMap<OrgId, (f64, u32)> = HashMap::new();
    for &id in order.iter().rev() {
        let mine = own.get(&id).map_or(100.0, |o| o.0);
        let kids = tree.children(id);
        let v = if kids.is_empty() {
            sums.insert(id, (mine, 1));
            mine
        } else {
            let child = |k: &OrgId| sub.get(k).copied().unwrap_or(100.0);
            match rule {
                Rollup::Weighted { own_weight } => {
                    let mean = kids.iter().map(child).sum::<f64>() / kids.len() as f64;
                    own_weight * mine + (1.0 - own_weight) * mean
                }
                Rollup::Worst => kids.iter().map(child).fold(mine, f64::min),
                Rollup::MeanOfSubtree => {
                    let (s, c) = kids.iter().fold((mine, 1u32), |(s, c), k| {
                        let (ks, kc) = sums.get(k).copied().unwrap_or((100.0, 1));
                        (s + ks, c + kc)
                    });
                    sums.insert(id, (s, c));
                    s / f64::from(c)
                }
            }
        };
        sub.insert(id, v);
    }
    sub
}

/// Computes the score cards of every org in the tree for `period`, with ranks among siblings and, when
/// `previous` input is given, the change against the previous period.
pub fn compute_scores(
    sys: &IndicatorSystem,
    tree: &OrgTree,
    period: Period,
    tz: &jiff::tz::TimeZone,
    input: ScoreInput<'_>,
    previous: Option<ScoreInput<'_>>,
) -> Vec<ScoreCard> {
    let facts = FactsByOrg(by_org(input.findings, |f| f.org));
    let bounds = period.bounds(tz);
    let own = own_scores(sys, tree, &facts, input.notices, input.metrics, bounds);
    let prev = previous.map(|p| {
        let pf = FactsByOrg(by_org(p.findings, |f| f.org));
        let b = period.prev().bounds(tz);
        own_scores(sys, tree, &pf, p.notices, p.metrics, b)
    });
    cards(sys, tree, period, own, prev)
}

/// What [`compute_scores_tallied`] reads: open findings already tallied, notices and metrics.
#[derive(Debug, Clone, Copy)]
pub struct TalliedInput<'a> {
    /// Open findings per org at the end of the period and of the previous period.
    pub open: &'a OpenTally,
    /// Notices.
    pub notices: &'a [NoticeFact],
    /// Metrics for the period.
    pub metrics: &'a Metrics,
    /// Metrics for the previous period.
    pub prev_metrics: &'a Metrics,
}

/// [`compute_scores`] with the previous period, from an [`OpenTally`] instead of every finding: the
/// same cards (the open-findings indicator only counts what is open at a period's end), in memory
/// proportional to the orgs rather than the findings.
pub fn compute_scores_tallied(
    sys: &IndicatorSystem,
    tree: &OrgTree,
    period: Period,
    tz: &jiff::tz::TimeZone,
    input: TalliedInput<'_>,
) -> Vec<ScoreCard> {
    let own = own_scores(
        sys,
        tree,
        input.open,
        input.notices,
        input.metrics,
        period.bounds(tz),
    );
    let prev = own_scores(
        sys,
        tree,
        input.open,
        input.notices,
        input.prev_metrics,
        period.prev().bounds(tz),
    );
    cards(sys, tree, period, own, Some(prev))
}

type Own = HashMap<OrgId, (f64, Vec<IndicatorResult>)>;

fn cards(
    sys: &IndicatorSystem,
    tree: &OrgTree,
    period: Period,
    own: Own,
    prev_own: Option<Own>,
) -> Vec<ScoreCard> {
    let sub = rollup(sys.rollup, tree, &own);
    let prev = prev_own.map(|o| rollup(sys.rollup, tree, &o));
    let mut cards = Vec::with_capacity(tree.nodes().len());
    for node in tree.nodes() {
        let (own_score, breakdown) = own.get(&node.id).cloned().unwrap_or((100.0, Vec::new()));
        let s = sub.get(&node.id).copied().unwrap_or(own_score);
        let siblings: Vec<OrgId> = match node.parent {
            Some(p) => tree.children(p).to_vec(),
            None => tree
                .nodes()
                .iter()
                .filter(|n| n.parent.is_none())
                .map(|n| n.id)
                .collect(),
        };
        let better = siblings
            .iter()
            .filter(|o| sub.get(o).copied().unwrap_or(100.0) > s + 1e-9)
            .count();
        cards.push(ScoreCard {
            org: node.id,
            period,
            own: round1(own_score),
            subtree: round1(s),
            grade: Grade::of(round1(s)),
            rank: better as u32 + 1,
            siblings: siblings.len() as u32,
            previous: prev
                .as_ref()
                .and_then(|p| p.get(&node.id))
                .map(|v| round1(*v)),
            breakdown,
        });
    }
    cards
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}
