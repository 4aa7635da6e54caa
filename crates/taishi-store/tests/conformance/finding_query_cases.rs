//! Findings at scale: every filter of `FindingQuery` in SQL, the sorts with keyset pages across equal
//! timestamps, counts, the dashboard aggregates and the paged scoring facts. Each case is an async fn
//! over `&dyn Store`, run on both backends by `tests/conformance.rs`.

use jiff::{SignedDuration, Timestamp};
use std::collections::HashSet;
use taishi_model::finding::{Finding, Resolution, Sighting};
use taishi_model::indicator::FindingFact;
use taishi_model::notice::{IncidentLevel, Notice, NoticeNumber, NoticeState};
use taishi_model::*;
use taishi_store::{DayCounts, FindingCursor, FindingQuery, FindingSort, Store, StoreError};
use uuid::Uuid;

use crate::loop_cases::{org, ts};

fn day(n: i64) -> Timestamp {
    ts("2026-10-01T00:00:00Z")
        .checked_add(SignedDuration::from_hours(24 * n))
        .unwrap()
}

struct Spec {
    org: OrgId,
    asset: i64,
    source: FindingSource,
    check: &'static str,
    key: &'static str,
    title: &'static str,
    severity: Severity,
    seen: Timestamp,
}

fn finding(p: Spec) -> Finding {
    Finding::open(
        Uuid::new_v4(),
        Sighting {
            source: p.source,
            check: p.check.into(),
            key: p.key.into(),
            org: p.org,
            asset: AssetId(p.asset),
            title: p.title.into(),
            severity: p.severity,
            exploited: false,
            internet_exposed: true,
            evidence: serde_json::json!({"k": p.key}),
            seen_at: p.seen,
        },
    )
}

async fn ids(s: &dyn Store, q: FindingQuery) -> HashSet<Uuid> {
    let list = s.list_findings(&q).await.unwrap();
    let n = s.count_findings(&q).await.unwrap();
    assert_eq!(n, list.len() as u64, "count agrees with the list for {q:?}");
    list.into_iter().map(|f| f.id).collect()
}

fn set(fs: &[&Finding]) -> HashSet<Uuid> {
    fs.iter().map(|f| f.id).collect()
}

pub async fn findings_filter_in_sql(s: &dyn Store) {
    let root = org(s, "r", None).await;
    let town = org(s, "t", Some(root)).await;
    let school = org(s, "s", Some(town)).await;
    let other = org(s, "o", None).await;
    let base = |org, check, severity, seen| Spec {
        org,
        asset: 1,
        source: FindingSource::Probe,
        check,
        key: "443",
        title: "问题",
        severity,
        seen,
    };
    let a = finding(Spec {
        title: "Weak TLS 弱加密",
        ..base(root, "tls.weak", Severity::High, day(0))
    });
    let b = finding(Spec {
        asset: 2,
        key: "/admin/",
        title: "后台暴露",
        ..base(town, "exposure.admin", Severity::Critical, day(10))
    });
    let c = finding(Spec {
        source: FindingSource::Detection,
        key: "host-7",
        title: "Mimikatz 检测",
        ..base(school, "sigma.mimikatz", Severity::Critical, day(20))
    });
    let mut d = finding(Spec {
        asset: 3,
        ..base(school, "availability.down", Severity::Medium, day(30))
    });
    d.resolve(day(31), None, Resolution::VerifiedFix);
    let e = finding(Spec {
        source: FindingSource::Warning,
        key: "CVE-2026-1234",
        title: "Exchange 漏洞 100%_done",
        ..base(other, "kev.cve", Severity::Low, day(40))
    });
    s.put_findings(&[a.clone(), b.clone(), c.clone(), d.clone(), e.clone()])
        .await
        .unwrap();
    let q = FindingQuery::default;
    assert_eq!(ids(s, q()).await, set(&[&a, &b, &c, &d, &e]));
    let within = |o| FindingQuery {
        within: Some(o),
        ..q()
    };
    assert_eq!(ids(s, within(root)).await, set(&[&a, &b, &c, &d]));
    assert_eq!(ids(s, within(town)).await, set(&[&b, &c, &d]));
    assert_eq!(
        ids(
            s,
            FindingQuery {
                org: Some(school),
                ..q()
            }
        )
        .await,
        set(&[&c, &d])
    );
    assert_eq!(
        ids(
            s,
            FindingQuery {
                asset: Some(AssetId(2)),
                ..q()
            }
        )
        .await,
        set(&[&b])
    );
    assert_eq!(
        ids(
            s,
            FindingQuery {
                severities: vec![Severity::Critical, Severity::Low],
                ..within(root)
            }
        )
        .await,
        set(&[&b, &c])
    );
    assert_eq!(
        ids(
            s,
            FindingQuery {
                statuses: vec!["resolved".into()],
                ..q()
            }
        )
        .await,
        set(&[&d])
    );
    assert_eq!(
        ids(
            s,
            FindingQuery {
                source: Some(FindingSource::Detection),
                ..q()
            }
        )
        .await,
        set(&[&c])
    );
    // Age: first seen in [day 10, day 30], inclusive at both ends.
    assert_eq!(
        ids(
            s,
            FindingQuery {
                first_seen_from: Some(day(10)),
                first_seen_to: Some(day(30)),
                ..q()
            }
        )
        .await,
        set(&[&b, &c, &d])
    );
    assert_eq!(
        ids(
            s,
            FindingQuery {
                check: Some("tls.weak".into()),
                ..q()
            }
        )
        .await,
        set(&[&a])
    );
    assert_eq!(
        ids(
            s,
            FindingQuery {
                check_prefix: Some("availability.".into()),
                ..q()
            }
        )
        .await,
        set(&[&d])
    );
    // Text: title, check or key, case-insensitive, Chinese, and LIKE's wildcards taken literally.
    let text = |t: &str| FindingQuery {
        text: Some(t.into()),
        ..q()
    };
    assert_eq!(ids(s, text("weak tls")).await, set(&[&a]));
    assert_eq!(ids(s, text("MIMIKATZ")).await, set(&[&c]));
    assert_eq!(ids(s, text("暴露")).await, set(&[&b]));
    assert_eq!(ids(s, text("/ADMIN/")).await, set(&[&b]));
    assert_eq!(ids(s, text("cve-2026")).await, set(&[&e]));
    assert_eq!(ids(s, text("100%_d")).await, set(&[&e]));
    assert!(ids(s, text("100%x")).await.is_empty());
    assert!(ids(s, text("0_")).await.is_empty());
    // Everything at once.
    assert_eq!(
        ids(
            s,
            FindingQuery {
                within: Some(town),
                severities: vec![Severity::Critical],
                statuses: vec!["open".into()],
                source: Some(FindingSource::Probe),
                text: Some("后台".into()),
                ..q()
            }
        )
        .await,
        set(&[&b])
    );
    // A finding that changes keeps its columns in step (severity, status, search text).
    let mut b2 = b.clone();
    b2.severity = Severity::Low;
    b2.title = "已修复的后台".into();
    b2.resolve(day(12), None, Resolution::Disappeared);
    s.put_finding(&b2, None).await.unwrap();
    assert!(ids(s, text("后台暴露")).await.is_empty());
    assert_eq!(
        ids(
            s,
            FindingQuery {
                severities: vec![Severity::Low],
                statuses: vec!["resolved".into()],
                ..q()
            }
        )
        .await,
        set(&[&b2])
    );
}

/// The expected order of `sort` computed in Rust (id as the final tie-breaker, like the store).
fn expected(mut all: Vec<Finding>, sort: FindingSort) -> Vec<Uuid> {
    all.sort_by(|x, y| {
        let id = y.id.to_string().cmp(&x.id.to_string());
        match sort {
            FindingSort::LastSeen => y.last_seen.cmp(&x.last_seen).then(id),
            FindingSort::FirstSeen => x
                .first_seen
                .cmp(&y.first_seen)
                .then(x.id.to_string().cmp(&y.id.to_string())),
            FindingSort::Severity => y
                .severity
                .cmp(&x.severity)
                .then(y.last_seen.cmp(&x.last_seen))
                .then(id),
            FindingSort::Org => x
                .org
                .cmp(&y.org)
                .then(y.last_seen.cmp(&x.last_seen))
                .then(id),
        }
    });
    all.into_iter().map(|f| f.id).collect()
}

pub async fn findings_sort_and_page_across_equal_timestamps(s: &dyn Store) {
    let a = org(s, "a", None).await;
    let b = org(s, "b", Some(a)).await;
    let sev = [Severity::Critical, Severity::High, Severity::Low];
    // 23 findings on only three distinct timestamps, two orgs, three severities: ties everywhere.
    let all: Vec<Finding> = (0..23)
        .map(|i| {
            finding(Spec {
                org: if i % 2 == 0 { a } else { b },
                asset: i,
                source: FindingSource::Probe,
                check: "tls.weak",
                key: "k",
                title: "t",
                severity: sev[i as usize % 3],
                seen: day(i % 3),
            })
        })
        .collect();
    s.put_findings(&all).await.unwrap();
    for sort in FindingSort::ALL {
        let want = expected(all.clone(), sort);
        let mut got = Vec::new();
        let mut after: Option<FindingCursor> = None;
        let mut pages = 0;
        loop {
            let page = s
                .page_findings(&FindingQuery {
                    within: Some(a),
                    sort,
                    after: after.clone(),
                    limit: 4,
                    ..FindingQuery::default()
                })
                .await
                .unwrap();
            pages += 1;
            got.extend(page.items.iter().map(|f| f.id));
            match page.next {
                // The cursor travels as text (the API's `next`) and comes back.
                Some(c) => after = Some(c.to_string().parse().unwrap()),
                None => break,
            }
        }
        assert_eq!(pages, 6, "{sort:?}: 23 findings in pages of 4");
        assert_eq!(got, want, "{sort:?}: pages concatenate to the full order");
        let listed: Vec<Uuid> = s
            .list_findings(&FindingQuery {
                sort,
                ..FindingQuery::default()
            })
            .await
            .unwrap()
            .into_iter()
            .map(|f| f.id)
            .collect();
        assert_eq!(listed, want, "{sort:?}: list_findings has the same order");
    }
    // A cursor of another order, or garbage, is refused naming `after`.
    let c = FindingCursor::after(&all[0], FindingSort::Severity);
    let e = s
        .page_findings(&FindingQuery {
            after: Some(c),
            ..FindingQuery::default()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&e, StoreError::Invalid(f) if f[0].field == "after"),
        "{e:?}"
    );
    for bad in [
        "",
        "severity.4.x",
        "last_seen.1.2.00000000-0000-0000-0000-000000000000",
        "nope.1.x",
    ] {
        assert!(bad.parse::<FindingCursor>().is_err(), "{bad:?}");
    }
}

fn notice(org: OrgId, seq: u32, state: NoticeState, due: Option<Timestamp>) -> Notice {
    Notice {
        id: Uuid::new_v4(),
        number: NoticeNumber { year: 2026, seq },
        org,
        findings: vec![],
        title: "通报".into(),
        severity: Severity::High,
        level: IncidentLevel::General,
        required_actions: vec![],
        state,
        created_by: Actor::user("ana"),
        created_at: day(0),
        issued_at: (state != NoticeState::Draft).then(|| day(0)),
        ack_due: None,
        rectify_due: due,
        acknowledged_at: None,
        submitted_at: None,
        closed_at: (state == NoticeState::Closed).then(|| day(5)),
        returns: 0,
        escalations: vec![],
        history: vec![],
    }
}

pub async fn finding_and_notice_aggregates(s: &dyn Store) {
    let root = org(s, "r", None).await;
    let x = org(s, "x", Some(root)).await;
    let y = org(s, "y", Some(root)).await;
    let other = org(s, "o", None).await;
    let mk = |org, severity, seen, i: i64| {
        finding(Spec {
            org,
            asset: i,
            source: FindingSource::Probe,
            check: "c",
            key: "k",
            title: "t",
            severity,
            seen,
        })
    };
    let mut fs = vec![
        mk(x, Severity::Critical, day(1), 1),
        mk(x, Severity::Low, day(1), 2),
        mk(y, Severity::High, day(2), 3),
        mk(y, Severity::High, day(2), 4),
        mk(y, Severity::Info, day(3), 5),
        mk(root, Severity::Medium, day(3), 6),
        mk(other, Severity::Critical, day(3), 7),
    ];
    // Closed ones: resolved on day 4 (counts as closed that day), dismissed on day 5.
    let mut r = mk(x, Severity::Critical, day(2), 8);
    r.resolve(day(4), None, Resolution::VerifiedFix);
    let mut fp = mk(y, Severity::High, day(2), 9);
    fp.mark_false_positive(day(5), "ana".into(), "no".into());
    fs.push(r);
    fs.push(fp);
    s.put_findings(&fs).await.unwrap();

    // Open by severity (index = Severity as usize: info 0 … critical 4).
    assert_eq!(
        s.open_by_severity(Some(root)).await.unwrap(),
        [1, 1, 1, 2, 1]
    );
    assert_eq!(s.open_by_severity(Some(x)).await.unwrap(), [0, 1, 0, 0, 1]);
    assert_eq!(s.open_by_severity(None).await.unwrap(), [1, 1, 1, 2, 2]);

    // Riskiest: x = 10 + 1 = 11, y = 5 + 5 = 10, root = 2; info weighs 0.
    let w = [0, 1, 2, 5, 10];
    let risky = s.riskiest_orgs(Some(root), w, 2).await.unwrap();
    assert_eq!(
        risky.iter().map(|r| (r.org, r.risk)).collect::<Vec<_>>(),
        [(x, 11), (y, 10)]
    );
    assert_eq!(risky[1].by_severity, [1, 0, 0, 2, 0]);
    let all = s.riskiest_orgs(Some(root), w, 10).await.unwrap();
    assert_eq!(all.len(), 3);
    // Zero risk left out.
    let only_info = s.riskiest_orgs(Some(y), [0, 0, 0, 0, 0], 10).await.unwrap();
    assert!(only_info.is_empty());

    // Per day from day 1, 5 days: new on days 1, 2, 3; closed on days 4 and 5 (index 3, 4).
    let days = s.findings_per_day(Some(root), day(1), 5).await.unwrap();
    let d = |new, closed| DayCounts { new, closed };
    assert_eq!(days, [d(2, 0), d(4, 0), d(2, 0), d(0, 1), d(0, 1)]);
    let later = s.findings_per_day(Some(x), day(2), 2).await.unwrap();
    assert_eq!(later, [d(1, 0), d(0, 0)]);

    // Notices by state and overdue (live, rectification deadline passed), per subtree.
    let now = day(20);
    let ns = vec![
        notice(x, 1, NoticeState::Issued, Some(day(10))),
        notice(x, 2, NoticeState::Acknowledged, Some(day(30))),
        notice(y, 3, NoticeState::Returned, Some(day(19))),
        notice(y, 4, NoticeState::Closed, Some(day(3))),
        notice(y, 5, NoticeState::Cancelled, Some(day(3))),
        notice(y, 6, NoticeState::Draft, None),
        notice(other, 7, NoticeState::Issued, Some(day(1))),
    ];
    s.save_notices(&ns).await.unwrap();
    let by_state = s.notices_by_state(Some(root)).await.unwrap();
    let get = |k: &str| by_state.iter().find(|(s, _)| s == k).map_or(0, |x| x.1);
    assert_eq!(
        [
            "issued",
            "acknowledged",
            "returned",
            "closed",
            "cancelled",
            "draft"
        ]
        .map(get),
        [1, 1, 1, 1, 1, 1]
    );
    assert_eq!(by_state.iter().map(|x| x.1).sum::<u64>(), 6);
    assert_eq!(s.count_overdue_notices(Some(root), now).await.unwrap(), 2);
    assert_eq!(s.count_overdue_notices(Some(x), now).await.unwrap(), 1);
    assert_eq!(s.count_overdue_notices(None, now).await.unwrap(), 3);
    // Exactly at the deadline is not overdue (`now > due`, as `Notice::is_overdue`).
    assert_eq!(s.count_overdue_notices(Some(y), day(19)).await.unwrap(), 0);
    for n in &ns {
        let overdue = n.is_overdue(now);
        let within = s.count_overdue_notices(Some(n.org), now).await.unwrap() > 0;
        assert!(!overdue || within, "{n:?}");
    }
}

pub async fn finding_facts_come_in_pages(s: &dyn Store) {
    let root = org(s, "r", None).await;
    let other = org(s, "o", None).await;
    let fs: Vec<Finding> = (0..11)
        .map(|i| {
            let mut f = finding(Spec {
                org: if i < 8 { root } else { other },
                asset: i,
                source: FindingSource::Probe,
                check: "c",
                key: "k",
                title: "t",
                severity: Severity::High,
                seen: day(i),
            });
            if i % 2 == 0 {
                f.resolve(day(i + 1), None, Resolution::Disappeared);
            }
            f
        })
        .collect();
    s.put_findings(&fs).await.unwrap();
    let mut pages = Vec::new();
    s.for_each_finding_facts(Some(root), 3, &mut |p| pages.push(p))
        .await
        .unwrap();
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 2]);
    let mut got: Vec<FindingFact> = pages.into_iter().flatten().collect();
    let mut want: Vec<FindingFact> = fs[..8].iter().map(FindingFact::from_finding).collect();
    let key = |f: &FindingFact| (f.spans[0].0, f.org);
    got.sort_by_key(key);
    want.sort_by_key(key);
    assert_eq!(got, want);
    let mut n = 0;
    s.for_each_finding_facts(None, 100, &mut |p| n += p.len())
        .await
        .unwrap();
    assert_eq!(n, 11);
}
