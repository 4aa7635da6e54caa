//! Attribution lookups per second with 100,000 registered prefixes.
//!
//! Run: `cargo run --release -p taishi-store --example attribution_bench`
//! Registers 60,000 IPv4 ranges (/16–/32), 10,000 IPv6 ranges (/32–/64), 20,000 domains (a quarter of
//! them wildcards) and 10,000 website hosts, then times 2,000,000 address and 2,000,000 host lookups.
#![allow(clippy::print_stdout)]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Instant;
use taishi_model::{AssetId, AssetKind, OrgId};
use taishi_store::AttributionEntry;
use taishi_store::attribution::AttributionIndex;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn main() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut entries = Vec::with_capacity(100_000);
    let mut push = |kind, identity: String, i: usize| {
        entries.push(AttributionEntry {
            kind,
            identity,
            org_id: OrgId(i as i64 % 10_000),
            asset_id: AssetId(i as i64),
        });
    };
    for i in 0..60_000 {
        let len = 16 + (rng.next() % 17) as u8;
        let addr = Ipv4Addr::from(rng.next() as u32);
        let net = ipnet::Ipv4Net::new(addr, len)
            .expect("valid prefix")
            .trunc();
        push(AssetKind::Cidr, net.to_string(), i);
    }
    for i in 60_000..70_000 {
        let len = 32 + (rng.next() % 33) as u8;
        let addr = Ipv6Addr::from(((0x2001_0db8u128) << 96) | (rng.next() as u128) << 32);
        let net = ipnet::Ipv6Net::new(addr, len)
            .expect("valid prefix")
            .trunc();
        push(AssetKind::Cidr, net.to_string(), i);
    }
    let word = |r: &mut Rng| format!("d{:x}", r.next() % 1_000_000);
    for i in 70_000..90_000 {
        let name = format!("{}.{}.gov.cn", word(&mut rng), word(&mut rng));
        push(
            AssetKind::Domain,
            if i % 4 == 0 {
                format!("*.{name}")
            } else {
                name
            },
            i,
        );
    }
    for i in 90_000..100_000 {
        push(
            AssetKind::Website,
            format!("https://www.{}.edu.cn/", word(&mut rng)),
            i,
        );
    }
    let names: Vec<String> = entries
        .iter()
        .filter(|e| e.kind != AssetKind::Cidr)
        .map(|e| {
            let h = e
                .identity
                .trim_start_matches("https://")
                .trim_start_matches("*.")
                .trim_end_matches('/');
            format!("host.{h}")
        })
        .collect();

    let t = Instant::now();
    let idx = AttributionIndex::build(entries);
    println!(
        "built index of {} prefixes in {:.1} ms",
        idx.len(),
        t.elapsed().as_secs_f64() * 1e3
    );

    let n = 2_000_000;
    let ips: Vec<IpAddr> = (0..n)
        .map(|i| {
            if i % 7 == 0 {
                IpAddr::V6(Ipv6Addr::from(
                    ((0x2001_0db8u128) << 96) | (rng.next() as u128) << 32 | 1,
                ))
            } else {
                IpAddr::V4(Ipv4Addr::from(rng.next() as u32))
            }
        })
        .collect();
    let t = Instant::now();
    let mut hits = 0usize;
    for ip in &ips {
        hits += black_box(idx.lookup_ip(*ip)).is_some() as usize;
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "address lookups: {:.2} M/s ({hits} of {n} attributed)",
        n as f64 / s / 1e6
    );

    let hosts: Vec<&str> = (0..n)
        .map(|i| names[(i * 7919) % names.len()].as_str())
        .collect();
    let t = Instant::now();
    let mut hits = 0usize;
    for h in &hosts {
        hits += black_box(idx.lookup_host(h)).is_some() as usize;
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "host lookups:    {:.2} M/s ({hits} of {n} attributed)",
        n as f64 / s / 1e6
    );
}
