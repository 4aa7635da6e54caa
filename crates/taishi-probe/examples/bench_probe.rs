//! Benchmark: the full check suite against N lab sites on loopback; prints sites per second.
//! Usage: `bench_probe [sites] [concurrency]` (defaults 1000 and 64). Run via bench/probe/run.sh.

use std::time::{Duration, Instant};
use taishi_probe::http::HttpLimits;
use taishi_probe::lab::Lab;
use taishi_probe::{Env, Outcome, Target, build_suite, default_suite, probe_target};

#[tokio::main]
async fn main() {
    use futures::StreamExt;
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let conc: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(64);
    let lab = Lab::start_many(n).await.expect("lab");
    let mut env = Env::new(HttpLimits {
        request_timeout: Duration::from_secs(10),
        ..HttpLimits::default()
    });
    env.add_ca_pem(&lab.ca_pem, "lab CA").expect("lab CA");
    let suite = build_suite(&default_suite(), &env).expect("suite");
    let targets: Vec<Target> = lab
        .sites
        .iter()
        .map(|s| Target::parse(&s.target).expect("target"))
        .collect();
    let start = Instant::now();
    // Fold results as they arrive so memory stays flat in the number of sites.
    let (mut runs, mut errors, mut findings) = (0usize, 0usize, 0usize);
    let mut stream = futures::stream::iter(targets.iter().map(|t| probe_target(&suite, t)))
        .buffer_unordered(conc);
    while let Some(r) = stream.next().await {
        runs += r.checks.len();
        errors += r
            .checks
            .iter()
            .filter(|c| c.outcome == Outcome::Error)
            .count();
        findings += r.findings.len();
    }
    let secs = start.elapsed().as_secs_f64();
    let out = format!(
        "sites={n} concurrency={conc} seconds={secs:.2} sites_per_second={:.1} check_runs={runs} errors={errors} findings={findings}\n",
        n as f64 / secs
    );
    std::io::Write::write_all(&mut std::io::stdout(), out.as_bytes()).expect("stdout");
}
