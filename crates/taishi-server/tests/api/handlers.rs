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
async fn org_crud_tree_move_and_delete() {
    let fx = fixture().await;
    let admin = Auth::Bearer(&fx.bearer["admin"]);
    let body = json!({"parent_id": fx.a.id, "code": "A2", "name": "村 A2", "kind": "village", "sector": "health",
        "contacts": {"security_officer": {"name": "王五", "phone": "010-1", "email": "w@a2.cn"}}});
    let r = call(
        &fx.app,
        Method::POST,
        "/api/v1/orgs",
        admin,
        Some(body.clone()),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let a2 = r.json()["id"].as_i64().unwrap();
    let dup = call(&fx.app, Method::POST, "/api/v1/orgs", admin, Some(body)).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(dup.json()["error"]["code"], "conflict");

    let unknown = call(&fx.app, Method::POST, "/api/v1/orgs", admin, Some(json!({"parent_id": fx.a.id, "code": "x", "name": "x", "kind": "site", "sector": "other", "colour": "red"}))).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown.json()["error"]["field"], "colour");
    let invalid = call(&fx.app, Method::POST, "/api/v1/orgs", admin, Some(json!({"parent_id": fx.a.id, "code": "a b", "name": " ", "kind": "site", "sector": "other"}))).await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(invalid.json()["error"]["code"], "invalid");
    assert_eq!(
        invalid.json()["error"]["details"].as_array().unwrap().len(),
        2
    );

    let tree = call(
        &fx.app,
        Method::GET,
        "/api/v1/orgs/tree?depth=5",
        admin,
        None,
    )
    .await
    .json();
    assert_eq!(tree["code"], "R");
    let kids: Vec<&str> = tree["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(kids, ["zza-T", "zzb-T"]);
    assert_eq!(tree["children"][0]["children"].as_array().unwrap().len(), 2);
    let shallow = call(&fx.app, Method::GET, "/api/v1/orgs/tree", admin, None)
        .await
        .json();
    assert!(
        shallow["children"][0]["children"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Officers keep contacts and notes current but cannot rename.
    let officer = Auth::Bearer(&fx.bearer["officer_a"]);
    let r = call(
        &fx.app,
        Method::PATCH,
        &format!("/api/v1/orgs/{a2}"),
        officer,
        Some(json!({"notes": "值班电话 12345"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = call(
        &fx.app,
        Method::PATCH,
        &format!("/api/v1/orgs/{a2}"),
        officer,
        Some(json!({"name": "改名"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let mv = call(
        &fx.app,
        Method::POST,
        &format!("/api/v1/orgs/{a2}/move"),
        admin,
        Some(json!({"parent_id": fx.b.id})),
    )
    .await;
    assert_eq!(mv.status, StatusCode::OK, "{}", mv.text);
    assert_eq!(mv.json()["parent_id"], fx.b.id.0);
    let cycle = call(
        &fx.app,
        Method::POST,
        &format!("/api/v1/orgs/{}/move", fx.b.id),
        admin,
        Some(json!({"parent_id": a2})),
    )
    .await;
    assert_eq!(cycle.status, StatusCode::CONFLICT, "{}", cycle.text);

    let refuse = call(
        &fx.app,
        Method::DELETE,
        &format!("/api/v1/orgs/{}", fx.b1.id),
        admin,
        None,
    )
    .await;
    assert_eq!(refuse.status, StatusCode::CONFLICT, "{}", refuse.text);
    assert_eq!(refuse.json()["error"]["code"], "refused");
    let del = call(
        &fx.app,
        Method::DELETE,
        &format!("/api/v1/orgs/{}?cascade=true", fx.b1.id),
        admin,
        None,
    )
    .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT, "{}", del.text);
    let gone = call(
        &fx.app,
        Method::GET,
        &format!("/api/v1/assets/{}", fx.asset_b.id),
        admin,
        None,
    )
    .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let own_root = call(
        &fx.app,
        Method::DELETE,
        &format!("/api/v1/orgs/{}?cascade=true", fx.root.id),
        admin,
        None,
    )
    .await;
    assert_eq!(own_root.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn assets_software_pagination_and_filters() {
    let fx = fixture().await;
    let admin = Auth::Bearer(&fx.bearer["admin"]);
    for i in 0..7 {
        let r = call(
            &fx.app,
            Method::POST,
            "/api/v1/assets",
            admin,
            Some(json!({"org_id": fx.a1.id, "kind": "domain",
            "identity": format!("Host{i}.Example.CN."), "tags": ["dns", "batch"]})),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        assert_eq!(r.json()["identity"], format!("host{i}.example.cn"));
    }
    let bad = call(
        &fx.app,
        Method::POST,
        "/api/v1/assets",
        admin,
        Some(json!({"org_id": fx.a1.id, "kind": "cidr", "identity": "10.0.0.1/8"})),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json()["error"]["field"], "identity");

    let mut seen = Vec::new();
    let mut uri = "/api/v1/assets?kind=domain&limit=3".to_owned();
    loop {
        let page = call(&fx.app, Method::GET, &uri, admin, None).await.json();
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["identity"].as_str().unwrap().to_owned()),
        );
        match page["next"].as_i64() {
            Some(n) => uri = format!("/api/v1/assets?kind=domain&limit=3&after={n}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    let by_tag = call(
        &fx.app,
        Method::GET,
        "/api/v1/assets?tag=zzb-tag",
        admin,
        None,
    )
    .await
    .json();
    assert_eq!(by_tag["items"].as_array().unwrap().len(), 2);
    let within_a = call(
        &fx.app,
        Method::GET,
        &format!("/api/v1/assets?within={}", fx.a.id),
        admin,
        None,
    )
    .await
    .json();
    assert_eq!(within_a["items"].as_array().unwrap().len(), 9);
    let text = call(&fx.app, Method::GET, "/api/v1/assets?q=host3", admin, None)
        .await
        .json();
    assert_eq!(text["items"][0]["identity"], "host3.example.cn");
    let big = call(
        &fx.app,
        Method::GET,
        "/api/v1/assets?limit=5000",
        admin,
        None,
    )
    .await;
    assert_eq!(big.status, StatusCode::BAD_REQUEST);
    assert_eq!(big.json()["error"]["field"], "limit");
    let typo = call(
        &fx.app,
        Method::GET,
        "/api/v1/assets?kindd=domain",
        admin,
        None,
    )
    .await;
    assert_eq!(typo.status, StatusCode::BAD_REQUEST);
    assert_eq!(typo.json()["error"]["field"], "kindd");

    let sw = call(&fx.app, Method::POST, &format!("/api/v1/assets/{}/software", fx.asset_a.id), admin,
        Some(json!({"vendor": "nginx", "product": "nginx", "version": "1.24.0", "cpe": "cpe:2.3:a:f5:nginx:1.24.0:*:*:*:*:*:*:*"}))).await;
    assert_eq!(sw.status, StatusCode::CREATED, "{}", sw.text);
    let list = call(
        &fx.app,
        Method::GET,
        &format!("/api/v1/assets/{}/software", fx.asset_a.id),
        admin,
        None,
    )
    .await
    .json();
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    let by_vendor = call(
        &fx.app,
        Method::GET,
        "/api/v1/software?vendor=NGINX",
        admin,
        None,
    )
    .await
    .json();
    assert_eq!(by_vendor["items"].as_array().unwrap().len(), 1);

    let patched = call(
        &fx.app,
        Method::PATCH,
        &format!("/api/v1/assets/{}", fx.asset_a.id),
        admin,
        Some(json!({"tags": ["b", "a", "a"], "mlps_level": 3})),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    assert_eq!(patched.json()["tags"], json!(["a", "b"]));
    let audit = call(
        &fx.app,
        Method::GET,
        &format!(
            "/api/v1/audit?entity_type=asset&entity_id={}",
            fx.asset_a.id
        ),
        admin,
        None,
    )
    .await
    .json();
    let last = audit["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "asset.update");
    assert!(last["actor"].as_str().unwrap().ends_with("admin"), "{last}");
    assert_eq!(last["after"]["mlps_level"], 3);
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

#[tokio::test]
async fn attribution_finds_the_most_specific_owner_in_scope() {
    let fx = fixture().await;
    let admin = Auth::Bearer(&fx.bearer["admin"]);
    let r = call(
        &fx.app,
        Method::GET,
        "/api/v1/attribution?q=10.2.0.1",
        admin,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["org"]["id"], fx.b1.id.0);
    let r = call(
        &fx.app,
        Method::GET,
        "/api/v1/attribution?q=https://zza.example.cn/login",
        admin,
        None,
    )
    .await;
    assert_eq!(r.json()["org"]["id"], fx.a1.id.0, "{}", r.text);
    let miss = call(
        &fx.app,
        Method::GET,
        "/api/v1/attribution?q=192.0.2.1",
        admin,
        None,
    )
    .await;
    assert_eq!(miss.status, StatusCode::NOT_FOUND);
    // A range registered now is used at once; the more specific address still wins inside it.
    let c = call(
        &fx.app,
        Method::POST,
        "/api/v1/assets",
        admin,
        Some(json!({"org_id": fx.a.id, "kind": "cidr", "identity": "10.2.0.0/16"})),
    )
    .await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.text);
    let r = call(
        &fx.app,
        Method::GET,
        "/api/v1/attribution?q=10.2.9.9",
        admin,
        None,
    )
    .await;
    assert_eq!(r.json()["org"]["id"], fx.a.id.0, "{}", r.text);
    assert_eq!(r.json()["identity"], "10.2.0.0/16");
    let r = call(
        &fx.app,
        Method::GET,
        "/api/v1/attribution?q=10.2.0.1",
        admin,
        None,
    )
    .await;
    assert_eq!(r.json()["org"]["id"], fx.b1.id.0);
    let officer = Auth::Bearer(&fx.bearer["officer_a"]);
    let r = call(
        &fx.app,
        Method::GET,
        "/api/v1/attribution?q=10.1.0.1",
        officer,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}
