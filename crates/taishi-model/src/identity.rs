//! Normalised asset identities: one spelling per asset, so re-import matches and attribution finds it.

use crate::enums::AssetKind;
use ipnet::IpNet;
use std::net::IpAddr;

/// Normalises `raw` as an identity of `kind`, or says what is wrong with it.
///
/// - website: `http(s)://host[:port]/path`, scheme and host lower-cased, default port and fragment dropped,
///   empty path written `/`;
/// - domain: lower-cased, trailing dot dropped; a leading `*.` marks a wildcard covering all subdomains;
/// - ip: canonical text of the address (`::ffff:1.2.3.4` style kept as parsed);
/// - cidr: canonical network text; host bits must be zero;
/// - system: the trimmed name.
pub fn normalize(kind: AssetKind, raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    match kind {
        AssetKind::Website => normalize_url(raw),
        AssetKind::Domain => normalize_domain(raw),
        AssetKind::Ip => raw
            .parse::<IpAddr>()
            .map(|a| a.to_string())
            .map_err(|_| format!("{raw:?} is not an IPv4 or IPv6 address")),
        AssetKind::Cidr => {
            let net: IpNet = raw
                .parse()
                .map_err(|_| format!("{raw:?} is not a CIDR range like 10.1.0.0/16"))?;
            if net.trunc() != net {
                return Err(format!(
                    "{raw:?} has host bits set; did you mean {}?",
                    net.trunc()
                ));
            }
            Ok(net.to_string())
        }
        AssetKind::System => {
            if raw.is_empty() || raw.chars().count() > 200 || raw.chars().any(char::is_control) {
                Err("a system name must be 1 to 200 characters without control characters".into())
            } else {
                Ok(raw.to_owned())
            }
        }
    }
}

fn normalize_domain(raw: &str) -> Result<String, String> {
    let d = raw.trim_end_matches('.').to_lowercase();
    let (wild, body) = match d.strip_prefix("*.") {
        Some(b) => (true, b),
        None => (false, d.as_str()),
    };
    check_host_name(body).map_err(|m| format!("{raw:?} is not a domain name: {m}"))?;
    if body.parse::<IpAddr>().is_ok() {
        return Err(format!("{raw:?} is an address: register it as kind ip"));
    }
    Ok(if wild {
        format!("*.{body}")
    } else {
        body.to_owned()
    })
}

/// Checks a DNS host name: labels of 1–63 letters, digits, `-` or `_` (any script), 253 characters at most.
fn check_host_name(h: &str) -> Result<(), &'static str> {
    if h.is_empty() || h.len() > 253 {
        return Err("must be 1 to 253 characters");
    }
    for label in h.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err("every label must be 1 to 63 characters");
        }
        if !label
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
        {
            return Err("labels may contain only letters, digits, '-' and '_'");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("labels must not start or end with '-'");
        }
    }
    Ok(())
}

fn normalize_url(raw: &str) -> Result<String, String> {
    let bad = |m: &str| format!("{raw:?} is not a web site URL: {m}");
    let lower = raw.to_ascii_lowercase();
    let (scheme, rest) = if lower.starts_with("https://") {
        ("https", &raw[8..])
    } else if lower.starts_with("http://") {
        ("http", &raw[7..])
    } else {
        return Err(bad("must start with http:// or https://"));
    };
    let rest = rest.split('#').next().unwrap_or("");
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(split);
    if authority.contains('@') {
        return Err(bad("must not contain user information"));
    }
    let (host, port) = split_host_port(authority).ok_or_else(|| bad("bad host or port"))?;
    let host = host.trim_end_matches('.').to_lowercase();
    if host.starts_with('[') {
        host[1..host.len() - 1]
            .parse::<std::net::Ipv6Addr>()
            .map_err(|_| bad("bad IPv6 address"))?;
    } else if host.parse::<IpAddr>().is_err() {
        check_host_name(&host).map_err(bad)?;
    }
    let default_port = if scheme == "https" { 443 } else { 80 };
    let port = match port {
        Some(p) if p != default_port => format!(":{p}"),
        _ => String::new(),
    };
    let tail = if tail.is_empty() || tail.starts_with('?') {
        format!("/{tail}")
    } else {
        tail.to_owned()
    };
    if tail.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("must not contain spaces"));
    }
    Ok(format!("{scheme}://{host}{port}{tail}"))
}

fn split_host_port(authority: &str) -> Option<(&str, Option<u16>)> {
    if authority.is_empty() {
        return None;
    }
    if authority.starts_with('[') {
        let end = authority.find(']')?;
        let (h, rest) = authority.split_at(end + 1);
        return match rest.strip_prefix(':') {
            Some(p) => Some((h, Some(p.parse().ok()?))),
            None if rest.is_empty() => Some((h, None)),
            None => None,
        };
    }
    match authority.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() => Some((h, Some(p.parse().ok()?))),
        Some(_) => None,
        None => Some((authority, None)),
    }
}

/// The host of a normalised website URL (without brackets for IPv6), for attribution.
pub fn website_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    let (host, _) = split_host_port(authority)?;
    Some(host.trim_start_matches('[').trim_end_matches(']'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_each_kind() {
        let n = |k, s| normalize(k, s);
        assert_eq!(
            n(AssetKind::Website, "HTTPS://WWW.Example.GOV.cn:443").unwrap(),
            "https://www.example.gov.cn/"
        );
        assert_eq!(
            n(AssetKind::Website, "http://a.cn:8080/x?y#z").unwrap(),
            "http://a.cn:8080/x?y"
        );
        assert_eq!(
            n(AssetKind::Website, "http://[::1]:80/").unwrap(),
            "http://[::1]/"
        );
        assert!(n(AssetKind::Website, "ftp://a.cn").is_err());
        assert!(n(AssetKind::Website, "http://u@a.cn").is_err());
        assert_eq!(
            n(AssetKind::Domain, "*.Example.CN.").unwrap(),
            "*.example.cn"
        );
        assert_eq!(n(AssetKind::Domain, "政府.中国").unwrap(), "政府.中国");
        assert!(n(AssetKind::Domain, "a..b").is_err());
        assert!(n(AssetKind::Domain, "1.2.3.4").is_err());
        assert_eq!(n(AssetKind::Ip, " 2001:DB8::1 ").unwrap(), "2001:db8::1");
        assert!(n(AssetKind::Ip, "1.2.3").is_err());
        assert_eq!(n(AssetKind::Cidr, "10.0.0.0/8").unwrap(), "10.0.0.0/8");
        assert!(
            n(AssetKind::Cidr, "10.0.0.1/8")
                .unwrap_err()
                .contains("10.0.0.0/8")
        );
        assert!(n(AssetKind::System, "").is_err());
    }

    #[test]
    fn host_of_website() {
        assert_eq!(website_host("https://www.a.cn/x"), Some("www.a.cn"));
        assert_eq!(
            website_host("http://[2001:db8::1]:8080/"),
            Some("2001:db8::1")
        );
        assert_eq!(website_host("http://1.2.3.4?q"), Some("1.2.3.4"));
    }
}
