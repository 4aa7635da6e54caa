//! Every check against the lab: each flawed site must raise its findings (positive), the clean
//! sites and the soft-404 site must raise none of them (negative), hostile sites must end as
//! errors within bounded time.

use std::collections::BTreeMap;
use std::time::Duration;
use taishi_probe::checks::content::{ContentConfig, Snapshot};
use taishi_probe::checks::{CheckConfig, Env};
use taishi_probe::http::HttpLimits;
use taishi_probe::lab::Lab;
use taishi_probe::{Outcome, Target, TargetReport, build_suite, default_suite, probe_target};

fn env(lab: &Lab) -> Env {
    let limits = HttpLimits {
        request_timeout: Duration::from_secs(5),
        max_body_bytes: 1024 * 1024,
        ..HttpLimits::default()
    };
    let mut env = Env::new(limits);
    env.add_ca_pem(&lab.ca_pem, "lab CA").unwrap();
    env
}

async fn probe_all(lab: &Lab, configs: &[CheckConfig]) -> BTreeMap<&'static str, TargetReport> {
    let env = env(lab);
    let suite = build_suite(configs, &env).unwrap();
    let futs = lab.sites.iter().map(|s| {
        let suite = &suite;
        async move {
            (
                s.name,
                probe_target(suite, &Target::parse(&s.target).unwrap()).await,
            )
        }
    });
    // Eight sites at a time, as a scheduler would: all thirty at once starve a 2-core debug build
    // (every HTTPS fetch is a full handshake with unoptimised ring) and skew the timing checks.
    use futures::StreamExt;
    futures::stream::iter(futs)
        .buffer_unordered(8)
        .collect()
        .await
}

fn ids(r: &TargetReport) -> Vec<&str> {
    r.findings.iter().map(|f| f.check_id.as_str()).collect()
}

fn run<'a>(r: &'a TargetReport, check: &str) -> &'a taishi_probe::CheckRun {
    r.checks.iter().find(|c| c.check_id == check).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_lab_site_gets_its_verdict() {
    let lab = Lab::start().await.unwrap();
    let reports = probe_all(&lab, &default_suite()).await;
    let mut problems = Vec::new();
    // The flapping site's alternation is shared by every concurrent check, so its verdict is
    // asserted on its own in `availability_confirms_before_declaring_an_outage`.
    for site in lab.sites.iter().filter(|s| s.name != "flapping") {
        let r = &reports[site.name];
        for want in site.expect {
            if !ids(r).contains(want) {
                problems.push(format!(
                    "{}: expected {want}, got {:?}; runs {:?}",
                    site.name,
                    ids(r),
                    r.checks
                        .iter()
                        .map(|c| (&c.check_id, c.outcome, &c.error))
                        .collect::<Vec<_>>()
                ));
            }
        }
    }
    // Negative: the clean sites raise nothing from the web checks.
    for clean in ["good", "good-https", "content"] {
        let r = &reports[clean];
        let bad: Vec<&str> = ids(r)
            .into_iter()
            .filter(|id| {
                id.starts_with("tls.")
                    || id.starts_with("headers.")
                    || id.starts_with("exposure.")
                    || id.starts_with("links.")
                    || id.starts_with("content.")
                    || id.starts_with("fingerprint.")
                    || id.starts_with("availability.")
            })
            .filter(|id| {
                !(clean == "content"
                    && (id.starts_with("headers.") || *id == "availability.no_https"))
            })
            .collect();
        if !bad.is_empty() {
            problems.push(format!("{clean}: unexpected {bad:?}"));
        }
    }
    // Negative: a site answering 200 to everything exposes nothing.
    let soft = &reports["soft-404"];
    if ids(soft).iter().any(|i| i.starts_with("exposure.")) {
        problems.push(format!("soft-404: false exposures {:?}", ids(soft)));
    }
    // Hostile sites: availability ends as an error, not a hang or a crash.
    for hostile in [
        "hostile-slow-drip",
        "hostile-endless",
        "hostile-huge-headers",
        "hostile-garbage-tls",
        "hostile-redirect-loop",
    ] {
        let r = &reports[hostile];
        let a = run(r, "availability");
        if a.outcome != Outcome::Error {
            problems.push(format!(
                "{hostile}: availability {:?} {:?}",
                a.outcome, a.error
            ));
        }
    }
    // The TLS verdicts.
    let grade = |name: &str| {
        reports[name]
            .checks
            .iter()
            .find(|c| c.check_id == "tls")
            .unwrap()
            .observation["grade"]["grade"]
            .as_str()
            .unwrap_or("none")
            .to_string()
    };
    for (site, want) in [
        ("good", "A+"),
        ("cert-self-signed", "T"),
        ("cert-expired", "T"),
        ("cert-wrong-host", "M"),
        ("tls-legacy", "B"),
        ("tls10-only", "C"),
        ("tls-sslv2", "F"),
        ("tls-weak-cipher", "C"),
    ] {
        if grade(site) != want {
            problems.push(format!("{site}: TLS grade {} want {want}", grade(site)));
        }
    }
    // A TLS 1.0-only server's chain is read from the raw handshake and judged like any other.
    let cert = &run(&reports["tls10-only"], "tls").observation["certificate"];
    if cert["trusted"] != true || cert["days_left"].as_i64().unwrap_or(0) < 300 {
        problems.push(format!(
            "tls10-only: certificate not read from the legacy handshake: {cert}"
        ));
    }
    // HSTS preload readiness: the good site's two-year HSTS lacks `preload`; headers-bad's is
    // one day long.
    let preload = |name: &str| run(&reports[name], "headers").observation["hsts_preload"].clone();
    for (site, why) in [
        ("good", "no preload directive"),
        ("headers-bad", "max-age under 31536000 seconds"),
    ] {
        let p = preload(site);
        if p["ready"] != false || !p["reasons"].to_string().contains(why) {
            problems.push(format!(
                "{site}: HSTS preload {p}, want not ready because {why}"
            ));
        }
    }
    let ready = preload("hsts-preload");
    if ready["ready"] != true || ready["reasons"] != serde_json::json!([]) {
        problems.push(format!("hsts-preload: HSTS preload {ready}, want ready"));
    }
    // Observatory scores worked out by hand in lab/pages.rs.
    let score = |name: &str| {
        run(&reports[name], "headers").observation["score"]
            .as_i64()
            .unwrap_or(-1)
    };
    for (site, want) in [("good", 150), ("headers-bad", 35), ("headers-missing", 30)] {
        if score(site) != want {
            problems.push(format!(
                "{site}: Observatory score {} want {want}",
                score(site)
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defacement_against_a_baseline() {
    let lab = Lab::start().await.unwrap();
    let content = lab.site("content").unwrap().target.clone();
    let defaced = lab.site("defaced").unwrap().target.clone();
    let baseline = Snapshot::of_html(taishi_probe::lab::pages::PORTAL);
    let mut cfg = ContentConfig::default();
    cfg.baselines.insert(content.clone(), baseline.clone());
    cfg.baselines.insert(defaced.clone(), baseline);
    let env = env(&lab);
    let suite = build_suite(&[CheckConfig::Content(cfg)], &env).unwrap();
    let same = probe_target(&suite, &Target::parse(&content).unwrap()).await;
    assert!(
        same.findings.is_empty(),
        "unchanged page flagged: {:?}",
        ids(&same)
    );
    let changed = probe_target(&suite, &Target::parse(&defaced).unwrap()).await;
    let got = ids(&changed);
    assert!(
        got.contains(&"content.defacement.changed")
            && got.contains(&"content.defacement.signature"),
        "{got:?}"
    );
    let frag = changed
        .findings
        .iter()
        .find(|f| f.check_id == "content.defacement.changed")
        .unwrap();
    assert!(
        frag.evidence.data["fragments"]
            .to_string()
            .contains("Hacked by"),
        "{}",
        frag.evidence.data
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_and_mail_against_the_lab_name_server() {
    use taishi_probe::checks::dns::DnsConfig;
    let lab = Lab::start().await.unwrap();
    let cfg = DnsConfig {
        nameserver: lab.dns,
        ..DnsConfig::default()
    };
    let suite = build_suite(&[CheckConfig::Dns(cfg)], &env(&lab)).unwrap();
    let good = probe_target(&suite, &Target::parse("https://good.lab.test/").unwrap()).await;
    assert_eq!(
        ids(&good),
        vec!["dns.dnssec.unsigned"],
        "{:?}",
        good.checks[0]
    );
    assert_eq!(
        good.checks[0].observation["mx"][0],
        "10 mail.good.lab.test."
    );
    let mut weak = ids(&probe_target(&suite, &Target::parse("weak.lab.test").unwrap()).await)
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
    weak.sort();
    assert_eq!(
        weak,
        [
            "dns.caa.missing",
            "dns.dmarc.none",
            "dns.dnssec.unsigned",
            "dns.spf.missing"
        ]
    );
    let missing = probe_target(&suite, &Target::parse("nothing.lab.test").unwrap()).await;
    assert_eq!(ids(&missing), vec!["dns.resolve.none"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ports_confirm_services_and_ignore_closed_ports() {
    use taishi_probe::checks::ports::{PortSpec, PortsConfig};
    let lab = Lab::start().await.unwrap();
    let redis = lab.site("redis").unwrap().target.clone();
    let redis_port: u16 = redis.rsplit(':').next().unwrap().parse().unwrap();
    let closed: u16 = lab
        .site("down")
        .unwrap()
        .target
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let cfg = PortsConfig {
        ports: vec![
            PortSpec {
                port: redis_port,
                service: "redis".into(),
            },
            PortSpec {
                port: closed,
                service: "telnet".into(),
            },
        ],
        ..PortsConfig::default()
    };
    let suite = build_suite(&[CheckConfig::Ports(cfg)], &env(&lab)).unwrap();
    let r = probe_target(&suite, &Target::parse("127.0.0.1").unwrap()).await;
    assert_eq!(ids(&r), vec!["port.open.redis"], "{:?}", r.checks[0]);
    assert_eq!(r.findings[0].evidence.data["confirmed"], true);
    // Negative: a URL target is not port-scanned, and closed ports raise nothing.
    let url = probe_target(&suite, &Target::parse("http://127.0.0.1/").unwrap()).await;
    assert!(url.findings.is_empty());
    let cfg = PortsConfig {
        ports: vec![PortSpec {
            port: closed,
            service: "rdp".into(),
        }],
        ..PortsConfig::default()
    };
    let suite = build_suite(&[CheckConfig::Ports(cfg)], &env(&lab)).unwrap();
    assert!(
        probe_target(&suite, &Target::parse("127.0.0.1").unwrap())
            .await
            .findings
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn availability_confirms_before_declaring_an_outage() {
    use taishi_probe::checks::availability::AvailabilityConfig;
    let lab = Lab::start().await.unwrap();
    let suite = build_suite(
        &[CheckConfig::Availability(AvailabilityConfig::default())],
        &env(&lab),
    )
    .unwrap();
    let probe = |name: &str| {
        let t = Target::parse(&lab.site(name).unwrap().target).unwrap();
        let suite = &suite;
        async move { probe_target(suite, &t).await }
    };
    // First answer 503, the confirmation retry 200: up, but flapping.
    let flapping = probe("flapping").await;
    assert_eq!(
        ids(&flapping),
        vec!["availability.no_https", "availability.flapping"]
    );
    assert_eq!(flapping.checks[0].observation["up"], true);
    assert_eq!(
        flapping.checks[0].observation["attempts"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Nothing listening: three attempts, then the outage.
    let down = probe("down").await;
    assert_eq!(ids(&down), vec!["availability.down"]);
    assert_eq!(
        down.checks[0].observation["attempts"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // The good site: HTTP redirected to HTTPS, one attempt, no finding.
    let good = probe("good").await;
    assert!(good.findings.is_empty(), "{:?}", ids(&good));
    let redirects = good.checks[0].observation["redirects"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(redirects.len(), 2);
    assert!(
        redirects[1]["url"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::print_stdout)] // the skip reason is printed, as for the PostgreSQL tests
async fn rendering_pass_sees_obfuscated_script_links() {
    use taishi_probe::checks::links::LinksConfig;
    if taishi_probe::render::Renderer::detect().is_none() {
        println!("skipped: no chromium on PATH (apt-get install chromium)");
        return;
    }
    let lab = Lab::start().await.unwrap();
    let cfg = LinksConfig {
        render: true,
        ..LinksConfig::default()
    };
    let suite = build_suite(&[CheckConfig::Links(cfg)], &env(&lab)).unwrap();
    let t = Target::parse(&lab.site("script-links").unwrap().target).unwrap();
    let r = probe_target(&suite, &t).await;
    let f = r
        .findings
        .iter()
        .find(|f| f.check_id == "links.rendered")
        .unwrap_or_else(|| panic!("{:?}", r.checks[0]));
    let text = f.evidence.data.to_string();
    assert!(
        text.contains("slot-win.example")
            && text.contains("老虎机")
            && text.contains("display:none"),
        "{text}"
    );
    // The static document.write link is not reported twice.
    assert!(!text.contains("casino-royal.example"), "{text}");
    // Negative: the clean portal renders to nothing new.
    let t = Target::parse(&lab.site("content").unwrap().target).unwrap();
    let clean = probe_target(&suite, &t).await;
    assert!(clean.findings.is_empty(), "{:?}", ids(&clean));
    assert_eq!(clean.checks[0].observation["rendered"]["added"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sslv2_is_seen_only_where_it_is_spoken() {
    use taishi_probe::tlsraw::ssl2;
    let lab = Lab::start().await.unwrap();
    let addr = |name: &str| {
        let url = url::Url::parse(&lab.site(name).unwrap().target).unwrap();
        (url.host_str().unwrap().to_string(), url.port().unwrap())
    };
    let t = Duration::from_secs(3);
    // Positive: the fake SSLv2 server's SERVER-HELLO, with the specs both sides share.
    let (h, p) = addr("tls-sslv2");
    let hello = ssl2::probe(&h, p, t).await.expect("SSLv2 SERVER-HELLO");
    assert_eq!(hello.version, ssl2::SSL2);
    assert_eq!(hello.cipher_specs, vec![0x01_00_80, 0x07_00_c0, 0x02_00_80]);
    assert!(hello.certificate_len > 100, "{hello:?}");
    // Negative: a rustls server, a hand-made legacy TLS server and a garbage answerer.
    for name in [
        "good-https",
        "tls10-only",
        "tls-legacy",
        "hostile-garbage-tls",
    ] {
        let (h, p) = addr(name);
        assert_eq!(ssl2::probe(&h, p, t).await, None, "{name}");
    }
    // The TLS check end to end: finding, protocol list and grade.
    let env = env(&lab);
    let suite = build_suite(&[CheckConfig::Tls(Default::default())], &env).unwrap();
    let tls = |name: &str| {
        let target = Target::parse(&lab.site(name).unwrap().target).unwrap();
        let suite = &suite;
        async move { probe_target(suite, &target).await }
    };
    let r = tls("tls-sslv2").await;
    let obs = &run(&r, "tls").observation;
    assert!(ids(&r).contains(&"tls.protocol.ssl2"), "{:?}", ids(&r));
    let f = r
        .findings
        .iter()
        .find(|f| f.check_id == "tls.protocol.ssl2")
        .unwrap();
    assert_eq!(f.severity, taishi_model::Severity::Critical);
    assert_eq!(obs["protocols"], serde_json::json!(["SSLv2"]));
    assert_eq!(obs["grade"]["grade"], "F", "{obs}");
    for name in ["good-https", "hostile-garbage-tls"] {
        let r = tls(name).await;
        assert!(
            !ids(&r).contains(&"tls.protocol.ssl2"),
            "{name}: {:?}",
            ids(&r)
        );
        let protocols = &run(&r, "tls").observation["protocols"];
        assert!(
            !protocols.to_string().contains("SSLv2"),
            "{name}: {protocols}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_sites_end_as_bounded_errors() {
    use taishi_probe::http::{HttpClient, HttpError, Request};
    let lab = Lab::start().await.unwrap();
    let client = HttpClient::new(HttpLimits {
        request_timeout: Duration::from_secs(2),
        max_body_bytes: 256 * 1024,
        max_header_bytes: 16 * 1024,
        max_redirects: 5,
    });
    let get = |name: &str| {
        let url = url::Url::parse(&lab.site(name).unwrap().target).unwrap();
        let client = client.clone();
        async move { client.follow(&Request::get(url)).await }
    };
    assert!(matches!(
        get("hostile-slow-drip").await,
        Err(HttpError::Timeout(2000))
    ));
    assert!(matches!(
        get("hostile-endless").await,
        Err(HttpError::BodyTooLarge(262_144))
    ));
    assert!(matches!(
        get("hostile-huge-headers").await,
        Err(HttpError::HeadersTooLarge(16_384))
    ));
    assert!(matches!(
        get("hostile-redirect-loop").await,
        Err(HttpError::RedirectLoop(_))
    ));
    assert!(matches!(
        get("hostile-garbage-tls").await,
        Err(HttpError::Net(_))
    ));
    let redis = lab.site("redis").unwrap().target.clone();
    let not_http = client
        .send(&Request::get(
            url::Url::parse(&format!("http://{redis}/")).unwrap(),
        ))
        .await;
    assert!(
        matches!(not_http, Err(HttpError::Malformed(_))),
        "{not_http:?}"
    );
    // Negative: a normal site passes through the same limits.
    assert_eq!(get("content").await.unwrap().last().status, 200);
}
