//! The asset page's observation panels through `Router::oneshot`: the latest runs per check and the
//! 30-day availability chart from stored observations, in Chinese and English, and nothing of another
//! township's asset.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use taishi_model::{AssetId, OrgId};
use taishi_store::{Observation, ObservationOutcome};
use tower::ServiceExt;

mod common;
use common::{PW, world};

/// Signs in through the API and returns the session cookie pair.
async fn session(app: &axum::Router, name: &str) -> String {
    let req = Request::post("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"name": name, "password": PW}).to_string(),
        ))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    resp.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .find(|c| c.starts_with("taishi_session="))
        .expect("session cookie")
}

async fn page(app: &axum::Router, path: &str, cookie: &str, lang: &str) -> (StatusCode, String) {
    let req = Request::get(path)
        .header(header::COOKIE, format!("{cookie}; taishi_lang={lang}"))
        .body(Body::empty())
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

fn run(asset: i64, org: OrgId, check: &str, at: Timestamp, up: Option<bool>) -> Observation {
    let outcome = match up {
        Some(false) => ObservationOutcome::Fail,
        None if check == "tls" => ObservationOutcome::Error,
        _ => ObservationOutcome::Pass,
    };
    Observation {
        asset: AssetId(asset),
        org,
        check: check.into(),
        target: "https://a.example.cn/".into(),
        at,
        outcome,
        duration_ms: 1234,
        observation: json!({}),
        error: (outcome == ObservationOutcome::Error).then(|| "handshake <refused>".to_owned()),
        findings: 0,
        up,
        latency_ms: up.filter(|u| *u).map(|_| 80),
    }
}

#[tokio::test]
async fn asset_page_shows_recent_runs_and_thirty_days_of_availability() {
    let w = world().await;
    let now = Timestamp::now();
    let id = w.evil_asset;
    // Days are China Standard Time days: place runs inside them so the test never straddles midnight.
    let cst = jiff::tz::TimeZone::fixed(jiff::tz::offset(8));
    let today = now
        .to_zoned_datetime(cst.clone())
        .start_of_day()
        .unwrap()
        .timestamp();
    let mut obs = Vec::new();
    // Two days ago: 4 runs, 1 down; today: 2 up. A TLS run that ended in error.
    let two_days_ago = today - SignedDuration::from_hours(48 - 10);
    for (at, up) in [
        (two_days_ago, true),
        (two_days_ago + SignedDuration::from_mins(5), false),
        (two_days_ago + SignedDuration::from_mins(10), true),
        (two_days_ago + SignedDuration::from_mins(15), true),
        (today, true),
        (today + SignedDuration::from_millis(1), true),
    ] {
        obs.push(run(id, w.a.id, "availability", at, Some(up)));
    }
    obs.push(run(id, w.a.id, "tls", today, None));
    w.store.add_observations(&obs).await.unwrap();

    let cookie = session(&w.app, "officer_a").await;
    let (status, html) = page(&w.app, &format!("/assets/{id}"), &cookie, "zh-CN").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("近 30 天可用性"), "{html}");
    assert!(
        html.contains("近 30 天共 6 次可用性检测，可访问率 83.3%"),
        "{html}"
    );
    assert!(html.contains(r#"id="availability-chart""#));
    // 30 day slots: two days with runs, 28 empty.
    assert_eq!(html.matches(r#"class="day""#).count(), 2, "{html}");
    assert_eq!(html.matches(r#"class="day empty""#).count(), 28);
    assert!(html.contains("75.0% (3/4)") && html.contains("100.0% (2/2)"));
    // Recent runs per check: availability (5 shown of 6) and tls with its escaped error.
    let table = &html[html
        .find(r#"id="observations""#)
        .expect("observation table")..];
    assert_eq!(table.matches("<tr>").count(), 1 + 5 + 1, "{table}");
    assert!(
        table.contains("出错") && table.contains("handshake &#60;refused&#62;"),
        "{table}"
    );
    assert!(!table.contains("handshake <refused>"));
    assert!(table.contains("1234 毫秒"));

    let (_, en) = page(&w.app, &format!("/assets/{id}"), &cookie, "en").await;
    assert!(en.contains("Availability, last 30 days"));
    assert!(en.contains("83.3% of 6 availability checks found the site up"));
    assert!(en.contains("Passed") && en.contains("Error"));

    // Township B's officer does not see A's asset at all.
    let other = session(&w.app, "officer_b").await;
    let (status, html) = page(&w.app, &format!("/assets/{id}"), &other, "en").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!html.contains("availability-chart"));
}

#[tokio::test]
async fn asset_page_without_runs_says_so() {
    let w = world().await;
    let cookie = session(&w.app, "officer_a").await;
    let (status, html) = page(&w.app, &format!("/assets/{}", w.evil_asset), &cookie, "en").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("No availability checks in the last 30 days."));
    assert!(html.contains("No checks have run against this asset yet."));
    assert_eq!(html.matches(r#"class="day empty""#).count(), 30);
}
