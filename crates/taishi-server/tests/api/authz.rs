//! Walks every route of the route table and proves the two scoping promises:
//! 1. an officer of township A can neither read nor change anything of township B;
//! 2. a viewer can change nothing.
//!
//! A route that has no probe here makes the test fail, so new routes must be added.

use crate::common::*;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use taishi_model::*;
use taishi_server::policy::Action;
use taishi_server::routes::{Access, table};

/// What must be true of an answer.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// Refused: 401, 403 or 404.
    Denied,
    /// Answered (2xx), and the answer mentions nothing of B (checked for every probe anyway).
    Clean,
}

struct Probe {
    method: Method,
    uri: String,
    body: Option<Value>,
    expect: Expect,
}

fn p(method: Method, uri: impl Into<String>, body: Option<Value>, expect: Expect) -> Probe {
    Probe {
        method,
        uri: uri.into(),
        body,
        expect,
    }
}

fn org_body(parent: OrgId, code: &str) -> Value {
    json!({"parent_id": parent, "code": code, "name": "新单位", "kind": "site", "sector": "other"})
}

/// Probes an officer of A sends at B's things, by route.
fn officer_probes(fx: &Fx, method: &Method, path: &str) -> Option<Vec<Probe>> {
    use Expect::*;
    use Method as M;
    let (b, b1, ab, sb, ub, tb) = (
        fx.b.id,
        fx.b1.id,
        fx.asset_b.id,
        fx.sw_b.id,
        fx.user_b.id,
        fx.tok_b.id,
    );
    let v = match (method.as_str(), path) {
        ("GET", "/healthz") => vec![p(M::GET, "/healthz", None, Clean)],
        ("GET", "/metrics") => vec![p(M::GET, "/metrics", None, Clean)],
        ("GET", "/api/v1/openapi.json") => vec![p(M::GET, "/api/v1/openapi.json", None, Clean)],
        ("POST", "/api/v1/auth/login") => vec![p(
            M::POST,
            "/api/v1/auth/login",
            Some(json!({"name": "officer-zzb", "password": "not the password"})),
            Denied,
        )],
        ("POST", "/api/v1/auth/logout") => vec![p(M::POST, "/api/v1/auth/logout", None, Clean)],
        ("GET", "/api/v1/auth/whoami") => vec![p(M::GET, "/api/v1/auth/whoami", None, Clean)],
        ("POST", "/api/v1/auth/password") => vec![p(
            M::POST,
            "/api/v1/auth/password",
            Some(json!({"current_password": PASSWORD, "new_password": "a new password!"})),
            Denied,
        )],
        ("GET", "/api/v1/orgs") => vec![
            p(M::GET, "/api/v1/orgs?limit=1000", None, Clean),
            p(M::GET, format!("/api/v1/orgs?parent={b}"), None, Clean),
            p(M::GET, "/api/v1/orgs?q=zzb", None, Clean),
            p(M::GET, format!("/api/v1/orgs?within={b}"), None, Denied),
        ],
        ("POST", "/api/v1/orgs") => vec![p(
            M::POST,
            "/api/v1/orgs",
            Some(org_body(b, "new-x")),
            Denied,
        )],
        ("GET", "/api/v1/orgs/tree") => vec![
            p(M::GET, "/api/v1/orgs/tree?depth=10", None, Clean),
            p(M::GET, format!("/api/v1/orgs/tree?root={b}"), None, Denied),
            p(
                M::GET,
                format!("/api/v1/orgs/tree?root={}", fx.root.id),
                None,
                Denied,
            ),
        ],
        ("GET", "/api/v1/orgs/{id}") => vec![
            p(M::GET, format!("/api/v1/orgs/{b}"), None, Denied),
            p(M::GET, format!("/api/v1/orgs/{b1}"), None, Denied),
            p(M::GET, format!("/api/v1/orgs/{}", fx.root.id), None, Denied),
        ],
        ("PATCH", "/api/v1/orgs/{id}") => vec![
            p(
                M::PATCH,
                format!("/api/v1/orgs/{b}"),
                Some(json!({"notes": "hacked"})),
                Denied,
            ),
            p(
                M::PATCH,
                format!("/api/v1/orgs/{b1}"),
                Some(json!({"notes": "hacked"})),
                Denied,
            ),
        ],
        ("DELETE", "/api/v1/orgs/{id}") => vec![p(
            M::DELETE,
            format!("/api/v1/orgs/{b1}?cascade=true"),
            None,
            Denied,
        )],
        ("POST", "/api/v1/orgs/{id}/move") => vec![
            p(
                M::POST,
                format!("/api/v1/orgs/{b1}/move"),
                Some(json!({"parent_id": fx.a.id})),
                Denied,
            ),
            p(
                M::POST,
                format!("/api/v1/orgs/{}/move", fx.a1.id),
                Some(json!({"parent_id": b})),
                Denied,
            ),
        ],
        ("GET", "/api/v1/assets") => vec![
            p(M::GET, "/api/v1/assets?limit=1000", None, Clean),
            p(M::GET, "/api/v1/assets?q=zzb", None, Clean),
            p(M::GET, format!("/api/v1/assets?org={b1}"), None, Clean),
            p(M::GET, "/api/v1/assets?tag=zzb-tag", None, Clean),
            p(M::GET, format!("/api/v1/assets?within={b}"), None, Denied),
        ],
        ("POST", "/api/v1/assets") => vec![p(
            M::POST,
            "/api/v1/assets",
            Some(json!({"org_id": b1, "kind": "domain", "identity": "new.example.cn"})),
            Denied,
        )],
        ("GET", "/api/v1/assets/{id}") => {
            vec![p(M::GET, format!("/api/v1/assets/{ab}"), None, Denied)]
        }
        ("PATCH", "/api/v1/assets/{id}") => vec![
            p(
                M::PATCH,
                format!("/api/v1/assets/{ab}"),
                Some(json!({"notes": "hacked"})),
                Denied,
            ),
            p(
                M::PATCH,
                format!("/api/v1/assets/{}", fx.asset_a.id),
                Some(json!({"org_id": b1})),
                Denied,
            ),
        ],
        ("DELETE", "/api/v1/assets/{id}") => {
            vec![p(M::DELETE, format!("/api/v1/assets/{ab}"), None, Denied)]
        }
        ("GET", "/api/v1/assets/{id}/software") => {
            vec![p(
                M::GET,
                format!("/api/v1/assets/{ab}/software"),
                None,
                Denied,
            )]
        }
        ("GET", "/api/v1/assets/{id}/observations") => vec![
            p(
                M::GET,
                format!("/api/v1/assets/{ab}/observations"),
                None,
                Denied,
            ),
            p(
                M::GET,
                format!("/api/v1/assets/{ab}/observations?check=availability"),
                None,
                Denied,
            ),
        ],
        ("GET", "/api/v1/assets/{id}/availability") => {
            vec![p(
                M::GET,
                format!("/api/v1/assets/{ab}/availability"),
                None,
                Denied,
            )]
        }
        ("GET", "/api/v1/availability") => vec![
            p(M::GET, "/api/v1/availability", None, Clean),
            p(
                M::GET,
                format!("/api/v1/availability?within={b}"),
                None,
                Denied,
            ),
        ],
        ("POST", "/api/v1/assets/{id}/software") => vec![p(
            M::POST,
            format!("/api/v1/assets/{ab}/software"),
            Some(json!({"vendor": "x", "product": "y"})),
            Denied,
        )],
        ("GET", "/api/v1/software") => vec![
            p(M::GET, "/api/v1/software?limit=1000", None, Clean),
            p(M::GET, format!("/api/v1/software?asset={ab}"), None, Clean),
            p(M::GET, format!("/api/v1/software?within={b}"), None, Denied),
        ],
        ("GET", "/api/v1/software/{id}") => {
            vec![p(M::GET, format!("/api/v1/software/{sb}"), None, Denied)]
        }
        ("DELETE", "/api/v1/software/{id}") => {
            vec![p(M::DELETE, format!("/api/v1/software/{sb}"), None, Denied)]
        }
        ("GET", "/api/v1/attribution") => vec![
            p(M::GET, "/api/v1/attribution?q=10.2.0.1", None, Denied),
            p(M::GET, "/api/v1/attribution?q=zzb.example.cn", None, Denied),
        ],
        ("GET", "/api/v1/users") => vec![
            p(M::GET, "/api/v1/users?limit=1000", None, Clean),
            p(M::GET, format!("/api/v1/users?within={b}"), None, Denied),
        ],
        ("POST", "/api/v1/users") => vec![p(
            M::POST,
            "/api/v1/users",
            Some(
                json!({"name": "new-user", "role": "officer", "org_id": b, "password": "long enough pw"}),
            ),
            Denied,
        )],
        ("GET", "/api/v1/users/{id}") => {
            vec![p(M::GET, format!("/api/v1/users/{ub}"), None, Denied)]
        }
        ("PATCH", "/api/v1/users/{id}") => vec![
            p(
                M::PATCH,
                format!("/api/v1/users/{ub}"),
                Some(json!({"disabled": true})),
                Denied,
            ),
            p(
                M::PATCH,
                format!("/api/v1/users/{}", fx.user_a.id),
                Some(json!({"org_id": b})),
                Denied,
            ),
        ],
        ("DELETE", "/api/v1/users/{id}") => {
            vec![p(M::DELETE, format!("/api/v1/users/{ub}"), None, Denied)]
        }
        ("POST", "/api/v1/users/{id}/password") => vec![p(
            M::POST,
            format!("/api/v1/users/{ub}/password"),
            Some(json!({"password": "long enough pw"})),
            Denied,
        )],
        ("GET", "/api/v1/tokens") => vec![
            p(M::GET, "/api/v1/tokens", None, Denied),
            p(M::GET, format!("/api/v1/tokens?within={b}"), None, Denied),
        ],
        ("POST", "/api/v1/tokens") => vec![p(
            M::POST,
            "/api/v1/tokens",
            Some(json!({"name": "t", "role": "viewer", "org_id": b})),
            Denied,
        )],
        ("GET", "/api/v1/tokens/{id}") => {
            vec![p(M::GET, format!("/api/v1/tokens/{tb}"), None, Denied)]
        }
        ("POST", "/api/v1/tokens/{id}/revoke") => vec![p(
            M::POST,
            format!("/api/v1/tokens/{tb}/revoke"),
            None,
            Denied,
        )],
        ("GET", "/api/v1/audit") => vec![
            p(M::GET, "/api/v1/audit?limit=1000", None, Clean),
            p(
                M::GET,
                format!("/api/v1/audit?entity_type=org&entity_id={b}"),
                None,
                Clean,
            ),
            p(M::GET, format!("/api/v1/audit?within={b}"), None, Denied),
        ],
        _ => {
            let lp = crate::loop_fx::officer(fx, method.as_str(), path)?;
            return Some(
                lp.into_iter()
                    .map(|(m, u, b, clean)| p(m, u, b, if clean { Clean } else { Denied }))
                    .collect(),
            );
        }
    };
    Some(v)
}

/// Write probes a viewer of A sends at A's own things (in scope, so only the role can stop them).
fn viewer_probes(fx: &Fx, method: &Method, path: &str) -> Option<Vec<Probe>> {
    use Expect::Denied;
    use Method as M;
    let (a, a1, aa, sa, ua, ta) = (
        fx.a.id,
        fx.a1.id,
        fx.asset_a.id,
        fx.sw_a.id,
        fx.user_a.id,
        fx.tok_a.id,
    );
    let v = match (method.as_str(), path) {
        ("POST", "/api/v1/orgs") => vec![p(
            M::POST,
            "/api/v1/orgs",
            Some(org_body(a, "new-y")),
            Denied,
        )],
        ("PATCH", "/api/v1/orgs/{id}") => vec![p(
            M::PATCH,
            format!("/api/v1/orgs/{a1}"),
            Some(json!({"notes": "x"})),
            Denied,
        )],
        ("DELETE", "/api/v1/orgs/{id}") => vec![p(
            M::DELETE,
            format!("/api/v1/orgs/{a1}?cascade=true"),
            None,
            Denied,
        )],
        ("POST", "/api/v1/orgs/{id}/move") => {
            vec![p(
                M::POST,
                format!("/api/v1/orgs/{a1}/move"),
                Some(json!({"parent_id": a})),
                Denied,
            )]
        }
        ("POST", "/api/v1/assets") => vec![p(
            M::POST,
            "/api/v1/assets",
            Some(json!({"org_id": a1, "kind": "domain", "identity": "new.example.cn"})),
            Denied,
        )],
        ("PATCH", "/api/v1/assets/{id}") => vec![p(
            M::PATCH,
            format!("/api/v1/assets/{aa}"),
            Some(json!({"notes": "x"})),
            Denied,
        )],
        ("DELETE", "/api/v1/assets/{id}") => {
            vec![p(M::DELETE, format!("/api/v1/assets/{aa}"), None, Denied)]
        }
        ("POST", "/api/v1/assets/{id}/software") => vec![p(
            M::POST,
            format!("/api/v1/assets/{aa}/software"),
            Some(json!({"vendor": "x", "product": "y"})),
            Denied,
        )],
        ("DELETE", "/api/v1/software/{id}") => {
            vec![p(M::DELETE, format!("/api/v1/software/{sa}"), None, Denied)]
        }
        ("POST", "/api/v1/users") => vec![p(
            M::POST,
            "/api/v1/users",
            Some(
                json!({"name": "new-user", "role": "viewer", "org_id": a, "password": "long enough pw"}),
            ),
            Denied,
        )],
        ("PATCH", "/api/v1/users/{id}") => vec![p(
            M::PATCH,
            format!("/api/v1/users/{ua}"),
            Some(json!({"disabled": true})),
            Denied,
        )],
        ("DELETE", "/api/v1/users/{id}") => {
            vec![p(M::DELETE, format!("/api/v1/users/{ua}"), None, Denied)]
        }
        ("POST", "/api/v1/users/{id}/password") => vec![p(
            M::POST,
            format!("/api/v1/users/{ua}/password"),
            Some(json!({"password": "long enough pw"})),
            Denied,
        )],
        ("POST", "/api/v1/tokens") => vec![p(
            M::POST,
            "/api/v1/tokens",
            Some(json!({"name": "t", "role": "viewer", "org_id": a})),
            Denied,
        )],
        ("POST", "/api/v1/tokens/{id}/revoke") => vec![p(
            M::POST,
            format!("/api/v1/tokens/{ta}/revoke"),
            None,
            Denied,
        )],
        _ => {
            let lp = crate::loop_fx::viewer(fx, method.as_str(), path)?;
            return Some(
                lp.into_iter()
                    .map(|(m, u, b, _)| p(m, u, b, Denied))
                    .collect(),
            );
        }
    };
    Some(v)
}

/// Everything of a subtree as the admin sees it, to prove nothing changed.
async fn snapshot(fx: &Fx, within: OrgId) -> String {
    let s = fx.store.as_ref();
    let all = Page::first(1000);
    let orgs = s
        .list_orgs(
            &OrgFilter {
                within: Some(within),
                ..Default::default()
            },
            all,
        )
        .await
        .unwrap();
    let assets = s
        .list_assets(
            &AssetFilter {
                within: Some(within),
                ..Default::default()
            },
            all,
        )
        .await
        .unwrap();
    let sw = s
        .list_software(
            &SoftwareFilter {
                within: Some(within),
                ..Default::default()
            },
            all,
        )
        .await
        .unwrap();
    let users = s
        .list_users(
            &UserFilter {
                within: Some(within),
                ..Default::default()
            },
            all,
        )
        .await
        .unwrap();
    let toks = s
        .list_tokens(
            &TokenFilter {
                within: Some(within),
                include_revoked: true,
            },
            all,
        )
        .await
        .unwrap();
    let toks: Vec<_> = toks
        .items
        .into_iter()
        .map(|t| (t.id, t.name, t.revoked_at))
        .collect();
    let audit = s.list_audit(&AuditFilter::default(), all).await.unwrap();
    let changes: Vec<_> = audit
        .items
        .iter()
        .filter(|e| !e.action.starts_with("session."))
        .map(|e| e.id)
        .collect();
    format!(
        "{:?}{:?}{:?}{:?}{:?}{:?}",
        orgs.items, assets.items, sw.items, users.items, toks, changes
    )
}

fn acceptable(expect: Expect, status: StatusCode) -> bool {
    match expect {
        Expect::Denied => matches!(status.as_u16(), 401 | 403 | 404),
        Expect::Clean => status.is_success(),
    }
}

#[tokio::test]
async fn officer_of_a_cannot_read_or_change_anything_of_b() {
    let fx = fixture().await;
    let token = fx.bearer["officer_a"].clone();
    let before = snapshot(&fx, fx.b.id).await;
    let mut missing = Vec::new();
    let mut failures = Vec::new();
    let mut probes_run = 0;
    for route in table() {
        let Some(probes) = officer_probes(&fx, &route.method, route.path) else {
            missing.push(format!("{route:?}"));
            continue;
        };
        assert!(!probes.is_empty());
        for pr in probes {
            let auth = if route.access == Access::Public {
                Auth::None
            } else {
                Auth::Bearer(&token)
            };
            let r = call(&fx.app, pr.method.clone(), &pr.uri, auth, pr.body.clone()).await;
            probes_run += 1;
            if !acceptable(pr.expect, r.status) {
                failures.push(format!(
                    "{} {} → {} (expected {:?}): {}",
                    pr.method, pr.uri, r.status, pr.expect, r.text
                ));
            }
            if r.text.contains("zzb") {
                failures.push(format!("{} {} leaked B: {}", pr.method, pr.uri, r.text));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "routes without an officer probe:\n{}",
        missing.join("\n")
    );
    assert!(
        failures.is_empty(),
        "scope violations:\n{}",
        failures.join("\n")
    );
    assert_eq!(before, snapshot(&fx, fx.b.id).await, "B changed");
    assert!(probes_run >= 58, "{probes_run}");
}

#[tokio::test]
async fn viewer_can_change_nothing() {
    let fx = fixture().await;
    let token = fx.bearer["viewer_a"].clone();
    let before = snapshot(&fx, fx.root.id).await;
    let mut missing = Vec::new();
    let mut failures = Vec::new();
    for route in table() {
        let Access::Act(action) = route.access else {
            continue;
        };
        if !action.is_write() {
            continue;
        }
        let Some(probes) = viewer_probes(&fx, &route.method, route.path) else {
            missing.push(format!("{route:?}"));
            continue;
        };
        for pr in probes {
            let r = call(
                &fx.app,
                pr.method.clone(),
                &pr.uri,
                Auth::Bearer(&token),
                pr.body.clone(),
            )
            .await;
            if r.status != StatusCode::FORBIDDEN {
                failures.push(format!(
                    "{} {} → {}: {}",
                    pr.method, pr.uri, r.status, r.text
                ));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "write routes without a viewer probe:\n{}",
        missing.join("\n")
    );
    assert!(
        failures.is_empty(),
        "viewer changed or was not refused:\n{}",
        failures.join("\n")
    );
    assert_eq!(before, snapshot(&fx, fx.root.id).await, "something changed");
    // The same viewer reads its subtree.
    let r = call(
        &fx.app,
        Method::GET,
        &format!("/api/v1/orgs/{}", fx.a1.id),
        Auth::Bearer(&token),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[test]
fn every_write_route_names_a_write_action() {
    for r in table() {
        let writes = matches!(
            r.method,
            Method::POST | Method::PATCH | Method::DELETE | Method::PUT
        );
        match r.access {
            Access::Act(a) => assert_eq!(writes, a.is_write(), "{r:?}"),
            Access::Public | Access::Caller => {}
        }
        assert!(
            r.path == "/healthz" || r.path == "/metrics" || r.path.starts_with("/api/v1/"),
            "{r:?}"
        );
    }
    assert!(
        table()
            .iter()
            .any(|r| r.access == Access::Act(Action::ManageTokens))
    );
}
