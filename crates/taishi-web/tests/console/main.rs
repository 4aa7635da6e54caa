//! Console handler tests through `Router::oneshot`: signing in with the form, CSRF refusal, security
//! headers, escaping of hostile text, and scoping (an officer of township A gets 404 for township B's
//! pages, exactly as from the API).

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

#[path = "../common/mod.rs"]
mod common;
use common::{PW, plant_findings, populate, world};

mod loop_pages;

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
