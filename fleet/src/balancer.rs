//! HAProxy in front of the nodes: one frontend, backend `web` with every node's app,
//! health-checked on `/health`, and the runtime API on a unix socket.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::node::Node;
use crate::process::{Daemon, eventually};

pub struct Balancer {
    /// Where clients connect.
    pub frontend: SocketAddr,
    /// The runtime API (`stats socket`).
    pub socket: PathBuf,
    /// How often HAProxy checks each server.
    pub check_interval: Duration,
    daemon: Daemon,
}

impl Balancer {
    /// Starts HAProxy on `frontend` for `nodes`, and waits until its runtime API answers.
    pub fn start(
        frontend: SocketAddr,
        nodes: &[Node],
        check_interval: Duration,
        dir: &Path,
    ) -> Result<Self, String> {
        let socket = dir.join("haproxy.sock");
        let inter = check_interval.as_millis();
        let mut lines = String::new();
        for node in nodes {
            let _ = writeln!(
                lines,
                "  server {} {} check inter {inter}ms fall 2 rise 1",
                node.name, node.app.address
            );
        }
        let config = dir.join("haproxy.cfg");
        std::fs::write(
            &config,
            format!(
                "global\n  stats socket {socket} mode 600 level admin\n\
                 defaults\n  mode http\n  timeout connect 2s\n  timeout client 10s\n  timeout server 10s\n\
                 \x20 retries 0\n\
                 frontend www\n  bind {frontend}\n  default_backend web\n\
                 backend web\n  option httpchk GET /health\n  http-check expect status 200\n{lines}",
                socket = socket.display(),
            ),
        )
        .map_err(|e| format!("{}: {e}", config.display()))?;
        let log = dir.join("haproxy.log");
        let haproxy = ["/usr/sbin/haproxy", "haproxy"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .unwrap_or("haproxy");
        let mut daemon = Daemon::spawn(
            "haproxy",
            Command::new(haproxy).arg("-db").arg("-f").arg(&config),
            &log,
        )?;
        eventually("HAProxy's runtime API", Duration::from_secs(20), || {
            if let Err(exited) = daemon.check_running() {
                return Some(Err(format!(
                    "{exited}: {}",
                    std::fs::read_to_string(&log).unwrap_or_default().trim()
                )));
            }
            servers(&socket).ok().map(|_| Ok(()))
        })??;
        Ok(Self {
            frontend,
            socket,
            check_interval,
            daemon,
        })
    }

    /// Waits until HAProxy has all `n` servers UP.
    pub fn wait_all_up(&self, n: usize) -> Result<(), String> {
        eventually(
            "every server to be UP in HAProxy",
            Duration::from_secs(30),
            || {
                let servers = self.servers().ok()?;
                (servers.len() == n && servers.iter().all(|(_, s)| s == "UP")).then_some(())
            },
        )
        .map_err(|e| format!("{e} ({})", self.describe()))
    }

    /// Each server of backend `web` and its status, as HAProxy reports it now.
    pub fn servers(&self) -> Result<Vec<(String, String)>, String> {
        servers(&self.socket)
    }

    /// The sessions open on server `name` now.
    pub fn sessions(&self, name: &str) -> Result<u64, String> {
        let csv = command(&self.socket, "show stat")?;
        csv.lines()
            .map(|l| l.split(',').collect::<Vec<_>>())
            .find(|f| f.len() > 4 && f[0] == "web" && f[1] == name)
            .and_then(|f| f[4].parse().ok())
            .ok_or_else(|| format!("HAProxy has no server {name}"))
    }

    /// `web1 UP, web2 MAINT, ...`
    pub fn describe(&self) -> String {
        match self.servers() {
            Ok(servers) => servers
                .iter()
                .map(|(n, s)| format!("{n} {s}"))
                .collect::<Vec<_>>()
                .join(", "),
            Err(e) => e,
        }
    }

    pub fn pid(&self) -> u32 {
        self.daemon.pid()
    }
}

/// One command to the runtime API, and its answer.
///
/// The fleet reads HAProxy on its own rather than through rfab's `lb::haproxy::exchange`:
/// tests check what rfab did against this independent reading (an oracle sharing rfab's
/// code would share its bugs), and the fleet crate does not link rfab.
fn command(socket: &Path, command: &str) -> Result<String, String> {
    let mut stream = UnixStream::connect(socket).map_err(|e| e.to_string())?;
    // A wedged HAProxy must fail the test that asked, not hang it.
    let limit = Some(std::time::Duration::from_secs(10));
    stream
        .set_read_timeout(limit)
        .and_then(|()| stream.set_write_timeout(limit))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(format!("{command}\n").as_bytes())
        .map_err(|e| e.to_string())?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .map_err(|e| e.to_string())?;
    Ok(answer)
}

/// `show stat` of backend `web`: each server's name and status.
fn servers(socket: &Path) -> Result<Vec<(String, String)>, String> {
    Ok(command(socket, "show stat")?
        .lines()
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f.len() > 17 && f[0] == "web" && f[1] != "BACKEND" && f[1] != "FRONTEND")
        .map(|f| (f[1].to_owned(), f[17].to_owned()))
        .collect())
}
