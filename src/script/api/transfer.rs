//! `put` and `get`: files to and from the host a task runs on.
// The plugin macro expects its prelude glob-imported and makes `pub` items.
#![allow(unreachable_pub, clippy::wildcard_imports)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use rhai::plugin::*;
use rhai::{Array, EvalAltResult, Map, NativeCallContext};

use crate::output::Level;
use crate::output::progress::{Shown, Unit};
use crate::script::api::remote::{command, connect, needs_host, record_unreachable};
use crate::script::api::{CommandResult, check_options};
use crate::script::context::Context;
use crate::script::scoped::ScopedSettings;
use crate::ssh::connection::Connection;
use crate::ssh::quote::{quote, quote_path};
use crate::ssh::target::Target;
use crate::ssh::transfer;

#[export_module]
pub(crate) mod transfer_api {
    use super::{Array, Map, NativeCallContext};

    /// Upload a local file or directory to the current host; returns the remote paths.
    ///
    /// Each file is written to a temporary name beside its destination and renamed over it,
    /// so nothing ever sees half a file. An upload that stops moving for `-T`, or whose host
    /// stops answering keepalives, fails. It keeps the local file's permission bits. A
    /// relative local path is taken from `lcd`, a relative remote one from `cd`; a remote
    /// path ending in `/` is a directory to put the file into. To upload text or bytes
    /// from memory (Fabric's `put(StringIO(...))`), use `put_text` or `put_blob`.
    ///
    /// ```rhai
    /// put("dist/app.tar.gz", "/srv/app/releases/");
    /// ```
    #[rhai_fn(name = "put", return_raw)]
    pub fn put(
        ctx: NativeCallContext,
        local: &str,
        remote: &str,
    ) -> Result<Array, Box<EvalAltResult>> {
        super::put(&ctx, local, remote, &Map::new())
    }

    /// `put()` with options:
    /// - `mode`: permission bits, as a number (`0o640`) or a string (`"640"`);
    /// - `use_sudo`: write the destination as root (for paths the login user cannot write);
    ///   the file is staged in a private directory made with `mktemp -d` on the host, and
    ///   root writes it into a fresh `mktemp` file beside the destination, renamed over it.
    ///
    /// ```rhai
    /// put("nginx.conf", "/etc/nginx/sites-enabled/app.conf", #{ use_sudo: true, mode: "644" });
    /// ```
    #[rhai_fn(name = "put", return_raw)]
    pub fn put_with(
        ctx: NativeCallContext,
        local: &str,
        remote: &str,
        options: Map,
    ) -> Result<Array, Box<EvalAltResult>> {
        super::put(&ctx, local, remote, &options)
    }

    /// Upload `text` as the content of a remote file, Fabric's `put(StringIO(text), remote)`;
    /// returns the remote path. Options: `mode` (default `"644"`; never the 0600 of the
    /// private file it is staged in) and `use_sudo`, as for `put`. The text goes through a
    /// file only you can read, in the run's private directory, removed once uploaded.
    ///
    /// ```rhai
    /// put_text(`upstream app { server ${env.host}:8080; }\n`, "/etc/nginx/conf.d/app.conf",
    ///     #{ use_sudo: true });
    /// put_text("secret", "/srv/app/shared/token", #{ mode: "600" });
    /// ```
    #[rhai_fn(name = "put_text", return_raw)]
    pub fn put_text_with(
        ctx: NativeCallContext,
        text: &str,
        remote: &str,
        options: Map,
    ) -> Result<Array, Box<EvalAltResult>> {
        super::put_bytes(&ctx, "put_text", text.as_bytes(), remote, &options)
    }

    /// `put_text` with the default options (mode 0644, as the login user).
    ///
    /// ```rhai
    /// put_text("v3.0.1\n", "/srv/app/VERSION");
    /// ```
    #[rhai_fn(name = "put_text", return_raw)]
    pub fn put_text(
        ctx: NativeCallContext,
        text: &str,
        remote: &str,
    ) -> Result<Array, Box<EvalAltResult>> {
        super::put_bytes(&ctx, "put_text", text.as_bytes(), remote, &Map::new())
    }

    /// Upload the bytes of a blob as the content of a remote file (binary `put_text`),
    /// with the same options.
    ///
    /// ```rhai
    /// let data = blob(4, 0xff);
    /// put_blob(data, "/srv/app/marker.bin", #{ mode: "600" });
    /// ```
    #[rhai_fn(name = "put_blob", return_raw)]
    pub fn put_blob_with(
        ctx: NativeCallContext,
        bytes: rhai::Blob,
        remote: &str,
        options: Map,
    ) -> Result<Array, Box<EvalAltResult>> {
        super::put_bytes(&ctx, "put_blob", &bytes, remote, &options)
    }

    /// `put_blob` with the default options.
    ///
    /// ```rhai
    /// put_blob(blob(2, 0x41), "/srv/app/AA");
    /// ```
    #[rhai_fn(name = "put_blob", return_raw)]
    pub fn put_blob(
        ctx: NativeCallContext,
        bytes: rhai::Blob,
        remote: &str,
    ) -> Result<Array, Box<EvalAltResult>> {
        super::put_bytes(&ctx, "put_blob", &bytes, remote, &Map::new())
    }

    /// Download a file from the current host; returns the local paths.
    ///
    /// `{host}` in the local path is replaced with the host's name (`{host_string}` with the
    /// whole `user@host:port`), so one `get` over many hosts keeps each host's copy; a local
    /// path ending in `/` is a directory.
    ///
    /// ```rhai
    /// get("/var/log/app.log", "logs/{host}/app.log");
    /// ```
    #[rhai_fn(name = "get", return_raw)]
    pub fn get(
        ctx: NativeCallContext,
        remote: &str,
        local: &str,
    ) -> Result<Array, Box<EvalAltResult>> {
        super::get(&ctx, remote, local)
    }
}

/// Uploads at least this large show a progress bar on a terminal.
const BIG_TRANSFER: u64 = 16 << 20;

fn put(
    ctx: &NativeCallContext,
    local: &str,
    remote: &str,
    options: &Map,
) -> Result<Array, Box<EvalAltResult>> {
    check_options("put", options, &["mode", "use_sudo"])?;
    let context = Context::of(ctx)?;
    let target = needs_host(&context, "put")?;
    let settings = context.settings();
    let local_path = in_dir(&settings.lcwd, local);
    let remote_base = in_remote_dir(&settings.cwd, remote);
    let files = local_files(&local_path)?;
    let mode = match options.get("mode") {
        Some(mode) => Some(parse_mode(mode).ok_or("put(): `mode` must be like 0o644 or \"644\"")?),
        None => None,
    };
    let use_sudo = context.flag(options, "use_sudo");
    let mut placed = Array::new();
    let limit = context.ssh()?.command_timeout;
    let connection = if context.runtime.dry_run() {
        None
    } else {
        let what = format!("put: {} -> {remote_base}", local_path.display());
        Some(connect(&context, &target).inspect_err(|e| record_unreachable(&context, &what, e))?)
    };
    let total: u64 = files
        .iter()
        .filter_map(|(f, _)| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let bar = if total >= BIG_TRANSFER && !context.runtime.dry_run() {
        context.runtime.output.progress(
            total,
            &Unit::Bytes,
            &format!("[{}] put {}", target.host_string, local_path.display()),
        )
    } else {
        Shown::none()
    };
    for (file, relative) in files {
        let destination = destination(&remote_base, &local_path, &relative);
        if context.shows(Level::Running) {
            context.runtime.output.command(
                &target.host_string,
                "put",
                &format!("{} -> {destination}", file.display()),
            );
        }
        if let Some(connection) = &connection {
            let mode = mode.unwrap_or_else(|| local_mode(&file));
            let what = format!("put: {} -> {destination}", file.display());
            let fail = |failed| {
                Box::new(transfer_failed(
                    ctx, &context, &target, &what, &file, failed,
                ))
            };
            if use_sudo {
                put_with_sudo(ctx, &context, connection, &file, &destination, mode, &|n| {
                    bar.advance(n);
                })?;
            } else {
                let conn = connection.lock().unwrap_or_else(PoisonError::into_inner);
                transfer::upload(&conn, &file, &destination, mode, limit, &|n| bar.advance(n))
                    .map_err(fail)?;
            }
        }
        placed.push(destination.into());
    }
    Ok(placed)
}

/// `put_text` and `put_blob`: `bytes` staged in a private local file, uploaded to `remote`.
fn put_bytes(
    ctx: &NativeCallContext,
    function: &str,
    bytes: &[u8],
    remote: &str,
    options: &Map,
) -> Result<Array, Box<EvalAltResult>> {
    check_options(function, options, &["mode", "use_sudo"])?;
    let context = Context::of(ctx)?;
    let target = needs_host(&context, function)?;
    let remote = in_remote_dir(&context.settings().cwd, remote);
    if remote.ends_with('/') {
        return Err(format!(
            "{function}(): `{remote}` is a directory; give the path of the file to write"
        )
        .into());
    }
    let mode = mode_option(function, options)?.unwrap_or(0o644);
    let shown = format!("<{} bytes>", bytes.len());
    let staged = context.runtime.scratch.file(bytes)?;
    let upload = Upload {
        file: staged.path(),
        shown: &shown,
        destination: &remote,
        mode,
        use_sudo: crate::script::env::truthy(options.get("use_sudo").unwrap_or(&Dynamic::FALSE)),
    };
    upload_one(ctx, &context, &target, &upload)?;
    Ok(vec![remote.into()])
}

/// One local file to upload, as `upload_one` takes it.
pub(super) struct Upload<'a> {
    pub(super) file: &'a Path,
    /// How output names the local side: a template's name rather than its rendering.
    pub(super) shown: &'a str,
    pub(super) destination: &'a str,
    pub(super) mode: u32,
    pub(super) use_sudo: bool,
}

/// Uploads one file, printing `[HOST] put: SHOWN -> DESTINATION` (nothing is sent under
/// `--dry-run`): for the functions that stage what they upload.
pub(super) fn upload_one(
    ctx: &NativeCallContext,
    context: &Context,
    target: &Arc<Target>,
    upload: &Upload,
) -> Result<(), Box<EvalAltResult>> {
    if context.shows(Level::Running) {
        context.runtime.output.command(
            &target.host_string,
            "put",
            &format!("{} -> {}", upload.shown, upload.destination),
        );
    }
    if context.runtime.dry_run() {
        return Ok(());
    }
    let what = format!("put: {} -> {}", upload.shown, upload.destination);
    let connection =
        connect(context, target).inspect_err(|e| record_unreachable(context, &what, e))?;
    let limit = context.runtime.ssh.command_timeout;
    if upload.use_sudo {
        return put_with_sudo(
            ctx,
            context,
            &connection,
            upload.file,
            upload.destination,
            upload.mode,
            &|_| {},
        );
    }
    let conn = connection.lock().unwrap_or_else(PoisonError::into_inner);
    transfer::upload(
        &conn,
        upload.file,
        upload.destination,
        upload.mode,
        limit,
        &|_| {},
    )
    .map_err(|failed| {
        drop(conn);
        let done = format!("the upload of {}", upload.shown);
        Box::new(transfer_error(
            ctx, context, target, "put", &what, &done, failed,
        ))
    })
}

/// The `mode` option: permission bits as a number (`0o640`) or a string (`"640"`).
pub(super) fn mode_option(
    function: &str,
    options: &Map,
) -> Result<Option<u32>, Box<EvalAltResult>> {
    match options.get("mode") {
        Some(mode) => Ok(Some(parse_mode(mode).ok_or_else(|| {
            format!("{function}(): `mode` must be like 0o644 or \"644\"")
        })?)),
        None => Ok(None),
    }
}

fn get(ctx: &NativeCallContext, remote: &str, local: &str) -> Result<Array, Box<EvalAltResult>> {
    let context = Context::of(ctx)?;
    let target = needs_host(&context, "get")?;
    let settings = context.settings();
    let remote = in_remote_dir(&settings.cwd, remote);
    let mut local = in_dir(
        &settings.lcwd,
        &local
            .replace("{host_string}", &target.host_string)
            .replace("{host}", &target.host.name),
    );
    if local.is_dir() || local.to_string_lossy().ends_with('/') {
        local = local.join(Path::new(&remote).file_name().unwrap_or_default());
    }
    if context.shows(Level::Running) {
        context.runtime.output.command(
            &target.host_string,
            "get",
            &format!("{remote} -> {}", local.display()),
        );
    }
    if !context.runtime.dry_run() {
        let what = format!("get: {remote} -> {}", local.display());
        let connection =
            connect(&context, &target).inspect_err(|e| record_unreachable(&context, &what, e))?;
        let conn = connection.lock().unwrap_or_else(PoisonError::into_inner);
        let limit = context.ssh()?.command_timeout;
        transfer::download(&conn, &remote, &local, limit, &|_| {}).map_err(|failed| {
            drop(conn);
            let done = format!("the download of `{remote}`");
            Box::new(transfer_error(
                ctx, &context, &target, "get", &what, &done, failed,
            ))
        })?;
    }
    Ok(vec![local.display().to_string().into()])
}

/// `put(.., #{ use_sudo: true })`: the file goes as the login user into a directory made
/// for it with `mktemp -d` (private, with a name no one can guess, so nothing can be planted
/// in it), then root copies it into a fresh `mktemp` file beside the destination and
/// renames that over it. Nothing is ever written through a path someone else could have
/// prepared.
fn put_with_sudo(
    ctx: &NativeCallContext,
    context: &Context,
    connection: &Arc<Mutex<Connection>>,
    file: &Path,
    destination: &str,
    mode: u32,
    sent: &dyn Fn(u64),
) -> Result<(), Box<EvalAltResult>> {
    let target = needs_host(context, "put")?;
    let what = format!("put: {} -> {destination}", file.display());
    let staging = outside_scope(context, || {
        quiet_command(
            ctx,
            "mktemp -d \"${TMPDIR:-/tmp}/rfab-put.XXXXXXXXXX\"",
            false,
        )
    })?;
    // The last line: a login shell's profile may print before it.
    let staging_dir = match staging.stdout.lines().last().map(str::trim) {
        Some(dir) if staging.ok() && dir.starts_with('/') => dir.to_owned(),
        _ => {
            return Err(format!(
                "put(): cannot make a staging directory on `{}` with `mktemp -d`: {}; \
                 check that /tmp (or $TMPDIR) is writable there",
                target.host_string, staging.stderr
            )
            .into());
        }
    };
    let staged = format!("{staging_dir}/upload");
    let conn = connection.lock().unwrap_or_else(PoisonError::into_inner);
    let limit = context.ssh()?.command_timeout;
    if let Err(failed) = transfer::upload(&conn, file, &staged, 0o600, limit, sent) {
        drop(conn);
        let broken = matches!(failed, transfer::Failed::Connection(_));
        let error = transfer_failed(ctx, context, &target, &what, file, failed);
        if !broken {
            let _ = outside_scope(context, || {
                quiet_command(ctx, &format!("rm -rf -- {}", quote(&staging_dir)), false)
            });
        }
        return Err(Box::new(error));
    }
    drop(conn);
    let install = format!(
        "t=; d=\"$(dirname -- {dest})\" && mkdir -p -- \"$d\" && t=\"$(mktemp -- \"$d/.rfab-put.XXXXXXXXXX\")\" \
         && cat -- {staged} > \"$t\" && chmod {mode:o} \"$t\" && mv -fT -- \"$t\" {dest}; \
         status=$?; [ -z \"$t\" ] || rm -f -- \"$t\"; rm -rf -- {dir}; exit $status",
        dest = quote_path(destination),
        staged = quote(&staged),
        dir = quote(&staging_dir),
    );
    let installed = outside_scope(context, || quiet_command(ctx, &install, true))?;
    if installed.ok() {
        Ok(())
    } else {
        Err(format!(
            "put(): cannot install `{destination}` with sudo: {}",
            installed.stderr
        )
        .into())
    }
}

/// Runs `f` outside any `cd`, `prefix` and `shell_env`: its paths are absolute already.
pub(super) fn outside_scope<T>(context: &Context, f: impl FnOnce() -> T) -> T {
    let saved = context.settings();
    context.set_settings(ScopedSettings {
        cwd: Vec::new(),
        prefixes: Vec::new(),
        shell_env: Vec::new(),
        ..saved.clone()
    });
    let result = f();
    context.set_settings(saved);
    result
}

pub(super) fn quiet_command(
    ctx: &NativeCallContext,
    line: &str,
    sudo: bool,
) -> Result<CommandResult, Box<EvalAltResult>> {
    command(
        ctx,
        line,
        &Map::from_iter([("quiet".into(), Dynamic::TRUE)]),
        sudo,
    )
}

/// The script error for a failed upload of `file`.
fn transfer_failed(
    ctx: &NativeCallContext,
    context: &Context,
    target: &Target,
    what: &str,
    file: &Path,
    failed: transfer::Failed,
) -> EvalAltResult {
    let done = format!("the upload of `{}`", file.display());
    transfer_error(ctx, context, target, "put", what, &done, failed)
}

/// The script error for a failed transfer; a broken connection is dropped (the next
/// operation opens a new one) and recorded as lost work.
fn transfer_error(
    ctx: &NativeCallContext,
    context: &Context,
    target: &Target,
    function: &str,
    what: &str,
    done: &str,
    failed: transfer::Failed,
) -> EvalAltResult {
    let message = match failed {
        transfer::Failed::Interrupted => {
            return EvalAltResult::ErrorTerminated(Dynamic::UNIT, ctx.call_position());
        }
        transfer::Failed::Transfer(message) => format!("{function}(): {message}"),
        transfer::Failed::Connection(stop) => {
            context.runtime.connections.forget(target);
            let message = format!("{function}(): {}", stop.describe(&target.host_string, done));
            context.record_lost(what.to_owned(), message.clone(), false);
            message
        }
    };
    EvalAltResult::ErrorRuntime(message.into(), ctx.call_position())
}

fn parse_mode(value: &Dynamic) -> Option<u32> {
    if let Ok(n) = value.as_int() {
        return u32::try_from(n).ok().filter(|m| *m <= 0o7777);
    }
    u32::from_str_radix(
        value.clone().into_string().ok()?.trim_start_matches("0o"),
        8,
    )
    .ok()
    .filter(|m| *m <= 0o7777)
}

pub(super) fn local_mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).map_or(0o644, |m| m.permissions().mode() & 0o7777)
}

/// `path` relative to the `lcd` directories, when it is relative.
pub(super) fn in_dir(dirs: &[String], path: &str) -> PathBuf {
    dirs.iter()
        .fold(PathBuf::new(), |base, dir| base.join(dir))
        .join(path)
}

/// `path` relative to the `cd` directories, when it is relative.
pub(super) fn in_remote_dir(dirs: &[String], path: &str) -> String {
    if path.starts_with('/') || path.starts_with('~') {
        return path.to_owned();
    }
    let base = dirs.iter().fold(String::new(), |base, dir| {
        if dir.starts_with('/') || dir.starts_with('~') || base.is_empty() {
            dir.clone()
        } else {
            format!("{base}/{dir}")
        }
    });
    if base.is_empty() {
        path.to_owned()
    } else {
        format!("{base}/{path}")
    }
}

/// The files to upload, with their paths relative to `root` (empty for a single file).
fn local_files(root: &Path) -> Result<Vec<(PathBuf, PathBuf)>, Box<EvalAltResult>> {
    let meta = std::fs::metadata(root)
        .map_err(|e| format!("put(): cannot read `{}`: {e}", root.display()))?;
    if !meta.is_dir() {
        return Ok(vec![(root.to_path_buf(), PathBuf::new())]);
    }
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .map_err(|e| format!("put(): cannot read `{}`: {e}", dir.display()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path
                    .strip_prefix(root)
                    .map(Path::to_path_buf)
                    .unwrap_or_default();
                files.push((path, relative));
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Where one uploaded file goes: into a directory when the remote path ends in `/` or
/// when a directory is uploaded.
fn destination(remote: &str, local_root: &Path, relative: &Path) -> String {
    let name = local_root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match (relative.as_os_str().is_empty(), remote.ends_with('/')) {
        (true, true) => format!("{remote}{name}"),
        (true, false) => remote.to_owned(),
        (false, _) => format!("{}/{}", remote.trim_end_matches('/'), relative.display()),
    }
}
