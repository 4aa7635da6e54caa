//! `taishi migrate`: applies pending schema migrations and lists where the store stands. Every other
//! command migrates on start-up too; this one exists for upgrades run by hand or from a deploy script.

use crate::config::{ConfigArgs, Settings};
use anyhow::Context;
use clap::Args;

/// Arguments of `taishi migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    config: ConfigArgs,
}

/// Opens (and so migrates) the store, then prints each known migration and whether it is applied.
pub fn run(args: MigrateArgs) -> anyhow::Result<()> {
    let settings = Settings::for_store(&args.config)?;
    tokio::runtime::Runtime::new()?.block_on(async {
        settings.prepare_data_dir()?;
        let store = taishi_store::open_sql(&settings.store, &Default::default())
            .await
            .with_context(|| format!("migrating store {}", settings.store_redacted()))?;
        let list = store.migrations().await?;
        let mut out = std::io::stdout().lock();
        use std::io::Write;
        writeln!(
            out,
            "store {} ({})",
            settings.store_redacted(),
            taishi_store::Store::backend(&store)
        )?;
        for m in &list {
            let state = if m.applied { "applied" } else { "pending" };
            writeln!(out, "  {:04} {:<40} {state}", m.version, m.description)?;
        }
        taishi_store::Store::close(&store).await;
        Ok(())
    })
}
