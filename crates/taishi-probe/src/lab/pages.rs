//! Page bodies and header sets the lab sites serve.

/// The portal page every content site starts from (the defacement baseline).
pub const PORTAL: &str = r#"<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>示范区人民政府门户网站</title>
<link rel="stylesheet" href="/site.css"></head>
<body style="background:#ffffff;color:#222">
<header><h1>示范区人民政府</h1><nav><a href="/">首页</a> <a href="/news/">新闻动态</a> <a href="/open/">政务公开</a> <a href="/service/">办事服务</a></nav></header>
<main>
<section class="news"><h2>要闻</h2><ul>
<li><a href="/news/1.html">区政府召开常务会议研究部署安全生产工作</a></li>
<li><a href="/news/2.html">示范区开展网络安全宣传周系列活动</a></li>
<li><a href="/news/3.html">关于做好秋冬季森林防火工作的通知</a></li>
<li><a href="/news/4.html">区教育局发布义务教育招生入学政策解读</a></li>
</ul></section>
<section class="notice"><h2>通知公告</h2><p>为进一步优化营商环境，区政务服务中心自下月起实行延时服务，工作日中午及周六上午正常办理业务。</p>
<p>联系电话：0000-12345678　地址：示范区政务服务中心一楼</p></section>
</main>
<footer><p>主办：示范区人民政府办公室　网站标识码：0000000000　<a href="https://www.gov.cn/">中国政府网</a></p></footer>
</body></html>"#;

/// Inserts `extra` right before `</main>` of the portal page.
pub fn portal_with(extra: &str) -> String {
    PORTAL.replace("</main>", &format!("{extra}\n</main>"))
}

/// Links hidden with CSS in several ways, gambling and pharma words, external domains.
pub const HIDDEN_LINKS: &str = r#"<style>.friend-links{display:none}.tiny a{font-size:0}</style>
<div class="friend-links"><a href="http://bet-casino-888.example/">澳门威尼斯人 在线赌场 百家乐</a></div>
<div style="position:absolute;left:-9999px;top:-9999px"><a href="http://lottery-six.example/">六合彩 开奖 彩票投注</a></div>
<div style="height:0;overflow:hidden"><a href="http://cheap-pills.example/">buy viagra online cialis</a></div>
<span class="tiny"><a href="http://replica-watch.example/">高仿手表 replica watches</a></span>
<p style="color:#ffffff"><a href="http://sex-cam.example/" style="color:#fff">成人视频 porn</a></p>"#;

/// Links written by script.
pub const SCRIPT_LINKS: &str = r#"<script>document.write('<div style="display:none"><a href="http://casino-royal.example/">真人娱乐 博彩 casino bonus</a></div>');</script>"#;

/// A link built by obfuscated script: only a rendering pass sees it.
pub const SCRIPT_LINKS_OBFUSCATED: &str = r#"<script>(function(){var a=document.createElement('a');a.href='http://'+['slot','win'].join('-')+'.example/';a.textContent=String.fromCharCode(32769,34382,26426);var d=document.createElement('div');d.style.display='none';d.appendChild(a);document.body.appendChild(d);})();</script>"#;

/// What the cloaking site shows to crawlers and search-engine visitors.
pub const CLOAKED: &str = r#"<!doctype html><html><head><title>澳门赌场 在线博彩 - 示范区</title></head><body>
<h1>澳门威尼斯人 真人娱乐 百家乐</h1><p>最高返水 注册送彩金 六合彩 时时彩</p>
<a href="http://bet-casino-888.example/">立即投注</a> <a href="http://lottery-six.example/">彩票</a></body></html>"#;

/// The defaced page.
pub const DEFACED: &str = r#"<!doctype html><html><head><title>Hacked by 0xShadow Team</title></head>
<body style="background:#000;color:#0f0"><h1>Hacked by 0xShadow Team</h1>
<p>Your security is zero. Greetz to all crews.</p><p>We were here.</p></body></html>"#;

/// A generic "not found" page the soft-404 site returns with status 200 for every path.
pub const SOFT_404: &str = r#"<!doctype html><html><head><title>页面不存在</title></head>
<body><h1>抱歉，您访问的页面不存在</h1><p>请返回<a href="/">首页</a>。</p></body></html>"#;

/// An Apache autoindex listing.
pub const DIR_LISTING: &str = r#"<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">
<html><head><title>Index of /</title></head><body><h1>Index of /</h1>
<table><tr><th><a href="?C=N;O=D">Name</a></th><th><a href="?C=M;O=A">Last modified</a></th></tr>
<tr><td><a href="backup/">backup/</a></td><td>2026-01-02 10:00</td></tr>
<tr><td><a href="db_2025.sql">db_2025.sql</a></td><td>2026-01-02 10:00</td></tr></table>
<address>Apache/2.4.41 (Ubuntu) Server at 127.0.0.1 Port 80</address></body></html>"#;

/// A phpinfo() page fragment.
pub const PHPINFO: &str = r#"<!DOCTYPE html><html><head><title>PHP 7.4.3 - phpinfo()</title></head><body>
<h1 class="p">PHP Version 7.4.3</h1><table><tr><td class="e">System </td><td class="v">Linux web01</td></tr>
<tr><td class="e">PHP Extension </td><td class="v">20190902</td></tr></table></body></html>"#;

/// A git config file.
pub const GIT_CONFIG: &str = "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n[remote \"origin\"]\n\turl = https://git.example.org/portal.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n";

/// A Laravel-style .env file.
pub const DOT_ENV: &str = "APP_NAME=portal\nAPP_ENV=production\nAPP_KEY=base64:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0\nDB_HOST=10.0.0.5\nDB_DATABASE=portal\nDB_PASSWORD=Passw0rd!\n";

/// The security headers of the A+ site.
pub fn good_headers() -> Vec<(String, String)> {
    h(&[
        ("Content-Type", "text/html; charset=utf-8"),
        (
            "Content-Security-Policy",
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'",
        ),
        (
            "Strict-Transport-Security",
            "max-age=63072000; includeSubDomains",
        ),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("Cross-Origin-Resource-Policy", "same-origin"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        (
            "Set-Cookie",
            "sid=7f3a9c; Path=/; Secure; HttpOnly; SameSite=Strict",
        ),
    ])
}

/// The badly configured headers (hand-computed Observatory score 35, grade D).
pub fn bad_headers() -> Vec<(String, String)> {
    h(&[
        ("Content-Type", "text/html; charset=utf-8"),
        (
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self' 'unsafe-inline'",
        ),
        ("Strict-Transport-Security", "max-age=86400"),
        ("X-Frame-Options", "ALLOWALL"),
        ("Referrer-Policy", "unsafe-url"),
        ("Set-Cookie", "sessionid=abc123; Path=/; Secure; HttpOnly"),
    ])
}

/// Only a content type.
pub fn html_only() -> Vec<(String, String)> {
    h(&[("Content-Type", "text/html; charset=utf-8")])
}

/// Builds an owned header list.
pub fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

/// The A+ page: the portal with a same-origin script carrying an integrity hash.
pub fn good_page() -> String {
    PORTAL.replace(
        "</body>",
        "<script src=\"/app.js\" integrity=\"sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC\"></script></body>",
    )
}

/// The bad-headers page: an external script without integrity.
pub fn bad_page() -> String {
    PORTAL.replace(
        "</body>",
        "<script src=\"https://cdn.example.net/lib.js\"></script></body>",
    )
}
