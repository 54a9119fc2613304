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

use std::collections::BTreeMap;

use super::driver::{Counters, Driver, Health, Rotation, Server, State};
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
        let stat = Stat::parse(&csv);
        let (server, status, sessions, check) = (
            stat.column("svname")?,
            stat.column("status")?,
            stat.column("scur")?,
            stat.column("check_status")?,
        );
        let servers: Vec<Server> = stat
            .servers(&self.backend)?
            .map(|f| {
                let status = field(f, status);
                let check = field(f, check);
                Server {
                    name: field(f, server).to_owned(),
                    status: status.to_owned(),
                    rotation: rotation(status, check),
                    sessions: number(f, Some(sessions)),
                    check: check.to_owned(),
                }
            })
            .collect();
        if servers.is_empty() {
            return Err(self.no_backend());
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

    /// From `show stat`: requests are `req_tot` (HTTP requests sent to the server; `stot`
    /// counts connections, which keep-alive and retries make a poor count of requests) plus
    /// `econ` (requests that never reached it: HAProxy counts those in the backend's
    /// `req_tot` only); errors are `hrsp_5xx`, `eresp` and `econ`. Without `req_tot`
    /// (HAProxy before 2.0), the `hrsp_*` answers stand for the requests.
    fn counters(&self) -> Result<Option<BTreeMap<String, Counters>>, Error> {
        let csv = self.command("show stat")?;
        let counters = counters(&Stat::parse(&csv), &self.backend)?;
        if counters.is_empty() {
            return Err(self.no_backend());
        }
        Ok(Some(counters))
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

/// `show stat`'s CSV: its columns found by name (they move between HAProxy versions),
/// never by position.
struct Stat<'a> {
    header: Vec<&'a str>,
    rows: Vec<Vec<&'a str>>,
}

impl<'a> Stat<'a> {
    fn parse(csv: &'a str) -> Self {
        let mut lines = csv.lines();
        let header = lines
            .next()
            .unwrap_or_default()
            .trim_start_matches("# ")
            .split(',')
            .collect();
        let rows = lines.map(|line| line.split(',').collect()).collect();
        Self { header, rows }
    }

    fn column(&self, name: &str) -> Result<usize, Error> {
        self.header
            .iter()
            .position(|h| *h == name)
            .ok_or_else(|| Error::Balancer(format!("HAProxy's `show stat` has no `{name}` column")))
    }

    /// The rows of `backend`'s servers (not its FRONTEND and BACKEND lines).
    fn servers<'s>(
        &'s self,
        backend: &'s str,
    ) -> Result<impl Iterator<Item = &'s Vec<&'a str>> + 's, Error> {
        let (proxy, server) = (self.column("pxname")?, self.column("svname")?);
        Ok(self
            .rows
            .iter()
            .filter(move |f| f.get(proxy).is_some_and(|p| *p == backend))
            .filter(move |f| !matches!(f.get(server), Some(&"FRONTEND" | &"BACKEND"))))
    }
}

/// Each server of `backend` and its counters, from `show stat` (see `counters` above).
fn counters(stat: &Stat, backend: &str) -> Result<BTreeMap<String, Counters>, Error> {
    let server = stat.column("svname")?;
    let answers: Vec<usize> = [
        "hrsp_1xx",
        "hrsp_2xx",
        "hrsp_3xx",
        "hrsp_4xx",
        "hrsp_5xx",
        "hrsp_other",
    ]
    .into_iter()
    .map(|name| stat.column(name))
    .collect::<Result<_, _>>()?;
    let (server_errors, bad_answers, refused) = (
        stat.column("hrsp_5xx")?,
        stat.column("eresp")?,
        stat.column("econ")?,
    );
    let requests = stat.column("req_tot").ok();
    Ok(stat
        .servers(backend)?
        .map(|f| {
            let sent = match requests.filter(|r| !field(f, *r).is_empty()) {
                Some(column) => number(f, Some(column)),
                None => answers.iter().map(|a| number(f, Some(*a))).sum(),
            };
            let refused = number(f, Some(refused));
            let counters = Counters {
                requests: sent + refused,
                errors: number(f, Some(server_errors)) + number(f, Some(bad_answers)) + refused,
            };
            (field(f, server).to_owned(), counters)
        })
        .collect())
}

fn field<'a>(row: &[&'a str], column: usize) -> &'a str {
    row.get(column).copied().unwrap_or_default()
}

/// A counter of a row; 0 where HAProxy leaves it empty.
fn number(row: &[&str], column: Option<usize>) -> u64 {
    column
        .and_then(|c| row.get(c))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

impl HaProxy {
    fn no_backend(&self) -> Error {
        Error::Balancer(format!(
            "HAProxy has no backend `{}` with servers; check `backend` against haproxy.cfg",
            self.backend
        ))
    }

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
    fn counters_are_found_by_column_name_whatever_the_order() {
        // Columns in another order than HAProxy 2.6's, and a server with empty counters.
        let csv = "# svname,econ,pxname,hrsp_5xx,req_tot,eresp,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_other\n\
                   FRONTEND,,www,9,99,,,,,,\n\
                   web1,2,web,5,100,1,0,95,0,0,0\n\
                   web2,,web,,,,,,,,\n\
                   BACKEND,2,web,5,102,1,0,95,0,0,0\n\
                   x1,7,other,7,7,7,0,0,0,0,0\n";
        let found = counters(&Stat::parse(csv), "web").unwrap();
        assert_eq!(
            found.into_iter().collect::<Vec<_>>(),
            [
                (
                    "web1".to_owned(),
                    Counters {
                        requests: 102,
                        errors: 8
                    }
                ),
                ("web2".to_owned(), Counters::default()),
            ]
        );
        // Without `req_tot` (HAProxy 1.x), the answers count the requests.
        let old = "# pxname,svname,econ,eresp,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other\n\
                   web,web1,1,0,0,40,5,3,2,0\n";
        assert_eq!(
            counters(&Stat::parse(old), "web").unwrap()["web1"],
            Counters {
                requests: 51,
                errors: 3
            }
        );
        assert_eq!(
            counters(&Stat::parse("# pxname,svname\nweb,web1\n"), "web")
                .unwrap_err()
                .to_string(),
            "HAProxy's `show stat` has no `hrsp_1xx` column"
        );
    }

    #[test]
    fn counters_that_went_down_were_reset() {
        let before = Counters {
            requests: 100,
            errors: 4,
        };
        assert_eq!(
            Counters {
                requests: 150,
                errors: 9
            }
            .since(before),
            Counters {
                requests: 50,
                errors: 5
            }
        );
        // `clear counters` or a reload between the two readings.
        assert_eq!(
            Counters {
                requests: 30,
                errors: 1
            }
            .since(before),
            Counters {
                requests: 30,
                errors: 1
            }
        );
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
