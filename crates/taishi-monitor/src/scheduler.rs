//! The scheduler: decides which probe checks are due for which asset, runs them under global and
//! per-host limits, stores observations and feeds the results through the loop's one intake path.
//!
//! Every run becomes an [`Observation`] written to the store in one batch at the end of the pass. From
//! the stored runs the scheduler also evaluates the government-site week rule (at most hourly per
//! asset), refreshes the loop's monthly `availability` metric (every `availability_metrics_secs`) and
//! prunes observations past `observation_retention_days` (hourly).
//!
//! Time is read from the loop's [`Clock`], and one pass is [`Scheduler::tick`], which runs everything
//! due and returns when it is done: tests move a `ManualClock` and call `tick` without sleeping;
//! [`Scheduler::run`] calls it in a loop for `taishi serve`.

use crate::config::MonitorConfig;
use crate::intake::{IntakeCounts, ingest_run};
use crate::observe::{self, Observation};
use crate::plan::{self, Skipped};
use crate::{MonitorError, all_assets};
use futures::StreamExt;
use jiff::{SignedDuration, Timestamp};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use taishi_loop::{Clock, LoopService};
use taishi_model::finding::Finding;
use taishi_model::{Actor, Asset, AssetId, Severity, SoftwareFilter, SoftwareInput};
use taishi_probe::{Check, CheckReport, Outcome, Target, run_check};
use taishi_store::{FindingQuery, Store};
use tokio::sync::Semaphore;

/// One job: a check against one target of one asset.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobKey {
    /// The asset.
    pub asset: AssetId,
    /// The target text.
    pub target: String,
    /// The check id.
    pub check: String,
}

#[derive(Debug, Clone)]
struct JobState {
    due: Timestamp,
    running: bool,
    last: Option<Timestamp>,
}

/// What one tick did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Check runs started.
    pub runs: usize,
    /// Runs that ended in error (target unreachable by the prober, timeout, hostile answer).
    pub errors: usize,
    /// Intake totals.
    pub intake: IntakeCounts,
    /// Targets skipped while planning, as text.
    pub skipped: Vec<String>,
    /// Failures talking to the store or the loop (the run itself went on).
    pub failures: Vec<String>,
}

struct Due {
    key: JobKey,
    asset: Asset,
    target: Target,
    check: usize,
}

/// The probe scheduler over a store, the loop and a suite of checks.
pub struct Scheduler {
    store: Arc<dyn Store>,
    svc: Arc<LoopService>,
    clock: Arc<dyn Clock>,
    cfg: MonitorConfig,
    suite: Vec<Box<dyn Check>>,
    jobs: Mutex<HashMap<JobKey, JobState>>,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
    global: Arc<Semaphore>,
    /// Serialises the upkeep after passes (metrics, pruning) and remembers when each last ran.
    upkeep: tokio::sync::Mutex<Upkeep>,
    /// When the week rule was last evaluated per asset.
    week_checked: Mutex<HashMap<AssetId, Timestamp>>,
}

/// When the periodic work over stored observations last ran.
#[derive(Debug, Default)]
struct Upkeep {
    metrics: Option<Timestamp>,
    prune: Option<Timestamp>,
}

/// How often the week rule is evaluated per asset, and how often old observations are pruned.
const HOURLY: SignedDuration = SignedDuration::from_secs(3_600);

impl Scheduler {
    /// A scheduler running `suite` (built from `cfg.suite` by the caller, with its CA and DNS settings).
    pub fn new(
        store: Arc<dyn Store>,
        svc: Arc<LoopService>,
        clock: Arc<dyn Clock>,
        cfg: MonitorConfig,
        suite: Vec<Box<dyn Check>>,
    ) -> Result<Scheduler, MonitorError> {
        cfg.validate()?;
        Ok(Scheduler {
            store,
            svc,
            clock,
            global: Arc::new(Semaphore::new(cfg.max_concurrent)),
            cfg,
            suite,
            jobs: Mutex::new(HashMap::new()),
            hosts: Mutex::new(HashMap::new()),
            upkeep: tokio::sync::Mutex::new(Upkeep::default()),
            week_checked: Mutex::new(HashMap::new()),
        })
    }

    /// When each known job runs next (for status pages and tests).
    pub fn schedule(&self) -> Vec<(JobKey, Timestamp)> {
        let g = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        let mut v: Vec<(JobKey, Timestamp)> = g.iter().map(|(k, s)| (k.clone(), s.due)).collect();
        v.sort();
        v
    }

    /// The earliest due time of any job not running, if any.
    pub fn next_due(&self) -> Option<Timestamp> {
        let g = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        g.values().filter(|s| !s.running).map(|s| s.due).min()
    }

    fn worst(open: &[Finding]) -> Option<Severity> {
        open.iter()
            .map(|f| f.severity)
            .max()
            .filter(|s| *s >= Severity::Low)
    }

    fn own_interval(&self, check: usize) -> u64 {
        self.suite[check].schedule().interval_secs
    }

    /// Plans against the registry at the clock's now: new jobs get their first due time, vanished
    /// ones are dropped, and due ones are marked running and returned.
    fn plan(
        &self,
        assets: &[Asset],
        open: &HashMap<AssetId, Vec<Finding>>,
        now: Timestamp,
        report: &mut TickReport,
    ) -> Vec<Due> {
        let mut seen: HashSet<JobKey> = HashSet::new();
        let mut due = Vec::new();
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        for asset in assets {
            let (targets, skipped) = plan::targets_for(asset, self.cfg.max_cidr_hosts);
            for s in skipped {
                report.skipped.push(match s {
                    Skipped::CidrTooLarge { range, hosts } => {
                        format!(
                            "asset {}: {range} has {hosts} addresses (limit {})",
                            asset.id, self.cfg.max_cidr_hosts
                        )
                    }
                    Skipped::Wildcard(d) => {
                        format!("asset {}: wildcard domain {d} has no single host", asset.id)
                    }
                    Skipped::Invalid(t) => {
                        format!("asset {}: {t:?} is not a probe target", asset.id)
                    }
                });
            }
            let worst = open.get(&asset.id).and_then(|o| Self::worst(o));
            for target in targets {
                for (i, check) in self.suite.iter().enumerate() {
                    if !plan::applies(check.id(), &target) {
                        continue;
                    }
                    let key = JobKey {
                        asset: asset.id,
                        target: target.input.clone(),
                        check: check.id().to_owned(),
                    };
                    seen.insert(key.clone());
                    let every = plan::interval(&self.cfg, check.id(), self.own_interval(i), worst);
                    let frac = plan::spread(&[&asset.id.to_string(), &key.target, &key.check]);
                    let st = jobs.entry(key.clone()).or_insert_with(|| JobState {
                        due: plan::first_due(now, every, self.cfg.first_spread_secs, frac),
                        running: false,
                        last: None,
                    });
                    // A finding opened since the last run may pull the next run closer.
                    if let Some(last) = st.last {
                        st.due = st
                            .due
                            .min(plan::next_due(last, every, self.cfg.jitter, frac));
                    }
                    if !st.running && st.due <= now {
                        st.running = true;
                        due.push(Due {
                            key,
                            asset: asset.clone(),
                            target: target.clone(),
                            check: i,
                        });
                    }
                }
            }
        }
        jobs.retain(|k, s| s.running || seen.contains(k));
        due
    }

    fn host_limit(&self, host: &str) -> Arc<Semaphore> {
        let mut g = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(
            g.entry(host.to_owned())
                .or_insert_with(|| Arc::new(Semaphore::new(self.cfg.per_host))),
        )
    }

    async fn load(&self) -> Result<(Vec<Asset>, HashMap<AssetId, Vec<Finding>>), MonitorError> {
        let assets = all_assets(self.store.as_ref()).await?;
        let q = FindingQuery {
            statuses: vec!["open".into()],
            ..FindingQuery::default()
        };
        let mut open: HashMap<AssetId, Vec<Finding>> = HashMap::new();
        for f in self.store.list_findings(&q).await? {
            open.entry(f.asset).or_default().push(f);
        }
        Ok((assets, open))
    }

    /// Runs every job due at the clock's now and returns when all are done.
    pub async fn tick(&self) -> Result<TickReport, MonitorError> {
        let now = self.clock.now();
        let mut report = TickReport::default();
        let (assets, open) = self.load().await?;
        let due = self.plan(&assets, &open, now, &mut report);
        report.runs = due.len();
        let results: Vec<(Due, CheckReport, Timestamp)> = futures::stream::iter(due)
            .map(|d| async move {
                let (rep, at) = self.execute(&d).await;
                (d, rep, at)
            })
            .buffer_unordered(self.cfg.max_concurrent)
            .collect()
            .await;
        let empty = Vec::new();
        let mut batch: Vec<Observation> = Vec::with_capacity(results.len());
        let mut week: Vec<(Asset, Target)> = Vec::new();
        for (d, rep, at) in results {
            let asset_open = open.get(&d.asset.id).unwrap_or(&empty);
            if rep.run.outcome == Outcome::Error {
                report.errors += 1;
            }
            batch.push(observe::observation_of(&d.asset, &d.target, &rep, at));
            if d.key.check == "availability"
                && rep.run.outcome != Outcome::Error
                && !week.iter().any(|(a, _)| a.id == d.asset.id)
            {
                week.push((d.asset.clone(), d.target.clone()));
            }
            match ingest_run(&self.svc, &d.asset, &d.target, &rep, asset_open, at).await {
                Ok(c) => report.intake.add(c),
                Err(e) => report
                    .failures
                    .push(format!("intake {}/{}: {e}", d.key.target, d.key.check)),
            }
            if d.key.check == "fingerprint"
                && let Err(e) = self.record_software(&d.asset, &rep).await
            {
                report
                    .failures
                    .push(format!("software inventory of asset {}: {e}", d.asset.id));
            }
            let worst = Self::worst(asset_open).max(rep.findings.iter().map(|f| f.severity).max());
            self.finish(&d, at, worst);
        }
        if let Err(e) = self.store.add_observations(&batch).await {
            report
                .failures
                .push(format!("storing {} observations: {e}", batch.len()));
        }
        self.week_rules(week, &open, now, &mut report).await;
        self.upkeep(now, !batch.is_empty(), &mut report).await;
        Ok(report)
    }

    /// The government-site week rule for assets whose availability was just checked, at most hourly
    /// per asset, from the stored week (so it holds across restarts), through the loop's intake.
    async fn week_rules(
        &self,
        assets: Vec<(Asset, Target)>,
        open: &HashMap<AssetId, Vec<Finding>>,
        now: Timestamp,
        report: &mut TickReport,
    ) {
        let empty = Vec::new();
        for (asset, target) in assets {
            {
                let mut g = self.week_checked.lock().unwrap_or_else(|e| e.into_inner());
                if g.get(&asset.id)
                    .is_some_and(|t| now.duration_since(*t) < HOURLY)
                {
                    continue;
                }
                g.insert(asset.id, now);
            }
            let rep = match observe::week_rule(self.store.as_ref(), &asset, &target, now).await {
                Ok(Some(rep)) => rep,
                Ok(None) => continue,
                Err(e) => {
                    report
                        .failures
                        .push(format!("week rule of asset {}: {e}", asset.id));
                    continue;
                }
            };
            let asset_open = open.get(&asset.id).unwrap_or(&empty);
            match ingest_run(&self.svc, &asset, &target, &rep, asset_open, now).await {
                Ok(c) => report.intake.add(c),
                Err(e) => report.failures.push(format!(
                    "intake {}/{}: {e}",
                    target.input,
                    observe::WEEK_COMPONENT
                )),
            }
        }
    }

    /// Work over the stored observations after a pass: the monthly availability metric every
    /// `availability_metrics_secs` (and once more for the month just ended), pruning hourly.
    async fn upkeep(&self, now: Timestamp, wrote: bool, report: &mut TickReport) {
        let Ok(mut u) = self.upkeep.try_lock() else {
            return; // another pass is doing it
        };
        let every = SignedDuration::from_secs(
            i64::try_from(self.cfg.availability_metrics_secs).unwrap_or(i64::MAX),
        );
        let due = u.metrics.is_none_or(|t| now.duration_since(t) >= every);
        if wrote && due {
            if let Some(last) = u.metrics
                && !observe::same_month(last, now)
            {
                // The month just ended gets its final figures once.
                match observe::previous_month_instant(now) {
                    Ok(prev) => {
                        if let Err(e) =
                            observe::availability_metrics(self.store.as_ref(), prev).await
                        {
                            report.failures.push(format!("availability metrics: {e}"));
                        }
                    }
                    Err(e) => report.failures.push(format!("availability metrics: {e}")),
                }
            }
            match observe::availability_metrics(self.store.as_ref(), now).await {
                Ok(_) => u.metrics = Some(now),
                Err(e) => report.failures.push(format!("availability metrics: {e}")),
            }
        }
        if u.prune.is_none_or(|t| now.duration_since(t) >= HOURLY) {
            let keep =
                SignedDuration::from_hours(i64::from(self.cfg.observation_retention_days) * 24);
            let before = now.saturating_sub(keep).unwrap_or(now);
            match self.store.prune_observations(before).await {
                Ok(n) => {
                    u.prune = Some(now);
                    if n > 0 {
                        tracing::info!(pruned = n, "Old observations pruned.");
                    }
                }
                Err(e) => report.failures.push(format!("pruning observations: {e}")),
            }
        }
    }

    async fn execute(&self, d: &Due) -> (CheckReport, Timestamp) {
        let check = self.suite[d.check].as_ref();
        let _global = Arc::clone(&self.global).acquire_owned().await;
        let _host = self.host_limit(&d.target.host).acquire_owned().await;
        let at = self.clock.now();
        let limit = check.schedule().timeout() + Duration::from_millis(self.cfg.grace_ms);
        let rep = match tokio::time::timeout(limit, run_check(check, &d.target)).await {
            Ok(r) => r,
            Err(_) => CheckReport {
                run: taishi_probe::CheckRun {
                    check_id: check.id().to_owned(),
                    target: d.target.input.clone(),
                    outcome: Outcome::Error,
                    duration_ms: u64::try_from(limit.as_millis()).unwrap_or(u64::MAX),
                    observation: serde_json::Value::Null,
                    error: Some(format!("abandoned after {} ms", limit.as_millis())),
                },
                findings: Vec::new(),
            },
        };
        (rep, at)
    }

    fn finish(&self, d: &Due, at: Timestamp, worst: Option<Severity>) {
        let every = plan::interval(&self.cfg, &d.key.check, self.own_interval(d.check), worst);
        let frac = plan::spread(&[&d.asset.id.to_string(), &d.key.target, &d.key.check]);
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(st) = jobs.get_mut(&d.key) {
            st.running = false;
            st.last = Some(at);
            st.due = plan::next_due(at, every, self.cfg.jitter, frac);
        }
    }

    /// Writes software the fingerprint check identified into the asset's inventory (once per line),
    /// so vulnerability warnings can match it.
    async fn record_software(&self, asset: &Asset, rep: &CheckReport) -> Result<(), MonitorError> {
        let Some(list) = rep
            .run
            .observation
            .get("software")
            .and_then(|v| v.as_array())
        else {
            return Ok(());
        };
        let filter = SoftwareFilter {
            asset: Some(asset.id),
            ..SoftwareFilter::default()
        };
        let have = crate::all_software(self.store.as_ref(), &filter).await?;
        for s in list {
            let text = |k: &str| {
                s.get(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            let input = SoftwareInput {
                vendor: text("vendor"),
                product: text("product"),
                version: text("version"),
                cpe: s.get("cpe").and_then(|v| v.as_str()).map(str::to_owned),
            };
            if input.vendor.is_empty() || input.product.is_empty() || input.validate().is_err() {
                continue;
            }
            let known = have.iter().any(|h| {
                h.vendor.eq_ignore_ascii_case(&input.vendor)
                    && h.product.eq_ignore_ascii_case(&input.product)
                    && h.version == input.version
            });
            if !known {
                self.store
                    .add_software(&Actor::system("probe-fingerprint"), asset.id, input)
                    .await?;
            }
        }
        Ok(())
    }

    /// Ticks whenever something is due (looking at least every `poll_ms`) until `shutdown` completes.
    /// Passes overlap (a weekly port scan does not hold up five-minute availability checks); a job is
    /// never run twice at once, and at most four passes are in flight.
    pub async fn run(self: Arc<Self>, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut passes = tokio::task::JoinSet::new();
        let mut last_pass = None;
        loop {
            while let Some(r) = passes.try_join_next() {
                log_pass(r);
            }
            // Load the registry again only when something is due or every `refresh_secs` (to see
            // new assets), not on every poll.
            let now = self.clock.now();
            let stale = last_pass.is_none_or(|t: jiff::Timestamp| {
                now.duration_since(t) >= SignedDuration::from_secs(self.cfg.refresh_secs as i64)
            });
            if passes.len() < 4 && (stale || self.next_due().is_some_and(|d| d <= now)) {
                last_pass = Some(now);
                let me = Arc::clone(&self);
                passes.spawn(async move { me.tick().await });
            }
            let poll =
                SignedDuration::from_millis(i64::try_from(self.cfg.poll_ms).unwrap_or(1_000));
            let wait = self
                .next_due()
                .map(|d| {
                    d.duration_since(self.clock.now())
                        .clamp(SignedDuration::from_millis(100), poll)
                })
                .unwrap_or(poll);
            let wait = Duration::try_from(wait).unwrap_or(Duration::from_secs(1));
            tokio::select! {
                () = &mut shutdown => { passes.abort_all(); return; }
                () = tokio::time::sleep(wait) => {}
            }
        }
    }
}

fn log_pass(r: Result<Result<TickReport, MonitorError>, tokio::task::JoinError>) {
    match r {
        Ok(Ok(rep)) => {
            if rep.runs > 0 {
                tracing::info!(
                    runs = rep.runs,
                    errors = rep.errors,
                    opened = rep.intake.opened,
                    reopened = rep.intake.reopened,
                    resolved = rep.intake.resolved,
                    "Probe pass done."
                );
            }
            for f in rep.failures {
                tracing::warn!(failure = %f, "Probe intake problem.");
            }
        }
        Ok(Err(e)) => tracing::warn!(error = %e, "Probe pass failed."),
        Err(e) if e.is_cancelled() => {}
        Err(e) => tracing::warn!(error = %e, "Probe pass panicked."),
    }
}
