//! One scheduler pass over N lab websites registered in a temp SQLite store: runs per second, findings
//! opened and peak memory. `cargo run --release -p taishi-monitor --example tick_bench -- 1000`

use std::sync::Arc;
use std::time::Instant;
use taishi_loop::{LoopService, SystemClock};
use taishi_model::{Actor, AssetInput, AssetKind, OrgInput, OrgKind, Sector};
use taishi_monitor::{MonitorConfig, Scheduler};
use taishi_probe::http::HttpLimits;
use taishi_probe::lab::Lab;
use taishi_probe::{Env, build_suite};

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    let dir = tempfile::tempdir()?;
    let store =
        taishi_store::open(&format!("sqlite://{}", dir.path().join("b.db").display())).await?;
    let actor = Actor::system("bench");
    let org = store
        .create_org(
            &actor,
            OrgInput {
                parent_id: None,
                code: "bench".into(),
                name: "bench".into(),
                kind: OrgKind::District,
                sector: Sector::Government,
                region_code: None,
                critical_infrastructure: false,
                contacts: Default::default(),
                notes: String::new(),
            },
        )
        .await?;
    let lab = Lab::start_many(n).await?;
    for s in &lab.sites {
        let input = AssetInput {
            org_id: org.id,
            kind: AssetKind::Website,
            identity: s.target.clone(),
            name: String::new(),
            tags: vec![],
            mlps_level: None,
            critical_infrastructure: false,
            notes: String::new(),
        };
        store.create_asset(&actor, input).await?;
    }
    let cfg = MonitorConfig {
        first_spread_secs: 0,
        ..MonitorConfig::default()
    };
    let mut env = Env::new(HttpLimits::default());
    env.add_ca_pem(&lab.ca_pem, "lab CA")?;
    let suite = build_suite(&cfg.suite, &env)?;
    let clock = Arc::new(SystemClock);
    let svc = Arc::new(LoopService::new(Arc::clone(&store), clock.clone()));
    let sched = Scheduler::new(Arc::clone(&store), svc, clock, cfg, suite)?;
    let t = Instant::now();
    let rep = sched.tick().await?;
    let secs = t.elapsed().as_secs_f64();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    use std::io::Write;
    writeln!(
        out,
        "sites {n}  runs {}  errors {}  findings opened {}  wall {secs:.1} s  {:.1} sites/s  {:.0} runs/s  peak RSS {} MiB",
        rep.runs,
        rep.errors,
        rep.intake.opened,
        n as f64 / secs,
        rep.runs as f64 / secs,
        peak_rss_kib() / 1024
    )?;
    Ok(())
}
