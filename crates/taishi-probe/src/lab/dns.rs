//! The lab's tiny authoritative DNS server (UDP, 127.0.0.1): two zones, one with good mail and
//! CA records, one without, so the DNS check can be tested with no network; and three DNSSEC zones
//! (signed correctly, with a broken signature, with an expired one — [`sec`]) whose answers carry
//! RRSIGs, validated against the lab's own trust anchor ([`sec::trust_anchor`]).

#[path = "dns_sec.rs"]
pub mod sec;

use hickory_resolver::proto::op::{Edns, Message, MessageType, OpCode, ResponseCode};
use hickory_resolver::proto::rr::rdata::{A, CAA, MX, TXT};
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use std::net::{Ipv4Addr, SocketAddr};
use std::str::FromStr;
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

use super::LabError;

/// The zone with SPF -all, DMARC reject, CAA and MX.
pub const GOOD_ZONE: &str = "good.lab.test";
/// The zone with no SPF, DMARC p=none and no CAA.
pub const WEAK_ZONE: &str = "weak.lab.test";

fn answers(name: &str, t: RecordType) -> Vec<RData> {
    let n = name.trim_end_matches('.').to_ascii_lowercase();
    let txt = |s: &str| RData::TXT(TXT::new(vec![s.to_string()]));
    match (n.as_str(), t) {
        (GOOD_ZONE | WEAK_ZONE, RecordType::A) => vec![RData::A(A(Ipv4Addr::new(127, 0, 0, 1)))],
        (z, RecordType::A) if sec::is_signed(z) => vec![RData::A(A(Ipv4Addr::new(127, 0, 0, 1)))],
        (z, RecordType::DNSKEY) if sec::is_signed(z) => sec::dnskeys(z),
        (GOOD_ZONE, RecordType::TXT) => vec![txt("v=spf1 mx -all")],
        ("_dmarc.good.lab.test", RecordType::TXT) => {
            vec![txt("v=DMARC1; p=reject; rua=mailto:dmarc@good.lab.test")]
        }
        (GOOD_ZONE, RecordType::CAA) => {
            let ca = Name::from_str("letsencrypt.org").ok();
            vec![RData::CAA(CAA::new_issue(false, ca, vec![]))]
        }
        (GOOD_ZONE | WEAK_ZONE, RecordType::MX) => {
            let mx = Name::from_str(&format!("mail.{n}.")).unwrap_or_else(|_| Name::root());
            vec![RData::MX(MX::new(10, mx))]
        }
        (WEAK_ZONE, RecordType::TXT) => vec![txt("google-site-verification=abc")],
        ("_dmarc.weak.lab.test", RecordType::TXT) => vec![txt("v=DMARC1; p=none")],
        _ => Vec::new(),
    }
}

/// Answers one query packet; `None` when it does not parse.
pub fn respond(packet: &[u8]) -> Option<Vec<u8>> {
    let q = Message::from_vec(packet).ok()?;
    let query = q.queries.first()?.clone();
    let mut m = Message::new(q.metadata.id, MessageType::Response, OpCode::Query);
    m.metadata.authoritative = true;
    m.metadata.recursion_desired = q.metadata.recursion_desired;
    let name = query.name().to_string();
    let known = name.trim_end_matches('.').ends_with("lab.test");
    m.metadata.response_code = if known {
        ResponseCode::NoError
    } else {
        ResponseCode::NXDomain
    };
    let records: Vec<Record> = answers(&name, query.query_type())
        .into_iter()
        .map(|rdata| Record::from_rdata(query.name().clone(), sec::ttl(), rdata))
        .collect();
    let sig = sec::rrsig(query.name(), query.query_type(), &records);
    m.add_answers(records);
    if let Some(rrsig) = sig {
        m.add_answer(rrsig);
    }
    if let Some(e) = &q.edns {
        let mut edns = Edns::new();
        edns.set_max_payload(1232);
        edns.set_dnssec_ok(e.flags().dnssec_ok);
        m.set_edns(edns);
    }
    m.add_query(query);
    m.to_vec().ok()
}

/// Starts the DNS server; returns its address and task.
pub async fn start() -> Result<(SocketAddr, JoinHandle<()>), LabError> {
    let sock = UdpSocket::bind("127.0.0.1:0")
        .await
        .map_err(|e| LabError::Bind(e.to_string()))?;
    let addr = sock
        .local_addr()
        .map_err(|e| LabError::Bind(e.to_string()))?;
    let task = tokio::spawn(async move {
        let mut buf = vec![0u8; 1500];
        loop {
            let Ok((n, from)) = sock.recv_from(&mut buf).await else {
                continue;
            };
            if let Some(out) = respond(&buf[..n]) {
                let _ = sock.send_to(&out, from).await;
            }
        }
    });
    Ok((addr, task))
}
