//! Check components: each is configured by a serde struct (with its own schedule), built into a
//! runtime struct implementing [`Check`], and run by the scheduler or the CLI.

pub mod availability;
pub mod cert;
pub mod content;
pub mod dns;
pub mod exposure;
pub mod fingerprint;
pub mod headers;
pub mod links;
pub mod ports;
pub mod tls;

use rustls::pki_types::CertificateDer;
use serde::{Deserialize, Serialize};

use crate::http::{HttpClient, HttpLimits};
use crate::model::Check;

/// Errors building the checks from configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// An extra CA file could not be read or parsed.
    #[error("CA file {path}: {reason}")]
    Ca {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A configuration value is invalid.
    #[error("check {check}: {reason}")]
    Invalid {
        /// Which check.
        check: &'static str,
        /// Why.
        reason: String,
    },
}

/// What every check shares at run time: the bounded HTTP client and extra trusted CAs.
#[derive(Debug, Clone)]
pub struct Env {
    /// The HTTP client with its limits.
    pub client: HttpClient,
    /// CA certificates trusted in addition to the Mozilla roots.
    pub extra_roots: Vec<CertificateDer<'static>>,
}

impl Env {
    /// An environment with the given limits and no extra CAs.
    pub fn new(limits: HttpLimits) -> Self {
        Env {
            client: HttpClient::new(limits),
            extra_roots: Vec::new(),
        }
    }

    /// Adds the CA certificates found in PEM text; `origin` names the source in errors.
    pub fn add_ca_pem(&mut self, pem: &str, origin: &str) -> Result<(), ConfigError> {
        let mut reader = std::io::Cursor::new(pem.as_bytes());
        let mut n = 0;
        for item in rustls_pemfile::certs(&mut reader) {
            let cert = item.map_err(|e| ConfigError::Ca {
                path: origin.into(),
                reason: e.to_string(),
            })?;
            self.extra_roots.push(cert);
            n += 1;
        }
        if n == 0 {
            return Err(ConfigError::Ca {
                path: origin.into(),
                reason: "no PEM CERTIFICATE block found".into(),
            });
        }
        Ok(())
    }
}

/// Configuration of one check component (`type` selects the check).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CheckConfig {
    /// Reachability, latency, redirects.
    Availability(availability::AvailabilityConfig),
    /// Security headers scored by the Observatory algorithm.
    Headers(headers::HeadersConfig),
    /// Protocols, ciphers, certificate, grade.
    Tls(tls::TlsCheckConfig),
    /// Sensitive files and directory listings.
    Exposure(exposure::ExposureConfig),
    /// Hidden links, script links, cloaking.
    Links(links::LinksConfig),
    /// Defacement against a baseline and signatures.
    Content(content::ContentConfig),
    /// Risky open ports.
    Ports(ports::PortsConfig),
    /// DNS and mail records.
    Dns(dns::DnsConfig),
    /// Software fingerprint.
    Fingerprint(fingerprint::FingerprintConfig),
}

impl CheckConfig {
    /// Builds the runtime check.
    pub fn build(&self, env: &Env) -> Result<Box<dyn Check>, ConfigError> {
        Ok(match self {
            CheckConfig::Availability(c) => Box::new(c.build(env)),
            CheckConfig::Headers(c) => Box::new(c.build(env)),
            CheckConfig::Tls(c) => Box::new(c.build(env)),
            CheckConfig::Exposure(c) => Box::new(c.build(env)),
            CheckConfig::Links(c) => Box::new(c.build(env)),
            CheckConfig::Content(c) => Box::new(c.build(env)),
            CheckConfig::Ports(c) => Box::new(c.build()?),
            CheckConfig::Dns(c) => Box::new(c.build()?),
            CheckConfig::Fingerprint(c) => Box::new(c.build(env)),
        })
    }
}

/// The full suite with default settings, in order of value.
pub fn default_suite() -> Vec<CheckConfig> {
    vec![
        CheckConfig::Availability(Default::default()),
        CheckConfig::Headers(Default::default()),
        CheckConfig::Tls(Default::default()),
        CheckConfig::Exposure(Default::default()),
        CheckConfig::Links(Default::default()),
        CheckConfig::Content(Default::default()),
        CheckConfig::Ports(Default::default()),
        CheckConfig::Dns(Default::default()),
        CheckConfig::Fingerprint(Default::default()),
    ]
}

/// Builds every check in `configs`.
pub fn build_suite(configs: &[CheckConfig], env: &Env) -> Result<Vec<Box<dyn Check>>, ConfigError> {
    configs.iter().map(|c| c.build(env)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Schedule;

    #[test]
    fn suite_round_trips_through_json_and_builds() {
        let text = serde_json::to_string(&default_suite()).unwrap();
        let back: Vec<CheckConfig> = serde_json::from_str(&text).unwrap();
        let suite = build_suite(&back, &Env::new(HttpLimits::default())).unwrap();
        let ids: Vec<&str> = suite.iter().map(|c| c.id()).collect();
        assert_eq!(
            ids,
            [
                "availability",
                "headers",
                "tls",
                "exposure",
                "links",
                "content",
                "ports",
                "dns",
                "fingerprint"
            ]
        );
        // Partial configuration: unspecified fields take their defaults.
        let one: CheckConfig = serde_json::from_str(r#"{"type":"availability","retries":5,"schedule":{"interval_secs":60,"timeout_ms":9000}}"#).unwrap();
        let check = one.build(&Env::new(HttpLimits::default())).unwrap();
        assert_eq!(check.schedule(), Schedule::new(60, 9000));
        // Bad values are refused with the check named.
        let bad: CheckConfig = serde_json::from_str(r#"{"type":"ports","concurrency":0}"#).unwrap();
        let err = bad
            .build(&Env::new(HttpLimits::default()))
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("ports") && err.contains("concurrency"),
            "{err}"
        );
        let err = serde_json::from_str::<CheckConfig>(r#"{"type":"nope"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("nope"), "{err}");
        let mut env = Env::new(HttpLimits::default());
        assert!(
            env.add_ca_pem("not a certificate", "ca.pem")
                .unwrap_err()
                .to_string()
                .contains("ca.pem")
        );
    }
}
