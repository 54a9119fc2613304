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
    #[error("`{repo}` has no working tree: run this in a clone with one")]
    NoWorkTree { repo: String },
    #[error(
        "no git identity in `{repo}` ({message}): set one with `git config user.name NAME` and `git config user.email EMAIL`"
    )]
    NoIdentity { repo: String, message: String },
    #[error("`{repo}` is in the middle of a {state}: finish or abort it first")]
    Busy { repo: String, state: String },
    #[error("`{repo}` has uncommitted changes ({paths}): commit or stash them first")]
    Dirty { repo: String, paths: String },
    #[error("`{version}` is no hotfix version: {why}")]
    BadVersion { version: String, why: String },
    #[error(
        "the tag `{tag}` already exists in `{repo}` (or on its remote): choose the next version"
    )]
    TagExists { tag: String, repo: String },
    #[error("the branch `{branch}` already exists in `{repo}`: finish it, or delete it first")]
    BranchExists { branch: String, repo: String },
    #[error(
        "`{remote}` has no branch `{branch}` (after a fetch into `{repo}`): push it, or name the right one in the inventory's settings"
    )]
    NoRemoteBranch {
        remote: String,
        branch: String,
        repo: String,
    },
    #[error("`{path}` is not in {base}: name the version files in the inventory's `version_files`")]
    NoVersionFile { path: String, base: String },
    #[error(
        "`{path}` on {base} does not contain the version {old}: bump it by hand, or fix `version_files` in the inventory"
    )]
    NoVersionInFile {
        path: String,
        base: String,
        old: String,
    },
    #[error(
        "`{repo}` is on `{head}`, not on a hotfix branch (`{prefix}VERSION`): check out the hotfix branch to finish"
    )]
    NotOnHotfix {
        repo: String,
        head: String,
        prefix: String,
    },
    #[error(
        "`{branch}` and `{remote}/{branch}` have diverged in `{repo}`: reconcile them (git pull), then run this again"
    )]
    Diverged {
        branch: String,
        remote: String,
        repo: String,
    },
    #[error(
        "`{remote}/{branch}` has commits that `{branch}` lacks in `{repo}`: pull them (git pull), then run this again"
    )]
    Behind {
        branch: String,
        remote: String,
        repo: String,
    },
    #[error(
        "merging `{branch}` into `{into}` conflicts in {paths}: nothing was changed or pushed; merge it by hand, or resolve the conflict on `{branch}` first"
    )]
    Conflict {
        branch: String,
        into: String,
        paths: String,
    },
    #[error(
        "untracked files in `{repo}` are where `{branch}` has files ({paths}): move them away, then run this again (nothing was changed or pushed)"
    )]
    InTheWay {
        repo: String,
        branch: String,
        paths: String,
    },
    #[error("cannot {operation} in `{repo}`: {message}")]
    Git {
        operation: String,
        repo: String,
        message: String,
    },
    #[error("cannot fetch `{remote}` ({url}) into `{repo}`: {why}")]
    FetchRemote {
        remote: String,
        url: String,
        repo: String,
        why: String,
    },
    #[error(
        "cannot push to `{remote}` ({url}): {why}; nothing was pushed and `{repo}` is as it was: fix that, then run this again"
    )]
    Push {
        remote: String,
        url: String,
        repo: String,
        why: String,
    },
    #[error("the hotfix is merged, tagged and pushed, but {why}; left to do in `{repo}`: {left}")]
    Unfinished {
        repo: String,
        why: String,
        left: String,
    },
    #[error(
        "the push to `{remote}` was partly refused ({refused}); pushed: {pushed}; left to do in `{repo}`: {left}"
    )]
    PushedPartly {
        remote: String,
        repo: String,
        refused: String,
        pushed: String,
        left: String,
    },
}

impl Error {
    /// A libgit2 failure reading a repository.
    pub(crate) fn read(error: &git2::Error) -> Self {
        Self::Read {
            message: error.message().to_owned(),
        }
    }

    /// A libgit2 failure doing `operation` in the repository `repo`.
    pub(crate) fn git(operation: impl Into<String>, repo: &str, error: &git2::Error) -> Self {
        Self::Git {
            operation: operation.into(),
            repo: repo.to_owned(),
            message: error.message().to_owned(),
        }
    }
}
