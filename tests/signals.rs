//! Ctrl-C (SIGINT): the running script and its commands stop, rfab exits with 130.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::test::Test;

const DEADLINE: Duration = Duration::from_secs(20);

/// Polls `check` until it holds or the deadline passes.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub(crate) fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{name} {pid}");
}

fn alive(pid: u32) -> bool {
    // A zombie still has a /proc entry; only a running or sleeping process counts.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit(") ")
            .next()
            .is_some_and(|rest| !rest.starts_with('Z'))
    })
}

/// Kills what a test started if it fails halfway, by PID.
pub(crate) struct Cleanup(pub(crate) Vec<u32>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for pid in &self.0 {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    }
}

fn start(test: &Test) -> Child {
    test.command()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rfab starts")
}

pub(crate) fn wait_for_exit(child: &mut Child) -> i32 {
    let mut code = None;
    eventually("rfab to exit", || {
        code = child
            .try_wait()
            .expect("try_wait")
            .map(|s| s.code().unwrap_or(-1));
        code.is_some()
    });
    code.expect("exited")
}

#[test]
fn sigint_stops_a_running_local_command_and_exits_130() {
    let test = Test::new()
        .fabfile(
            r#"fn t() { local("sleep 60 & echo $! > sleep.pid; wait"); print("not reached"); }"#,
        )
        .args(&["t"]);
    let pid_file = test.path().join("sleep.pid");
    let mut rfab = start(&test);
    let mut cleanup = Cleanup(vec![rfab.id()]);
    eventually("the command to start", || {
        std::fs::read_to_string(&pid_file).is_ok_and(|s| s.ends_with('\n'))
    });
    let sleep_pid: u32 = std::fs::read_to_string(&pid_file)
        .expect("pid")
        .trim()
        .parse()
        .expect("a pid");
    cleanup.0.push(sleep_pid);
    assert!(alive(sleep_pid));

    signal(rfab.id(), "INT");
    assert_eq!(wait_for_exit(&mut rfab), 130);
    eventually("the command to be stopped", || !alive(sleep_pid));
    let output = rfab.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stdout.contains("not reached"), "{stdout}");
    assert!(stderr.ends_with("error: interrupted\n"), "{stderr}");
}

#[test]
fn sigint_cancels_a_busy_script() {
    let test = Test::new()
        .fabfile(r#"fn t() { local("touch started"); loop { } }"#)
        .args(&["t"]);
    let started = test.path().join("started");
    let mut rfab = start(&test);
    let _cleanup = Cleanup(vec![rfab.id()]);
    eventually("the task to start", || Path::new(&started).exists());
    signal(rfab.id(), "INT");
    assert_eq!(wait_for_exit(&mut rfab), 130);
}

#[test]
fn sigint_stops_a_running_remote_command_and_exits_130() {
    let fleet = crate::sshd::Fleet::start(1);
    let test = fleet
        .test()
        .fabfile(r#"fn t() { run("sleep 7272"); }"#)
        .args(&["-H", &fleet.hosts[0].string(), "t"]);
    let mut rfab = start(&test);
    let _cleanup = Cleanup(vec![rfab.id()]);
    eventually("the remote command to start", || {
        crate::ssh::process_running("sleep 7272")
    });
    signal(rfab.id(), "INT");
    assert_eq!(wait_for_exit(&mut rfab), 130);
    eventually("the remote command to be stopped", || {
        !crate::ssh::process_running("sleep 7272")
    });
}

#[test]
fn a_second_ctrl_c_while_on_abort_runs_lets_the_cleanup_finish() {
    let fleet = crate::sshd::Fleet::start(1);
    let marker = fleet.dir.path().join("put-back");
    // The cleanup takes a while, as putting a release back over a slow link does.
    let fabfile = format!(
        "fn work() {{ on_abort(\"sleep 2.07; touch {}\"); run(\"sleep 7408\"); }}\n",
        marker.display()
    );
    let test = fleet
        .test()
        .fabfile(&fabfile)
        .args(&["-H", &fleet.hosts[0].string(), "work"]);
    let mut rfab = start(&test);
    let _stop = Cleanup(vec![rfab.id()]);
    eventually("the task's command", || {
        crate::ssh::process_running("sleep 7408")
    });
    signal(rfab.id(), "INT");
    eventually("the cleanup to start", || {
        crate::ssh::process_running("sleep 2.07")
    });
    signal(rfab.id(), "INT");
    let code = wait_for_exit(&mut rfab);
    assert_eq!(code, 130);
    assert!(marker.exists(), "rfab exited before its cleanup finished");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut rfab.stderr.take().expect("stderr"), &mut stderr)
        .expect("stderr");
    assert!(
        stderr.contains("Still putting the hosts back as they were"),
        "{stderr}"
    );
}
