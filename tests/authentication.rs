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
    let ran = fleet
        .test()
        .fabfile(r#"fn t() { run("true"); }"#)
        .args(&["-H", &host, "t"])
        .status(1)
        .run();
    assert!(
        ran.stderr.starts_with(&format!(
            "[{host}] Fatal error: authentication failed for `root@{host}` (tried key "
        )),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr
            .contains("use -i KEY, an ssh-agent, or -p/--password"),
        "{}",
        ran.stderr
    );
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
    let ran = fleet
        .test()
        .fabfile(r#"fn t() { run("true"); }"#)
        .args(&["-i", &key_arg, "-H", &host, "t"])
        .status(1)
        .run();
    assert!(
        ran.stderr.contains("authentication failed"),
        "{}",
        ran.stderr
    );
}
