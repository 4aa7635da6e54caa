//! A small SMTP client over tokio: enough to hand a UTF-8 text message to a relay (EHLO, optional AUTH
//! PLAIN, MAIL, RCPT, DATA). It speaks plain SMTP only — no STARTTLS — so it is meant for a relay on the
//! same host or network (postfix, a corporate relay); AUTH is refused unless explicitly allowed.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
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

/// The outgoing mail relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// Relay host name or address.
    pub host: String,
    /// Port (25 by default; 587 relays usually require STARTTLS, which this client does not speak).
    #[serde(default = "default_port")]
    pub port: u16,
    /// Envelope and header sender.
    pub from: String,
    /// Name sent in EHLO.
    #[serde(default = "default_helo")]
    pub helo: String,
    /// AUTH PLAIN user (needs `allow_plaintext_auth`).
    #[serde(default)]
    pub username: Option<String>,
    /// AUTH PLAIN password.
    #[serde(default)]
    pub password: Option<String>,
    /// Allow sending the password without TLS (only for a relay on a trusted link).
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
    /// The server said something that is not SMTP.
    #[error("smtp protocol: {0}")]
    Protocol(String),
}

impl super::RetryableError for SmtpError {
    fn retryable(&self) -> bool {
        match self {
            SmtpError::Io(_) | SmtpError::Timeout | SmtpError::Protocol(_) => true,
            SmtpError::Rejected { code, .. } => (400..500).contains(code),
            SmtpError::BadAddress(_) | SmtpError::Config(_) => false,
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

struct Conn {
    r: BufReader<tokio::net::tcp::OwnedReadHalf>,
    w: tokio::net::tcp::OwnedWriteHalf,
}

impl Conn {
    async fn reply(&mut self, stage: &'static str, want: u16) -> Result<(), SmtpError> {
        let mut text = String::new();
        loop {
            let mut line = String::new();
            if self.r.read_line(&mut line).await? == 0 {
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
            text.push_str(line[4..].trim_end());
            if line.as_bytes()[3] == b' ' {
                return if code == want || (want == 250 && code == 251) {
                    Ok(())
                } else {
                    Err(SmtpError::Rejected { stage, code, text })
                };
            }
            text.push(' ');
        }
    }

    async fn cmd(&mut self, line: &str, stage: &'static str, want: u16) -> Result<(), SmtpError> {
        self.w.write_all(line.as_bytes()).await?;
        self.w.write_all(b"\r\n").await?;
        self.reply(stage, want).await
    }
}

/// Sends one text message to `to` through the relay.
///
/// # Errors
/// Connection problems, rejections (with code) and invalid addresses; see [`SmtpError`].
pub async fn send_mail(
    cfg: &SmtpConfig,
    to: &[String],
    subject: &str,
    body: &str,
) -> Result<(), SmtpError> {
    let from = check_addr(&cfg.from)?;
    let rcpts: Vec<&str> = to.iter().map(|a| check_addr(a)).collect::<Result<_, _>>()?;
    if cfg.username.is_some() && !cfg.allow_plaintext_auth {
        return Err(SmtpError::Config(
            "AUTH without TLS needs allow_plaintext_auth = true",
        ));
    }
    let msg = build_message(from, &rcpts, subject, body, jiff::Timestamp::now());
    let fut = async {
        let stream = TcpStream::connect((cfg.host.as_str(), cfg.port)).await?;
        let (r, w) = stream.into_split();
        let mut c = Conn {
            r: BufReader::new(r),
            w,
        };
        c.reply("greeting", 220).await?;
        c.cmd(&format!("EHLO {}", cfg.helo), "EHLO", 250).await?;
        if let (Some(u), Some(p)) = (&cfg.username, &cfg.password) {
            let token = B64.encode(format!("\0{u}\0{p}"));
            c.cmd(&format!("AUTH PLAIN {token}"), "AUTH", 235).await?;
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
        c.w.write_all(data.as_bytes()).await?;
        c.reply("message", 250).await?;
        let _ = c.cmd("QUIT", "QUIT", 221).await;
        Ok::<(), SmtpError>(())
    };
    tokio::time::timeout(Duration::from_secs(cfg.timeout_secs.max(1)), fut)
        .await
        .map_err(|_| SmtpError::Timeout)?
}
