//! Records a command with the eBPF recorder and prints the syscall names:
//! `cargo run -p spo-recorder --features bpf --example record -- ls -l`.

use std::process::Command;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((prog, rest)) = args.split_first() else {
        return Err("usage: record CMD [ARGS...]".into());
    };
    let t0 = std::time::Instant::now();
    let mut recorder = spo_recorder::bpf::Recorder::new()?;
    eprintln!("loaded + self-test in {:?}", t0.elapsed());
    let mut cmd = Command::new(prog);
    cmd.args(rest);
    let session = recorder.record_command(&mut cmd)?;
    let status = cmd.status()?;
    let rec = session.finish()?;
    let names = rec.names(spo_core::Arch::native());
    for (arch, set) in &names.by_arch {
        println!(
            "{arch}: {}",
            set.iter().cloned().collect::<Vec<_>>().join(" ")
        );
    }
    eprintln!(
        "status {status}, dropped {}, invalid {}, mntns {:?}, total {:?}",
        rec.dropped,
        rec.invalid_numbers,
        rec.mount_namespaces(),
        t0.elapsed()
    );
    Ok(())
}
