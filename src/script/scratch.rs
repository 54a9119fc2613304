//! The run's private files on this machine: release archives built for upload, and the
//! mirrors of remote repositories they are built from.
//!
//! Archives live in one directory per run that only rfab's user can enter (mode 0700, a
//! random name, made with `O_EXCL` semantics by `tempfile`), so no other local user can
//! guess a path in it, plant a link there or swap a file before it is uploaded. Each file
//! in it is created new (`create_new`: never through an existing name or link). The
//! directory goes when the run ends, Ctrl-C included (the run unwinds to drop it).

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use tempfile::TempDir;

use crate::git::{self, Archive};

/// Why the run's private files could not be made.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    #[error("cannot make a private temporary directory: {0}")]
    PrivateDir(std::io::Error),
    #[error("cannot write a private temporary file: {0}")]
    PrivateFile(std::io::Error),
    #[error(transparent)]
    Git(#[from] git::Error),
}

#[derive(Debug, Default)]
pub(crate) struct Scratch {
    dir: OnceLock<TempDir>,
    /// By repository and commit: each archive is built once per run, whatever the hosts.
    /// Held while one is built, so hosts deploying in parallel wait for it, not race.
    archives: Mutex<HashMap<(String, String), Arc<Archive>>>,
    /// By URL: each mirror is fetched once per run (once per entry of `rfab repl`).
    mirrors: Mutex<HashMap<String, PathBuf>>,
    /// Archives begun, built or not: each gets a name never used before in this run.
    begun: AtomicUsize,
}

impl Scratch {
    /// The run's private directory, made on first use.
    pub(crate) fn dir(&self) -> Result<&Path, Error> {
        if let Some(dir) = self.dir.get() {
            return Ok(dir.path());
        }
        let made = tempfile::Builder::new()
            .prefix("rfab-")
            .permissions(std::fs::Permissions::from_mode(0o700))
            .tempdir()
            .map_err(Error::PrivateDir)?;
        // Another thread may have won the race; its directory is the one kept.
        Ok(self.dir.get_or_init(|| made).path())
    }

    /// A new file in the private directory holding `bytes` (text rendered for upload,
    /// perhaps a secret), mode 0600; removed when the handle is dropped.
    pub(crate) fn file(&self, bytes: &[u8]) -> Result<tempfile::NamedTempFile, Error> {
        let mut file = tempfile::Builder::new()
            .prefix("upload-")
            .tempfile_in(self.dir()?)
            .map_err(Error::PrivateFile)?;
        std::io::Write::write_all(&mut file, bytes).map_err(Error::PrivateFile)?;
        Ok(file)
    }

    /// The archive of `commit` in `repo`, built by `build` into a new file in the private
    /// directory the first time it is asked for.
    pub(crate) fn archive(
        &self,
        repo: &str,
        commit: &str,
        build: impl FnOnce(&Path) -> Result<Archive, git::Error>,
    ) -> Result<Arc<Archive>, Error> {
        let mut archives = self.archives.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (repo.to_owned(), commit.to_owned());
        if let Some(archive) = archives.get(&key) {
            return Ok(archive.clone());
        }
        let n = self.begun.fetch_add(1, Ordering::Relaxed);
        let path = self.dir()?.join(format!("release-{n}.tar.gz"));
        let archive = Arc::new(build(&path).inspect_err(|_| {
            // Half an archive is no use to anyone, and its name is not used again.
            let _ = std::fs::remove_file(&path);
        })?);
        archives.insert(key, archive.clone());
        Ok(archive)
    }

    /// The local mirror of the repository at `url`, brought up to date by `fetch` the first
    /// time this run asks for it.
    pub(crate) fn mirror(
        &self,
        url: &str,
        fetch: impl FnOnce() -> Result<PathBuf, git::Error>,
    ) -> Result<PathBuf, git::Error> {
        let mut mirrors = self.mirrors.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(path) = mirrors.get(url) {
            return Ok(path.clone());
        }
        let path = fetch()?;
        mirrors.insert(url.to_owned(), path.clone());
        Ok(path)
    }

    /// Makes the next `mirror` of each URL fetch again: a new command of `rfab repl` sees
    /// what was pushed since the last one.
    pub(crate) fn forget_mirrors(&self) {
        self.mirrors
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_private_directory_is_for_its_owner_only_and_goes_with_the_run() {
        let scratch = Scratch::default();
        let dir = scratch.dir().expect("dir").to_owned();
        let mode = std::fs::metadata(&dir).expect("made").permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        assert_eq!(scratch.dir().expect("same"), dir);
        drop(scratch);
        assert!(!dir.exists());
    }

    #[test]
    fn a_staged_file_is_its_owners_only_and_goes_when_dropped() {
        let scratch = Scratch::default();
        let file = scratch.file(b"secret").expect("file");
        let path = file.path().to_owned();
        let mode = std::fs::metadata(&path).expect("made").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(std::fs::read(&path).expect("read"), b"secret");
        drop(file);
        assert!(!path.exists());
    }

    #[test]
    fn a_failed_build_leaves_no_file_and_the_next_one_gets_a_new_name() {
        let scratch = Scratch::default();
        let mut paths = Vec::new();
        let failed = scratch.archive("repo", "abc", |path| {
            std::fs::write(path, "half").expect("write");
            paths.push(path.to_owned());
            Err(git::Error::Read {
                message: "no space left".into(),
            })
        });
        assert!(failed.is_err());
        assert!(!paths[0].exists());
        let built = scratch
            .archive("repo", "abc", |path| {
                std::fs::File::options()
                    .write(true)
                    .create_new(true)
                    .open(path)
                    .map_err(|source| git::Error::Write {
                        path: path.to_owned(),
                        source,
                    })?;
                Ok(Archive {
                    path: path.to_owned(),
                    sha256: String::new(),
                    commit: "abc".into(),
                })
            })
            .expect("built");
        assert_ne!(built.path, paths[0]);
    }

    #[test]
    fn an_archive_is_built_once_per_commit() {
        let scratch = Scratch::default();
        let mut builds = 0;
        for _ in 0..2 {
            scratch
                .archive("repo", "abc", |path| {
                    builds += 1;
                    Ok(Archive {
                        path: path.to_owned(),
                        sha256: String::new(),
                        commit: "abc".into(),
                    })
                })
                .expect("built");
        }
        assert_eq!(builds, 1);
    }
}
