//! What a check points at: a URL, a host name or an IP address, normalised once.

use std::net::IpAddr;
use url::Url;

/// Why a target string was rejected.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    /// The text is not a URL, host name or IP address.
    #[error("target {input:?} is not a URL, host or IP: {reason}")]
    Invalid {
        /// The text given.
        input: String,
        /// Why it was rejected.
        reason: String,
    },
}

/// A normalised target. Web checks use `url`; host checks (ports, DNS) use `host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The text the user or scheduler gave.
    pub input: String,
    /// The URL web checks start from (`http://host/` when only a host was given).
    pub url: Url,
    /// Host name or IP literal, without brackets.
    pub host: String,
    /// Whether the input was a bare host or IP (no scheme), which enables port checks by default.
    pub bare_host: bool,
}

impl Target {
    /// Parses `input`: `http(s)://…` URLs, `host[:port]`, or IPv4/IPv6 literals.
    pub fn parse(input: &str) -> Result<Target, TargetError> {
        let err = |reason: &str| TargetError::Invalid {
            input: input.to_string(),
            reason: reason.to_string(),
        };
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(err("empty"));
        }
        let (text, bare) = if trimmed.contains("://") {
            (trimmed.to_string(), false)
        } else if let Ok(IpAddr::V6(v6)) = trimmed.parse::<IpAddr>() {
            (format!("http://[{v6}]/"), true)
        } else {
            (format!("http://{trimmed}/"), true)
        };
        let url = Url::parse(&text).map_err(|e| err(&e.to_string()))?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(err("only http and https URLs are supported"));
        }
        let host = match url.host() {
            Some(url::Host::Domain(d)) => d.to_string(),
            Some(url::Host::Ipv4(v4)) => v4.to_string(),
            Some(url::Host::Ipv6(v6)) => v6.to_string(),
            None => return Err(err("no host")),
        };
        Ok(Target {
            input: input.to_string(),
            url,
            host,
            bare_host: bare,
        })
    }

    /// The key used in finding dedup keys: scheme, host and port of the URL.
    pub fn key(&self) -> String {
        format!(
            "{}://{}:{}",
            self.url.scheme(),
            self.host,
            self.url.port_or_known_default().unwrap_or(0)
        )
    }

    /// The host as an IP address, if it is one.
    pub fn ip(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }

    /// The domain name (not an IP), for DNS, backup-name and SNI use.
    pub fn domain(&self) -> Option<&str> {
        if self.ip().is_some() {
            None
        } else {
            Some(&self.host)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls_hosts_and_ips() {
        let t = Target::parse("https://example.gov.cn:8443/a").unwrap();
        assert_eq!(t.host, "example.gov.cn");
        assert_eq!(t.key(), "https://example.gov.cn:8443");
        assert!(!t.bare_host);
        let t = Target::parse("example.org").unwrap();
        assert!(t.bare_host);
        assert_eq!(t.url.as_str(), "http://example.org/");
        let t = Target::parse("::1").unwrap();
        assert_eq!(t.host, "::1");
        assert!(t.ip().is_some());
        assert!(Target::parse("ftp://x").is_err());
        assert!(Target::parse("").is_err());
    }
}
