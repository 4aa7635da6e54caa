//! `serve --demo`'s monitor: the constituency is seeded over the lab and real findings appear within a
//! minute; seeding again replaces the lab's assets without duplicating orgs or users.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use taishi_loop::SystemClock;
use taishi_model::{AssetFilter, OrgFilter, Page};
use taishi_monitor::{Monitor, MonitorOptions};
use taishi_store::FindingQuery;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_shows_real_findings_within_a_minute() {
    let w = common::world().await;
    let m = Monitor::start(
        Arc::clone(&w.store),
        Arc::new(SystemClock),
        MonitorOptions {
            demo: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let orgs = w
        .store
        .list_orgs(
            &OrgFilter::default(),
            Page {
                limit: 100,
                after: None,
            },
        )
        .await
        .unwrap()
        .items;
    assert_eq!(orgs.len(), 1 + 11);
    let assets = w
        .store
        .list_assets(
            &AssetFilter::default(),
            Page {
                limit: 100,
                after: None,
            },
        )
        .await
        .unwrap()
        .items;
    assert_eq!(assets.len(), 25);
    assert!(
        m.lines
            .iter()
            .any(|l| l.contains("demo-officer-edu")
                && l.contains(taishi_monitor::demo::DEMO_PASSWORD))
    );
    let lab = m.lab().unwrap();

    let start = Instant::now();
    let with_findings = loop {
        let open = w
            .store
            .list_findings(&FindingQuery {
                statuses: vec!["open".into()],
                ..Default::default()
            })
            .await
            .unwrap();
        let owners: BTreeSet<_> = open.iter().map(|f| f.asset).collect();
        if owners.len() >= 15 || start.elapsed() > Duration::from_secs(60) {
            break (open, owners);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(
        with_findings.1.len() >= 15,
        "only {} assets with findings after a minute",
        with_findings.1.len()
    );
    // The good sites stay clean.
    for name in ["good", "good-https"] {
        let target = &lab.site(name).unwrap().target;
        let a = assets.iter().find(|a| &a.identity == target).unwrap();
        assert!(!with_findings.1.contains(&a.id), "{name} has findings");
    }
    drop(m);

    // A second start (new lab ports) replaces the assets and keeps orgs and users.
    let lab2 = taishi_probe::lab::Lab::start().await.unwrap();
    let s = taishi_monitor::demo::seed(w.store.as_ref(), &lab2)
        .await
        .unwrap();
    assert_eq!((s.orgs, s.assets, s.users.len()), (0, 25, 0));
    let assets = w
        .store
        .list_assets(
            &AssetFilter::default(),
            Page {
                limit: 100,
                after: None,
            },
        )
        .await
        .unwrap()
        .items;
    assert_eq!(assets.len(), 25);
}
