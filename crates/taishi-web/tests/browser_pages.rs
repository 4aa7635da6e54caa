//! Browser tests of the alerts, rankings and bulletin pages, in headless Chromium (see
//! `common::chrome`). Screenshots go to `target/tmp/screenshots/`.

use fantoccini::Locator;
use std::time::Duration;

mod common;
use common::chrome::{
    browser_missing, click, open_browser, serve, shot, sign_in, text, text_of, wait_for,
};
use common::{plant_alert, populate, world};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analyst_reads_alerts_rankings_and_bulletins() {
    if browser_missing() {
        return;
    }
    let w = world().await;
    populate(&w).await;
    let alert = plant_alert(&w).await;
    let base = serve(&w).await;
    let profile = tempfile::tempdir().unwrap();
    let (_driver, c) = open_browser(profile.path()).await;
    sign_in(&c, &base, "analyst").await;

    // The loaded detection is listed with its rule, host and the org it was attributed to.
    c.goto(&format!("{base}/alerts")).await.unwrap();
    let list = text_of(&c, "#alert-list").await;
    assert!(
        list.contains("Encoded PowerShell Command Line")
            && list.contains("b.example.cn")
            && list.contains("西城街道"),
        "{list}"
    );
    shot(&c, "alerts").await;
    // Filters narrow the list: a level the rule does not have leaves nothing.
    c.goto(&format!("{base}/alerts?level=low")).await.unwrap();
    assert!(!text_of(&c, "#alert-list").await.contains("PowerShell"));

    // The detail page shows the whole event as text; the planted markup never runs.
    c.goto(&format!("{base}/alerts")).await.unwrap();
    click(&c, &format!("a[href='/alerts/{alert}']")).await;
    wait_for(&c, "#event").await;
    assert!(!c.title().await.unwrap().contains("pwned"));
    assert!(c.get_alert_text().await.is_err(), "no dialog is open");
    let event = c.find(Locator::Id("event")).await.unwrap();
    let shown = event.text().await.unwrap();
    for field in [
        "SubjectUserName",
        "oa-admin",
        "ParentProcessName",
        "<script>document.title='pwned'</script>",
    ] {
        assert!(shown.contains(field), "{field} missing from {shown}");
    }
    assert!(
        event
            .find_all(Locator::Css("script, img"))
            .await
            .unwrap()
            .is_empty(),
        "the event created elements"
    );
    // The fields the rule matched on are highlighted, the others are not.
    let hits = event.find_all(Locator::Css("tr.hit th")).await.unwrap();
    let mut names = Vec::new();
    for h in hits {
        names.push(h.text().await.unwrap());
    }
    names.sort();
    assert_eq!(names, ["CommandLine", "EventID"]);
    let rule = text_of(&c, "#alert-rule").await;
    assert!(
        rule.contains("taishi tests") && rule.contains("attack.t1059.001"),
        "{rule}"
    );
    let technique = c
        .find(Locator::Css(
            "a[href='https://attack.mitre.org/techniques/T1059/001/']",
        ))
        .await;
    assert!(technique.is_ok(), "the technique links to ATT&CK");
    // A taller window shows the whole event, highlighted fields and planted markup included.
    c.set_window_size(1440, 1320).await.unwrap();
    shot(&c, "alert-detail").await;
    c.set_window_size(1440, 900).await.unwrap();
    click(&c, "#alert-finding").await;
    wait_for(&c, "#evidence").await;
    assert!(
        c.current_url()
            .await
            .unwrap()
            .path()
            .ends_with(&alert.to_string())
    );

    // Rankings of the last complete month: every org of the district with score, grade and rank.
    c.goto(&format!("{base}/rankings")).await.unwrap();
    let table = text_of(&c, "#ranking").await;
    for org in ["示范区", "东城街道", "西城街道", "南湖街道", "教育局"] {
        assert!(table.contains(org), "{org} missing from {table}");
    }
    shot(&c, "rankings").await;
    click(&c, "#sort-score").await;
    wait_for(&c, "#ranking").await;
    assert!(
        c.current_url()
            .await
            .unwrap()
            .query()
            .unwrap_or("")
            .contains("sort=score")
    );
    let scores = c
        .find_all(Locator::Css("#ranking tbody td:nth-child(2)"))
        .await
        .unwrap();
    let mut seen = Vec::new();
    for s in scores {
        seen.push(s.text().await.unwrap().parse::<f64>().unwrap());
    }
    assert!(
        seen.len() >= 5 && seen.windows(2).all(|p| p[0] >= p[1]),
        "{seen:?}"
    );
    shot(&c, "rankings-by-score").await;
    // The worst org's breakdown explains the points it lost, indicator by indicator.
    click(&c, "#sort-score").await;
    wait_for(&c, "#ranking").await;
    let worst = c
        .find(Locator::Css(
            "#ranking tbody tr:first-child td:first-child a",
        ))
        .await
        .unwrap();
    let worst_name = worst.text().await.unwrap();
    worst.click().await.unwrap();
    wait_for(&c, "#breakdown").await;
    let page = text(&c).await;
    assert!(
        page.contains(&worst_name) && page.contains("扣分"),
        "{page}"
    );
    let lost = c.find_all(Locator::Css("#breakdown b.down")).await.unwrap();
    assert!(
        !lost.is_empty(),
        "the worst org lost points somewhere: {page}"
    );
    shot(&c, "org-score").await;

    // A bulletin generated on demand is archived and shown in the page, in its sandboxed frame.
    c.goto(&format!("{base}/bulletins")).await.unwrap();
    click(&c, "#generate").await;
    wait_for(&c, "#bulletin-frame").await;
    for f in ["html", "md", "csv"] {
        assert!(
            c.find(Locator::Id(&format!("download-{f}"))).await.is_ok(),
            "download {f}"
        );
    }
    // Let the frame load before reading it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    c.find(Locator::Id("bulletin-frame"))
        .await
        .unwrap()
        .enter_frame()
        .await
        .unwrap();
    let inside = text(&c).await;
    assert!(inside.contains("示范区"), "{inside}");
    c.enter_parent_frame().await.unwrap();
    shot(&c, "bulletin-view").await;
    c.goto(&format!("{base}/bulletins")).await.unwrap();
    let archive = text_of(&c, "#bulletin-list").await;
    assert!(
        archive.contains("Markdown") && archive.contains("CSV"),
        "{archive}"
    );
    shot(&c, "bulletins").await;

    // The same pages in English.
    click(&c, "button[lang=en]").await;
    wait_for(&c, "html[lang=en] #logout").await;
    c.goto(&format!("{base}/alerts/{alert}")).await.unwrap();
    let page = text(&c).await;
    assert!(
        page.contains("The matching event") && page.contains("Attributed to"),
        "{page}"
    );
    shot(&c, "alert-detail-en").await;
    c.goto(&format!("{base}/rankings")).await.unwrap();
    let page = text(&c).await;
    assert!(
        page.contains("Rank among siblings") && page.contains("Change"),
        "{page}"
    );
    shot(&c, "rankings-en").await;
    c.close().await.unwrap();
}
