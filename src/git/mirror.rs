//! Local mirrors of remote repositories, so a deploy can archive from a URL.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use git2::{FetchPrune, Repository};
use sha2::{Digest, Sha256};

use super::remote::{fetch_options, redacted};
use super::{Access, Error};

/// Brings the bare mirror of the repository at `url`, kept under `cache`, up to date with
/// every branch and tag (cloning it on first use), and returns its path: deploys archive
/// from it, so the upload strategy works from a URL as from a local repository.
pub(crate) fn mirror(url: &str, access: &Access, cache: &Path) -> Result<PathBuf, Error> {
    let path = cache.join(mirror_name(url));
    let shown = redacted(url);
    let cannot = |e: git2::Error| Error::Mirror {
        url: shown.clone(),
        path: path.clone(),
        message: e.message().to_owned(),
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(cache)
        .map_err(|source| Error::MakeDir {
            path: cache.to_owned(),
            source,
        })?;
    // Yours alone, every time: what is archived from here is what hosts run. Changing the
    // mode of a directory another user owns fails, which refuses it too.
    std::fs::set_permissions(cache, std::fs::Permissions::from_mode(0o700)).map_err(|source| {
        Error::SharedCache {
            path: cache.to_owned(),
            source,
        }
    })?;
    let repository = if path.join("HEAD").is_file() {
        Repository::open_bare(&path).map_err(cannot)?
    } else {
        Repository::init_bare(&path).map_err(cannot)?
    };
    let problem = RefCell::new(None);
    let mut options = fetch_options(access, &problem);
    options.prune(FetchPrune::On);
    let mut remote = repository.remote_anonymous(url).map_err(cannot)?;
    remote
        .fetch(
            &["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"],
            Some(&mut options),
            None,
        )
        .map_err(|e| {
            let why = problem
                .borrow_mut()
                .take()
                .unwrap_or_else(|| e.message().to_owned());
            Error::Fetch {
                url: shown.clone(),
                path: path.clone(),
                why,
            }
        })?;
    Ok(path)
}

/// A mirror's directory name: readable, and unique to its URL.
fn mirror_name(url: &str) -> String {
    let readable: String = url
        .rsplit(['/', ':'])
        .find(|part| !part.is_empty())
        .unwrap_or("repo")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let digest = Sha256::digest(url.as_bytes());
    let hash = digest.iter().take(8).fold(String::new(), |mut hex, byte| {
        let _ = write!(hex, "{byte:02x}");
        hex
    });
    format!("{}-{hash}", readable.trim_end_matches(".git"))
}
