//! The lab's certificate authority and the leaf certificates its TLS sites present.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

use super::LabError;

/// What is wrong with a lab certificate, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertFlaw {
    /// Valid for a year, issued by the lab CA, names 127.0.0.1.
    None,
    /// Expired ten days ago.
    Expired,
    /// Self-signed, not from the lab CA.
    SelfSigned,
    /// Issued for `wrong.example`, not 127.0.0.1.
    WrongHost,
    /// Expires in `n` days.
    ExpiresIn(i64),
}

/// The lab CA: signs every leaf except the self-signed one.
pub struct LabCa {
    issuer: Issuer<'static, KeyPair>,
    /// The CA certificate in PEM, for `--ca`.
    pub pem: String,
}

impl std::fmt::Debug for LabCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LabCa")
    }
}

fn err(e: rcgen::Error) -> LabError {
    LabError::Cert(e.to_string())
}

impl LabCa {
    /// A fresh CA valid from a year ago to ten years ahead.
    pub fn new() -> Result<Self, LabError> {
        let key = KeyPair::generate().map_err(err)?;
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        params
            .distinguished_name
            .push(DnType::CommonName, "taishi lab CA");
        params
            .distinguished_name
            .push(DnType::OrganizationName, "taishi lab");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(365);
        params.not_after = now + Duration::days(3650);
        let cert = params.self_signed(&key).map_err(err)?;
        Ok(LabCa {
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        })
    }

    /// A leaf certificate and key with the given flaw, for host `127.0.0.1` (unless `WrongHost`).
    pub fn leaf(
        &self,
        flaw: CertFlaw,
    ) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), LabError> {
        let key = KeyPair::generate().map_err(err)?;
        let names = match flaw {
            CertFlaw::WrongHost => vec!["wrong.example".to_string()],
            _ => vec!["127.0.0.1".to_string(), "localhost".to_string()],
        };
        let mut params = CertificateParams::new(names).map_err(err)?;
        params
            .distinguished_name
            .push(DnType::CommonName, "taishi lab site");
        let now = OffsetDateTime::now_utc();
        let (nb, na) = match flaw {
            CertFlaw::Expired => (now - Duration::days(400), now - Duration::days(10)),
            CertFlaw::ExpiresIn(d) => (
                now - Duration::days(80),
                now + Duration::days(d) + Duration::hours(1),
            ),
            _ => (now - Duration::days(30), now + Duration::days(335)),
        };
        params.not_before = nb;
        params.not_after = na;
        let cert = match flaw {
            CertFlaw::SelfSigned => params.self_signed(&key).map_err(err)?,
            _ => params.signed_by(&key, &self.issuer).map_err(err)?,
        };
        let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        Ok((vec![cert.der().clone()], key_der))
    }
}
