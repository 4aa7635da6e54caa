//! The loop conformance cases, each an async fn over `&dyn Store`.

use jiff::Timestamp;
use taishi_model::finding::{Finding, Sighting};
use taishi_model::indicator::Period;
use taishi_model::notice::{
    IncidentLevel, LoopActor, Notice, NoticeAction, NoticeNumber, NoticeState,
};
use taishi_model::rectification::{AttachmentMeta, Delivery, Rectification};
use taishi_model::*;
use taishi_store::{ArchivedBulletin, FindingQuery, LoopAudit, NoticeQuery, Store};
use uuid::Uuid;

pub fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// Creates a department `code` under `parent` (shared with the finding query cases).
pub async fn org(s: &dyn Store, code: &str, parent: Option<OrgId>) -> OrgId {
    s.create_org(
        &Actor::system("test"),
        OrgInput {
            parent_id: parent,
            code: code.into(),
            name: format!("org {code}"),
            kind: OrgKind::Department,
            sector: Sector::Government,
            region_code: None,
            critical_infrastructure: false,
            contacts: Contacts::default(),
            notes: String::new(),
        },
    )
    .await
    .unwrap()
    .id
}

fn sighting(org: OrgId, check: &str, at: &str) -> Sighting {
    Sighting {
        source: FindingSource::Probe,
        check: check.into(),
        key: "443".into(),
        org,
        asset: AssetId(1),
        title: format!("{check} 问题"),
        severity: Severity::High,
        exploited: false,
        internet_exposed: true,
        evidence: serde_json::json!({"port": 443}),
        seen_at: ts(at),
    }
}

fn audit(action: &str) -> LoopAudit {
    LoopAudit {
        actor: Actor::user("ana"),
        action: action.into(),
        comment: "c".into(),
    }
}

fn draft(org: OrgId) -> Notice {
    Notice {
        id: Uuid::new_v4(),
        number: NoticeNumber { year: 2026, seq: 1 },
        org,
        findings: vec![],
        title: "通报".into(),
        severity: Severity::High,
        level: IncidentLevel::General,
        required_actions: vec!["修复".into()],
        state: NoticeState::Draft,
        created_by: Actor::user("ana"),
        created_at: ts("2026-11-02T00:00:00Z"),
        issued_at: None,
        ack_due: None,
        rectify_due: None,
        acknowledged_at: None,
        submitted_at: None,
        closed_at: None,
        returns: 0,
        escalations: vec![],
        history: vec![],
    }
}

pub async fn findings_round_trip_and_dedup_lookup(s: &dyn Store) {
    let root = org(s, "r", None).await;
    let child = org(s, "c", Some(root)).await;
    let other = org(s, "o", None).await;
    let mut f = Finding::open(
        Uuid::new_v4(),
        sighting(child, "tls.weak", "2026-11-01T00:00:00Z"),
    );
    s.put_finding(&f, None).await.unwrap();
    let got = s
        .finding_by_fingerprint(f.fingerprint.as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, f);
    f.absent(ts("2026-11-03T00:00:00Z"));
    f.sighted(sighting(child, "tls.weak", "2026-11-05T00:00:00Z"));
    s.put_finding(&f, Some(audit("finding.update")))
        .await
        .unwrap();
    assert_eq!(s.get_finding(f.id).await.unwrap(), f);
    // A second finding with the same fingerprint but another id is a conflict.
    let dup = Finding::open(
        Uuid::new_v4(),
        sighting(child, "tls.weak", "2026-11-06T00:00:00Z"),
    );
    assert!(matches!(
        s.put_finding(&dup, None).await,
        Err(taishi_store::StoreError::Conflict(_))
    ));
    let g = Finding::open(
        Uuid::new_v4(),
        sighting(other, "hdr.hsts", "2026-11-01T00:00:00Z"),
    );
    s.put_finding(&g, None).await.unwrap();
    let within = s
        .list_findings(&FindingQuery {
            within: Some(root),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(within.iter().map(|x| x.id).collect::<Vec<_>>(), [f.id]);
    let open = s
        .list_findings(&FindingQuery {
            statuses: vec!["open".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(open.len(), 2);
    let batch: Vec<Finding> = (0..3)
        .map(|i| {
            Finding::open(
                Uuid::new_v4(),
                sighting(other, &format!("batch.{i}"), "2026-11-02T00:00:00Z"),
            )
        })
        .collect();
    s.put_findings(&batch).await.unwrap();
    assert_eq!(s.finding_facts(Some(other)).await.unwrap().len(), 4);
    let facts = s.finding_facts(Some(root)).await.unwrap();
    assert_eq!(facts.len(), 1);
    assert_eq!(
        facts[0].spans,
        taishi_model::indicator::FindingFact::from_finding(&f).spans
    );
    assert_eq!(facts[0].spans.len(), 2);
    assert_eq!(
        facts[0],
        taishi_model::indicator::FindingFact::from_finding(&f)
    );
    let mut h = Finding::open(
        Uuid::new_v4(),
        sighting(other, "accepted", "2026-11-01T00:00:00Z"),
    );
    h.accept_risk(ts("2026-11-02T00:00:00Z"), "ana".into(), 30, "CIO".into())
        .unwrap();
    s.put_finding(&h, None).await.unwrap();
    let hf = taishi_model::indicator::FindingFact::from_finding(&h);
    assert!(hf.resolved_ends.is_empty() && hf.spans[0].1.is_some());
    assert!(s.finding_facts(Some(other)).await.unwrap().contains(&hf));
    assert!(matches!(
        s.get_finding(Uuid::new_v4()).await,
        Err(taishi_store::StoreError::NotFound { .. })
    ));
}

pub async fn notices_numbered_per_year_with_audit(s: &dyn Store) {
    let o = org(s, "n", None).await;
    let a = s
        .create_notice(draft(o), 2026, audit("notice.create"))
        .await
        .unwrap();
    let b = s
        .create_notice(draft(o), 2026, audit("notice.create"))
        .await
        .unwrap();
    let c = s
        .create_notice(draft(o), 2027, audit("notice.create"))
        .await
        .unwrap();
    assert_eq!(
        (
            a.number.to_string(),
            b.number.to_string(),
            c.number.to_string()
        ),
        ("2026-0001".into(), "2026-0002".into(), "2027-0001".into())
    );
    let mut n = s.get_notice(b.id).await.unwrap();
    let analyst = LoopActor::user("ana", Role::Analyst);
    n.apply(
        &analyst,
        true,
        NoticeAction::Issue {
            ack_due: ts("2026-11-03T00:00:00Z"),
            rectify_due: Some(ts("2026-11-16T00:00:00Z")),
        },
        ts("2026-11-02T00:00:00Z"),
        "",
    )
    .unwrap();
    n.apply(
        &analyst,
        true,
        NoticeAction::SubmitRectification {
            rectification: Uuid::new_v4(),
        },
        ts("2026-11-04T00:00:00Z"),
        "",
    )
    .unwrap();
    n.apply(
        &analyst,
        true,
        NoticeAction::Return {
            reason: "still open".into(),
        },
        ts("2026-11-05T00:00:00Z"),
        "",
    )
    .unwrap();
    s.save_notice(&n, Some(audit("notice.return")))
        .await
        .unwrap();
    s.save_notices(std::slice::from_ref(&n)).await.unwrap();
    assert_eq!(
        s.notice_by_number("2026-0002".parse().unwrap())
            .await
            .unwrap(),
        n
    );
    let live = s
        .list_notices(&NoticeQuery {
            within: Some(o),
            live_only: true,
        })
        .await
        .unwrap();
    assert_eq!(live.iter().map(|x| x.id).collect::<Vec<_>>(), [n.id]);
    let facts = s.notice_facts(None).await.unwrap();
    let f = facts.iter().find(|f| f.issued_at.is_some()).unwrap();
    assert_eq!(f.returned_at, [ts("2026-11-05T00:00:00Z")]);
    assert_eq!(f.rectify_due, Some(ts("2026-11-16T00:00:00Z")));
    let log = s
        .list_audit(
            &AuditFilter {
                entity_id: Some(n.id.to_string()),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        log.items
            .iter()
            .map(|e| e.action.as_str())
            .collect::<Vec<_>>(),
        ["notice.create", "notice.return"]
    );
}

pub async fn rectifications_attachments_and_log(s: &dyn Store) {
    let o = org(s, "a", None).await;
    let n = s
        .create_notice(draft(o), 2026, audit("notice.create"))
        .await
        .unwrap();
    let meta = AttachmentMeta {
        id: Uuid::new_v4(),
        name: "报告.pdf".into(),
        content_type: "application/pdf".into(),
        size: 5,
        sha256: "ab".repeat(32),
    };
    let r = Rectification {
        id: Uuid::new_v4(),
        notice: n.id,
        org: o,
        submitted_by: Actor::user("off"),
        submitted_at: ts("2026-11-04T00:00:00Z"),
        description: "已修复".into(),
        attachments: vec![meta.clone()],
    };
    assert!(s.add_rectification(&r, vec![]).await.is_err());
    s.add_rectification(&r, vec![b"%PDF-".to_vec()])
        .await
        .unwrap();
    assert_eq!(
        s.rectifications(n.id).await.unwrap(),
        std::slice::from_ref(&r)
    );
    assert_eq!(
        s.attachment(meta.id).await.unwrap(),
        (meta, b"%PDF-".to_vec())
    );
    let d = Delivery {
        notice: n.id,
        event: "issued".into(),
        channel: "email".into(),
        target: "x@y".into(),
        attempts: 2,
        delivered: false,
        error: Some("550".into()),
        at: ts("2026-11-04T00:00:01Z"),
    };
    s.record_deliveries(std::slice::from_ref(&d)).await.unwrap();
    assert_eq!(s.deliveries(n.id).await.unwrap(), [d]);
}

pub async fn metrics_scores_and_bulletins(s: &dyn Store) {
    let o = org(s, "m", None).await;
    let p = Period::Month(2026, 11);
    s.set_metric(o, p, "availability", 0.5).await.unwrap();
    s.set_metric(o, p, "availability", 0.995).await.unwrap();
    s.set_metric(o, p.prev(), "training", 80.0).await.unwrap();
    assert_eq!(
        s.metrics(p).await.unwrap(),
        [(o, "availability".to_owned(), 0.995)]
    );
    s.put_scores(p, &[(o, "{\"a\":1}".into())]).await.unwrap();
    s.put_scores(p, &[(o, "{\"a\":2}".into())]).await.unwrap();
    assert_eq!(s.scores(p).await.unwrap(), [(o, "{\"a\":2}".to_owned())]);
    let b = ArchivedBulletin {
        id: Uuid::new_v4(),
        org: o,
        period: p,
        format: "html".into(),
        created_at: ts("2026-12-01T00:00:00Z"),
        content: "<html>态势</html>".into(),
    };
    s.archive_bulletin(&b).await.unwrap();
    assert_eq!(s.bulletins(o).await.unwrap(), [b]);
}
