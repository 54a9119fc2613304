//! Any other load balancer, driven by the user's shell commands: one prints the servers and
//! their states, one sets a server's state, one (optional) checks a server's health.
//!
//! The check command is required: a command that sets servers' states cannot tell their
//! health, and rfab never brings an unchecked group live.
//!
//! The status command prints one server per line: `NAME STATE [SESSIONS]`, where STATE is
//! `live` (or `up`, `ready`), `drain` (or `draining`), `maint` (or `down`, `out`), `failing`
//! (meant to be live, failing its health checks) or `pending`.

use std::time::Instant;

use super::driver::{Driver, Health, Rotation, Server, State};
use super::shell::{Shell, fill};
use crate::lb::Error;

#[derive(Debug)]
pub(crate) struct CommandDriver {
    pub(crate) shell: Shell,
    pub(crate) status: String,
    /// Run with `{server}` and `{state}` (`ready`, `drain`, `maint`) filled in.
    pub(crate) set: String,
    /// Run with `{server}`; exits 0 when it is healthy.
    pub(crate) check: String,
}

impl Driver for CommandDriver {
    fn name(&self) -> String {
        format!(
            "load balancer of `{}` (on {})",
            self.status, self.shell.place
        )
    }

    fn servers(&self) -> Result<Vec<Server>, Error> {
        let text = self.shell.run(&self.status)?;
        let servers = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|line| parse(line).ok_or_else(|| Error::Balancer(format!("`{}` printed `{line}`: each line should be `NAME STATE [SESSIONS]`, STATE one of live, drain, maint, failing, pending", self.status))))
            .collect::<Result<Vec<_>, _>>()?;
        if servers.is_empty() {
            return Err(Error::Balancer(format!(
                "`{}` printed no servers",
                self.status
            )));
        }
        Ok(servers)
    }

    fn set(&self, changes: &[(&str, State)]) -> Result<(), Error> {
        for (server, state) in changes {
            self.shell
                .run(&fill(&self.set, server, Some(state.name())))?;
        }
        Ok(())
    }

    fn health(&self, servers: &[Server], _since: Instant) -> Result<Vec<Health>, Error> {
        servers
            .iter()
            .map(|s| {
                if s.rotation == Rotation::Failing {
                    return Ok(Health::Failing(s.status.clone()));
                }
                let (code, _, stderr) = self.shell.status(&fill(&self.check, &s.name, None))?;
                Ok(if code == 0 {
                    Health::Passing
                } else {
                    Health::Failing(format!(
                        "check exited with status {code}: {}",
                        stderr.trim()
                    ))
                })
            })
            .collect()
    }
}

/// `web1 live 3` → the server.
fn parse(line: &str) -> Option<Server> {
    let mut words = line.split_whitespace();
    let name = words.next()?;
    let status = words.next()?;
    let rotation = match status.to_ascii_lowercase().as_str() {
        "live" | "up" | "ready" => Rotation::Live,
        "drain" | "draining" => Rotation::Draining,
        "maint" | "down" | "out" => Rotation::Maint,
        "failing" => Rotation::Failing,
        "pending" => Rotation::Pending,
        _ => return None,
    };
    let sessions = match words.next() {
        Some(n) => n.parse().ok()?,
        None => 0,
    };
    Some(Server {
        name: name.to_owned(),
        status: status.to_owned(),
        rotation,
        sessions,
        check: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_name_state_and_sessions() {
        let server = parse("web1 drain 3").unwrap();
        assert_eq!(
            (server.name.as_str(), server.rotation, server.sessions),
            ("web1", Rotation::Draining, 3)
        );
        assert_eq!(parse("web2 UP").unwrap().rotation, Rotation::Live);
        assert!(parse("web3 sleeping").is_none());
        assert!(parse("web3 up many").is_none());
    }
}
