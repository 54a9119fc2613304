//! The root fabfile's `hotfix.start:VERSION` and `hotfix.finish` on real repositories: a
//! bare `origin` and a clone of it, as a developer has them, with the example inventory's
//! settings (`config/version.ini`, `main`, `develop`, `hotfix/`, `origin`).

use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::git::git;
use crate::test::{Test, pattern};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fabfile.rhai");

/// A short commit id in a step's line.
const SHORT: (&str, &str) = ("<ID>", "[0-9a-f]{7}");

/// The app's repository: `origin.git` (bare) and `work`, a clone of it on `main`. Main is
/// `v3.0.0` (annotated) with the bug in `app.txt`; develop is past it, at `3.1.0-dev` with
/// a feature and the tag `v3.1.0-rc.1`. `work` has its own git identity and no local
/// `develop`, as after a fresh clone.
struct App {
    dir: TempDir,
    origin: PathBuf,
    work: PathBuf,
}

impl App {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let origin = dir.path().join("origin.git");
        let work = dir.path().join("work");
        std::fs::create_dir(&work).expect("mkdir");
        git(dir.path(), &["init", "-q", "--bare", "origin.git"]);
        git(&work, &["clone", "-q", &origin.display().to_string(), "."]);
        git(&work, &["config", "user.name", "Dev"]);
        git(&work, &["config", "user.email", "dev@example.com"]);
        let app = Self { dir, origin, work };
        app.write("config/version.ini", "[parameters]\napp.version = 3.0.0\n");
        app.write("app.txt", "the bug\n");
        app.commit("Release 3.0.0");
        app.git(&["tag", "-a", "v3.0.0", "-m", "3.0.0"]);
        app.git(&["checkout", "-q", "-b", "develop"]);
        app.write(
            "config/version.ini",
            "[parameters]\napp.version = 3.1.0-dev\n",
        );
        app.write("feature.txt", "a feature\n");
        app.commit("A feature");
        app.git(&["tag", "-a", "v3.1.0-rc.1", "-m", "rc"]);
        app.git(&["push", "-q", "origin", "main", "develop", "--tags"]);
        app.git(&["checkout", "-q", "main"]);
        app.git(&["branch", "-q", "-D", "develop"]);
        app
    }

    fn git(&self, args: &[&str]) -> String {
        git(&self.work, args)
    }

    fn write(&self, path: &str, text: &str) {
        let path = self.work.join(path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    fn commit(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
    }

    /// `rfab ARGS` with the root fabfile, in `work`; HOME is the test's directory, so no
    /// git identity comes from anywhere but `work`'s own config.
    fn rfab(&self, args: &[&str]) -> Test {
        let home = self.dir.path().display().to_string();
        Test::new()
            .in_dir(&self.work)
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", &home)
            .args(&["-f", ROOT])
            .args(args)
    }

    /// Every ref of `origin`, as `git for-each-ref` lists them.
    fn origin_refs(&self) -> String {
        git(&self.origin, &["for-each-ref"])
    }

    /// Every ref of `work`, and what HEAD is.
    fn work_refs(&self) -> String {
        format!(
            "{}\nHEAD: {}",
            self.git(&["for-each-ref"]),
            self.git(&["symbolic-ref", "HEAD"])
        )
    }

    fn origin_has(&self, reference: &str) -> bool {
        git(
            &self.origin,
            &["for-each-ref", "--format=%(refname)", reference],
        ) == reference
    }

    fn start(&self) {
        self.rfab(&["hotfix.start:3.0.1"]).run();
        self.write("app.txt", "fixed\n");
        self.commit("Fix the bug");
    }
}

#[test]
fn hotfix_start_commit_finish_tags_merges_and_pushes() {
    let app = App::new();
    let main_before = app.git(&["rev-parse", "origin/main"]);
    let develop_before = app.git(&["rev-parse", "origin/develop"]);
    app.rfab(&["hotfix.start:3.0.1"])
        .stdout_regex(&pattern(
            "
            hotfix 3.0.1: fetched origin
            hotfix 3.0.1: created hotfix/3.0.1 from origin/main (<ID>)
            hotfix 3.0.1: config/version.ini: 3.0.0 -> 3.0.1
            hotfix 3.0.1: committed \"Bump version to 3.0.1\" (<ID>)
            hotfix 3.0.1: on hotfix/3.0.1: commit the fix, then run `rfab hotfix.finish`

            Done.
            ",
            &[SHORT],
        ))
        .run();
    assert_eq!(
        app.git(&["symbolic-ref", "--short", "HEAD"]),
        "hotfix/3.0.1"
    );
    assert_eq!(app.git(&["rev-parse", "HEAD~1"]), main_before);
    assert_eq!(
        app.git(&["log", "-1", "--format=%s %an"]),
        "Bump version to 3.0.1 Dev"
    );
    assert_eq!(
        std::fs::read_to_string(app.work.join("config/version.ini")).expect("version.ini"),
        "[parameters]\napp.version = 3.0.1\n"
    );
    app.write("app.txt", "fixed\n");
    app.commit("Fix the bug");
    let fix = app.git(&["rev-parse", "HEAD"]);

    app.rfab(&["hotfix.finish"])
        .stdout_regex(&pattern(
            "
            hotfix 3.0.1: fetched origin
            hotfix 3.0.1: merged hotfix/3.0.1 into main (<ID>)
            hotfix 3.0.1: tagged <ID> as v3.0.1
            hotfix 3.0.1: merged hotfix/3.0.1 into develop (<ID>), keeping its own config/version.ini
            hotfix 3.0.1: pushed main, develop and v3.0.1 to origin
            hotfix 3.0.1: deleted hotfix/3.0.1; now on develop

            Done.
            ",
            &[SHORT],
        ))
        .run();
    let origin = |args: &[&str]| git(&app.origin, args);
    // main: a merge commit of the old main and the fix (no fast-forward), tagged.
    assert_eq!(
        origin(&["rev-parse", "main^1", "main^2"]),
        format!("{main_before}\n{fix}")
    );
    assert_eq!(
        origin(&["log", "-1", "--format=%s", "main"]),
        "Merge branch 'hotfix/3.0.1'"
    );
    assert_eq!(origin(&["cat-file", "-t", "v3.0.1"]), "tag");
    assert_eq!(
        origin(&["rev-parse", "v3.0.1^{commit}"]),
        origin(&["rev-parse", "main"])
    );
    assert_eq!(
        origin(&["show", "main:config/version.ini"]),
        "[parameters]\napp.version = 3.0.1"
    );
    // develop: the fix merged in, its own version kept.
    assert_eq!(
        origin(&["rev-parse", "develop^1", "develop^2"]),
        format!("{develop_before}\n{fix}")
    );
    assert_eq!(
        origin(&["log", "-1", "--format=%s", "develop"]),
        "Merge branch 'hotfix/3.0.1' into develop"
    );
    assert_eq!(
        origin(&["show", "develop:config/version.ini"]),
        "[parameters]\napp.version = 3.1.0-dev"
    );
    assert_eq!(origin(&["show", "develop:app.txt"]), "fixed");
    assert_eq!(origin(&["show", "develop:feature.txt"]), "a feature");
    // Pushed: exactly main, develop and the tags; the hotfix branch is gone everywhere.
    assert_eq!(
        origin(&["for-each-ref", "--format=%(refname)"]),
        "refs/heads/develop\nrefs/heads/main\nrefs/tags/v3.0.0\nrefs/tags/v3.0.1\nrefs/tags/v3.1.0-rc.1"
    );
    assert_eq!(
        app.git(&[
            "for-each-ref",
            "--format=%(refname) %(objectname)",
            "refs/heads",
            "refs/tags/v3.0.1"
        ]),
        format!(
            "refs/heads/develop {}\nrefs/heads/main {}\nrefs/tags/v3.0.1 {}",
            origin(&["rev-parse", "develop"]),
            origin(&["rev-parse", "main"]),
            origin(&["rev-parse", "v3.0.1"])
        )
    );
    assert_eq!(app.git(&["symbolic-ref", "--short", "HEAD"]), "develop");
    assert_eq!(app.git(&["status", "--porcelain"]), "");
}

#[test]
fn hotfix_finish_deletes_the_hotfix_branch_pushed_for_review() {
    let app = App::new();
    app.start();
    app.git(&["push", "-q", "origin", "hotfix/3.0.1"]);
    app.rfab(&["hotfix.finish"])
        .stdout_regex(&pattern(
            "
            hotfix 3.0.1: fetched origin
            hotfix 3.0.1: merged hotfix/3.0.1 into main (<ID>)
            hotfix 3.0.1: tagged <ID> as v3.0.1
            hotfix 3.0.1: merged hotfix/3.0.1 into develop (<ID>), keeping its own config/version.ini
            hotfix 3.0.1: pushed main, develop and v3.0.1 to origin
            hotfix 3.0.1: deleted hotfix/3.0.1 on origin
            hotfix 3.0.1: deleted hotfix/3.0.1; now on develop

            Done.
            ",
            &[SHORT],
        ))
        .run();
    assert!(!app.origin_has("refs/heads/hotfix/3.0.1"));
    assert!(app.origin_has("refs/tags/v3.0.1"));
}

#[test]
fn hotfix_finish_stops_on_a_conflict_outside_the_version_files_with_nothing_pushed() {
    let app = App::new();
    // develop changed the buggy line its own way.
    app.git(&["checkout", "-q", "develop"]);
    app.write("app.txt", "rewritten on develop\n");
    app.commit("Rewrite app.txt");
    app.git(&["push", "-q", "origin", "develop"]);
    app.git(&["checkout", "-q", "main"]);
    app.start();
    let (origin, work) = (app.origin_refs(), app.work_refs());
    app.rfab(&["hotfix.finish"])
        .status(1)
        .stdout("hotfix 3.0.1: fetched origin\n")
        .stderr(
            "Fatal error: merging `hotfix/3.0.1` into `develop` conflicts in app.txt: nothing was changed or pushed; merge it by hand, or resolve the conflict on `hotfix/3.0.1` first\n\nAborting.\n",
        )
        .run();
    assert_eq!(app.origin_refs(), origin);
    assert_eq!(app.work_refs(), work);
    assert_eq!(app.git(&["status", "--porcelain"]), "");
}

#[test]
fn hotfix_start_refuses_a_dirty_tree_but_not_untracked_files() {
    let app = App::new();
    let (origin, work) = (app.origin_refs(), app.work_refs());
    app.write("app.txt", "half a fix\n");
    app.write("notes.txt", "untracked\n");
    let dir = app.work.display().to_string();
    app.rfab(&["hotfix.start:3.0.1"])
        .status(1)
        .stdout("")
        .stderr(&format!(
            "Fatal error: `{dir}` has uncommitted changes (app.txt): commit or stash them first\n\nAborting.\n"
        ))
        .run();
    app.git(&["add", "app.txt"]);
    app.rfab(&["hotfix.start:3.0.1"])
        .status(1)
        .stderr(&format!(
            "Fatal error: `{dir}` has uncommitted changes (app.txt): commit or stash them first\n\nAborting.\n"
        ))
        .run();
    assert_eq!((app.origin_refs(), app.work_refs()), (origin, work));
    app.git(&["reset", "-q", "--hard"]);
    app.rfab(&["hotfix.start:3.0.1"]).run();
    assert!(app.work.join("notes.txt").is_file());
}

#[test]
fn hotfix_start_refuses_a_tag_that_exists_on_origin() {
    let app = App::new();
    // Someone else released 3.0.1: the tag is on origin, not here yet.
    git(&app.origin, &["tag", "v3.0.1", "main"]);
    let dir = app.work.display().to_string();
    app.rfab(&["hotfix.start:3.0.1"])
        .status(1)
        .stdout("hotfix 3.0.1: fetched origin\n")
        .stderr(&format!(
            "Fatal error: the tag `v3.0.1` already exists in `{dir}` (or on its remote): choose the next version\n\nAborting.\n"
        ))
        .run();
    assert_eq!(app.git(&["symbolic-ref", "--short", "HEAD"]), "main");
    assert_eq!(app.git(&["branch", "--list", "hotfix/*"]), "");
}

#[test]
fn hotfix_start_refuses_a_version_not_above_the_latest_stable_tag() {
    let app = App::new();
    for (version, why) in [
        ("2.9.9", "it is not above the latest stable tag `v3.0.0`"),
        ("3.0", "it is not semver (like `3.0.1`)"),
        (
            "3.0.1-rc.1",
            "a pre-release is not a hotfix; give a release like `3.0.1`",
        ),
    ] {
        let fetched = if why.starts_with("it is not above") {
            "hotfix <V>: fetched origin\n".replace("<V>", version)
        } else {
            String::new()
        };
        app.rfab(&[&format!("hotfix.start:{version}")])
            .status(1)
            .stdout(&fetched)
            .stderr(&format!(
                "Fatal error: `{version}` is no hotfix version: {why}\n\nAborting.\n"
            ))
            .run();
    }
    assert_eq!(app.git(&["branch", "--list", "hotfix/*"]), "");
}

#[test]
fn hotfix_finish_refuses_outside_a_hotfix_branch() {
    let app = App::new();
    let dir = app.work.display().to_string();
    app.rfab(&["hotfix.finish"])
        .status(1)
        .stdout("")
        .stderr(&format!(
            "Fatal error: `{dir}` is on `main`, not on a hotfix branch (`hotfix/VERSION`): check out the hotfix branch to finish\n\nAborting.\n"
        ))
        .run();
}

#[test]
fn hotfix_start_needs_a_git_identity() {
    let app = App::new();
    app.git(&["config", "--unset", "user.name"]);
    app.git(&["config", "--unset", "user.email"]);
    let dir = app.work.display().to_string();
    app.rfab(&["hotfix.start:3.0.1"])
        .status(1)
        .stdout("")
        .stderr_regex(&pattern(
            &format!("Fatal error: no git identity in `{dir}` (<WHY>): set one with `git config user.name NAME` and `git config user.email EMAIL`\n\nAborting.\n"),
            &[("<WHY>", "[^)]+")],
        ))
        .run();
}

/// Locks `reference` in origin as a concurrent push would, so origin refuses to move it.
fn lock(origin: &Path, reference: &str) {
    let path = origin.join(format!("{reference}.lock"));
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(path, "").expect("lock");
}

#[test]
fn hotfix_finish_refused_by_origin_leaves_the_repository_as_it_was() {
    let app = App::new();
    app.start();
    let (origin, work) = (app.origin_refs(), app.work_refs());
    for reference in ["refs/heads/main", "refs/heads/develop", "refs/tags/v3.0.1"] {
        lock(&app.origin, reference);
    }
    let dir = app.work.display().to_string();
    let url = app.origin.display().to_string();
    app.rfab(&["hotfix.finish"])
        .status(1)
        .stdout_regex(&pattern(
            "
            hotfix 3.0.1: fetched origin
            hotfix 3.0.1: merged hotfix/3.0.1 into main (<ID>)
            hotfix 3.0.1: tagged <ID> as v3.0.1
            hotfix 3.0.1: merged hotfix/3.0.1 into develop (<ID>), keeping its own config/version.ini
            ",
            &[SHORT],
        ))
        .stderr_regex(&pattern(
            &format!("Fatal error: cannot push to `origin` ({url}): main: <WHY>, develop: <WHY>, v3.0.1: <WHY>; nothing was pushed and `{dir}` is as it was: fix that, then run this again\n\nAborting.\n"),
            &[("<WHY>", "[^,]*lock[^,]*")],
        ))
        .run();
    assert_eq!(app.origin_refs(), origin);
    assert_eq!(app.work_refs(), work);
    assert_eq!(app.git(&["for-each-ref", "refs/rfab"]), "");
}

#[test]
fn hotfix_finish_partly_refused_says_what_is_left() {
    let app = App::new();
    app.start();
    let develop_before = git(&app.origin, &["rev-parse", "develop"]);
    lock(&app.origin, "refs/heads/develop");
    let dir = app.work.display().to_string();
    app.rfab(&["hotfix.finish"])
        .status(1)
        .stderr_regex(&pattern(
            &format!("Fatal error: the push to `origin` was partly refused (develop: <WHY>); pushed: main, v3.0.1; left to do in `{dir}`: git push origin develop; git checkout develop; git branch -D hotfix/3.0.1\n\nAborting.\n"),
            &[("<WHY>", "[^)]*lock[^)]*")],
        ))
        .run();
    // What origin took is recorded here; develop is merged here, waiting to be pushed.
    assert!(app.origin_has("refs/tags/v3.0.1"));
    assert_eq!(git(&app.origin, &["rev-parse", "develop"]), develop_before);
    assert_eq!(
        app.git(&["rev-parse", "main", "v3.0.1"]),
        git(&app.origin, &["rev-parse", "main", "v3.0.1"])
    );
    assert_eq!(app.git(&["rev-parse", "develop^1"]), develop_before);
    // Doing what it says finishes the hotfix.
    std::fs::remove_file(app.origin.join("refs/heads/develop.lock")).expect("unlock");
    app.git(&["push", "-q", "origin", "develop"]);
    app.git(&["checkout", "-q", "develop"]);
    app.git(&["branch", "-q", "-D", "hotfix/3.0.1"]);
    assert_eq!(
        git(&app.origin, &["show", "develop:config/version.ini"]),
        "[parameters]\napp.version = 3.1.0-dev"
    );
}

#[test]
fn hotfix_over_ssh_with_rfabs_logins_and_host_key_rules() {
    let app = App::new();
    let fleet = crate::sshd::Fleet::start(1);
    let host = &fleet.hosts[0];
    let url = format!(
        "ssh://root@{}:{}{}",
        host.address,
        host.port,
        app.origin.display()
    );
    app.git(&["remote", "set-url", "origin", &url]);
    let rfab = |args: &[&str]| {
        fleet
            .test()
            .in_dir(&app.work)
            .args(&["-f", ROOT])
            .args(args)
    };
    rfab(&["hotfix.start:3.0.1"]).run();
    app.write("app.txt", "fixed\n");
    app.commit("Fix the bug");
    rfab(&["hotfix.finish"])
        .stdout_regex(&pattern(
            "
            hotfix 3.0.1: fetched origin
            hotfix 3.0.1: merged hotfix/3.0.1 into main (<ID>)
            hotfix 3.0.1: tagged <ID> as v3.0.1
            hotfix 3.0.1: merged hotfix/3.0.1 into develop (<ID>), keeping its own config/version.ini
            hotfix 3.0.1: pushed main, develop and v3.0.1 to origin
            hotfix 3.0.1: deleted hotfix/3.0.1; now on develop

            Done.
            ",
            &[SHORT],
        ))
        .run();
    assert_eq!(
        git(&app.origin, &["rev-parse", "main", "v3.0.1^{commit}"]),
        app.git(&["rev-parse", "main", "main"])
    );
    // An unknown host key stops it before anything changes, as it stops `run()`.
    std::fs::write(fleet.known_hosts(), "").expect("empty known_hosts");
    let (origin, work) = (app.origin_refs(), app.work_refs());
    let dir = app.work.display().to_string();
    rfab(&["hotfix.start:3.0.2"])
        .status(1)
        .stderr_regex(&pattern(
            &format!(
                "Fatal error: cannot fetch `origin` ({url}) into `{dir}`: the host key of `{}` is not known: <FINGERPRINT>; add it to known_hosts, or run with --known-hosts accept-new\n\nAborting.\n",
                host.address
            ),
            &[crate::test::FINGERPRINT],
        ))
        .run();
    assert_eq!((app.origin_refs(), app.work_refs()), (origin, work));
}

#[test]
fn hotfix_finish_stops_before_pushing_when_a_file_is_in_develops_way() {
    let app = App::new();
    app.start();
    // Untracked here, tracked on develop: checking develop out would overwrite it.
    app.write("feature.txt", "my own notes\n");
    let (origin, work) = (app.origin_refs(), app.work_refs());
    let dir = app.work.display().to_string();
    app.rfab(&["hotfix.finish"])
        .status(1)
        .stderr(&format!("Fatal error: untracked files in `{dir}` are where `develop` has files (feature.txt): move them away, then run this again (nothing was changed or pushed)\n\nAborting.\n"))
        .run();
    assert_eq!((app.origin_refs(), app.work_refs()), (origin, work));
    assert_eq!(
        std::fs::read_to_string(app.work.join("feature.txt")).expect("feature.txt"),
        "my own notes\n"
    );
}

#[test]
fn hotfix_under_dry_run_says_what_it_would_do_and_changes_nothing() {
    let app = App::new();
    app.start();
    let (origin, work) = (app.origin_refs(), app.work_refs());
    app.rfab(&["--dry-run", "hotfix.start:3.0.2", "hotfix.finish"])
        .stdout(
            "
            dry run: hotfix 3.0.2: would fetch origin, create hotfix/3.0.2 from origin/main with config/version.ini bumped to 3.0.2, and check it out
            dry run: hotfix: would fetch origin, merge the hotfix branch into main and tag it, merge it into develop, push them to origin, and delete the hotfix branch

            Done.
            ",
        )
        .run();
    assert_eq!((app.origin_refs(), app.work_refs()), (origin, work));
}
