//! Files and paths on this machine, and its environment: Python's `open`, `os.path` and
//! `os.environ`. Relative paths are taken from `lcd`, as `put` and `local` take them.
// The plugin macro expects its prelude glob-imported and makes `pub` items.
#![allow(unreachable_pub, clippy::wildcard_imports)]

use std::path::{Path, PathBuf};

use rhai::plugin::*;
use rhai::{Array, EvalAltResult, NativeCallContext};

use crate::output::Level;
use crate::script::context::Context;

#[export_module]
pub(crate) mod local_fs_api {
    use super::{Array, NativeCallContext};

    /// The text of a local file (UTF-8).
    ///
    /// ```rhai
    /// let version = read_file("config/version.ini");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn read_file(ctx: NativeCallContext, path: &str) -> Result<String, Box<EvalAltResult>> {
        let path = super::local_path(&ctx, path)?;
        std::fs::read_to_string(&path)
            .map_err(|e| format!("read_file(): cannot read `{}`: {e}", path.display()).into())
    }

    /// Write `text` to a local file, replacing it (its directory must exist). Under
    /// `--dry-run` it says what it would write, and writes nothing.
    ///
    /// ```rhai
    /// write_file("build/VERSION", "v3.0.1\n");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn write_file(
        ctx: NativeCallContext,
        path: &str,
        text: &str,
    ) -> Result<(), Box<EvalAltResult>> {
        super::write(&ctx, "write_file", path, text, false)
    }

    /// Add `text` at the end of a local file, making it if needed (`--dry-run`: nothing).
    ///
    /// ```rhai
    /// append_file("deploys.log", `${env.host} v3.0.1\n`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn append_file(
        ctx: NativeCallContext,
        path: &str,
        text: &str,
    ) -> Result<(), Box<EvalAltResult>> {
        super::write(&ctx, "append_file", path, text, true)
    }

    /// Whether a local path exists (Python's `os.path.exists`); a dangling link does not.
    ///
    /// ```rhai
    /// if !local_exists("dist/app.tar.gz") { local("make dist"); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn local_exists(ctx: NativeCallContext, path: &str) -> Result<bool, Box<EvalAltResult>> {
        Ok(super::local_path(&ctx, path)?.exists())
    }

    /// Whether a local path is a directory (Python's `os.path.isdir`).
    ///
    /// ```rhai
    /// if local_is_dir("static") { put("static", "/srv/app/static"); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn local_is_dir(ctx: NativeCallContext, path: &str) -> Result<bool, Box<EvalAltResult>> {
        Ok(super::local_path(&ctx, path)?.is_dir())
    }

    /// The names in a local directory, sorted (Python's `sorted(os.listdir(path))`).
    ///
    /// ```rhai
    /// for name in list_dir("migrations") { print(name); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn list_dir(ctx: NativeCallContext, path: &str) -> Result<Array, Box<EvalAltResult>> {
        let path = super::local_path(&ctx, path)?;
        let unreadable =
            |e: std::io::Error| format!("list_dir(): cannot read `{}`: {e}", path.display());
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&path).map_err(unreadable)? {
            names.push(
                entry
                    .map_err(unreadable)?
                    .file_name()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
        names.sort();
        Ok(names.into_iter().map(Into::into).collect())
    }

    /// Paths joined with `/`, as Python's `os.path.join`: a part starting with `/` starts
    /// the path again.
    ///
    /// ```rhai
    /// let conf = path_join(["/etc", "nginx", "sites-enabled", "app.conf"]);
    /// ```
    pub fn path_join(parts: Array) -> String {
        let joined = parts
            .iter()
            .fold(PathBuf::new(), |path, part| path.join(part.to_string()));
        joined.to_string_lossy().into_owned()
    }

    /// Two paths joined with `/` (see `path_join` for any number).
    ///
    /// ```rhai
    /// let current = path_join(env.deploy_to, "current");
    /// ```
    #[rhai_fn(name = "path_join")]
    pub fn path_join2(first: &str, second: &str) -> String {
        Path::new(first).join(second).to_string_lossy().into_owned()
    }

    /// The last part of a path (Python's `os.path.basename`: `""` after a final `/`).
    ///
    /// ```rhai
    /// print(basename("/srv/app/releases/v3.0.1"));   // v3.0.1
    /// ```
    pub fn basename(path: &str) -> String {
        path.rsplit_once('/')
            .map_or(path, |(_, name)| name)
            .to_owned()
    }

    /// All but the last part of a path (Python's `os.path.dirname`).
    ///
    /// ```rhai
    /// print(dirname("/srv/app/current"));   // /srv/app
    /// ```
    pub fn dirname(path: &str) -> String {
        let head = &path[..path.rfind('/').map_or(0, |i| i + 1)];
        match head.trim_end_matches('/') {
            "" => head.to_owned(),
            trimmed => trimmed.to_owned(),
        }
    }

    /// An environment variable of this machine, or `()` when it is not set (Python's
    /// `os.environ.get`).
    ///
    /// ```rhai
    /// let who = getenv("USER");
    /// if getenv("CI") != () { print("running in CI"); }
    /// ```
    pub fn getenv(name: &str) -> Dynamic {
        std::env::var(name).map_or(Dynamic::UNIT, Into::into)
    }

    /// An environment variable of this machine, or `default` when it is not set.
    ///
    /// ```rhai
    /// let branch = getenv("BRANCH", "main");
    /// ```
    #[rhai_fn(name = "getenv")]
    pub fn getenv_or(name: &str, default: Dynamic) -> Dynamic {
        std::env::var(name).map_or(default, Into::into)
    }
}

/// `path` from the `lcd` directories in force, when it is relative.
fn local_path(ctx: &NativeCallContext, path: &str) -> Result<PathBuf, Box<EvalAltResult>> {
    let context = Context::of(ctx)?;
    Ok(context
        .settings()
        .lcwd
        .iter()
        .fold(PathBuf::new(), |base, dir| base.join(dir))
        .join(path))
}

fn write(
    ctx: &NativeCallContext,
    function: &str,
    path: &str,
    text: &str,
    append: bool,
) -> Result<(), Box<EvalAltResult>> {
    let context = Context::of(ctx)?;
    let path = local_path(ctx, path)?;
    if context.runtime.dry_run() {
        if context.shows(Level::Running) {
            context.runtime.output.command(
                "localhost",
                function,
                &format!("{} bytes -> {}", text.len(), path.display()),
            );
        }
        return Ok(());
    }
    let written = if append {
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .and_then(|mut file| std::io::Write::write_all(&mut file, text.as_bytes()))
    } else {
        std::fs::write(&path, text)
    };
    written.map_err(|e| format!("{function}(): cannot write `{}`: {e}", path.display()).into())
}
