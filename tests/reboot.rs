//! `reboot()`: the host's connection drops under the command, and the task goes on over a
//! new one. (A test cannot restart the machine: its "reboot" ends the SSH session that
//! runs it, as a real one does.)

use crate::sshd::Fleet;

#[test]
fn reboot_survives_the_connection_dropping_and_connects_again() {
    let fleet = Fleet::start(1);
    let host = fleet.hosts[0].string();
    fleet
        .test()
        .fabfile(
            r#"
            fn t() {
                reboot(#{ command: "kill -TERM $PPID", use_sudo: false, delay: 0, wait: 20 });
                print(run("echo back", #{ quiet: true }).stdout);
            }
            "#,
        )
        .args(&["-H", &host, "--hide", "status", "t"])
        .stdout_regex(&format!(
            r"
            \[{h}\] Executing task 't'
            \[{h}\] run: kill -TERM \$PPID
            \[{h}\] reboot: back after \d+s
            back
            ",
            h = regex::escape(&host)
        ))
        .run();
    assert_eq!(fleet.hosts[0].logins(), 2, "{}", fleet.hosts[0].log());
}

#[test]
fn reboot_gives_up_after_wait_naming_the_host() {
    let fleet = Fleet::start(1);
    let host = fleet.hosts[0].string();
    let pid = fleet.hosts[0].pid;
    // The "reboot" stops the daemon itself: nothing answers again.
    let fabfile = format!(
        r#"fn t() {{ reboot(#{{ command: "kill -TERM {pid} $PPID", use_sudo: false, delay: 0, wait: 1 }}); }}"#
    );
    fleet
        .test()
        .fabfile(&fabfile)
        .args(&["-H", &host, "t"])
        .status(1)
        .stderr_starts_with(&format!(
            "[{host}] Fatal error: reboot(): `{host}` did not answer within 1s after `kill -TERM {pid} $PPID`: "
        ))
        .run();
}
