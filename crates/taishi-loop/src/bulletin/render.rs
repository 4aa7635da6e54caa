//! Bulletin renderers: HTML (self-contained, printable, every text escaped), Markdown and CSV.

use super::{Bulletin, svg};
use std::fmt::Write;
use taishi_model::Severity;

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Escapes text for a Markdown table cell: pipes, backslashes, HTML-significant characters and line
/// breaks, so outside text can neither break the table nor inject markup.
fn md(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' => o.push_str("\\|"),
            '\\' => o.push_str("\\\\"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '*' | '_' | '`' | '[' | ']' => {
                o.push('\\');
                o.push(c);
            }
            '\n' | '\r' => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

fn change(c: Option<f64>) -> String {
    match c {
        Some(c) if c > 0.05 => format!("↑{c:.1}"),
        Some(c) if c < -0.05 => format!("↓{:.1}", -c),
        Some(_) => "→0.0".into(),
        None => "—".into(),
    }
}

fn date(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d").to_string()
}

const SEV: [Severity; 5] = Severity::ALL_DESC;

/// Renders a self-contained printable HTML page (no scripts, no external resources).
pub fn render_html(b: &Bulletin) -> String {
    let h = &b.headline;
    let mut s = String::with_capacity(16 * 1024);
    let title = format!("{} 网络安全态势通报（{}）", b.org_name, b.period);
    let _ = write!(
        s,
        r#"<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"><title>{t}</title><style>
body{{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:24px;color:#222}}h1{{font-size:22px}}h2{{font-size:17px;border-bottom:1px solid #ccc;margin-top:28px}}
table{{border-collapse:collapse;width:100%;font-size:13px}}th,td{{border:1px solid #bbb;padding:4px 6px;text-align:left}}th{{background:#eef2f7}}
.kpi{{display:inline-block;border:1px solid #ccc;padding:8px 14px;margin:4px;min-width:110px}}.kpi b{{display:block;font-size:20px}}
.g-A{{color:#1e8449}}.g-B{{color:#2874a6}}.g-C{{color:#b7950b}}.g-D{{color:#ca6f1e}}.g-F{{color:#c0392b;font-weight:bold}}
@media print{{body{{margin:0}}h2{{page-break-after:avoid}}table{{page-break-inside:auto}}tr{{page-break-inside:avoid}}}}
</style></head><body><h1>{t}</h1><p>生成时间 Generated: {gen} · 统计周期 Period: {p}</p>"#,
        t = esc(&title),
        gen = esc(&b.generated_at.strftime("%Y-%m-%d %H:%M UTC").to_string()),
        p = esc(&b.period.to_string()),
    );
    s.push_str("<h2>一、总体情况 Headline</h2><div>");
    for (label, value) in [
        (
            "综合得分 Score",
            format!(
                "{:.1} <span class=\"g-{g}\">{g}</span>",
                h.score,
                g = h.grade
            ),
        ),
        ("环比 Change", esc(&change(h.change))),
        ("单位数 Orgs", h.orgs.to_string()),
        ("期末未整改 Open", h.open_findings.to_string()),
        ("新发现 New", h.new_findings.to_string()),
        ("已整改 Closed", h.closed_findings.to_string()),
        ("下发通报 Notices issued", h.notices_issued.to_string()),
        ("办结通报 Notices closed", h.notices_closed.to_string()),
        ("逾期通报 Overdue", h.notices_overdue.to_string()),
    ] {
        let _ = write!(s, "<span class=\"kpi\">{}<b>{value}</b></span>", esc(label));
    }
    s.push_str("</div><h2>二、问题发现与整改 Findings by severity</h2><table><tr><th>严重程度 Severity</th><th>新发现 New</th><th>已整改 Closed</th><th>期末未整改 Open</th></tr>");
    for (k, sev) in SEV.iter().enumerate() {
        let _ = write!(
            s,
            "<tr><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(sev.label_zh()),
            esc(sev.as_str()),
            b.new_by_severity[k],
            b.closed_by_severity[k],
            b.open_by_severity[k]
        );
    }
    s.push_str("</table><h2>三、逾期未整改通报 Overdue notices</h2>");
    if b.overdue.is_empty() {
        s.push_str("<p>无 None.</p>");
    } else {
        s.push_str("<table><tr><th>单位 Org</th><th>编号 No.</th><th>标题 Title</th><th>整改期限 Due</th><th>逾期天数 Days</th><th>督办 Escalation</th></tr>");
        for r in &b.overdue {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&r.org),
                esc(&r.number),
                esc(&r.title),
                esc(&date(r.due)),
                r.days_overdue,
                r.escalation
            );
        }
        s.push_str("</table>");
    }
    s.push_str("<h2>四、单位排名 Ranking</h2><table><tr><th>#</th><th>单位 Org</th><th>上级 Parent</th><th>得分 Score</th><th>等级 Grade</th><th>环比 Change</th><th>主要失分 Main loss</th></tr>");
    for (i, r) in b.ranking.iter().enumerate() {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td class=\"g-{g}\">{g}</td><td>{}</td><td>{}</td></tr>",
            i + 1,
            esc(&r.name),
            esc(&r.parent),
            r.score,
            esc(&change(r.change)),
            esc(&r.main_loss),
            g = r.grade
        );
    }
    s.push_str("</table><h2>五、突出问题 Worst problems</h2>");
    if b.worst.is_empty() {
        s.push_str("<p>无 None.</p>");
    } else {
        s.push_str("<table><tr><th>单位 Org</th><th>问题 Problem</th><th>严重程度 Severity</th><th>首次发现 First seen</th><th>已存在天数 Days open</th></tr>");
        for r in &b.worst {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&r.org),
                esc(&r.title),
                esc(r.severity.label_zh()),
                esc(&date(r.first_seen)),
                r.days_open
            );
        }
        s.push_str("</table>");
    }
    s.push_str("<h2>六、趋势 Trend</h2>");
    let pts: Vec<(String, f64)> = b
        .trend
        .iter()
        .map(|t| (t.period.clone(), t.score))
        .collect();
    s.push_str(&svg::line_chart("综合得分趋势 Score trend", &pts));
    let bars: Vec<(String, u64, u64)> = b
        .trend
        .iter()
        .map(|t| (t.period.clone(), t.new_findings, t.closed_findings))
        .collect();
    s.push_str(&svg::bar_chart(
        "问题发现与整改 New vs closed findings",
        ("新发现 New", "已整改 Closed"),
        &bars,
    ));
    s.push_str("</body></html>\n");
    s
}

/// Renders Markdown (tables escaped so outside text cannot break them).
pub fn render_markdown(b: &Bulletin) -> String {
    let h = &b.headline;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# {} 网络安全态势通报（{}）\n",
        md(&b.org_name),
        b.period
    );
    let _ = writeln!(
        s,
        "生成时间 Generated: {}\n",
        b.generated_at.strftime("%Y-%m-%d %H:%M UTC")
    );
    let _ = writeln!(s, "## 一、总体情况 Headline\n");
    let _ = writeln!(s, "| 指标 | 数值 |\n|---|---|");
    let _ = writeln!(s, "| 综合得分 Score | {:.1} ({}) |", h.score, h.grade);
    let _ = writeln!(s, "| 环比 Change | {} |", change(h.change));
    for (k, v) in [
        ("单位数 Orgs", h.orgs),
        ("期末未整改 Open", h.open_findings),
        ("新发现 New", h.new_findings),
        ("已整改 Closed", h.closed_findings),
        ("下发通报 Notices issued", h.notices_issued),
        ("办结通报 Notices closed", h.notices_closed),
        ("逾期通报 Overdue", h.notices_overdue),
    ] {
        let _ = writeln!(s, "| {k} | {v} |");
    }
    let _ = writeln!(
        s,
        "\n## 二、问题发现与整改 Findings by severity\n\n| 严重程度 | 新发现 | 已整改 | 期末未整改 |\n|---|---|---|---|"
    );
    for (k, sev) in SEV.iter().enumerate() {
        let _ = writeln!(
            s,
            "| {} {} | {} | {} | {} |",
            sev.label_zh(),
            sev.as_str(),
            b.new_by_severity[k],
            b.closed_by_severity[k],
            b.open_by_severity[k]
        );
    }
    let _ = writeln!(s, "\n## 三、逾期未整改通报 Overdue notices\n");
    if b.overdue.is_empty() {
        let _ = writeln!(s, "无 None.");
    } else {
        let _ = writeln!(
            s,
            "| 单位 | 编号 | 标题 | 整改期限 | 逾期天数 | 督办 |\n|---|---|---|---|---|---|"
        );
        for r in &b.overdue {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                md(&r.org),
                md(&r.number),
                md(&r.title),
                date(r.due),
                r.days_overdue,
                r.escalation
            );
        }
    }
    let _ = writeln!(
        s,
        "\n## 四、单位排名 Ranking\n\n| # | 单位 | 上级 | 得分 | 等级 | 环比 | 主要失分 |\n|---|---|---|---|---|---|---|"
    );
    for (i, r) in b.ranking.iter().enumerate() {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.1} | {} | {} | {} |",
            i + 1,
            md(&r.name),
            md(&r.parent),
            r.score,
            r.grade,
            change(r.change),
            md(&r.main_loss)
        );
    }
    let _ = writeln!(s, "\n## 五、突出问题 Worst problems\n");
    if b.worst.is_empty() {
        let _ = writeln!(s, "无 None.");
    } else {
        let _ = writeln!(
            s,
            "| 单位 | 问题 | 严重程度 | 首次发现 | 已存在天数 |\n|---|---|---|---|---|"
        );
        for r in &b.worst {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                md(&r.org),
                md(&r.title),
                r.severity.label_zh(),
                date(r.first_seen),
                r.days_open
            );
        }
    }
    let _ = writeln!(
        s,
        "\n## 六、趋势 Trend\n\n| 周期 | 得分 | 新发现 | 已整改 |\n|---|---|---|---|"
    );
    for t in &b.trend {
        let _ = writeln!(
            s,
            "| {} | {:.1} | {} | {} |",
            md(&t.period),
            t.score,
            t.new_findings,
            t.closed_findings
        );
    }
    s
}

/// Renders the ranking table as CSV (one row per org), the form analysts paste into spreadsheets.
/// Cells that start with `=`, `+`, `-` or `@` are prefixed with `'` so spreadsheets do not run them.
pub fn render_csv(b: &Bulletin) -> String {
    let cell = |s: &str| {
        if s.starts_with(['=', '+', '-', '@']) {
            format!("'{s}")
        } else {
            s.to_owned()
        }
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "period",
        "rank",
        "org",
        "parent",
        "score",
        "grade",
        "change",
        "main_loss",
    ]);
    for (i, r) in b.ranking.iter().enumerate() {
        let _ = w.write_record([
            b.period.to_string(),
            (i + 1).to_string(),
            cell(&r.name),
            cell(&r.parent),
            format!("{:.1}", r.score),
            r.grade.to_string(),
            r.change.map(|c| format!("{c:.1}")).unwrap_or_default(),
            cell(&r.main_loss),
        ]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}
