//! Daemons the fleet starts, each in its own process group and stopped by PID (the group's)
//! when dropped; and waiting for things with a deadline instead of sleeping.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A process started by the fleet; stopped, with everything it started, when dropped.
pub struct Daemon {
    name: String,
    child: Child,
}

impl Daemon {
    /// Starts `command` in a new process group (so the terminal's Ctrl-C reaches the
    /// fleet's owner, which stops it in order), its output appended to `log`.
    pub fn spawn(name: &str, command: &mut Command, log: &Path) -> Result<Self, String> {
        let file = |what| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .map_err(|e| format!("cannot open {what} log {}: {e}", log.display()))
        };
        let child = std::os::unix::process::CommandExt::process_group(command, 0)
            .stdin(Stdio::null())
            .stdout(file("the")?)
            .stderr(file("the")?)
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        Ok(Self {
            name: name.to_owned(),
            child,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// An error if the process has exited.
    pub fn check_running(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(format!("{} exited ({status})", self.name)),
            Err(e) => Err(format!("{}: {e}", self.name)),
        }
    }

    /// Stops the process group: SIGTERM, then SIGKILL if it is still there after 5 s.
    pub fn stop(&mut self) {
        if self.child.try_wait().ok().flatten().is_some() {
            return;
        }
        signal_group(self.child.id(), libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        signal_group(self.child.id(), libc::SIGKILL);
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Sends `signal` to the process group led by `pid`.
#[allow(unsafe_code)]
fn signal_group(pid: u32, signal: libc::c_int) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: kill(2) with a negative pid signals that process group; no memory is shared.
        unsafe {
            libc::kill(-pid, signal);
        }
    }
}

/// Polls `check` every 10 ms until it gives a value, or fails naming `what` after `limit`.
pub fn eventually<T>(
    what: &str,
    limit: Duration,
    mut check: impl FnMut() -> Option<T>,
) -> Result<T, String> {
    let start = Instant::now();
    loop {
        if let Some(value) = check() {
            return Ok(value);
        }
        if start.elapsed() >= limit {
            return Err(format!("timed out after {limit:?} waiting for {what}"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A TCP port free on every one of `addresses`, so each node can use the same one.
pub fn common_free_port(addresses: &[String]) -> Result<u16, String> {
    for _ in 0..50 {
        let first = std::net::TcpListener::bind((addresses[0].as_str(), 0))
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("cannot bind {}: {e}", addresses[0]))?
            .port();
        if addresses
            .iter()
            .all(|a| std::net::TcpListener::bind((a.as_str(), first)).is_ok())
        {
            return Ok(first);
        }
    }
    Err("no port is free on every node address".into())
}

/// Runs `command` to completion; an error with its output if it fails.
pub fn run(command: &mut Command) -> Result<String, String> {
    let out = command
        .output()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{command:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}
