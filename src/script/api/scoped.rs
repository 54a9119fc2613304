//! Scoped settings as closures: `cd`, `lcd`, `prefix`, `shell_env`, `settings`, `quiet`,
//! `hide`, `show`. Each applies to the closure it is given, on the current host only, and
//! is undone when the closure returns or fails.
// The plugin macro expects its prelude glob-imported and makes `pub` items.
#![allow(unreachable_pub, clippy::wildcard_imports)]

use rhai::plugin::*;
use rhai::{EvalAltResult, FnPtr, Map, NativeCallContext};

use crate::script::context::Context;
use crate::script::scoped::{REFUSED_KEYS, SCOPED_KEYS, ScopedSettings, TARGET_KEYS, target_for};

/// Runs `body` with the scoped settings changed by `change`, then puts them back.
fn scoped(
    ctx: &NativeCallContext,
    body: &FnPtr,
    change: impl FnOnce(&mut ScopedSettings) -> Result<(), Box<EvalAltResult>>,
) -> Result<Dynamic, Box<EvalAltResult>> {
    let context = Context::of(ctx)?;
    let saved = context.settings();
    let mut changed = saved.clone();
    change(&mut changed)?;
    context.set_settings(changed);
    let result = body.call_within_context::<Dynamic>(ctx, ());
    context.set_settings(saved);
    result
}

fn levels_of(ctx: &NativeCallContext, settings: &ScopedSettings) -> crate::output::Levels {
    settings.levels.unwrap_or_else(|| {
        Context::of(ctx)
            .map(|c| c.runtime.output.levels)
            .unwrap_or_default()
    })
}

#[export_module]
pub(crate) mod scoped_api {
    use super::{
        Context, FnPtr, Map, NativeCallContext, REFUSED_KEYS, SCOPED_KEYS, TARGET_KEYS, levels_of,
        scoped, target_for,
    };

    /// Run the closure with remote commands (and relative `put`/`get` paths) in `path`;
    /// nested `cd`s join up, an absolute path starts over. Returns what the closure returns.
    ///
    /// ```rhai
    /// cd("/srv/app", || {
    ///     run("git pull");
    ///     cd("current", || run("ls"));   // in /srv/app/current
    /// });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn cd(
        ctx: NativeCallContext,
        path: &str,
        body: FnPtr,
    ) -> Result<Dynamic, Box<EvalAltResult>> {
        scoped(&ctx, &body, |s| {
            s.cwd.push(path.into());
            Ok(())
        })
    }

    /// Like `cd`, for `local()` commands and the local paths of `put`/`get`.
    ///
    /// ```rhai
    /// lcd("frontend", || local("npm run build"));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn lcd(
        ctx: NativeCallContext,
        path: &str,
        body: FnPtr,
    ) -> Result<Dynamic, Box<EvalAltResult>> {
        scoped(&ctx, &body, |s| {
            s.lcwd.push(path.into());
            Ok(())
        })
    }

    /// Run `command` before each command in the closure, joined with `&&`.
    ///
    /// ```rhai
    /// prefix("source /srv/app/venv/bin/activate", || run("pip install -r requirements.txt"));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn prefix(
        ctx: NativeCallContext,
        command: &str,
        body: FnPtr,
    ) -> Result<Dynamic, Box<EvalAltResult>> {
        scoped(&ctx, &body, |s| {
            s.prefixes.push(command.into());
            Ok(())
        })
    }

    /// Export shell variables for each command in the closure.
    ///
    /// ```rhai
    /// shell_env(#{ RAILS_ENV: "production" }, || run("bin/rake db:migrate"));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn shell_env(
        ctx: NativeCallContext,
        vars: Map,
        body: FnPtr,
    ) -> Result<Dynamic, Box<EvalAltResult>> {
        scoped(&ctx, &body, |s| {
            for (key, value) in vars {
                if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(format!("shell_env(): `{key}` is not a shell variable name").into());
                }
                s.shell_env.push((key.to_string(), value.to_string()));
            }
            Ok(())
        })
    }

    /// Fabric's `settings`: run the closure with these keys in `env`, read before it by
    /// every option (`warn_only`, `shell`, `sudo_user`, `command_timeout`, `pty`,
    /// `abort_on_prompts`, `path` with `path_behavior`, and keys the fabfile put in `env`;
    /// any other key is an error, as it would change nothing). `user`, `host_string`, `port` and
    /// `key_filename` send remote work to that user and host, over a connection of its
    /// own that later uses share. Keys that hold for a whole run or connection (`hosts`,
    /// `gateway`, `timeout`, ...) are refused, with what to do instead.
    ///
    /// ```rhai
    /// settings(#{ warn_only: true }, || {
    ///     run("systemctl stop old-worker");
    /// });
    /// settings(#{ user: "deploy" }, || run("whoami"));   // deploy, on the same host
    /// ```
    #[rhai_fn(return_raw)]
    pub fn settings(
        ctx: NativeCallContext,
        values: Map,
        body: FnPtr,
    ) -> Result<Dynamic, Box<EvalAltResult>> {
        let context = Context::of(&ctx)?;
        for key in values.keys() {
            if let Some((_, instead)) = REFUSED_KEYS.iter().find(|(k, _)| *k == key.as_str()) {
                return Err(format!(
                    "settings(): `{key}` cannot change for part of a task: {instead}"
                )
                .into());
            }
            let known = TARGET_KEYS.contains(&key.as_str())
                || SCOPED_KEYS.contains(&key.as_str())
                || context.runtime.env.get(key).is_some();
            if !known {
                return Err(format!(
                    "settings(): rfab does not know `{key}`, so it would change nothing; \
                     it knows {}, and the keys already in `env` (set `env.{key}` first to \
                     give it a value for the run)",
                    TARGET_KEYS
                        .iter()
                        .chain(SCOPED_KEYS.iter())
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
                .into());
            }
        }
        let current = context.settings().target.or_else(|| context.target.clone());
        let target = target_for(current.as_deref(), &values, &context.runtime)?;
        scoped(&ctx, &body, |s| {
            if target.is_some() {
                s.target = target;
            }
            s.overrides.extend(
                values
                    .into_iter()
                    .filter(|(k, _)| !TARGET_KEYS.contains(&k.as_str())),
            );
            Ok(())
        })
    }

    /// Run the closure printing nothing and with failed commands as warnings, as Fabric's
    /// `quiet()`; results still say whether each command failed.
    ///
    /// ```rhai
    /// let exists = quiet(|| run("test -d /srv/app").ok);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn quiet(ctx: NativeCallContext, body: FnPtr) -> Result<Dynamic, Box<EvalAltResult>> {
        scoped(&ctx, &body, |s| {
            let mut levels = levels_of(&ctx, s);
            levels.set("everything", false)?;
            s.levels = Some(levels);
            s.overrides.insert("warn_only".into(), Dynamic::TRUE);
            Ok(())
        })
    }

    /// Run the closure with these output levels hidden (comma-separated: `running`,
    /// `stdout`, `stderr`, `status`, `warnings`, `user`, `output`, `commands`, `everything`).
    ///
    /// ```rhai
    /// hide("running,stdout", || run("cat /etc/os-release"));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn hide(
        ctx: NativeCallContext,
        levels: &str,
        body: FnPtr,
    ) -> Result<Dynamic, Box<EvalAltResult>> {
        scoped(&ctx, &body, |s| {
            let mut current = levels_of(&ctx, s);
            current.set(levels, false)?;
            s.levels = Some(current);
            Ok(())
        })
    }

    /// Run the closure with these output levels shown (the names of `hide`). `raw`, off by
    /// default, prints output lines as received: without it, their escape sequences and
    /// control characters (colours, window titles, screen clears) are left out.
    ///
    /// ```rhai
    /// show("stdout", || run("df -h"));
    /// show("raw", || run("ls --color=always"));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn show(
        ctx: NativeCallContext,
        levels: &str,
        body: FnPtr,
    ) -> Result<Dynamic, Box<EvalAltResult>> {
        scoped(&ctx, &body, |s| {
            let mut current = levels_of(&ctx, s);
            current.set(levels, true)?;
            s.levels = Some(current);
            Ok(())
        })
    }
}
