//! `rfab/project` on real sshd hosts: `rsync_project` over OpenSSH with rfab's SSH settings
//! (config, key, port, jump hosts, host key policy), and `upload_project` over rfab's own
//! connection.

use std::path::Path;

use crate::sshd::Fleet;
use crate::test::Test;

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn project(test: Test) -> Test {
    test.file("app/index.html", "<h1>it's</h1>\n")
        .file("app/it s.css", "excluded\n")
        .file("app/css/app.css", "body {}\n")
        .file("app/cache/x.pyc", "junk\n")
        .file("app/notes.tmp", "junk\n")
}

#[test]
fn rsync_project_sends_a_tree_with_excludes_and_delete() {
    let fleet = Fleet::start(1);
    let remote = fleet.dir.path().join("srv dir");
    std::fs::create_dir_all(remote.join("app")).expect("remote");
    std::fs::write(remote.join("app/stale.html"), "old\n").expect("stale");
    let test = project(fleet.test().fabfile(
        r#"
        import "rfab/project" as project;
        fn t() {
            let r = project::rsync_project(env.remote + "/", #{
                local_dir: "app", exclude: ["*.pyc", "*.tmp"], delete: true,
                extra_opts: "--exclude='it s.css'",
            });
            print(r.ok);
            project::rsync_project(env.remote + "/app/index.html", #{ local_dir: "back/", upload: false });
        }
        "#,
    ));
    let remote_arg = format!("remote={}", remote.display());
    let ran = test
        .args(&[
            "-H",
            &fleet.hosts[0].string(),
            "--set",
            &remote_arg,
            "--hide",
            "everything",
            "--show",
            "user",
            "t",
        ])
        .run();
    assert_eq!(ran.stdout, "true\n");
    assert_eq!(read(&remote.join("app/index.html")), "<h1>it's</h1>\n");
    assert_eq!(read(&remote.join("app/css/app.css")), "body {}\n");
    assert!(
        !remote.join("app/cache/x.pyc").exists(),
        "an excluded file was sent"
    );
    assert!(
        !remote.join("app/notes.tmp").exists(),
        "an excluded file was sent"
    );
    assert!(
        !remote.join("app/stale.html").exists(),
        "delete left a stale file"
    );
    assert!(
        !remote.join("app/it s.css").exists(),
        "extra_opts were not passed"
    );
    assert_eq!(
        read(&ran.dir.path().join("back/index.html")),
        "<h1>it's</h1>\n"
    );
}

#[test]
fn rsync_project_goes_through_the_jump_host_and_keeps_strict_host_keys() {
    let fleet = Fleet::start(2);
    let (jump, target) = (&fleet.hosts[0], &fleet.hosts[1]);
    let remote = fleet.dir.path().join("through");
    let test = project(fleet.test().fabfile(
        r#"
        import "rfab/project" as project;
        fn t() { project::rsync_project(env.remote, #{ local_dir: "app/css/" }); }
        "#,
    ));
    let remote_arg = format!("remote={}", remote.display());
    test.args(&[
        "-g",
        &jump.string(),
        "-H",
        &target.string(),
        "--set",
        &remote_arg,
        "--hide",
        "everything",
        "t",
    ])
    .run();
    assert_eq!(read(&remote.join("app.css")), "body {}\n");
    // rfab's own connection for the check, then ssh's for rsync: both through the jump.
    assert_eq!(jump.logins(), 2, "{}", jump.log());
}

#[test]
fn rsync_project_follows_known_hosts_off_and_writes_no_key() {
    let fleet = Fleet::start(1);
    // known_hosts vouches for no host: only `--known-hosts off` lets rfab, and ssh, in.
    std::fs::write(fleet.known_hosts(), "").expect("known_hosts");
    let remote = fleet.dir.path().join("unknown");
    let test = project(fleet.test().fabfile(
        r#"
        import "rfab/project" as project;
        fn t() { project::rsync_project(env.remote, #{ local_dir: "app/css/" }); }
        "#,
    ));
    let remote_arg = format!("remote={}", remote.display());
    test.args(&[
        "--known-hosts",
        "off",
        "-H",
        &fleet.hosts[0].string(),
        "--set",
        &remote_arg,
        "--hide",
        "everything",
        "t",
    ])
    .run();
    assert_eq!(read(&remote.join("app.css")), "body {}\n");
    assert_eq!(read(&fleet.known_hosts()), "", "a host key was written");
}

#[test]
fn rsync_project_says_which_side_lacks_rsync() {
    let fleet = Fleet::start(1);
    let host = fleet.hosts[0].string();
    let fabfile = r#"
        import "rfab/project" as project;
        fn t() { shell_env(#{ PATH: "/nonexistent" }, || project::rsync_project("/tmp/x", #{ local_dir: "app" })); }
    "#;
    project(fleet.test().fabfile(fabfile))
        .args(&["-H", &host, "t"])
        .status(1)
        .stderr_starts_with(&format!(
            "[{host}] Fatal error: rsync_project(): rsync is not installed on `{host}`; install it there, or use upload_project()"
        ))
        .run();
    let fabfile = r#"
        import "rfab/project" as project;
        fn t() { project::rsync_project("/tmp/x", #{ local_dir: "app" }); }
    "#;
    project(fleet.test().fabfile(fabfile))
        .env("PATH", "/nonexistent")
        .args(&["-H", &host, "t"])
        .status(1)
        .stderr_starts_with(&format!(
            "[{host}] Fatal error: rsync_project(): rsync is not installed on this machine; install it (apt-get install rsync), or use upload_project()"
        ))
        .run();
}

#[test]
fn upload_project_unpacks_the_directory_under_remote_dir() {
    let fleet = Fleet::start(1);
    let remote = fleet.dir.path().join("www it's");
    let test = project(fleet.test().fabfile(
        r#"
        import "rfab/project" as project;
        fn t() { print(project::upload_project(#{ local_dir: "app", remote_dir: env.remote })); }
        "#,
    ));
    std::os::unix::fs::symlink("index.html", test.path().join("app/link")).expect("link");
    let remote_arg = format!("remote={}", remote.display());
    let ran = test
        .args(&[
            "-H",
            &fleet.hosts[0].string(),
            "--set",
            &remote_arg,
            "--hide",
            "everything",
            "--show",
            "user",
            "t",
        ])
        .run();
    assert_eq!(ran.stdout, format!("{}/app\n", remote.display()));
    assert_eq!(read(&remote.join("app/index.html")), "<h1>it's</h1>\n");
    assert_eq!(read(&remote.join("app/cache/x.pyc")), "junk\n");
    assert_eq!(
        std::fs::read_link(remote.join("app/link")).expect("a link"),
        Path::new("index.html")
    );
}
