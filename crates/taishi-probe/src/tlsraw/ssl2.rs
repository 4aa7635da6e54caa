//! SSL 2.0: a hand-made CLIENT-HELLO and a bounds-checked SERVER-HELLO parser, to learn whether a
//! server still speaks SSLv2 (SSL Labs caps such a server at F). Nothing past the SERVER-HELLO
//! is exchanged. Record layout and message fields follow the SSL 2.0 draft
//! (draft-hickman-netscape-ssl-00): a 2-byte header with the top bit set carries a 15-bit length.

use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// SSL 2.0 wire version (as listed among accepted protocols).
pub const SSL2: u16 = 0x0002;

/// CLIENT-HELLO message type.
const CLIENT_HELLO: u8 = 1;
/// SERVER-HELLO message type.
const SERVER_HELLO: u8 = 4;

/// The SSLv2 cipher specs offered (3 bytes each): RC4_128_WITH_MD5, RC4_128_EXPORT40_WITH_MD5,
/// RC2_128_CBC_WITH_MD5, RC2_128_CBC_EXPORT40_WITH_MD5, IDEA_128_CBC_WITH_MD5,
/// DES_64_CBC_WITH_MD5, DES_192_EDE3_CBC_WITH_MD5.
pub const CIPHER_SPECS: [u32; 7] = [
    0x01_00_80, 0x02_00_80, 0x03_00_80, 0x04_00_80, 0x05_00_80, 0x06_00_40, 0x07_00_c0,
];

/// Largest record body a 2-byte header can announce.
const MAX_RECORD: usize = 0x7fff;

/// Builds an SSLv2 CLIENT-HELLO record offering `specs`, no session id and a 16-byte challenge.
pub fn client_hello(specs: &[u32]) -> Vec<u8> {
    let mut body = vec![CLIENT_HELLO];
    body.extend_from_slice(&SSL2.to_be_bytes());
    body.extend_from_slice(&((specs.len() * 3) as u16).to_be_bytes());
    body.extend_from_slice(&0u16.to_be_bytes()); // session id length
    body.extend_from_slice(&16u16.to_be_bytes()); // challenge length
    // Challenge: a fixed pattern, nothing is derived from it.
    seal(body, specs, 29, 3)
}

/// Appends `specs` and a 16-byte pattern (challenge or connection id) to `body` and wraps it in
/// a record with a 2-byte header.
fn seal(mut body: Vec<u8>, specs: &[u32], mul: u8, add: u8) -> Vec<u8> {
    for s in specs {
        body.extend_from_slice(&s.to_be_bytes()[1..]);
    }
    body.extend((0u8..16).map(|i| i.wrapping_mul(mul).wrapping_add(add)));
    let mut out = (0x8000 | body.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(&body);
    out
}

/// What an SSLv2 SERVER-HELLO says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    /// Version the server announces (0x0002 for SSL 2.0).
    pub version: u16,
    /// Cipher specs the server supports among those offered.
    pub cipher_specs: Vec<u32>,
    /// Length of the certificate it sent.
    pub certificate_len: usize,
}

/// The body of an SSLv2 record with a 2-byte header, or `None` when `rec` is not one (a TLS
/// record starts with a byte under 0x80) or is truncated.
fn record_body(rec: &[u8]) -> Option<&[u8]> {
    let (&b0, &b1) = (rec.first()?, rec.get(1)?);
    if b0 & 0x80 == 0 {
        return None;
    }
    let len = usize::from(b0 & 0x7f) << 8 | usize::from(b1);
    rec.get(2..2 + len)
}

/// Parses an SSLv2 SERVER-HELLO record. `None` for anything else: a TLS record, an SSLv2 ERROR,
/// a truncated or inconsistent message, cipher-spec bytes that are not a multiple of three.
pub fn parse_server_hello(rec: &[u8]) -> Option<ServerHello> {
    let body = record_body(rec)?;
    let u16_at = |i: usize| body.get(i..i + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    if *body.first()? != SERVER_HELLO {
        return None;
    }
    // type, session-id-hit, certificate type, version, certificate length, cipher-specs length,
    // connection-id length; then the three variable fields in that order.
    let version = u16_at(3)?;
    let (cert_len, specs_len, conn_len) = (
        usize::from(u16_at(5)?),
        usize::from(u16_at(7)?),
        usize::from(u16_at(9)?),
    );
    if specs_len % 3 != 0 || 11 + cert_len + specs_len + conn_len > body.len() {
        return None;
    }
    let specs = body.get(11 + cert_len..11 + cert_len + specs_len)?;
    let cipher_specs = specs
        .chunks_exact(3)
        .map(|c| u32::from_be_bytes([0, c[0], c[1], c[2]]))
        .collect();
    Some(ServerHello {
        version,
        cipher_specs,
        certificate_len: cert_len,
    })
}

/// Builds an SSLv2 SERVER-HELLO choosing `specs`, with `certificate` (DER) and a 16-byte
/// connection id (lab side).
pub fn server_hello(specs: &[u32], certificate: &[u8]) -> Vec<u8> {
    let mut body = vec![SERVER_HELLO, 0, 1]; // no session hit, X.509 certificate
    body.extend_from_slice(&SSL2.to_be_bytes());
    body.extend_from_slice(&(certificate.len() as u16).to_be_bytes());
    body.extend_from_slice(&((specs.len() * 3) as u16).to_be_bytes());
    body.extend_from_slice(&16u16.to_be_bytes());
    body.extend_from_slice(certificate);
    seal(body, specs, 7, 1)
}

/// Parses an SSLv2 CLIENT-HELLO record into its cipher specs (lab side). `None` when `rec` is
/// not one.
pub fn parse_client_hello(rec: &[u8]) -> Option<Vec<u32>> {
    let body = record_body(rec)?;
    let u16_at = |i: usize| {
        body.get(i..i + 2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
    };
    if *body.first()? != CLIENT_HELLO || u16_at(1)? < usize::from(SSL2) {
        return None;
    }
    let specs_len = u16_at(3)?;
    if specs_len % 3 != 0 {
        return None;
    }
    let specs = body.get(9..9 + specs_len)?;
    Some(
        specs
            .chunks_exact(3)
            .map(|c| u32::from_be_bytes([0, c[0], c[1], c[2]]))
            .collect(),
    )
}

/// Reads one SSLv2 record with a 2-byte header from `io`. Errors with `InvalidData` when the
/// first byte is not an SSLv2 header (e.g. a TLS alert).
pub async fn read_record<R: AsyncRead + Unpin>(io: &mut R) -> std::io::Result<Vec<u8>> {
    let mut head = [0u8; 2];
    io.read_exact(&mut head).await?;
    if head[0] & 0x80 == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not an SSLv2 record",
        ));
    }
    let len = usize::from(u16::from_be_bytes(head) & 0x7fff).min(MAX_RECORD);
    let mut rec = head.to_vec();
    rec.resize(2 + len, 0);
    io.read_exact(&mut rec[2..]).await?;
    Ok(rec)
}

/// Sends an SSLv2 CLIENT-HELLO to `host:port` and returns the SERVER-HELLO when the server
/// answers with SSL 2.0 and at least one cipher spec, within `timeout`.
pub async fn probe(host: &str, port: u16, timeout: Duration) -> Option<ServerHello> {
    let work = async {
        let (mut tcp, _) = crate::net::connect(host, port, timeout).await.ok()?;
        tcp.write_all(&client_hello(&CIPHER_SPECS)).await.ok()?;
        let rec = read_record(&mut tcp).await.ok()?;
        parse_server_hello(&rec).filter(|h| h.version == SSL2 && !h.cipher_specs.is_empty())
    };
    tokio::time::timeout(timeout, work).await.ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hellos_round_trip() {
        let ch = client_hello(&CIPHER_SPECS);
        assert_eq!(ch[0] & 0x80, 0x80);
        assert_eq!(
            usize::from(u16::from_be_bytes([ch[0], ch[1]]) & 0x7fff),
            ch.len() - 2
        );
        assert_eq!(parse_client_hello(&ch), Some(CIPHER_SPECS.to_vec()));
        let sh = server_hello(&[0x01_00_80, 0x07_00_c0], &[0x30, 0x82, 1, 2]);
        assert_eq!(
            parse_server_hello(&sh),
            Some(ServerHello {
                version: SSL2,
                cipher_specs: vec![0x01_00_80, 0x07_00_c0],
                certificate_len: 4
            })
        );
    }

    #[test]
    fn non_ssl2_answers_are_rejected() {
        assert_eq!(parse_server_hello(&crate::tlsraw::alert(70)), None);
        assert_eq!(
            parse_server_hello(b"HTTP/1.1 400 Bad Request\r\n\r\n"),
            None
        );
        assert_eq!(parse_server_hello(&[]), None);
        // An SSLv2 ERROR message (type 0) is not a hello.
        assert_eq!(parse_server_hello(&[0x80, 3, 0, 0, 1]), None);
        let sh = server_hello(&[0x01_00_80], b"cert");
        // Truncated by one byte: the connection id no longer fits.
        let mut cut = sh[..sh.len() - 1].to_vec();
        cut[1] -= 1;
        assert_eq!(parse_server_hello(&cut), None);
        // Cipher-spec length not a multiple of three.
        let mut odd = sh.clone();
        odd[10] = 2;
        assert_eq!(parse_server_hello(&odd), None);
        // A TLS ClientHello is not an SSLv2 CLIENT-HELLO.
        let tls = crate::tlsraw::client_hello(crate::tlsraw::TLS10, &[0x002f], None);
        assert_eq!(parse_client_hello(&tls), None);
    }

    proptest! {
        #[test]
        fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = parse_server_hello(&bytes);
            let _ = parse_client_hello(&bytes);
        }

        #[test]
        fn mutated_hellos_never_panic(pos in 0usize..64, byte in any::<u8>(), cut in 0usize..64) {
            let mut sh = server_hello(&[0x01_00_80, 0x02_00_80], b"certificate");
            let i = pos % sh.len();
            sh[i] = byte;
            sh.truncate(sh.len().saturating_sub(cut % 8));
            let parsed = parse_server_hello(&sh);
            if let Some(h) = parsed {
                prop_assert!(h.cipher_specs.len() * 3 + h.certificate_len <= sh.len());
            }
            let mut ch = client_hello(&CIPHER_SPECS);
            let j = pos % ch.len();
            ch[j] = byte;
            let _ = parse_client_hello(&ch);
        }
    }
}
