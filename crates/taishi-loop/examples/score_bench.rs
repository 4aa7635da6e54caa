//! Benchmark driver for recomputing scores at scale (see `bench/loop/run.sh`).
//!
//! `score_bench load URL ORGS FINDINGS NOTICES` fills a fresh store: an org tree of ORGS orgs (one root,
//! ~1% second tier, the rest third tier), FINDINGS findings spread over them (a third resolved), and
//! NOTICES notices (issued over the year, half closed, some overdue). `bench/web/run.sh` seeds the
//! dashboard benchmark with it too.
//! `score_bench score URL PERIOD` recomputes every org's score for PERIOD (with the previous period for
//! the change column) through `LoopService::compute_scores` and stores the cards; it prints the
//! figures. Run each phase in its own process so peak memory is measured per phase.

use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use taishi_loop::{LoopService, ManualClock};
use taishi_model::finding::{Finding, Sighting};
use taishi_model::notice::{IncidentLevel, Notice, NoticeEvent, NoticeNumber, NoticeState};
use taishi_model::{Actor, AssetId, FindingSource, OrgId, OrgKind, Sector, Severity};
use taishi_store::transfer::{OrgRecord, RegistryDocument};

fn arg(i: usize) -> String {
    std::env::args().nth(i).unwrap_or_default()
}

#[allow(clippy::print_stdout)]
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (phase, url) = (arg(1), arg(2));
    let store = taishi_store::open(&url).await?;
    let t0 = std::time::Instant::now();
    if phase == "load" {
        let (n_orgs, n_findings, n_notices): (usize, usize, usize) =
            (arg(3).parse()?, arg(4).parse()?, arg(5).parse()?);
        let mids = (n_orgs / 100).max(1);
        let mut orgs = Vec::with_capacity(n_orgs);
        for i in 0..n_orgs {
            let parent = match i {
                0 => None,
                i if i <= mids => Some("O0".to_owned()),
                i => Some(format!("O{}", 1 + i % mids)),
            };
            orgs.push(OrgRecord {
                code: format!("O{i}"),
                parent,
                name: format!("单位{i}"),
                kind: if i == 0 {
                    OrgKind::Authority
                } else {
                    OrgKind::Institution
                },
                sector: Sector::Government,
                region_code: None,
                critical_infrastructure: false,
                principal: Default::default(),
                security_officer: Default::default(),
                notes: String::new(),
                origin: Default::default(),
            });
        }
        let doc = RegistryDocument {
            version: 1,
            orgs,
            assets: vec![],
        };
        store.import_registry(&Actor::system("bench"), &doc).await?;
        let ids: Vec<OrgId> = {
            let mut v = Vec::new();
            let mut page = taishi_model::Page {
                limit: 1000,
                after: None,
            };
            loop {
                let p = store.list_orgs(&Default::default(), page).await?;
                v.extend(p.items.iter().map(|o| o.id));
                match p.next {
                    Some(n) => page.after = Some(n),
                    None => break,
                }
            }
            v
        };
        println!(
            "orgs loaded: {} in {:.1}s",
            ids.len(),
            t0.elapsed().as_secs_f64()
        );
        let year0: Timestamp = "2026-01-01T00:00:00Z".parse()?;
        let sev = [
            Severity::Critical,
            Severity::High,
            Severity::Medium,
            Severity::Low,
            Severity::Info,
        ];
        let mut batch = Vec::with_capacity(10_000);
        for i in 0..n_findings {
            let org = ids[1 + i % (ids.len() - 1)];
            let at = year0.checked_add(SignedDuration::from_mins(
                (i as i64 * 7919) % (330 * 24 * 60),
            ))?;
            let mut f = Finding::open(
                uuid::Uuid::new_v4(),
                Sighting {
                    // Mostly probe findings, some detections and website outages, as the
                    // dashboard shows them (scores do not depend on the source).
                    source: if i % 50 == 0 {
                        FindingSource::Detection
                    } else {
                        FindingSource::Probe
                    },
                    check: match i % 97 {
                        0 => "availability.down".to_owned(),
                        _ => format!("check.{}", i % 40),
                    },
                    key: i.to_string(),
                    org,
                    asset: AssetId(i as i64 % 50_000),
                    title: format!("bench finding {}", i % 1000),
                    severity: sev[i % 5],
                    exploited: false,
                    internet_exposed: true,
                    evidence: serde_json::Value::Null,
                    seen_at: at,
                },
            );
            if i % 3 == 0 {
                f.absent(at.checked_add(SignedDuration::from_hours(24 * (1 + (i % 40) as i64)))?);
            }
            batch.push(f);
            if batch.len() == 10_000 {
                store.put_findings(&batch).await?;
                batch.clear();
            }
        }
        store.put_findings(&batch).await?;
        println!(
            "findings loaded: {n_findings} in {:.1}s",
            t0.elapsed().as_secs_f64()
        );
        let mut ns = Vec::with_capacity(10_000);
        for i in 0..n_notices {
            let issued = year0.checked_add(SignedDuration::from_mins(
                (i as i64 * 104_729) % (330 * 24 * 60),
            ))?;
            let due = issued.checked_add(SignedDuration::from_hours(24 * 14))?;
            let closed = (i % 2 == 0).then(|| {
                issued.checked_add(SignedDuration::from_hours(24 * (3 + (i % 20) as i64)))
            });
            let closed = closed.transpose()?;
            let state = if closed.is_some() {
                NoticeState::Closed
            } else {
                NoticeState::Acknowledged
            };
            let mut history = vec![];
            if i % 7 == 0 {
                history.push(NoticeEvent {
                    at: issued.checked_add(SignedDuration::from_hours(48))?,
                    actor: Actor::system("bench"),
                    action: "return".into(),
                    from: NoticeState::Verifying,
                    to: NoticeState::Returned,
                    comment: String::new(),
                    deadline: None,
                });
            }
            ns.push(Notice {
                id: uuid::Uuid::new_v4(),
                number: NoticeNumber {
                    year: 2026,
                    seq: i as u32 + 1,
                },
                org: ids[1 + (i * 13) % (ids.len() - 1)],
                findings: vec![],
                title: "bench notice".into(),
                severity: sev[i % 4],
                level: IncidentLevel::General,
                required_actions: vec![],
                state,
                created_by: Actor::system("bench"),
                created_at: issued,
                issued_at: Some(issued),
                ack_due: Some(issued),
                rectify_due: Some(due),
                acknowledged_at: Some(issued),
                submitted_at: closed,
                closed_at: closed,
                returns: u32::from(i % 7 == 0),
                escalations: vec![],
                history,
            });
            if ns.len() == 10_000 {
                store.save_notices(&ns).await?;
                ns.clear();
            }
        }
        store.save_notices(&ns).await?;
        println!(
            "notices loaded: {n_notices}; total load {:.1}s",
            t0.elapsed().as_secs_f64()
        );
    } else {
        let period = arg(3).parse()?;
        let clock = ManualClock::at(Timestamp::now());
        let service = LoopService::new(store.clone(), Arc::new(clock));
        let cards = service.compute_scores(period).await?;
        let secs = t0.elapsed().as_secs_f64();
        let mean = cards.iter().map(|c| c.own).sum::<f64>() / cards.len().max(1) as f64;
        println!(
            "scored {} orgs for {period} (and its previous period) in {secs:.2}s; mean own score {mean:.1}",
            cards.len()
        );
    }
    store.close().await;
    Ok(())
}
