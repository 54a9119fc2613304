//! Jump hosts (`ProxyJump`, `-g/--gateway`): reaching a host through others.
//!
//! libssh2 cannot run a session over another session's channel (ssh2-rs#167), so each hop
//! gets a socketpair: the next session talks over one end, and a thread pumps bytes between
//! the other end and a `direct-tcpip` channel of the hop's own session. The thread owns that
//! session and ends when either side closes.

use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use ssh2::Channel;

use crate::ssh::connection::{Connection, Heard};

/// Opens a tunnel through `hop` to `host:port`; the returned socket reaches it, and the
/// returned clock says when `host` last sent anything through it.
pub(crate) fn tunnel(
    hop: Connection,
    host: &str,
    port: u16,
) -> Result<(UnixStream, Heard), String> {
    let (ours, theirs) =
        UnixStream::pair().map_err(|e| format!("cannot make a socket pair: {e}"))?;
    hop.session.set_blocking(true);
    let channel = hop
        .session
        .channel_direct_tcpip(host, port, None)
        .map_err(|e| format!("the jump host cannot reach {host}:{port}: {e}"))?;
    hop.session.set_blocking(false);
    theirs.set_nonblocking(true).map_err(|e| e.to_string())?;
    let heard: Heard = Arc::new(Mutex::new(Instant::now()));
    let clock = heard.clone();
    std::thread::Builder::new()
        .name(format!("jump to {host}:{port}"))
        .spawn(move || pump(&hop, channel, theirs, &clock))
        .map_err(|e| format!("cannot start the jump thread: {e}"))?;
    Ok((ours, heard))
}

/// Copies both ways until either side closes.
fn pump(hop: &Connection, mut channel: Channel, mut socket: UnixStream, heard: &Heard) {
    let mut to_channel: Vec<u8> = Vec::new();
    let mut to_socket: Vec<u8> = Vec::new();
    let mut buffer = vec![0_u8; 64 * 1024];
    loop {
        let mut progressed = false;
        if to_channel.is_empty() {
            match socket.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => to_channel.extend_from_slice(&buffer[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => break,
            }
        }
        if !to_channel.is_empty() {
            match channel.write(&to_channel) {
                Ok(n) => {
                    to_channel.drain(..n);
                    progressed = true;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => break,
            }
        }
        if to_socket.is_empty() {
            match channel.read(&mut buffer) {
                Ok(0) if channel.eof() => break,
                Ok(n) => {
                    if n > 0 {
                        *heard.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
                    }
                    to_socket.extend_from_slice(&buffer[..n]);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => break,
            }
        }
        if !to_socket.is_empty() {
            match socket.write(&to_socket) {
                Ok(n) => {
                    to_socket.drain(..n);
                    progressed = true;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => break,
            }
        }
        if !progressed {
            wait_either(hop, &socket, Duration::from_millis(50));
        }
    }
    let _ = channel.close();
}

/// Waits until the hop's socket or the local end has something to read.
fn wait_either(hop: &Connection, socket: &UnixStream, timeout: Duration) {
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
