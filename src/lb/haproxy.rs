//! HAProxy's runtime API: the state of a backend's servers, and changing it.
//!
//! One command per connection, as the API expects without `prompt` mode: write the line,
//! read until HAProxy closes. Reached through a unix socket or TCP (`stats socket` in
//! haproxy.cfg), or through a socket on another host, over SSH.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::driver::{Driver, Health, Rotation, Server, State};
use crate::lb::Error;

/// Where the runtime API listens.
#[derive(Clone, Debug)]
pub(crate) enum Endpoint {
    Unix(PathBuf),
    Tcp(String),
    /// A socket on another host, reached by `exchange` (one command in, the answer out).
    Remote {
        place: String,
        exchange: Exchange,
    },
}

/// Sends one command to a remote socket and returns the answer.
#[derive(Clone)]
pub(crate) struct Exchange(pub(crate) std::sync::Arc<ExchangeFn>);

/// One command in, the answer (or why not) out.
pub(crate) type ExchangeFn = dyn Fn(&str) -> Result<String, Error> + Send + Sync;

impl std::fmt::Debug for Exchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Exchange")
    }
}

#[derive(Clone, Debug)]
pub(crate) struct HaProxy {
    pub(crate) endpoint: Endpoint,
    pub(crate) backend: String,
    /// The servers' `inter`: leaving maintenance, HAProxy shows the health from before it
    /// until the next check, one interval later.
    pub(crate) check_interval: Duration,
}

const TIMEOUT: Duration = Duration::from_secs(5);

impl Driver for HaProxy {
    fn name(&self) -> String {
        format!("HAProxy backend `{}`", self.backend)
    }

    /// The backend's servers, from `show stat`.
    fn servers(&self) -> Result<Vec<Server>, Error> {
        let csv = self.command("show stat")?;
        let mut lines = csv.lines();
        let header: Vec<&str> = lines
            .next()
            .unwrap_or_default()
            .trim_start_matches("# ")
            .split(',')
            .collect();
        let column = |name: &str| {
            header.iter().position(|h| *h == name).ok_or_else(|| {
                Error::Balancer(format!("HAProxy's `show stat` has no `{name}` column"))
            })
        };
        let (proxy, server, status, sessions) = (
            column("pxname")?,
            column("svname")?,
            column("status")?,
            column("scur")?,
        );
        let check = column("check_status")?;
        let servers: Vec<Server> = lines
            .map(|line| line.split(',').collect::<Vec<_>>())
            .filter(|f| f.get(proxy) == Some(&self.backend.as_str()))
            .filter(|f| !matches!(f.get(server), Some(&"FRONTEND" | &"BACKEND")))
            .map(|f| {
                let status = f.get(status).copied().unwrap_or_default();
                let check = f.get(check).copied().unwrap_or_default();
                Server {
                    name: f[server].to_owned(),
                    status: status.to_owned(),
                    rotation: rotation(status, check),
                    sessions: f.get(sessions).and_then(|s| s.parse().ok()).unwrap_or(0),
                    check: check.to_owned(),
                }
            })
            .collect();
        if servers.is_empty() {
            return Err(Error::Balancer(format!(
                "HAProxy has no backend `{}` with servers; check `backend` against haproxy.cfg",
                self.backend
            )));
        }
        Ok(servers)
    }

    /// `set server BACKEND/SERVER state STATE`, one server at a time.
    fn set(&self, changes: &[(&str, State)]) -> Result<(), Error> {
        for (server, state) in changes {
            self.set_one(server, *state)?;
        }
        Ok(())
    }

    /// Marks the servers (draining: no traffic) down, so that HAProxy counts them up again
    /// only after fresh passing checks (`rise`). A server without checks refuses this and
    /// is left as it is.
    fn prepare_return(&self, servers: &[&str]) -> Result<(), Error> {
        for server in servers {
            self.command(&format!("set server {}/{server} health down", self.backend))?;
        }
        Ok(())
    }

    /// Passing once HAProxy reports plain `DRAIN` (up, sent no traffic): after
    /// `prepare_return`, that takes a fresh passing check. Failing when, a check interval
    /// after it came back, HAProxy reports it `DOWN` with a failed check (`DOWN` alone is
    /// what `prepare_return` set, until the next check).
    fn health(&self, servers: &[Server], since: Instant) -> Result<Vec<Health>, Error> {
        let fresh = since.elapsed() > self.check_interval;
        Ok(servers
            .iter()
            .map(|s| {
                if s.status == "DRAIN" || s.status == "no check" {
                    Health::Passing
                } else if fresh && s.status.starts_with("DOWN") && check_failed(&s.check) {
                    Health::Failing(format!("{} {}", s.status, s.check))
                } else {
                    Health::Pending
                }
            })
            .collect())
    }
}

/// Whether a `check_status` (`L7OK`, `L4CON`, `* L7STS` while the next check runs...) is a
/// failed check.
fn check_failed(check: &str) -> bool {
    let result = check.trim_start_matches('*').trim();
    !result.is_empty()
        && !result.starts_with("L4OK")
        && !result.starts_with("L6OK")
        && !result.starts_with("L7OK")
}

/// Where HAProxy's `status` and `check_status` columns put a server. Right after `ready`,
/// HAProxy still reports the health from before maintenance, with no check result.
fn rotation(status: &str, check: &str) -> Rotation {
    if status.contains("MAINT") {
        Rotation::Maint
    } else if status.starts_with("DRAIN") {
        Rotation::Draining
    } else if status == "no check" || (status.starts_with("UP") && !check.is_empty()) {
        Rotation::Live
    } else if status.starts_with("DOWN") {
        Rotation::Failing
    } else {
        Rotation::Pending
    }
}

impl HaProxy {
    fn set_one(&self, server: &str, state: State) -> Result<(), Error> {
        let answer = self.command(&format!(
            "set server {}/{server} state {}",
            self.backend,
            state.name()
        ))?;
        if answer.trim().is_empty() {
            Ok(())
        } else {
            Err(Error::Balancer(format!(
                "HAProxy refused to set `{server}` to {}: {}",
                state.name(),
                answer.trim()
            )))
        }
    }

    fn command(&self, command: &str) -> Result<String, Error> {
        let failed = |e: std::io::Error| {
            Error::Balancer(format!(
                "cannot talk to HAProxy's runtime API at {}: {e}; check that HAProxy runs and haproxy.cfg has a `stats socket` there",
                self.place()
            ))
        };
        match &self.endpoint {
            Endpoint::Unix(path) => {
                let mut socket = UnixStream::connect(path).map_err(failed)?;
                socket.set_write_timeout(Some(TIMEOUT)).map_err(failed)?;
                socket.set_read_timeout(Some(TIMEOUT)).map_err(failed)?;
                exchange(&mut socket, command).map_err(failed)
            }
            Endpoint::Tcp(address) => {
                let target = std::net::ToSocketAddrs::to_socket_addrs(address)
                    .map_err(failed)?
                    .next()
                    .ok_or_else(|| failed(std::io::ErrorKind::NotFound.into()))?;
                let mut socket = TcpStream::connect_timeout(&target, TIMEOUT).map_err(failed)?;
                socket.set_write_timeout(Some(TIMEOUT)).map_err(failed)?;
                socket.set_read_timeout(Some(TIMEOUT)).map_err(failed)?;
                exchange(&mut socket, command).map_err(failed)
            }
            Endpoint::Remote { exchange, .. } => (exchange.0)(command).map_err(|e| {
                Error::Balancer(format!(
                    "cannot talk to HAProxy's runtime API at {}: {e}",
                    self.place()
                ))
            }),
        }
    }

    fn place(&self) -> String {
        match &self.endpoint {
            Endpoint::Unix(path) => format!("`{}`", path.display()),
            Endpoint::Tcp(address) => format!("`{address}`"),
            Endpoint::Remote { place, .. } => place.clone(),
        }
    }
}

/// One exchange with the runtime API over `stream`, whichever way it is reached: the
/// command line out, then all HAProxy answers, up to its closing the connection. The
/// caller bounds the waits (socket timeouts, or the SSH session's).
pub(crate) fn exchange(stream: &mut (impl Read + Write), command: &str) -> std::io::Result<String> {
    stream.write_all(format!("{command}\n").as_bytes())?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passing_or_running_check_is_no_failure() {
        for check in ["L7OK", "* L7OK", "L4OK", "L6OK", "", "* "] {
            assert!(!check_failed(check), "{check:?}");
        }
        for check in ["L7STS", "* L4CON", "L4TOUT", "SOCKERR"] {
            assert!(check_failed(check), "{check:?}");
        }
    }

    #[test]
    fn an_exchange_sends_one_line_and_reads_until_haproxy_closes() {
        let (mut ours, mut haproxy) = UnixStream::pair().unwrap();
        let server = std::thread::spawn(move || {
            let mut line = [0_u8; 10];
            haproxy.read_exact(&mut line).unwrap();
            haproxy.write_all(b"# pxname\nweb,web1\n").unwrap();
            line
        });
        assert_eq!(
            exchange(&mut ours, "show stat").unwrap(),
            "# pxname\nweb,web1\n"
        );
        assert_eq!(&server.join().unwrap(), b"show stat\n");
    }
}
