//! Availability: status, latency, redirect chain, with confirmation retries before an outage is
//! declared. Hostile answers (loops, oversize, garbage) are errors, not outages.

use serde::{Deserialize, Serialize};
use serde_json::json;
use std::time::Duration;
use taishi_model::Severity;

use super::Env;
use crate::http::{HttpClient, HttpError, Request};
use crate::model::{BoxFuture, Check, CheckOutput, FindingKind, Schedule};
use crate::target::Target;

/// Settings of the availability check.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AvailabilityConfig {
    /// Interval and timeout.
    pub schedule: Schedule,
    /// Extra attempts before an outage is declared.
    pub retries: u32,
    /// Pause between attempts, in milliseconds.
    pub retry_delay_ms: u64,
    /// Latency above which the site is reported slow, in milliseconds.
    pub slow_ms: u64,
}

impl Default for AvailabilityConfig {
    fn default() -> Self {
        AvailabilityConfig {
            schedule: Schedule::new(300, 60_000),
            retries: 2,
            retry_delay_ms: 500,
            slow_ms: 2500,
        }
    }
}

impl AvailabilityConfig {
    /// Builds the runtime check.
    pub fn build(&self, env: &Env) -> Availability {
        Availability {
            cfg: self.clone(),
            client: env.client.clone(),
        }
    }
}

/// The runtime availability check.
#[derive(Debug)]
pub struct Availability {
    cfg: AvailabilityConfig,
    client: HttpClient,
}

/// The site does not answer.
pub const DOWN: FindingKind = FindingKind {
    id: "availability.down",
    severity: Severity::High,
    title_zh: "网站无法访问",
    title_en: "Site unreachable",
    fix_zh: "检查服务器、网络与负载均衡状态，恢复服务并排查故障原因。",
    fix_en: "Check the server, network and load balancer, restore service and find the cause.",
};
/// The site failed and then recovered within one run.
pub const FLAPPING: FindingKind = FindingKind {
    id: "availability.flapping",
    severity: Severity::Low,
    title_zh: "网站间歇性故障",
    title_en: "Intermittent failures",
    fix_zh: "检查后端实例健康、连接池与超时设置，消除间歇性 5xx 错误。",
    fix_en: "Check backend health, connection pools and timeouts to remove intermittent 5xx errors.",
};
/// Slow answer.
pub const SLOW: FindingKind = FindingKind {
    id: "availability.slow",
    severity: Severity::Low,
    title_zh: "网站响应缓慢",
    title_en: "Slow response",
    fix_zh: "优化页面与后端性能，启用缓存与 CDN。政府网站要求 15 秒内可访问。",
    fix_en: "Improve page and backend performance, enable caching or a CDN.",
};
/// No HTTPS at the end of the redirect chain.
pub const NO_HTTPS: FindingKind = FindingKind {
    id: "availability.no_https",
    severity: Severity::Medium,
    title_zh: "未启用 HTTPS 或未从 HTTP 跳转到 HTTPS",
    title_en: "No HTTPS, or HTTP is not redirected to HTTPS",
    fix_zh: "部署有效证书并将所有 HTTP 请求 301 跳转到 HTTPS，同时启用 HSTS。",
    fix_en: "Deploy a valid certificate, redirect all HTTP requests to HTTPS with 301 and enable HSTS.",
};

/// Whether an error means "the site is down" (worth retrying) rather than "the site is hostile".
fn is_outage(e: &HttpError) -> bool {
    matches!(
        e,
        HttpError::Net(crate::net::NetError::Connect { .. } | crate::net::NetError::Resolve { .. })
            | HttpError::Io(_)
    )
}

impl Check for Availability {
    fn id(&self) -> &'static str {
        "availability"
    }

    fn schedule(&self) -> Schedule {
        self.cfg.schedule
    }

    fn execute<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, CheckOutput> {
        Box::pin(async move {
            let req = Request::get(target.url.clone());
            let mut attempts = Vec::new();
            let mut success = None;
            for i in 0..=self.cfg.retries {
                if i > 0 {
                    tokio::time::sleep(Duration::from_millis(self.cfg.retry_delay_ms)).await;
                }
                match self.client.follow(&req).await {
                    Ok(chain) if chain.last().status < 500 => {
                        attempts.push(json!({"status": chain.last().status}));
                        success = Some(chain);
                        break;
                    }
                    Ok(chain) => attempts.push(json!({"status": chain.last().status})),
                    Err(e) if is_outage(&e) => attempts.push(json!({"error": e.to_string()})),
                    Err(e) => return Err(e.to_string()),
                }
            }
            let mut findings = Vec::new();
            let Some(chain) = success else {
                let obs = json!({"up": false, "attempts": attempts});
                let text = format!(
                    "{} attempts failed: {}",
                    attempts.len(),
                    attempts.last().map(|a| a.to_string()).unwrap_or_default()
                );
                findings.push(DOWN.finding(target, "", text, obs.clone()));
                return Ok((obs, findings));
            };
            let last = chain.last();
            let latency: Duration = chain.hops.iter().map(|h| h.elapsed).sum();
            let hops: Vec<_> = chain
                .hops
                .iter()
                .map(|h| json!({"url": h.url.as_str(), "status": h.status}))
                .collect();
            let obs = json!({
                "up": true,
                "status": last.status,
                "latency_ms": latency.as_millis() as u64,
                "final_url": last.url.as_str(),
                "redirects": hops,
                "attempts": attempts,
            });
            if attempts.len() > 1 {
                let text = format!(
                    "{} failed attempt(s) before a {} answer",
                    attempts.len() - 1,
                    last.status
                );
                findings.push(FLAPPING.finding(target, "", text, json!({"attempts": attempts})));
            }
            if latency.as_millis() as u64 > self.cfg.slow_ms {
                let text = format!(
                    "answered in {} ms (threshold {} ms)",
                    latency.as_millis(),
                    self.cfg.slow_ms
                );
                findings.push(SLOW.finding(
                    target,
                    "",
                    text,
                    json!({"latency_ms": latency.as_millis() as u64}),
                ));
            }
            if last.url.scheme() != "https" {
                let text = format!("final URL {} is not HTTPS", last.url);
                findings.push(NO_HTTPS.finding(target, "", text, json!({"redirects": hops})));
            }
            Ok((obs, findings))
        })
    }
}

/// One availability sample as the scheduler keeps them (from each run's observation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    /// Whether the site answered below 500.
    pub up: bool,
    /// Time to the answer in milliseconds.
    pub latency_ms: u64,
}

/// The government-site single-veto rule failed over the period.
pub const GOV_UNREACHABLE: FindingKind = FindingKind {
    id: "availability.gov_rule",
    severity: Severity::Critical,
    title_zh: "网站可用性不达标（一周内超过 5% 的访问失败或超过 15 秒）",
    title_en: "Availability below the government-site rule (≥ 5 % of requests failed or took over 15 s in a week)",
    fix_zh: "排查服务器与网络稳定性，增加冗余与监控告警；该项为政府网站检查单项否决指标。",
    fix_en: "Fix server and network stability, add redundancy and alerting; this is a single-veto item in government-site inspections.",
};

/// Availability in percent over `samples` (up and within `slow_ms`).
pub fn availability_percent(samples: &[Sample], slow_ms: u64) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let good = samples
        .iter()
        .filter(|s| s.up && s.latency_ms <= slow_ms)
        .count();
    Some(good as f64 * 100.0 / samples.len() as f64)
}

/// The government-site rule's latency limit: an answer slower than this counts as a failed request.
pub const GOV_SLOW_MS: u64 = 15_000;
/// Fewest requests in a week for a verdict of the government-site rule (7 days × 20 a day).
pub const GOV_MIN_RUNS: u64 = 140;

/// 国办秘函〔2019〕19号: monitored one week with at least 20 requests a day, the site fails when
/// requests that fail or take over 15 s are ≥ 5 %. `samples` are one week's; fewer than
/// `7 × 20` samples give no verdict.
pub fn gov_rule(target: &Target, samples: &[Sample]) -> Option<crate::model::ProbeFinding> {
    let bad = samples
        .iter()
        .filter(|s| !s.up || s.latency_ms > GOV_SLOW_MS)
        .count();
    gov_rule_verdict(target, bad as u64, samples.len() as u64).flatten()
}

/// The government-site rule over a week's counts (`bad` requests failed or slower than
/// [`GOV_SLOW_MS`], of `total`), as the scheduler aggregates them from stored observations: `None`
/// without a verdict (fewer than [`GOV_MIN_RUNS`]), else the finding when the rule fails.
pub fn gov_rule_verdict(
    target: &Target,
    bad: u64,
    total: u64,
) -> Option<Option<crate::model::ProbeFinding>> {
    if total < GOV_MIN_RUNS {
        return None;
    }
    let share = bad as f64 / total as f64;
    Some((share >= 0.05).then(|| {
        let text = format!(
            "{bad} of {total} requests failed or took over 15 s ({:.1} %)",
            share * 100.0
        );
        GOV_UNREACHABLE.finding(
            target,
            "",
            text,
            json!({"bad": bad, "total": total, "share": share}),
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gov_rule_counts_failures_and_slow_answers() {
        let t = Target::parse("http://portal.example.gov.cn/").unwrap();
        let ok = Sample {
            up: true,
            latency_ms: 300,
        };
        let slow = Sample {
            up: true,
            latency_ms: 16_000,
        };
        let down = Sample {
            up: false,
            latency_ms: 0,
        };
        let mut week = vec![ok; 133];
        week.extend([slow; 4]);
        week.extend([down; 3]);
        assert_eq!(week.len(), 140);
        assert!(gov_rule(&t, &week).is_some(), "7/140 = 5 % fails");
        week[139] = ok;
        assert!(gov_rule(&t, &week).is_none(), "6/140 < 5 % passes");
        assert!(
            gov_rule(&t, &week[..100]).is_none(),
            "too few samples for a verdict"
        );
        assert_eq!(availability_percent(&[ok, down], 1000), Some(50.0));
    }
}
