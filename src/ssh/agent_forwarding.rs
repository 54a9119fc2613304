//! `-A`: letting commands on a host use the local ssh-agent.
//!
//! Asking the server for forwarding is one request; serving it is the client's job: for
//! each agent connection a command makes on the host, sshd opens an `auth-agent@openssh.com`
//! channel back to us, and we must carry its bytes to and from the local agent. libssh2
//! announces those channels only through a session callback, which the ssh2 crate does not
//! expose, so this module talks to libssh2 directly. It is used only under `-A`.
//!
//! Every raw call happens under the session's lock (`Session::raw()`), on the thread that
//! runs the command, so libssh2 is never entered twice at once.

use std::io::{ErrorKind, Read, Write};
use std::os::raw::{c_char, c_int, c_void};
use std::os::unix::net::UnixStream;
use std::sync::{Mutex, PoisonError};

use ssh2::Session;

use crate::ssh::pump::Pump;

/// libssh2's number for the callback that receives forwarded agent channels.
const CALLBACK_AUTHAGENT: c_int = 7;
/// libssh2's "would block".
const ERROR_EAGAIN: isize = -37;

// Declared here: libssh2-sys links libssh2 but does not bind this function.
#[allow(unsafe_code)]
unsafe extern "C" {
    fn libssh2_session_callback_set2(
        session: *mut libssh2_sys::LIBSSH2_SESSION,
        cbtype: c_int,
        callback: *const c_void,
    ) -> *const c_void;
}

/// Channels libssh2 has opened for the host's agent clients, waiting to be served.
#[derive(Default)]
pub(crate) struct Forwarding {
    opened: Mutex<Vec<usize>>,
    /// Channels being served, each with its connection to the local agent and the bytes
    /// on their way between them.
    served: Mutex<Vec<(usize, UnixStream, Pump)>>,
}

/// Receives each channel the server opens for a forwarded agent connection.
extern "C" fn on_agent_channel(
    _session: *mut libssh2_sys::LIBSSH2_SESSION,
    channel: *mut libssh2_sys::LIBSSH2_CHANNEL,
    abstract_: *mut *mut c_void,
) {
    // SAFETY: the session's abstract pointer is the `Forwarding` that `enable` stored, which
    // lives as long as the connection that owns the session.
    #[allow(unsafe_code)]
    let forwarding = unsafe { &*(*abstract_).cast::<Forwarding>() };
    forwarding
        .opened
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(channel as usize);
}

impl Forwarding {
    /// Installs the callback on `session`. `self` must outlive the session.
    pub(crate) fn enable(&self, session: &Session) {
        let raw = session.raw();
        let pointer: *const libssh2_sys::LIBSSH2_SESSION = &raw const *raw;
        let pointer = pointer.cast_mut();
        // SAFETY: the session pointer is valid under its lock; the abstract slot is ours
        // (ssh2 leaves it empty) and `self` outlives the session, as the caller promises.
        #[allow(unsafe_code)]
        unsafe {
            *libssh2_sys::libssh2_session_abstract(pointer) =
                std::ptr::from_ref(self).cast_mut().cast();
            libssh2_session_callback_set2(
                pointer,
                CALLBACK_AUTHAGENT,
                on_agent_channel as *const c_void,
            );
        }
    }

    /// Carries bytes between the host's agent clients and the local agent; returns whether
    /// anything moved. Called from the command's read loop, with the session not in use.
    pub(crate) fn pump(&self, session: &Session) -> bool {
        let opened: Vec<usize> =
            std::mem::take(&mut *self.opened.lock().unwrap_or_else(PoisonError::into_inner));
        let mut served = self.served.lock().unwrap_or_else(PoisonError::into_inner);
        for channel in opened {
            match std::env::var_os("SSH_AUTH_SOCK").and_then(|path| UnixStream::connect(path).ok())
            {
                Some(agent) if agent.set_nonblocking(true).is_ok() => {
                    served.push((channel, agent, Pump::default()));
                }
                _ => close(session, channel),
            }
        }
        let mut progressed = false;
        let mut buffer = [0_u8; 16 * 1024];
        served.retain_mut(|(channel, agent, pump)| {
            let mut remote = AgentChannel {
                session,
                channel: *channel as *mut libssh2_sys::LIBSSH2_CHANNEL,
            };
            let round = pump.round(agent, &mut remote, &mut buffer);
            progressed |= round.as_ref().is_some_and(|r| r.moved);
            if round.is_none() {
                close(session, *channel);
            }
            round.is_some()
        });
        progressed
    }
}

/// A forwarded agent channel, read and written through libssh2 directly, under the
/// session's lock. "Would block" (and an empty read before the channel's end) is
/// `WouldBlock`: the pump tries again on its next round.
struct AgentChannel<'a> {
    session: &'a Session,
    channel: *mut libssh2_sys::LIBSSH2_CHANNEL,
}

/// A libssh2 byte count, or the error it stands for.
fn counted(result: isize) -> std::io::Result<usize> {
    match result {
        n if n > 0 => Ok(usize::try_from(n).unwrap_or(0)),
        0 | ERROR_EAGAIN => Err(ErrorKind::WouldBlock.into()),
        code => Err(std::io::Error::other(format!(
            "libssh2 error {code} on a forwarded agent channel"
        ))),
    }
}

impl Read for AgentChannel<'_> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let _lock = self.session.raw();
        // SAFETY: the channel is open and belongs to this session, whose lock is held.
        #[allow(unsafe_code)]
        let (read, eof) = unsafe {
            let read = libssh2_sys::libssh2_channel_read_ex(
                self.channel,
                0,
                buffer.as_mut_ptr().cast::<c_char>(),
                buffer.len(),
            );
            (
                read,
                read == 0 && libssh2_sys::libssh2_channel_eof(self.channel) != 0,
            )
        };
        if eof { Ok(0) } else { counted(read) }
    }
}

impl Write for AgentChannel<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let _lock = self.session.raw();
        // SAFETY: as above; the pointer and length describe initialised bytes.
        #[allow(unsafe_code)]
        let wrote = unsafe {
            libssh2_sys::libssh2_channel_write_ex(
                self.channel,
                0,
                bytes.as_ptr().cast::<c_char>(),
                bytes.len(),
            )
        };
        counted(wrote)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn close(session: &Session, channel: usize) {
    let channel = channel as *mut libssh2_sys::LIBSSH2_CHANNEL;
    let _lock = session.raw();
    // SAFETY: the channel belongs to this session, whose lock is held; it is not used after.
    #[allow(unsafe_code)]
    unsafe {
        libssh2_sys::libssh2_channel_close(channel);
        libssh2_sys::libssh2_channel_free(channel);
    }
}
