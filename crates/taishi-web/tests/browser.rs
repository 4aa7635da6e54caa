//! Browser tests: the console served on a free loopback port, driven through headless Chromium with
//! WebDriver (chromedriver + fantoccini). Screenshots go to `target/tmp/screenshots/`.
//!
//! Needs Debian's `chromium` and `chromium-driver`. Without them the tests say why and return, unless
//! `CI=true`, where a missing browser fails the run.

use fantoccini::{Client, Locator};
use std::time::Duration;

mod common;
use common::chrome::{browser_missing, open_browser, serve, shot, sign_in, text};
use common::{plant_findings, populate, world};

async fn sign_out(c: &Client) {
    let Ok(button) = c.find(Locator::Id("logout")).await else {
        panic!(
            "no sign-out button on {}: {}",
            c.current_url().await.unwrap(),
            text(c).await
        );
    };
    button.click().await.unwrap();
    c.wait().for_element(Locator::Id("login")).await.unwrap();
}

/// The notice's state once the page shows one other than `before` (a click's navigation may still be
/// under way when the old page answers).
async fn state_after(c: &Client, before: &str) -> String {
    for _ in 0..100 {
        if let Ok(e) = c.find(Locator::Id("notice-state")).await
            && let Ok(t) = e.text().await
            && t != before
        {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the notice stayed {before}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analyst_and_officer_walk_the_console() {
    if browser_missing() {
        return;
    }
    let w = world().await;
    populate(&w).await;
    let (fa, fb) = plant_findings(&w).await;
    let base = serve(&w).await;
    let profile = tempfile::tempdir().unwrap();
    let (_driver, c) = open_browser(profile.path()).await;

    // The analyst signs in with the form and lands on the dashboard of the whole district.
    sign_in(&c, &base, "analyst").await;
    let body = text(&c).await;
    assert!(
        body.contains("态势总览") && body.contains("示范区"),
        "{body}"
    );
    shot(&c, "dashboard").await;
    // Each figure links to the list behind it.
    c.find(Locator::Id("kpi-assets"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Id("asset-list"))
        .await
        .unwrap();
    assert!(c.current_url().await.unwrap().path().ends_with("/assets"));
    shot(&c, "assets").await;
    c.goto(&format!("{base}/orgs")).await.unwrap();
    let tree = c
        .find(Locator::Id("org-tree"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        tree.contains("东城街道") && tree.contains("西城街道"),
        "{tree}"
    );
    shot(&c, "org-tree").await;
    c.goto(&format!("{base}/screen")).await.unwrap();
    assert!(text(&c).await.contains("网络安全态势"));
    shot(&c, "screen").await;
    // The language switch turns the console into English and remembers it.
    c.goto(&format!("{base}/")).await.unwrap();
    c.find(Locator::Css("button[lang=en]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("html[lang=en] #logout"))
        .await
        .unwrap();
    assert!(text(&c).await.contains("Situation"));
    shot(&c, "dashboard-en").await;
    c.find(Locator::Css("button[lang=zh-CN]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("html[lang=zh-CN] #logout"))
        .await
        .unwrap();

    // The analyst sees both findings and issues a notice for A's with the bulk form.
    c.goto(&format!("{base}/findings")).await.unwrap();
    let list = c
        .find(Locator::Id("finding-list"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        list.contains("暗链") && list.contains("证书已过期"),
        "{list}"
    );
    shot(&c, "findings").await;
    c.find(Locator::Css(&format!("input[name=id][value='{fa}']")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Css("input[name=comment]"))
        .await
        .unwrap()
        .send_keys("请删除暗链并排查网页篡改途径")
        .await
        .unwrap();
    c.find(Locator::Id("bulk-go"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let state = state_after(&c, "").await;
    assert_eq!(state, "已下发");
    let notice_url = c.current_url().await.unwrap();
    sign_out(&c).await;

    // The officer of township A sees only its subtree, acknowledges and submits a rectification.
    sign_in(&c, &base, "officer_a").await;
    let body = text(&c).await;
    assert!(body.contains("东城街道"), "{body}");
    c.goto(&format!("{base}/findings")).await.unwrap();
    let list = c
        .find(Locator::Id("finding-list"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        list.contains("暗链") && !list.contains("证书已过期"),
        "only A's findings: {list}"
    );
    c.goto(&format!("{base}/findings/{fb}")).await.unwrap();
    assert!(text(&c).await.contains("404"), "B's finding is not found");
    c.goto(notice_url.as_str()).await.unwrap();
    c.find(Locator::Id("do-ack"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let state = state_after(&c, "已下发").await;
    assert_eq!(state, "已签收");
    c.find(Locator::Id("rect"))
        .await
        .unwrap()
        .send_keys("已删除首页暗链，修补了 CMS 上传漏洞，并更换管理员口令。")
        .await
        .unwrap();
    c.find(Locator::Id("do-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let state = state_after(&c, "已签收").await;
    let submitted = state.clone();
    assert!(state == "复核中" || state == "已提交整改", "{state}");
    c.goto(&format!("{base}/orgs")).await.unwrap();
    let tree = c
        .find(Locator::Id("org-tree"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        tree.contains("东城一村") && !tree.contains("西城街道"),
        "{tree}"
    );
    c.goto(&format!("{base}/orgs/{}", w.b.id)).await.unwrap();
    assert!(text(&c).await.contains("404"));
    c.goto(&format!("{base}/assets")).await.unwrap();
    let list = text(&c).await;
    assert!(!list.contains("example.cn"), "only A's assets: {list}");
    sign_out(&c).await;

    // The analyst verifies; the notice closes, the finding is resolved and the dashboard changes.
    sign_in(&c, &base, "analyst").await;
    let high = |t: String| {
        t.lines()
            .next()
            .unwrap_or("")
            .replace(',', "")
            .parse::<u64>()
            .unwrap()
    };
    let high_before = high(
        c.find(Locator::Id("kpi-high"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    assert!(high_before >= 1);
    c.goto(notice_url.as_str()).await.unwrap();
    c.find(Locator::Css("input[name=comment]"))
        .await
        .unwrap()
        .send_keys("复测确认暗链已清除")
        .await
        .unwrap();
    c.find(Locator::Id("do-close"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let state = state_after(&c, &submitted).await;
    assert_eq!(state, "已办结");
    let timeline = c
        .find(Locator::Id("timeline"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for step in [
        "已下发",
        "已签收",
        "复核中",
        "已办结",
        "请删除暗链",
        "复测确认暗链已清除",
    ] {
        assert!(timeline.contains(step), "{step} missing from {timeline}");
    }
    shot(&c, "notice-timeline").await;
    c.goto(&format!("{base}/")).await.unwrap();
    let high_after = high(
        c.find(Locator::Id("kpi-high"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(
        high_after,
        high_before - 1,
        "the verified finding left the open count"
    );
    shot(&c, "dashboard-after").await;
    c.goto(&format!("{base}/screen")).await.unwrap();
    shot(&c, "screen-after").await;
    c.goto(&format!("{base}/")).await.unwrap();
    sign_out(&c).await;
    // After signing out the dashboard asks for a login again.
    c.goto(&format!("{base}/")).await.unwrap();
    c.wait().for_element(Locator::Id("login")).await.unwrap();
    c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_text_never_executes() {
    if browser_missing() {
        return;
    }
    let w = world().await;
    let (fa, _) = plant_findings(&w).await;
    let base = serve(&w).await;
    let profile = tempfile::tempdir().unwrap();
    let (_driver, c) = open_browser(profile.path()).await;
    sign_in(&c, &base, "analyst").await;
    c.goto(&format!("{base}/assets/{}", w.evil_asset))
        .await
        .unwrap();
    // Had the planted script run, it would have renamed the page or opened a dialog.
    let title = c.title().await.unwrap();
    assert!(!title.contains("pwned"), "{title}");
    assert!(c.get_alert_text().await.is_err(), "no dialog is open");
    let body = text(&c).await;
    assert!(
        body.contains("<script>document.title='pwned'</script>"),
        "shown as text: {body}"
    );
    assert!(body.contains("<img src=x onerror=alert(1)> javascript:alert(2)"));
    // No link on the page leads to a javascript: URL, and no img element was created from the notes.
    for a in c.find_all(Locator::Css("a")).await.unwrap() {
        let href = a.attr("href").await.unwrap().unwrap_or_default();
        assert!(
            !href.trim().to_ascii_lowercase().starts_with("javascript:"),
            "{href}"
        );
    }
    assert!(
        c.find_all(Locator::Css("main img"))
            .await
            .unwrap()
            .is_empty()
    );
    // An inline script injected into the page by hand is refused by the Content-Security-Policy.
    let ran = c
        .execute(
            "var s = document.createElement('script'); s.textContent = 'window.__inline = 1;'; \
             document.body.appendChild(s); return window.__inline === 1;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        ran,
        serde_json::Value::Bool(false),
        "inline script ran despite the policy"
    );
    shot(&c, "hostile-asset").await;
    // The finding's evidence (from a defaced page) is shown as text in <pre>, links and all.
    c.goto(&format!("{base}/findings/{fa}")).await.unwrap();
    assert!(!c.title().await.unwrap().contains("pwned"));
    assert!(c.get_alert_text().await.is_err(), "no dialog is open");
    let evidence = c.find(Locator::Id("evidence")).await.unwrap();
    let shown = evidence.text().await.unwrap();
    assert!(
        shown.contains("javascript:alert(document.cookie)") && shown.contains("<script>"),
        "{shown}"
    );
    assert!(
        evidence
            .find_all(Locator::Css("*"))
            .await
            .unwrap()
            .is_empty(),
        "evidence created elements"
    );
    for a in c.find_all(Locator::Css("a")).await.unwrap() {
        let href = a.attr("href").await.unwrap().unwrap_or_default();
        assert!(
            !href.trim().to_ascii_lowercase().starts_with("javascript:"),
            "{href}"
        );
    }
    shot(&c, "hostile-finding").await;
    c.close().await.unwrap();
}
