//! Robot signing: known vectors (computed with Python's `hmac` module from the vendors' sample code),
//! and local receivers that recompute the signature with their own HMAC (RFC 2104 over `sha2`, not
//! `ring`) and refuse the message like the robots do when it does not match.

use super::tests::{notification, quick_retry, read_request};
use super::*;
use crate::sweep::LoopEventKind;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// HMAC-SHA256 by the book (RFC 2104), independent of the code under test.
fn hmac(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut k = if key.len() > 64 {
        Sha256::digest(key).to_vec()
    } else {
        key.to_vec()
    };
    k.resize(64, 0);
    let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::new()
        .chain_update(&ipad)
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(&opad)
        .chain_update(inner)
        .finalize()
        .to_vec()
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn known_vectors() {
    // RFC 4231 test case 2, to show the independent HMAC is right.
    assert_eq!(
        hex::encode(hmac(b"Jefe", b"what do ya want for nothing?")),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    let secret = "SEC000000000000000000000000000000000000000000000000000000000000000";
    assert_eq!(
        dingtalk_sign(secret, 1_599_360_473_000),
        "sJbUvaKsDTTwPYAEAvsclZn+muvK9lINwmW9UJw57zE="
    );
    assert_eq!(
        feishu_sign("abc123", 1_599_360_473),
        "HlCPO79Q9DEV0vueksRdi4YcZ8Z6keFaxRnxlpGYwWo="
    );
    // Both agree with the by-the-book HMAC.
    assert_eq!(
        feishu_sign("abc123", 1_599_360_473),
        b64(&hmac(b"1599360473\nabc123", b""))
    );
}

/// Which robot the receiver plays.
#[derive(Clone, Copy)]
enum Robot {
    Dingtalk,
    Feishu,
}

/// A robot endpoint: checks the signature with `secret` and answers like the vendor (0 = ok, else the
/// vendor's signature error code); records (request target, body).
async fn robot(robot: Robot, secret: &'static str) -> (String, Arc<Mutex<Vec<(String, String)>>>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/robot/send?access_token=tok",
        l.local_addr().unwrap()
    );
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    tokio::spawn(async move {
        loop {
            let Ok((s, _)) = l.accept().await else { return };
            let (r, mut w) = s.into_split();
            let (target, body) = read_request(&mut BufReader::new(r)).await;
            let now = jiff::Timestamp::now();
            let ok = match robot {
                Robot::Dingtalk => {
                    let q = target.split_once('?').map_or("", |(_, q)| q);
                    let param = |k: &str| {
                        q.split('&')
                            .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
                            .map(percent_decode)
                    };
                    match (param("timestamp"), param("sign")) {
                        (Some(ts), Some(sign)) => {
                            let fresh = (now.as_millisecond() - ts.parse::<i64>().unwrap()).abs()
                                < 3_600_000;
                            fresh
                                && sign
                                    == b64(&hmac(
                                        secret.as_bytes(),
                                        format!("{ts}\n{secret}").as_bytes(),
                                    ))
                        }
                        _ => false,
                    }
                }
                Robot::Feishu => {
                    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
                    match (v["timestamp"].as_str(), v["sign"].as_str()) {
                        (Some(ts), Some(sign)) => {
                            let fresh = (now.as_second() - ts.parse::<i64>().unwrap()).abs() < 3600;
                            fresh && sign == b64(&hmac(format!("{ts}\n{secret}").as_bytes(), b""))
                        }
                        _ => false,
                    }
                }
            };
            let reply = match (robot, ok) {
                (Robot::Dingtalk, true) => r#"{"errcode":0,"errmsg":"ok"}"#,
                (Robot::Dingtalk, false) => r#"{"errcode":310000,"errmsg":"sign not match"}"#,
                (Robot::Feishu, true) => r#"{"code":0,"msg":"success"}"#,
                (Robot::Feishu, false) => r#"{"code":19021,"msg":"sign match fail"}"#,
            };
            g.lock().unwrap().push((target, body));
            let resp = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
                reply.len()
            );
            w.write_all(resp.as_bytes()).await.unwrap();
        }
    });
    (url, got)
}

fn hook(name: &str, format: WebhookFormat, url: &str, secret: Option<&str>) -> WebhookConfig {
    WebhookConfig {
        name: name.into(),
        url: url.into(),
        format,
        events: vec![],
        secret: secret.map(str::to_owned),
    }
}

#[tokio::test]
async fn signed_robots_are_accepted_and_wrong_secrets_refused() {
    let (ding_url, ding_got) = robot(Robot::Dingtalk, "SECding").await;
    let (fs_url, fs_got) = robot(Robot::Feishu, "fs-secret").await;
    let n = Notifier::new(NotifyConfig {
        webhooks: vec![
            hook("ding", WebhookFormat::Dingtalk, &ding_url, Some("SECding")),
            hook("feishu", WebhookFormat::Feishu, &fs_url, Some("fs-secret")),
            hook(
                "ding-wrong",
                WebhookFormat::Dingtalk,
                &ding_url,
                Some("SECother"),
            ),
            hook("feishu-unsigned", WebhookFormat::Feishu, &fs_url, None),
        ],
        retry: quick_retry(),
        ..Default::default()
    })
    .unwrap();
    let recs = n.deliver(&notification(LoopEventKind::Closed), &[]).await;
    let outcome: Vec<(bool, u32)> = recs.iter().map(|r| (r.delivered, r.attempts)).collect();
    assert_eq!(
        outcome,
        [(true, 1), (true, 1), (false, 1), (false, 1)],
        "{recs:?}"
    );
    assert!(recs[2].error.as_deref().unwrap().contains("310000"));
    assert!(recs[3].error.as_deref().unwrap().contains("19021"));
    // The token and the signature stay out of the delivery log.
    assert!(
        recs.iter()
            .all(|r| !r.target.contains("tok") && !r.target.contains("sign="))
    );
    let (target, _) = ding_got.lock().unwrap()[0].clone();
    assert!(
        target.starts_with("/robot/send?access_token=tok&timestamp="),
        "{target}"
    );
    let (_, body) = fs_got.lock().unwrap()[0].clone();
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["msg_type"], "text");
    assert!(v["content"]["text"].as_str().unwrap().contains("2026-0042"));
}

#[test]
fn secrets_only_on_robots_that_sign() {
    for (format, ok) in [
        (WebhookFormat::Dingtalk, true),
        (WebhookFormat::Feishu, true),
        (WebhookFormat::Wecom, false),
        (WebhookFormat::Generic, false),
    ] {
        let h = hook("h", format, "http://127.0.0.1:1/x", Some("s"));
        assert_eq!(h.validate().is_ok(), ok);
    }
    let err = Notifier::new(NotifyConfig {
        webhooks: vec![hook("wx", WebhookFormat::Wecom, "http://x/", Some("s"))],
        ..Default::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("webhook wx"), "{err}");
    assert!(
        hook("d", WebhookFormat::Dingtalk, "http://x/", Some(" "))
            .validate()
            .is_err()
    );
}
