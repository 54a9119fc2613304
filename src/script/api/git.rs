//! `git::...`: tags, the latest stable release, refs and archives, for deploy recipes.
// The plugin macro expects its prelude glob-imported and makes `pub` items.
#![allow(unreachable_pub, clippy::wildcard_imports)]

use std::path::{Path, PathBuf};

use rhai::plugin::*;
use rhai::{EvalAltResult, NativeCallContext};

use crate::git::Access;
use crate::script::api::check_options;
use crate::script::context::Context;
use crate::ssh::ssh_config::HostConfig;
use crate::ssh::target::Target;

/// How to reach `repo` if it is an SSH repository (`ssh://...` or `user@host:path`): as
/// `run()` would reach that host.
fn access(ctx: &NativeCallContext, repo: &str) -> Result<Access, Box<EvalAltResult>> {
    let Some(authority) = crate::git::ssh_authority(repo) else {
        return Ok(Access::default());
    };
    let context = Context::of(ctx)?;
    let target = Target::hop(authority)?;
    let ssh = &context.ssh()?;
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

/// Where mirrors of remote repositories are kept: `$XDG_CACHE_HOME/rfab/mirrors`, or
/// `~/.cache/rfab/mirrors`.
fn mirror_cache() -> Result<PathBuf, Box<EvalAltResult>> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|dir| Path::new(dir).is_absolute())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")))
        .ok_or("no cache directory for repository mirrors: set HOME or XDG_CACHE_HOME")?;
    Ok(base.join("rfab/mirrors"))
}

/// The local repository to read `repo` from: itself, or for a URL its mirror, fetched once
/// per run.
fn local_source(ctx: &NativeCallContext, repo: &str) -> Result<String, Box<EvalAltResult>> {
    if !crate::git::is_url(repo) {
        return Ok(repo.to_owned());
    }
    let context = Context::of(ctx)?;
    let access = access(ctx, repo)?;
    let cache = mirror_cache()?;
    let path = context
        .runtime
        .scratch
        .mirror(repo, || crate::git::mirror(repo, &access, &cache))?;
    Ok(path.to_string_lossy().into_owned())
}

/// A hotfix's settings: the defaults (`Flow::default`), with what `options` gives over them.
fn flow(function: &str, options: &rhai::Map) -> Result<crate::git::Flow, Box<EvalAltResult>> {
    check_options(
        function,
        options,
        &["version_files", "main", "develop", "prefix", "remote"],
    )?;
    let mut flow = crate::git::Flow::default();
    let text = |key: &str, into: &mut String| {
        if let Some(value) = options.get(key) {
            *into = value.to_string();
        }
    };
    text("main", &mut flow.main);
    text("develop", &mut flow.develop);
    text("prefix", &mut flow.prefix);
    text("remote", &mut flow.remote);
    if let Some(files) = options.get("version_files") {
        flow.version_files = if files.is_array() {
            files
                .clone()
                .into_array()
                .unwrap_or_default()
                .iter()
                .map(ToString::to_string)
                .collect()
        } else {
            // `--set version_files=a,b` gives a string.
            files
                .to_string()
                .split(',')
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .map(str::to_owned)
                .collect()
        };
    }
    Ok(flow)
}

/// A hotfix in the working tree at or above `repo`: its settings, how to reach its remote
/// and how to print each step.
fn hotfix<T>(
    ctx: &NativeCallContext,
    function: &str,
    options: &rhai::Map,
    run: impl FnOnce(&crate::git::Flow, &Access, &dyn Fn(&str)) -> Result<T, crate::git::Error>,
    repo: &str,
) -> Result<T, Box<EvalAltResult>> {
    let flow = flow(function, options)?;
    let url = crate::git::remote_url(Path::new(repo), &flow)?;
    let access = access(ctx, &url)?;
    let context = Context::of(ctx)?;
    let say = |text: &str| {
        if context.shows(crate::output::Level::User) {
            context.runtime.output.user(context.host(), text);
        }
    };
    Ok(run(&flow, &access, &say)?)
}

/// Under `--dry-run`, says what a hotfix task would do (`what`, given its settings) and
/// returns true: it changes nothing, and fetches nothing.
fn dry_run(
    ctx: &NativeCallContext,
    function: &str,
    options: &rhai::Map,
    what: impl FnOnce(&crate::git::Flow) -> String,
) -> Result<bool, Box<EvalAltResult>> {
    let flow = flow(function, options)?;
    let context = Context::of(ctx)?;
    if !context.runtime.dry_run() {
        return Ok(false);
    }
    if context.shows(crate::output::Level::User) {
        let text = format!("dry run: {}", what(&flow));
        context.runtime.output.user(context.host(), &text);
    }
    Ok(true)
}

#[export_module]
pub(crate) mod git_api {
    use std::path::Path;

    use rhai::{Array, EvalAltResult, Map, NativeCallContext};

    use crate::git::{self, Selection};
    use crate::script::api::check_options;

    use super::{access, dry_run, hotfix, local_source};

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
    /// let commit = git::archive(".", "v3.0.1", "build/app-v3.0.1.tar.gz");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn archive(repo: &str, reference: &str, out: &str) -> Result<String, Box<EvalAltResult>> {
        Ok(git::archive(repo, reference, Path::new(out))?)
    }

    /// Builds the archive of a ref to upload in a deploy, once per run and commit, in a
    /// directory of this run that only you can read (removed when the run ends); returns
    /// `#{ path, sha256, commit }`, the sha256 being that of the bytes written, for the host
    /// to check before it unpacks them. A URL is read through its mirror (see `git::mirror`).
    ///
    /// ```rhai
    /// let archive = git::release_archive(".", "v3.0.1");
    /// put(archive.path, "/srv/app/upload.tar.gz");
    /// run(`echo '${archive.sha256}  /srv/app/upload.tar.gz' | sha256sum -c`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn release_archive(
        ctx: NativeCallContext,
        repo: &str,
        reference: &str,
    ) -> Result<Map, Box<EvalAltResult>> {
        let source = local_source(&ctx, repo)?;
        let context = crate::script::context::Context::of(&ctx)?;
        let commit = git::resolve(&source, reference, &git::Access::default())?;
        let archive = context.runtime.scratch.archive(&source, &commit, |path| {
            git::release_archive(&source, &commit, path)
        })?;
        Ok(Map::from_iter([
            (
                "path".into(),
                archive.path.to_string_lossy().into_owned().into(),
            ),
            ("sha256".into(), archive.sha256.clone().into()),
            ("commit".into(), archive.commit.clone().into()),
        ]))
    }

    /// The local repository to read `repo` from: a local path as it is; for a URL
    /// (`ssh://`, `https://`, `file://` or `git@host:path`), a bare mirror kept under
    /// `~/.cache/rfab/mirrors` (or `$XDG_CACHE_HOME`), fetched (every branch and tag) the
    /// first time a run asks for it.
    ///
    /// ```rhai
    /// let source = git::mirror("git@git.example.com:shop/app.git");
    /// puts(git::describe(source, "main"));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn mirror(ctx: NativeCallContext, repo: &str) -> Result<String, Box<EvalAltResult>> {
        local_source(&ctx, repo)
    }

    /// The version of what a ref names: the highest semver tag on its commit (`v3.0.1`), or
    /// `()` when no version tag is on it. The ref may be a tag, a branch or a commit id.
    ///
    /// ```rhai
    /// let version = git::version_of(".", "main");
    /// if version == () { puts("main is no release"); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn version_of(
        ctx: NativeCallContext,
        repo: &str,
        reference: &str,
    ) -> Result<Dynamic, Box<EvalAltResult>> {
        Ok(git::version_of(repo, reference, &access(&ctx, repo)?)?
            .map_or(Dynamic::UNIT, Into::into))
    }

    /// Compares two versions by semver precedence: -1, 0 or 1 (`v3.1.0-rc.1` comes before
    /// `v3.1.0`; the `v` is optional; build metadata does not count). A name that is not
    /// semver is an error.
    ///
    /// ```rhai
    /// if git::compare("v3.0.1", "v3.1.0-rc.1") < 0 { puts("an upgrade"); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn compare(a: &str, b: &str) -> Result<i64, Box<EvalAltResult>> {
        Ok(match git::compare(a, b)? {
            std::cmp::Ordering::Less => -1,
            std::cmp::Ordering::Equal => 0,
            std::cmp::Ordering::Greater => 1,
        })
    }

    /// Starts a gitflow hotfix in the working tree at or above `repo`: refuses changes to
    /// tracked files (untracked files are fine), a version that is not semver or not above
    /// the latest stable tag, and a tag `vVERSION` or branch `hotfix/VERSION` that exists
    /// here or on the remote (after fetching it); then creates `hotfix/VERSION` from
    /// `origin/main`, replaces the latest stable version with VERSION in each version file,
    /// commits "Bump version to VERSION" as the repository's git identity, and checks the
    /// branch out. Options, with their defaults: `version_files: ["config/version.ini"]`,
    /// `main: "main"`, `develop: "develop"`, `prefix: "hotfix/"`, `remote: "origin"`. SSH
    /// remotes use the ssh-agent, keys and known hosts of `run()`. Under `--dry-run` it
    /// says what it would do, and does nothing.
    ///
    /// ```rhai
    /// git::hotfix_start(".", "3.0.1", #{ version_files: ["opensky/config/version.ini"] });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn hotfix_start(
        ctx: NativeCallContext,
        repo: &str,
        version: &str,
        options: Map,
    ) -> Result<(), Box<EvalAltResult>> {
        let would = |flow: &git::Flow| {
            format!(
                "hotfix {version}: would fetch {remote}, create {prefix}{version} from {remote}/{main} with {files} bumped to {version}, and check it out",
                remote = flow.remote,
                prefix = flow.prefix,
                main = flow.main,
                files = flow.version_files.join(", "),
            )
        };
        if dry_run(&ctx, "git::hotfix_start", &options, would)? {
            return Ok(());
        }
        hotfix(
            &ctx,
            "git::hotfix_start",
            &options,
            |flow, access, say| git::hotfix_start(Path::new(repo), version, flow, access, say),
            repo,
        )
    }

    /// Finishes the gitflow hotfix checked out in the working tree at or above `repo`
    /// (`hotfix/VERSION`, clean): fetches the remote, merges the branch into main
    /// (`--no-ff`), tags that merge `vVERSION` (annotated), merges the branch into develop
    /// (conflicts only in the version files keep develop's side; any other stops it), pushes
    /// main, develop and the tag in one push, then deletes the hotfix branch on the remote
    /// and here, and checks develop out. No branch or tag moves before the remote took the
    /// push: a failure leaves the repository as it was, or says what is left to do. Returns
    /// the version. Options as for `git::hotfix_start`. Under `--dry-run` it says what it
    /// would do, does nothing, and returns `()`.
    ///
    /// ```rhai
    /// let version = git::hotfix_finish(".", #{ version_files: ["opensky/config/version.ini"] });
    /// puts(`released v${version}`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn hotfix_finish(
        ctx: NativeCallContext,
        repo: &str,
        options: Map,
    ) -> Result<Dynamic, Box<EvalAltResult>> {
        let would = |flow: &git::Flow| {
            format!(
                "hotfix: would fetch {remote}, merge the hotfix branch into {main} and tag it, merge it into {develop}, push them to {remote}, and delete the hotfix branch",
                remote = flow.remote,
                main = flow.main,
                develop = flow.develop,
            )
        };
        if dry_run(&ctx, "git::hotfix_finish", &options, would)? {
            return Ok(Dynamic::UNIT);
        }
        hotfix(
            &ctx,
            "git::hotfix_finish",
            &options,
            |flow, access, say| git::hotfix_finish(Path::new(repo), flow, access, say),
            repo,
        )
        .map(Into::into)
    }
}
