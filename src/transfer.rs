//! Moving files over an SSH connection: streamed through exec channels (`cat`), which is
//! faster than libssh2's SFTP with small writes and works the same under sudo.
//!
//! An upload lands in a temporary file beside its destination and is renamed over it, so a
//! reader sees the old file or the new one, never half of one.

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::path::Path;

use crate::connection::Connection;
use crate::scoped::quote_path;
use crate::signals;

const CHUNK: usize = 1 << 20;

/// Streams `local` to `remote` with permission bits `mode`: into a temp file, then renamed.
/// `sent(n)` is told of each chunk written.
pub(crate) fn upload(
    connection: &Connection,
    local: &Path,
    remote: &str,
    mode: u32,
    sent: &dyn Fn(u64),
) -> Result<(), String> {
    let mut file =
        File::open(local).map_err(|e| format!("cannot read `{}`: {e}", local.display()))?;
    let length = file
        .metadata()
        .map_err(|e| format!("cannot read `{}`: {e}", local.display()))?
        .len();
    let temp = format!("{remote}.rfab-{}", std::process::id());
    // A dropped connection ends `cat` with status 0: only a temp file of the full length may
    // be renamed over the destination. The umask is for the temp file only, not the
    // directories made on the way; `mv -T` never moves the file into a directory.
    let command = format!(
        "mkdir -p -- \"$(dirname -- {dest})\" && (umask 077 && cat > {temp}) && [ \"$(wc -c < {temp})\" -eq {length} ] \
         && chmod {mode:o} {temp} && mv -fT -- {temp} {dest} || {{ status=$?; rm -f -- {temp}; exit $(( status ? status : 1 )); }}",
        dest = quote_path(remote),
        temp = quote_path(&temp),
    );
    let session = &connection.session;
    session.set_blocking(true);
    let ssh = |e: ssh2::Error| format!("upload of `{}` failed: {e}", local.display());
    let mut channel = session.channel_session().map_err(ssh)?;
    channel.exec(&command).map_err(ssh)?;
    let mut buffer = vec![0_u8; CHUNK];
    loop {
        if signals::interrupted() {
            let _ = channel.close();
            return Err("interrupted".into());
        }
        let n = match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("cannot read `{}`: {e}", local.display())),
        };
        channel
            .write_all(&buffer[..n])
            .map_err(|e| format!("upload of `{}` failed: {e}", local.display()))?;
        sent(n as u64);
    }
    channel.send_eof().map_err(ssh)?;
    finish(&mut channel, "write", remote, ssh)
}

/// Streams `remote` into `local`, through a temp file beside it; `received(n)` is told of
/// each chunk.
pub(crate) fn download(
    connection: &Connection,
    remote: &str,
    local: &Path,
    received: &dyn Fn(u64),
) -> Result<(), String> {
    if let Some(dir) = local.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    }
    let temp = local.with_file_name(format!(
        ".{}.rfab-{}",
        local
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        std::process::id()
    ));
    let result = download_to(connection, remote, &temp, received);
    match result {
        Ok(()) => std::fs::rename(&temp, local)
            .map_err(|e| format!("cannot write `{}`: {e}", local.display())),
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            Err(e)
        }
    }
}

fn download_to(
    connection: &Connection,
    remote: &str,
    temp: &Path,
    received: &dyn Fn(u64),
) -> Result<(), String> {
    let mut out =
        File::create(temp).map_err(|e| format!("cannot write `{}`: {e}", temp.display()))?;
    let session = &connection.session;
    session.set_blocking(true);
    let ssh = |e: ssh2::Error| format!("download of `{remote}` failed: {e}");
    let mut channel = session.channel_session().map_err(ssh)?;
    channel
        .exec(&format!("cat -- {}", quote_path(remote)))
        .map_err(ssh)?;
    let mut buffer = vec![0_u8; CHUNK];
    loop {
        if signals::interrupted() {
            let _ = channel.close();
            return Err("interrupted".into());
        }
        match channel.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                out.write_all(&buffer[..n])
                    .map_err(|e| format!("cannot write `{}`: {e}", temp.display()))?;
                received(n as u64);
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("download of `{remote}` failed: {e}")),
        }
    }
    finish(&mut channel, "read", remote, ssh)
}

/// Waits for the `cat` at the other end to finish; a failure carries its stderr.
fn finish(
    channel: &mut ssh2::Channel,
    verb: &str,
    remote: &str,
    ssh: impl Fn(ssh2::Error) -> String,
) -> Result<(), String> {
    let mut errors = String::new();
    let _ = channel.stderr().read_to_string(&mut errors);
    channel.wait_close().map_err(&ssh)?;
    match channel.exit_status().map_err(&ssh)? {
        0 => Ok(()),
        code => Err(format!(
            "cannot {verb} `{remote}` (exit status {code}): {}",
            errors.trim()
        )),
    }
}
