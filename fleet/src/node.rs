//! A web node: a real `sshd` on its own loopback address with its own `/srv` (a private
//! mount namespace binds the node's directory there), and the web app serving the release
//! deployed under it. The `Sshd` alone is also the integration tests' host.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::app::App;
use crate::process::{Daemon, eventually, run};

const SSHD: &str = "/usr/sbin/sshd";

/// Where the app's release is deployed, seen from inside a node.
pub const DEPLOY_TO: &str = "/srv/opensky";

pub struct Node {
    /// `web1`: the load balancer's name for it.
    pub name: String,
    pub address: String,
    pub ssh_port: u16,
    /// The node's own directory; its `srv/` is the node's `/srv`.
    pub dir: PathBuf,
    /// The node's deploy path, as seen from outside it.
    pub deploy_to: PathBuf,
    sshd: Sshd,
    pub app: App,
}

/// A real `sshd` on `address:port`, its host keys, config and log in `dir`; stopped, by its
/// process group, when dropped.
pub struct Sshd {
    pub address: String,
    pub port: u16,
    pub dir: PathBuf,
    daemon: Daemon,
}

/// How an `Sshd` is set up.
pub struct SshdOptions<'a> {
    pub authorized_keys: &'a Path,
    /// Its host key types (`ed25519`, `ecdsa`), each written to `host_TYPE` in its directory.
    pub host_keys: &'a [&'a str],
    /// Password logins too, root's included: the tests of password and sudo prompts need
    /// them; the demo's nodes take keys only.
    pub passwords: bool,
    /// A directory to bind on `/srv` in a private mount namespace, for a node's own `/srv`.
    pub srv: Option<&'a Path>,
}

impl Sshd {
    /// Starts `name`'s sshd and waits until it listens.
    pub fn start(
        name: &str,
        address: &str,
        port: u16,
        dir: &Path,
        options: &SshdOptions,
    ) -> Result<Self, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut host_keys = Vec::new();
        for kind in options.host_keys {
            let key = dir.join(format!("host_{kind}"));
            run(Command::new("ssh-keygen")
                .args(["-q", "-t", kind, "-N", "", "-f"])
                .arg(&key))?;
            host_keys.push(format!("HostKey {}\n", key.display()));
        }
        let host_keys = host_keys.concat();
        let (root, passwords) = if options.passwords {
            ("yes", "yes")
        } else {
            ("prohibit-password", "no")
        };
        let config = format!(
            "ListenAddress {address}:{port}\n\
             {host_keys}\
             AuthorizedKeysFile {keys}\n\
             PidFile none\n\
             StrictModes no\n\
             PermitRootLogin {root}\n\
             PasswordAuthentication {passwords}\n\
             KbdInteractiveAuthentication no\n\
             UsePAM no\n\
             LogLevel VERBOSE\n\
             MaxStartups 100\n\
             Subsystem sftp /usr/lib/openssh/sftp-server\n",
            keys = options.authorized_keys.display(),
        );
        let config_file = dir.join("sshd_config");
        std::fs::write(&config_file, config)
            .map_err(|e| format!("{}: {e}", config_file.display()))?;
        std::fs::create_dir_all("/run/sshd").map_err(|e| format!("/run/sshd: {e}"))?;
        let log = dir.join("sshd.log");
        let mut command = if let Some(srv) = options.srv {
            let mut c = Command::new("unshare");
            c.args(["--mount", "--propagation", "private", "--", "/bin/sh", "-c"])
                .arg(format!(
                    "mount --bind \"$0\" /srv && exec {SSHD} -D -f \"$1\" -E \"$2\""
                ))
                .arg(srv)
                .arg(&config_file)
                .arg(&log);
            c
        } else {
            let mut c = Command::new(SSHD);
            c.arg("-D").arg("-f").arg(&config_file).arg("-E").arg(&log);
            c
        };
        let mut daemon = Daemon::spawn(&format!("sshd of {name}"), &mut command, &log)?;
        let socket: SocketAddr = format!("{address}:{port}")
            .parse()
            .map_err(|e| format!("{address}: {e}"))?;
        eventually(
            &format!("sshd of {name} on {socket}"),
            Duration::from_secs(20),
            || {
                if let Err(exited) = daemon.check_running() {
                    return Some(Err(format!(
                        "{exited}: {}",
                        std::fs::read_to_string(&log).unwrap_or_default().trim()
                    )));
                }
                std::net::TcpStream::connect_timeout(&socket, Duration::from_secs(1))
                    .ok()
                    .map(|_| Ok(()))
            },
        )??;
        Ok(Self {
            address: address.to_owned(),
            port,
            dir: dir.to_owned(),
            daemon,
        })
    }

    /// The sshd's process id (the listener; each connection is a child of it).
    pub fn pid(&self) -> u32 {
        self.daemon.pid()
    }

    /// The sshd log: the connections it accepted, how they authenticated.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("sshd.log")).unwrap_or_default()
    }

    /// How many logins it has accepted.
    pub fn logins(&self) -> usize {
        self.log().matches("Accepted publickey").count()
    }

    /// The line `ssh-keyscan` would print for its host key of type `kind` (`ed25519`).
    pub fn known_hosts_line(&self, kind: &str) -> Result<String, String> {
        let path = self.dir.join(format!("host_{kind}.pub"));
        let key = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let key: Vec<&str> = key.split_whitespace().take(2).collect();
        Ok(format!(
            "[{}]:{} {}",
            self.address,
            self.port,
            key.join(" ")
        ))
    }

    /// Stops it, as a crash would: no new connection gets in (sessions already open, each
    /// in its own session group, run on until they end).
    pub fn stop(&mut self) {
        self.daemon.stop();
    }
}

/// How the nodes each get their own `/srv`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isolation {
    /// `unshare --mount`: `/srv` inside the node is its own directory.
    MountNamespace,
    /// No mount namespaces here (an unprivileged container): each node deploys to its own
    /// directory, named by its address.
    Directory,
}

impl Isolation {
    /// Mount namespaces when this machine allows them.
    pub fn detect() -> Self {
        let works = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "true"])
            .output()
            .is_ok_and(|o| o.status.success());
        if works && Path::new("/srv").is_dir() {
            Self::MountNamespace
        } else {
            Self::Directory
        }
    }
}

/// What the nodes of one fleet share.
pub struct NodeSetup<'a> {
    pub authorized_keys: &'a Path,
    pub ssh_port: u16,
    pub app_port: u16,
    pub isolation: Isolation,
}

impl Node {
    /// Starts node `name` on `address`, its files under `dir`, its app serving the release
    /// under `deploy_to` (as seen from outside the node).
    pub fn start(
        name: &str,
        address: &str,
        dir: &Path,
        deploy_to: PathBuf,
        setup: &NodeSetup,
    ) -> Result<Self, String> {
        let srv = dir.join("srv");
        std::fs::create_dir_all(&srv).map_err(|e| format!("{}: {e}", srv.display()))?;
        let sshd = Sshd::start(
            name,
            address,
            setup.ssh_port,
            dir,
            &SshdOptions {
                authorized_keys: setup.authorized_keys,
                host_keys: &["ed25519"],
                passwords: false,
                srv: (setup.isolation == Isolation::MountNamespace).then_some(srv.as_path()),
            },
        )?;
        let app = App::start(
            name,
            format!("{address}:{}", setup.app_port)
                .parse()
                .map_err(|e| format!("{address}: {e}"))?,
            deploy_to.clone(),
        )?;
        Ok(Self {
            name: name.to_owned(),
            address: address.to_owned(),
            ssh_port: setup.ssh_port,
            dir: dir.to_owned(),
            deploy_to,
            sshd,
            app,
        })
    }

    /// `127.0.0.11:2222`: the host string the inventory names it by.
    pub fn host(&self) -> String {
        format!("{}:{}", self.address, self.ssh_port)
    }

    /// The tag of the live release (`current/REF`), if any.
    pub fn live_tag(&self) -> Option<String> {
        std::fs::read_to_string(self.deploy_to.join("current/REF"))
            .ok()
            .map(|t| t.trim().to_owned())
    }

    /// The line `ssh-keyscan` would print for the node's host key.
    pub fn known_hosts_line(&self) -> Result<String, String> {
        self.sshd
            .known_hosts_line("ed25519")
            .map_err(|e| format!("host key of {}: {e}", self.name))
    }

    /// The sshd log: the connections it accepted.
    pub fn sshd_log(&self) -> String {
        self.sshd.log()
    }

    /// How many logins the node's sshd has accepted.
    pub fn logins(&self) -> usize {
        self.sshd.logins()
    }

    /// Stops the node's sshd listener, as a crash would.
    pub fn kill_sshd(&mut self) {
        self.sshd.stop();
    }

    /// The sshd's process id.
    pub fn sshd_pid(&self) -> u32 {
        self.sshd.pid()
    }
}
