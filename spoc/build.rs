//! Records the git commit for `spoc version` when built from a checkout.
fn main() {
    println!("cargo:rerun-if-changed=../.git/HEAD");
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    if let Some(c) = commit {
        println!("cargo:rustc-env=SPOC_GIT_COMMIT={c}");
    }
}
