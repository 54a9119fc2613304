//! Shell commands where a load balancer runs: on this machine, or on the load balancer's host
//! over the run's SSH connection to it. The nginx and command drivers work through it.

use std::sync::Arc;

use crate::lb::Error;
use crate::ssh::quote::quote;

/// Runs one command line and gives its exit status, stdout and stderr, or why it could not.
pub(crate) type RunFn = dyn Fn(&str) -> Result<(i64, String, String), Error> + Send + Sync;

#[derive(Clone)]
pub(crate) struct Shell {
    /// `this machine`, or `lb1.example.com`: for messages.
    pub(crate) place: String,
    run: Arc<RunFn>,
    /// Each command runs as root through `sudo -n`.
    sudo: bool,
}

impl std::fmt::Debug for Shell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Shell({})", self.place)
    }
}

impl Shell {
    pub(crate) fn new(place: String, run: Arc<RunFn>, sudo: bool) -> Self {
        Self { place, run, sudo }
    }

    /// `/bin/sh -c` on this machine.
    pub(crate) fn local(sudo: bool) -> Self {
        let run = |command: &str| {
            let out = std::process::Command::new("/bin/sh")
                .args(["-c", command])
                .stdin(std::process::Stdio::null())
                .output()
                .map_err(|e| Error::Balancer(e.to_string()))?;
            Ok((
                i64::from(out.status.code().unwrap_or(128)),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            ))
        };
        Self::new("this machine".into(), Arc::new(run), sudo)
    }

    /// Runs `command`; its stdout, or an error naming it, where it ran and what it said.
    pub(crate) fn run(&self, command: &str) -> Result<String, Error> {
        let (code, stdout, stderr) = self.status(command)?;
        if code == 0 {
            return Ok(stdout);
        }
        let said = if stderr.trim().is_empty() {
            stdout.trim()
        } else {
            stderr.trim()
        };
        Err(Error::Balancer(format!(
            "`{command}` failed on {} (exit status {code}){}",
            self.place,
            if said.is_empty() {
                String::new()
            } else {
                format!(": {said}")
            }
        )))
    }

    /// Runs `command`; its exit status and output, whatever the status.
    pub(crate) fn status(&self, command: &str) -> Result<(i64, String, String), Error> {
        let line = if self.sudo {
            format!("sudo -n /bin/sh -c {}", quote(command))
        } else {
            command.to_owned()
        };
        (self.run)(&line)
            .map_err(|e| Error::Balancer(format!("cannot run `{command}` on {}: {e}", self.place)))
    }
}

/// `template` with `{server}` and `{state}` replaced (each quoted for the shell).
pub(crate) fn fill(template: &str, server: &str, state: Option<&str>) -> String {
    let filled = template.replace("{server}", &quote(server));
    match state {
        Some(state) => filled.replace("{state}", &quote(state)),
        None => filled,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_get_quoted_words() {
        assert_eq!(
            fill("lbctl set {server} {state}", "web 1'", Some("drain")),
            r"lbctl set 'web 1'\''' 'drain'"
        );
    }

    #[test]
    fn a_failed_command_names_itself_and_what_it_said() {
        let shell = Shell::local(false);
        assert_eq!(shell.run("echo hi").unwrap(), "hi\n");
        assert_eq!(
            shell.run("echo nope >&2; exit 3").unwrap_err().to_string(),
            "`echo nope >&2; exit 3` failed on this machine (exit status 3): nope"
        );
    }
}
