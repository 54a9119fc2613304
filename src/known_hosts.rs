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
    let (key, kind) = session
        .host_key()
        .ok_or_else(|| KeyProblem::Other("the server sent no host key".into()))?;
    check(
        &HostKey {
            host,
            port,
            key,
            algorithm: algorithm(kind),
            fingerprint: fingerprint(session),
        },
        files,
        policy,
    )
}

/// A host's key as a connection presented it.
pub(crate) struct HostKey<'a> {
    pub(crate) host: &'a str,
    pub(crate) port: u16,
    pub(crate) key: &'a [u8],
    /// As `known_hosts` names it: `ssh-ed25519`, ...
    pub(crate) algorithm: &'a str,
    pub(crate) fingerprint: String,
}

/// Checks a key against `files` under `policy`, whoever made the connection (rfab's SSH
/// sessions, or libgit2's for `ssh://` repositories).
pub(crate) fn check(
    presented: &HostKey,
    files: &[PathBuf],
    policy: KnownHostsPolicy,
) -> Result<Option<PathBuf>, KeyProblem> {
    if policy == KnownHostsPolicy::Off {
        return Ok(None);
    }
    // A session only to hold libssh2's known_hosts parser: it never connects.
    let session = Session::new().map_err(|e| KeyProblem::Other(format!("known_hosts: {e}")))?;
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
    let fingerprint = presented.fingerprint.clone();
    match known.check_port(presented.host, presented.port, presented.key) {
        CheckResult::Match => Ok(None),
        CheckResult::Mismatch => Err(KeyProblem::Changed { fingerprint }),
        CheckResult::NotFound if policy == KnownHostsPolicy::AcceptNew => {
            let file = files
                .first()
                .ok_or_else(|| KeyProblem::Other("no known_hosts file to add the key to".into()))?;
            append(file, &entry(presented)).map_err(|e| {
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
    session
        .host_key_hash(HashType::Sha256)
        .map_or_else(|| "(unknown)".into(), fingerprint_of)
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
fn entry(key: &HostKey) -> String {
    let name = if key.port == 22 {
        key.host.to_owned()
    } else {
        format!("[{}]:{}", key.host, key.port)
    };
    format!("{name} {} {}\n", key.algorithm, STANDARD.encode(key.key))
}

/// `SHA256:...` of a raw key's SHA-256.
pub(crate) fn fingerprint_of(sha256: &[u8]) -> String {
    format!("SHA256:{}", STANDARD_NO_PAD.encode(sha256))
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
