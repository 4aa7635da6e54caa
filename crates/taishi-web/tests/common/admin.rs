//! What the administration and upload tests add to the world: an admin of the whole district, an admin
//! of township A only, a viewer, a notice to township A waiting for its rectification, and a local
//! webhook receiver that records what it is sent.

use super::{PW, World};
use std::sync::{Arc, Mutex};
use taishi_loop::Caller;
use taishi_model::notice::NoticeAction;
use taishi_model::{Actor, NewUser, Role};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Adds `admin` (district), `admin_a` (township A) and `viewer` (district), all with [`PW`].
pub async fn add_admins(w: &World) {
    let hash = taishi_server::auth::password::hash_password(PW).unwrap();
    let d = w.a.parent_id.unwrap();
    for (name, role, org) in [
        ("admin", Role::Admin, d),
        ("admin_a", Role::Admin, w.a.id),
        ("viewer", Role::Viewer, d),
    ] {
        let u = NewUser {
            name: name.into(),
            display_name: name.into(),
            role,
            org_id: org,
            password_hash: hash.clone(),
        };
        w.store
            .create_user(&Actor::system("test"), u)
            .await
            .unwrap();
    }
}

/// A notice to township A about `finding`, issued and acknowledged: the officer's next step is the
/// rectification. Returns its id.
pub async fn acknowledged_notice(w: &World, finding: uuid::Uuid) -> uuid::Uuid {
    let svc = w.state.loop_service();
    let sys = Caller::system("test");
    let n = svc
        .draft_notice(&sys, w.a.id, vec![finding], "整改通知：暗链", Vec::new())
        .await
        .unwrap();
    svc.issue(&sys, n.id, "").await.unwrap();
    svc.act(&sys, n.id, NoticeAction::Acknowledge, "")
        .await
        .unwrap();
    n.id
}

/// A webhook receiver on 127.0.0.1: answers every request `200 {"ok":true}` and keeps the bodies.
pub struct Receiver {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Bodies received, in order.
    pub bodies: Arc<Mutex<Vec<String>>>,
}

/// Starts a [`Receiver`].
pub async fn receiver() -> Receiver {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let keep = bodies.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let keep = keep.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // Read the head, then as much body as Content-Length says.
                loop {
                    let Ok(n) = sock.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).into_owned();
                    if let Some(at) = text.find("\r\n\r\n") {
                        let len = text[..at]
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        if buf.len() >= at + 4 + len {
                            let body = String::from_utf8_lossy(&buf[at + 4..at + 4 + len]);
                            keep.lock().unwrap().push(body.into_owned());
                            break;
                        }
                    }
                }
                let answer = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\nconnection: close\r\n\r\n{\"ok\":true}";
                let _ = sock.write_all(answer.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    Receiver { url, bodies }
}

/// A small but real PDF document.
pub fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec()
}
