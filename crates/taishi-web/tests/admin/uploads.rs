//! The officer's rectification upload and the per-route body limits.

use super::*;

fn multipart(csrf: &str, description: &str, files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----taishi-test-boundary";
    let mut body = Vec::new();
    let mut part = |head: String, data: &[u8]| {
        body.extend_from_slice(format!("--{boundary}\r\n{head}\r\n\r\n").as_bytes());
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    };
    part(
        "Content-Disposition: form-data; name=\"csrf\"".into(),
        csrf.as_bytes(),
    );
    part(
        "Content-Disposition: form-data; name=\"description\"".into(),
        description.as_bytes(),
    );
    for (name, data) in files {
        part(
            format!(
                "Content-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream"
            ),
            data,
        );
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(
    w: &World,
    s: &Session,
    notice: uuid::Uuid,
    csrf: &str,
    files: &[(&str, &[u8])],
) -> (StatusCode, String) {
    let (ct, body) = multipart(csrf, "已删除暗链并加固服务器", files);
    let req = Request::post(format!("/notices/{notice}/rectify"))
        .header(header::COOKIE, &s.cookie)
        .header(header::CONTENT_TYPE, ct)
        .body(Body::from(body))
        .unwrap();
    let (r, b) = call(&w.app, req).await;
    (r.status(), String::from_utf8_lossy(&b).into_owned())
}

#[tokio::test]
async fn officers_upload_rectification_files_within_the_loop_limits() {
    let w = admin_world().await;
    let (fa, _) = plant_findings(&w).await;
    let id = acknowledged_notice(&w, fa).await;
    let s = login(&w.app, "officer_a").await;
    let (st, html) = s.get(&w.app, &format!("/notices/{id}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("enctype=\"multipart/form-data\"") && html.contains("/rectify"));
    // No token: refused, nothing stored.
    let (st, _) = upload(&w, &s, id, "forged", &[("a.pdf", &pdf())]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // HTML dressed as a PDF: refused by the loop's magic-byte check, shown on the page.
    let (st, html) = upload(
        &w,
        &s,
        id,
        &s.csrf,
        &[("fix.pdf", b"<html><script>alert(1)</script>")],
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(by_id(&html, "upload-error").contains("fix.pdf"), "{html}");
    // Over the limit: 413, a clear message, nothing stored.
    let big = vec![b'a'; 10 * 1024 * 1024 + 1];
    let (st, html) = upload(&w, &s, id, &s.csrf, &[("big.txt", &big)]).await;
    assert_eq!(
        st,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        &html[..html.len().min(300)]
    );
    assert!(html.contains("id=\"upload-error\"") && html.contains("10 MiB"));
    // Far over the route's body limit: refused before it is read in full.
    let huge = vec![b'a'; 12 * 1024 * 1024];
    let (st, _) = upload(&w, &s, id, &s.csrf, &[("huge.txt", &huge)]).await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(w.store.rectifications(id).await.unwrap().is_empty());
    // A real PDF goes through; the notice moves on.
    let (st, _) = upload(&w, &s, id, &s.csrf, &[("整改报告.pdf", &pdf())]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let rects = w.store.rectifications(id).await.unwrap();
    assert_eq!(rects.len(), 1);
    let att = &rects[0].attachments[0];
    assert_eq!(
        (att.name.as_str(), att.content_type.as_str()),
        ("整改报告.pdf", "application/pdf")
    );
    // Downloads are attachments, never inline, with nosniff; officers of B cannot see them.
    let (resp, bytes) = call(
        &w.app,
        get(&s.cookie, &format!("/notices/{id}/attachments/{}", att.id)),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(bytes, pdf());
    let h = resp.headers();
    assert!(
        h[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(h[header::CONTENT_TYPE], "application/pdf");
    let (_, html) = s.get(&w.app, &format!("/notices/{id}")).await;
    assert!(html.contains(&format!("/notices/{id}/attachments/{}", att.id)));
    let b = login(&w.app, "officer_b").await;
    let (resp, _) = call(
        &w.app,
        get(&b.cookie, &format!("/notices/{id}/attachments/{}", att.id)),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    // A viewer cannot submit.
    let v = login(&w.app, "viewer").await;
    let (st, _) = upload(&w, &v, id, &v.csrf, &[("a.pdf", &pdf())]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_api_upload_route_takes_the_attachment_limit_and_other_routes_keep_one_mib() {
    let w = admin_world().await;
    let (fa, _) = plant_findings(&w).await;
    let id = acknowledged_notice(&w, fa).await;
    let s = login(&w.app, "officer_a").await;
    // 2 MiB through the API's upload route: over the 1 MiB server limit, within the upload limit.
    let text = vec![b'x'; 2 * 1024 * 1024];
    let (ct, body) = multipart("", "修复说明", &[("log.txt", &text)]);
    let body = {
        // The API takes no csrf part: drop the first part.
        let s = String::from_utf8_lossy(&body).into_owned();
        let cut = s.find("------taishi-test-boundary\r\nContent-Disposition: form-data; name=\"description\"").unwrap();
        body[cut..].to_vec()
    };
    let req = Request::post(format!("/api/v1/notices/{id}/rectifications"))
        .header(header::COOKIE, &s.cookie)
        .header(header::CONTENT_TYPE, ct)
        .body(Body::from(body))
        .unwrap();
    let (resp, b) = call(&w.app, req).await;
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&b)
    );
    // The same 2 MiB to an ordinary API route is refused by the 1 MiB limit.
    let req = Request::post("/api/v1/orgs")
        .header(header::COOKIE, &s.cookie)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(vec![b' '; 2 * 1024 * 1024]))
        .unwrap();
    assert_eq!(
        call(&w.app, req).await.0.status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
}
