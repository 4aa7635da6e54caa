use super::*;
use crate::tree::{OrgNode, OrgTree};
use jiff::Timestamp;
use jiff::tz::{Offset, TimeZone};
use taishi_model::indicator::{Grade, Period};
use taishi_model::{OrgId, Severity};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn tree() -> OrgTree {
    let n = |id: i64, parent: Option<i64>| OrgNode {
        id: OrgId(id),
        parent: parent.map(OrgId),
        name: format!("o{id}"),
        emails: vec![],
        critical_infrastructure: false,
    };
    OrgTree::new(vec![n(1, None), n(2, Some(1)), n(3, Some(1))]).unwrap()
}

fn finding(org: i64, sev: Severity, open: &str, close: Option<&str>) -> FindingFact {
    FindingFact {
        org: OrgId(org),
        severity: sev,
        spans: vec![(ts(open), close.map(ts))],
        resolved_ends: close.map(ts).into_iter().collect(),
    }
}

const ONLY_FINDINGS: &str = r#"
[rollup]
rule = "weighted"
own_weight = 0.5
[[indicator]]
id = "open"
name_zh = "未整改隐患"
name_en = "Open findings"
weight = 1
kind = "open_findings"
"#;

#[test]
fn default_file_parses_and_bad_files_say_where() {
    let sys = IndicatorSystem::from_toml(DEFAULT_TOML, "indicators.toml").unwrap();
    assert_eq!(sys.indicators.len(), 10);
    let e = IndicatorSystem::from_toml("[rollup]\nrule = \"weighted\"\nown_weight = 2\n[[indicator]]\nid=\"a\"\nname_zh=\"a\"\nname_en=\"a\"\nweight=1\nkind=\"on_time_rectification\"\n", "x.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("x.toml") && e.contains("own_weight"), "{e}");
    let e = IndicatorSystem::from_toml(&ONLY_FINDINGS.replace("open_findings", "vibes"), "y.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("y.toml") && e.contains("vibes"), "{e}");
    let dup = format!(
        "{ONLY_FINDINGS}{}",
        &ONLY_FINDINGS[ONLY_FINDINGS.find("[[indicator]]").unwrap()..]
    );
    assert!(
        IndicatorSystem::from_toml(&dup, "z")
            .unwrap_err()
            .to_string()
            .contains("duplicate")
    );
}

#[test]
fn capped_deduction_from_event_dates_with_rollup_rank_and_change() {
    let sys = IndicatorSystem::from_toml(ONLY_FINDINGS, "t").unwrap();
    let tz = TimeZone::fixed(Offset::constant(8));
    let findings = vec![
        // Org 2: one critical and two high open through November → cap 40, −3 −3 = 34.
        finding(2, Severity::Critical, "2026-10-05T00:00:00Z", None),
        finding(2, Severity::High, "2026-10-05T00:00:00Z", None),
        finding(2, Severity::High, "2026-11-03T00:00:00Z", None),
        finding(2, Severity::Info, "2026-11-03T00:00:00Z", None),
        // Org 3: a medium open in October, closed 10 November (event date) → October 80, November 100.
        finding(
            3,
            Severity::Medium,
            "2026-10-01T00:00:00Z",
            Some("2026-11-10T00:00:00Z"),
        ),
        // Opened in December: invisible in November.
        finding(3, Severity::Critical, "2026-12-02T00:00:00Z", None),
    ];
    let metrics = Metrics::new();
    let input = ScoreInput {
        findings: &findings,
        notices: &[],
        metrics: &metrics,
    };
    let cards = compute_scores(
        &sys,
        &tree(),
        Period::Month(2026, 11),
        &tz,
        input,
        Some(input),
    );
    let card = |id| cards.iter().find(|c| c.org == OrgId(id)).unwrap();
    assert_eq!(card(2).own, 34.0);
    assert_eq!(card(2).grade, Grade::F);
    assert_eq!(card(2).breakdown[0].detail, "open: 1 critical, 2 high");
    assert!((card(2).breakdown[0].points_lost - 66.0).abs() < 1e-9);
    assert_eq!(card(3).own, 100.0);
    assert_eq!((card(3).rank, card(2).rank, card(3).siblings), (1, 2, 2));
    // October: org 2 had one critical and one high (40 − 3 = 37); org 3 one medium (80).
    assert_eq!(card(2).previous, Some(37.0));
    assert_eq!(card(3).previous, Some(80.0));
    assert_eq!(card(3).change(), Some(20.0));
    // Root: own 100, children mean (34 + 100) / 2 = 67 → 0.5 × 100 + 0.5 × 67 = 83.5.
    assert_eq!(card(1).subtree, 83.5);
    assert_eq!(card(1).grade, Grade::B);
}

#[test]
fn notice_indicators() {
    let sys = IndicatorSystem::default_system();
    let tz = TimeZone::fixed(Offset::constant(8));
    let nf = |issued: &str, due: &str, closed: Option<&str>, returns: &[&str]| NoticeFact {
        org: OrgId(2),
        issued_at: Some(ts(issued)),
        rectify_due: Some(ts(due)),
        closed_at: closed.map(ts),
        cancelled: false,
        returned_at: returns.iter().map(|r| ts(r)).collect(),
    };
    let notices = vec![
        // Closed on time after 4 days.
        nf(
            "2026-11-02T00:00:00Z",
            "2026-11-09T00:00:00Z",
            Some("2026-11-06T00:00:00Z"),
            &[],
        ),
        // Closed late after 20 days, one failed verification.
        nf(
            "2026-11-02T00:00:00Z",
            "2026-11-16T00:00:00Z",
            Some("2026-11-22T00:00:00Z"),
            &["2026-11-15T00:00:00Z"],
        ),
        // Still open, overdue since October.
        nf("2026-09-01T00:00:00Z", "2026-10-01T00:00:00Z", None, &[]),
    ];
    let mut metrics = Metrics::new();
    metrics
        .entry(OrgId(2))
        .or_default()
        .insert("availability".into(), 0.99);
    let input = ScoreInput {
        findings: &[],
        notices: &notices,
        metrics: &metrics,
    };
    let cards = compute_scores(&sys, &tree(), Period::Month(2026, 11), &tz, input, None);
    let c = cards.iter().find(|c| c.org == OrgId(2)).unwrap();
    let get = |id: &str| c.breakdown.iter().find(|r| r.id == id).unwrap();
    assert_eq!(get("overdue_notices").score, Some(60.0));
    assert_eq!(get("on_time_rate").score, Some(50.0));
    assert_eq!(get("on_time_rate").detail, "1 of 2 on time");
    assert_eq!(get("mttr").detail, "mean 12.0 days over 2 notice(s)");
    assert!((get("mttr").score.unwrap() - 100.0 * (60.0 - 12.0) / 53.0).abs() < 1e-9);
    assert_eq!(get("failed_verifications").score, Some(75.0));
    assert!((get("availability").score.unwrap() - 90.0).abs() < 1e-9);
    assert_eq!(get("tls").score, None);
    // The explanation adds up: 100 − own = Σ points lost (before rounding).
    let lost: f64 = c.breakdown.iter().map(|r| r.points_lost).sum();
    assert!((100.0 - lost - c.own).abs() < 0.06, "{lost} {}", c.own);
    assert!(c.previous.is_none());
}

/// A small deterministic generator (no dependency): xorshift64*.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn tallied_path_gives_the_same_cards_as_every_fact_on_random_data() {
    let sys = IndicatorSystem::default_system();
    let tz = TimeZone::fixed(Offset::constant(8));
    let base = ts("2026-08-01T00:00:00Z");
    let at = |mins: u64| {
        base.checked_add(jiff::SignedDuration::from_mins(mins as i64))
            .unwrap()
    };
    let nodes: Vec<OrgNode> = (1..=40)
        .map(|id| OrgNode {
            id: OrgId(id),
            parent: (id > 1).then(|| OrgId(if id <= 6 { 1 } else { 1 + id % 6 })),
            name: format!("o{id}"),
            emails: vec![],
            critical_infrastructure: false,
        })
        .collect();
    let tree = OrgTree::new(nodes).unwrap();
    for seed in 1..=5u64 {
        let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let span = 150 * 24 * 60; // August to December, in minutes
        let findings: Vec<FindingFact> = (0..3000)
            .map(|_| {
                let mut spans = Vec::new();
                let mut resolved_ends = Vec::new();
                let mut t = r.below(span);
                // One to three spans; the last may stay open. Some span ends fall exactly on a
                // period boundary (midnight +08:00 of 1 November), the edge the tally must respect.
                for _ in 0..=r.below(3) {
                    let start = at(t);
                    let end = match r.below(4) {
                        0 => None,
                        1 => Some(ts("2026-10-31T16:00:00Z").max(start)),
                        _ => Some(at(t + r.below(20 * 24 * 60) + 1)),
                    };
                    spans.push((start, end));
                    let Some(e) = end else { break };
                    if r.below(2) == 0 {
                        resolved_ends.push(e);
                    }
                    t = e.duration_since(base).as_mins() as u64 + r.below(10 * 24 * 60) + 1;
                }
                FindingFact {
                    org: OrgId(1 + r.below(40) as i64),
                    severity: Severity::ALL_DESC[r.below(5) as usize],
                    spans,
                    resolved_ends,
                }
            })
            .collect();
        let notices: Vec<NoticeFact> = (0..200)
            .map(|_| {
                let issued = at(r.below(span));
                NoticeFact {
                    org: OrgId(1 + r.below(40) as i64),
                    issued_at: Some(issued),
                    rectify_due: Some(issued + jiff::SignedDuration::from_hours(24 * 14)),
                    closed_at: (r.below(2) == 0).then(|| {
                        issued + jiff::SignedDuration::from_hours(r.below(40 * 24) as i64)
                    }),
                    cancelled: r.below(10) == 0,
                    returned_at: vec![],
                }
            })
            .collect();
        let mut metrics = Metrics::new();
        metrics
            .entry(OrgId(3))
            .or_default()
            .insert("availability".into(), 0.97);
        let prev_metrics = Metrics::new();
        for period in [
            Period::Month(2026, 11),
            Period::Month(2026, 10),
            Period::Quarter(2026, 4),
        ] {
            let old = compute_scores(
                &sys,
                &tree,
                period,
                &tz,
                ScoreInput {
                    findings: &findings,
                    notices: &notices,
                    metrics: &metrics,
                },
                Some(ScoreInput {
                    findings: &findings,
                    notices: &notices,
                    metrics: &prev_metrics,
                }),
            );
            // Fold the facts in uneven pages, as the store hands them over.
            let mut open = OpenTally::for_period(period, &tz);
            for page in findings.chunks(97) {
                open.add(page);
            }
            let new = compute_scores_tallied(
                &sys,
                &tree,
                period,
                &tz,
                TalliedInput {
                    open: &open,
                    notices: &notices,
                    metrics: &metrics,
                    prev_metrics: &prev_metrics,
                },
            );
            assert_eq!(new, old, "seed {seed}, {period}");
            assert!(
                old.iter().any(|c| c.own < 100.0),
                "the data must cost points"
            );
        }
    }
}
