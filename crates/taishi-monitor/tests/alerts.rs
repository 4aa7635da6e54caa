//! Detections from a real hunt become findings with source `detection`, attributed to the owning org
//! through the attribution index and deduplicated by rule, host and time window. (A detection carries
//! only the fields behind its match, so attribution by address needs the address in the rule; the host
//! is always there.)

mod common;

use taishi_hunt::{collect_inputs, hunt, load_rules};
use taishi_model::{Actor, AssetKind, FindingSource, OrgInput, OrgKind, Sector, Severity};
use taishi_monitor::alerts::{AlertPolicy, alerts_from, ingest_alerts};
use taishi_sigma::LoadOptions;
use taishi_store::FindingQuery;

const RULE: &str = r#"
title: Failed Logon
id: 5b0b3a62-5d3c-4f7e-9d1e-2f3f4c5d6e7f
status: test
author: taishi tests
level: high
logsource: { product: windows, service: security }
detection:
    selection:
        EventID: 4625
        IpAddress|cidr:
            - 10.0.0.0/8
            - 192.0.2.0/24
            - 198.51.100.0/24
    condition: selection
"#;

fn event(time: &str, host: &str, ip: &str) -> String {
    format!(
        "{{\"Channel\":\"Security\",\"EventID\":4625,\"Hostname\":\"{host}\",\"IpAddress\":\"{ip}\",\"TargetUserName\":\"admin\",\"@timestamp\":\"{time}\"}}\n"
    )
}

#[tokio::test]
async fn detections_are_attributed_and_deduplicated_per_rule_host_and_window() {
    let w = common::world().await;
    let town = w
        .store
        .create_org(
            &Actor::system("test"),
            OrgInput {
                parent_id: Some(w.org.id),
                code: "town".into(),
                name: "城关镇".into(),
                kind: OrgKind::Township,
                sector: Sector::Government,
                region_code: None,
                critical_infrastructure: false,
                contacts: Default::default(),
                notes: String::new(),
            },
        )
        .await
        .unwrap();
    // The district owns its domain and a /16; the town owns one address inside it.
    let domain = w.asset(AssetKind::Domain, "corp.example.cn", &[]).await;
    let net = w.asset(AssetKind::Cidr, "10.1.0.0/16", &[]).await;
    let town_ip = w
        .store
        .create_asset(
            &Actor::system("test"),
            taishi_model::AssetInput {
                org_id: town.id,
                kind: AssetKind::Ip,
                identity: "10.1.2.3".into(),
                name: "镇政府出口".into(),
                tags: vec![],
                mlps_level: None,
                critical_infrastructure: false,
                notes: String::new(),
            },
        )
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rule.yml"), RULE).unwrap();
    let log = [
        // Two failures on ws01 within one hour: one finding, two occurrences.
        event("2026-11-28T10:05:00Z", "WS01.corp.example.cn", "192.0.2.1"),
        event("2026-11-28T10:40:00Z", "ws01.corp.example.cn", "192.0.2.1"),
        // The next hour: a new finding.
        event("2026-11-28T11:10:00Z", "ws01.corp.example.cn", "192.0.2.1"),
        // A host taishi does not know, from an address of the town: attributed by the address.
        event("2026-11-28T10:06:00Z", "PC-7", "10.1.2.3"),
        // Another address in the district's range.
        event("2026-11-28T10:07:00Z", "PC-8", "10.1.200.9"),
        // Nobody's.
        event("2026-11-28T10:08:00Z", "stranger", "198.51.100.7"),
    ]
    .concat();
    std::fs::write(dir.path().join("security.jsonl"), log).unwrap();
    let (plan, _) = load_rules(&[dir.path().join("rule.yml")], LoadOptions::default()).unwrap();
    let files = collect_inputs(&[dir.path().join("security.jsonl")]).unwrap();
    let outcome = hunt(&plan, &files, &|_| {});
    assert_eq!(outcome.detections.len(), 6);
    let alerts = alerts_from(&plan, &outcome.detections);

    let index = taishi_store::load_attribution(w.store.as_ref())
        .await
        .unwrap();
    let svc = w.service();
    let rep = ingest_alerts(&svc, &index, &alerts, &AlertPolicy::default())
        .await
        .unwrap();
    assert_eq!(rep.opened, 4, "{rep:?}");
    assert_eq!(rep.merged, 1);
    assert_eq!(rep.unattributed, ["stranger"]);

    let all = w
        .store
        .list_findings(&FindingQuery::default())
        .await
        .unwrap();
    assert!(
        all.iter()
            .all(|f| f.source == FindingSource::Detection && f.severity == Severity::High)
    );
    let on = |asset| {
        all.iter()
            .filter(move |f| f.asset == asset)
            .collect::<Vec<_>>()
    };
    let ws = on(domain.id);
    assert_eq!(ws.len(), 2);
    assert_eq!(ws.iter().map(|f| f.occurrences).max(), Some(2));
    assert!(
        ws.iter()
            .all(|f| f.org == w.org.id && f.check == "5b0b3a62-5d3c-4f7e-9d1e-2f3f4c5d6e7f")
    );
    let t = on(town_ip.id);
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].org, town.id, "the most specific registration wins");
    assert_eq!(t[0].evidence["matched"], "10.1.2.3");
    // The whole event is kept, not only the fields the rule matched on.
    let event = t[0].evidence["event"].as_array().unwrap();
    let has = |k: &str, v: &str| event.iter().any(|p| p[0] == k && p[1] == v);
    assert!(
        has("TargetUserName", "admin") && has("Hostname", "PC-7"),
        "{event:?}"
    );
    assert!(has("IpAddress", "10.1.2.3"));
    assert_eq!(t[0].evidence["event_truncated"], false);
    assert_eq!(on(net.id).len(), 1);

    // Loading the same detections again only adds occurrences.
    let again = ingest_alerts(&svc, &index, &alerts, &AlertPolicy::default())
        .await
        .unwrap();
    assert_eq!((again.opened, again.merged), (0, 5));
}

const LOGON_RULE: &str = r#"
title: Failed Logon Seen In EVTX
id: 0a6f1d83-6f3e-4f7a-9a3c-8f6b1c2d3e4f
status: test
author: taishi tests
level: medium
logsource: { product: windows, service: security }
detection:
    selection:
        EventID: 4625
    condition: selection
"#;

/// An EVTX record is found again by its chunk offset and record id: the alert carries all its
/// fields (System and EventData), not only `EventID`.
#[test]
fn evtx_detections_carry_their_whole_record() {
    let data = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/evtx/EVTX-ATTACK-SAMPLES"
    );
    let file = std::path::Path::new(data)
        .join("Credential Access/CA_4624_4625_LogonType2_LogonProc_chrome.evtx");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rule.yml"), LOGON_RULE).unwrap();
    let (plan, _) = load_rules(&[dir.path().join("rule.yml")], LoadOptions::default()).unwrap();
    let outcome = hunt(&plan, &collect_inputs(&[file]).unwrap(), &|_| {});
    assert!(
        !outcome.detections.is_empty(),
        "the sample holds failed logons"
    );
    let alerts = alerts_from(&plan, &outcome.detections);
    for a in &alerts {
        let names: Vec<&str> = a.event.iter().map(|(k, _)| k.as_str()).collect();
        assert!(!a.event_truncated);
        assert!(
            names.contains(&"EventRecordID")
                && names.contains(&"TargetUserName")
                && names.contains(&"LogonType"),
            "{names:?}"
        );
        assert!(a.event.iter().any(|(k, v)| k == "EventID" && v == "4625"));
    }
    // Each alert has its own record, not the first one of its chunk.
    let records: std::collections::HashSet<&str> = alerts
        .iter()
        .filter_map(|a| {
            a.event
                .iter()
                .find(|(k, _)| k == "EventRecordID")
                .map(|(_, v)| v.as_str())
        })
        .collect();
    assert_eq!(records.len(), alerts.len());
}
