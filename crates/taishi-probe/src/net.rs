//! Connections with hard limits: TCP connect, TLS handshake that records instead of rejecting the
//! peer's certificates, and the shared rustls configuration (ring provider, no global state).

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, ProtocolVersion, SignatureScheme};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// Any byte stream a probe talks over (plain TCP or TLS).
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Errors from connecting.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// Name resolution failed or gave no address.
    #[error("cannot resolve {host}: {reason}")]
    Resolve {
        /// The host name.
        host: String,
        /// Why.
        reason: String,
    },
    /// Every address refused or timed out.
    #[error("cannot connect to {host}:{port}: {reason}")]
    Connect {
        /// The host.
        host: String,
        /// The port.
        port: u16,
        /// The last error.
        reason: String,
    },
    /// The TLS handshake failed.
    #[error("TLS handshake with {host} failed: {reason}")]
    Tls {
        /// The host.
        host: String,
        /// rustls' reason.
        reason: String,
    },
}

/// The ring provider, built once per call site; avoids rustls' process-wide default.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Accepts any certificate (the TLS check judges trust separately) but still checks handshake
/// signatures so the session is a real one.
#[derive(Debug)]
struct AcceptAny(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A client configuration that records any certificate, limited to the given versions.
pub fn recording_config(
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<ClientConfig> {
    let provider = provider();
    let mut cfg = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .expect("ring supports TLS 1.2 and 1.3")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
        .with_no_client_auth();
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(cfg)
}

/// Resolves `host:port` and connects to the first address that answers within `timeout`.
pub async fn connect(
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<(TcpStream, SocketAddr), NetError> {
    let addrs: Vec<SocketAddr> =
        match tokio::time::timeout(timeout, tokio::net::lookup_host((host, port))).await {
            Ok(Ok(it)) => it.collect(),
            Ok(Err(e)) => {
                return Err(NetError::Resolve {
                    host: host.into(),
                    reason: e.to_string(),
                });
            }
            Err(_) => {
                return Err(NetError::Resolve {
                    host: host.into(),
                    reason: "timed out".into(),
                });
            }
        };
    if addrs.is_empty() {
        return Err(NetError::Resolve {
            host: host.into(),
            reason: "no address".into(),
        });
    }
    let mut last = String::new();
    for addr in addrs {
        match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => {
                let _ = s.set_nodelay(true);
                return Ok((s, addr));
            }
            Ok(Err(e)) => last = e.to_string(),
            Err(_) => last = "timed out".into(),
        }
    }
    Err(NetError::Connect {
        host: host.into(),
        port,
        reason: last,
    })
}

/// What a TLS handshake showed about the server.
#[derive(Debug, Clone)]
pub struct TlsSession {
    /// Negotiated protocol version.
    pub version: Option<ProtocolVersion>,
    /// Negotiated cipher suite id.
    pub suite: Option<u16>,
    /// The chain the server sent, leaf first.
    pub chain: Vec<CertificateDer<'static>>,
}

/// Runs a TLS handshake over `tcp` with SNI `host`, accepting any certificate.
pub async fn tls_handshake(
    tcp: TcpStream,
    host: &str,
    config: Arc<ClientConfig>,
    timeout: Duration,
) -> Result<(tokio_rustls::client::TlsStream<TcpStream>, TlsSession), NetError> {
    let name = ServerName::try_from(host.to_string()).map_err(|e| NetError::Tls {
        host: host.into(),
        reason: e.to_string(),
    })?;
    let connector = tokio_rustls::TlsConnector::from(config);
    let stream = match tokio::time::timeout(timeout, connector.connect(name, tcp)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            return Err(NetError::Tls {
                host: host.into(),
                reason: e.to_string(),
            });
        }
        Err(_) => {
            return Err(NetError::Tls {
                host: host.into(),
                reason: "handshake timed out".into(),
            });
        }
    };
    let (_, conn) = stream.get_ref();
    let session = TlsSession {
        version: conn.protocol_version(),
        suite: conn.negotiated_cipher_suite().map(|s| u16::from(s.suite())),
        chain: conn
            .peer_certificates()
            .map(|c| c.iter().map(|d| d.clone().into_owned()).collect())
            .unwrap_or_default(),
    };
    Ok((stream, session))
}
