//! Static HTML analysis shared by the hidden-link and defacement checks: visible text, DOM
//! structure, CSS hiding, script-written links, spam keywords.

use scraper::{ElementRef, Html, Node, Selector};
use std::collections::HashMap;

/// Visible text of a document: text nodes outside script/style/noscript/template, whitespace
/// collapsed.
pub fn visible_text(doc: &Html) -> String {
    let mut out = String::new();
    for node in doc.tree.root().descendants() {
        let Node::Text(t) = node.value() else {
            continue;
        };
        let hidden = node.ancestors().any(|a| {
            a.value().as_element().is_some_and(|e| {
                matches!(
                    e.name(),
                    "script" | "style" | "noscript" | "template" | "head"
                )
            })
        });
        if hidden {
            continue;
        }
        for w in t.split_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(w);
        }
    }
    out
}

/// The title, if any.
pub fn title(doc: &Html) -> String {
    let sel = Selector::parse("title").expect("static selector");
    doc.select(&sel)
        .next()
        .map(|t| t.text().collect::<String>().trim().to_string())
        .unwrap_or_default()
}

/// The tag-name skeleton of the body (pre-order, depth-marked), for a structure hash.
pub fn structure(doc: &Html) -> String {
    let mut out = String::new();
    for edge in doc.tree.root().traverse() {
        if let ego_tree::iter::Edge::Open(n) = edge
            && let Some(e) = n.value().as_element()
        {
            out.push_str(e.name());
            out.push(' ');
        }
    }
    out
}

/// Words of spam families, Chinese and English (lower-case).
pub const KEYWORDS: &[(&str, &[&str])] = &[
    (
        "gambling",
        &[
            "博彩",
            "赌场",
            "百家乐",
            "六合彩",
            "时时彩",
            "彩票投注",
            "真人娱乐",
            "老虎机",
            "棋牌",
            "威尼斯人",
            "葡京",
            "体育投注",
            "返水",
            "彩金",
            "casino",
            "baccarat",
            "betting",
            "sportsbook",
            "slot machine",
        ],
    ),
    (
        "porn",
        &[
            "成人视频",
            "色情",
            "裸聊",
            "黄色网站",
            "porn",
            "sex cam",
            "xxx",
        ],
    ),
    (
        "pharma",
        &[
            "伟哥",
            "壮阳",
            "viagra",
            "cialis",
            "pharmacy online",
            "buy pills",
        ],
    ),
    (
        "counterfeit",
        &[
            "高仿",
            "仿真证件",
            "办证",
            "代开发票",
            "replica",
            "fake passport",
        ],
    ),
];

/// The spam families and words found in `text`.
pub fn spam_words(text: &str) -> Vec<(&'static str, &'static str)> {
    let lower = text.to_lowercase();
    let mut out = Vec::new();
    for (family, words) in KEYWORDS {
        for w in *words {
            if lower.contains(w) {
                out.push((*family, *w));
            }
        }
    }
    out
}

/// Why a CSS declaration block hides its element, if it does.
pub fn hiding_reason(style: &str, page_bg: Option<&str>) -> Option<&'static str> {
    let mut decl: HashMap<String, String> = HashMap::new();
    for d in style.split(';') {
        if let Some((k, v)) = d.split_once(':') {
            let v = v
                .trim()
                .to_ascii_lowercase()
                .replace("!important", "")
                .trim()
                .to_string();
            decl.insert(k.trim().to_ascii_lowercase(), v);
        }
    }
    let get = |k: &str| decl.get(k).map(String::as_str);
    let zero = |v: &str| {
        let n: String = v
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '-')
            .collect();
        n.parse::<f64>().is_ok_and(|x| x <= 1.0)
    };
    let far_negative = |v: &str| {
        let n: String = v
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '-')
            .collect();
        n.parse::<f64>().is_ok_and(|x| x <= -500.0)
    };
    if get("display") == Some("none") {
        return Some("display:none");
    }
    if matches!(get("visibility"), Some("hidden" | "collapse")) {
        return Some("visibility:hidden");
    }
    if get("opacity").is_some_and(|v| v.parse::<f64>().is_ok_and(|x| x < 0.05)) {
        return Some("opacity:0");
    }
    if get("font-size").is_some_and(|v| zero(v) && !v.contains('%')) {
        return Some("font-size:0");
    }
    if [
        "left",
        "top",
        "text-indent",
        "margin-left",
        "margin-top",
        "right",
    ]
    .iter()
    .any(|k| get(k).is_some_and(far_negative))
    {
        return Some("off-screen position");
    }
    let clipped = matches!(get("overflow"), Some("hidden" | "clip"));
    if clipped && (get("height").is_some_and(zero) || get("width").is_some_and(zero)) {
        return Some("zero-size clipped container");
    }
    if (get("height").is_some_and(|v| zero(v) && v != "auto")) && (get("width").is_some_and(zero)) {
        return Some("1px or smaller size");
    }
    if get("clip").is_some_and(|v| v.starts_with("rect(0"))
        || get("clip-path").is_some_and(|v| v.contains("inset(50%") || v.contains("inset(100%"))
    {
        return Some("clipped");
    }
    if let Some(c) = get("color") {
        let bg = get("background-color").or(get("background")).or(page_bg);
        if bg.is_some_and(|b| same_colour(c, b)) {
            return Some("text colour equals background");
        }
    }
    None
}

/// Normalises simple colour forms (#fff, #ffffff, white, rgb()) for comparison.
fn norm_colour(c: &str) -> String {
    let c = c.trim().to_ascii_lowercase();
    let c = match c.as_str() {
        "white" => "#ffffff".to_string(),
        "black" => "#000000".to_string(),
        _ => c,
    };
    if c.len() == 4 && c.starts_with('#') {
        let b = c.as_bytes();
        return format!(
            "#{0}{0}{1}{1}{2}{2}",
            b[1] as char, b[2] as char, b[3] as char
        );
    }
    if let Some(inner) = c.strip_prefix("rgb(").and_then(|s| s.strip_suffix(')')) {
        let p: Vec<u8> = inner
            .split(',')
            .filter_map(|x| x.trim().parse().ok())
            .collect();
        if p.len() == 3 {
            return format!("#{:02x}{:02x}{:02x}", p[0], p[1], p[2]);
        }
    }
    c
}

fn same_colour(a: &str, b: &str) -> bool {
    let b = b.split_whitespace().next().unwrap_or(b);
    norm_colour(a) == norm_colour(b)
}

/// A link and why it is hidden.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HiddenLink {
    /// The href.
    pub href: String,
    /// The link text.
    pub text: String,
    /// The hiding technique.
    pub reason: String,
}

/// Every `<a href>` hidden by inline style, `<style>` rules, or the `hidden` attribute on it or
/// an ancestor.
pub fn hidden_links(doc: &Html) -> Vec<HiddenLink> {
    let body_sel = Selector::parse("body").expect("static selector");
    let page_bg = doc
        .select(&body_sel)
        .next()
        .and_then(|b| b.value().attr("style"))
        .and_then(|s| {
            s.split(';').find_map(|d| {
                let (k, v) = d.split_once(':')?;
                matches!(k.trim(), "background" | "background-color").then(|| v.trim().to_string())
            })
        });
    // Rules from <style> blocks.
    let mut rule_hidden: HashMap<ego_tree::NodeId, &'static str> = HashMap::new();
    let style_sel = Selector::parse("style").expect("static selector");
    for st in doc.select(&style_sel) {
        let css: String = st.text().collect();
        for rule in css.split('}') {
            let Some((sel, body)) = rule.split_once('{') else {
                continue;
            };
            let Some(reason) = hiding_reason(body, page_bg.as_deref()) else {
                continue;
            };
            let Ok(selector) = Selector::parse(sel.trim()) else {
                continue;
            };
            for e in doc.select(&selector) {
                rule_hidden.insert(e.id(), reason);
            }
        }
    }
    let a_sel = Selector::parse("a[href]").expect("static selector");
    let mut out = Vec::new();
    for a in doc.select(&a_sel) {
        let mut reason = None;
        let mut cur: Option<ElementRef<'_>> = Some(a);
        while let Some(e) = cur {
            if let Some(r) = rule_hidden.get(&e.id()) {
                reason = Some(r.to_string());
            } else if e.value().attr("hidden").is_some() {
                reason = Some("hidden attribute".into());
            } else if let Some(r) = e
                .value()
                .attr("style")
                .and_then(|s| hiding_reason(s, page_bg.as_deref()))
            {
                reason = Some(r.into());
            }
            if reason.is_some() {
                break;
            }
            cur = e.parent().and_then(ElementRef::wrap);
        }
        if let Some(reason) = reason {
            out.push(HiddenLink {
                href: a.value().attr("href").unwrap_or_default().to_string(),
                text: a.text().collect::<String>().trim().to_string(),
                reason,
            });
        }
    }
    out
}

/// Hrefs of `<a>` tags written by script (document.write, innerHTML, insertAdjacentHTML).
pub fn script_links(doc: &Html) -> Vec<String> {
    let sel = Selector::parse("script").expect("static selector");
    let mut out = Vec::new();
    for s in doc.select(&sel) {
        let code: String = s.text().collect();
        if !["document.write", "innerHTML", "insertAdjacentHTML"]
            .iter()
            .any(|m| code.contains(m))
        {
            continue;
        }
        let mut rest = code.as_str();
        while let Some(i) = rest.find("href=") {
            rest = &rest[i + 5..];
            let q = rest.chars().next().unwrap_or(' ');
            let body = if q == '"' || q == '\'' || q == '\\' {
                rest.trim_start_matches(['\\', '"', '\''])
            } else {
                rest
            };
            let end = body.find(['"', '\'', '\\', ' ', '>']).unwrap_or(body.len());
            out.push(body[..end].to_string());
            rest = &body[end..];
        }
    }
    out
}

/// Every `<a href>` in the document.
pub fn all_links(doc: &Html) -> Vec<String> {
    let sel = Selector::parse("a[href]").expect("static selector");
    doc.select(&sel)
        .filter_map(|a| a.value().attr("href").map(str::to_string))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hiding_reasons() {
        assert_eq!(hiding_reason("display: none", None), Some("display:none"));
        assert_eq!(
            hiding_reason("position:absolute;left:-9999px", None),
            Some("off-screen position")
        );
        assert_eq!(
            hiding_reason("height:0;overflow:hidden", None),
            Some("zero-size clipped container")
        );
        assert_eq!(hiding_reason("font-size:0", None), Some("font-size:0"));
        assert_eq!(
            hiding_reason("color:#fff", Some("#ffffff")),
            Some("text colour equals background")
        );
        assert_eq!(hiding_reason("color:#333", Some("#ffffff")), None);
        assert_eq!(hiding_reason("font-size:14px;margin-left:10px", None), None);
    }

    #[test]
    fn finds_hidden_and_script_links() {
        let doc = Html::parse_document(
            r#"<style>.x{display:none}</style><body><div class="x"><a href="http://a.example/">a</a></div>
            <a href="/ok">ok</a><script>document.write('<a href="http://b.example/">b</a>')</script></body>"#,
        );
        let h = hidden_links(&doc);
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].href, "http://a.example/");
        assert_eq!(script_links(&doc), vec!["http://b.example/".to_string()]);
        assert_eq!(spam_words("澳门威尼斯人 在线赌场")[0].0, "gambling");
    }
}
