//! Records the commit rfab is built from, for `rfab --version`.

use std::process::Command;

fn main() {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|out| out.status.success())
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    // A tarball without .git, or no git: the version alone.
    let commit = git(&["rev-parse", "--short=12", "HEAD"])
        .map_or_else(String::new, |hash| format!(" ({hash})"));
    println!("cargo:rustc-env=RFAB_COMMIT={commit}");
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        println!("cargo:rerun-if-changed={dir}/HEAD");
        if let Some(head) = git(&["symbolic-ref", "-q", "HEAD"]) {
            println!("cargo:rerun-if-changed={dir}/{head}");
        }
    }
}
