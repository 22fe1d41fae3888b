//! Real components for the OCI tests: Debian's `docker-registry` on 127.0.0.1 (plain, TLS with
//! our own CA + leaf, htpasswd), a tiny fault-injecting TCP proxy, and the Python peers
//! (oras-py, cryptography + PyNaCl) run from `peer.py`. Everything is started by the test and
//! stopped by PID on drop.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The workspace's target directory.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for(addr: &str, child: &mut Child, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if TcpStream::connect(addr).is_ok() {
            return;
        }
        if let Ok(Some(st)) = child.try_wait() {
            panic!(
                "docker-registry exited ({st}): {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("docker-registry did not listen on {addr}");
}

/// How a test registry is configured.
pub enum Mode {
    /// Plain HTTP.
    Plain,
    /// HTTPS with a leaf certificate signed by our own CA.
    Tls,
    /// Plain HTTP with htpasswd basic auth (user, password).
    Htpasswd(&'static str, &'static str),
    /// Plain HTTP with bearer-token auth: a token service (peer.py) that takes basic
    /// credentials (user, password) and issues ES256 JWTs.
    Token(&'static str, &'static str),
}

/// A running `docker-registry`.
pub struct Registry {
    child: Child,
    token_server: Option<Child>,
    /// `127.0.0.1:<port>`.
    pub addr: String,
    /// Its storage and config.
    pub dir: tempfile::TempDir,
    /// The CA certificate for [`Mode::Tls`].
    pub ca: Option<PathBuf>,
}

fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn make_ca_and_leaf(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let ca_key = dir.join("ca.key");
    let ca = dir.join("ca.pem");
    let key = dir.join("leaf.key");
    let csr = dir.join("leaf.csr");
    let leaf = dir.join("leaf.pem");
    let ext = dir.join("leaf.ext");
    run_ok(
        Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec"])
            .args([
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=spo test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
                "-keyout",
            ])
            .arg(&ca_key)
            .arg("-out")
            .arg(&ca),
    );
    run_ok(
        Command::new("openssl")
            .args([
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
            ])
            .args(["-subj", "/CN=127.0.0.1", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&csr),
    );
    std::fs::write(
        &ext,
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n\
         extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n",
    )
    .unwrap();
    run_ok(
        Command::new("openssl")
            .args(["x509", "-req", "-days", "2", "-in"])
            .arg(&csr)
            .arg("-CA")
            .arg(&ca)
            .arg("-CAkey")
            .arg(&ca_key)
            .args(["-CAcreateserial", "-extfile"])
            .arg(&ext)
            .arg("-out")
            .arg(&leaf),
    );
    (ca, leaf, key)
}

impl Registry {
    /// Starts a registry in `mode` on a free port.
    pub fn start(mode: Mode) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let mut extra = String::new();
        let mut ca = None;
        let mut token_server = None;
        match mode {
            Mode::Plain => {}
            Mode::Tls => {
                let (c, leaf, key) = make_ca_and_leaf(dir.path());
                extra.push_str(&format!(
                    "  tls:\n    certificate: {}\n    key: {}\n",
                    leaf.display(),
                    key.display()
                ));
                ca = Some(c);
            }
            Mode::Htpasswd(user, pass) => {
                let out = run_ok(Command::new("htpasswd").args(["-Bbn", user, pass]));
                let file = dir.path().join("htpasswd");
                std::fs::write(&file, out.stdout).unwrap();
                extra.push_str(&format!(
                    "auth:\n  htpasswd:\n    realm: spo-test\n    path: {}\n",
                    file.display()
                ));
            }
            Mode::Token(user, pass) => {
                let (cert, key) = (dir.path().join("token.pem"), dir.path().join("token.key"));
                run_ok(
                    Command::new("openssl")
                        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
                        .args(["ec_paramgen_curve:P-256", "-nodes", "-days", "2"])
                        .args(["-subj", "/CN=spo-test-token-signer", "-keyout"])
                        .arg(&key)
                        .arg("-out")
                        .arg(&cert),
                );
                let port = free_port();
                ensure_peers();
                let child = Command::new("python3")
                    .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oci_support/peer.py"))
                    .args(["token-server", &port.to_string()])
                    .arg(&cert)
                    .arg(&key)
                    .args([user, pass, "spo-test-issuer", "spo-test-registry"])
                    .env("PYTHONPATH", target_dir().join("pypeers"))
                    .stdin(Stdio::null())
                    .spawn()
                    .unwrap();
                token_server = Some(child);
                let addr = format!("127.0.0.1:{port}");
                let deadline = Instant::now() + Duration::from_secs(10);
                while TcpStream::connect(&addr).is_err() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(25));
                }
                extra.push_str(&format!(
                    "auth:\n  token:\n    realm: http://{addr}/token\n    service: spo-test-registry\n    \
                     issuer: spo-test-issuer\n    rootcertbundle: {}\n",
                    cert.display()
                ));
            }
        }
        for _ in 0..5 {
            let port = free_port();
            let addr = format!("127.0.0.1:{port}");
            let (http_extra, auth_extra) = match extra.find("auth:") {
                Some(i) => (&extra[..i], &extra[i..]),
                None => (extra.as_str(), ""),
            };
            let cfg = format!(
                "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n\
                 storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
                 http:\n  addr: {addr}\n{http_extra}{auth_extra}",
                dir.path().join("store").display()
            );
            let cfg_path = dir.path().join("config.yml");
            std::fs::write(&cfg_path, cfg).unwrap();
            let log = dir.path().join("registry.log");
            let mut child = Command::new("docker-registry")
                .arg("serve")
                .arg(&cfg_path)
                .stdin(Stdio::null())
                .stdout(std::fs::File::create(&log).unwrap())
                .stderr(std::fs::File::create(dir.path().join("registry.err")).unwrap())
                .spawn()
                .expect("docker-registry (Debian package docker-registry; `make deps`)");
            std::thread::sleep(Duration::from_millis(50));
            if let Ok(Some(_)) = child.try_wait() {
                continue; // the port was taken in between: try another
            }
            wait_for(&addr, &mut child, &dir.path().join("registry.err"));
            return Registry {
                child,
                token_server,
                addr,
                dir,
                ca,
            };
        }
        panic!("could not start docker-registry");
    }

    /// `127.0.0.1:<port>/<repo>`.
    pub fn reference(&self, repo_tag: &str) -> String {
        format!("{}/{repo_tag}", self.addr)
    }

    /// Where the registry stores the blob `digest`.
    pub fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.dir
            .path()
            .join("store/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        // Stopped by their own PIDs only.
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(t) = self.token_server.as_mut() {
            let _ = t.kill();
            let _ = t.wait();
        }
    }
}

/// What the fault-injecting proxy does with each new connection.
#[derive(Clone, Copy)]
pub enum Fault {
    /// Answer 503 to the first N connections, then pass through.
    FailFirst(usize),
    /// Answer 503 to every connection.
    Always,
}

/// A TCP proxy in front of a registry that answers `503 Service Unavailable` per [`Fault`].
pub struct Proxy {
    /// `127.0.0.1:<port>`.
    pub addr: String,
    /// Connections answered with 503.
    pub failed: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 16384];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Write);
}

impl Proxy {
    /// Starts a proxy to `upstream`.
    pub fn start(upstream: &str, fault: Fault) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let failed = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (f, s, up) = (failed.clone(), stop.clone(), upstream.to_owned());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                let fail = match fault {
                    Fault::Always => true,
                    Fault::FailFirst(n) => f.load(Ordering::SeqCst) < n,
                };
                if fail {
                    f.fetch_add(1, Ordering::SeqCst);
                    // Read the request head, then refuse it.
                    let mut buf = [0u8; 8192];
                    let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                    let _ = conn.read(&mut buf);
                    let _ = conn.write_all(
                        b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\
                          Connection: close\r\n\r\n",
                    );
                    continue;
                }
                let Ok(upstream) = TcpStream::connect(&up) else {
                    continue;
                };
                let (c2, u2) = (conn.try_clone().unwrap(), upstream.try_clone().unwrap());
                std::thread::spawn(move || pipe(conn, upstream));
                std::thread::spawn(move || pipe(u2, c2));
            }
        });
        Proxy { addr, failed, stop }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(&self.addr);
    }
}

/// Runs `peer.py` (oras-py, cryptography, PyNaCl), installing them into target/pypeers with
/// scripts/fetch-oci-peers.sh the first time.
pub fn peer(args: &[&str]) -> Output {
    ensure_peers();
    Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oci_support/peer.py"))
        .args(args)
        .env("PYTHONPATH", target_dir().join("pypeers"))
        .output()
        .unwrap()
}

/// Installs oras-py and PyNaCl into target/pypeers (once per test binary).
pub fn ensure_peers() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/fetch-oci-peers.sh");
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let st = Command::new("bash")
            .arg(&script)
            .arg(target_dir())
            .status()
            .unwrap();
        assert!(st.success(), "cannot install oras-py/PyNaCl (pip)");
    });
}

/// Like [`peer`], asserting success; returns stdout.
pub fn peer_ok(args: &[&str]) -> String {
    let out = peer(args);
    assert!(
        out.status.success(),
        "peer.py {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `skopeo inspect --raw` of `reference` (plain HTTP / self-signed allowed).
pub fn skopeo_raw(reference: &str) -> Output {
    Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{reference}"))
        .output()
        .expect("skopeo (Debian package skopeo; `make deps`)")
}

/// A test Fulcio: a P-384 root and intermediate (CA) and a P-256 leaf with an e-mail SAN and
/// the Fulcio OIDC-issuer extension (1.3.6.1.4.1.57264.1.8). Returns (root.pem, chain.pem
/// [intermediate + root], leaf.pem, leaf.key).
pub fn test_fulcio(dir: &Path, email: &str, issuer: &str) -> (PathBuf, PathBuf, PathBuf, PathBuf) {
    let p = |n: &str| dir.join(n);
    let ec384 = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-384",
        "-nodes",
    ];
    run_ok(
        Command::new("openssl")
            .arg("req")
            .arg("-x509")
            .args(ec384)
            .args([
                "-days",
                "2",
                "-subj",
                "/O=spo-test/CN=fulcio-root",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
                "-keyout",
            ])
            .arg(p("root.key"))
            .arg("-out")
            .arg(p("root.pem")),
    );
    run_ok(
        Command::new("openssl")
            .arg("req")
            .args(ec384)
            .args(["-subj", "/O=spo-test/CN=fulcio-intermediate", "-keyout"])
            .arg(p("int.key"))
            .arg("-out")
            .arg(p("int.csr")),
    );
    std::fs::write(
        p("int.ext"),
        "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n",
    )
    .unwrap();
    run_ok(
        Command::new("openssl")
            .args(["x509", "-req", "-sha384", "-days", "2", "-in"])
            .arg(p("int.csr"))
            .arg("-CA")
            .arg(p("root.pem"))
            .arg("-CAkey")
            .arg(p("root.key"))
            .args(["-CAcreateserial", "-extfile"])
            .arg(p("int.ext"))
            .arg("-out")
            .arg(p("int.pem")),
    );
    run_ok(
        Command::new("openssl")
            .args([
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
            ])
            .args(["-subj", "/O=spo-test", "-keyout"])
            .arg(p("leaf.key"))
            .arg("-out")
            .arg(p("leaf.csr")),
    );
    std::fs::write(
        p("leaf.ext"),
        format!(
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n\
             extendedKeyUsage=codeSigning\nsubjectAltName=critical,email:{email}\n\
             1.3.6.1.4.1.57264.1.8=ASN1:UTF8String:{issuer}\n"
        ),
    )
    .unwrap();
    run_ok(
        Command::new("openssl")
            .args(["x509", "-req", "-sha384", "-days", "1", "-in"])
            .arg(p("leaf.csr"))
            .arg("-CA")
            .arg(p("int.pem"))
            .arg("-CAkey")
            .arg(p("int.key"))
            .args(["-CAcreateserial", "-extfile"])
            .arg(p("leaf.ext"))
            .arg("-out")
            .arg(p("leaf.pem")),
    );
    let chain = format!(
        "{}{}",
        std::fs::read_to_string(p("int.pem")).unwrap(),
        std::fs::read_to_string(p("root.pem")).unwrap()
    );
    std::fs::write(p("chain.pem"), chain).unwrap();
    (p("root.pem"), p("chain.pem"), p("leaf.pem"), p("leaf.key"))
}
