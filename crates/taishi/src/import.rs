//! `taishi import`: loads the org tree and assets from `orgs.csv` / `assets.csv` or one JSON/TOML
//! document (format: docs/import-format.md). Idempotent: orgs match by code, assets by identity, so a
//! re-import updates and never duplicates. Any problem in any file imports nothing and every problem
//! is printed as `FILE:LINE: FIELD: MESSAGE`.

use crate::config::{ConfigArgs, Settings};
use anyhow::{Context, bail};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;
use taishi_model::Actor;
use taishi_store::StoreError;
use taishi_store::transfer::{self, DocFormat, ImportProblem, TransferError};

/// Arguments of `taishi import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Organisations as CSV (columns: code, parent, name, kind, sector, …).
    #[arg(long, value_name = "FILE")]
    orgs: Option<PathBuf>,
    /// Assets as CSV (columns: org, kind, identity, name, tags, mlps_level, …, software).
    #[arg(long, value_name = "FILE")]
    assets: Option<PathBuf>,
    /// One JSON (.json) or TOML (.toml) document holding orgs and assets.
    #[arg(value_name = "DOCUMENT", conflicts_with_all = ["orgs", "assets"])]
    document: Option<PathBuf>,
}

fn print_problems(problems: &[ImportProblem]) -> anyhow::Result<()> {
    let mut err = std::io::stderr().lock();
    for p in problems {
        writeln!(err, "{p}")?;
    }
    Ok(())
}

/// Reads, checks and applies the files.
pub fn run(args: ImportArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let (doc, mut problems) = if let Some(path) = &args.document {
        let format = DocFormat::from_path(path)
            .with_context(|| format!("{}: expected a .json or .toml file", path.display()))?;
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        match transfer::read_document(&path.display().to_string(), &text, format) {
            Ok(d) => (d, Vec::new()),
            Err(TransferError::Problems(p)) => {
                print_problems(&p)?;
                bail!("{} problem(s) found; nothing imported", p.len());
            }
            Err(e) => return Err(e.into()),
        }
    } else if args.orgs.is_some() || args.assets.is_some() {
        transfer::read_csv_files(args.orgs.as_deref(), args.assets.as_deref())?
    } else {
        bail!(
            "nothing to import: give --orgs FILE and/or --assets FILE, or a .json/.toml document"
        );
    };
    let parsed = started.elapsed();
    let settings = Settings::for_store(&args.config)?;
    tokio::runtime::Runtime::new()?.block_on(async {
        settings.prepare_data_dir()?;
        let store = taishi_store::open(&settings.store)
            .await
            .with_context(|| format!("opening store {}", settings.store_redacted()))?;
        if !problems.is_empty() {
            // unreadable cells were found: check everything else too, so one run lists every problem
            let more = store.check_import(&doc).await;
            store.close().await;
            problems.extend(more?);
            problems.sort_by(|a, b| (&a.file, a.line, &a.field).cmp(&(&b.file, b.line, &b.field)));
            problems.dedup();
            print_problems(&problems)?;
            bail!("{} problem(s) found; nothing imported", problems.len());
        }
        let result = store.import_registry(&Actor::system("import"), &doc).await;
        store.close().await;
        match result {
            Ok(r) => {
                let mut out = std::io::stdout().lock();
                writeln!(
                    out,
                    "orgs: {} created, {} updated, {} unchanged; assets: {} created, {} updated, {} unchanged",
                    r.orgs_created, r.orgs_updated, r.orgs_unchanged, r.assets_created, r.assets_updated, r.assets_unchanged
                )?;
                writeln!(
                    out,
                    "read {} orgs and {} assets in {:.2}s, imported in {:.2}s",
                    doc.orgs.len(),
                    doc.assets.len(),
                    parsed.as_secs_f64(),
                    (started.elapsed() - parsed).as_secs_f64()
                )?;
                Ok(())
            }
            Err(StoreError::Rejected(p)) => {
                print_problems(&p)?;
                bail!("{} problem(s) found; nothing imported", p.len())
            }
            Err(e) => Err(e.into()),
        }
    })
}
