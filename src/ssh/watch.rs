//! Waiting on a host without hanging when it stops answering.
//!
//! Remote operations run libssh2 in non-blocking mode and wait through a [`Watch`]. Between
//! tries it polls the socket, sends a keepalive when one is due, and gives up when:
//! - the host has answered nothing for as long as `ServerAliveCountMax` (3) keepalives
//!   allow (`--keepalive`): a stopped or cut-off host keeps its TCP connection open and
//!   says nothing, so only missing answers tell;
//! - the operation made no progress for its limit (`-T`, or `-t` for housekeeping);
//! - Ctrl-C, unless the operation is cleanup that must finish.
//!
//! Not libssh2's blocking mode: it waits inside its own calls, where Ctrl-C cannot reach,
//! and with keepalives on, an interval shorter than its timeout means its timeout never
//! fires.

use std::io::{ErrorKind, Write};
use std::time::{Duration, Instant};

use crate::signals;
use crate::ssh::connection::Connection;

/// libssh2's "call again": the call would have blocked.
const EAGAIN: ssh2::ErrorCode = ssh2::ErrorCode::Session(-37);

/// How long to wait for the socket between checks.
const TICK: Duration = Duration::from_millis(100);

/// A gap between waits this long means rfab was busy elsewhere (asking for the sudo
/// password, say), sending no keepalives: the host's silence counts again from then.
const AWAY: Duration = Duration::from_secs(2);

/// Why a remote operation was given up.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Stop {
    /// Ctrl-C.
    #[error("interrupted")]
    Interrupted,
    /// Nothing moved for this long; the flag that set the limit.
    #[error("no progress for {secs}s ({flag})", secs = .0.as_secs_f64(), flag = .1)]
    NoProgress(Duration, &'static str),
    /// The host answered no keepalive for this long: it is stopped, gone or cut off.
    #[error("no answer to keepalives for {}s (--keepalive)", .0.as_secs())]
    Unanswered(Duration),
    /// The connection failed: libssh2's words.
    #[error("{0}")]
    Ssh(String),
}

impl Stop {
    /// Why, for a user: `no answer to keepalives for 6s (--keepalive)`.
    pub(crate) fn reason(&self) -> String {
        self.to_string()
    }

    /// `what` (e.g. the upload of a file) failed on `host` this way, for a user.
    pub(crate) fn describe(&self, host: &str, what: &str) -> String {
        match self {
            Self::Interrupted => "interrupted".into(),
            Self::Ssh(e) => format!("lost the connection to `{host}` during {what}: {e}"),
            Self::NoProgress(..) => format!(
                "{what} on `{host}` made {}; gave up on the connection",
                self.reason()
            ),
            Self::Unanswered(_) => format!(
                "`{host}` stopped answering during {what}: {}; gave up on the connection",
                self.reason()
            ),
        }
    }
}

/// One remote operation's waiting: since when, and how long it may go without progress.
pub(crate) struct Watch<'a> {
    connection: &'a Connection,
    limit: Option<(Duration, &'static str)>,
    /// Since when the host's silence counts.
    started: Instant,
    progress: Instant,
    last_wait: Instant,
    cleanup: bool,
}

impl<'a> Watch<'a> {
    /// Starts watching an operation on `connection`, which may go `limit` without progress
    /// (`None`: as long as the host answers); `flag` names where the limit comes from.
    pub(crate) fn new(
        connection: &'a Connection,
        limit: Option<Duration>,
        flag: &'static str,
    ) -> Self {
        let now = Instant::now();
        Self {
            connection,
            limit: limit.map(|l| (l, flag)),
            started: now,
            progress: now,
            last_wait: now,
            cleanup: false,
        }
    }

    /// The same for cleanup, which Ctrl-C does not stop: Ctrl-C is what calls for it.
    pub(crate) fn for_cleanup(mut self, cleanup: bool) -> Self {
        self.cleanup = cleanup;
        self
    }

    /// Something moved: the no-progress clock starts again.
    pub(crate) fn progressed(&mut self) {
        self.progress = Instant::now();
    }

    /// Gives up if it is time to.
    pub(crate) fn check(&self) -> Result<(), Stop> {
        if !self.cleanup && signals::interrupted() {
            return Err(Stop::Interrupted);
        }
        if let Some((limit, flag)) = self.limit
            && self.progress.elapsed() >= limit
        {
            return Err(Stop::NoProgress(limit, flag));
        }
        match self.connection.unanswered_since(self.started) {
            Some(silent) => Err(Stop::Unanswered(silent)),
            None => Ok(()),
        }
    }

    /// Gives up if it is time to; otherwise sends a keepalive when one is due and waits a
    /// moment for the socket.
    pub(crate) fn wait(&mut self) -> Result<(), Stop> {
        let now = Instant::now();
        if now.duration_since(self.last_wait) > AWAY {
            self.started = now;
        }
        self.last_wait = now;
        self.check()?;
        self.connection.keepalive();
        self.connection.wait(TICK);
        Ok(())
    }

    /// Calls `call` until it no longer asks to be called again.
    pub(crate) fn retry<T>(
        &mut self,
        mut call: impl FnMut() -> Result<T, ssh2::Error>,
    ) -> Result<T, Stop> {
        loop {
            match call() {
                Ok(value) => {
                    self.progressed();
                    return Ok(value);
                }
                Err(e) if e.code() == EAGAIN => self.wait()?,
                Err(e) => return Err(Stop::Ssh(e.to_string())),
            }
        }
    }

    /// Writes all of `bytes`, waiting while the host's window or the socket is full.
    pub(crate) fn write_all(
        &mut self,
        writer: &mut impl Write,
        mut bytes: &[u8],
    ) -> Result<(), Stop> {
        while !bytes.is_empty() {
            match writer.write(bytes) {
                Ok(0) => return Err(Stop::Ssh("the channel was closed".into())),
                Ok(n) => {
                    bytes = &bytes[n..];
                    self.progressed();
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => self.wait()?,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(Stop::Ssh(e.to_string())),
            }
        }
        Ok(())
    }
}
