//! Run-time settings: deadline policy, indicators, notification channels, and their precedence over the configuration after a restart.

use super::*;

#[tokio::test]
async fn policy_edits_are_checked_stored_audited_and_applied_without_restart() {
    let w = admin_world().await;
    let s = login(&w.app, "admin").await;
    let (st, html) = s.get(&w.app, "/admin/policy").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("id=\"deadlines\"") && html.contains("ack_workdays"));
    assert!(by_id(&html, "source").is_empty() || html.contains("badge\">"));
    // An error names the line and the field, and changes nothing.
    let bad = "ack_workdays = 2\n\n[deadlines]\ncritical = 5\nsevere = 1\n";
    let (st, html) = s
        .post(
            &w.app,
            "/admin/policy",
            &[("action", "save"), ("text", bad)],
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let err = by_id(&html, "form-error");
    assert!(err.contains("line 5") && err.contains("severe"), "{err}");
    assert!(html.contains("severe = 1"), "the draft stays in the editor");
    assert_eq!(w.state.loop_service().policy().ack_workdays, 1);
    assert!(w.store.get_setting("loop_policy").await.unwrap().is_none());
    // The fix is stored, audited and in force at once.
    let good = "ack_workdays = 2\n\n[deadlines]\ncritical = 5\n";
    let (st, html) = s
        .post(
            &w.app,
            "/admin/policy",
            &[("action", "save"), ("text", good)],
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(html.contains("id=\"done\""));
    let p = w.state.loop_service().policy();
    assert_eq!((p.ack_workdays, p.deadlines.critical), (2, Some(5)));
    assert_eq!(
        w.store
            .get_setting("loop_policy")
            .await
            .unwrap()
            .unwrap()
            .value,
        good
    );
    let log = audit_actions(&w, "setting").await;
    assert_eq!(log.last().unwrap().0, "setting.put");
    assert!(
        log.last().unwrap().1.as_ref().unwrap()["value"]
            .as_str()
            .unwrap()
            .contains("critical = 5")
    );
    // The page says where the value comes from; "back to the configuration" restores the default.
    let (_, html) = s.get(&w.app, "/admin/policy").await;
    assert!(html.contains("id=\"cfg-revert\""));
    let (st, _) = s
        .post(&w.app, "/admin/policy", &[("action", "revert")])
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(w.state.loop_service().policy().ack_workdays, 1);
    assert!(w.store.get_setting("loop_policy").await.unwrap().is_none());
    assert_eq!(
        audit_actions(&w, "setting").await.last().unwrap().0,
        "setting.delete"
    );
}

#[tokio::test]
async fn indicator_edits_use_the_loop_parser() {
    let w = admin_world().await;
    let s = login(&w.app, "admin").await;
    let (st, html) = s.get(&w.app, "/admin/indicators").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("id=\"indicators\""));
    let bad = "[rollup]\nrule = \"worst\"\n\n[[indicator]]\nid = \"open\"\nname_zh = \"未整改问题\"\nname_en = \"Open findings\"\nweight = 0\nkind = \"open_findings\"\n";
    let (st, html) = s
        .post(
            &w.app,
            "/admin/indicators",
            &[("action", "save"), ("text", bad)],
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(
        by_id(&html, "form-error").contains("open"),
        "names the indicator"
    );
    let before = w.state.loop_service().indicators().indicators.len();
    assert!(before > 1);
    let good = "[rollup]\nrule = \"worst\"\n\n[[indicator]]\nid = \"training\"\nname_zh = \"培训\"\nname_en = \"Training\"\nweight = 1\nkind = \"manual\"\nkey = \"training\"\n";
    let (st, html) = s
        .post(
            &w.app,
            "/admin/indicators",
            &[("action", "save"), ("text", good)],
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{html}");
    let now = w.state.loop_service().indicators();
    assert_eq!(now.indicators.len(), 1);
    assert_eq!(now.indicators[0].id, "training");
}

#[tokio::test]
async fn channels_keep_secrets_and_send_tests_to_a_local_receiver() {
    let w = admin_world().await;
    let rx = receiver().await;
    let s = login(&w.app, "admin").await;
    let url = format!("{}/robot/send?access_token=tok-SECRET", rx.url);
    let (st, html) = s
        .post(
            &w.app,
            "/admin/channels",
            &[
                ("action", "save_webhook"),
                ("name", "duty"),
                ("url", &url),
                ("format", "generic"),
                ("events", "issued, overdue"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(
        !html.contains("tok-SECRET"),
        "the secret is never sent back"
    );
    assert!(html.contains("data-hook=\"duty\""));
    // Stored with the secret; audited without it.
    let stored = w.store.get_setting("loop_channels").await.unwrap().unwrap();
    assert!(stored.value.contains("tok-SECRET") && !stored.shown.contains("tok-SECRET"));
    let log = format!("{:?}", audit_actions(&w, "setting").await);
    assert!(!log.contains("tok-SECRET"));
    // In force at once.
    let n = w.state.loop_service().notifier().expect("a notifier");
    assert_eq!(n.config().webhooks[0].events, ["issued", "overdue"]);
    // Editing with a blank URL keeps the stored one.
    let (st, _) = s
        .post(
            &w.app,
            "/admin/channels",
            &[
                ("action", "save_webhook"),
                ("orig", "duty"),
                ("name", "duty"),
                ("url", ""),
                ("format", "generic"),
                ("events", ""),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let n = w.state.loop_service().notifier().unwrap();
    assert_eq!(n.config().webhooks[0].url, url);
    assert!(n.config().webhooks[0].events.is_empty());
    // A test message reaches the receiver, and the page shows the delivery log.
    let (st, html) = s
        .post(
            &w.app,
            "/admin/channels",
            &[("action", "test_webhook"), ("name", "duty")],
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(html.contains("id=\"done\""), "{html}");
    assert_eq!(rx.bodies.lock().unwrap().len(), 1);
    assert!(rx.bodies.lock().unwrap()[0].contains("TEST"));
    assert!(by_id(&html, "test-log").is_empty() && html.contains("badge ok"));
    // A test to a dead endpoint fails and says why.
    let dead = "http://127.0.0.1:9/hook";
    s.post(
        &w.app,
        "/admin/channels",
        &[
            ("action", "save_webhook"),
            ("name", "dead"),
            ("url", dead),
            ("format", "dingtalk"),
        ],
    )
    .await;
    let (st, html) = s
        .post(
            &w.app,
            "/admin/channels",
            &[("action", "test_webhook"), ("name", "dead")],
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        by_id(&html, "form-error").contains("webhook:dead"),
        "{html}"
    );
    // Bad input names the field.
    let (st, html) = s
        .post(
            &w.app,
            "/admin/channels",
            &[
                ("action", "save_webhook"),
                ("name", "x"),
                ("url", "javascript:alert(1)"),
                ("format", "generic"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(by_id(&html, "form-error").starts_with("url"));
    // SMTP: the password is kept and never shown.
    let (st, html) = s
        .post(
            &w.app,
            "/admin/channels",
            &[
                ("action", "save_smtp"),
                ("host", "127.0.0.1"),
                ("port", "2525"),
                ("from", "taishi@example.cn"),
                ("username", "u"),
                ("password", "pw-SECRET"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(!html.contains("pw-SECRET"));
    let n = w.state.loop_service().notifier().unwrap();
    assert_eq!(
        n.config().smtp.as_ref().unwrap().password.as_deref(),
        Some("pw-SECRET")
    );
    // TLS mode, CA file and the analysts' addresses round-trip through the form and the page.
    let (st, html) = s
        .post(
            &w.app,
            "/admin/channels",
            &[
                ("action", "save_smtp"),
                ("host", "127.0.0.1"),
                ("port", "465"),
                ("from", "taishi@example.cn"),
                ("username", "u"),
                ("tls", "implicit"),
                ("ca_file", "/etc/taishi/ca.pem"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{html}");
    let (st, html) = s
        .post(
            &w.app,
            "/admin/channels",
            &[
                ("action", "save_analysts"),
                ("analysts", "soc@example.cn,\nduty@example.cn"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{html}");
    let cfg = w.state.loop_service().notifier().unwrap().config().clone();
    let smtp = cfg.smtp.as_ref().unwrap();
    assert_eq!(smtp.tls, taishi_loop::notify::SmtpTls::Implicit);
    assert_eq!(
        smtp.ca_file.as_deref(),
        Some(std::path::Path::new("/etc/taishi/ca.pem"))
    );
    assert_eq!(smtp.password.as_deref(), Some("pw-SECRET"));
    assert_eq!(cfg.analyst_emails, ["soc@example.cn", "duty@example.cn"]);
    let html = s.get(&w.app, "/admin/channels").await.1;
    assert!(
        html.contains(r#"<option value="implicit" selected>"#),
        "{html}"
    );
    assert!(html.contains(r#"value="/etc/taishi/ca.pem""#));
    assert!(html.contains(r#"value="soc@example.cn, duty@example.cn""#));
    // Bad TLS mode or address names the field.
    for (form, field) in [
        (
            [
                ("action", "save_smtp"),
                ("host", "h"),
                ("from", "a@b.cn"),
                ("tls", "ssl"),
            ],
            "tls",
        ),
        (
            [
                ("action", "save_analysts"),
                ("analysts", "soc"),
                ("x", ""),
                ("y", ""),
            ],
            "analysts",
        ),
    ] {
        let (st, html) = s.post(&w.app, "/admin/channels", &form).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(by_id(&html, "form-error").starts_with(field), "{html}");
    }
    // Remove, then back to the configuration (none): nothing is sent any more.
    s.post(
        &w.app,
        "/admin/channels",
        &[("action", "remove_webhook"), ("name", "dead")],
    )
    .await;
    assert_eq!(
        w.state
            .loop_service()
            .notifier()
            .unwrap()
            .config()
            .webhooks
            .len(),
        1
    );
    s.post(&w.app, "/admin/channels", &[("action", "revert")])
        .await;
    assert!(w.state.loop_service().notifier().is_none());
}

#[tokio::test]
async fn stored_settings_override_the_configuration_after_a_restart() {
    let w = admin_world().await;
    let s = login(&w.app, "admin").await;
    let (st, _) = s
        .post(
            &w.app,
            "/admin/policy",
            &[("action", "save"), ("text", "ack_workdays = 4\n")],
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    // A restart: a new state over the same store starts from the configuration (here the default)...
    let state = taishi_server::AppState::new(w.store.clone(), Default::default());
    let _console = taishi_web::router(state.clone());
    assert_eq!(state.loop_service().policy().ack_workdays, 1);
    // ... and the start-up wiring puts the stored setting over it.
    let applied = taishi_web::pages::admin::apply_stored(&state)
        .await
        .unwrap();
    assert_eq!(applied, ["loop_policy"]);
    assert_eq!(state.loop_service().policy().ack_workdays, 4);
    // A stored document that no longer parses stops the start with an error naming the setting.
    let broken = taishi_store::SettingChange {
        key: "loop_indicators",
        value: Some("[[indicator]]\nid = 1\n"),
        shown: "",
        org: None,
    };
    w.store
        .put_setting(&taishi_model::Actor::system("test"), broken)
        .await
        .unwrap();
    let err = taishi_web::pages::admin::apply_stored(&state)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("loop_indicators"), "{err}");
}
