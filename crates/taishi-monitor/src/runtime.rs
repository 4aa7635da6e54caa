//! The monitor as `taishi serve` runs it: the loop service with the probe re-verifier, the scheduler
//! task, the periodic warnings run, and in demo mode the lab and the seeded constituency.

use crate::demo;
use crate::warning::{Catalogue, WarningPolicy, run_warnings};
use crate::{MonitorConfig, MonitorError, ProbeReverifier, Scheduler};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use taishi_loop::{Clock, LoopService};
use taishi_probe::checks::ports::PortsConfig;
use taishi_probe::http::HttpLimits;
use taishi_probe::lab::Lab;
use taishi_probe::{CheckConfig, Env, build_suite};
use taishi_store::Store;
use tokio::task::JoinHandle;

/// How to start the monitor.
#[derive(Debug, Clone, Default)]
pub struct MonitorOptions {
    /// Start the lab and seed the demo constituency.
    pub demo: bool,
    /// The CISA KEV catalogue JSON, read at start-up (warnings are off without it).
    pub kev: Option<PathBuf>,
    /// NVD CVE API 2.0 pages to confirm affected versions.
    pub nvd: Vec<PathBuf>,
    /// Extra CA certificates (PEM text) the checks trust.
    pub ca_pem: Vec<String>,
    /// Scheduler settings (`None`: defaults).
    pub config: Option<MonitorConfig>,
    /// How often warnings are matched again.
    pub warnings_every: Option<Duration>,
}

/// A running monitor; dropping it stops its tasks and the lab.
pub struct Monitor {
    /// The loop service, with the re-verifier: give it to the server (`AppState::with_loop`).
    pub service: Arc<LoopService>,
    /// The scheduler (observations, schedule).
    pub scheduler: Arc<Scheduler>,
    /// Lines for the operator (demo users and password, lab size, warnings feed), to print once.
    pub lines: Vec<String>,
    lab: Option<Lab>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Monitor {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Monitor {
    /// Starts everything over `store`, reading time from `clock`.
    pub async fn start(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        opts: MonitorOptions,
    ) -> Result<Monitor, MonitorError> {
        let mut cfg = opts.config.clone().unwrap_or_default();
        let mut lines = Vec::new();
        let mut env = Env::new(HttpLimits::default());
        for (i, pem) in opts.ca_pem.iter().enumerate() {
            env.add_ca_pem(pem, &format!("extra CA #{}", i + 1))?;
        }
        let lab = if opts.demo {
            let lab = Lab::start().await?;
            env.add_ca_pem(&lab.ca_pem, "lab CA")?;
            let s = demo::seed(store.as_ref(), &lab).await?;
            lines.push(format!(
                "Demo: lab of {} sites on 127.0.0.1; {} orgs and {} assets seeded; first findings within a minute.",
                lab.sites.len(),
                s.orgs,
                s.assets
            ));
            for (name, role) in &s.users {
                lines.push(format!(
                    "Demo user {name} ({role}), password {}",
                    demo::DEMO_PASSWORD
                ));
            }
            // The lab's services share 127.0.0.1: scan only each target's own port, not the machine's.
            for c in &mut cfg.suite {
                if let CheckConfig::Ports(p) = c {
                    *p = PortsConfig {
                        ports: Vec::new(),
                        ..p.clone()
                    };
                }
            }
            cfg.first_spread_secs = cfg.first_spread_secs.min(10);
            Some(lab)
        } else {
            None
        };
        let catalogue = match &opts.kev {
            Some(p) => {
                let c = Catalogue::load(Some(p), &opts.nvd)?;
                lines.push(format!(
                    "Warnings: KEV {} ({} entries), {} NVD records.",
                    c.kev_version,
                    c.kev_len(),
                    c.nvd_len()
                ));
                Some(Arc::new(c))
            }
            None => None,
        };
        let mut rv = ProbeReverifier::new(
            Arc::clone(&store),
            build_suite(&cfg.suite, &env)?,
            Arc::clone(&clock),
        );
        if let Some(c) = &catalogue {
            rv = rv.with_catalogue(Arc::clone(c));
        }
        let service = Arc::new(
            LoopService::new(Arc::clone(&store), Arc::clone(&clock)).with_reverifier(Arc::new(rv)),
        );
        let suite = build_suite(&cfg.suite, &env)?;
        let scheduler = Arc::new(Scheduler::new(
            Arc::clone(&store),
            Arc::clone(&service),
            clock,
            cfg,
            suite,
        )?);
        let mut tasks = vec![tokio::spawn(
            Arc::clone(&scheduler).run(std::future::pending()),
        )];
        if let Some(cat) = catalogue {
            let every = opts.warnings_every.unwrap_or(Duration::from_secs(6 * 3600));
            // The first pass waits for the fingerprint check to fill the software inventory.
            let first = if opts.demo {
                Duration::from_secs(45)
            } else {
                Duration::from_secs(120)
            };
            let (svc, st) = (Arc::clone(&service), Arc::clone(&store));
            tasks.push(tokio::spawn(async move {
                tokio::time::sleep(first).await;
                loop {
                    match run_warnings(&svc, st.as_ref(), &cat, &WarningPolicy::default()).await {
                        Ok(r) => tracing::info!(
                            software = r.software,
                            hits = r.hits,
                            opened = r.opened,
                            resolved = r.resolved,
                            "Warnings matched."
                        ),
                        Err(e) => tracing::warn!(error = %e, "Warnings run failed."),
                    }
                    tokio::time::sleep(every).await;
                }
            }));
        }
        Ok(Monitor {
            service,
            scheduler,
            lines,
            lab,
            tasks,
        })
    }

    /// The lab, in demo mode.
    pub fn lab(&self) -> Option<&Lab> {
        self.lab.as_ref()
    }
}
