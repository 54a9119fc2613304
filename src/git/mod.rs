//! Git for deploys: tags, the latest stable semver tag, refs to commits and their versions
//! (`refs`), the tree at a ref as an archive (`archive`), local mirrors of remote
//! repositories (`mirror`), and reaching a repository by URL (`remote`).
//!
//! A repository is a local path, or a URL queried without cloning (`ls-remote`): tags and
//! refs work on both; `describe` and `archive` need the objects, so a local repository or
//! a mirror. The gitflow hotfix (`flow`) merges (`merge`), fetches and pushes (`sync`) in a
//! working tree (`work_tree`). `ssh://` and `user@host:path` URLs log in and check host keys by the rules of
//! rfab's own SSH connections.

mod archive;
mod error;
mod flow;
mod merge;
mod mirror;
mod pattern;
mod refs;
mod remote;
mod sync;
mod work_tree;

use std::path::PathBuf;

use crate::ssh::options::KnownHostsPolicy;

pub(crate) use archive::{Archive, archive, release_archive};
pub(crate) use error::Error;
pub(crate) use flow::{Flow, finish as hotfix_finish, remote_url, start as hotfix_start};
pub(crate) use mirror::mirror;
pub(crate) use refs::{Selection, compare, describe, latest_stable, resolve, tags, version_of};
pub(crate) use remote::{bound_waits, is_url, ssh_authority};

/// A tag and the commit it points at (annotated tags peeled).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Tag {
    pub(crate) name: String,
    pub(crate) commit: String,
}

/// How to reach an `ssh://` repository: the same files and policy as an SSH connection.
#[derive(Clone, Debug, Default)]
pub(crate) struct Access {
    pub(crate) user: String,
    /// The port of the URL: libgit2 names only the host when it asks to check a key.
    pub(crate) port: u16,
    pub(crate) keys: Vec<PathBuf>,
    pub(crate) known_hosts: Vec<PathBuf>,
    pub(crate) policy: KnownHostsPolicy,
}
