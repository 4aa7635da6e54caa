//! Functional tests of the handlers: login and sessions, rate limiting, CRUD, pagination, filters,
//! errors, tokens, audit, OpenAPI.

use crate::common::*;
use axum::http::{Method, StatusCode, header};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use std::sync::{Arc, Mutex};
use taishi_server::ServerOptions;
use taishi_server::auth::limiter::LimitConfig;

#[tokio::test]
async fn login_whoami_logout_and_password_change() {
    let fx = fixture().await;
    let bad = call(
        &fx.app,
        Method::POST,
        "/api/v1/auth/login",
        Auth::None,
        Some(json!({"name": "admin", "password": "nope nope nope"})),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert_eq!(bad.json()["error"]["code"], "invalid_credentials");

    let r = call(
        &fx.app,
        Method::POST,
        "/api/v1/auth/login",
        Auth::None,
        Some(json!({"name": "admin", "password": PASSWORD})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let set = r.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict") && !set.contains("Secure"),
        "{set}"
    );
    let cookie = set.split(';').next().unwrap().to_owned();

    let who = call(
        &fx.app,
        Method::GET,
        "/api/v1/auth/whoami",
        Auth::Cookie(&cookie),
        None,
    )
    .await;
    assert_eq!(who.json()["name"], "admin");
    assert_eq!(who.json()["role"], "admin");

    // Cross-site state changes with the cookie are refused.
    let mut req = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/api/v1/auth/logout")
        .header(header::COOKIE, &cookie)
        .header("sec-fetch-site", "cross-site")
        .body(axum::body::Body::empty())
        .unwrap();
    req.headers_mut()
        .insert(header::ORIGIN, "https://evil.example".parse().unwrap());
    let resp = tower::ServiceExt::oneshot(fx.app.clone(), req)
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    let ch = call(
        &fx.app,
        Method::POST,
        "/api/v1/auth/password",
        Auth::Cookie(&cookie),
        Some(json!({"current_password": PASSWORD, "new_password": "a much better password"})),
    )
    .await;
    assert_eq!(ch.status, StatusCode::NO_CONTENT, "{}", ch.text);
    let renewed = ch
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    // The old session ended with the password change; the renewed one works.
    let old = call(
        &fx.app,
        Method::GET,
        "/api/v1/auth/whoami",
        Auth::Cookie(&cookie),
        None,
    )
    .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new = call(
        &fx.app,
        Method::GET,
        "/api/v1/auth/whoami",
        Auth::Cookie(&renewed),
        None,
    )
    .await;
    assert_eq!(new.status, StatusCode::OK);

    let out = call(
        &fx.app,
        Method::POST,
        "/api/v1/auth/logout",
        Auth::Cookie(&renewed),
        None,
    )
    .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let gone = call(
        &fx.app,
        Method::GET,
        "/api/v1/auth/whoami",
        Auth::Cookie(&renewed),
        None,
    )
    .await;
    assert_eq!(gone.status, StatusCode::UNAUTHORIZED);
    assert_eq!(gone.json()["error"]["code"], "unauthenticated");
    login(&fx.app, "admin", "a much better password").await;

    let audit = call(
        &fx.app,
        Method::GET,
        "/api/v1/audit?entity_type=session&limit=100",
        Auth::Bearer(&fx.bearer["admin"]),
        None,
    )
    .await;
    let actions: Vec<String> = audit.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        actions.contains(&"session.login".to_owned())
            && actions.contains(&"session.login_failed".to_owned()),
        "{actions:?}"
    );
}

#[tokio::test]
async fn login_is_rate_limited_per_account_with_an_injected_clock() {
    let now = Arc::new(Mutex::new(Timestamp::from_second(1_900_000_000).unwrap()));
    let n2 = now.clone();
    let clock: taishi_server::ClockFn = Arc::new(move || *n2.lock().unwrap());
    let opts = ServerOptions {
        login_limits: LimitConfig {
            window: SignedDuration::from_mins(10),
            per_account: 3,
            per_address: 100,
        },
        ..ServerOptions::default()
    };
    let fx = fixture_with(opts, Some(clock)).await;
    let wrong = json!({"name": "admin", "password": "wrong password"});
    for _ in 0..3 {
        let r = call(
            &fx.app,
            Method::POST,
            "/api/v1/auth/login",
            Auth::None,
            Some(wrong.clone()),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let right = json!({"name": "admin", "password": PASSWORD});
    let r = call(
        &fx.app,
        Method::POST,
        "/api/v1/auth/login",
        Auth::None,
        Some(right.clone()),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    assert_eq!(r.json()["error"]["code"], "rate_limited");
    assert_eq!(r.headers.get(header::RETRY_AFTER).unwrap(), "600");
    *now.lock().unwrap() = Timestamp::from_second(1_900_000_000 + 601).unwrap();
    let r = call(
        &fx.app,
        Method::POST,
        "/api/v1/auth/login",
        Auth::None,
        Some(right),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn tokens_are_shown_once_and_revocable_and_users_managed() {
    let fx = fixture().await;
    let admin = Auth::Bearer(&fx.bearer["admin"]);
    let r = call(
        &fx.app,
        Method::POST,
        "/api/v1/tokens",
        admin,
        Some(json!({"name": "ci", "role": "analyst", "org_id": fx.a.id})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let secret = r.json()["token"].as_str().unwrap().to_owned();
    let id = r.json()["id"].as_i64().unwrap();
    assert!(secret.starts_with("tsk_"));
    let got = call(
        &fx.app,
        Method::GET,
        &format!("/api/v1/tokens/{id}"),
        admin,
        None,
    )
    .await;
    assert!(
        !got.text.contains(&secret[4..]),
        "the secret is never shown again"
    );
    let who = call(
        &fx.app,
        Method::GET,
        "/api/v1/auth/whoami",
        Auth::Bearer(&secret),
        None,
    )
    .await
    .json();
    assert_eq!(who["kind"], "token");
    assert_eq!(who["role"], "analyst");
    let rv = call(
        &fx.app,
        Method::POST,
        &format!("/api/v1/tokens/{id}/revoke"),
        admin,
        None,
    )
    .await;
    assert_eq!(rv.status, StatusCode::OK);
    let after = call(
        &fx.app,
        Method::GET,
        "/api/v1/auth/whoami",
        Auth::Bearer(&secret),
        None,
    )
    .await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);

    let weak = call(
        &fx.app,
        Method::POST,
        "/api/v1/users",
        admin,
        Some(json!({"name": "li", "role": "viewer", "org_id": fx.a.id, "password": "short"})),
    )
    .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(weak.json()["error"]["field"], "password");
    let u = call(&fx.app, Method::POST, "/api/v1/users", admin, Some(json!({"name": "li", "role": "viewer", "org_id": fx.a.id, "password": "long enough pw"}))).await;
    assert_eq!(u.status, StatusCode::CREATED, "{}", u.text);
    assert!(!u.text.contains("argon2"), "hashes never leave the server");
    let uid = u.json()["id"].as_i64().unwrap();
    let cookie = login(&fx.app, "li", "long enough pw").await;
    let r = call(
        &fx.app,
        Method::PATCH,
        &format!("/api/v1/users/{uid}"),
        admin,
        Some(json!({"disabled": true})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = call(
        &fx.app,
        Method::GET,
        "/api/v1/auth/whoami",
        Auth::Cookie(&cookie),
        None,
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "a disabled user's session is refused"
    );
    let analyst = Auth::Bearer(&fx.bearer["analyst_a"]);
    let r = call(
        &fx.app,
        Method::POST,
        "/api/v1/users",
        analyst,
        Some(
            json!({"name": "x", "role": "admin", "org_id": fx.a.id, "password": "long enough pw"}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn meta_endpoints_body_limit_and_unknown_routes() {
    let fx = fixture().await;
    let h = call(&fx.app, Method::GET, "/healthz", Auth::None, None).await;
    assert_eq!(h.status, StatusCode::OK);
    assert_eq!(h.json()["store"], "sqlite");
    let r = call(&fx.app, Method::GET, "/api/v1/orgs", Auth::None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = call(&fx.app, Method::GET, "/api/v1/nope", Auth::None, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["error"]["code"], "not_found");
    assert_eq!(r.headers.get("x-content-type-options").unwrap(), "nosniff");
    let huge = json!({"parent_id": fx.a.id, "code": "big", "name": "x", "kind": "site", "sector": "other", "notes": "x".repeat(2 * 1024 * 1024)});
    let r = call(
        &fx.app,
        Method::POST,
        "/api/v1/orgs",
        Auth::Bearer(&fx.bearer["admin"]),
        Some(huge),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        &r.text[..r.text.len().min(200)]
    );
    let m = call(&fx.app, Method::GET, "/metrics", Auth::None, None).await;
    assert!(m.text.contains("taishi_http_requests_total"), "{}", m.text);
}

#[tokio::test]
async fn openapi_lists_exactly_the_routes_of_the_table() {
    let fx = fixture().await;
    let doc = call(
        &fx.app,
        Method::GET,
        "/api/v1/openapi.json",
        Auth::None,
        None,
    )
    .await
    .json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let mut documented = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "patch", "delete", "put"].contains(&method.as_str()) {
                documented.push(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    let mut routed: Vec<String> = taishi_server::routes::table()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    documented.sort();
    routed.sort();
    assert_eq!(documented, routed);
    assert!(doc["components"]["schemas"]["Org"].is_object());
}
