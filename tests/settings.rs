//! `settings()` and env's connection keys on real hosts: another user or port for part of a
//! task, `env.gateway` and friends, and the port the SSH config chose.

use std::path::Path;
use std::process::Command;

use crate::sshd::Fleet;
use crate::test::Test;

/// A second login on the fleet's hosts (their authorized keys serve every user).
struct User {
    name: String,
}

impl User {
    fn new(name: &str, dir: &Path) -> Self {
        let home = dir.join(name);
        std::fs::create_dir_all(&home).expect("home");
        let _ = Command::new("userdel").arg(name).output();
        let status = Command::new("useradd")
            .args(["-M", "-s", "/bin/bash", "-d"])
            .arg(&home)
            .arg(name)
            .status()
            .expect("useradd");
        assert!(status.success(), "useradd {name}");
        // A new account is locked (`!` for a password), and sshd without PAM refuses a
        // locked account even a key login: `*` is no password and no lock.
        let status = Command::new("usermod")
            .args(["-p", "*", name])
            .status()
            .expect("usermod");
        assert!(status.success(), "usermod {name}");
        Self { name: name.into() }
    }
}

impl Drop for User {
    fn drop(&mut self) {
        let _ = Command::new("userdel").arg(&self.name).status();
    }
}

/// `settings(#{ user: "deploy" }, || run(..))` ran the command as root: the key was kept
/// and never read. Fabric connects as that user, once, and reuses the connection.
#[test]
fn settings_user_runs_as_that_user_over_one_connection() {
    let fleet = Fleet::start(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let user = User::new("rfab-habits", dir.path());
    let host = &fleet.hosts[0];
    fleet
        .test()
        .fabfile(&format!(
            r#"
            fn t() {{
                let who = || run("whoami", #{{ quiet: true }}).stdout;
                print(who.call());
                print(settings(#{{ user: "{name}" }}, || `${{who.call()}} ${{env.user}}`));
                print(settings(#{{ user: "{name}" }}, || who.call()));
                print(who.call());
            }}
            "#,
            name = user.name
        ))
        .args(&[
            "-H",
            &host.string(),
            "--hide",
            "everything",
            "--show",
            "user",
            "t",
        ])
        .stdout(&format!("root\n{0} {0}\n{0}\nroot\n", user.name))
        .run();
    assert_eq!(host.logins(), 2, "{}", host.log());
}

#[test]
fn settings_refuses_what_it_cannot_change_and_checks_its_values() {
    Test::new()
        .fabfile(r#"fn t() { settings(#{ gateway: "bastion" }, || 1); }"#)
        .args(&["t"])
        .status(1)
        .stderr_starts_with("Fatal error: settings(): `gateway` cannot change for part of a task: set `env.gateway` before the host's first connection, or pass -g\n")
        .run();
    Test::new()
        .fabfile(r#"fn t() { settings(#{ user: "deploy" }, || 1); }"#)
        .args(&["t"])
        .status(1)
        .stderr_starts_with("Fatal error: settings(): `user`, `port` and `key_filename` change the host this task runs on, and it runs on none: give `host_string` too, or give the task hosts\n")
        .run();
    Test::new()
        .fabfile(r#"fn t() { settings(#{ colour: "red" }, || 1); }"#)
        .args(&["t"])
        .status(1)
        .stderr_starts_with("Fatal error: settings(): rfab does not know `colour`, so it would change nothing; it knows `host_string`, `user`, `port`, `key_filename`, `warn_only`, `quiet`, `shell`, `sudo_user`, `use_sudo`, `pty`, `command_timeout`, `output_limit`, `abort_on_prompts`, `path`, `path_behavior`, and the keys already in `env` (set `env.colour` first to give it a value for the run)\n")
        .run();
    Test::new()
        .fabfile(
            r#"env.stage = "prod"; fn t() { settings(#{ host_string: "deploy@web9:2200", stage: "qa" }, || puts(`${env.host_string} ${env.user} ${env.port} ${env.stage}`)); }"#,
        )
        .args(&["t", "--dry-run"])
        .stdout("deploy@web9:2200 deploy 2200 qa\n\nDone.\n")
        .run();
}

/// `env.port` read 22 while the SSH config had sent the connection to another port (the
/// closing line, which said `root@web1:22`, now names the host as written).
#[test]
fn env_port_is_the_port_the_ssh_config_chose() {
    let fleet = Fleet::start(1);
    let host = &fleet.hosts[0];
    let config = format!(
        "Host web1\n  HostName {}\n  Port {}\n  User root\n{}",
        host.address,
        host.port,
        std::fs::read_to_string(fleet.ssh_config()).expect("ssh config")
    );
    std::fs::write(fleet.ssh_config(), config).expect("ssh config");
    fleet
        .test()
        .fabfile(r#"fn t() { puts(`${env.port} ${env.user}`); run("true"); }"#)
        .args(&[
            "-H",
            "web1",
            "--hide",
            "running,status",
            "t",
            "--show",
            "status",
        ])
        .mask_times()
        .stdout(&format!(
            "
            [web1] {port} root

            Summary:
                web1  ok  TIME  t

            Done.
            Disconnecting from web1... done.
            ",
            port = host.port
        ))
        .run();
}

/// `env.gateway`, set by an env task, was never read: only `-g` worked.
#[test]
fn env_gateway_from_an_env_task_reaches_a_host_through_another() {
    let fleet = Fleet::start(2);
    let (jump, target) = (&fleet.hosts[0], &fleet.hosts[1]);
    fleet
        .test()
        .fabfile(&format!(
            r#"
            fn prod() {{ env.gateway = "{}"; env.connection_attempts = 2; }}
            fn t() {{ print(run("echo through", #{{ quiet: true }}).stdout); }}
            "#,
            jump.string()
        ))
        .args(&[
            "-H",
            &target.string(),
            "--hide",
            "everything",
            "--show",
            "user",
            "prod",
            "t",
        ])
        .stdout("through\n")
        .run();
    assert_eq!(jump.logins(), 1, "the jump host was not used");
    Test::new()
        .fabfile(r#"env.keepalive = "often"; fn t() { run("true"); }"#)
        .args(&["-H", "web1", "t"])
        .status(1)
        .stderr("error: `env.keepalive` must be a whole number of 0 or more, not often\n")
        .run();
}

/// A `key_filename` that does not exist was passed over without a word.
#[test]
fn a_missing_key_filename_is_warned_about() {
    let fleet = Fleet::start(1);
    let host = &fleet.hosts[0];
    let ran = fleet
        .test()
        .fabfile(r#"env.key_filename = "/nonexistent/id_deploy"; fn t() { run("true"); }"#)
        .args(&[
            "-H",
            &host.string(),
            "--hide",
            "everything",
            "--show",
            "warnings",
            "t",
        ])
        .run();
    assert_eq!(
        ran.stderr,
        "Warning: key_filename `/nonexistent/id_deploy` does not exist; trying the other keys\n"
    );
}

/// The migration guide promises Fabric's `env.cwd` and `env.lcwd`: what `cd`/`lcd` set.
#[test]
fn env_cwd_is_what_cd_set() {
    Test::new()
        .fabfile(r#"fn t() { print(`[${env.cwd}]`); cd("/srv", || cd("app", || lcd("build", || print(`${env.cwd} ${env.lcwd}`)))); }"#)
        .args(&["t"])
        .stdout("[]\n/srv/app build\n\nDone.\n")
        .run();
}

/// `env.path` and `env.shell_env` set for the run shape every remote command, as in Fabric.
#[test]
fn env_path_and_shell_env_shape_remote_commands() {
    let fleet = Fleet::start(1);
    fleet
        .test()
        .fabfile(
            r#"
            env.path = "/opt/app/bin";
            env.shell_env = #{ STAGE: "prod" };
            fn t() {
                let echo = || run("echo $STAGE ${PATH%%:*} ${PATH##*:}", #{ quiet: true }).stdout;
                print(echo.call());
                print(settings(#{ path_behavior: "prepend" }, echo));
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
        .stdout_regex(
            "
            prod /[^ ]+ /opt/app/bin
            prod /opt/app/bin /[^ ]+
            ",
        )
        .run();
}
