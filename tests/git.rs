//! `git::` against real repositories made with the git CLI: tags of every kind, the latest
//! stable one, refs, describe, archives, and a repository read by URL.

use std::path::Path;
use std::process::Command;

use crate::test::{FINGERPRINT, Test, pattern};

pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=Dev",
            "-c",
            "user.email=dev@example.com",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "tag.gpgSign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The demo fleet's app repository: v3.0.0 (annotated), v3.0.1
/// (lightweight), v3.1.0-rc.1, a tag that is not semver, and `develop` one commit past
/// v3.1.0-rc.1.
pub(crate) fn scenario_repo(dir: &Path) {
    rfab_fleet::repo::scenario(dir).expect("the scenario repository");
}

fn fabfile_test(body: &str) -> (Test, String) {
    let test = Test::new().fabfile(&format!("fn t() {{ {body} }}"));
    let repo = test.path().join("repo");
    scenario_repo(&repo);
    let path = repo.display().to_string();
    (test.args(&["--set", &format!("repo={path}"), "t"]), path)
}

#[test]
fn latest_stable_is_the_hotfix_not_the_release_candidate() {
    let (test, _) = fabfile_test(r#"print(git::latest_stable(env.repo));"#);
    test.stdout("v3.0.1\n\nDone.\n").run();
}

#[test]
fn tags_lists_every_tag_with_its_commit() {
    let (test, repo) =
        fabfile_test(r#"for tag in git::tags(env.repo) { print(`${tag.name} ${tag.commit}`); }"#);
    let ran = test.run();
    let commit = |r: &str| git(Path::new(&repo), &["rev-parse", &format!("{r}^{{commit}}")]);
    let want: Vec<String> = ["nightly", "v3.0.0", "v3.0.1", "v3.1.0-rc.1"]
        .iter()
        .map(|t| {
            format!(
                "{t} {}
",
                commit(t)
            )
        })
        .collect();
    let want = want.concat();
    assert_eq!(ran.stdout, format!("{want}\nDone.\n"));
}

#[test]
fn resolve_and_describe() {
    let (test, repo) = fabfile_test(
        r#"print(git::resolve(env.repo, "v3.0.0")); print(git::resolve(env.repo, "develop")); print(git::describe(env.repo, "develop"));"#,
    );
    let ran = test.run();
    let r = Path::new(&repo);
    let develop = git(r, &["rev-parse", "develop"]);
    let want = format!(
        "{}\n{develop}\nv3.1.0-rc.1-1-g{}\n\nDone.\n",
        git(r, &["rev-parse", "v3.0.0^{commit}"]),
        &develop[..7]
    );
    assert_eq!(ran.stdout, want);
}

#[test]
fn unknown_ref_and_missing_repository_are_clear() {
    let (test, _) = fabfile_test(r#"git::resolve(env.repo, "v9.9.9");"#);
    test.status(1)
        .stderr_starts_with(
            "Fatal error: `v9.9.9` is no tag, branch or commit of this repository\n",
        )
        .run();
    Test::new()
        .fabfile(r#"fn t() { git::tags("/nonexistent/repo"); }"#)
        .args(&["t"])
        .status(1)
        .stderr_starts_with("Fatal error: `/nonexistent/repo` is not a git repository: ")
        .run();
}

#[test]
fn no_stable_tag_is_an_error_listing_what_there_is() {
    let test = Test::new().fabfile(r#"fn t() { git::latest_stable(env.repo); }"#);
    let repo = test.path().join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    git(&repo, &["init", "-q"]);
    git(&repo, &["commit", "-q", "--allow-empty", "-m", "first"]);
    git(&repo, &["tag", "v1.0.0-beta.2"]);
    git(&repo, &["tag", "latest"]);
    let set = format!("repo={}", repo.display());
    test.args(&["--set", &set, "t"])
        .status(1)
        .stderr_starts_with(&format!(
            "Fatal error: no stable semver tag in `{}` (found: latest (not semver), v1.0.0-beta.2 (pre-release)); tag a release like `v1.0.0`\n",
            repo.display()
        ))
        .run();
}

#[test]
fn archive_matches_git_archive() {
    let (test, repo) = fabfile_test(r#"print(git::archive(env.repo, "v3.0.1", "out.tar.gz"));"#);
    let ran = test.run();
    let r = Path::new(&repo);
    assert_eq!(
        ran.stdout,
        format!("{}\n\nDone.\n", git(r, &["rev-parse", "v3.0.1^{commit}"]))
    );
    let ours = ran.dir.path().join("out.tar.gz");
    let theirs = ran.dir.path().join("theirs.tar");
    git(
        r,
        &[
            "archive",
            "--format=tar",
            "-o",
            &theirs.display().to_string(),
            "v3.0.1",
        ],
    );
    let list = |args: &[&str], file: &Path| {
        let out = Command::new("tar")
            .args(args)
            .arg(file)
            .output()
            .expect("tar");
        let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(String::from)
            .collect();
        names.sort();
        names
    };
    assert_eq!(list(&["-tzf"], &ours), list(&["-tf"], &theirs));
    let listing = list(&["-tvzf"], &ours).join("\n");
    assert!(
        listing.contains("-rwxrwxr-x") && listing.contains("run.sh"),
        "{listing}"
    );
    assert!(
        !listing.contains("tests/") && !listing.contains("keys.secret"),
        "export-ignore was not honoured:\n{listing}"
    );
}

#[test]
fn a_repository_by_url_without_cloning() {
    let (test, repo) = fabfile_test(
        r#"let url = "file://" + env.repo; print(git::latest_stable(url)); print(git::resolve(url, "v3.0.0")); print(git::tags(url).len());"#,
    );
    let ran = test.run();
    let commit = git(Path::new(&repo), &["rev-parse", "v3.0.0^{commit}"]);
    assert_eq!(ran.stdout, format!("v3.0.1\n{commit}\n4\n\nDone.\n"));
}

#[test]
fn a_repository_over_ssh_with_the_same_host_key_rules() {
    let fleet = crate::sshd::Fleet::start(1);
    let repo = fleet.dir.path().join("opensky");
    scenario_repo(&repo);
    let host = &fleet.hosts[0];
    let url = format!(
        "url=ssh://root@{}:{}{}",
        host.address,
        host.port,
        repo.display()
    );
    let fabfile =
        r#"fn t() { print(git::latest_stable(env.url)); print(git::tags(env.url).len()); }"#;
    fleet
        .test()
        .fabfile(fabfile)
        .args(&["--set", &url, "t"])
        .stdout("v3.0.1\n4\n\nDone.\n")
        .run();
    std::fs::write(fleet.known_hosts(), "").expect("empty known_hosts");
    fleet
        .test()
        .fabfile(fabfile)
        .args(&["--set", &url, "t"])
        .status(1)
        .stderr_regex(&pattern(
            &format!(
                "
                Fatal error: cannot list the refs of `{}`: the host key of `{}` is not known: <FINGERPRINT>; add it to known_hosts, or run with --known-hosts accept-new

                Aborting.
                ",
                &url["url=".len()..],
                host.address
            ),
            &[FINGERPRINT],
        ))
        .run();
}

#[test]
fn a_repository_server_that_never_answers_is_given_up_on() {
    // Accepts connections (the kernel does) and never says a word.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
    let url = format!(
        "http://127.0.0.1:{}/app.git",
        silent.local_addr().expect("address").port()
    );
    let test = Test::new()
        .fabfile(&format!(r#"fn t() {{ git::tags("{url}"); }}"#))
        .args(&["--keepalive", "2", "t"]);
    let mut rfab = test
        .command()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("rfab");
    let _stop = crate::signals::Cleanup(vec![rfab.id()]);
    let code = crate::signals::wait_for_exit(&mut rfab);
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut rfab.stderr.take().expect("stderr"), &mut stderr)
        .expect("stderr");
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!("cannot list the refs of `{url}`")),
        "{stderr}"
    );
}
