//! Running one command over an SSH connection and streaming its output line by line.
//!
//! The read loop is non-blocking over stdout and stderr together: a blocking read of one
//! stream deadlocks as soon as the command fills the other's window (libssh2 lets one
//! blocking call at a time use a session, and a channel's window is about 2 MB). While
//! nothing arrives it waits on the socket with `poll(2)`, and checks Ctrl-C and the
//! command's deadline.
//!
//! Each command starts by reporting its process id on stderr (a line rfab strips), so that
//! Ctrl-C or a timeout can stop the command's whole process group on the host: closing the
//! channel alone leaves a command without a terminal running.

use std::io::{ErrorKind, Read};
use std::time::{Duration, Instant};

use ssh2::Channel;

use crate::output::lines::Lines;
use crate::signals;
use crate::ssh::connection::Connection;
use crate::ssh::sudo_prompt::{self, SudoPrompt};
use crate::ssh::watch::{Stop, Watch};

/// Fabric's default shell, for a command when neither `env.shell` nor the call names one.
pub(crate) const DEFAULT_SHELL: &str = "/bin/bash -l -c";

/// The line each command starts with on stderr, before its process id.
const PID_MARKER: &str = "rfab-remote-pid:";

pub(crate) struct Request<'a> {
    /// The full command line for the remote shell.
    pub(crate) command: String,
    pub(crate) timeout: Option<Duration>,
    /// How to answer sudo's prompt, for a command run through `sudo -p PROMPT`; without
    /// it, nothing is ever answered.
    pub(crate) sudo: Option<Sudo<'a>>,
    pub(crate) pty: bool,
    /// `-A`: let the command use the local ssh-agent.
    pub(crate) forward_agent: bool,
    /// Runs to the end even after Ctrl-C: for the cleanup that Ctrl-C itself calls for.
    pub(crate) ignore_interrupt: bool,
    /// The most bytes of each stream the result keeps; all of it is still streamed.
    pub(crate) output_limit: usize,
}

pub(crate) struct Sudo<'a> {
    /// The prompt the command line gives sudo, this command's own.
    pub(crate) prompt: &'a SudoPrompt,
    /// Gives the password, asked only if sudo prompts; no answer fails the command.
    pub(crate) password: &'a dyn Fn() -> Option<String>,
}

#[derive(Debug, Default)]
pub(crate) struct Completed {
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) code: i64,
    /// The signal that killed the command (`KILL`, `TERM`, ...).
    pub(crate) signal: Option<String>,
    /// `output_limit` cut stdout or stderr short in the result.
    pub(crate) cut: bool,
}

/// Why a command did not complete, in words for a message that names the host and the
/// command around it.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Failure {
    #[error("interrupted (Ctrl-C)")]
    Interrupted,
    #[error("it ran past its {}s and was stopped (-T)", .0.as_secs_f64())]
    TimedOut(Duration),
    #[error("{0}")]
    SudoPassword(&'static str),
    /// The connection was lost.
    #[error("the connection failed: {0}")]
    Ssh(String),
    /// The host stopped answering: why.
    #[error("the host stopped answering: {0}")]
    Stalled(String),
}

impl From<Stop> for Failure {
    fn from(stop: Stop) -> Self {
        match stop {
            Stop::Interrupted => Self::Interrupted,
            Stop::Ssh(e) => Self::Ssh(e),
            stalled @ (Stop::NoProgress(..) | Stop::Unanswered(_)) => {
                Self::Stalled(stalled.reason())
            }
        }
    }
}

/// Runs `request` on `connection`, passing each output line to `each(is_stderr, line)`.
pub(crate) fn run(
    connection: &Connection,
    request: &Request,
    each: &mut dyn FnMut(bool, &str),
) -> Result<Completed, Failure> {
    let session = &connection.session;
    session.set_blocking(false);
    // Opening the channel and starting the command go no longer without progress than the
    // command itself may take.
    let mut watch =
        Watch::new(connection, request.timeout, "-T").for_cleanup(request.ignore_interrupt);
    let mut channel = watch.retry(|| session.channel_session())?;
    if request.forward_agent {
        watch.retry(|| channel.request_auth_agent_forwarding())?;
    }
    if request.pty {
        watch.retry(|| channel.request_pty("xterm", None, Some((200, 50, 0, 0))))?;
    }
    let marked = format!(
        "printf '{PID_MARKER}%s\\n' \"$$\" >&2; exec {}",
        request.command
    );
    watch.retry(|| channel.exec(&marked))?;
    let started = Instant::now();
    let result = pump(connection, &mut channel, request, each).and_then(|(completed, pid)| {
        close(connection, &mut channel, request, started, pid).map(|()| completed)
    });
    match result {
        Ok(mut completed) => {
            session.set_blocking(true);
            completed.code = i64::from(
                channel
                    .exit_status()
                    .map_err(|e| Failure::Ssh(e.to_string()))?,
            );
            completed.signal = channel.exit_signal().ok().and_then(|s| s.exit_signal);
            if completed.signal.is_some() && completed.code == 0 {
                // A killed command reports status 0 through libssh2; say it failed.
                completed.code = 128 + signal_number(completed.signal.as_deref());
            }
            Ok(completed)
        }
        Err((failure, pid)) => {
            // A host that stopped answering cannot be asked to stop the command either.
            if !matches!(failure, Failure::Ssh(_) | Failure::Stalled(_))
                && let Err(stop) = stop(connection, pid)
            {
                let before = match &failure {
                    Failure::TimedOut(limit) => {
                        format!("it ran past its {}s (-T)", limit.as_secs_f64())
                    }
                    Failure::SudoPassword(why) => (*why).to_owned(),
                    _ => "it failed".into(),
                };
                if !matches!(failure, Failure::Interrupted) {
                    return Err(Failure::Stalled(format!(
                        "{before}, and stopping it failed: {}; it may still run there",
                        stop.reason()
                    )));
                }
            }
            let _ = channel.close();
            Err(failure)
        }
    }
}

/// After EOF, waits for the channel to close within what is left of the command's time; a
/// failure keeps the command's process id, so the command is stopped on the host.
fn close(
    connection: &Connection,
    channel: &mut Channel,
    request: &Request,
    started: Instant,
    pid: Option<u32>,
) -> Result<(), (Failure, Option<u32>)> {
    // A watch of its own: the pump's quiet time is not the close's.
    let left = request.timeout.map(|limit| {
        limit
            .saturating_sub(started.elapsed())
            .max(Duration::from_millis(100))
    });
    Watch::new(connection, left, "-T")
        .for_cleanup(request.ignore_interrupt)
        .retry(|| channel.wait_close())
        .map_err(|stop| {
            let failure = match (stop, request.timeout) {
                (Stop::NoProgress(..), Some(limit)) => Failure::TimedOut(limit),
                (stop, _) => stop.into(),
            };
            (failure, pid)
        })
}

type PumpResult = Result<(Completed, Option<u32>), (Failure, Option<u32>)>;

fn pump(
    connection: &Connection,
    channel: &mut Channel,
    request: &Request,
    each: &mut dyn FnMut(bool, &str),
) -> PumpResult {
    let deadline = request.timeout.map(|t| (Instant::now() + t, t));
    // The deadline is the command's limit; the watch gives up on a host that stopped answering.
    let mut watch = Watch::new(connection, None, "-T").for_cleanup(request.ignore_interrupt);
    let (mut stdout, mut stderr) = (
        Lines::new(request.output_limit),
        Lines::new(request.output_limit),
    );
    let mut pid: Option<u32> = None;
    // The process id counts only as the first line of the stream the shell printed it on
    // (stderr, or the terminal's stdout): a command printing a marker of its own must not
    // choose what Ctrl-C or a timeout kills.
    let mut marker_line_seen = false;
    let mut sudo = SudoState::Asking;
    let mut buffer = vec![0_u8; 64 * 1024];
    loop {
        let mut progressed = false;
        for is_err in [false, true] {
            let read = if is_err {
                channel.stderr().read(&mut buffer)
            } else {
                channel.read(&mut buffer)
            };
            match read {
                Ok(0) => {}
                Ok(n) => {
                    progressed = true;
                    let lines = if is_err { &mut stderr } else { &mut stdout };
                    let prompts_here = request.sudo.is_some() && is_err != request.pty;
                    let marker_stream = is_err != request.pty;
                    lines.push(
                        &buffer[..n],
                        &mut |line: &str| match line.strip_prefix(PID_MARKER) {
                            Some(found) if marker_stream && !marker_line_seen => {
                                marker_line_seen = true;
                                pid = found.trim().parse().ok().filter(|pid| *pid > 1);
                                false
                            }
                            _ if marker_stream && !marker_line_seen => {
                                marker_line_seen = true;
                                each(is_err, line);
                                true
                            }
                            _ if prompts_here
                                && sudo != SudoState::Started
                                && line == sudo_prompt::STARTED =>
                            {
                                sudo = SudoState::Started;
                                false
                            }
                            _ => {
                                each(is_err, line);
                                true
                            }
                        },
                    );
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => return Err((Failure::Ssh(e.to_string()), pid)),
            }
        }
        let prompt_lines = if request.pty {
            &mut stdout
        } else {
            &mut stderr
        };
        progressed |= answer_sudo(connection, channel, request, prompt_lines, &mut sudo)
            .map_err(|f| (f, pid))?;
        if let Some(forwarding) = &connection.forwarding {
            progressed |= forwarding.pump(&connection.session);
        }
        if channel.eof() {
            break;
        }
        // Checked on every pass: a command that never stops printing must still stop.
        if signals::interrupted() && !request.ignore_interrupt {
            return Err((Failure::Interrupted, pid));
        }
        if let Some((at, limit)) = deadline
            && Instant::now() >= at
        {
            return Err((Failure::TimedOut(limit), pid));
        }
        if !progressed {
            watch.wait().map_err(|stop| (stop.into(), pid))?;
        }
    }
    let (stdout, stderr, cut) = Lines::finish_both(stdout, stderr, each);
    Ok((
        Completed {
            stdout,
            stderr,
            code: 0,
            signal: None,
            cut,
        },
        pid,
    ))
}

/// Where sudo is in running a command.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SudoState {
    /// It may ask for the password.
    Asking,
    /// It was given the password, and asks again only if it refused it.
    Answered,
    /// The command runs ([`sudo_prompt::STARTED`] came): sudo asks nothing more, and what
    /// looks like its prompt is the command's own output.
    Started,
}

/// Answers sudo's prompt if it waits at the end of `lines`: those of stderr, where sudo
/// prints it, or of stdout on a pseudo-terminal, which carries both. Only this command's
/// prompt counts, with its nonce, and only before the command starts: text a command
/// prints never gets the password, even if it found the nonce in sudo's command line. A
/// second prompt means sudo refused the first answer, which is not sent again. Says
/// whether it answered.
fn answer_sudo(
    connection: &Connection,
    channel: &mut Channel,
    request: &Request,
    lines: &mut Lines,
    state: &mut SudoState,
) -> Result<bool, Failure> {
    let Some(sudo) = &request.sudo else {
        return Ok(false);
    };
    let prompt = sudo.prompt.text().as_bytes();
    if *state == SudoState::Started || !lines.partial_ends_with(prompt) {
        return Ok(false);
    }
    if *state == SudoState::Answered {
        return Err(Failure::SudoPassword("sudo refused the password"));
    }
    let Some(password) = (sudo.password)() else {
        return Err(Failure::SudoPassword("sudo asked for a password"));
    };
    write_all(connection, channel, format!("{password}\n").as_bytes())?;
    lines.answered(prompt.len(), request.pty);
    *state = SudoState::Answered;
    Ok(true)
}

fn write_all(connection: &Connection, channel: &mut Channel, bytes: &[u8]) -> Result<(), Failure> {
    Watch::new(connection, None, "-T")
        .write_all(channel, bytes)
        .map_err(Failure::from)
}

/// Stops the command's process group on the host, through a second channel.
fn stop(connection: &Connection, pid: Option<u32>) -> Result<(), Stop> {
    let Some(pid) = pid else { return Ok(()) };
    let session = &connection.session;
    session.set_blocking(false);
    let mut watch =
        Watch::new(connection, Some(connection.connect_timeout), "-t").for_cleanup(true);
    let mut channel = watch.retry(|| session.channel_session())?;
    watch.retry(|| {
        channel.exec(&format!(
            "kill -TERM -- -{pid} 2>/dev/null || kill -TERM {pid}"
        ))
    })?;
    watch.retry(|| channel.wait_eof())?;
    watch.retry(|| channel.wait_close())
}

fn signal_number(name: Option<&str>) -> i64 {
    match name {
        Some("HUP") => 1,
        Some("INT") => 2,
        Some("QUIT") => 3,
        Some("ABRT") => 6,
        Some("KILL") => 9,
        Some("SEGV") => 11,
        Some("PIPE") => 13,
        Some("ALRM") => 14,
        _ => 15,
    }
}
