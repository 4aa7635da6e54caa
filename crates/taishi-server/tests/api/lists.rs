//! List totals, the exact tag filter and text search over HTTP, and the login limiter behind a reverse
//! proxy (`trusted_proxies`, requests carrying `ConnectInfo` as the real server's would).

use crate::common::*;
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use std::net::SocketAddr;
use taishi_model::*;
use taishi_server::ServerOptions;
use taishi_server::auth::limiter::LimitConfig;
use tower::ServiceExt;

async fn get(fx: &Fx, who: &str, uri: &str) -> Value {
    let r = call(
        &fx.app,
        Method::GET,
        uri,
        Auth::Bearer(&fx.bearer[who]),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.text);
    r.json()
}

fn identities(v: &Value) -> Vec<String> {
    let mut ids: Vec<String> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["identity"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn lists_carry_the_total_on_the_first_page() {
    let fx = fixture().await;
    let sys = Actor::system("test");
    for i in 0..5 {
        fx.store
            .create_asset(
                &sys,
                AssetInput {
                    org_id: fx.a.id,
                    kind: AssetKind::Ip,
                    identity: format!("10.7.0.{i}"),
                    name: format!("网关 {i}"),
                    tags: vec![if i % 2 == 0 { "Web" } else { "webmail" }.into()],
                    mlps_level: None,
                    critical_infrastructure: false,
                    notes: String::new(),
                },
            )
            .await
            .unwrap();
    }
    let all = fx
        .store
        .count_assets(&AssetFilter::default())
        .await
        .unwrap();
    let first = get(&fx, "admin", "/api/v1/assets?limit=2").await;
    assert_eq!(first["total"], json!(all));
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let next = first["next"].as_i64().unwrap();
    let second = get(
        &fx,
        "admin",
        &format!("/api/v1/assets?limit=2&after={next}"),
    )
    .await;
    assert!(
        second.get("total").is_none(),
        "later pages are not counted: {second}"
    );

    // the total follows the filter and the caller's scope
    let ips = get(&fx, "admin", "/api/v1/assets?kind=ip&limit=1").await;
    let ip_count = fx
        .store
        .count_assets(&AssetFilter {
            kind: Some(AssetKind::Ip),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(ip_count >= 5 && ip_count < all);
    assert_eq!(ips["total"], json!(ip_count));
    let officer = get(&fx, "officer_a", "/api/v1/assets?limit=1").await;
    let in_a = fx
        .store
        .count_assets(&AssetFilter {
            within: Some(fx.a.id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(officer["total"], json!(in_a));
    assert!(in_a < all);

    // tags are exact and case-insensitive; text search finds the middle of an identity and CJK names
    let web = get(&fx, "admin", "/api/v1/assets?tag=WEB").await;
    assert_eq!(web["total"], 3);
    assert_eq!(
        identities(&web),
        ["10.7.0.0", "10.7.0.2", "10.7.0.4"],
        "\"web\" is not \"webmail\""
    );
    let q = get(&fx, "admin", "/api/v1/assets?q=7.0.3").await;
    assert_eq!(identities(&q), ["10.7.0.3"]);
    let q = get(&fx, "admin", "/api/v1/assets?q=%E7%BD%91%E5%85%B3%203").await; // "网关 3"
    assert_eq!(identities(&q), ["10.7.0.3"]);

    // every registry list answers with a total
    for (who, uri) in [
        ("admin", "/api/v1/orgs?limit=1"),
        ("admin", "/api/v1/software?limit=1"),
        ("admin", "/api/v1/users?limit=1"),
        ("admin", "/api/v1/tokens?limit=1"),
        ("admin", "/api/v1/audit?limit=1"),
        ("officer_a", "/api/v1/orgs?limit=1"),
    ] {
        let v = get(&fx, who, uri).await;
        let total = v["total"].as_u64().unwrap_or_else(|| panic!("{uri}: {v}"));
        let mut walked = v["items"].as_array().unwrap().len() as u64;
        let mut next = v["next"].as_i64();
        while let Some(n) = next {
            let p = get(&fx, who, &format!("{uri}&after={n}")).await;
            walked += p["items"].as_array().unwrap().len() as u64;
            next = p["next"].as_i64();
        }
        assert_eq!(total, walked, "{who} {uri}");
    }
    let orgs_a = get(&fx, "officer_a", "/api/v1/orgs").await;
    assert_eq!(orgs_a["total"], 2, "township A and its village");
}

async fn login_from(app: &Router, peer: &str, forwarded: Option<&str>, name: &str) -> StatusCode {
    let mut b = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(f) = forwarded {
        b = b.header("x-forwarded-for", f);
    }
    let mut req = b
        .body(Body::from(
            json!({"name": name, "password": "wrong password"}).to_string(),
        ))
        .unwrap();
    let peer: SocketAddr = peer.parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(peer));
    app.clone().oneshot(req).await.unwrap().status()
}

fn limited(trusted: &str) -> ServerOptions {
    ServerOptions {
        login_limits: LimitConfig {
            per_account: 100,
            per_address: 2,
            ..LimitConfig::default()
        },
        trusted_proxies: trusted.parse().unwrap(),
        ..ServerOptions::default()
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_is_limited() {
    let fx = fixture_with(limited("10.0.0.0/8"), None).await;
    let proxy = "10.0.0.1:40000";
    // two failures of client 198.51.100.7 through the proxy (a forged leftmost entry changes nothing)
    for (i, xff) in ["198.51.100.7", "1.2.3.4, 198.51.100.7"].iter().enumerate() {
        let s = login_from(&fx.app, proxy, Some(xff), &format!("nobody{i}")).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        login_from(&fx.app, proxy, Some("9.9.9.9, 198.51.100.7"), "nobody9").await,
        StatusCode::TOO_MANY_REQUESTS,
        "the client behind the proxy is limited"
    );
    assert_eq!(
        login_from(&fx.app, proxy, Some("198.51.100.8"), "nobody9").await,
        StatusCode::UNAUTHORIZED,
        "another client behind the same proxy is not"
    );
    // a chain of trusted proxies: the rightmost untrusted hop is the client
    assert_eq!(
        login_from(&fx.app, proxy, Some("198.51.100.7, 10.1.1.1"), "nobody9").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn from_an_untrusted_peer_the_header_is_ignored() {
    // a peer outside trusted_proxies cannot escape its bucket by inventing X-Forwarded-For
    let fx = fixture_with(limited("10.0.0.0/8"), None).await;
    let peer = "203.0.113.5:5555";
    for (i, xff) in ["198.51.100.1", "198.51.100.2"].iter().enumerate() {
        let s = login_from(&fx.app, peer, Some(xff), &format!("nobody{i}")).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        login_from(&fx.app, peer, Some("198.51.100.3"), "nobody9").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // without trusted proxies (the default) even a private-address proxy is just a peer
    let fx = fixture_with(limited(""), None).await;
    let proxy = "10.0.0.1:40000";
    for (i, xff) in ["198.51.100.1", "198.51.100.2"].iter().enumerate() {
        let s = login_from(&fx.app, proxy, Some(xff), &format!("nobody{i}")).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        login_from(&fx.app, proxy, Some("198.51.100.3"), "nobody9").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}
