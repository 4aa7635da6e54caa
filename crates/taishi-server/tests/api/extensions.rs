//! Deadline extensions through the API: the officer of the notice's org requests, an analyst grants
//! (or refuses, or extends directly); roles, subtrees, dates and reasons are checked, and the timeline
//! keeps the old and new deadline. And the server's scheduled-bulletin job on a manual clock.

use crate::common::*;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

async fn post(fx: &Fx, who: &str, uri: &str, body: Value) -> Resp {
    call(
        &fx.app,
        Method::POST,
        uri,
        Auth::Bearer(&fx.bearer[who]),
        Some(body),
    )
    .await
}

#[tokio::test]
async fn officer_requests_analyst_grants_and_the_deadline_moves() {
    let fx = fixture().await;
    let created = post(
        &fx,
        "admin",
        "/api/v1/notices",
        json!({"org_id": fx.a1.id, "findings": [fx.lp.finding_a], "title": "延期测试"}),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let n = created.json();
    let id = n["id"].as_str().unwrap().to_owned();
    let due: jiff::Timestamp = n["rectify_due"].as_str().unwrap().parse().unwrap();
    let base = format!("/api/v1/notices/{id}");
    let later = |days: i64| {
        due.checked_add(jiff::SignedDuration::from_hours(24 * days))
            .unwrap()
            .to_string()
    };

    // A viewer may not ask; an officer may not grant or extend.
    let ask = json!({"until": later(7), "reason": "等待厂商补丁"});
    let r = post(
        &fx,
        "viewer_a",
        &format!("{base}/extension/request"),
        ask.clone(),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    // Dates and reasons are checked, naming the field.
    let r = post(
        &fx,
        "officer_a",
        &format!("{base}/extension/request"),
        json!({"until": "next week", "reason": "x"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.json()["error"]["field"], "until", "{}", r.text);
    let r = post(
        &fx,
        "officer_a",
        &format!("{base}/extension/request"),
        json!({"until": "2020-01-01", "reason": "x"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.json()["error"]["field"], "until");
    let r = post(
        &fx,
        "officer_a",
        &format!("{base}/extension/request"),
        json!({"until": later(7), "reason": " "}),
    )
    .await;
    assert_eq!(r.json()["error"]["field"], "reason", "{}", r.text);

    let r = post(
        &fx,
        "officer_a",
        &format!("{base}/extension/request"),
        ask.clone(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let again = post(&fx, "officer_a", &format!("{base}/extension/request"), ask).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    let grant = json!({"until": later(5), "comment": "批准五天"});
    let r = post(
        &fx,
        "officer_a",
        &format!("{base}/extension/grant"),
        grant.clone(),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = post(&fx, "analyst_a", &format!("{base}/extension/grant"), grant).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let n = r.json();
    assert_eq!(n["rectify_due"].as_str().unwrap(), later(5));
    let last = n["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "grant_extension");
    assert_eq!(last["deadline"]["from"].as_str().unwrap(), due.to_string());
    assert!(
        last["actor"].as_str().unwrap().contains("analyst_a"),
        "{last}"
    );
    // Nothing pending: refusing is a conflict; a direct extension works for analysts only.
    let r = post(
        &fx,
        "analyst_a",
        &format!("{base}/extension/refuse"),
        json!({"reason": "x"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let ext = json!({"until": "2099-12-31", "reason": "春节"});
    let r = post(&fx, "officer_a", &format!("{base}/extend"), ext.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = post(&fx, "analyst_a", &format!("{base}/extend"), ext).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(
        r.json()["rectify_due"]
            .as_str()
            .unwrap()
            .starts_with("2099-12-31")
    );
    // The audit log has each step with its actor.
    let audit = call(
        &fx.app,
        Method::GET,
        "/api/v1/audit?limit=1000",
        Auth::Bearer(&fx.bearer["admin"]),
        None,
    )
    .await;
    for action in [
        "notice.request_extension",
        "notice.grant_extension",
        "notice.extend",
    ] {
        assert!(
            audit.text.contains(action),
            "{action} missing from the audit log"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bulletin_job_publishes_each_month_once_by_the_servers_clock() {
    use std::sync::Arc;
    use taishi_loop::{Clock, ManualClock};
    use taishi_model::indicator::Period;
    let bj = |s: &str| format!("{s}+08:00").parse::<jiff::Timestamp>().unwrap();
    let clock = ManualClock::at(bj("2027-01-31T23:00:00"));
    let c = clock.clone();
    let clock_fn: taishi_server::ClockFn = Arc::new(move || c.now());
    let fx = fixture().await;
    let state = taishi_server::AppState::with_clock(fx.store.clone(), Default::default(), clock_fn);
    let schedule = taishi_loop::bulletin::BulletinSchedule {
        roots: vec![fx.a.code.clone()],
        periods: vec![taishi_loop::bulletin::PeriodKind::Month],
        delay_hours: 8,
        formats: vec!["html".into(), "md".into(), "csv".into()],
        check_every_secs: 1,
    };
    let periods = || async {
        let mut v: Vec<(Period, String)> = fx
            .store
            .bulletins(fx.a.id)
            .await
            .unwrap()
            .into_iter()
            .map(|b| (b.period, b.format))
            .collect();
        v.sort_by_key(|(p, f)| (p.to_string(), f.clone()));
        v
    };
    let before = periods().await.len();
    let task = taishi_server::sweeper::spawn_bulletins(state, schedule);
    let wait_for = |n: usize| {
        let periods = &periods;
        async move {
            for _ in 0..100 {
                if periods().await.len() >= n {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    };
    // December 2026 is due at start-up; January 2027 not before 1 February 08:00.
    wait_for(before + 3).await;
    let got = periods().await;
    assert_eq!(got.len(), before + 3, "{got:?}");
    assert!(got.contains(&(Period::Month(2026, 12), "html".into())));
    clock.set(bj("2027-02-01T08:00:00"));
    wait_for(before + 6).await;
    // Two more ticks change nothing.
    tokio::time::sleep(std::time::Duration::from_millis(2200)).await;
    task.abort();
    let got = periods().await;
    assert_eq!(got.len(), before + 6, "{got:?}");
    assert!(got.contains(&(Period::Month(2027, 1), "csv".into())));
}
