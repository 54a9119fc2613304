//! Host-key checking against `known_hosts` files, as OpenSSH does it, without ever rewriting
//! the user's file (`accept-new` appends one line).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use ssh2::{CheckResult, HashType, HostKeyType, KnownHostFileKind, Session};

use crate::ssh::options::KnownHostsPolicy;

/// Why a host key was not accepted.
#[derive(Debug)]
pub(crate) enum KeyProblem {
    Unknown {
        fingerprint: String,
        /// Said after the usual hint when an `@cert-authority` line names the host: rfab
        /// cannot check host certificates, so that line vouches for nothing here.
        note: Option<String>,
    },
    Changed {
        fingerprint: String,
    },
    Other(String),
}

/// A host key let through.
#[derive(Debug, Default)]
pub(crate) struct Accepted {
    /// The file a new key was added to (`accept-new`).
    pub(crate) added: Option<PathBuf>,
    /// What the user must hear although the connection goes on (`off`).
    pub(crate) warning: Option<String>,
}

/// Checks the key `session` negotiated for `host:port` against `files` under `policy`.
pub(crate) fn verify(
    session: &Session,
    host: &str,
    port: u16,
    files: &[PathBuf],
    policy: KnownHostsPolicy,
) -> Result<Accepted, KeyProblem> {
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

impl HostKey<'_> {
    /// `host`, or `[host]:port` off port 22: the name `known_hosts` patterns are matched to.
    fn name(&self) -> String {
        if self.port == 22 {
            self.host.to_owned()
        } else {
            format!("[{}]:{}", self.host, self.port)
        }
    }
}

/// One line of a `known_hosts` file, with where it is, for messages.
struct Line {
    place: String,
    text: String,
}

impl Line {
    /// `@revoked` or `@cert-authority`, if the line starts with a marker.
    fn marker(&self) -> Option<&str> {
        self.text
            .split_whitespace()
            .next()
            .filter(|w| w.starts_with('@'))
    }

    /// The host patterns, key type and base64 key, after any marker.
    fn fields(&self) -> Vec<&str> {
        let skip = usize::from(self.marker().is_some());
        self.text.split_whitespace().skip(skip).take(3).collect()
    }

    /// Whether the line's host patterns name `presented`'s host, as OpenSSH matches them:
    /// `*` and `?` wildcards, `!` negations, hashed `|1|` names.
    fn names(&self, presented: &HostKey) -> bool {
        let Some(patterns) = self.fields().first().copied() else {
            return false;
        };
        let name = presented.name().to_ascii_lowercase();
        let mut named = false;
        for pattern in patterns.split(',') {
            let (negated, pattern) = match pattern.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, pattern),
            };
            let matches = if pattern.starts_with("|1|") {
                hashed_names(pattern, presented)
            } else {
                glob(pattern.to_ascii_lowercase().as_bytes(), name.as_bytes())
            };
            if matches && negated {
                return false;
            }
            named |= matches;
        }
        named
    }

    /// Whether the line's key is `presented`'s key.
    fn has_key(&self, presented: &HostKey) -> bool {
        self.fields()
            .get(2)
            .and_then(|key| STANDARD.decode(key).ok())
            .is_some_and(|key| key == presented.key)
    }
}

/// Checks a key against `files` under `policy`, whoever made the connection (rfab's SSH
/// sessions, or libgit2's for `ssh://` repositories).
pub(crate) fn check(
    presented: &HostKey,
    files: &[PathBuf],
    policy: KnownHostsPolicy,
) -> Result<Accepted, KeyProblem> {
    let lines = read(files);
    // OpenSSH refuses a revoked key whatever else vouches for it, and whatever
    // StrictHostKeyChecking says: so does every policy here, `off` included.
    if let Some(line) = lines
        .iter()
        .find(|l| l.marker() == Some("@revoked") && l.names(presented) && l.has_key(presented))
    {
        return Err(KeyProblem::Other(revoked(presented, line)));
    }
    let fingerprint = presented.fingerprint.clone();
    let verdict = verdict(&lines, presented, false)?;
    if policy == KnownHostsPolicy::Off {
        return Ok(Accepted {
            added: None,
            warning: unchecked(&lines, presented, verdict)?,
        });
    }
    match verdict {
        CheckResult::Match => Ok(Accepted::default()),
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
            Ok(Accepted {
                added: Some(file.clone()),
                warning: None,
            })
        }
        CheckResult::NotFound => Err(KeyProblem::Unknown {
            fingerprint,
            note: certificates(&lines, presented),
        }),
        CheckResult::Failure => Err(KeyProblem::Other("the known_hosts check failed".into())),
    }
}

/// The lines of `files` that say something: no blanks, no comments.
fn read(files: &[PathBuf]) -> Vec<Line> {
    let mut lines = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            lines.push(Line {
                place: format!("{}:{}", file.display(), number + 1),
                text: line.to_owned(),
            });
        }
    }
    lines
}

/// What libssh2 says of `presented` given the plain lines (`same_type`: only those of
/// its key type). Marked lines are never a plain match: `@cert-authority` holds a CA's key,
/// not the host's, and `@revoked` was dealt with first.
fn verdict(
    lines: &[Line],
    presented: &HostKey,
    same_type: bool,
) -> Result<CheckResult, KeyProblem> {
    // A session only to hold libssh2's known_hosts parser: it never connects.
    let session = Session::new().map_err(|e| KeyProblem::Other(format!("known_hosts: {e}")))?;
    let mut known = session
        .known_hosts()
        .map_err(|e| KeyProblem::Other(format!("known_hosts: {e}")))?;
    for line in lines.iter().filter(|l| l.marker().is_none()) {
        if same_type && line.fields().get(1) != Some(&presented.algorithm) {
            continue;
        }
        // read_file() would stop at the first line libssh2 cannot parse: feed lines one by one.
        let _ = known.read_str(&line.text, KnownHostFileKind::OpenSSH);
    }
    Ok(known.check_port(presented.host, presented.port, presented.key))
}

/// Under `--known-hosts off`: nothing for a known key, one line for an unchecked one, and a
/// loud one for a changed key (a key of another type only is not a change).
fn unchecked(
    lines: &[Line],
    presented: &HostKey,
    found: CheckResult,
) -> Result<Option<String>, KeyProblem> {
    let host = presented.name();
    let fingerprint = &presented.fingerprint;
    let changed = matches!(found, CheckResult::Mismatch)
        && matches!(verdict(lines, presented, true)?, CheckResult::Mismatch);
    Ok(match found {
        CheckResult::Match => None,
        _ if changed => Some(format!(
            "THE HOST KEY OF `{host}` HAS CHANGED: it is now {fingerprint}, not the one \
             known_hosts lists. Someone could be intercepting the connection; rfab goes on only \
             because of --known-hosts off. If the change is expected, remove the old key with \
             `ssh-keygen -R '{host}'`"
        )),
        _ => Some(format!(
            "the host key of `{host}` ({fingerprint}) is not checked: --known-hosts off"
        )),
    })
}

/// Why a revoked key is refused, and what to do.
fn revoked(presented: &HostKey, line: &Line) -> String {
    format!(
        "the host key of {} ({}) is REVOKED by `{}`; not connecting, whatever --known-hosts says.\n\
         hint: a revoked key must never be trusted again: ask the host's administrator for its \
         new key and that key's fingerprint, then add it to known_hosts",
        presented.name(),
        presented.fingerprint,
        line.place
    )
}

/// The note for an unknown key when an `@cert-authority` line names the host.
fn certificates(lines: &[Line], presented: &HostKey) -> Option<String> {
    let line = lines
        .iter()
        .find(|l| l.marker() == Some("@cert-authority") && l.names(presented))?;
    Some(format!(
        "note: `{}` trusts a certificate authority for this host, but rfab cannot check host \
         certificates (libssh2 does not support them): add the host's plain key as above",
        line.place
    ))
}

/// Whether a hashed name (`|1|salt|hash`) is `presented`'s host: libssh2 knows the hashing.
fn hashed_names(pattern: &str, presented: &HostKey) -> bool {
    let Ok(session) = Session::new() else {
        return false;
    };
    let Ok(mut known) = session.known_hosts() else {
        return false;
    };
    let line = format!(
        "{pattern} {} {}",
        presented.algorithm,
        STANDARD.encode(presented.key)
    );
    known.read_str(&line, KnownHostFileKind::OpenSSH).is_ok()
        && matches!(
            known.check_port(presented.host, presented.port, presented.key),
            CheckResult::Match
        )
}

/// OpenSSH's host patterns: `*` is any run of characters, `?` any one.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    match (pattern.split_first(), text.split_first()) {
        (None, _) => text.is_empty(),
        (Some((b'*', rest)), _) => {
            glob(rest, text)
                || text
                    .split_first()
                    .is_some_and(|(_, tail)| glob(pattern, tail))
        }
        (Some((b'?', rest)), Some((_, tail))) => glob(rest, tail),
        (Some((p, rest)), Some((t, tail))) if p == t => glob(rest, tail),
        _ => false,
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
    format!(
        "{} {} {}\n",
        key.name(),
        key.algorithm,
        STANDARD.encode(key.key)
    )
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
