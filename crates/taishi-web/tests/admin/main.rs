//! Administration and rectification-upload handler tests through `Router::oneshot`: each admin action
//! (users, tokens, deadline policy, indicators, notification channels) with its effect on the store and
//! the running loop service and its audit line; the refusal of officers, analysts, viewers and of an
//! admin of one branch for server-wide settings; CSRF; and the officer's upload with its limits.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use taishi_model::{AuditFilter, Page, Role, UserFilter};
use tower::ServiceExt;

#[path = "../common/mod.rs"]
mod common;
use common::admin::{acknowledged_notice, add_admins, pdf, receiver};
use common::{PW, World, plant_findings, world};

mod accounts;
mod settings;
mod uploads;

async fn call(app: &Router, req: Request<Body>) -> (Response<Body>, Vec<u8>) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes().to_vec();
    (Response::from_parts(parts, Body::empty()), bytes)
}

/// A signed-in session (through the API's login) and the CSRF token its pages carry.
struct Session {
    cookie: String,
    csrf: String,
}

async fn login(app: &Router, name: &str) -> Session {
    let body = serde_json::json!({"name": name, "password": PW}).to_string();
    let req = Request::post("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap();
    let (resp, _) = call(app, req).await;
    assert_eq!(resp.status(), StatusCode::OK, "login of {name}");
    let cookie = resp
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .find(|c| c.starts_with("taishi_session="))
        .expect("session cookie");
    let (_, html) = call(app, get(&cookie, "/notices")).await;
    let html = String::from_utf8(html).unwrap();
    let at = html.find(r#"name="csrf" value=""#).expect("csrf field") + 19;
    let csrf = html[at..at + html[at..].find('"').unwrap()].to_owned();
    Session { cookie, csrf }
}

fn get(cookie: &str, path: &str) -> Request<Body> {
    Request::get(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap()
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Session {
    async fn get(&self, app: &Router, path: &str) -> (StatusCode, String) {
        let (r, b) = call(app, get(&self.cookie, path)).await;
        (r.status(), String::from_utf8_lossy(&b).into_owned())
    }

    async fn post(
        &self,
        app: &Router,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (StatusCode, String) {
        let mut body = format!("csrf={}", self.csrf);
        for (k, v) in fields {
            body.push_str(&format!("&{k}={}", enc(v)));
        }
        let req = Request::post(path)
            .header(header::COOKIE, &self.cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        let (r, b) = call(app, req).await;
        (r.status(), String::from_utf8_lossy(&b).into_owned())
    }
}

/// The text of the element with `id` (up to its first `<`).
fn by_id(html: &str, id: &str) -> String {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in page"));
    let rest = &html[at..];
    let start = rest.find('>').unwrap() + 1;
    let end = rest[start..].find('<').unwrap();
    rest[start..start + end].to_owned()
}

async fn admin_world() -> World {
    let w = world().await;
    add_admins(&w).await;
    w
}

async fn audit_actions(w: &World, entity_type: &str) -> Vec<(String, Option<serde_json::Value>)> {
    w.store
        .list_audit(
            &AuditFilter {
                entity_type: Some(entity_type.into()),
                ..AuditFilter::default()
            },
            Page::first(1000),
        )
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| (e.action, e.after))
        .collect()
}

#[tokio::test]
async fn only_admins_reach_administration_and_only_tree_admins_change_settings() {
    let w = admin_world().await;
    for name in ["analyst", "officer_a", "viewer"] {
        let s = login(&w.app, name).await;
        for path in [
            "/admin",
            "/admin/users",
            "/admin/tokens",
            "/admin/policy",
            "/admin/indicators",
            "/admin/channels",
        ] {
            assert_eq!(
                s.get(&w.app, path).await.0,
                StatusCode::FORBIDDEN,
                "{name} GET {path}"
            );
        }
        for (path, action) in [
            ("/admin/users", "create"),
            ("/admin/tokens", "create"),
            ("/admin/policy", "save"),
            ("/admin/indicators", "save"),
            ("/admin/channels", "save_webhook"),
        ] {
            let (st, _) = s
                .post(
                    &w.app,
                    path,
                    &[
                        ("action", action),
                        ("name", "x"),
                        ("role", "viewer"),
                        ("org", "A"),
                        ("text", ""),
                    ],
                )
                .await;
            assert_eq!(st, StatusCode::FORBIDDEN, "{name} POST {path}");
        }
        let (st, _) = s
            .post(&w.app, "/admin/users/1", &[("action", "disable")])
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{name} disables a user");
        let (st, _) = s.post(&w.app, "/admin/tokens/1/revoke", &[]).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{name} revokes a token");
    }
    // An admin of township A manages A's accounts but not the server-wide settings.
    let a = login(&w.app, "admin_a").await;
    let (st, html) = a.get(&w.app, "/admin/users").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("data-user=\"officer_a\"") && !html.contains("data-user=\"officer_b\""));
    for path in ["/admin/policy", "/admin/indicators", "/admin/channels"] {
        assert_eq!(a.get(&w.app, path).await.0, StatusCode::FORBIDDEN, "{path}");
    }
    // ... nor accounts outside its subtree: officer_b is "not found", and creating one in B is refused.
    let b_officer = w
        .store
        .user_credentials("officer_b")
        .await
        .unwrap()
        .unwrap()
        .0;
    let (st, _) = a
        .post(
            &w.app,
            &format!("/admin/users/{}", b_officer.id.0),
            &[("action", "disable")],
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = a
        .post(
            &w.app,
            "/admin/users",
            &[("name", "b2"), ("role", "officer"), ("org", "B")],
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // The admin menu shows only for admins.
    let off = login(&w.app, "officer_a").await;
    assert!(
        !off.get(&w.app, "/notices")
            .await
            .1
            .contains("href=\"/admin\"")
    );
    assert!(
        a.get(&w.app, "/notices")
            .await
            .1
            .contains("href=\"/admin\"")
    );
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let w = admin_world().await;
    let s = login(&w.app, "admin").await;
    let forged = Session {
        cookie: s.cookie.clone(),
        csrf: "0".repeat(40),
    };
    for (path, action) in [
        ("/admin/users", "create"),
        ("/admin/policy", "save"),
        ("/admin/channels", "remove_smtp"),
    ] {
        let (st, _) = forged
            .post(
                &w.app,
                path,
                &[
                    ("action", action),
                    ("name", "x"),
                    ("role", "viewer"),
                    ("org", "A"),
                    ("text", "ack_workdays = 5"),
                ],
            )
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(w.state.loop_service().policy().ack_workdays, 1);
}
