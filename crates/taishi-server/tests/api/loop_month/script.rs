//! The scripted month itself, day by day, over the world the parent module builds.

use super::*;

/// The month itself; returns the downloaded bulletin by format (`html`, `md`, `csv`).
pub(super) async fn month(w: World) -> HashMap<String, String> {
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
