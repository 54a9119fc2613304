//! HAProxy's runtime API: the state of a backend's servers, and changing it.
//!
//! One command per connection, as the API expects without `prompt` mode: write the line,
//! read until HAProxy closes. Reached through a unix socket or TCP (`stats socket` in
//! haproxy.cfg), or through a socket on another host, over SSH.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

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
pub(crate) type ExchangeFn = dyn Fn(&str) -> Result<String, String> + Send + Sync;

impl std::fmt::Debug for Exchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Exchange")
    }
}

/// One server of the backend, as HAProxy reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Server {
    pub(crate) name: String,
    /// `UP`, `DOWN`, `MAINT`, `DRAIN`, `no check`, ... (HAProxy's `status` column).
    pub(crate) status: String,
    /// Sessions open right now.
    pub(crate) sessions: u64,
    /// The last health check's result (`L7OK`, `L4CON`, ...); empty until one has run since
    /// the server left maintenance (HAProxy checks no server in maintenance).
    pub(crate) check: String,
}

impl Server {
    /// Taking traffic: ready and passing a health check made since it left maintenance
    /// (right after `ready`, HAProxy still reports the state from before), or not checked.
    pub(crate) fn is_live(&self) -> bool {
        (self.status.starts_with("UP") && !self.check.is_empty()) || self.status == "no check"
    }

    /// Out of rotation on purpose: in maintenance or draining.
    pub(crate) fn is_out(&self) -> bool {
        self.status.contains("MAINT") || self.status.starts_with("DRAIN")
    }
}

/// The administrative states the runtime API sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    Ready,
    Drain,
    Maint,
}

impl State {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Ready => "ready",
            Self::Drain => "drain",
            Self::Maint => "maint",
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct HaProxy {
    pub(crate) endpoint: Endpoint,
    pub(crate) backend: String,
}

const TIMEOUT: Duration = Duration::from_secs(5);

impl HaProxy {
    /// The backend's servers, from `show stat`.
    pub(crate) fn servers(&self) -> Result<Vec<Server>, String> {
        let csv = self.command("show stat")?;
        let mut lines = csv.lines();
        let header: Vec<&str> = lines
            .next()
            .unwrap_or_default()
            .trim_start_matches("# ")
            .split(',')
            .collect();
        let column = |name: &str| {
            header
                .iter()
                .position(|h| *h == name)
                .ok_or_else(|| format!("HAProxy's `show stat` has no `{name}` column"))
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
            .map(|f| Server {
                name: f[server].to_owned(),
                status: f.get(status).copied().unwrap_or_default().to_owned(),
                sessions: f.get(sessions).and_then(|s| s.parse().ok()).unwrap_or(0),
                check: f.get(check).copied().unwrap_or_default().to_owned(),
            })
            .collect();
        if servers.is_empty() {
            return Err(format!(
                "HAProxy has no backend `{}` with servers; check `backend` against haproxy.cfg",
                self.backend
            ));
        }
        Ok(servers)
    }

    /// `set server BACKEND/SERVER state STATE`.
    pub(crate) fn set(&self, server: &str, state: State) -> Result<(), String> {
        let answer = self.command(&format!(
            "set server {}/{server} state {}",
            self.backend,
            state.name()
        ))?;
        if answer.trim().is_empty() {
            Ok(())
        } else {
            Err(format!(
                "HAProxy refused to set `{server}` to {}: {}",
                state.name(),
                answer.trim()
            ))
        }
    }

    fn command(&self, command: &str) -> Result<String, String> {
        let failed = |e: std::io::Error| {
            format!(
                "cannot talk to HAProxy's runtime API at {}: {e}; check that HAProxy runs and haproxy.cfg has a `stats socket` there",
                self.place()
            )
        };
        let mut answer = String::new();
        match &self.endpoint {
            Endpoint::Unix(path) => {
                let mut socket = UnixStream::connect(path).map_err(failed)?;
                socket.set_read_timeout(Some(TIMEOUT)).map_err(failed)?;
                socket
                    .write_all(format!("{command}\n").as_bytes())
                    .map_err(failed)?;
                socket.read_to_string(&mut answer).map_err(failed)?;
            }
            Endpoint::Tcp(address) => {
                let mut socket = TcpStream::connect(address).map_err(failed)?;
                socket.set_read_timeout(Some(TIMEOUT)).map_err(failed)?;
                socket
                    .write_all(format!("{command}\n").as_bytes())
                    .map_err(failed)?;
                socket.read_to_string(&mut answer).map_err(failed)?;
            }
            Endpoint::Remote { exchange, .. } => {
                answer = (exchange.0)(command).map_err(|e| {
                    format!(
                        "cannot talk to HAProxy's runtime API at {}: {e}",
                        self.place()
                    )
                })?;
            }
        }
        Ok(answer)
    }

    fn place(&self) -> String {
        match &self.endpoint {
            Endpoint::Unix(path) => format!("`{}`", path.display()),
            Endpoint::Tcp(address) => format!("`{address}`"),
            Endpoint::Remote { place, .. } => place.clone(),
        }
    }
}
