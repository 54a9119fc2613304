//! The working tree a hotfix runs in: its state, its branches and their commits, and
//! checkouts that refuse before they change anything.

use std::fmt::Write as _;
use std::path::Path;

use git2::build::CheckoutBuilder;
use git2::{
    BranchType, Commit, Oid, Repository, RepositoryState, Signature, Status, StatusOptions,
};

use super::Error;

/// A working tree, and its path as messages show it.
pub(super) struct Work {
    pub(super) repo: Repository,
    pub(super) shown: String,
}

impl Work {
    /// The working tree at or above `dir`, in a state to start or finish a hotfix in.
    pub(super) fn open(dir: &Path) -> Result<Self, Error> {
        let repo = Repository::discover(dir).map_err(|e| Error::NotARepository {
            repo: dir.display().to_string(),
            message: e.message().to_owned(),
        })?;
        let Some(top) = repo.workdir() else {
            return Err(Error::NoWorkTree {
                repo: repo.path().display().to_string(),
            });
        };
        let shown = top.display().to_string().trim_end_matches('/').to_owned();
        let state = match repo.state() {
            RepositoryState::Clean => None,
            RepositoryState::Merge => Some("merge"),
            RepositoryState::Revert | RepositoryState::RevertSequence => Some("revert"),
            RepositoryState::CherryPick | RepositoryState::CherryPickSequence => {
                Some("cherry-pick")
            }
            RepositoryState::Bisect => Some("bisect"),
            _ => Some("rebase"),
        };
        if let Some(state) = state {
            return Err(Error::Busy {
                repo: shown,
                state: state.to_owned(),
            });
        }
        Ok(Self { repo, shown })
    }

    /// Who commits and tags: the repository's `user.name` and `user.email`.
    pub(super) fn signature(&self) -> Result<Signature<'static>, Error> {
        self.repo.signature().map_err(|e| Error::NoIdentity {
            repo: self.shown.clone(),
            message: e.message().to_owned(),
        })
    }

    /// Refuses changes to tracked files, staged or not; untracked files are left alone,
    /// as git flow does, since neither task touches them.
    pub(super) fn check_clean(&self) -> Result<(), Error> {
        let mut options = StatusOptions::new();
        options
            .include_untracked(false)
            .include_ignored(false)
            .exclude_submodules(true);
        let statuses = self
            .repo
            .statuses(Some(&mut options))
            .map_err(|e| self.failed("read the status", &e))?;
        let changed: Vec<String> = statuses
            .iter()
            .filter(|s| !s.status().is_empty() && s.status() != Status::IGNORED)
            .map(|s| s.path().unwrap_or("?").to_owned())
            .collect();
        if changed.is_empty() {
            return Ok(());
        }
        let mut paths = changed
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if changed.len() > 5 {
            let _ = write!(paths, " and {} more", changed.len() - 5);
        }
        Err(Error::Dirty {
            repo: self.shown.clone(),
            paths,
        })
    }

    /// The commit of the remote-tracking branch `remote/branch`, if the last fetch saw it.
    pub(super) fn remote_ref(&self, remote: &str, branch: &str) -> Option<Oid> {
        self.repo
            .refname_to_id(&format!("refs/remotes/{remote}/{branch}"))
            .ok()
    }

    pub(super) fn remote_branch(&self, remote: &str, branch: &str) -> Result<Oid, Error> {
        self.remote_ref(remote, branch)
            .ok_or_else(|| Error::NoRemoteBranch {
                remote: remote.to_owned(),
                branch: branch.to_owned(),
                repo: self.shown.clone(),
            })
    }

    /// What a hotfix merges into: the local branch, brought up to the remote's when behind
    /// it (and made from it when missing); a local branch ahead keeps its commits, which
    /// are pushed with the merge. Diverged branches are an error.
    pub(super) fn target(&self, remote: &str, branch: &str) -> Result<Oid, Error> {
        let theirs = self.remote_branch(remote, branch)?;
        let Ok(ours) = self.repo.refname_to_id(&format!("refs/heads/{branch}")) else {
            return Ok(theirs);
        };
        if ours == theirs || self.descends(ours, theirs)? {
            Ok(ours)
        } else if self.descends(theirs, ours)? {
            Ok(theirs)
        } else {
            Err(Error::Diverged {
                branch: branch.to_owned(),
                remote: remote.to_owned(),
                repo: self.shown.clone(),
            })
        }
    }

    pub(super) fn descends(&self, commit: Oid, ancestor: Oid) -> Result<bool, Error> {
        self.repo
            .graph_descendant_of(commit, ancestor)
            .map_err(|e| self.failed("compare commits", &e))
    }

    pub(super) fn head_commit(&self) -> Result<Oid, Error> {
        self.repo
            .head()
            .and_then(|h| h.peel_to_commit())
            .map(|c| c.id())
            .map_err(|e| self.failed("read HEAD", &e))
    }

    pub(super) fn commit(&self, oid: &Oid) -> Result<Commit<'_>, Error> {
        self.repo
            .find_commit(*oid)
            .map_err(|e| self.failed(format!("read the commit {oid}"), &e))
    }

    pub(super) fn tree(&self, oid: Oid) -> Result<git2::Tree<'_>, Error> {
        self.repo
            .find_tree(oid)
            .map_err(|e| self.failed(format!("read the tree {oid}"), &e))
    }

    /// Checks out `commit` as the new branch `branch`. The working tree goes first: a file
    /// in the way refuses it before anything changed; if the branch then cannot be made,
    /// the working tree goes back to HEAD.
    pub(super) fn switch_to_new(&self, branch: &str, commit: Oid) -> Result<(), Error> {
        self.checkout(commit)?;
        let made = self
            .commit(&commit)
            .and_then(|c| {
                self.repo
                    .branch(branch, &c, false)
                    .map_err(|e| self.failed(format!("create `{branch}`"), &e))
            })
            .and_then(|_| {
                self.repo
                    .set_head(&format!("refs/heads/{branch}"))
                    .map_err(|e| self.failed(format!("check out `{branch}`"), &e))
            });
        if made.is_err() {
            let _ = self
                .repo
                .find_branch(branch, BranchType::Local)
                .and_then(|mut b| b.delete());
            let _ = self
                .repo
                .checkout_head(Some(CheckoutBuilder::new().force()));
        }
        made
    }

    /// Checks out `commit` as the existing branch `branch` (made to track `remote`'s).
    pub(super) fn switch_to(&self, branch: &str, commit: Oid, remote: &str) -> Result<(), Error> {
        self.checkout(commit)?;
        self.repo
            .set_head(&format!("refs/heads/{branch}"))
            .map_err(|e| self.failed(format!("check out `{branch}`"), &e))?;
        // A develop made from the remote's tracks it, as `git checkout develop` would make it.
        if let Ok(mut local) = self.repo.find_branch(branch, BranchType::Local)
            && local.upstream().is_err()
        {
            let _ = local.set_upstream(Some(&format!("{remote}/{branch}")));
        }
        Ok(())
    }

    /// Refuses what would stop `branch` (at `to`) from being checked out over `from`: an
    /// untracked file where it has one. (Tracked files are clean, and ignored ones are
    /// overwritten, as git does.)
    pub(super) fn check_way(&self, from: &Commit<'_>, to: Oid, branch: &str) -> Result<(), Error> {
        let cannot = |e: git2::Error| self.failed(format!("compare HEAD with `{branch}`"), &e);
        let target = self.commit(&to)?.tree().map_err(cannot)?;
        let diff = self
            .repo
            .diff_tree_to_tree(Some(&from.tree().map_err(cannot)?), Some(&target), None)
            .map_err(cannot)?;
        let top = self.repo.workdir().unwrap_or_else(|| Path::new("."));
        let in_way: Vec<String> = diff
            .deltas()
            .filter(|d| d.status() == git2::Delta::Added)
            .filter_map(|d| d.new_file().path().map(Path::to_path_buf))
            .filter(|path| top.join(path).symlink_metadata().is_ok())
            .filter(|path| !self.repo.is_path_ignored(path).unwrap_or(false))
            .map(|path| path.display().to_string())
            .collect();
        if in_way.is_empty() {
            return Ok(());
        }
        Err(Error::InTheWay {
            repo: self.shown.clone(),
            branch: branch.to_owned(),
            paths: in_way.join(", "),
        })
    }

    pub(super) fn checkout(&self, commit: Oid) -> Result<(), Error> {
        self.repo
            .find_object(commit, None)
            .and_then(|o| {
                self.repo
                    .checkout_tree(&o, Some(CheckoutBuilder::new().safe()))
            })
            .map_err(|e| self.failed(format!("check out {}", short(commit)), &e))
    }

    pub(super) fn failed(&self, operation: impl Into<String>, error: &git2::Error) -> Error {
        Error::git(operation, &self.shown, error)
    }
}

/// A commit's short id, as git shows it.
pub(super) fn short(oid: Oid) -> String {
    oid.to_string().chars().take(7).collect()
}
