//! Observations and availability through the router: pages newest first with the `check` filter,
//! availability per day and for the period, per-org availability limited to the caller's scope, and
//! bad parameters named.

use crate::common::*;
use axum::http::{Method, StatusCode};
use jiff::Timestamp;
use taishi_model::{Asset, AssetId};
use taishi_store::{Observation, ObservationOutcome};

fn run(asset: &Asset, check: &str, at: &str, up: Option<bool>) -> Observation {
    Observation {
        asset: asset.id,
        org: asset.org_id,
        check: check.into(),
        target: asset.identity.clone(),
        at: at.parse::<Timestamp>().unwrap(),
        outcome: if up == Some(false) {
            ObservationOutcome::Fail
        } else {
            ObservationOutcome::Pass
        },
        duration_ms: 42,
        observation: serde_json::json!({"up": up}),
        error: None,
        findings: u32::from(up == Some(false)),
        up,
        latency_ms: up.filter(|u| *u).map(|_| 300),
    }
}

async fn seed(fx: &Fx) {
    let a = &fx.asset_a;
    let mut obs = vec![
        // 1 May (China time): 4 runs, 3 up.
        run(a, "availability", "2026-05-01T01:00:00Z", Some(true)),
        run(a, "availability", "2026-05-01T02:00:00Z", Some(true)),
        run(a, "availability", "2026-05-01T03:00:00Z", Some(false)),
        run(a, "availability", "2026-05-01T04:00:00Z", Some(true)),
        // 2 May: 1 run, up.
        run(a, "availability", "2026-05-02T04:00:00Z", Some(true)),
        run(a, "tls", "2026-05-02T05:00:00Z", None),
    ];
    obs.push(run(
        &fx.asset_b,
        "availability",
        "2026-05-01T01:00:00Z",
        Some(false),
    ));
    fx.store.add_observations(&obs).await.unwrap();
}

#[tokio::test]
async fn observations_page_newest_first_and_filter_by_check() {
    let fx = fixture().await;
    seed(&fx).await;
    let t = &fx.bearer["viewer_a"];
    let id = fx.asset_a.id;
    let r = call(
        &fx.app,
        Method::GET,
        &format!("/api/v1/assets/{id}/observations?limit=2"),
        Auth::Bearer(t),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let j = r.json();
    let items = j["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["check"], "tls");
    assert_eq!(items[0]["at"], "2026-05-02T05:00:00Z");
    assert_eq!(items[1]["check"], "availability");
    assert_eq!(items[1]["outcome"], "pass");
    let next = j["next"].as_i64().expect("a next page");
    let r = call(
        &fx.app,
        Method::GET,
        &format!("/api/v1/assets/{id}/observations?after={next}&limit=10"),
        Auth::Bearer(t),
        None,
    )
    .await;
    let j = r.json();
    assert_eq!(j["items"].as_array().unwrap().len(), 4);
    assert!(j["next"].is_null());
    assert_eq!(j["items"][3]["at"], "2026-05-01T01:00:00Z");

    let r = call(
        &fx.app,
        Method::GET,
        &format!("/api/v1/assets/{id}/observations?check=availability&limit=100"),
        Auth::Bearer(t),
        None,
    )
    .await;
    let j = r.json();
    let items = j["items"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    assert!(items.iter().all(|o| o["check"] == "availability"));
    assert_eq!(items[2]["outcome"], "fail");

    for (uri, field) in [
        (
            format!("/api/v1/assets/{id}/observations?check=a%20b"),
            "check",
        ),
        (format!("/api/v1/assets/{id}/observations?limit=0"), "limit"),
    ] {
        let r = call(&fx.app, Method::GET, &uri, Auth::Bearer(t), None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{uri}: {}", r.text);
        assert_eq!(r.json()["error"]["field"], field, "{uri}");
    }
    let r = call(
        &fx.app,
        Method::GET,
        &format!("/api/v1/assets/{id}/observations?nope=1"),
        Auth::Bearer(t),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // B's asset is not found for a caller of A.
    let r = call(
        &fx.app,
        Method::GET,
        &format!("/api/v1/assets/{}/observations", fx.asset_b.id),
        Auth::Bearer(t),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = call(
        &fx.app,
        Method::GET,
        &format!("/api/v1/assets/{}/observations", AssetId(999_999)),
        Auth::Bearer(t),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn availability_per_day_and_period_and_per_org_in_scope() {
    let fx = fixture().await;
    seed(&fx).await;
    let t = &fx.bearer["officer_a"];
    let id = fx.asset_a.id;
    let span = "from=2026-04-30T16:00:00Z&to=2026-05-31T16:00:00Z";
    let r = call(
        &fx.app,
        Method::GET,
        &format!("/api/v1/assets/{id}/availability?{span}"),
        Auth::Bearer(t),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let j = r.json();
    assert_eq!(j["period"]["runs"], 5);
    assert_eq!(j["period"]["up"], 4);
    assert_eq!(j["period"]["percent"], 80.0);
    let days = j["days"].as_array().unwrap();
    assert_eq!(days.len(), 2);
    assert_eq!(days[0]["day"], "2026-05-01");
    assert_eq!(days[0]["runs"], 4);
    assert_eq!(days[0]["percent"], 75.0);
    assert_eq!(days[1]["day"], "2026-05-02");
    assert_eq!(days[1]["percent"], 100.0);

    // UTC days: the same runs, other boundaries do not move them here; a span without runs is empty.
    let r = call(
        &fx.app,
        Method::GET,
        &format!("/api/v1/assets/{id}/availability?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z&utc_offset_minutes=0"),
        Auth::Bearer(t),
        None,
    )
    .await;
    let j = r.json();
    assert_eq!(j["period"]["runs"], 0);
    assert!(j["period"]["percent"].is_null());
    assert!(j["days"].as_array().unwrap().is_empty());

    for (q, field) in [
        ("from=yesterday", "from"),
        ("from=2026-05-02T00:00:00Z&to=2026-05-01T00:00:00Z", "from"),
        ("from=2020-01-01T00:00:00Z&to=2026-05-01T00:00:00Z", "from"),
        ("to=2026-13-01", "to"),
        ("utc_offset_minutes=5000", "utc_offset_minutes"),
    ] {
        let r = call(
            &fx.app,
            Method::GET,
            &format!("/api/v1/assets/{id}/availability?{q}"),
            Auth::Bearer(t),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}: {}", r.text);
        assert_eq!(r.json()["error"]["field"], field, "{q}");
    }

    // Per org: A's officer sees A's org, never B's.
    let r = call(
        &fx.app,
        Method::GET,
        &format!("/api/v1/availability?{span}"),
        Auth::Bearer(t),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let orgs = r.json()["orgs"].as_array().unwrap().clone();
    assert_eq!(orgs.len(), 1, "{orgs:?}");
    assert_eq!(orgs[0]["org"], fx.asset_a.org_id.0);
    assert_eq!(orgs[0]["percent"], 80.0);
    let admin = call(
        &fx.app,
        Method::GET,
        &format!("/api/v1/availability?{span}"),
        Auth::Bearer(&fx.bearer["admin"]),
        None,
    )
    .await;
    let all = admin.json()["orgs"].as_array().unwrap().clone();
    assert_eq!(all.len(), 2);
    assert!(
        all.iter()
            .any(|o| o["org"] == fx.asset_b.org_id.0 && o["percent"] == 0.0)
    );
    let r = call(
        &fx.app,
        Method::GET,
        &format!("/api/v1/availability?within={}", fx.b.id),
        Auth::Bearer(t),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
