//! Carrying bytes both ways between a local socket and an SSH channel, both non-blocking:
//! the jump tunnels and forwarded agent connections. A round never waits; each caller
//! waits between rounds in its own bounded way.

use std::io::{ErrorKind, Read, Write};

/// The bytes on their way between the two ends.
#[derive(Default)]
pub(crate) struct Pump {
    to_channel: Vec<u8>,
    to_socket: Vec<u8>,
}

/// What one round moved.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Round {
    /// Bytes read from the channel: the far side is alive.
    pub(crate) from_channel: usize,
    /// Whether anything was written to either end.
    pub(crate) moved: bool,
}

impl Pump {
    /// One round: reads what each end has (only once its last bytes are delivered), and
    /// writes what is pending. `None` when either end has closed or failed: the pump is
    /// over. A channel reads `Ok(0)` only at its end, and "nothing now" as `WouldBlock`.
    pub(crate) fn round(
        &mut self,
        socket: &mut (impl Read + Write),
        channel: &mut (impl Read + Write),
        buffer: &mut [u8],
    ) -> Option<Round> {
        let (_, to_channel) = carry(&mut self.to_channel, socket, channel, buffer)?;
        let (from_channel, to_socket) = carry(&mut self.to_socket, channel, socket, buffer)?;
        Some(Round {
            from_channel,
            moved: to_channel || to_socket,
        })
    }
}

/// One direction: reads from `from` into `pending` if it is empty, then writes `pending`
/// to `to`; the bytes read and whether any were written, or `None` at the end or an error.
fn carry(
    pending: &mut Vec<u8>,
    from: &mut impl Read,
    to: &mut impl Write,
    buffer: &mut [u8],
) -> Option<(usize, bool)> {
    let mut read = 0;
    if pending.is_empty() {
        match from.read(buffer) {
            Ok(0) => return None,
            Ok(n) => {
                pending.extend_from_slice(&buffer[..n]);
                read = n;
            }
            Err(e) if idle(&e) => {}
            Err(_) => return None,
        }
    }
    let mut wrote = false;
    if !pending.is_empty() {
        match to.write(pending) {
            Ok(n) => {
                pending.drain(..n);
                wrote = n > 0;
            }
            Err(e) if idle(&e) => {}
            Err(_) => return None,
        }
    }
    Some((read, wrote))
}

/// Nothing to do now; try again next round.
fn idle(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted)
}

#[cfg(test)]
mod tests {
    use std::os::unix::net::UnixStream;

    use super::*;

    /// Two non-blocking socket pairs: (the pump's socket, its far end), (the pump's
    /// "channel", its far end).
    fn ends() -> ((UnixStream, UnixStream), (UnixStream, UnixStream)) {
        let pairs = (UnixStream::pair().unwrap(), UnixStream::pair().unwrap());
        for end in [&pairs.0.0, &pairs.0.1, &pairs.1.0, &pairs.1.1] {
            end.set_nonblocking(true).unwrap();
        }
        pairs
    }

    #[test]
    fn a_pump_carries_bytes_both_ways_and_counts_the_channels() {
        let ((mut socket, mut client), (mut channel, mut server)) = ends();
        let mut pump = Pump::default();
        let mut buffer = [0_u8; 4];
        client.write_all(b"hello").unwrap();
        server.write_all(b"hi").unwrap();
        let mut rounds = Vec::new();
        for _ in 0..3 {
            rounds.push(pump.round(&mut socket, &mut channel, &mut buffer).unwrap());
        }
        // A small buffer: "hello" takes two rounds.
        assert_eq!(
            rounds[0],
            Round {
                from_channel: 2,
                moved: true
            }
        );
        assert_eq!(
            rounds[1],
            Round {
                from_channel: 0,
                moved: true
            }
        );
        assert_eq!(
            rounds[2],
            Round {
                from_channel: 0,
                moved: false
            }
        );
        let mut got = [0_u8; 8];
        assert_eq!(server.read(&mut got).unwrap(), 5);
        assert_eq!(&got[..5], b"hello");
        assert_eq!(client.read(&mut got).unwrap(), 2);
        assert_eq!(&got[..2], b"hi");
    }

    #[test]
    fn a_pump_ends_when_either_side_closes() {
        let ((mut socket, client), (mut channel, _server)) = ends();
        drop(client);
        assert_eq!(
            Pump::default().round(&mut socket, &mut channel, &mut [0_u8; 4]),
            None
        );
        let ((mut socket, _client), (mut channel, server)) = ends();
        drop(server);
        assert_eq!(
            Pump::default().round(&mut socket, &mut channel, &mut [0_u8; 4]),
            None
        );
    }
}
