//! The server on a real socket: plain HTTP and TLS with a certificate from PEM files, and graceful
//! shutdown that returns once asked.

use crate::common::*;
use std::sync::Arc;
use taishi_server::launch::{self, TlsFiles};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn get_healthz<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(mut s: S) -> String {
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn serves_tls_from_pem_files_and_shuts_down() {
    let fx = fixture().await;
    let dir = tempfile::tempdir().unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let tls = Some(TlsFiles {
        cert: cert_path,
        key: key_path,
    });
    let server = tokio::spawn(launch::serve(listener, fx.app.clone(), tls, async move {
        let _ = stopped.await;
    }));

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.der().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let mut answer = String::new();
    for _ in 0..50 {
        if let Ok(tcp) = tokio::net::TcpStream::connect(addr).await {
            let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
            if let Ok(tls) = connector.connect(name, tcp).await {
                answer = get_healthz(tls).await;
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"status\":\"ok\""), "{answer}");
    // Plain HTTP on the TLS port gets no answer.
    let plain = get_healthz(tokio::net::TcpStream::connect(addr).await.unwrap()).await;
    assert!(!plain.contains("200 OK"), "{plain}");

    stop.send(()).unwrap();
    let done = tokio::time::timeout(std::time::Duration::from_secs(30), server)
        .await
        .unwrap()
        .unwrap();
    assert!(done.is_ok(), "{done:?}");
}

#[tokio::test]
async fn missing_certificate_is_a_clear_error() {
    let fx = fixture().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let tls = Some(TlsFiles {
        cert: "/nonexistent/cert.pem".into(),
        key: "/nonexistent/key.pem".into(),
    });
    let e = launch::serve(listener, fx.app.clone(), tls, std::future::pending())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("/nonexistent/cert.pem"), "{e}");
}
