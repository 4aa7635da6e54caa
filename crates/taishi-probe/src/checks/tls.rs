//! TLS: protocol versions (raw ClientHello for SSLv3/TLS 1.0/1.1, rustls for 1.2/1.3), weak
//! cipher families, the certificate (validity, expiry, name, trust against Mozilla roots plus
//! extra CAs, key size, signature hash) and an SSL Labs-style grade.

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, RootCertStore};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use taishi_model::Severity;

use super::Env;
use super::cert::{CertFacts, cert_facts, name_matches, weak_signature};
use crate::grade::{self, GradeInput};
use crate::http::{HttpClient, Request};
use crate::model::{BoxFuture, Check, CheckOutput, FindingKind, ProbeFinding, Schedule};
use crate::net;
use crate::target::Target;
use crate::tlsraw::ssl2::SSL2;
use crate::tlsraw::{self, HelloAnswer, SSL3, TLS10, TLS11, TLS12, TLS13, WeakFamily};

/// Settings of the TLS check.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct TlsCheckConfig {
    /// Interval and timeout.
    pub schedule: Schedule,
    /// Per-handshake timeout in milliseconds.
    pub handshake_timeout_ms: u64,
}

impl Default for TlsCheckConfig {
    fn default() -> Self {
        TlsCheckConfig {
            schedule: Schedule::new(86_400, 60_000),
            handshake_timeout_ms: 5_000,
        }
    }
}

impl TlsCheckConfig {
    /// Builds the runtime check.
    pub fn build(&self, env: &Env) -> TlsCheck {
        TlsCheck {
            cfg: self.clone(),
            client: env.client.clone(),
            verifier: build_verifier(env),
        }
    }
}

/// A verifier trusting the Mozilla roots (webpki-roots) plus the environment's extra CAs.
pub fn build_verifier(env: &Env) -> Option<Arc<WebPkiServerVerifier>> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for c in &env.extra_roots {
        let _ = roots.add(c.clone());
    }
    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), net::provider())
        .build()
        .ok()
}

/// Whether `chain` verifies for `host` now (trust, validity and name together).
pub fn chain_verifies(
    verifier: &WebPkiServerVerifier,
    chain: &[CertificateDer<'static>],
    host: &str,
) -> bool {
    let Some((leaf, rest)) = chain.split_first() else {
        return false;
    };
    let Ok(name) = ServerName::try_from(host.to_string()) else {
        return false;
    };
    verifier
        .verify_server_cert(leaf, rest, &name, &[], UnixTime::now())
        .is_ok()
}

/// The runtime TLS check.
pub struct TlsCheck {
    cfg: TlsCheckConfig,
    client: HttpClient,
    verifier: Option<Arc<WebPkiServerVerifier>>,
}

impl std::fmt::Debug for TlsCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsCheck").field("cfg", &self.cfg).finish()
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

const FIX_PROTO_ZH: &str =
    "在服务器配置中禁用 SSLv3、TLS 1.0 与 TLS 1.1，仅启用 TLS 1.2 与 TLS 1.3。";
const FIX_PROTO_EN: &str =
    "Disable SSLv3, TLS 1.0 and TLS 1.1 in the server configuration; enable only TLS 1.2 and 1.3.";
/// SSLv2 accepted.
pub const SSL2_ON: FindingKind = kind(
    "tls.protocol.ssl2",
    Severity::Critical,
    "支持已被攻破的 SSLv2 协议",
    "SSLv2 accepted",
    "在服务器配置中彻底禁用 SSLv2（以及 SSLv3、TLS 1.0/1.1），仅启用 TLS 1.2 与 TLS 1.3；SSLv2 可被 DROWN 攻击用于解密使用同一密钥的 TLS 会话。",
    "Disable SSLv2 entirely (and SSLv3, TLS 1.0/1.1) and enable only TLS 1.2 and 1.3; through DROWN, SSLv2 lets attackers decrypt TLS sessions that share its key.",
);
const FIX_CIPHER_ZH: &str = "仅启用支持前向保密的 AEAD 套件（ECDHE + AES-GCM/ChaCha20），删除 RC4、3DES、DES、EXPORT、NULL 与匿名套件。";
const FIX_CIPHER_EN: &str = "Enable only forward-secret AEAD suites (ECDHE with AES-GCM or ChaCha20); remove RC4, 3DES, DES, EXPORT, NULL and anonymous suites.";

/// SSLv3 accepted.
pub const SSL3_ON: FindingKind = kind(
    "tls.protocol.ssl3",
    Severity::High,
    "支持不安全的 SSLv3 协议",
    "SSLv3 accepted",
    FIX_PROTO_ZH,
    FIX_PROTO_EN,
);
/// TLS 1.0 accepted.
pub const TLS10_ON: FindingKind = kind(
    "tls.protocol.tls10",
    Severity::Medium,
    "支持已弃用的 TLS 1.0 协议",
    "TLS 1.0 accepted",
    FIX_PROTO_ZH,
    FIX_PROTO_EN,
);
/// TLS 1.1 accepted.
pub const TLS11_ON: FindingKind = kind(
    "tls.protocol.tls11",
    Severity::Medium,
    "支持已弃用的 TLS 1.1 协议",
    "TLS 1.1 accepted",
    FIX_PROTO_ZH,
    FIX_PROTO_EN,
);
/// TLS 1.2 not offered.
pub const NO_TLS12: FindingKind = kind(
    "tls.protocol.no_tls12",
    Severity::High,
    "不支持 TLS 1.2 及以上协议",
    "TLS 1.2 or later not supported",
    "升级服务器软件与 TLS 库，启用 TLS 1.2 与 TLS 1.3。",
    "Upgrade the server and its TLS library; enable TLS 1.2 and TLS 1.3.",
);
/// Certificate expired.
pub const EXPIRED: FindingKind = kind(
    "tls.cert.expired",
    Severity::Critical,
    "证书已过期",
    "Certificate expired",
    "立即更换有效证书，并启用自动续期（如 ACME）。",
    "Replace the certificate now and automate renewal (e.g. ACME).",
);
/// Certificate expires soon.
pub const EXPIRING: FindingKind = kind(
    "tls.cert.expiring",
    Severity::Low,
    "证书即将过期",
    "Certificate expires soon",
    "在到期前续期证书，并启用自动续期与到期监控。",
    "Renew the certificate before it expires and automate renewal.",
);
/// Chain not trusted.
pub const UNTRUSTED: FindingKind = kind(
    "tls.cert.untrusted",
    Severity::High,
    "证书不受信任（自签名或证书链不完整）",
    "Certificate not trusted (self-signed or incomplete chain)",
    "使用受信任 CA 签发的证书，并在服务器上配置完整的中间证书链。",
    "Use a certificate from a trusted CA and serve the full intermediate chain.",
);
/// Host name mismatch.
pub const MISMATCH: FindingKind = kind(
    "tls.cert.name_mismatch",
    Severity::High,
    "证书域名与站点不匹配",
    "Certificate name does not match the host",
    "签发包含该域名（SAN）的证书。",
    "Issue a certificate whose SAN covers this host name.",
);
/// Weak key.
pub const WEAK_KEY: FindingKind = kind(
    "tls.cert.weak_key",
    Severity::Medium,
    "证书密钥强度不足",
    "Weak certificate key",
    "使用 RSA ≥ 2048 位或 ECDSA P-256 及以上密钥重新签发证书。",
    "Reissue with an RSA key of at least 2048 bits or ECDSA P-256 or stronger.",
);
/// SHA-1 / MD5 signature.
pub const WEAK_SIG: FindingKind = kind(
    "tls.cert.weak_signature",
    Severity::Medium,
    "证书使用 SHA-1/MD5 签名",
    "Certificate signed with SHA-1 or MD5",
    "使用 SHA-256 及以上签名算法重新签发证书。",
    "Reissue the certificate with a SHA-256 or stronger signature.",
);
/// Low grade.
pub const GRADE: FindingKind = kind(
    "tls.grade",
    Severity::Low,
    "TLS 配置评级偏低",
    "Low TLS grade",
    "按各项 TLS 发现修复后复测，目标评级 A 及以上。",
    "Fix the individual TLS findings and rescan; aim for A or better.",
);

fn weak_kind(f: WeakFamily) -> FindingKind {
    let (id, sev, zh, en) = match f {
        WeakFamily::Rc4 => (
            "tls.cipher.rc4",
            Severity::Medium,
            "支持 RC4 弱密码套件",
            "RC4 cipher suites accepted",
        ),
        WeakFamily::TripleDes => (
            "tls.cipher.3des",
            Severity::Medium,
            "支持 3DES 密码套件（SWEET32）",
            "3DES cipher suites accepted (SWEET32)",
        ),
        WeakFamily::Des => (
            "tls.cipher.des",
            Severity::High,
            "支持 DES 密码套件",
            "DES cipher suites accepted",
        ),
        WeakFamily::Export => (
            "tls.cipher.export",
            Severity::High,
            "支持出口级密码套件",
            "EXPORT cipher suites accepted",
        ),
        WeakFamily::Null => (
            "tls.cipher.null",
            Severity::High,
            "支持不加密（NULL）套件",
            "NULL cipher suites accepted",
        ),
        WeakFamily::Anonymous => (
            "tls.cipher.anon",
            Severity::High,
            "支持匿名密钥交换套件",
            "Anonymous key exchange accepted",
        ),
        WeakFamily::StaticRsa => (
            "tls.cipher.no_fs",
            Severity::Low,
            "支持无前向保密的 RSA 密钥交换",
            "Static RSA key exchange (no forward secrecy) accepted",
        ),
    };
    kind(id, sev, zh, en, FIX_CIPHER_ZH, FIX_CIPHER_EN)
}

impl TlsCheck {
    /// Chain trust at the middle of the leaf's validity (so expiry is judged separately).
    fn trusted(
        &self,
        chain: &[CertificateDer<'static>],
        facts: &CertFacts,
        host: &str,
    ) -> Result<(), String> {
        let Some(v) = &self.verifier else {
            return Err("no verifier".into());
        };
        let name_text = facts
            .names
            .first()
            .cloned()
            .unwrap_or_else(|| host.to_string());
        let name = ServerName::try_from(name_text).map_err(|e| e.to_string())?;
        let mid = (facts.not_before + facts.not_after) / 2;
        let at = UnixTime::since_unix_epoch(Duration::from_secs(mid.max(0) as u64));
        match v.verify_server_cert(&chain[0], &chain[1..], &name, &[], at) {
            Ok(_) => Ok(()),
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }

    async fn endpoint(&self, target: &Target) -> Result<Option<url::Url>, String> {
        if target.url.scheme() == "https" {
            return Ok(Some(target.url.clone()));
        }
        let chain = self
            .client
            .follow(&Request::get(target.url.clone()))
            .await
            .map_err(|e| e.to_string())?;
        let last = &chain.last().url;
        Ok((last.scheme() == "https").then(|| last.clone()))
    }
}

impl Check for TlsCheck {
    fn id(&self) -> &'static str {
        "tls"
    }

    fn schedule(&self) -> Schedule {
        self.cfg.schedule
    }

    fn execute<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, CheckOutput> {
        Box::pin(async move {
            let Some(url) = self.endpoint(target).await? else {
                return Ok((json!({"https": false}), Vec::new()));
            };
            let host = url
                .host_str()
                .unwrap_or_default()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string();
            let port = url.port_or_known_default().unwrap_or(443);
            let sni = target.domain().map(str::to_string);
            let t = Duration::from_millis(self.cfg.handshake_timeout_ms);

            let mut protocols = Vec::new();
            let mut suites = Vec::new();
            let mut chain: Vec<CertificateDer<'static>> = Vec::new();
            let mut fs = false;
            for (v, cfg_v) in [
                (TLS13, &rustls::version::TLS13),
                (TLS12, &rustls::version::TLS12),
            ] {
                if let Ok((tcp, _)) = net::connect(&host, port, t).await
                    && let Ok((_, s)) =
                        net::tls_handshake(tcp, &host, net::recording_config(&[cfg_v]), t).await
                {
                    protocols.push(v);
                    if let Some(id) = s.suite {
                        suites.push(id);
                        fs |= v == TLS13 || (id & 0xff00) == 0xc000 || (id & 0xff00) == 0xcc00;
                    }
                    if chain.is_empty() {
                        chain = s.chain;
                    }
                }
            }
            for v in [SSL3, TLS10, TLS11] {
                if let HelloAnswer::Accepted { version, suite } =
                    tlsraw::probe(&host, port, sni.as_deref(), v, tlsraw::BROAD_SUITES, t).await
                    && version == v
                {
                    protocols.push(v);
                    suites.push(suite);
                    fs |= (suite & 0xff00) == 0xc000 || matches!(suite, 0x0033 | 0x0039 | 0x0016);
                }
            }
            let ssl2 = tlsraw::ssl2::probe(&host, port, t).await;
            if ssl2.is_some() {
                protocols.push(SSL2);
            }
            if protocols.is_empty() {
                return Err(format!(
                    "no TLS handshake succeeded with {host}:{port} (SSLv2 to TLS 1.3 tried)"
                ));
            }
            // A server that only speaks legacy TLS still sends its chain in plaintext after the
            // ServerHello: read it from the raw exchange.
            if chain.is_empty()
                && let Some(best) = protocols
                    .iter()
                    .copied()
                    .filter(|v| (SSL3..TLS12).contains(v))
                    .max()
                && let Some(ders) =
                    tlsraw::fetch_chain(&host, port, sni.as_deref(), best, tlsraw::BROAD_SUITES, t)
                        .await
            {
                chain = ders.into_iter().map(CertificateDer::from).collect();
            }
            let probe_version = if protocols.contains(&TLS12) || protocols.contains(&TLS13) {
                TLS12
            } else {
                protocols
                    .iter()
                    .copied()
                    .filter(|v| *v >= SSL3)
                    .max()
                    .unwrap_or(TLS10)
            };
            let mut weak = Vec::new();
            for f in WeakFamily::ALL {
                if let HelloAnswer::Accepted { suite, .. } =
                    tlsraw::probe(&host, port, sni.as_deref(), probe_version, f.suites(), t).await
                    && f.suites().contains(&suite)
                {
                    weak.push(f);
                    suites.push(suite);
                }
            }
            protocols.sort_unstable();
            let hsts_max_age = match self.client.send(&Request::get(url.clone())).await {
                Ok(r) => r
                    .header("strict-transport-security")
                    .and_then(crate::observatory::max_age),
                Err(_) => None,
            };
            let facts = chain.first().and_then(|c| cert_facts(c));
            let now = jiff::Timestamp::now().as_second();
            let mut findings: Vec<ProbeFinding> = Vec::new();
            let mut input = GradeInput {
                protocols: protocols.clone(),
                suites: suites.clone(),
                weak: weak.clone(),
                forward_secrecy: fs,
                hsts_max_age,
                trusted: true,
                name_ok: true,
                ..Default::default()
            };
            let mut cert_obs = serde_json::Value::Null;
            if let Some(f) = &facts {
                let trust = self.trusted(&chain, f, &host);
                let days_left = (f.not_after - now).div_euclid(86_400);
                input.key = Some((f.key.0 == "RSA" || f.key.0 == "DSA", f.key.1));
                input.trusted = trust.is_ok();
                input.expired = now > f.not_after || now < f.not_before;
                input.name_ok = name_matches(&host, &f.names);
                input.weak_signature = weak_signature(&f.signature_oid);
                cert_obs = json!({"subject": f.subject, "issuer": f.issuer, "names": f.names, "not_after": f.not_after, "days_left": days_left, "key": f.key, "signature_oid": f.signature_oid, "trusted": trust.is_ok(), "trust_error": trust.as_ref().err()});
                let ev = json!({"subject": f.subject, "issuer": f.issuer, "not_after": f.not_after, "names": f.names});
                if now > f.not_after {
                    findings.push(EXPIRED.finding(
                        target,
                        "",
                        format!("certificate expired {} day(s) ago", -days_left),
                        ev.clone(),
                    ));
                } else if days_left <= 30 {
                    let sev = if days_left <= 7 {
                        Severity::High
                    } else if days_left <= 14 {
                        Severity::Medium
                    } else {
                        Severity::Low
                    };
                    findings.push(EXPIRING.finding_with(
                        sev,
                        target,
                        "",
                        format!("certificate expires in {days_left} day(s)"),
                        ev.clone(),
                    ));
                }
                if let Err(e) = &trust {
                    let why = if f.subject == f.issuer {
                        format!("self-signed ({e})")
                    } else {
                        e.clone()
                    };
                    findings.push(UNTRUSTED.finding(target, "", why, ev.clone()));
                }
                if !input.name_ok {
                    findings.push(MISMATCH.finding(
                        target,
                        "",
                        format!("{host} is not in {:?}", f.names),
                        ev.clone(),
                    ));
                }
                if (f.key.0 == "RSA" && f.key.1 < 2048) || (f.key.0 == "EC" && f.key.1 < 224) {
                    findings.push(WEAK_KEY.finding(
                        target,
                        "",
                        format!("{} {} bits", f.key.0, f.key.1),
                        ev.clone(),
                    ));
                }
                if input.weak_signature {
                    findings.push(WEAK_SIG.finding(
                        target,
                        "",
                        format!("signature algorithm {}", f.signature_oid),
                        ev,
                    ));
                }
            }
            if let Some(h) = &ssl2 {
                findings.push(SSL2_ON.finding(
                    target,
                    "",
                    format!(
                        "server answered an SSLv2 CLIENT-HELLO with a SERVER-HELLO offering {} cipher spec(s)",
                        h.cipher_specs.len()
                    ),
                    json!({"version": SSL2, "cipher_specs": h.cipher_specs}),
                ));
            }
            for (v, k) in [(SSL3, SSL3_ON), (TLS10, TLS10_ON), (TLS11, TLS11_ON)] {
                if protocols.contains(&v) {
                    findings.push(k.finding(
                        target,
                        "",
                        format!(
                            "server answered a {} ClientHello with a ServerHello",
                            tlsraw::version_name(v)
                        ),
                        json!({"version": v}),
                    ));
                }
            }
            if !protocols.contains(&TLS12) && !protocols.contains(&TLS13) {
                findings.push(NO_TLS12.finding(
                    target,
                    "",
                    "no TLS 1.2 or 1.3 handshake succeeded",
                    json!({"protocols": protocols}),
                ));
            }
            for f in &weak {
                let text = format!(
                    "server chose a {} suite when offered only {} suites",
                    f.as_str(),
                    f.as_str()
                );
                findings.push(weak_kind(*f).finding(target, "", text, json!({"family": f})));
            }
            let g = grade::grade(&input);
            let sev = match g.grade_if_trusted.as_str() {
                "A+" | "A" | "A-" => None,
                "B" => Some(Severity::Low),
                "C" | "D" | "E" => Some(Severity::Medium),
                _ => Some(Severity::High),
            };
            if let Some(sev) = sev {
                findings.push(GRADE.finding_with(
                    sev,
                    target,
                    "",
                    format!("grade {} (score {})", g.grade, g.score),
                    json!({"grade": g}),
                ));
            }
            let names: Vec<&str> = protocols.iter().map(|v| tlsraw::version_name(*v)).collect();
            let obs = json!({"endpoint": format!("{host}:{port}"), "protocols": names, "suites": suites, "weak": weak, "forward_secrecy": fs, "certificate": cert_obs, "grade": g, "hsts_max_age": hsts_max_age, "ssl2_cipher_specs": ssl2.map(|h| h.cipher_specs)});
            Ok((obs, findings))
        })
    }
}
