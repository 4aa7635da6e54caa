//! Attribution: which org owns an IP address or a host name, by the most specific registered IP, CIDR
//! range, website host or domain. Pure data structures, no I/O: build an [`AttributionIndex`] from
//! [`crate::RegistryStore::attribution_entries`] and swap it in an [`AttributionHandle`] when the
//! registry changes.
//!
//! - Addresses go through a binary trie per family (IPv4 and IPv6; IPv4-mapped IPv6 is looked up as
//!   IPv4): the deepest prefix on the path wins, so `10.1.2.3` prefers `10.1.2.0/24` over `10.0.0.0/8`.
//! - Host names go through a trie of reversed labels (`cn` → `gov` → `www`). A registered domain
//!   `example.cn` covers itself and every subdomain; `*.example.cn` covers subdomains only; a website's
//!   host covers exactly that host. The deepest match wins; at equal depth an exact host beats a
//!   covering domain, which beats a wildcard.

use crate::traits::AttributionEntry;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};
use taishi_model::{AssetId, AssetKind, OrgId, identity};

/// The answer to "who owns this?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribution {
    /// The owning org.
    pub org_id: OrgId,
    /// The asset whose registration matched.
    pub asset_id: AssetId,
    /// Its kind.
    pub kind: AssetKind,
    /// Its registered identity (`10.1.0.0/16`, `*.example.cn`, `https://www.example.cn/`).
    pub identity: String,
}

const NONE: u32 = u32::MAX;

/// A binary trie over address bits, nodes in one vector.
#[derive(Debug, Default)]
struct BitTrie {
    child: Vec<[u32; 2]>,
    owner: Vec<(u32, u8)>,
}

impl BitTrie {
    fn new() -> Self {
        Self {
            child: vec![[NONE, NONE]],
            owner: vec![(NONE, 0)],
        }
    }

    fn insert(&mut self, bits: u128, width: u8, len: u8, owner: u32, rank: u8) {
        let mut n = 0usize;
        for i in 0..len {
            let b = ((bits >> (width - 1 - i)) & 1) as usize;
            if self.child[n][b] == NONE {
                self.child.push([NONE, NONE]);
                self.owner.push((NONE, 0));
                self.child[n][b] = (self.child.len() - 1) as u32;
            }
            n = self.child[n][b] as usize;
        }
        let cur = self.owner[n];
        if cur.0 == NONE || rank > cur.1 {
            self.owner[n] = (owner, rank);
        }
    }

    fn longest(&self, bits: u128, width: u8) -> Option<u32> {
        let mut n = 0usize;
        let mut best = self.owner[0].0;
        for i in 0..width {
            let b = ((bits >> (width - 1 - i)) & 1) as usize;
            let next = self.child[n][b];
            if next == NONE {
                break;
            }
            n = next as usize;
            if self.owner[n].0 != NONE {
                best = self.owner[n].0;
            }
        }
        (best != NONE).then_some(best)
    }
}

/// One node of the reversed-label trie.
#[derive(Debug, Default)]
struct LabelNode {
    children: HashMap<Box<str>, u32>,
    /// Matches exactly this name (website host: rank 2; domain: rank 1).
    exact: Option<(u32, u8)>,
    /// Matches every name below this one (registered domain: rank 1; wildcard: rank 0).
    below: Option<(u32, u8)>,
}

/// The prefix structures for fast lookups; immutable once built.
#[derive(Debug)]
pub struct AttributionIndex {
    owners: Vec<AttributionEntry>,
    v4: BitTrie,
    v6: BitTrie,
    names: Vec<LabelNode>,
}

impl Default for AttributionIndex {
    fn default() -> Self {
        Self::build(Vec::new())
    }
}

impl AttributionIndex {
    /// Builds the index. Entries whose identity does not parse (which the store never produces) are
    /// skipped; systems carry no network identity and are ignored.
    pub fn build(entries: Vec<AttributionEntry>) -> Self {
        let mut idx = Self {
            owners: Vec::with_capacity(entries.len()),
            v4: BitTrie::new(),
            v6: BitTrie::new(),
            names: vec![LabelNode::default()],
        };
        for e in entries {
            let o = idx.owners.len() as u32;
            let ok = match e.kind {
                AssetKind::Ip => e
                    .identity
                    .parse::<IpAddr>()
                    .map(|a| idx.insert_ip(a, None, o, 3))
                    .is_ok(),
                AssetKind::Cidr => e
                    .identity
                    .parse::<ipnet::IpNet>()
                    .map(|n| idx.insert_ip(n.addr(), Some(n.prefix_len()), o, 2))
                    .is_ok(),
                AssetKind::Website => match identity::website_host(&e.identity) {
                    Some(h) => match h.parse::<IpAddr>() {
                        Ok(a) => {
                            idx.insert_ip(a, None, o, 1);
                            true
                        }
                        Err(_) => {
                            let node = idx.name_node(h);
                            let slot = &mut idx.names[node].exact;
                            if slot.is_none_or(|(_, r)| r < 2) {
                                *slot = Some((o, 2));
                            }
                            true
                        }
                    },
                    None => false,
                },
                AssetKind::Domain => {
                    let (wild, name) = match e.identity.strip_prefix("*.") {
                        Some(n) => (true, n),
                        None => (false, e.identity.as_str()),
                    };
                    let node = idx.name_node(name);
                    let n = &mut idx.names[node];
                    if wild {
                        if n.below.is_none() {
                            n.below = Some((o, 0));
                        }
                    } else {
                        if n.exact.is_none_or(|(_, r)| r < 1) {
                            n.exact = Some((o, 1));
                        }
                        if n.below.is_none_or(|(_, r)| r < 1) {
                            n.below = Some((o, 1));
                        }
                    }
                    true
                }
                AssetKind::System => false,
            };
            if ok {
                idx.owners.push(e);
            }
        }
        idx
    }

    fn insert_ip(&mut self, addr: IpAddr, len: Option<u8>, owner: u32, rank: u8) {
        match addr {
            IpAddr::V4(a) => {
                self.v4
                    .insert(u32::from(a) as u128, 32, len.unwrap_or(32), owner, rank)
            }
            IpAddr::V6(a) => self
                .v6
                .insert(u128::from(a), 128, len.unwrap_or(128), owner, rank),
        }
    }

    fn name_node(&mut self, name: &str) -> usize {
        let mut n = 0usize;
        for label in name.rsplit('.') {
            n = match self.names[n].children.get(label) {
                Some(&c) => c as usize,
                None => {
                    self.names.push(LabelNode::default());
                    let c = self.names.len() - 1;
                    self.names[n].children.insert(label.into(), c as u32);
                    c
                }
            };
        }
        n
    }

    /// How many registrations the index holds.
    pub fn len(&self) -> usize {
        self.owners.len()
    }

    /// True when nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.owners.is_empty()
    }

    /// The owner of an address.
    pub fn lookup_ip(&self, addr: IpAddr) -> Option<Attribution> {
        let hit = match addr {
            IpAddr::V4(a) => self.v4.longest(u32::from(a) as u128, 32),
            IpAddr::V6(a) => match a.to_ipv4_mapped() {
                Some(v4) => self.v4.longest(u32::from(v4) as u128, 32),
                None => self.v6.longest(u128::from(a), 128),
            },
        };
        hit.map(|o| self.answer(o))
    }

    /// The owner of a host name (case and a trailing dot do not matter).
    pub fn lookup_host(&self, host: &str) -> Option<Attribution> {
        let host = host.trim().trim_end_matches('.');
        let lower;
        let host = if host.bytes().any(|b| b.is_ascii_uppercase()) {
            lower = host.to_ascii_lowercase();
            lower.as_str()
        } else {
            host
        };
        let mut n = 0usize;
        let mut best: Option<u32> = None;
        let mut labels = host.rsplit('.').peekable();
        while let Some(label) = labels.next() {
            match self.names[n].children.get(label) {
                Some(&c) => {
                    let last = labels.peek().is_none();
                    // the parent's "below" covers this name
                    if let Some((o, _)) = self.names[n].below
                        && n != 0
                    {
                        best = Some(o);
                    }
                    n = c as usize;
                    if last && let Some((o, _)) = self.names[n].exact {
                        best = Some(o);
                    }
                }
                None => {
                    if let Some((o, _)) = self.names[n].below
                        && n != 0
                    {
                        best = Some(o);
                    }
                    break;
                }
            }
        }
        best.map(|o| self.answer(o))
    }

    /// The owner of an address, host name or URL, whichever `query` is.
    pub fn lookup(&self, query: &str) -> Option<Attribution> {
        let q = query.trim();
        let host = if q.contains("://") {
            identity::website_host(q)?
        } else {
            q
        };
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        match bare.parse::<IpAddr>() {
            Ok(a) => self.lookup_ip(a),
            Err(_) => self.lookup_host(bare),
        }
    }

    fn answer(&self, o: u32) -> Attribution {
        let e = &self.owners[o as usize];
        Attribution {
            org_id: e.org_id,
            asset_id: e.asset_id,
            kind: e.kind,
            identity: e.identity.clone(),
        }
    }
}

/// A shared, swappable index: readers clone the current `Arc` and never wait for a rebuild.
#[derive(Debug, Default)]
pub struct AttributionHandle {
    current: RwLock<Arc<AttributionIndex>>,
}

impl AttributionHandle {
    /// A handle holding `index`.
    pub fn new(index: AttributionIndex) -> Self {
        Self {
            current: RwLock::new(Arc::new(index)),
        }
    }

    /// The index as of now.
    pub fn get(&self) -> Arc<AttributionIndex> {
        match self.current.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Replaces the index (after the registry changed).
    pub fn replace(&self, index: AttributionIndex) {
        let mut g = match self.current.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        *g = Arc::new(index);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(kind: AssetKind, id: &str, org: i64) -> AttributionEntry {
        AttributionEntry {
            kind,
            identity: id.into(),
            org_id: OrgId(org),
            asset_id: AssetId(org * 100),
        }
    }

    fn idx() -> AttributionIndex {
        AttributionIndex::build(vec![
            e(AssetKind::Cidr, "10.0.0.0/8", 1),
            e(AssetKind::Cidr, "10.1.0.0/16", 2),
            e(AssetKind::Ip, "10.1.2.3", 3),
            e(AssetKind::Cidr, "2001:db8::/32", 4),
            e(AssetKind::Cidr, "2001:db8:1::/48", 5),
            e(AssetKind::Domain, "example.cn", 6),
            e(AssetKind::Domain, "*.dept.example.cn", 7),
            e(AssetKind::Website, "https://www.dept.example.cn/", 8),
            e(AssetKind::Website, "http://192.0.2.7:8080/", 9),
            e(AssetKind::Cidr, "0.0.0.0/0", 10),
            e(AssetKind::Domain, "*.wild.cn", 11),
        ])
    }

    fn org(i: &AttributionIndex, q: &str) -> Option<i64> {
        i.lookup(q).map(|a| a.org_id.0)
    }

    #[test]
    fn most_specific_prefix_wins() {
        let i = idx();
        assert_eq!(org(&i, "10.1.2.3"), Some(3));
        assert_eq!(org(&i, "10.1.2.4"), Some(2));
        assert_eq!(org(&i, "10.200.0.1"), Some(1));
        assert_eq!(
            org(&i, "11.0.0.1"),
            Some(10),
            "the default route catches the rest"
        );
        assert_eq!(
            org(&i, "::ffff:10.1.2.3"),
            Some(3),
            "IPv4-mapped IPv6 is IPv4"
        );
        assert_eq!(org(&i, "2001:db8:1::9"), Some(5));
        assert_eq!(org(&i, "[2001:db8:2::9]"), Some(4));
        assert_eq!(org(&i, "2001:db9::1"), None);
        assert_eq!(org(&i, "192.0.2.7"), Some(9), "a website on a bare address");
    }

    #[test]
    fn host_names_walk_reversed_labels() {
        let i = idx();
        assert_eq!(org(&i, "example.cn"), Some(6));
        assert_eq!(
            org(&i, "mail.example.cn"),
            Some(6),
            "a domain covers its subdomains"
        );
        assert_eq!(
            org(&i, "dept.example.cn"),
            Some(6),
            "a wildcard does not cover its parent"
        );
        assert_eq!(org(&i, "a.dept.example.cn"), Some(7));
        assert_eq!(org(&i, "x.y.dept.example.cn"), Some(7));
        assert_eq!(
            org(&i, "WWW.Dept.Example.CN."),
            Some(8),
            "exact host beats the wildcard"
        );
        assert_eq!(org(&i, "https://www.dept.example.cn:8443/login"), Some(8));
        assert_eq!(org(&i, "wild.cn"), None);
        assert_eq!(org(&i, "a.wild.cn"), Some(11));
        assert_eq!(org(&i, "example.com"), None);
        assert_eq!(org(&i, "cn"), None);
        assert_eq!(org(&i, ""), None);
        assert_eq!(org(&i, "..."), None);
    }

    #[test]
    fn handle_swaps_atomically() {
        let h = AttributionHandle::default();
        assert!(h.get().is_empty());
        let before = h.get();
        h.replace(idx());
        assert_eq!(h.get().len(), 11);
        assert!(before.is_empty(), "readers keep the index they took");
    }
}
