//! `git::...`: tags, the latest stable release, refs and archives, for deploy recipes.
// The plugin macro expects its prelude glob-imported and makes `pub` items.
#![allow(unreachable_pub, clippy::wildcard_imports)]

use rhai::plugin::*;
use rhai::{EvalAltResult, NativeCallContext};

use crate::context::{Context, Target};
use crate::git::Access;
use crate::host_config::HostConfig;

/// How to reach `repo` if it is an `ssh://` URL: as `run()` would reach that host.
fn access(ctx: &NativeCallContext, repo: &str) -> Result<Access, Box<EvalAltResult>> {
    let Some(rest) = repo.strip_prefix("ssh://") else {
        return Ok(Access::default());
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let context = Context::of(ctx)?;
    let target = Target::hop(authority).map_err(|e| e.to_string())?;
    let ssh = &context.runtime.ssh;
    let config = HostConfig::resolve(&target, ssh.ssh_config.as_deref());
    let mut keys = ssh.identities.clone();
    keys.extend(config.identity_files);
    Ok(Access {
        user: config.user,
        port: config.port,
        keys,
        known_hosts: config.known_hosts_files,
        policy: ssh.known_hosts,
    })
}

#[export_module]
pub(crate) mod git_api {
    use std::path::Path;

    use rhai::{Array, EvalAltResult, Map, NativeCallContext};

    use crate::api::check_options;
    use crate::git::{self, Selection};

    use super::access;

    /// The tags of a repository (a local path, or a `file://` or `ssh://` URL read without
    /// cloning, with the host keys and logins of `run()`), sorted by name, each as
    /// `#{ name, commit }`.
    ///
    /// ```rhai
    /// for tag in git::tags(".") { puts(`${tag.name} ${tag.commit}`); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn tags(ctx: NativeCallContext, repo: &str) -> Result<Array, Box<EvalAltResult>> {
        Ok(git::tags(repo, &access(&ctx, repo)?)?
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
    /// let release = git::latest_stable("ssh://git@git.example.com/shop/app.git");
    /// ```
    #[rhai_fn(name = "latest_stable", return_raw)]
    pub fn latest_stable(ctx: NativeCallContext, repo: &str) -> Result<String, Box<EvalAltResult>> {
        latest_stable_with(ctx, repo, Map::new())
    }

    /// `latest_stable` with options: `prefix` (e.g. `"web-v"`: only tags with it, stripped
    /// before the version) and `pattern` (a glob the tag names must match).
    ///
    /// ```rhai
    /// let web = git::latest_stable(".", #{ prefix: "web-v" });
    /// ```
    #[rhai_fn(name = "latest_stable", return_raw)]
    pub fn latest_stable_with(
        ctx: NativeCallContext,
        repo: &str,
        options: Map,
    ) -> Result<String, Box<EvalAltResult>> {
        check_options("git::latest_stable", &options, &["prefix", "pattern"])?;
        let text = |key: &str| options.get(key).map(ToString::to_string);
        let selection = Selection {
            prefix: text("prefix"),
            pattern: text("pattern"),
        };
        let tags = git::tags(repo, &access(&ctx, repo)?)?;
        Ok(git::latest_stable(&tags, &selection, repo)?.name.clone())
    }

    /// The commit id a tag (annotated or lightweight), branch or commit names.
    ///
    /// ```rhai
    /// let commit = git::resolve(".", "v3.0.1");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn resolve(
        ctx: NativeCallContext,
        repo: &str,
        reference: &str,
    ) -> Result<String, Box<EvalAltResult>> {
        Ok(git::resolve(repo, reference, &access(&ctx, repo)?)?)
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
