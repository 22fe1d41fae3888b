//! The webhook's TLS server on its own (ARCH-06): HTTP/1.1 only, the minimum TLS version, and
//! the certificate reloaded when its files change. Real openssl certificates, real curl.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn cert(dir: &Path, cn: &str) {
    let st = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
        ])
        .arg(format!("/CN={cn}"))
        .args(["-addext", "subjectAltName=IP:127.0.0.1", "-keyout"])
        .arg(dir.join("new.key"))
        .arg("-out")
        .arg(dir.join("new.crt"))
        .stderr(Stdio::null())
        .status()
        .expect("openssl");
    assert!(st.success());
    // Replace both files by rename, as a secret volume update does.
    std::fs::rename(dir.join("new.key"), dir.join("tls.key")).expect("key");
    std::fs::rename(dir.join("new.crt"), dir.join("tls.crt")).expect("crt");
}

fn curl(port: u16, extra: &[&str]) -> (bool, String) {
    let out = Command::new("curl")
        .args(["-sk", "-v", "-X", "POST", "-d", "{}"])
        .args(extra)
        .arg(format!("https://127.0.0.1:{port}/convert"))
        .output()
        .expect("curl");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

// covers: ARCH-06
#[test]
fn tls_http11_min_version_and_certificate_reload() {
    if Command::new("curl").arg("--version").output().is_err()
        || Command::new("openssl").arg("version").output().is_err()
    {
        eprintln!("SKIP: needs curl and openssl (`make deps` installs them)");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    cert(dir.path(), "first");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_spo-operator"))
        .args([
            "webhook",
            "--bind",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--tls-min-version",
            "1.3",
        ])
        .arg("--tls-cert-file")
        .arg(dir.path().join("tls.crt"))
        .arg("--tls-key-file")
        .arg(dir.path().join("tls.key"))
        .stderr(Stdio::null())
        .spawn()
        .expect("webhook");
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "webhook did not listen"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let result = std::panic::catch_unwind(|| {
        let (ok, out) = curl(port, &["--http2"]);
        assert!(ok, "{out}");
        assert!(
            out.contains("CN=first") || out.contains("CN = first"),
            "{out}"
        );
        assert!(
            out.contains("HTTP/1.1 200"),
            "HTTP/2 must not be negotiated: {out}"
        );
        assert!(out.contains("ConversionReview"), "{out}");
        let (ok, out) = curl(port, &["--tlsv1.2", "--tls-max", "1.2"]);
        assert!(!ok, "TLS 1.2 accepted with --tls-min-version 1.3: {out}");
        std::thread::sleep(Duration::from_millis(1100)); // a new modification time
        cert(dir.path(), "second");
        let (ok, out) = curl(port, &[]);
        assert!(ok, "{out}");
        assert!(
            out.contains("CN=second") || out.contains("CN = second"),
            "certificate not reloaded: {out}"
        );
    });
    let _ = child.kill();
    let _ = child.wait();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}
