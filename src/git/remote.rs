//! Reaching a repository by URL: which strings are URLs, logins and host keys for libgit2's
//! SSH transport, bounded waits, and `ls-remote`.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::Once;
use std::time::Duration;

use git2::{
    AutotagOption, CertificateCheckStatus, Cred, CredentialType, Direction, FetchOptions, Remote,
    RemoteCallbacks,
};

use super::{Access, Error, Tag};
use crate::ssh::known_hosts::{self, HostKey, KeyProblem, fingerprint_of};

/// Bounds libgit2's waits on a repository server, which are unlimited unless set: a
/// connection by `connect` (`-t`), each read or write by `silence` (what `--keepalive`
/// allows a host). libgit2's options are process-wide: set once, before any fetch.
pub(crate) fn bound_waits(connect: Duration, silence: Option<Duration>) {
    static ONCE: Once = Once::new();
    let millis = |d: Duration| i32::try_from(d.as_millis()).unwrap_or(i32::MAX);
    ONCE.call_once(|| {
        #[allow(unsafe_code)]
        // SAFETY: these set libgit2 globals, which git2 cannot guard against a concurrent
        // network operation; this runs once, at the start of a run, before any.
        unsafe {
            let _ = git2::opts::set_server_connect_timeout_in_milliseconds(millis(connect));
            if let Some(silence) = silence {
                let _ = git2::opts::set_server_timeout_in_milliseconds(millis(silence));
            }
        }
    });
}

/// Whether `repo` names a remote repository: a URL (`ssh://`, `https://`, `file://`), or
/// scp-like `git@git.example.com:shop/app.git`.
pub(crate) fn is_url(repo: &str) -> bool {
    repo.contains("://") || ssh_authority(repo).is_some()
}

/// The `user@host:port` an SSH repository is reached at: of `ssh://user@host:port/path`, or
/// of scp-like `user@host:path`.
pub(crate) fn ssh_authority(repo: &str) -> Option<&str> {
    if let Some(rest) = repo.strip_prefix("ssh://") {
        return rest.split('/').next();
    }
    let (authority, _) = repo.split_once(':')?;
    // `C:` or a path with a colon later on is a local path.
    (authority.len() > 1 && !authority.contains('/') && !repo.contains("://")).then_some(authority)
}

/// `url` without a password or token in it (`https://user:TOKEN@host/...`).
pub(super) fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority = rest.split('/').next().unwrap_or_default();
    match authority.rsplit_once('@') {
        Some((user, host)) if user.contains(':') => {
            let name = user.split(':').next().unwrap_or_default();
            format!("{scheme}://{name}:***@{host}{}", &rest[authority.len()..])
        }
        _ => url.to_owned(),
    }
}

/// A fetch's options: rfab's logins and host-key checks, every tag, and Ctrl-C stopping a
/// long transfer.
pub(super) fn fetch_options<'a>(
    access: &'a Access,
    problem: &'a RefCell<Option<String>>,
) -> FetchOptions<'a> {
    let mut callbacks = callbacks(access, problem);
    callbacks.transfer_progress(|_| !crate::signals::interrupted());
    let mut options = FetchOptions::new();
    options
        .remote_callbacks(callbacks)
        .download_tags(AutotagOption::All);
    options
}

/// Login and host-key checks for libgit2's SSH transport. libgit2 asks for credentials
/// again after each refusal, so each method is offered once (git2-rs#347).
pub(super) fn callbacks<'a>(
    access: &'a Access,
    problem: &'a RefCell<Option<String>>,
) -> RemoteCallbacks<'a> {
    let mut callbacks = RemoteCallbacks::new();
    let mut offered = 0;
    callbacks.credentials(move |url, user, allowed| {
        // HTTPS: what git itself would use, from the credential helpers git is set up with.
        if allowed.contains(CredentialType::USER_PASS_PLAINTEXT)
            && !allowed.contains(CredentialType::SSH_KEY)
        {
            offered += 1;
            if offered > 1 {
                return Err(git2::Error::from_str(
                    "the login from git's credential helper was refused",
                ));
            }
            let config = git2::Config::open_default()?;
            return Cred::credential_helper(&config, url, user);
        }
        let user = user.filter(|u| !u.is_empty()).unwrap_or(&access.user);
        if allowed.contains(CredentialType::USERNAME) {
            return Cred::username(user);
        }
        let agent = std::env::var_os("SSH_AUTH_SOCK").is_some_and(|s| !s.is_empty());
        let keys: Vec<&PathBuf> = access.keys.iter().filter(|k| k.is_file()).collect();
        offered += 1;
        match (offered, agent) {
            (1, true) => Cred::ssh_key_from_agent(user),
            (n, agent) => match keys.get(n - 1 - usize::from(agent)) {
                Some(key) => Cred::ssh_key(user, None, key, None),
                None => Err(git2::Error::from_str(
                    "no key was accepted (tried the agent and the SSH config's keys)",
                )),
            },
        }
    });
    callbacks.certificate_check(move |cert, host| {
        let Some(hostkey) = cert.as_hostkey() else { return Ok(CertificateCheckStatus::CertificatePassthrough) };
        let (Some(key), Some(kind)) = (hostkey.hostkey(), hostkey.hostkey_type()) else {
            return Err(git2::Error::from_str("the server sent no host key"));
        };
        let (host, port) = split_host_port(host);
        let port = if port == 22 && access.port != 0 { access.port } else { port };
        let presented = HostKey {
            host,
            port,
            key,
            algorithm: kind.name(),
            fingerprint: hostkey.hash_sha256().map_or_else(|| "(unknown)".into(), |h| fingerprint_of(h)),
        };
        let refusal = match known_hosts::check(&presented, &access.known_hosts, access.policy) {
            Ok(_) => return Ok(CertificateCheckStatus::CertificateOk),
            Err(KeyProblem::Unknown { fingerprint, .. }) => format!(
                "the host key of `{host}` is not known: {fingerprint}; add it to known_hosts, or run with --known-hosts accept-new"
            ),
            Err(KeyProblem::Changed { fingerprint }) => format!(
                "THE HOST KEY OF `{host}` HAS CHANGED (now {fingerprint}): someone could be intercepting the connection; not connecting"
            ),
            Err(KeyProblem::Other(message)) => message,
        };
        *problem.borrow_mut() = Some(refusal.clone());
        Err(git2::Error::from_str(&refusal))
    });
    callbacks
}

/// `host:port` as libgit2 names the host it checks (port 22 left out).
fn split_host_port(host: &str) -> (&str, u16) {
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') || name.ends_with(']') => (
            name.trim_start_matches('[').trim_end_matches(']'),
            port.parse().unwrap_or(22),
        ),
        _ => (host, 22),
    }
}

pub(super) struct RemoteRefs {
    pub(super) tags: Vec<Tag>,
    pub(super) branches: Vec<(String, String)>,
}

/// `git ls-remote`: the refs of a repository by URL, without cloning it.
pub(super) fn remote_refs(url: &str, access: &Access) -> Result<RemoteRefs, Error> {
    let problem = RefCell::new(None);
    let mut remote = Remote::create_detached(url).map_err(|e| Error::BadUrl {
        url: redacted(url),
        message: e.message().to_owned(),
    })?;
    let connection = remote
        .connect_auth(Direction::Fetch, Some(callbacks(access, &problem)), None)
        .map_err(|e| {
            // libgit2 puts its own words on a callback's refusal: say ours.
            let why = problem
                .borrow_mut()
                .take()
                .unwrap_or_else(|| e.message().to_owned());
            Error::ListRefs {
                url: redacted(url),
                why,
            }
        })?;
    let heads = connection.list().map_err(|e| Error::read(&e))?;
    let mut tags: Vec<Tag> = Vec::new();
    let mut branches = Vec::new();
    for head in heads {
        let name = head.name();
        let commit = head.oid().to_string();
        if let Some(tag) = name.strip_prefix("refs/tags/") {
            // An annotated tag is listed twice: itself, then `^{}` with the commit it names.
            match tag.strip_suffix("^{}") {
                Some(tag) => match tags.iter_mut().find(|t| t.name == tag) {
                    Some(existing) => existing.commit = commit,
                    None => tags.push(Tag {
                        name: tag.to_owned(),
                        commit,
                    }),
                },
                None if !tags.iter().any(|t| t.name == tag) => tags.push(Tag {
                    name: tag.to_owned(),
                    commit,
                }),
                None => {}
            }
        } else if let Some(branch) = name.strip_prefix("refs/heads/") {
            branches.push((branch.to_owned(), commit));
        }
    }
    Ok(RemoteRefs { tags, branches })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_show_in_a_url() {
        assert_eq!(
            redacted("https://ci:s3cret@git.example.com/shop/app.git"),
            "https://ci:***@git.example.com/shop/app.git"
        );
        assert_eq!(
            redacted("ssh://git@git.example.com/shop/app.git"),
            "ssh://git@git.example.com/shop/app.git"
        );
    }

    #[test]
    fn scp_like_addresses_are_urls_and_local_paths_are_not() {
        assert_eq!(
            ssh_authority("git@git.example.com:shop/app.git"),
            Some("git@git.example.com")
        );
        assert_eq!(
            ssh_authority("ssh://git@host:2222/app.git"),
            Some("git@host:2222")
        );
        assert!(is_url("https://git.example.com/app.git"));
        assert!(!is_url("/srv/repos/app:v2"));
        assert!(!is_url("repos/app"));
    }
}
