//! A local webhook receiver for the service tests: answers 200 and records each JSON body.

use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// Starts the receiver; returns its URL and the bodies it got.
pub async fn receiver() -> (String, Arc<Mutex<Vec<serde_json::Value>>>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            let (r, mut w) = s.into_split();
            let mut r = BufReader::new(r);
            let mut len = 0;
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).await.unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
            }
            let mut buf = vec![0; len];
            r.read_exact(&mut buf).await.unwrap();
            g.lock()
                .unwrap()
                .push(serde_json::from_slice(&buf).unwrap());
            w.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .await
                .unwrap();
        }
    });
    (url, got)
}

/// The `event` names the receiver got, in order.
pub fn events(got: &Mutex<Vec<serde_json::Value>>) -> Vec<String> {
    got.lock()
        .unwrap()
        .iter()
        .map(|v| v["event"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// A local SMTP sink (plain): records the recipients of each message.
pub async fn smtp_sink() -> (u16, Arc<Mutex<Vec<Vec<String>>>>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            let g = g.clone();
            tokio::spawn(async move {
                let (r, mut w) = s.into_split();
                let mut r = BufReader::new(r);
                w.write_all(b"220 sink\r\n").await.unwrap();
                let mut rcpts = Vec::new();
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let cmd = line.trim_end();
                    let reply: &[u8] = if let Some(a) = cmd.strip_prefix("RCPT TO:") {
                        rcpts.push(a.trim_matches(['<', '>']).to_owned());
                        b"250 ok\r\n"
                    } else if cmd == "DATA" {
                        w.write_all(b"354 go\r\n").await.unwrap();
                        loop {
                            let mut l2 = String::new();
                            r.read_line(&mut l2).await.unwrap();
                            if l2 == ".\r\n" {
                                break;
                            }
                        }
                        let mut all = std::mem::take(&mut rcpts);
                        all.sort();
                        g.lock().unwrap().push(all);
                        b"250 queued\r\n"
                    } else if cmd == "QUIT" {
                        w.write_all(b"221 bye\r\n").await.unwrap();
                        return;
                    } else {
                        b"250 ok\r\n"
                    };
                    w.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, got)
}

/// A notifier posting to `hook_url` (generic format, only `events` if any) and mailing through the
/// plain SMTP sink on `smtp_port`, with quick retries.
pub fn notifier(
    hook_url: String,
    smtp_port: u16,
    events: Vec<String>,
    analyst_emails: Vec<String>,
) -> taishi_loop::notify::Notifier {
    use taishi_loop::notify::*;
    Notifier::new(NotifyConfig {
        smtp: Some(SmtpConfig {
            host: "127.0.0.1".into(),
            port: smtp_port,
            tls: SmtpTls::None,
            ca_file: None,
            from: "taishi@authority.example".into(),
            helo: "test".into(),
            username: None,
            password: None,
            allow_plaintext_auth: false,
            timeout_secs: 5,
        }),
        webhooks: vec![WebhookConfig {
            name: "soc".into(),
            url: hook_url,
            format: WebhookFormat::Generic,
            events,
            secret: None,
        }],
        retry: RetryPolicy {
            attempts: 2,
            base_backoff_ms: 5,
            max_backoff_ms: 10,
        },
        analyst_emails,
    })
    .unwrap()
}
