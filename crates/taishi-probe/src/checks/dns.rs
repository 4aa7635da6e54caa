//! DNS and mail: A/AAAA resolution, CAA, MX, SPF, DMARC and DNSSEC: whether the zone is signed
//! (DNSKEY present) and whether its address records validate (a second, validating resolver checks the
//! signatures up a chain of trust to a configurable anchor, by default the IANA root KSKs). Lookups go
//! to a configurable name server; the mail verdicts are pure functions of the record texts so they are
//! tested without a network, the DNSSEC verdict of the validator's proofs ([`dnssec_verdict`]).

use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::dnssec::{Proof, TrustAnchors};
use hickory_resolver::proto::rr::RecordType;
use hickory_resolver::{Resolver, TokioResolver};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
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
    /// DNSSEC trust anchors as DNSKEY records in zone-file syntax (`. 172800 IN DNSKEY 257 3 8 …`,
    /// one per line; a record at a zone below the root anchors that zone); absent: the IANA root
    /// key-signing keys (KSK-2017, tag 20326, and KSK-2024, tag 38696).
    pub trust_anchor: Option<String>,
}

impl Default for DnsConfig {
    fn default() -> Self {
        DnsConfig {
            schedule: Schedule::new(86_400, 20_000),
            nameserver: None,
            trust_anchor: None,
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
        let anchors = match &self.trust_anchor {
            Some(text) => {
                TrustAnchors::from_str(text).map_err(|e| bad(format!("trust_anchor: {e}")))?
            }
            None => TrustAnchors::default(),
        };
        if anchors.is_empty()
            && self
                .trust_anchor
                .as_deref()
                .is_some_and(|t| !t.contains("DNSKEY"))
        {
            return Err(bad("trust_anchor: no DNSKEY record".into()));
        }
        let resolver = self.resolver(None).map_err(bad)?;
        let validating = self.resolver(Some(Arc::new(anchors))).map_err(bad)?;
        Ok(Dns {
            cfg: self.clone(),
            resolver,
            validating,
        })
    }

    /// A resolver asking the configured name server (or the system's), validating DNSSEC against
    /// `anchors` when given.
    fn resolver(&self, anchors: Option<Arc<TrustAnchors>>) -> Result<TokioResolver, String> {
        let mut builder = match self.nameserver {
            Some(addr) => {
                let mut ns = NameServerConfig::udp_and_tcp(addr.ip());
                for c in &mut ns.connections {
                    c.port = addr.port();
                }
                Resolver::builder_with_config(
                    ResolverConfig::from_name_servers(vec![ns]),
                    TokioRuntimeProvider::default(),
                )
            }
            None => Resolver::builder_tokio().map_err(|e| e.to_string())?,
        };
        if let Some(a) = anchors {
            builder = builder.with_trust_anchor(a);
        }
        builder.build().map_err(|e| e.to_string())
    }
}

/// The runtime DNS check.
pub struct Dns {
    cfg: DnsConfig,
    resolver: TokioResolver,
    validating: TokioResolver,
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
/// Signed, but the signatures do not validate.
pub const DNSSEC_BOGUS: FindingKind = kind(
    "dns.dnssec.bogus",
    Severity::High,
    "DNSSEC 签名验证失败（签名无效或已过期）",
    "DNSSEC validation fails (bad or expired signatures)",
    "立即检查权威 DNS 的签名：重新签名区域、确认签名未过期且 DNSKEY 与上级域 DS 一致；验证失败会使开启 DNSSEC 验证的解析器拒绝解析该域名。",
    "Re-sign the zone now: make sure signatures are current and the DNSKEY matches the DS at the parent; validating resolvers refuse the name while validation fails.",
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

/// What DNSSEC validation of a zone found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnssecStatus {
    /// No DNSKEY at the zone apex.
    Unsigned,
    /// The address records validate up to a trust anchor.
    Secure,
    /// DNSKEY present, but no chain of trust reaches an anchor (no DS at the parent).
    Insecure,
    /// Signatures present but invalid or expired, or the chain is broken.
    Bogus,
    /// The validator reached no verdict (no answer, time-out).
    Indeterminate,
}

impl DnssecStatus {
    /// `unsigned`, `secure`, `insecure`, `bogus` or `indeterminate`.
    pub fn as_str(self) -> &'static str {
        match self {
            DnssecStatus::Unsigned => "unsigned",
            DnssecStatus::Secure => "secure",
            DnssecStatus::Insecure => "insecure",
            DnssecStatus::Bogus => "bogus",
            DnssecStatus::Indeterminate => "indeterminate",
        }
    }
}

/// The DNSSEC verdict from whether a DNSKEY is published and the validator's proofs of the address
/// records: every record secure is secure, any bogus is bogus, otherwise insecure (or indeterminate
/// without any proof).
pub fn dnssec_verdict(has_dnskey: bool, proofs: &[Proof]) -> DnssecStatus {
    if !has_dnskey {
        DnssecStatus::Unsigned
    } else if proofs.iter().any(|p| p.is_bogus()) {
        DnssecStatus::Bogus
    } else if proofs.is_empty() || proofs.iter().all(|p| p.is_indeterminate()) {
        DnssecStatus::Indeterminate
    } else if proofs.iter().all(|p| p.is_secure()) {
        DnssecStatus::Secure
    } else {
        DnssecStatus::Insecure
    }
}

impl Dns {
    /// Validates the address records of `domain` (signed: `has_dnskey`); returns the verdict and the
    /// validator's error, if it gave one.
    async fn validate(&self, domain: &str, has_dnskey: bool) -> (DnssecStatus, Option<String>) {
        if !has_dnskey {
            return (DnssecStatus::Unsigned, None);
        }
        match self.validating.lookup(domain, RecordType::A).await {
            Ok(l) => {
                let proofs: Vec<Proof> = l
                    .answers()
                    .iter()
                    .filter(|r| r.record_type() == RecordType::A)
                    .map(|r| r.proof)
                    .collect();
                (dnssec_verdict(true, &proofs), None)
            }
            // The validator refuses what fails validation; any other error (time-out, refused)
            // gives no verdict rather than a false alarm.
            Err(e) => {
                let status = match &e {
                    NetError::Dns(DnsError::DnssecBogus) => DnssecStatus::Bogus,
                    NetError::Dns(DnsError::Nsec { proof, .. }) => dnssec_verdict(true, &[*proof]),
                    _ => DnssecStatus::Indeterminate,
                };
                (status, Some(e.to_string()))
            }
        }
    }

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
            let (status, why) = self.validate(domain, !dnskey.is_empty()).await;
            match status {
                DnssecStatus::Unsigned => findings.push(DNSSEC_MISSING.finding(
                    target,
                    "",
                    format!("no DNSKEY for {domain}"),
                    json!({}),
                )),
                DnssecStatus::Insecure => findings.push(DNSSEC_MISSING.finding(
                    target,
                    "",
                    format!("{domain} publishes a DNSKEY but no chain of trust reaches an anchor (no DS at the parent)"),
                    json!({"dnssec": status.as_str()}),
                )),
                DnssecStatus::Bogus => findings.push(DNSSEC_BOGUS.finding(
                    target,
                    "",
                    format!(
                        "the address records of {domain} fail DNSSEC validation{}",
                        why.as_deref().map(|w| format!(": {w}")).unwrap_or_default()
                    ),
                    json!({"dnssec": status.as_str(), "error": why}),
                )),
                DnssecStatus::Secure | DnssecStatus::Indeterminate => {}
            }
            Ok((
                json!({"a": a, "aaaa": aaaa, "caa": caa, "mx": mx, "txt": txt, "dmarc": dmarc,
                    "dnssec_signed": !dnskey.is_empty(), "dnssec": status.as_str(), "dnssec_error": why}),
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
    fn dnssec_verdicts() {
        use DnssecStatus::*;
        assert_eq!(dnssec_verdict(false, &[Proof::Secure]), Unsigned);
        assert_eq!(
            dnssec_verdict(true, &[Proof::Secure, Proof::Secure]),
            Secure
        );
        assert_eq!(dnssec_verdict(true, &[Proof::Secure, Proof::Bogus]), Bogus);
        assert_eq!(dnssec_verdict(true, &[Proof::Insecure]), Insecure);
        assert_eq!(dnssec_verdict(true, &[]), Indeterminate);
        assert_eq!(dnssec_verdict(true, &[Proof::Indeterminate]), Indeterminate);
    }

    #[test]
    fn trust_anchor_text_is_checked_when_built() {
        let bad = DnsConfig {
            trust_anchor: Some("example. 3600 IN DNSKEY 257 3 13 not-base64!".into()),
            ..DnsConfig::default()
        };
        let e = bad.build().unwrap_err().to_string();
        assert!(e.contains("trust_anchor"), "{e}");
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
