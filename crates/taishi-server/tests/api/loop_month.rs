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

/// The month itself; returns the downloaded bulletin by format (`html`, `md`, `csv`).
async fn month(w: World) -> HashMap<String, String> {
    let (a, post, get) = ("analyst", Method::POST, Method::GET);
    // 11-02: the probes and detections report.
    let tls = w
        .finding(
            "school1",
            "tls.legacy_protocols",
            "城关第一中学网站启用 TLS 1.0",
            Severity::High,
            FindingSource::Probe,
        )
        .await;
    let hsts = w
        .finding(
            "school1",
            "headers.hsts",
            "城关第一中学网站缺少 HSTS",
            Severity::Medium,
            FindingSource::Probe,
        )
        .await;
    let panel = w
        .finding(
            "hospital",
            "exposure.admin_panel",
            "人民医院后台管理页面暴露且使用弱口令",
            Severity::Critical,
            FindingSource::Probe,
        )
        .await;
    let cert = w
        .finding(
            "clinic",
            "tls.cert_expired",
            "河西乡卫生院证书已过期",
            Severity::High,
            FindingSource::Probe,
        )
        .await;
    let shell = w
        .finding(
            "clinic",
            "sigma.webshell",
            "河西乡卫生院服务器疑似 WebShell 访问",
            Severity::Critical,
            FindingSource::Detection,
        )
        .await;
    let cms = w
        .finding(
            "school2",
            "vuln.cms_outdated",
            "河西中心小学 CMS 存在已公开漏洞",
            Severity::High,
            FindingSource::Warning,
        )
        .await;
    let listing = w
        .finding(
            "school3",
            "http.directory_listing",
            "实验小学网站目录浏览",
            Severity::Medium,
            FindingSource::Probe,
        )
        .await;
    let banner = w
        .finding(
            "school3",
            "headers.server_banner",
            "实验小学网站暴露服务器版本",
            Severity::Low,
            FindingSource::Probe,
        )
        .await;

    // The analyst sees them through the API and issues notices.
    let open = w
        .ok(
            a,
            get.clone(),
            "/api/v1/findings?status=open&severity=critical,high",
            None,
        )
        .await;
    assert_eq!(open["items"].as_array().unwrap().len(), 5, "{open}");
    let hospital = w
        .ok(a, get.clone(), &format!("/api/v1/findings/{panel}"), None)
        .await;
    let n_hosp = match hospital["notices"].as_array().unwrap().first() {
        Some(n) => n["id"].as_str().unwrap().to_owned(), // issued by the auto-issue policy
        None => {
            w.issue("hospital", &[&panel], "关于区人民医院后台暴露的通报")
                .await
        }
    };
    let n_school1 = w
        .issue(
            "school1",
            &[&tls, &hsts],
            "关于城关第一中学网站传输安全问题的通报",
        )
        .await;
    let n_cert = w
        .issue("clinic", &[&cert], "关于河西乡卫生院证书过期的通报")
        .await;
    let n_shell = w
        .issue("clinic", &[&shell], "关于河西乡卫生院疑似 WebShell 的通报")
        .await;
    let n_cms = w
        .issue("school2", &[&cms], "关于河西中心小学 CMS 漏洞的通报")
        .await;
    let n_listing = w
        .issue("school3", &[&listing], "关于实验小学目录浏览的通报")
        .await;
    // The server banner is accepted as a risk for 90 days; nothing else is false.
    w.ok(
        a,
        post.clone(),
        &format!("/api/v1/findings/{banner}/accept-risk"),
        Some(json!({"reason": "教育局批准：迁移前保留，90 天", "days": 90})),
    )
    .await;

    // 11-03: officers acknowledge (河西中心小学's notice is ignored all month).
    w.day(3).await;
    for (who, n) in [
        ("officer-chengguan", &n_school1),
        ("officer-chengguan", &n_hosp),
        ("officer-hexi", &n_cert),
        ("officer-hexi", &n_shell),
        ("officer-edu", &n_listing),
    ] {
        let v = w
            .ok(
                who,
                post.clone(),
                &format!("/api/v1/notices/{n}/acknowledge"),
                Some(json!({"comment": "已收到"})),
            )
            .await;
        assert_eq!(v["state"], "acknowledged", "{v}");
    }
    // An officer cannot verify its own work, nor touch another township's notice.
    let r = w
        .call(
            "officer-chengguan",
            post.clone(),
            &format!("/api/v1/notices/{n_school1}/verify"),
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = w
        .call(
            "officer-chengguan",
            post.clone(),
            &format!("/api/v1/notices/{n_cert}/acknowledge"),
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // 11-04: the clinic renews its certificate; the analyst verifies.
    w.day(4).await;
    w.submit(
        "officer-hexi",
        &n_cert,
        "已更换证书，有效期至 2027-11",
        ("证书更换记录.pdf", PDF),
    )
    .await;
    let v = w
        .ok(
            a,
            post.clone(),
            &format!("/api/v1/notices/{n_cert}/verify"),
            Some(json!({"comment": "复测通过"})),
        )
        .await;
    assert_eq!(v["state"], "closed");

    // 11-05: the school submits; TLS is fixed but HSTS is not, so the analyst returns it.
    w.day(5).await;
    let v = w
        .submit(
            "officer-chengguan",
            &n_school1,
            "已关闭 TLS 1.0/1.1",
            ("整改报告.pdf", PDF),
        )
        .await;
    assert_eq!(v["state"], "verifying");
    let r = w
        .call(
            a,
            post.clone(),
            &format!("/api/v1/notices/{n_school1}/return"),
            Some(json!({"reason": ""})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let v = w
        .ok(
            a,
            post.clone(),
            &format!("/api/v1/notices/{n_school1}/return"),
            Some(json!({"reason": "HSTS 仍未配置 / HSTS still missing"})),
        )
        .await;
    assert_eq!(v["state"], "returned");

    // 11-06: detection and hospital rectified; the attachment downloads safely.
    w.day(6).await;
    w.submit(
        "officer-hexi",
        &n_shell,
        "已清除 WebShell，重置口令并加固上传目录",
        ("处置报告.pdf", PDF),
    )
    .await;
    w.ok(
        a,
        post.clone(),
        &format!("/api/v1/notices/{n_shell}/verify"),
        Some(json!({"comment": "日志复核无再次访问"})),
    )
    .await;
    w.submit(
        "officer-chengguan",
        &n_hosp,
        "后台已限制为内网访问并更换强口令",
        ("hospital.txt", b"acl applied\n"),
    )
    .await;
    let d = w
        .ok(a, get.clone(), &format!("/api/v1/notices/{n_hosp}"), None)
        .await;
    let att = d["rectifications"][0]["attachments"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = w
        .call(
            a,
            get.clone(),
            &format!("/api/v1/notices/{n_hosp}/attachments/{att}"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    assert_eq!(r.headers[header::CONTENT_TYPE], "text/plain; charset=utf-8");
    assert_eq!(r.text, "acl applied\n");
    w.ok(
        a,
        post.clone(),
        &format!("/api/v1/notices/{n_hosp}/verify"),
        Some(json!({})),
    )
    .await;

    // 11-09: the listing site was taken offline: the notice is cancelled with the reason.
    w.day(9).await;
    let v = w
        .ok(
            a,
            post.clone(),
            &format!("/api/v1/notices/{n_listing}/cancel"),
            Some(json!({"reason": "网站已下线 / site decommissioned"})),
        )
        .await;
    assert_eq!(v["state"], "cancelled");

    // 11-10: the school resubmits with HSTS; verified.
    w.day(10).await;
    w.submit(
        "officer-chengguan",
        &n_school1,
        "已配置 HSTS max-age=31536000",
        ("hsts.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
    )
    .await;
    w.ok(
        a,
        post.clone(),
        &format!("/api/v1/notices/{n_school1}/verify"),
        Some(json!({"comment": "复测通过"})),
    )
    .await;

    // Every day to the month's end: the sweep finds the unanswered CMS notice overdue and escalates it.
    let mut kinds: HashMap<&str, usize> = HashMap::new();
    for day in 11..=30 {
        let s = w.day(day).await;
        for k in [
            "ack_overdue",
            "deadline_approaching",
            "overdue",
            "escalated",
        ] {
            *kinds.entry(k).or_default() += count(&s, k);
        }
    }
    let cms_notice = w
        .ok(a, get.clone(), &format!("/api/v1/notices/{n_cms}"), None)
        .await;
    assert_eq!(cms_notice["overdue"], true, "{cms_notice}");
    assert!(
        !cms_notice["notice"]["escalations"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{cms_notice}"
    );
    assert!(
        kinds["overdue"] >= 1 && kinds["escalated"] >= 1,
        "{kinds:?}"
    );

    // The officer of 城关镇 reads its timeline; the states are as scripted.
    let d = w
        .ok(
            "officer-chengguan",
            get.clone(),
            &format!("/api/v1/notices/{n_school1}"),
            None,
        )
        .await;
    let actions: Vec<&str> = d["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "issue",
            "acknowledge",
            "submit_rectification",
            "start_verification",
            "return",
            "submit_rectification",
            "start_verification",
            "close"
        ]
    );
    let overdue = w
        .ok(a, get.clone(), "/api/v1/notices?overdue=true", None)
        .await;
    assert_eq!(overdue["items"].as_array().unwrap().len(), 1);

    // Scores with explanations, and the district's ranking of its townships.
    let sc = w
        .ok(
            a,
            get.clone(),
            &format!("/api/v1/scores/{}?period=2026-11", w.orgs["D"].id),
            None,
        )
        .await;
    assert_eq!(sc["ranking"].as_array().unwrap().len(), 3, "{sc}");
    assert!(!sc["card"]["breakdown"].as_array().unwrap().is_empty());

    // 11-30: the bulletin of the district for November, archived and downloaded.
    let g = w
        .ok(
            a,
            post.clone(),
            "/api/v1/bulletins",
            Some(json!({"org_id": w.orgs["D"].id, "period": "2026-11"})),
        )
        .await;
    let files = g["files"].as_array().unwrap();
    assert_eq!(files.len(), 3, "{g}");
    let mut out = HashMap::new();
    for f in files {
        let r = w
            .call(a, get.clone(), f["href"].as_str().unwrap(), None)
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            r.headers[header::CONTENT_DISPOSITION]
                .to_str()
                .unwrap()
                .starts_with("attachment;")
        );
        out.insert(f["format"].as_str().unwrap().to_owned(), r.text);
    }
    let html = &out["html"];
    assert!(
        html.contains("<svg") && html.contains("河西中心小学"),
        "bulletin lacks its parts"
    );
    assert!(out["md"].contains("2026-11"));
    out
}
