//! The scheduler against the lab, end to end: assets in a temp SQLite store, one tick, findings for the
//! flawed sites and none for the good one; then a site we control is fixed and re-verification closes
//! its notice; the problem coming back reopens the finding.

mod common;

use jiff::SignedDuration;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use taishi_loop::{Caller, Clock};
use taishi_model::finding::{FindingStatus, Resolution};
use taishi_model::notice::{NoticeAction, NoticeState};
use taishi_model::{AssetKind, FindingSource};
use taishi_monitor::{MonitorConfig, ProbeReverifier, Scheduler};
use taishi_probe::http::HttpLimits;
use taishi_probe::lab::Lab;
use taishi_probe::{Env, build_suite};
use taishi_store::FindingQuery;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn suite(lab: &Lab, cfg: &MonitorConfig) -> Vec<Box<dyn taishi_probe::Check>> {
    let mut env = Env::new(HttpLimits::default());
    env.add_ca_pem(&lab.ca_pem, "lab CA").unwrap();
    build_suite(&cfg.suite, &env).unwrap()
}

fn config() -> MonitorConfig {
    MonitorConfig {
        first_spread_secs: 0,
        availability_metrics_secs: 0,
        ..MonitorConfig::default()
    }
}

/// A site we control: `/` is a portal page; `/.env` leaks secrets while `leak` is set.
async fn toggle_site(leak: Arc<AtomicBool>) -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            let leak = Arc::clone(&leak);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&buf);
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let (status, ctype, body) = match path.as_str() {
                    "/" => (
                        "200 OK",
                        "text/html; charset=utf-8",
                        taishi_probe::lab::pages::PORTAL.to_owned(),
                    ),
                    "/.env" if leak.load(Ordering::SeqCst) => (
                        "200 OK",
                        "text/plain",
                        taishi_probe::lab::pages::DOT_ENV.to_owned(),
                    ),
                    _ => (
                        "404 Not Found",
                        "text/html",
                        "<html><body>404 Not Found</body></html>".to_owned(),
                    ),
                };
                let resp = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(resp.as_bytes()).await;
                let _ = s.shutdown().await;
            });
        }
    });
    format!("http://127.0.0.1:{}/", addr.port())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_tick_finds_the_lab_flaws_and_nothing_on_the_good_site() {
    let w = common::world().await;
    let lab = Lab::start().await.unwrap();
    let names = [
        "good-https",
        "headers-missing",
        "cert-expired",
        "exposed-files",
        "hidden-links",
        "defaced",
        "redis",
    ];
    let mut assets = Vec::new();
    for n in names {
        let site = lab.site(n).unwrap();
        let a = if n == "redis" {
            w.asset(
                AssetKind::System,
                "缓存服务",
                &[&format!("probe={}", site.target)],
            )
            .await
        } else {
            w.asset(AssetKind::Website, &site.target, &[]).await
        };
        assets.push((site.clone(), a));
    }
    let cfg = config();
    let svc = Arc::new(w.service());
    let sched = Scheduler::new(
        Arc::clone(&w.store),
        svc,
        Arc::new(w.clock.clone()),
        cfg.clone(),
        suite(&lab, &cfg),
    )
    .unwrap();
    let rep = sched.tick().await.unwrap();
    assert!(rep.runs >= 6 * 7 + 2, "{rep:?}");
    assert!(rep.failures.is_empty(), "{:?}", rep.failures);
    assert!(rep.intake.opened > 0);

    let open = w
        .store
        .list_findings(&FindingQuery {
            statuses: vec!["open".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    for (site, asset) in &assets {
        let ids: BTreeSet<&str> = open
            .iter()
            .filter(|f| f.asset == asset.id)
            .map(|f| f.check.as_str())
            .collect();
        if site.expect.is_empty() {
            assert!(
                ids.is_empty(),
                "the good site {} has findings {ids:?}",
                site.name
            );
        }
        for e in site.expect {
            assert!(ids.contains(e), "{}: expected {e}, got {ids:?}", site.name);
        }
        assert!(
            open.iter()
                .filter(|f| f.asset == asset.id)
                .all(|f| f.source == FindingSource::Probe && f.org == w.org.id)
        );
    }
    // Every run left a stored observation; nothing is due again right away.
    let mut stored = 0;
    for (_, asset) in &assets {
        let q = taishi_store::ObservationQuery {
            asset: asset.id,
            check: None,
        };
        stored += w
            .store
            .list_observations(&q, taishi_model::Page::first(1000))
            .await
            .unwrap()
            .items
            .len();
    }
    assert_eq!(stored, rep.runs);
    assert_eq!(sched.tick().await.unwrap().runs, 0);
    // Five minutes later only availability is due (the first run of content and links is an hour away).
    w.clock.advance(SignedDuration::from_mins(6));
    let again = sched.tick().await.unwrap();
    assert_eq!(again.runs, 6, "{:?}", sched.schedule());
    // Availability feeds the loop's indicator: all six websites were up in both passes.
    let m = w
        .store
        .metrics(taishi_model::indicator::Period::Month(2026, 11))
        .await
        .unwrap();
    let metric = |k: &str| {
        m.iter()
            .find(|(o, key, _)| *o == w.org.id && key == k)
            .map(|(_, _, v)| *v)
    };
    assert_eq!(metric("availability_runs"), Some(12.0));
    assert_eq!(metric("availability"), Some(1.0));
    // The expired-certificate site has an open critical/high finding: its TLS re-check comes at the
    // urgency cap (≤ 24 h), not after the default day plus jitter.
    let (_, expired) = assets
        .iter()
        .find(|(s, _)| s.name == "cert-expired")
        .unwrap();
    let (_, good) = assets.iter().find(|(s, _)| s.name == "good-https").unwrap();
    let due = |asset: taishi_model::AssetId, check: &str| {
        sched
            .schedule()
            .into_iter()
            .find(|(k, _)| k.asset == asset && k.check == check)
            .unwrap()
            .1
    };
    // Default TLS interval is a day (±10 % jitter); the critical finding caps it at 12 hours.
    let start = w.clock.now() - SignedDuration::from_mins(6);
    assert!(
        due(expired.id, "tls") <= start + SignedDuration::from_mins(12 * 66),
        "{:?}",
        due(expired.id, "tls")
    );
    assert!(
        due(good.id, "tls") >= start + SignedDuration::from_mins(24 * 54),
        "{:?}",
        due(good.id, "tls")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fixed_site_is_closed_by_reverification_and_reopens_when_the_problem_returns() {
    let w = common::world().await;
    let leak = Arc::new(AtomicBool::new(true));
    let url = toggle_site(Arc::clone(&leak)).await;
    let asset = w.asset(AssetKind::Website, &url, &[]).await;
    let lab = Lab::start().await.unwrap();
    let cfg = config();
    let clock = Arc::new(w.clock.clone());
    let rv = ProbeReverifier::new(Arc::clone(&w.store), suite(&lab, &cfg), clock.clone());
    let svc = Arc::new(w.service().with_reverifier(Arc::new(rv)));
    let sched = Scheduler::new(
        Arc::clone(&w.store),
        Arc::clone(&svc),
        clock,
        cfg.clone(),
        suite(&lab, &cfg),
    )
    .unwrap();
    sched.tick().await.unwrap();

    let find = || async {
        w.store
            .list_findings(&FindingQuery::default())
            .await
            .unwrap()
            .into_iter()
            .find(|f| f.asset == asset.id && f.check == "exposure.env")
    };
    let env = find().await.expect("exposure.env opened");
    assert_eq!(env.status, FindingStatus::Open);

    // The authority issues a notice; the org fixes the site and submits: re-verification closes it.
    let sys = Caller::system("test");
    let n = svc
        .draft_notice(
            &sys,
            w.org.id,
            vec![env.id],
            "删除泄露的 .env 文件",
            vec!["删除 .env".into()],
        )
        .await
        .unwrap();
    svc.issue(&sys, n.id, "").await.unwrap();
    svc.act(&sys, n.id, NoticeAction::Acknowledge, "")
        .await
        .unwrap();
    // Submitting while still leaking returns the notice with new evidence.
    w.clock.advance(SignedDuration::from_mins(1));
    let n1 = svc
        .submit_rectification(&sys, n.id, "已处理", vec![])
        .await
        .unwrap();
    assert_eq!(n1.state, NoticeState::Returned);
    leak.store(false, Ordering::SeqCst);
    w.clock.advance(SignedDuration::from_mins(1));
    let n2 = svc
        .submit_rectification(&sys, n.id, "已删除 .env 并加固", vec![])
        .await
        .unwrap();
    assert_eq!(n2.state, NoticeState::Closed);
    let f = find().await.unwrap();
    assert!(
        matches!(
            f.status,
            FindingStatus::Resolved {
                how: Resolution::VerifiedFix,
                ..
            }
        ),
        "{:?}",
        f.status
    );

    // The leak comes back: the next scheduled exposure run reopens the finding.
    leak.store(true, Ordering::SeqCst);
    w.clock.advance(SignedDuration::from_hours(25));
    let rep = sched.tick().await.unwrap();
    assert!(rep.intake.reopened >= 1, "{rep:?}");
    let f = find().await.unwrap();
    assert_eq!(f.status, FindingStatus::Open);
    assert!(f.history.iter().any(|e| matches!(
        e.kind,
        taishi_model::finding::FindingEventKind::Reopened { .. }
    )));

    // Fixed again without a notice: the next run resolves it as disappeared.
    leak.store(false, Ordering::SeqCst);
    w.clock.advance(SignedDuration::from_hours(25));
    let rep = sched.tick().await.unwrap();
    assert!(rep.intake.resolved >= 1, "{rep:?}");
    let f = find().await.unwrap();
    assert!(
        matches!(
            f.status,
            FindingStatus::Resolved {
                how: Resolution::Disappeared,
                ..
            }
        ),
        "{:?}",
        f.status
    );
}
