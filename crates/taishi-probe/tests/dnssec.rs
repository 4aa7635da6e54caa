//! DNSSEC validation against the lab's DNS server and its own trust anchor: the correctly signed zone
//! validates (no finding), a broken and an expired signature are bogus (high), an unsigned zone is
//! reported unsigned (low), and with the default IANA root anchor the lab's key is not trusted.

use taishi_model::Severity;
use taishi_probe::checks::CheckConfig;
use taishi_probe::checks::dns::DnsConfig;
use taishi_probe::http::HttpLimits;
use taishi_probe::lab::dns::{self, sec};
use taishi_probe::{Env, Target, TargetReport, build_suite, probe_target};

async fn probe(cfg: DnsConfig, target: &str) -> TargetReport {
    let suite = build_suite(&[CheckConfig::Dns(cfg)], &Env::new(HttpLimits::default())).unwrap();
    probe_target(&suite, &Target::parse(target).unwrap()).await
}

fn dnssec_findings(r: &TargetReport) -> Vec<(&str, Severity)> {
    r.findings
        .iter()
        .filter(|f| f.check_id.starts_with("dns.dnssec"))
        .map(|f| (f.check_id.as_str(), f.severity))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_zone_validates_and_broken_signatures_are_bogus() {
    let (addr, task) = dns::start().await.unwrap();
    let cfg = DnsConfig {
        nameserver: Some(addr),
        trust_anchor: Some(sec::trust_anchor()),
        ..DnsConfig::default()
    };

    let signed = probe(cfg.clone(), "https://signed.lab.test/").await;
    let obs = &signed.checks[0].observation;
    assert_eq!(obs["dnssec"], "secure", "{obs}");
    assert_eq!(obs["dnssec_signed"], true);
    assert!(dnssec_findings(&signed).is_empty(), "{:?}", signed.findings);

    for zone in ["bogus.lab.test", "expired.lab.test"] {
        let r = probe(cfg.clone(), &format!("https://{zone}/")).await;
        let obs = &r.checks[0].observation;
        assert_eq!(obs["dnssec"], "bogus", "{zone}: {obs}");
        assert_eq!(
            dnssec_findings(&r),
            [("dns.dnssec.bogus", Severity::High)],
            "{zone}"
        );
        let f = r
            .findings
            .iter()
            .find(|f| f.check_id == "dns.dnssec.bogus")
            .unwrap();
        assert!(f.remediation_zh.contains("签名") && f.remediation_en.contains("Re-sign"));
    }

    let unsigned = probe(cfg.clone(), "https://good.lab.test/").await;
    assert_eq!(unsigned.checks[0].observation["dnssec"], "unsigned");
    assert_eq!(
        dnssec_findings(&unsigned),
        [("dns.dnssec.unsigned", Severity::Low)]
    );
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lab_key_is_not_trusted_under_the_root_anchor() {
    let (addr, task) = dns::start().await.unwrap();
    // Default anchor: the IANA root KSKs. The lab's zone has no chain to the root (and no signed proof
    // that it has none), so a validator must refuse it: bogus, never secure.
    let cfg = DnsConfig {
        nameserver: Some(addr),
        ..DnsConfig::default()
    };
    let r = probe(cfg, "https://signed.lab.test/").await;
    assert_eq!(
        r.checks[0].observation["dnssec"], "bogus",
        "{:?}",
        r.checks[0]
    );
    assert_eq!(dnssec_findings(&r), [("dns.dnssec.bogus", Severity::High)]);
    task.abort();
}
