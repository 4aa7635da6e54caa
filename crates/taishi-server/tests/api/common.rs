//! A temporary SQLite store seeded with a small tree, a router over it, and request helpers.
//!
//! Tree: district R ─┬─ township A (zza) ── village A1 (zza)
//!                   └─ township B (zzb) ── village B1 (zzb)
//! Everything belonging to B carries the marker `zzb` in its code, name or identity, so a test can
//! check that no answer given to a caller of A ever mentions it.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::sync::Arc;
use taishi_model::*;
use taishi_server::auth::{password, secret};
use taishi_server::{AppState, ServerOptions};
use taishi_store::Store;
use tower::ServiceExt;

pub const PASSWORD: &str = "correct horse battery";

pub struct Fx {
    pub _dir: tempfile::TempDir,
    pub store: Arc<dyn Store>,
    pub app: Router,
    pub root: Org,
    pub a: Org,
    pub a1: Org,
    pub b: Org,
    pub b1: Org,
    pub asset_a: Asset,
    pub asset_b: Asset,
    pub sw_a: Software,
    pub sw_b: Software,
    pub user_a: User,
    pub user_b: User,
    pub tok_a: ApiToken,
    pub tok_b: ApiToken,
    /// Bearer secrets by caller name: admin (root), officer_a, viewer_a, analyst_a.
    pub bearer: std::collections::HashMap<&'static str, String>,
    /// The closed loop's findings, notices, attachments and bulletins of A and B.
    pub lp: crate::loop_fx::LoopFx,
}

fn org_input(parent: Option<OrgId>, code: &str, name: &str, kind: OrgKind) -> OrgInput {
    OrgInput {
        parent_id: parent,
        code: code.into(),
        name: name.into(),
        kind,
        sector: Sector::Government,
        region_code: None,
        critical_infrastructure: false,
        contacts: Contacts::default(),
        notes: String::new(),
    }
}

fn asset_input(org: OrgId, kind: AssetKind, identity: &str, tag: &str) -> AssetInput {
    AssetInput {
        org_id: org,
        kind,
        identity: identity.into(),
        name: format!("site {identity}"),
        tags: vec![tag.into()],
        mlps_level: None,
        critical_infrastructure: false,
        notes: String::new(),
    }
}

pub async fn fixture_with(options: ServerOptions, clock: Option<taishi_server::ClockFn>) -> Fx {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let store = taishi_store::open(&url).await.unwrap();
    let s = store.as_ref();
    let sys = Actor::system("test");
    let root = s
        .create_org(&sys, org_input(None, "R", "区 R", OrgKind::District))
        .await
        .unwrap();
    let a = s
        .create_org(
            &sys,
            org_input(Some(root.id), "zza-T", "乡镇 zza", OrgKind::Township),
        )
        .await
        .unwrap();
    let a1 = s
        .create_org(
            &sys,
            org_input(Some(a.id), "zza-V", "村 zza", OrgKind::Village),
        )
        .await
        .unwrap();
    let b = s
        .create_org(
            &sys,
            org_input(Some(root.id), "zzb-T", "乡镇 zzb", OrgKind::Township),
        )
        .await
        .unwrap();
    let b1 = s
        .create_org(
            &sys,
            org_input(Some(b.id), "zzb-V", "村 zzb", OrgKind::Village),
        )
        .await
        .unwrap();
    let asset_a = s
        .create_asset(
            &sys,
            asset_input(
                a1.id,
                AssetKind::Website,
                "https://zza.example.cn/",
                "zza-tag",
            ),
        )
        .await
        .unwrap();
    let asset_b = s
        .create_asset(
            &sys,
            asset_input(
                b1.id,
                AssetKind::Website,
                "https://zzb.example.cn/",
                "zzb-tag",
            ),
        )
        .await
        .unwrap();
    s.create_asset(
        &sys,
        asset_input(a1.id, AssetKind::Ip, "10.1.0.1", "zza-tag"),
    )
    .await
    .unwrap();
    s.create_asset(
        &sys,
        asset_input(b1.id, AssetKind::Ip, "10.2.0.1", "zzb-tag"),
    )
    .await
    .unwrap();
    let sw = |p: &str| SoftwareInput {
        vendor: "Apache".into(),
        product: p.into(),
        version: "9.0".into(),
        cpe: None,
    };
    let sw_a = s
        .add_software(&sys, asset_a.id, sw("tomcat-zza"))
        .await
        .unwrap();
    let sw_b = s
        .add_software(&sys, asset_b.id, sw("tomcat-zzb"))
        .await
        .unwrap();
    let hash = password::hash_password(PASSWORD).unwrap();
    let mk_user = |name: &str, role, org| NewUser {
        name: name.into(),
        display_name: name.into(),
        role,
        org_id: org,
        password_hash: hash.clone(),
    };
    s.create_user(&sys, mk_user("admin", Role::Admin, root.id))
        .await
        .unwrap();
    let user_a = s
        .create_user(&sys, mk_user("officer-zza", Role::Officer, a.id))
        .await
        .unwrap();
    let user_b = s
        .create_user(&sys, mk_user("officer-zzb", Role::Officer, b.id))
        .await
        .unwrap();
    s.create_user(&sys, mk_user("viewer-zza", Role::Viewer, a.id))
        .await
        .unwrap();
    let mut bearer = std::collections::HashMap::new();
    let mut tok = |name: &'static str, role, org| {
        let t = secret::new_api_token();
        bearer.insert(name, t.secret.clone());
        NewApiToken {
            name: name.into(),
            prefix: t.prefix,
            token_hash: t.hash,
            role,
            org_id: org,
            created_by: None,
        }
    };
    s.create_token(&sys, tok("admin", Role::Admin, root.id))
        .await
        .unwrap();
    s.create_token(&sys, tok("officer_a", Role::Officer, a.id))
        .await
        .unwrap();
    s.create_token(&sys, tok("viewer_a", Role::Viewer, a.id))
        .await
        .unwrap();
    s.create_token(&sys, tok("analyst_a", Role::Analyst, a.id))
        .await
        .unwrap();
    let tok_a = s
        .create_token(&sys, tok("sensor-zza", Role::Viewer, a.id))
        .await
        .unwrap();
    let tok_b = s
        .create_token(&sys, tok("sensor-zzb", Role::Viewer, b.id))
        .await
        .unwrap();
    let lp = crate::loop_fx::seed(store.clone(), &a, &a1, &b, &b1, &asset_a, &asset_b).await;
    let state = match clock {
        Some(c) => AppState::with_clock(store.clone(), options, c),
        None => AppState::new(store.clone(), options),
    };
    let app = taishi_server::router(state);
    Fx {
        _dir: dir,
        store,
        app,
        root,
        a,
        a1,
        b,
        b1,
        asset_a,
        asset_b,
        sw_a,
        sw_b,
        user_a,
        user_b,
        tok_a,
        tok_b,
        bearer,
        lp,
    }
}

pub async fn fixture() -> Fx {
    fixture_with(ServerOptions::default(), None).await
}

/// One answer: status, headers and the body as JSON (or as a string when it is not JSON).
pub struct Resp {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub text: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::String(self.text.clone()))
    }
}

/// How a request authenticates.
#[derive(Clone, Copy)]
pub enum Auth<'a> {
    None,
    Bearer(&'a str),
    Cookie(&'a str),
}

pub async fn call(
    app: &Router,
    method: Method,
    uri: &str,
    auth: Auth<'_>,
    body: Option<Value>,
) -> Resp {
    let mut b = Request::builder().method(method).uri(uri);
    match auth {
        Auth::None => {}
        Auth::Bearer(t) => b = b.header(header::AUTHORIZATION, format!("Bearer {t}")),
        Auth::Cookie(c) => b = b.header(header::COOKIE, c),
    }
    let req = match body {
        Some(v) => b
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(v.to_string()))
            .unwrap(),
        None => b.body(Body::empty()).unwrap(),
    };
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    Resp {
        status,
        headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// Logs in and returns the `name=value` cookie pair.
pub async fn login(app: &Router, name: &str, pw: &str) -> String {
    let r = call(
        app,
        Method::POST,
        "/api/v1/auth/login",
        Auth::None,
        Some(json!({"name": name, "password": pw})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let set = r
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    set.split(';').next().unwrap().to_owned()
}
