//! The scripted month against SQLite (and PostgreSQL when reachable): every step of the loop with a
//! manual clock, then the bulletin.

#[path = "common/month.rs"]
#[allow(dead_code)]
mod month;

use std::sync::Arc;
use taishi_model::notice::NoticeState;
use taishi_model::rectification::AttachmentMeta;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_month_of_notices_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = taishi_store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    let m = month::run(store.clone()).await;
    check(&m).await;
}

#[allow(clippy::print_stderr)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_month_of_notices_on_postgres() {
    let url = std::env::var("TAISHI_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = format!("loop_month_{}", std::process::id());
    let opts = taishi_store::OpenOptions {
        pg_schema: Some(schema.clone()),
        max_connections: Some(4),
    };
    let store = match taishi_store::open_with(&url, &opts).await {
        Ok(s) => s,
        Err(e) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("skipping PostgreSQL month test: {url}: {e}");
            return;
        }
        Err(e) => panic!("PostgreSQL required in CI: {e}"),
    };
    let m = month::run(store.clone()).await;
    check(&m).await;
    store.close().await;
    use sqlx::Connection;
    let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA \"{schema}\" CASCADE"
    )))
    .execute(&mut c)
    .await
    .unwrap();
}

async fn check(m: &month::Month) {
    let s: Arc<dyn taishi_store::Store> = m.store.clone();
    let [school1, school2, detection] = [&m.notices[0], &m.notices[1], &m.notices[2]];
    // School 1: returned once by re-verification, then closed on the second submission.
    assert_eq!(school1.state, NoticeState::Closed);
    assert_eq!(school1.returns, 1);
    assert_eq!(school1.closed_on_time(), Some(true));
    let actions: Vec<&str> = school1.history.iter().map(|h| h.action.as_str()).collect();
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
    // Hospital: auto-issued with a 7-day deadline, closed by re-verification; its finding resolved.
    assert_eq!(m.auto_notice.state, NoticeState::Closed);
    assert_eq!(m.auto_notice.level.label_zh(), "重大");
    let f = s.get_finding(m.auto_notice.findings[0]).await.unwrap();
    assert_eq!(f.status.as_str(), "resolved");
    // Detection: waited for the analyst.
    assert_eq!(detection.state, NoticeState::Closed);
    assert!(
        detection
            .history
            .iter()
            .any(|h| h.action == "close" && h.actor.as_str() == "user:analyst")
    );
    // School 2: never answered → ack overdue, overdue, escalated to 区教育局 then 示范区网信办.
    assert_eq!(school2.state, NoticeState::Issued);
    assert_eq!(
        school2
            .escalations
            .iter()
            .map(|e| e.to_org)
            .collect::<Vec<_>>(),
        [m.orgs[1], m.orgs[0]]
    );
    assert!(school2.history.iter().any(|h| h.action == "ack_overdue"));
    // Attachments are stored with hash and safe type.
    let recs = s.rectifications(m.auto_notice.id).await.unwrap();
    let att: &AttachmentMeta = &recs[0].attachments[0];
    assert_eq!(att.content_type, "application/pdf");
    assert_eq!(s.attachment(att.id).await.unwrap().1, b"%PDF-1.7 report");
    // Audit log has the transitions.
    let log = s
        .list_audit(
            &taishi_model::AuditFilter {
                entity_id: Some(school1.id.to_string()),
                ..Default::default()
            },
            taishi_model::Page::default(),
        )
        .await
        .unwrap();
    assert!(log.items.iter().any(|e| e.action == "notice.return"));
    // Bulletin: school 2 is the overdue notice and ranks below school 1.
    let b = &m.bulletin.bulletin;
    assert_eq!(b.overdue.len(), 1);
    assert_eq!(b.overdue[0].org, "第二小学");
    assert_eq!(b.overdue[0].escalation, 2);
    let rank = |name: &str| b.ranking.iter().position(|r| r.name == name).unwrap();
    assert!(rank("第一中学") < rank("第二小学"));
    assert!(b.headline.notices_issued == 4 && b.headline.notices_closed == 3);
    assert!(m.bulletin.html.contains("第二小学") && m.bulletin.html.contains("<svg"));
    assert_eq!(s.bulletins(m.orgs[0]).await.unwrap().len(), 3);
}
