//! DNSSEC zones of the lab's DNS server: one key (ECDSA P-256, made once per process) signs
//! `signed.lab.test` correctly, `bogus.lab.test` with a broken signature on its address and
//! `expired.lab.test` with an expired one. [`trust_anchor`] gives the key as DNSKEY records for the
//! DNS check's `trust_anchor` setting, so tests validate against the lab instead of the IANA root.

use hickory_resolver::proto::dnssec::crypto::EcdsaSigningKey;
use hickory_resolver::proto::dnssec::rdata::{DNSKEY, DNSSECRData, RRSIG, SigInput};
use hickory_resolver::proto::dnssec::{Algorithm, DnssecSigner, SigningKey, TBS};
use hickory_resolver::proto::rr::{DNSClass, Name, RData, Record, RecordType, SerialNumber};
use std::str::FromStr;
use std::sync::OnceLock;

/// A zone signed correctly.
pub const SIGNED_ZONE: &str = "signed.lab.test";
/// A zone whose address record carries a broken signature.
pub const BOGUS_ZONE: &str = "bogus.lab.test";
/// A zone whose address record's signature expired yesterday.
pub const EXPIRED_ZONE: &str = "expired.lab.test";

const ZONES: [&str; 3] = [SIGNED_ZONE, BOGUS_ZONE, EXPIRED_ZONE];
const TTL: u32 = 60;

struct ZoneSigner {
    zone: Name,
    signer: DnssecSigner,
    dnskey: DNSKEY,
}

/// The lab's signers, one per signed zone, all with the same key (made once per process).
fn signers() -> Option<&'static [ZoneSigner]> {
    static SIGNERS: OnceLock<Option<Vec<ZoneSigner>>> = OnceLock::new();
    SIGNERS
        .get_or_init(|| {
            let pkcs8 = EcdsaSigningKey::generate_pkcs8(Algorithm::ECDSAP256SHA256).ok()?;
            ZONES
                .iter()
                .map(|z| {
                    let key =
                        EcdsaSigningKey::from_pkcs8(&pkcs8, Algorithm::ECDSAP256SHA256).ok()?;
                    let dnskey = DNSKEY::new(true, true, false, key.to_public_key().ok()?);
                    let zone = Name::from_str(&format!("{z}.")).ok()?;
                    let signer = DnssecSigner::new(
                        dnskey.clone(),
                        Box::new(key),
                        zone.clone(),
                        std::time::Duration::from_secs(2 * 86_400),
                    );
                    Some(ZoneSigner {
                        zone,
                        signer,
                        dnskey,
                    })
                })
                .collect()
        })
        .as_deref()
}

/// The lab key as a trust anchor: one DNSKEY record per signed zone, in zone-file syntax.
pub fn trust_anchor() -> String {
    signers()
        .unwrap_or_default()
        .iter()
        .map(|s| {
            let rdata = RData::DNSSEC(DNSSECRData::DNSKEY(s.dnskey.clone()));
            format!("{}\n", Record::from_rdata(s.zone.clone(), 3600, rdata))
        })
        .collect()
}

fn signer_of(name: &str) -> Option<&'static ZoneSigner> {
    let n = name.trim_end_matches('.').to_ascii_lowercase();
    signers()?
        .iter()
        .find(|s| s.zone.to_string().trim_end_matches('.') == n)
}

/// Whether `name` is the apex of a signed lab zone.
pub fn is_signed(name: &str) -> bool {
    signer_of(name).is_some()
}

/// The DNSKEY RRset of a signed zone.
pub fn dnskeys(name: &str) -> Vec<RData> {
    signer_of(name)
        .map(|s| vec![RData::DNSSEC(DNSSECRData::DNSKEY(s.dnskey.clone()))])
        .unwrap_or_default()
}

/// The RRSIG over `records` (one RRset of `name`), broken or expired as the zone asks; `None` for a
/// name outside the signed zones or an empty set.
pub fn rrsig(name: &Name, rtype: RecordType, records: &[Record]) -> Option<Record> {
    let s = signer_of(&name.to_string())?;
    if records.is_empty() {
        return None;
    }
    let now = u32::try_from(jiff::Timestamp::now().as_second()).ok()?;
    let zone = s.zone.to_string();
    // Address records of the expired zone: valid from ten days ago until yesterday. The DNSKEY set
    // stays valid, so the key itself is trusted and only the address fails.
    let expired = zone.starts_with(EXPIRED_ZONE) && rtype != RecordType::DNSKEY;
    let (inception, expiration) = if expired {
        (now - 10 * 86_400, now - 86_400)
    } else {
        (now - 3_600, now + 2 * 86_400)
    };
    let input = SigInput {
        type_covered: rtype,
        algorithm: s.signer.key().algorithm(),
        num_labels: name.num_labels(),
        original_ttl: TTL,
        sig_expiration: SerialNumber::new(expiration),
        sig_inception: SerialNumber::new(inception),
        key_tag: s.signer.calculate_key_tag().ok()?,
        signer_name: s.zone.clone(),
    };
    let tbs = TBS::from_input(name, DNSClass::IN, &input, records.iter()).ok()?;
    let mut sig = s.signer.sign(&tbs).ok()?;
    if zone.starts_with(BOGUS_ZONE) && rtype != RecordType::DNSKEY {
        // One flipped bit: the signature no longer matches the data.
        if let Some(b) = sig.get_mut(10) {
            *b ^= 0x01;
        }
    }
    let rdata = RData::DNSSEC(DNSSECRData::RRSIG(RRSIG::from_sig(input, sig)));
    Some(Record::from_rdata(name.clone(), TTL, rdata))
}

/// The TTL of every lab answer.
pub const fn ttl() -> u32 {
    TTL
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchor_names_every_signed_zone_with_one_key() {
        let a = trust_anchor();
        assert_eq!(a.lines().count(), 3, "{a}");
        for z in ZONES {
            assert!(a.contains(&format!("{z}.")), "{a}");
        }
        assert!(a.contains("DNSKEY 257 3 13 "), "{a}");
        assert!(is_signed("signed.lab.test.") && !is_signed("good.lab.test"));
    }
}
