//! Jump hosts (`ProxyJump`, `-g/--gateway`): reaching a host through others.
//!
//! libssh2 cannot run a session over another session's channel (ssh2-rs#167), so each hop
//! gets a socketpair: the next session talks over one end, and a thread pumps bytes between
//! the other end and a `direct-tcpip` channel of the hop's own session. The thread owns that
//! session and ends when either side closes.

use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use ssh2::Channel;

use crate::ssh::error::Error;
use crate::ssh::pump::Pump;

/// When the far end of a jump tunnel last sent anything, set by the tunnel's thread.
pub(crate) type Heard = Arc<Mutex<Instant>>;

/// The connection to a jump host, as a tunnel through it needs it (the connection module
/// implements it, so this one needs nothing of that one).
pub(crate) trait Hop: Send + 'static {
    fn session(&self) -> &ssh2::Session;
    /// The socket under the session, polled while the tunnel waits for data.
    fn raw_fd(&self) -> RawFd;
}

/// Opens a tunnel through `hop` to `host:port`; the returned socket reaches it, and the
/// returned clock says when `host` last sent anything through it.
pub(crate) fn tunnel(hop: impl Hop, host: &str, port: u16) -> Result<(UnixStream, Heard), Error> {
    let (ours, theirs) =
        UnixStream::pair().map_err(|e| tunnel_error(format!("cannot make a socket pair: {e}")))?;
    hop.session().set_blocking(true);
    let channel = hop
        .session()
        .channel_direct_tcpip(host, port, None)
        .map_err(|e| tunnel_error(format!("the jump host cannot reach {host}:{port}: {e}")))?;
    hop.session().set_blocking(false);
    theirs
        .set_nonblocking(true)
        .map_err(|e| tunnel_error(e.to_string()))?;
    let heard: Heard = Arc::new(Mutex::new(Instant::now()));
    let clock = heard.clone();
    std::thread::Builder::new()
        .name(format!("jump to {host}:{port}"))
        .spawn(move || pump(&hop, channel, theirs, &clock))
        .map_err(|e| tunnel_error(format!("cannot start the jump thread: {e}")))?;
    Ok((ours, heard))
}

fn tunnel_error(message: String) -> Error {
    Error::Tunnel { message }
}

/// Copies both ways until either side closes.
fn pump(hop: &impl Hop, mut channel: Channel, mut socket: UnixStream, heard: &Heard) {
    let mut pump = Pump::default();
    let mut buffer = vec![0_u8; 64 * 1024];
    while let Some(round) = pump.round(&mut socket, &mut Tcpip(&mut channel), &mut buffer) {
        if round.from_channel > 0 {
            *heard.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
        }
        if !round.moved {
            wait_either(hop, &socket, Duration::from_millis(50));
        }
    }
    let _ = channel.close();
}

/// The `direct-tcpip` channel as the pump reads it: an empty read before the channel's end
/// is "nothing now".
struct Tcpip<'a>(&'a mut Channel);

impl Read for Tcpip<'_> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        match self.0.read(buffer)? {
            0 if !self.0.eof() => Err(ErrorKind::WouldBlock.into()),
            n => Ok(n),
        }
    }
}

impl Write for Tcpip<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.write(bytes)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// Waits until the hop's socket or the local end has something to read.
fn wait_either(hop: &impl Hop, socket: &UnixStream, timeout: Duration) {
    let mut fds = [
        libc::pollfd {
            fd: hop.raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        },
        libc::pollfd {
            fd: socket.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        },
    ];
    let millis = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
    // SAFETY: `fds` is a valid array of two pollfds for the duration of the call.
    #[allow(unsafe_code)]
    unsafe {
        libc::poll(fds.as_mut_ptr(), 2, millis);
    }
}
