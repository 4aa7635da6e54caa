//! The observation conformance cases (migration 0200), each an async fn over `&dyn Store`.

use jiff::Timestamp;
use jiff::civil::date;
use taishi_model::{AssetId, OrgId, Page};
use taishi_store::{
    AvailabilityCounts, AvailabilitySpan, Observation, ObservationOutcome, ObservationQuery, Store,
};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn avail(asset: i64, org: i64, at: &str, up: bool, latency_ms: u64) -> Observation {
    Observation {
        asset: AssetId(asset),
        org: OrgId(org),
        check: "availability".into(),
        target: format!("https://a{asset}.example.cn/"),
        at: ts(at),
        outcome: if up {
            ObservationOutcome::Pass
        } else {
            ObservationOutcome::Fail
        },
        duration_ms: latency_ms + 3,
        observation: serde_json::json!({"up": up, "latency_ms": latency_ms}),
        error: None,
        findings: u32::from(!up),
        up: Some(up),
        latency_ms: up.then_some(latency_ms),
    }
}

fn other(asset: i64, check: &str, at: &str, outcome: ObservationOutcome) -> Observation {
    Observation {
        asset: AssetId(asset),
        org: OrgId(1),
        check: check.into(),
        target: format!("https://a{asset}.example.cn/"),
        at: ts(at),
        outcome,
        duration_ms: 120,
        observation: serde_json::json!({"grade": "B", "nested": {"list": [1, 2]}}),
        error: (outcome == ObservationOutcome::Error).then(|| "timed out".to_owned()),
        findings: 2,
        up: None,
        latency_ms: None,
    }
}

fn span(from: &str, to: &str, slow_ms: u64) -> AvailabilitySpan {
    AvailabilitySpan {
        from: ts(from),
        to: ts(to),
        slow_ms,
    }
}

pub async fn observations_round_trip_and_page_newest_first(s: &dyn Store) {
    let mut batch = Vec::new();
    for i in 0..7 {
        batch.push(avail(1, 1, &format!("2026-03-01T00:0{i}:00Z"), i != 3, 100));
    }
    batch.push(other(
        1,
        "tls",
        "2026-03-01T00:10:00Z",
        ObservationOutcome::Error,
    ));
    batch.push(other(
        2,
        "tls",
        "2026-03-01T00:11:00Z",
        ObservationOutcome::Fail,
    ));
    s.add_observations(&batch).await.unwrap();
    s.add_observations(&[]).await.unwrap();

    let q = ObservationQuery {
        asset: AssetId(1),
        check: None,
    };
    let p1 = s.list_observations(&q, Page::first(3)).await.unwrap();
    assert_eq!(p1.items.len(), 3);
    // Newest first: the tls error run, then availability runs 6 and 5.
    assert_eq!(p1.items[0].obs, batch[7]);
    assert_eq!(p1.items[0].obs.error.as_deref(), Some("timed out"));
    assert_eq!(p1.items[1].obs, batch[6]);
    let next = p1.next.expect("more pages");
    let p2 = s
        .list_observations(
            &q,
            Page {
                limit: 10,
                after: Some(next),
            },
        )
        .await
        .unwrap();
    assert_eq!(p2.items.len(), 5);
    assert!(p2.next.is_none());
    assert_eq!(p2.items.last().unwrap().obs, batch[0]);
    assert!(p2.items.iter().all(|o| o.id < next));

    let tls = s
        .list_observations(
            &ObservationQuery {
                asset: AssetId(1),
                check: Some("tls".into()),
            },
            Page::first(50),
        )
        .await
        .unwrap();
    assert_eq!(tls.items.len(), 1);
    assert_eq!(tls.items[0].obs.observation["nested"]["list"][1], 2);
    let none = s
        .list_observations(
            &ObservationQuery {
                asset: AssetId(9),
                check: None,
            },
            Page::first(50),
        )
        .await
        .unwrap();
    assert!(none.items.is_empty() && none.next.is_none());
}

pub async fn availability_aggregates_per_day_asset_and_org(s: &dyn Store) {
    let mut batch = vec![
        // 1 March (UTC): 3 runs, 2 up, one of them slow.
        avail(1, 1, "2026-03-01T01:00:00Z", true, 100),
        avail(1, 1, "2026-03-01T02:00:00Z", true, 20_000),
        avail(1, 1, "2026-03-01T03:00:00Z", false, 0),
        // 2 March at 20:00 UTC is 3 March in China (UTC+8).
        avail(1, 1, "2026-03-02T20:00:00Z", true, 50),
        // Another asset of another org.
        avail(2, 2, "2026-03-01T05:00:00Z", false, 0),
        // Outside the span.
        avail(1, 1, "2026-04-01T00:00:00Z", false, 0),
    ];
    // Non-availability runs never count.
    batch.push(other(
        1,
        "tls",
        "2026-03-01T04:00:00Z",
        ObservationOutcome::Fail,
    ));
    s.add_observations(&batch).await.unwrap();

    let march = span("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", 15_000);
    let utc = s.availability_days(AssetId(1), march, 0).await.unwrap();
    assert_eq!(utc.len(), 2);
    assert_eq!(utc[0].day, date(2026, 3, 1));
    assert_eq!(
        utc[0].counts,
        AvailabilityCounts {
            runs: 3,
            up: 2,
            slow: 1
        }
    );
    assert_eq!(utc[1].day, date(2026, 3, 2));
    let cn = s
        .availability_days(AssetId(1), march, 8 * 3600)
        .await
        .unwrap();
    assert_eq!(
        cn.iter().map(|d| d.day).collect::<Vec<_>>(),
        [date(2026, 3, 1), date(2026, 3, 3)]
    );

    let total = s.availability_of_asset(AssetId(1), march).await.unwrap();
    assert_eq!(
        total,
        AvailabilityCounts {
            runs: 4,
            up: 3,
            slow: 1
        }
    );
    assert_eq!(total.percent(), Some(75.0));
    assert_eq!(total.bad(), 2);
    let empty = s
        .availability_of_asset(
            AssetId(1),
            span("2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z", 1),
        )
        .await
        .unwrap();
    assert_eq!(empty, AvailabilityCounts::default());
    assert_eq!(empty.percent(), None);

    let by_org = s.availability_by_org(march).await.unwrap();
    assert_eq!(
        by_org,
        vec![
            (
                OrgId(1),
                AvailabilityCounts {
                    runs: 4,
                    up: 3,
                    slow: 1
                }
            ),
            (
                OrgId(2),
                AvailabilityCounts {
                    runs: 1,
                    up: 0,
                    slow: 0
                }
            ),
        ]
    );
    let backwards = span("2026-04-01T00:00:00Z", "2026-03-01T00:00:00Z", 1);
    assert!(s.availability_by_org(backwards).await.is_err());
}

pub async fn prune_deletes_only_older_observations(s: &dyn Store) {
    s.add_observations(&[
        avail(1, 1, "2026-03-01T00:00:00Z", true, 1),
        avail(1, 1, "2026-03-05T00:00:00Z", true, 1),
        other(1, "dns", "2026-03-02T00:00:00Z", ObservationOutcome::Pass),
    ])
    .await
    .unwrap();
    let gone = s
        .prune_observations(ts("2026-03-04T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(gone, 2);
    let left = s
        .list_observations(
            &ObservationQuery {
                asset: AssetId(1),
                check: None,
            },
            Page::first(10),
        )
        .await
        .unwrap();
    assert_eq!(left.items.len(), 1);
    assert_eq!(left.items[0].obs.at, ts("2026-03-05T00:00:00Z"));
    assert_eq!(
        s.prune_observations(ts("2026-03-04T00:00:00Z"))
            .await
            .unwrap(),
        0
    );
}

pub async fn large_batches_are_split(s: &dyn Store) {
    let batch: Vec<Observation> = (0..2_600)
        .map(|i| {
            let mut o = avail(3, 1, "2026-03-01T00:00:00Z", i % 10 != 0, 10);
            o.at += jiff::SignedDuration::from_secs(i);
            o
        })
        .collect();
    s.add_observations(&batch).await.unwrap();
    let c = s
        .availability_of_asset(
            AssetId(3),
            span("2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z", 15_000),
        )
        .await
        .unwrap();
    assert_eq!((c.runs, c.up), (2_600, 2_340));
}
