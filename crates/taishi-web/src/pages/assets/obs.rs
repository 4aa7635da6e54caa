//! The observation panels of the asset page: the latest runs of each check (outcome, duration, when)
//! and availability per day over the last 30 days as an inline-SVG bar chart (one bar per day, its
//! height the day's availability, days without runs marked), read from the stored observations.

use crate::error::{WebError, WebResult};
use crate::i18n::Tr;
use crate::svg::{Svg, esc};
use jiff::{SignedDuration, Timestamp};
use std::fmt::Write;
use taishi_model::{AssetId, Page};
use taishi_server::AppError;
use taishi_store::{AvailabilityCounts, AvailabilitySpan, ObservationQuery, Store};

/// Days in the availability chart.
pub const DAYS: i64 = 30;
/// Runs shown per check.
const PER_CHECK: usize = 5;
/// Newest runs read to fill the per-check lists.
const READ: u32 = 400;

/// One run as shown.
pub struct Run {
    /// `pass`, `fail` or `error`.
    pub outcome: &'static str,
    /// Badge class for the outcome.
    pub class: &'static str,
    /// Wall time.
    pub duration_ms: u64,
    /// When, formatted for the page.
    pub when: String,
    /// ISO time for `<time datetime>`.
    pub iso: String,
    /// The error, if any.
    pub error: String,
}

/// The latest runs of one check.
pub struct CheckRuns {
    /// The check id.
    pub check: String,
    /// Newest first.
    pub runs: Vec<Run>,
}

/// What the asset page shows of the observations.
pub struct AssetObservations {
    /// Per check, in name order.
    pub checks: Vec<CheckRuns>,
    /// The 30-day chart.
    pub chart: Svg,
    /// Availability over the 30 days in a sentence (or that there were no runs).
    pub summary: String,
}

fn store_err(e: taishi_store::StoreError) -> WebError {
    WebError::App(AppError::from(e))
}

/// Reads the latest runs and the last 30 days' availability of `asset`.
pub async fn load(
    store: &dyn Store,
    tr: &Tr,
    asset: AssetId,
    now: Timestamp,
) -> WebResult<AssetObservations> {
    let page = store
        .list_observations(&ObservationQuery { asset, check: None }, Page::first(READ))
        .await
        .map_err(store_err)?;
    let mut checks: Vec<CheckRuns> = Vec::new();
    for o in page.items {
        let o = o.obs;
        let at = checks.iter().position(|c| c.check == o.check);
        let entry = match at {
            Some(i) => &mut checks[i],
            None => {
                checks.push(CheckRuns {
                    check: o.check.clone(),
                    runs: Vec::new(),
                });
                checks.last_mut().expect("just pushed")
            }
        };
        if entry.runs.len() < PER_CHECK {
            let outcome = o.outcome.as_str();
            entry.runs.push(Run {
                outcome,
                class: match outcome {
                    "pass" => "ok",
                    "fail" => "bad",
                    _ => "warn",
                },
                duration_ms: o.duration_ms,
                when: tr.datetime(o.at),
                iso: tr.iso(o.at),
                error: o.error.unwrap_or_default(),
            });
        }
    }
    checks.sort_by(|a, b| a.check.cmp(&b.check));

    // Days in China Standard Time, like the rest of the console.
    let offset = crate::i18n::default_zone().to_offset(now).seconds();
    let local = |t: Timestamp| {
        t.saturating_add(SignedDuration::from_secs(i64::from(offset)))
            .unwrap_or(t)
    };
    let today = jiff::tz::TimeZone::UTC.to_datetime(local(now)).date();
    let first = today
        .checked_sub(jiff::Span::new().days(DAYS - 1))
        .map_err(|e| WebError::BadForm(e.to_string()))?;
    let from = first
        .to_zoned_datetime(jiff::tz::TimeZone::fixed(
            jiff::tz::Offset::from_seconds(offset).unwrap_or(jiff::tz::Offset::UTC),
        ))
        .map_err(|e| WebError::BadForm(e.to_string()))?
        .timestamp();
    let span = AvailabilitySpan {
        from,
        to: now
            .saturating_add(SignedDuration::from_secs(1))
            .unwrap_or(now),
        slow_ms: 15_000,
    };
    let days = store
        .availability_days(asset, span, offset)
        .await
        .map_err(store_err)?;
    let mut total = AvailabilityCounts::default();
    let mut series: Vec<(String, Option<AvailabilityCounts>)> = Vec::new();
    for i in 0..DAYS {
        let d = first
            .checked_add(jiff::Span::new().days(i))
            .map_err(|e| WebError::BadForm(e.to_string()))?;
        let c = days.iter().find(|x| x.day == d).map(|x| x.counts);
        if let Some(c) = c {
            total.add(c);
        }
        let label = match tr.lang {
            crate::i18n::Lang::ZhCn => format!("{}/{}", d.month(), d.day()),
            crate::i18n::Lang::En => d.strftime("%-d %b").to_string(),
        };
        series.push((label, c));
    }
    Ok(AssetObservations {
        checks,
        chart: day_bars(
            &series,
            tr.t("asset_obs.chart_title"),
            tr.t("asset_obs.no_runs"),
        ),
        summary: match total.percent() {
            Some(p) => tr.f(
                "asset_obs.period",
                &[
                    ("pct", &tr.pct(p / 100.0)),
                    ("runs", &tr.num(total.runs as i64)),
                ],
            ),
            None => tr.t("asset_obs.no_runs_period").to_owned(),
        },
    })
}

/// A bar per day: height is the day's availability (0–100 %), green at 99 % or more, amber at 95 %,
/// red below; a day without runs is a grey tick. Each bar has a tooltip with the day and counts.
pub fn day_bars(days: &[(String, Option<AvailabilityCounts>)], title: &str, no_runs: &str) -> Svg {
    const H: f64 = 120.0;
    const TOP: f64 = 8.0;
    const LEFT: f64 = 34.0;
    const BAR: f64 = 14.0;
    const GAP: f64 = 4.0;
    let width = LEFT + days.len() as f64 * (BAR + GAP) + 4.0;
    let height = TOP + H + 22.0;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="availability-chart" viewBox="0 0 {width} {height}" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = esc(title)
    );
    for pct in [0.0, 50.0, 100.0] {
        let y = TOP + H - H * pct / 100.0;
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" y1="{y}" x2="{width}" y2="{y}" stroke="#e5e7eb"/><text x="{x}" y="{ty}" font-size="9" text-anchor="end" fill="#6b7280">{pct}%</text>"##,
            x = LEFT - 4.0,
            ty = y + 3.0,
        );
    }
    for (i, (label, counts)) in days.iter().enumerate() {
        let x = LEFT + i as f64 * (BAR + GAP) + GAP / 2.0;
        match counts.and_then(|c| c.percent().map(|p| (c, p))) {
            Some((c, p)) => {
                let h = (H * p / 100.0).max(1.0);
                let colour = if p >= 99.0 {
                    "#16a34a"
                } else if p >= 95.0 {
                    "#d97706"
                } else {
                    "#b91c1c"
                };
                let _ = write!(
                    out,
                    r#"<rect class="day" x="{x}" y="{y}" width="{BAR}" height="{h}" fill="{colour}"><title>{tip}</title></rect>"#,
                    y = TOP + H - h,
                    tip = esc(&format!("{label}: {p:.1}% ({}/{})", c.up, c.runs)),
                );
            }
            None => {
                let _ = write!(
                    out,
                    r##"<rect class="day empty" x="{x}" y="{y}" width="{BAR}" height="2" fill="#d1d5db"><title>{tip}</title></rect>"##,
                    y = TOP + H - 2.0,
                    tip = esc(&format!("{label}: {no_runs}")),
                );
            }
        }
        if i % 7 == 0 || i + 1 == days.len() {
            let _ = write!(
                out,
                r##"<text x="{cx}" y="{ty}" font-size="9" text-anchor="middle" fill="#6b7280">{l}</text>"##,
                cx = x + BAR / 2.0,
                ty = TOP + H + 14.0,
                l = esc(label),
            );
        }
    }
    out.push_str("</svg>");
    Svg(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_colour_by_availability_and_mark_empty_days() {
        let c = |runs, up| Some(AvailabilityCounts { runs, up, slow: 0 });
        let svg = day_bars(
            &[
                ("5/1".into(), c(100, 100)),
                ("5/2".into(), c(100, 96)),
                ("5/3".into(), c(4, 1)),
                ("<5/4>".into(), None),
            ],
            "Availability \"30\" days",
            "no runs",
        )
        .0;
        assert_eq!(svg.matches(r#"class="day""#).count(), 3);
        assert!(svg.contains("#16a34a") && svg.contains("#d97706") && svg.contains("#b91c1c"));
        assert!(svg.contains("5/3: 25.0% (1/4)"));
        assert!(svg.contains(r#"class="day empty""#));
        assert!(svg.contains("&lt;5/4&gt;: no runs"), "labels are escaped");
        assert!(svg.contains("&quot;30&quot;"));
        assert!(!svg.contains("<5/4>"));
    }
}
