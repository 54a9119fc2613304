//! The whole demo fleet: web nodes in two load-balancer groups, HAProxy in front, the
//! demo app's repository, an SSH identity for rfab, an `ssh_config` naming the nodes
//! (`web1` is `rfab-deploy@127.0.0.11:PORT`) and an inventory for the root fabfile.
//! Everything lives in one temp dir and stops when the fleet is dropped.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tempfile::TempDir;

use crate::balancer::Balancer;
use crate::node::{DEPLOY_TO, Isolation, Node, NodeSetup};
use crate::process::{common_free_port, run};
use crate::repo;
use crate::user::{self, DEPLOY_USER};

#[derive(Clone, Debug)]
pub struct Options {
    /// Web nodes in each of the two groups.
    pub per_group: usize,
    /// The first three bytes of the fleet's loopback addresses: HAProxy on `.10`, the nodes
    /// on `.11` and up.
    pub network: [u8; 3],
    /// How often HAProxy checks each node.
    pub check_interval: Duration,
    /// The fabfile rfab runs (the repository's root `fabfile.rhai`).
    pub fabfile: PathBuf,
    /// The rfab binary.
    pub rfab: PathBuf,
}

pub struct Fleet {
    pub options: Options,
    pub nodes: Vec<Node>,
    pub balancer: Balancer,
    /// The demo app's repository the nodes deploy from.
    pub repo: PathBuf,
    /// The inventory module for the root fabfile (`--set inventory=...`).
    pub inventory: PathBuf,
    /// The deploy path on every node, as the inventory gives it (`{host}`: the node's name).
    pub deploy_to: String,
    /// The URL each node's app answers health checks on (`{address}`: the node's address,
    /// which its name `web1` is in the fleet's `ssh_config` only).
    pub health_url: String,
    pub isolation: Isolation,
    // Last: the files go once every process has stopped.
    dir: TempDir,
}

impl Fleet {
    /// Starts the fleet and deploys `v3.0.0` everywhere (the state before the hotfix), then waits
    /// until HAProxy has every node UP. The repository has the hotfix `v3.0.1` already.
    pub fn start(options: Options) -> Result<Self, String> {
        Self::start_with(options, repo::scenario)
    }

    /// `start`, with the repository before its hotfix (`repo::before_hotfix`): a bare origin
    /// at `v3.0.0`, for the hotfix to be cut, finished and pushed there.
    pub fn start_before_hotfix(options: Options) -> Result<Self, String> {
        Self::start_with(options, repo::before_hotfix)
    }

    fn start_with(
        options: Options,
        make_repo: fn(&Path) -> Result<(), String>,
    ) -> Result<Self, String> {
        let dir = tempfile::Builder::new()
            .prefix("rfab-fleet.")
            .tempdir()
            .map_err(|e| format!("temp dir: {e}"))?;
        let [a, b, c] = options.network;
        let addresses: Vec<String> = (0..options.per_group * 2)
            .map(|i| format!("{a}.{b}.{c}.{}", 11 + i))
            .collect();
        let lb_address = format!("{a}.{b}.{c}.10");

        let (ssh, authorized_keys) = client_identity(dir.path())?;
        let owner = user::ensure(DEPLOY_USER)?;
        let ssh_port = common_free_port(&addresses)?;
        let app_port = loop {
            let port = common_free_port(&addresses)?;
            if port != ssh_port {
                break port;
            }
        };
        let isolation = Isolation::detect();
        let setup = NodeSetup {
            authorized_keys: &authorized_keys,
            ssh_port,
            app_port,
            isolation,
        };
        let mut nodes = Vec::new();
        for (i, address) in addresses.iter().enumerate() {
            let name = format!("web{}", i + 1);
            let node_dir = dir.path().join("nodes").join(&name);
            let deploy_to = match isolation {
                Isolation::MountNamespace => node_dir.join("srv").join(deploy_dir()),
                Isolation::Directory => dir
                    .path()
                    .join("hosts")
                    // `{host}` in the inventory's `deploy_to` (below) is the host's name.
                    .join(&name)
                    .join(deploy_dir()),
            };
            // The deploy user's own, as on a real fleet.
            std::fs::create_dir_all(&deploy_to)
                .map_err(|e| format!("{}: {e}", deploy_to.display()))?;
            user::give(&deploy_to, owner)?;
            nodes.push(Node::start(&name, address, &node_dir, deploy_to, &setup)?);
        }
        write_ssh_config(dir.path(), &ssh, &nodes)?;
        let repo = dir.path().join("opensky.git");
        make_repo(&repo)?;

        let frontend = SocketAddr::new(
            lb_address
                .parse()
                .map_err(|e| format!("{lb_address}: {e}"))?,
            common_free_port(std::slice::from_ref(&lb_address))?,
        );
        let balancer = Balancer::start(frontend, &nodes, options.check_interval, dir.path())?;
        let inventory = dir.path().join("inventory.rhai");
        let deploy_to = match isolation {
            Isolation::MountNamespace => DEPLOY_TO.to_owned(),
            Isolation::Directory => {
                format!("{}/hosts/{{host}}/{}", dir.path().display(), deploy_dir())
            }
        };
        let fleet = Self {
            options,
            nodes,
            balancer,
            repo,
            inventory,
            deploy_to,
            health_url: format!("http://{{address}}:{app_port}/health"),
            isolation,
            dir,
        };
        write(&fleet.inventory, &fleet.inventory_text())?;
        fleet.deploy_first()?;
        fleet.balancer.wait_all_up(fleet.nodes.len())?;
        Ok(fleet)
    }

    /// Before the hotfix: v3.0.0 on every node.
    fn deploy_first(&self) -> Result<(), String> {
        let out = self
            .rfab(&["prod", "deploy:v3.0.0"])
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.options.rfab.display()))?;
        if out.status.success() {
            return Ok(());
        }
        Err(format!(
            "the first deploy (v3.0.0) failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }

    /// The fleet's directory (logs, keys, repository, inventory).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `rfab ARGS` on this fleet: the root fabfile with this inventory, its SSH identity and
    /// known hosts, and no ssh-agent.
    pub fn rfab(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.options.rfab);
        command
            .env("HOME", self.dir.path().join("home"))
            .env("SSH_AUTH_SOCK", "")
            .arg("-f")
            .arg(&self.options.fabfile)
            .arg("--ssh-config-path")
            .arg(self.dir.path().join("ssh_config"))
            .arg("--set")
            .arg(format!("inventory={}", self.inventory.display()))
            .args(args);
        command
    }

    /// The host string of `node`, as the inventory names it: `web1`, a host of the fleet's
    /// `ssh_config`.
    pub fn host_string(node: &Node) -> String {
        node.name.clone()
    }

    /// The host string of `node` without the fleet's `ssh_config`:
    /// `rfab-deploy@127.0.0.11:2222`, for tools that do not read it.
    pub fn address_string(node: &Node) -> String {
        format!("{DEPLOY_USER}@{}", node.host())
    }

    /// The nodes of `group` (1 or 2).
    pub fn group(&self, group: usize) -> Vec<&Node> {
        let n = self.options.per_group;
        self.nodes[(group - 1) * n..group * n].iter().collect()
    }

    fn inventory_text(&self) -> String {
        let list = |group: usize| {
            self.group(group)
                .iter()
                .map(|n| format!("\"{}\"", Self::host_string(n)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        // The hosts are named as HAProxy names its servers: no `servers` map is needed.
        format!(
            "//! The local demo fleet (generated by rfab-fleet): {nodes} web nodes in two groups behind HAProxy.\n\
             //! Each node's name is a Host of the fleet's ssh_config (address, port, user, key).\n\
             \n\
             export const user = \"{DEPLOY_USER}\";\n\
             export const groups = #{{ group1: [{g1}], group2: [{g2}] }};\n\
             export const lb = #{{ socket: \"{socket}\", backend: \"web\", check_interval: {interval}, health_timeout: 20, drain_timeout: 10 }};\n\
             export const settings = #{{ repository: \"{repo}\", deploy_to: \"{deploy_to}\", keep_releases: 5,\n\
             \x20   health_url: \"{health_url}\", health_timeout: 10, version_files: [\"opensky/config/version.ini\", \"VERSION\"] }};\n",
            nodes = self.nodes.len(),
            g1 = list(1),
            g2 = list(2),
            socket = self.balancer.socket.display(),
            interval = self.options.check_interval.as_secs_f64(),
            repo = self.repo.display(),
            deploy_to = self.deploy_to,
            health_url = self.health_url,
        )
    }
}

/// rfab's key pair in `DIR/home/.ssh`, and the nodes' `authorized_keys` naming it (readable
/// by the deploy user, as sshd reads it as that user).
fn client_identity(dir: &Path) -> Result<(PathBuf, PathBuf), String> {
    std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let ssh = dir.join("home/.ssh");
    std::fs::create_dir_all(&ssh).map_err(|e| format!("{}: {e}", ssh.display()))?;
    run(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "rfab-demo", "-f"])
        .arg(ssh.join("id_ed25519")))?;
    let authorized_keys = dir.join("authorized_keys");
    std::fs::copy(ssh.join("id_ed25519.pub"), &authorized_keys)
        .map_err(|e| format!("authorized_keys: {e}"))?;
    Ok((ssh, authorized_keys))
}

/// `known_hosts` naming every node's key (by address and port, as OpenSSH looks keys up),
/// and an `ssh_config` naming every node: `Host web1` with its address, port, the deploy
/// user and rfab's key.
fn write_ssh_config(dir: &Path, ssh: &Path, nodes: &[Node]) -> Result<(), String> {
    let known: Vec<String> = nodes
        .iter()
        .map(Node::known_hosts_line)
        .collect::<Result<_, _>>()?;
    write(&ssh.join("known_hosts"), &(known.join("\n") + "\n"))?;
    // `ssh -G` expands `~` to the passwd home, not $HOME: name the files outright.
    let mut hosts = String::new();
    for n in nodes {
        let _ = write!(
            hosts,
            "Host {name}\n  HostName {address}\n  Port {port}\n  User {DEPLOY_USER}\n  IdentityFile {ssh}/id_ed25519\n",
            name = n.name,
            address = n.address,
            port = n.ssh_port,
            ssh = ssh.display(),
        );
    }
    write(
        &dir.join("ssh_config"),
        &format!(
            "{hosts}Host *\n  UserKnownHostsFile {ssh}/known_hosts\n",
            ssh = ssh.display()
        ),
    )
}

/// `opensky`: the deploy path's last part.
fn deploy_dir() -> &'static str {
    DEPLOY_TO.trim_start_matches("/srv/")
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}
