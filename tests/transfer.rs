//! `put` and `get` against real sshd hosts: integrity, atomic replacement, directories,
//! sudo, `{host}` and `{host_string}` paths.

use std::path::Path;
use std::process::Command;

use crate::sshd::Fleet;

fn sha256(path: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn put_and_get_keep_64_mib_intact() {
    let fleet = Fleet::start(1);
    let test = fleet.test().fabfile(
        r#"
        fn t() {
            put("big.bin", env.remote);
            get(env.remote, "back/{host_string}.bin");
        }
        "#,
    );
    let big = test.path().join("big.bin");
    let status = Command::new("head")
        .args(["-c", "67108864", "/dev/urandom"])
        .stdout(std::fs::File::create(&big).expect("create"))
        .status();
    assert!(status.expect("head").success());
    let remote = fleet.dir.path().join("remote/dir/big.bin");
    let host = fleet.hosts[0].string();
    let back = test.path().join(format!("back/{host}.bin"));
    let remote_arg = format!("remote={}", remote.display());
    let _ran = test
        .args(&["-H", &host, "--set", &remote_arg, "--hide", "status", "t"])
        .run();
    let want = sha256(&big);
    assert_eq!(sha256(&remote), want, "uploaded copy differs");
    assert_eq!(sha256(&back), want, "downloaded copy differs");
}

#[test]
fn put_replaces_atomically_and_keeps_the_mode() {
    let fleet = Fleet::start(1);
    let dest = fleet.dir.path().join("deploy.sh");
    std::fs::write(&dest, "old\n").expect("old file");
    let test = fleet
        .test()
        .fabfile(r#"fn t() { print(put("deploy.sh", env.dest)); }"#)
        .file("deploy.sh", "#!/bin/sh\necho new\n");
    let local = test.path().join("deploy.sh");
    Command::new("chmod")
        .args(["755"])
        .arg(&local)
        .status()
        .expect("chmod");
    let dest_arg = format!("dest={}", dest.display());
    let ran = test
        .args(&[
            "-H",
            &fleet.hosts[0].string(),
            "--set",
            &dest_arg,
            "--hide",
            "everything",
            "--show",
            "user",
            "t",
        ])
        .run();
    assert_eq!(ran.stdout, format!("[\"{}\"]\n", dest.display()));
    assert_eq!(
        std::fs::read_to_string(&dest).expect("dest"),
        "#!/bin/sh\necho new\n"
    );
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&dest).expect("meta").permissions(),
    );
    assert_eq!(mode & 0o777, 0o755);
    let leftovers: Vec<_> = std::fs::read_dir(fleet.dir.path())
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".rfab-"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temp files left behind: {leftovers:?}"
    );
}

#[test]
fn put_uploads_a_directory_tree() {
    let fleet = Fleet::start(1);
    let test = fleet
        .test()
        .fabfile(r#"fn t() { let placed = put("site", env.dest); print(placed.len()); }"#)
        .file("site/index.html", "<h1>hi</h1>\n")
        .file("site/css/app.css", "body {}\n")
        .file("site/js/deep/app.js", "1;\n");
    let dest = fleet.dir.path().join("www");
    let dest_arg = format!("dest={}", dest.display());
    let ran = test
        .args(&[
            "-H",
            &fleet.hosts[0].string(),
            "--set",
            &dest_arg,
            "--hide",
            "everything",
            "--show",
            "user",
            "t",
        ])
        .run();
    assert_eq!(ran.stdout, "3\n");
    assert_eq!(
        std::fs::read_to_string(dest.join("js/deep/app.js")).expect("nested file"),
        "1;\n"
    );
    assert_eq!(
        std::fs::read_to_string(dest.join("css/app.css")).expect("file"),
        "body {}\n"
    );
}

#[test]
fn put_to_a_root_owned_path_with_use_sudo_and_mode() {
    let fleet = Fleet::start(1);
    let dest = fleet.dir.path().join("etc/app.conf");
    let test = fleet
        .test()
        .fabfile(r#"fn t() { put("app.conf", env.dest, #{ use_sudo: true, mode: "640" }); }"#)
        .file("app.conf", "port = 80\n");
    let dest_arg = format!("dest={}", dest.display());
    test.args(&[
        "-H",
        &fleet.hosts[0].string(),
        "--set",
        &dest_arg,
        "--hide",
        "everything",
        "t",
    ])
    .run();
    assert_eq!(std::fs::read_to_string(&dest).expect("dest"), "port = 80\n");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&dest).expect("meta").permissions(),
    );
    assert_eq!(mode & 0o777, 0o640);
}

#[test]
fn get_of_a_missing_file_fails_and_leaves_nothing() {
    let fleet = Fleet::start(1);
    let test = fleet
        .test()
        .fabfile(r#"fn t() { get("/nonexistent/file", "out.txt"); }"#);
    let out = test.path().join("out.txt");
    let host = fleet.hosts[0].string();
    test.args(&["-H", &host, "t"])
        .status(1)
        .stderr_starts_with(&format!("[{host}] Fatal error: get(): cannot read `/nonexistent/file` (exit status 1): cat: /nonexistent/file: No such file or directory"))
        .run();
    assert!(!out.exists());
}

#[test]
fn put_onto_a_directory_fails_and_leaves_nothing_inside() {
    // Regression (review finding 5): `mv -f` moved the temp file into the directory.
    let fleet = Fleet::start(1);
    let dir = fleet.dir.path().join("config");
    std::fs::create_dir_all(&dir).expect("dir");
    let test = fleet
        .test()
        .fabfile(r#"fn t() { put("app.conf", env.dest); }"#)
        .file("app.conf", "x = 1\n");
    let dest = format!("dest={}", dir.display());
    test.args(&["-H", &fleet.hosts[0].string(), "--set", &dest, "t"])
        .status(1)
        .run();
    assert_eq!(
        std::fs::read_dir(&dir).expect("dir").count(),
        0,
        "something was left in the directory"
    );
}

#[test]
fn tilde_paths_are_the_login_users_home() {
    // Regression (review finding 6): `~/...` was quoted, so the shell never expanded it.
    crate::sshd::ensure_sudo_user();
    let fleet = Fleet::start(1);
    let host = format!(
        "{}@{}:{}",
        crate::sshd::SUDO_USER,
        fleet.hosts[0].address,
        fleet.hosts[0].port
    );
    let name = format!("rfab-tilde-{}", std::process::id());
    let test = fleet.test().fabfile(&format!(r#"fn t() {{ put("f.txt", "~/{name}/f.txt"); get("~/{name}/f.txt", "back.txt"); run("rm -rf ~/{name}"); }}"#)).file("f.txt", "home\n");
    let ran = test.args(&["-H", &host, "--hide", "everything", "t"]).run();
    assert_eq!(
        std::fs::read_to_string(ran.dir.path().join("back.txt")).expect("back"),
        "home\n"
    );
}
