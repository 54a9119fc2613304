//! `run` and `sudo`: commands on the host a task runs on.
// The plugin macro expects its prelude glob-imported and makes `pub` items.
#![allow(unreachable_pub, clippy::wildcard_imports)]

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rhai::plugin::*;
use rhai::{EvalAltResult, Map, NativeCallContext};

use crate::output::Level;
use crate::output::lines;
use crate::script::abort::{Unreachable, unreachable_message};
use crate::script::api::{CommandResult, check_options, seconds};
use crate::script::context::Context;
use crate::script::scoped::ScopedSettings;
use crate::ssh::command::{self, DEFAULT_SHELL, Failure, Request, Sudo};
use crate::ssh::connection::Connection;
use crate::ssh::quote::quote;
use crate::ssh::sudo_prompt::{self, SudoPrompt};
use crate::ssh::target::Target;

const RUN_OPTIONS: [&str; 7] = [
    "step",
    "warn_only",
    "quiet",
    "pty",
    "timeout",
    "shell",
    "output_limit",
];
const SUDO_OPTIONS: [&str; 8] = [
    "step",
    "warn_only",
    "quiet",
    "pty",
    "timeout",
    "shell",
    "output_limit",
    "user",
];

#[export_module]
pub(crate) mod remote_api {
    use super::{CommandResult, Map, NativeCallContext};

    /// Run a shell command on the current host and return its result.
    ///
    /// Prints `[HOST] run: COMMAND`, then each output line as it arrives (`[HOST] out: ...`,
    /// `[HOST] err: ...`). The command runs in `env.shell` (default `/bin/bash -l -c`),
    /// inside any `cd`, `prefix` and `shell_env` in force. A non-zero exit aborts the
    /// task unless `warn_only` is set (here, in `settings()`, or with `-w`).
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
    /// - `shell`: the shell to run it with, e.g. `"/bin/sh -c"`;
    /// - `output_limit`: the most bytes of stdout, and of stderr, the result keeps (default
    ///   `env.output_limit`, else 64 MiB; `"512K"`, `"16M"` work too; at most 256 MiB). Everything is
    ///   still printed; a result cut short ends with an `[rfab: output cut ...]` line;
    /// - `step`: what the command does, in words, printed as `[HOST] step: ...` instead of
    ///   the command (which `--show debug` prints too): for long generated commands.
    ///
    /// ```rhai
    /// let r = run("systemctl is-active app", #{ warn_only: true });
    /// if r.failed { run("systemctl start app", #{ timeout: 30 }); }
    /// run(long_generated_script, #{ step: "unpack the release and switch to it" });
    /// ```
    #[rhai_fn(name = "run", return_raw)]
    pub fn run_with(
        ctx: NativeCallContext,
        command: &str,
        options: Map,
    ) -> Result<CommandResult, Box<EvalAltResult>> {
        super::command(&ctx, command, &options, false)
    }

    /// Register a command to run on the current host if this task fails or is interrupted
    /// there (Ctrl-C included), to undo what must not stay half-done: a lock, a maintenance
    /// flag. It runs in the task's shell, outside any `cd`; on success it is dropped. When
    /// the task's connection died, it runs on a new one; if the host cannot be reached,
    /// the failure report lists each command that could not run.
    ///
    /// ```rhai
    /// run("touch /srv/app/maintenance");
    /// on_abort("rm -f /srv/app/maintenance");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn on_abort(ctx: NativeCallContext, command: &str) -> Result<(), Box<EvalAltResult>> {
        super::undo_on_abort(&ctx, command, None)
    }

    /// `on_abort()` with options: `step`, what the command does in words, printed as
    /// `[HOST] on abort: ...` instead of the command (and its output, but for errors), which
    /// `--show debug` prints too.
    ///
    /// ```rhai
    /// on_abort(restore_script, #{ step: "put back the release that was live" });
    /// ```
    #[rhai_fn(name = "on_abort", return_raw)]
    pub fn on_abort_with(
        ctx: NativeCallContext,
        command: &str,
        options: Map,
    ) -> Result<(), Box<EvalAltResult>> {
        super::check_options("on_abort", &options, &["step"])?;
        let step = options.get("step").map(ToString::to_string);
        super::undo_on_abort(&ctx, command, step)
    }

    /// Run a command as root (or another user) through `sudo` on the current host.
    ///
    /// When sudo asks for a password, rfab answers with `--sudo-password`, or the password
    /// asked once on the terminal; it is never printed or logged. Only sudo's own prompt is
    /// answered: it carries a random nonce made for this command, and is answered only
    /// before the command starts, so output that imitates it never gets the password.
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
}

/// Registers `command` to run on the current host if its task fails (see `on_abort`).
fn undo_on_abort(
    ctx: &NativeCallContext,
    command: &str,
    step: Option<String>,
) -> Result<(), Box<EvalAltResult>> {
    let context = Context::of(ctx)?;
    needs_host(&context, "on_abort")?;
    context
        .on_abort
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(crate::script::context::Undo {
            command: command.into(),
            step,
        });
    Ok(())
}

pub(super) fn command(
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
    let announced = announce(&context, &target, name, command, options, quiet);
    if context.runtime.dry_run() {
        if announced {
            context
                .runtime
                .output
                .result(&target.host_string, command, 0, true);
        }
        return Ok(CommandResult {
            command: command.into(),
            dry: true,
            ..CommandResult::default()
        });
    }
    let (line, prompt) = command_line(&context, command, options, sudo)?;
    let timeout = command_timeout(&context, options, name)?;
    let output_limit = output_limit(&context, options, name)?;
    let connection = connect(&context, &target)
        .inspect_err(|e| record_unreachable(&context, &format!("{name}: {command}"), e))?;
    let connection = connection.lock().unwrap_or_else(PoisonError::into_inner);
    let ask = sudo_password(&context, &target);
    let request = Request {
        command: line,
        timeout,
        sudo: prompt.as_ref().map(|prompt| Sudo {
            prompt,
            password: &ask,
        }),
        pty: context.flag(options, "pty"),
        forward_agent: context.ssh()?.forward_agent,
        ignore_interrupt: false,
        output_limit,
    };
    let shows = (
        !quiet && context.shows(Level::Stdout),
        !quiet && context.shows(Level::Stderr),
    );
    let raw = context.shows(Level::Raw);
    let output = &context.runtime.output;
    let mut each = |is_err: bool, text: &str| {
        if (is_err && shows.1) || (!is_err && shows.0) {
            output.line(&target.host_string, is_err, text, raw);
        }
    };
    let completed = command::run(&connection, &request, &mut each)
        .map_err(|failure| Box::new(failed(ctx, &context, &target, name, command, failure)))?;
    if announced {
        output.result(&target.host_string, command, completed.code, false);
    }
    if completed.cut && !quiet && context.shows(Level::Warnings) {
        output.warning(
            Some(&target.host_string),
            &cut_warning(command, output_limit),
        );
    }
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

/// `[host] run: COMMAND` (or its step), unless quiet or `running` is hidden; says whether it
/// was said, for `--json` tells how a command ended only when it told that the command ran.
fn announce(
    context: &Context,
    target: &Target,
    name: &str,
    command: &str,
    options: &Map,
    quiet: bool,
) -> bool {
    let announced = !quiet && context.shows(Level::Running);
    if announced {
        let step = options.get("step").map(ToString::to_string);
        context.runtime.output.command_step(
            &target.host_string,
            name,
            command,
            step.as_deref(),
            context.shows(Level::Debug),
        );
    }
    announced
}

/// `/bin/bash -l -c '<cd, prefixes> && COMMAND'`; for `sudo`, `sudo -S -p PROMPT [-u USER]
/// -H -- /bin/bash -l -c 'printf STARTED >&2; <cd, prefixes> && COMMAND'`, and the command's
/// own PROMPT.
pub(super) fn command_line(
    context: &Context,
    command: &str,
    options: &Map,
    sudo: bool,
) -> Result<(String, Option<SudoPrompt>), Box<EvalAltResult>> {
    let shell = match context.option(options, "shell") {
        Some(shell) => shell
            .into_string()
            .map_err(|_| "`shell` must be a string")?,
        None => DEFAULT_SHELL.into(),
    };
    let wrapped = with_env(context)?.wrap(command);
    if !sudo {
        return Ok((format!("{shell} {}", quote(&wrapped)), None));
    }
    let prompt = SudoPrompt::new().map_err(|e| {
        format!("sudo(): cannot read /dev/urandom for sudo's prompt: {e}; check that it exists")
    })?;
    // Not `option(.., "user")`: that would fall back to `env.user`, the login user.
    let user = match options
        .get("user")
        .cloned()
        .or_else(|| context.option(&Map::new(), "sudo_user"))
    {
        Some(user) => format!("-u {} ", quote(&user.to_string())),
        None => String::new(),
    };
    // Printed once sudo lets the command run, by a plain sh before anything of the target
    // user's (a login shell's profile, a non-POSIX `shell`) can print a prompt of its own;
    // nothing is answered after it.
    let started = format!("printf '%s\\n' {} >&2; exec \"$@\"", sudo_prompt::STARTED);
    let line = format!(
        "sudo -S -p {} {user}-H -- /bin/sh -c {} rfab-sudo {shell} {}",
        quote(prompt.text()),
        quote(&started),
        quote(&wrapped)
    );
    Ok((line, Some(prompt)))
}

/// The scoped settings, with `env.path`, `env.path_behavior` and `env.shell_env` (a map)
/// where the fabfile set them for the whole run, as Fabric reads them.
fn with_env(context: &Context) -> Result<ScopedSettings, Box<EvalAltResult>> {
    let mut settings = context.settings();
    let env = &context.runtime.env;
    for key in ["path", "path_behavior"] {
        if let Some(value) = env.get(key).filter(|v| !v.is_unit())
            && !settings.overrides.contains_key(key)
        {
            settings.overrides.insert(key.into(), value);
        }
    }
    if let Some(vars) = env.get("shell_env").filter(|v| !v.is_unit()) {
        let vars = vars
            .try_cast::<Map>()
            .ok_or("`env.shell_env` must be a map of variable names to values")?;
        let outer = vars
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()));
        // The run's variables first: a `shell_env()` around the command wins over them.
        settings.shell_env.splice(0..0, outer);
    }
    Ok(settings)
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
            // Not `Unreachable`: the task may have changed the host already, so
            // --skip-bad-hosts must not pass over it. The dead connection is dropped.
            context.runtime.connections.forget(target);
            let message = format!("lost the connection to `{host}` while running `{command}`: {e}");
            context.record_lost(format!("{name}: {command}"), message.clone(), false);
            message
        }
        Failure::Stalled(why) => {
            context.runtime.connections.forget(target);
            let message = format!(
                "`{host}` stopped answering while running `{command}`: {why}; gave up on the connection"
            );
            context.record_lost(format!("{name}: {command}"), message.clone(), false);
            message
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
                "{why} on `{host}` for `{command}`; give it in RFAB_SUDO_PASSWORD, or run rfab on a terminal"
            )
        }
    };
    EvalAltResult::ErrorRuntime(message.into(), ctx.call_position())
}

/// Gives `target`'s sudo password the run's way, when sudo asks: remembered, or asked once
/// on the terminal when no other host runs at the same time.
pub(super) fn sudo_password<'a>(
    context: &'a Context,
    target: &Target,
) -> impl Fn() -> Option<String> + 'a {
    let who = format!("{}@{}", target.user, target.host.name);
    move || {
        context
            .runtime
            .credentials
            .sudo_password(&who, !context.parallel)
    }
}

pub(super) fn needs_host(
    context: &Context,
    function: &str,
) -> Result<Arc<Target>, Box<EvalAltResult>> {
    // `settings(#{ user: .. })` sends remote work elsewhere for its closure.
    let scoped = context.settings().target;
    scoped.or_else(|| context.target.clone()).ok_or_else(|| {
        format!(
            "{function}() needs a host, and this task runs on none: give it hosts \
             (-H, `env.hosts`, `env.roles`, @hosts, or TASK:hosts=a;b), or use local()"
        )
        .into()
    })
}

pub(super) fn connect(
    context: &Context,
    target: &Target,
) -> Result<Arc<Mutex<Connection>>, Box<EvalAltResult>> {
    let runtime = &context.runtime;
    runtime
        .connections
        .get(
            target,
            &context.ssh()?,
            &runtime.credentials,
            &runtime.output,
            !context.parallel,
        )
        .map_err(|error| {
            Box::new(EvalAltResult::ErrorRuntime(
                Dynamic::from(Unreachable(error.to_string())),
                rhai::Position::NONE,
            ))
        })
}

/// How long a command may run: its `timeout` option, `settings()`'s `command_timeout`, `-T`,
/// or `env.command_timeout` (`env.timeout` is Fabric's connect timeout).
fn command_timeout(
    context: &Context,
    options: &Map,
    name: &str,
) -> Result<Option<Duration>, Box<EvalAltResult>> {
    let given = options
        .get("timeout")
        .cloned()
        .or_else(|| context.settings().get("command_timeout"));
    match given {
        Some(t) => match seconds(&format!("{name}(): `timeout`"), &t)? {
            // A command given no time at all would only ever time out.
            Duration::ZERO => {
                Err(format!("{name}(): `timeout` must be more than 0 seconds").into())
            }
            limit => Ok(Some(limit)),
        },
        None => Ok(context.ssh()?.command_timeout),
    }
}

pub(super) fn cut_warning(command: &str, limit: usize) -> String {
    format!(
        "the result of `{command}` keeps only the first {limit} bytes of its output; \
         set output_limit to keep more"
    )
}

/// The most bytes of each stream a command's result keeps: its option, `with()`, or `env`.
pub(super) fn output_limit(
    context: &Context,
    options: &Map,
    name: &str,
) -> Result<usize, Box<EvalAltResult>> {
    let max = crate::script::limits::MAX_STRING_SIZE;
    match context.option(options, "output_limit") {
        Some(limit) => bytes(&limit).filter(|n| *n <= max).ok_or_else(|| {
            format!(
                "{name}(): `output_limit` must be a number of bytes up to {} MiB (the longest \
                 string a script may hold), such as 1048576 or \"16M\"",
                max >> 20
            )
            .into()
        }),
        None => Ok(lines::DEFAULT_LIMIT),
    }
}

/// A number of bytes: an integer, or a string such as `"1048576"`, `"512K"`, `"16M"`, `"1G"`.
fn bytes(value: &Dynamic) -> Option<usize> {
    if let Ok(n) = value.as_int() {
        return usize::try_from(n).ok();
    }
    let text = value.clone().into_string().ok()?;
    let text = text.trim();
    let (digits, unit) = match text.char_indices().last()? {
        (at, 'K' | 'k') => (&text[..at], 1 << 10),
        (at, 'M' | 'm') => (&text[..at], 1 << 20),
        (at, 'G' | 'g') => (&text[..at], 1 << 30),
        _ => (text, 1),
    };
    digits.trim().parse::<usize>().ok()?.checked_mul(unit)
}

/// Records that `what` could not run because the host could not be reached.
pub(super) fn record_unreachable(context: &Context, what: &str, error: &EvalAltResult) {
    if let Some(message) = unreachable_message(error) {
        context.record_lost(what.to_owned(), message, true);
    }
}
