//! Closed-loop fixtures on top of the registry fixture: a finding and an issued notice in each township's
//! village, a rectification with a PNG attachment on each notice (both then wait in `verifying`), and
//! an archived bulletin of each township. B's things carry the marker `zzb` like the registry's.

use serde_json::{Value, json};
use std::sync::Arc;
use taishi_loop::{Caller, LoopService, SystemClock};
use taishi_model::finding::Sighting;
use taishi_model::indicator::Period;
use taishi_model::{Asset, FindingSource, Org, Severity};
use taishi_store::Store;
use uuid::Uuid;

/// Ids of the loop's things per township.
#[derive(Debug, Clone)]
pub struct LoopFx {
    pub finding_a: Uuid,
    pub finding_b: Uuid,
    pub notice_a: Uuid,
    pub notice_b: Uuid,
    pub att_a: Uuid,
    pub att_b: Uuid,
    pub bulletin_a: Uuid,
    pub bulletin_b: Uuid,
}

/// A tiny valid PNG header and body, enough for the attachment type check.
pub const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

pub fn sighting(org: &Org, asset: &Asset, marker: &str, sev: Severity) -> Sighting {
    Sighting {
        source: FindingSource::Probe,
        check: "tls.legacy_protocols".into(),
        key: "443".into(),
        org: org.id,
        asset: asset.id,
        title: format!("TLS 1.0 enabled on {marker}"),
        severity: sev,
        exploited: false,
        internet_exposed: true,
        evidence: json!({"protocols": ["TLSv1.0"], "host": marker}),
        seen_at: jiff::Timestamp::now(),
    }
}

async fn one_side(
    svc: &LoopService,
    store: &dyn Store,
    village: &Org,
    township: &Org,
    asset: &Asset,
    marker: &str,
) -> (Uuid, Uuid, Uuid, Uuid) {
    let sys = Caller::system("fixture");
    let f = svc
        .ingest(sighting(village, asset, marker, Severity::High))
        .await
        .unwrap()
        .finding;
    let n = svc
        .draft_notice(
            &sys,
            village.id,
            vec![f.id],
            &format!("通报 {marker}"),
            vec![format!("fix {marker}")],
        )
        .await
        .unwrap();
    svc.issue(&sys, n.id, "").await.unwrap();
    let n = svc
        .submit_rectification(
            &sys,
            n.id,
            &format!("disabled TLS 1.0 on {marker}"),
            vec![(format!("{marker}.png"), PNG.to_vec())],
        )
        .await
        .unwrap();
    let att = store.rectifications(n.id).await.unwrap()[0].attachments[0].id;
    let d = svc.policy().calendar.date_of(svc.now());
    let period = Period::Month(d.year(), d.month());
    svc.bulletin(township.id, period, true).await.unwrap();
    let bul = store.bulletins(township.id).await.unwrap()[0].id;
    (f.id, n.id, att, bul)
}

pub async fn seed(
    store: Arc<dyn Store>,
    a: &Org,
    a1: &Org,
    b: &Org,
    b1: &Org,
    asset_a: &Asset,
    asset_b: &Asset,
) -> LoopFx {
    let svc = LoopService::new(store.clone(), Arc::new(SystemClock));
    let (finding_a, notice_a, att_a, bulletin_a) =
        one_side(&svc, store.as_ref(), a1, a, asset_a, "zza.example.cn").await;
    let (finding_b, notice_b, att_b, bulletin_b) =
        one_side(&svc, store.as_ref(), b1, b, asset_b, "zzb.example.cn").await;
    LoopFx {
        finding_a,
        finding_b,
        notice_a,
        notice_b,
        att_a,
        att_b,
        bulletin_a,
        bulletin_b,
    }
}

/// A probe: method, uri, JSON body, and whether it must be answered (true) or refused (false).
pub type LoopProbe = (axum::http::Method, String, Option<Value>, bool);

/// Probes an officer of A sends at B's loop things, by route.
pub fn officer(fx: &crate::common::Fx, method: &str, path: &str) -> Option<Vec<LoopProbe>> {
    use axum::http::Method as M;
    let l = &fx.lp;
    let (b, b1, fb, nb, ab, bb) = (
        fx.b.id,
        fx.b1.id,
        l.finding_b,
        l.notice_b,
        l.att_b,
        l.bulletin_b,
    );
    let deny = |m: M, u: String, body: Option<Value>| (m, u, body, false);
    let ok = |u: String| (M::GET, u, None, true);
    let v = match (method, path) {
        ("GET", "/api/v1/findings") => vec![
            ok("/api/v1/findings?limit=1000".into()),
            ok("/api/v1/findings?q=zzb".into()),
            ok(format!("/api/v1/findings?org={b1}")),
            ok(format!("/api/v1/findings?asset={}", fx.asset_b.id)),
            ok("/api/v1/findings?severity=high,critical&status=open".into()),
            deny(M::GET, format!("/api/v1/findings?within={b}"), None),
        ],
        ("POST", "/api/v1/findings/bulk") => vec![deny(
            M::POST,
            "/api/v1/findings/bulk".into(),
            Some(json!({"ids": [fb], "action": "false_positive", "reason": "x"})),
        )],
        ("GET", "/api/v1/findings/{id}") => {
            vec![deny(M::GET, format!("/api/v1/findings/{fb}"), None)]
        }
        ("POST", "/api/v1/findings/{id}/false-positive") => vec![deny(
            M::POST,
            format!("/api/v1/findings/{fb}/false-positive"),
            Some(json!({"comment": "x"})),
        )],
        ("POST", "/api/v1/findings/{id}/accept-risk") => vec![deny(
            M::POST,
            format!("/api/v1/findings/{fb}/accept-risk"),
            Some(json!({"reason": "x", "days": 30})),
        )],
        ("GET", "/api/v1/notices") => vec![
            ok("/api/v1/notices?limit=1000".into()),
            ok("/api/v1/notices?q=zzb".into()),
            ok(format!("/api/v1/notices?org={b1}")),
            deny(M::GET, format!("/api/v1/notices?within={b}"), None),
        ],
        ("POST", "/api/v1/notices") => vec![
            deny(
                M::POST,
                "/api/v1/notices".into(),
                Some(json!({"org_id": b1, "findings": [fb], "title": "x"})),
            ),
            deny(
                M::POST,
                "/api/v1/notices".into(),
                Some(json!({"org_id": fx.a1.id, "findings": [fb], "title": "x"})),
            ),
        ],
        ("POST", "/api/v1/notices/sweep") => {
            vec![deny(M::POST, "/api/v1/notices/sweep".into(), None)]
        }
        ("GET", "/api/v1/notices/{id}") => {
            vec![deny(M::GET, format!("/api/v1/notices/{nb}"), None)]
        }
        ("POST", "/api/v1/notices/{id}/issue") => {
            vec![deny(
                M::POST,
                format!("/api/v1/notices/{nb}/issue"),
                Some(json!({})),
            )]
        }
        ("POST", "/api/v1/notices/{id}/acknowledge") => vec![deny(
            M::POST,
            format!("/api/v1/notices/{nb}/acknowledge"),
            Some(json!({})),
        )],
        ("POST", "/api/v1/notices/{id}/rectifications") => vec![deny(
            M::POST,
            format!("/api/v1/notices/{nb}/rectifications"),
            Some(json!({"description": "x"})),
        )],
        ("POST", "/api/v1/notices/{id}/verify") => {
            vec![deny(
                M::POST,
                format!("/api/v1/notices/{nb}/verify"),
                Some(json!({})),
            )]
        }
        ("POST", "/api/v1/notices/{id}/return") => vec![deny(
            M::POST,
            format!("/api/v1/notices/{nb}/return"),
            Some(json!({"reason": "x"})),
        )],
        ("POST", "/api/v1/notices/{id}/cancel") => vec![deny(
            M::POST,
            format!("/api/v1/notices/{nb}/cancel"),
            Some(json!({"reason": "x"})),
        )],
        ("POST", "/api/v1/notices/{id}/extension/request") => vec![deny(
            M::POST,
            format!("/api/v1/notices/{nb}/extension/request"),
            Some(json!({"until": "2099-01-01", "reason": "x"})),
        )],
        ("POST", "/api/v1/notices/{id}/extension/grant") => vec![deny(
            M::POST,
            format!("/api/v1/notices/{nb}/extension/grant"),
            Some(json!({"until": "2099-01-01"})),
        )],
        ("POST", "/api/v1/notices/{id}/extension/refuse") => vec![deny(
            M::POST,
            format!("/api/v1/notices/{nb}/extension/refuse"),
            Some(json!({"reason": "x"})),
        )],
        ("POST", "/api/v1/notices/{id}/extend") => vec![deny(
            M::POST,
            format!("/api/v1/notices/{nb}/extend"),
            Some(json!({"until": "2099-01-01", "reason": "x"})),
        )],
        ("GET", "/api/v1/notices/{id}/attachments/{attachment}") => vec![
            deny(
                M::GET,
                format!("/api/v1/notices/{nb}/attachments/{ab}"),
                None,
            ),
            deny(
                M::GET,
                format!("/api/v1/notices/{}/attachments/{ab}", l.notice_a),
                None,
            ),
        ],
        ("GET", "/api/v1/scores") => vec![
            ok("/api/v1/scores?limit=1000".into()),
            deny(M::GET, format!("/api/v1/scores?within={b}"), None),
        ],
        ("GET", "/api/v1/scores/{org}") => vec![
            ok(format!("/api/v1/scores/{}", fx.a.id)),
            deny(M::GET, format!("/api/v1/scores/{b}"), None),
            deny(M::GET, format!("/api/v1/scores/{}", fx.root.id), None),
        ],
        ("POST", "/api/v1/bulletins") => vec![deny(
            M::POST,
            "/api/v1/bulletins".into(),
            Some(json!({"org_id": b, "period": "2026-11"})),
        )],
        ("GET", "/api/v1/orgs/{id}/bulletins") => vec![
            ok(format!("/api/v1/orgs/{}/bulletins", fx.a.id)),
            deny(M::GET, format!("/api/v1/orgs/{b}/bulletins"), None),
        ],
        ("GET", "/api/v1/orgs/{id}/bulletins/{bulletin}") => vec![
            deny(M::GET, format!("/api/v1/orgs/{b}/bulletins/{bb}"), None),
            deny(
                M::GET,
                format!("/api/v1/orgs/{}/bulletins/{bb}", fx.a.id),
                None,
            ),
        ],
        _ => return None,
    };
    Some(v)
}

/// Write probes a viewer of A sends at A's own loop things.
pub fn viewer(fx: &crate::common::Fx, method: &str, path: &str) -> Option<Vec<LoopProbe>> {
    use axum::http::Method as M;
    let l = &fx.lp;
    let (fa, na) = (l.finding_a, l.notice_a);
    let deny = |u: String, body: Value| (M::POST, u, Some(body), false);
    let v = match (method, path) {
        ("POST", "/api/v1/findings/bulk") => vec![deny(
            "/api/v1/findings/bulk".into(),
            json!({"ids": [fa], "action": "false_positive", "reason": "x"}),
        )],
        ("POST", "/api/v1/findings/{id}/false-positive") => vec![deny(
            format!("/api/v1/findings/{fa}/false-positive"),
            json!({"comment": "x"}),
        )],
        ("POST", "/api/v1/findings/{id}/accept-risk") => vec![deny(
            format!("/api/v1/findings/{fa}/accept-risk"),
            json!({"reason": "x"}),
        )],
        ("POST", "/api/v1/notices") => vec![deny(
            "/api/v1/notices".into(),
            json!({"org_id": fx.a1.id, "findings": [fa], "title": "x"}),
        )],
        ("POST", "/api/v1/notices/sweep") => vec![deny("/api/v1/notices/sweep".into(), json!({}))],
        ("POST", "/api/v1/notices/{id}/issue") => {
            vec![deny(format!("/api/v1/notices/{na}/issue"), json!({}))]
        }
        ("POST", "/api/v1/notices/{id}/acknowledge") => {
            vec![deny(format!("/api/v1/notices/{na}/acknowledge"), json!({}))]
        }
        ("POST", "/api/v1/notices/{id}/rectifications") => vec![deny(
            format!("/api/v1/notices/{na}/rectifications"),
            json!({"description": "x"}),
        )],
        ("POST", "/api/v1/notices/{id}/verify") => {
            vec![deny(format!("/api/v1/notices/{na}/verify"), json!({}))]
        }
        ("POST", "/api/v1/notices/{id}/return") => vec![deny(
            format!("/api/v1/notices/{na}/return"),
            json!({"reason": "x"}),
        )],
        ("POST", "/api/v1/notices/{id}/cancel") => vec![deny(
            format!("/api/v1/notices/{na}/cancel"),
            json!({"reason": "x"}),
        )],
        ("POST", "/api/v1/notices/{id}/extension/request") => vec![deny(
            format!("/api/v1/notices/{na}/extension/request"),
            json!({"until": "2099-01-01", "reason": "x"}),
        )],
        ("POST", "/api/v1/notices/{id}/extension/grant") => vec![deny(
            format!("/api/v1/notices/{na}/extension/grant"),
            json!({"until": "2099-01-01"}),
        )],
        ("POST", "/api/v1/notices/{id}/extension/refuse") => vec![deny(
            format!("/api/v1/notices/{na}/extension/refuse"),
            json!({"reason": "x"}),
        )],
        ("POST", "/api/v1/notices/{id}/extend") => vec![deny(
            format!("/api/v1/notices/{na}/extend"),
            json!({"until": "2099-01-01", "reason": "x"}),
        )],
        ("POST", "/api/v1/bulletins") => vec![deny(
            "/api/v1/bulletins".into(),
            json!({"org_id": fx.a.id, "period": "2026-11"}),
        )],
        _ => return None,
    };
    Some(v)
}
