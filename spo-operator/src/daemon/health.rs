//! Health (`/healthz`, one check per enabled controller, ARCH-10) and SPO metrics
//! (`/metrics-spod`, `operator.md` §7) over plain HTTP/1.1.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

use crate::metrics::Metrics;

/// Named checks; `/healthz` is 200 when every check passes.
#[derive(Clone, Default, Debug)]
pub struct Health(Arc<Mutex<BTreeMap<String, Result<(), String>>>>);

impl Health {
    /// Sets a check's result.
    pub fn set(&self, name: &str, result: Result<(), String>) {
        if let Ok(mut m) = self.0.lock() {
            m.insert(name.to_string(), result);
        }
    }

    /// `(ok, report)`: one line per check.
    pub fn report(&self) -> (bool, String) {
        let Ok(m) = self.0.lock() else {
            return (false, "health state poisoned\n".into());
        };
        let mut ok = true;
        let mut out = String::new();
        for (name, r) in m.iter() {
            match r {
                Ok(()) => out.push_str(&format!("[+]{name} ok\n")),
                Err(e) => {
                    ok = false;
                    out.push_str(&format!("[-]{name} failed: {e}\n"));
                }
            }
        }
        (ok, out)
    }
}

/// True when the kernel offers seccomp filters (SC-15): `/proc/self/status` has `Seccomp:`.
pub fn kernel_has_seccomp() -> Result<(), String> {
    let status = std::fs::read_to_string("/proc/self/status").map_err(|e| e.to_string())?;
    if status.lines().any(|l| l.starts_with("Seccomp:")) {
        Ok(())
    } else {
        Err("the kernel does not support seccomp".into())
    }
}

fn respond(code: u16, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = hyper::StatusCode::from_u16(code).unwrap_or(hyper::StatusCode::OK);
    r
}

/// Binds `addr` and serves until the task is dropped. Returns the serving task.
pub async fn serve(
    addr: &str,
    health: Health,
    metrics: Arc<Metrics>,
) -> std::io::Result<tokio::task::JoinHandle<std::io::Result<()>>> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    Ok(tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await?;
            let (health, metrics) = (health.clone(), metrics.clone());
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                    let (health, metrics) = (health.clone(), metrics.clone());
                    async move {
                        let resp = match req.uri().path() {
                            "/healthz" | "/readyz" => {
                                let (ok, text) = health.report();
                                respond(if ok { 200 } else { 500 }, text)
                            }
                            "/metrics-spod" => respond(200, metrics.encode_spod().await),
                            _ => respond(404, "not found\n".into()),
                        };
                        Ok::<_, Infallible>(resp)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    }))
}
