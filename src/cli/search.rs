//! Finding the fabfile: `-f PATH`, else `fabfile.rhai` here or in the nearest parent.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub(crate) const FILENAME: &str = "fabfile.rhai";

pub(crate) fn find(explicit: Option<&Path>, cwd: &Path) -> Result<PathBuf> {
    if let Some(path) = explicit {
        let path = cwd.join(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(Error::FabfileRead {
                path,
                source: std::io::ErrorKind::NotFound.into(),
            })
        };
    }
    let mut searched = Vec::new();
    for dir in cwd.ancestors() {
        let candidate = dir.join(FILENAME);
        if candidate.is_file() {
            return Ok(candidate);
        }
        searched.push(dir.to_path_buf());
    }
    Err(Error::FabfileNotFound { searched })
}
