//! Logging in: agent, password, encrypted keys.

use std::process::{Child, Command, Stdio};

use crate::sshd::{Fleet, SUDO_USER, SUDO_USER_PASSWORD, ensure_sudo_user, eventually, keygen};

/// An ssh-agent on a socket in `dir`, killed by PID when dropped.
struct Agent {
    socket: String,
    child: Child,
}

impl Agent {
    fn start(dir: &std::path::Path) -> Self {
        let socket = dir.join("agent.sock").display().to_string();
        let child = Command::new("ssh-agent")
            .args(["-D", "-a", &socket])
            .stdout(Stdio::null())
            .spawn()
            .expect("ssh-agent");
        eventually("the agent socket", || {
            std::path::Path::new(&socket).exists().then_some(())
        });
        Self { socket, child }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn logs_in_with_a_key_held_by_the_agent() {
    let fleet = Fleet::start(1);
    // A key only the agent has: no IdentityFile points at it.
    let key = fleet.dir.path().join("agent_key");
    keygen(&key, "");
    let public = std::fs::read_to_string(key.with_extension("pub")).expect("pub");
    std::fs::write(fleet.dir.path().join("authorized_keys"), public).expect("authorized_keys");
    let agent = Agent::start(fleet.dir.path());
    let added = Command::new("ssh-add")
        .arg(&key)
        .env("SSH_AUTH_SOCK", &agent.socket)
        .output()
        .expect("ssh-add");
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    std::fs::remove_file(&key).expect("the key lives in the agent only");
    fleet
        .test()
        .env("SSH_AUTH_SOCK", &agent.socket)
        .fabfile(r#"fn t() { print(run("echo in", #{ quiet: true }).stdout); }"#)
        .args(&[
            "-H",
            &fleet.hosts[0].string(),
            "--hide",
            "everything",
            "--show",
            "user",
            "t",
        ])
        .stdout("in\n")
        .run();
}

#[test]
fn logs_in_with_a_password() {
    ensure_sudo_user();
    let fleet = Fleet::start(1);
    std::fs::write(fleet.dir.path().join("authorized_keys"), "").expect("no keys");
    let host = format!(
        "{SUDO_USER}@{}:{}",
        fleet.hosts[0].address, fleet.hosts[0].port
    );
    fleet
        .test()
        .fabfile(r#"fn t() { print(run("whoami", #{ quiet: true }).stdout); }"#)
        .args(&[
            "-p",
            SUDO_USER_PASSWORD,
            "-H",
            &host,
            "--hide",
            "everything",
            "--show",
            "user",
            "t",
        ])
        .stdout(&format!("{SUDO_USER}\n"))
        .run();
}

#[test]
fn failed_login_says_what_was_tried() {
    let fleet = Fleet::start(1);
    std::fs::write(fleet.dir.path().join("authorized_keys"), "").expect("no keys");
    let host = fleet.hosts[0].string();
    let key = fleet.home().join(".ssh/id_ed25519");
    fleet
        .test()
        .fabfile(r#"fn t() { run("true"); }"#)
        .args(&["-H", &host, "t"])
        .status(1)
        .stderr(&format!(
            "
            [{host}] Fatal error: authentication failed for `{host}` (tried key {}; the server accepts: publickey,password); use -i KEY, an ssh-agent, or a password in RFAB_PASSWORD

            Aborting.
            ",
            key.display()
        ))
        .run();
}

#[test]
fn an_encrypted_key_without_a_terminal_is_skipped_not_hung_on() {
    let fleet = Fleet::start(1);
    let key = fleet.dir.path().join("locked");
    keygen(&key, "passphrase");
    std::fs::write(
        fleet.dir.path().join("authorized_keys"),
        std::fs::read(key.with_extension("pub")).expect("pub"),
    )
    .expect("auth");
    let host = fleet.hosts[0].string();
    let key_arg = key.display().to_string();
    let default_key = fleet.home().join(".ssh/id_ed25519");
    let ran = fleet
        .test()
        .fabfile(r#"fn t() { run("true"); }"#)
        .args(&["-i", &key_arg, "-H", &host, "t"])
        .status(1)
        .stderr(&format!(
            "
            [{host}] Fatal error: authentication failed for `{host}` (tried key {}; skipped key {key_arg}: it is encrypted and there is no terminal to ask for its passphrase on; load it with `ssh-add {key_arg}`; the server accepts: publickey,password); use -i KEY, an ssh-agent, or a password in RFAB_PASSWORD

            Aborting.
            ",
            default_key.display()
        ))
        .run();
    // It was reported as "tried key ...", though it never reached the server.
    assert!(
        !ran.stderr.contains(&format!("tried key {key_arg}")),
        "{}",
        ran.stderr
    );
}

/// Runs rfab on a pseudo-terminal (`script`), typing `typed` at it.
fn on_a_terminal(test: &crate::test::Test, args: &[&str], typed: &str) -> (bool, String) {
    let quoted: Vec<String> = std::iter::once(crate::test::RFAB)
        .chain(args.iter().copied())
        .map(|a| format!("'{a}'"))
        .collect();
    let mut child = test
        .command_named("script")
        .args(["-qec", &quoted.join(" "), "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("script runs");
    std::io::Write::write_all(child.stdin.as_mut().expect("stdin"), typed.as_bytes())
        .expect("type");
    let output = child.wait_with_output().expect("script ends");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn asks_once_for_an_encrypted_keys_passphrase_on_a_terminal() {
    let fleet = Fleet::start(2);
    let key = fleet.dir.path().join("locked");
    keygen(&key, "open sesame");
    std::fs::write(
        fleet.dir.path().join("authorized_keys"),
        std::fs::read(key.with_extension("pub")).expect("pub"),
    )
    .expect("auth");
    let test = fleet.test().fabfile(r#"fn t() { run("true"); }"#);
    let config = fleet.ssh_config().display().to_string();
    let (ok, screen) = on_a_terminal(
        &test,
        &[
            "--ssh-config-path",
            &config,
            "-i",
            &key.display().to_string(),
            "-H",
            &fleet.host_list(),
            "t",
        ],
        "open sesame\n",
    );
    assert!(ok, "{screen}");
    assert_eq!(
        screen.matches("Enter passphrase for key").count(),
        1,
        "{screen}"
    );
    // The test types ahead, so the terminal echoes it before rfab asks; never after.
    let asked = screen.find("Enter passphrase for key").expect("asked");
    assert!(
        !screen[asked..].contains("open sesame"),
        "the passphrase was echoed: {screen}"
    );
}

#[test]
fn dash_capital_i_asks_for_the_password_before_anything_runs() {
    ensure_sudo_user();
    let fleet = Fleet::start(1);
    std::fs::write(fleet.dir.path().join("authorized_keys"), "").expect("no keys");
    let host = format!(
        "{SUDO_USER}@{}:{}",
        fleet.hosts[0].address, fleet.hosts[0].port
    );
    let test = fleet.test().fabfile(r#"fn t() { run("whoami"); }"#);
    let config = fleet.ssh_config().display().to_string();
    let (ok, screen) = on_a_terminal(
        &test,
        &["--ssh-config-path", &config, "-I", "-H", &host, "t"],
        &format!("{SUDO_USER_PASSWORD}\n"),
    );
    assert!(ok, "{screen}");
    let asked = screen
        .find("Login password for")
        .expect("asked for the password");
    let executing = screen.find("Executing task").expect("ran the task");
    assert!(asked < executing, "asked after the task began: {screen}");
    assert!(screen.contains(&format!("out: {SUDO_USER}")), "{screen}");
}
