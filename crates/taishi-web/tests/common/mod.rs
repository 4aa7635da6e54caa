//! The test world shared by the handler and browser tests: a district with townships A and B, users of
//! every kind, and an asset whose name and notes are hostile markup.

#![allow(dead_code)]

pub mod admin;
pub mod chrome;

use axum::Router;
use serde_json::json;
use std::sync::Arc;
use taishi_model::{Actor, AssetInput, NewUser, Org, OrgInput, Role};
use taishi_store::Store;

/// The seeded store and the merged API + console router.
pub struct World {
    pub store: Arc<dyn Store>,
    pub state: taishi_server::AppState,
    pub app: Router,
    pub _dir: tempfile::TempDir,
    pub a: Org,
    pub b: Org,
    pub evil_asset: i64,
}

pub const PW: &str = "correct horse battery";

/// Builds the world on a fresh SQLite file.
pub async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let store: Arc<dyn Store> = taishi_store::open(&url).await.unwrap();
    let sys = Actor::system("test");
    let org = |parent: Option<i64>, code: &str, name: &str, kind: &str| -> OrgInput {
        serde_json::from_value(json!({"parent_id": parent, "code": code, "name": name, "kind": kind, "sector": "government"}))
            .unwrap()
    };
    let d = store
        .create_org(&sys, org(None, "D", "示范区", "district"))
        .await
        .unwrap();
    let a = store
        .create_org(&sys, org(Some(d.id.0), "A", "东城街道", "township"))
        .await
        .unwrap();
    let b = store
        .create_org(&sys, org(Some(d.id.0), "B", "西城街道", "township"))
        .await
        .unwrap();
    store
        .create_org(&sys, org(Some(a.id.0), "A1", "东城一村", "village"))
        .await
        .unwrap();
    let hostile: AssetInput = serde_json::from_value(json!({
        "org_id": a.id.0, "kind": "system", "identity": "oa-system",
        "name": "<script>document.title='pwned'</script>",
        "notes": "<img src=x onerror=alert(1)> javascript:alert(2)"
    }))
    .unwrap();
    let evil = store.create_asset(&sys, hostile).await.unwrap();
    let site: AssetInput = serde_json::from_value(
        json!({"org_id": b.id.0, "kind": "website", "identity": "https://b.example.cn/"}),
    )
    .unwrap();
    store.create_asset(&sys, site).await.unwrap();
    let hash = taishi_server::auth::password::hash_password(PW).unwrap();
    for (name, role, org) in [
        ("analyst", Role::Analyst, d.id),
        ("officer_a", Role::Officer, a.id),
        ("officer_b", Role::Officer, b.id),
    ] {
        let u = NewUser {
            name: name.into(),
            display_name: name.into(),
            role,
            org_id: org,
            password_hash: hash.clone(),
        };
        store.create_user(&sys, u).await.unwrap();
    }
    let state = taishi_server::AppState::new(store.clone(), Default::default());
    let app = taishi_server::router(state.clone()).merge(taishi_web::router(state.clone()));
    World {
        store,
        state,
        app,
        _dir: dir,
        a,
        b,
        evil_asset: evil.id.0,
    }
}

/// Adds a realistic spread under the district: more townships with villages and assets of every kind,
/// so pages and screenshots show something like a real constituency.
pub async fn populate(w: &World) {
    let sys = Actor::system("test");
    let d = w.a.parent_id.unwrap();
    let towns = [
        ("C", "南湖街道", 6),
        ("E", "北山镇", 3),
        ("F", "教育局", 9),
        ("G", "卫健委", 5),
        ("H", "水务集团", 2),
    ];
    for (n, (code, name, assets)) in towns.iter().enumerate() {
        let sector = ["government", "government", "education", "health", "water"][n];
        let kind = if n < 2 { "township" } else { "department" };
        let input: OrgInput = serde_json::from_value(json!({
            "parent_id": d.0, "code": code, "name": name, "kind": kind,
            "sector": sector,
            "critical_infrastructure": n == 4,
            "contacts": {"principal": {"name": "张伟", "phone": "13800000000", "email": "zw@example.cn"},
                         "security_officer": {"name": "李娜", "phone": "13900000000", "email": "ln@example.cn"}}
        }))
        .unwrap();
        let t = w.store.create_org(&sys, input).await.unwrap();
        for v in 0..2 {
            let input: OrgInput = serde_json::from_value(json!({
                "parent_id": t.id.0, "code": format!("{code}{v}"), "name": format!("{name}{}", ["一所", "二所"][v]),
                "kind": "site", "sector": "other"
            }))
            .unwrap();
            w.store.create_org(&sys, input).await.unwrap();
        }
        let mut created = Vec::new();
        for i in 0..*assets {
            let (kind, identity) = match i % 4 {
                0 => (
                    "website",
                    format!("https://www{i}.{}.example.cn/", code.to_lowercase()),
                ),
                1 => (
                    "domain",
                    format!("mail{i}.{}.example.cn", code.to_lowercase()),
                ),
                2 => ("ip", format!("10.{n}.{i}.10")),
                _ => ("system", format!("{code}-oa-{i}")),
            };
            let mlps = if kind == "system" { Some(3) } else { None };
            let input: AssetInput = serde_json::from_value(json!({
                "org_id": t.id.0, "kind": kind, "identity": identity, "name": format!("{name}业务系统{i}"),
                "tags": ["政务"], "mlps_level": mlps,
                "critical_infrastructure": n == 4
            }))
            .unwrap();
            created.push(w.store.create_asset(&sys, input).await.unwrap());
        }
        // Findings spread over the past weeks, so trends and rankings have something to show.
        let loops = taishi_loop::LoopService::new(
            w.store.clone(),
            std::sync::Arc::new(taishi_loop::SystemClock),
        );
        let checks = [
            (
                "headers.csp_missing",
                "缺少内容安全策略（CSP）响应头",
                taishi_model::Severity::Low,
            ),
            (
                "tls.weak_protocol",
                "支持已淘汰的 TLS 1.0 协议",
                taishi_model::Severity::Medium,
            ),
            (
                "exposure.git",
                "泄露 .git 目录",
                taishi_model::Severity::High,
            ),
            (
                "ports.rdp_open",
                "远程桌面端口（3389）对互联网开放",
                taishi_model::Severity::Critical,
            ),
        ];
        for (i, a) in created.iter().enumerate() {
            let (check, title, severity) = checks[(i + n) % checks.len()];
            let days = ((i * 7 + n * 11) % 80) as i64;
            let seen_at = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * days);
            loops
                .ingest(taishi_model::finding::Sighting {
                    source: taishi_model::FindingSource::Probe,
                    check: check.into(),
                    key: String::new(),
                    org: t.id,
                    asset: a.id,
                    title: title.into(),
                    severity,
                    exploited: false,
                    internet_exposed: true,
                    evidence: json!({"url": a.identity}),
                    seen_at,
                })
                .await
                .unwrap();
        }
    }
}

/// Findings through the loop's one intake path: a high one on township A's hostile asset whose evidence
/// carries markup and a `javascript:` link, and a critical one on township B's website. Returns their ids.
pub async fn plant_findings(w: &World) -> (uuid::Uuid, uuid::Uuid) {
    use taishi_model::finding::Sighting;
    use taishi_model::{AssetFilter, AssetId, FindingSource, Page, Severity};
    let loops = taishi_loop::LoopService::new(
        w.store.clone(),
        std::sync::Arc::new(taishi_loop::SystemClock),
    );
    let b_site = w
        .store
        .list_assets(
            &AssetFilter {
                within: Some(w.b.id),
                ..AssetFilter::default()
            },
            Page::first(1),
        )
        .await
        .unwrap()
        .items[0]
        .id;
    let now = jiff::Timestamp::now();
    let a = loops
        .ingest(Sighting {
            source: FindingSource::Probe,
            check: "content.hidden_links".into(),
            key: String::new(),
            org: w.a.id,
            asset: AssetId(w.evil_asset),
            title: "网页存在隐藏链接（暗链）".into(),
            severity: Severity::High,
            exploited: false,
            internet_exposed: true,
            evidence: json!({"links": ["<a href=\"javascript:alert(document.cookie)\">casino</a>"],
                             "snippet": "<script>document.title='pwned'</script><img src=x onerror=alert(3)>"}),
            seen_at: now,
        })
        .await
        .unwrap();
    let b = loops
        .ingest(Sighting {
            source: FindingSource::Probe,
            check: "tls.expired".into(),
            key: String::new(),
            org: w.b.id,
            asset: b_site,
            title: "证书已过期".into(),
            severity: Severity::Critical,
            exploited: false,
            internet_exposed: true,
            evidence: json!({"not_after": "2026-01-01"}),
            seen_at: now,
        })
        .await
        .unwrap();
    (a.finding.id, b.finding.id)
}

/// The Sigma rule of the planted alert.
pub const ALERT_RULE: &str = r#"
title: Encoded PowerShell Command Line
id: 8f0c2c52-3f55-4a6b-9f0e-5b2f7c1d9a11
status: test
author: taishi tests
level: high
tags:
    - attack.execution
    - attack.t1059.001
logsource: { product: windows, service: security }
detection:
    selection:
        EventID: 4688
        CommandLine|contains: ' -enc '
    condition: selection
"#;

/// Loads one detection the way `taishi hunt --load-into` does (hunt over a log file, alerts read back
/// with their whole event, the loop's intake): an encoded PowerShell run on township B's website host
/// whose command line carries markup. Returns the alert's finding id.
pub async fn plant_alert(w: &World) -> uuid::Uuid {
    let dir = tempfile::tempdir().unwrap();
    let rule = dir.path().join("rule.yml");
    std::fs::write(&rule, ALERT_RULE).unwrap();
    let at = jiff::Timestamp::now().to_string();
    let event = json!({
        "Channel": "Security", "EventID": 4688, "Hostname": "b.example.cn", "@timestamp": at,
        "SubjectUserName": "oa-admin", "SubjectDomainName": "WORKGROUP",
        "NewProcessName": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
        "ParentProcessName": "C:\\Windows\\System32\\cmd.exe",
        "CommandLine": "powershell.exe -nop -w hidden -enc SQBFAFgA <script>document.title='pwned'</script><img src=x onerror=alert(1)>",
        "TokenElevationType": "%%1937", "ProcessId": "0x1a2c"
    });
    let log = dir.path().join("security.jsonl");
    std::fs::write(&log, format!("{event}\n")).unwrap();
    let (plan, _) = taishi_hunt::load_rules(&[rule], taishi_sigma::LoadOptions::default()).unwrap();
    let files = taishi_hunt::collect_inputs(&[log]).unwrap();
    let outcome = taishi_hunt::hunt(&plan, &files, &|_| {});
    assert_eq!(outcome.detections.len(), 1, "the rule fires once");
    let alerts = taishi_monitor::alerts::alerts_from(&plan, &outcome.detections);
    let index = taishi_store::load_attribution(w.store.as_ref())
        .await
        .unwrap();
    let loops = taishi_loop::LoopService::new(
        w.store.clone(),
        std::sync::Arc::new(taishi_loop::SystemClock),
    );
    let policy = taishi_monitor::alerts::AlertPolicy::default();
    let rep = taishi_monitor::alerts::ingest_alerts(&loops, &index, &alerts, &policy)
        .await
        .unwrap();
    assert_eq!(rep.opened, 1, "{rep:?}");
    let q = taishi_store::FindingQuery {
        within: Some(w.b.id),
        ..Default::default()
    };
    w.store
        .list_findings(&q)
        .await
        .unwrap()
        .into_iter()
        .find(|f| f.source == taishi_model::FindingSource::Detection)
        .expect("the alert's finding")
        .id
}
