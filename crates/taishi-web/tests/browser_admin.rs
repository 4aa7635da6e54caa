//! Browser test of administration and the rectification upload, in headless Chromium (see
//! `common::chrome`): an admin creates a user and a token, edits the deadline policy with an error and
//! then a fix, adds a webhook channel and sends a test to a local receiver; an officer uploads a PDF
//! with its rectification. Screenshots go to `target/tmp/screenshots/`.

use fantoccini::{Client, Locator};
use std::time::Duration;

mod common;
use common::admin::{acknowledged_notice, add_admins, pdf, receiver};
use common::chrome::{browser_missing, open_browser, serve, shot, sign_in, text};
use common::{plant_findings, populate, world};

/// Waits for an element of the next page (a click's navigation may still be under way).
async fn wait_for(c: &Client, css: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} never appeared: {e}"))
}

async fn fill(c: &Client, css: &str, value: &str) {
    let e = c.find(Locator::Css(css)).await.unwrap();
    e.clear().await.unwrap();
    e.send_keys(value).await.unwrap();
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_manages_accounts_policy_and_channels_and_officer_uploads() {
    if browser_missing() {
        return;
    }
    let w = world().await;
    populate(&w).await;
    add_admins(&w).await;
    let (finding, _) = plant_findings(&w).await;
    let notice = acknowledged_notice(&w, finding).await;
    let rx = receiver().await;
    let base = serve(&w).await;
    let profile = tempfile::tempdir().unwrap();
    let (_driver, c) = open_browser(profile.path()).await;
    sign_in(&c, &base, "admin").await;

    // Users: create an officer of township A with a generated password, shown once.
    click(&c, "a[href='/admin']").await;
    wait_for(&c, "#create-user").await;
    fill(&c, "#u-name", "zhang").await;
    fill(&c, "#u-display", "张敏").await;
    fill(&c, "#u-org", "A").await;
    click(&c, "#do-create-user").await;
    let secret = wait_for(&c, "#once-secret").await.text().await.unwrap();
    assert_eq!(secret.len(), 20);
    let page = text(&c).await;
    assert!(page.contains("zhang") && page.contains("张敏"), "{page}");
    shot(&c, "admin_users").await;

    // Tokens: create one; its secret is shown once.
    c.goto(&format!("{base}/admin/tokens")).await.unwrap();
    fill(&c, "#t-name", "sensor-01").await;
    fill(&c, "#t-org", "D").await;
    click(&c, "#do-create-token").await;
    let token = wait_for(&c, "#once-secret").await.text().await.unwrap();
    assert!(token.starts_with("tsk_"), "{token}");
    shot(&c, "admin_tokens").await;

    // Policy: an error names the line and the field and changes nothing; the fix applies at once.
    c.goto(&format!("{base}/admin/policy")).await.unwrap();
    wait_for(&c, "#cfg-text").await;
    fill(
        &c,
        "#cfg-text",
        "ack_workdays = 2\n\n[deadlines]\ncritical = 5\nhigh = \"two weeks\"\n",
    )
    .await;
    click(&c, "#cfg-save").await;
    let err = wait_for(&c, "#form-error").await.text().await.unwrap();
    assert!(err.contains("line 5") && err.contains("high"), "{err}");
    assert_eq!(w.state.loop_service().policy().ack_workdays, 1);
    shot(&c, "admin_policy_error").await;
    fill(
        &c,
        "#cfg-text",
        "ack_workdays = 2\n\n[deadlines]\ncritical = 5\nhigh = 10\n\n[tier_deadlines.3]\nhigh = 20\n",
    )
    .await;
    click(&c, "#cfg-save").await;
    wait_for(&c, "#done").await;
    let p = w.state.loop_service().policy();
    assert_eq!((p.ack_workdays, p.deadlines.high), (2, Some(10)));
    let table = c
        .find(Locator::Id("deadlines"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(table.contains("20"), "{table}");
    assert!(
        c.find(Locator::Id("cfg-revert")).await.is_ok(),
        "the page offers the way back to the configuration"
    );
    shot(&c, "admin_policy").await;

    // Channels: a webhook to the local receiver, then a test message through it.
    c.goto(&format!("{base}/admin/channels")).await.unwrap();
    fill(&c, "#h-name", "值班群").await;
    fill(
        &c,
        "#h-url",
        &format!("{}/robot/send?access_token=tok-SECRET", rx.url),
    )
    .await;
    click(&c, "#do-add-hook").await;
    wait_for(&c, "tr[data-hook] button.test").await;
    assert!(!c.source().await.unwrap().contains("tok-SECRET"));
    click(&c, "tr[data-hook] button.test").await;
    wait_for(&c, "#done").await;
    assert_eq!(rx.bodies.lock().unwrap().len(), 1);
    let log = c
        .find(Locator::Id("test-log"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(log.contains("webhook:值班群"), "{log}");
    shot(&c, "admin_channels").await;

    // The officer of township A uploads a PDF with the rectification.
    click(&c, "#logout").await;
    wait_for(&c, "#login").await;
    sign_in(&c, &base, "officer_a").await;
    c.goto(&format!("{base}/notices/{notice}")).await.unwrap();
    wait_for(&c, "#files").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("整改报告.pdf");
    std::fs::write(&file, pdf()).unwrap();
    fill(&c, "#rect", "已删除暗链，修补上传漏洞，附整改报告。").await;
    c.find(Locator::Id("files"))
        .await
        .unwrap()
        .send_keys(&file.display().to_string())
        .await
        .unwrap();
    click(&c, "#do-submit").await;
    let link = wait_for(&c, "a[href*='/attachments/']").await;
    assert_eq!(link.text().await.unwrap(), "整改报告.pdf");
    let rects = w.store.rectifications(notice).await.unwrap();
    assert_eq!(rects[0].attachments[0].content_type, "application/pdf");
    shot(&c, "notice_upload").await;
    let _ = c.close().await;
}
