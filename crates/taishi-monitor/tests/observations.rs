//! Stored observations drive the figures that need history: the government-site week rule opens its
//! finding from a stored week (also after a restart: a fresh scheduler over the same store) and resolves
//! it when the week is good again; the monthly availability metric comes from the stored runs; old
//! observations are pruned after the retention.

mod common;

use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use taishi_loop::Clock;
use taishi_model::finding::FindingStatus;
use taishi_model::{Asset, AssetKind, Page};
use taishi_monitor::{MonitorConfig, Scheduler, WEEK_COMPONENT};
use taishi_probe::checks::availability::AvailabilityConfig;
use taishi_probe::http::HttpLimits;
use taishi_probe::lab::Lab;
use taishi_probe::{CheckConfig, Env, build_suite};
use taishi_store::{FindingQuery, Observation, ObservationOutcome, ObservationQuery, Store};

/// Availability only, so a pass is quick and predictable.
fn config() -> MonitorConfig {
    MonitorConfig {
        suite: vec![CheckConfig::Availability(AvailabilityConfig::default())],
        first_spread_secs: 0,
        availability_metrics_secs: 0,
        ..MonitorConfig::default()
    }
}

fn scheduler(w: &common::World, lab: &Lab) -> Scheduler {
    let cfg = config();
    let mut env = Env::new(HttpLimits::default());
    env.add_ca_pem(&lab.ca_pem, "lab CA").unwrap();
    Scheduler::new(
        Arc::clone(&w.store),
        Arc::new(w.service()),
        Arc::new(w.clock.clone()),
        cfg.clone(),
        build_suite(&cfg.suite, &env).unwrap(),
    )
    .unwrap()
}

/// `n` availability runs of `asset` spread over the six days before `now`, the first `down` failed.
fn week(asset: &Asset, now: Timestamp, n: i64, down: i64) -> Vec<Observation> {
    (0..n)
        .map(|i| {
            let up = i >= down;
            Observation {
                asset: asset.id,
                org: asset.org_id,
                check: "availability".into(),
                target: asset.identity.clone(),
                at: now - SignedDuration::from_secs(6 * 86_400 * (i + 1) / (n + 1)),
                outcome: if up {
                    ObservationOutcome::Pass
                } else {
                    ObservationOutcome::Fail
                },
                duration_ms: 20,
                observation: serde_json::json!({ "up": up }),
                error: None,
                findings: u32::from(!up),
                up: Some(up),
                latency_ms: up.then_some(20),
            }
        })
        .collect()
}

async fn gov_finding(store: &dyn Store) -> Option<FindingStatus> {
    store
        .list_findings(&FindingQuery::default())
        .await
        .unwrap()
        .into_iter()
        .find(|f| f.check == "availability.gov_rule")
        .map(|f| {
            assert_eq!(f.evidence["component"], WEEK_COMPONENT);
            f.status
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn week_rule_from_stored_runs_survives_restarts_and_resolves() {
    let w = common::world().await;
    let lab = Lab::start().await.unwrap();
    let site = lab.site("good-https").unwrap();
    let asset = w.asset(AssetKind::Website, &site.target, &[]).await;
    let now = w.clock.now();
    // A week before taishi (re)started: 150 runs, 10 failed (6.7 % ≥ 5 %).
    w.store
        .add_observations(&week(&asset, now, 150, 10))
        .await
        .unwrap();
    let old = Observation {
        at: now - SignedDuration::from_hours(100 * 24),
        ..week(&asset, now, 1, 0).remove(0)
    };
    w.store.add_observations(&[old]).await.unwrap();

    let sched = scheduler(&w, &lab);
    let rep = sched.tick().await.unwrap();
    assert_eq!(rep.runs, 1, "{rep:?}");
    assert!(rep.failures.is_empty(), "{:?}", rep.failures);
    let status = gov_finding(w.store.as_ref()).await;
    assert!(matches!(status, Some(FindingStatus::Open)), "{status:?}");
    // The pass stored its run, and the 100-day-old one is gone (retention 90 days).
    let all = w
        .store
        .list_observations(
            &ObservationQuery {
                asset: asset.id,
                check: Some("availability".into()),
            },
            Page::first(1000),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(all.len(), 151);
    assert_eq!(all[0].obs.at, now);
    assert_eq!(all[0].obs.up, Some(true));
    // The metric for November: 141 of 151 runs up.
    let m = w
        .store
        .metrics(taishi_model::indicator::Period::Month(2026, 11))
        .await
        .unwrap();
    let metric = |k: &str| {
        m.iter()
            .find(|(o, key, _)| *o == w.org.id && key == k)
            .map(|(_, _, v)| *v)
    };
    assert_eq!(metric("availability_runs"), Some(151.0));
    assert!((metric("availability").unwrap() - 141.0 / 151.0).abs() < 1e-9);

    // A restart: a new scheduler over the same store. The site stays up; more good runs arrive, and
    // an hour later the week rule is evaluated again over the stored week and the finding resolves.
    drop(sched);
    w.clock.advance(SignedDuration::from_mins(61));
    w.store
        .add_observations(&week(&asset, w.clock.now(), 100, 0))
        .await
        .unwrap();
    let sched = scheduler(&w, &lab);
    let rep = sched.tick().await.unwrap();
    assert_eq!(rep.runs, 1);
    assert!(rep.intake.resolved >= 1, "{rep:?}");
    let status = gov_finding(w.store.as_ref()).await;
    assert!(
        matches!(status, Some(FindingStatus::Resolved { .. })),
        "{status:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_few_runs_give_no_verdict_and_change_nothing() {
    let w = common::world().await;
    let lab = Lab::start().await.unwrap();
    let site = lab.site("good-https").unwrap();
    let asset = w.asset(AssetKind::Website, &site.target, &[]).await;
    // 100 runs, all failed: a bad share, but fewer than 7 × 20 runs gives no verdict.
    w.store
        .add_observations(&week(&asset, w.clock.now(), 100, 100))
        .await
        .unwrap();
    let sched = scheduler(&w, &lab);
    let rep = sched.tick().await.unwrap();
    assert_eq!(rep.runs, 1);
    assert!(gov_finding(w.store.as_ref()).await.is_none());
}
