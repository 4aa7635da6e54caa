//! The service sends notifications on issue, overdue and escalation through a webhook (a local receiver
//! started here) and keeps the delivery log in the store.

#[path = "common/receiver.rs"]
#[allow(dead_code)]
mod receiver;

use jiff::{SignedDuration, Timestamp};
use receiver::receiver;
use std::sync::Arc;
use taishi_loop::notify::Notifier;
use taishi_loop::notify::{NotifyConfig, RetryPolicy, WebhookConfig, WebhookFormat};
use taishi_loop::{Caller, LoopService, ManualClock};
use taishi_model::finding::Sighting;
use taishi_model::notice::LoopActor;
use taishi_model::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_overdue_and_escalation_are_delivered_and_logged() {
    let dir = tempfile::tempdir().unwrap();
    let store = taishi_store::open(&format!("sqlite://{}", dir.path().join("n.db").display()))
        .await
        .unwrap();
    let mk = |code: &str, parent| OrgInput {
        parent_id: parent,
        code: code.into(),
        name: format!("org {code}"),
        kind: OrgKind::Department,
        sector: Sector::Education,
        region_code: None,
        critical_infrastructure: false,
        contacts: Contacts::default(),
        notes: String::new(),
    };
    let sys = Actor::system("test");
    let root = store.create_org(&sys, mk("root", None)).await.unwrap().id;
    let leaf = store
        .create_org(&sys, mk("leaf", Some(root)))
        .await
        .unwrap()
        .id;
    let (url, got) = receiver().await;
    let notifier = Notifier::new(NotifyConfig {
        smtp: None,
        webhooks: vec![WebhookConfig {
            name: "soc".into(),
            url,
            format: WebhookFormat::Generic,
            events: vec![],
            secret: None,
        }],
        retry: RetryPolicy {
            attempts: 2,
            base_backoff_ms: 5,
            max_backoff_ms: 10,
        },
        analyst_emails: vec![],
    })
    .unwrap();
    let t0: Timestamp = "2026-11-02T02:00:00Z".parse().unwrap();
    let clock = ManualClock::at(t0);
    let svc = LoopService::new(store.clone(), Arc::new(clock.clone())).with_notifier(notifier);
    let f = svc
        .ingest(Sighting {
            source: FindingSource::Warning,
            check: "CVE-2024-3400".into(),
            key: String::new(),
            org: leaf,
            asset: AssetId(1),
            title: "PAN-OS GlobalProtect 命令注入".into(),
            severity: Severity::Critical,
            exploited: true,
            internet_exposed: true,
            evidence: serde_json::json!({"kev": true}),
            seen_at: t0,
        })
        .await
        .unwrap();
    let analyst = Caller {
        actor: LoopActor::user("ana", Role::Analyst),
        scope: None,
    };
    let n = svc
        .draft_notice(
            &analyst,
            leaf,
            vec![f.finding.id],
            "紧急漏洞通报",
            vec!["立即升级".into()],
        )
        .await
        .unwrap();
    let n = svc.issue(&analyst, n.id, "").await.unwrap();
    // Exploited and internet-exposed: 3 days.
    assert_eq!(
        n.rectify_due,
        Some(t0.checked_add(SignedDuration::from_hours(72)).unwrap())
    );
    // An officer of another subtree cannot even see it.
    let stranger = Caller {
        actor: LoopActor::user("x", Role::Officer),
        scope: Some(OrgId(999)),
    };
    assert!(
        svc.act(
            &stranger,
            n.id,
            taishi_model::notice::NoticeAction::Acknowledge,
            ""
        )
        .await
        .is_err()
    );
    clock.set(t0.checked_add(SignedDuration::from_hours(80)).unwrap());
    let report = svc.sweep().await.unwrap();
    let kinds: Vec<&str> = report.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["ack_overdue", "overdue", "escalated"]);
    let events: Vec<String> = got
        .lock()
        .unwrap()
        .iter()
        .map(|v| v["event"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(events, ["issued", "ack_overdue", "overdue", "escalated"]);
    let log = store.deliveries(n.id).await.unwrap();
    assert_eq!(log.len(), 4);
    assert!(
        log.iter()
            .all(|d| d.delivered && d.channel == "webhook:soc")
    );
    // Sweeping again sends nothing new.
    assert!(svc.sweep().await.unwrap().events.is_empty());
    assert_eq!(got.lock().unwrap().len(), 4);
}
