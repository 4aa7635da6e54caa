//! The KEV/NVD matcher on the real feeds in the shared data folder, and warnings through the loop.

mod common;

use jiff::{SignedDuration, Timestamp};
use std::path::{Path, PathBuf};
use taishi_loop::Caller;
use taishi_model::finding::{FindingStatus, Resolution};
use taishi_model::{
    Actor, AssetKind, FindingSource, Severity, Software, SoftwareId, SoftwareInput,
};
use taishi_monitor::warning::{
    Catalogue, KEV_PRODUCT_CHECK, WarningPolicy, match_inventory, run_warnings,
};
use taishi_store::FindingQuery;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn catalogue() -> Catalogue {
    let d = Path::new(DATA);
    let nvd: Vec<PathBuf> = [
        "nvd-api-2.0-cves-1999-page.json",
        "nvd-api-2.0-cves-2023-page.json",
    ]
    .iter()
    .map(|f| d.join("nvd").join(f))
    .collect();
    Catalogue::load(
        Some(&d.join("kev/known_exploited_vulnerabilities.json")),
        &nvd,
    )
    .unwrap()
}

fn sw(id: i64, vendor: &str, product: &str, version: &str, cpe: Option<&str>) -> Software {
    Software {
        id: SoftwareId(id),
        asset_id: taishi_model::AssetId(1),
        vendor: vendor.into(),
        product: product.into(),
        version: version.into(),
        cpe: cpe.map(str::to_owned),
        created_at: Timestamp::UNIX_EPOCH,
    }
}

fn now() -> Timestamp {
    "2026-11-28T00:00:00Z".parse().unwrap()
}

#[test]
fn loads_the_real_feeds() {
    let c = catalogue();
    assert_eq!(c.kev_version, "2025.08.25");
    assert_eq!(c.kev_len(), 1404);
    // 400 records, 4 rejected ones dropped.
    assert_eq!(c.nvd_len(), 396);
    let bad = Catalogue::load(
        Some(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/Cargo.toml"
        ))),
        &[],
    )
    .unwrap_err();
    assert!(
        bad.to_string().contains("Cargo.toml") && bad.to_string().contains("line 1"),
        "{bad}"
    );
}

#[test]
fn kev_cve_with_an_and_configuration_needs_its_platform() {
    let c = catalogue();
    let p = WarningPolicy::default();
    let dante = sw(
        1,
        "Audinate",
        "Dante Application Library",
        "1.1.0",
        Some("cpe:2.3:a:audinate:dante_application_library:1.1.0:*:*:*:*:*:*:*"),
    );
    let windows = sw(2, "Microsoft", "Windows", "", None);
    // CVE-2022-23748 (in KEV): dante_application_library ≤ 1.2.0 AND running on Windows.
    let hits = match_inventory(&c, &[dante.clone(), windows.clone()], now(), &p);
    let h = hits
        .iter()
        .find(|h| h.check == "CVE-2022-23748")
        .expect("confirmed KEV hit");
    assert!(h.exploited);
    assert!(h.severity >= Severity::High);
    assert_eq!(
        h.software,
        SoftwareId(1),
        "the library is blamed, not the platform"
    );
    assert_eq!(
        h.evidence["kev"]["name"],
        "Dante Discovery Process Control Vulnerability"
    );
    // Without the platform the configuration is false.
    assert!(
        !match_inventory(&c, std::slice::from_ref(&dante), now(), &p)
            .iter()
            .any(|h| h.check == "CVE-2022-23748")
    );
    // A fixed version does not match.
    let fixed = sw(1, "Audinate", "Dante Application Library", "1.2.1", None);
    assert!(
        !match_inventory(&c, &[fixed, windows.clone()], now(), &p)
            .iter()
            .any(|h| h.check == "CVE-2022-23748")
    );
    // Boundary: versionEndIncluding 1.2.0.
    let edge = sw(1, "Audinate", "Dante Application Library", "1.2.0", None);
    assert!(
        match_inventory(&c, &[edge, windows], now(), &p)
            .iter()
            .any(|h| h.check == "CVE-2022-23748")
    );
}

#[test]
fn nvd_only_cve_by_version_range() {
    let c = catalogue();
    let p = WarningPolicy::default();
    // CVE-2022-41938: flarum ≥ 1.5.0, < 1.6.2; not in KEV.
    let hits = match_inventory(&c, &[sw(1, "Flarum", "Flarum", "1.6.0", None)], now(), &p);
    let h = hits
        .iter()
        .find(|h| h.check == "CVE-2022-41938")
        .expect("hit");
    assert!(!h.exploited);
    assert_eq!(h.key, "flarum:flarum:1.6.0");
    for v in ["1.6.2", "1.4.9", ""] {
        let hits = match_inventory(&c, &[sw(1, "Flarum", "Flarum", v, None)], now(), &p);
        assert!(
            !hits.iter().any(|h| h.check == "CVE-2022-41938"),
            "version {v:?}"
        );
    }
}

#[test]
fn kev_product_hits_list_every_exploited_cve_of_the_product() {
    let c = catalogue();
    let p = WarningPolicy::default();
    // Count Apache HTTP Server entries straight from the JSON.
    let raw: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(DATA).join("kev/known_exploited_vulnerabilities.json"))
            .unwrap(),
    )
    .unwrap();
    let expected = raw["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| {
            v["vendorProject"]
                .as_str()
                .unwrap()
                .eq_ignore_ascii_case("apache")
                && v["product"]
                    .as_str()
                    .unwrap()
                    .eq_ignore_ascii_case("http server")
        })
        .count();
    assert!(expected >= 3);
    let apache = sw(
        7,
        "apache",
        "http_server",
        "2.4.49",
        Some("cpe:2.3:a:apache:http_server:2.4.49:*:*:*:*:*:*:*"),
    );
    let hits = match_inventory(&c, std::slice::from_ref(&apache), now(), &p);
    let h = hits
        .iter()
        .find(|h| h.check == KEV_PRODUCT_CHECK)
        .expect("product hit");
    assert_eq!(h.evidence["count"], expected);
    let cves: Vec<&str> = h.evidence["cves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["cve"].as_str().unwrap())
        .collect();
    assert!(cves.contains(&"CVE-2021-41773"), "{cves:?}");
    assert!(!h.exploited, "a product-level hit is unconfirmed");
    assert_eq!(h.severity, Severity::Medium);
    // A week after CVE-2021-42013 was added the hit is high.
    let then: Timestamp = "2021-11-10T00:00:00Z".parse().unwrap();
    let h = match_inventory(&c, &[apache], then, &p)
        .into_iter()
        .find(|h| h.check == KEV_PRODUCT_CHECK)
        .unwrap();
    assert_eq!(h.severity, Severity::High);
    // Nothing for unrelated products, nothing when product hits are off.
    assert!(match_inventory(&c, &[sw(1, "Nobody", "Nothing", "1.0", None)], now(), &p).is_empty());
    let off = WarningPolicy {
        kev_product_hits: false,
        ..p
    };
    let confirmed = match_inventory(
        &c,
        &[sw(7, "apache", "http_server", "2.4.49", None)],
        now(),
        &off,
    );
    assert!(
        confirmed
            .iter()
            .all(|h| h.check.starts_with("CVE-") && h.evidence["confidence"] == "version"),
        "{confirmed:?}"
    );
}

#[tokio::test]
async fn exploited_warning_takes_the_three_day_deadline_and_resolves_when_upgraded() {
    let w = common::world().await;
    let svc = w.service();
    let c = catalogue();
    let asset = w
        .asset(AssetKind::Website, "https://dante.example.cn/", &[])
        .await;
    let sys = Actor::system("test");
    let lib = w
        .store
        .add_software(
            &sys,
            asset.id,
            SoftwareInput {
                vendor: "Audinate".into(),
                product: "Dante Application Library".into(),
                version: "1.1.0".into(),
                cpe: None,
            },
        )
        .await
        .unwrap();
    w.store
        .add_software(
            &sys,
            asset.id,
            SoftwareInput {
                vendor: "Microsoft".into(),
                product: "Windows".into(),
                version: "10".into(),
                cpe: None,
            },
        )
        .await
        .unwrap();
    let rep = run_warnings(&svc, w.store.as_ref(), &c, &WarningPolicy::default())
        .await
        .unwrap();
    assert_eq!(rep.opened, rep.hits);
    let all = w
        .store
        .list_findings(&FindingQuery::default())
        .await
        .unwrap();
    let f = all
        .iter()
        .find(|f| f.check == "CVE-2022-23748")
        .expect("warning finding")
        .clone();
    assert_eq!(f.source, FindingSource::Warning);
    assert!(f.exploited && f.internet_exposed);
    assert_eq!(f.org, w.org.id);

    let caller = Caller::system("test");
    let n = svc
        .draft_notice(
            &caller,
            w.org.id,
            vec![f.id],
            "Dante 漏洞",
            vec!["升级".into()],
        )
        .await
        .unwrap();
    let n = svc.issue(&caller, n.id, "").await.unwrap();
    assert_eq!(
        n.rectify_due.unwrap().duration_since(n.issued_at.unwrap()),
        SignedDuration::from_hours(72)
    );

    // Running again changes nothing; upgrading resolves it as disappeared.
    let again = run_warnings(&svc, w.store.as_ref(), &c, &WarningPolicy::default())
        .await
        .unwrap();
    assert_eq!((again.opened, again.resolved), (0, 0));
    w.store.delete_software(&sys, lib.id).await.unwrap();
    w.store
        .add_software(
            &sys,
            asset.id,
            SoftwareInput {
                vendor: "Audinate".into(),
                product: "Dante Application Library".into(),
                version: "1.2.1".into(),
                cpe: None,
            },
        )
        .await
        .unwrap();
    w.clock.advance(SignedDuration::from_hours(1));
    let after = run_warnings(&svc, w.store.as_ref(), &c, &WarningPolicy::default())
        .await
        .unwrap();
    assert!(after.resolved >= 1);
    let f = w.store.get_finding(f.id).await.unwrap();
    assert!(matches!(
        f.status,
        FindingStatus::Resolved {
            how: Resolution::Disappeared,
            ..
        }
    ));
}
