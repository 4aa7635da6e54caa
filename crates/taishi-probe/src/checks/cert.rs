//! Facts read from a leaf certificate with x509-parser: names, validity, key, signature.

use serde::Serialize;
use x509_parser::prelude::*;

/// What the leaf certificate says.
#[derive(Debug, Clone, Serialize)]
pub struct CertFacts {
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// Not before, unix seconds.
    pub not_before: i64,
    /// Not after, unix seconds.
    pub not_after: i64,
    /// SAN DNS names and IPs.
    pub names: Vec<String>,
    /// Key algorithm (`RSA`, `EC`, …) and size in bits.
    pub key: (String, u32),
    /// Signature algorithm OID.
    pub signature_oid: String,
}

/// Reads the facts from a DER certificate; `None` when it does not parse.
pub fn cert_facts(der: &[u8]) -> Option<CertFacts> {
    let (_, c) = X509Certificate::from_der(der).ok()?;
    let mut names = Vec::new();
    if let Ok(Some(san)) = c.subject_alternative_name() {
        for n in &san.value.general_names {
            match n {
                GeneralName::DNSName(d) => names.push(d.to_string()),
                GeneralName::IPAddress(b) if b.len() == 4 => {
                    names.push(std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string())
                }
                GeneralName::IPAddress(b) if b.len() == 16 => {
                    let a: [u8; 16] = (*b).try_into().ok()?;
                    names.push(std::net::Ipv6Addr::from(a).to_string())
                }
                _ => {}
            }
        }
    }
    let key = match c.public_key().parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(k)) => ("RSA".to_string(), k.key_size() as u32),
        Ok(x509_parser::public_key::PublicKey::EC(k)) => ("EC".to_string(), k.key_size() as u32),
        Ok(x509_parser::public_key::PublicKey::DSA(_)) => ("DSA".to_string(), 0),
        _ => ("other".to_string(), 0),
    };
    Some(CertFacts {
        subject: c.subject().to_string(),
        issuer: c.issuer().to_string(),
        not_before: c.validity().not_before.timestamp(),
        not_after: c.validity().not_after.timestamp(),
        names,
        key,
        signature_oid: c.signature_algorithm.algorithm.to_id_string(),
    })
}

/// Whether `host` matches one of the certificate names (one-label wildcards allowed).
pub fn name_matches(host: &str, names: &[String]) -> bool {
    let host = host.to_ascii_lowercase();
    names.iter().any(|n| {
        let n = n.to_ascii_lowercase();
        if let Some(rest) = n.strip_prefix("*.") {
            host.split_once('.')
                .is_some_and(|(first, tail)| !first.is_empty() && tail == rest)
        } else {
            n == host
        }
    })
}

/// Whether the signature OID is SHA-1 or MD5 based.
pub fn weak_signature(oid: &str) -> bool {
    matches!(
        oid,
        "1.2.840.113549.1.1.5"
            | "1.2.840.10045.4.1"
            | "1.2.840.113549.1.1.4"
            | "1.2.840.10040.4.3"
            | "1.3.14.3.2.29"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_signatures() {
        let names = vec!["*.example.gov.cn".to_string(), "example.gov.cn".to_string()];
        assert!(name_matches("www.example.gov.cn", &names));
        assert!(name_matches("EXAMPLE.gov.cn", &names));
        assert!(!name_matches("a.b.example.gov.cn", &names));
        assert!(!name_matches("example.org", &names));
        assert!(weak_signature("1.2.840.113549.1.1.5"));
        assert!(!weak_signature("1.2.840.113549.1.1.11"));
        assert!(cert_facts(b"not a certificate").is_none());
    }
}
