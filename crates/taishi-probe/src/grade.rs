//! SSL Labs-style TLS grade (A+ … F, T, M) as a pure function.
//!
//! Source: SSL Labs "SSL Server Rating Guide" (github.com/ssllabs/research/wiki) for the method,
//! weights (protocol 30 %, key exchange 30 %, cipher 40 %) and letter thresholds; the caps and
//! sub-scores as implemented by testssl.sh `run_rating` (testssl/testssl.sh@9fdf802) — see
//! posture.md §5.1. SSLv2 (probed by `tlsraw::ssl2`) scores 0 and caps at F. Not covered:
//! Heartbleed-class vulnerabilities, HPKP.

use serde::Serialize;

use crate::tlsraw::ssl2::SSL2;
use crate::tlsraw::{SSL3, TLS10, TLS11, TLS12, TLS13, WeakFamily};

/// What the TLS check learned, as input to the grade.
#[derive(Debug, Clone, Default)]
pub struct GradeInput {
    /// Protocol versions accepted.
    pub protocols: Vec<u16>,
    /// Cipher suites seen accepted (from all probes).
    pub suites: Vec<u16>,
    /// Weak families accepted.
    pub weak: Vec<WeakFamily>,
    /// Whether any forward-secret suite is accepted.
    pub forward_secrecy: bool,
    /// Leaf key: (is RSA-like, bits).
    pub key: Option<(bool, u32)>,
    /// Chain trusted (ignoring time).
    pub trusted: bool,
    /// Leaf expired or not yet valid.
    pub expired: bool,
    /// Host name matches.
    pub name_ok: bool,
    /// Leaf signed with SHA-1 or MD5.
    pub weak_signature: bool,
    /// HSTS max-age in seconds, when sent over HTTPS.
    pub hsts_max_age: Option<u64>,
}

/// The grade with its reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grade {
    /// Final grade: A+, A, A-, B, C, D, E, F, or T / M for trust and name problems.
    pub grade: String,
    /// The grade the configuration would get with trust issues fixed.
    pub grade_if_trusted: String,
    /// Weighted numeric score 0–100.
    pub score: u32,
    /// Why the grade was capped or lowered.
    pub reasons: Vec<String>,
}

fn protocol_score(v: u16) -> u32 {
    match v {
        SSL2 => 0,
        SSL3 => 80,
        TLS10 => 90,
        TLS11 => 95,
        TLS12 | TLS13 => 100,
        _ => 0,
    }
}

/// Key-exchange score from key size (testssl `set_key_str_score`).
pub fn key_score(rsa: bool, bits: u32) -> u32 {
    let t: [u32; 4] = if rsa {
        [512, 1024, 2048, 4096]
    } else {
        [110, 123, 163, 225]
    };
    if bits < t[0] {
        20
    } else if bits < t[1] {
        40
    } else if bits < t[2] {
        80
    } else if bits < t[3] {
        90
    } else {
        100
    }
}

/// Symmetric strength in bits of a suite id (coarse, by family).
pub fn suite_bits(id: u16) -> u16 {
    for f in [
        WeakFamily::Null,
        WeakFamily::Export,
        WeakFamily::Des,
        WeakFamily::TripleDes,
        WeakFamily::Rc4,
    ] {
        if f.suites().contains(&id) {
            return f.bits();
        }
    }
    match id {
        0x1302 | 0x1303 | 0xc030 | 0xc02c | 0xcca8 | 0xcca9 | 0xc014 | 0xc00a | 0x0035 | 0x0039
        | 0x009d | 0x003d => 256,
        _ => 128,
    }
}

fn cipher_score(bits: u16) -> u32 {
    match bits {
        256.. => 100,
        128..=255 => 80,
        1..=127 => 20,
        0 => 0,
    }
}

fn letter(score: u32) -> &'static str {
    match score {
        80.. => "A",
        65..=79 => "B",
        50..=64 => "C",
        35..=49 => "D",
        20..=34 => "E",
        _ => "F",
    }
}

fn rank(g: &str) -> u8 {
    match g {
        "A+" => 0,
        "A" => 1,
        "A-" => 2,
        "B" => 3,
        "C" => 4,
        "D" => 5,
        "E" => 6,
        _ => 7,
    }
}

/// Computes the grade.
pub fn grade(i: &GradeInput) -> Grade {
    let mut reasons = Vec::new();
    if i.protocols.is_empty() {
        return Grade {
            grade: "F".into(),
            grade_if_trusted: "F".into(),
            score: 0,
            reasons: vec!["no protocol accepted".into()],
        };
    }
    let p_best = i
        .protocols
        .iter()
        .map(|v| protocol_score(*v))
        .max()
        .unwrap_or(0);
    let p_worst = i
        .protocols
        .iter()
        .map(|v| protocol_score(*v))
        .min()
        .unwrap_or(0);
    let kx = i.key.map(|(rsa, bits)| key_score(rsa, bits)).unwrap_or(100);
    let bits: Vec<u16> = i.suites.iter().map(|s| suite_bits(*s)).collect();
    let c_best = bits.iter().copied().max().map(cipher_score).unwrap_or(80);
    let c_worst = bits.iter().copied().min().map(cipher_score).unwrap_or(80);
    let (proto, cipher) = ((p_best + p_worst) / 2, (c_best + c_worst) / 2);
    let score = if proto == 0 || kx == 0 || cipher == 0 {
        0
    } else {
        (proto * 30 + kx * 30 + cipher * 40) / 100
    };
    let mut g = letter(score).to_string();
    let mut cap = |to: &str, why: &str, reasons: &mut Vec<String>| {
        reasons.push(format!("{why} → max {to}"));
        if rank(to) > rank(&g) {
            g = to.to_string();
        }
    };
    let has = |v: u16| i.protocols.contains(&v);
    let weak = |f: WeakFamily| i.weak.contains(&f);
    let modern = has(TLS12) || has(TLS11) || has(TLS13);
    if has(SSL2) {
        cap("F", "SSLv2 accepted", &mut reasons);
    }
    if i.protocols.iter().all(|v| *v <= SSL3) {
        cap("F", "SSLv3 is the best protocol", &mut reasons);
    }
    if weak(WeakFamily::Export) {
        cap("F", "export cipher suites", &mut reasons);
    }
    if weak(WeakFamily::Null) || weak(WeakFamily::Des) {
        cap("F", "cipher suites under 112 bits", &mut reasons);
    }
    if let Some((true, b)) = i.key
        && b < 1024
    {
        cap("F", "RSA key under 1024 bits", &mut reasons);
    }
    if weak(WeakFamily::Anonymous) {
        cap("F", "anonymous key exchange", &mut reasons);
    }
    if !has(TLS12) && !has(TLS13) {
        cap("C", "TLS 1.2 not supported", &mut reasons);
    }
    if modern && weak(WeakFamily::Rc4) {
        cap("C", "RC4 with TLS 1.1 or later", &mut reasons);
    }
    if modern && weak(WeakFamily::TripleDes) {
        cap("C", "3DES (SWEET32) with TLS 1.1 or later", &mut reasons);
    }
    if has(TLS10) || has(TLS11) {
        cap("B", "TLS 1.0 or 1.1 accepted", &mut reasons);
    }
    if has(SSL3) {
        cap("B", "SSLv3 accepted", &mut reasons);
    }
    if !i.forward_secrecy {
        cap("B", "no forward secrecy", &mut reasons);
    }
    if weak(WeakFamily::Rc4) {
        cap("B", "RC4 accepted", &mut reasons);
    }
    if let Some((true, b)) = i.key
        && b < 2048
    {
        cap("B", "RSA key under 2048 bits", &mut reasons);
    }
    if g == "A" {
        let warnings = !has(TLS13);
        if warnings {
            g = "A-".into();
            reasons.push("TLS 1.3 not supported → A-".into());
        } else if i.hsts_max_age.is_some_and(|a| a >= 15_552_000) {
            g = "A+".into();
        } else {
            reasons.push("no long-lived HSTS → not A+".into());
        }
    }
    let if_trusted = g.clone();
    let mut fin = g;
    if !i.trusted || i.expired || i.weak_signature {
        fin = "T".into();
        reasons.push("certificate not trusted, expired or SHA-1/MD5 signed → T".into());
    } else if !i.name_ok {
        fin = "M".into();
        reasons.push("certificate name mismatch → M".into());
    }
    Grade {
        grade: fin,
        grade_if_trusted: if_trusted,
        score,
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> GradeInput {
        GradeInput {
            protocols: vec![TLS12, TLS13],
            suites: vec![0x1302, 0xc030],
            weak: vec![],
            forward_secrecy: true,
            key: Some((false, 256)),
            trusted: true,
            expired: false,
            name_ok: true,
            weak_signature: false,
            hsts_max_age: Some(63_072_000),
        }
    }

    #[test]
    fn modern_with_hsts_is_a_plus() {
        let g = grade(&good());
        assert_eq!(g.grade, "A+");
        assert_eq!(g.score, 100);
    }

    #[test]
    fn caps_apply() {
        let mut i = good();
        i.protocols.push(TLS10);
        assert_eq!(grade(&i).grade, "B");
        let mut i = good();
        i.protocols = vec![TLS10];
        assert_eq!(grade(&i).grade, "C");
        let mut i = good();
        i.weak.push(WeakFamily::TripleDes);
        i.suites.push(0x000a);
        assert_eq!(grade(&i).grade, "C");
        let mut i = good();
        i.weak.push(WeakFamily::Export);
        assert_eq!(grade(&i).grade, "F");
        let mut i = good();
        i.key = Some((true, 1024));
        assert_eq!(grade(&i).grade, "B");
        let mut i = good();
        i.trusted = false;
        let g = grade(&i);
        assert_eq!((g.grade.as_str(), g.grade_if_trusted.as_str()), ("T", "A+"));
        let mut i = good();
        i.name_ok = false;
        assert_eq!(grade(&i).grade, "M");
        let mut i = good();
        i.protocols = vec![TLS12];
        assert_eq!(grade(&i).grade, "A-");
    }

    #[test]
    fn sslv2_caps_at_f() {
        let mut i = good();
        i.protocols.insert(0, SSL2);
        let g = grade(&i);
        assert_eq!((g.grade.as_str(), g.grade_if_trusted.as_str()), ("F", "F"));
        assert!(g.reasons.iter().any(|r| r.starts_with("SSLv2 accepted")));
        // Protocol score (100 + 0) / 2 = 50 with the rest perfect.
        assert_eq!(g.score, (50 * 30 + 100 * 30 + 100 * 40) / 100);
        // Only SSLv2: a zero protocol score makes the whole score zero.
        i.protocols = vec![SSL2];
        assert_eq!((grade(&i).grade.as_str(), grade(&i).score), ("F", 0));
        // Negative: the same server without SSLv2 keeps its A+.
        assert_eq!(grade(&good()).grade, "A+");
    }

    #[test]
    fn weighted_score() {
        // TLS 1.0 + 1.2: proto (100+90)/2 = 95; RSA 2048 → 90; AES256 + 3DES: (100+20)/2 = 60.
        let i = GradeInput {
            protocols: vec![TLS10, TLS12],
            suites: vec![0xc030, 0x000a],
            key: Some((true, 2048)),
            ..good()
        };
        assert_eq!(grade(&i).score, (95 * 30 + 90 * 30 + 60 * 40) / 100);
    }
}
