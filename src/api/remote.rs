//! `run`, `sudo`, `put`, `get`: working on the host a task runs on.
// The plugin macro expects its prelude glob-imported and makes `pub` items.
#![allow(unreachable_pub, clippy::wildcard_imports)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rhai::plugin::*;
use rhai::{Array, EvalAltResult, Map, NativeCallContext};

use crate::api::{CommandResult, check_options};
use crate::connection::Connection;
use crate::context::{Context, Target};
use crate::output::Level;
use crate::progress::{Shown, Unit};
use crate::remote_command::{self, Failure, Request, SUDO_PROMPT};
use crate::scoped::quote;
use crate::transfer;

const RUN_OPTIONS: [&str; 5] = ["warn_only", "quiet", "pty", "timeout", "shell"];
const SUDO_OPTIONS: [&str; 6] = ["warn_only", "quiet", "pty", "timeout", "shell", "user"];

/// Uploads at least this large show a progress bar on a terminal.
const BIG_TRANSFER: u64 = 16 << 20;

/// Fabric's default shell.
const DEFAULT_SHELL: &str = "/bin/bash -l -c";

/// A host that could not be reached; `--skip-bad-hosts` skips it instead of failing.
#[derive(Clone, Debug)]
pub(crate) struct Unreachable(pub(crate) String);

#[export_module]
pub(crate) mod remote_api {
    use super::{Array, CommandResult, Map, NativeCallContext};

    /// Run a shell command on the current host and return its result.
    ///
    /// Prints `[HOST] run: COMMAND`, then each output line as it arrives (`[HOST] out: ...`,
    /// `[HOST] err: ...`). The command runs in `env.shell` (default `/bin/bash -l -c`),
    /// inside any `cd`, `prefix` and `shell_env` in force. A non-zero exit aborts the
    /// task unless `warn_only` is set (here, in `with()`, or with `-w`).
    ///
    /// ```rhai
    /// run("uptime");
    /// let release = run("readlink /srv/app/current").stdout;
    /// ```
    #[rhai_fn(name = "run", return_raw)]
    pub fn run(ctx: NativeCallContext, command: &str) -> Result<CommandResult, Box<EvalAltResult>> {
        super::command(&ctx, command, &Map::new(), false)
    }

    /// `run()` with options:
    /// - `warn_only`: a non-zero exit is a warning; the result says `failed`;
    /// - `quiet`: print nothing, and imply `warn_only`;
    /// - `pty`: run on a pseudo-terminal (stderr then arrives on stdout);
    /// - `timeout`: seconds before the command is stopped and fails (default `-T`);
    /// - `shell`: the shell to run it with, e.g. `"/bin/sh -c"`.
    ///
    /// ```rhai
    /// let r = run("systemctl is-active app", #{ warn_only: true });
    /// if r.failed { run("systemctl start app", #{ timeout: 30 }); }
    /// ```
    #[rhai_fn(name = "run", return_raw)]
    pub fn run_with(
        ctx: NativeCallContext,
        command: &str,
        options: Map,
    ) -> Result<CommandResult, Box<EvalAltResult>> {
        super::command(&ctx, command, &options, false)
    }

    /// Run a command as root (or another user) through `sudo` on the current host.
    ///
    /// When sudo asks for a password, rfab answers with `--sudo-password`, or the password
    /// asked once on the terminal; it is never printed or logged.
    ///
    /// ```rhai
    /// sudo("systemctl reload nginx");
    /// ```
    #[rhai_fn(name = "sudo", return_raw)]
    pub fn sudo(
        ctx: NativeCallContext,
        command: &str,
    ) -> Result<CommandResult, Box<EvalAltResult>> {
        super::command(&ctx, command, &Map::new(), true)
    }

    /// `sudo()` with the options of `run()`, and `user` to run as someone other than root.
    ///
    /// ```rhai
    /// sudo("psql -c 'select 1'", #{ user: "postgres" });
    /// ```
    #[rhai_fn(name = "sudo", return_raw)]
    pub fn sudo_with(
        ctx: NativeCallContext,
        command: &str,
        options: Map,
    ) -> Result<CommandResult, Box<EvalAltResult>> {
        super::command(&ctx, command, &options, true)
    }

    /// Upload a local file or directory to the current host; returns the remote paths.
    ///
    /// Each file is written to a temporary name beside its destination and renamed over it,
    /// so nothing ever sees half a file. It keeps the local file's permission bits. A
    /// relative local path is taken from `lcd`, a relative remote one from `cd`; a remote
    /// path ending in `/` is a directory to put the file into.
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
    /// - `use_sudo`: write the destination as root (for paths the login user cannot write).
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

    /// Download a file from the current host; returns the local paths.
    ///
    /// `{host}` in the local path is replaced with the host string, so one `get` over many
    /// hosts keeps each host's copy; a local path ending in `/` is a directory.
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

fn command(
    ctx: &NativeCallContext,
    command: &str,
    options: &Map,
    sudo: bool,
) -> Result<CommandResult, Box<EvalAltResult>> {
    let name = if sudo { "sudo" } else { "run" };
    check_options(
        name,
        options,
        if sudo { &SUDO_OPTIONS } else { &RUN_OPTIONS },
    )?;
    let context = Context::of(ctx)?;
    let target = needs_host(&context, name)?;
    let quiet = context.flag(options, "quiet");
    let warn_only = quiet || context.flag(options, "warn_only");
    if !quiet && context.shows(Level::Running) {
        context
            .runtime
            .output
            .command(&target.host_string, name, command);
    }
    if context.runtime.ssh.dry_run {
        return Ok(CommandResult {
            command: command.into(),
            dry: true,
            ..CommandResult::default()
        });
    }
    let line = command_line(&context, command, options, sudo)?;
    let timeout = match context.option(options, "timeout") {
        Some(t) => Some(
            seconds(&t)
                .ok_or_else(|| format!("{name}(): `timeout` must be a number of seconds"))?,
        ),
        None => context.runtime.ssh.command_timeout,
    };
    let connection = connect(&context, &target)?;
    let connection = connection.lock().unwrap_or_else(PoisonError::into_inner);
    let who = format!("{}@{}", target.user, target.host.name);
    let ask = || {
        context
            .runtime
            .credentials
            .sudo_password(&who, !context.parallel)
    };
    let request = Request {
        command: line,
        timeout,
        sudo_password: sudo.then_some(&ask as &dyn Fn() -> Option<String>),
        pty: context.flag(options, "pty"),
    };
    let shows = (
        !quiet && context.shows(Level::Stdout),
        !quiet && context.shows(Level::Stderr),
    );
    let output = &context.runtime.output;
    let mut each = |is_err: bool, text: &str| {
        if (is_err && shows.1) || (!is_err && shows.0) {
            output.line(&target.host_string, is_err, text);
        }
    };
    let completed = remote_command::run(&connection, &request, &mut each)
        .map_err(|failure| Box::new(failed(ctx, &context, &target, name, command, failure)))?;
    output.result(&target.host_string, command, completed.code);
    let result = CommandResult {
        command: command.into(),
        stdout: completed.stdout,
        stderr: completed.stderr,
        code: completed.code,
        dry: false,
    };
    if result.ok() {
        return Ok(result);
    }
    let host = &target.host_string;
    let message = match &completed.signal {
        Some(signal) => {
            format!("{name}() failed on `{host}`: `{command}` was killed by signal {signal}")
        }
        None => format!(
            "{name}() failed on `{host}`: `{command}` exited with status {}",
            result.code
        ),
    };
    if warn_only {
        if !quiet && context.shows(Level::Warnings) {
            output.warning(Some(host), &message);
        }
        return Ok(result);
    }
    Err(message.into())
}

/// `sudo -S -p PROMPT [-u USER] -H -- /bin/bash -l -c '<cd, prefixes> && COMMAND'`
fn command_line(
    context: &Context,
    command: &str,
    options: &Map,
    sudo: bool,
) -> Result<String, Box<EvalAltResult>> {
    let shell = match context.option(options, "shell") {
        Some(shell) => shell
            .into_string()
            .map_err(|_| "`shell` must be a string")?,
        None => DEFAULT_SHELL.into(),
    };
    let line = format!("{shell} {}", quote(&context.settings().wrap(command)));
    if !sudo {
        return Ok(line);
    }
    // Not `option(.., "user")`: that would fall back to `env.user`, the login user.
    let user = match options
        .get("user")
        .cloned()
        .or_else(|| context.option(&Map::new(), "sudo_user"))
    {
        Some(user) => format!("-u {} ", quote(&user.to_string())),
        None => String::new(),
    };
    Ok(format!(
        "sudo -S -p {} {user}-H -- {line}",
        quote(SUDO_PROMPT)
    ))
}

/// The script error for a command that could not complete.
fn failed(
    ctx: &NativeCallContext,
    context: &Context,
    target: &Target,
    name: &str,
    command: &str,
    failure: Failure,
) -> EvalAltResult {
    let host = &target.host_string;
    let message = match failure {
        Failure::Interrupted => {
            return EvalAltResult::ErrorTerminated(Dynamic::UNIT, ctx.call_position());
        }
        Failure::Ssh(e) => {
            return unreachable(
                ctx,
                format!("lost the connection to `{host}` while running `{command}`: {e}"),
            );
        }
        Failure::TimedOut(limit) => {
            format!(
                "{name}() timed out after {}s on `{host}`: `{command}` was stopped",
                limit.as_secs_f64()
            )
        }
        Failure::SudoPassword(why) => {
            context.runtime.credentials.forget_sudo_password();
            format!(
                "{why} on `{host}` for `{command}`; give it with --sudo-password, or run rfab on a terminal"
            )
        }
    };
    EvalAltResult::ErrorRuntime(message.into(), ctx.call_position())
}

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
    let files = local_files(&local_path).map_err(|e| format!("put(): {e}"))?;
    let mode = match options.get("mode") {
        Some(mode) => Some(parse_mode(mode).ok_or("put(): `mode` must be like 0o644 or \"644\"")?),
        None => None,
    };
    let use_sudo = context.flag(options, "use_sudo");
    let mut placed = Array::new();
    let connection = if context.runtime.ssh.dry_run {
        None
    } else {
        Some(connect(&context, &target)?)
    };
    let total: u64 = files
        .iter()
        .filter_map(|(f, _)| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let bar = if total >= BIG_TRANSFER && !context.runtime.ssh.dry_run && !context.parallel {
        context.runtime.output.progress(
            total,
            &Unit::Bytes,
            &format!("put {}", local_path.display()),
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
            let conn = connection.lock().unwrap_or_else(PoisonError::into_inner);
            if use_sudo {
                let staging = format!("/tmp/.rfab-upload-{}-{}", std::process::id(), placed.len());
                transfer::upload(&conn, &file, &staging, 0o600, &|n| bar.advance(n))
                    .map_err(|e| format!("put(): {e}"))?;
                drop(conn);
                let dest = quote(&destination);
                let temp = quote(&format!("{destination}.rfab-{}", std::process::id()));
                let install = format!(
                    "mkdir -p -- \"$(dirname -- {dest})\" && cp -- {staging} {temp} && chmod {mode:o} {temp} && mv -f -- {temp} {dest}; \
                     status=$?; rm -f -- {staging} {temp}; exit $status",
                    staging = quote(&staging),
                );
                command(
                    ctx,
                    &install,
                    &Map::from_iter([("quiet".into(), Dynamic::TRUE)]),
                    true,
                )
                .and_then(|r| {
                    if r.ok() {
                        Ok(())
                    } else {
                        Err(format!(
                            "put(): cannot install `{destination}` with sudo: {}",
                            r.stderr
                        )
                        .into())
                    }
                })?;
            } else {
                transfer::upload(&conn, &file, &destination, mode, &|n| bar.advance(n))
                    .map_err(|e| format!("put(): {e}"))?;
            }
        }
        placed.push(destination.into());
    }
    Ok(placed)
}

fn get(ctx: &NativeCallContext, remote: &str, local: &str) -> Result<Array, Box<EvalAltResult>> {
    let context = Context::of(ctx)?;
    let target = needs_host(&context, "get")?;
    let settings = context.settings();
    let remote = in_remote_dir(&settings.cwd, remote);
    let mut local = in_dir(
        &settings.lcwd,
        &local.replace("{host}", &target.host_string),
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
    if !context.runtime.ssh.dry_run {
        let connection = connect(&context, &target)?;
        let conn = connection.lock().unwrap_or_else(PoisonError::into_inner);
        transfer::download(&conn, &remote, &local, &|_| {}).map_err(|e| format!("get(): {e}"))?;
    }
    Ok(vec![local.display().to_string().into()])
}

fn needs_host(context: &Context, function: &str) -> Result<Arc<Target>, Box<EvalAltResult>> {
    context.target.clone().ok_or_else(|| {
        format!(
            "{function}() needs a host, and this task runs on none: give it hosts \
             (-H, `env.hosts`, `env.roles`, @hosts, or TASK:hosts=a;b), or use local()"
        )
        .into()
    })
}

fn connect(
    context: &Context,
    target: &Target,
) -> Result<Arc<Mutex<Connection>>, Box<EvalAltResult>> {
    let runtime = &context.runtime;
    runtime
        .connections
        .get(
            target,
            &runtime.ssh,
            &runtime.credentials,
            &runtime.output,
            !context.parallel,
        )
        .map_err(|message| {
            Box::new(EvalAltResult::ErrorRuntime(
                Dynamic::from(Unreachable(message)),
                rhai::Position::NONE,
            ))
        })
}

fn unreachable(ctx: &NativeCallContext, message: String) -> EvalAltResult {
    EvalAltResult::ErrorRuntime(Dynamic::from(Unreachable(message)), ctx.call_position())
}

/// The message of an `Unreachable` at the root of `error`, if a host could not be reached.
pub(crate) fn unreachable_message(error: &EvalAltResult) -> Option<String> {
    match error.unwrap_inner() {
        EvalAltResult::ErrorRuntime(value, _) => {
            value.clone().try_cast::<Unreachable>().map(|u| u.0)
        }
        _ => None,
    }
}

fn seconds(value: &Dynamic) -> Option<Duration> {
    let secs = value.as_float().ok().or_else(|| {
        value
            .as_int()
            .ok()
            .and_then(|i| i32::try_from(i).ok())
            .map(f64::from)
    })?;
    (secs > 0.0).then(|| Duration::from_secs_f64(secs))
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

fn local_mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).map_or(0o644, |m| m.permissions().mode() & 0o7777)
}

/// `path` relative to the `lcd` directories, when it is relative.
fn in_dir(dirs: &[String], path: &str) -> PathBuf {
    dirs.iter()
        .fold(PathBuf::new(), |base, dir| base.join(dir))
        .join(path)
}

/// `path` relative to the `cd` directories, when it is relative.
fn in_remote_dir(dirs: &[String], path: &str) -> String {
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
fn local_files(root: &Path) -> Result<Vec<(PathBuf, PathBuf)>, String> {
    let meta =
        std::fs::metadata(root).map_err(|e| format!("cannot read `{}`: {e}", root.display()))?;
    if !meta.is_dir() {
        return Ok(vec![(root.to_path_buf(), PathBuf::new())]);
    }
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .map_err(|e| format!("cannot read `{}`: {e}", dir.display()))?
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
