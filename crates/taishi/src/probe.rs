//! `taishi probe TARGET...`: runs every posture check once against each target and prints a
//! readable report, or one JSON document per target with `--format json`.

use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;
use taishi_probe::http::HttpLimits;
use taishi_probe::{Env, Target, TargetReport};

/// Arguments of `taishi probe`.
#[derive(Debug, clap::Args)]
pub struct ProbeArgs {
    /// URLs, host names or IP addresses (a bare host also gets a port scan).
    #[arg(required = true)]
    pub targets: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Extra trusted CA certificates (PEM), e.g. the lab CA or an internal PKI.
    #[arg(long)]
    pub ca: Vec<PathBuf>,
    /// Targets probed at the same time.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Name server for the DNS check (e.g. the lab's); the system resolver when absent.
    #[arg(long)]
    pub dns: Option<std::net::SocketAddr>,
    /// Also render pages in headless Chromium to catch links built by obfuscated script.
    #[arg(long)]
    pub render: bool,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 10)]
    pub request_timeout: u64,
}

/// Output formats.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// Readable report.
    Text,
    /// One JSON document per target, one per line.
    Json,
}

/// Runs `taishi probe`.
pub fn run(args: ProbeArgs) -> anyhow::Result<()> {
    let targets: Vec<Target> = args
        .targets
        .iter()
        .map(|t| Target::parse(t))
        .collect::<Result<_, _>>()?;
    let limits = HttpLimits {
        request_timeout: std::time::Duration::from_secs(args.request_timeout),
        ..HttpLimits::default()
    };
    let mut env = Env::new(limits);
    for path in &args.ca {
        let pem = std::fs::read_to_string(path)
            .with_context(|| format!("reading CA file {}", path.display()))?;
        env.add_ca_pem(&pem, &path.display().to_string())?;
    }
    let mut configs = taishi_probe::default_suite();
    for c in &mut configs {
        match c {
            taishi_probe::CheckConfig::Dns(d) => d.nameserver = args.dns,
            taishi_probe::CheckConfig::Links(l) => l.render = args.render,
            _ => {}
        }
    }
    let suite = taishi_probe::build_suite(&configs, &env)?;
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let reports: Vec<TargetReport> = rt.block_on(async {
        use futures::StreamExt;
        futures::stream::iter(
            targets
                .iter()
                .map(|t| taishi_probe::probe_target(&suite, t)),
        )
        .buffered(args.concurrency.max(1))
        .collect()
        .await
    });
    let mut out = std::io::stdout().lock();
    for r in &reports {
        match args.format {
            Format::Json => writeln!(out, "{}", serde_json::to_string(r)?)?,
            Format::Text => print_text(&mut out, r)?,
        }
    }
    Ok(())
}

fn print_text(out: &mut impl Write, r: &TargetReport) -> anyhow::Result<()> {
    writeln!(out, "== {} ==", r.target)?;
    for c in &r.checks {
        let extra = c
            .error
            .as_deref()
            .map(|e| format!("  ({e})"))
            .unwrap_or_default();
        writeln!(
            out,
            "  {:<12} {:<5} {:>6} ms{}",
            c.check_id,
            c.outcome.as_str(),
            c.duration_ms,
            extra
        )?;
        if c.check_id == "headers" && c.observation.get("grade").is_some() {
            writeln!(
                out,
                "      Observatory score {} grade {}",
                c.observation["score"],
                c.observation["grade"].as_str().unwrap_or("?")
            )?;
        }
        if c.check_id == "tls" && c.observation.get("grade").is_some() {
            let g = &c.observation["grade"];
            writeln!(
                out,
                "      TLS grade {} (if trusted {}), protocols {}",
                g["grade"].as_str().unwrap_or("?"),
                g["grade_if_trusted"].as_str().unwrap_or("?"),
                c.observation["protocols"]
            )?;
        }
    }
    if r.findings.is_empty() {
        writeln!(out, "  no findings")?;
    }
    for f in &r.findings {
        writeln!(
            out,
            "  [{:<8}] {:<30} {} / {}",
            f.severity.as_str(),
            f.check_id,
            f.title_zh,
            f.title_en
        )?;
        writeln!(out, "             {}", f.evidence.text)?;
    }
    writeln!(out)?;
    Ok(())
}
