//! `git::...`: tags, the latest stable release, refs and archives, for deploy recipes.
// The plugin macro expects its prelude glob-imported and makes `pub` items.
#![allow(unreachable_pub, clippy::wildcard_imports)]

use rhai::plugin::*;

#[export_module]
pub(crate) mod git_api {
    use std::path::Path;

    use rhai::{Array, EvalAltResult, Map};

    use crate::api::check_options;
    use crate::git::{self, Selection};

    /// The tags of a repository (a local path, or a URL read without cloning), sorted by
    /// name, each as `#{ name, commit }`.
    ///
    /// ```rhai
    /// for tag in git::tags(".") { puts(`${tag.name} ${tag.commit}`); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn tags(repo: &str) -> Result<Array, Box<EvalAltResult>> {
        Ok(git::tags(repo)?
            .into_iter()
            .map(|t| {
                Dynamic::from_map(Map::from_iter([
                    ("name".into(), t.name.into()),
                    ("commit".into(), t.commit.into()),
                ]))
            })
            .collect())
    }

    /// The name of the highest semver tag that is not a pre-release (`v3.0.1`, never
    /// `v3.1.0-rc.1`); a `v` prefix is optional and tags that are not semver are ignored.
    /// A repository with no stable tag is an error that lists what it has.
    ///
    /// ```rhai
    /// let release = git::latest_stable("/srv/git/shop.git");
    /// ```
    #[rhai_fn(name = "latest_stable", return_raw)]
    pub fn latest_stable(repo: &str) -> Result<String, Box<EvalAltResult>> {
        latest_stable_with(repo, Map::new())
    }

    /// `latest_stable` with options: `prefix` (e.g. `"web-v"`: only tags with it, stripped
    /// before the version) and `pattern` (a glob the tag names must match).
    ///
    /// ```rhai
    /// let web = git::latest_stable(".", #{ prefix: "web-v" });
    /// ```
    #[rhai_fn(name = "latest_stable", return_raw)]
    pub fn latest_stable_with(repo: &str, options: Map) -> Result<String, Box<EvalAltResult>> {
        check_options("git::latest_stable", &options, &["prefix", "pattern"])?;
        let text = |key: &str| options.get(key).map(ToString::to_string);
        let selection = Selection {
            prefix: text("prefix"),
            pattern: text("pattern"),
        };
        let tags = git::tags(repo)?;
        Ok(git::latest_stable(&tags, &selection, repo)?.name.clone())
    }

    /// The commit id a tag (annotated or lightweight), branch or commit names.
    ///
    /// ```rhai
    /// let commit = git::resolve(".", "v3.0.1");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn resolve(repo: &str, reference: &str) -> Result<String, Box<EvalAltResult>> {
        Ok(git::resolve(repo, reference)?)
    }

    /// `git describe --tags` of a ref in a local repository: `v3.0.1`, or `v3.0.1-2-gabc1234`
    /// when the ref is two commits past the tag.
    ///
    /// ```rhai
    /// puts(`building ${git::describe(".", "HEAD")}`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn describe(repo: &str, reference: &str) -> Result<String, Box<EvalAltResult>> {
        Ok(git::describe(repo, reference)?)
    }

    /// Writes the tree at a ref of a local repository to `out`, as `git archive` does (a tar,
    /// or a tar.gz when `out` ends in `.gz`/`.tgz`; `export-ignore` honoured); returns the
    /// commit id it archived.
    ///
    /// ```rhai
    /// let commit = git::archive(".", "v3.0.1", "/tmp/app-v3.0.1.tar.gz");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn archive(repo: &str, reference: &str, out: &str) -> Result<String, Box<EvalAltResult>> {
        Ok(git::archive(repo, reference, Path::new(out))?)
    }
}
