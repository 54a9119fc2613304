//! A merge commit made without touching the working tree: `git merge --no-ff`, where
//! conflicts in some files (a branch's own version files) keep that branch's side.

use std::path::Path;

use git2::{Commit, IndexEntry, Oid, Repository};

use super::Error;

/// The stage bits of an index entry's flags: a conflict's sides are stages 1 to 3.
const STAGE_MASK: u16 = 0x3000;

/// A merge's tree, and the conflicting files it kept `ours` of.
pub(super) struct Merged {
    pub(super) tree: Oid,
    pub(super) kept: Vec<String>,
}

/// The tree of merging `theirs` (the branch `branch`) into `ours` (the branch `into`).
/// Conflicts confined to `keep_ours` take `ours`' side; any other conflict is an error
/// naming every conflicting file, and nothing is written but objects.
pub(super) fn merge(
    repo: &Repository,
    shown: &str,
    (into, ours): (&str, &Commit<'_>),
    (branch, theirs): (&str, &Commit<'_>),
    keep_ours: &[String],
) -> Result<Merged, Error> {
    let cannot = |e: git2::Error| Error::git(format!("merge `{branch}` into `{into}`"), shown, &e);
    let mut index = repo.merge_commits(ours, theirs, None).map_err(cannot)?;
    let mut kept = Vec::new();
    if index.has_conflicts() {
        let mut sides = Vec::new();
        for conflict in index.conflicts().map_err(cannot)? {
            let conflict = conflict.map_err(cannot)?;
            let path = [&conflict.our, &conflict.their, &conflict.ancestor]
                .into_iter()
                .flatten()
                .map(|entry| String::from_utf8_lossy(&entry.path).into_owned())
                .next()
                .unwrap_or_default();
            sides.push((path, conflict.our));
        }
        let others: Vec<&str> = sides
            .iter()
            .map(|(path, _)| path.as_str())
            .filter(|path| !keep_ours.iter().any(|k| k == path))
            .collect();
        if !others.is_empty() {
            return Err(Error::Conflict {
                branch: branch.to_owned(),
                into: into.to_owned(),
                paths: others.join(", "),
            });
        }
        for (path, ours) in sides {
            index.conflict_remove(Path::new(&path)).map_err(cannot)?;
            // Deleted on our side: staying deleted is keeping ours.
            if let Some(entry) = ours {
                index.add(&resolved(entry)).map_err(cannot)?;
            }
            kept.push(path);
        }
    }
    let tree = index.write_tree_to(repo).map_err(cannot)?;
    Ok(Merged { tree, kept })
}

/// A conflict's side as a resolved entry (stage 0).
fn resolved(mut entry: IndexEntry) -> IndexEntry {
    entry.flags &= !STAGE_MASK;
    entry
}
