//! A scripted month of loop activity (November 2026) over a real store: intake, auto-issue, issue,
//! acknowledge, submit with attachments, re-verification that returns and then closes, an analyst
//! verdict on a detection, a risk acceptance, daily sweeps with escalation, metrics, scores and the
//! bulletin. Shared by the integration test (which checks it) and the `scripted_month` example (which
//! writes the bulletin files).

use futures::future::BoxFuture;
use jiff::{SignedDuration, Timestamp};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use taishi_loop::verify::{RecheckResult, Reverifier, VerifyError};
use taishi_loop::{Caller, LoopPolicy, LoopService, ManualClock, RenderedBulletin};
use taishi_model::finding::{Finding, Sighting};
use taishi_model::indicator::Period;
use taishi_model::notice::{LoopActor, Notice, NoticeAction};
use taishi_model::*;
use taishi_store::Store;

/// Pretends to be the prober: a finding is fixed once its title is in `fixed`.
#[derive(Default)]
pub struct LabReverifier {
    pub fixed: Mutex<HashSet<String>>,
    pub clock: Option<ManualClock>,
}

impl Reverifier for LabReverifier {
    fn recheck<'a>(
        &'a self,
        findings: &'a [Finding],
    ) -> BoxFuture<'a, Result<Vec<RecheckResult>, VerifyError>> {
        Box::pin(async move {
            let fixed = self.fixed.lock().unwrap().clone();
            let at = self
                .clock
                .as_ref()
                .map_or_else(Timestamp::now, taishi_loop::Clock::now);
            Ok(findings
                .iter()
                .map(|f| RecheckResult {
                    finding: f.id,
                    still_present: !fixed.contains(&f.title),
                    evidence: serde_json::json!({"rechecked": at.to_string()}),
                    at,
                })
                .collect())
        })
    }
}

pub struct Month {
    pub service: LoopService,
    pub clock: ManualClock,
    pub store: Arc<dyn Store>,
    pub orgs: Vec<OrgId>,
    pub notices: Vec<Notice>,
    pub auto_notice: Notice,
    pub bulletin: RenderedBulletin,
}

fn bj(s: &str) -> Timestamp {
    // Local Beijing time (fixed +08:00) → instant.
    let dt: jiff::civil::DateTime = s.parse().unwrap();
    jiff::tz::TimeZone::fixed(jiff::tz::Offset::constant(8))
        .to_timestamp(dt)
        .unwrap()
}

async fn org(
    s: &dyn Store,
    code: &str,
    name: &str,
    parent: Option<OrgId>,
    kind: OrgKind,
    email: &str,
) -> OrgId {
    let mut contacts = Contacts::default();
    contacts.security_officer.email = email.into();
    contacts.security_officer.name = format!("{name}安全员");
    s.create_org(
        &Actor::system("demo"),
        OrgInput {
            parent_id: parent,
            code: code.into(),
            name: name.into(),
            kind,
            sector: Sector::Government,
            region_code: None,
            critical_infrastructure: false,
            contacts,
            notes: String::new(),
        },
    )
    .await
    .unwrap()
    .id
}

async fn site(s: &dyn Store, org: OrgId, host: &str, cii: bool) -> AssetId {
    s.create_asset(
        &Actor::system("demo"),
        AssetInput {
            org_id: org,
            kind: AssetKind::Website,
            identity: format!("https://{host}/"),
            name: host.into(),
            tags: vec![],
            mlps_level: None,
            critical_infrastructure: cii,
            notes: String::new(),
        },
    )
    .await
    .unwrap()
    .id
}

fn sighting(
    org: OrgId,
    asset: AssetId,
    source: FindingSource,
    check: &str,
    title: &str,
    sev: Severity,
    at: Timestamp,
) -> Sighting {
    Sighting {
        source,
        check: check.into(),
        key: String::new(),
        org,
        asset,
        title: title.into(),
        severity: sev,
        exploited: false,
        internet_exposed: true,
        evidence: serde_json::json!({"seen": at.to_string()}),
        seen_at: at,
    }
}

pub async fn run(store: Arc<dyn Store>) -> Month {
    let clock = ManualClock::at(bj("2026-11-02T09:00:00"));
    let rv = Arc::new(LabReverifier {
        fixed: Mutex::new(HashSet::new()),
        clock: Some(clock.clone()),
    });
    let mut policy = LoopPolicy::default();
    policy.auto_issue.enabled = true;
    let service = LoopService::new(store.clone(), Arc::new(clock.clone()))
        .with_policy(policy)
        .with_reverifier(rv.clone());
    let s = &*store;
    let root = org(
        s,
        "CAC-X",
        "示范区网信办",
        None,
        OrgKind::Authority,
        "cert@x.gov.example",
    )
    .await;
    let edu = org(
        s,
        "EDU",
        "区教育局",
        Some(root),
        OrgKind::Department,
        "sec@edu.example",
    )
    .await;
    let health = org(
        s,
        "HEALTH",
        "区卫健局",
        Some(root),
        OrgKind::Department,
        "sec@health.example",
    )
    .await;
    let school1 = org(
        s,
        "S1",
        "第一中学",
        Some(edu),
        OrgKind::Institution,
        "it@s1.example",
    )
    .await;
    let school2 = org(
        s,
        "S2",
        "第二小学",
        Some(edu),
        OrgKind::Institution,
        "it@s2.example",
    )
    .await;
    let hospital = org(
        s,
        "HOSP",
        "区人民医院",
        Some(health),
        OrgKind::Institution,
        "it@hosp.example",
    )
    .await;
    let a1 = site(s, school1, "www.s1.example", false).await;
    let a2 = site(s, school2, "www.s2.example", false).await;
    let a3 = site(s, hospital, "www.hosp.example", true).await;
    let a4 = site(s, health, "www.health.example", false).await;

    let analyst = Caller {
        actor: LoopActor::user("analyst", Role::Analyst),
        scope: Some(root),
    };
    let officer = |o: OrgId, name: &str| Caller {
        actor: LoopActor::user(name, Role::Officer),
        scope: Some(o),
    };
    let t = clock.now_ts();

    // Day 1: intake.
    let f_tls = service
        .ingest(sighting(
            school1,
            a1,
            FindingSource::Probe,
            "tls.cert_expired",
            "证书已过期",
            Severity::High,
            t,
        ))
        .await
        .unwrap();
    let f_hsts = service
        .ingest(sighting(
            school1,
            a1,
            FindingSource::Probe,
            "headers.hsts",
            "缺少 HSTS 响应头",
            Severity::Medium,
            t,
        ))
        .await
        .unwrap();
    let f_weak = service
        .ingest(sighting(
            school2,
            a2,
            FindingSource::Probe,
            "exposure.admin_panel",
            "后台管理页面暴露且使用弱口令",
            Severity::Critical,
            t,
        ))
        .await
        .unwrap();
    let f_rdp = service
        .ingest(sighting(
            hospital,
            a3,
            FindingSource::Probe,
            "ports.rdp",
            "远程桌面端口对互联网开放",
            Severity::Critical,
            t,
        ))
        .await
        .unwrap();
    let f_det = service
        .ingest(sighting(
            health,
            a4,
            FindingSource::Detection,
            "sigma:5b2a3b1c",
            "可疑的 PowerShell 下载执行",
            Severity::High,
            t,
        ))
        .await
        .unwrap();
    let f_hdr = service
        .ingest(sighting(
            health,
            a4,
            FindingSource::Probe,
            "headers.csp",
            "缺少内容安全策略",
            Severity::Low,
            t,
        ))
        .await
        .unwrap();
    let auto_notice = f_rdp
        .auto_notice
        .clone()
        .expect("critical finding on CII is issued automatically");

    let mut notices = Vec::new();
    for (org, fs, title) in [
        (
            school1,
            vec![f_tls.finding.id, f_hsts.finding.id],
            "关于第一中学网站安全问题的通报",
        ),
        (
            school2,
            vec![f_weak.finding.id],
            "关于第二小学后台弱口令的通报",
        ),
        (
            health,
            vec![f_det.finding.id],
            "关于区卫健局终端可疑行为的通报",
        ),
    ] {
        let d = service
            .draft_notice(
                &analyst,
                org,
                fs,
                title,
                vec!["立即整改".into(), "书面反馈整改情况".into()],
            )
            .await
            .unwrap();
        notices.push(service.issue(&analyst, d.id, "").await.unwrap());
    }
    service
        .accept_risk(
            &analyst,
            f_hdr.finding.id,
            Some(30),
            "区卫健局分管领导批准，计划下月改版",
        )
        .await
        .unwrap();

    let day = SignedDuration::from_hours(24);
    let advance_to = |s: &str| clock.set(bj(s));

    // Day 2: acknowledgements (school 2 stays silent).
    advance_to("2026-11-03T10:00:00");
    service
        .act(
            &officer(school1, "s1"),
            notices[0].id,
            NoticeAction::Acknowledge,
            "已收到",
        )
        .await
        .unwrap();
    service
        .act(
            &officer(hospital, "hosp"),
            auto_notice.id,
            NoticeAction::Acknowledge,
            "",
        )
        .await
        .unwrap();
    // Day 3: the hospital closes RDP; re-verification closes the notice.
    advance_to("2026-11-04T16:00:00");
    rv.fixed
        .lock()
        .unwrap()
        .insert("远程桌面端口对互联网开放".into());
    service
        .submit_rectification(
            &officer(hospital, "hosp"),
            auto_notice.id,
            "已在防火墙关闭 3389 端口",
            vec![("整改报告.pdf".into(), b"%PDF-1.7 report".to_vec())],
        )
        .await
        .unwrap();
    // Day 4: school 1 fixes HSTS only; re-verification returns the notice.
    advance_to("2026-11-05T11:00:00");
    rv.fixed.lock().unwrap().insert("缺少 HSTS 响应头".into());
    service
        .submit_rectification(
            &officer(school1, "s1"),
            notices[0].id,
            "已配置 HSTS",
            vec![(
                "nginx.conf.txt".into(),
                b"add_header Strict-Transport-Security max-age=31536000;".to_vec(),
            )],
        )
        .await
        .unwrap();
    // Day 7: school 1 renews the certificate and resubmits.
    advance_to("2026-11-08T09:30:00");
    rv.fixed.lock().unwrap().insert("证书已过期".into());
    service
        .submit_rectification(&officer(school1, "s1"), notices[0].id, "已更换证书", vec![])
        .await
        .unwrap();
    // Day 9: the health bureau answers the detection notice; an analyst decides.
    advance_to("2026-11-10T15:00:00");
    service
        .submit_rectification(
            &officer(health, "health"),
            notices[2].id,
            "已重装终端并排查横向移动，未发现失陷迹象",
            vec![],
        )
        .await
        .unwrap();
    advance_to("2026-11-11T10:00:00");
    service
        .analyst_verdict(&analyst, notices[2].id, true, "日志复核无异常")
        .await
        .unwrap();

    // Daily sweeps through the month (school 2 goes overdue and is escalated twice).
    let mut t = bj("2026-11-02T23:00:00");
    while t < bj("2026-12-01T00:00:00") {
        clock.set(t);
        service.sweep().await.unwrap();
        t = t.checked_add(day).unwrap();
    }

    // Metrics for November (probe summaries and a manual input).
    let nov = Period::Month(2026, 11);
    for (o, avail, tls, hdr) in [
        (school1, 0.999, 95.0, 80.0),
        (school2, 0.97, 65.0, 35.0),
        (hospital, 1.0, 95.0, 95.0),
        (health, 0.995, 80.0, 50.0),
    ] {
        s.set_metric(o, nov, "availability", avail).await.unwrap();
        s.set_metric(o, nov, "tls_grade", tls).await.unwrap();
        s.set_metric(o, nov, "header_grade", hdr).await.unwrap();
    }
    s.set_metric(school2, nov, "training", 40.0).await.unwrap();
    s.set_metric(school1, nov, "training", 100.0).await.unwrap();

    clock.set(bj("2026-12-01T09:00:00"));
    let bulletin = service.bulletin(root, nov, true).await.unwrap();
    let mut fresh = Vec::new();
    for n in &notices {
        fresh.push(s.get_notice(n.id).await.unwrap());
    }
    let auto_notice = s.get_notice(auto_notice.id).await.unwrap();
    Month {
        service,
        clock,
        store,
        orgs: vec![root, edu, health, school1, school2, hospital],
        notices: fresh,
        auto_notice,
        bulletin,
    }
}

trait NowTs {
    fn now_ts(&self) -> Timestamp;
}
impl NowTs for ManualClock {
    fn now_ts(&self) -> Timestamp {
        taishi_loop::Clock::now(self)
    }
}
