//! Moving files over an SSH connection: streamed through exec channels (`cat`), which is
//! faster than libssh2's SFTP with small writes and works the same under sudo.
//!
//! An upload lands in a temporary file beside its destination and is renamed over it, so a
//! reader sees the old file or the new one, never half of one. Transfers wait through a
//! [`Watch`]: one that stops moving for `-T`, or whose host stops answering keepalives,
//! fails instead of hanging.

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::path::Path;
use std::time::Duration;

use crate::ssh::connection::Connection;
use crate::ssh::quote::quote_path;
use crate::ssh::watch::{Stop, Watch};

const CHUNK: usize = 1 << 20;

/// Why a transfer failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Failed {
    /// Ctrl-C.
    #[error("interrupted")]
    Interrupted,
    /// The transfer failed; the connection is fine.
    #[error("{0}")]
    Transfer(String),
    /// The connection failed or the host stopped answering: it is beyond use.
    #[error("{0}")]
    Connection(Stop),
}

impl From<Stop> for Failed {
    fn from(stop: Stop) -> Self {
        match stop {
            Stop::Interrupted => Self::Interrupted,
            stop => Self::Connection(stop),
        }
    }
}

/// Streams `local` to `remote` with permission bits `mode`: into a temp file, then renamed.
/// `limit` is how long it may go without progress (`-T`); `sent(n)` is told of each chunk
/// written.
pub(crate) fn upload(
    connection: &Connection,
    local: &Path,
    remote: &str,
    mode: u32,
    limit: Option<Duration>,
    sent: &dyn Fn(u64),
) -> Result<(), Failed> {
    let unreadable =
        |e: std::io::Error| Failed::Transfer(format!("cannot read `{}`: {e}", local.display()));
    let mut file = File::open(local).map_err(unreadable)?;
    let length = file.metadata().map_err(unreadable)?.len();
    let temp = format!("{remote}.rfab-{}-{:016x}", std::process::id(), random());
    // A dropped connection ends `cat` with status 0: only a temp file of the full length may
    // be renamed over the destination. The umask is for the temp file only, not the
    // directories made on the way; `set -C` makes `>` create the file (O_EXCL), so it never
    // writes through a link or into a file planted there; `mv -T` never moves the file into
    // a directory.
    let command = format!(
        "mkdir -p -- \"$(dirname -- {dest})\" && (umask 077 && set -C && cat > {temp}) && [ \"$(wc -c < {temp})\" -eq {length} ] \
         && chmod {mode:o} {temp} && mv -fT -- {temp} {dest} || {{ status=$?; rm -f -- {temp}; exit $(( status ? status : 1 )); }}",
        dest = quote_path(remote),
        temp = quote_path(&temp),
    );
    let session = &connection.session;
    session.set_blocking(false);
    let mut watch = Watch::new(connection, limit, "-T");
    let mut channel = watch.retry(|| session.channel_session())?;
    watch.retry(|| channel.exec(&command))?;
    let mut buffer = vec![0_u8; CHUNK];
    loop {
        watch.check()?;
        let n = match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(unreadable(e)),
        };
        watch.write_all(&mut channel, &buffer[..n])?;
        sent(n as u64);
    }
    watch.retry(|| channel.send_eof())?;
    let errors = drain(&mut watch, &mut channel, &mut |_| Ok(()))?;
    finish(&mut watch, &mut channel, &errors, "write", remote)
}

/// Streams `remote` into `local`, through a temp file beside it; `received(n)` is told of
/// each chunk.
pub(crate) fn download(
    connection: &Connection,
    remote: &str,
    local: &Path,
    limit: Option<Duration>,
    received: &dyn Fn(u64),
) -> Result<(), Failed> {
    if let Some(dir) = local.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failed::Transfer(format!("cannot create `{}`: {e}", dir.display())))?;
    }
    // A new file of a random name beside the destination (never an existing name or link),
    // renamed over it once complete: no one sees half a file, nor can plant one.
    let dir = local
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = local
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let unwritable =
        |e: std::io::Error| Failed::Transfer(format!("cannot write `{}`: {e}", local.display()));
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{name}.rfab-"))
        .tempfile_in(dir)
        .map_err(unwritable)?;
    download_to(connection, remote, temp.as_file_mut(), limit, received)?;
    temp.persist(local).map_err(|e| unwritable(e.error))?;
    Ok(())
}

fn download_to(
    connection: &Connection,
    remote: &str,
    out: &mut File,
    limit: Option<Duration>,
    received: &dyn Fn(u64),
) -> Result<(), Failed> {
    let unwritable =
        |e: std::io::Error| Failed::Transfer(format!("cannot write a local file: {e}"));
    let session = &connection.session;
    session.set_blocking(false);
    let mut watch = Watch::new(connection, limit, "-T");
    let mut channel = watch.retry(|| session.channel_session())?;
    let command = format!("cat -- {}", quote_path(remote));
    watch.retry(|| channel.exec(&command))?;
    let errors = drain(&mut watch, &mut channel, &mut |bytes| {
        out.write_all(bytes).map_err(unwritable)?;
        received(bytes.len() as u64);
        Ok(())
    })?;
    finish(&mut watch, &mut channel, &errors, "read", remote)
}

/// Reads both streams of `channel` to their end, passing stdout to `stdout`; returns
/// stderr. Both, because libssh2 reports the end only once nothing is left unread.
fn drain(
    watch: &mut Watch,
    channel: &mut ssh2::Channel,
    stdout: &mut dyn FnMut(&[u8]) -> Result<(), Failed>,
) -> Result<Vec<u8>, Failed> {
    let mut errors = Vec::new();
    let mut buffer = vec![0_u8; CHUNK];
    loop {
        watch.check()?;
        let mut moved = false;
        for stream in [0, 1] {
            match channel.stream(stream).read(&mut buffer) {
                Ok(0) => {}
                Ok(n) => {
                    moved = true;
                    if stream == 0 {
                        stdout(&buffer[..n])?;
                    } else {
                        errors.extend_from_slice(&buffer[..n]);
                    }
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {}
                Err(e) => return Err(Failed::Connection(Stop::Ssh(e.to_string()))),
            }
        }
        if moved {
            watch.progressed();
        } else if channel.eof() {
            return Ok(errors);
        } else {
            watch.wait()?;
        }
    }
}

/// Waits for the `cat` at the other end to finish; a failure carries its stderr.
fn finish(
    watch: &mut Watch,
    channel: &mut ssh2::Channel,
    errors: &[u8],
    verb: &str,
    remote: &str,
) -> Result<(), Failed> {
    watch.retry(|| channel.wait_close())?;
    let code = channel
        .exit_status()
        .map_err(|e| Failed::Connection(Stop::Ssh(e.to_string())))?;
    match code {
        0 => Ok(()),
        code => Err(Failed::Transfer(format!(
            "cannot {verb} `{remote}` (exit status {code}): {}",
            String::from_utf8_lossy(errors).trim()
        ))),
    }
}

/// A number no one can guess in advance, for temp file names.
fn random() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}
