//! The client address behind reverse proxies, for the login rate limiter (and anything else keyed by
//! client).
//!
//! `X-Forwarded-For` is believed only when the TCP peer is a configured trusted proxy: then the chain is
//! walked from the right (the hop nearest to us) and the first address that is not a trusted proxy is
//! the client. Everything left of it was written by that client and could be forged. Without trusted
//! proxies (the default) the header is ignored and the peer is the client, so a client cannot pick its
//! own rate-limit bucket by sending the header.

use ipnet::IpNet;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

/// The networks whose connections may speak for a client through `X-Forwarded-For`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

/// A trusted-proxy entry that is neither a CIDR network nor an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("trusted_proxies: {0:?} is not a network (10.0.0.0/8, fd00::/8) or an address")]
pub struct BadProxyEntry(pub String);

impl TrustedProxies {
    /// These networks.
    pub fn new(nets: Vec<IpNet>) -> Self {
        Self(nets)
    }

    /// Parses each entry as a CIDR network or a single address (a /32 or /128).
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, BadProxyEntry> {
        entries
            .iter()
            .map(|e| e.as_ref().trim())
            .filter(|e| !e.is_empty())
            .map(|e| {
                e.parse::<IpNet>()
                    .or_else(|_| e.parse::<IpAddr>().map(IpNet::from))
                    .map(|n| n.trunc())
                    .map_err(|_| BadProxyEntry(e.to_owned()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// True when no proxy is trusted (the header is always ignored).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The configured networks.
    pub fn networks(&self) -> &[IpNet] {
        &self.0
    }

    /// True when `addr` lies in one of the networks (IPv4-mapped IPv6 counts as IPv4).
    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = addr.to_canonical();
        self.0.iter().any(|n| n.contains(&addr))
    }

    /// The client address of a request that arrived from `peer` with these `X-Forwarded-For` header
    /// values (in the order received). The peer itself unless it is trusted; then the rightmost
    /// forwarded address that is not trusted, or — when every hop is trusted or the chain breaks on an
    /// unreadable entry — the last address that could be read.
    pub fn client_address<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl IntoIterator<Item = &'a str>,
    ) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.contains(peer) {
            return peer;
        }
        let hops: Vec<&str> = forwarded_for
            .into_iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Some(addr) = parse_hop(hop) else {
                break;
            };
            client = addr;
            if !self.contains(addr) {
                break;
            }
        }
        client
    }
}

impl FromStr for TrustedProxies {
    type Err = BadProxyEntry;

    /// A comma-separated list, as in `TAISHI_TRUSTED_PROXIES=10.0.0.0/8,192.0.2.7`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(&s.split(',').collect::<Vec<_>>())
    }
}

impl fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join(","))
    }
}

/// One `X-Forwarded-For` entry: an address, maybe with a port (`192.0.2.1:5000`, `[2001:db8::1]:443`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            hop.strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .and_then(|h| h.parse().ok())
        })
        .map(|a: IpAddr| a.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn trusted(s: &str) -> TrustedProxies {
        s.parse().unwrap()
    }

    #[test]
    fn parses_networks_and_addresses() {
        let t = trusted(" 10.0.0.0/8, 192.0.2.7 ,fd00::/8,");
        assert_eq!(t.to_string(), "10.0.0.0/8,192.0.2.7/32,fd00::/8");
        assert!(t.contains(ip("10.200.1.1")) && t.contains(ip("::ffff:10.0.0.1")));
        assert!(!t.contains(ip("192.0.2.8")));
        assert_eq!(
            "10.0.0.0/8,proxy.local".parse::<TrustedProxies>(),
            Err(BadProxyEntry("proxy.local".into()))
        );
        assert!("".parse::<TrustedProxies>().unwrap().is_empty());
        // host bits are dropped: 10.1.2.3/8 means 10.0.0.0/8
        assert_eq!(trusted("10.1.2.3/8").to_string(), "10.0.0.0/8");
    }

    #[test]
    fn header_is_ignored_unless_the_peer_is_trusted() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client_address(ip("203.0.113.9"), ["198.51.100.1"]),
            ip("203.0.113.9")
        );
        let t = trusted("10.0.0.0/8");
        assert_eq!(
            t.client_address(ip("203.0.113.9"), ["198.51.100.1"]),
            ip("203.0.113.9"),
            "an untrusted peer cannot name another client"
        );
    }

    #[test]
    fn rightmost_untrusted_hop_is_the_client() {
        let t = trusted("10.0.0.0/8");
        // the client forged the leftmost entry; the proxies appended the rest
        assert_eq!(
            t.client_address(ip("10.0.0.1"), ["1.1.1.1, 198.51.100.7, 10.0.0.2"]),
            ip("198.51.100.7")
        );
        // several header lines form one list
        assert_eq!(
            t.client_address(ip("10.0.0.1"), ["1.1.1.1", "198.51.100.7:5555, 10.0.0.2"]),
            ip("198.51.100.7")
        );
        assert_eq!(
            t.client_address(ip("10.0.0.1"), ["[2001:db8::5]:443"]),
            ip("2001:db8::5")
        );
        // no header: the proxy itself
        assert_eq!(t.client_address(ip("10.0.0.1"), []), ip("10.0.0.1"));
        // every hop trusted: the leftmost
        assert_eq!(
            t.client_address(ip("10.0.0.1"), ["10.9.9.9, 10.0.0.2"]),
            ip("10.9.9.9")
        );
        // garbage stops the walk at the last readable hop
        assert_eq!(
            t.client_address(ip("10.0.0.1"), ["198.51.100.7, unknown, 10.0.0.2"]),
            ip("10.0.0.2")
        );
    }
}
