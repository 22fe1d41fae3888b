//! Compiles `bpf/recorder.bpf.c` with clang when the `bpf` feature is on (HOWTO: `-g` is
//! required for BTF; `-O2 -target bpf -D__TARGET_ARCH_<arch>`). Without the feature nothing
//! is compiled and no tool is needed.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=bpf/recorder.bpf.c");
    println!("cargo:rerun-if-changed=bpf/core.h");
    println!("cargo:rerun-if-env-changed=CLANG");
    if env::var_os("CARGO_FEATURE_BPF").is_none() {
        return;
    }
    if let Err(msg) = build_bpf() {
        // A build script reports a failure by exiting non-zero; the message names what is
        // missing so `cargo build` tells the user what to install.
        eprintln!("error: {msg}");
        println!("cargo:warning={msg}");
        std::process::exit(1);
    }
}

fn build_bpf() -> Result<(), String> {
    let out = PathBuf::from(env::var("OUT_DIR").map_err(|e| format!("OUT_DIR: {e}"))?);
    let manifest =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").map_err(|e| format!("manifest dir: {e}"))?);
    let target_arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let (bpf_arch, multiarch) = match target_arch.as_str() {
        "x86_64" => ("x86", "x86_64-linux-gnu"),
        "aarch64" => ("arm64", "aarch64-linux-gnu"),
        other => {
            return Err(format!(
                "spo-recorder feature `bpf`: target architecture `{other}` is not supported \
                 (x86_64 and aarch64 are)"
            ))
        }
    };
    let clang = env::var("CLANG").unwrap_or_else(|_| "clang".to_string());
    let src = manifest.join("bpf/recorder.bpf.c");
    let obj = out.join("recorder.bpf.o");
    let output = Command::new(&clang)
        .args(["-O2", "-g", "-target", "bpf", "-Wall", "-Werror"])
        .arg(format!("-D__TARGET_ARCH_{bpf_arch}"))
        .arg("-I")
        .arg(manifest.join("bpf"))
        .arg("-idirafter")
        .arg(format!("/usr/include/{multiarch}"))
        .arg("-c")
        .arg(&src)
        .arg("-o")
        .arg(&obj)
        .output()
        .map_err(|e| {
            format!(
                "spo-recorder feature `bpf` needs `{clang}` to compile bpf/recorder.bpf.c, but it \
                 could not be run ({e}); install clang (Debian: apt-get install clang llvm \
                 libbpf-dev) or build without the `bpf` feature"
            )
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let hint = if stderr.contains("bpf/bpf_helpers.h") {
            " (the libbpf headers are missing: apt-get install libbpf-dev)"
        } else if stderr.contains("linux/bpf.h") || stderr.contains("asm/types.h") {
            " (the kernel UAPI headers are missing: apt-get install linux-libc-dev)"
        } else {
            ""
        };
        return Err(format!(
            "clang failed to compile bpf/recorder.bpf.c{hint}:\n{stderr}"
        ));
    }
    // Drop DWARF but keep BTF (HOWTO: 640 KB -> 29 KB). Optional: an unstripped object loads
    // the same.
    let _ = Command::new("llvm-strip").arg("-g").arg(&obj).status();
    Ok(())
}
