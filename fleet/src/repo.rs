//! The demo app's git repository: `v3.0.0` (annotated), the hotfix `v3.0.1`
//! (lightweight), `v3.1.0-rc.1`, a tag that is not semver (`nightly`), and `develop` one
//! commit past the release candidate. Each commit's `VERSION` names its version.

use std::path::Path;
use std::process::Command;

use crate::process::run;

/// Creates the repository in `dir`.
pub fn scenario(dir: &Path) -> Result<(), String> {
    let write = |path: &str, text: &str| {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap_or(dir))
            .and_then(|()| std::fs::write(&path, text))
            .map_err(|e| format!("{}: {e}", path.display()))
    };
    let git = |args: &[&str]| {
        run(Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["-c", "user.name=rfab", "-c", "user.email=rfab@localhost"])
            .args([
                "-c",
                "init.defaultBranch=main",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(["-c", "tag.gpgsign=false"])
            .args(args))
        .map(drop)
    };
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    git(&["init", "-q"])?;
    write(
        ".gitattributes",
        "tests export-ignore\n*.secret export-ignore\n",
    )?;
    write("tests/smoke.sh", "exit 0\n")?;
    write("keys.secret", "hush\n")?;
    write("run.sh", "#!/bin/sh\necho run\n")?;
    run(Command::new("chmod").arg("755").arg(dir.join("run.sh")))?;
    let commit = |version: &str, message: &str| -> Result<(), String> {
        write(
            "opensky/config/version.ini",
            &format!("[parameters]\nopensky.version = {version}\n"),
        )?;
        write("VERSION", &format!("{version}\n"))?;
        git(&["add", "-A"])?;
        git(&["commit", "-q", "-m", message])
    };
    commit("3.0.0", "Release 3.0.0")?;
    git(&["tag", "-a", "v3.0.0", "-m", "3.0.0"])?;
    git(&["tag", "nightly"])?;
    commit("3.0.1", "Hotfix 3.0.1")?;
    git(&["tag", "v3.0.1"])?;
    commit("3.1.0-rc.1", "Release candidate")?;
    git(&["tag", "-a", "v3.1.0-rc.1", "-m", "rc"])?;
    git(&["checkout", "-q", "-b", "develop"])?;
    commit("3.1.0-dev", "Ahead of the tags")
}

/// Adds to the repository in `dir` a release that passes its health check but answers 500
/// on its pages (a `BROKEN` file at its root, which the fleet's app obeys): a commit on the
/// branch `broken`, from `v3.0.1`, tagged `v3.0.2-broken` (a pre-release, so `stable` stays
/// `v3.0.1`). Returns the tag.
pub fn broken(dir: &Path) -> Result<&'static str, String> {
    let git = |args: &[&str]| {
        run(Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["-c", "user.name=rfab", "-c", "user.email=rfab@localhost"])
            .args(["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
            .args(args))
        .map(drop)
    };
    let write = |path: &str, text: &str| {
        std::fs::write(dir.join(path), text).map_err(|e| format!("{path}: {e}"))
    };
    let back =
        run(Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["rev-parse", "--abbrev-ref", "HEAD"]))?;
    git(&["checkout", "-q", "-b", "broken", "v3.0.1"])?;
    write("VERSION", "3.0.2-broken\n")?;
    write("BROKEN", "every page answers 500\n")?;
    git(&["add", "-A"])?;
    git(&["commit", "-q", "-m", "A release that breaks every page"])?;
    git(&["tag", "v3.0.2-broken"])?;
    git(&["checkout", "-q", back.trim()])?;
    Ok("v3.0.2-broken")
}
