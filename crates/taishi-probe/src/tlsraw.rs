//! Hand-made TLS ClientHello and first-record parsing, to learn which protocol versions and
//! cipher suites a server accepts — including SSLv3, TLS 1.0/1.1, RC4, 3DES, EXPORT and NULL,
//! which rustls cannot offer. Nothing is decrypted: the server's first record (ServerHello or
//! alert) is the answer. The lab's legacy servers use the server-side helpers here too. SSL 2.0,
//! whose record format differs, lives in [`ssl2`].

pub mod ssl2;

use std::time::Duration;
use tls_parser::{TlsMessage, TlsMessageHandshake};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// SSL 3.0 wire version.
pub const SSL3: u16 = 0x0300;
/// TLS 1.0 wire version.
pub const TLS10: u16 = 0x0301;
/// TLS 1.1 wire version.
pub const TLS11: u16 = 0x0302;
/// TLS 1.2 wire version.
pub const TLS12: u16 = 0x0303;
/// TLS 1.3 wire version.
pub const TLS13: u16 = 0x0304;

/// A realistic mix of suites (modern, CBC, static RSA, 3DES, RC4) used when only the protocol
/// version is being asked.
pub const BROAD_SUITES: &[u16] = &[
    0xc02f, 0xc030, 0xc02b, 0xc02c, 0xcca8, 0xcca9, 0xc013, 0xc014, 0xc009, 0xc00a, 0x009c, 0x009d,
    0x002f, 0x0035, 0x0033, 0x0039, 0x000a, 0xc012, 0x0016, 0x0005, 0x0004,
];

/// Weak cipher-suite families, each probed on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WeakFamily {
    /// RC4 stream cipher (RFC 7465 forbids it).
    Rc4,
    /// Triple DES (64-bit block, SWEET32).
    TripleDes,
    /// Single DES (56-bit).
    Des,
    /// EXPORT-grade suites (40/56-bit, FREAK/Logjam).
    Export,
    /// NULL encryption.
    Null,
    /// Anonymous key exchange (no authentication).
    Anonymous,
    /// Static-RSA key exchange: no forward secrecy.
    StaticRsa,
}

impl WeakFamily {
    /// Every family, in probe order.
    pub const ALL: [WeakFamily; 7] = [
        WeakFamily::Rc4,
        WeakFamily::TripleDes,
        WeakFamily::Des,
        WeakFamily::Export,
        WeakFamily::Null,
        WeakFamily::Anonymous,
        WeakFamily::StaticRsa,
    ];

    /// IANA ids of the family's suites.
    pub fn suites(self) -> &'static [u16] {
        match self {
            WeakFamily::Rc4 => &[0x0005, 0x0004, 0xc011, 0xc007, 0x0018],
            WeakFamily::TripleDes => &[0x000a, 0xc012, 0xc008, 0x0016, 0x0013, 0x001b],
            WeakFamily::Des => &[0x0009, 0x0015, 0x0012, 0x001a],
            WeakFamily::Export => &[
                0x0003, 0x0006, 0x0008, 0x000b, 0x000e, 0x0011, 0x0014, 0x0017, 0x0019, 0x0062,
                0x0064,
            ],
            WeakFamily::Null => &[
                0x0001, 0x0002, 0x003b, 0xc010, 0xc006, 0x002c, 0x002d, 0x002e,
            ],
            WeakFamily::Anonymous => &[
                0x0034, 0x003a, 0x006c, 0x006d, 0xc018, 0xc019, 0x00a6, 0x00a7,
            ],
            WeakFamily::StaticRsa => &[0x002f, 0x0035, 0x003c, 0x003d, 0x009c, 0x009d],
        }
    }

    /// Effective key strength in bits of the family's bulk cipher, for the cipher-strength score.
    pub fn bits(self) -> u16 {
        match self {
            WeakFamily::Rc4 => 128,
            WeakFamily::TripleDes => 112,
            WeakFamily::Des => 56,
            WeakFamily::Export => 40,
            WeakFamily::Null => 0,
            WeakFamily::Anonymous | WeakFamily::StaticRsa => 128,
        }
    }

    /// Stable name used in finding ids.
    pub fn as_str(self) -> &'static str {
        match self {
            WeakFamily::Rc4 => "rc4",
            WeakFamily::TripleDes => "3des",
            WeakFamily::Des => "des",
            WeakFamily::Export => "export",
            WeakFamily::Null => "null",
            WeakFamily::Anonymous => "anon",
            WeakFamily::StaticRsa => "no_fs",
        }
    }
}

/// Builds a ClientHello record offering exactly `version` and `suites`, with the extensions a
/// modern server expects (SNI, groups, point formats, signature algorithms for TLS 1.2).
pub fn client_hello(version: u16, suites: &[u16], sni: Option<&str>) -> Vec<u8> {
    let mut body = Vec::with_capacity(256);
    body.extend_from_slice(&version.to_be_bytes());
    // Random: fixed pattern is fine, nothing is derived from it.
    body.extend((0u8..32).map(|i| i.wrapping_mul(37).wrapping_add(11)));
    body.push(0); // session id
    let mut all: Vec<u16> = suites.to_vec();
    all.push(0x00ff); // renegotiation SCSV
    body.extend_from_slice(&((all.len() * 2) as u16).to_be_bytes());
    for s in &all {
        body.extend_from_slice(&s.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]); // compression: null
    if version > SSL3 {
        let mut ext = Vec::new();
        if let Some(name) = sni {
            let n = name.as_bytes();
            let mut sn = Vec::new();
            sn.extend_from_slice(&((n.len() + 3) as u16).to_be_bytes());
            sn.push(0);
            sn.extend_from_slice(&(n.len() as u16).to_be_bytes());
            sn.extend_from_slice(n);
            push_ext(&mut ext, 0x0000, &sn);
        }
        push_ext(
            &mut ext,
            0x000a,
            &[0, 6, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18],
        ); // x25519, P-256, P-384
        push_ext(&mut ext, 0x000b, &[1, 0]); // uncompressed points
        if version >= TLS12 {
            let algs: [u16; 9] = [
                0x0403, 0x0503, 0x0804, 0x0805, 0x0401, 0x0501, 0x0201, 0x0203, 0x0806,
            ];
            let mut sa = Vec::new();
            sa.extend_from_slice(&((algs.len() * 2) as u16).to_be_bytes());
            for a in algs {
                sa.extend_from_slice(&a.to_be_bytes());
            }
            push_ext(&mut ext, 0x000d, &sa);
        }
        push_ext(&mut ext, 0xff01, &[0]); // renegotiation_info
        body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        body.extend_from_slice(&ext);
    }
    let mut hs = vec![1u8];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    record(0x16, if version == SSL3 { SSL3 } else { TLS10 }, &hs)
}

fn push_ext(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    out.extend_from_slice(data);
}

/// Wraps `payload` in a TLS record of `content_type`.
pub fn record(content_type: u8, version: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![content_type];
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// What the server answered to one ClientHello.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "answer")]
pub enum HelloAnswer {
    /// A ServerHello choosing this version and suite.
    Accepted {
        /// Version the server chose.
        version: u16,
        /// Suite the server chose.
        suite: u16,
    },
    /// A TLS alert with this description code.
    Alert {
        /// Alert description (40 handshake failure, 70 protocol version, 80 internal error…).
        code: u8,
    },
    /// The connection closed, or the answer was not TLS.
    Closed,
}

/// Reads one TLS record (at most 16 KiB + header) from `io`.
pub async fn read_record<R: AsyncRead + Unpin>(io: &mut R) -> std::io::Result<Vec<u8>> {
    let mut head = [0u8; 5];
    io.read_exact(&mut head).await?;
    let len = u16::from_be_bytes([head[3], head[4]]) as usize;
    if len > 16384 + 2048 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "record too long",
        ));
    }
    let mut rec = head.to_vec();
    rec.resize(5 + len, 0);
    io.read_exact(&mut rec[5..]).await?;
    Ok(rec)
}

/// Interprets the first record a server sent.
pub fn parse_answer(rec: &[u8]) -> HelloAnswer {
    let Ok((_, plain)) = tls_parser::parse_tls_plaintext(rec) else {
        return HelloAnswer::Closed;
    };
    match plain.msg.first() {
        Some(TlsMessage::Handshake(TlsMessageHandshake::ServerHello(sh))) => {
            HelloAnswer::Accepted {
                version: sh.version.0,
                suite: sh.cipher.0,
            }
        }
        Some(TlsMessage::Alert(a)) => HelloAnswer::Alert { code: a.code.0 },
        _ => HelloAnswer::Closed,
    }
}

/// Sends one ClientHello to `host:port` and reports the answer, within `timeout`.
pub async fn probe(
    host: &str,
    port: u16,
    sni: Option<&str>,
    version: u16,
    suites: &[u16],
    timeout: Duration,
) -> HelloAnswer {
    let work = async {
        let (mut tcp, _) = crate::net::connect(host, port, timeout).await.ok()?;
        tcp.write_all(&client_hello(version, suites, sni))
            .await
            .ok()?;
        let rec = read_record(&mut tcp).await.ok()?;
        Some(parse_answer(&rec))
    };
    tokio::time::timeout(timeout, work)
        .await
        .ok()
        .flatten()
        .unwrap_or(HelloAnswer::Closed)
}

/// The parts of a ClientHello a server needs to pick an answer (lab side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelloSummary {
    /// The highest version the client offers (from supported_versions when present).
    pub max_version: u16,
    /// Offered suites.
    pub suites: Vec<u16>,
}

/// Parses a ClientHello record (lab side).
pub fn parse_client_hello(rec: &[u8]) -> Option<HelloSummary> {
    let (_, plain) = tls_parser::parse_tls_plaintext(rec).ok()?;
    let Some(TlsMessage::Handshake(TlsMessageHandshake::ClientHello(ch))) = plain.msg.first()
    else {
        return None;
    };
    let mut max_version = ch.version.0;
    if let Some(ext) = ch.ext
        && let Ok((_, exts)) = tls_parser::parse_tls_client_hello_extensions(ext)
    {
        for e in exts {
            if let tls_parser::TlsExtension::SupportedVersions(vs) = e {
                max_version = vs
                    .iter()
                    .map(|v| v.0)
                    .filter(|v| *v & 0x0f0f == *v)
                    .max()
                    .unwrap_or(max_version);
            }
        }
    }
    Some(HelloSummary {
        max_version,
        suites: ch.ciphers.iter().map(|c| c.0).collect(),
    })
}

/// Builds a bare ServerHello record choosing `version` and `suite` (lab side).
pub fn server_hello(version: u16, suite: u16) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&version.to_be_bytes());
    body.extend((0u8..32).map(|i| i.wrapping_mul(13).wrapping_add(7)));
    body.push(0);
    body.extend_from_slice(&suite.to_be_bytes());
    body.push(0);
    let mut hs = vec![2u8];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    record(0x16, version, &hs)
}

/// Builds the Certificate and ServerHelloDone records that follow a ServerHello (lab side).
pub fn certificate_flight(version: u16, chain: &[Vec<u8>]) -> Vec<u8> {
    let mut list = Vec::new();
    for der in chain {
        list.extend_from_slice(&(der.len() as u32).to_be_bytes()[1..]);
        list.extend_from_slice(der);
    }
    let mut body = (list.len() as u32).to_be_bytes()[1..].to_vec();
    body.extend_from_slice(&list);
    let mut hs = vec![11u8];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut out = Vec::new();
    for piece in hs.chunks(16384) {
        out.extend(record(0x16, version, piece));
    }
    out.extend(record(0x16, version, &[14, 0, 0, 0]));
    out
}

/// The certificate chain (DER, leaf first) a server sends in plaintext after its ServerHello in
/// TLS 1.2 and earlier: one ClientHello, then handshake records are read until ServerHelloDone,
/// at most 16 records and 128 KiB. `None` when the server does not accept or sends no chain.
pub async fn fetch_chain(
    host: &str,
    port: u16,
    sni: Option<&str>,
    version: u16,
    suites: &[u16],
    timeout: Duration,
) -> Option<Vec<Vec<u8>>> {
    let work = async {
        let (mut tcp, _) = crate::net::connect(host, port, timeout).await.ok()?;
        tcp.write_all(&client_hello(version, suites, sni))
            .await
            .ok()?;
        let mut hs = Vec::new();
        for _ in 0..16 {
            let rec = read_record(&mut tcp).await.ok()?;
            if rec[0] != 0x16 || hs.len() > 128 * 1024 {
                return None;
            }
            hs.extend_from_slice(&rec[5..]);
            if let Some(chain) = certificates_in(&hs) {
                return Some(chain);
            }
        }
        None
    };
    tokio::time::timeout(timeout, work).await.ok().flatten()
}

/// Finds a complete Certificate message in concatenated handshake bytes.
pub fn certificates_in(hs: &[u8]) -> Option<Vec<Vec<u8>>> {
    let u24 = |b: &[u8]| (b[0] as usize) << 16 | (b[1] as usize) << 8 | b[2] as usize;
    let mut pos = 0;
    while pos + 4 <= hs.len() {
        let (kind, len) = (hs[pos], u24(&hs[pos + 1..pos + 4]));
        let body = hs.get(pos + 4..pos + 4 + len)?;
        if kind == 11 {
            let total = u24(body.get(..3)?);
            let list = body.get(3..3 + total)?;
            let mut certs = Vec::new();
            let mut i = 0;
            while i + 3 <= list.len() {
                let n = u24(&list[i..i + 3]);
                certs.push(list.get(i + 3..i + 3 + n)?.to_vec());
                i += 3 + n;
            }
            return (!certs.is_empty()).then_some(certs);
        }
        if kind == 14 {
            return None;
        }
        pos += 4 + len;
    }
    None
}

/// Builds a fatal alert record (lab side).
pub fn alert(code: u8) -> Vec<u8> {
    record(0x15, TLS10, &[2, code])
}

/// Human name of a wire version.
pub fn version_name(v: u16) -> &'static str {
    match v {
        ssl2::SSL2 => "SSLv2",
        SSL3 => "SSLv3",
        TLS10 => "TLS 1.0",
        TLS11 => "TLS 1.1",
        TLS12 => "TLS 1.2",
        TLS13 => "TLS 1.3",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_hello_round_trips_through_the_parser() {
        let rec = client_hello(TLS10, &[0x002f, 0x000a], Some("example.org"));
        let s = parse_client_hello(&rec).unwrap();
        assert_eq!(s.max_version, TLS10);
        assert_eq!(s.suites, vec![0x002f, 0x000a, 0x00ff]);
        let rec = client_hello(SSL3, &[0x0005], None);
        assert_eq!(parse_client_hello(&rec).unwrap().max_version, SSL3);
    }

    #[test]
    fn certificate_flight_round_trips() {
        let chain = vec![vec![1u8, 2, 3], vec![4u8; 20_000]];
        let flight = certificate_flight(TLS10, &chain);
        let mut hs = Vec::new();
        let mut rest = flight.as_slice();
        while rest.len() >= 5 {
            let len = u16::from_be_bytes([rest[3], rest[4]]) as usize;
            hs.extend_from_slice(&rest[5..5 + len]);
            rest = &rest[5 + len..];
        }
        assert_eq!(certificates_in(&hs), Some(chain));
        assert_eq!(certificates_in(&hs[..100]), None, "incomplete message");
        assert_eq!(certificates_in(&[14, 0, 0, 0]), None);
        assert_eq!(
            certificates_in(&[11, 0xff, 0xff, 0xff, 0]),
            None,
            "length beyond the data"
        );
    }

    #[test]
    fn answers_parse() {
        assert_eq!(
            parse_answer(&server_hello(TLS11, 0x0035)),
            HelloAnswer::Accepted {
                version: TLS11,
                suite: 0x0035
            }
        );
        assert_eq!(parse_answer(&alert(70)), HelloAnswer::Alert { code: 70 });
        assert_eq!(
            parse_answer(b"HTTP/1.1 400 Bad Request\r\n\r\n"),
            HelloAnswer::Closed
        );
        assert_eq!(parse_answer(&[]), HelloAnswer::Closed);
    }
}
