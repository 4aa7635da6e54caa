use super::*;
use crate::score::{FindingFact, IndicatorSystem, Metrics, NoticeFact, ScoreInput, compute_scores};
use crate::tree::{OrgNode, OrgTree};
use jiff::tz::Offset;
use taishi_model::finding::Sighting;
use taishi_model::notice::{IncidentLevel, LoopActor, NoticeAction, NoticeState};
use taishi_model::{Actor, AssetId, FindingSource, Role};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn sighting(org: i64, title: &str, sev: Severity, at: &str) -> Sighting {
    Sighting {
        source: FindingSource::Probe,
        check: title.into(),
        key: String::new(),
        org: OrgId(org),
        asset: AssetId(org * 10),
        title: title.into(),
        severity: sev,
        exploited: false,
        internet_exposed: true,
        evidence: serde_json::Value::Null,
        seen_at: ts(at),
    }
}

pub(crate) fn notice(org: i64, seq: u32, issued: &str, due: &str) -> Notice {
    let mut n = Notice {
        id: uuid::Uuid::from_u128(u128::from(seq)),
        number: taishi_model::notice::NoticeNumber { year: 2026, seq },
        org: OrgId(org),
        findings: vec![],
        title: format!("整改通知 <b>{seq}</b>"),
        severity: Severity::High,
        level: IncidentLevel::General,
        required_actions: vec![],
        state: NoticeState::Draft,
        created_by: Actor::user("ana"),
        created_at: ts(issued),
        issued_at: None,
        ack_due: None,
        rectify_due: None,
        acknowledged_at: None,
        submitted_at: None,
        closed_at: None,
        returns: 0,
        escalations: vec![],
        history: vec![],
    };
    let a = LoopActor::user("ana", Role::Analyst);
    n.apply(
        &a,
        true,
        NoticeAction::Issue {
            ack_due: ts(issued),
            rectify_due: Some(ts(due)),
        },
        ts(issued),
        "",
    )
    .unwrap();
    n
}

#[test]
fn bulletin_figures_and_safe_rendering() {
    let node = |id: i64, parent: Option<i64>, name: &str| OrgNode {
        id: OrgId(id),
        parent: parent.map(OrgId),
        name: name.into(),
        emails: vec![],
        critical_infrastructure: false,
    };
    let tree = OrgTree::new(vec![
        node(1, None, "示范区"),
        node(2, Some(1), "教育局 <script>alert(1)</script>"),
        node(3, Some(1), "=cmd|' /C calc'!A0"),
        node(9, None, "other root"),
    ])
    .unwrap();
    let mut f1 = Finding::open(
        uuid::Uuid::from_u128(1),
        sighting(
            2,
            "证书过期 | expired",
            Severity::Critical,
            "2026-10-20T00:00:00Z",
        ),
    );
    let f2 = Finding::open(
        uuid::Uuid::from_u128(2),
        sighting(3, "缺少 HSTS", Severity::Medium, "2026-11-05T00:00:00Z"),
    );
    let mut f3 = Finding::open(
        uuid::Uuid::from_u128(3),
        sighting(3, "弱口令", Severity::High, "2026-11-02T00:00:00Z"),
    );
    f3.absent(ts("2026-11-20T00:00:00Z"));
    f1.sighted(sighting(
        2,
        "证书过期 | expired",
        Severity::Critical,
        "2026-11-03T00:00:00Z",
    ));
    let other = Finding::open(
        uuid::Uuid::from_u128(4),
        sighting(9, "not ours", Severity::Critical, "2026-11-05T00:00:00Z"),
    );
    let findings = vec![f1, f2, f3, other];
    let notices = vec![notice(2, 7, "2026-11-02T00:00:00Z", "2026-11-09T00:00:00Z")];
    let tz = TimeZone::fixed(Offset::constant(8));
    let sys = IndicatorSystem::default_system();
    let facts: Vec<_> = findings.iter().map(FindingFact::from_finding).collect();
    let nfacts: Vec<_> = notices.iter().map(NoticeFact::from_notice).collect();
    let metrics = Metrics::new();
    let input = ScoreInput {
        findings: &facts,
        notices: &nfacts,
        metrics: &metrics,
    };
    let period = Period::Month(2026, 11);
    let scores = compute_scores(&sys, &tree, period, &tz, input, Some(input));
    let b = build_bulletin(BulletinInput {
        tree: &tree,
        root: OrgId(1),
        period,
        tz: &tz,
        findings: &findings,
        notices: &notices,
        scores: &scores,
        score_trend: &[(period.prev(), 90.0), (period, 70.0)],
        now: ts("2026-12-01T00:00:00Z"),
    });
    assert_eq!(b.headline.orgs, 3);
    assert_eq!(
        (
            b.headline.new_findings,
            b.headline.closed_findings,
            b.headline.open_findings
        ),
        (2, 1, 2)
    );
    assert_eq!(b.new_by_severity, [0, 1, 1, 0, 0]);
    assert_eq!(b.open_by_severity, [1, 0, 1, 0, 0]);
    assert_eq!(b.overdue.len(), 1);
    assert_eq!(b.overdue[0].number, "2026-0007");
    assert_eq!(b.ranking.len(), 2);
    assert!(b.ranking[0].score >= b.ranking[1].score);
    assert_eq!(b.worst[0].severity, Severity::Critical);
    assert_eq!(b.trend.len(), 2);

    let html = render_html(&b);
    assert!(!html.contains("<script>") && html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains("<b>7</b>") && html.contains("&lt;b&gt;7&lt;/b&gt;"));
    assert!(html.contains("<svg") && html.contains("2026-0007") && !html.contains("src=\"http"));
    let md = render_markdown(&b);
    assert!(md.contains("证书过期 \\| expired") && md.contains("&lt;script&gt;"));
    let csv = render_csv(&b);
    assert!(csv.contains("'=cmd"), "{csv}");
    assert_eq!(csv.lines().count(), 3);
}
