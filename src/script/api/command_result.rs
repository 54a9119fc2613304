//! `CommandResult`: what `local()` (and later `run()`, `sudo()`) give back.
// The plugin macro expects its prelude glob-imported and makes `pub` items.
#![allow(unreachable_pub, clippy::wildcard_imports)]

use rhai::plugin::*;

/// The outcome of one command.
#[derive(Clone, Debug, Default)]
pub(crate) struct CommandResult {
    pub(crate) command: String,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) code: i64,
    /// `--dry-run`: the command was only printed.
    pub(crate) dry: bool,
}

impl CommandResult {
    pub(crate) fn ok(&self) -> bool {
        self.code == 0
    }
}

#[export_module]
pub(crate) mod command_result_api {
    use super::CommandResult;

    /// The command's standard output, without its last newline.
    ///
    /// ```rhai
    /// let branch = local("git rev-parse --abbrev-ref HEAD", #{ quiet: true }).stdout;
    /// ```
    #[rhai_fn(get = "stdout", pure)]
    pub fn stdout(result: &mut CommandResult) -> String {
        result.stdout.clone()
    }

    /// The command's standard error, without its last newline.
    ///
    /// ```rhai
    /// let r = local("ls /nonexistent", #{ warn_only: true });
    /// if r.failed { warn(r.stderr); }
    /// ```
    #[rhai_fn(get = "stderr", pure)]
    pub fn stderr(result: &mut CommandResult) -> String {
        result.stderr.clone()
    }

    /// The exit status; 128 + N when the command was killed by signal N.
    ///
    /// ```rhai
    /// let r = local("grep -q ready status.txt", #{ warn_only: true });
    /// if r.code == 1 { puts("not ready yet"); }
    /// ```
    #[rhai_fn(get = "code", pure)]
    pub fn code(result: &mut CommandResult) -> i64 {
        result.code
    }

    /// Whether the command succeeded (exit status 0).
    ///
    /// ```rhai
    /// if local("test -f Cargo.lock", #{ warn_only: true }).ok { puts("locked"); }
    /// ```
    #[rhai_fn(get = "ok", pure)]
    pub fn ok(result: &mut CommandResult) -> bool {
        result.ok()
    }

    /// Whether the command failed (the opposite of `ok`).
    ///
    /// ```rhai
    /// if local("make check", #{ warn_only: true }).failed { abort("checks failed"); }
    /// ```
    #[rhai_fn(get = "failed", pure)]
    pub fn failed(result: &mut CommandResult) -> bool {
        !result.ok()
    }

    /// Whether the command was only printed, under `--dry-run` (then `ok`, with no output).
    ///
    /// ```rhai
    /// let r = run("readlink /srv/app/current");
    /// let release = if r.dry { "(dry run)" } else { r.stdout };
    /// ```
    #[rhai_fn(get = "dry", pure)]
    pub fn dry(result: &mut CommandResult) -> bool {
        result.dry
    }

    /// The command as it was given.
    ///
    /// ```rhai
    /// let r = local("true");
    /// puts(r.command); // true
    /// ```
    #[rhai_fn(get = "command", pure)]
    pub fn command(result: &mut CommandResult) -> String {
        result.command.clone()
    }

    /// A result prints as its standard output, as in Fabric.
    ///
    /// ```rhai
    /// let rev = local("git rev-parse HEAD", #{ quiet: true });
    /// puts(`deploying ${rev}`);
    /// ```
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn to_string(result: &mut CommandResult) -> String {
        result.stdout.clone()
    }

    /// The debug form shows every field.
    #[rhai_fn(global, name = "to_debug", pure)]
    pub fn to_debug(result: &mut CommandResult) -> String {
        format!("{result:?}")
    }
}
