//! Deploys under attack and interruption, from the adversarial trial of the deploy recipe:
//! Ctrl-C at every step, planted and tampered archives, BAD releases and cleanup, rollback
//! targets, `~` paths, odd tag names, downgrades by commit id, remote repositories.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::deploy::{Site, site};
use crate::git::git;
use crate::test::{LOCK_HOLDER, RELEASE_STAMP, Test, a_line, first_line, pattern};

/// A fabfile on `rfab/deploy` for the site's first host: `deploy:REF`, `rollback:NAME`, and
/// `with_hook`, which runs the task `hook` (`body`) at deploy step `step`.
fn hooked(site: &Site, step: &str, body: &str, settings: &str) -> Test {
    let fabfile = format!(
        "import \"rfab/deploy\" as release;\n\
         fn deploy(ref) {{ release::release(ref, false); }}\n\
         fn deploy(ref, force) {{ release::release(ref, force == \"true\"); }}\n\
         fn rollback() {{ release::rollback(\"\"); }}\n\
         fn rollback(name) {{ release::rollback(name); }}\n\
         fn hook() {{ {body} }}\n\
         fn with_hook() {{ env.hooks = #{{ {step}: [\"hook\"] }}; }}\n"
    );
    let settings = format!(
        "repository={},deploy_to={}{settings}",
        site.repo.display(),
        site.deploy_to.display()
    );
    site.fleet.test().fabfile(&fabfile).args(&[
        "-H",
        &site.fleet.hosts[0].string(),
        "--set",
        &settings,
    ])
}

/// Whether a process whose command line contains `text` runs.
fn process_with(text: &str) -> bool {
    std::fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(Result::ok)
        .any(|entry| {
            std::fs::read(entry.path().join("cmdline")).is_ok_and(|c| {
                String::from_utf8_lossy(&c)
                    .replace('\0', " ")
                    .contains(text)
            })
        })
}

/// Runs `test`, sends it SIGINT once `ready` holds, and returns its status and stdout.
fn interrupted(test: &Test, ready: impl Fn() -> bool) -> (Option<i32>, String) {
    let child = test
        .command()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rfab");
    let _stop = crate::signals::Cleanup(vec![child.id()]);
    crate::sshd::eventually("the deploy to reach the step", || ready().then_some(()));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let output = child.wait_with_output().expect("rfab ends");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code(), printed)
}

fn revisions_log(site: &Site) -> String {
    std::fs::read_to_string(site.deploy_to.join("revisions.log")).unwrap_or_default()
}

/// After an interrupted deploy: the release before it serves, no lock, no upload left.
fn assert_put_back(site: &Site, step: &str, status: Option<i32>, output: &str) {
    assert_eq!(status, Some(130), "at {step}: {output}");
    assert_eq!(
        site.live_tag(),
        "v3.0.0",
        "at {step}, Ctrl-C left another release live"
    );
    assert!(
        !site.deploy_to.join(".rfab-lock").exists(),
        "at {step}, Ctrl-C left the lock"
    );
    let uploads: Vec<_> = std::fs::read_dir(&site.deploy_to)
        .expect("deploy_to")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(".rfab-upload"))
        .collect();
    assert!(uploads.is_empty(), "at {step}, an upload was left");
    let good: Vec<String> = site
        .releases()
        .into_iter()
        .filter(|r| r.starts_with("v3.0.1"))
        .filter(|r| !site.bad_releases().contains(r))
        .collect();
    assert!(
        good.is_empty(),
        "at {step}, the interrupted release is not BAD: {good:?}"
    );
}

#[test]
fn ctrl_c_at_any_step_of_a_deploy_puts_the_live_release_back() {
    let site = site(1, "");
    let tmp = site.fleet.dir.path().join("tmp");
    std::fs::create_dir(&tmp).expect("tmp");
    hooked(&site, "before_upload", "", "")
        .args(&["deploy:v3.0.0"])
        .run();
    for (step, pause) in [
        ("before_upload", "sleep 7401"),
        ("after_upload", "sleep 7402"),
        ("after_symlink", "sleep 7403"),
        ("before_cleanup", "sleep 7404"),
    ] {
        let test = hooked(&site, step, &format!("run(\"{pause}\");"), "")
            .env("TMPDIR", &tmp.display().to_string())
            .args(&["with_hook", "deploy:v3.0.1"]);
        let (status, output) = interrupted(&test, || crate::ssh::process_running(pause));
        assert_put_back(&site, step, status, &output);
        assert_eq!(
            std::fs::read_dir(&tmp).expect("tmp").count(),
            0,
            "at {step}, the run's private directory was left"
        );
        crate::sshd::eventually("the hook's command to stop", || {
            (!crate::ssh::process_running(pause)).then_some(())
        });
    }
    assert!(
        revisions_log(&site)
            .matches("put back releases/v3.0.0-")
            .count()
            >= 2,
        "the switches back are not logged:\n{}",
        revisions_log(&site)
    );
}

#[test]
fn ctrl_c_during_the_health_check_puts_the_live_release_back() {
    // A health URL that accepts connections and never answers: the check waits on it.
    let hanging = TcpListener::bind("127.0.0.1:0").expect("listener");
    let url = format!(
        "http://127.0.0.1:{}/rfab-health-7405",
        hanging.local_addr().expect("address").port()
    );
    let site = site(1, "");
    hooked(&site, "before_upload", "", "")
        .args(&["deploy:v3.0.0"])
        .run();
    let settings = format!(",health_url={url},health_timeout=60");
    let test = hooked(&site, "before_upload", "", &settings).args(&["deploy:v3.0.1"]);
    // The check's own curl, not rfab, whose command line names the URL too.
    let curl = format!("--max-time 2 {url}");
    let (status, output) = interrupted(&test, || process_with(&curl));
    assert_put_back(&site, "the health check", status, &output);
    assert!(
        revisions_log(&site).contains(" put back releases/v3.0.0-"),
        "{}",
        revisions_log(&site)
    );
}

#[test]
fn a_tampered_archive_is_never_unpacked() {
    let site = site(1, "");
    let tmp = site.fleet.dir.path().join("tmp");
    std::fs::create_dir(&tmp).expect("tmp");
    hooked(&site, "before_upload", "", "")
        .env("TMPDIR", &tmp.display().to_string())
        .args(&["deploy:v3.0.0"])
        .run();
    // The hook swaps the archive built for the upload, as a local attacker would have to.
    let swap = format!(
        "local(\"for f in {}/rfab-*/release-*.tar.gz; do echo swapped > $f; done\");",
        tmp.display()
    );
    let host = site.fleet.hosts[0].string();
    hooked(&site, "before_upload", &swap, "")
        .env("TMPDIR", &tmp.display().to_string())
        .args(&["with_hook", "deploy:v3.0.1"])
        .status(1)
        .stdout_regex(&a_line(&pattern(
            &format!("[{host}] err: the uploaded archive's sha256 is not the one built (<SHA256>): not unpacking it"),
            &[("<SHA256>", "[0-9a-f]{64}")],
        )))
        .run();
    assert_eq!(site.live_tag(), "v3.0.0");
    assert_eq!(site.bad_releases().len(), 1, "{:?}", site.releases());
    assert!(!site.deploy_to.join(".rfab-lock").exists());
}

#[test]
fn the_archive_is_built_where_no_other_user_can_reach_it_and_goes_with_the_run() {
    let site = site(1, "");
    let tmp = site.fleet.dir.path().join("tmp");
    std::fs::create_dir(&tmp).expect("tmp");
    let commit = site.commit("v3.0.1");
    // What the earlier, guessable path pointed at: a link to a file the attacker wants
    // overwritten, and one to their own archive.
    let victim = site.fleet.dir.path().join("victim");
    std::fs::write(&victim, "root's file\n").expect("victim");
    std::os::unix::fs::symlink(&victim, tmp.join(format!("rfab-release-{commit}.tar.gz")))
        .expect("planted link");
    // The hook looks at the private directory while the deploy runs.
    let look = format!(
        "puts(local(\"find {} -maxdepth 1 -type d -name 'rfab-*' -printf 'mode %m'\", #{{ quiet: true }}).stdout);",
        tmp.display()
    );
    let host = site.fleet.hosts[0].string();
    hooked(&site, "before_upload", &look, "")
        .env("TMPDIR", &tmp.display().to_string())
        .args(&["with_hook", "deploy:v3.0.1"])
        .stdout_regex(&a_line(&pattern(&format!("[{host}] mode 700"), &[])))
        .run();
    assert_eq!(site.live_tag(), "v3.0.1");
    assert_eq!(
        std::fs::read_to_string(site.deploy_to.join("current/opensky/config/version.ini"))
            .expect("the release's files"),
        "[parameters]\nopensky.version = 3.0.1\n"
    );
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "root's file\n"
    );
    let left: Vec<String> = std::fs::read_dir(&tmp)
        .expect("tmp")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        left,
        [format!("rfab-release-{commit}.tar.gz")],
        "left in TMPDIR"
    );
}

#[test]
fn keep_releases_removes_bad_releases_first() {
    let site = site(1, "");
    let failing = ",health_url=http://127.0.0.1:9/,health_timeout=1";
    let deploy = |reference: &str, settings: &str, status: i32| {
        hooked(
            &site,
            "before_upload",
            "",
            &format!(",keep_releases=3{settings}"),
        )
        .args(&[&format!("deploy:{reference}")])
        .status(status)
        .run();
    };
    deploy("v3.0.0", "", 0);
    deploy("v3.0.1", failing, 1);
    deploy("v3.0.1", "", 0);
    deploy("v3.1.0-rc.1", "", 0);
    assert_eq!(site.live_tag(), "v3.1.0-rc.1");
    assert_eq!(
        site.bad_releases(),
        Vec::<String>::new(),
        "{:?}",
        site.releases()
    );
    let releases = site.releases();
    assert_eq!(releases.len(), 3, "{releases:?}");
    assert!(releases[0].starts_with("v3.0.0-"), "{releases:?}");
    // Both good releases are there to go back to.
    hooked(&site, "before_upload", "", "")
        .args(&["rollback"])
        .run();
    assert_eq!(site.live_tag(), "v3.0.1");
}

#[test]
fn rollback_goes_only_to_a_complete_good_release_inside_releases() {
    let site = site(1, "");
    let host = site.fleet.hosts[0].string();
    let deploy = |reference: &str| {
        hooked(&site, "before_upload", "", "")
            .args(&[&format!("deploy:{reference}")])
            .run();
    };
    deploy("v3.0.0");
    // A release whose deploy died after unpacking it, before its checks: no BAD, no CHECKED.
    let incomplete = site.deploy_to.join("releases/v3.0.1-20260101000000000");
    std::fs::create_dir_all(&incomplete).expect("incomplete release");
    std::fs::write(incomplete.join("REVISION"), site.commit("v3.0.1") + "\n").expect("REVISION");
    std::fs::write(incomplete.join("REF"), "v3.0.1\n").expect("REF");
    deploy("v3.0.1");
    for (name, says) in [
        (
            "../../../etc",
            format!(
                "`../../../etc` is no release name: a release is a directory name under {}/releases (letters, digits, `.`, `_`, `+`, `-`)",
                site.deploy_to.display()
            ),
        ),
        (
            "v3.0.1-20260101000000000",
            format!(
                "the release v3.0.1-20260101000000000 on {host} never passed a deploy's checks (it has no CHECKED): it was interrupted, or is from before rfab checked releases"
            ),
        ),
    ] {
        hooked(&site, "before_upload", "", "")
            .args(&[&format!("rollback:{name}")])
            .status(1)
            .stderr_regex(&first_line(&pattern(
                &format!("[{host}] Fatal error: {says}"),
                &[],
            )))
            .run();
        assert_eq!(site.live_tag(), "v3.0.1");
        assert!(!site.deploy_to.join(".rfab-lock").exists());
    }
    // The release before: the complete one, not the incomplete one made after it.
    hooked(&site, "before_upload", "", "")
        .args(&["rollback"])
        .stdout_regex(&a_line(&pattern(
            &format!("[{host}] rollback: v3.0.1 -> v3.0.0"),
            &[],
        )))
        .run();
    // A rollback whose target fails its health check puts the live release back.
    deploy("v3.0.1");
    hooked(
        &site,
        "before_upload",
        "",
        ",health_url=http://127.0.0.1:9/,health_timeout=1",
    )
    .args(&["rollback"])
    .status(1)
    .stderr_regex(&first_line(&pattern(
        &format!("[{host}] Fatal error: the release v3.0.0-<STAMP> failed its health check on {host}; v3.0.1 serves again"),
        &[RELEASE_STAMP],
    )))
    .run();
    assert_eq!(site.live_tag(), "v3.0.1");
    assert!(!site.deploy_to.join(".rfab-lock").exists());
}

#[test]
fn a_commit_id_or_a_branch_cannot_bypass_the_downgrade_guard() {
    let site = site(1, "");
    let host = site.fleet.hosts[0].string();
    let deploy = |reference: &str, status: i32| {
        hooked(&site, "before_upload", "", "")
            .args(&[&format!("deploy:{reference}")])
            .status(status)
    };
    deploy("v3.0.1", 0).run();
    let old = site.commit("v3.0.0");
    deploy(&old, 1)
        .stderr_regex(&first_line(&pattern(
            &format!("[{host}] Fatal error: refusing to go from v3.0.1 down to {old} (v3.0.0) on {host}; add force=true to do it anyway"),
            &[],
        )))
        .run();
    deploy("develop", 1)
        .stderr_regex(&first_line(&pattern(
            &format!("[{host}] Fatal error: refusing to replace v3.0.1 with develop on {host}: no version tag is on <COMMIT>; add force=true to do it anyway"),
            &[("<COMMIT>", "[0-9a-f]{7,}")],
        )))
        .run();
    assert_eq!(site.live_tag(), "v3.0.1");
    // A pre-release of the next version is an upgrade; its release a downgrade from it.
    deploy("v3.1.0-rc.1", 0).run();
    deploy("v3.0.1", 1).run();
    deploy(&format!("{old},force=true"), 0).run();
    assert_eq!(site.live_tag(), old);
}

/// Removes a directory when dropped.
struct Remove(std::path::PathBuf);

impl Drop for Remove {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn deploy_to_under_home_is_the_login_home_on_the_host() {
    let site = site(1, "");
    let name = format!("rfab-test-home-{}", std::process::id());
    let home = Path::new("/root").join(&name);
    let _remove = Remove(home.clone());
    hooked(&site, "before_upload", "", &format!(",deploy_to=~/{name}"))
        .args(&["deploy:v3.0.1"])
        .run();
    assert_eq!(
        std::fs::read_to_string(home.join("current/REF")).expect("deployed under the home"),
        "v3.0.1\n"
    );
    assert!(!Path::new("/root/~").join(&name).exists());
}

#[test]
fn odd_tag_names_make_safe_release_names_and_any_name_is_cleaned_up() {
    let site = site(1, "");
    let pwned = format!("/tmp/rfab-pwned-{}", std::process::id());
    let tag = format!("it's-$(touch${{IFS}}{pwned})");
    git(&site.repo, &["tag", &tag, "v3.0.1"]);
    // A release left by an older rfab, with a quote in its name.
    let old = site.deploy_to.join("releases/o'ld-20200101000000000");
    std::fs::create_dir_all(&old).expect("old release");
    std::fs::write(old.join("REVISION"), "0\n").expect("REVISION");
    hooked(&site, "before_upload", "", ",keep_releases=1")
        .args(&[&format!("deploy:{tag}")])
        .run();
    let releases = site.releases();
    assert_eq!(releases.len(), 1, "{releases:?}");
    assert!(
        releases[0].starts_with("it_s-__touch__IFS__tmp_rfab-pwned-"),
        "{releases:?}"
    );
    assert_eq!(site.live_tag(), tag);
    assert!(!Path::new(&pwned).exists(), "the tag ran a command");
}

#[test]
fn a_repository_url_deploys_through_a_local_mirror() {
    let site = site(1, "");
    let cache = site.fleet.dir.path().join("cache");
    let url = format!("file://{}", site.repo.display());
    let settings = format!("repository={url},deploy_to={}", site.deploy_to.display());
    let fabfile =
        "import \"rfab/deploy\" as release;\nfn deploy(ref) { release::release(ref, false); }\n";
    let deploy = || {
        site.fleet
            .test()
            .fabfile(fabfile)
            .env("XDG_CACHE_HOME", &cache.display().to_string())
            .args(&[
                "-H",
                &site.fleet.hosts[0].string(),
                "--set",
                &settings,
                "deploy:stable",
            ])
            .run()
    };
    deploy();
    assert_eq!(site.live_tag(), "v3.0.1");
    let mirrors: Vec<_> = std::fs::read_dir(cache.join("rfab/mirrors"))
        .expect("the mirror")
        .collect();
    assert_eq!(mirrors.len(), 1);
    // A new tag upstream reaches the next deploy through the mirror.
    git(&site.repo, &["tag", "v3.0.2", "v3.0.1"]);
    deploy();
    assert_eq!(site.live_tag(), "v3.0.2");
}

#[test]
fn a_deploy_killed_after_the_switch_is_undone_by_deploy_unlock() {
    let site = site(1, "");
    hooked(&site, "before_upload", "", "")
        .args(&["deploy:v3.0.0"])
        .run();
    let test = hooked(&site, "after_symlink", "run(\"sleep 7406\");", "")
        .args(&["with_hook", "deploy:v3.0.1"]);
    let child = test
        .command()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("rfab");
    let _stop = crate::signals::Cleanup(vec![child.id()]);
    crate::sshd::eventually("the deploy to reach its hook", || {
        crate::ssh::process_running("sleep 7406").then_some(())
    });
    // Killed: no undo runs, and the unchecked release stays live.
    let mut child = child;
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    let _ = Command::new("pkill").args(["-f", "^sleep 7406$"]).status();
    assert_eq!(site.live_tag(), "v3.0.1");
    let host = site.fleet.hosts[0].string();
    hooked(&site, "before_upload", "", "")
        .args(&["deploy:v3.0.1"])
        .status(1)
        .stderr_regex(&first_line(&pattern(
            &format!("[{host}] Fatal error: another deploy holds the lock on {host}: <HOLDER>: deploy v3.0.1 as v3.0.1-<STAMP> (stale: that rfab process is gone, and `current` may point at a release it never checked; deploy.unlock breaks the lock and puts back what was live before it); wait with --set lock_wait=SECONDS, or break it with the deploy.unlock task"),
            &[LOCK_HOLDER, RELEASE_STAMP],
        )))
        .run();
    let fabfile = "import \"rfab/deploy\" as release;\nfn unlock() { release::unlock(); }\n";
    let settings = format!("deploy_to={}", site.deploy_to.display());
    site.fleet
        .test()
        .fabfile(fabfile)
        .args(&["-H", &host, "--set", &settings, "unlock"])
        .stdout_regex(&a_line(&pattern(
            &format!("[{host}] broke the deploy lock held by <HOLDER>: deploy v3.0.1 as v3.0.1-<STAMP>; v3.0.0 serves again"),
            &[LOCK_HOLDER, RELEASE_STAMP],
        )))
        .run();
    assert_eq!(site.live_tag(), "v3.0.0");
    assert!(!site.deploy_to.join(".rfab-lock").exists());
    assert_eq!(site.bad_releases().len(), 1, "{:?}", site.releases());
}

#[test]
fn a_deploy_whose_lock_was_broken_changes_nothing_more() {
    let site = site(1, "");
    let go = site.fleet.dir.path().join("go");
    hooked(&site, "before_upload", "", "")
        .args(&["deploy:v3.0.0"])
        .run();
    let hold = format!(
        "run(\"until [ -e {} ]; do sleep 0.05; done\");",
        go.display()
    );
    let test = hooked(&site, "before_symlink", &hold, "").args(&["with_hook", "deploy:v3.0.1"]);
    let child = test
        .command()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rfab");
    let _stop = crate::signals::Cleanup(vec![child.id()]);
    let lock = site.deploy_to.join(".rfab-lock/token");
    crate::sshd::eventually("the deploy to hold the lock", || {
        lock.exists().then_some(())
    });
    // Someone breaks the lock while the deploy waits in its hook, before the switch.
    std::fs::remove_dir_all(site.deploy_to.join(".rfab-lock")).expect("break the lock");
    std::fs::write(&go, "").expect("let the deploy go on");
    let output = child.wait_with_output().expect("rfab ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("this deploy no longer holds the lock"),
        "{stderr}"
    );
    assert_eq!(
        site.live_tag(),
        "v3.0.0",
        "the deploy switched without its lock"
    );
}
