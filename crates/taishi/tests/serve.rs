//! Runs the real `taishi` binary: first start on an empty data directory prints the administrator's
//! password once, the server answers over real HTTP on a free port, `taishi admin` adds a user and a
//! token to the same store while it runs, and SIGTERM stops it cleanly.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_taishi");

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A minimal HTTP/1.1 exchange: status, headers (lower-case names) and body.
fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, Vec<(String, String)>, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body.unwrap_or(""));
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_owned()))
        .collect();
    let body = if head.to_lowercase().contains("transfer-encoding: chunked") {
        dechunk(body)
    } else {
        body.to_owned()
    };
    (status, headers, body)
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

fn admin(data: &str, args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut c = Command::new(BIN)
        .args(["admin", "--data-dir", data])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = c.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn serve_first_start_login_and_org_tree_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--data-dir", data, "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut lines = BufReader::new(stdout).lines();
    let (mut password, mut addr) = (None, None);
    let start = Instant::now();
    while addr.is_none() && start.elapsed() < Duration::from_secs(60) {
        let line = lines.next().expect("server exited early").unwrap();
        if line.contains("shown only now") {
            lines.next();
            password = Some(lines.next().unwrap().unwrap().trim().to_owned());
        }
        if let Some(rest) = line.strip_prefix("taishi serving at http://") {
            addr = Some(rest.split('/').next().unwrap().to_owned());
        }
    }
    let (password, addr) = (
        password.expect("first-start password"),
        addr.expect("serving line"),
    );
    assert_eq!(password.len(), 20);

    let (status, _, body) = http(&addr, "GET", "/healthz", &[], None);
    assert_eq!(status, 200, "{body}");

    let login = format!(r#"{{"name":"admin","password":"{password}"}}"#);
    let (status, headers, body) = http(&addr, "POST", "/api/v1/auth/login", &[], Some(&login));
    assert_eq!(status, 200, "{body}");
    let cookie = headers
        .iter()
        .find(|(k, _)| k == "set-cookie")
        .unwrap()
        .1
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let (status, _, body) = http(
        &addr,
        "GET",
        "/api/v1/orgs/tree",
        &[("Cookie", &cookie)],
        None,
    );
    assert_eq!(status, 200, "{body}");
    let tree: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(tree["code"], "authority");
    let child =
        r#"{"parent_id":1,"code":"T1","name":"乡镇一","kind":"township","sector":"government"}"#;
    let (status, _, body) = http(
        &addr,
        "POST",
        "/api/v1/orgs",
        &[("Cookie", &cookie)],
        Some(child),
    );
    assert_eq!(status, 201, "{body}");
    let (_, _, body) = http(
        &addr,
        "GET",
        "/api/v1/orgs/tree",
        &[("Cookie", &cookie)],
        None,
    );
    assert!(body.contains("乡镇一"), "{body}");

    // Administration from the command line, on the same store while the server runs.
    let (ok, out, err) = admin(
        data,
        &[
            "create-user",
            "--name",
            "li",
            "--role",
            "viewer",
            "--org",
            "T1",
        ],
        "long enough pw\n",
    );
    assert!(ok, "{out}{err}");
    let (ok, _, err) = admin(
        data,
        &[
            "create-user",
            "--name",
            "wang",
            "--role",
            "viewer",
            "--org",
            "T1",
        ],
        "short\n",
    );
    assert!(!ok && err.contains("password"), "{err}");
    let (status, _, body) = http(
        &addr,
        "POST",
        "/api/v1/auth/login",
        &[],
        Some(r#"{"name":"li","password":"long enough pw"}"#),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""role":"viewer""#), "{body}");
    let (ok, token, err) = admin(
        data,
        &[
            "create-token",
            "--name",
            "sensor-01",
            "--role",
            "analyst",
            "--org",
            "authority",
        ],
        "",
    );
    assert!(ok && err.contains("only this once"), "{err}");
    let token = token.trim();
    assert!(token.starts_with("tsk_"), "{token}");
    let bearer = format!("Bearer {token}");
    let (status, _, body) = http(
        &addr,
        "GET",
        "/api/v1/auth/whoami",
        &[("Authorization", &bearer)],
        None,
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("sensor-01"));
    let (ok, list, _) = admin(data, &["list-tokens"], "");
    assert!(
        ok && list.contains("sensor-01") && !list.contains(&token[4..]),
        "{list}"
    );

    // SIGTERM: graceful shutdown, exit status 0.
    let pid = server.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let mut server = server;
    let start = Instant::now();
    loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "server did not stop"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
