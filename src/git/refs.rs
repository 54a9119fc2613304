//! Tags and refs: every tag, the latest stable one, what a ref names, and its version.

use std::cmp::Ordering;

use git2::{Oid, Repository};
use semver::Version;

use super::pattern::glob;
use super::remote::{is_url, remote_refs};
use super::{Access, Error, Tag};

/// Every tag of `repo`, sorted by name.
pub(crate) fn tags(repo: &str, access: &Access) -> Result<Vec<Tag>, Error> {
    let mut tags = if is_url(repo) {
        remote_refs(repo, access)?.tags
    } else {
        local_tags(&open(repo)?)?
    };
    tags.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(tags)
}

/// How `latest_stable` picks among tags.
#[derive(Clone, Debug, Default)]
pub(crate) struct Selection {
    /// A prefix every candidate has, stripped before the version (default: an optional `v`).
    pub(crate) prefix: Option<String>,
    /// A glob the tag names must match (`*` and `?`).
    pub(crate) pattern: Option<String>,
}

/// The highest semver tag that is not a pre-release; an error lists what was found.
pub(crate) fn latest_stable<'a>(
    tags: &'a [Tag],
    selection: &Selection,
    repo: &str,
) -> Result<&'a Tag, Error> {
    let mut seen = Vec::new();
    let mut best: Option<(Version, &Tag)> = None;
    for tag in tags {
        if selection
            .pattern
            .as_deref()
            .is_some_and(|p| !glob(p, &tag.name))
        {
            continue;
        }
        let text = match &selection.prefix {
            Some(prefix) => match tag.name.strip_prefix(prefix.as_str()) {
                Some(rest) => rest,
                None => continue,
            },
            None => tag.name.strip_prefix('v').unwrap_or(&tag.name),
        };
        let Ok(version) = Version::parse(text) else {
            seen.push(format!("{} (not semver)", tag.name));
            continue;
        };
        if !version.pre.is_empty() {
            seen.push(format!("{} (pre-release)", tag.name));
            continue;
        }
        let better = best.as_ref().is_none_or(|(b, _)| {
            version
                .cmp_precedence(b)
                .then_with(|| version.cmp(b))
                .is_gt()
        });
        if better {
            best = Some((version, tag));
        }
    }
    best.map(|(_, tag)| tag).ok_or_else(|| {
        let found = if seen.is_empty() {
            "no tags".to_owned()
        } else {
            seen.join(", ")
        };
        Error::NoStableTag {
            repo: repo.to_owned(),
            found,
        }
    })
}

/// A tag name as a semver version: `v3.0.1` and `3.0.1` alike.
pub(crate) fn version(name: &str) -> Option<Version> {
    Version::parse(name.strip_prefix('v').unwrap_or(name)).ok()
}

/// How two versions compare by semver precedence (`v3.1.0-rc.1` before `v3.1.0`; build
/// metadata ignored); either not being semver is an error.
pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, Error> {
    let parse = |name: &str| {
        version(name).ok_or_else(|| Error::NotSemver {
            name: name.to_owned(),
        })
    };
    Ok(parse(a)?.cmp_precedence(&parse(b)?))
}

/// The version of what `reference` (a tag, branch or commit id) names: the highest semver
/// tag on its commit, if one is.
pub(crate) fn version_of(
    repo: &str,
    reference: &str,
    access: &Access,
) -> Result<Option<String>, Error> {
    let tags = tags(repo, access)?;
    let commit = match resolve(repo, reference, access) {
        Ok(commit) => commit,
        // A URL lists refs, not commits: a commit id is matched as it is.
        Err(_) if is_commit_id(reference) => reference.to_ascii_lowercase(),
        Err(e) => return Err(e),
    };
    Ok(tags
        .iter()
        .filter(|t| t.commit.starts_with(&commit))
        .filter_map(|t| version(&t.name).map(|v| (v, t)))
        .max_by(|(a, _), (b, _)| a.cmp_precedence(b))
        .map(|(_, t)| t.name.clone()))
}

fn is_commit_id(text: &str) -> bool {
    (7..=40).contains(&text.len()) && text.chars().all(|c| c.is_ascii_hexdigit())
}

/// The commit a ref names: a tag (annotated or not), a branch, or a commit id.
pub(crate) fn resolve(repo: &str, reference: &str, access: &Access) -> Result<String, Error> {
    if is_url(repo) {
        let refs = remote_refs(repo, access)?;
        return refs
            .tags
            .iter()
            .find(|t| t.name == reference)
            .map(|t| t.commit.clone())
            .or_else(|| {
                refs.branches
                    .iter()
                    .find(|(b, _)| b == reference)
                    .map(|(_, c)| c.clone())
            })
            .ok_or_else(|| Error::NoRemoteRef {
                reference: reference.to_owned(),
                repo: repo.to_owned(),
            });
    }
    let repository = open(repo)?;
    let commit = commit_of(&repository, reference)?;
    Ok(commit.to_string())
}

/// `git describe --tags`: the nearest tag, and how far the ref is past it.
pub(crate) fn describe(repo: &str, reference: &str) -> Result<String, Error> {
    let repository = open_local(repo, "describe")?;
    let commit = commit_of(&repository, reference)?;
    let object = repository
        .find_object(commit, None)
        .map_err(|e| Error::read(&e))?;
    object
        .describe(git2::DescribeOptions::new().describe_tags())
        .and_then(|d| d.format(None))
        .map_err(|e| Error::Describe {
            reference: reference.to_owned(),
            repo: repo.to_owned(),
            message: e.message().to_owned(),
        })
}

pub(super) fn open(repo: &str) -> Result<Repository, Error> {
    Repository::open(repo).map_err(|e| Error::NotARepository {
        repo: repo.to_owned(),
        message: e.message().to_owned(),
    })
}

/// A local repository, for what needs its objects.
pub(super) fn open_local(repo: &str, what: &'static str) -> Result<Repository, Error> {
    if is_url(repo) {
        return Err(Error::NeedsLocal {
            what,
            repo: repo.to_owned(),
        });
    }
    open(repo)
}

pub(super) fn local_tags(repository: &Repository) -> Result<Vec<Tag>, Error> {
    let names = repository.tag_names(None).map_err(|e| Error::read(&e))?;
    Ok(names
        .iter()
        .filter_map(|name| name.ok().flatten())
        .filter_map(|name| {
            let commit = repository
                .revparse_single(&format!("refs/tags/{name}^{{commit}}"))
                .ok()?
                .id();
            Some(Tag {
                name: name.to_owned(),
                commit: commit.to_string(),
            })
        })
        .collect())
}

/// A ref name or commit id, to a commit: tags first, then branches, then anything
/// `git rev-parse` understands.
pub(super) fn commit_of(repository: &Repository, reference: &str) -> Result<Oid, Error> {
    let candidates = [
        format!("refs/tags/{reference}"),
        format!("refs/heads/{reference}"),
        format!("refs/remotes/origin/{reference}"),
        reference.to_owned(),
    ];
    candidates
        .iter()
        .find_map(|spec| {
            repository
                .revparse_single(&format!("{spec}^{{commit}}"))
                .ok()
        })
        .map(|object| object.id())
        .ok_or_else(|| Error::NoRef {
            reference: reference.to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    fn tags(names: &[&str]) -> Vec<Tag> {
        names
            .iter()
            .map(|n| Tag {
                name: (*n).into(),
                commit: String::new(),
            })
            .collect()
    }

    #[test]
    fn latest_stable_skips_pre_releases_and_non_semver() {
        let all = tags(&[
            "v3.0.0",
            "v3.0.1",
            "v3.1.0-rc.1",
            "nightly",
            "v2.9.10",
            "3.0.1+build.2",
        ]);
        let best = latest_stable(&all, &Selection::default(), "repo").expect("a stable tag");
        assert!(
            best.name == "v3.0.1" || best.name == "3.0.1+build.2",
            "{best:?}"
        );
        let plain = tags(&["v1.2.0", "v1.10.0", "v1.9.0"]);
        assert_eq!(
            latest_stable(&plain, &Selection::default(), "r")
                .expect("stable")
                .name,
            "v1.10.0"
        );
    }

    #[test]
    fn prefix_and_pattern_choose_the_candidates() {
        let all = tags(&["api-v2.0.0", "web-v1.4.0", "web-v1.5.0", "v9.0.0"]);
        let web = Selection {
            prefix: Some("web-v".into()),
            pattern: None,
        };
        assert_eq!(
            latest_stable(&all, &web, "r").expect("web").name,
            "web-v1.5.0"
        );
        let api = Selection {
            prefix: None,
            pattern: Some("api-*".into()),
        };
        assert!(
            latest_stable(&all, &api, "r").is_err(),
            "api-v2.0.0 is not semver without its prefix"
        );
    }

    #[test]
    fn no_stable_tag_lists_what_was_found() {
        let all = tags(&["v3.1.0-rc.1", "nightly"]);
        assert_eq!(
            latest_stable(&all, &Selection::default(), "repo")
                .unwrap_err()
                .to_string(),
            "no stable semver tag in `repo` (found: v3.1.0-rc.1 (pre-release), nightly (not semver)); tag a release like `v1.0.0`"
        );
    }

    #[test]
    fn versions_compare_by_semver_precedence() {
        assert_eq!(compare("v3.1.0-rc.1", "v3.1.0").ok(), Some(Ordering::Less));
        assert_eq!(
            compare("3.0.1", "v3.0.1+build.5").ok(),
            Some(Ordering::Equal)
        );
        assert!(compare("main", "v1.0.0").is_err());
    }
}
