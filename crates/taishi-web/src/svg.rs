//! Charts drawn on the server as inline SVG: horizontal bars, line trends and a donut. No JavaScript, no
//! chart library, and the page stays readable when printed.
//!
//! Every text that reaches the markup goes through [`esc`]; links are site-relative paths built by the
//! console itself. Colours are presentation attributes (`fill`, `stroke`), not `style`, so a strict
//! Content-Security-Policy without `'unsafe-inline'` allows them.

use std::fmt::Write;

/// Ready SVG markup (already escaped), rendered with askama's `|safe`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Svg(pub String);

impl std::fmt::Display for Svg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Escapes text for XML character data and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One bar or donut slice.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Label shown beside the bar or in the legend.
    pub label: String,
    /// Value (negative values count as zero).
    pub value: f64,
    /// Fill colour (`#b91c1c`).
    pub colour: &'static str,
    /// The list behind the figure (a site path), if any.
    pub href: Option<String>,
}

/// One line of a trend chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend name.
    pub name: String,
    /// Stroke colour.
    pub colour: &'static str,
    /// One value per x label.
    pub points: Vec<f64>,
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.1}")
    }
}

fn open_link(out: &mut String, href: &Option<String>) {
    if let Some(h) = href {
        let _ = write!(out, r#"<a href="{}">"#, esc(h));
    }
}

fn close_link(out: &mut String, href: &Option<String>) {
    if href.is_some() {
        out.push_str("</a>");
    }
}

/// Horizontal bars, one row per item, labels left and values right; `width` in user units.
pub fn bars(items: &[Item], width: u32, title: &str) -> Svg {
    let row = 26.0;
    let label_w = (width as f64 * 0.34).min(180.0);
    let value_w = 56.0;
    let bar_w = width as f64 - label_w - value_w;
    let h = (items.len().max(1) as f64 * row + 4.0).ceil();
    let max = items
        .iter()
        .map(|i| i.value)
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart" viewBox="0 0 {width} {h}" width="100%" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        esc(title)
    );
    let _ = write!(out, "<title>{}</title>", esc(title));
    for (n, it) in items.iter().enumerate() {
        let y = n as f64 * row + 2.0;
        let w = (it.value.max(0.0) / max * bar_w).max(if it.value > 0.0 { 2.0 } else { 0.0 });
        open_link(&mut out, &it.href);
        let _ = write!(
            out,
            r##"<g><title>{label}: {v}</title><text x="{tx}" y="{ty}" text-anchor="end" class="lbl">{label}</text><rect class="track" x="{label_w}" y="{ry}" width="{bar_bg}" height="16" rx="3" fill="#eef1f5"/><rect x="{label_w}" y="{ry}" width="{w:.1}" height="16" rx="3" fill="{c}"/><text x="{vx}" y="{ty}" class="val">{v}</text></g>"##,
            label = esc(&it.label),
            v = fmt_num(it.value),
            tx = label_w - 8.0,
            ty = y + 13.0,
            ry = y + 1.0,
            bar_bg = bar_w,
            c = it.colour,
            vx = label_w + bar_w + 8.0,
        );
        close_link(&mut out, &it.href);
    }
    out.push_str("</svg>");
    Svg(out)
}

/// A donut of shares with the total in the middle and a legend beside it.
pub fn donut(items: &[Item], centre_label: &str, title: &str) -> Svg {
    let total: f64 = items.iter().map(|i| i.value.max(0.0)).sum();
    let (cx, cy, r, stroke) = (70.0, 70.0, 52.0, 22.0);
    let circ = 2.0 * std::f64::consts::PI * r;
    let legend_h = items.len() as f64 * 22.0 + 8.0;
    let h = legend_h.max(140.0);
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart donut" viewBox="0 0 320 {h}" width="100%" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg"><title>{}</title>"#,
        esc(title),
        esc(title)
    );
    let _ = write!(
        out,
        r##"<circle class="track" cx="{cx}" cy="{cy}" r="{r}" fill="none" stroke="#eef1f5" stroke-width="{stroke}"/>"##
    );
    let mut offset = 0.0;
    for it in items {
        let v = it.value.max(0.0);
        if total <= 0.0 || v <= 0.0 {
            continue;
        }
        let len = v / total * circ;
        open_link(&mut out, &it.href);
        let _ = write!(
            out,
            r#"<circle cx="{cx}" cy="{cy}" r="{r}" fill="none" stroke="{c}" stroke-width="{stroke}" stroke-dasharray="{len:.2} {rest:.2}" stroke-dashoffset="{off:.2}" transform="rotate(-90 {cx} {cy})"><title>{l}: {v}</title></circle>"#,
            c = it.colour,
            rest = circ - len,
            off = -offset,
            l = esc(&it.label),
            v = fmt_num(v),
        );
        close_link(&mut out, &it.href);
        offset += len;
    }
    let _ = write!(
        out,
        r#"<text x="{cx}" y="{}" text-anchor="middle" class="big">{}</text><text x="{cx}" y="{}" text-anchor="middle" class="lbl">{}</text>"#,
        cy + 4.0,
        fmt_num(total),
        cy + 22.0,
        esc(centre_label)
    );
    for (n, it) in items.iter().enumerate() {
        let y = 14.0 + n as f64 * 22.0;
        open_link(&mut out, &it.href);
        let _ = write!(
            out,
            r#"<g><rect x="160" y="{}" width="12" height="12" rx="2" fill="{}"/><text x="180" y="{}" class="lbl">{}</text><text x="312" y="{}" text-anchor="end" class="val">{}</text></g>"#,
            y - 10.0,
            it.colour,
            y,
            esc(&it.label),
            y,
            fmt_num(it.value)
        );
        close_link(&mut out, &it.href);
    }
    out.push_str("</svg>");
    Svg(out)
}

/// Lines over shared x labels, with a light grid, a y scale from zero and a legend on top.
pub fn line(series: &[Series], x_labels: &[String], title: &str) -> Svg {
    let (w, h) = (640.0, 220.0);
    let (left, right, top, bottom) = (40.0, 12.0, 28.0, 24.0);
    let n = x_labels.len().max(2);
    let max = series
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .fold(0.0_f64, f64::max);
    let ymax = nice_max(max);
    let px = |i: usize| left + (w - left - right) * i as f64 / (n - 1) as f64;
    let py = |v: f64| top + (h - top - bottom) * (1.0 - v / ymax);
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart line" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg"><title>{}</title>"#,
        esc(title),
        esc(title)
    );
    for k in 0..=4 {
        let v = ymax * k as f64 / 4.0;
        let y = py(v);
        let _ = write!(
            out,
            r##"<line class="grid" x1="{left}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#e5e7eb"/><text x="{}" y="{:.1}" text-anchor="end" class="axis">{}</text>"##,
            w - right,
            left - 6.0,
            y + 4.0,
            fmt_num(v)
        );
    }
    let step = (x_labels.len() / 6).max(1);
    for (i, l) in x_labels.iter().enumerate() {
        if i % step == 0 || i + 1 == x_labels.len() {
            let _ = write!(
                out,
                r#"<text x="{:.1}" y="{}" text-anchor="middle" class="axis">{}</text>"#,
                px(i),
                h - 6.0,
                esc(l)
            );
        }
    }
    for (k, s) in series.iter().enumerate() {
        let pts: Vec<String> = s
            .points
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", px(i), py(v.max(0.0))))
            .collect();
        let _ = write!(
            out,
            r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2" stroke-linejoin="round"><title>{}</title></polyline>"#,
            pts.join(" "),
            s.colour,
            esc(&s.name)
        );
        let lx = left + k as f64 * 130.0;
        let _ = write!(
            out,
            r#"<rect x="{lx}" y="6" width="12" height="4" fill="{}"/><text x="{}" y="12" class="lbl">{}</text>"#,
            s.colour,
            lx + 16.0,
            esc(&s.name)
        );
    }
    out.push_str("</svg>");
    Svg(out)
}

/// A round upper bound for a y axis: 1, 2, 5 × 10ⁿ, at least 4 so quarter ticks stay whole.
fn nice_max(v: f64) -> f64 {
    if v <= 4.0 {
        return 4.0;
    }
    let mag = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 4.0, 5.0, 10.0] {
        if v <= m * mag {
            return m * mag;
        }
    }
    10.0 * mag
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(label: &str, v: f64, href: Option<&str>) -> Item {
        Item {
            label: label.into(),
            value: v,
            colour: "#b91c1c",
            href: href.map(Into::into),
        }
    }

    #[test]
    fn labels_are_escaped_and_links_kept() {
        let s = bars(
            &[item(
                "<script>alert(1)</script>",
                3.0,
                Some("/findings?severity=critical&x=1"),
            )],
            400,
            "t\"",
        );
        assert!(!s.0.contains("<script>"), "{}", s.0);
        assert!(s.0.contains("&lt;script&gt;"));
        assert!(s.0.contains(r#"href="/findings?severity=critical&amp;x=1""#));
        assert!(s.0.contains(r#"aria-label="t&quot;""#));
    }

    #[test]
    fn bar_widths_are_proportional() {
        let s = bars(
            &[
                item("a", 10.0, None),
                item("b", 5.0, None),
                item("c", 0.0, None),
            ],
            400,
            "x",
        );
        let label_w = 136.0_f64;
        let bar_w = 400.0 - label_w - 56.0;
        assert!(s.0.contains(&format!(r#"width="{:.1}""#, bar_w)), "{}", s.0);
        assert!(s.0.contains(&format!(r#"width="{:.1}""#, bar_w / 2.0)));
        assert!(s.0.contains(r#"width="0.0""#));
    }

    #[test]
    fn donut_slices_cover_the_circle() {
        let s = donut(&[item("a", 1.0, None), item("b", 3.0, None)], "open", "x");
        let circ = 2.0 * std::f64::consts::PI * 52.0;
        assert!(
            s.0.contains(&format!("stroke-dasharray=\"{:.2} ", circ / 4.0)),
            "{}",
            s.0
        );
        assert!(s.0.contains(&format!("stroke-dasharray=\"{:.2} ", circ * 3.0 / 4.0)));
        assert!(s.0.contains(">4</text>"));
        let empty = donut(&[item("a", 0.0, None)], "open", "x");
        assert!(!empty.0.contains("stroke-dasharray"));
    }

    #[test]
    fn line_scale_and_points() {
        assert_eq!(nice_max(0.0), 4.0);
        assert_eq!(nice_max(7.0), 10.0);
        assert_eq!(nice_max(130.0), 200.0);
        assert_eq!(nice_max(350.0), 400.0);
        let s = line(
            &[Series {
                name: "open".into(),
                colour: "#b91c1c",
                points: vec![0.0, 10.0],
            }],
            &["a".into(), "b".into()],
            "trend",
        );
        // Zero sits on the bottom grid line, the maximum on the top one.
        assert!(s.0.contains("points=\"40.0,196.0 628.0,28.0\""), "{}", s.0);
    }
}
