//! A small HTTP/1.1 client built for hostile targets: every read is bounded in bytes and time,
//! redirects are followed by hand with loop detection, and the TLS layer never rejects a
//! certificate (trust is judged by the TLS check, content must still be fetched).

use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use url::Url;

use crate::net::{self, Io, NetError};

/// Limits that keep a hostile server from hurting the prober.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// Largest response head (status line plus headers) accepted.
    pub max_header_bytes: usize,
    /// Largest body accepted; a longer body is an error.
    pub max_body_bytes: usize,
    /// Total time for one request including connect, TLS, head and body.
    pub request_timeout: Duration,
    /// Redirects followed before giving up.
    pub max_redirects: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            max_header_bytes: 64 * 1024,
            max_body_bytes: 4 * 1024 * 1024,
            request_timeout: Duration::from_secs(10),
            max_redirects: 10,
        }
    }
}

/// Errors from one HTTP exchange. Each names what the server did wrong.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// Connecting or the TLS handshake failed.
    #[error(transparent)]
    Net(#[from] NetError),
    /// The socket failed mid-exchange.
    #[error("I/O error: {0}")]
    Io(String),
    /// The request took longer than the limit (slow drip, stalled server).
    #[error("no complete response within {0} ms")]
    Timeout(u64),
    /// The response head exceeded the limit.
    #[error("response headers exceed {0} bytes")]
    HeadersTooLarge(usize),
    /// The body exceeded the limit (endless body).
    #[error("response body exceeds {0} bytes")]
    BodyTooLarge(usize),
    /// The response is not HTTP/1.x.
    #[error("malformed response: {0}")]
    Malformed(String),
    /// Redirects looped or exceeded the limit.
    #[error("redirect loop or too many redirects after {0} hops")]
    RedirectLoop(usize),
    /// The URL cannot be fetched (scheme, host).
    #[error("bad URL {0}")]
    BadUrl(String),
}

/// One request's options.
#[derive(Debug, Clone)]
pub struct Request {
    /// The URL.
    pub url: Url,
    /// `GET` or `HEAD`.
    pub method: &'static str,
    /// The User-Agent header.
    pub user_agent: String,
    /// Optional Referer header (used to reveal referer cloaking).
    pub referer: Option<String>,
}

/// The honest default User-Agent.
pub const USER_AGENT: &str = concat!(
    "taishi-probe/",
    env!("CARGO_PKG_VERSION"),
    " (+posture monitoring)"
);

impl Request {
    /// A GET with the default User-Agent.
    pub fn get(url: Url) -> Self {
        Request {
            url,
            method: "GET",
            user_agent: USER_AGENT.to_string(),
            referer: None,
        }
    }
}

/// A parsed response.
#[derive(Debug, Clone)]
pub struct Response {
    /// The URL this response answered.
    pub url: Url,
    /// Status code.
    pub status: u16,
    /// Headers in order, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked, not decompressed: requests ask for identity encoding).
    pub body: Vec<u8>,
    /// Time to the complete response.
    pub elapsed: Duration,
    /// The certificate chain the server presented (HTTPS only), leaf first, not yet judged.
    pub tls_chain: Vec<rustls::pki_types::CertificateDer<'static>>,
}

impl Response {
    /// The first value of header `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of header `name` (lower-case).
    pub fn headers_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Whether the response is HTML by Content-Type or by sniffing the start of the body.
    pub fn is_html(&self) -> bool {
        if let Some(ct) = self.header("content-type") {
            return ct.to_ascii_lowercase().contains("html");
        }
        let head =
            String::from_utf8_lossy(&self.body[..self.body.len().min(512)]).to_ascii_lowercase();
        head.contains("<html") || head.contains("<!doctype html")
    }
}

/// The result of following redirects.
#[derive(Debug, Clone)]
pub struct Chain {
    /// Every response in order; the last is the final one.
    pub hops: Vec<Response>,
}

impl Chain {
    /// The final response.
    pub fn last(&self) -> &Response {
        self.hops.last().expect("a chain has at least one hop")
    }
}

/// The client: limits plus a TLS configuration that records instead of rejecting.
#[derive(Clone)]
pub struct HttpClient {
    limits: HttpLimits,
    tls: std::sync::Arc<rustls::ClientConfig>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("limits", &self.limits)
            .finish()
    }
}

impl HttpClient {
    /// A client with the given limits.
    pub fn new(limits: HttpLimits) -> Self {
        HttpClient {
            limits,
            tls: net::recording_config(&[&rustls::version::TLS13, &rustls::version::TLS12]),
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> HttpLimits {
        self.limits
    }

    /// One request, no redirect following, bounded by the request timeout.
    pub async fn send(&self, req: &Request) -> Result<Response, HttpError> {
        let ms = self.limits.request_timeout.as_millis() as u64;
        match tokio::time::timeout(self.limits.request_timeout, self.send_inner(req)).await {
            Ok(r) => r,
            Err(_) => Err(HttpError::Timeout(ms)),
        }
    }

    /// Follows redirects from `req` (same method, same headers), detecting loops.
    pub async fn follow(&self, req: &Request) -> Result<Chain, HttpError> {
        let mut hops: Vec<Response> = Vec::new();
        let mut cur = req.clone();
        loop {
            let resp = self.send(&cur).await?;
            let next = if (300..400).contains(&resp.status) {
                resp.header("location")
                    .and_then(|l| resp.url.join(l.trim()).ok())
            } else {
                None
            };
            hops.push(resp);
            let Some(next) = next else {
                return Ok(Chain { hops });
            };
            if hops.len() > self.limits.max_redirects || hops.iter().any(|h| h.url == next) {
                return Err(HttpError::RedirectLoop(hops.len()));
            }
            cur.url = next;
        }
    }

    async fn send_inner(&self, req: &Request) -> Result<Response, HttpError> {
        let start = Instant::now();
        let url = &req.url;
        let host = url
            .host_str()
            .ok_or_else(|| HttpError::BadUrl(url.to_string()))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port = url
            .port_or_known_default()
            .ok_or_else(|| HttpError::BadUrl(url.to_string()))?;
        let (tcp, _) = net::connect(host, port, self.limits.request_timeout).await?;
        let mut tls_chain = Vec::new();
        let mut io: Box<dyn Io> = match url.scheme() {
            "http" => Box::new(tcp),
            "https" => {
                let (s, session) =
                    net::tls_handshake(tcp, host, self.tls.clone(), self.limits.request_timeout)
                        .await?;
                tls_chain = session.chain;
                Box::new(s)
            }
            _ => return Err(HttpError::BadUrl(url.to_string())),
        };
        let mut path = url.path().to_string();
        if let Some(q) = url.query() {
            path.push('?');
            path.push_str(q);
        }
        let host_header = match url.port() {
            Some(p) => format!("{}:{p}", url.host_str().unwrap_or(host)),
            None => url.host_str().unwrap_or(host).to_string(),
        };
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {}\r\nAccept: */*\r\nAccept-Encoding: identity\r\nConnection: close\r\n",
            req.method, path, host_header, req.user_agent
        );
        if let Some(r) = &req.referer {
            head.push_str(&format!("Referer: {r}\r\n"));
        }
        head.push_str("\r\n");
        io.write_all(head.as_bytes())
            .await
            .map_err(|e| HttpError::Io(e.to_string()))?;
        io.flush().await.map_err(|e| HttpError::Io(e.to_string()))?;
        let mut reader = Reader {
            io,
            buf: Vec::with_capacity(8192),
            pos: 0,
        };
        let (status, headers) = reader.read_head(self.limits.max_header_bytes).await?;
        let no_body = req.method == "HEAD" || status / 100 == 1 || status == 204 || status == 304;
        let body = if no_body {
            Vec::new()
        } else {
            let chunked = headers.iter().any(|(n, v)| {
                n == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked")
            });
            let len = headers
                .iter()
                .find(|(n, _)| n == "content-length")
                .map(|(_, v)| v.trim().parse::<usize>());
            let max = self.limits.max_body_bytes;
            match (chunked, len) {
                (true, _) => reader.read_chunked(max).await?,
                (false, Some(Ok(n))) if n > max => return Err(HttpError::BodyTooLarge(max)),
                (false, Some(Ok(n))) => reader.read_exact_body(n).await?,
                (false, Some(Err(_))) => {
                    return Err(HttpError::Malformed("bad Content-Length".into()));
                }
                (false, None) => reader.read_to_end(max).await?,
            }
        };
        Ok(Response {
            url: url.clone(),
            status,
            headers,
            body,
            elapsed: start.elapsed(),
            tls_chain,
        })
    }
}

/// A buffered reader that never holds more than the caller's limits.
struct Reader {
    io: Box<dyn Io>,
    buf: Vec<u8>,
    pos: usize,
}

impl Reader {
    /// Reads more bytes; returns 0 at EOF.
    async fn fill(&mut self) -> Result<usize, HttpError> {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
        let mut tmp = [0u8; 8192];
        let n = self
            .io
            .read(&mut tmp)
            .await
            .map_err(|e| HttpError::Io(e.to_string()))?;
        self.buf.extend_from_slice(&tmp[..n]);
        Ok(n)
    }

    async fn read_head(&mut self, max: usize) -> Result<(u16, Vec<(String, String)>), HttpError> {
        let end = loop {
            if let Some(i) = find(&self.buf[self.pos..], b"\r\n\r\n") {
                break self.pos + i;
            }
            if self.buf.len() - self.pos > max {
                return Err(HttpError::HeadersTooLarge(max));
            }
            let got = &self.buf[self.pos..];
            if !got.is_empty() && !b"HTTP/".starts_with(&got[..got.len().min(5)]) {
                let start = String::from_utf8_lossy(&got[..got.len().min(40)]).into_owned();
                return Err(HttpError::Malformed(format!(
                    "not an HTTP response: {:?}",
                    start
                )));
            }
            if self.fill().await? == 0 {
                return Err(HttpError::Malformed(
                    "connection closed before the end of the headers".into(),
                ));
            }
        };
        if end - self.pos > max {
            return Err(HttpError::HeadersTooLarge(max));
        }
        let head = String::from_utf8_lossy(&self.buf[self.pos..end]).into_owned();
        self.pos = end + 4;
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let mut parts = status_line.splitn(3, ' ');
        let proto = parts.next().unwrap_or_default();
        if !proto.starts_with("HTTP/1.") {
            return Err(HttpError::Malformed(format!(
                "status line {:?}",
                truncate(status_line, 80)
            )));
        }
        let status = parts
            .next()
            .and_then(|s| s.parse::<u16>().ok())
            .ok_or_else(|| {
                HttpError::Malformed(format!("status line {:?}", truncate(status_line, 80)))
            })?;
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        Ok((status, headers))
    }

    async fn read_exact_body(&mut self, n: usize) -> Result<Vec<u8>, HttpError> {
        while self.buf.len() - self.pos < n {
            if self.fill().await? == 0 {
                break;
            }
        }
        let take = n.min(self.buf.len() - self.pos);
        Ok(self.buf[self.pos..self.pos + take].to_vec())
    }

    async fn read_to_end(&mut self, max: usize) -> Result<Vec<u8>, HttpError> {
        loop {
            if self.buf.len() - self.pos > max {
                return Err(HttpError::BodyTooLarge(max));
            }
            if self.fill().await? == 0 {
                return Ok(self.buf[self.pos..].to_vec());
            }
        }
    }

    async fn read_line(&mut self) -> Result<String, HttpError> {
        loop {
            if let Some(i) = find(&self.buf[self.pos..], b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[self.pos..self.pos + i]).into_owned();
                self.pos += i + 2;
                return Ok(line);
            }
            if self.buf.len() - self.pos > 4096 {
                return Err(HttpError::Malformed("chunk size line too long".into()));
            }
            if self.fill().await? == 0 {
                return Err(HttpError::Malformed(
                    "connection closed inside a chunked body".into(),
                ));
            }
        }
    }

    async fn read_chunked(&mut self, max: usize) -> Result<Vec<u8>, HttpError> {
        let mut out = Vec::new();
        loop {
            let line = self.read_line().await?;
            let size_text = line.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size_text, 16).map_err(|_| {
                HttpError::Malformed(format!("chunk size {:?}", truncate(size_text, 20)))
            })?;
            if size == 0 {
                return Ok(out);
            }
            if out.len() + size > max {
                return Err(HttpError::BodyTooLarge(max));
            }
            while self.buf.len() - self.pos < size + 2 {
                if self.fill().await? == 0 {
                    return Err(HttpError::Malformed(
                        "connection closed inside a chunk".into(),
                    ));
                }
            }
            out.extend_from_slice(&self.buf[self.pos..self.pos + size]);
            self.pos += size + 2;
            if self.pos > 65536 {
                self.buf.drain(..self.pos);
                self.pos = 0;
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn truncate(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
