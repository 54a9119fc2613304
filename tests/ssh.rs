//! Remote execution against real sshd hosts on loopback: run, exit codes, signals,
//! streams, connection reuse, host keys, unreachable hosts, parallel output, dry runs.

use std::net::TcpListener;

use crate::sshd::{Fleet, eventually};
use crate::test::{FINGERPRINT, Test, pattern};

#[test]
fn run_streams_each_line_and_returns_the_result() {
    let fleet = Fleet::start(1);
    let host = fleet.hosts[0].string();
    fleet
        .test()
        .fabfile(
            r#"
            fn t() {
                let r = run("echo one; echo three");
                let e = run("echo two >&2");
                print(`stdout=[${r.stdout}] stderr=[${e.stderr}] code=${r.code} ok=${r.ok}`);
            }
            "#,
        )
        .args(&["-H", &host, "t"])
        .stdout(&format!(
            "
            [{host}] Executing task 't'
            [{host}] run: echo one; echo three
            [{host}] out: one
            [{host}] out: three
            [{host}] run: echo two >&2
            [{host}] err: two
            stdout=[one
            three] stderr=[two] code=0 ok=true

            Summary:
                {host}  ok  TIME  t

            Done.
            Disconnecting from {host}... done.
            "
        ))
        .mask_times()
        .run();
}

#[test]
fn a_failed_command_names_host_command_and_status() {
    let fleet = Fleet::start(1);
    let host = fleet.hosts[0].string();
    let ran = fleet
        .test()
        .fabfile("fn t() { run(\"exit 3\"); print(\"not reached\"); }")
        .args(&["-H", &host, "t"])
        .status(1)
        .mask_times()
        .stdout(&format!(
            "
            [{host}] Executing task 't'
            [{host}] run: exit 3

            Summary:
                {host}  failed  TIME  t: run() failed on `{host}`: `exit 3` exited with status 3
            Disconnecting from {host}... done.
            "
        ))
        .stderr(&format!(
            r#"
            [{host}] Fatal error: run() failed on `{host}`: `exit 3` exited with status 3
             --> fabfile.rhai:1:10
              |
            1 | fn t() {{ run("exit 3"); print("not reached"); }}
              |          ^

            Aborting.
            "#
        ))
        .run();
    assert!(!ran.stdout.contains("not reached"), "{}", ran.stdout);
}

#[test]
fn warn_only_and_signals() {
    let fleet = Fleet::start(1);
    let host = fleet.hosts[0].string();
    fleet
        .test()
        .fabfile(
            r#"
            fn t() {
                let r = run("exit 4", #{ warn_only: true });
                let k = run("kill -9 $$", #{ warn_only: true });
                print(`${r.code} ${r.failed} ${k.code} ${k.failed}`);
            }
            "#,
        )
        .args(&["-H", &host, "--hide", "running,status", "t"])
        .stdout("4 true 137 true\n")
        .stderr(&format!(
            "
            [{host}] Warning: run() failed on `{host}`: `exit 4` exited with status 4
            [{host}] Warning: run() failed on `{host}`: `kill -9 $$` was killed by signal KILL
            "
        ))
        .run();
}

#[test]
fn large_output_on_both_streams_does_not_deadlock() {
    let fleet = Fleet::start(1);
    fleet
        .test()
        .fabfile(
            r#"
            fn t() {
                let r = run("head -c 5000000 /dev/zero | tr '\\0' a; head -c 5000000 /dev/zero | tr '\\0' b >&2", #{ quiet: true });
                print(`${r.stdout.len()} ${r.stderr.len()}`);
            }
            "#,
        )
        .args(&["-H", &fleet.hosts[0].string(), "--hide", "everything", "--show", "user", "t"])
        .stdout("5000000 5000000\n")
        .run();
}

#[test]
fn one_connection_per_host_serves_every_command_and_task() {
    let fleet = Fleet::start(1);
    let host = &fleet.hosts[0];
    fleet
        .test()
        .fabfile("fn a() { run(\"true\"); run(\"true\"); } fn b() { run(\"true\"); }")
        .args(&["-H", &host.string(), "a", "b", "a"])
        .run();
    assert_eq!(host.logins(), 1, "{}", host.log());
}

#[test]
fn scoped_settings_shape_the_command() {
    let fleet = Fleet::start(1);
    fleet
        .test()
        .fabfile(
            r#"
            fn t() {
                cd("/usr", || {
                    cd("share", || print(run("pwd").stdout));
                    shell_env(#{ GREETING: "it's me" }, || print(run("echo $GREETING").stdout));
                    prefix("export X=1", || print(run("echo x=$X").stdout));
                });
                print(run("echo ${X:-unset}").stdout);
                settings(#{ warn_only: true }, || print(run("false").failed));
                print(quiet(|| run("echo hidden; exit 1").code));
            }
            "#,
        )
        .args(&[
            "-H",
            &fleet.hosts[0].string(),
            "--hide",
            "everything",
            "--show",
            "user",
            "t",
        ])
        .stdout("/usr/share\nit's me\nx=1\nunset\ntrue\n1\n")
        .run();
}

#[test]
fn unknown_host_key_is_refused_with_its_fingerprint() {
    let fleet = Fleet::start(1);
    let host = &fleet.hosts[0];
    std::fs::write(fleet.known_hosts(), "").expect("empty known_hosts");
    fleet
        .test()
        .fabfile("fn t() { run(\"touch ran\"); }")
        .args(&["-H", &host.string(), "t"])
        .status(1)
        .stderr_regex(&pattern(
            &format!(
                "
                [{0}] Fatal error: the host key of `{0}` is not known: <FINGERPRINT>
                hint: if that is the key of {1}:{2}, add it with `ssh-keyscan -p {2} {1} >> ~/.ssh/known_hosts`, or run once with `--known-hosts accept-new`

                Aborting.
                ",
                host.string(),
                host.address,
                host.port
            ),
            &[FINGERPRINT],
        ))
        .run();
    assert!(
        !host.log().contains("Accepted"),
        "logged in despite an unknown key"
    );
}

#[test]
fn accept_new_adds_exactly_one_line_then_strict_accepts_it() {
    let fleet = Fleet::start(1);
    let host = &fleet.hosts[0];
    std::fs::write(fleet.known_hosts(), "# mine\n").expect("known_hosts");
    fleet
        .test()
        .fabfile("fn t() { run(\"true\"); }")
        .args(&["--known-hosts", "accept-new", "-H", &host.string(), "t"])
        .stderr(&format!(
            "[{}] Warning: added the host key to `{}`\n",
            host.string(),
            fleet.known_hosts().display()
        ))
        .run();
    let known = std::fs::read_to_string(fleet.known_hosts()).expect("known_hosts");
    assert_eq!(known, format!("# mine\n{}\n", host.known_hosts_line()));
    fleet
        .test()
        .fabfile("fn t() { run(\"true\"); }")
        .args(&["-H", &host.string(), "t"])
        .run();
}

#[test]
fn changed_host_key_is_refused_and_nothing_runs() {
    let fleet = Fleet::start(2);
    let (victim, other) = (&fleet.hosts[0], &fleet.hosts[1]);
    // known_hosts says the first host has the second host's key: a changed key.
    let other_key = other.known_hosts_line();
    let forged = other_key.replacen(
        &format!("[{}]:{}", other.address, other.port),
        &format!("[{}]:{}", victim.address, victim.port),
        1,
    );
    std::fs::write(fleet.known_hosts(), format!("{forged}\n")).expect("known_hosts");
    fleet
        .test()
        .fabfile("fn t() { run(\"touch ran\"); }")
        .args(&["-H", &victim.string(), "t"])
        .status(1)
        .stderr_regex(&pattern(
            &format!(
                "
                [{0}] Fatal error: THE HOST KEY OF `{0}` HAS CHANGED: someone could be intercepting the connection (man-in-the-middle), or the host was reinstalled. Its key is now <FINGERPRINT>; not connecting.
                hint: if the change is expected, remove the old key with `ssh-keygen -R '[{1}]:{2}'` and connect again

                Aborting.
                ",
                victim.string(),
                victim.address,
                victim.port
            ),
            &[FINGERPRINT],
        ))
        .run();
    assert!(
        !victim.log().contains("Accepted"),
        "logged in despite a changed key"
    );
}

#[test]
fn a_dead_port_is_a_clear_error() {
    let listener = TcpListener::bind("127.77.250.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    Test::new()
        .fabfile("fn t() { run(\"true\"); }")
        .args(&["-H", &format!("127.77.250.1:{port}"), "t"])
        .status(1)
        .stderr_starts_with(&format!(
            "[127.77.250.1:{port}] Fatal error: cannot connect to 127.77.250.1:{port}: Connection refused (os error 111); \
             check that the host is up and sshd listens there\n"
        ))
        .run();
}

#[test]
fn a_silent_host_times_out_on_connect_timeout() {
    // Accepts TCP connections (the kernel's backlog) but never speaks SSH.
    let listener = TcpListener::bind("127.77.250.2:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    Test::new()
        .fabfile("fn t() { run(\"true\"); }")
        .args(&["-t", "1", "-H", &format!("127.77.250.2:{port}"), "t"])
        .status(1)
        .stderr(&format!(
            "[127.77.250.2:{port}] Fatal error: SSH handshake with `127.77.250.2:{port}` failed: \
             no SSH greeting within 1s (-t): something listens there but does not speak SSH, \
             or answers too slowly; check the port, or raise -t\n\nAborting.\n"
        ))
        .run();
    drop(listener);
}

#[test]
fn skip_bad_hosts_goes_on_without_them() {
    let fleet = Fleet::start(1);
    let good = fleet.hosts[0].string();
    let listener = TcpListener::bind("127.77.250.3:0").expect("bind");
    let dead = format!(
        "127.77.250.3:{}",
        listener.local_addr().expect("addr").port()
    );
    drop(listener);
    fleet
        .test()
        .fabfile("fn t() { run(\"echo alive\"); }")
        .args(&["--skip-bad-hosts", "-H", &format!("{dead},{good}"), "t"])
        .mask_times()
        .stdout(&format!(
            "
            [{dead}] Executing task 't'
            [{dead}] run: echo alive
            [{good}] Executing task 't'
            [{good}] run: echo alive
            [{good}] out: alive

            Summary:
                {dead}  skipped  TIME  t
                {good}  ok  TIME  t
                2 hosts: 1 ok, 1 skipped

            Done.
            Disconnecting from {good}... done.
            "
        ))
        .stderr(&format!(
            "[{dead}] Warning: skipping this host: cannot connect to {dead}: Connection refused (os error 111); \
             check that the host is up and sshd listens there\n"
        ))
        .run();
}

#[test]
fn parallel_output_is_whole_lines() {
    let fleet = Fleet::start(3);
    let ran = fleet
        .test()
        .fabfile(r#"fn t() { run("for i in $(seq 1 3000); do echo \"line-$i-end\"; done"); }"#)
        .args(&[
            "-P",
            "-H",
            &fleet.host_list(),
            "--hide",
            "running,status",
            "t",
        ])
        .run();
    // Every line is one host's whole line; the remote may add its own `err:` lines.
    let mut per_host = std::collections::HashMap::new();
    for line in ran.stdout.lines() {
        let (host, rest) = line
            .split_once("] ")
            .unwrap_or_else(|| panic!("a broken line: {line:?}"));
        assert!(
            host.starts_with('[') && !host[1..].contains('['),
            "a broken line: {line:?}"
        );
        if let Some(text) = rest.strip_prefix("out: ") {
            assert!(
                text.starts_with("line-")
                    && text.ends_with("-end")
                    && text[5..].matches('-').count() == 1,
                "a broken line: {line:?}"
            );
            *per_host.entry(host.to_owned()).or_insert(0) += 1;
        } else {
            assert!(rest.starts_with("err: "), "a broken line: {line:?}");
        }
    }
    assert_eq!(per_host.len(), 3, "{per_host:?}");
    assert!(per_host.values().all(|n| *n == 3000), "{per_host:?}");
}

#[test]
fn parallel_runs_every_host_and_reports_each_failure() {
    let fleet = Fleet::start(3);
    let bad = fleet.hosts[1].string();
    let fabfile =
        format!(r#"fn t() {{ if env.host_string == "{bad}" {{ run("exit 2"); }} run("true"); }}"#);
    let column = fabfile.find("run(\"exit 2\")").expect("the failing call") + 1;
    let caret = " ".repeat(column - 1);
    let ran = fleet
        .test()
        .fabfile(&fabfile)
        .args(&["-P", "-H", &fleet.host_list(), "t"])
        .status(1)
        .mask_times()
        .stderr(&format!(
            "
            [{bad}] Fatal error: run() failed on `{bad}`: `exit 2` exited with status 2
             --> fabfile.rhai:1:{column}
              |
            1 | {fabfile}
              | {caret}^

            Aborting.
            "
        ))
        .run();
    // Rows in host order, whatever order the hosts finished in, the failure's reason on its row.
    let (first, last) = (fleet.hosts[0].string(), fleet.hosts[2].string());
    let summary = &ran.stdout[ran.stdout.find("Summary:").expect("a summary")..];
    assert_eq!(
        summary,
        format!(
            "Summary:\n    {first}  ok  TIME  t\n    {bad}  failed  TIME  t: run() failed on `{bad}`: `exit 2` exited with status 2\n    {last}  ok  TIME  t\n    3 hosts: 2 ok, 1 failed\n\
             Disconnecting from {first}... done.\nDisconnecting from {bad}... done.\n\
             Disconnecting from {last}... done.\n"
        )
    );
}

#[test]
fn dry_run_connects_nowhere_and_says_what_it_would_do() {
    let test = Test::new().fabfile(
        r#"
        fn t() {
            let r = run("rm -rf /srv/app");
            sudo("systemctl restart app");
            local("touch made-locally");
            put("fabfile.rhai", "/tmp/x");
            print(`dry=${r.dry}`);
        }
        "#,
    );
    let made = test.path().join("made-locally");
    test.args(&["--dry-run", "-H", "nowhere.invalid", "t"])
        .stdout(
            "
            [nowhere.invalid] Executing task 't'
            [nowhere.invalid] run: rm -rf /srv/app
            [nowhere.invalid] sudo: systemctl restart app
            [localhost] local: touch made-locally
            [nowhere.invalid] put: fabfile.rhai -> /tmp/x
            dry=true

            Summary:
                nowhere.invalid  dry  TIME  t

            Done.
            ",
        )
        .mask_times()
        .run();
    assert!(!made.exists(), "--dry-run ran a local command");
}

#[test]
fn adhoc_command_needs_no_fabfile() {
    let fleet = Fleet::start(2);
    let (a, b) = (fleet.hosts[0].string(), fleet.hosts[1].string());
    fleet
        .test()
        .args(&[
            "-H",
            &fleet.host_list(),
            "--hide",
            "status",
            "--",
            "echo",
            "hi",
            "from",
            "$0",
        ])
        .stdout(&format!(
            "
            [{a}] Executing task '<command>'
            [{a}] run: echo hi from $0
            [{a}] out: hi from /bin/bash
            [{b}] Executing task '<command>'
            [{b}] run: echo hi from $0
            [{b}] out: hi from /bin/bash
            "
        ))
        .run();
}

#[test]
fn command_timeout_stops_the_command() {
    let fleet = Fleet::start(1);
    let host = fleet.hosts[0].string();
    fleet
        .test()
        .fabfile("fn t() { run(\"sleep 7171\"); }")
        .args(&["-T", "1", "-H", &host, "t"])
        .status(1)
        .stderr_starts_with(&format!(
            "[{host}] Fatal error: run() timed out after 1s on `{host}`: `sleep 7171` was stopped\n"
        ))
        .run();
    eventually("the remote command to be stopped", || {
        (!process_running("sleep 7171")).then_some(())
    });
}

/// Whether a process with exactly this command line runs on this machine (the hosts'
/// commands run here too).
pub(crate) fn process_running(cmdline: &str) -> bool {
    std::fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(Result::ok)
        .any(|entry| {
            std::fs::read(entry.path().join("cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).replace('\0', " ").trim() == cmdline)
        })
}

#[test]
fn json_events_for_machines() {
    let fleet = Fleet::start(1);
    let host = fleet.hosts[0].string();
    let ran = fleet
        .test()
        .fabfile(r#"fn t() { run("echo hi; exit 3", #{ warn_only: true }); puts("said"); }"#)
        .args(&["--json", "-H", &host, "t"])
        .run();
    let events = crate::json::check(&ran.stdout, 0);
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().expect("an event name"))
        .collect();
    assert_eq!(
        kinds,
        [
            "start",
            "task",
            "command",
            "output",
            "result",
            "warning",
            "message",
            "task_end",
            "summary",
            "done",
            "disconnect",
            "end"
        ],
        "{}",
        ran.stdout
    );
    assert_eq!(events[2]["command"], "echo hi; exit 3");
    assert_eq!(events[3]["line"], "hi");
    assert_eq!(events[4]["code"], 3);
    assert_eq!(events[7]["status"], "ok");
    assert_eq!(events[8]["hosts"][0]["host"], host.as_str());
    assert_eq!(events[10]["host"], host.as_str());
    assert_eq!(ran.stderr, "");
}

#[test]
fn hide_and_show_choose_what_is_printed() {
    let fleet = Fleet::start(1);
    let host = fleet.hosts[0].string();
    fleet
        .test()
        .fabfile(
            r#"
            fn t() {
                run("echo visible; echo noisy >&2");
                hide("stdout", || run("echo hidden"));
                show("everything", || run("echo shown-again"));
            }
            "#,
        )
        .args(&["--hide", "running,stderr,status", "-H", &host, "t"])
        .stdout(&format!(
            "[{host}] out: visible\n[{host}] run: echo shown-again\n[{host}] out: shown-again\n"
        ))
        .run();
}

#[test]
fn pty_merges_the_streams_into_stdout() {
    let fleet = Fleet::start(1);
    fleet
        .test()
        .fabfile(r#"fn t() { let r = run("echo to-stderr >&2; tty >/dev/null && echo on-a-tty", #{ pty: true, quiet: true }); print(r.stdout); print(r.stderr.len()); }"#)
        .args(&["-H", &fleet.hosts[0].string(), "--hide", "everything", "--show", "user", "t"])
        .stdout("to-stderr\non-a-tty\n0\n")
        .run();
}

#[test]
fn a_terminal_shows_a_progress_bar_over_parallel_hosts() {
    let fleet = Fleet::start(2);
    let test = fleet
        .test()
        .fabfile(r#"fn t() { run("sleep 0.5; echo done"); }"#);
    let quoted: Vec<String> = [
        crate::test::RFAB,
        "--ssh-config-path",
        &fleet.ssh_config().display().to_string(),
        "-P",
        "-H",
        &fleet.host_list(),
        "t",
    ]
    .iter()
    .map(|a| format!("'{a}'"))
    .collect();
    // `script` runs rfab on a pseudo-terminal, as a person would.
    let output = test
        .command_named("script")
        .args(["-qec", &quoted.join(" "), "/dev/null"])
        .output()
        .expect("script runs");
    let screen = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{screen}");
    assert!(screen.contains("/2 hosts"), "no progress bar in:\n{screen}");
    for host in &fleet.hosts {
        assert!(
            screen.contains(&format!("[{}] out: done\r\n", host.string())),
            "a line was broken in:\n{screen}"
        );
    }
}

/// The bar froze while no host finished (`0/2 hosts, 0s` for as long as the hosts took):
/// it ticks on its own.
#[test]
fn the_progress_bar_ticks_while_no_host_has_finished() {
    let fleet = Fleet::start(2);
    let test = fleet.test().fabfile(r#"fn t() { run("sleep 2.5"); }"#);
    let quoted: Vec<String> = [
        crate::test::RFAB,
        "--ssh-config-path",
        &fleet.ssh_config().display().to_string(),
        "-P",
        "-H",
        &fleet.host_list(),
        "t",
    ]
    .iter()
    .map(|a| format!("'{a}'"))
    .collect();
    let output = test
        .command_named("script")
        .args(["-qec", &quoted.join(" "), "/dev/null"])
        .output()
        .expect("script runs");
    let screen = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{screen}");
    assert!(
        screen.contains("0/2 hosts, 1s"),
        "the bar did not tick before a host finished:\n{screen}"
    );
}

#[test]
fn without_an_ssh_binary_rfab_reads_the_config_itself() {
    let fleet = Fleet::start(1);
    let host = &fleet.hosts[0];
    let config = std::fs::read_to_string(fleet.ssh_config()).expect("config");
    std::fs::write(
        fleet.ssh_config(),
        format!(
            "Host web\n  HostName {}\n  Port {}\n  User root\n{config}",
            host.address, host.port
        ),
    )
    .expect("config");
    fleet
        .test()
        .env("PATH", "/nonexistent")
        .fabfile(r#"fn t() { print(run("echo parsed", #{ quiet: true }).stdout); }"#)
        .args(&["-H", "web", "--hide", "everything", "--show", "user", "t"])
        .stdout("parsed\n")
        .stderr("")
        .run();
    std::fs::write(
        fleet.ssh_config(),
        format!(
            "Match host web\n  Port 1\n{}",
            std::fs::read_to_string(fleet.ssh_config()).expect("config")
        ),
    )
    .expect("config");
    fleet
        .test()
        .env("PATH", "/nonexistent")
        .fabfile(r#"fn t() { run("true"); }"#)
        .args(&["-H", "web", "t"])
        .stderr(&format!(
            "Warning: `{}` has Match blocks, which rfab reads only through OpenSSH's `ssh -G`; \
             they are left out here: install openssh-client for exact answers\n",
            fleet.ssh_config().display()
        ))
        .run();
}

/// Writes `Host web` (`HostName`, `Port`, `User root`) above the fleet's config.
fn alias_web(fleet: &Fleet, address: &str, port: u16) {
    let config = std::fs::read_to_string(fleet.ssh_config()).expect("config");
    std::fs::write(
        fleet.ssh_config(),
        format!("Host web\n  HostName {address}\n  Port {port}\n  User root\n{config}"),
    )
    .expect("config");
}

#[test]
fn an_ssh_config_alias_is_the_name_every_line_shows() {
    // Regression (issue #12): the host's name as written, not `user@address:port`; its key
    // is checked under the address and port the config gives it, as OpenSSH does.
    let fleet = Fleet::start(1);
    let host = &fleet.hosts[0];
    alias_web(&fleet, &host.address, host.port);
    fleet
        .test()
        .fabfile(
            r#"fn t() { run("echo hi"); puts(`${env.host_string} ${env.host} ${env.address}`); }"#,
        )
        .args(&["-H", "web", "t"])
        .mask_times()
        .stdout(&format!(
            "
            [web] Executing task 't'
            [web] run: echo hi
            [web] out: hi
            [web] web web {address}

            Summary:
                web  ok  TIME  t

            Done.
            Disconnecting from web... done.
            ",
            address = host.address
        ))
        .stderr("")
        .run();
    // Nothing listens on the port the alias names now: the error names both.
    let closed = TcpListener::bind((host.address.as_str(), 0)).expect("a port");
    let port = closed.local_addr().expect("bound").port();
    drop(closed);
    alias_web(&fleet, &host.address, port);
    fleet
        .test()
        .fabfile(r#"fn t() { run("true"); }"#)
        .args(&["-H", "web", "t"])
        .status(1)
        .stderr_starts_with(&format!(
            "[web] Fatal error: cannot connect to `web` ({}:{port}): Connection refused",
            host.address
        ))
        .run();
}

#[test]
fn hashed_known_hosts_entries_are_understood() {
    let fleet = Fleet::start(1);
    let status = std::process::Command::new("ssh-keygen")
        .arg("-H")
        .arg("-f")
        .arg(fleet.known_hosts())
        .output()
        .expect("ssh-keygen -H");
    assert!(status.status.success());
    let known = std::fs::read_to_string(fleet.known_hosts()).expect("known_hosts");
    assert!(known.starts_with("|1|"), "not hashed: {known}");
    fleet
        .test()
        .fabfile(r#"fn t() { run("true"); }"#)
        .args(&["-H", &fleet.hosts[0].string(), "t"])
        .run();
}

#[test]
fn known_hosts_off_skips_the_check_only_when_asked() {
    let fleet = Fleet::start(1);
    std::fs::write(fleet.known_hosts(), "").expect("empty known_hosts");
    let host = fleet.hosts[0].string();
    fleet
        .test()
        .fabfile(r#"fn t() { run("true"); }"#)
        .args(&["-H", &host, "t"])
        .status(1)
        .run();
    fleet
        .test()
        .fabfile(r#"fn t() { run("true"); }"#)
        .args(&["--known-hosts", "off", "-H", &host, "t"])
        .run();
    assert_eq!(
        std::fs::read_to_string(fleet.known_hosts()).expect("known_hosts"),
        "",
        "off must not write known_hosts"
    );
}

#[test]
fn pool_size_limits_how_many_hosts_run_at_once() {
    let fleet = Fleet::start(3);
    // The hosts share this machine's /tmp: two at once would find the lock taken.
    let lock = fleet.dir.path().join("one-at-a-time");
    let one = format!(
        "/// @parallel(pool = 1)\nfn t() {{ run(\"mkdir {0} && sleep 0.2 && rmdir {0}\"); }}",
        lock.display()
    );
    fleet
        .test()
        .fabfile(&one)
        .args(&["-H", &fleet.host_list(), "t"])
        .run();
    // With two at once, each host waits until two have started: only real parallelism
    // lets that finish (-T bounds the wait if it is not).
    let started = fleet.dir.path().join("started");
    let two = format!(
        "/// @parallel(pool = 2)\nfn t() {{ run(\"mkdir -p {0} && touch {0}/$$ && until [ $(ls {0} | wc -l) -ge 2 ]; do sleep 0.05; done\"); }}",
        started.display()
    );
    fleet
        .test()
        .fabfile(&two)
        .args(&["-T", "20", "-H", &fleet.host_list(), "t"])
        .run();
}

#[test]
fn scoped_settings_never_leak_between_parallel_hosts() {
    let fleet = Fleet::start(3);
    let fabfile = r#"
        fn t() {
            let dir = "/tmp/rfab-scope-" + env.port;
            run("mkdir -p " + dir);
            cd(dir, || {
                for i in 0..5 { let here = run("pwd", #{ quiet: true }).stdout; if here != dir { abort(`saw ${here} instead of ${dir}`); } }
            });
            run("rmdir " + dir);
        }
    "#;
    fleet
        .test()
        .fabfile(fabfile)
        .args(&["-P", "-H", &fleet.host_list(), "t"])
        .run();
}

#[test]
fn forward_agent_lets_the_host_use_the_local_agent() {
    let fleet = Fleet::start(1);
    let socket = fleet.dir.path().join("agent.sock");
    let mut agent = std::process::Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&socket)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("agent");
    eventually("the agent socket", || socket.exists().then_some(()));
    let key = fleet.home().join(".ssh/id_ed25519");
    let added = std::process::Command::new("ssh-add")
        .arg(&key)
        .env("SSH_AUTH_SOCK", &socket)
        .output()
        .expect("ssh-add");
    let list = |forward: bool| {
        let host = fleet.hosts[0].string();
        let mut args = vec![
            "-H",
            host.as_str(),
            "--hide",
            "everything",
            "--show",
            "user",
            "t",
        ];
        if forward {
            args.insert(0, "-A");
        }
        fleet
            .test()
            .env("SSH_AUTH_SOCK", &socket.display().to_string())
            .fabfile(r#"fn t() { let r = run("ssh-add -l", #{ quiet: true }); print(`${r.code} ${r.stdout}`); }"#)
            .args(&args)
            .run()
            .stdout
    };
    let (forwarded, not_forwarded) = (list(true), list(false));
    let _ = agent.kill();
    let _ = agent.wait();
    assert!(added.status.success());
    assert!(
        forwarded.starts_with("0 256 SHA256:") && forwarded.contains("rfab-test (ED25519)"),
        "with -A: {forwarded}"
    );
    assert!(
        not_forwarded.starts_with("2 "),
        "without -A the host saw an agent: {not_forwarded}"
    );
}

#[test]
fn a_known_key_of_another_type_is_not_a_false_alarm() {
    // known_hosts holds only the host's ECDSA key, while libssh2 prefers ed25519: OpenSSH
    // would negotiate ECDSA; so must rfab, instead of crying man-in-the-middle.
    let fleet = Fleet::start(1);
    let host = &fleet.hosts[0];
    std::fs::write(
        fleet.known_hosts(),
        host.known_hosts_line_for("ecdsa") + "\n",
    )
    .expect("known_hosts");
    fleet
        .test()
        .fabfile(r#"fn t() { run("true"); }"#)
        .args(&["-H", &host.string(), "t"])
        .run();
}

#[test]
fn dash_u_and_port_fill_in_what_the_host_string_leaves_out() {
    let fleet = Fleet::start(1);
    let host = &fleet.hosts[0];
    let port = host.port.to_string();
    fleet
        .test()
        .fabfile(r#"fn t() { print(`${env.user}@${env.host}:${env.port} ${run("whoami", #{ quiet: true }).stdout}`); }"#)
        .args(&["-u", "root", "--port", &port, "-H", &host.address, "--hide", "everything", "--show", "user", "t"])
        .stdout(&format!("root@{}:{port} root\n", host.address))
        .run();
}

#[test]
fn on_abort_runs_only_when_the_task_fails() {
    let fleet = Fleet::start(1);
    let flag = fleet.dir.path().join("maintenance");
    let fabfile = format!(
        r#"fn t(fail) {{ run("touch {0}"); on_abort("rm -f {0}"); if fail == "yes" {{ abort("broken"); }} }}"#,
        flag.display()
    );
    fleet
        .test()
        .fabfile(&fabfile)
        .args(&["-H", &fleet.hosts[0].string(), "t:no"])
        .run();
    assert!(flag.exists(), "on_abort ran although the task succeeded");
    let host = fleet.hosts[0].string();
    let ran = fleet
        .test()
        .fabfile(&fabfile)
        .args(&["-H", &host, "t:yes"])
        .status(1)
        .mask_times()
        .stdout(&format!(
            "
            [{host}] Executing task 't'
            [{host}] run: touch {0}
            [{host}] on abort: rm -f {0}

            Summary:
                {host}  failed  TIME  t: broken
            Disconnecting from {host}... done.
            ",
            flag.display()
        ))
        .stderr(&format!("[{host}] Fatal error: broken\n\nAborting.\n"))
        .run();
    assert!(!flag.exists(), "on_abort did not run: {}", ran.stdout);
}

#[test]
fn commands_run_in_a_login_shell_by_default() {
    let fleet = Fleet::start(1);
    fleet
        .login_shell_test()
        .fabfile(r#"fn t() { print(run("shopt -q login_shell && echo login", #{ quiet: true }).stdout); }"#)
        .args(&["-H", &fleet.hosts[0].string(), "--hide", "everything", "--show", "user", "t"])
        .stdout("login\n")
        .run();
}

/// `known_hosts` text for `host`: its plain key, then a `@revoked` line for that same key
/// under `pattern`.
fn revoking(host: &crate::sshd::Host, pattern: &str) -> String {
    let line = host.known_hosts_line();
    let key: Vec<&str> = line.split_whitespace().skip(1).collect();
    format!("{line}\n@revoked {pattern} {}\n", key.join(" "))
}

// `@revoked` lines were skipped: a revoked key that another line lists was accepted.
#[test]
fn a_revoked_host_key_is_refused_even_when_listed_as_known() {
    let fleet = Fleet::start(1);
    let host = &fleet.hosts[0];
    let place = format!("{}:2", fleet.known_hosts().display());
    let exact = format!("[{}]:{}", host.address, host.port);
    // OpenSSH refuses a revoked key whatever StrictHostKeyChecking says: so do all policies.
    for (pattern, policy) in [
        (exact.as_str(), "strict"),
        ("*", "accept-new"),
        ("[127.77.*]:*,nothing", "off"),
    ] {
        std::fs::write(fleet.known_hosts(), revoking(host, pattern)).expect("known_hosts");
        fleet
            .test()
            .fabfile("fn t() { run(\"true\"); }")
            .args(&["--known-hosts", policy, "-H", &host.string(), "t"])
            .status(1)
            .stderr_regex(&revoked(&host.string(), &exact, &place))
            .run();
    }
    // Hashed names too: `ssh-keygen -H` hashes the plain line, and the `@revoked` line
    // gets the same hashed name (ssh-keygen leaves marked lines alone).
    std::fs::write(fleet.known_hosts(), host.known_hosts_line() + "\n").expect("known_hosts");
    let hashed = std::process::Command::new("ssh-keygen")
        .arg("-H")
        .arg("-f")
        .arg(fleet.known_hosts())
        .output()
        .expect("ssh-keygen -H");
    assert!(hashed.status.success());
    let known = std::fs::read_to_string(fleet.known_hosts()).expect("known_hosts");
    assert!(known.starts_with("|1|"), "not hashed: {known}");
    let plain = known.lines().next().unwrap_or_default();
    std::fs::write(fleet.known_hosts(), format!("{plain}\n@revoked {plain}\n"))
        .expect("known_hosts");
    fleet
        .test()
        .fabfile("fn t() { run(\"true\"); }")
        .args(&["-H", &host.string(), "t"])
        .status(1)
        .stderr_regex(&revoked(&host.string(), &exact, &place))
        .run();
    assert_eq!(host.logins(), 0, "logged in with a revoked key");
    // A negated pattern excludes the host: that line revokes nothing here.
    std::fs::write(fleet.known_hosts(), revoking(host, "*,![127.77.*]:*")).expect("known_hosts");
    fleet
        .test()
        .fabfile("fn t() { run(\"true\"); }")
        .args(&["-H", &host.string(), "t"])
        .run();
}

/// The refusal of a revoked key of `host`, listed as `exact`, revoked at `place`.
fn revoked(host: &str, exact: &str, place: &str) -> String {
    pattern(
        &format!(
            "
            [{host}] Fatal error: `{host}`: the host key of {exact} (<FINGERPRINT>) is REVOKED by `{place}`; not connecting, whatever --known-hosts says.
            hint: a revoked key must never be trusted again: ask the host's administrator for its new key and that key's fingerprint, then add it to known_hosts

            Aborting.
            "
        ),
        &[FINGERPRINT],
    )
}

// rfab cannot check host certificates: an `@cert-authority` line is no plain match, and the
// refusal says why instead of only "not known".
#[test]
fn a_cert_authority_line_is_explained_when_the_key_is_unknown() {
    let fleet = Fleet::start(1);
    let host = &fleet.hosts[0];
    let line = host.known_hosts_line();
    std::fs::write(fleet.known_hosts(), format!("@cert-authority {line}\n")).expect("known_hosts");
    fleet
        .test()
        .fabfile("fn t() { run(\"true\"); }")
        .args(&["-H", &host.string(), "t"])
        .status(1)
        .stderr_regex(&pattern(
            &format!(
                "
                [{0}] Fatal error: the host key of `{0}` is not known: <FINGERPRINT>
                hint: if that is the key of {1}:{2}, add it with `ssh-keyscan -p {2} {1} >> ~/.ssh/known_hosts`, or run once with `--known-hosts accept-new`
                note: `{3}:1` trusts a certificate authority for this host, but rfab cannot check host certificates (libssh2 does not support them): add the host's plain key as above

                Aborting.
                ",
                host.string(),
                host.address,
                host.port,
                fleet.known_hosts().display()
            ),
            &[FINGERPRINT],
        ))
        .run();
    assert_eq!(host.logins(), 0);
}

// `--known-hosts off` said nothing, even when the key had changed.
#[test]
fn known_hosts_off_warns_once_per_host_and_loudly_for_a_changed_key() {
    let fleet = Fleet::start(2);
    let (victim, other) = (&fleet.hosts[0], &fleet.hosts[1]);
    let forged = other.known_hosts_line().replacen(
        &format!("[{}]:{}", other.address, other.port),
        &format!("[{}]:{}", victim.address, victim.port),
        1,
    );
    std::fs::write(fleet.known_hosts(), format!("{forged}\n")).expect("known_hosts");
    let hosts = format!("{},{}", victim.string(), other.string());
    let warnings = pattern(
        &format!(
            "
            Warning: THE HOST KEY OF `[{0}]:{1}` HAS CHANGED: it is now <FINGERPRINT>, not the one known_hosts lists. Someone could be intercepting the connection; rfab goes on only because of --known-hosts off. If the change is expected, remove the old key with `ssh-keygen -R '[{0}]:{1}'`
            Warning: the host key of `[{2}]:{3}` (<FINGERPRINT>) is not checked: --known-hosts off
            ",
            victim.address, victim.port, other.address, other.port
        ),
        &[FINGERPRINT],
    );
    let ran = fleet
        .test()
        .fabfile("fn t() { run(\"true\"); }\nfn u() { run(\"true\"); }")
        .args(&["--known-hosts", "off", "-H", &hosts, "t", "u"])
        .stderr_regex(&warnings)
        .run();
    let changed = format!(
        "Warning: THE HOST KEY OF `[{}]:{}` HAS CHANGED: it is now SHA256:",
        victim.address, victim.port
    );
    let unchecked = format!(
        "Warning: the host key of `[{}]:{}` (SHA256:",
        other.address, other.port
    );
    assert_eq!(ran.stderr.matches(&changed).count(), 1, "{}", ran.stderr);
    assert_eq!(ran.stderr.matches(&unchecked).count(), 1, "{}", ran.stderr);
}
