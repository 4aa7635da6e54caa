//! `taishi serve`: opens the store (applying migrations), creates the first administrator on first start
//! and prints its password once, then serves the API until Ctrl-C or SIGTERM.

use crate::config::{ConfigArgs, LogFormat, ServeFlags, Settings};
use anyhow::Context;
use clap::Args;
use std::io::Write;
use std::sync::Arc;
use taishi_server::{AppState, ServerOptions, bootstrap, launch};

/// Arguments of `taishi serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    config: ConfigArgs,
    #[command(flatten)]
    flags: ServeFlags,
    /// Start the lab of flawed sites and seed a demo constituency whose assets are the lab's sites
    /// (demo users share one printed password): real findings within a minute.
    #[arg(long)]
    demo: bool,
    /// The CISA KEV catalogue (JSON) for vulnerability warnings, read at start-up.
    #[arg(long, env = "TAISHI_KEV")]
    kev: Option<std::path::PathBuf>,
    /// NVD CVE API 2.0 response pages confirming affected versions (comma-separated).
    #[arg(long, env = "TAISHI_NVD", value_delimiter = ',')]
    nvd: Vec<std::path::PathBuf>,
}

/// Runs the server.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let settings = Settings::resolve(&args.config, &args.flags)?;
    init_logging(settings.log_format);
    let monitor = taishi_monitor::MonitorOptions {
        demo: args.demo,
        kev: args.kev,
        nvd: args.nvd,
        ..Default::default()
    };
    tokio::runtime::Runtime::new()?.block_on(serve(settings, monitor))
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

async fn serve(settings: Settings, monitor: taishi_monitor::MonitorOptions) -> anyhow::Result<()> {
    settings.prepare_data_dir()?;
    let store = taishi_store::open(&settings.store)
        .await
        .with_context(|| format!("opening store {}", settings.store_redacted()))?;
    tracing::info!(store = %settings.store_redacted(), backend = store.backend(), "Store open.");

    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("listening on {}", settings.listen))?;
    let addr = listener.local_addr()?;
    let scheme = if settings.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let url = format!("{scheme}://{addr}");

    let mut out = std::io::stdout().lock();
    if let Some(first) = bootstrap::ensure_first_admin(store.as_ref()).await? {
        if first.created_root {
            writeln!(
                out,
                "First start: created the root org {:?} (code {}).",
                first.scope.name, first.scope.code
            )?;
        }
        writeln!(
            out,
            "First start: created administrator {:?} for org {:?}. Its password, shown only now:",
            first.user.name, first.scope.code
        )?;
        writeln!(out)?;
        writeln!(out, "    {}", first.password)?;
        writeln!(out)?;
        writeln!(
            out,
            "Change it after logging in: POST /api/v1/auth/password."
        )?;
    }
    // Probe scheduler, warnings and re-verification (and the lab and demo constituency with --demo).
    let clock: taishi_server::ClockFn = Arc::new(jiff::Timestamp::now);
    let monitor = taishi_monitor::Monitor::start(
        Arc::clone(&store),
        AppState::loop_clock(clock.clone()),
        monitor,
    )
    .await
    .context("starting the monitor")?;
    for line in &monitor.lines {
        writeln!(out, "{line}")?;
    }
    writeln!(
        out,
        "taishi serving at {url}/ (store: {})",
        settings.store_redacted()
    )?;
    writeln!(
        out,
        "  API {url}/api/v1  ·  OpenAPI {url}/api/v1/openapi.json  ·  health {url}/healthz  ·  metrics {url}/metrics"
    )?;
    writeln!(
        out,
        "  log in: curl -c cookies.txt -H 'content-type: application/json' -d '{{\"name\":\"admin\",\"password\":\"…\"}}' {url}/api/v1/auth/login"
    )?;
    out.flush()?;
    drop(out);

    let options = ServerOptions {
        secure_cookies: settings.secure_cookies,
        session_ttl: jiff::SignedDuration::from_hours(i64::from(settings.session_hours)),
        body_limit: settings.body_limit_kib * 1024,
        trusted_proxies: settings.trusted_proxies.clone(),
        ..ServerOptions::default()
    };
    let state = AppState::with_loop(
        Arc::clone(&store),
        options,
        clock,
        Arc::clone(&monitor.service),
    );
    // The loop files the configuration names (`policy_file`, `indicators_file`, `channels_file`): the
    // console's baseline, which the settings admins stored override below.
    if let Some(p) = settings.policy.clone() {
        monitor.service.set_policy(p);
    }
    if let Some(i) = settings.indicators.clone() {
        monitor.service.set_indicators(i);
    }
    if let Some(c) = settings.channels.clone() {
        let notifier = taishi_loop::notify::Notifier::new(c).context("channels_file")?;
        monitor.service.set_notifier(Some(notifier));
    }
    let purger = tokio::spawn(purge_sessions(Arc::clone(&store)));
    // The loop's periodic jobs: the deadline sweep, and the bulletins of the `[bulletins]` schedule.
    let mut loop_jobs = vec![taishi_server::sweeper::spawn(
        state.clone(),
        taishi_server::sweeper::DEFAULT_EVERY,
    )];
    if let Some(schedule) = settings.bulletins.clone() {
        loop_jobs.push(taishi_server::sweeper::spawn_bulletins(
            state.clone(),
            schedule,
        ));
    }
    let tls = settings
        .tls
        .clone()
        .map(|(cert, key)| launch::TlsFiles { cert, key });
    // The console captures the loop settings the server was configured with (what "back to the
    // configuration" restores); then the settings admins saved in the store override them.
    let web = taishi_web::router(state.clone());
    let applied = taishi_web::pages::admin::apply_stored(&state)
        .await
        .context("applying the settings stored by admins")?;
    if !applied.is_empty() {
        tracing::info!(settings = ?applied, "Stored settings override the configuration.");
    }
    let app = taishi_server::router(state.clone()).merge(web);
    let result = launch::serve(listener, app, tls, launch::shutdown_signal()).await;
    purger.abort();
    for job in &loop_jobs {
        job.abort();
    }
    drop(monitor);
    store.close().await;
    tracing::info!("Stopped.");
    Ok(result?)
}

/// Removes expired sessions every hour.
async fn purge_sessions(store: Arc<dyn taishi_store::Store>) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        every.tick().await;
        match store.purge_sessions(jiff::Timestamp::now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(sessions = n, "Expired sessions removed."),
            Err(e) => tracing::warn!(error = %e, "Could not remove expired sessions."),
        }
    }
}
