//! `taishi lab`: serves the lab of flawed sites on 127.0.0.1 until Ctrl-C.

use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `taishi lab`.
#[derive(Debug, clap::Args)]
pub struct LabArgs {
    /// Where to write the lab CA certificate (pass it to `taishi probe --ca`).
    #[arg(long, default_value = "taishi-lab-ca.pem")]
    pub ca_out: PathBuf,
}

/// Runs `taishi lab`.
pub fn run(args: LabArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    rt.block_on(async {
        let lab = taishi_probe::lab::Lab::start().await?;
        std::fs::write(&args.ca_out, &lab.ca_pem)
            .with_context(|| format!("writing {}", args.ca_out.display()))?;
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "taishi lab: {} sites on 127.0.0.1 (lab CA written to {})",
            lab.sites.len(),
            args.ca_out.display()
        )?;
        for s in &lab.sites {
            writeln!(
                out,
                "  {:<22} {:<34} {} / {}",
                s.name, s.target, s.flaw_zh, s.flaw_en
            )?;
        }
        if let Some(dns) = lab.dns {
            writeln!(
                out,
                "  {:<22} {:<34} good.lab.test / weak.lab.test (use --dns {dns})",
                "dns", dns
            )?;
        }
        writeln!(
            out,
            "probe them with: taishi probe --ca {} <target>...; Ctrl-C to stop",
            args.ca_out.display()
        )?;
        drop(out);
        tokio::signal::ctrl_c()
            .await
            .context("waiting for Ctrl-C")?;
        drop(lab);
        anyhow::Ok(())
    })
}
