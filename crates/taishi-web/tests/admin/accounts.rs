//! Users and API tokens managed from the console.

use super::*;

#[tokio::test]
async fn admin_creates_changes_disables_and_resets_users() {
    let w = admin_world().await;
    let s = login(&w.app, "admin").await;
    // A generated password, shown once, that signs in.
    let (st, html) = s
        .post(
            &w.app,
            "/admin/users",
            &[
                ("name", "wang"),
                ("display_name", "王工"),
                ("role", "officer"),
                ("org", "A1"),
                ("password", ""),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{html}");
    let pw = by_id(&html, "once-secret");
    assert_eq!(pw.len(), 20);
    let body = serde_json::json!({"name": "wang", "password": pw}).to_string();
    let req = Request::post("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap();
    assert_eq!(call(&w.app, req).await.0.status(), StatusCode::OK);
    let (u, _) = w.store.user_credentials("wang").await.unwrap().unwrap();
    assert_eq!((u.role, u.display_name.as_str()), (Role::Officer, "王工"));
    // A bad request is shown next to the form, naming the field.
    let (st, html) = s
        .post(
            &w.app,
            "/admin/users",
            &[
                ("name", "li"),
                ("role", "officer"),
                ("org", "A"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(by_id(&html, "form-error").contains("password"), "{html}");
    let (st, html) = s
        .post(
            &w.app,
            "/admin/users",
            &[
                ("name", "wang"),
                ("role", "officer"),
                ("org", "A"),
                ("password", "a long enough password"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"form-error\""));
    // Role and org.
    let path = format!("/admin/users/{}", u.id.0);
    let (st, _) = s
        .post(
            &w.app,
            &path,
            &[("action", "update"), ("role", "viewer"), ("org", "A")],
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let u2 = w.store.get_user(u.id).await.unwrap();
    assert_eq!((u2.role, u2.org_id), (Role::Viewer, w.a.id));
    // Disable, enable.
    s.post(&w.app, &path, &[("action", "disable")]).await;
    assert!(w.store.get_user(u.id).await.unwrap().disabled);
    s.post(&w.app, &path, &[("action", "enable")]).await;
    assert!(!w.store.get_user(u.id).await.unwrap().disabled);
    // Reset: a new password shown once; the old one no longer works.
    let (st, html) = s.post(&w.app, &path, &[("action", "reset")]).await;
    assert_eq!(st, StatusCode::OK);
    let new_pw = by_id(&html, "once-secret");
    assert_ne!(new_pw, pw);
    let (_, hash) = w.store.user_credentials("wang").await.unwrap().unwrap();
    assert!(taishi_server::auth::password::verify_password(
        &new_pw, &hash
    ));
    assert!(!taishi_server::auth::password::verify_password(&pw, &hash));
    // The admin cannot lock itself out.
    let me = w.store.user_credentials("admin").await.unwrap().unwrap().0;
    let (st, _) = s
        .post(
            &w.app,
            &format!("/admin/users/{}", me.id.0),
            &[("action", "disable")],
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // Every change is in the audit log with before and after.
    let log = audit_actions(&w, "user").await;
    let acts: Vec<&str> = log.iter().map(|(a, _)| a.as_str()).collect();
    for want in ["user.create", "user.update", "user.set_password"] {
        assert!(
            acts.iter().any(|a| a.starts_with(want)),
            "{want} in {acts:?}"
        );
    }
    let users = w
        .store
        .list_users(&UserFilter::default(), Page::first(100))
        .await
        .unwrap();
    assert!(users.items.iter().any(|u| u.name == "wang"));
}

#[tokio::test]
async fn admin_creates_and_revokes_tokens() {
    let w = admin_world().await;
    let s = login(&w.app, "admin").await;
    let (st, html) = s
        .post(
            &w.app,
            "/admin/tokens",
            &[("name", "sensor-01"), ("role", "analyst"), ("org", "D")],
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{html}");
    let secret = by_id(&html, "once-secret");
    assert!(secret.starts_with("tsk_"));
    let whoami = |t: &str| {
        Request::get("/api/v1/auth/whoami")
            .header(header::AUTHORIZATION, format!("Bearer {t}"))
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(
        call(&w.app, whoami(&secret)).await.0.status(),
        StatusCode::OK
    );
    // The list never shows the secret again.
    let (_, list) = s.get(&w.app, "/admin/tokens").await;
    assert!(list.contains("data-token=\"sensor-01\"") && !list.contains(&secret));
    let id = w
        .store
        .list_tokens(&Default::default(), Page::first(10))
        .await
        .unwrap()
        .items[0]
        .id;
    let (st, _) = s
        .post(&w.app, &format!("/admin/tokens/{}/revoke", id.0), &[])
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        call(&w.app, whoami(&secret)).await.0.status(),
        StatusCode::UNAUTHORIZED
    );
    let acts: Vec<String> = audit_actions(&w, "token")
        .await
        .into_iter()
        .map(|a| a.0)
        .collect();
    assert!(
        acts.iter().any(|a| a == "token.create") && acts.iter().any(|a| a == "token.revoke"),
        "{acts:?}"
    );
}
