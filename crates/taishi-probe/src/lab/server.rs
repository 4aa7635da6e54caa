//! The lab's tiny servers: HTTP/1.1 over plain TCP or TLS, a legacy-TLS front that answers old
//! ClientHellos by hand, a garbage-TLS port and a fake Redis.

use rustls::ServerConfig;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use crate::net::Io;
use crate::tlsraw;

/// The parts of a request a lab site looks at.
#[derive(Debug, Clone)]
pub struct LabRequest {
    /// Request method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// User-Agent header.
    pub user_agent: String,
    /// Referer header.
    pub referer: String,
}

/// What a lab site does with a request.
#[derive(Debug, Clone)]
pub enum Action {
    /// A normal response (Content-Length is added).
    Respond {
        /// Status code.
        status: u16,
        /// Headers.
        headers: Vec<(String, String)>,
        /// Body.
        body: Vec<u8>,
    },
    /// Headers, then one body byte per 300 ms for a long time.
    SlowDrip,
    /// Headers without length, then an endless body.
    Endless,
    /// Two MiB of headers.
    HugeHeaders,
    /// Wait this long, then answer normally.
    Delay(Duration, Box<Action>),
}

/// A site's request handler.
pub type Handler = Arc<dyn Fn(&LabRequest) -> Action + Send + Sync>;

/// How a port speaks before HTTP.
#[derive(Clone)]
pub enum Front {
    /// Plain HTTP.
    Plain,
    /// TLS via rustls (TLS 1.2 and 1.3).
    Tls(Arc<ServerConfig>),
    /// Answers legacy ClientHellos by hand; hands modern ones to rustls when `modern` is set.
    Legacy {
        /// Versions answered with a ServerHello (e.g. TLS 1.0).
        versions: &'static [u16],
        /// Suites the legacy answerer will choose, in preference order.
        suites: &'static [u16],
        /// Weak suites also accepted on TLS 1.2 hellos that offer nothing modern.
        weak12: &'static [u16],
        /// The modern server behind, if any.
        modern: Option<Arc<ServerConfig>>,
        /// Certificate chain (DER) sent after a legacy ServerHello, as a real server would.
        chain: Arc<Vec<Vec<u8>>>,
    },
    /// Writes bytes that are not TLS.
    GarbageTls,
    /// A fake SSLv2 server: answers an SSLv2 CLIENT-HELLO with a SERVER-HELLO choosing the specs
    /// it shares with `specs` (no handshake follows), and anything else with a TLS
    /// protocol-version alert.
    Ssl2 {
        /// Cipher specs it supports.
        specs: &'static [u32],
        /// Certificate (DER) put in the SERVER-HELLO.
        certificate: Arc<Vec<u8>>,
    },
    /// A fake Redis answering PING with +PONG.
    Redis,
}

/// Accepts connections forever on `listener`.
pub async fn serve(listener: TcpListener, front: Front, handler: Handler) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let front = front.clone();
        let handler = handler.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(Duration::from_secs(120), connection(tcp, front, handler))
                .await;
        });
    }
}

async fn connection(mut tcp: TcpStream, front: Front, handler: Handler) -> std::io::Result<()> {
    match front {
        Front::Plain => http(Box::new(tcp), handler).await,
        Front::Tls(cfg) => {
            let tls = tokio_rustls::TlsAcceptor::from(cfg).accept(tcp).await?;
            http(Box::new(tls), handler).await
        }
        Front::GarbageTls => {
            let mut buf = [0u8; 512];
            let _ = tcp.read(&mut buf).await?;
            tcp.write_all(b"\x17\x03\x03\xff\xffthis is not a TLS server, just noise\x00\x01\x02")
                .await?;
            Ok(())
        }
        Front::Redis => redis(tcp).await,
        Front::Ssl2 { specs, certificate } => {
            let Ok(rec) = tlsraw::ssl2::read_record(&mut tcp).await else {
                return tcp.write_all(&tlsraw::alert(70)).await;
            };
            let offered = tlsraw::ssl2::parse_client_hello(&rec).unwrap_or_default();
            let shared: Vec<u32> = specs
                .iter()
                .copied()
                .filter(|s| offered.contains(s))
                .collect();
            if shared.is_empty() {
                // SSLv2 ERROR message: NO-CIPHER-ERROR.
                return tcp.write_all(&[0x80, 3, 0, 0, 1]).await;
            }
            tcp.write_all(&tlsraw::ssl2::server_hello(&shared, &certificate))
                .await
        }
        Front::Legacy {
            versions,
            suites,
            weak12,
            modern,
            chain,
        } => {
            let rec = tlsraw::read_record(&mut tcp).await?;
            let Some(hello) = tlsraw::parse_client_hello(&rec) else {
                return tcp.write_all(&tlsraw::alert(50)).await;
            };
            let legacy = hello.max_version < tlsraw::TLS12;
            if legacy {
                let pick = suites.iter().find(|s| hello.suites.contains(s));
                return match (versions.contains(&hello.max_version), pick) {
                    (true, Some(s)) => {
                        let mut flight = tlsraw::server_hello(hello.max_version, *s);
                        flight.extend(tlsraw::certificate_flight(hello.max_version, &chain));
                        tcp.write_all(&flight).await
                    }
                    (true, None) => tcp.write_all(&tlsraw::alert(40)).await,
                    (false, _) => tcp.write_all(&tlsraw::alert(70)).await,
                };
            }
            let modern_offered = hello.suites.iter().any(|s| MODERN.contains(s));
            if !modern_offered && let Some(s) = weak12.iter().find(|s| hello.suites.contains(s)) {
                return tcp
                    .write_all(&tlsraw::server_hello(tlsraw::TLS12, *s))
                    .await;
            }
            match modern {
                Some(cfg) => {
                    let io = Prefixed {
                        prefix: rec,
                        pos: 0,
                        inner: tcp,
                    };
                    let tls = tokio_rustls::TlsAcceptor::from(cfg).accept(io).await?;
                    http(Box::new(tls), handler).await
                }
                None => tcp.write_all(&tlsraw::alert(70)).await,
            }
        }
    }
}

/// Suites rustls (ring) negotiates; a hello offering any of them goes to the modern server.
const MODERN: &[u16] = &[
    0x1301, 0x1302, 0x1303, 0xc02b, 0xc02c, 0xc02f, 0xc030, 0xcca8, 0xcca9,
];

async fn http(mut io: Box<dyn Io>, handler: Handler) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > 16 * 1024 {
            return Ok(());
        }
        let n = io.read(&mut tmp).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_string();
    let path = first.next().unwrap_or("/").to_string();
    let mut req = LabRequest {
        method,
        path,
        user_agent: String::new(),
        referer: String::new(),
    };
    for l in lines {
        if let Some((n, v)) = l.split_once(':') {
            match n.trim().to_ascii_lowercase().as_str() {
                "user-agent" => req.user_agent = v.trim().to_string(),
                "referer" => req.referer = v.trim().to_string(),
                _ => {}
            }
        }
    }
    let action = handler(&req);
    write_action(&mut io, action, req.method == "HEAD").await
}

async fn write_action(
    io: &mut Box<dyn Io>,
    mut action: Action,
    head_only: bool,
) -> std::io::Result<()> {
    while let Action::Delay(d, next) = action {
        tokio::time::sleep(d).await;
        action = *next;
    }
    match action {
        Action::Respond {
            status,
            headers,
            body,
        } => {
            let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
            for (n, v) in &headers {
                out.push_str(&format!("{n}: {v}\r\n"));
            }
            out.push_str(&format!(
                "Content-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            ));
            io.write_all(out.as_bytes()).await?;
            if !head_only {
                io.write_all(&body).await?;
            }
        }
        Action::SlowDrip => {
            io.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n",
            )
            .await?;
            for _ in 0..400 {
                io.write_all(b"<").await?;
                io.flush().await?;
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
        Action::Endless => {
            io.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n")
                .await?;
            let chunk = vec![b'a'; 64 * 1024];
            for _ in 0..4096 {
                io.write_all(&chunk).await?;
            }
        }
        Action::HugeHeaders => {
            io.write_all(b"HTTP/1.1 200 OK\r\n").await?;
            let line = format!("X-Filler: {}\r\n", "x".repeat(1000));
            for _ in 0..2048 {
                io.write_all(line.as_bytes()).await?;
            }
            io.write_all(b"Content-Length: 0\r\n\r\n").await?;
        }
        Action::Delay(..) => {}
    }
    io.flush().await?;
    io.shutdown().await
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        403 => "Forbidden",
        404 => "Not Found",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

async fn redis(mut tcp: TcpStream) -> std::io::Result<()> {
    let mut buf = [0u8; 1024];
    loop {
        let n = tcp.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&buf[..n]).to_ascii_uppercase();
        if text.contains("PING") {
            tcp.write_all(b"+PONG\r\n").await?;
        } else if text.contains("INFO") {
            tcp.write_all(b"$30\r\n# Server\r\nredis_version:6.0.16\r\n\r\n")
                .await?;
        } else {
            tcp.write_all(b"-ERR unknown command\r\n").await?;
        }
    }
}

/// A stream that first replays bytes already read (the ClientHello), then reads the socket.
struct Prefixed {
    prefix: Vec<u8>,
    pos: usize,
    inner: TcpStream,
}

impl AsyncRead for Prefixed {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.pos < self.prefix.len() {
            let n = buf.remaining().min(self.prefix.len() - self.pos);
            let start = self.pos;
            buf.put_slice(&self.prefix[start..start + n]);
            self.pos += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Prefixed {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
