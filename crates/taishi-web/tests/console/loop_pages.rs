//! Pages of the closed loop: findings and notices, dashboard and screen, bulletins, alerts, rankings, finding history and paging.

use super::*;

#[tokio::test]
async fn findings_and_notices_are_scoped() {
    let w = world().await;
    let (fa, fb) = plant_findings(&w).await;
    let a = sign_in(&w.app, "officer_a").await;
    let (resp, html) = send(&w.app, get_as("/findings", &a.cookie)).await;
    assert_eq!(resp.status(), StatusCode::OK, "{html}");
    assert!(html.contains(&fa.to_string()) && !html.contains(&fb.to_string()));
    let (resp, _) = send(&w.app, get_as(&format!("/findings/{fb}"), &a.cookie)).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND, "B's finding");
    let (resp, html) = send(&w.app, get_as(&format!("/findings/{fa}"), &a.cookie)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        !html.contains("<script>document") && !html.contains("<a href=\"javascript:"),
        "evidence escaped"
    );
    // An officer may not issue notices or mark false positives: the loop refuses.
    let (resp, _) = send(
        &w.app,
        post_as(
            "/findings/bulk",
            &a,
            &format!("csrf={}&action=false_positive&id={fa}", a.csrf),
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let an = sign_in(&w.app, "analyst").await;
    let (resp, _) = send(
        &w.app,
        post_as(
            "/findings/bulk",
            &an,
            &format!("csrf={}&action=notice&id={fb}", an.csrf),
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let notice = resp.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    let (resp, _) = send(&w.app, get_as(&notice, &a.cookie)).await;
    assert_eq!(
        resp.status(),
        StatusCode::NOT_FOUND,
        "B's notice is hidden from A"
    );
    let (resp, html) = send(&w.app, get_as("/notices", &a.cookie)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(!html.contains(notice.trim_start_matches("/notices/")));
    let b = sign_in(&w.app, "officer_b").await;
    let (resp, html) = send(&w.app, get_as(&notice, &b.cookie)).await;
    assert_eq!(resp.status(), StatusCode::OK, "{html}");
    let (resp, _) = send(
        &w.app,
        post_as(
            &format!("{notice}/act"),
            &a,
            &format!("csrf={}&action=acknowledge", a.csrf),
        ),
    )
    .await;
    assert_eq!(
        resp.status(),
        StatusCode::NOT_FOUND,
        "A cannot act on B's notice"
    );
    let (resp, _) = send(
        &w.app,
        post_as(
            &format!("{notice}/act"),
            &b,
            &format!("csrf={}&action=acknowledge", b.csrf),
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (_, html) = send(&w.app, get_as("/", &an.cookie)).await;
    assert!(
        html.contains("id=\"kpi-critical\""),
        "dashboard shows the loop figures"
    );
}

#[tokio::test]
async fn dashboard_and_screen_of_a_populated_district() {
    let w = world().await;
    populate(&w).await;
    plant_findings(&w).await;
    let an = sign_in(&w.app, "analyst").await;
    for path in [
        "/",
        "/screen",
        "/findings?sort=first_seen&status=all",
        "/notices",
        "/orgs",
        "/assets",
    ] {
        let (resp, html) = send(&w.app, get_as(path, &an.cookie)).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}: {html}");
    }
}

#[tokio::test]
async fn bulletins_download_as_files_and_stay_in_scope() {
    let w = world().await;
    let d = w.a.parent_id.unwrap();
    let id = uuid::Uuid::new_v4();
    let b = taishi_store::ArchivedBulletin {
        id,
        org: d,
        period: taishi_model::indicator::Period::Month(2026, 11),
        format: "html".into(),
        created_at: jiff::Timestamp::now(),
        content: "<html><script>alert(1)</script></html>".into(),
    };
    w.store.archive_bulletin(&b).await.unwrap();
    let an = sign_in(&w.app, "analyst").await;
    let (resp, html) = send(&w.app, get_as("/bulletins", &an.cookie)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(html.contains(&format!("/bulletins/{id}")) && html.contains("2026-11"));
    let (resp, body) = send(&w.app, get_as(&format!("/bulletins/{id}"), &an.cookie)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    assert!(body.contains("<script>"), "the file itself is unchanged");
    let a = sign_in(&w.app, "officer_a").await;
    let (resp, _) = send(&w.app, get_as(&format!("/bulletins/{id}"), &a.cookie)).await;
    assert_eq!(
        resp.status(),
        StatusCode::NOT_FOUND,
        "the district's bulletin is not A's"
    );
}

#[tokio::test]
async fn alerts_are_scoped_like_findings_and_show_the_event_as_text() {
    let w = world().await;
    let (probe_finding, _) = plant_findings(&w).await;
    let alert = common::plant_alert(&w).await;
    let an = sign_in(&w.app, "analyst").await;
    let (resp, html) = send(&w.app, get_as("/alerts", &an.cookie)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(html.contains(&format!("/alerts/{alert}")) && html.contains("西城街道"));
    assert!(!html.contains("暗链"), "probe findings are not alerts");
    let (_, html) = send(&w.app, get_as("/alerts?host=nobody", &an.cookie)).await;
    assert!(!html.contains(&format!("/alerts/{alert}")), "host filter");
    let (_, html) = send(
        &w.app,
        get_as("/alerts?rule=t1059&level=high&days=1", &an.cookie),
    )
    .await;
    assert!(
        !html.contains(&format!("/alerts/{alert}")),
        "rule text is not a tag"
    );
    let (_, html) = send(
        &w.app,
        get_as("/alerts?rule=powershell&level=high&days=1", &an.cookie),
    )
    .await;
    assert!(
        html.contains(&format!("/alerts/{alert}")),
        "rule, level and time filters"
    );
    let (resp, _) = send(
        &w.app,
        get_as(&format!("/alerts/{probe_finding}"), &an.cookie),
    )
    .await;
    assert_eq!(
        resp.status(),
        StatusCode::NOT_FOUND,
        "a probe finding is no alert"
    );

    let b = sign_in(&w.app, "officer_b").await;
    let (resp, html) = send(&w.app, get_as(&format!("/alerts/{alert}"), &b.cookie)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let html = html
        .replace("&#60;", "&lt;")
        .replace("&#62;", "&gt;")
        .replace("&#39;", "'");
    assert!(
        html.contains("&lt;script&gt;document.title='pwned'&lt;/script&gt;"),
        "{html}"
    );
    assert!(!html.contains("<script>document") && !html.contains("<img src=x"));
    assert!(html.contains("class=\"hit\""), "matched fields are marked");
    assert!(
        html.contains("SubjectUserName"),
        "the whole event, not only the matched fields"
    );
    let a = sign_in(&w.app, "officer_a").await;
    let (_, html) = send(&w.app, get_as("/alerts", &a.cookie)).await;
    assert!(
        !html.contains(&format!("/alerts/{alert}")),
        "B's alert is not A's"
    );
    let (resp, _) = send(&w.app, get_as(&format!("/alerts/{alert}"), &a.cookie)).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let (resp, _) = send(
        &w.app,
        get_as(&format!("/alerts?org={}", w.b.id), &a.cookie),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn rankings_and_breakdowns_follow_the_scores_api() {
    let w = world().await;
    plant_findings(&w).await;
    let an = sign_in(&w.app, "analyst").await;
    let (resp, html) = send(
        &w.app,
        get_as("/rankings?period=2026-11&sort=score", &an.cookie),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK, "{html}");
    for org in ["示范区", "东城街道", "西城街道", "东城一村"] {
        assert!(html.contains(org), "{org}");
    }
    // The page shows the API's own cards: B's score for the period is the one the API serves.
    let api = Request::get(format!("/api/v1/scores/{}?period=2026-11", w.b.id))
        .header(header::COOKIE, &an.cookie)
        .body(Body::empty())
        .unwrap();
    let (resp, json) = send(&w.app, api).await;
    assert_eq!(resp.status(), StatusCode::OK, "{json}");
    let card: serde_json::Value = serde_json::from_str(&json).unwrap();
    let score = card["card"]["subtree"].as_f64().unwrap();
    let (resp, html) = send(
        &w.app,
        get_as(&format!("/rankings/{}?period=2026-11", w.b.id), &an.cookie),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        html.contains(&format!("{score:.1}")),
        "{score} not in {html}"
    );
    assert!(html.contains("id=\"breakdown\""));
    let (resp, _) = send(&w.app, get_as("/rankings?period=2026-13", &an.cookie)).await;
    assert_eq!(
        resp.status(),
        StatusCode::BAD_REQUEST,
        "a bad period names the field"
    );
    let a = sign_in(&w.app, "officer_a").await;
    let (_, html) = send(&w.app, get_as("/rankings", &a.cookie)).await;
    assert!(
        html.contains("东城一村") && !html.contains("西城街道"),
        "A's subtree only"
    );
    let (resp, _) = send(&w.app, get_as(&format!("/rankings/{}", w.b.id), &a.cookie)).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bulletins_generate_with_csrf_and_show_in_a_sandboxed_frame() {
    let w = world().await;
    plant_findings(&w).await;
    let d = w.a.parent_id.unwrap();
    let an = sign_in(&w.app, "analyst").await;
    let form = format!("org={d}&period=2026-10");
    let (resp, _) = send(&w.app, post_as("/bulletins", &an, &form)).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN, "no CSRF token");
    let (resp, _) = send(
        &w.app,
        post_as(
            "/bulletins",
            &an,
            &format!("csrf={}&org={d}&period=2026-13", an.csrf),
        ),
    )
    .await;
    assert_eq!(
        resp.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "bad period"
    );
    let (resp, _) = send(
        &w.app,
        post_as("/bulletins", &an, &format!("csrf={}&{form}", an.csrf)),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let view = resp.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        view.starts_with("/bulletins/") && view.contains("/view?org="),
        "{view}"
    );
    let (resp, html) = send(&w.app, get_as(&view, &an.cookie)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let csp = resp.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("frame-src 'self'")
            && csp.contains("script-src 'self'")
            && !csp.contains("unsafe"),
        "{csp}"
    );
    assert!(html.contains("<iframe") && html.contains(" sandbox "));
    let frame = view.replace("/view?", "/frame?");
    let (resp, body) = send(&w.app, get_as(&frame, &an.cookie)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let csp = resp.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.starts_with("sandbox;")
            && !csp.contains("script-src")
            && csp.contains("default-src 'none'"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'self'"));
    assert_eq!(resp.headers()[header::X_FRAME_OPTIONS], "SAMEORIGIN");
    assert!(body.contains("示范区"));
    // The three renderings download as files; the archive lists the run once.
    let (_, html) = send(&w.app, get_as(&format!("/bulletins?org={d}"), &an.cookie)).await;
    let links: Vec<&str> = html
        .split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|h| h.starts_with("/bulletins/") && !h.contains("/view") && h.contains("?org="))
        .collect();
    assert_eq!(links.len(), 3, "{links:?}");
    let mut types = Vec::new();
    for l in &links {
        let (resp, _) = send(&w.app, get_as(&l.replace("&amp;", "&"), &an.cookie)).await;
        assert_eq!(resp.status(), StatusCode::OK, "{l}");
        assert!(
            resp.headers()[header::CONTENT_DISPOSITION]
                .to_str()
                .unwrap()
                .starts_with("attachment;")
        );
        types.push(
            resp.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .to_owned(),
        );
    }
    types.sort();
    assert_eq!(
        types,
        [
            "text/csv; charset=utf-8",
            "text/html; charset=utf-8",
            "text/markdown; charset=utf-8"
        ]
    );
    // An officer may read its own archive but neither generate nor see the district's.
    let a = sign_in(&w.app, "officer_a").await;
    let (resp, _) = send(
        &w.app,
        post_as(
            "/bulletins",
            &a,
            &format!("csrf={}&org={}&period=2026-10", a.csrf, w.a.id),
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let (resp, _) = send(&w.app, get_as(&frame, &a.cookie)).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let (resp, _) = send(&w.app, get_as(&format!("/bulletins?org={d}"), &a.cookie)).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn finding_history_tags_are_translated() {
    use taishi_model::finding::{FindingEventKind, ReopenReason, Resolution};
    let cats = taishi_web::i18n::Catalogues::embedded().unwrap();
    let cats = std::sync::Arc::new(cats);
    let at = jiff::Timestamp::now();
    let sev = taishi_model::Severity::High;
    let kinds = [
        FindingEventKind::Opened,
        FindingEventKind::SeverityChanged { from: sev, to: sev },
        FindingEventKind::Resolved {
            how: Resolution::Disappeared,
        },
        FindingEventKind::Reopened {
            reason: ReopenReason::Manual,
        },
        FindingEventKind::MarkedFalsePositive {
            comment: String::new(),
        },
        FindingEventKind::RiskAccepted {
            until: at,
            reason: String::new(),
        },
        FindingEventKind::RiskExpiryWarned { until: at },
    ];
    for lang in taishi_web::i18n::Lang::ALL {
        let tr = taishi_web::i18n::Tr::new(lang, cats.clone(), jiff::tz::TimeZone::UTC);
        for k in &kinds {
            let v = serde_json::to_value(k).unwrap();
            let name = v["kind"].as_str().unwrap();
            assert_ne!(
                tr.tk("fhist", name),
                format!("fhist.{name}"),
                "{lang:?} {name}"
            );
        }
    }
    let w = world().await;
    let (fa, _) = plant_findings(&w).await;
    let an = sign_in(&w.app, "analyst").await;
    let (_, html) = send(&w.app, get_as(&format!("/findings/{fa}"), &an.cookie)).await;
    assert!(
        html.contains("<b>发现</b>") && !html.contains("<b>opened</b>"),
        "{html}"
    );
}

/// The finding ids of a list page, in the order shown, and its "next" link unescaped as a browser
/// does (askama writes `&` as `&#38;`; sent as is, `#` would cut the query and repeat page one).
fn page_of(html: &str) -> (Vec<uuid::Uuid>, Option<String>) {
    let ids = html
        .split(r#"<a href="/findings/"#)
        .skip(1)
        .filter_map(|s| s.get(..36)?.parse().ok())
        .collect();
    let next = html.find(r#"id="finding-next""#).map(|end| {
        let start = html[..end].rfind(r#"href=""#).unwrap() + r#"href=""#.len();
        let href = &html[start..end];
        href[..href.find('"').unwrap()]
            .replace("&#38;", "&")
            .replace("&amp;", "&")
    });
    (ids, next)
}

#[tokio::test]
async fn finding_pages_follow_next_links_to_the_end_across_equal_timestamps() {
    use taishi_model::finding::{Finding, Sighting};
    use taishi_model::{AssetId, FindingSource, Severity};
    let w = world().await;
    let orgs = [w.a.id, w.b.id];
    let sev = [Severity::Critical, Severity::High, Severity::Medium];
    let t0 = jiff::Timestamp::from_second(1_790_000_000).unwrap();
    // 120 findings on four distinct timestamps, two orgs, three severities: ties in every order.
    let all: Vec<Finding> = (0..120i64)
        .map(|i| {
            let seen = t0
                .checked_add(jiff::SignedDuration::from_mins(i % 4))
                .unwrap();
            Finding::open(
                uuid::Uuid::new_v4(),
                Sighting {
                    source: FindingSource::Probe,
                    check: "tls.weak".into(),
                    key: format!("k{i}"),
                    org: orgs[i as usize % 2],
                    asset: AssetId(w.evil_asset),
                    title: format!("finding {i}"),
                    severity: sev[i as usize % 3],
                    exploited: false,
                    internet_exposed: true,
                    evidence: serde_json::json!({}),
                    seen_at: seen,
                },
            )
        })
        .collect();
    w.store.put_findings(&all).await.unwrap();
    let an = sign_in(&w.app, "analyst").await;
    let oa = sign_in(&w.app, "officer_a").await;
    for (who, cookie, want) in [("analyst", &an.cookie, 120), ("officer_a", &oa.cookie, 60)] {
        for sort in ["severity", "last_seen", "first_seen", "org"] {
            let mut link = Some(format!("/findings?sort={sort}"));
            let mut seen = std::collections::HashSet::new();
            let mut pages = 0;
            while let Some(path) = link {
                pages += 1;
                assert!(
                    pages <= 4,
                    "{who} {sort}: more pages than 120 rows in pages of 50 need"
                );
                let (resp, html) = send(&w.app, get_as(&path, cookie)).await;
                assert_eq!(resp.status(), StatusCode::OK, "{path}");
                let (ids, next) = page_of(&html);
                assert!(!ids.is_empty(), "{who} {sort}: page {pages} is empty");
                let before = seen.len();
                for id in ids {
                    assert!(
                        seen.insert(id),
                        "{who} {sort}: {id} shown twice (page {pages} {path})"
                    );
                }
                let range = format!("{}–{} / {want}", before + 1, seen.len());
                assert!(
                    html.contains(&range),
                    "{who} {sort}: page {pages} shows {range}"
                );
                link = next;
            }
            assert_eq!(seen.len(), want, "{who} {sort}: every finding exactly once");
            assert_eq!(pages, want.div_ceil(50), "{who} {sort}");
            let mine = all.iter().filter(|f| who == "analyst" || f.org == w.a.id);
            assert!(
                mine.map(|f| f.id).all(|id| seen.contains(&id)),
                "{who} {sort}"
            );
        }
    }
}
