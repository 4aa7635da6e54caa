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

mod common;
use common::admin::{acknowledged_notice, add_admins, pdf, receiver};
use common::{PW, World, plant_findings, world};

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

#[tokio::test]
async fn admin_creates_changes_disables_and_resets_users() {
    let w = admin_world().await;
    let s = login(&w.app, "admin").await;
    // A generated password, shown once, that signs in.
    let (st, html) = s
        .post(
            &w.app,
            "/admin/users",
            &[
                ("name", "wang"),
                ("display_name", "王工"),
                ("role", "officer"),
                ("org", "A1"),
                ("password", ""),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{html}");
    let pw = by_id(&html, "once-secret");
    assert_eq!(pw.len(), 20);
    let body = serde_json::json!({"name": "wang", "password": pw}).to_string();
    let req = Request::post("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap();
    assert_eq!(call(&w.app, req).await.0.status(), StatusCode::OK);
    let (u, _) = w.store.user_credentials("wang").await.unwrap().unwrap();
    assert_eq!((u.role, u.display_name.as_str()), (Role::Officer, "王工"));
    // A bad request is shown next to the form, naming the field.
    let (st, html) = s
        .post(
            &w.app,
            "/admin/users",
            &[
                ("name", "li"),
                ("role", "officer"),
                ("org", "A"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(by_id(&html, "form-error").contains("password"), "{html}");
    let (st, html) = s
        .post(
            &w.app,
            "/admin/users",
            &[
                ("name", "wang"),
                ("role", "officer"),
                ("org", "A"),
                ("password", "a long enough password"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"form-error\""));
    // Role and org.
    let path = format!("/admin/users/{}", u.id.0);
    let (st, _) = s
        .post(
            &w.app,
            &path,
            &[("action", "update"), ("role", "viewer"), ("org", "A")],
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let u2 = w.store.get_user(u.id).await.unwrap();
    assert_eq!((u2.role, u2.org_id), (Role::Viewer, w.a.id));
    // Disable, enable.
    s.post(&w.app, &path, &[("action", "disable")]).await;
    assert!(w.store.get_user(u.id).await.unwrap().disabled);
    s.post(&w.app, &path, &[("action", "enable")]).await;
    assert!(!w.store.get_user(u.id).await.unwrap().disabled);
    // Reset: a new password shown once; the old one no longer works.
    let (st, html) = s.post(&w.app, &path, &[("action", "reset")]).await;
    assert_eq!(st, StatusCode::OK);
    let new_pw = by_id(&html, "once-secret");
    assert_ne!(new_pw, pw);
    let (_, hash) = w.store.user_credentials("wang").await.unwrap().unwrap();
    assert!(taishi_server::auth::password::verify_password(
        &new_pw, &hash
    ));
    assert!(!taishi_server::auth::password::verify_password(&pw, &hash));
    // The admin cannot lock itself out.
    let me = w.store.user_credentials("admin").await.unwrap().unwrap().0;
    let (st, _) = s
        .post(
            &w.app,
            &format!("/admin/users/{}", me.id.0),
            &[("action", "disable")],
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // Every change is in the audit log with before and after.
    let log = audit_actions(&w, "user").await;
    let acts: Vec<&str> = log.iter().map(|(a, _)| a.as_str()).collect();
    for want in ["user.create", "user.update", "user.set_password"] {
        assert!(
            acts.iter().any(|a| a.starts_with(want)),
            "{want} in {acts:?}"
        );
    }
    let users = w
        .store
        .list_users(&UserFilter::default(), Page::first(100))
        .await
        .unwrap();
    assert!(users.items.iter().any(|u| u.name == "wang"));
}

#[tokio::test]
async fn admin_creates_and_revokes_tokens() {
    let w = admin_world().await;
    let s = login(&w.app, "admin").await;
    let (st, html) = s
        .post(
            &w.app,
            "/admin/tokens",
            &[("name", "sensor-01"), ("role", "analyst"), ("org", "D")],
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{html}");
    let secret = by_id(&html, "once-secret");
    assert!(secret.starts_with("tsk_"));
    let whoami = |t: &str| {
        Request::get("/api/v1/auth/whoami")
            .header(header::AUTHORIZATION, format!("Bearer {t}"))
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(
        call(&w.app, whoami(&secret)).await.0.status(),
        StatusCode::OK
    );
    // The list never shows the secret again.
    let (_, list) = s.get(&w.app, "/admin/tokens").await;
    assert!(list.contains("data-token=\"sensor-01\"") && !list.contains(&secret));
    let id = w
        .store
        .list_tokens(&Default::default(), Page::first(10))
        .await
        .unwrap()
        .items[0]
        .id;
    let (st, _) = s
        .post(&w.app, &format!("/admin/tokens/{}/revoke", id.0), &[])
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        call(&w.app, whoami(&secret)).await.0.status(),
        StatusCode::UNAUTHORIZED
    );
    let acts: Vec<String> = audit_actions(&w, "token")
        .await
        .into_iter()
        .map(|a| a.0)
        .collect();
    assert!(
        acts.iter().any(|a| a == "token.create") && acts.iter().any(|a| a == "token.revoke"),
        "{acts:?}"
    );
}

#[tokio::test]
async fn policy_edits_are_checked_stored_audited_and_applied_without_restart() {
    let w = admin_world().await;
    let s = login(&w.app, "admin").await;
    let (st, html) = s.get(&w.app, "/admin/policy").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("id=\"deadlines\"") && html.contains("ack_workdays"));
    assert!(by_id(&html, "source").is_empty() || html.contains("badge\">"));
    // An error names the line and the field, and changes nothing.
    let bad = "ack_workdays = 2\n\n[deadlines]\ncritical = 5\nsevere = 1\n";
    let (st, html) = s
        .post(
            &w.app,
            "/admin/policy",
            &[("action", "save"), ("text", bad)],
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let err = by_id(&html, "form-error");
    assert!(err.contains("line 5") && err.contains("severe"), "{err}");
    assert!(html.contains("severe = 1"), "the draft stays in the editor");
    assert_eq!(w.state.loop_service().policy().ack_workdays, 1);
    assert!(w.store.get_setting("loop_policy").await.unwrap().is_none());
    // The fix is stored, audited and in force at once.
    let good = "ack_workdays = 2\n\n[deadlines]\ncritical = 5\n";
    let (st, html) = s
        .post(
            &w.app,
            "/admin/policy",
            &[("action", "save"), ("text", good)],
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(html.contains("id=\"done\""));
    let p = w.state.loop_service().policy();
    assert_eq!((p.ack_workdays, p.deadlines.critical), (2, Some(5)));
    assert_eq!(
        w.store
            .get_setting("loop_policy")
            .await
            .unwrap()
            .unwrap()
            .value,
        good
    );
    let log = audit_actions(&w, "setting").await;
    assert_eq!(log.last().unwrap().0, "setting.put");
    assert!(
        log.last().unwrap().1.as_ref().unwrap()["value"]
            .as_str()
            .unwrap()
            .contains("critical = 5")
    );
    // The page says where the value comes from; "back to the configuration" restores the default.
    let (_, html) = s.get(&w.app, "/admin/policy").await;
    assert!(html.contains("id=\"cfg-revert\""));
    let (st, _) = s
        .post(&w.app, "/admin/policy", &[("action", "revert")])
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(w.state.loop_service().policy().ack_workdays, 1);
    assert!(w.store.get_setting("loop_policy").await.unwrap().is_none());
    assert_eq!(
        audit_actions(&w, "setting").await.last().unwrap().0,
        "setting.delete"
    );
}

#[tokio::test]
async fn indicator_edits_use_the_loop_parser() {
    let w = admin_world().await;
    let s = login(&w.app, "admin").await;
    let (st, html) = s.get(&w.app, "/admin/indicators").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("id=\"indicators\""));
    let bad = "[rollup]\nrule = \"worst\"\n\n[[indicator]]\nid = \"open\"\nname_zh = \"未整改问题\"\nname_en = \"Open findings\"\nweight = 0\nkind = \"open_findings\"\n";
    let (st, html) = s
        .post(
            &w.app,
            "/admin/indicators",
            &[("action", "save"), ("text", bad)],
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(
        by_id(&html, "form-error").contains("open"),
        "names the indicator"
    );
    let before = w.state.loop_service().indicators().indicators.len();
    assert!(before > 1);
    let good = "[rollup]\nrule = \"worst\"\n\n[[indicator]]\nid = \"training\"\nname_zh = \"培训\"\nname_en = \"Training\"\nweight = 1\nkind = \"manual\"\nkey = \"training\"\n";
    let (st, html) = s
        .post(
            &w.app,
            "/admin/indicators",
            &[("action", "save"), ("text", good)],
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{html}");
    let now = w.state.loop_service().indicators();
    assert_eq!(now.indicators.len(), 1);
    assert_eq!(now.indicators[0].id, "training");
}

#[tokio::test]
async fn channels_keep_secrets_and_send_tests_to_a_local_receiver() {
    let w = admin_world().await;
    let rx = receiver().await;
    let s = login(&w.app, "admin").await;
    let url = format!("{}/robot/send?access_token=tok-SECRET", rx.url);
    let (st, html) = s
        .post(
            &w.app,
            "/admin/channels",
            &[
                ("action", "save_webhook"),
                ("name", "duty"),
                ("url", &url),
                ("format", "generic"),
                ("events", "issued, overdue"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(
        !html.contains("tok-SECRET"),
        "the secret is never sent back"
    );
    assert!(html.contains("data-hook=\"duty\""));
    // Stored with the secret; audited without it.
    let stored = w.store.get_setting("loop_channels").await.unwrap().unwrap();
    assert!(stored.value.contains("tok-SECRET") && !stored.shown.contains("tok-SECRET"));
    let log = format!("{:?}", audit_actions(&w, "setting").await);
    assert!(!log.contains("tok-SECRET"));
    // In force at once.
    let n = w.state.loop_service().notifier().expect("a notifier");
    assert_eq!(n.config().webhooks[0].events, ["issued", "overdue"]);
    // Editing with a blank URL keeps the stored one.
    let (st, _) = s
        .post(
            &w.app,
            "/admin/channels",
            &[
                ("action", "save_webhook"),
                ("orig", "duty"),
                ("name", "duty"),
                ("url", ""),
                ("format", "generic"),
                ("events", ""),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let n = w.state.loop_service().notifier().unwrap();
    assert_eq!(n.config().webhooks[0].url, url);
    assert!(n.config().webhooks[0].events.is_empty());
    // A test message reaches the receiver, and the page shows the delivery log.
    let (st, html) = s
        .post(
            &w.app,
            "/admin/channels",
            &[("action", "test_webhook"), ("name", "duty")],
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(html.contains("id=\"done\""), "{html}");
    assert_eq!(rx.bodies.lock().unwrap().len(), 1);
    assert!(rx.bodies.lock().unwrap()[0].contains("TEST"));
    assert!(by_id(&html, "test-log").is_empty() && html.contains("badge ok"));
    // A test to a dead endpoint fails and says why.
    let dead = "http://127.0.0.1:9/hook";
    s.post(
        &w.app,
        "/admin/channels",
        &[
            ("action", "save_webhook"),
            ("name", "dead"),
            ("url", dead),
            ("format", "dingtalk"),
        ],
    )
    .await;
    let (st, html) = s
        .post(
            &w.app,
            "/admin/channels",
            &[("action", "test_webhook"), ("name", "dead")],
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        by_id(&html, "form-error").contains("webhook:dead"),
        "{html}"
    );
    // Bad input names the field.
    let (st, html) = s
        .post(
            &w.app,
            "/admin/channels",
            &[
                ("action", "save_webhook"),
                ("name", "x"),
                ("url", "javascript:alert(1)"),
                ("format", "generic"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(by_id(&html, "form-error").starts_with("url"));
    // SMTP: the password is kept and never shown.
    let (st, html) = s
        .post(
            &w.app,
            "/admin/channels",
            &[
                ("action", "save_smtp"),
                ("host", "127.0.0.1"),
                ("port", "2525"),
                ("from", "taishi@example.cn"),
                ("username", "u"),
                ("password", "pw-SECRET"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(!html.contains("pw-SECRET"));
    let n = w.state.loop_service().notifier().unwrap();
    assert_eq!(
        n.config().smtp.as_ref().unwrap().password.as_deref(),
        Some("pw-SECRET")
    );
    // TLS mode, CA file and the analysts' addresses round-trip through the form and the page.
    let (st, html) = s
        .post(
            &w.app,
            "/admin/channels",
            &[
                ("action", "save_smtp"),
                ("host", "127.0.0.1"),
                ("port", "465"),
                ("from", "taishi@example.cn"),
                ("username", "u"),
                ("tls", "implicit"),
                ("ca_file", "/etc/taishi/ca.pem"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{html}");
    let (st, html) = s
        .post(
            &w.app,
            "/admin/channels",
            &[
                ("action", "save_analysts"),
                ("analysts", "soc@example.cn,\nduty@example.cn"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{html}");
    let cfg = w.state.loop_service().notifier().unwrap().config().clone();
    let smtp = cfg.smtp.as_ref().unwrap();
    assert_eq!(smtp.tls, taishi_loop::notify::SmtpTls::Implicit);
    assert_eq!(
        smtp.ca_file.as_deref(),
        Some(std::path::Path::new("/etc/taishi/ca.pem"))
    );
    assert_eq!(smtp.password.as_deref(), Some("pw-SECRET"));
    assert_eq!(cfg.analyst_emails, ["soc@example.cn", "duty@example.cn"]);
    let html = s.get(&w.app, "/admin/channels").await.1;
    assert!(
        html.contains(r#"<option value="implicit" selected>"#),
        "{html}"
    );
    assert!(html.contains(r#"value="/etc/taishi/ca.pem""#));
    assert!(html.contains(r#"value="soc@example.cn, duty@example.cn""#));
    // Bad TLS mode or address names the field.
    for (form, field) in [
        (
            [
                ("action", "save_smtp"),
                ("host", "h"),
                ("from", "a@b.cn"),
                ("tls", "ssl"),
            ],
            "tls",
        ),
        (
            [
                ("action", "save_analysts"),
                ("analysts", "soc"),
                ("x", ""),
                ("y", ""),
            ],
            "analysts",
        ),
    ] {
        let (st, html) = s.post(&w.app, "/admin/channels", &form).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(by_id(&html, "form-error").starts_with(field), "{html}");
    }
    // Remove, then back to the configuration (none): nothing is sent any more.
    s.post(
        &w.app,
        "/admin/channels",
        &[("action", "remove_webhook"), ("name", "dead")],
    )
    .await;
    assert_eq!(
        w.state
            .loop_service()
            .notifier()
            .unwrap()
            .config()
            .webhooks
            .len(),
        1
    );
    s.post(&w.app, "/admin/channels", &[("action", "revert")])
        .await;
    assert!(w.state.loop_service().notifier().is_none());
}

fn multipart(csrf: &str, description: &str, files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----taishi-test-boundary";
    let mut body = Vec::new();
    let mut part = |head: String, data: &[u8]| {
        body.extend_from_slice(format!("--{boundary}\r\n{head}\r\n\r\n").as_bytes());
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    };
    part(
        "Content-Disposition: form-data; name=\"csrf\"".into(),
        csrf.as_bytes(),
    );
    part(
        "Content-Disposition: form-data; name=\"description\"".into(),
        description.as_bytes(),
    );
    for (name, data) in files {
        part(
            format!(
                "Content-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream"
            ),
            data,
        );
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(
    w: &World,
    s: &Session,
    notice: uuid::Uuid,
    csrf: &str,
    files: &[(&str, &[u8])],
) -> (StatusCode, String) {
    let (ct, body) = multipart(csrf, "已删除暗链并加固服务器", files);
    let req = Request::post(format!("/notices/{notice}/rectify"))
        .header(header::COOKIE, &s.cookie)
        .header(header::CONTENT_TYPE, ct)
        .body(Body::from(body))
        .unwrap();
    let (r, b) = call(&w.app, req).await;
    (r.status(), String::from_utf8_lossy(&b).into_owned())
}

#[tokio::test]
async fn officers_upload_rectification_files_within_the_loop_limits() {
    let w = admin_world().await;
    let (fa, _) = plant_findings(&w).await;
    let id = acknowledged_notice(&w, fa).await;
    let s = login(&w.app, "officer_a").await;
    let (st, html) = s.get(&w.app, &format!("/notices/{id}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("enctype=\"multipart/form-data\"") && html.contains("/rectify"));
    // No token: refused, nothing stored.
    let (st, _) = upload(&w, &s, id, "forged", &[("a.pdf", &pdf())]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // HTML dressed as a PDF: refused by the loop's magic-byte check, shown on the page.
    let (st, html) = upload(
        &w,
        &s,
        id,
        &s.csrf,
        &[("fix.pdf", b"<html><script>alert(1)</script>")],
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(by_id(&html, "upload-error").contains("fix.pdf"), "{html}");
    // Over the limit: 413, a clear message, nothing stored.
    let big = vec![b'a'; 10 * 1024 * 1024 + 1];
    let (st, html) = upload(&w, &s, id, &s.csrf, &[("big.txt", &big)]).await;
    assert_eq!(
        st,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        &html[..html.len().min(300)]
    );
    assert!(html.contains("id=\"upload-error\"") && html.contains("10 MiB"));
    // Far over the route's body limit: refused before it is read in full.
    let huge = vec![b'a'; 12 * 1024 * 1024];
    let (st, _) = upload(&w, &s, id, &s.csrf, &[("huge.txt", &huge)]).await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(w.store.rectifications(id).await.unwrap().is_empty());
    // A real PDF goes through; the notice moves on.
    let (st, _) = upload(&w, &s, id, &s.csrf, &[("整改报告.pdf", &pdf())]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let rects = w.store.rectifications(id).await.unwrap();
    assert_eq!(rects.len(), 1);
    let att = &rects[0].attachments[0];
    assert_eq!(
        (att.name.as_str(), att.content_type.as_str()),
        ("整改报告.pdf", "application/pdf")
    );
    // Downloads are attachments, never inline, with nosniff; officers of B cannot see them.
    let (resp, bytes) = call(
        &w.app,
        get(&s.cookie, &format!("/notices/{id}/attachments/{}", att.id)),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(bytes, pdf());
    let h = resp.headers();
    assert!(
        h[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(h[header::CONTENT_TYPE], "application/pdf");
    let (_, html) = s.get(&w.app, &format!("/notices/{id}")).await;
    assert!(html.contains(&format!("/notices/{id}/attachments/{}", att.id)));
    let b = login(&w.app, "officer_b").await;
    let (resp, _) = call(
        &w.app,
        get(&b.cookie, &format!("/notices/{id}/attachments/{}", att.id)),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    // A viewer cannot submit.
    let v = login(&w.app, "viewer").await;
    let (st, _) = upload(&w, &v, id, &v.csrf, &[("a.pdf", &pdf())]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_api_upload_route_takes_the_attachment_limit_and_other_routes_keep_one_mib() {
    let w = admin_world().await;
    let (fa, _) = plant_findings(&w).await;
    let id = acknowledged_notice(&w, fa).await;
    let s = login(&w.app, "officer_a").await;
    // 2 MiB through the API's upload route: over the 1 MiB server limit, within the upload limit.
    let text = vec![b'x'; 2 * 1024 * 1024];
    let (ct, body) = multipart("", "修复说明", &[("log.txt", &text)]);
    let body = {
        // The API takes no csrf part: drop the first part.
        let s = String::from_utf8_lossy(&body).into_owned();
        let cut = s.find("------taishi-test-boundary\r\nContent-Disposition: form-data; name=\"description\"").unwrap();
        body[cut..].to_vec()
    };
    let req = Request::post(format!("/api/v1/notices/{id}/rectifications"))
        .header(header::COOKIE, &s.cookie)
        .header(header::CONTENT_TYPE, ct)
        .body(Body::from(body))
        .unwrap();
    let (resp, b) = call(&w.app, req).await;
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&b)
    );
    // The same 2 MiB to an ordinary API route is refused by the 1 MiB limit.
    let req = Request::post("/api/v1/orgs")
        .header(header::COOKIE, &s.cookie)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(vec![b' '; 2 * 1024 * 1024]))
        .unwrap();
    assert_eq!(
        call(&w.app, req).await.0.status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
}

#[tokio::test]
async fn stored_settings_override_the_configuration_after_a_restart() {
    let w = admin_world().await;
    let s = login(&w.app, "admin").await;
    let (st, _) = s
        .post(
            &w.app,
            "/admin/policy",
            &[("action", "save"), ("text", "ack_workdays = 4\n")],
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    // A restart: a new state over the same store starts from the configuration (here the default)...
    let state = taishi_server::AppState::new(w.store.clone(), Default::default());
    let _console = taishi_web::router(state.clone());
    assert_eq!(state.loop_service().policy().ack_workdays, 1);
    // ... and the start-up wiring puts the stored setting over it.
    let applied = taishi_web::pages::admin::apply_stored(&state)
        .await
        .unwrap();
    assert_eq!(applied, ["loop_policy"]);
    assert_eq!(state.loop_service().policy().ack_workdays, 4);
    // A stored document that no longer parses stops the start with an error naming the setting.
    let broken = taishi_store::SettingChange {
        key: "loop_indicators",
        value: Some("[[indicator]]\nid = 1\n"),
        shown: "",
        org: None,
    };
    w.store
        .put_setting(&taishi_model::Actor::system("test"), broken)
        .await
        .unwrap();
    let err = taishi_web::pages::admin::apply_stored(&state)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("loop_indicators"), "{err}");
}
