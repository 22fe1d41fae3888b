//! `spoc inspect PROFILE [--syscall NAME]`: the compiled filter's length per architecture and
//! the BPF instructions each syscall executes in the linear and the binary-tree layout, counted
//! by running the compiled program.

use anyhow::Result;
use serde::Serialize;
use spo_core::Kind;
use spo_seccomp::inspect::{self, FilterSize, Layout, SyscallCost};

use crate::cli::{Format, Global, InspectArgs};
use crate::cmd::diff::load_one;
use crate::Outcome;

#[derive(Serialize)]
struct Report {
    size: FilterSize,
    kernel_limit: usize,
    syscalls: Vec<ArchCosts>,
}

#[derive(Serialize)]
struct ArchCosts {
    arch: spo_core::Arch,
    costs: Vec<SyscallCost>,
}

fn action_name(ret: u32) -> String {
    match ret & 0xffff_0000 {
        0x8000_0000 => "KILL_PROCESS".into(),
        0x0000_0000 => "KILL_THREAD".into(),
        0x0003_0000 => "TRAP".into(),
        0x0005_0000 => format!("ERRNO({})", ret & 0xffff),
        0x7fc0_0000 => "USER_NOTIF".into(),
        0x7ff0_0000 => format!("TRACE({})", ret & 0xffff),
        0x7ffc_0000 => "LOG".into(),
        0x7fff_0000 => "ALLOW".into(),
        other => format!("{other:#x}"),
    }
}

/// Prints the report.
pub fn run(args: &InspectArgs, global: &Global) -> Result<Outcome> {
    let item = load_one(&args.profile)?;
    if item.kind() != Kind::SeccompProfile {
        eprintln!(
            "spoc: inspect shows compiled seccomp filters, not {}",
            item.kind()
        );
        return Ok(Outcome::Code(2));
    }
    let spec = item.seccomp()?.spec;
    let size = inspect::filter_size(&spec)?;
    let arches = spec.effective_architectures();
    let syscalls: Vec<ArchCosts> = match &args.syscall {
        Some(name) => {
            let costs: Vec<ArchCosts> = arches
                .iter()
                .filter_map(|a| {
                    inspect::inspect_syscall(&spec, *a, name).map(|c| ArchCosts {
                        arch: *a,
                        costs: vec![c],
                    })
                })
                .collect();
            if costs.is_empty() {
                eprintln!("spoc: syscall {name:?} exists on none of the profile's architectures");
                return Ok(Outcome::Code(1));
            }
            costs
        }
        None => inspect::inspect_all(&spec)?
            .into_iter()
            .map(|(arch, costs)| ArchCosts { arch, costs })
            .collect(),
    };
    let report = Report {
        size,
        kernel_limit: spo_seccomp::lint::MAX_INSNS,
        syscalls,
    };
    if global.format == Some(Format::Json) {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(Outcome::Ok);
    }
    let used = match report.size.used {
        Layout::Linear => "linear",
        Layout::Tree => "binary tree",
        _ => "other",
    };
    println!(
        "filter: {} instructions linear, {} binary tree (spoc run uses the {used} layout; kernel limit {})",
        report.size.linear, report.size.tree, report.kernel_limit
    );
    for (a, l, t) in &report.size.per_arch {
        println!("  {a} alone: {l} linear, {t} binary tree");
    }
    for ac in &report.syscalls {
        println!("{}: instructions executed (arguments 0)", ac.arch);
        println!(
            "  {:<24} {:>5} {:>7} {:>6}  action",
            "syscall", "nr", "linear", "tree"
        );
        for c in &ac.costs {
            println!(
                "  {:<24} {:>5} {:>7} {:>6}  {}",
                c.syscall,
                c.nr,
                c.linear,
                c.tree,
                action_name(c.action_linear)
            );
        }
    }
    Ok(Outcome::Ok)
}
