//! Host-key checking against `known_hosts` files, as OpenSSH does it, without ever rewriting
//! the user's file (`accept-new` appends one line).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use ssh2::{CheckResult, HashType, HostKeyType, KnownHostFileKind, Session};

use crate::ssh_options::KnownHostsPolicy;

/// Why a host key was not accepted.
#[derive(Debug)]
pub(crate) enum KeyProblem {
    Unknown { fingerprint: String },
    Changed { fingerprint: String },
    Other(String),
}

/// Checks the key `session` negotiated for `host:port` against `files` under `policy`.
/// Returns the file a new key was added to, if one was.
pub(crate) fn verify(
    session: &Session,
    host: &str,
    port: u16,
    files: &[PathBuf],
    policy: KnownHostsPolicy,
) -> Result<Option<PathBuf>, KeyProblem> {
    if policy == KnownHostsPolicy::Off {
        return Ok(None);
    }
    let (key, kind) = session
        .host_key()
        .ok_or_else(|| KeyProblem::Other("the server sent no host key".into()))?;
    let fingerprint = fingerprint(session);
    let mut known = session
        .known_hosts()
        .map_err(|e| KeyProblem::Other(format!("known_hosts: {e}")))?;
    for file in files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        // read_file() would stop at the first line libssh2 cannot parse: feed lines one by one.
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') || line.starts_with('@') {
                continue;
            }
            let _ = known.read_str(line, KnownHostFileKind::OpenSSH);
        }
    }
    match known.check_port(host, port, key) {
        CheckResult::Match => Ok(None),
        CheckResult::Mismatch => Err(KeyProblem::Changed { fingerprint }),
        CheckResult::NotFound if policy == KnownHostsPolicy::AcceptNew => {
            let file = files
                .first()
                .ok_or_else(|| KeyProblem::Other("no known_hosts file to add the key to".into()))?;
            append(file, &entry(host, port, kind, key)).map_err(|e| {
                KeyProblem::Other(format!(
                    "cannot add the host key to `{}`: {e}",
                    file.display()
                ))
            })?;
            Ok(Some(file.clone()))
        }
        CheckResult::NotFound => Err(KeyProblem::Unknown { fingerprint }),
        CheckResult::Failure => Err(KeyProblem::Other("the known_hosts check failed".into())),
    }
}

/// `SHA256:...` as OpenSSH prints it.
pub(crate) fn fingerprint(session: &Session) -> String {
    session.host_key_hash(HashType::Sha256).map_or_else(
        || "(unknown)".into(),
        |hash| format!("SHA256:{}", STANDARD_NO_PAD.encode(hash)),
    )
}

/// The algorithm names OpenSSH writes in `known_hosts` for each key type.
pub(crate) fn algorithm(kind: HostKeyType) -> &'static str {
    match kind {
        HostKeyType::Rsa => "ssh-rsa",
        HostKeyType::Dss => "ssh-dss",
        HostKeyType::Ecdsa256 => "ecdsa-sha2-nistp256",
        HostKeyType::Ecdsa384 => "ecdsa-sha2-nistp384",
        HostKeyType::Ecdsa521 => "ecdsa-sha2-nistp521",
        HostKeyType::Ed25519 => "ssh-ed25519",
        HostKeyType::Unknown => "unknown",
    }
}

/// `host keytype base64` for port 22, `[host]:port keytype base64` otherwise.
fn entry(host: &str, port: u16, kind: HostKeyType, key: &[u8]) -> String {
    let name = if port == 22 {
        host.to_owned()
    } else {
        format!("[{host}]:{port}")
    };
    format!("{name} {} {}\n", algorithm(kind), STANDARD.encode(key))
}

fn append(file: &Path, line: &str) -> std::io::Result<()> {
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut out = OpenOptions::new().create(true).append(true).open(file)?;
    // A file that does not end in a newline would glue our line onto its last one.
    let needs_newline = std::fs::read(file).is_ok_and(|b| b.last().is_some_and(|c| *c != b'\n'));
    if needs_newline {
        out.write_all(b"\n")?;
    }
    out.write_all(line.as_bytes())
}
