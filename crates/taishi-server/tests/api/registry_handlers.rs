//! Functional tests of the registry handlers: the org tree (CRUD, move, delete), assets and software
//! with pagination and filters, and attribution of an address or host to its owner.

use crate::common::*;
use axum::http::{Method, StatusCode};
use serde_json::json;

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
