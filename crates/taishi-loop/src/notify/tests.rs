//! Tests against a local SMTP sink and a local webhook receiver started in the test.

use super::*;
use crate::sweep::LoopEventKind;
use base64::Engine;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

pub(super) fn notification(event: LoopEventKind) -> Notification {
    Notification {
        event,
        number: "2026-0042".into(),
        title: "证书过期".into(),
        org_name: "教育局".into(),
        recipient_org: "教育局".into(),
        level: "一般".into(),
        rectify_due: Some("2026-11-16T02:00:00Z".into()),
        link: None,
    }
}

/// A tiny SMTP server: answers every command, optionally rejecting RCPT with `rcpt_code`, and records
/// each DATA payload.
async fn smtp_sink(rcpt_code: u16) -> (u16, Arc<Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    tokio::spawn(async move {
        loop {
            let Ok((s, _)) = l.accept().await else { return };
            let g = g.clone();
            tokio::spawn(async move {
                let (r, mut w) = s.into_split();
                let mut r = BufReader::new(r);
                w.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                let mut line = String::new();
                loop {
                    line.clear();
                    if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let cmd = line.trim_end().to_ascii_uppercase();
                    let reply = if cmd.starts_with("EHLO") {
                        "250-sink\r\n250 8BITMIME\r\n".to_owned()
                    } else if cmd.starts_with("RCPT") {
                        format!("{rcpt_code} rcpt\r\n")
                    } else if cmd == "DATA" {
                        w.write_all(b"354 go\r\n").await.unwrap();
                        let mut data = String::new();
                        loop {
                            let mut l2 = String::new();
                            r.read_line(&mut l2).await.unwrap();
                            if l2 == ".\r\n" {
                                break;
                            }
                            data.push_str(&l2);
                        }
                        g.lock().unwrap().push(data);
                        "250 queued\r\n".to_owned()
                    } else if cmd == "QUIT" {
                        w.write_all(b"221 bye\r\n").await.unwrap();
                        return;
                    } else {
                        "250 ok\r\n".to_owned()
                    };
                    w.write_all(reply.as_bytes()).await.unwrap();
                }
            });
        }
    });
    (port, got)
}

/// Reads one HTTP request: its target (path and query) and its body.
pub(super) async fn read_request<R: tokio::io::AsyncBufRead + Unpin>(
    r: &mut R,
) -> (String, String) {
    let mut request_line = String::new();
    r.read_line(&mut request_line).await.unwrap();
    let target = request_line.split(' ').nth(1).unwrap_or("").to_owned();
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        r.read_line(&mut line).await.unwrap();
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap();
        }
    }
    let mut buf = vec![0u8; len];
    r.read_exact(&mut buf).await.unwrap();
    (target, String::from_utf8(buf).unwrap())
}

/// A tiny HTTP server that answers with the scripted (status, body) pairs in turn (the last repeats)
/// and records each request body.
pub(super) async fn webhook_receiver(
    script: Vec<(u16, &'static str)>,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/hook?access_token=secret",
        l.local_addr().unwrap()
    );
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    tokio::spawn(async move {
        let mut i = 0;
        loop {
            let Ok((s, _)) = l.accept().await else { return };
            let (status, body) = script[i.min(script.len() - 1)];
            i += 1;
            let (r, mut w) = s.into_split();
            let (_, got_body) = read_request(&mut BufReader::new(r)).await;
            g.lock().unwrap().push(got_body);
            let resp = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            w.write_all(resp.as_bytes()).await.unwrap();
        }
    });
    (url, got)
}

pub(super) fn quick_retry() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        base_backoff_ms: 5,
        max_backoff_ms: 20,
    }
}

pub(super) fn smtp(port: u16) -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        tls: SmtpTls::None,
        ca_file: None,
        from: "taishi@authority.example".into(),
        helo: "test".into(),
        username: None,
        password: None,
        allow_plaintext_auth: false,
        timeout_secs: 5,
    }
}

#[tokio::test]
async fn email_reaches_the_sink_with_encoded_subject_and_body() {
    let (port, got) = smtp_sink(250).await;
    let n = Notifier::new(NotifyConfig {
        smtp: Some(smtp(port)),
        webhooks: vec![],
        retry: quick_retry(),
        analyst_emails: vec![],
    })
    .unwrap();
    let recs = n
        .deliver(
            &notification(LoopEventKind::Issued),
            &["officer@org.example".into()],
        )
        .await;
    assert_eq!(recs.len(), 1);
    assert!(recs[0].delivered, "{recs:?}");
    let msgs = got.lock().unwrap().clone();
    assert_eq!(msgs.len(), 1);
    let m = &msgs[0];
    assert!(m.contains("To: officer@org.example") && m.contains("Subject: =?UTF-8?B?"));
    let body_b64: String = m
        .split("\r\n\r\n")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .collect();
    let body = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(body_b64)
            .unwrap(),
    )
    .unwrap();
    assert!(
        body.contains("2026-0042") && body.contains("证书过期") && body.contains("新通报"),
        "{body}"
    );
}

#[tokio::test]
async fn permanent_smtp_rejection_is_not_retried_and_bad_addresses_never_sent() {
    let (port, got) = smtp_sink(550).await;
    let n = Notifier::new(NotifyConfig {
        smtp: Some(smtp(port)),
        webhooks: vec![],
        retry: quick_retry(),
        analyst_emails: vec![],
    })
    .unwrap();
    let recs = n
        .deliver(
            &notification(LoopEventKind::Closed),
            &["x@y.example".into()],
        )
        .await;
    assert_eq!((recs[0].delivered, recs[0].attempts), (false, 1));
    assert!(recs[0].error.as_deref().unwrap().contains("550"));
    let recs = n
        .deliver(
            &notification(LoopEventKind::Closed),
            &["a@b.example\r\nRCPT TO:<evil@x>".into()],
        )
        .await;
    assert!(!recs[0].delivered && recs[0].error.as_deref().unwrap().contains("invalid e-mail"));
    assert!(got.lock().unwrap().is_empty());
    // 4xx is temporary: retried up to the limit.
    let (port, _) = smtp_sink(451).await;
    let n = Notifier::new(NotifyConfig {
        smtp: Some(smtp(port)),
        webhooks: vec![],
        retry: quick_retry(),
        analyst_emails: vec![],
    })
    .unwrap();
    let recs = n
        .deliver(
            &notification(LoopEventKind::Closed),
            &["x@y.example".into()],
        )
        .await;
    assert_eq!((recs[0].delivered, recs[0].attempts), (false, 3));
}

#[tokio::test]
async fn webhooks_retry_with_backoff_and_speak_robot_formats() {
    let (url, got) =
        webhook_receiver(vec![(500, "{}"), (200, r#"{"errcode":0,"errmsg":"ok"}"#)]).await;
    let hook = |name: &str, format, url: &str| WebhookConfig {
        name: name.into(),
        url: url.into(),
        format,
        events: vec![],
        secret: None,
    };
    let n = Notifier::new(NotifyConfig {
        smtp: None,
        webhooks: vec![hook("ding", WebhookFormat::Dingtalk, &url)],
        retry: quick_retry(),
        analyst_emails: vec![],
    })
    .unwrap();
    let recs = n
        .deliver(
            &notification(LoopEventKind::Overdue {
                due: "2026-11-16T02:00:00Z".parse().unwrap(),
            }),
            &[],
        )
        .await;
    assert_eq!((recs[0].delivered, recs[0].attempts), (true, 2), "{recs:?}");
    assert!(!recs[0].target.contains("secret"));
    let bodies = got.lock().unwrap().clone();
    let v: serde_json::Value = serde_json::from_str(&bodies[1]).unwrap();
    assert_eq!(v["msgtype"], "markdown");
    assert!(
        v["markdown"]["text"]
            .as_str()
            .unwrap()
            .contains("整改已逾期")
    );

    // A robot refusing the message (keyword check) is a permanent failure.
    let (url, _) = webhook_receiver(vec![(
        200,
        r#"{"errcode":310000,"errmsg":"keywords not in content"}"#,
    )])
    .await;
    let (url2, got2) = webhook_receiver(vec![(200, r#"{"code":0,"msg":"success"}"#)]).await;
    let (url3, got3) = webhook_receiver(vec![(204, "")]).await;
    let (url4, got4) = webhook_receiver(vec![(200, r#"{"errcode":0}"#)]).await;
    let mut only_closed = hook("generic", WebhookFormat::Generic, &url3);
    only_closed.events = vec!["closed".into()];
    let n = Notifier::new(NotifyConfig {
        smtp: None,
        webhooks: vec![
            hook("ding", WebhookFormat::Dingtalk, &url),
            hook("feishu", WebhookFormat::Feishu, &url2),
            only_closed,
            hook("wecom", WebhookFormat::Wecom, &url4),
        ],
        retry: quick_retry(),
        analyst_emails: vec![],
    })
    .unwrap();
    let recs = n
        .deliver(
            &notification(LoopEventKind::Returned {
                reason: "仍可访问".into(),
            }),
            &[],
        )
        .await;
    assert_eq!(recs.len(), 3, "the generic hook only wants `closed`");
    assert_eq!((recs[0].delivered, recs[0].attempts), (false, 1));
    assert!(recs[0].error.as_deref().unwrap().contains("310000"));
    assert!(recs[1].delivered && recs[2].delivered);
    let feishu: serde_json::Value = serde_json::from_str(&got2.lock().unwrap()[0]).unwrap();
    assert_eq!(feishu["msg_type"], "text");
    assert!(
        feishu["content"]["text"]
            .as_str()
            .unwrap()
            .contains("仍可访问")
    );
    let wecom: serde_json::Value = serde_json::from_str(&got4.lock().unwrap()[0]).unwrap();
    assert!(
        wecom["markdown"]["content"]
            .as_str()
            .unwrap()
            .contains("2026-0042")
    );
    assert!(got3.lock().unwrap().is_empty());
    let recs = n.deliver(&notification(LoopEventKind::Closed), &[]).await;
    let generic: serde_json::Value = serde_json::from_str(&got3.lock().unwrap()[0]).unwrap();
    assert_eq!(
        (generic["event"].as_str(), generic["notice"].as_str()),
        (Some("closed"), Some("2026-0042"))
    );
    assert_eq!(recs.len(), 4);
}
