//! Small inline SVG charts for bulletins: no scripts, no external references, printable.

use super::render::esc;
use std::fmt::Write;

const W: f64 = 560.0;
const H: f64 = 200.0;
const PAD: f64 = 36.0;

/// A line chart of values in 0–100 over labelled points.
pub fn line_chart(title: &str, points: &[(String, f64)]) -> String {
    let mut s = open(title);
    axes(&mut s, 100.0);
    let n = points.len().max(1);
    let x = |i: usize| PAD + (W - 2.0 * PAD) * (i as f64 + 0.5) / n as f64;
    let y = |v: f64| H - PAD - (H - 2.0 * PAD) * v.clamp(0.0, 100.0) / 100.0;
    let path: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, (_, v))| format!("{:.1},{:.1}", x(i), y(*v)))
        .collect();
    if !path.is_empty() {
        let _ = write!(
            s,
            r##"<polyline fill="none" stroke="#1f5fa8" stroke-width="2" points="{}"/>"##,
            path.join(" ")
        );
    }
    for (i, (label, v)) in points.iter().enumerate() {
        let _ = write!(
            s,
            r##"<circle cx="{:.1}" cy="{:.1}" r="3" fill="#1f5fa8"/><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle">{:.1}</text><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle">{}</text>"##,
            x(i),
            y(*v),
            x(i),
            y(*v) - 6.0,
            v,
            x(i),
            H - PAD + 14.0,
            esc(label)
        );
    }
    s.push_str("</svg>");
    s
}

/// A grouped bar chart of two series (e.g. new and closed findings) over labelled points.
pub fn bar_chart(title: &str, legend: (&str, &str), points: &[(String, u64, u64)]) -> String {
    let max = points
        .iter()
        .map(|p| p.1.max(p.2))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let mut s = open(title);
    axes(&mut s, max);
    let n = points.len().max(1);
    let slot = (W - 2.0 * PAD) / n as f64;
    let bw = (slot * 0.35).min(24.0);
    let h = |v: u64| (H - 2.0 * PAD) * v as f64 / max;
    for (i, (label, a, b)) in points.iter().enumerate() {
        let cx = PAD + slot * (i as f64 + 0.5);
        let _ = write!(
            s,
            r##"<rect x="{:.1}" y="{:.1}" width="{bw:.1}" height="{:.1}" fill="#c0392b"/><rect x="{:.1}" y="{:.1}" width="{bw:.1}" height="{:.1}" fill="#27ae60"/><text x="{cx:.1}" y="{:.1}" font-size="10" text-anchor="middle">{}</text>"##,
            cx - bw,
            H - PAD - h(*a),
            h(*a),
            cx,
            H - PAD - h(*b),
            h(*b),
            H - PAD + 14.0,
            esc(label)
        );
    }
    let _ = write!(
        s,
        r##"<rect x="{:.1}" y="8" width="10" height="10" fill="#c0392b"/><text x="{:.1}" y="17" font-size="11">{}</text><rect x="{:.1}" y="8" width="10" height="10" fill="#27ae60"/><text x="{:.1}" y="17" font-size="11">{}</text></svg>"##,
        W - 200.0,
        W - 186.0,
        esc(legend.0),
        W - 100.0,
        W - 86.0,
        esc(legend.1)
    );
    s
}

fn open(title: &str) -> String {
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="{t}"><title>{t}</title><text x="{PAD}" y="17" font-size="12" font-weight="bold">{t}</text>"##,
        t = esc(title)
    )
}

fn axes(s: &mut String, max: f64) {
    let _ = write!(
        s,
        r##"<line x1="{PAD}" y1="{b}" x2="{r}" y2="{b}" stroke="#888"/><line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{b}" stroke="#888"/><text x="{l}" y="{b}" font-size="10" text-anchor="end">0</text><text x="{l}" y="{t}" font-size="10" text-anchor="end">{max}</text>"##,
        b = H - PAD,
        r = W - PAD,
        l = PAD - 4.0,
        t = PAD + 4.0,
    );
}
