//! A scripted month of the closed loop THROUGH THE HTTP API (Router::oneshot), with the server's
//! injectable clock walked from 2026-11-02 to 2026-11-30: findings arrive (intake is the probes' side),
//! the analyst issues notices, officers acknowledge and submit rectifications with attachments
//! (multipart), the analyst returns one with a reason, verifies others, cancels one, triages findings,
//! the daily sweep flags the one nobody answers overdue and escalates it (督办), and at the end the
//! analyst generates the bulletin of the district for 2026-11 and downloads its HTML and Markdown.
//!
//! With `TAISHI_WRITE_EXAMPLES=1` the downloaded bulletin is written to
//! `examples/bulletin-2026-11.{html,md}`.

use crate::common::{Auth, Resp, call};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use jiff::Timestamp;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use taishi_loop::{Clock, ManualClock};
use taishi_model::finding::Sighting;
use taishi_model::*;
use taishi_server::auth::secret;
use taishi_server::{AppState, ServerOptions};
use tower::ServiceExt;

mod script;
use script::month;

fn org(parent: Option<OrgId>, code: &str, name: &str, kind: OrgKind, sector: Sector) -> OrgInput {
    OrgInput {
        parent_id: parent,
        code: code.into(),
        name: name.into(),
        kind,
        sector,
        region_code: Some("330100".into()),
        critical_infrastructure: false,
        contacts: Contacts::default(),
        notes: String::new(),
    }
}

struct World {
    app: axum::Router,
    clock: ManualClock,
    state: AppState,
    orgs: HashMap<&'static str, Org>,
    assets: HashMap<&'static str, Asset>,
    tokens: HashMap<&'static str, String>,
    _dir: tempfile::TempDir,
}

async fn world(store: Arc<dyn taishi_store::Store>, dir: tempfile::TempDir) -> World {
    let s = store.as_ref();
    let sys = Actor::system("month");
    let mut orgs = HashMap::new();
    let root = s
        .create_org(
            &sys,
            org(None, "D", "示范区", OrgKind::District, Sector::Government),
        )
        .await
        .unwrap();
    let tree: [(&str, &str, &str, OrgKind, Sector); 8] = [
        (
            "chengguan",
            "D",
            "城关镇",
            OrgKind::Township,
            Sector::Government,
        ),
        ("hexi", "D", "河西乡", OrgKind::Township, Sector::Government),
        (
            "edu",
            "D",
            "区教育局",
            OrgKind::Department,
            Sector::Education,
        ),
        (
            "school1",
            "chengguan",
            "城关第一中学",
            OrgKind::Site,
            Sector::Education,
        ),
        (
            "hospital",
            "chengguan",
            "区人民医院",
            OrgKind::Site,
            Sector::Health,
        ),
        (
            "clinic",
            "hexi",
            "河西乡卫生院",
            OrgKind::Site,
            Sector::Health,
        ),
        (
            "school2",
            "hexi",
            "河西中心小学",
            OrgKind::Site,
            Sector::Education,
        ),
        (
            "school3",
            "edu",
            "实验小学",
            OrgKind::Site,
            Sector::Education,
        ),
    ];
    orgs.insert("D", root);
    for (code, parent, name, kind, sector) in tree {
        let p = orgs[parent].id;
        let o = s
            .create_org(&sys, org(Some(p), code, name, kind, sector))
            .await
            .unwrap();
        orgs.insert(code, o);
    }
    let mut assets = HashMap::new();
    for code in ["school1", "hospital", "clinic", "school2", "school3"] {
        let a = s
            .create_asset(
                &sys,
                AssetInput {
                    org_id: orgs[code].id,
                    kind: AssetKind::Website,
                    identity: format!("https://{code}.example.cn/"),
                    name: format!("{} 门户网站", orgs[code].name),
                    tags: vec![],
                    mlps_level: None,
                    critical_infrastructure: code == "hospital",
                    notes: String::new(),
                },
            )
            .await
            .unwrap();
        assets.insert(code, a);
    }
    let mut tokens = HashMap::new();
    for (name, role, at) in [
        ("analyst", Role::Analyst, "D"),
        ("officer-chengguan", Role::Officer, "chengguan"),
        ("officer-hexi", Role::Officer, "hexi"),
        ("officer-edu", Role::Officer, "edu"),
    ] {
        let t = secret::new_api_token();
        tokens.insert(name, t.secret.clone());
        s.create_token(
            &sys,
            NewApiToken {
                name: name.into(),
                prefix: t.prefix,
                token_hash: t.hash,
                role,
                org_id: orgs[at].id,
                created_by: None,
            },
        )
        .await
        .unwrap();
    }
    let clock = ManualClock::at("2026-11-02T01:00:00Z".parse().unwrap());
    let c = clock.clone();
    let state = AppState::with_clock(
        store.clone(),
        ServerOptions::default(),
        Arc::new(move || c.now()),
    );
    let app = taishi_server::router(state.clone());
    World {
        app,
        clock,
        state,
        orgs,
        assets,
        tokens,
        _dir: dir,
    }
}

impl World {
    async fn call(&self, who: &str, m: Method, uri: &str, body: Option<Value>) -> Resp {
        call(&self.app, m, uri, Auth::Bearer(&self.tokens[who]), body).await
    }

    async fn ok(&self, who: &str, m: Method, uri: &str, body: Option<Value>) -> Value {
        let r = self.call(who, m.clone(), uri, body).await;
        assert!(
            r.status.is_success(),
            "{m} {uri} as {who}: {} {}",
            r.status,
            r.text
        );
        r.json()
    }

    /// Moves the clock to 09:00 China time of November `day`, then runs the daily sweep.
    async fn day(&self, day: i8) -> Value {
        let t: Timestamp = format!("2026-11-{day:02}T01:00:00Z").parse().unwrap();
        self.clock.set(t);
        self.ok("analyst", Method::POST, "/api/v1/notices/sweep", None)
            .await
    }

    async fn finding(
        &self,
        code: &str,
        check: &str,
        title: &str,
        sev: Severity,
        src: FindingSource,
    ) -> String {
        let r = self
            .state
            .loop_service()
            .ingest(Sighting {
                source: src,
                check: check.into(),
                key: String::new(),
                org: self.orgs[code].id,
                asset: self.assets[code].id,
                title: title.into(),
                severity: sev,
                exploited: false,
                internet_exposed: true,
                evidence: json!({"check": check}),
                seen_at: self.clock.now(),
            })
            .await
            .unwrap();
        r.finding.id.to_string()
    }

    async fn issue(&self, code: &str, findings: &[&str], title: &str) -> String {
        let n = self
            .ok(
                "analyst",
                Method::POST,
                "/api/v1/notices",
                Some(
                    json!({"org_id": self.orgs[code].id, "findings": findings, "title": title,
                    "required_actions": ["核查并整改", "按期反馈整改报告"]}),
                ),
            )
            .await;
        assert_eq!(n["state"], "issued", "{n}");
        n["id"].as_str().unwrap().to_owned()
    }

    async fn submit(&self, who: &str, notice: &str, text: &str, file: (&str, &[u8])) -> Value {
        let boundary = "----taishi-month-boundary";
        let mut body = Vec::new();
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\n{text}\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{}\"\r\nContent-Type: application/octet-stream\r\n\r\n",
                file.0
            )
            .as_bytes(),
        );
        body.extend_from_slice(file.1);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let req = Request::builder()
            .method(Method::POST)
            .uri(format!("/api/v1/notices/{notice}/rectifications"))
            .header(
                header::AUTHORIZATION,
                format!("Bearer {}", self.tokens[who]),
            )
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .unwrap();
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        assert_eq!(status, StatusCode::OK, "{v}");
        v
    }
}

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n";

fn count(sweep: &Value, kind: &str) -> usize {
    sweep["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_month_of_the_loop_through_the_api_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = taishi_store::open(&format!("sqlite://{}", dir.path().join("m.db").display()))
        .await
        .unwrap();
    let out = month(world(store, dir).await).await;
    if std::env::var("TAISHI_WRITE_EXAMPLES").as_deref() == Ok("1") {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");
        std::fs::write(format!("{dir}/bulletin-2026-11.html"), &out["html"]).unwrap();
        std::fs::write(format!("{dir}/bulletin-2026-11.md"), &out["md"]).unwrap();
    }
}

#[allow(clippy::print_stderr)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_month_of_the_loop_through_the_api_on_postgres() {
    let url = std::env::var("TAISHI_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = format!("api_month_{}", std::process::id());
    let opts = taishi_store::OpenOptions {
        pg_schema: Some(schema.clone()),
        max_connections: Some(4),
    };
    let store = match taishi_store::open_with(&url, &opts).await {
        Ok(s) => s,
        Err(e) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("skipping PostgreSQL API month test: {url}: {e}");
            return;
        }
        Err(e) => panic!("PostgreSQL required in CI: {e}"),
    };
    let out = month(world(store.clone(), tempfile::tempdir().unwrap()).await).await;
    assert!(out["md"].contains("河西中心小学"));
    store.close().await;
    use sqlx::Connection;
    let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA \"{schema}\" CASCADE"
    )))
    .execute(&mut c)
    .await
    .unwrap();
}
