//! A fleet of real `sshd` hosts on loopback for the tests: one daemon per host (the fleet
//! crate's `Sshd`, as the demo's nodes run), each on its own 127.77.x.y address and port,
//! with its own host keys. Stopped by PID when dropped.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use rfab_fleet::node::{Sshd, SshdOptions};
use tempfile::TempDir;

use crate::test::Test;

const SSHD: &str = "/usr/sbin/sshd";
const DEADLINE: Duration = Duration::from_secs(20);

/// Addresses are handed out once per test process, so parallel tests never share a host.
static NEXT_HOST: AtomicU32 = AtomicU32::new(0);

pub(crate) struct Host {
    pub(crate) address: String,
    pub(crate) port: u16,
    pub(crate) pid: u32,
    /// The directory the host sees as `/srv` (in its own mount namespace), if it has one.
    pub(crate) srv: Option<PathBuf>,
    sshd: Sshd,
}

impl Host {
    /// `root@127.77.0.1:40123`
    pub(crate) fn string(&self) -> String {
        format!("root@{}:{}", self.address, self.port)
    }

    /// The `sshd` log, to check what the daemon saw (connections, auth).
    pub(crate) fn log(&self) -> String {
        self.sshd.log()
    }

    /// How many logins the daemon has accepted.
    pub(crate) fn logins(&self) -> usize {
        self.sshd.logins()
    }

    /// The line `ssh-keyscan` would print for this host's ed25519 key.
    pub(crate) fn known_hosts_line(&self) -> String {
        self.known_hosts_line_for("ed25519")
    }

    /// The same for one of its key types (`ed25519`, `ecdsa`).
    pub(crate) fn known_hosts_line_for(&self, kind: &str) -> String {
        self.sshd.known_hosts_line(kind).expect("host key")
    }
}

pub(crate) struct Fleet {
    /// Before `dir`, so the daemons stop before their files go.
    pub(crate) hosts: Vec<Host>,
    pub(crate) dir: TempDir,
}

impl Fleet {
    /// Starts `n` hosts that accept the fleet's client key for root, and writes a HOME
    /// whose `.ssh` holds that key and a `known_hosts` file naming every host.
    pub(crate) fn start(n: usize) -> Self {
        Self::start_hosts(n, false)
    }

    /// `start`, each host with its own `/srv` (a private mount namespace), as real servers
    /// have: for fabfiles that write under fixed paths such as `/srv/mysite`.
    pub(crate) fn start_with_own_srv(n: usize) -> Self {
        Self::start_hosts(n, true)
    }

    fn start_hosts(n: usize, own_srv: bool) -> Self {
        assert!(
            Path::new(SSHD).exists(),
            "the tests need sshd: apt-get install openssh-server (bin/test does)"
        );
        std::fs::create_dir_all("/run/sshd").expect("/run/sshd for privilege separation");
        let dir = tempfile::tempdir().expect("temp dir");
        let ssh = dir.path().join("home/.ssh");
        std::fs::create_dir_all(&ssh).expect("mkdir .ssh");
        keygen(&ssh.join("id_ed25519"), "");
        std::fs::copy(
            ssh.join("id_ed25519.pub"),
            dir.path().join("authorized_keys"),
        )
        .expect("authorized_keys");
        let mut fleet = Self {
            dir,
            hosts: Vec::new(),
        };
        for _ in 0..n {
            let host = fleet.start_host(own_srv);
            fleet.hosts.push(host);
        }
        let known: Vec<String> = fleet.hosts.iter().map(Host::known_hosts_line).collect();
        std::fs::write(ssh.join("known_hosts"), known.join("\n") + "\n").expect("known_hosts");
        // `ssh -G` expands `~` to the passwd home, not $HOME: name the test's files outright.
        let config = format!(
            "Host *\n  UserKnownHostsFile {ssh}/known_hosts\n  IdentityFile {ssh}/id_ed25519\n",
            ssh = ssh.display()
        );
        std::fs::write(fleet.ssh_config(), config).expect("ssh_config");
        fleet
    }

    pub(crate) fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub(crate) fn ssh_config(&self) -> PathBuf {
        self.dir.path().join("ssh_config")
    }

    pub(crate) fn known_hosts(&self) -> PathBuf {
        self.home().join(".ssh/known_hosts")
    }

    /// A `Test` whose rfab reaches this fleet: its HOME, SSH config and no agent, and
    /// commands in a non-login shell. The hosts log in as this machine's root, whose login
    /// profile (pyenv, ...) is no part of what is tested and prints noise when many shells
    /// start at once; `login_shell_test` keeps rfab's default.
    pub(crate) fn test(&self) -> Test {
        self.login_shell_test().args(&["-s", "/bin/bash -c"])
    }

    /// The same, with rfab's default shell (`/bin/bash -l -c`).
    pub(crate) fn login_shell_test(&self) -> Test {
        let config = self.ssh_config().display().to_string();
        Test::new()
            .env("HOME", &self.home().display().to_string())
            .env("SSH_AUTH_SOCK", "")
            .args(&["--ssh-config-path", &config])
    }

    /// Every host string, comma-separated, for `-H`.
    pub(crate) fn host_list(&self) -> String {
        self.hosts
            .iter()
            .map(Host::string)
            .collect::<Vec<_>>()
            .join(",")
    }

    fn start_host(&self, own_srv: bool) -> Host {
        let n = NEXT_HOST.fetch_add(1, Ordering::SeqCst);
        let address = format!("127.77.{}.{}", n / 250, n % 250 + 1);
        let port = free_port(&address);
        let dir = self.dir.path().join(format!("host{n}"));
        let srv = own_srv.then(|| dir.join("srv"));
        if let Some(srv) = &srv {
            std::fs::create_dir_all(srv).expect("the host's /srv");
        }
        let sshd = Sshd::start(
            &format!("host{n}"),
            &address,
            port,
            &dir,
            &SshdOptions {
                authorized_keys: &self.dir.path().join("authorized_keys"),
                host_keys: &["ed25519", "ecdsa"],
                passwords: true,
                srv: srv.as_deref(),
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
        Host {
            address,
            port,
            pid: sshd.pid(),
            srv,
            sshd,
        }
    }
}

pub(crate) fn keygen(path: &Path, passphrase: &str) {
    let status = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            passphrase,
            "-C",
            "rfab-test",
            "-f",
        ])
        .arg(path)
        .status()
        .expect("ssh-keygen runs");
    assert!(status.success(), "ssh-keygen {}", path.display());
}

fn free_port(address: &str) -> u16 {
    TcpListener::bind((address, 0))
        .expect("a free port")
        .local_addr()
        .expect("bound")
        .port()
}

/// Polls `check` until it gives a value or the deadline passes.
pub(crate) fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The user whose sudo asks for a password, created once per machine: `rfab-sudo`,
/// password [`SUDO_USER_PASSWORD`], in sudoers with `ALL=(ALL) ALL`.
pub(crate) const SUDO_USER: &str = "rfab-sudo";
pub(crate) const SUDO_USER_PASSWORD: &str = "s3cret-for-tests";

pub(crate) fn ensure_sudo_user() {
    let exists = Command::new("id")
        .arg(SUDO_USER)
        .output()
        .is_ok_and(|o| o.status.success());
    if !exists {
        let status = Command::new("useradd")
            .args(["--create-home", "--shell", "/bin/bash", SUDO_USER])
            .status()
            .expect("useradd");
        assert!(
            status.success()
                || Command::new("id")
                    .arg(SUDO_USER)
                    .status()
                    .is_ok_and(|s| s.success()),
            "useradd {SUDO_USER}"
        );
    }
    let mut chpasswd = Command::new("chpasswd")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("chpasswd");
    std::io::Write::write_all(
        chpasswd.stdin.as_mut().expect("stdin"),
        format!("{SUDO_USER}:{SUDO_USER_PASSWORD}\n").as_bytes(),
    )
    .expect("password");
    assert!(chpasswd.wait().expect("chpasswd").success(), "chpasswd");
    std::fs::write(
        format!("/etc/sudoers.d/{SUDO_USER}"),
        format!("{SUDO_USER} ALL=(ALL) ALL\n"),
    )
    .expect("sudoers");
}
