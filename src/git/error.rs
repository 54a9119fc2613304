//! What can go wrong with a repository, each with what to do about it.

use std::path::PathBuf;

/// A failed git operation; its message names the repository or file and the cause.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    #[error("`{repo}` is not a git repository: {message}")]
    NotARepository { repo: String, message: String },
    #[error("git::{what} needs a local repository, not the URL `{repo}`: clone it first")]
    NeedsLocal { what: &'static str, repo: String },
    #[error("no stable semver tag in `{repo}` (found: {found}); tag a release like `v1.0.0`")]
    NoStableTag { repo: String, found: String },
    #[error("`{name}` is no semver version (like `v1.2.3`)")]
    NotSemver { name: String },
    #[error("`{reference}` is no tag or branch of `{repo}`")]
    NoRemoteRef { reference: String, repo: String },
    #[error("`{reference}` is no tag, branch or commit of this repository")]
    NoRef { reference: String },
    #[error("cannot describe `{reference}` in `{repo}`: {message}")]
    Describe {
        reference: String,
        repo: String,
        message: String,
    },
    #[error("cannot read the repository: {message}")]
    Read { message: String },
    #[error("cannot archive `{path}`: {message}")]
    Archive { path: String, message: String },
    #[error("cannot write `{}`: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("bad repository URL `{url}`: {message}")]
    BadUrl { url: String, message: String },
    #[error("cannot list the refs of `{url}`: {why}")]
    ListRefs { url: String, why: String },
    #[error("cannot make `{}`: {source}", path.display())]
    MakeDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the mirror cache `{}` must be yours alone (mode 0700): {source}", path.display())]
    SharedCache {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot keep a mirror of `{url}` in `{}`: {message}", path.display())]
    Mirror {
        url: String,
        path: PathBuf,
        message: String,
    },
    #[error("cannot fetch `{url}` into its mirror `{}`: {why}", path.display())]
    Fetch {
        url: String,
        path: PathBuf,
        why: String,
    },
}

impl Error {
    /// A libgit2 failure reading a repository.
    pub(crate) fn read(error: &git2::Error) -> Self {
        Self::Read {
            message: error.message().to_owned(),
        }
    }
}
