//! A real OCI registry for the operator tests: Debian's `docker-registry` serving plain HTTP
//! on 127.0.0.1 from a temporary directory, stopped by PID when the guard goes.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `docker-registry`.
pub struct Registry {
    child: Child,
    /// `127.0.0.1:<port>`.
    pub addr: String,
    /// Storage, config and log.
    pub dir: tempfile::TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The registry binary, when installed (`make deps` installs Debian's `docker-registry`).
pub fn binary() -> Option<PathBuf> {
    ["/usr/bin/docker-registry", "/usr/sbin/docker-registry"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

impl Registry {
    /// Starts a plain-HTTP registry on a free port; `None` when the binary is missing.
    /// Panics with its log when it does not listen within 15 s.
    pub fn start() -> Option<Registry> {
        let bin = binary()?;
        let dir = tempfile::Builder::new()
            .prefix("spo-registry-")
            .tempdir()
            .expect("tempdir");
        let addr = format!("127.0.0.1:{}", super::free_port());
        let cfg = dir.path().join("config.yml");
        std::fs::write(
            &cfg,
            format!(
                "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n\
                 storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
                 http:\n  addr: {addr}\n",
                dir.path().join("data").display()
            ),
        )
        .expect("registry config");
        let log = std::fs::File::create(dir.path().join("registry.log")).expect("log");
        let child = Command::new(bin)
            .arg("serve")
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("docker-registry starts");
        let mut r = Registry { child, addr, dir };
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(&r.addr).is_err() {
            let exited = r.child.try_wait().ok().flatten();
            if exited.is_some() || Instant::now() > deadline {
                panic!(
                    "docker-registry did not listen on {} ({exited:?}): {}",
                    r.addr,
                    std::fs::read_to_string(r.dir.path().join("registry.log")).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        Some(r)
    }
}
