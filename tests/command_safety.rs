//! Remote commands under hostile or odd conditions, from a review of the hardening: a
//! target user's login files spoofing sudo's prompt, a non-POSIX `shell` under sudo, a
//! process id faked by a command's output, a command that closed its streams before its
//! timeout, escape sequences in printed results and in JSON, and output limits past what a
//! script can hold.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::sshd::Fleet;

/// A local user made for one test, with a home of its own; removed when dropped.
struct User {
    name: String,
}

impl User {
    /// `name`, whose login shell profile is `profile`, in a home under `dir`.
    fn new(name: &str, dir: &Path, profile: &str) -> Self {
        let home = dir.join(name);
        std::fs::create_dir_all(&home).expect("home");
        std::fs::write(home.join(".bash_profile"), profile).expect("profile");
        let _ = Command::new("userdel").arg(name).status();
        let status = Command::new("useradd")
            .args(["-M", "-s", "/bin/bash", "-d"])
            .arg(&home)
            .arg(name)
            .status()
            .expect("useradd");
        assert!(status.success(), "useradd {name}");
        // The test's temp dirs are root's alone: let the user reach its home.
        let mut path = home.clone();
        while path.starts_with(dir.parent().unwrap_or(dir)) && path != Path::new("/") {
            let _ = Command::new("chmod").arg("o+x").arg(&path).status();
            path.pop();
        }
        let _ = Command::new("chown").args(["-R", name]).arg(&home).status();
        Self { name: name.into() }
    }
}

impl Drop for User {
    fn drop(&mut self) {
        let _ = Command::new("userdel").arg(&self.name).status();
    }
}

#[test]
fn a_target_users_login_files_never_get_the_sudo_password() {
    let fleet = Fleet::start(1);
    // The profile finds sudo's prompt in its parent's command line, prints it as sudo would
    // and waits for what rfab sends.
    let profile = r#"
p=$$
while [ "$p" -gt 1 ]; do
    prompt=$(tr '\0' '\n' < /proc/$p/cmdline | grep '^\[rfab:sudo:')
    [ -n "$prompt" ] && break
    p=$(awk '{ print $4 }' /proc/$p/stat)
done
echo "profile found the prompt: $([ -n "$prompt" ] && echo yes)" >&2
printf '%s' "$prompt" >&2; read -t 2 -r got; echo " got=[$got]" >&2
"#;
    let name = format!("rfab-t{}", std::process::id() % 100_000);
    let _user = User::new(&name, fleet.dir.path(), profile);
    let ran = fleet
        .test()
        .env("RFAB_SUDO_PASSWORD", "never-for-a-login-file")
        .fabfile(&format!(
            r#"fn t() {{ sudo("echo ran", #{{ user: "{name}", shell: "/bin/bash -l -c" }}); }}"#
        ))
        .args(&["-H", &fleet.hosts[0].string(), "t"])
        .run();
    let all = format!("{}{}", ran.stdout, ran.stderr);
    assert!(all.contains("profile found the prompt: yes"), "{all}");
    assert!(!all.contains("never-for-a-login-file"), "{all}");
    assert!(all.contains("got=[]"), "{all}");
    assert!(all.contains("out: ran"), "{all}");
}

#[test]
fn sudo_runs_a_shell_that_is_not_posix() {
    let fleet = Fleet::start(1);
    let host = fleet.hosts[0].string();
    fleet
        .test()
        .fabfile(r#"fn t() { print(sudo("print 6 * 7", #{ shell: "perl -e" }).stdout); }"#)
        .args(&["-H", &host, "t"])
        .mask_times()
        .stdout(&format!(
            "
            [{host}] Executing task 't'
            [{host}] sudo: print 6 * 7
            [{host}] out: 42
            42

            Summary:
                {host}  ok  TIME  t

            Done.
            Disconnecting from {host}... done.
            "
        ))
        .run();
}

#[test]
fn a_process_id_printed_by_the_command_never_chooses_what_is_stopped() {
    let fleet = Fleet::start(1);
    // A process of this machine's root that a timeout must not touch.
    let mut decoy = Command::new("sleep")
        .arg("7409")
        .stdout(Stdio::null())
        .spawn()
        .expect("decoy");
    let _stop = crate::signals::Cleanup(vec![decoy.id()]);
    let host = fleet.hosts[0].string();
    let pid = decoy.id();
    fleet
        .test()
        .fabfile(&format!(
            r#"fn t() {{ run("echo rfab-remote-pid:{pid}; sleep 7411", #{{ timeout: 1 }}); }}"#
        ))
        .args(&["-H", &host, "t"])
        .status(1)
        .stderr(&format!(
            r#"
            [{host}] Fatal error: run() timed out after 1s on `{host}`: `echo rfab-remote-pid:{pid}; sleep 7411` was stopped
             --> fabfile.rhai:1:10
              |
            1 | fn t() {{ run("echo rfab-remote-pid:{pid}; sleep 7411", #{{ timeout: 1 }}); }}
              |          ^

            Aborting.
            "#
        ))
        .run();
    assert!(
        decoy.try_wait().expect("try_wait").is_none(),
        "the timeout killed the process the command named"
    );
    crate::sshd::eventually("the command itself to be stopped", || {
        (!crate::ssh::process_running("sleep 7411")).then_some(())
    });
}

#[test]
fn a_command_that_closed_its_streams_times_out_as_a_command_not_a_dead_host() {
    let fleet = Fleet::start(1);
    let host = fleet.hosts[0].string();
    let ran = fleet
        .test()
        .fabfile(
            r#"fn t() { run("exec >/dev/null 2>&1 </dev/null; sleep 7412", #{ timeout: 2 }); }"#,
        )
        .args(&["-H", &host, "t"])
        .status(1)
        .stderr(&format!(
            r#"
            [{host}] Fatal error: run() timed out after 2s on `{host}`: `exec >/dev/null 2>&1 </dev/null; sleep 7412` was stopped
             --> fabfile.rhai:1:10
              |
            1 | fn t() {{ run("exec >/dev/null 2>&1 </dev/null; sleep 7412", #{{ timeout: 2 }}); }}
              |          ^

            Aborting.
            "#
        ))
        .run();
    assert!(!ran.stderr.contains("stopped answering"), "{}", ran.stderr);
    crate::sshd::eventually("the command to be stopped", || {
        (!crate::ssh::process_running("sleep 7412")).then_some(())
    });
}

#[test]
fn escape_sequences_in_printed_results_and_json_never_reach_the_terminal() {
    let fleet = Fleet::start(1);
    let host = fleet.hosts[0].string();
    let fabfile = r#"fn t() { print(run("printf '\\033]0;pwned\\007\\033[2Jhello\\302\\233J'", #{ quiet: true }).stdout); }"#;
    let ran = fleet
        .test()
        .fabfile(fabfile)
        .args(&["-H", &host, "t"])
        .mask_times()
        .stdout(&format!(
            "
            [{host}] Executing task 't'
            hello

            Summary:
                {host}  ok  TIME  t

            Done.
            Disconnecting from {host}... done.
            "
        ))
        .run();
    assert!(!ran.stdout.contains('\u{1b}'), "{:?}", ran.stdout);
    assert!(!ran.stdout.contains('\u{9b}'), "{:?}", ran.stdout);
    let ran = fleet
        .test()
        .fabfile(fabfile)
        .args(&["--json", "-H", &host, "t"])
        .stdout_regex(
            r#".*\n\{"event":"message","host":"[^"]+","task":"t","text":"\\u001b\]0;pwned\\u0007\\u001b\[2Jhello\\u009bJ","ts":"[^"]+"\}\n.*"#,
        )
        .run();
    assert!(!ran.stdout.contains('\u{9b}'), "{:?}", ran.stdout);
    crate::json::check(&ran.stdout, 0);
}

#[test]
fn an_output_limit_past_what_a_script_can_hold_is_refused() {
    let fleet = Fleet::start(1);
    let host = fleet.hosts[0].string();
    fleet
        .test()
        .fabfile(r#"fn t() { run("true", #{ output_limit: "1G" }); }"#)
        .args(&["-H", &host, "t"])
        .status(1)
        .stderr(&format!(
            r#"
            [{host}] Fatal error: run(): `output_limit` must be a number of bytes up to 256 MiB (the longest string a script may hold), such as 1048576 or "16M"
             --> fabfile.rhai:1:10
              |
            1 | fn t() {{ run("true", #{{ output_limit: "1G" }}); }}
              |          ^

            Aborting.
            "#
        ))
        .run();
}
