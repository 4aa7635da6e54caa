//! Scheduled bulletins (常态化通报) with a manual clock moved across a month boundary: nothing before the
//! 1st at 08:00 (UTC+8), then the month's bulletin in each configured format, archived once however often
//! the schedule runs, and announced to the root's channels.

#[path = "common/receiver.rs"]
#[allow(dead_code)]
mod receiver;

use jiff::Timestamp;
use receiver::{events, notifier, receiver, smtp_sink};
use std::sync::Arc;
use taishi_loop::bulletin::BulletinSchedule;
use taishi_loop::{LoopService, ManualClock};
use taishi_model::indicator::Period;
use taishi_model::*;

fn bj(s: &str) -> Timestamp {
    format!("{s}+08:00").parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_month_bulletin_is_published_once_after_the_boundary() {
    let dir = tempfile::tempdir().unwrap();
    let store = taishi_store::open(&format!("sqlite://{}", dir.path().join("b.db").display()))
        .await
        .unwrap();
    let sys = Actor::system("test");
    let mut contacts = Contacts::default();
    contacts.security_officer.email = "office@district.example".into();
    let root = store
        .create_org(
            &sys,
            OrgInput {
                parent_id: None,
                code: "district".into(),
                name: "某区网信办".into(),
                kind: OrgKind::Department,
                sector: Sector::Government,
                region_code: None,
                critical_infrastructure: false,
                contacts,
                notes: String::new(),
            },
        )
        .await
        .unwrap();
    let (url, hooks) = receiver().await;
    let (port, mails) = smtp_sink().await;
    let notifier = notifier(url, port, vec!["bulletin_published".into()], vec![]);
    let clock = ManualClock::at(bj("2026-11-30T23:00:00"));
    let svc = LoopService::new(store.clone(), Arc::new(clock.clone())).with_notifier(notifier);
    let schedule: BulletinSchedule =
        toml::from_str("roots = [\"district\"]\nperiods = [\"month\"]\ndelay_hours = 8\n").unwrap();
    schedule.validate().unwrap();

    // October's bulletin is due at once (the server starts mid-month and catches up); November's not yet.
    let first = svc.publish_scheduled(&schedule).await.unwrap();
    assert_eq!(
        first.iter().map(|p| (p.root, p.period)).collect::<Vec<_>>(),
        [(root.id, Period::Month(2026, 10))]
    );
    assert!(svc.publish_scheduled(&schedule).await.unwrap().is_empty());
    // Across midnight into December: still before 08:00, nothing new.
    clock.set(bj("2026-12-01T07:59:00"));
    assert!(svc.publish_scheduled(&schedule).await.unwrap().is_empty());
    clock.set(bj("2026-12-01T08:00:00"));
    let nov = svc.publish_scheduled(&schedule).await.unwrap();
    assert_eq!(nov.len(), 1);
    assert_eq!(nov[0].period, Period::Month(2026, 11));
    assert_eq!(nov[0].formats, ["html", "md", "csv"]);
    // Running again (every few minutes, or after a restart) archives nothing twice.
    for h in [
        "2026-12-01T08:05:00",
        "2026-12-02T00:00:00",
        "2026-12-31T23:59:00",
    ] {
        clock.set(bj(h));
        assert!(svc.publish_scheduled(&schedule).await.unwrap().is_empty());
    }
    let archived = store.bulletins(root.id).await.unwrap();
    let mut nov_formats: Vec<&str> = archived
        .iter()
        .filter(|b| b.period == Period::Month(2026, 11))
        .map(|b| b.format.as_str())
        .collect();
    nov_formats.sort();
    assert_eq!(nov_formats, ["csv", "html", "md"]);
    assert_eq!(archived.len(), 6);
    let html = archived
        .iter()
        .find(|b| b.period == Period::Month(2026, 11) && b.format == "html")
        .unwrap();
    assert!(html.content.contains("<svg") && html.content.contains("某区网信办"));
    // Announced once per published period, to the webhook and the root's officer.
    assert_eq!(events(&hooks), ["bulletin_published", "bulletin_published"]);
    let last = hooks.lock().unwrap()[1].clone();
    assert!(last["text"].as_str().unwrap().contains("2026-11"), "{last}");
    assert_eq!(mails.lock().unwrap().len(), 2);
    // A format archived by hand earlier is not archived again: only the missing ones are added.
    clock.set(bj("2027-01-01T09:00:00"));
    svc.bulletin(root.id, Period::Month(2026, 12), true)
        .await
        .unwrap();
    let quarterly: BulletinSchedule = toml::from_str(
        "roots = [\"district\"]\nperiods = [\"month\", \"quarter\"]\nformats = [\"html\", \"md\"]\n",
    )
    .unwrap();
    let jan = svc.publish_scheduled(&quarterly).await.unwrap();
    assert_eq!(
        jan.iter().map(|p| p.period).collect::<Vec<_>>(),
        [Period::Quarter(2026, 4)]
    );
    // An unknown root is named.
    let bad: BulletinSchedule = toml::from_str("roots = [\"nowhere\"]").unwrap();
    let err = svc.publish_scheduled(&bad).await.unwrap_err();
    assert!(err.to_string().contains("nowhere"), "{err}");
}
