//! `taishi report`: builds the bulletin (常态化通报) of an org's subtree for a period — scores recomputed
//! from event dates — prints or writes it as HTML, Markdown or CSV, and archives it in the store.

use crate::config::{ConfigArgs, Settings};
use anyhow::Context;
use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use taishi_loop::score::IndicatorSystem;
use taishi_loop::{LoopPolicy, LoopService, SystemClock};
use taishi_model::indicator::Period;

/// Output formats of `taishi report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Self-contained printable HTML with inline SVG charts.
    Html,
    /// Markdown.
    Md,
    /// CSV ranking table.
    Csv,
    /// All three, into the directory given by --out.
    All,
}

/// Arguments of `taishi report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Code of the org whose subtree the bulletin covers.
    #[arg(long, value_name = "CODE")]
    org: String,
    /// Period: 2026-11 (month), 2026-Q4 (quarter) or 2026 (year).
    #[arg(long)]
    period: Period,
    /// Output format.
    #[arg(long, value_enum, default_value = "html")]
    format: Format,
    /// A file (html/md/csv; "-" or absent: standard output) or a directory (all).
    #[arg(long, value_name = "PATH")]
    out: Option<PathBuf>,
    /// Loop policy TOML (deadlines, levels, calendar); defaults when absent.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Indicator system TOML; the shipped examples/indicators.toml when absent.
    #[arg(long, value_name = "FILE")]
    indicators: Option<PathBuf>,
    /// Do not archive the bulletin in the store.
    #[arg(long)]
    no_archive: bool,
}

fn read(path: &PathBuf) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// Builds, writes and archives the bulletin.
pub fn run(args: ReportArgs) -> anyhow::Result<()> {
    let settings = Settings::for_store(&args.config)?;
    let policy = match &args.policy {
        Some(p) => LoopPolicy::from_toml(&read(p)?, &p.display().to_string())?,
        None => LoopPolicy::default(),
    };
    let indicators = match &args.indicators {
        Some(p) => IndicatorSystem::from_toml(&read(p)?, &p.display().to_string())?,
        None => IndicatorSystem::default_system(),
    };
    let rendered = tokio::runtime::Runtime::new()?.block_on(async {
        settings.prepare_data_dir()?;
        let store = taishi_store::open(&settings.store)
            .await
            .with_context(|| format!("opening store {}", settings.store_redacted()))?;
        let org = store
            .get_org_by_code(&args.org)
            .await
            .with_context(|| format!("--org {}", args.org))?;
        let service = LoopService::new(store.clone(), Arc::new(SystemClock))
            .with_policy(policy)
            .with_indicators(indicators);
        let r = service
            .bulletin(org.id, args.period, !args.no_archive)
            .await;
        store.close().await;
        anyhow::Ok(r?)
    })?;
    let stem = format!("bulletin-{}-{}", args.org, args.period);
    let one = |text: &str| -> anyhow::Result<()> {
        match args.out.as_deref().filter(|p| p.as_os_str() != "-") {
            Some(p) => std::fs::write(p, text).with_context(|| format!("writing {}", p.display())),
            None => std::io::stdout()
                .lock()
                .write_all(text.as_bytes())
                .context("writing to standard output"),
        }
    };
    match args.format {
        Format::Html => one(&rendered.html),
        Format::Md => one(&rendered.markdown),
        Format::Csv => one(&rendered.csv),
        Format::All => {
            let dir = args.out.clone().unwrap_or_else(|| PathBuf::from("."));
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            for (ext, text) in [
                ("html", &rendered.html),
                ("md", &rendered.markdown),
                ("csv", &rendered.csv),
            ] {
                let p = dir.join(format!("{stem}.{ext}"));
                std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?;
            }
            Ok(())
        }
    }
}
