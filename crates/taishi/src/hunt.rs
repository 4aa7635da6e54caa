//! `taishi hunt [--rules DIR]... PATH...`: runs Sigma rules over log files and folders (EVTX, JSON
//! lines, zipped JSON lines, syslog, Suricata EVE, Zeek JSON) and prints the detections.
//!
//! taishi does not ship the SigmaHQ rules: name a rules folder with `--rules` (repeatable) or the
//! `TAISHI_HUNT_RULES` environment variable (comma-separated), e.g. a checkout of
//! <https://github.com/SigmaHQ/sigma> `rules/`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, bail};
use taishi_hunt::OutputFormat;
use taishi_sigma::{Level, LoadOptions, Mapping, Placeholders, Selection, Status};

/// Arguments of `taishi hunt`.
#[derive(Debug, clap::Args)]
pub struct HuntArgs {
    /// Log files or folders to scan (folders are walked for .evtx, .json, .jsonl, .log, .zip …).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Sigma rule folder or file (repeatable). Required: taishi does not ship the SigmaHQ rules.
    #[arg(
        long = "rules",
        short = 'r',
        env = "TAISHI_HUNT_RULES",
        value_delimiter = ','
    )]
    pub rules: Vec<PathBuf>,
    /// Logsource mapping file (YAML) replacing the built-in Windows mapping.
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// Placeholder values for the `expand` modifier (YAML: name → list of values).
    #[arg(long)]
    pub placeholders: Option<PathBuf>,
    /// Only rules at this level or above (informational, low, medium, high, critical).
    #[arg(long)]
    pub level: Option<String>,
    /// Only rules with these statuses (comma-separated: stable,test,experimental,…).
    #[arg(long, value_delimiter = ',')]
    pub status: Vec<String>,
    /// Output format: table, jsonl or csv.
    #[arg(long, default_value = "table")]
    pub format: OutputFormat,
    /// Write detections to this file instead of standard output.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Sort JSON lines and CSV output into a timeline (keeps every detection in memory until the end;
    /// without it they stream out in input order). The table is always sorted.
    #[arg(long)]
    pub sort: bool,
    /// No progress bar, no summary, no rule-loading report.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// List every rule that could not be loaded and every skipped record.
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// Also load the detections into the platform at this store (`sqlite://…` or `postgres://…`) as
    /// alerts: findings with source `detection`, attributed to orgs through the registered IPs, CIDRs and
    /// host names, deduplicated by rule, host and hour.
    #[arg(long, value_name = "STORE", env = "TAISHI_HUNT_LOAD_INTO")]
    pub load_into: Option<String>,
}

fn load_options(args: &HuntArgs) -> anyhow::Result<LoadOptions> {
    let mut opts = LoadOptions::default();
    if let Some(path) = &args.mapping {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading mapping {}", path.display()))?;
        opts.mapping = Mapping::from_yaml(&text)
            .map_err(|e| anyhow::anyhow!("mapping {}: {e}", path.display()))?;
    }
    if let Some(path) = &args.placeholders {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading placeholders {}", path.display()))?;
        opts.placeholders = Placeholders::from_yaml(&text)
            .map_err(|e| anyhow::anyhow!("placeholders {}: {e}", path.display()))?;
    }
    let min_level = match &args.level {
        Some(l) => Some(Level::parse(l).with_context(|| {
            format!("unknown level {l:?} (informational, low, medium, high, critical)")
        })?),
        None => None,
    };
    let statuses = args
        .status
        .iter()
        .map(|s| Status::parse(s).with_context(|| format!("unknown status {s:?}")))
        .collect::<anyhow::Result<_>>()?;
    opts.selection = Selection {
        min_level,
        statuses,
    };
    Ok(opts)
}

/// Runs `taishi hunt`.
pub fn run(args: HuntArgs) -> anyhow::Result<()> {
    if args.rules.is_empty() {
        bail!(
            "no rules: pass --rules DIR (e.g. a checkout of SigmaHQ's rules/ folder) or set \
             TAISHI_HUNT_RULES; taishi does not ship Sigma rules"
        );
    }
    if let Some(n) = args.threads {
        taishi_hunt::configure_threads(n)?;
    }
    let loading = std::time::Instant::now();
    let (plan, report) = taishi_hunt::load_rules(&args.rules, load_options(&args)?)?;
    let mut err = std::io::stderr().lock();
    if !args.quiet {
        writeln!(
            err,
            "Loaded {} rules and {} correlations from {} documents in {:.2} s; {} not loaded, {} without a logsource mapping, {} deselected",
            report.rules,
            report.correlations,
            report.documents,
            loading.elapsed().as_secs_f64(),
            report.errors.len(),
            report.unmapped.len(),
            report.deselected
        )?;
    }
    if args.verbose {
        for e in &report.errors {
            writeln!(err, "rule not loaded: {e}")?;
        }
    }
    if report.rules == 0 && report.correlations == 0 {
        bail!("no rule loaded from {:?}", args.rules);
    }
    let files = taishi_hunt::collect_inputs(&args.paths)?;
    let total: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let bar = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    drop(err);
    let progress = |n| {
        if let Some(b) = &bar {
            b.inc(n);
        }
    };
    let out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut sink = taishi_hunt::printer(args.format, out);
    let keep = args.sort || args.format == OutputFormat::Table || args.load_into.is_some();
    let (outcome, written) = if keep {
        let outcome = taishi_hunt::hunt(&plan, &files, &progress);
        let written = outcome
            .detections
            .iter()
            .try_for_each(|d| sink.detection(&plan, d));
        (outcome, written)
    } else {
        // Stream: memory stays flat however many detections there are.
        let mut written = Ok(());
        let outcome = taishi_hunt::hunt_streaming(&plan, &files, &progress, &mut |d| {
            if written.is_ok() {
                written = sink.detection(&plan, &d);
            }
        });
        (outcome, written)
    };
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let mut err = std::io::stderr().lock();
    for e in &outcome.errors {
        writeln!(err, "error: {e}")?;
    }
    let shown = if args.verbose { usize::MAX } else { 10 };
    for w in outcome.warnings.iter().take(shown) {
        writeln!(err, "warning: {w}")?;
    }
    if outcome.warnings.len() > shown {
        writeln!(
            err,
            "… and {} more warnings (--verbose lists them)",
            outcome.warnings.len() - shown
        )?;
    }
    match written.and_then(|()| sink.finish(&outcome.summary)) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
        r => r.context("writing detections")?,
    }
    // The table ends with the summary; machine formats keep standard output clean.
    if !args.quiet && (args.format != OutputFormat::Table || args.output.is_some()) {
        taishi_hunt::write_summary(&mut err, &outcome.summary)?;
    }
    if let Some(url) = &args.load_into {
        let rep = load_alerts(url, &plan, &outcome.detections)?;
        writeln!(
            err,
            "alerts: {} new findings, {} folded into existing ones, {} unattributed hosts{}{}",
            rep.opened,
            rep.merged,
            rep.unattributed.len(),
            if rep.unattributed.is_empty() {
                ""
            } else {
                ": "
            },
            rep.unattributed.join(", ")
        )?;
    }
    Ok(())
}

/// Loads detections into the platform's store through the loop's one findings path.
fn load_alerts(
    url: &str,
    plan: &taishi_sigma::Plan,
    detections: &[taishi_hunt::Detection],
) -> anyhow::Result<taishi_monitor::alerts::AlertReport> {
    use taishi_monitor::alerts::{AlertPolicy, alerts_from, ingest_alerts};
    let alerts = alerts_from(plan, detections);
    tokio::runtime::Runtime::new()?.block_on(async {
        let store = taishi_store::open(url)
            .await
            .context("--load-into: opening the store")?;
        let index = taishi_store::load_attribution(store.as_ref())
            .await
            .context("--load-into: reading the registry for attribution")?;
        let svc = taishi_loop::LoopService::new(
            store.clone(),
            std::sync::Arc::new(taishi_loop::SystemClock),
        );
        let rep = ingest_alerts(&svc, &index, &alerts, &AlertPolicy::default()).await;
        store.close().await;
        rep.context("--load-into: loading alerts")
    })
}
