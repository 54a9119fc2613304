//! The gitflow hotfix: `start` cuts `hotfix/VERSION` from the remote's main with its version
//! files bumped; `finish` merges it into main and develop, tags it and pushes, and moves the
//! repository's own branches and tags only for what the remote took.

use std::cmp::Ordering;
use std::path::Path;

use git2::build::TreeUpdateBuilder;
use git2::{BranchType, Commit, FileMode, Oid, Signature};
use semver::Version;

use super::merge::{Merged, merge};
use super::refs::{latest_stable, local_tags, version as version_of_tag};
use super::sync::{fetch, push};
use super::work_tree::{Work, short};
use super::{Access, Error, Selection};

/// Where a hotfix is cut from and merged into, and which files hold the version.
#[derive(Clone, Debug)]
pub(crate) struct Flow {
    /// Files whose old version a hotfix bumps, relative to the repository's top.
    pub(crate) version_files: Vec<String>,
    /// The production branch, which hotfixes start from and are tagged on.
    pub(crate) main: String,
    /// The development branch, which gets each hotfix too.
    pub(crate) develop: String,
    /// What a hotfix branch's name starts with, before its version.
    pub(crate) prefix: String,
    /// The remote fetched from and pushed to.
    pub(crate) remote: String,
}

impl Default for Flow {
    fn default() -> Self {
        Self {
            version_files: vec!["config/version.ini".to_owned()],
            main: "main".to_owned(),
            develop: "develop".to_owned(),
            prefix: "hotfix/".to_owned(),
            remote: "origin".to_owned(),
        }
    }
}

/// Scratch refs a finish pushes from, so that no branch or tag of the repository moves
/// before the remote took it.
const SCRATCH: &str = "refs/rfab/hotfix";

/// The URL of the flow's remote in the working tree at or above `dir`.
pub(crate) fn remote_url(dir: &Path, flow: &Flow) -> Result<String, Error> {
    let work = Work::open(dir)?;
    super::sync::remote_url(&work.repo, &flow.remote, &work.shown)
}

/// `hotfix.start`: in the clean working tree at or above `dir`, fetches the remote and
/// creates `PREFIX+VERSION` from its main, with the latest stable version replaced by
/// `version` in each version file, committed; then checks that branch out.
pub(crate) fn start(
    dir: &Path,
    version: &str,
    flow: &Flow,
    access: &Access,
    say: &dyn Fn(&str),
) -> Result<(), Error> {
    let work = Work::open(dir)?;
    let signature = work.signature()?;
    work.check_clean()?;
    let wanted = hotfix_version(version)?;
    let say = |text: &str| say(&format!("hotfix {wanted}: {text}"));
    fetch(&work.repo, &flow.remote, access, &work.shown)?;
    say(&format!("fetched {}", flow.remote));
    let tags = local_tags(&work.repo)?;
    let tag = format!("v{wanted}");
    if tags.iter().any(|t| t.name == tag) {
        return Err(work.tag_exists(&tag));
    }
    let latest = latest_stable(&tags, &Selection::default(), &work.shown)?;
    let old = version_of_tag(&latest.name).ok_or_else(|| Error::NotSemver {
        name: latest.name.clone(),
    })?;
    if wanted.cmp_precedence(&old) != Ordering::Greater {
        return Err(Error::BadVersion {
            version: version.to_owned(),
            why: format!("it is not above the latest stable tag `{}`", latest.name),
        });
    }
    let branch = format!("{}{wanted}", flow.prefix);
    work.check_no_branch(&branch, &flow.remote)?;
    let from = format!("{}/{}", flow.remote, flow.main);
    let base = work.commit(&work.remote_branch(&flow.remote, &flow.main)?)?;
    let old = latest.name.strip_prefix('v').unwrap_or(&latest.name);
    let tree = work.bump(&base, &from, &flow.version_files, old, &wanted.to_string())?;
    let message = format!("Bump version to {wanted}");
    let bumped = work
        .repo
        .commit(
            None,
            &signature,
            &signature,
            &message,
            &work.tree(tree)?,
            &[&base],
        )
        .map_err(|e| work.failed("commit the version bump", &e))?;
    work.switch_to_new(&branch, bumped)?;
    say(&format!(
        "created {branch} from {from} ({})",
        short(base.id())
    ));
    for path in &flow.version_files {
        say(&format!("{path}: {old} -> {wanted}"));
    }
    say(&format!("committed \"{message}\" ({})", short(bumped)));
    say(&format!(
        "on {branch}: commit the fix, then run `rfab hotfix.finish`"
    ));
    Ok(())
}

/// `hotfix.finish`: on `PREFIX+VERSION`, fetches the remote, merges the branch into main
/// (`--no-ff`) and tags that `vVERSION` (annotated), merges it into develop (conflicts in
/// version files keep develop's side), pushes main, develop and the tag in one push, then
/// deletes the hotfix branch here and on the remote and checks develop out. Returns the
/// version.
pub(crate) fn finish(
    dir: &Path,
    flow: &Flow,
    access: &Access,
    say: &dyn Fn(&str),
) -> Result<String, Error> {
    let work = Work::open(dir)?;
    let signature = work.signature()?;
    work.check_clean()?;
    let (branch, wanted) = work.hotfix_branch(&flow.prefix)?;
    let say = |text: &str| say(&format!("hotfix {wanted}: {text}"));
    fetch(&work.repo, &flow.remote, access, &work.shown)?;
    say(&format!("fetched {}", flow.remote));
    let tag = format!("v{wanted}");
    if work.repo.refname_to_id(&format!("refs/tags/{tag}")).is_ok() {
        return Err(work.tag_exists(&tag));
    }
    let hotfix = work.commit(&work.head_commit()?)?;
    let remote_hotfix = work.remote_ref(&flow.remote, &branch);
    // Commits pushed to the hotfix branch for review, but not pulled here, would be lost.
    if let Some(theirs) = remote_hotfix
        && theirs != hotfix.id()
        && !work.descends(hotfix.id(), theirs)?
    {
        return Err(Error::Behind {
            branch,
            remote: flow.remote.clone(),
            repo: work.shown.clone(),
        });
    }
    let main = work.commit(&work.target(&flow.remote, &flow.main)?)?;
    let develop = work.commit(&work.target(&flow.remote, &flow.develop)?)?;
    let merged = |into: (&str, &Commit<'_>), keep: &[String]| {
        work.merge_commit(&signature, into, (&branch, &hotfix), keep)
    };
    let (on_main, _) = merged((&flow.main, &main), &[])?;
    let (on_develop, kept) = merged((&flow.develop, &develop), &flow.version_files)?;
    let tag_object = work
        .repo
        .find_object(on_main, None)
        .and_then(|o| {
            work.repo
                .tag_annotation_create(&tag, &o, &signature, &format!("Hotfix {wanted}\n"))
        })
        .map_err(|e| work.failed(format!("make the tag `{tag}`"), &e))?;
    say(&format!(
        "merged {branch} into {} ({})",
        flow.main,
        short(on_main)
    ));
    say(&format!("tagged {} as {tag}", short(on_main)));
    say(&if kept.is_empty() {
        format!(
            "merged {branch} into {} ({})",
            flow.develop,
            short(on_develop)
        )
    } else {
        format!(
            "merged {branch} into {} ({}), keeping its own {}",
            flow.develop,
            short(on_develop),
            kept.join(", ")
        )
    });
    let updates = [
        (
            format!("refs/heads/{}", flow.main),
            flow.main.clone(),
            on_main,
        ),
        (
            format!("refs/heads/{}", flow.develop),
            flow.develop.clone(),
            on_develop,
        ),
        (format!("refs/tags/{tag}"), tag.clone(), tag_object),
    ];
    let mut cleanup = Vec::new();
    if remote_hotfix.is_some() {
        cleanup.push(format!("git push {} --delete {branch}", flow.remote));
    }
    cleanup.push(format!("git checkout {}", flow.develop));
    cleanup.push(format!("git branch -D {branch}"));
    // Develop is checked out after the push: a file in its way stops the finish now, before.
    work.check_way(&hotfix, on_develop, &flow.develop)?;
    work.publish(flow, &updates, &cleanup, access)?;
    say(&format!(
        "pushed {}, {} and {tag} to {}",
        flow.main, flow.develop, flow.remote
    ));
    work.switch_to(&flow.develop, on_develop, &flow.remote)
        .map_err(|e| Error::Unfinished {
            repo: work.shown.clone(),
            why: e.to_string(),
            left: cleanup.join("; "),
        })?;
    work.delete_hotfix(flow, &branch, remote_hotfix.is_some(), access, &say)?;
    say(&format!("deleted {branch}; now on {}", flow.develop));
    Ok(wanted.to_string())
}

/// A hotfix's version: semver (a leading `v` allowed), and a release, not a pre-release.
fn hotfix_version(text: &str) -> Result<Version, Error> {
    let bad = |why: &str| Error::BadVersion {
        version: text.to_owned(),
        why: why.to_owned(),
    };
    let parsed = version_of_tag(text).ok_or_else(|| bad("it is not semver (like `3.0.1`)"))?;
    if !parsed.pre.is_empty() {
        return Err(bad(
            "a pre-release is not a hotfix; give a release like `3.0.1`",
        ));
    }
    Ok(parsed)
}

// The hotfix's own steps on a working tree.
impl Work {
    /// The hotfix branch checked out, and the version its name ends with.
    fn hotfix_branch(&self, prefix: &str) -> Result<(String, Version), Error> {
        let head = self.repo.head().map_err(|e| self.failed("read HEAD", &e))?;
        let name = head.shorthand().unwrap_or("HEAD").to_owned();
        let version = head
            .is_branch()
            .then(|| name.strip_prefix(prefix))
            .flatten()
            .ok_or_else(|| Error::NotOnHotfix {
                repo: self.shown.clone(),
                head: if head.is_branch() {
                    name.clone()
                } else {
                    "a detached HEAD".to_owned()
                },
                prefix: prefix.to_owned(),
            })?;
        Ok((name.clone(), hotfix_version(version)?))
    }

    fn tag_exists(&self, tag: &str) -> Error {
        Error::TagExists {
            tag: tag.to_owned(),
            repo: self.shown.clone(),
        }
    }

    /// Refuses `branch` if it exists here or on the remote.
    fn check_no_branch(&self, branch: &str, remote: &str) -> Result<(), Error> {
        let here = self.repo.find_branch(branch, BranchType::Local).is_ok();
        if here || self.remote_ref(remote, branch).is_some() {
            return Err(Error::BranchExists {
                branch: branch.to_owned(),
                repo: self.shown.clone(),
            });
        }
        Ok(())
    }

    /// The tree of `base` with `old` replaced by `new` in each version file.
    fn bump(
        &self,
        base: &Commit<'_>,
        from: &str,
        files: &[String],
        old: &str,
        new: &str,
    ) -> Result<Oid, Error> {
        let tree = base
            .tree()
            .map_err(|e| self.failed(format!("read the tree of {from}"), &e))?;
        let mut update = TreeUpdateBuilder::new();
        for path in files {
            let missing = || Error::NoVersionFile {
                path: path.clone(),
                base: from.to_owned(),
            };
            let entry = tree.get_path(Path::new(path)).map_err(|_| missing())?;
            let blob = self.repo.find_blob(entry.id()).map_err(|_| missing())?;
            let text = std::str::from_utf8(blob.content())
                .ok()
                .filter(|text| text.contains(old))
                .ok_or_else(|| Error::NoVersionInFile {
                    path: path.clone(),
                    base: from.to_owned(),
                    old: old.to_owned(),
                })?;
            let bumped = self
                .repo
                .blob(text.replace(old, new).as_bytes())
                .map_err(|e| self.failed(format!("write `{path}`"), &e))?;
            let mode = if entry.filemode() == i32::from(FileMode::BlobExecutable) {
                FileMode::BlobExecutable
            } else {
                FileMode::Blob
            };
            update.upsert(path.as_str(), bumped, mode);
        }
        update
            .create_updated(&self.repo, &tree)
            .map_err(|e| self.failed("write the bumped tree", &e))
    }

    /// A `--no-ff` merge commit of `branch` into `into`, made as objects only: no branch
    /// moves. Returns it, and the conflicting files it kept `into`'s side of.
    fn merge_commit(
        &self,
        signature: &Signature<'_>,
        (into, ours): (&str, &Commit<'_>),
        (branch, theirs): (&str, &Commit<'_>),
        keep: &[String],
    ) -> Result<(Oid, Vec<String>), Error> {
        let Merged { tree, kept } = merge(
            &self.repo,
            &self.shown,
            (into, ours),
            (branch, theirs),
            keep,
        )?;
        // git's own words, which leave out the target for the production branch.
        let message = if into == "main" || into == "master" {
            format!("Merge branch '{branch}'")
        } else {
            format!("Merge branch '{branch}' into {into}")
        };
        let commit = self
            .repo
            .commit(
                None,
                signature,
                signature,
                &message,
                &self.tree(tree)?,
                &[ours, theirs],
            )
            .map_err(|e| self.failed(format!("commit the merge into `{into}`"), &e))?;
        Ok((commit, kept))
    }

    /// Pushes each `(ref, name, target)` to the remote in one push, from scratch refs, then
    /// moves the repository's own refs there. Nothing taken is an error with the repository
    /// as it was; some taken, an error saying what is left to do: the pushes refused, then
    /// `cleanup`.
    fn publish(
        &self,
        flow: &Flow,
        updates: &[(String, String, Oid)],
        cleanup: &[String],
        access: &Access,
    ) -> Result<(), Error> {
        let scratch = |name: &str| format!("{SCRATCH}/{}", name.trim_start_matches("refs/"));
        let made: Result<Vec<String>, Error> = updates
            .iter()
            .map(|(reference, _, target)| {
                self.repo
                    .reference(&scratch(reference), *target, true, "rfab hotfix.finish")
                    .map(|_| format!("{}:{reference}", scratch(reference)))
                    .map_err(|e| self.failed(format!("make the ref {}", scratch(reference)), &e))
            })
            .collect();
        let pushed =
            made.and_then(|specs| push(&self.repo, &flow.remote, &specs, access, &self.shown));
        for (reference, _, _) in updates {
            if let Ok(mut r) = self.repo.find_reference(&scratch(reference)) {
                let _ = r.delete();
            }
        }
        let pushed = pushed?;
        let (taken, refused): (Vec<_>, Vec<_>) = updates
            .iter()
            .partition(|(reference, _, _)| pushed.took(reference));
        let why = |reference: &str| {
            pushed
                .refs
                .iter()
                .find(|(r, _)| r == reference)
                .and_then(|(_, why)| why.clone())
                .or_else(|| pushed.failure.clone())
                .unwrap_or_else(|| "no answer from the remote".to_owned())
        };
        if taken.is_empty() {
            let why = refused
                .iter()
                .map(|(reference, name, _)| format!("{name}: {}", why(reference)))
                .collect::<Vec<_>>();
            return Err(Error::Push {
                remote: flow.remote.clone(),
                url: super::remote::redacted(&super::sync::remote_url(
                    &self.repo,
                    &flow.remote,
                    &self.shown,
                )?),
                repo: self.shown.clone(),
                why: pushed.failure.clone().unwrap_or_else(|| why.join(", ")),
            });
        }
        // Every merge and the tag are done: the repository records them, whatever the
        // remote refused, and what is left is pushing the rest.
        self.move_refs(updates)?;
        if refused.is_empty() {
            return Ok(());
        }
        let mut left: Vec<String> = refused
            .iter()
            .map(|(_, name, _)| format!("git push {} {name}", flow.remote))
            .collect();
        left.extend(cleanup.iter().cloned());
        Err(Error::PushedPartly {
            remote: flow.remote.clone(),
            repo: self.shown.clone(),
            refused: refused
                .iter()
                .map(|(reference, name, _)| format!("{name}: {}", why(reference)))
                .collect::<Vec<_>>()
                .join(", "),
            pushed: taken
                .iter()
                .map(|(_, name, _)| name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            left: left.join("; "),
        })
    }

    /// Moves the repository's refs, all or none.
    fn move_refs(&self, updates: &[(String, String, Oid)]) -> Result<(), Error> {
        let moved = self.repo.transaction().and_then(|mut transaction| {
            for (reference, _, target) in updates {
                transaction.lock_ref(reference)?;
                transaction.set_target(reference, *target, None, "rfab hotfix.finish")?;
            }
            transaction.commit()
        });
        moved.map_err(|e| self.failed("move the branches and tag to what was pushed", &e))
    }

    /// Deletes the hotfix branch on the remote (if it was there) and here.
    fn delete_hotfix(
        &self,
        flow: &Flow,
        branch: &str,
        on_remote: bool,
        access: &Access,
        say: &dyn Fn(&str),
    ) -> Result<(), Error> {
        let reference = format!("refs/heads/{branch}");
        if on_remote {
            let pushed = push(
                &self.repo,
                &flow.remote,
                &[format!(":{reference}")],
                access,
                &self.shown,
            )?;
            if !pushed.took(&reference) {
                let why = pushed
                    .refs
                    .iter()
                    .find_map(|(_, why)| why.clone())
                    .or(pushed.failure)
                    .unwrap_or_else(|| "no answer from the remote".to_owned());
                return Err(Error::PushedPartly {
                    remote: flow.remote.clone(),
                    repo: self.shown.clone(),
                    refused: format!("deleting {branch}: {why}"),
                    pushed: format!("{}, {} and the tag", flow.main, flow.develop),
                    left: format!(
                        "git push {} --delete {branch}; git branch -D {branch}",
                        flow.remote
                    ),
                });
            }
            say(&format!("deleted {branch} on {}", flow.remote));
        }
        self.repo
            .find_branch(branch, BranchType::Local)
            .and_then(|mut b| b.delete())
            .map_err(|e| Error::Unfinished {
                repo: self.shown.clone(),
                why: format!("`{branch}` could not be deleted: {}", e.message()),
                left: format!("git branch -D {branch}"),
            })
    }
}
