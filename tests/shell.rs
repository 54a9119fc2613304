//! `open_shell()`: an interactive shell on a real sshd host, through a real pseudo-terminal.

use std::time::Duration;

use expectrl::process::unix::WaitStatus;
use expectrl::{Expect, Session};

use crate::sshd::Fleet;

const TIMEOUT: Duration = Duration::from_secs(20);

#[test]
fn open_shell_gives_the_terminal_to_a_shell_on_the_host_until_it_exits() {
    let fleet = Fleet::start(1);
    let host = fleet.hosts[0].string();
    let test = fleet
        .test()
        .fabfile("fn t() { open_shell(\"export GREETING=typed-first\"); puts(\"back in rfab\"); }")
        .args(&["-H", &host, "t"]);
    let mut command = test.command();
    command.env("TERM", "xterm");
    let mut session = Session::spawn(command).expect("rfab on a pseudo-terminal");
    session.set_expect_timeout(Some(TIMEOUT));
    // Keys reach the host's shell, which has the command given to open_shell typed first.
    session
        .send_line("echo \"$GREETING shell-$((6 * 7)) on $(hostname)\"")
        .expect("keys");
    session
        .expect("typed-first shell-42 on ")
        .expect("the shell's answer");
    session.send_line("exit").expect("exit");
    session
        .expect(format!("[{host}] back in rfab").as_str())
        .expect("rfab goes on after the shell");
    let status = session.get_process().wait().expect("rfab ends");
    assert!(matches!(status, WaitStatus::Exited(_, 0)), "{status:?}");
}

#[test]
fn open_shell_without_a_terminal_says_so() {
    let fleet = Fleet::start(1);
    let host = fleet.hosts[0].string();
    let ran = fleet
        .test()
        .fabfile("fn t() { open_shell(); }")
        .args(&["-H", &host, "t"])
        .stdin("")
        .status(1)
        .run();
    assert!(
        ran.stderr.starts_with(&format!(
            "[{host}] Fatal error: open_shell() on `{host}` needs a terminal: run rfab from one (it has none here)\n"
        )),
        "{}",
        ran.stderr
    );
}
