//! Logging in, in OpenSSH's order: the agent, then keys (`-i`, then the SSH config's
//! `IdentityFile` or the default keys), then a password.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ssh2::Session;

use crate::ssh::credentials::Credentials;
use crate::ssh::error::Error;

/// Tries each method until one is accepted; the error lists what was tried.
pub(crate) fn authenticate(
    session: &Session,
    user: &str,
    who: &str,
    keys: &[PathBuf],
    credentials: &Credentials,
    may_ask: bool,
) -> Result<(), Error> {
    let mut tried = Vec::new();
    let mut skipped = Vec::new();
    if std::env::var_os("SSH_AUTH_SOCK").is_some_and(|s| !s.is_empty()) {
        tried.push("the agent".to_owned());
        if session.userauth_agent(user).is_ok() && session.authenticated() {
            return Ok(());
        }
    }
    for key in keys.iter().filter(|k| k.is_file()) {
        let passphrase = if is_encrypted(key) {
            let Some(passphrase) = credentials.passphrase(key, may_ask) else {
                // Never offered to the server: saying "tried" would send the user looking
                // for a problem with the key itself.
                skipped.push(format!(
                    "skipped key {}: it is encrypted and {}; load it with `ssh-add {}`",
                    key.display(),
                    credentials.why_not_asked(may_ask),
                    key.display()
                ));
                continue;
            };
            Some(passphrase)
        } else {
            None
        };
        tried.push(format!("key {}", key.display()));
        if session
            .userauth_pubkey_file(user, None, key, passphrase.as_deref())
            .is_ok()
            && session.authenticated()
        {
            return Ok(());
        }
    }
    let methods = session.auth_methods(user).unwrap_or_default().to_owned();
    if methods.split(',').any(|m| m == "password")
        && let Some(password) = credentials.password(who, may_ask)
    {
        {
            tried.push("a password".to_owned());
            if session.userauth_password(user, &password).is_ok() && session.authenticated() {
                return Ok(());
            }
        }
    }
    let mut tried = if tried.is_empty() {
        "nothing to try".to_owned()
    } else {
        format!("tried {}", tried.join(", "))
    };
    for skip in skipped {
        tried = format!("{tried}; {skip}");
    }
    Err(Error::Authentication {
        who: who.to_owned(),
        tried,
        methods,
    })
}

/// Whether a private key file needs a passphrase (PEM with `ENCRYPTED`, or an OpenSSH key
/// whose cipher is not `none`).
pub(crate) fn is_encrypted(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    if text.contains("ENCRYPTED") {
        return true;
    }
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    let Ok(bytes) = STANDARD.decode(body.trim()) else {
        return false;
    };
    // "openssh-key-v1\0", then the cipher name as a length-prefixed string.
    let Some(rest) = bytes.strip_prefix(b"openssh-key-v1\0") else {
        return false;
    };
    let Some(len) = rest
        .get(..4)
        .map(|l| u32::from_be_bytes([l[0], l[1], l[2], l[3]]) as usize)
    else {
        return false;
    };
    rest.get(4..4 + len).is_some_and(|cipher| cipher != b"none")
}
