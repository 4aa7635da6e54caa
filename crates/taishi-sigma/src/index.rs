//! The rule index: variants grouped into buckets by the `Channel` and `EventID` values they
//! require, each bucket with its own Aho-Corasick automaton over the prefilter literals of its
//! variants (built on first use, so loading stays fast and unused buckets cost nothing).

use std::collections::HashMap;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use crate::detection::{Needle, Node};
use crate::matcher::{Matcher, StrOp};
use crate::value::TestKind;

/// Literals, the variants each admits, and their automaton (built on first use).
#[derive(Debug, Default)]
pub(crate) struct Prefilter {
    /// Distinct literals.
    pub needles: Vec<String>,
    /// Per literal, the variants it admits.
    pub variants: Vec<Vec<u32>>,
    ac: OnceLock<Option<AhoCorasick>>,
}

impl Prefilter {
    fn add<'a>(&mut self, ids: &mut HashMap<&'a str, usize>, text: &'a str, v: u32) {
        let id = *ids.entry(text).or_insert_with(|| {
            self.needles.push(text.to_owned());
            self.variants.push(Vec::new());
            self.needles.len() - 1
        });
        if self.variants[id].last() != Some(&v) {
            self.variants[id].push(v);
        }
    }

    /// The automaton, or `None` when there are no literals or it could not be built (then the
    /// caller must evaluate every variant).
    pub fn automaton(&self) -> Option<&AhoCorasick> {
        self.ac
            .get_or_init(|| {
                if self.needles.is_empty() {
                    return None;
                }
                // A DFA for small sets (keyword literals); a contiguous NFA for the large ones,
                // where a DFA measured no faster and took twice the memory.
                let kind = if self.needles.len() <= 256 {
                    AhoCorasickKind::DFA
                } else {
                    AhoCorasickKind::ContiguousNFA
                };
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .kind(Some(kind))
                    .build(&self.needles)
                    .ok()
            })
            .as_ref()
    }
}

/// A set of variants an event may meet, with the prefilters of those that have literals.
#[derive(Debug, Default)]
pub(crate) struct Bucket {
    /// Variants evaluated whatever the text (no prefilter literals), ascending.
    pub always: Vec<u32>,
    /// Literals of field tests, searched in the values of [`Bucket::scan`] only.
    pub fielded: Prefilter,
    /// The fields (cache slot, name) the fielded literals come from.
    pub scan: Vec<(u32, Box<str>)>,
    /// Literals of variants with unfielded keywords, searched in every value of the event.
    pub anywhere: Prefilter,
}

impl Bucket {
    fn new(members: &[u32], needles_of: &[Option<Vec<Needle>>]) -> Bucket {
        let mut b = Bucket::default();
        let (mut fielded_ids, mut anywhere_ids) = (HashMap::new(), HashMap::new());
        for &v in members {
            let Some(ns) = &needles_of[v as usize] else {
                b.always.push(v);
                continue;
            };
            if ns.iter().any(|n| n.field.is_none()) {
                // Every value of the event includes the values of any field, so a variant
                // with a keyword is searched entirely in all values.
                ns.iter()
                    .for_each(|n| b.anywhere.add(&mut anywhere_ids, &n.text, v));
                continue;
            }
            for n in ns {
                if let Some(f) = &n.field
                    && !b.scan.iter().any(|(slot, _)| *slot == f.0)
                {
                    b.scan.push(f.clone());
                }
                b.fielded.add(&mut fielded_ids, &n.text, v);
            }
        }
        b
    }

    /// Every variant of the bucket, for when an automaton cannot be built.
    pub fn all_members(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self
            .always
            .iter()
            .chain(self.fielded.variants.iter().flatten())
            .chain(self.anywhere.variants.iter().flatten())
            .copied()
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

#[derive(Debug, Default)]
struct ChannelBuckets {
    by_event_id: HashMap<i64, usize>,
    /// For event ids no variant names (and events without an id).
    any_event_id: usize,
    /// For events with several event ids.
    all: usize,
}

/// Buckets by lowercased channel and event id.
#[derive(Debug, Default)]
pub(crate) struct Index {
    channels: HashMap<String, ChannelBuckets>,
    /// Events of an unknown or missing channel.
    global: usize,
    /// Events with several channels.
    everything: usize,
    /// Per bucket, its variants (ascending); the bucket itself is built on first use.
    members: Vec<Vec<u32>>,
    built: Vec<OnceLock<Bucket>>,
    /// Per variant, its prefilter literals.
    needles: Vec<Option<Vec<Needle>>>,
    pub indexed_by_channel: usize,
    pub indexed_by_event_id: usize,
}

/// The channels and event ids a variant requires (`None`: unconstrained).
pub(crate) type Keys = (Option<Vec<String>>, Option<Vec<i64>>);

/// Which exact values a tree requires of a field: `Some(values)` when every accepted event has
/// one of them (lowercased text for strings, decimal for integers).
fn required_values(node: &Node, field: &str, ints: bool) -> Option<Vec<String>> {
    match node {
        Node::Field(t) if &*t.field == field => match &t.kind {
            TestKind::Any(ms) => ms
                .iter()
                .map(|m| match m {
                    Matcher::Int { value, .. } if ints => Some(value.to_string()),
                    Matcher::Str {
                        op: StrOp::Eq,
                        needle,
                        cased: false,
                        ..
                    } if !ints => Some(needle.to_string()),
                    _ => None,
                })
                .collect(),
            _ => None,
        },
        Node::And(c) => required_all(c.iter(), field, ints),
        Node::Or(c) => {
            let all: Option<Vec<Vec<String>>> =
                c.iter().map(|n| required_values(n, field, ints)).collect();
            all.map(|v| {
                let mut out: Vec<String> = v.into_iter().flatten().collect();
                out.sort();
                out.dedup();
                out
            })
        }
        _ => None,
    }
}

/// [`required_values`] of a conjunction.
pub(crate) fn required_all<'a>(
    nodes: impl Iterator<Item = &'a Node>,
    field: &str,
    ints: bool,
) -> Option<Vec<String>> {
    let sets: Vec<Vec<String>> = nodes
        .filter_map(|n| required_values(n, field, ints))
        .collect();
    let mut it = sets.into_iter();
    let first = it.next()?;
    Some(it.fold(first, |acc, s| {
        acc.into_iter().filter(|v| s.contains(v)).collect()
    }))
}

fn merged(parts: &[&[u32]]) -> Vec<u32> {
    let mut v: Vec<u32> = parts.iter().flat_map(|p| p.iter().copied()).collect();
    v.sort_unstable();
    v.dedup();
    v
}

impl Index {
    /// Builds the buckets. `keys[v]` is the (channels, event ids) variant `v` requires (each
    /// `None` when unconstrained); `needles[v]` its prefilter literals.
    pub fn build(keys: &[Keys], needles: Vec<Option<Vec<Needle>>>) -> Index {
        let mut idx = Index::default();
        let mut channel_any: HashMap<&str, Vec<u32>> = HashMap::new();
        let mut channel_eid: HashMap<&str, HashMap<i64, Vec<u32>>> = HashMap::new();
        let mut global = Vec::new();
        for (i, (channels, eids)) in keys.iter().enumerate() {
            let i = i as u32;
            let Some(channels) = channels else {
                global.push(i);
                continue;
            };
            idx.indexed_by_channel += 1;
            idx.indexed_by_event_id += usize::from(eids.is_some());
            for ch in channels {
                match eids {
                    Some(ids) => {
                        let m = channel_eid.entry(ch).or_default();
                        ids.iter().for_each(|id| m.entry(*id).or_default().push(i));
                        channel_any.entry(ch).or_default();
                    }
                    None => channel_any.entry(ch).or_default().push(i),
                }
            }
        }
        let mut add = |members: Vec<u32>| {
            idx.members.push(members);
            idx.built.push(OnceLock::new());
            idx.members.len() - 1
        };
        let everything: Vec<u32> = (0..keys.len() as u32).collect();
        let mut channels = HashMap::new();
        for (ch, any) in channel_any {
            let by = channel_eid.remove(ch).unwrap_or_default();
            let all_eid: Vec<u32> = by.values().flatten().copied().collect();
            let cb = ChannelBuckets {
                by_event_id: by
                    .iter()
                    .map(|(id, vs)| (*id, add(merged(&[vs, &any, &global]))))
                    .collect(),
                any_event_id: add(merged(&[&any, &global])),
                all: add(merged(&[&any, &global, &all_eid])),
            };
            channels.insert(ch.to_owned(), cb);
        }
        let global = add(global);
        let everything = add(everything);
        Index {
            channels,
            global,
            everything,
            needles,
            ..idx
        }
    }

    /// Number of buckets.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Buckets that hold a variant with unfielded keywords (their prefilter also scans every
    /// value of an event).
    pub fn scanning_all(&self) -> usize {
        let kw = |v: &u32| {
            self.needles[*v as usize]
                .as_ref()
                .is_some_and(|ns| ns.iter().any(|n| n.field.is_none()))
        };
        self.members.iter().filter(|m| m.iter().any(kw)).count()
    }

    /// Bucket `b`, built on first use.
    pub fn bucket_at(&self, b: usize) -> &Bucket {
        self.built[b].get_or_init(|| Bucket::new(&self.members[b], &self.needles))
    }

    /// The bucket for an event. `channel` is the lowercased channel (`None`: absent; several
    /// channels are passed as `Err(())`), `event_id` likewise.
    pub fn bucket(
        &self,
        channel: Result<Option<&str>, ()>,
        event_id: Result<Option<i64>, ()>,
    ) -> usize {
        let ch = match channel {
            Err(()) => return self.everything,
            Ok(None) => return self.global,
            Ok(Some(c)) => c,
        };
        let Some(cb) = self.channels.get(ch) else {
            return self.global;
        };
        match event_id {
            Err(()) => cb.all,
            Ok(None) => cb.any_event_id,
            Ok(Some(id)) => cb.by_event_id.get(&id).copied().unwrap_or(cb.any_event_id),
        }
    }
}
