//! Deadline extensions and risk acceptances ending, through the service with a manual clock: who is
//! told (the analysts' channel for requests, the org for decisions, both for expiries), sweeps measured
//! against the extended deadline, and each warning sent once.

#[path = "common/receiver.rs"]
#[allow(dead_code)]
mod receiver;

use jiff::{SignedDuration, Timestamp};
use receiver::{events, notifier, receiver, smtp_sink};
use std::sync::Arc;
use taishi_loop::{Caller, LoopService, ManualClock};
use taishi_model::finding::{FindingEventKind, FindingStatus, ReopenReason, Sighting};
use taishi_model::notice::{LoopActor, NoticeAction};
use taishi_model::*;
use taishi_store::Store;

const SOC: &str = "soc@authority.example";
const OFFICER: &str = "officer@leaf.example";

fn hours(h: i64) -> SignedDuration {
    SignedDuration::from_hours(h)
}

struct World {
    store: Arc<dyn Store>,
    svc: LoopService,
    clock: ManualClock,
    t0: Timestamp,
    leaf: OrgId,
    hooks: Arc<std::sync::Mutex<Vec<serde_json::Value>>>,
    mails: Arc<std::sync::Mutex<Vec<Vec<String>>>>,
    _dir: tempfile::TempDir,
}

/// top → mid → leaf, the leaf's security officer with an e-mail address; a webhook and an SMTP sink.
async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = taishi_store::open(&format!("sqlite://{}", dir.path().join("x.db").display()))
        .await
        .unwrap();
    let sys = Actor::system("test");
    let mut parent = None;
    let mut leaf = OrgId(0);
    for code in ["top", "mid", "leaf"] {
        let mut contacts = Contacts::default();
        if code == "leaf" {
            contacts.security_officer.email = OFFICER.into();
        }
        let o = store
            .create_org(
                &sys,
                OrgInput {
                    parent_id: parent,
                    code: code.into(),
                    name: format!("org {code}"),
                    kind: OrgKind::Department,
                    sector: Sector::Education,
                    region_code: None,
                    critical_infrastructure: false,
                    contacts,
                    notes: String::new(),
                },
            )
            .await
            .unwrap();
        parent = Some(o.id);
        leaf = o.id;
    }
    let (url, hooks) = receiver().await;
    let (port, mails) = smtp_sink().await;
    let notifier = notifier(url, port, vec![], vec![SOC.into()]);
    let t0: Timestamp = "2026-11-02T02:00:00Z".parse().unwrap();
    let clock = ManualClock::at(t0);
    let svc = LoopService::new(store.clone(), Arc::new(clock.clone())).with_notifier(notifier);
    World {
        store,
        svc,
        clock,
        t0,
        leaf,
        hooks,
        mails,
        _dir: dir,
    }
}

fn analyst() -> Caller {
    Caller {
        actor: LoopActor::user("ana", Role::Analyst),
        scope: None,
    }
}

fn officer(scope: OrgId) -> Caller {
    Caller {
        actor: LoopActor::user("off", Role::Officer),
        scope: Some(scope),
    }
}

async fn finding(w: &World, check: &str) -> uuid::Uuid {
    w.svc
        .ingest(Sighting {
            source: FindingSource::Probe,
            check: check.into(),
            key: String::new(),
            org: w.leaf,
            asset: AssetId(1),
            title: format!("{check} on portal"),
            severity: Severity::High,
            exploited: false,
            internet_exposed: false,
            evidence: serde_json::json!({}),
            seen_at: w.svc.now(),
        })
        .await
        .unwrap()
        .finding
        .id
}

fn sweep_kinds(r: &taishi_loop::SweepReport) -> Vec<&str> {
    r.events.iter().map(|e| e.kind.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extension_requested_granted_and_swept_against_the_new_deadline() {
    let w = world().await;
    let f = finding(&w, "tls.legacy").await;
    let n = w
        .svc
        .draft_notice(&analyst(), w.leaf, vec![f], "TLS 1.0", vec![])
        .await
        .unwrap();
    let n = w.svc.issue(&analyst(), n.id, "").await.unwrap();
    let due = n.rectify_due.unwrap();
    assert_eq!(due, w.t0 + hours(24 * 14));
    w.svc
        .act(&officer(w.leaf), n.id, NoticeAction::Acknowledge, "")
        .await
        .unwrap();
    w.mails.lock().unwrap().clear();

    w.clock.set(w.t0 + hours(24 * 10));
    let ask = NoticeAction::RequestExtension {
        until: due + hours(24 * 7),
        reason: "等待厂商补丁 / waiting for the vendor patch".into(),
    };
    // An officer of another subtree does not even see it.
    let other = OrgId(9999);
    assert!(
        w.svc
            .extension(&officer(other), n.id, ask.clone(), "")
            .await
            .is_err()
    );
    w.svc
        .extension(&officer(w.leaf), n.id, ask, "")
        .await
        .unwrap();
    // The request goes to the analysts, not back to the officer who made it.
    assert_eq!(w.mails.lock().unwrap().clone(), [vec![SOC.to_owned()]]);
    // Officers cannot grant; the analyst grants five days instead of seven.
    let grant = NoticeAction::GrantExtension {
        until: due + hours(24 * 5),
    };
    assert!(
        w.svc
            .extension(&officer(w.leaf), n.id, grant.clone(), "")
            .await
            .is_err()
    );
    let n = w
        .svc
        .extension(&analyst(), n.id, grant, "five days")
        .await
        .unwrap();
    let new_due = due + hours(24 * 5);
    assert_eq!(n.rectify_due, Some(new_due));
    let entry = n.history.last().unwrap();
    assert_eq!(entry.action, "grant_extension");
    assert_eq!(
        entry.deadline.map(|d| (d.from, d.to)),
        Some((Some(due), new_due))
    );
    assert_eq!(w.mails.lock().unwrap()[1], [OFFICER.to_owned()]);

    // Past the old deadline: nothing (not overdue, the new one is days away).
    w.clock.set(due + hours(1));
    assert!(w.svc.sweep().await.unwrap().events.is_empty());
    assert!(
        !w.store
            .get_notice(n.id)
            .await
            .unwrap()
            .is_overdue(w.svc.now())
    );
    // The reminder comes 24 h before the new deadline, the overdue flag and 督办 after it.
    w.clock.set(new_due - hours(12));
    assert_eq!(
        sweep_kinds(&w.svc.sweep().await.unwrap()),
        ["deadline_approaching"]
    );
    w.clock.set(new_due + hours(1));
    assert_eq!(
        sweep_kinds(&w.svc.sweep().await.unwrap()),
        ["overdue", "escalated"]
    );
    assert_eq!(
        events(&w.hooks),
        [
            "issued",
            "extension_requested",
            "extension_granted",
            "deadline_approaching",
            "overdue",
            "escalated"
        ]
    );
    let log: Vec<(String, String)> = w
        .store
        .deliveries(n.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|d| d.event.starts_with("extension"))
        .map(|d| (d.event, d.channel))
        .collect();
    assert_eq!(log.len(), 4, "{log:?}");
    assert!(log.contains(&("extension_requested".into(), "email".into())));
    assert!(log.contains(&("extension_granted".into(), "webhook:soc".into())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overdue_notice_extended_directly_is_overdue_again_only_after_the_new_deadline() {
    let w = world().await;
    let f = finding(&w, "http.headers").await;
    let n = w
        .svc
        .draft_notice(&analyst(), w.leaf, vec![f], "headers", vec![])
        .await
        .unwrap();
    let n = w.svc.issue(&analyst(), n.id, "").await.unwrap();
    let due = n.rectify_due.unwrap();
    w.clock.set(due + hours(2));
    assert_eq!(
        sweep_kinds(&w.svc.sweep().await.unwrap()),
        ["ack_overdue", "overdue", "escalated"]
    );
    let new_due = due + hours(24 * 10);
    let extend = NoticeAction::Extend {
        until: new_due,
        reason: "春节假期 / holidays".into(),
    };
    assert!(
        w.svc
            .extension(&officer(w.leaf), n.id, extend.clone(), "")
            .await
            .is_err(),
        "officers cannot extend directly"
    );
    w.svc.extension(&analyst(), n.id, extend, "").await.unwrap();
    w.clock.set(due + hours(24 * 5));
    assert!(w.svc.sweep().await.unwrap().events.is_empty());
    // After the new deadline: overdue again, and the next level of 督办 (to the grandparent).
    w.clock.set(new_due + hours(1));
    let r = w.svc.sweep().await.unwrap();
    assert_eq!(sweep_kinds(&r), ["overdue", "escalated"]);
    let n = w.store.get_notice(n.id).await.unwrap();
    assert_eq!(n.escalations.len(), 2);
    assert!(w.svc.sweep().await.unwrap().events.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn risk_acceptance_warns_once_then_reopens_with_notifications() {
    let w = world().await;
    let f = finding(&w, "dns.spf").await;
    w.svc
        .accept_risk(
            &analyst(),
            f,
            Some(30),
            "局长批准 / approved by the director",
        )
        .await
        .unwrap();
    let until = w.t0 + hours(24 * 30);
    w.clock.set(w.t0 + hours(24 * 19));
    let r = w.svc.sweep().await.unwrap();
    assert!(r.expiring.is_empty() && w.mails.lock().unwrap().is_empty());
    // Ten days before: the warning, to the org's officer and the analysts.
    w.clock.set(until - hours(24 * 10) + hours(1));
    let r = w.svc.sweep().await.unwrap();
    assert_eq!(r.expiring, [f]);
    assert_eq!(
        w.mails.lock().unwrap().clone(),
        [vec![OFFICER.to_owned(), SOC.to_owned()]]
    );
    let stored = w.store.get_finding(f).await.unwrap();
    assert!(
        stored
            .history
            .iter()
            .any(|e| e.kind == FindingEventKind::RiskExpiryWarned { until })
    );
    // Later sweeps do not warn again.
    for d in [1, 2, 5] {
        w.clock.set(until - hours(24 * 10) + hours(24 * d));
        assert_eq!(w.svc.sweep().await.unwrap().expiring, [f]);
    }
    assert_eq!(w.mails.lock().unwrap().len(), 1);
    // At expiry: reopened, and both told.
    w.clock.set(until + hours(1));
    let r = w.svc.sweep().await.unwrap();
    assert_eq!(r.reopened, [f]);
    let stored = w.store.get_finding(f).await.unwrap();
    assert_eq!(stored.status, FindingStatus::Open);
    assert!(stored.history.iter().any(|e| e.kind
        == FindingEventKind::Reopened {
            reason: ReopenReason::RiskAcceptanceExpired
        }));
    assert_eq!(
        events(&w.hooks),
        ["risk_acceptance_expiring", "risk_acceptance_expired"]
    );
    assert_eq!(w.mails.lock().unwrap().len(), 2);
    let log = w.store.deliveries(f).await.unwrap();
    assert_eq!(log.len(), 4, "{log:?}");
    assert!(log.iter().all(|d| d.delivered));
    // Nothing more once it is open.
    w.clock.set(until + hours(48));
    let r = w.svc.sweep().await.unwrap();
    assert!(r.reopened.is_empty() && r.expiring.is_empty());
}
