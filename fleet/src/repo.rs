//! The demo app's git repository: `v3.0.0` (annotated), the hotfix `v3.0.1`
//! (lightweight), `v3.1.0-rc.1`, a tag that is not semver (`nightly`), and `develop` one
//! commit past the release candidate. Each commit's `VERSION` names its version.
//! `before_hotfix` is the same app before its hotfix, for the demo to cut `v3.0.1` itself.

use std::path::Path;
use std::process::Command;

use crate::process::run;

/// Creates the repository in `dir`.
pub fn scenario(dir: &Path) -> Result<(), String> {
    let write = |path: &str, text: &str| write(dir, path, text);
    let git = |args: &[&str]| git(dir, args);
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

/// The demo app's repository before its hotfix, as the bare `origin` in `dir` that a team
/// pushes to: `main` at `v3.0.0` (annotated) with a bug in `opensky/src/cart.sh`, and
/// `develop` past it (`v3.1.0-rc.1`, then 3.1.0-dev). Both version files (`VERSION`,
/// `opensky/config/version.ini`) name each commit's version.
pub fn before_hotfix(dir: &Path) -> Result<(), String> {
    let seed = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let work = seed.path();
    git(work, &["init", "-q"])?;
    let write = |path: &str, text: &str| write(work, path, text);
    write(
        ".gitattributes",
        "tests export-ignore\n*.secret export-ignore\n",
    )?;
    write("tests/smoke.sh", "exit 0\n")?;
    write("run.sh", "#!/bin/sh\necho run\n")?;
    run(Command::new("chmod").arg("755").arg(work.join("run.sh")))?;
    write(CART, "total=$((price * quantity + 1))\n")?;
    let commit = |version: &str, message: &str| -> Result<(), String> {
        write(
            "opensky/config/version.ini",
            &format!("[parameters]\nopensky.version = {version}\n"),
        )?;
        write("VERSION", &format!("{version}\n"))?;
        git(work, &["add", "-A"])?;
        git(work, &["commit", "-q", "-m", message])
    };
    commit("3.0.0", "Release 3.0.0")?;
    git(work, &["tag", "-a", "v3.0.0", "-m", "3.0.0"])?;
    git(work, &["checkout", "-q", "-b", "develop"])?;
    write("opensky/src/wishlist.sh", "echo wishlist\n")?;
    commit("3.1.0-rc.1", "Release candidate")?;
    git(work, &["tag", "-a", "v3.1.0-rc.1", "-m", "rc"])?;
    commit("3.1.0-dev", "Ahead of the tags")?;
    let origin = dir.display().to_string();
    git(work, &["init", "-q", "--bare", &origin])?;
    git(
        work,
        &["push", "-q", &origin, "main", "develop", "--follow-tags"],
    )
}

/// The file with the demo app's bug: its cart charges one too many.
const CART: &str = "opensky/src/cart.sh";

/// A developer's clone of `origin` in `work`, on `main`, with its own git identity.
pub fn working_clone(origin: &Path, work: &Path) -> Result<(), String> {
    let parent = work.parent().unwrap_or(work);
    std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    git(
        parent,
        &[
            "clone",
            "-q",
            &origin.display().to_string(),
            &work.display().to_string(),
        ],
    )?;
    git(work, &["config", "user.name", "Dev"])?;
    git(work, &["config", "user.email", "dev@opensky.example"])
}

/// The fix, committed in `work` (on the hotfix branch).
pub fn fix_the_bug(work: &Path) -> Result<(), String> {
    write(work, CART, "total=$((price * quantity))\n")?;
    // As the clone's own identity, not `git()`'s.
    run(Command::new("git")
        .arg("-C")
        .arg(work)
        .args(["-c", "commit.gpgsign=false", "commit", "-q", "-a"])
        .args(["-m", "Charge the right total"]))
    .map(drop)
}

/// The fix, committed in `work` (on the hotfix branch), with a mistake that fails the
/// release's health check: an `UNHEALTHY` file at its root, which the fleet's app obeys
/// (`/health` answers 500). For the demo's `--fail`.
pub fn fix_the_bug_unhealthily(work: &Path) -> Result<(), String> {
    write(work, "UNHEALTHY", "the health check fails\n")?;
    run(Command::new("git")
        .arg("-C")
        .arg(work)
        .args(["add", "UNHEALTHY"]))?;
    fix_the_bug(work)
}

fn write(dir: &Path, path: &str, text: &str) -> Result<(), String> {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().unwrap_or(dir))
        .and_then(|()| std::fs::write(&path, text))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// `git` in `dir`, with an identity and no signing, whatever the machine's config says.
fn git(dir: &Path, args: &[&str]) -> Result<(), String> {
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
}

/// Adds to the repository in `dir` a release that passes its health check but answers 500
/// on its pages (a `BROKEN` file at its root, which the fleet's app obeys): a commit on the
/// branch `broken`, from `v3.0.1`, tagged `v3.0.2-broken` (a pre-release, so `stable` stays
/// `v3.0.1`). Returns the tag.
pub fn broken(dir: &Path) -> Result<&'static str, String> {
    marked(
        dir,
        ("BROKEN", "every page answers 500\n"),
        "v3.0.2-broken",
        "A release that breaks every page",
    )
}

/// Adds to the repository in `dir` a release that fails its health check (an `UNHEALTHY`
/// file at its root: the fleet's app answers 500 on `/health`), tagged `v3.0.2-unhealthy`
/// the same way. Returns the tag.
pub fn unhealthy(dir: &Path) -> Result<&'static str, String> {
    marked(
        dir,
        ("UNHEALTHY", "the health check fails\n"),
        "v3.0.2-unhealthy",
        "A release that fails its health check",
    )
}

/// A commit from `v3.0.1` holding `marker` (a file and its text), on a branch named after
/// `tag`'s pre-release part (`broken`), its `VERSION` the tag's version, tagged `tag`.
fn marked(
    dir: &Path,
    (marker, text): (&str, &str),
    tag: &'static str,
    message: &str,
) -> Result<&'static str, String> {
    let write = |path: &str, text: &str| write(dir, path, text);
    let git = |args: &[&str]| git(dir, args);
    let back =
        run(Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["rev-parse", "--abbrev-ref", "HEAD"]))?;
    let branch = tag.rsplit('-').next().unwrap_or(tag);
    git(&["checkout", "-q", "-b", branch, "v3.0.1"])?;
    write("VERSION", &format!("{}\n", tag.trim_start_matches('v')))?;
    write(marker, text)?;
    git(&["add", "-A"])?;
    git(&["commit", "-q", "-m", message])?;
    git(&["tag", tag])?;
    git(&["checkout", "-q", back.trim()])?;
    Ok(tag)
}
