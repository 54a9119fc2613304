//! Deploys with the root fabfile against real sshd hosts: the release layout, stable tags,
//! downgrades, rollback, cleanup, locks, failing hooks.

use std::path::{Path, PathBuf};

use crate::git::{git, scenario_repo};
use crate::sshd::Fleet;
use crate::test::{LOCK_HOLDER, RELEASE_STAMP, Test, a_line, assert_match, first_line, pattern};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fabfile.rhai");

pub(crate) struct Site {
    pub(crate) fleet: Fleet,
    pub(crate) repo: PathBuf,
    pub(crate) inventory: PathBuf,
    pub(crate) deploy_to: PathBuf,
}

/// A fleet of `n` hosts in one group, the demo app's repository, and an inventory for them.
pub(crate) fn site(n: usize, extra_settings: &str) -> Site {
    let fleet = Fleet::start(n);
    let repo = fleet.dir.path().join("opensky");
    scenario_repo(&repo);
    let deploy_to = fleet.dir.path().join("srv/opensky");
    let hosts: Vec<String> = fleet
        .hosts
        .iter()
        .map(|h| format!("\"{}\"", h.string()))
        .collect();
    let inventory = fleet.dir.path().join("inventory");
    std::fs::write(
        inventory.with_extension("rhai"),
        format!(
            "export const user = \"root\";\nexport const groups = #{{ group1: [{}] }};\n\
             export const settings = #{{ repository: \"{}\", deploy_to: \"{}\", {extra_settings} }};\n",
            hosts.join(", "),
            repo.display(),
            deploy_to.display()
        ),
    )
    .expect("inventory");
    Site {
        fleet,
        repo,
        inventory,
        deploy_to,
    }
}

impl Site {
    pub(crate) fn rfab(&self, args: &[&str]) -> Test {
        let inventory = format!("inventory={}", self.inventory.display());
        self.fleet
            .test()
            .args(&["-f", ROOT, "--set", &inventory])
            .args(args)
    }

    pub(crate) fn live_tag(&self) -> String {
        std::fs::read_to_string(self.deploy_to.join("current/REF"))
            .unwrap_or_default()
            .trim()
            .to_owned()
    }

    pub(crate) fn releases(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.deploy_to.join("releases"))
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// A fabfile on `rfab/deploy` for this site's first host, whose `hook` task is `body`;
    /// the task `with_hooks` makes it run before the symlink switch.
    pub(crate) fn hooked(&self, body: &str) -> Test {
        let fabfile = format!(
            "import \"rfab/deploy\" as release;\n\
             fn deploy(ref) {{ release::release(ref, false); }}\n\
             fn hook() {{ {body} }}\n\
             fn with_hooks() {{ env.hooks = #{{ before_symlink: [\"hook\"] }}; }}\n"
        );
        let settings = format!(
            "repository={},deploy_to={}",
            self.repo.display(),
            self.deploy_to.display()
        );
        self.fleet.test().fabfile(&fabfile).args(&[
            "-H",
            &self.fleet.hosts[0].string(),
            "--set",
            &settings,
        ])
    }

    /// The releases marked `BAD` (rolled back from, failed, interrupted).
    pub(crate) fn bad_releases(&self) -> Vec<String> {
        self.releases()
            .into_iter()
            .filter(|r| self.deploy_to.join("releases").join(r).join("BAD").exists())
            .collect()
    }

    pub(crate) fn commit(&self, reference: &str) -> String {
        git(
            &self.repo,
            &["rev-parse", &format!("{reference}^{{commit}}")],
        )
    }
}

pub(crate) fn log_lines(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .count()
}

#[test]
fn deploy_stable_downgrade_force_and_rollback() {
    let site = site(1, "");
    let host = site.fleet.hosts[0].string();
    let ran = site
        .rfab(&["prod", "deploy:stable"])
        .stdout_regex(&a_line(&pattern(
            &format!(
                "[{host}] release: (nothing) -> v3.0.1 ({})",
                &site.commit("v3.0.1")[..7]
            ),
            &[],
        )))
        .run();
    assert_eq!(site.live_tag(), "v3.0.1", "{}", ran.stdout);
    let revision =
        std::fs::read_to_string(site.deploy_to.join("current/REVISION")).expect("REVISION");
    assert_eq!(revision.trim(), site.commit("v3.0.1"));
    assert_eq!(
        std::fs::read_to_string(site.deploy_to.join("current/opensky/config/version.ini"))
            .expect("the release's files"),
        "[parameters]\nopensky.version = 3.0.1\n"
    );
    assert!(
        !site.deploy_to.join("current/tests").exists(),
        "export-ignore'd files were deployed"
    );

    site.rfab(&["prod", "deploy:v3.0.0"])
        .status(1)
        .stderr_starts_with(&format!(
            "[{host}] Fatal error: refusing to go from v3.0.1 down to v3.0.0 on {host}; add force=true to do it anyway"
        ))
        .run();
    assert_eq!(site.live_tag(), "v3.0.1");

    site.rfab(&["prod", "deploy:v3.0.0,force=true"]).run();
    assert_eq!(site.live_tag(), "v3.0.0");
    let ran = site.rfab(&["prod", "deploy.rollback"]).run();
    assert_eq!(site.live_tag(), "v3.0.1", "{}", ran.stdout);
    let bad = site.bad_releases();
    assert_eq!(bad.len(), 1, "the rolled-back release is marked: {bad:?}");
    assert!(bad[0].starts_with("v3.0.0-"), "{bad:?}");
    assert_eq!(log_lines(&site.deploy_to.join("revisions.log")), 3);
    assert!(
        !site.deploy_to.join(".rfab-lock").exists(),
        "the lock was left behind"
    );
}

#[test]
fn a_branch_deploys_and_old_releases_are_cleaned_up() {
    let site = site(2, "keep_releases: 2");
    for reference in ["v3.0.0", "v3.0.1", "develop,force=true"] {
        site.rfab(&["prod", &format!("deploy:{reference}")]).run();
    }
    assert_eq!(site.live_tag(), "develop");
    let releases = site.releases();
    assert_eq!(releases.len(), 2, "{releases:?}");
    assert!(
        releases.iter().any(|r| r.starts_with("develop-"))
            && releases.iter().any(|r| r.starts_with("v3.0.1-")),
        "{releases:?}"
    );
}

#[test]
fn a_held_lock_refuses_the_deploy_and_names_the_holder() {
    let site = site(1, "");
    let host = site.fleet.hosts[0].string();
    site.rfab(&["prod", "deploy:v3.0.0"]).run();
    std::fs::create_dir_all(site.deploy_to.join(".rfab-lock")).expect("lock");
    std::fs::write(
        site.deploy_to.join(".rfab-lock/info"),
        "ana@laptop pid 4242 since 2026-11-26T06:00:00Z: deploy v3.0.1\n",
    )
    .expect("info");
    site.rfab(&["prod", "deploy:stable"])
        .status(1)
        .stderr_starts_with(&format!(
            "[{host}] Fatal error: another deploy holds the lock on {host}: ana@laptop pid 4242 since 2026-11-26T06:00:00Z: deploy v3.0.1; \
             wait with --set lock_wait=SECONDS, or break it with the deploy.unlock task"
        ))
        .run();
    assert_eq!(site.live_tag(), "v3.0.0");
    site.rfab(&["prod", "deploy.unlock"])
        .stdout_regex(&a_line(&pattern(
            &format!("[{host}] broke the deploy lock held by ana@laptop pid 4242 since 2026-11-26T06:00:00Z: deploy v3.0.1; no change"),
            &[],
        )))
        .run();
    site.rfab(&["prod", "deploy:stable"]).run();
    assert_eq!(site.live_tag(), "v3.0.1");
}

#[test]
fn a_failing_hook_leaves_the_live_release_serving() {
    let site = site(1, "");
    let host = site.fleet.hosts[0].string();
    site.hooked("").args(&["deploy:v3.0.0"]).run();
    site
        .hooked(r#"run("echo migrating; exit 1");"#)
        .args(&["with_hooks", "deploy:stable"])
        .status(1)
        .stderr_regex(&first_line(&pattern(
            &format!("[{host}] Fatal error: run() failed on `{host}`: `echo migrating; exit 1` exited with status 1"),
            &[],
        )))
        .run();
    assert_eq!(site.live_tag(), "v3.0.0", "a failed hook switched current");
    let bad = site.bad_releases();
    assert_eq!(
        bad.len(),
        1,
        "the failed release is marked: {:?}",
        site.releases()
    );
    assert!(
        !site.deploy_to.join(".rfab-lock").exists(),
        "the lock was left behind"
    );
}

#[test]
fn no_stable_tag_changes_nothing() {
    let site = site(1, "");
    let host = site.fleet.hosts[0].string();
    git(&site.repo, &["tag", "-d", "v3.0.0", "v3.0.1"]);
    site.rfab(&["prod", "deploy:stable"])
        .status(1)
        .stderr_starts_with(&format!(
            "[{host}] Fatal error: no stable semver tag in `{}` (found: nightly (not semver), v3.1.0-rc.1 (pre-release)); tag a release like `v1.0.0`",
            site.repo.display()
        ))
        .run();
    assert!(!site.deploy_to.exists(), "a failed deploy touched the host");
}

#[test]
fn ctrl_c_mid_deploy_leaves_the_live_release_and_no_lock() {
    let site = site(1, "");
    let host = site.fleet.hosts[0].string();
    site.hooked("").args(&["deploy:v3.0.0"]).run();
    let test = site
        .hooked(r#"run("sleep 7373");"#)
        .args(&["with_hooks", "deploy:stable"]);
    let rfab = test
        .command()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("rfab");
    crate::sshd::eventually("the deploy to reach its hook", || {
        crate::ssh::process_running("sleep 7373").then_some(())
    });
    assert!(
        site.deploy_to.join(".rfab-lock").exists(),
        "the deploy holds the lock"
    );
    let status = std::process::Command::new("kill")
        .args(["-INT", &rfab.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let output = rfab.wait_with_output().expect("rfab ends");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(130), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "[{host}] on abort: put back the release live before this deploy"
        )),
        "{stdout}"
    );
    assert_eq!(site.live_tag(), "v3.0.0", "Ctrl-C switched current");
    assert!(
        !site.deploy_to.join(".rfab-lock").exists(),
        "Ctrl-C left the lock"
    );
    let bad = site.bad_releases();
    assert_eq!(
        bad.len(),
        1,
        "the interrupted release is marked: {:?}",
        site.releases()
    );
    crate::sshd::eventually("the hook's command to stop", || {
        (!crate::ssh::process_running("sleep 7373")).then_some(())
    });
}

#[test]
fn two_deploys_at_once_the_second_is_refused_or_waits() {
    let site = site(1, "");
    let host = site.fleet.hosts[0].string();
    let go = site.fleet.dir.path().join("go");
    let release_file = format!("release_file={}", go.display());
    // The first deploy's hook holds it open until `release_file` exists.
    let hold = r#"run("until [ -e " + env.release_file + " ]; do sleep 0.05; done");"#;
    let deploy = |args: &[&str]| site.hooked(hold).args(&["--set", &release_file]).args(args);
    let spawn = |test: Test| {
        let child = test
            .command()
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("rfab");
        (child, test)
    };
    let (mut first, _first_dir) = spawn(deploy(&["with_hooks", "deploy:v3.0.0"]));
    let _stop = crate::signals::Cleanup(vec![first.id()]);
    let info = site.deploy_to.join(".rfab-lock/info");
    crate::sshd::eventually("the first deploy to hold the lock", || {
        std::fs::read_to_string(&info)
            .ok()
            .filter(|i| i.contains("deploy v3.0.0"))
            .map(|_| ())
    });
    deploy(&["deploy:stable"])
        .status(1)
        .stderr_regex(&first_line(&pattern(
            &format!("[{host}] Fatal error: another deploy holds the lock on {host}: <HOLDER>: deploy v3.0.0 as v3.0.0-<STAMP>; wait with --set lock_wait=SECONDS, or break it with the deploy.unlock task"),
            &[LOCK_HOLDER, RELEASE_STAMP],
        )))
        .run();
    // With lock_wait, a deploy waits for the one holding the lock, then goes ahead.
    let (mut waiting, _waiting_dir) = spawn(deploy(&["--set", "lock_wait=60", "deploy:stable"]));
    std::fs::write(&go, "").expect("let the first deploy finish");
    assert_eq!(
        first.wait().expect("first ends").code(),
        Some(0),
        "the first deploy failed"
    );
    assert_eq!(
        waiting.wait().expect("waiting ends").code(),
        Some(0),
        "the waiting deploy failed"
    );
    assert_eq!(site.live_tag(), "v3.0.1");
    assert!(!site.deploy_to.join(".rfab-lock").exists());
}

#[test]
fn a_stale_lock_is_reported_not_broken() {
    let site = site(1, "lock_ttl: 60");
    let host = site.fleet.hosts[0].string();
    let lock = site.deploy_to.join(".rfab-lock");
    std::fs::create_dir_all(&lock).expect("lock");
    std::fs::write(
        lock.join("info"),
        "bo@ci pid 1 since 2026-11-26T04:00:00Z: deploy v2.0.0\n",
    )
    .expect("info");
    std::process::Command::new("touch")
        .args(["-d", "2 hours ago"])
        .arg(&lock)
        .status()
        .expect("touch");
    site.rfab(&["prod", "deploy:stable"])
        .status(1)
        .stderr_regex(&first_line(&pattern(
            &format!("[{host}] Fatal error: another deploy holds the lock on {host}: bo@ci pid 1 since 2026-11-26T04:00:00Z: deploy v2.0.0 (stale: older than 60 s; if no deploy runs, deploy.unlock breaks it and puts back what was live before it); wait with --set lock_wait=SECONDS, or break it with the deploy.unlock task"),
            &[],
        )))
        .run();
    assert!(lock.exists(), "a stale lock was broken silently");
}

#[test]
fn health_check_passes_or_puts_the_old_release_back() {
    let web = crate::web::Web::start("127.77.251.1");
    let site = site(1, &format!("health_url: \"{}\", health_timeout: 2", web.1));
    site.rfab(&["prod", "deploy:v3.0.0"]).run();
    assert_eq!(site.live_tag(), "v3.0.0");
    drop(web);
    let host = site.fleet.hosts[0].string();
    site.rfab(&["prod", "deploy:stable"])
        .status(1)
        .stderr_regex(&first_line(&pattern(
            &format!("[{host}] Fatal error: the release v3.0.1-<STAMP> failed its health check on {host}; v3.0.0 serves again"),
            &[RELEASE_STAMP],
        )))
        .run();
    assert_eq!(site.live_tag(), "v3.0.0");
    assert!(!site.deploy_to.join(".rfab-lock").exists());
}

#[test]
fn the_fetch_strategy_builds_the_release_on_the_host() {
    let site = site(1, "strategy: \"fetch\"");
    site.rfab(&["prod", "deploy:stable"]).run();
    assert_eq!(site.live_tag(), "v3.0.1");
    assert_eq!(
        std::fs::read_to_string(site.deploy_to.join("current/opensky/config/version.ini"))
            .expect("the release's files"),
        "[parameters]\nopensky.version = 3.0.1\n"
    );
    assert!(
        !site.deploy_to.join("current/tests").exists(),
        "export-ignore'd files were deployed"
    );
    assert!(
        site.deploy_to.join("repo/HEAD").exists(),
        "no mirror kept on the host"
    );
    site.rfab(&["prod", "deploy:develop,force=true"]).run();
    assert_eq!(site.live_tag(), "develop");
}

#[test]
fn ctrl_c_during_the_upload_leaves_the_live_release() {
    let site = site(1, "");
    site.rfab(&["prod", "deploy:v3.0.0"]).run();
    // A release big enough that the upload takes a while.
    let big = site.repo.join("assets.bin");
    let status = std::process::Command::new("head")
        .args(["-c", "100000000", "/dev/urandom"])
        .stdout(std::fs::File::create(&big).expect("create"))
        .status()
        .expect("head");
    assert!(status.success());
    git(&site.repo, &["checkout", "-q", "main"]);
    git(&site.repo, &["add", "-A"]);
    git(&site.repo, &["commit", "-q", "-m", "big assets"]);
    git(&site.repo, &["tag", "v3.0.2"]);
    let test = site.rfab(&["prod", "deploy:stable"]);
    let rfab = test
        .command()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("rfab");
    let _stop = crate::signals::Cleanup(vec![rfab.id()]);
    crate::sshd::eventually("the upload to start", || {
        std::fs::read_dir(&site.deploy_to)
            .ok()?
            .filter_map(Result::ok)
            .find(|f| {
                let name = f.file_name().to_string_lossy().into_owned();
                name.starts_with(".rfab-upload-v3.0.2-") && name.contains(".tar.gz.rfab-")
            })
    });
    std::process::Command::new("kill")
        .args(["-INT", &rfab.id().to_string()])
        .status()
        .expect("kill");
    let output = rfab.wait_with_output().expect("rfab ends");
    assert_eq!(
        output.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert_eq!(site.live_tag(), "v3.0.0", "Ctrl-C switched current");
    assert!(
        !site.deploy_to.join(".rfab-lock").exists(),
        "Ctrl-C left the lock"
    );
    let left: Vec<String> = std::fs::read_dir(&site.deploy_to)
        .expect("deploy_to")
        .filter_map(Result::ok)
        .map(|f| f.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".rfab-upload-"))
        .collect();
    assert!(left.is_empty(), "Ctrl-C left the upload: {left:?}");
}

#[test]
fn a_lock_whose_process_is_gone_is_reported_as_stale() {
    let site = site(1, "");
    let host = site.fleet.hosts[0].string();
    let machine = std::process::Command::new("hostname")
        .output()
        .expect("hostname");
    let machine = String::from_utf8_lossy(&machine.stdout).trim().to_owned();
    let lock = site.deploy_to.join(".rfab-lock");
    std::fs::create_dir_all(&lock).expect("lock");
    // A pid above the kernel's limit: no process can have it.
    std::fs::write(
        lock.join("info"),
        format!("tester@{machine} pid 99999999 since 2026-11-26T06:00:00Z: deploy v3.0.0\n"),
    )
    .expect("info");
    site.rfab(&["prod", "deploy:stable"])
        .status(1)
        .stderr_regex(&first_line(&pattern(
            &format!("[{host}] Fatal error: another deploy holds the lock on {host}: tester@{machine} pid 99999999 since 2026-11-26T06:00:00Z: deploy v3.0.0 (stale: that rfab process is gone, and `current` may point at a release it never checked; deploy.unlock breaks the lock and puts back what was live before it); wait with --set lock_wait=SECONDS, or break it with the deploy.unlock task"),
            &[],
        )))
        .run();
    assert!(lock.exists(), "a stale lock was broken silently");
}

#[test]
fn shared_paths_are_linked_and_a_named_rollback_goes_there() {
    let site = site(
        1,
        r#"shared_dirs: ["storage/logs"], shared_files: ["opensky/config/parameters.ini"]"#,
    );
    site.rfab(&["prod", "deploy:v3.0.0"]).run();
    let first = site.releases().pop().expect("a release");
    std::fs::write(
        site.deploy_to.join("shared/opensky/config/parameters.ini"),
        "secret = 1\n",
    )
    .expect("shared file");
    site.rfab(&["prod", "deploy:v3.0.1"]).run();
    site.rfab(&["prod", "deploy:develop,force=true"]).run();
    let current = site.deploy_to.join("current");
    assert_eq!(
        std::fs::read_to_string(current.join("opensky/config/parameters.ini"))
            .expect("linked file"),
        "secret = 1\n"
    );
    assert!(
        std::fs::symlink_metadata(current.join("storage/logs"))
            .expect("linked dir")
            .file_type()
            .is_symlink()
    );
    site.rfab(&["prod", &format!("deploy.rollback:{first}")])
        .run();
    assert_eq!(site.live_tag(), "v3.0.0");
}

/// A deploy printed one ~1,500-character `run:` line per host: the recipe's internals. It
/// prints its steps in words; the commands are there under `--show debug`.
#[test]
fn a_deploy_prints_its_steps_in_words_and_its_commands_only_under_debug() {
    let site = site(1, "");
    let host = site.fleet.hosts[0].string();
    let ran = site.rfab(&["prod", "deploy:v3.0.0"]).run();
    let steps: Vec<&str> = ran
        .stdout
        .lines()
        .filter_map(|line| line.strip_prefix(&format!("[{host}] ")))
        .map(|line| line.split_once(": ").map_or(line, |(label, _)| label))
        .collect();
    assert_eq!(
        steps,
        ["Executing task 'deploy'", "put", "step", "release"],
        "{}",
        ran.stdout
    );
    assert_match(
        &format!("{}\n", ran.stdout.lines().nth(2).unwrap_or_default()),
        &format!(
            r"\[{}\] step: check the upload's sha256, unpack v3\.0\.0 into releases/v3\.0\.0-\d+, switch `current` to it",
            regex::escape(&host)
        ),
    );
    let ran = site
        .rfab(&["--show", "debug", "prod", "deploy:v3.0.1"])
        .run();
    assert!(
        ran.stdout
            .lines()
            .any(|line| line.starts_with(&format!("[{host}] run: {{ [ \"$(cat "))),
        "no command under --show debug:\n{}",
        ran.stdout
    );
}
