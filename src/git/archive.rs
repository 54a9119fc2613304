//! The tree at a ref as a tar archive, as `git archive` writes it (`export-ignore`
//! honoured), to a path or as a release archive with its sha256.

use std::fmt::Write as _;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use git2::{ObjectType, Repository, TreeWalkMode, TreeWalkResult};
use sha2::{Digest, Sha256};

use super::Error;
use super::pattern::matches_path;
use super::refs::{commit_of, open_local};

/// A release archive built for this run, and the sha256 of its bytes, which the host checks
/// before it unpacks them.
#[derive(Clone, Debug)]
pub(crate) struct Archive {
    pub(crate) path: PathBuf,
    pub(crate) sha256: String,
    pub(crate) commit: String,
}

/// Writes the tree at `reference` to `out` as `git archive` would: a tar, gzipped when `out`
/// ends in `.gz` or `.tgz`; files marked `export-ignore` in `.gitattributes` left out.
///
/// The archive is written to a new file of a random name beside `out` (never through an
/// existing name or link) and renamed over it: hosts deploying in parallel may build the same
/// archive at once, nothing ever sees half of one, and a link planted at `out` is replaced,
/// not followed.
pub(crate) fn archive(repo: &str, reference: &str, out: &Path) -> Result<String, Error> {
    let repository = open_local(repo, "archive")?;
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let cannot = |source| Error::Write {
        path: out.to_owned(),
        source,
    };
    let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(cannot)?;
    let name = out.to_string_lossy();
    let gzip = name.ends_with(".gz") || name.ends_with(".tgz");
    let commit = write_tree(&repository, reference, temp.as_file_mut(), gzip, out)?;
    temp.persist(out).map_err(|e| cannot(e.error))?;
    Ok(commit)
}

/// Builds the gzipped archive of `reference` as a new file at `path` (an existing file or link
/// there is an error, never followed), for a deploy to upload: returns the commit archived
/// and the sha256 of the bytes written, computed as they are written.
pub(crate) fn release_archive(repo: &str, reference: &str, path: &Path) -> Result<Archive, Error> {
    let repository = open_local(repo, "archive")?;
    let cannot = |source| Error::Write {
        path: path.to_owned(),
        source,
    };
    let file = File::options()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(cannot)?;
    let mut sink = Hashing {
        inner: file,
        hasher: Sha256::new(),
    };
    let commit = write_tree(&repository, reference, &mut sink, true, path)?;
    sink.inner.sync_all().map_err(cannot)?;
    let sha256 = sink
        .hasher
        .finalize()
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        });
    Ok(Archive {
        path: path.to_owned(),
        sha256,
        commit,
    })
}

/// A writer that hashes what passes through it.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(bytes)?;
        self.hasher.update(&bytes[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Writes the tree at `reference` as a tar (gzipped if `gzip`) to `sink`, which writes to
/// `path`; returns the commit.
fn write_tree(
    repository: &Repository,
    reference: &str,
    sink: &mut dyn Write,
    gzip: bool,
    path: &Path,
) -> Result<String, Error> {
    let cannot = |source| Error::Write {
        path: PathBuf::from(path),
        source,
    };
    let commit_id = commit_of(repository, reference)?;
    let commit = repository
        .find_commit(commit_id)
        .map_err(|e| Error::read(&e))?;
    let tree = commit.tree().map_err(|e| Error::read(&e))?;
    let ignored = export_ignored(repository, &tree);
    let mtime = u64::try_from(commit.time().seconds()).unwrap_or(0);
    if gzip {
        let mut tar = tar::Builder::new(GzEncoder::new(sink, Compression::fast()));
        append_tree(repository, &tree, &ignored, mtime, &mut tar)?;
        // The gzip trailer is written by `finish`, not by a flush.
        tar.into_inner()
            .and_then(GzEncoder::finish)
            .map_err(cannot)?;
    } else {
        let mut tar = tar::Builder::new(sink);
        append_tree(repository, &tree, &ignored, mtime, &mut tar)?;
        tar.into_inner()
            .and_then(std::io::Write::flush)
            .map_err(cannot)?;
    }
    Ok(commit_id.to_string())
}

/// Appends every entry of `tree` not matched by an `ignored` pattern.
fn append_tree<W: Write>(
    repository: &Repository,
    tree: &git2::Tree,
    ignored: &[String],
    mtime: u64,
    tar: &mut tar::Builder<W>,
) -> Result<(), Error> {
    let mut failure = None;
    tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
        let Ok(entry_name) = entry.name() else {
            return TreeWalkResult::Skip;
        };
        let path = format!("{dir}{entry_name}");
        if ignored.iter().any(|pattern| matches_path(pattern, &path)) {
            return TreeWalkResult::Skip;
        }
        match append(repository, tar, entry, &path, mtime) {
            Ok(()) => TreeWalkResult::Ok,
            Err(e) => {
                failure = Some(e);
                TreeWalkResult::Abort
            }
        }
    })
    .map_err(|e| failure.take().unwrap_or_else(|| Error::read(&e)))?;
    failure.map_or(Ok(()), Err)
}

fn append<W: Write>(
    repository: &Repository,
    tar: &mut tar::Builder<W>,
    entry: &git2::TreeEntry,
    path: &str,
    mtime: u64,
) -> Result<(), Error> {
    let mut header = tar::Header::new_gnu();
    header.set_mtime(mtime);
    header.set_uid(0);
    header.set_gid(0);
    let io = |e: std::io::Error| Error::Archive {
        path: path.to_owned(),
        message: e.to_string(),
    };
    match entry.kind() {
        Some(ObjectType::Tree) => {
            header.set_entry_type(tar::EntryType::Directory);
            header.set_mode(0o775);
            header.set_size(0);
            tar.append_data(&mut header, format!("{path}/"), std::io::empty())
                .map_err(io)
        }
        Some(ObjectType::Blob) => {
            let blob = repository
                .find_blob(entry.id())
                .map_err(|e| Error::read(&e))?;
            if entry.filemode() == 0o120_000 {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_mode(0o777);
                header.set_size(0);
                let target = String::from_utf8_lossy(blob.content()).into_owned();
                tar.append_link(&mut header, path, target).map_err(io)
            } else {
                header.set_mode(if entry.filemode() == 0o100_755 {
                    0o775
                } else {
                    0o664
                });
                header.set_size(blob.content().len() as u64);
                tar.append_data(&mut header, path, blob.content())
                    .map_err(io)
            }
        }
        // Submodules (commits) are left out, as `git archive` does.
        _ => Ok(()),
    }
}

/// Patterns marked `export-ignore` in the tree's `.gitattributes` files, as paths from the root.
fn export_ignored(repository: &Repository, tree: &git2::Tree) -> Vec<String> {
    let mut patterns = Vec::new();
    let _ = tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
        if entry.name().ok() == Some(".gitattributes")
            && let Ok(blob) = repository.find_blob(entry.id())
        {
            for line in String::from_utf8_lossy(blob.content()).lines() {
                let mut words = line.split_whitespace();
                let Some(pattern) = words.next().filter(|p| !p.starts_with('#')) else {
                    continue;
                };
                if words.any(|attribute| attribute == "export-ignore") {
                    let pattern = pattern.trim_start_matches('/');
                    // A pattern without a slash matches at any depth below its file.
                    let anchored = if pattern.contains('/') {
                        format!("{dir}{pattern}")
                    } else {
                        format!("{dir}**/{pattern}")
                    };
                    patterns.push(anchored.trim_end_matches('/').to_owned());
                }
            }
        }
        TreeWalkResult::Ok
    });
    patterns
}
