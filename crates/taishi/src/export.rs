//! `taishi export`: writes the org tree and assets (all, or one subtree) in the import format, so an
//! export re-imports as "unchanged" and can move a registry between stores.

use crate::config::{ConfigArgs, Settings};
use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use taishi_store::transfer::{self, DocFormat};

/// Output formats of `taishi export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// `orgs.csv` and `assets.csv` in the directory given by --out.
    Csv,
    /// One JSON document.
    Json,
    /// One TOML document.
    Toml,
}

/// Arguments of `taishi export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
    /// Where to write: a directory for csv, a file for json/toml ("-" or absent: standard output).
    #[arg(long, value_name = "PATH")]
    out: Option<PathBuf>,
    /// Export only the subtree of the org with this code.
    #[arg(long, value_name = "CODE")]
    root: Option<String>,
}

/// Reads the registry and writes it out.
pub fn run(args: ExportArgs) -> anyhow::Result<()> {
    let settings = Settings::for_store(&args.config)?;
    let doc = tokio::runtime::Runtime::new()?.block_on(async {
        settings.prepare_data_dir()?;
        let store = taishi_store::open(&settings.store)
            .await
            .with_context(|| format!("opening store {}", settings.store_redacted()))?;
        let root = match &args.root {
            Some(code) => Some(
                store
                    .get_org_by_code(code)
                    .await
                    .with_context(|| format!("--root {code}"))?
                    .id,
            ),
            None => None,
        };
        let doc = store.export_registry(root).await;
        store.close().await;
        anyhow::Ok(doc?)
    })?;
    let to_stdout = args.out.as_deref().is_none_or(|p| p.as_os_str() == "-");
    match args.format {
        Format::Csv => {
            let Some(dir) = args.out.filter(|_| !to_stdout) else {
                bail!(
                    "--format csv needs --out DIR (two files are written: orgs.csv and assets.csv)"
                );
            };
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            for (name, is_orgs) in [("orgs.csv", true), ("assets.csv", false)] {
                let path = dir.join(name);
                let f = std::fs::File::create(&path)
                    .with_context(|| format!("creating {}", path.display()))?;
                let w = std::io::BufWriter::new(f);
                let file = path.display().to_string();
                if is_orgs {
                    transfer::write_orgs_csv(&file, w, &doc)?;
                } else {
                    transfer::write_assets_csv(&file, w, &doc)?;
                }
            }
        }
        Format::Json | Format::Toml => {
            let format = if args.format == Format::Json {
                DocFormat::Json
            } else {
                DocFormat::Toml
            };
            let text = transfer::write_document(&doc, format).map_err(anyhow::Error::msg)?;
            match args.out.filter(|_| !to_stdout) {
                Some(path) => std::fs::write(&path, text)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => std::io::stdout().lock().write_all(text.as_bytes())?,
            }
        }
    }
    let mut err = std::io::stderr().lock();
    writeln!(
        err,
        "exported {} orgs and {} assets",
        doc.orgs.len(),
        doc.assets.len()
    )?;
    Ok(())
}
