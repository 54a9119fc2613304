//! `rfab port`: the Fabric fabfiles of `tests/port/` converted as committed in each case's
//! `expected/` (`RFAB_BLESS=1` rewrites them), listed, loaded, and run on sshd hosts with
//! the commands Fabric sends.

use std::path::Path;

use crate::sshd::Fleet;
use crate::test::{Ran, Test};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/port");

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read the corpus") {
        let entry = entry.expect("entry");
        let name = entry.file_name();
        if name == "expected" || entry.path().extension().is_some_and(|e| e == "rhai") {
            continue;
        }
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &to.join(&name));
        } else {
            std::fs::copy(entry.path(), to.join(&name)).expect("copy");
        }
    }
}

/// A test whose directory holds a copy of the corpus case `name`.
fn case(name: &str) -> Test {
    let test = Test::new();
    copy_dir(&Path::new(CORPUS).join(name), test.path());
    test
}

/// Ports the case's `entry` into `out/`, checks the report and each file against the
/// case's `expected/`, and returns the run (whose directory holds the port).
fn port(name: &str, entry: &str, status: i32) -> Ran {
    let expected = Path::new(CORPUS).join(name).join("expected");
    let ran = case(name)
        .args(&["port", entry, "-o", "out/fabfile.rhai"])
        .status(status)
        .stdout_file(&format!("tests/port/{name}/expected/report.txt"))
        .run();
    for entry in std::fs::read_dir(ran.dir.path().join("out")).expect("the port's files") {
        let path = entry.expect("entry").path();
        let got = std::fs::read_to_string(&path).expect("read the port");
        let want_path = expected.join(path.file_name().expect("a name"));
        if std::env::var_os("RFAB_BLESS").is_some_and(|v| v == "1") {
            std::fs::write(&want_path, &got).expect("bless");
            continue;
        }
        let want = std::fs::read_to_string(&want_path).unwrap_or_default();
        assert!(
            got == want,
            "{} differs from {} (RFAB_BLESS=1 cargo test rewrites it):\n{got}",
            path.display(),
            want_path.display()
        );
    }
    ran
}

/// The `[host] run:`, `sudo:` and `local:` lines of a run, in order: the commands sent.
fn commands(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| {
            [": run: ", ": sudo: ", ": local: "]
                .iter()
                .any(|k| l.replacen("] ", ": ", 1).contains(k))
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn port_converts_a_python2_classic_fabfile_and_its_module() {
    let ran = port("classic_py2", "fabfile.py", 0);
    Test::new()
        .in_dir(ran.dir.path())
        .args(&["-f", "out/fabfile.rhai", "--list"])
        .stdout_file("tests/port/classic_py2/expected/list.txt")
        .run();
}

#[test]
fn port_of_a_python2_fabfile_runs_the_same_commands_on_sshd_hosts() {
    let fleet = Fleet::start_with_own_srv(2);
    let ran = port("classic_py2", "fabfile.py", 0);
    let run = fleet
        .test()
        .in_dir(ran.dir.path())
        .args(&[
            "-f",
            "out/fabfile.rhai",
            "-H",
            &fleet.host_list(),
            "deploy:v1",
            "deploy:v2",
            "status",
        ])
        .run();
    // Fabric runs each task word on every host before the next word; `execute(build)`
    // runs `build` (a `local`) once per host of the host list.
    let mut want = Vec::new();
    for release in ["v1", "v2"] {
        for host in &fleet.hosts {
            let h = host.string();
            want.extend(
                fleet
                    .hosts
                    .iter()
                    .map(|_| format!("[localhost] local: echo building {release}")),
            );
            want.extend([
                format!("[{h}] run: mkdir -p /srv/billing/releases /srv/billing/shared"),
                format!("[{h}] run: touch VERSION"),
                format!("[{h}] run: chmod 0644 VERSION"),
                format!("[{h}] sudo: test -d /srv/billing/shared"),
                format!("[{h}] run: mkdir -p /srv/billing/releases/{release}"),
                format!("[{h}] run: echo $RELEASE > REVISION"),
                format!("[{h}] run: test -d /srv/billing/current"),
                format!("[{h}] run: ln -sfn /srv/billing/releases/{release} /srv/billing/current"),
                format!("[{h}] run: ls -1t"),
            ]);
        }
    }
    assert_eq!(commands(&run.stdout), want, "{}", run.stdout);
    for host in &fleet.hosts {
        let address = &host.address;
        assert!(
            run.stdout
                .contains(&format!("first release on {address}\n")),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout.contains(&format!("live on {address}: v2\n")),
            "{}",
            run.stdout
        );
    }
}

#[test]
fn port_converts_a_python3_new_style_fabfile_with_contrib_and_helpers() {
    // expected/list.txt is written by the first run after the merge (RFAB_BLESS=1).
    let ran = port("newstyle_py3", ".", 0);
    Test::new()
        .in_dir(ran.dir.path())
        .args(&["-f", "out/fabfile.rhai", "--list"])
        .stdout_file("tests/port/newstyle_py3/expected/list.txt")
        .run();
}

#[test]
fn port_converts_a_fabfile_package_into_namespaces() {
    let ran = port("package", "fabfile", 0);
    Test::new()
        .in_dir(ran.dir.path())
        .args(&["-f", "out/fabfile.rhai", "--list"])
        .stdout_file("tests/port/package/expected/list.txt")
        .run();
}

#[test]
fn port_of_a_fabfile_package_runs_the_same_commands_on_sshd_hosts() {
    let fleet = Fleet::start(2);
    let ran = port("package", "fabfile", 0);
    let run = fleet
        .test()
        .in_dir(ran.dir.path())
        .args(&[
            "-f",
            "out/fabfile.rhai",
            "-H",
            &fleet.host_list(),
            "deploy",
            "size",
        ])
        .run();
    // `execute(hello)` inside `deploy` runs `hello` on every host, each time.
    let mut want = Vec::new();
    for host in &fleet.hosts {
        let h = host.string();
        for other in &fleet.hosts {
            want.push(format!(
                "[{}] run: echo hello from {}",
                other.string(),
                other.address
            ));
        }
        want.extend([
            format!("[{h}] run: echo migrate inventory"),
            format!("[{h}] sudo: echo vacuum inventory"),
            format!("[{h}] run: pwd"),
            format!("[{h}] run: echo worker 0"),
            format!("[{h}] run: echo worker 1"),
        ]);
    }
    for host in &fleet.hosts {
        want.push(format!("[{}] run: echo 42", host.string()));
    }
    assert_eq!(commands(&run.stdout), want, "{}", run.stdout);
    assert_eq!(run.stdout.matches("big\n").count(), 2, "{}", run.stdout);
}

#[test]
fn port_leaves_what_it_cannot_convert_as_todo_lines_and_the_rest_loads() {
    let ran = port("todo", "fabfile.py", 0);
    // The `return` inside `with settings(...)` leaves the task, not only the block.
    Test::new()
        .in_dir(ran.dir.path())
        .args(&["-f", "out/fabfile.rhai", "first_failure"])
        .stdout(
            r#"
            [localhost] local: false

            Done.
            "#,
        )
        .stderr("Warning: local() failed: `false` exited with status 1\n")
        .run();
}

#[test]
fn port_never_overwrites_a_file_without_force() {
    let test = case("package");
    std::fs::write(test.path().join("fabfile.rhai"), "// mine\n").expect("write");
    let ran = test
        .args(&["port", "fabfile"])
        .status(1)
        .stderr(
            "error: `fabfile.rhai` exists, and rfab port never overwrites a file\n\
             hint: pass --force to replace it, or -o OUT to write elsewhere\n",
        )
        .run();
    assert_eq!(
        std::fs::read_to_string(ran.dir.path().join("fabfile.rhai")).expect("read"),
        "// mine\n"
    );
    assert!(
        !ran.dir.path().join("db.rhai").exists(),
        "nothing is written"
    );
    Test::new()
        .in_dir(ran.dir.path())
        .args(&["port", "fabfile", "--force"])
        .run();
    assert!(
        std::fs::read_to_string(ran.dir.path().join("fabfile.rhai"))
            .expect("read")
            .contains("fn hello()")
    );
}

#[test]
fn port_check_prints_the_report_and_writes_nothing() {
    let ran = case("todo").args(&["port", "fabfile.py", "--check"]).run();
    assert!(
        ran.stdout
            .contains("TODO line 7: class Release(object): (a class)\n"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("the port loads"), "{}", ran.stdout);
    assert!(!ran.dir.path().join("fabfile.rhai").exists());
}

#[test]
fn port_of_a_fabfile_whose_port_does_not_load_exits_1() {
    // A module-level list that the top level then changes is a `const` in the port: Rhai
    // refuses to change it, so the port does not load, and says where.
    Test::new()
        .file("fabfile.py", "HOSTS = ['a']\nHOSTS.append('b')\n\ndef hello():\n    print(HOSTS)\n")
        .args(&["port", "fabfile.py"])
        .status(1)
        .stderr_regex(r"error: the port does not load yet: .*fabfile\.rhai.*hint: finish the lines it points at, then check with `rfab -f fabfile.rhai --list`")
        .run();
}

#[test]
fn port_says_where_python_does_not_parse() {
    Test::new()
        .file("fabfile.py", "def broken(:\n    pass\n")
        .args(&["port", "fabfile.py"])
        .status(1)
        .stderr_regex(r"error: cannot parse `fabfile.py` line 1: .*\nhint: rfab port reads Python 2 and 3 fabfiles; fix the syntax there first")
        .run();
}

#[test]
fn port_stays_a_task_word_when_its_argument_is_no_fabfile() {
    Test::new()
        .fabfile(
            r#"
            fn port() { print("port task"); }
            fn web() { print("web task"); }
            "#,
        )
        .args(&["port", "web"])
        .stdout(
            r#"
            port task
            web task

            Done.
            "#,
        )
        .run();
}

#[test]
fn port_converts_a_python2_new_style_rails_fabfile() {
    port("rails_py2", "fabfile.py", 0);
}

#[test]
fn port_converts_a_python3_classic_ops_fabfile() {
    port("ops_py3", "fabfile.py", 0);
}

#[test]
fn port_of_a_python2_backup_fabfile_prunes_as_fabric_does_on_sshd_hosts() {
    let fleet = Fleet::start_with_own_srv(1);
    let ran = port("backup_py2", "fabfile.py", 0);
    let run = fleet
        .test()
        .in_dir(ran.dir.path())
        .args(&[
            "-f",
            "out/fabfile.rhai",
            "-H",
            &fleet.host_list(),
            "nightly:a",
            "nightly:b",
            "nightly:c",
            "nightly:d",
        ])
        .run();
    let h = fleet.hosts[0].string();
    let commands = commands(&run.stdout);
    // bench/port: Fabric 1.x sends the same 41 commands to each host.
    assert_eq!(commands.len(), 41, "{}", run.stdout);
    assert_eq!(
        commands[commands.len() - 3..],
        [
            format!("[{h}] run: ls -1t"),
            format!("[{h}] sudo: rm -f data-a.tar.gz"),
            format!(
                "[localhost] local: echo nightly d done for {}",
                fleet.hosts[0].address
            ),
        ][..],
        "{}",
        run.stdout
    );
    assert_eq!(
        run.stdout.matches("nothing to prune\n").count(),
        3,
        "{}",
        run.stdout
    );
}
