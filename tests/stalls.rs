//! Hosts that stop answering or die halfway (SIGSTOP or SIGKILL of their sshd, by PID):
//! rfab gives up within its limits, names the host and what it was doing, and says which
//! cleanup could not run; and `put(use_sudo)` never writes through a planted path.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::sshd::{Fleet, Host};
use crate::test::{Test, assert_match, pattern, unindent};

/// Generous: each test's own limits are a few seconds.
const DEADLINE: Duration = Duration::from_secs(90);

/// Polls `check` until it holds or the deadline passes.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(pids: &[u32], name: &str) {
    for pid in pids {
        let _ = Command::new("kill")
            .args([&format!("-{name}"), &pid.to_string()])
            .status();
    }
}

/// The parent of `pid`, from `/proc/PID/stat`.
fn parent(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(") ").next()?.split(' ').nth(1)?.parse().ok()
}

/// The `sshd` processes under `pid`: one per connection, and their privilege-separated
/// children. Stopping the listener alone leaves open sessions running.
fn sshd_children(pid: u32) -> Vec<u32> {
    let mut found: Vec<u32> = Vec::new();
    let mut frontier = vec![pid];
    while let Some(next) = frontier.pop() {
        let children: Vec<u32> = std::fs::read_dir("/proc")
            .expect("/proc")
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter(|p| parent(*p) == Some(next))
            .filter(|p| {
                std::fs::read_to_string(format!("/proc/{p}/comm"))
                    .is_ok_and(|c| c.trim() == "sshd" || c.trim().starts_with("sshd-"))
            })
            .collect();
        frontier.extend(&children);
        found.extend(children);
    }
    found
}

/// A host's sshd stopped (SIGSTOP) while a guard lives; continued when it drops, so a
/// failing test leaves nothing stopped.
struct Stopped(Vec<u32>);

impl Stopped {
    fn host(host: &Host) -> Self {
        let mut pids = vec![host.pid];
        pids.extend(sshd_children(host.pid));
        signal(&pids, "STOP");
        Self(pids)
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        signal(&self.0, "CONT");
    }
}

/// Kills rfab by PID if the test fails before it exits.
struct Running(Child);

impl Running {
    fn start(test: &Test) -> Self {
        let child = test
            .command()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("rfab starts");
        Self(child)
    }

    /// Waits for rfab to exit (within the deadline); its status, stdout and stderr.
    fn finish(mut self) -> (i32, String, String) {
        let mut code = None;
        eventually("rfab to give up and exit", || {
            code = self
                .0
                .try_wait()
                .expect("try_wait")
                .map(|s| s.code().unwrap_or(-1));
            code.is_some()
        });
        let mut stdout = String::new();
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut self.0.stdout.take().expect("stdout"), &mut stdout)
            .expect("stdout");
        std::io::Read::read_to_string(&mut self.0.stderr.take().expect("stderr"), &mut stderr)
            .expect("stderr");
        (code.expect("exited"), stdout, stderr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// A remote command line no other test, and no earlier run, has. A host that stopped
/// answering leaves its command running: it is killed when the guard drops.
struct Sleep(String);

impl Sleep {
    fn unique() -> Self {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Self(format!("sleep 7373.{}{n:02}", std::process::id()))
    }
}

impl std::fmt::Display for Sleep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        kill_running(&self.0);
    }
}

/// Kills the processes running exactly `cmdline` (commands the hosts were left running).
fn kill_running(cmdline: &str) {
    let pids: Vec<u32> = std::fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            std::fs::read(format!("/proc/{p}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).replace('\0', " ").trim() == cmdline)
        })
        .collect();
    signal(&pids, "KILL");
}

/// Kills the processes whose command line contains `text` (commands a host was left
/// running), when the guard drops.
struct Leftovers(String);

impl Drop for Leftovers {
    fn drop(&mut self) {
        let pids: Vec<u32> = std::fs::read_dir("/proc")
            .expect("/proc")
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter(|p| {
                std::fs::read(format!("/proc/{p}/cmdline"))
                    .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&self.0))
            })
            .collect();
        signal(&pids, "KILL");
    }
}

/// The local ports of this machine's established TCP connections to `host` (from
/// `/proc/net/tcp`): rfab's connections to it.
fn connections_to(host: &Host) -> Vec<String> {
    let ip: std::net::Ipv4Addr = host.address.parse().expect("an IPv4 address");
    let octets = ip.octets();
    let remote = format!(
        "{:02X}{:02X}{:02X}{:02X}:{:04X}",
        octets[3], octets[2], octets[1], octets[0], host.port
    );
    std::fs::read_to_string("/proc/net/tcp")
        .expect("/proc/net/tcp")
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            (fields.get(2) == Some(&remote.as_str()) && fields.get(3) == Some(&"01"))
                .then(|| fields[1].to_owned())
        })
        .collect()
}

/// The warning that the `on_abort` steps could not reach `host`, which comes before the
/// report when rfab has tried by then: a pattern that matches it, or nothing.
fn cleanup_warning(host: &str) -> String {
    format!(
        "(?:{})?",
        pattern(
            &format!("[{host}] Warning: on abort: cannot reach `{host}` to clean up: <WHY>\n"),
            &[("<WHY>", r"[^\n]+")]
        )
    )
}

/// The report's last line: what may be left on `host`, and what to do.
fn half_done(host: &str) -> String {
    format!(
        "`{host}` may be left half-done (a deploy lock held, a release not live or not marked bad): \
         look before running again (with the deploy recipe, `rfab ENV status` shows it), then fix it \
         (the `deploy.unlock` and `deploy.rollback` tasks) or run the steps above by hand"
    )
}

/// A sparse local file of `size` bytes: large to send, instant to make.
fn big_file(path: &Path, size: u64) {
    std::fs::File::create(path)
        .expect("create")
        .set_len(size)
        .expect("set_len");
}

/// Whether an upload's temp file (`DEST.rfab-...`) has started to fill.
fn upload_started(dest: &Path) -> bool {
    let (Some(dir), Some(name)) = (dest.parent(), dest.file_name()) else {
        return false;
    };
    let prefix = format!("{}.rfab-", name.to_string_lossy());
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.filter_map(Result::ok).any(|e| {
            e.file_name().to_string_lossy().starts_with(&prefix)
                && e.metadata().is_ok_and(|m| m.len() > 0)
        })
    })
}

#[test]
fn a_host_stopped_during_a_long_run_is_given_up_on_by_keepalive() {
    let fleet = Fleet::start(1);
    let sleep = Sleep::unique();
    let host = &fleet.hosts[0];
    let test = fleet
        .test()
        .fabfile(&format!(r#"fn t() {{ run("{sleep}"); }}"#))
        .args(&["--keepalive", "2", "-t", "5", "-H", &host.string(), "t"]);
    let rfab = Running::start(&test);
    eventually("the remote command to start", || {
        crate::ssh::process_running(&sleep.0)
    });
    let stopped = Stopped::host(host);
    let (code, _, stderr) = rfab.finish();
    drop(stopped);
    assert_eq!(code, 1, "{stderr}");
    let host = host.string();
    assert_match(
        &stderr,
        &pattern(
            &format!(
                r#"
                [{host}] Fatal error: `{host}` stopped answering while running `{sleep}`: no answer to keepalives for <SECONDS> (--keepalive); gave up on the connection
                 --> fabfile.rhai:1:10
                  |
                1 | fn t() {{ run("{sleep}"); }}
                  |          ^

                Aborting.
                "#
            ),
            &[("<SECONDS>", r"\d+s")],
        ),
    );
}

#[test]
fn a_host_stopped_during_a_long_run_is_given_up_on_by_the_command_timeout() {
    let fleet = Fleet::start(1);
    let sleep = Sleep::unique();
    let host = &fleet.hosts[0];
    let test = fleet
        .test()
        .fabfile(&format!(r#"fn t() {{ run("{sleep}"); }}"#))
        .args(&[
            "-T",
            "2",
            "-t",
            "4",
            "--keepalive",
            "60",
            "-H",
            &host.string(),
            "t",
        ]);
    let rfab = Running::start(&test);
    eventually("the remote command to start", || {
        crate::ssh::process_running(&sleep.0)
    });
    let stopped = Stopped::host(host);
    let (code, _, stderr) = rfab.finish();
    drop(stopped);
    assert_eq!(code, 1, "{stderr}");
    let host = host.string();
    assert!(
        stderr.starts_with(&format!(
            "[{host}] Fatal error: `{host}` stopped answering while running `{sleep}`: \
             it ran past its 2s (-T), and stopping it failed: no progress for 4s (-t); it may still run there"
        )),
        "{stderr}"
    );
}

#[test]
fn a_host_stopped_during_a_put_is_given_up_on_and_its_cleanup_said_undone() {
    let fleet = Fleet::start(1);
    let host = &fleet.hosts[0];
    let dest = fleet.dir.path().join("upload/big.bin");
    let flag = fleet.dir.path().join("locked");
    let fabfile = format!(
        r#"fn t() {{ run("touch {flag}"); on_abort("rm -f {flag}"); put("big.bin", "{dest}"); }}"#,
        flag = flag.display(),
        dest = dest.display()
    );
    let test =
        fleet
            .test()
            .fabfile(&fabfile)
            .args(&["-T", "3", "-t", "5", "-H", &host.string(), "t"]);
    big_file(&test.path().join("big.bin"), 16 << 30);
    let rfab = Running::start(&test);
    eventually("the upload to start", || upload_started(&dest));
    let stopped = Stopped::host(host);
    let (code, _, stderr) = rfab.finish();
    drop(stopped);
    assert_eq!(code, 1, "{stderr}");
    let host = host.string();
    let report = pattern(
        &unindent(&format!(
            "
            [{host}] Fatal error: put(): the upload of `big.bin` on `{host}` made no progress for 3s (-T); gave up on the connection
            then 1 cleanup step could not run on `{host}`:
              - on abort: rm -f {}
                  (<WHY>)
            {}

            Aborting.
            ",
            flag.display(),
            half_done(&host)
        )),
        &[("<WHY>", r"[^\n]+")],
    );
    assert_match(&stderr, &format!("{}{report}", cleanup_warning(&host)));
    assert!(flag.exists(), "the cleanup ran after all?");
}

#[test]
fn on_abort_runs_on_a_fresh_connection_when_the_old_one_died() {
    let fleet = Fleet::start(1);
    let sleep = Sleep::unique();
    let host = &fleet.hosts[0];
    let flag = fleet.dir.path().join("maintenance");
    let fabfile = format!(
        r#"fn t() {{ run("touch {0}"); on_abort("rm -f {0}"); run("{sleep}"); }}"#,
        flag.display()
    );
    let test = fleet
        .test()
        .fabfile(&fabfile)
        .args(&["-H", &host.string(), "t"]);
    let rfab = Running::start(&test);
    eventually("the remote command to start", || {
        crate::ssh::process_running(&sleep.0)
    });
    // The session's own sshd processes die; the listener stays, as after a restart.
    signal(&sshd_children(host.pid), "KILL");
    let (code, stdout, stderr) = rfab.finish();
    assert_eq!(code, 1, "{stderr}");
    assert!(!flag.exists(), "on_abort did not run: {stdout}{stderr}");
    let host = host.string();
    assert!(
        stderr.starts_with(&format!(
            "[{host}] Fatal error: lost the connection to `{host}` while running `{sleep}`: "
        )),
        "{stderr}"
    );
}

#[test]
fn on_abort_runs_on_a_fresh_connection_once_a_stopped_host_is_back() {
    let fleet = Fleet::start(1);
    let sleep = Sleep::unique();
    let host = &fleet.hosts[0];
    let flag = fleet.dir.path().join("maintenance");
    let fabfile = format!(
        r#"fn t() {{ run("touch {0}"); on_abort("rm -f {0}"); run("{sleep}"); }}"#,
        flag.display()
    );
    let test = fleet.test().fabfile(&fabfile).args(&[
        "--keepalive",
        "2",
        "-t",
        "20",
        "-H",
        &host.string(),
        "t",
    ]);
    let rfab = Running::start(&test);
    eventually("the remote command to start", || {
        crate::ssh::process_running(&sleep.0)
    });
    let first = connections_to(host);
    let stopped = Stopped::host(host);
    // rfab gives up on the silent connection and opens another for the cleanup: the host
    // comes back (SIGCONT) while that one waits for its handshake.
    eventually("a new connection for the cleanup", || {
        connections_to(host)
            .iter()
            .any(|port| !first.contains(port))
    });
    drop(stopped);
    let (code, stdout, stderr) = rfab.finish();
    assert_eq!(code, 1, "{stderr}");
    assert!(!flag.exists(), "on_abort did not run: {stdout}{stderr}");
    let host = host.string();
    assert!(
        stderr.starts_with(&format!(
            "[{host}] Fatal error: `{host}` stopped answering while running `{sleep}`: "
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("could not run"), "{stderr}");
}

#[test]
fn sshd_killed_mid_upload_reports_the_upload_first_then_the_cleanup_that_could_not_run() {
    let fleet = Fleet::start(1);
    let host = &fleet.hosts[0];
    let dest = fleet.dir.path().join("upload/big.bin");
    let flag = fleet.dir.path().join("locked");
    // The deploy recipe's shape: a lock undone on abort, and cleanup in a catch block.
    let fabfile = format!(
        r#"
        fn t() {{
            run("touch {flag}");
            on_abort("rm -f {flag}");
            try {{
                put("big.bin", "{dest}");
            }} catch (error) {{
                run("rm -f {dest}.partial", #{{ quiet: true, warn_only: true }});
                throw error;
            }}
        }}
        "#,
        flag = flag.display(),
        dest = dest.display()
    );
    let test = fleet
        .test()
        .fabfile(&fabfile)
        .args(&["-H", &host.string(), "t"]);
    big_file(&test.path().join("big.bin"), 16 << 30);
    let rfab = Running::start(&test);
    eventually("the upload to start", || upload_started(&dest));
    let mut pids = vec![host.pid];
    pids.extend(sshd_children(host.pid));
    signal(&pids, "KILL");
    let (code, _, stderr) = rfab.finish();
    assert_eq!(code, 1, "{stderr}");
    let refused = format!(
        "cannot connect to {}: Connection refused (os error 111); check that the host is up and sshd listens there",
        host.string().trim_start_matches("root@")
    );
    let host = host.string();
    let report = pattern(
        &unindent(&format!(
            "
            [{host}] Fatal error: put(): lost the connection to `{host}` during the upload of `big.bin`: <WHY>
            then 2 cleanup steps could not run on `{host}`:
              - run: rm -f {}.partial
                  ({refused})
              - on abort: rm -f {}
                  ({refused})
            {}

            Aborting.
            ",
            dest.display(),
            flag.display(),
            half_done(&host)
        )),
        &[("<WHY>", r"[^\n]+")],
    );
    assert_match(&stderr, &format!("{}{report}", cleanup_warning(&host)));
}

#[test]
fn put_with_sudo_never_writes_through_a_planted_staging_path() {
    let fleet = Fleet::start(1);
    let dest = fleet.dir.path().join("etc/app.conf");
    let victim = fleet.dir.path().join("victim");
    std::fs::write(&victim, "precious\n").expect("victim");
    let test = fleet
        .test()
        .fabfile(
            r#"
            fn t() {
                local("while [ ! -e planted ]; do sleep 0.02; done");
                put("app.conf", env.dest, #{ use_sudo: true, mode: "640" });
            }
            "#,
        )
        .file("app.conf", "port = 80\n");
    let planted_flag = test.path().join("planted");
    let dest_arg = format!("dest={}", dest.display());
    let test = test.args(&[
        "-H",
        &fleet.hosts[0].string(),
        "--set",
        &dest_arg,
        "--hide",
        "everything",
        "t",
    ]);
    let rfab = Running::start(&test);
    // The names the staging file used to get, from rfab's PID: someone else's links there.
    let pid = rfab.0.id();
    let planted = [
        format!("/tmp/.rfab-upload-{pid}-0"),
        format!("/tmp/.rfab-upload-{pid}-0.rfab-{pid}"),
    ];
    for link in &planted {
        let _ = std::fs::remove_file(link);
        std::os::unix::fs::symlink(&victim, link).expect("plant a link");
    }
    std::fs::write(&planted_flag, "").expect("planted");
    let (code, stdout, stderr) = rfab.finish();
    for link in &planted {
        let _ = std::fs::remove_file(link);
    }
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "precious\n"
    );
    let mode = |p: &Path| {
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(p).expect("meta").permissions())
            & 0o777
    };
    assert_eq!(mode(&victim), 0o644, "the victim's mode changed");
    assert_eq!(std::fs::read_to_string(&dest).expect("dest"), "port = 80\n");
    assert_eq!(mode(&dest), 0o640);
}

#[test]
fn a_host_stopped_during_a_deploys_health_check_reports_the_release_left_and_the_lock_held() {
    let fleet = Fleet::start(1);
    let host = &fleet.hosts[0];
    let repo = fleet.dir.path().join("opensky");
    crate::git::scenario_repo(&repo);
    let deploy_to = fleet.dir.path().join("srv/opensky");
    // A health check that never passes, and runs until the host is stopped under it.
    let url = format!("http://127.0.0.1:9/rfab-never-{}", std::process::id());
    let _leftovers = Leftovers(url.clone());
    let settings = format!(
        "repository={},deploy_to={},health_url={url},health_timeout=600",
        repo.display(),
        deploy_to.display()
    );
    let test = fleet
        .test()
        .fabfile(
            "import \"rfab/deploy\" as release;\nfn deploy(ref) { release::release(ref, false); }\n",
        )
        .args(&[
            "-T",
            "120",
            "--keepalive",
            "2",
            "-t",
            "5",
            "-H",
            &host.string(),
            "--set",
            &settings,
            "deploy:v3.0.0",
        ]);
    let rfab = Running::start(&test);
    eventually("the new release to go live", || {
        deploy_to.join("current").exists()
    });
    let stopped = Stopped::host(host);
    let (code, _, stderr) = rfab.finish();
    drop(stopped);
    assert_eq!(code, 1, "{stderr}");
    let host = host.string();
    let first = format!("[{host}] Fatal error: `{host}` stopped answering while running `");
    assert!(stderr.contains(&first), "{stderr}");
    let report = &stderr[stderr.find(&first).expect("the report")..];
    let cleanup = report
        .find("cleanup steps could not run on")
        .expect("the cleanup said");
    assert!(
        report[..cleanup].contains(&url),
        "the health check first: {report}"
    );
    let undone = &report[cleanup..];
    assert!(undone.contains("  - run: "), "{report}");
    assert!(undone.contains("  - on abort: "), "{report}");
    assert!(undone.contains(".rfab-lock"), "{report}");
    assert!(undone.contains("`deploy.unlock`"), "{report}");
    assert!(
        deploy_to.join(".rfab-lock").exists(),
        "the lock was released after all"
    );
}

#[test]
fn a_host_never_reached_has_no_cleanup_to_report() {
    let listener = std::net::TcpListener::bind("127.77.250.2:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    Test::new()
        .fabfile(r#"fn t() { on_abort("rm -f lock"); run("touch lock"); }"#)
        .args(&["-H", &format!("127.77.250.2:{port}"), "t"])
        .status(1)
        .stderr(&format!(
            "[127.77.250.2:{port}] Fatal error: cannot connect to 127.77.250.2:{port}: Connection refused (os error 111); \
             check that the host is up and sshd listens there\n\nAborting.\n"
        ))
        .run();
}

#[test]
fn a_host_stopped_during_a_get_is_given_up_on_by_the_command_timeout() {
    let fleet = Fleet::start(1);
    let host = &fleet.hosts[0];
    let remote = fleet.dir.path().join("big.bin");
    big_file(&remote, 16 << 30);
    let fabfile = format!(r#"fn t() {{ get("{}", "back.bin"); }}"#, remote.display());
    let test = fleet
        .test()
        .fabfile(&fabfile)
        .args(&["-T", "3", "-H", &host.string(), "t"]);
    let dir = test.path().to_path_buf();
    let rfab = Running::start(&test);
    eventually("the download to start", || {
        std::fs::read_dir(&dir).is_ok_and(|entries| {
            entries.filter_map(Result::ok).any(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(".back.bin.rfab-")
                    && e.metadata().is_ok_and(|m| m.len() > 0)
            })
        })
    });
    let stopped = Stopped::host(host);
    let (code, _, stderr) = rfab.finish();
    drop(stopped);
    assert_eq!(code, 1, "{stderr}");
    let host = host.string();
    assert!(
        stderr.starts_with(&format!(
            "[{host}] Fatal error: get(): the download of `{}` on `{host}` made no progress for 3s (-T); gave up on the connection\n",
            remote.display()
        )),
        "{stderr}"
    );
    assert!(
        !dir.join("back.bin").exists(),
        "a partial download was kept"
    );
}

#[test]
fn a_silent_command_on_a_live_host_is_not_given_up_on() {
    // Silent for longer than 3 keepalive intervals: the host's answers keep it alive.
    let fleet = Fleet::start(1);
    let dest = format!("dest={}", fleet.dir.path().join("f").display());
    fleet
        .test()
        .fabfile(r#"fn t() { run("sleep 9 && echo still here", #{ quiet: true }); put("f", env.dest); }"#)
        .file("f", "x\n")
        .args(&["--keepalive", "2", "-H", &fleet.hosts[0].string(), "--set", &dest, "--hide", "everything", "t"])
        .run();
    assert_eq!(
        std::fs::read_to_string(fleet.dir.path().join("f")).expect("uploaded"),
        "x\n"
    );
}
