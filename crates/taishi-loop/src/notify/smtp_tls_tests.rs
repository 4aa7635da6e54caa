//! SMTP over TLS against a local sink with a test CA (rcgen): STARTTLS, implicit TLS, AUTH only under
//! TLS, and the errors when STARTTLS is missing or the certificate is not trusted.

use super::tests::{notification, quick_retry, smtp};
use super::*;
use crate::sweep::LoopEventKind;
use base64::Engine;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// How the sink behaves.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Plain at first, offers STARTTLS.
    StartTls,
    /// Plain, never offers STARTTLS.
    PlainOnly,
    /// TLS from the first byte.
    Implicit,
}

/// What the sink saw of one message.
#[derive(Debug, Clone, Default)]
struct Seen {
    /// Whether DATA arrived over TLS.
    tls: bool,
    /// The AUTH exchange (decoded credentials), and whether it was over TLS.
    auth: Option<(String, bool)>,
    /// The message.
    data: String,
}

struct TestCa {
    ca_pem: String,
    acceptor: tokio_rustls::TlsAcceptor,
}

fn test_ca() -> TestCa {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.distinguished_name
        .push(DnType::CommonName, "taishi smtp test CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
        leaf_key.serialize_der(),
    ));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![leaf.der().clone()], key)
    .unwrap();
    TestCa {
        ca_pem: ca_cert.pem(),
        acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
    }
}

enum After {
    Upgrade,
    Done,
}

/// Runs commands until QUIT, the end of the stream, or STARTTLS (then the caller upgrades).
async fn commands<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut BufReader<S>,
    mode: Mode,
    tls: bool,
    auth_mechs: &str,
    seen: &mut Seen,
    got: &Mutex<Vec<Seen>>,
) -> After {
    let mut line = String::new();
    loop {
        line.clear();
        if s.read_line(&mut line).await.unwrap_or(0) == 0 {
            return After::Done;
        }
        let cmd = line.trim_end().to_owned();
        let upper = cmd.to_ascii_uppercase();
        let reply = if upper.starts_with("EHLO") {
            let mut r = "250-sink\r\n".to_owned();
            if mode == Mode::StartTls && !tls {
                r.push_str("250-STARTTLS\r\n");
            }
            // Like real servers, AUTH is advertised only once the link is protected.
            if tls || mode == Mode::PlainOnly {
                r.push_str(&format!("250-AUTH {auth_mechs}\r\n"));
            }
            r.push_str("250 8BITMIME\r\n");
            r
        } else if upper == "STARTTLS" {
            s.get_mut().write_all(b"220 go ahead\r\n").await.unwrap();
            return After::Upgrade;
        } else if upper.starts_with("AUTH PLAIN ") {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(cmd["AUTH PLAIN ".len()..].trim())
                .unwrap_or_default();
            seen.auth = Some((String::from_utf8_lossy(&raw).replace('\0', "|"), tls));
            "235 ok\r\n".to_owned()
        } else if upper == "AUTH LOGIN" {
            let mut creds = Vec::new();
            for prompt in ["334 VXNlcm5hbWU6\r\n", "334 UGFzc3dvcmQ6\r\n"] {
                s.get_mut().write_all(prompt.as_bytes()).await.unwrap();
                let mut l = String::new();
                s.read_line(&mut l).await.unwrap();
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(l.trim())
                    .unwrap_or_default();
                creds.push(String::from_utf8_lossy(&raw).into_owned());
            }
            seen.auth = Some((format!("|{}", creds.join("|")), tls));
            "235 ok\r\n".to_owned()
        } else if upper == "DATA" {
            s.get_mut().write_all(b"354 go\r\n").await.unwrap();
            let mut data = String::new();
            loop {
                let mut l = String::new();
                s.read_line(&mut l).await.unwrap();
                if l == ".\r\n" {
                    break;
                }
                data.push_str(&l);
            }
            seen.tls = tls;
            seen.data = data;
            got.lock().unwrap().push(seen.clone());
            "250 queued\r\n".to_owned()
        } else if upper == "QUIT" {
            s.get_mut().write_all(b"221 bye\r\n").await.unwrap();
            return After::Done;
        } else {
            "250 ok\r\n".to_owned()
        };
        s.get_mut().write_all(reply.as_bytes()).await.unwrap();
    }
}

/// Starts a sink; returns its port and what it saw.
async fn sink(mode: Mode, auth_mechs: &'static str) -> (u16, String, Arc<Mutex<Vec<Seen>>>) {
    let ca = test_ca();
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    let acceptor = ca.acceptor.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = l.accept().await else {
                return;
            };
            let (g, acceptor) = (g.clone(), acceptor.clone());
            tokio::spawn(async move {
                let mut seen = Seen::default();
                if mode == Mode::Implicit {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut s = BufReader::new(tls);
                    s.get_mut().write_all(b"220 sink ESMTP\r\n").await.unwrap();
                    commands(&mut s, mode, true, auth_mechs, &mut seen, &g).await;
                    return;
                }
                let mut s = BufReader::new(tcp);
                s.get_mut().write_all(b"220 sink ESMTP\r\n").await.unwrap();
                if let After::Upgrade =
                    commands(&mut s, mode, false, auth_mechs, &mut seen, &g).await
                {
                    let Ok(tls) = acceptor.accept(s.into_inner()).await else {
                        return;
                    };
                    let mut s = BufReader::new(tls);
                    commands(&mut s, mode, true, auth_mechs, &mut seen, &g).await;
                }
            });
        }
    });
    (port, ca.ca_pem, got)
}

fn ca_file(pem: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ca.pem");
    std::fs::write(&path, pem).unwrap();
    (dir, path)
}

fn tls_smtp(port: u16, tls: SmtpTls, ca: &std::path::Path) -> SmtpConfig {
    SmtpConfig {
        host: "localhost".into(),
        tls,
        ca_file: Some(ca.to_owned()),
        username: Some("taishi".into()),
        password: Some("s3cret pw".into()),
        ..smtp(port)
    }
}

async fn send(cfg: SmtpConfig) -> Vec<DeliveryRecord> {
    let n = Notifier::new(NotifyConfig {
        smtp: Some(cfg),
        retry: quick_retry(),
        ..Default::default()
    })
    .unwrap();
    n.deliver(
        &notification(LoopEventKind::Issued),
        &["officer@org.example".into()],
    )
    .await
}

#[tokio::test]
async fn starttls_protects_auth_and_message() {
    let (port, ca_pem, got) = sink(Mode::StartTls, "PLAIN LOGIN").await;
    let (_dir, ca) = ca_file(&ca_pem);
    let recs = send(tls_smtp(port, SmtpTls::Starttls, &ca)).await;
    assert!(recs[0].delivered, "{recs:?}");
    let seen = got.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].tls, "the message must arrive over TLS");
    assert_eq!(seen[0].auth, Some(("|taishi|s3cret pw".into(), true)));
    assert!(seen[0].data.contains("To: officer@org.example"));
}

#[tokio::test]
async fn implicit_tls_and_auth_login() {
    let (port, ca_pem, got) = sink(Mode::Implicit, "LOGIN").await;
    let (_dir, ca) = ca_file(&ca_pem);
    let recs = send(tls_smtp(port, SmtpTls::Implicit, &ca)).await;
    assert!(recs[0].delivered, "{recs:?}");
    let seen = got.lock().unwrap().clone();
    assert!(seen[0].tls);
    assert_eq!(seen[0].auth, Some(("|taishi|s3cret pw".into(), true)));
}

#[tokio::test]
async fn missing_starttls_is_named_and_credentials_never_go_in_clear() {
    let (port, _, got) = sink(Mode::PlainOnly, "PLAIN").await;
    let dir = tempfile::tempdir().unwrap();
    let ca = test_ca();
    let path = dir.path().join("ca.pem");
    std::fs::write(&path, &ca.ca_pem).unwrap();
    let recs = send(tls_smtp(port, SmtpTls::Starttls, &path)).await;
    assert_eq!(
        (recs[0].delivered, recs[0].attempts),
        (false, 1),
        "{recs:?}"
    );
    let err = recs[0].error.clone().unwrap();
    assert!(
        err.contains(&format!("localhost:{port}")) && err.contains("STARTTLS"),
        "{err}"
    );
    // tls = "none" with credentials: refused before connecting unless explicitly allowed.
    let plain = SmtpConfig {
        tls: SmtpTls::None,
        ..tls_smtp(port, SmtpTls::None, &path)
    };
    let recs = send(plain.clone()).await;
    assert!(
        recs[0]
            .error
            .as_deref()
            .unwrap()
            .contains("allow_plaintext_auth"),
        "{recs:?}"
    );
    assert!(got.lock().unwrap().is_empty());
    let recs = send(SmtpConfig {
        allow_plaintext_auth: true,
        ..plain
    })
    .await;
    assert!(recs[0].delivered, "{recs:?}");
    assert_eq!(
        got.lock().unwrap()[0].auth,
        Some(("|taishi|s3cret pw".into(), false))
    );
}

#[tokio::test]
async fn untrusted_certificate_fails_without_retries() {
    let (port, _, got) = sink(Mode::StartTls, "PLAIN").await;
    // A CA file of another CA: the sink's certificate is not trusted.
    let other = test_ca();
    let (_dir, ca) = ca_file(&other.ca_pem);
    let recs = send(tls_smtp(port, SmtpTls::Starttls, &ca)).await;
    assert_eq!((recs[0].delivered, recs[0].attempts), (false, 1));
    let err = recs[0].error.clone().unwrap();
    assert!(err.contains("TLS") && err.contains("localhost"), "{err}");
    assert!(got.lock().unwrap().is_empty());
    // A missing CA file is named.
    let recs = send(tls_smtp(
        port,
        SmtpTls::Starttls,
        std::path::Path::new("/nonexistent/ca.pem"),
    ))
    .await;
    assert!(
        recs[0]
            .error
            .as_deref()
            .unwrap()
            .contains("ca_file /nonexistent/ca.pem"),
        "{recs:?}"
    );
}
