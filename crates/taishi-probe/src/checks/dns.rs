//! DNS and mail: A/AAAA resolution, CAA, MX, SPF, DMARC and whether the zone is DNSSEC-signed
//! (DNSKEY present). Lookups go to a configurable name server; the verdicts are pure functions of
//! the record texts so they are tested without a network.

use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RecordType;
use hickory_resolver::{Resolver, TokioResolver};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::net::SocketAddr;
use taishi_model::Severity;

use crate::model::{BoxFuture, Check, CheckOutput, FindingKind, ProbeFinding, Schedule};
use crate::target::Target;

/// Settings of the DNS check.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct DnsConfig {
    /// Interval and timeout.
    pub schedule: Schedule,
    /// Name server to ask; the system resolver when absent.
    pub nameserver: Option<SocketAddr>,
}

impl Default for DnsConfig {
    fn default() -> Self {
        DnsConfig {
            schedule: Schedule::new(86_400, 20_000),
            nameserver: None,
        }
    }
}

impl DnsConfig {
    /// Builds the runtime check.
    pub fn build(&self) -> Result<Dns, super::ConfigError> {
        let bad = |e: String| super::ConfigError::Invalid {
            check: "dns",
            reason: e,
        };
        let resolver: TokioResolver = match self.nameserver {
            Some(addr) => {
                let mut ns = NameServerConfig::udp_and_tcp(addr.ip());
                for c in &mut ns.connections {
                    c.port = addr.port();
                }
                Resolver::builder_with_config(
                    ResolverConfig::from_name_servers(vec![ns]),
                    TokioRuntimeProvider::default(),
                )
                .build()
                .map_err(|e| bad(e.to_string()))?
            }
            None => Resolver::builder_tokio()
                .map_err(|e| bad(e.to_string()))?
                .build()
                .map_err(|e| bad(e.to_string()))?,
        };
        Ok(Dns {
            cfg: self.clone(),
            resolver,
        })
    }
}

/// The runtime DNS check.
pub struct Dns {
    cfg: DnsConfig,
    resolver: TokioResolver,
}

impl std::fmt::Debug for Dns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dns").field("cfg", &self.cfg).finish()
    }
}

const fn kind(
    id: &'static str,
    severity: Severity,
    zh: &'static str,
    en: &'static str,
    fix_zh: &'static str,
    fix_en: &'static str,
) -> FindingKind {
    FindingKind {
        id,
        severity,
        title_zh: zh,
        title_en: en,
        fix_zh,
        fix_en,
    }
}

/// No SPF record.
pub const SPF_MISSING: FindingKind = kind(
    "dns.spf.missing",
    Severity::Medium,
    "未配置 SPF 记录",
    "No SPF record",
    "发布 SPF 记录，如 v=spf1 mx -all，列出所有合法发信服务器。",
    "Publish SPF, e.g. v=spf1 mx -all, listing every legitimate sender.",
);
/// SPF allows everyone.
pub const SPF_WEAK: FindingKind = kind(
    "dns.spf.weak",
    Severity::Medium,
    "SPF 策略过宽（+all/?all 或多条记录）",
    "SPF too permissive (+all, ?all or several records)",
    "只保留一条 SPF 记录，并以 -all 或 ~all 结尾。",
    "Keep exactly one SPF record ending in -all or ~all.",
);
/// No DMARC.
pub const DMARC_MISSING: FindingKind = kind(
    "dns.dmarc.missing",
    Severity::Medium,
    "未配置 DMARC 记录",
    "No DMARC record",
    "在 _dmarc 子域发布 v=DMARC1; p=quarantine 或 p=reject，并配置 rua 报告地址。",
    "Publish v=DMARC1; p=quarantine or p=reject at _dmarc with a rua address.",
);
/// DMARC monitoring only.
pub const DMARC_NONE: FindingKind = kind(
    "dns.dmarc.none",
    Severity::Low,
    "DMARC 策略为 none（仅监测）",
    "DMARC policy is none (monitoring only)",
    "分析报告后将策略提升为 quarantine 或 reject。",
    "After reviewing reports, raise the policy to quarantine or reject.",
);
/// No CAA.
pub const CAA_MISSING: FindingKind = kind(
    "dns.caa.missing",
    Severity::Info,
    "未配置 CAA 记录",
    "No CAA record",
    "发布 CAA 记录，限定可为本域签发证书的 CA。",
    "Publish CAA records naming the CAs allowed to issue for the domain.",
);
/// Not signed.
pub const DNSSEC_MISSING: FindingKind = kind(
    "dns.dnssec.unsigned",
    Severity::Low,
    "域名未启用 DNSSEC",
    "Zone not DNSSEC-signed",
    "在权威 DNS 上启用 DNSSEC 签名，并在上级域提交 DS 记录。",
    "Sign the zone with DNSSEC and publish the DS record at the parent.",
);
/// Does not resolve.
pub const NO_ADDRESS: FindingKind = kind(
    "dns.resolve.none",
    Severity::High,
    "域名无法解析",
    "Name does not resolve",
    "检查域名注册状态与权威 DNS 的 A/AAAA 记录。",
    "Check the registration and the A/AAAA records on the authoritative servers.",
);

/// Verdicts on SPF TXT strings: `None` when fine.
pub fn evaluate_spf(txts: &[String]) -> Option<(&'static FindingKind, String)> {
    let spf: Vec<&String> = txts
        .iter()
        .filter(|t| {
            t.trim_matches('"')
                .to_ascii_lowercase()
                .starts_with("v=spf1")
        })
        .collect();
    match spf.as_slice() {
        [] => Some((&SPF_MISSING, "no v=spf1 TXT record".into())),
        [one] => {
            let l = one.to_ascii_lowercase();
            let all = l.split_whitespace().find(|w| w.ends_with("all"));
            match all {
                Some("+all") | Some("all") | Some("?all") => Some((
                    &SPF_WEAK,
                    format!("SPF ends with {}: {one}", all.unwrap_or_default()),
                )),
                None => Some((&SPF_WEAK, format!("SPF has no all mechanism: {one}"))),
                _ => None,
            }
        }
        _ => Some((
            &SPF_WEAK,
            format!("{} SPF records (RFC 7208 allows one)", spf.len()),
        )),
    }
}

/// Verdicts on `_dmarc` TXT strings.
pub fn evaluate_dmarc(txts: &[String]) -> Option<(&'static FindingKind, String)> {
    let Some(rec) = txts.iter().find(|t| {
        t.trim_matches('"')
            .to_ascii_lowercase()
            .starts_with("v=dmarc1")
    }) else {
        return Some((&DMARC_MISSING, "no v=DMARC1 record at _dmarc".into()));
    };
    let policy = rec.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim().eq_ignore_ascii_case("p")).then(|| v.trim().to_ascii_lowercase())
    });
    match policy.as_deref() {
        Some("quarantine" | "reject") => None,
        Some("none") => Some((&DMARC_NONE, rec.clone())),
        _ => Some((
            &DMARC_MISSING,
            format!("DMARC record without a valid p= tag: {rec}"),
        )),
    }
}

impl Dns {
    async fn texts(&self, name: &str, t: RecordType) -> Vec<String> {
        match self.resolver.lookup(name, t).await {
            Ok(l) => l
                .answers()
                .iter()
                .filter(|r| r.record_type() == t)
                .map(|r| r.data.to_string())
                .collect(),
            Err(_) => Vec::new(),
        }
    }
}

impl Check for Dns {
    fn id(&self) -> &'static str {
        "dns"
    }

    fn schedule(&self) -> Schedule {
        self.cfg.schedule
    }

    fn execute<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, CheckOutput> {
        Box::pin(async move {
            let Some(domain) = target.domain() else {
                return Ok((json!({"skipped": "IP target"}), Vec::new()));
            };
            if domain == "localhost" || !domain.contains('.') {
                return Ok((json!({"skipped": "not a public domain"}), Vec::new()));
            }
            let a = self.texts(domain, RecordType::A).await;
            let aaaa = self.texts(domain, RecordType::AAAA).await;
            let mut findings: Vec<ProbeFinding> = Vec::new();
            if a.is_empty() && aaaa.is_empty() {
                findings.push(NO_ADDRESS.finding(
                    target,
                    "",
                    format!("no A or AAAA record for {domain}"),
                    json!({}),
                ));
                return Ok((json!({"a": a, "aaaa": aaaa}), findings));
            }
            let caa = self.texts(domain, RecordType::CAA).await;
            let mx = self.texts(domain, RecordType::MX).await;
            let txt = self.texts(domain, RecordType::TXT).await;
            let dmarc = self
                .texts(&format!("_dmarc.{domain}"), RecordType::TXT)
                .await;
            let dnskey = self.texts(domain, RecordType::DNSKEY).await;
            if let Some((k, text)) = evaluate_spf(&txt) {
                findings.push(k.finding(target, "", text, json!({"txt": txt})));
            }
            if let Some((k, text)) = evaluate_dmarc(&dmarc) {
                findings.push(k.finding(target, "", text, json!({"dmarc": dmarc})));
            }
            if caa.is_empty() {
                findings.push(CAA_MISSING.finding(
                    target,
                    "",
                    format!("no CAA record for {domain}"),
                    json!({}),
                ));
            }
            if dnskey.is_empty() {
                findings.push(DNSSEC_MISSING.finding(
                    target,
                    "",
                    format!("no DNSKEY for {domain}"),
                    json!({}),
                ));
            }
            Ok((
                json!({"a": a, "aaaa": aaaa, "caa": caa, "mx": mx, "txt": txt, "dmarc": dmarc, "dnssec_signed": !dnskey.is_empty()}),
                findings,
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn spf_verdicts() {
        assert!(evaluate_spf(&s(&["v=spf1 mx -all"])).is_none());
        assert_eq!(evaluate_spf(&s(&[])).unwrap().0.id, "dns.spf.missing");
        assert_eq!(
            evaluate_spf(&s(&["v=spf1 +all"])).unwrap().0.id,
            "dns.spf.weak"
        );
        assert_eq!(
            evaluate_spf(&s(&["v=spf1 mx -all", "v=spf1 a -all"]))
                .unwrap()
                .0
                .id,
            "dns.spf.weak"
        );
    }

    #[test]
    fn dmarc_verdicts() {
        assert!(evaluate_dmarc(&s(&["v=DMARC1; p=reject; rua=mailto:d@example.org"])).is_none());
        assert_eq!(
            evaluate_dmarc(&s(&["v=DMARC1; p=none"])).unwrap().0.id,
            "dns.dmarc.none"
        );
        assert_eq!(evaluate_dmarc(&s(&[])).unwrap().0.id, "dns.dmarc.missing");
    }
}
