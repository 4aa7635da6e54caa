//! Console handler tests through `Router::oneshot`: signing in with the form, CSRF refusal, security
//! headers, escaping of hostile text, and scoping (an officer of township A gets 404 for township B's
//! pages, exactly as from the API).

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

mod common;
use common::{PW, plant_findings, populate, world};

async fn send(app: &Router, req: Request<Body>) -> (Response<Body>, String) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (
        Response::from_parts(parts, Body::empty()),
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn cookies_of(resp: &Response<Body>) -> Vec<String> {
    resp.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .filter(|c| !c.ends_with('='))
        .collect()
}

fn csrf_in(html: &str) -> String {
    let at = html
        .find(r#"name="csrf" value=""#)
        .expect("a form with a csrf field");
    let rest = &html[at + r#"name="csrf" value=""#.len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

/// A signed-in browser: its cookie header and its CSRF token.
struct Browser {
    cookie: String,
    csrf: String,
}

async fn sign_in(app: &Router, name: &str) -> Browser {
    let (resp, html) = send(app, Request::get("/login").body(Body::empty()).unwrap()).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let pre = cookies_of(&resp).join("; ");
    let token = csrf_in(&html);
    let body = format!(
        "csrf={token}&next=%2F&name={name}&password={}",
        PW.replace(' ', "+")
    );
    let req = Request::post("/login")
        .header(header::COOKIE, pre)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(body))
        .unwrap();
    let (resp, _) = send(app, req).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "login of {name}");
    let cookie = cookies_of(&resp)
        .into_iter()
        .find(|c| c.starts_with("taishi_session="))
        .expect("session cookie");
    let (resp, html) = send(app, get_as("/", &cookie)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    Browser {
        cookie: cookie.clone(),
        csrf: csrf_in(&html),
    }
}

fn get_as(path: &str, cookie: &str) -> Request<Body> {
    Request::get(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap()
}

fn post_as(path: &str, b: &Browser, body: &str) -> Request<Body> {
    Request::post(path)
        .header(header::COOKIE, &b.cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

#[tokio::test]
async fn anonymous_pages_redirect_to_login() {
    let w = world().await;
    for path in ["/", "/orgs", "/assets", "/screen", "/orgs/1"] {
        let (resp, _) = send(&w.app, Request::get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{path}");
        assert!(
            resp.headers()[header::LOCATION]
                .to_str()
                .unwrap()
                .starts_with("/login?next="),
            "{path}"
        );
    }
}

#[tokio::test]
async fn wrong_password_and_missing_login_token_are_refused() {
    let w = world().await;
    let (resp, html) = send(&w.app, Request::get("/login").body(Body::empty()).unwrap()).await;
    let pre = cookies_of(&resp).join("; ");
    let token = csrf_in(&html);
    let form = |t: &str, pw: &str| format!("csrf={t}&name=analyst&password={pw}");
    let post = |cookie: &str, body: String| {
        Request::post("/login")
            .header(header::COOKIE, cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap()
    };
    let (resp, html) = send(&w.app, post(&pre, form(&token, "nope"))).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(html.contains("login-error"));
    let (resp, _) = send(&w.app, post("", form(&token, "x"))).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN, "no login cookie");
    let (resp, _) = send(&w.app, post(&pre, form("forged", "x"))).await;
    assert_eq!(
        resp.status(),
        StatusCode::FORBIDDEN,
        "token differs from cookie"
    );
}

#[tokio::test]
async fn pages_carry_a_strict_policy_and_escape_hostile_text() {
    let w = world().await;
    let b = sign_in(&w.app, "analyst").await;
    for path in [
        "/",
        "/orgs",
        "/assets",
        "/screen",
        &format!("/assets/{}", w.evil_asset),
        &format!("/orgs/{}", w.a.id),
    ] {
        let (resp, html) = send(&w.app, get_as(path, &b.cookie)).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        let csp = resp.headers()["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"));
        assert_eq!(resp.headers()[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(resp.headers()[header::CACHE_CONTROL], "no-store");
        assert!(
            !html.contains("<script>document"),
            "{path} shows raw script"
        );
        assert!(!html.contains("<img src=x"), "{path} shows a raw img");
        assert!(
            !html.contains(" on") || !html.contains("onerror=alert(1)>"),
            "{path}"
        );
    }
    let (_, html) = send(
        &w.app,
        get_as(&format!("/assets/{}", w.evil_asset), &b.cookie),
    )
    .await;
    let html = html.replace("&#60;", "&lt;").replace("&#62;", "&gt;");
    assert!(
        html.contains("&lt;script&gt;document.title="),
        "escaped name shown as text"
    );
    assert!(
        html.contains("<pre class=\"evidence\">&lt;img src=x onerror=alert(1)&gt;"),
        "{html}"
    );
    assert!(!html.contains("href=\"javascript:"));
}

#[tokio::test]
async fn officer_sees_only_its_subtree() {
    let w = world().await;
    let a = sign_in(&w.app, "officer_a").await;
    let (resp, _) = send(&w.app, get_as(&format!("/orgs/{}", w.b.id), &a.cookie)).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND, "township B's page");
    let (resp, _) = send(&w.app, get_as(&format!("/orgs?root={}", w.b.id), &a.cookie)).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND, "township B's tree");
    let (resp, _) = send(
        &w.app,
        get_as(&format!("/assets?within={}", w.b.id), &a.cookie),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND, "township B's assets");
    let (_, html) = send(&w.app, get_as("/assets", &a.cookie)).await;
    assert!(
        html.contains("oa-system") && !html.contains("b.example.cn"),
        "only A's assets listed"
    );
    let (_, html) = send(&w.app, get_as("/orgs", &a.cookie)).await;
    assert!(
        html.contains("东城一村") && !html.contains("西城街道"),
        "tree starts at A"
    );
    let (_, html) = send(&w.app, get_as("/orgs?q=%E8%A5%BF", &a.cookie)).await;
    assert!(!html.contains("西城街道"), "search stays in scope");
    let (resp, _) = send(&w.app, get_as(&format!("/orgs/{}", w.a.id), &a.cookie)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    // The API agrees: one implementation of scoping.
    let (resp, _) = send(
        &w.app,
        get_as(&format!("/api/v1/orgs/{}", w.b.id), &a.cookie),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let an = sign_in(&w.app, "analyst").await;
    let (_, html) = send(&w.app, get_as("/assets", &an.cookie)).await;
    assert!(
        html.contains("oa-system") && html.contains("b.example.cn"),
        "the analyst sees both"
    );
}

#[tokio::test]
async fn forms_need_the_session_token_and_logout_ends_the_session() {
    let w = world().await;
    let b = sign_in(&w.app, "analyst").await;
    let (resp, _) = send(&w.app, post_as("/lang", &b, "lang=en&next=%2F")).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN, "no token");
    let (resp, _) = send(&w.app, post_as("/lang", &b, "csrf=0000&lang=en&next=%2F")).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN, "wrong token");
    let (resp, _) = send(
        &w.app,
        post_as(
            "/lang",
            &b,
            &format!("csrf={}&lang=en&next=%2Forgs", b.csrf),
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[header::LOCATION], "/orgs");
    let lang = cookies_of(&resp)
        .into_iter()
        .find(|c| c.starts_with("taishi_lang="))
        .unwrap();
    let (_, html) = send(&w.app, get_as("/", &format!("{}; {lang}", b.cookie))).await;
    assert!(
        html.contains("<html lang=\"en\">") && html.contains("Situation"),
        "English after the switch"
    );
    let (_, html) = send(&w.app, get_as("/", &b.cookie)).await;
    assert!(html.contains("态势总览"), "Chinese by default");
    let mut cross = post_as("/logout", &b, &format!("csrf={}", b.csrf));
    cross
        .headers_mut()
        .insert("sec-fetch-site", "cross-site".parse().unwrap());
    let (resp, _) = send(&w.app, cross).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN, "cross-site post");
    let (resp, _) = send(&w.app, post_as("/logout", &b, &format!("csrf={}", b.csrf))).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (resp, _) = send(&w.app, get_as("/", &b.cookie)).await;
    assert_eq!(
        resp.status(),
        StatusCode::SEE_OTHER,
        "the old cookie is dead"
    );
}

#[tokio::test]
async fn static_files_are_cached_and_unknown_ones_are_not_found() {
    let w = world().await;
    let (resp, css) = send(
        &w.app,
        Request::get("/static/app.css").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert!(css.contains("--critical: #b91c1c"));
    let (resp, _) = send(
        &w.app,
        Request::get("/static/../Cargo.toml")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn findings_and_notices_are_scoped() {
    let w = world().await;
    let (fa, fb) = plant_findings(&w).await;
    let a = sign_in(&w.app, "officer_a").await;
    let (resp, html) = send(&w.app, get_as("/findings", &a.cookie)).await;
    assert_eq!(resp.status(), StatusCode::OK, "{html}");
    assert!(html.contains(&fa.to_string()) && !html.contains(&fb.to_string()));
    let (resp, _) = send(&w.app, get_as(&format!("/findings/{fb}"), &a.cookie)).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND, "B's finding");
    let (resp, html) = send(&w.app, get_as(&format!("/findings/{fa}"), &a.cookie)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        !html.contains("<script>document") && !html.contains("<a href=\"javascript:"),
        "evidence escaped"
    );
    // An officer may not issue notices or mark false positives: the loop refuses.
    let (resp, _) = send(
        &w.app,
        post_as(
            "/findings/bulk",
            &a,
            &format!("csrf={}&action=false_positive&id={fa}", a.csrf),
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let an = sign_in(&w.app, "analyst").await;
    let (resp, _) = send(
        &w.app,
        post_as(
            "/findings/bulk",
            &an,
            &format!("csrf={}&action=notice&id={fb}", an.csrf),
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let notice = resp.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    let (resp, _) = send(&w.app, get_as(&notice, &a.cookie)).await;
    assert_eq!(
        resp.status(),
        StatusCode::NOT_FOUND,
        "B's notice is hidden from A"
    );
    let (resp, html) = send(&w.app, get_as("/notices", &a.cookie)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(!html.contains(notice.trim_start_matches("/notices/")));
    let b = sign_in(&w.app, "officer_b").await;
    let (resp, html) = send(&w.app, get_as(&notice, &b.cookie)).await;
    assert_eq!(resp.status(), StatusCode::OK, "{html}");
    let (resp, _) = send(
        &w.app,
        post_as(
            &format!("{notice}/act"),
            &a,
            &format!("csrf={}&action=acknowledge", a.csrf),
        ),
    )
    .await;
    assert_eq!(
        resp.status(),
        StatusCode::NOT_FOUND,
        "A cannot act on B's notice"
    );
    let (resp, _) = send(
        &w.app,
        post_as(
            &format!("{notice}/act"),
            &b,
            &format!("csrf={}&action=acknowledge", b.csrf),
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (_, html) = send(&w.app, get_as("/", &an.cookie)).await;
    assert!(
        html.contains("id=\"kpi-critical\""),
        "dashboard shows the loop figures"
    );
}

#[tokio::test]
async fn dashboard_and_screen_of_a_populated_district() {
    let w = world().await;
    populate(&w).await;
    plant_findings(&w).await;
    let an = sign_in(&w.app, "analyst").await;
    for path in [
        "/",
        "/screen",
        "/findings?sort=first_seen&status=all",
        "/notices",
        "/orgs",
        "/assets",
    ] {
        let (resp, html) = send(&w.app, get_as(path, &an.cookie)).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}: {html}");
    }
}

#[tokio::test]
async fn bulletins_download_as_files_and_stay_in_scope() {
    let w = world().await;
    let d = w.a.parent_id.unwrap();
    let id = uuid::Uuid::new_v4();
    let b = taishi_store::ArchivedBulletin {
        id,
        org: d,
        period: taishi_model::indicator::Period::Month(2026, 11),
        format: "html".into(),
        created_at: jiff::Timestamp::now(),
        content: "<html><script>alert(1)</script></html>".into(),
    };
    w.store.archive_bulletin(&b).await.unwrap();
    let an = sign_in(&w.app, "analyst").await;
    let (resp, html) = send(&w.app, get_as("/bulletins", &an.cookie)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(html.contains(&format!("/bulletins/{id}")) && html.contains("2026-11"));
    let (resp, body) = send(&w.app, get_as(&format!("/bulletins/{id}"), &an.cookie)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    assert!(body.contains("<script>"), "the file itself is unchanged");
    let a = sign_in(&w.app, "officer_a").await;
    let (resp, _) = send(&w.app, get_as(&format!("/bulletins/{id}"), &a.cookie)).await;
    assert_eq!(
        resp.status(),
        StatusCode::NOT_FOUND,
        "the district's bulletin is not A's"
    );
}

#[tokio::test]
async fn alerts_are_scoped_like_findings_and_show_the_event_as_text() {
    let w = world().await;
    let (probe_finding, _) = plant_findings(&w).await;
    let alert = common::plant_alert(&w).await;
    let an = sign_in(&w.app, "analyst").await;
    let (resp, html) = send(&w.app, get_as("/alerts", &an.cookie)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(html.contains(&format!("/alerts/{alert}")) && html.contains("西城街道"));
    assert!(!html.contains("暗链"), "probe findings are not alerts");
    let (_, html) = send(&w.app, get_as("/alerts?host=nobody", &an.cookie)).await;
    assert!(!html.contains(&format!("/alerts/{alert}")), "host filter");
    let (_, html) = send(
        &w.app,
        get_as("/alerts?rule=t1059&level=high&days=1", &an.cookie),
    )
    .await;
    assert!(
        !html.contains(&format!("/alerts/{alert}")),
        "rule text is not a tag"
    );
    let (_, html) = send(
        &w.app,
        get_as("/alerts?rule=powershell&level=high&days=1", &an.cookie),
    )
    .await;
    assert!(
        html.contains(&format!("/alerts/{alert}")),
        "rule, level and time filters"
    );
    let (resp, _) = send(
        &w.app,
        get_as(&format!("/alerts/{probe_finding}"), &an.cookie),
    )
    .await;
    assert_eq!(
        resp.status(),
        StatusCode::NOT_FOUND,
        "a probe finding is no alert"
    );

    let b = sign_in(&w.app, "officer_b").await;
    let (resp, html) = send(&w.app, get_as(&format!("/alerts/{alert}"), &b.cookie)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let html = html
        .replace("&#60;", "&lt;")
        .replace("&#62;", "&gt;")
        .replace("&#39;", "'");
    assert!(
        html.contains("&lt;script&gt;document.title='pwned'&lt;/script&gt;"),
        "{html}"
    );
    assert!(!html.contains("<script>document") && !html.contains("<img src=x"));
    assert!(html.contains("class=\"hit\""), "matched fields are marked");
    assert!(
        html.contains("SubjectUserName"),
        "the whole event, not only the matched fields"
    );
    let a = sign_in(&w.app, "officer_a").await;
    let (_, html) = send(&w.app, get_as("/alerts", &a.cookie)).await;
    assert!(
        !html.contains(&format!("/alerts/{alert}")),
        "B's alert is not A's"
    );
    let (resp, _) = send(&w.app, get_as(&format!("/alerts/{alert}"), &a.cookie)).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let (resp, _) = send(
        &w.app,
        get_as(&format!("/alerts?org={}", w.b.id), &a.cookie),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn rankings_and_breakdowns_follow_the_scores_api() {
    let w = world().await;
    plant_findings(&w).await;
    let an = sign_in(&w.app, "analyst").await;
    let (resp, html) = send(
        &w.app,
        get_as("/rankings?period=2026-11&sort=score", &an.cookie),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK, "{html}");
    for org in ["示范区", "东城街道", "西城街道", "东城一村"] {
        assert!(html.contains(org), "{org}");
    }
    // The page shows the API's own cards: B's score for the period is the one the API serves.
    let api = Request::get(format!("/api/v1/scores/{}?period=2026-11", w.b.id))
        .header(header::COOKIE, &an.cookie)
        .body(Body::empty())
        .unwrap();
    let (resp, json) = send(&w.app, api).await;
    assert_eq!(resp.status(), StatusCode::OK, "{json}");
    let card: serde_json::Value = serde_json::from_str(&json).unwrap();
    let score = card["card"]["subtree"].as_f64().unwrap();
    let (resp, html) = send(
        &w.app,
        get_as(&format!("/rankings/{}?period=2026-11", w.b.id), &an.cookie),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        html.contains(&format!("{score:.1}")),
        "{score} not in {html}"
    );
    assert!(html.contains("id=\"breakdown\""));
    let (resp, _) = send(&w.app, get_as("/rankings?period=2026-13", &an.cookie)).await;
    assert_eq!(
        resp.status(),
        StatusCode::BAD_REQUEST,
        "a bad period names the field"
    );
    let a = sign_in(&w.app, "officer_a").await;
    let (_, html) = send(&w.app, get_as("/rankings", &a.cookie)).await;
    assert!(
        html.contains("东城一村") && !html.contains("西城街道"),
        "A's subtree only"
    );
    let (resp, _) = send(&w.app, get_as(&format!("/rankings/{}", w.b.id), &a.cookie)).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bulletins_generate_with_csrf_and_show_in_a_sandboxed_frame() {
    let w = world().await;
    plant_findings(&w).await;
    let d = w.a.parent_id.unwrap();
    let an = sign_in(&w.app, "analyst").await;
    let form = format!("org={d}&period=2026-10");
    let (resp, _) = send(&w.app, post_as("/bulletins", &an, &form)).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN, "no CSRF token");
    let (resp, _) = send(
        &w.app,
        post_as(
            "/bulletins",
            &an,
            &format!("csrf={}&org={d}&period=2026-13", an.csrf),
        ),
    )
    .await;
    assert_eq!(
        resp.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "bad period"
    );
    let (resp, _) = send(
        &w.app,
        post_as("/bulletins", &an, &format!("csrf={}&{form}", an.csrf)),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let view = resp.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        view.starts_with("/bulletins/") && view.contains("/view?org="),
        "{view}"
    );
    let (resp, html) = send(&w.app, get_as(&view, &an.cookie)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let csp = resp.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("frame-src 'self'")
            && csp.contains("script-src 'self'")
            && !csp.contains("unsafe"),
        "{csp}"
    );
    assert!(html.contains("<iframe") && html.contains(" sandbox "));
    let frame = view.replace("/view?", "/frame?");
    let (resp, body) = send(&w.app, get_as(&frame, &an.cookie)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let csp = resp.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.starts_with("sandbox;")
            && !csp.contains("script-src")
            && csp.contains("default-src 'none'"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'self'"));
    assert_eq!(resp.headers()[header::X_FRAME_OPTIONS], "SAMEORIGIN");
    assert!(body.contains("示范区"));
    // The three renderings download as files; the archive lists the run once.
    let (_, html) = send(&w.app, get_as(&format!("/bulletins?org={d}"), &an.cookie)).await;
    let links: Vec<&str> = html
        .split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|h| h.starts_with("/bulletins/") && !h.contains("/view") && h.contains("?org="))
        .collect();
    assert_eq!(links.len(), 3, "{links:?}");
    let mut types = Vec::new();
    for l in &links {
        let (resp, _) = send(&w.app, get_as(&l.replace("&amp;", "&"), &an.cookie)).await;
        assert_eq!(resp.status(), StatusCode::OK, "{l}");
        assert!(
            resp.headers()[header::CONTENT_DISPOSITION]
                .to_str()
                .unwrap()
                .starts_with("attachment;")
        );
        types.push(
            resp.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .to_owned(),
        );
    }
    types.sort();
    assert_eq!(
        types,
        [
            "text/csv; charset=utf-8",
            "text/html; charset=utf-8",
            "text/markdown; charset=utf-8"
        ]
    );
    // An officer may read its own archive but neither generate nor see the district's.
    let a = sign_in(&w.app, "officer_a").await;
    let (resp, _) = send(
        &w.app,
        post_as(
            "/bulletins",
            &a,
            &format!("csrf={}&org={}&period=2026-10", a.csrf, w.a.id),
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let (resp, _) = send(&w.app, get_as(&frame, &a.cookie)).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let (resp, _) = send(&w.app, get_as(&format!("/bulletins?org={d}"), &a.cookie)).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn finding_history_tags_are_translated() {
    use taishi_model::finding::{FindingEventKind, ReopenReason, Resolution};
    let cats = taishi_web::i18n::Catalogues::embedded().unwrap();
    let cats = std::sync::Arc::new(cats);
    let at = jiff::Timestamp::now();
    let sev = taishi_model::Severity::High;
    let kinds = [
        FindingEventKind::Opened,
        FindingEventKind::SeverityChanged { from: sev, to: sev },
        FindingEventKind::Resolved {
            how: Resolution::Disappeared,
        },
        FindingEventKind::Reopened {
            reason: ReopenReason::Manual,
        },
        FindingEventKind::MarkedFalsePositive {
            comment: String::new(),
        },
        FindingEventKind::RiskAccepted {
            until: at,
            reason: String::new(),
        },
        FindingEventKind::RiskExpiryWarned { until: at },
    ];
    for lang in taishi_web::i18n::Lang::ALL {
        let tr = taishi_web::i18n::Tr::new(lang, cats.clone(), jiff::tz::TimeZone::UTC);
        for k in &kinds {
            let v = serde_json::to_value(k).unwrap();
            let name = v["kind"].as_str().unwrap();
            assert_ne!(
                tr.tk("fhist", name),
                format!("fhist.{name}"),
                "{lang:?} {name}"
            );
        }
    }
    let w = world().await;
    let (fa, _) = plant_findings(&w).await;
    let an = sign_in(&w.app, "analyst").await;
    let (_, html) = send(&w.app, get_as(&format!("/findings/{fa}"), &an.cookie)).await;
    assert!(
        html.contains("<b>发现</b>") && !html.contains("<b>opened</b>"),
        "{html}"
    );
}

/// The finding ids of a list page, in the order shown, and its "next" link unescaped as a browser
/// does (askama writes `&` as `&#38;`; sent as is, `#` would cut the query and repeat page one).
fn page_of(html: &str) -> (Vec<uuid::Uuid>, Option<String>) {
    let ids = html
        .split(r#"<a href="/findings/"#)
        .skip(1)
        .filter_map(|s| s.get(..36)?.parse().ok())
        .collect();
    let next = html.find(r#"id="finding-next""#).map(|end| {
        let start = html[..end].rfind(r#"href=""#).unwrap() + r#"href=""#.len();
        let href = &html[start..end];
        href[..href.find('"').unwrap()]
            .replace("&#38;", "&")
            .replace("&amp;", "&")
    });
    (ids, next)
}

#[tokio::test]
async fn finding_pages_follow_next_links_to_the_end_across_equal_timestamps() {
    use taishi_model::finding::{Finding, Sighting};
    use taishi_model::{AssetId, FindingSource, Severity};
    let w = world().await;
    let orgs = [w.a.id, w.b.id];
    let sev = [Severity::Critical, Severity::High, Severity::Medium];
    let t0 = jiff::Timestamp::from_second(1_790_000_000).unwrap();
    // 120 findings on four distinct timestamps, two orgs, three severities: ties in every order.
    let all: Vec<Finding> = (0..120i64)
        .map(|i| {
            let seen = t0
                .checked_add(jiff::SignedDuration::from_mins(i % 4))
                .unwrap();
            Finding::open(
                uuid::Uuid::new_v4(),
                Sighting {
                    source: FindingSource::Probe,
                    check: "tls.weak".into(),
                    key: format!("k{i}"),
                    org: orgs[i as usize % 2],
                    asset: AssetId(w.evil_asset),
                    title: format!("finding {i}"),
                    severity: sev[i as usize % 3],
                    exploited: false,
                    internet_exposed: true,
                    evidence: serde_json::json!({}),
                    seen_at: seen,
                },
            )
        })
        .collect();
    w.store.put_findings(&all).await.unwrap();
    let an = sign_in(&w.app, "analyst").await;
    let oa = sign_in(&w.app, "officer_a").await;
    for (who, cookie, want) in [("analyst", &an.cookie, 120), ("officer_a", &oa.cookie, 60)] {
        for sort in ["severity", "last_seen", "first_seen", "org"] {
            let mut link = Some(format!("/findings?sort={sort}"));
            let mut seen = std::collections::HashSet::new();
            let mut pages = 0;
            while let Some(path) = link {
                pages += 1;
                assert!(
                    pages <= 4,
                    "{who} {sort}: more pages than 120 rows in pages of 50 need"
                );
                let (resp, html) = send(&w.app, get_as(&path, cookie)).await;
                assert_eq!(resp.status(), StatusCode::OK, "{path}");
                let (ids, next) = page_of(&html);
                assert!(!ids.is_empty(), "{who} {sort}: page {pages} is empty");
                let before = seen.len();
                for id in ids {
                    assert!(
                        seen.insert(id),
                        "{who} {sort}: {id} shown twice (page {pages} {path})"
                    );
                }
                let range = format!("{}–{} / {want}", before + 1, seen.len());
                assert!(
                    html.contains(&range),
                    "{who} {sort}: page {pages} shows {range}"
                );
                link = next;
            }
            assert_eq!(seen.len(), want, "{who} {sort}: every finding exactly once");
            assert_eq!(pages, want.div_ceil(50), "{who} {sort}");
            let mine = all.iter().filter(|f| who == "analyst" || f.org == w.a.id);
            assert!(
                mine.map(|f| f.id).all(|id| seen.contains(&id)),
                "{who} {sort}"
            );
        }
    }
}
