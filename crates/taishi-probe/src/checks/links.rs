//! Hidden links and spam injection (暗链/黑链): CSS-hidden links, links written by script, and
//! cloaking (different content for a search-engine User-Agent or Referer). Static analysis; a
//! headless-browser pass is not part of this check.

use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeSet;
use taishi_model::Severity;

use super::Env;
use crate::html;
use crate::http::{HttpClient, Request};
use crate::model::{BoxFuture, Check, CheckOutput, FindingKind, Schedule};
use crate::target::Target;

/// Settings of the links check.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LinksConfig {
    /// Interval and timeout.
    pub schedule: Schedule,
    /// Domains never flagged (the organisation's own, partners).
    pub allow_domains: Vec<String>,
    /// Similarity below which crawler and browser views count as different (0–1).
    pub cloak_similarity: f32,
    /// Also render the page in headless Chromium (when installed) to see script-built links.
    pub render: bool,
}

impl Default for LinksConfig {
    fn default() -> Self {
        LinksConfig {
            schedule: Schedule::new(3_600, 60_000),
            allow_domains: vec!["gov.cn".into()],
            cloak_similarity: 0.8,
            render: false,
        }
    }
}

impl LinksConfig {
    /// Builds the runtime check.
    pub fn build(&self, env: &Env) -> Links {
        Links {
            cfg: self.clone(),
            client: env.client.clone(),
            renderer: if self.render {
                crate::render::Renderer::detect()
            } else {
                None
            },
        }
    }
}

/// The runtime links check.
#[derive(Debug)]
pub struct Links {
    cfg: LinksConfig,
    client: HttpClient,
    renderer: Option<crate::render::Renderer>,
}

const FIX_ZH: &str =
    "立即删除被植入的链接与代码，排查网站后台、模板与服务器是否被入侵，修补漏洞并修改口令。";
const FIX_EN: &str = "Remove the injected links and code now, check the CMS, templates and server for compromise, patch and change passwords.";

/// Links hidden by CSS that point outside or carry spam words.
pub const HIDDEN: FindingKind = FindingKind {
    id: "links.hidden",
    severity: Severity::High,
    title_zh: "页面存在隐藏暗链",
    title_en: "Hidden links (SEO spam) in the page",
    fix_zh: FIX_ZH,
    fix_en: FIX_EN,
};
/// Links written by script.
pub const SCRIPTED: FindingKind = FindingKind {
    id: "links.script",
    severity: Severity::High,
    title_zh: "脚本动态写入外部链接",
    title_en: "External links written by script",
    fix_zh: FIX_ZH,
    fix_en: FIX_EN,
};
/// External links that only exist after the page's scripts ran (rendering pass).
pub const RENDERED: FindingKind = FindingKind {
    id: "links.rendered",
    severity: Severity::High,
    title_zh: "渲染后出现脚本植入的外部链接",
    title_en: "External links injected by script (seen after rendering)",
    fix_zh: FIX_ZH,
    fix_en: FIX_EN,
};
/// Cloaking.
pub const CLOAKING: FindingKind = FindingKind {
    id: "links.cloaking",
    severity: Severity::Critical,
    title_zh: "对搜索引擎展示违规内容（黑帽 SEO 劫持）",
    title_en: "Search-engine cloaking with spam content",
    fix_zh: "检查服务器配置、伪静态规则与中间件中按 User-Agent/Referer 分流的代码，清除后门并全面排查入侵。",
    fix_en: "Find the User-Agent/Referer-based rewrite or module serving spam, remove the backdoor and investigate the compromise.",
};

/// A browser User-Agent, for the "visitor" view.
pub const BROWSER_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36";
/// Baidu's crawler User-Agent.
pub const BAIDU_UA: &str =
    "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)";

impl Links {
    fn external(&self, base: &url::Url, href: &str) -> Option<String> {
        let u = base.join(href).ok()?;
        if !matches!(u.scheme(), "http" | "https") {
            return None;
        }
        let host = u.host_str()?.to_ascii_lowercase();
        if Some(host.as_str()) == base.host_str() {
            return None;
        }
        if self
            .cfg
            .allow_domains
            .iter()
            .any(|d| host == *d || host.ends_with(&format!(".{d}")))
        {
            return None;
        }
        Some(host)
    }
}

impl Check for Links {
    fn id(&self) -> &'static str {
        "links"
    }

    fn schedule(&self) -> Schedule {
        self.cfg.schedule
    }

    fn execute<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, CheckOutput> {
        Box::pin(async move {
            let fetch = |ua: &str, referer: Option<&str>| {
                let mut r = Request::get(target.url.clone());
                r.user_agent = ua.to_string();
                r.referer = referer.map(str::to_string);
                async move { self.client.follow(&r).await }
            };
            let browser = fetch(BROWSER_UA, None).await.map_err(|e| e.to_string())?;
            let page = browser.last();
            if !page.is_html() {
                return Ok((json!({"html": false}), Vec::new()));
            }
            let base = page.url.clone();
            let (hidden, scripted, view_text, view_links) = {
                let doc = scraper::Html::parse_document(&page.text());
                (
                    html::hidden_links(&doc),
                    html::script_links(&doc),
                    html::visible_text(&doc),
                    html::all_links(&doc),
                )
            };
            let mut findings = Vec::new();
            let flagged: Vec<_> = hidden
                .iter()
                .filter_map(|l| {
                    let ext = self.external(&base, &l.href);
                    let words = html::spam_words(&l.text);
                    (ext.is_some() || !words.is_empty()).then(|| json!({"href": l.href, "text": l.text, "hidden_by": l.reason, "domain": ext, "keywords": words}))
                })
                .collect();
            if !flagged.is_empty() {
                let domains: BTreeSet<String> = hidden
                    .iter()
                    .filter_map(|l| self.external(&base, &l.href))
                    .collect();
                let text = format!(
                    "{} hidden link(s) to {}",
                    flagged.len(),
                    domains.into_iter().collect::<Vec<_>>().join(", ")
                );
                findings.push(HIDDEN.finding(target, "", text, json!({"links": flagged})));
            }
            let ext_scripted: Vec<String> = scripted
                .iter()
                .filter_map(|h| self.external(&base, h).map(|d| format!("{h} ({d})")))
                .collect();
            if !ext_scripted.is_empty() {
                findings.push(SCRIPTED.finding(
                    target,
                    "",
                    format!("script writes links to {}", ext_scripted.join(", ")),
                    json!({"links": ext_scripted}),
                ));
            }
            // Cloaking: crawler UA, and browser UA arriving from a search engine.
            let browser_domains: BTreeSet<String> = view_links
                .iter()
                .filter_map(|h| self.external(&base, h))
                .collect();
            let browser_words: BTreeSet<&str> = html::spam_words(&view_text)
                .into_iter()
                .map(|(_, w)| w)
                .collect();
            let mut views = Vec::new();
            for (name, ua, referer) in [
                ("baiduspider", BAIDU_UA, None),
                (
                    "search_referer",
                    BROWSER_UA,
                    Some("https://www.baidu.com/s?wd=%E7%A4%BA%E8%8C%83%E5%8C%BA"),
                ),
            ] {
                let Ok(chain) = fetch(ua, referer).await else {
                    continue;
                };
                let other = chain.last();
                let (text, links) = {
                    let doc = scraper::Html::parse_document(&other.text());
                    (html::visible_text(&doc), html::all_links(&doc))
                };
                let ratio =
                    similar::TextDiff::from_chars(view_text.as_str(), text.as_str()).ratio();
                let new_domains: Vec<String> = links
                    .iter()
                    .filter_map(|h| self.external(&other.url, h))
                    .filter(|d| !browser_domains.contains(d))
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                let new_words: Vec<&str> = html::spam_words(&text)
                    .into_iter()
                    .map(|(_, w)| w)
                    .filter(|w| !browser_words.contains(w))
                    .collect();
                views.push(json!({"view": name, "similarity": ratio, "new_domains": new_domains, "new_keywords": new_words}));
                if ratio < self.cfg.cloak_similarity
                    && (!new_domains.is_empty() || !new_words.is_empty())
                    && !findings
                        .iter()
                        .any(|f: &crate::model::ProbeFinding| f.check_id == CLOAKING.id)
                {
                    let text = format!(
                        "{name} view differs (similarity {ratio:.2}) and adds {} keyword(s), domains {:?}",
                        new_words.len(),
                        new_domains
                    );
                    findings.push(CLOAKING.finding(target, "", text, json!({"view": name, "similarity": ratio, "keywords": new_words, "domains": new_domains})));
                }
            }
            let rendered = if !self.cfg.render {
                json!(null)
            } else if let Some(renderer) = &self.renderer {
                match renderer.dump_dom(&base).await {
                    Ok(dom) => {
                        let (r_hidden, r_links) = {
                            let doc = scraper::Html::parse_document(&dom);
                            (html::hidden_links(&doc), html::all_links(&doc))
                        };
                        let known: BTreeSet<&String> =
                            view_links.iter().chain(scripted.iter()).collect();
                        let added: Vec<_> = r_links
                            .iter()
                            .filter(|h| !known.contains(h))
                            .filter_map(|h| {
                                let domain = self.external(&base, h)?;
                                let hidden_by = r_hidden.iter().find(|l| &l.href == h);
                                let text = hidden_by.map(|l| l.text.clone()).unwrap_or_default();
                                Some(json!({"href": h, "domain": domain, "hidden_by": hidden_by.map(|l| l.reason.clone()), "keywords": html::spam_words(&text)}))
                            })
                            .collect();
                        if !added.is_empty() {
                            let text = format!(
                                "{} external link(s) appear only after scripts run",
                                added.len()
                            );
                            findings.push(RENDERED.finding(
                                target,
                                "",
                                text,
                                json!({"links": added}),
                            ));
                        }
                        json!({"links": r_links.len(), "added": added.len()})
                    }
                    Err(e) => json!({"error": e}),
                }
            } else {
                json!({"error": "no chromium found on PATH"})
            };
            let obs = json!({"hidden_links": hidden.len(), "script_links": scripted.len(), "views": views, "rendered": rendered});
            Ok((obs, findings))
        })
    }
}
