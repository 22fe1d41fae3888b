//! `spoc enrich [FILE]`: the log enricher outside Kubernetes. Prints every seccomp, SELinux
//! and AppArmor audit event of an audit log or syslog (RC-27, RC-28), one per line, with the
//! container it came from (RC-29) and the spec's keys (RC-31..RC-33) plus a trailing
//! `containerID`. `--output json` prints JSON lines; any other output format prints text.
//! Events of processes that cannot be attributed are printed with empty container fields
//! unless `--containers-only`.

use std::io::{BufWriter, ErrorKind, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use spo_recorder::audit::{default_source, TailOptions, Tailer};
use spo_recorder::enricher::{
    write_event, AttributorOptions, ContainerResolver, Enricher, EnricherOptions, Filters,
    NoResolver, OutputFormat, OutputOptions, StaticResolver, Unattributed,
};

use crate::cli::{EnrichArgs, Format, Global};
use crate::input::Unreadable;
use crate::Outcome;

/// The host name (for `node`).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// Runs the command.
pub fn run(args: &EnrichArgs, global: &Global) -> Result<Outcome> {
    let filters = Filters::parse(&args.filters).context("--filters")?;
    let resolver: Box<dyn ContainerResolver> = match &args.containers {
        Some(p) => Box::new(StaticResolver::from_file(p).map_err(|e| Unreadable {
            path: p.display().to_string(),
            what: crate::input::describe(&e, p),
        })?),
        None => Box::new(NoResolver),
    };
    let opts = EnricherOptions::default()
        .with_node(args.node.clone().unwrap_or_else(hostname))
        .with_attribution(AttributorOptions::default().with_proc_root(args.proc_root.clone()))
        .with_unattributed(if args.containers_only {
            Unattributed::Skip
        } else {
            Unattributed::Emit
        })
        .with_filters(filters);
    let out_opts = OutputOptions::default()
        .with_format(
            if matches!(global.format, Some(Format::Json | Format::Jsonl)) {
                OutputFormat::Json
            } else {
                OutputFormat::Text
            },
        )
        .with_container_id(true);
    let path = match &args.file {
        Some(p) => p.clone(),
        None => default_source(Path::new("/")),
    };
    let mut topts = TailOptions::new(&path);
    topts.from_start = args.from_start;
    if args.no_follow && !path.exists() {
        return Err(Unreadable {
            path: path.display().to_string(),
            what: "no such file".into(),
        }
        .into());
    }
    let mut tailer = Tailer::open(&path, topts).map_err(|e| Unreadable {
        path: path.display().to_string(),
        what: crate::input::describe(&e, &path),
    })?;
    let stdout = std::io::stdout();
    let mut st = State {
        enricher: Enricher::new(opts, resolver, None),
        out: BufWriter::with_capacity(256 * 1024, stdout.lock()),
        line_buf: Vec::with_capacity(1024),
        write_err: None,
        now: Instant::now(),
        n: 0,
        opts: out_opts,
    };
    loop {
        let read = tailer
            .poll(&mut |l| st.line(l))
            .with_context(|| format!("reading {}", path.display()))?;
        if args.no_follow && read == 0 {
            tailer.finish(&mut |l| st.line(l));
            break;
        }
        if let Some(e) = st.write_err.take() {
            return broken_pipe_or(e);
        }
        if read == 0 {
            if let Err(e) = st.out.flush() {
                return broken_pipe_or(e);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    if let Some(e) = st.write_err.take() {
        return broken_pipe_or(e);
    }
    if let Err(e) = st.out.flush() {
        return broken_pipe_or(e);
    }
    let enricher = st.enricher;
    if args.stats {
        let s = enricher.stats();
        let t = tailer.stats();
        eprintln!(
            "{}",
            serde_json::json!({
                "lines": s.lines, "seccomp": s.seccomp, "avc": s.avc, "apparmor": s.apparmor,
                "ignored": s.ignored, "malformed": s.malformed,
                "unknownSyscall": s.unknown_syscall, "filtered": s.filtered,
                "emitted": s.emitted, "emittedUnattributed": s.emitted_unattributed,
                "skippedUnattributed": s.skipped_unattributed,
                "bytes": t.bytes, "oversizedLines": t.oversized_lines,
            })
        );
    }
    Ok(Outcome::Ok)
}

struct State<'o> {
    enricher: Enricher<Box<dyn ContainerResolver>>,
    out: BufWriter<std::io::StdoutLock<'o>>,
    line_buf: Vec<u8>,
    write_err: Option<std::io::Error>,
    now: Instant,
    n: u32,
    opts: OutputOptions,
}

impl State<'_> {
    fn line(&mut self, line: &[u8]) {
        // A clock read per line is cheap but not free: refresh it every 256 lines.
        self.n = self.n.wrapping_add(1);
        if self.n.is_multiple_of(256) {
            self.now = Instant::now();
        }
        let (buf, out, err, opts) = (
            &mut self.line_buf,
            &mut self.out,
            &mut self.write_err,
            &self.opts,
        );
        self.enricher.process_line(line, self.now, &mut |e| {
            buf.clear();
            write_event(buf, e, opts);
            if err.is_none() {
                if let Err(x) = out.write_all(buf) {
                    *err = Some(x);
                }
            }
        });
    }
}

fn broken_pipe_or(e: std::io::Error) -> Result<Outcome> {
    if e.kind() == ErrorKind::BrokenPipe {
        Ok(Outcome::Ok)
    } else {
        Err(crate::output::WriteFailed {
            what: "stdout".into(),
            source: e,
        }
        .into())
    }
}
