//! A small SMTP client over tokio: enough to hand a UTF-8 text message to a mail server (EHLO, STARTTLS
//! or implicit TLS, optional AUTH PLAIN or LOGIN, MAIL, RCPT, DATA).
//!
//! TLS ([`SmtpTls`]): `starttls` (the default; port 587 or 25) upgrades after EHLO and fails with an
//! error naming the server when it does not offer STARTTLS; `implicit` speaks TLS from the first byte
//! (port 465); `none` is for a relay on a trusted link. Certificates are checked by rustls against the
//! webpki roots plus an optional extra CA file. Credentials are sent only over TLS, unless
//! `allow_plaintext_auth` says otherwise for a `none` relay.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

fn default_port() -> u16 {
    25
}
fn default_helo() -> String {
    "taishi.localdomain".into()
}
fn default_timeout() -> u64 {
    30
}

/// How the connection to the mail server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS; refused when the server does not offer it.
    #[default]
    Starttls,
    /// TLS from the first byte (port 465, "SMTPS").
    Implicit,
    /// No TLS: only for a relay on the same host or a trusted link.
    None,
}

/// The outgoing mail relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// Relay host name or address.
    pub host: String,
    /// Port (25 by default; usually 587 with `starttls`, 465 with `implicit`).
    #[serde(default = "default_port")]
    pub port: u16,
    /// `starttls` (default), `implicit` or `none`.
    #[serde(default)]
    pub tls: SmtpTls,
    /// A PEM file of extra CA certificates to trust besides the webpki roots (a private CA).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Envelope and header sender.
    pub from: String,
    /// Name sent in EHLO.
    #[serde(default = "default_helo")]
    pub helo: String,
    /// AUTH user (PLAIN or LOGIN, whichever the server offers; sent only over TLS).
    #[serde(default)]
    pub username: Option<String>,
    /// AUTH password.
    #[serde(default)]
    pub password: Option<String>,
    /// Allow sending the password with `tls = "none"` (only for a relay on a trusted link).
    #[serde(default)]
    pub allow_plaintext_auth: bool,
    /// Seconds for the whole conversation.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

/// Why a message was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum SmtpError {
    /// Could not connect or the connection broke.
    #[error("smtp i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The conversation took too long.
    #[error("smtp timed out")]
    Timeout,
    /// The server answered with an error code.
    #[error("smtp {stage} rejected: {code} {text}")]
    Rejected {
        /// Which command.
        stage: &'static str,
        /// Reply code.
        code: u16,
        /// Reply text.
        text: String,
    },
    /// An address with characters that could break the protocol.
    #[error("invalid e-mail address {0:?}")]
    BadAddress(String),
    /// Configuration refuses what was asked (plaintext AUTH).
    #[error("smtp configuration: {0}")]
    Config(&'static str),
    /// TLS is required but the server did not offer STARTTLS.
    #[error(
        "smtp server {server} does not offer STARTTLS, which tls = \"starttls\" requires (use tls = \"implicit\" for port 465, or \"none\" for a trusted relay)"
    )]
    StartTlsUnavailable {
        /// `host:port`.
        server: String,
    },
    /// The TLS handshake failed (certificate not trusted, wrong name, no common protocol).
    #[error("smtp TLS with {server}: {error}")]
    Tls {
        /// `host:port`.
        server: String,
        /// What went wrong.
        error: String,
    },
    /// The extra CA file could not be read.
    #[error("smtp ca_file {path}: {error}")]
    CaFile {
        /// The file.
        path: String,
        /// What went wrong.
        error: String,
    },
    /// Credentials are configured but the server offers no mechanism this client speaks.
    #[error("smtp server {server} offers no AUTH PLAIN or LOGIN")]
    NoAuthMechanism {
        /// `host:port`.
        server: String,
    },
    /// The server said something that is not SMTP.
    #[error("smtp protocol: {0}")]
    Protocol(String),
}

impl super::RetryableError for SmtpError {
    fn retryable(&self) -> bool {
        match self {
            SmtpError::Io(_) | SmtpError::Timeout | SmtpError::Protocol(_) => true,
            SmtpError::Rejected { code, .. } => (400..500).contains(code),
            SmtpError::BadAddress(_)
            | SmtpError::Config(_)
            | SmtpError::StartTlsUnavailable { .. }
            | SmtpError::Tls { .. }
            | SmtpError::CaFile { .. }
            | SmtpError::NoAuthMechanism { .. } => false,
        }
    }
}

fn check_addr(a: &str) -> Result<&str, SmtpError> {
    let a = a.trim();
    let ok = a.contains('@')
        && a.len() <= 254
        && !a
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '<' | '>' | ',' | ';'));
    if ok {
        Ok(a)
    } else {
        Err(SmtpError::BadAddress(a.to_owned()))
    }
}

/// RFC 2047 encoded-word, so any subject (CJK, CR/LF) is a single safe header line.
fn encode_header(s: &str) -> String {
    let clean: String = s.chars().filter(|c| !c.is_control()).collect();
    // Split into chunks of whole characters so each encoded word stays under 75 characters.
    let mut words = Vec::new();
    let mut cur = String::new();
    for c in clean.chars() {
        if cur.len() + c.len_utf8() > 45 {
            words.push(format!("=?UTF-8?B?{}?=", B64.encode(&cur)));
            cur.clear();
        }
        cur.push(c);
    }
    if !cur.is_empty() || words.is_empty() {
        words.push(format!("=?UTF-8?B?{}?=", B64.encode(&cur)));
    }
    words.join("\r\n ")
}

/// Builds the message text (headers + base64 body), with CRLF line ends.
pub(crate) fn build_message(
    from: &str,
    to: &[&str],
    subject: &str,
    body: &str,
    now: jiff::Timestamp,
) -> String {
    let b = B64.encode(body.as_bytes());
    let mut wrapped = String::with_capacity(b.len() + b.len() / 76 * 2 + 2);
    for chunk in b.as_bytes().chunks(76) {
        wrapped.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        wrapped.push_str("\r\n");
    }
    let id = uuid::Uuid::new_v4();
    let domain = from.rsplit('@').next().unwrap_or("taishi");
    format!(
        "From: {from}\r\nTo: {}\r\nSubject: {}\r\nDate: {}\r\nMessage-ID: <{id}@{domain}>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{wrapped}",
        to.join(", "),
        encode_header(subject),
        now.strftime("%a, %d %b %Y %H:%M:%S +0000"),
    )
}

/// A byte stream the conversation runs over: plain TCP, or TLS over it.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

struct Conn {
    s: BufReader<Box<dyn Io>>,
    /// The extensions of the latest EHLO reply, upper-cased (`STARTTLS`, `AUTH PLAIN LOGIN`, …).
    ehlo: Vec<String>,
}

impl Conn {
    fn new(s: Box<dyn Io>) -> Conn {
        Conn {
            s: BufReader::new(s),
            ehlo: Vec::new(),
        }
    }

    /// Reads one (possibly multi-line) reply; returns its lines' texts.
    async fn reply(&mut self, stage: &'static str, want: u16) -> Result<Vec<String>, SmtpError> {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            if self.s.read_line(&mut line).await? == 0 {
                return Err(SmtpError::Protocol(format!(
                    "connection closed during {stage}"
                )));
            }
            if line.len() < 4 {
                return Err(SmtpError::Protocol(format!(
                    "short reply {line:?} during {stage}"
                )));
            }
            let code: u16 = line[..3]
                .parse()
                .map_err(|_| SmtpError::Protocol(format!("bad reply {line:?}")))?;
            lines.push(line[4..].trim_end().to_owned());
            if line.as_bytes()[3] == b' ' {
                return if code == want || (want == 250 && code == 251) {
                    Ok(lines)
                } else {
                    Err(SmtpError::Rejected {
                        stage,
                        code,
                        text: lines.join(" "),
                    })
                };
            }
        }
    }

    async fn cmd(
        &mut self,
        line: &str,
        stage: &'static str,
        want: u16,
    ) -> Result<Vec<String>, SmtpError> {
        let w = self.s.get_mut();
        w.write_all(line.as_bytes()).await?;
        w.write_all(b"\r\n").await?;
        w.flush().await?;
        self.reply(stage, want).await
    }

    async fn ehlo(&mut self, helo: &str) -> Result<(), SmtpError> {
        let lines = self.cmd(&format!("EHLO {helo}"), "EHLO", 250).await?;
        // The first line is the greeting; the rest are extensions.
        self.ehlo = lines
            .into_iter()
            .skip(1)
            .map(|l| l.to_ascii_uppercase())
            .collect();
        Ok(())
    }

    fn offers(&self, ext: &str) -> bool {
        self.ehlo
            .iter()
            .any(|l| l.split_whitespace().next() == Some(ext))
    }

    fn auth_mechanisms(&self) -> Vec<&str> {
        self.ehlo
            .iter()
            .filter_map(|l| l.strip_prefix("AUTH"))
            .flat_map(|m| m.trim_start_matches('=').split_whitespace())
            .collect()
    }
}

/// The rustls client configuration: webpki roots plus the extra CA file, if any.
fn tls_config(cfg: &SmtpConfig) -> Result<Arc<rustls::ClientConfig>, SmtpError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = &cfg.ca_file {
        let ca_err = |error: String| SmtpError::CaFile {
            path: path.display().to_string(),
            error,
        };
        let mut added = 0;
        for cert in CertificateDer::pem_file_iter(path).map_err(|e| ca_err(e.to_string()))? {
            let cert = cert.map_err(|e| ca_err(e.to_string()))?;
            roots.add(cert).map_err(|e| ca_err(e.to_string()))?;
            added += 1;
        }
        if added == 0 {
            return Err(ca_err("no PEM certificate in the file".into()));
        }
    }
    let server = format!("{}:{}", cfg.host, cfg.port);
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| SmtpError::Tls {
        server,
        error: e.to_string(),
    })?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(Arc::new(config))
}

async fn handshake(
    cfg: &SmtpConfig,
    tls: Arc<rustls::ClientConfig>,
    plain: Box<dyn Io>,
) -> Result<Box<dyn Io>, SmtpError> {
    let server = format!("{}:{}", cfg.host, cfg.port);
    let name =
        rustls::pki_types::ServerName::try_from(cfg.host.clone()).map_err(|e| SmtpError::Tls {
            server: server.clone(),
            error: e.to_string(),
        })?;
    let stream = tokio_rustls::TlsConnector::from(tls)
        .connect(name, plain)
        .await
        .map_err(|e| SmtpError::Tls {
            server,
            error: e.to_string(),
        })?;
    Ok(Box::new(stream))
}

/// Opens the conversation up to a (TLS-protected, unless `tls = "none"`) EHLO.
async fn open(cfg: &SmtpConfig) -> Result<Conn, SmtpError> {
    let tcp: Box<dyn Io> = Box::new(TcpStream::connect((cfg.host.as_str(), cfg.port)).await?);
    match cfg.tls {
        SmtpTls::None => {
            let mut c = Conn::new(tcp);
            c.reply("greeting", 220).await?;
            c.ehlo(&cfg.helo).await?;
            Ok(c)
        }
        SmtpTls::Implicit => {
            let s = handshake(cfg, tls_config(cfg)?, tcp).await?;
            let mut c = Conn::new(s);
            c.reply("greeting", 220).await?;
            c.ehlo(&cfg.helo).await?;
            Ok(c)
        }
        SmtpTls::Starttls => {
            let tls = tls_config(cfg)?;
            let mut c = Conn::new(tcp);
            c.reply("greeting", 220).await?;
            c.ehlo(&cfg.helo).await?;
            if !c.offers("STARTTLS") {
                return Err(SmtpError::StartTlsUnavailable {
                    server: format!("{}:{}", cfg.host, cfg.port),
                });
            }
            c.cmd("STARTTLS", "STARTTLS", 220).await?;
            // Anything the server sent after its 220 would be plaintext injected ahead of TLS
            // (CVE-2011-0411 style): refuse rather than read it as protected.
            if !c.s.buffer().is_empty() {
                return Err(SmtpError::Protocol(
                    "data after the STARTTLS reply, before the TLS handshake".into(),
                ));
            }
            let s = handshake(cfg, tls, c.s.into_inner()).await?;
            let mut c = Conn::new(s);
            // RFC 3207: forget what was learnt before TLS and greet again.
            c.ehlo(&cfg.helo).await?;
            Ok(c)
        }
    }
}

async fn authenticate(
    cfg: &SmtpConfig,
    c: &mut Conn,
    user: &str,
    pass: &str,
) -> Result<(), SmtpError> {
    let mechs = c.auth_mechanisms();
    if mechs.contains(&"PLAIN") {
        let token = B64.encode(format!("\0{user}\0{pass}"));
        c.cmd(&format!("AUTH PLAIN {token}"), "AUTH", 235).await?;
    } else if mechs.contains(&"LOGIN") {
        c.cmd("AUTH LOGIN", "AUTH", 334).await?;
        c.cmd(&B64.encode(user), "AUTH", 334).await?;
        c.cmd(&B64.encode(pass), "AUTH", 235).await?;
    } else {
        return Err(SmtpError::NoAuthMechanism {
            server: format!("{}:{}", cfg.host, cfg.port),
        });
    }
    Ok(())
}

/// Sends one text message to `to` through the relay.
///
/// # Errors
/// Connection problems, TLS failures, rejections (with code) and invalid addresses; see [`SmtpError`].
pub async fn send_mail(
    cfg: &SmtpConfig,
    to: &[String],
    subject: &str,
    body: &str,
) -> Result<(), SmtpError> {
    let from = check_addr(&cfg.from)?;
    let rcpts: Vec<&str> = to.iter().map(|a| check_addr(a)).collect::<Result<_, _>>()?;
    if cfg.username.is_some() && cfg.tls == SmtpTls::None && !cfg.allow_plaintext_auth {
        return Err(SmtpError::Config(
            "AUTH without TLS needs allow_plaintext_auth = true (or tls = \"starttls\" / \"implicit\")",
        ));
    }
    let msg = build_message(from, &rcpts, subject, body, jiff::Timestamp::now());
    let fut = async {
        let mut c = open(cfg).await?;
        if let (Some(u), Some(p)) = (&cfg.username, &cfg.password) {
            authenticate(cfg, &mut c, u, p).await?;
        }
        c.cmd(&format!("MAIL FROM:<{from}>"), "MAIL FROM", 250)
            .await?;
        for r in &rcpts {
            c.cmd(&format!("RCPT TO:<{r}>"), "RCPT TO", 250).await?;
        }
        c.cmd("DATA", "DATA", 354).await?;
        // The body is base64 and headers are encoded, so no line starts with "."; stuff anyway.
        let mut data = String::with_capacity(msg.len() + 8);
        for line in msg.trim_end_matches("\r\n").split("\r\n") {
            if line.starts_with('.') {
                data.push('.');
            }
            data.push_str(line);
            data.push_str("\r\n");
        }
        data.push_str(".\r\n");
        let w = c.s.get_mut();
        w.write_all(data.as_bytes()).await?;
        w.flush().await?;
        c.reply("message", 250).await?;
        let _ = c.cmd("QUIT", "QUIT", 221).await;
        Ok::<(), SmtpError>(())
    };
    tokio::time::timeout(Duration::from_secs(cfg.timeout_secs.max(1)), fut)
        .await
        .map_err(|_| SmtpError::Timeout)?
}
