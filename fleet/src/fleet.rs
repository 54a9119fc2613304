//! The whole demo fleet: web nodes in two load-balancer groups, HAProxy in front, the
//! SCENARIO repository, an SSH identity for rfab and an inventory for the root fabfile.
//! Everything lives in one temp dir and stops when the fleet is dropped.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tempfile::TempDir;

use crate::balancer::Balancer;
use crate::node::{DEPLOY_TO, Isolation, Node, NodeSetup};
use crate::process::{common_free_port, run};
use crate::repo;

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
    /// The SCENARIO repository the nodes deploy from.
    pub repo: PathBuf,
    /// The inventory module for the root fabfile (`--set inventory=...`).
    pub inventory: PathBuf,
    pub isolation: Isolation,
    // Last: the files go once every process has stopped.
    dir: TempDir,
}

impl Fleet {
    /// Starts the fleet and deploys `v3.0.0` everywhere (SCENARIO's "before"), then waits
    /// until HAProxy has every node UP.
    pub fn start(options: Options) -> Result<Self, String> {
        let dir = tempfile::Builder::new()
            .prefix("rfab-fleet.")
            .tempdir()
            .map_err(|e| format!("temp dir: {e}"))?;
        let [a, b, c] = options.network;
        let addresses: Vec<String> = (0..options.per_group * 2)
            .map(|i| format!("{a}.{b}.{c}.{}", 11 + i))
            .collect();
        let lb_address = format!("{a}.{b}.{c}.10");

        let ssh = dir.path().join("home/.ssh");
        std::fs::create_dir_all(&ssh).map_err(|e| format!("{}: {e}", ssh.display()))?;
        run(Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "rfab-demo", "-f"])
            .arg(ssh.join("id_ed25519")))?;
        let authorized_keys = dir.path().join("authorized_keys");
        std::fs::copy(ssh.join("id_ed25519.pub"), &authorized_keys)
            .map_err(|e| format!("authorized_keys: {e}"))?;

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
                    .join(format!("root@{address}:{ssh_port}"))
                    .join(deploy_dir()),
            };
            nodes.push(Node::start(&name, address, &node_dir, deploy_to, &setup)?);
        }
        let known: Vec<String> = nodes
            .iter()
            .map(Node::known_hosts_line)
            .collect::<Result<_, _>>()?;
        write(&ssh.join("known_hosts"), &(known.join("\n") + "\n"))?;
        // `ssh -G` expands `~` to the passwd home, not $HOME: name the files outright.
        write(
            &dir.path().join("ssh_config"),
            &format!(
                "Host *\n  UserKnownHostsFile {ssh}/known_hosts\n  IdentityFile {ssh}/id_ed25519\n",
                ssh = ssh.display()
            ),
        )?;

        let repo = dir.path().join("opensky.git");
        repo::scenario(&repo)?;

        let frontend = SocketAddr::new(
            lb_address
                .parse()
                .map_err(|e| format!("{lb_address}: {e}"))?,
            common_free_port(std::slice::from_ref(&lb_address))?,
        );
        let balancer = Balancer::start(frontend, &nodes, options.check_interval, dir.path())?;
        let inventory = dir.path().join("inventory.rhai");
        let fleet = Self {
            options,
            nodes,
            balancer,
            repo,
            inventory,
            isolation,
            dir,
        };
        write(&fleet.inventory, &fleet.inventory_text(app_port))?;
        let deployed = fleet.rfab(&["prod", "deploy:v3.0.0"]).output();
        match deployed {
            Ok(out) if out.status.success() => {}
            Ok(out) => {
                return Err(format!(
                    "the first deploy (v3.0.0) failed:\n{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            Err(e) => return Err(format!("cannot run {}: {e}", fleet.options.rfab.display())),
        }
        fleet.balancer.wait_all_up(fleet.nodes.len())?;
        Ok(fleet)
    }

    /// The fleet's directory (logs, keys, repository, inventory).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `rfab ARGS` on this fleet: the root fabfile with this inventory, its SSH identity and
    /// known hosts, and no ssh-agent. Commands run in `/bin/bash -c`: the nodes log in as
    /// this machine's root, whose login profile is no part of the demo.
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
            .args(["-s", "/bin/bash -c"])
            .args(args);
        command
    }

    /// The host strings of the nodes of `group` (`group1`, `group2`).
    pub fn group(&self, group: usize) -> Vec<&Node> {
        let n = self.options.per_group;
        self.nodes[(group - 1) * n..group * n].iter().collect()
    }

    fn inventory_text(&self, app_port: u16) -> String {
        let host = |n: &Node| format!("root@{}", n.host());
        let list = |group: usize| {
            self.group(group)
                .iter()
                .map(|n| format!("\"{}\"", host(n)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let servers: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("\"{}\": \"{}\"", host(n), n.name))
            .collect();
        let deploy_to = match self.isolation {
            Isolation::MountNamespace => DEPLOY_TO.to_owned(),
            Isolation::Directory => format!(
                "{}/hosts/{{host}}/{}",
                self.dir.path().display(),
                deploy_dir()
            ),
        };
        format!(
            "//! The local demo fleet (generated by rfab-fleet): {nodes} web nodes in two groups behind HAProxy.\n\
             \n\
             export const user = \"root\";\n\
             export const groups = #{{ group1: [{g1}], group2: [{g2}] }};\n\
             export const lb = #{{ socket: \"{socket}\", backend: \"web\", check_interval: {interval}, health_timeout: 20, drain_timeout: 10,\n\
             \x20   servers: #{{ {servers} }} }};\n\
             export const settings = #{{ repository: \"{repo}\", deploy_to: \"{deploy_to}\", keep_releases: 5,\n\
             \x20   health_url: \"http://{{host}}:{app_port}/health\", health_timeout: 10 }};\n",
            nodes = self.nodes.len(),
            g1 = list(1),
            g2 = list(2),
            socket = self.balancer.socket.display(),
            interval = self.options.check_interval.as_secs_f64(),
            servers = servers.join(", "),
            repo = self.repo.display(),
        )
    }
}

/// `opensky`: the deploy path's last part.
fn deploy_dir() -> &'static str {
    DEPLOY_TO.trim_start_matches("/srv/")
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}
