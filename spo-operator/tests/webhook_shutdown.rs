//! Graceful shutdown of the webhook (issue 14, deliverable 1): SIGTERM stops accepting new
//! connections but a review already in flight is finished and answered; then the process exits
//! cleanly. Real openssl certificates, a real TLS client, a request whose body arrives only
//! after the signal.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls;

fn certs(dir: &Path) {
    let st = Command::new("bash")
        .arg("-c")
        .arg(
            "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=ca -keyout ca.key -out ca.crt 2>/dev/null \
             && openssl req -newkey rsa:2048 -nodes -subj /CN=wh -keyout tls.key -out wh.csr 2>/dev/null \
             && printf 'subjectAltName=IP:127.0.0.1\\n' > wh.cnf \
             && openssl x509 -req -in wh.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -extfile wh.cnf -out tls.crt 2>/dev/null",
        )
        .current_dir(dir)
        .status()
        .expect("openssl");
    assert!(st.success());
}

#[test]
fn sigterm_finishes_the_review_in_flight() {
    let dir = tempfile::tempdir().expect("tempdir");
    certs(dir.path());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_spo-operator"))
        .args([
            "webhook",
            "--no-pod-webhooks",
            "--bind",
            "127.0.0.1",
            "--port",
            &port.to_string(),
        ])
        .arg("--tls-cert-file")
        .arg(dir.path().join("tls.crt"))
        .arg("--tls-key-file")
        .arg(dir.path().join("tls.key"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("webhook starts");
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "webhook never listened"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let body = serde_json::json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {"uid": "in-flight", "operation": "CREATE", "name": "bad",
            "kind": {"group": "security-profiles-operator.x-k8s.io", "version": "v1", "kind": "SeccompProfile"},
            "object": {"apiVersion": "security-profiles-operator.x-k8s.io/v1", "kind": "SeccompProfile",
                "metadata": {"name": "bad"}, "spec": {"defaultAction": "SCMP_ACT_NOPE"}}}})
    .to_string();
    let pid = child.id();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let answer = rt.block_on(async {
        let mut roots = rustls::RootCertStore::empty();
        let pem = std::fs::read(dir.path().join("ca.crt")).expect("ca");
        for c in rustls_pemfile::certs(&mut pem.as_slice()) {
            roots.add(c.expect("cert")).expect("add");
        }
        let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").expect("name");
        let mut tls = tokio_rustls::TlsConnector::from(Arc::new(cfg))
            .connect(name, tcp)
            .await
            .expect("handshake");
        let head = format!(
            "POST /validate-profile HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let (first, rest) = body.split_at(body.len() / 2);
        tls.write_all(head.as_bytes()).await.expect("head");
        tls.write_all(first.as_bytes()).await.expect("first half");
        tls.flush().await.expect("flush");
        tokio::time::sleep(Duration::from_millis(300)).await;
        let st = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("kill");
        assert!(st.success());
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_err(),
            "no new connections after SIGTERM"
        );
        tls.write_all(rest.as_bytes()).await.expect("rest of the body");
        tls.flush().await.expect("flush");
        let mut out = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), tls.read_to_end(&mut out)).await;
        String::from_utf8_lossy(&out).into_owned()
    });
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"uid\":\"in-flight\""), "{answer}");
    assert!(
        answer.contains("spec.defaultAction"),
        "the review was done: {answer}"
    );
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "webhook did not exit"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "clean exit: {status}");
}
