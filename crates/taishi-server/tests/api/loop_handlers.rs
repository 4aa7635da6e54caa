//! Handler tests of the closed-loop routes over the seeded fixture: filters and pages, the finding's
//! history, triage by an analyst (single and bulk), attachment limits and safe downloads, bulletins.

use crate::common::*;
use crate::loop_fx::PNG;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

async fn upload(
    fx: &Fx,
    token: &str,
    notice: uuid::Uuid,
    name: &str,
    data: &[u8],
) -> (StatusCode, String) {
    let b = "xYzBoundary";
    let mut body = format!(
        "--{b}\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\nfixed\r\n--{b}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/notices/{notice}/rectifications"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={b}"),
        )
        .body(Body::from(body))
        .unwrap();
    let r = fx.app.clone().oneshot(req).await.unwrap();
    let s = r.status();
    let t = r.into_body().collect().await.unwrap().to_bytes();
    (s, String::from_utf8_lossy(&t).into_owned())
}

#[tokio::test]
async fn findings_filter_search_page_and_show_history() {
    let fx = fixture().await;
    let t = &fx.bearer["admin"];
    let all = call(
        &fx.app,
        Method::GET,
        "/api/v1/findings?limit=1",
        Auth::Bearer(t),
        None,
    )
    .await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    let j = all.json();
    assert_eq!(j["items"].as_array().unwrap().len(), 1);
    // Keyset pages: `next` is an opaque cursor, `total` counts every match on the first page only.
    let total = j["total"].as_u64().unwrap();
    assert!(total >= 2, "{j}");
    let next = j["next"].as_str().unwrap().to_owned();
    let p2 = call(
        &fx.app,
        Method::GET,
        &format!("/api/v1/findings?limit=1&after={next}"),
        Auth::Bearer(t),
        None,
    )
    .await
    .json();
    assert_ne!(p2["items"][0]["id"], j["items"][0]["id"], "{p2}");
    assert!(p2.get("total").is_none(), "{p2}");
    let r = call(
        &fx.app,
        Method::GET,
        &format!("/api/v1/findings?limit=1&sort=severity&after={next}"),
        Auth::Bearer(t),
        None,
    )
    .await;
    assert_eq!(
        (r.status, r.json()["error"]["field"].clone()),
        (StatusCode::BAD_REQUEST, json!("after"))
    );
    let r = call(
        &fx.app,
        Method::GET,
        "/api/v1/findings?q=ZZB&severity=high",
        Auth::Bearer(t),
        None,
    )
    .await
    .json();
    assert_eq!(r["items"].as_array().unwrap().len(), 1);
    let r = call(
        &fx.app,
        Method::GET,
        "/api/v1/findings?severity=low",
        Auth::Bearer(t),
        None,
    )
    .await
    .json();
    assert!(r["items"].as_array().unwrap().is_empty());
    let r = call(
        &fx.app,
        Method::GET,
        "/api/v1/findings?min_age_days=3",
        Auth::Bearer(t),
        None,
    )
    .await
    .json();
    assert!(r["items"].as_array().unwrap().is_empty());
    let r = call(
        &fx.app,
        Method::GET,
        "/api/v1/findings?severity=bad",
        Auth::Bearer(t),
        None,
    )
    .await;
    assert_eq!(
        (r.status, r.json()["error"]["field"].clone()),
        (StatusCode::BAD_REQUEST, json!("severity"))
    );
    let r = call(
        &fx.app,
        Method::GET,
        &format!("/api/v1/findings/{}", fx.lp.finding_a),
        Auth::Bearer(t),
        None,
    )
    .await
    .json();
    assert_eq!(r["finding"]["history"][0]["kind"]["kind"], "opened", "{r}");
    assert_eq!(r["notices"][0]["id"], fx.lp.notice_a.to_string());
}

#[tokio::test]
async fn analysts_triage_findings_one_by_one_and_in_bulk() {
    let fx = fixture().await;
    let t = &fx.bearer["analyst_a"];
    let fa = fx.lp.finding_a;
    let r = call(
        &fx.app,
        Method::POST,
        &format!("/api/v1/findings/{fa}/accept-risk"),
        Auth::Bearer(t),
        Some(json!({"reason": ""})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let r = call(
        &fx.app,
        Method::POST,
        &format!("/api/v1/findings/{fa}/accept-risk"),
        Auth::Bearer(t),
        Some(json!({"reason": "approved by 张三", "until": "2099-01-01T00:00:00Z"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["status"]["status"], "risk_accepted");
    // Bulk: A's finding is done, B's is reported not found (outside the analyst's subtree).
    let r = call(&fx.app, Method::POST, "/api/v1/findings/bulk", Auth::Bearer(t),
        Some(json!({"ids": [fa, fx.lp.finding_b], "action": "false_positive", "reason": "scanner artefact"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let v = r.json();
    assert_eq!(v[0]["ok"], true);
    assert_eq!(
        (v[1]["ok"].clone(), v[1]["code"].clone()),
        (json!(false), json!("not_found"))
    );
    assert!(!r.text.contains("zzb"));
    let f = fx.store.get_finding(fx.lp.finding_b).await.unwrap();
    assert_eq!(f.status.as_str(), "open");
}

#[tokio::test]
async fn attachments_are_limited_and_always_downloaded() {
    let fx = fixture().await;
    let officer = &fx.bearer["officer_a"];
    // A's notice waits in verification; the analyst returns it, then the officer resubmits.
    let t = &fx.bearer["analyst_a"];
    let na = fx.lp.notice_a;
    let r = call(
        &fx.app,
        Method::POST,
        &format!("/api/v1/notices/{na}/return"),
        Auth::Bearer(t),
        Some(json!({"reason": "still TLS 1.0"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let (s, body) = upload(
        &fx,
        officer,
        na,
        "report.html",
        b"<html><script>alert(1)</script>",
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (s, body) = upload(&fx, officer, na, "fake.png", b"<html>not a png").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (s, body) = upload(&fx, officer, na, "截图.png", PNG).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    // The officer downloads its own attachment: as a file, typed as an image.
    let r = call(
        &fx.app,
        Method::GET,
        &format!("/api/v1/notices/{na}/attachments/{}", fx.lp.att_a),
        Auth::Bearer(officer),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers[header::CONTENT_TYPE], "image/png");
    assert!(
        r.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=")
    );
    assert_eq!(r.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let d = call(
        &fx.app,
        Method::GET,
        &format!("/api/v1/notices/{na}"),
        Auth::Bearer(officer),
        None,
    )
    .await
    .json();
    assert_eq!(d["rectifications"].as_array().unwrap().len(), 2, "{d}");
    assert_eq!(d["notice"]["state"], "verifying");
}

#[tokio::test]
async fn bulletins_are_generated_listed_and_downloaded() {
    let fx = fixture().await;
    let t = &fx.bearer["analyst_a"];
    let a = fx.a.id;
    let r = call(
        &fx.app,
        Method::GET,
        &format!("/api/v1/orgs/{a}/bulletins/{}", fx.lp.bulletin_a),
        Auth::Bearer(t),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    let r = call(
        &fx.app,
        Method::POST,
        "/api/v1/bulletins",
        Auth::Bearer(t),
        Some(json!({"org_id": a, "period": "2026-13"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let r = call(
        &fx.app,
        Method::POST,
        "/api/v1/bulletins",
        Auth::Bearer(t),
        Some(json!({"org_id": a, "period": "2026-Q4"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["files"].as_array().unwrap().len(), 3);
    assert!(!r.text.contains("zzb"), "a bulletin of A mentions B");
    let list = call(
        &fx.app,
        Method::GET,
        &format!("/api/v1/orgs/{a}/bulletins"),
        Auth::Bearer(t),
        None,
    )
    .await
    .json();
    assert_eq!(list.as_array().unwrap().len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_sweeper_escalates_overdue_notices() {
    use std::sync::Arc;
    use taishi_loop::{Clock, ManualClock};
    let clock = ManualClock::at(jiff::Timestamp::now());
    let c = clock.clone();
    let clock_fn: taishi_server::ClockFn = Arc::new(move || c.now());
    let fx = fixture_with(
        taishi_server::ServerOptions::default(),
        Some(clock_fn.clone()),
    )
    .await;
    let svc = taishi_loop::LoopService::new(fx.store.clone(), Arc::new(clock.clone()));
    let mut s = crate::loop_fx::sighting(
        &fx.a1,
        &fx.asset_a,
        "zza.example.cn",
        taishi_model::Severity::Critical,
    );
    s.check = "exposure.admin_panel".into();
    let f = svc.ingest(s).await.unwrap().finding;
    let r = call(
        &fx.app,
        Method::POST,
        "/api/v1/notices",
        Auth::Bearer(&fx.bearer["analyst_a"]),
        Some(json!({"org_id": fx.a1.id, "findings": [f.id], "title": "后台暴露"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id: uuid::Uuid = r.json()["id"].as_str().unwrap().parse().unwrap();
    clock.advance(jiff::SignedDuration::from_hours(24 * 40));
    let state = taishi_server::AppState::with_clock(fx.store.clone(), Default::default(), clock_fn);
    let task = taishi_server::sweeper::spawn(state, std::time::Duration::from_millis(50));
    let mut escalated = false;
    for _ in 0..200 {
        if !fx
            .store
            .get_notice(id)
            .await
            .unwrap()
            .escalations
            .is_empty()
        {
            escalated = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    task.abort();
    assert!(escalated, "no escalation after 40 days overdue");
}
