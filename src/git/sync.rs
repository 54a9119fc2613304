//! Fetching from and pushing to a repository's named remote (`origin`), with the logins
//! and host-key checks of `remote`'s callbacks.

use std::cell::RefCell;

use git2::{PushOptions, Remote, Repository};

use super::remote::{callbacks, fetch_options, redacted};
use super::{Access, Error};

/// The URL of `remote` in `repo`, as configured (`remote.origin.url`).
pub(super) fn remote_url(repo: &Repository, name: &str, shown: &str) -> Result<String, Error> {
    let remote = find(repo, name, shown)?;
    let url = remote.pushurl_bytes().unwrap_or(remote.url_bytes());
    Ok(String::from_utf8_lossy(url).into_owned())
}

fn find<'r>(repo: &'r Repository, name: &str, shown: &str) -> Result<Remote<'r>, Error> {
    repo.find_remote(name)
        .map_err(|e| Error::git(format!("find the remote `{name}`"), shown, &e))
}

/// `git fetch REMOTE`: its configured refspecs, and every tag.
pub(super) fn fetch(
    repo: &Repository,
    name: &str,
    access: &Access,
    shown: &str,
) -> Result<(), Error> {
    let mut remote = find(repo, name, shown)?;
    let problem = RefCell::new(None);
    let mut options = fetch_options(access, &problem);
    let no_refspecs: &[&str] = &[];
    remote
        .fetch(no_refspecs, Some(&mut options), None)
        .map_err(|e| Error::FetchRemote {
            remote: name.to_owned(),
            url: redacted(&String::from_utf8_lossy(remote.url_bytes())),
            repo: shown.to_owned(),
            why: problem
                .borrow_mut()
                .take()
                .unwrap_or_else(|| e.message().to_owned()),
        })
}

/// What a push did to each ref it named, and why it stopped if it did.
#[derive(Debug, Default)]
pub(super) struct Pushed {
    /// Each destination ref the remote answered for, with its refusal if it refused it.
    pub(super) refs: Vec<(String, Option<String>)>,
    /// Why the push as a whole failed (a connection, a refused login, a non-fast-forward).
    pub(super) failure: Option<String>,
}

impl Pushed {
    /// Whether the remote took `dst`.
    pub(super) fn took(&self, dst: &str) -> bool {
        self.refs
            .iter()
            .any(|(r, refused)| r == dst && refused.is_none())
    }
}

/// `git push REMOTE SPEC...` in one call; reports what the remote answered for each ref.
pub(super) fn push(
    repo: &Repository,
    name: &str,
    specs: &[String],
    access: &Access,
    shown: &str,
) -> Result<Pushed, Error> {
    let mut remote = find(repo, name, shown)?;
    let problem = RefCell::new(None);
    let answers = RefCell::new(Vec::new());
    let mut callbacks = callbacks(access, &problem);
    callbacks.push_update_reference(|reference, refusal| {
        answers
            .borrow_mut()
            .push((reference.to_owned(), refusal.map(str::to_owned)));
        Ok(())
    });
    let mut options = PushOptions::new();
    options.remote_callbacks(callbacks);
    let failure = remote.push(specs, Some(&mut options)).err().map(|e| {
        problem
            .borrow_mut()
            .take()
            .unwrap_or_else(|| e.message().to_owned())
    });
    Ok(Pushed {
        refs: answers.take(),
        failure,
    })
}
